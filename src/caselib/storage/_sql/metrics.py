"""The summary cards and the scorecard in SQL, shared by the SQLite and PostgreSQL stores.

Every figure is an aggregate over the per-case columns of schema migration 5 (written from
:class:`caselib.reports.CaseFacts` by the row codec), so it equals what
:func:`caselib.reports.compute_scorecard` computes from the same cases in Python; the
assembly (which groups show, the daily backlog) is :mod:`caselib.reports.compute`'s.

* Counters are ``SUM(CASE …)`` over the cases *alive* in the period, in two queries over
  disjoint sets that add up: the cases changed since its start (``updated_at``, covering
  index ``cases_alive``) and the active ones unchanged since (``cases_alive_active``). A
  case counts for a figure other than ratings and first responses only if it is in one.
* Medians and p90s are nearest-rank over whole seconds (rank ``(n * p + 99) / 100`` in
  integer arithmetic), taken in Python by the reference's own :func:`duration_stats` from
  one unsorted read per instant column of the period's (group, durations) index entries:
  at a million cases on SQLite, sorting in SQL (``ORDER BY … OFFSET`` per percentile, or
  ``ROW_NUMBER()`` windows per group) cost several times that read, and
  ``percentile_disc`` compares float fractions and is PostgreSQL-only.
* Instants are fixed-width ISO text in UTC, so ranges and the age thresholds are text
  comparisons; the day bounds of the period's zone are computed in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

from caselib.ports import CaseQuery
from caselib.reports import (
    CsatStats,
    DayPoint,
    DeflectionFunnel,
    DurationStats,
    GroupBy,
    Period,
    Scorecard,
    SummaryCards,
)
from caselib.reports.compute import (
    AGE_BUCKETS,
    RESOLUTION_BUCKETS,
    RowCounts,
    build_scorecard,
    day_bounds,
    duration_stats,
    series_points,
    today,
)
from caselib.storage._sql.columns import ACTIVE_CATEGORIES_SQL
from caselib.storage._sql.dialect import SqlDialect
from caselib.storage._sql.queries import _where
from caselib.timeutil import to_iso

__all__ = ["sql_cards", "sql_scorecard"]

Fetch = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]

_GROUP: Final = {by: f"(c.{column} || '')" for by, column in (
    ("team", "team"), ("assignee", "assignee"), ("priority", "priority"),
    ("category", "category"), ("channel", "source"))}
"""The grouping expressions: an expression, not the bare column, so that SQLite does not
walk an index on the column for its order (reading every row) instead of the covering
range index; ``NULL || ''`` stays ``NULL``."""
_ACTIVE: Final = "c." + ACTIVE_CATEGORIES_SQL
_TARGET_PREFIXES: Final = ("fr", "res", "nr")


class _Params:
    """Placeholders and their values in the order the SQL text names them."""

    def __init__(self, dialect: SqlDialect) -> None:
        self.ph = dialect.ph
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return self.ph


def _base(query: CaseQuery, tenant: str, dialect: SqlDialect, p: _Params, *,
          priority_names: bool = False) -> str:
    """The query's filter (its access scope included) as SQL over alias ``c``."""
    conds, params = _where(query, tenant, dialect, priority_names=priority_names)
    conds.append("c.status_category <> 'merged'")  # merged-away cases count nowhere
    p.values.extend(params)
    return " AND ".join(conds)


def _n(expr: str) -> str:
    return f"SUM(CASE WHEN {expr} THEN 1 ELSE 0 END)"


def _in(col: str, lo: str, hi: str) -> str:
    return f"{col} >= {lo} AND {col} < {hi}"


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _counter_sql(p: _Params, period: Period, now: datetime, *, idle: bool) -> list[str]:
    """The counter expressions over alias ``c``, in :class:`RowCounts` order. For the idle
    branch (active cases unchanged since the period's start) the figures that need an event
    in the period (created, resolved, reopened, first contact, met) are the constant 0: such
    an event would have moved ``updated_at`` into the period."""
    ref = min(period.end, now)
    s, e, n, r = to_iso(period.start), to_iso(period.end), to_iso(now), to_iso(ref)

    def busy(expr: Callable[[], str]) -> str:
        return "0" if idle else _n(expr())

    exprs = [
        busy(lambda: f"c.created_at >= {p(s)}"),
        busy(lambda: _in("c.resolved_at", p(s), p(e))),
        busy(lambda: _in("c.last_reopened_at", p(s), p(e))),
        _n(f"c.created_at < {p(s)} AND (c.resolved_at IS NULL OR c.resolved_at >= {p(s)})"),
        _n(f"c.resolved_at IS NULL OR c.resolved_at >= {p(e)}"),
        busy(lambda: f"{_in('c.resolved_at', p(s), p(e))} AND c.reopens = 0 "
                     "AND c.agent_replies <= 1"),
    ]
    for _label, lo, hi in AGE_BUCKETS:
        cond = (f"(c.resolved_at IS NULL OR c.resolved_at >= {p(e)}) "
                f"AND c.created_at <= {p(to_iso(ref - timedelta(seconds=lo)))}")
        if hi is not None:
            cond += f" AND c.created_at > {p(to_iso(ref - timedelta(seconds=hi)))}"
        exprs.append(_n(cond))
    for t in _TARGET_PREFIXES:
        def breach(t: str = t) -> str:  # named twice: its placeholder is bound twice
            return f"COALESCE(c.{t}_breach, CASE WHEN c.{t}_due <= {p(n)} THEN c.{t}_due END)"

        exprs.append(busy(lambda t=t: _in(f"c.{t}_met", p(s), p(e))))  # type: ignore[misc]
        exprs.append(_n(f"{breach()} >= {p(s)} AND {breach()} < {p(e)}"))
        exprs.append(_n(f"c.{t}_due > {p(r)} AND c.{t}_warn <= {p(r)}"))
    return exprs


def _counters(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
              period: Period, now: datetime, group: str | None) -> dict[Any, RowCounts]:
    """Every counter of :class:`RowCounts` per group, from the cases alive in the period:
    those changed since its start, and the active ones unchanged since (two queries, each
    one index range read from a covering index; counts add up)."""
    out: dict[Any, RowCounts] = {}
    s, e = to_iso(period.start), to_iso(period.end)
    g = _GROUP[group] if group else "NULL"
    tail = f" GROUP BY {_GROUP[group]}" if group else ""
    for idle in (False, True):
        p = _Params(dialect)
        exprs = _counter_sql(p, period, now, idle=idle)
        where = _base(query, tenant, dialect, p)
        span = (f"{_ACTIVE} AND NOT (c.updated_at >= {p(s)})" if idle  # (NOT: the active index)
                else f"c.updated_at >= {p(s)} AND c.created_at < {p(e)}")
        sql = f"SELECT {g}, {', '.join(exprs)} FROM cases c WHERE {where} AND {span}{tail}"
        for row in fetch(sql, p.values):
            v = [_int(x) for x in row[1:]]
            key = row[0] if group else None
            c = out.setdefault(key, RowCounts())
            c.created += v[0]
            c.resolved += v[1]
            c.reopened += v[2]
            c.backlog_start += v[3]
            c.backlog_end += v[4]
            c.first_contact += v[5]
            nage = len(AGE_BUCKETS)
            c.age = [a + b for a, b in zip(c.age, v[6:6 + nage], strict=True)]
            rest = v[6 + nage:]
            c.sla = [[a + b for a, b in zip(c.sla[i // 3], rest[i:i + 3], strict=True)]
                     for i in range(0, len(rest), 3)]
    return out


def _durations(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
               values: Sequence[str], at: str, lo: datetime, hi: datetime,
               group: str | None) -> dict[Any, list[DurationStats | None]]:
    """Count, sum, median and p90 of each column of ``values`` over the cases whose ``at``
    falls in ``[lo, hi)``, per group (if ``group``) and the total's under :data:`_TOTAL`;
    a column without values in a group is ``None`` there.

    One unsorted read of the range's covering index ships the group and the values, and
    the ranks are taken in Python (:func:`duration_stats`, the reference's own): an SQL
    sort per percentile, or ``ROW_NUMBER()`` windows per group, cost several times the
    read at a million cases on SQLite (a temporary B-tree per window and per column)."""
    p = _Params(dialect)
    where = _base(query, tenant, dialect, p)
    span = _in(f"c.{at}", p(to_iso(lo)), p(to_iso(hi)))
    g = _GROUP[group] if group else "NULL"
    cols = ", ".join(f"c.{v}" for v in values)
    per: dict[Any, list[list[int]]] = {}
    every: list[list[int]] = [[] for _ in values]
    for row in fetch(f"SELECT {g}, {cols} FROM cases c WHERE {where} AND {span}", p.values):
        lists = every
        if group:
            lists = per.get(row[0]) or per.setdefault(row[0], [[] for _ in values])
        for i, v in enumerate(row[1:]):
            if v is not None:
                lists[i].append(v)
                if group:
                    every[i].append(v)
    per[_TOTAL] = every
    return {key: [duration_stats(v) if v else None for v in lists]
            for key, lists in per.items()}


_TOTAL: Final = object()
"""The key of the total's statistics in a :func:`_durations` result."""


_DURATION_SOURCES: Final = (
    ("first_response_at", ("first_response_business", "frt_bus"),
     ("first_response_calendar", "frt_s")),
    ("resolved_at", ("resolution_business", "res_bus"), ("resolution_calendar", "res_s")),
)
"""Per instant column, the durations read with it: (statistic's name, column)."""


def _csat(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect, period: Period,
          group: str | None) -> dict[Any, tuple[int, int, int]]:
    p = _Params(dialect)
    where = _base(query, tenant, dialect, p)
    span = _in("c.csat_at", p(to_iso(period.start)), p(to_iso(period.end)))
    gsel = _GROUP[group] if group else "NULL"
    sql = (f"SELECT {gsel}, COUNT(*), SUM(c.csat), {_n('c.csat >= 4')} FROM cases c "
           f"WHERE {where} AND {span} AND c.csat IS NOT NULL"
           + (f" GROUP BY {_GROUP[group]}" if group else ""))
    return {(row[0] if group else None): (_int(row[1]), _int(row[2]), _int(row[3]))
            for row in fetch(sql, p.values) if _int(row[1])}


def _bucketed(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
              bucket: Callable[[_Params], str], at: str, lo: datetime, hi: datetime,
              size: int) -> list[int]:
    """Counts per bucket of the cases whose ``at`` falls in ``[lo, hi)``."""
    p = _Params(dialect)
    expr = bucket(p)
    where = _base(query, tenant, dialect, p)
    span = _in(f"c.{at}", p(to_iso(lo)), p(to_iso(hi)))
    counts = [0] * size
    for b, n in fetch(f"SELECT b, COUNT(*) FROM (SELECT {expr} AS b FROM cases c "
                      f"WHERE {where} AND {span}) x GROUP BY b", p.values):
        counts[int(b)] += int(n)
    return counts


def _day_case(column: str, bounds: Sequence[datetime]) -> Callable[[_Params], str]:
    """``CASE`` mapping ``column`` to the index of its day (``bounds``: each day's end)."""
    def expr(p: _Params) -> str:
        whens = " ".join(f"WHEN {column} < {p(to_iso(b))} THEN {i}"
                         for i, b in enumerate(bounds[:-1]))
        last = len(bounds) - 1
        return f"CASE {whens} ELSE {last} END" if whens else f"{last}"
    return expr


def _resolution_bucket(_p: _Params) -> str:
    whens = " ".join(f"WHEN c.res_s < {hi} THEN {i}"
                     for i, (_l, _lo, hi) in enumerate(RESOLUTION_BUCKETS) if hi is not None)
    return f"CASE {whens} ELSE {len(RESOLUTION_BUCKETS) - 1} END"


def _deflection(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
                period: Period) -> DeflectionFunnel:
    """Distinct cases in each KB log table within the period, among the query's cases."""
    counts = []
    for table in ("kb_shown", "kb_opened", "kb_resolved"):
        p = _Params(dialect)
        who = p(tenant)  # parameters bind in the order they appear in the text
        span = _in("k.at", p(to_iso(period.start)), p(to_iso(period.end)))
        sql = (f"SELECT COUNT(DISTINCT k.case_id) FROM {table} k WHERE k.tenant = {who} "
               f"AND {span} AND EXISTS (SELECT 1 FROM cases c WHERE c.id = k.case_id AND "
               f"{_base(query, tenant, dialect, p)})")
        counts.append(_int(fetch(sql, p.values)[0][0]))
    return DeflectionFunnel(*counts)


def _summed(rows: Iterable[RowCounts]) -> RowCounts:
    """The counters of ``rows`` added up (durations left out)."""
    out = RowCounts()
    for c in rows:
        for name in ("created", "resolved", "reopened", "backlog_start", "backlog_end",
                     "first_contact", "csat_responses", "csat_total", "csat_satisfied"):
            setattr(out, name, getattr(out, name) + getattr(c, name))
        out.age = [a + b for a, b in zip(out.age, c.age, strict=True)]
        out.sla = [[a + b for a, b in zip(x, y, strict=True)]
                   for x, y in zip(out.sla, c.sla, strict=True)]
    return out


def sql_scorecard(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
                  period: Period, group_by: GroupBy, now: datetime) -> Scorecard:
    """:meth:`CaseRepository.scorecard <caselib.ports.CaseRepository.scorecard>` in SQL."""
    args = (fetch, query, tenant, dialect)
    groups: dict[Any, RowCounts] = {}
    if group_by == "none":
        total = _counters(*args, period, now, None).get(None, RowCounts())
        rated = _csat(*args, period, None).get(None)
        if rated is not None:
            total.csat_responses, total.csat_total, total.csat_satisfied = rated
    else:  # counts add up: the total's are the groups' sums (percentiles do not)
        groups = _counters(*args, period, now, group_by)
        for g, (n, score, satisfied) in _csat(*args, period, group_by).items():
            c = groups.setdefault(g, RowCounts())
            c.csat_responses, c.csat_total, c.csat_satisfied = n, score, satisfied
        total = _summed(groups.values())
    for at, *named in _DURATION_SOURCES:
        got = _durations(*args, [v for _n, v in named], at, period.start, period.end,
                         None if group_by == "none" else group_by)
        for g, stats in got.items():
            if any(stats):
                c = total if g is _TOTAL else groups.setdefault(g, RowCounts())
                for (name, _v), one in zip(named, stats, strict=True):
                    if one is not None:
                        c.durations[name] = one
    days = day_bounds(period)
    ends = [hi for _d, _lo, hi in days]
    created = _bucketed(*args, _day_case("c.created_at", ends), "created_at", period.start,
                        period.end, len(days))
    resolved = _bucketed(*args, _day_case("c.resolved_at", ends), "resolved_at",
                         period.start, period.end, len(days))
    series: list[DayPoint] = series_points(days, created, resolved, total.backlog_start)
    histogram = _bucketed(*args, _resolution_bucket, "resolved_at", period.start, period.end,
                          len(RESOLUTION_BUCKETS))
    return build_scorecard(period, group_by, groups, total, series, histogram,
                           _deflection(*args, period), now)


def sql_cards(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
              now: datetime, zone: str) -> SummaryCards:
    """:meth:`CaseRepository.cards <caselib.ports.CaseRepository.cards>` in SQL.

    An active-only view is one read of the active covering index. Any other view (the
    ``all`` tab) is four reads, each answered by a covering index of migration 5 without
    touching the rows: the counts (``cases_alive``, priorities matched by name), today's
    resolutions (``cases_resolved``), the ratings (``cases_csat``) and the first responses
    (``cases_first_response``). One ``SUM(CASE …)`` over every row of the tenant would read
    the 1 KiB+ rows instead: 80 ms at 100k cases against about 20 ms for the four.
    """
    day, lo, hi = today(now, zone)
    cats = query.status_categories
    active_only = bool(cats) and all(c.is_active for c in cats or ())
    p = _Params(dialect)
    urgent = f"{_ACTIVE} AND c.priority = {p('urgent')}"
    if active_only:
        resolved = f"NOT {_ACTIVE} AND {_in('c.resolved_at', p(to_iso(lo)), p(to_iso(hi)))}"
        where = _base(query, tenant, dialect, p)
        sql = (f"SELECT COUNT(*), {_n(_ACTIVE)}, {_n(urgent)}, {_n(resolved)}, COUNT(c.csat), "
               f"SUM(c.csat), {_n('c.csat >= 4')}, COUNT(c.frt_s), SUM(c.frt_s) FROM cases c "
               f"WHERE {where}")
        total, open_, critical, done, rated, score, satisfied, answered, waited = (
            _int(v) for v in fetch(sql, p.values)[0])
        where_params = p.values[3:]  # (the three CASE parameters come first)
    else:
        where = _base(query, tenant, dialect, p, priority_names=True)
        total, open_, critical = (_int(v) for v in fetch(
            f"SELECT COUNT(*), {_n(_ACTIVE)}, {_n(urgent)} FROM cases c WHERE {where}",
            p.values)[0])
        where_params = p.values[1:]
        done = _int(fetch(
            f"SELECT COUNT(*) FROM cases c WHERE {where} AND c.resolved_at IS NOT NULL AND "
            f"c.resolved_at >= {dialect.ph} AND c.resolved_at < {dialect.ph} AND NOT {_ACTIVE}",
            [*where_params, to_iso(lo), to_iso(hi)])[0][0])
        rated, score, satisfied = (_int(v) for v in fetch(  # csat and csat_at go together
            f"SELECT COUNT(c.csat), SUM(c.csat), {_n('c.csat >= 4')} FROM cases c "
            f"WHERE {where} AND c.csat_at IS NOT NULL", where_params)[0])
        answered, waited = (_int(v) for v in fetch(  # frt_s is set with first_response_at
            f"SELECT COUNT(c.frt_s), SUM(c.frt_s) FROM cases c WHERE {where} "
            "AND c.first_response_at IS NOT NULL", where_params)[0])
    first = DurationStats(0, 0, None, None)
    if answered:  # the ranks by sorted reads of the answered cases
        # an active-only view is answered by the active covering index; any other by the
        # first responses' one (which its predicate must then name)
        span = ("c.frt_s IS NOT NULL" if active_only
                else "c.first_response_at IS NOT NULL AND c.frt_s IS NOT NULL")
        picks = [int(fetch(f"SELECT c.frt_s FROM cases c WHERE {where} AND {span} "
                           f"ORDER BY c.frt_s LIMIT 1 OFFSET {(answered * pct + 99) // 100 - 1}",
                           where_params)[0][0]) for pct in (50, 90)]
        first = DurationStats(answered, waited, picks[0], picks[1])
    return SummaryCards(total, open_, critical, done, first,
                        CsatStats(rated, score, satisfied), day, zone)
