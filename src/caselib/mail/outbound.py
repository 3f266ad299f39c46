"""Outbound mail as a case event: :class:`MailQueued`, written to the outbox with the case
change it belongs to and sent after the commit by ``deliver_pending`` through the
:class:`~caselib.ports.Mailer`; and the thread headers of a reply (:func:`thread_headers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs

from caselib.cases.events import DomainEvent

__all__ = ["MAIL_EVENT", "MAX_REFERENCES", "MailQueued", "thread_headers"]

MAIL_EVENT = "mail.queued"
MAX_REFERENCES = 20
"""``References`` keeps the first message and the latest ones (RFC 5322 §3.6.4 advice)."""


@attrs.frozen
class MailQueued(DomainEvent):
    """One message to send: ``automatic`` mail (notices, refusals) carries
    ``Auto-Submitted: auto-replied``; an agent's answer carries none."""

    type: ClassVar[str] = MAIL_EVENT
    to: str
    subject: str
    body: str
    message_id: str
    in_reply_to: str
    references: str
    reply_to: str
    automatic: bool = False


def thread_headers(earlier: Sequence[str]) -> tuple[str, str]:
    """``In-Reply-To`` and ``References`` for a message after ``earlier`` (message ids of
    the thread, oldest first, without ``<>``)."""
    if not earlier:
        return "", ""
    ids = list(dict.fromkeys(earlier))
    if len(ids) > MAX_REFERENCES:
        ids = [ids[0], *ids[-(MAX_REFERENCES - 1):]]
    return f"<{ids[-1]}>", " ".join(f"<{i}>" for i in ids)
