"""The service-desk scorecard's values: what :meth:`ServiceDesk.scorecard
<caselib.desk.ServiceDesk.scorecard>` returns and every store computes in its own query
language.

Plain frozen values, so a host renders them (the ``caselib report`` CLI prints them as a
table, JSON, CSV or an HTML page with charts). Every figure is defined in ``docs/metrics.md``:
its formula, whether it is measured in business or calendar time, and how reopens, merges and
pauses count. Means are returned beside the sums they come from, and medians / p90 are
nearest-rank percentiles of whole seconds, so the three stores agree exactly.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

import attrs

__all__ = [
    "AgeBucket",
    "CsatStats",
    "DayPoint",
    "DeflectionFunnel",
    "DurationStats",
    "GroupBy",
    "Period",
    "Scorecard",
    "ScorecardRow",
    "SummaryCards",
    "TargetAttainment",
]

GroupBy = Literal["none", "team", "assignee", "priority", "category", "channel"]
"""What a scorecard's rows are grouped by; ``channel`` is the case's source."""


@attrs.frozen
class Period:
    """A reporting period: ``start`` inclusive, ``end`` exclusive, both aware datetimes;
    ``zone`` (an IANA name) is where its days begin, for the daily series."""

    start: datetime
    end: datetime
    zone: str = "UTC"


@attrs.frozen
class DurationStats:
    """A distribution of durations in whole seconds.

    ``total_seconds`` / ``count`` is the mean (``mean_seconds``); ``median_seconds`` and
    ``p90_seconds`` are nearest-rank percentiles (the smallest value with at least that share
    of the values at or below it), ``None`` when ``count`` is 0.
    """

    count: int
    total_seconds: int
    median_seconds: int | None
    p90_seconds: int | None

    @property
    def mean_seconds(self) -> float | None:
        """The mean, or ``None`` for no values."""
        return self.total_seconds / self.count if self.count else None


@attrs.frozen
class TargetAttainment:
    """How one SLA target (``first_response``, ``resolution``, ``next_reply``) fared."""

    target: str
    met: int
    """Met on time within the period."""
    breached: int
    """Breached within the period (met late, or not met by the due time)."""
    open_at_risk: int
    """Still running at the period's end and in its warning window (amber)."""

    @property
    def attainment(self) -> float | None:
        """``met / (met + breached)``, or ``None`` when neither happened."""
        decided = self.met + self.breached
        return self.met / decided if decided else None


@attrs.frozen
class CsatStats:
    """Customer satisfaction ratings (1–5) recorded within the period."""

    responses: int
    score_total: int
    satisfied: int
    """Ratings of 4 or 5."""

    @property
    def mean(self) -> float | None:
        """The mean rating, or ``None`` without responses."""
        return self.score_total / self.responses if self.responses else None

    @property
    def satisfied_share(self) -> float | None:
        """The share of 4–5 ratings, or ``None`` without responses."""
        return self.satisfied / self.responses if self.responses else None


@attrs.frozen
class DeflectionFunnel:
    """From the KB log within the period: cases shown suggestions, cases whose suggestion was
    opened, and cases resolved by an article."""

    suggested: int
    opened: int
    resolved_by_article: int


@attrs.frozen
class AgeBucket:
    """Open cases at the period's end whose calendar age falls in
    ``[min_seconds, max_seconds)`` (``max_seconds`` ``None``: no upper bound)."""

    label: str
    min_seconds: int
    max_seconds: int | None
    count: int


@attrs.frozen
class DayPoint:
    """One day of the period (in its zone): cases created and resolved that day, and the
    backlog (open cases) at the day's end."""

    day: date
    created: int
    resolved: int
    backlog: int


@attrs.frozen
class ScorecardRow:
    """Every scorecard figure for one group (``group`` is ``None`` for the total row and for
    cases without a value of the grouping field)."""

    group: str | None
    created: int
    resolved: int
    reopened: int
    backlog_start: int
    backlog_end: int
    first_response_business: DurationStats
    first_response_calendar: DurationStats
    resolution_business: DurationStats
    resolution_calendar: DurationStats
    sla: tuple[TargetAttainment, ...]
    first_contact_resolutions: int
    """Cases resolved in the period with at most one public agent reply and never reopened."""
    csat: CsatStats
    backlog_age: tuple[AgeBucket, ...]

    @property
    def first_contact_resolution_rate(self) -> float | None:
        """First-contact resolutions per resolved case."""
        return self.first_contact_resolutions / self.resolved if self.resolved else None

    @property
    def reopen_rate(self) -> float | None:
        """Reopens per resolved case in the period."""
        return self.reopened / self.resolved if self.resolved else None


@attrs.frozen
class Scorecard:
    """The scorecard of a period: one row per group, the total, the daily series (volume
    and backlog over time), the resolution-time histogram of the total, and the deflection
    funnel (tenant-wide: the KB log is not grouped)."""

    period: Period
    group_by: GroupBy
    rows: tuple[ScorecardRow, ...]
    total: ScorecardRow
    series: tuple[DayPoint, ...]
    resolution_histogram: tuple[AgeBucket, ...]
    """Cases resolved in the period by calendar resolution time, in the buckets of
    ``docs/metrics.md`` (``count`` per bucket)."""
    deflection: DeflectionFunnel
    generated_at: datetime


@attrs.frozen
class SummaryCards:
    """The numbers above a list ("23 open · 4 critical · avg response 42m"), for the cases
    of one view the reader may see.

    ``resolved_today`` counts cases resolved since midnight of ``day`` in ``zone`` (the
    tenant's SLA calendar zone, else UTC) and not reopened; ``first_response`` is the
    calendar time from creation to the first public agent reply of every case that has one;
    ``csat`` holds every rating of the view's cases.
    """

    total: int
    open: int
    critical: int
    """Open cases at ``urgent`` priority."""
    resolved_today: int
    first_response: DurationStats
    csat: CsatStats
    day: date
    zone: str
