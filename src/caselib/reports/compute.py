"""The reference computation of the scorecard and the summary cards, in plain Python.

The memory store answers with these functions; the SQL stores compute the same figures in
SQL and hand their partial results to the same assembly (:func:`build_row`,
:func:`build_scorecard`), so the rules of ``docs/metrics.md`` that are not aggregates
(which groups show, the bucket edges, the daily bounds in the period's zone) live once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from typing import Final, Protocol
from zoneinfo import ZoneInfo

import attrs

from caselib.reports.facts import TARGETS, CaseFacts, whole_seconds
from caselib.reports.scorecard import (
    AgeBucket,
    CsatStats,
    DayPoint,
    DeflectionFunnel,
    DurationStats,
    GroupBy,
    Period,
    Scorecard,
    ScorecardRow,
    SummaryCards,
    TargetAttainment,
)
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "AGE_BUCKETS",
    "DURATIONS",
    "RESOLUTION_BUCKETS",
    "CardSubject",
    "RowCounts",
    "bucket_index",
    "build_row",
    "build_scorecard",
    "compute_cards",
    "compute_scorecard",
    "day_bounds",
    "duration_stats",
    "nearest_rank",
    "series_points",
    "today",
]

_H: Final = 3600
_D: Final = 86400

AGE_BUCKETS: Final[tuple[tuple[str, int, int | None], ...]] = (
    ("< 1d", 0, _D), ("1-3d", _D, 3 * _D), ("3-7d", 3 * _D, 7 * _D),
    ("7-30d", 7 * _D, 30 * _D), (">= 30d", 30 * _D, None),
)
"""Backlog age buckets ``(label, min_seconds, max_seconds)`` of calendar age."""

RESOLUTION_BUCKETS: Final[tuple[tuple[str, int, int | None], ...]] = (
    ("< 1h", 0, _H), ("1-4h", _H, 4 * _H), ("4-24h", 4 * _H, _D),
    ("1-3d", _D, 3 * _D), ("3-7d", 3 * _D, 7 * _D), (">= 7d", 7 * _D, None),
)
"""Calendar resolution-time buckets of the scorecard's histogram."""


def nearest_rank(ordered: Sequence[int], percent: int) -> int | None:
    """The nearest-rank ``percent`` percentile of ascending ``ordered``: the value at rank
    ``ceil(n * percent / 100)`` (1-based), in integers so every store computes the same rank."""
    n = len(ordered)
    if not n:
        return None
    return ordered[max((n * percent + 99) // 100, 1) - 1]


def duration_stats(values: Iterable[int]) -> DurationStats:
    """Count, sum, median and p90 of whole-second durations."""
    ordered = sorted(values)
    return DurationStats(len(ordered), sum(ordered), nearest_rank(ordered, 50),
                         nearest_rank(ordered, 90))


def bucket_index(seconds: int, buckets: Sequence[tuple[str, int, int | None]]) -> int:
    """Which bucket ``seconds`` falls in."""
    for i, (_label, lo, hi) in enumerate(buckets):
        if seconds >= lo and (hi is None or seconds < hi):
            return i
    return 0


def _buckets(counts: Sequence[int],
             buckets: Sequence[tuple[str, int, int | None]]) -> tuple[AgeBucket, ...]:
    return tuple(AgeBucket(label, lo, hi, n) for (label, lo, hi), n in zip(buckets, counts,
                                                                           strict=True))


def day_bounds(period: Period) -> list[tuple[date, datetime, datetime]]:
    """The period's days in its zone: ``(day, start, end)`` with the bounds clipped to the
    period (the first and last day may be partial)."""
    zone = ZoneInfo(period.zone)
    out: list[tuple[date, datetime, datetime]] = []
    day = period.start.astimezone(zone).date()
    while True:
        lo = datetime.combine(day, time(), tzinfo=zone)
        hi = datetime.combine(day + timedelta(days=1), time(), tzinfo=zone)
        lo, hi = max(lo, period.start), min(hi, period.end)
        if lo >= period.end:
            return out
        if hi > lo:
            out.append((day, lo, hi))
        day += timedelta(days=1)


@attrs.define
class RowCounts:
    """One group's figures before assembly: counters and the durations' statistics.

    Built by :func:`compute_scorecard` from :class:`CaseFacts`, and by the SQL stores from
    their aggregates; :func:`build_row` turns either into a :class:`ScorecardRow`.
    """

    created: int = 0
    resolved: int = 0
    reopened: int = 0
    backlog_start: int = 0
    backlog_end: int = 0
    first_contact: int = 0
    csat_responses: int = 0
    csat_total: int = 0
    csat_satisfied: int = 0
    sla: list[list[int]] = attrs.field(factory=lambda: [[0, 0, 0] for _ in TARGETS])
    """Per target: met, breached, open at risk."""
    age: list[int] = attrs.field(factory=lambda: [0] * len(AGE_BUCKETS))
    durations: dict[str, DurationStats] = attrs.field(factory=dict)
    """``first_response_business`` … ``resolution_calendar`` (missing: no values)."""


_EMPTY: Final = DurationStats(0, 0, None, None)
DURATIONS: Final = ("first_response_business", "first_response_calendar",
                    "resolution_business", "resolution_calendar")


def build_row(group: str | None, c: RowCounts) -> ScorecardRow:
    """The scorecard row of one group's counts."""
    d = c.durations
    return ScorecardRow(
        group, c.created, c.resolved, c.reopened, c.backlog_start, c.backlog_end,
        d.get(DURATIONS[0], _EMPTY), d.get(DURATIONS[1], _EMPTY), d.get(DURATIONS[2], _EMPTY),
        d.get(DURATIONS[3], _EMPTY),
        tuple(TargetAttainment(t, *c.sla[i]) for i, t in enumerate(TARGETS)),
        c.first_contact, CsatStats(c.csat_responses, c.csat_total, c.csat_satisfied),
        _buckets(c.age, AGE_BUCKETS),
    )


def _empty(c: RowCounts) -> bool:
    return not (c.created or c.resolved or c.reopened or c.backlog_start or c.backlog_end
                or c.csat_responses or any(any(s) for s in c.sla)
                or any(v.count for v in c.durations.values()))


def build_scorecard(period: Period, group_by: GroupBy, groups: Mapping[str | None, RowCounts],
                    total: RowCounts, series: Sequence[DayPoint],
                    histogram: Sequence[int], deflection: DeflectionFunnel,
                    generated_at: datetime) -> Scorecard:
    """Assemble a scorecard: groups without any figure are left out, the others sorted by
    name (cases without a value last); ``none`` has the total as its one row."""
    if group_by == "none":
        rows: tuple[ScorecardRow, ...] = (build_row(None, total),)
    else:
        names = sorted((g for g, c in groups.items() if not _empty(c)),
                       key=lambda g: (g is None, g or ""))
        rows = tuple(build_row(g, groups[g]) for g in names)
    return Scorecard(period, group_by, rows, build_row(None, total), tuple(series),
                     _buckets(histogram, RESOLUTION_BUCKETS), deflection, generated_at)


def _in(at: datetime | None, lo: datetime, hi: datetime) -> bool:
    return at is not None and lo <= at < hi


def _open_at(f: CaseFacts, t: datetime) -> bool:
    return f.created_at < t and (f.resolved_at is None or f.resolved_at >= t)


def _counts(facts: Sequence[CaseFacts], period: Period, now: datetime) -> RowCounts:
    s, e = period.start, period.end
    ref = min(e, now)
    c = RowCounts()
    values: dict[str, list[int]] = {name: [] for name in DURATIONS}
    for f in facts:
        c.created += _in(f.created_at, s, e)
        resolved = _in(f.resolved_at, s, e)
        if resolved:
            c.resolved += 1
            c.first_contact += f.first_contact
            assert f.resolution_seconds is not None
            values["resolution_calendar"].append(f.resolution_seconds)
            if f.resolution_business is not None:
                values["resolution_business"].append(f.resolution_business)
        c.reopened += _in(f.last_reopened_at, s, e)
        c.backlog_start += _open_at(f, s)
        if _open_at(f, e):
            c.backlog_end += 1
            c.age[bucket_index(whole_seconds(f.created_at, ref), AGE_BUCKETS)] += 1
        if _in(f.first_response_at, s, e):
            assert f.first_response_seconds is not None
            values["first_response_calendar"].append(f.first_response_seconds)
            if f.first_response_business is not None:
                values["first_response_business"].append(f.first_response_business)
        if f.csat_score is not None and _in(f.csat_at, s, e):
            c.csat_responses += 1
            c.csat_total += f.csat_score
            c.csat_satisfied += f.csat_score >= 4
        for i, t in enumerate(f.targets):
            breach = t.breached_at
            if breach is None and t.due_at is not None and t.due_at <= now:
                breach = t.due_at  # past due at read time: breached before any sweep
            c.sla[i][0] += _in(t.met_at, s, e)
            c.sla[i][1] += _in(breach, s, e)
            c.sla[i][2] += (t.due_at is not None and t.due_at > ref
                            and t.warn_at is not None and t.warn_at <= ref)
    c.durations = {name: duration_stats(v) for name, v in values.items()}
    return c


def compute_scorecard(facts: Iterable[CaseFacts], period: Period, group_by: GroupBy,
                      deflection: DeflectionFunnel, now: datetime) -> Scorecard:
    """The scorecard of ``facts`` (the cases the reader may see) over ``period``."""
    every = [f for f in facts if not f.merged]  # merged-away cases count nowhere
    grouped: dict[str | None, list[CaseFacts]] = {}
    if group_by != "none":
        for f in every:
            grouped.setdefault(f.group(group_by), []).append(f)
    groups = {g: _counts(fs, period, now) for g, fs in grouped.items()}
    days = day_bounds(period)
    total = _counts(every, period, now)
    series = series_points(
        days, [sum(_in(f.created_at, lo, hi) for f in every) for _d, lo, hi in days],
        [sum(_in(f.resolved_at, lo, hi) for f in every) for _d, lo, hi in days],
        total.backlog_start)
    histogram = [0] * len(RESOLUTION_BUCKETS)
    for f in every:
        if _in(f.resolved_at, period.start, period.end):
            assert f.resolution_seconds is not None
            histogram[bucket_index(f.resolution_seconds, RESOLUTION_BUCKETS)] += 1
    return build_scorecard(period, group_by, groups, total, series, histogram, deflection,
                           now)


def series_points(days: Sequence[tuple[date, datetime, datetime]], created: Sequence[int],
                  resolved: Sequence[int], backlog_start: int) -> list[DayPoint]:
    """The daily series: each day's created and resolved counts, and the backlog at its end
    (the period's opening backlog plus what was created minus what was resolved so far)."""
    points, backlog = [], backlog_start
    for (day, _lo, _hi), made, done in zip(days, created, resolved, strict=True):
        backlog += made - done
        points.append(DayPoint(day, made, done, backlog))
    return points


class CardSubject(Protocol):
    """What the cards read of a case (a :class:`~caselib.ports.CaseSummary` has it)."""

    @property
    def status_category(self) -> StatusCategory: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def first_response_at(self) -> datetime | None: ...
    @property
    def csat(self) -> int | None: ...


def today(now: datetime, zone: str) -> tuple[date, datetime, datetime]:
    """``now``'s day in ``zone`` and its bounds."""
    day = now.astimezone(ZoneInfo(zone)).date()
    z = ZoneInfo(zone)
    return (day, datetime.combine(day, time(), tzinfo=z),
            datetime.combine(day + timedelta(days=1), time(), tzinfo=z))


def compute_cards(items: Iterable[CardSubject], now: datetime, zone: str) -> SummaryCards:
    """The summary cards of the cases in ``items`` (a view's cases the reader may see)."""
    day, lo, hi = today(now, zone)
    total = open_ = critical = resolved_today = 0
    responses: list[int] = []
    rated = score = satisfied = 0
    for s in items:
        if s.status_category is StatusCategory.MERGED:
            continue  # merged-away cases count nowhere
        total += 1
        if s.status_category.is_active:
            open_ += 1
            critical += s.priority is Priority.URGENT
        elif _in(s.resolved_at, lo, hi):
            resolved_today += 1
        if s.first_response_at is not None:
            responses.append(whole_seconds(s.created_at, s.first_response_at))
        if s.csat is not None:
            rated += 1
            score += s.csat
            satisfied += s.csat >= 4
    return SummaryCards(total, open_, critical, resolved_today, duration_stats(responses),
                        CsatStats(rated, score, satisfied), day, zone)

