"""A tenant's reopen policy: :class:`ReopenPolicy`.

Agents may always reopen. A customer's reply to a resolved case reopens it only inside the
grace window after the resolve; past it (or once the case is closed) the case stays done and
the reply opens a linked follow-up case instead
(:meth:`~caselib.ServiceDesk.customer_reply`), so a question months later does not turn an old
case into a year-long one and skew resolution times. Reopens are counted on the case
(``CaseFacts.reopens``) for the scorecard.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import attrs

from caselib.cases.case import Case
from caselib.checks import bool_attribute
from caselib.errors import InvalidConfiguration
from caselib.vocab import StatusCategory

__all__ = ["ReopenPolicy"]


def _grace(_inst: object, _attr: attrs.Attribute[timedelta | None],
           value: timedelta | None) -> None:
    if value is not None and (not isinstance(value, timedelta) or value < timedelta(0)):
        raise InvalidConfiguration("ReopenPolicy.grace must be a timedelta >= 0 or None "
                                   "(None: customers may reopen a resolved case any time)")


@attrs.frozen
class ReopenPolicy:
    """Who may reopen and for how long.

    ``grace``: how long after the resolve a customer's reply (or reopen) still reopens the
    case; ``None`` (the default, caselib < 0.3's behaviour) keeps it open-ended.
    ``customers_may_reopen``: ``False`` makes every customer reply to a resolved case open a
    follow-up instead. ``replies_resume_waiting``: what a reply does to a waiting case.

    .. versionadded:: 0.3
    """

    grace: timedelta | None = attrs.field(default=None, validator=_grace)
    customers_may_reopen: bool = attrs.field(
        default=True, validator=bool_attribute)
    replies_resume_waiting: bool = attrs.field(
        default=True, validator=bool_attribute)
    """A customer's reply (portal, mail, an approved held mail) to a case in a ``waiting``
    status moves it back to work: its first ``open`` status reachable without a gate a reply
    cannot meet, so the SLA clock runs again. ``False`` leaves it waiting, for a desk whose
    waiting statuses wait on parts or a third party rather than on the customer.

    .. versionadded:: 0.3"""

    def customer_may_reopen(self, case: Case, now: datetime) -> bool:
        """Whether a customer's reply at ``now`` reopens ``case``: without a grace window,
        any resolved or closed case (caselib < 0.3); with one, a resolved case inside it."""
        if not self.customers_may_reopen or case.status_category is StatusCategory.MERGED:
            return False
        if self.grace is None:
            return not case.status_category.is_active
        return (case.status_category is StatusCategory.RESOLVED
                and case.resolved_at is not None and now - case.resolved_at <= self.grace)
