"""The :class:`ThreadResolver`: which case an inbound mail belongs to, if any.

Evidence in order of trust, the first that decides wins:

1. a signed per-case reply address among the recipients (confidence 1.0); a token that
   does not verify is refused — the mail is dropped (forged, other tenant, retired key) or
   opens a new case (expired), it never posts into the case it names;
2. ``In-Reply-To`` / ``References`` naming a message caselib sent or received for a case
   (0.9);
3. a case number in the subject, when the sender is the case's contact (0.6);

and otherwise a new case (or a drop, for automatic mail). The facts that need the store
come through :class:`ThreadFacts`, which the desk implements; this module does no I/O.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal, Protocol

import attrs

from caselib.checks import instance_attribute, require_str
from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.mail.guards import automatic_reason
from caselib.mail.message import ParsedMail
from caselib.mail.tokens import ReplyKeys, parse_reply_address

__all__ = ["MailDecision", "ThreadFacts", "ThreadResolver"]

Action = Literal["reply", "new", "drop"]
_SUBJECT_NUMBER = re.compile(r"\b([A-Za-z]{1,10}-\d{1,10})\b")


@attrs.frozen
class MailDecision:
    """What to do with a mail: ``reply`` to ``case_id``, open a ``new`` case, or ``drop``
    it; ``via`` names the evidence (``token``, ``thread``, ``subject``, ``none``,
    ``guard``) and ``confidence`` how far it is trusted."""

    action: Action
    reason: str
    confidence: float
    via: str
    case_id: str | None = None
    automatic: bool = False


class ThreadFacts(Protocol):
    """What the resolver asks the store (the desk implements it per mail)."""

    def case_by_number(self, number: str) -> str | None:
        """The id of the tenant's case numbered ``number`` (any letter case)."""
        ...

    def case_by_message_ids(self, message_ids: tuple[str, ...]) -> str | None:
        """The case of the first of ``message_ids`` caselib sent or received."""
        ...

    def is_contact(self, case_id: str, address: str) -> bool:
        """Whether ``address`` is the case's contact."""
        ...


def _domains(values: object) -> frozenset[str]:
    if isinstance(values, str) or not isinstance(values, (set, frozenset, list, tuple)):
        raise InvalidConfiguration("ThreadResolver.domains must be a set of domain names")
    return frozenset(str(v).lower() for v in values)


def _tenant(_instance: object, attribute: attrs.Attribute[str], value: object) -> None:
    # the tenant is signed into every reply token: a wrong one verifies nothing
    if not require_str(value, attribute.name, "a non-empty string (the tenant)"):
        raise InvalidInput("tenant must be a non-empty string", field=attribute.name)


@attrs.frozen
class ThreadResolver:
    """Decides per mail for one tenant (``keys`` ``None``: no signed addresses)."""

    tenant: str = attrs.field(validator=_tenant)
    keys: ReplyKeys | None = attrs.field(default=None, validator=instance_attribute(
        (ReplyKeys, type(None)), "a ReplyKeys or None (no signed reply addresses)"))
    domains: frozenset[str] = attrs.field(default=frozenset(), converter=_domains)
    """The support domains whose ``+token`` addresses are case addresses (empty: any)."""

    def resolve(self, mail: ParsedMail, facts: ThreadFacts, now: datetime) -> MailDecision:
        """The decision for ``mail`` (automatic mail is never a new case, and is flagged
        ``automatic`` so nothing answers it)."""
        auto = automatic_reason(mail)
        decision = self._thread(mail, facts, now)
        if auto is not None:
            return MailDecision("drop", f"automatic mail ({auto}); never answered", 1.0,
                                "guard", decision.case_id, automatic=True)
        return decision

    def _thread(self, mail: ParsedMail, facts: ThreadFacts, now: datetime) -> MailDecision:
        refused: MailDecision | None = None
        for recipient in mail.recipients:
            address = parse_reply_address(recipient)
            if address is None or (self.domains and address.domain not in self.domains):
                continue
            if self.keys is None:
                refused = MailDecision("drop", "signed case address but no reply keys "
                                       "configured", 1.0, "token")
                continue
            case_id = facts.case_by_number(address.number)
            if case_id is None:
                refused = MailDecision("drop", f"case address for unknown case "
                                       f"{address.number!r}", 1.0, "token")
                continue
            check = self.keys.check(address, self.tenant, case_id, now)
            if check.ok:
                return MailDecision("reply", check.reason, 1.0, "token", case_id)
            if check.expired:
                return MailDecision("new", f"reply address refused ({check.reason}); "
                                    "a new case", 0.5, "token")
            refused = MailDecision("drop", f"reply address refused ({check.reason})",
                                   1.0, "token")
        if refused is not None:
            return refused
        if mail.thread_ids:
            case_id = facts.case_by_message_ids(mail.thread_ids)
            if case_id is not None:
                return MailDecision("reply", "In-Reply-To/References name a message of the "
                                    "case", 0.9, "thread", case_id)
        for number in _SUBJECT_NUMBER.findall(mail.subject):
            case_id = facts.case_by_number(number)
            if case_id is not None and facts.is_contact(case_id, mail.sender):
                return MailDecision("reply", f"case number {number.upper()} in the subject "
                                    "from the case's contact", 0.6, "subject", case_id)
        return MailDecision("new", "no case address, thread or known case number", 1.0,
                            "none")
