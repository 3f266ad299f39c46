"""Loop and abuse guards: recognising mail that must never be answered (RFC 3834
auto-replies, bulk and list mail, bounces) and the reopen-by-mail policy and rate limit.

Pure decisions over a :class:`~caselib.mail.ParsedMail` and counts the desk reads from the
store; nothing here sends or stores anything.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from typing import Any

import attrs

from caselib.checks import bool_attribute
from caselib.errors import InvalidConfiguration, WrongType
from caselib.mail.message import ParsedMail

__all__ = ["ClosedCaseMail", "MailPolicy", "automatic_reason", "reopen_allowed"]

_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?reply|out of (the )?office|autoreply|abwesenheitsnotiz|"
    r"réponse automatique|undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (failed|failure|subsystem))", re.I)


def automatic_reason(mail: ParsedMail) -> str | None:
    """Why ``mail`` is automatic (so it is never answered and never opens a case), or
    ``None`` for mail a person wrote."""
    if mail.content_type == "multipart/report" or any(
            a.content_type in ("message/delivery-status", "message/disposition-notification")
            for a in mail.attachments):
        return "delivery status report (bounce)"
    submitted = mail.header("auto-submitted").split(";")[0].strip().lower()
    if submitted and submitted != "no":
        return f"Auto-Submitted: {submitted}"
    precedence = mail.header("precedence").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    if mail.header("x-auto-response-suppress").strip().lower() not in ("", "none"):
        return "X-Auto-Response-Suppress"
    if mail.header("x-autoreply") or mail.header("x-autorespond"):
        return "X-Autoreply"
    if mail.header("list-id") or mail.header("list-unsubscribe"):
        return "mailing-list mail"
    local = mail.sender.split("@")[0]
    if local in ("mailer-daemon", "postmaster") or local.startswith(("noreply", "no-reply")):
        return f"sent from {local}@"
    if _AUTO_SUBJECT.match(mail.subject):
        return "automatic-reply subject"
    return None


class ClosedCaseMail(StrEnum):
    """What a customer's mail to a resolved or closed case does (``MailPolicy.reopen``).

    Not to be confused with :class:`caselib.cases.ReopenPolicy`, the tenant's grace window,
    which ``REOPEN`` obeys too: past the window such a mail opens a follow-up."""

    REOPEN = "reopen"
    FOLLOW_UP = "follow_up"
    """A new case linked ``follow_up_of`` the old one, carrying its context."""
    REFUSE = "refuse"
    """Nothing is posted; the sender gets a notice to open a new case."""


def _reopen(value: object) -> ClosedCaseMail:
    try:
        return ClosedCaseMail(str(value)) if not isinstance(value, ClosedCaseMail) else value
    except ValueError:
        raise InvalidConfiguration(
            f"reopen policy {value!r}: use one of "
            f"{', '.join(p.value for p in ClosedCaseMail)}") from None


def _count(_instance: object, attribute: Any, value: object) -> None:
    """A reopen limit: a whole number, 0 or more (0: mail never reopens)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise WrongType(attribute.name, "a whole number of reopens (0 or more)", value)
    if value < 0:
        raise InvalidConfiguration("reopen limits must be 0 or more", field=attribute.name)


def _window(_instance: object, attribute: Any, value: object) -> None:
    if not isinstance(value, timedelta):
        raise WrongType(attribute.name, "a timedelta (e.g. timedelta(hours=24))", value)
    if value <= timedelta(0):
        raise InvalidConfiguration("reopen_window must be positive", field=attribute.name)


@attrs.frozen
class MailPolicy:
    """A tenant's e-mail settings (the desk's :class:`~caselib.desk.mail.MailSettings`
    carries one)."""

    reopen: ClosedCaseMail = attrs.field(default=ClosedCaseMail.REOPEN, converter=_reopen)
    reopens_per_case: int = attrs.field(default=3, validator=_count)
    reopens_per_sender: int = attrs.field(default=10, validator=_count)
    reopen_window: timedelta = attrs.field(default=timedelta(hours=24), validator=_window)
    hold_unknown_senders: bool = attrs.field(default=True, validator=bool_attribute)
    """A reply on an existing case from an address that is not its contact's is held until
    an agent approves it (``False``: posted like the contact's)."""


def reopen_allowed(policy: MailPolicy, *, case_reopens: int, sender_reopens: int) -> bool:
    """Whether one more reopen by mail fits the limits, given the reopens by mail already
    recorded within ``policy.reopen_window`` for the case and for the sender."""
    return (case_reopens < policy.reopens_per_case
            and sender_reopens < policy.reopens_per_sender)
