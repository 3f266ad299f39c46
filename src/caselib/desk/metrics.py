"""The metric use cases: a view's summary cards and the service-desk scorecard.

Both read through the store's own aggregates (:meth:`CaseRepository.cards
<caselib.ports.CaseRepository.cards>` and :meth:`~caselib.ports.CaseRepository.scorecard`)
over the cases the reader may see: the query is scoped with the actor's read scope exactly
as :meth:`~caselib.desk.ServiceDesk.find_cases` is, so a figure never counts a case its
reader could not open. The reporting zone (where "today" and the scorecard's days begin) is
the tenant's default SLA calendar's zone, else UTC. Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Final, get_args
from zoneinfo import ZoneInfo

from caselib.cases import Actor
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import InvalidInput, UnknownValue, WrongType
from caselib.ports import CaseQuery
from caselib.reports import GroupBy, Period, Scorecard, SummaryCards
from caselib.timeutil import aware_utc

__all__ = ["MAX_PERIOD", "cards", "last_days", "reporting_zone", "scorecard"]

MAX_PERIOD: Final = timedelta(days=400)
"""The longest scorecard period: a year and some, so its daily series stays a chart."""

_GROUPS: Final[tuple[str, ...]] = get_args(GroupBy)


def reporting_zone(ctx: DeskContext) -> str:
    """The IANA zone reports count days in: the default SLA calendar's, else ``UTC``."""
    sla = ctx.settings.sla
    return "UTC" if sla is None else sla.default.calendar.timezone


def last_days(ctx: DeskContext, days: object) -> tuple[datetime, datetime]:
    """``(start, end)`` of the last ``days`` whole days, today included: days begin at
    midnight in the reporting zone, "today" is the desk clock's; both ends aware UTC, ready
    for :func:`scorecard` (``caselib report --days N`` reads the same period)."""
    n = check.count(days, "days", 1, MAX_PERIOD.days)
    zone = ZoneInfo(reporting_zone(ctx))
    today = ctx.now().astimezone(zone).date()

    def midnight(day_offset: int) -> datetime:
        day = today + timedelta(days=day_offset)
        return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)

    return midnight(1 - n), midnight(1)


def _view_query(value: object) -> CaseQuery:
    """A :class:`CaseQuery`, or a named view (anything with a ``query`` that is one)."""
    if value is None:
        return CaseQuery()
    if isinstance(value, CaseQuery):
        return value
    inner = getattr(value, "query", None)
    if isinstance(inner, CaseQuery):
        return inner
    raise WrongType("query", "a CaseQuery, a view (with a .query) or None", value)


def cards(ctx: DeskContext, query: object, *, actor: Actor) -> SummaryCards:
    """The summary cards of a view's cases that ``actor`` may read (needs ``service.read``)."""
    check.actor(actor)
    q = ctx.scoped(_view_query(query), actor)
    with ctx.uow() as uow:
        return uow.cases.cards(q, ctx.now(), reporting_zone(ctx))


def _instant(value: object, field: str) -> datetime:
    if not isinstance(value, datetime):
        raise WrongType(field, "an aware datetime", value)
    return aware_utc(value, field)


def scorecard(ctx: DeskContext, *, start: object, end: object, group_by: object,
              actor: Actor, query: object = None) -> Scorecard:
    """The scorecard of ``[start, end)`` over the cases ``actor`` may read, grouped by
    ``group_by``; ``query`` (a :class:`CaseQuery` or a view) narrows the cases first (its
    paging fields are ignored). Needs ``service.read``; a scoped reader gets the figures of
    their scope (the deflection funnel too: only log lines of cases they may read)."""
    check.actor(actor)
    lo, hi = _instant(start, "start"), _instant(end, "end")
    if lo >= hi:
        raise InvalidInput("start must be before end (the period is [start, end))",
                           field="end")
    if hi - lo > MAX_PERIOD:
        raise InvalidInput(f"a scorecard period spans at most {MAX_PERIOD.days} days; ask for "
                           "several periods", field="end")
    if not isinstance(group_by, str):
        raise WrongType("group_by", "one of " + ", ".join(_GROUPS), group_by)
    if group_by not in _GROUPS:
        raise UnknownValue("group_by", group_by, list(_GROUPS))
    q = ctx.scoped(_view_query(query), actor)
    period = Period(lo, hi, reporting_zone(ctx))
    with ctx.uow() as uow:
        return uow.cases.scorecard(q, period, group_by, ctx.now())  # type: ignore[arg-type]

