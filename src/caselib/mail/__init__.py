"""The e-mail channel's domain: parsing inbound mail, signed per-case reply addresses, the
:class:`ThreadResolver` and the loop guards.

Pure code over bytes and the stdlib ``email`` package; the desk (:mod:`caselib.desk.mail`)
reads the store, appends to cases and queues outbound mail. Modules, lowest first:
``message`` (parsing and trimming), ``tokens`` (reply addresses), ``guards`` (automatic
mail, reopen policy), ``resolver`` (the decision).
"""

from __future__ import annotations

from caselib.mail.guards import ClosedCaseMail, MailPolicy, automatic_reason, reopen_allowed
from caselib.mail.message import (
    MAX_MAIL_BYTES,
    MailAttachment,
    ParsedMail,
    html_to_text,
    parse_mail,
    trim_reply,
)
from caselib.mail.outbound import MAIL_EVENT, MAX_REFERENCES, MailQueued, thread_headers
from caselib.mail.resolver import MailDecision, ThreadFacts, ThreadResolver
from caselib.mail.tokens import ReplyAddress, ReplyKeys, TokenCheck, parse_reply_address

__all__ = [
    "MAIL_EVENT",
    "MAX_MAIL_BYTES",
    "MAX_REFERENCES",
    "ClosedCaseMail",
    "MailAttachment",
    "MailDecision",
    "MailPolicy",
    "MailQueued",
    "ParsedMail",
    "ReplyAddress",
    "ReplyKeys",
    "ThreadFacts",
    "ThreadResolver",
    "TokenCheck",
    "automatic_reason",
    "html_to_text",
    "parse_mail",
    "parse_reply_address",
    "reopen_allowed",
    "thread_headers",
    "trim_reply",
]
