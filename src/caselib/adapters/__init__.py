"""Delivery adapters: the SMTP mailer and the signed-webhook poster that
:meth:`~caselib.ServiceDesk.deliver_pending` hands automation messages to.

Standard library only (``smtplib``, ``http.client``): each implements one port of
:mod:`caselib.ports.messaging`.
"""

from __future__ import annotations

from caselib.adapters.smtp import SmtpMailer, build_message
from caselib.adapters.webhook import DeadLetter, HttpWebhookPoster, sign, verify

__all__ = [
    "DeadLetter",
    "HttpWebhookPoster",
    "SmtpMailer",
    "build_message",
    "sign",
    "verify",
]
