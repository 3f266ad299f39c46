"""The summary cards and the scorecard in SQL, shared by the SQLite and PostgreSQL stores.

Every figure is an aggregate over the per-case columns of schema migration 5 (written from
:class:`caselib.reports.CaseFacts` by the row codec), so it equals what
:func:`caselib.reports.compute_scorecard` computes from the same cases in Python; the
assembly (which groups show, the daily backlog) is :mod:`caselib.reports.compute`'s.

* Counters are ``SUM(CASE …)`` over the cases *alive* in the period: changed since its
  start (``updated_at``, index ``cases_updated``) or still active (the partial active index),
  as two disjoint ``UNION ALL`` branches so each reads an index range. A case that counts
  for any figure but the ratings and first responses is alive in the period.
* Medians and p90s are nearest-rank over whole seconds with ``ROW_NUMBER`` and
  ``COUNT(*)`` windows: the value at rank ``(n * p + 99) / 100`` in integer arithmetic,
  identical in both dialects (``percentile_disc`` compares float fractions and is
  PostgreSQL-only).
* Instants are fixed-width ISO text in UTC, so ranges and the age thresholds are text
  comparisons; the day bounds of the period's zone are computed in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    series_points,
    today,
)
from caselib.storage._sql.columns import ACTIVE_CATEGORIES_SQL
from caselib.storage._sql.dialect import SqlDialect
from caselib.storage._sql.queries import _where
from caselib.timeutil import to_iso

__all__ = ["sql_cards", "sql_scorecard"]

Fetch = Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]]

_GROUP: Final = {"team": "c.team", "assignee": "c.assignee", "priority": "c.priority",
                 "category": "c.category", "channel": "c.source"}
_ACTIVE: Final = "c." + ACTIVE_CATEGORIES_SQL
_TARGET_PREFIXES: Final = ("fr", "res", "nr")
_ALIVE_COLUMNS: Final = (
    "created_at", "resolved_at", "reopens", "agent_replies", "last_reopened_at",
    *(f"{t}_{k}" for t in _TARGET_PREFIXES for k in ("met", "breach", "due", "warn")),
)


class _Params:
    """Placeholders and their values in the order the SQL text names them."""

    def __init__(self, dialect: SqlDialect) -> None:
        self.ph = dialect.ph
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return self.ph


def _base(query: CaseQuery, tenant: str, dialect: SqlDialect, p: _Params) -> str:
    """The query's filter (its access scope included) as SQL over alias ``c``."""
    conds, params = _where(query, tenant, dialect)
    p.values.extend(params)
    return " AND ".join(conds)


def _n(expr: str) -> str:
    return f"SUM(CASE WHEN {expr} THEN 1 ELSE 0 END)"


def _in(col: str, lo: str, hi: str) -> str:
    return f"{col} >= {lo} AND {col} < {hi}"


def _int(value: Any) -> int:
    return 0 if value is None else int(value)


def _counters(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
              period: Period, now: datetime, group: str | None) -> dict[Any, RowCounts]:
    """Every counter of :class:`RowCounts` per group, from the cases alive in the period."""
    p = _Params(dialect)
    ref = min(period.end, now)
    s, e, n, r = to_iso(period.start), to_iso(period.end), to_iso(now), to_iso(ref)
    g = "x.g" if group else "NULL"
    exprs = [
        _n(f"x.created_at >= {p(s)}"),
        _n(_in("x.resolved_at", p(s), p(e))),
        _n(_in("x.last_reopened_at", p(s), p(e))),
        _n(f"x.created_at < {p(s)} AND (x.resolved_at IS NULL OR x.resolved_at >= {p(s)})"),
        _n(f"x.resolved_at IS NULL OR x.resolved_at >= {p(e)}"),
        _n(f"{_in('x.resolved_at', p(s), p(e))} AND x.reopens = 0 AND x.agent_replies <= 1"),
    ]
    for _label, lo, hi in AGE_BUCKETS:
        cond = f"(x.resolved_at IS NULL OR x.resolved_at >= {p(e)}) " \
               f"AND x.created_at <= {p(to_iso(ref - timedelta(seconds=lo)))}"
        if hi is not None:
            cond += f" AND x.created_at > {p(to_iso(ref - timedelta(seconds=hi)))}"
        exprs.append(_n(cond))
    for t in _TARGET_PREFIXES:
        def breach(t: str = t) -> str:  # named twice: its placeholder is bound twice
            return f"COALESCE(x.{t}_breach, CASE WHEN x.{t}_due <= {p(n)} THEN x.{t}_due END)"

        exprs.append(_n(_in(f"x.{t}_met", p(s), p(e))))
        exprs.append(_n(f"{breach()} >= {p(s)} AND {breach()} < {p(e)}"))
        exprs.append(_n(f"x.{t}_due > {p(r)} AND x.{t}_warn <= {p(r)}"))
    cols = ", ".join(f"c.{c}" for c in _ALIVE_COLUMNS)
    gsel = f"{_GROUP[group]} AS g, " if group else ""
    changed = (f"SELECT {gsel}{cols} FROM cases c WHERE {_base(query, tenant, dialect, p)} "
               f"AND c.updated_at >= {p(s)} AND c.created_at < {p(e)}")
    idle = (f"SELECT {gsel}{cols} FROM cases c WHERE {_base(query, tenant, dialect, p)} "
            f"AND {_ACTIVE} AND c.updated_at < {p(s)}")
    tail = " GROUP BY x.g" if group else ""
    sql = f"SELECT {g}, {', '.join(exprs)} FROM ({changed} UNION ALL {idle}) x{tail}"
    out: dict[Any, RowCounts] = {}
    for row in fetch(sql, p.values):
        v = [_int(x) for x in row[1:]]
        c = RowCounts(v[0], v[1], v[2], v[3], v[4], v[5])
        nage = len(AGE_BUCKETS)
        c.age = v[6:6 + nage]
        rest = v[6 + nage:]
        c.sla = [rest[i:i + 3] for i in range(0, len(rest), 3)]
        out[row[0] if group else None] = c
    return out


def _durations(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
               value: str, at: str, lo: datetime, hi: datetime | None,
               group: str | None) -> dict[Any, DurationStats]:
    """Count, sum, median and p90 of column ``value`` over the cases whose ``at`` falls in
    ``[lo, hi)`` (``hi`` ``None``: any ``at``), per group."""
    p = _Params(dialect)
    where = _base(query, tenant, dialect, p)
    span = f"c.{at} IS NOT NULL" if hi is None else _in(f"c.{at}", p(to_iso(lo)), p(to_iso(hi)))
    part = "PARTITION BY g " if group else ""
    gsel = f"{_GROUP[group]}" if group else "NULL"
    sql = (
        f"SELECT {'g' if group else 'NULL'}, MAX(n), SUM(v), "
        "MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN v END), "
        "MAX(CASE WHEN rn = (n * 90 + 99) / 100 THEN v END) FROM ("
        f"SELECT g, v, ROW_NUMBER() OVER ({part}ORDER BY v) AS rn, "
        f"COUNT(*) OVER ({part.strip()}) AS n FROM ("
        f"SELECT {gsel} AS g, c.{value} AS v FROM cases c WHERE {where} AND {span} "
        f"AND c.{value} IS NOT NULL) y) z"
        + (" GROUP BY g" if group else ""))
    out: dict[Any, DurationStats] = {}
    for g, count, total, median, p90 in fetch(sql, p.values):
        if count:
            out[g if group else None] = DurationStats(int(count), int(total), int(median),
                                                      int(p90))
    return out


_DURATION_SOURCES: Final = (
    ("first_response_business", "frt_bus", "first_response_at"),
    ("first_response_calendar", "frt_s", "first_response_at"),
    ("resolution_business", "res_bus", "resolved_at"),
    ("resolution_calendar", "res_s", "resolved_at"),
)


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
        span = _in("k.at", p(to_iso(period.start)), p(to_iso(period.end)))
        sql = (f"SELECT COUNT(DISTINCT k.case_id) FROM {table} k WHERE k.tenant = {p(tenant)} "
               f"AND {span} AND EXISTS (SELECT 1 FROM cases c WHERE c.id = k.case_id AND "
               f"{_base(query, tenant, dialect, p)})")
        counts.append(_int(fetch(sql, p.values)[0][0]))
    return DeflectionFunnel(*counts)


def sql_scorecard(fetch: Fetch, query: CaseQuery, tenant: str, dialect: SqlDialect,
                  period: Period, group_by: GroupBy, now: datetime) -> Scorecard:
    """:meth:`CaseRepository.scorecard <caselib.ports.CaseRepository.scorecard>` in SQL."""
    args = (fetch, query, tenant, dialect)
    total = _counters(*args, period, now, None).get(None, RowCounts())
    for name, value, at in _DURATION_SOURCES:
        got = _durations(*args, value, at, period.start, period.end, None).get(None)
        if got is not None:
            total.durations[name] = got
    rated = _csat(*args, period, None).get(None)
    if rated is not None:
        total.csat_responses, total.csat_total, total.csat_satisfied = rated
    groups: dict[Any, RowCounts] = {}
    if group_by != "none":
        groups = _counters(*args, period, now, group_by)
        for name, value, at in _DURATION_SOURCES:
            for g, stats in _durations(*args, value, at, period.start, period.end,
                                       group_by).items():
                groups.setdefault(g, RowCounts()).durations[name] = stats
        for g, (n, score, satisfied) in _csat(*args, period, group_by).items():
            c = groups.setdefault(g, RowCounts())
            c.csat_responses, c.csat_total, c.csat_satisfied = n, score, satisfied
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
    """:meth:`CaseRepository.cards <caselib.ports.CaseRepository.cards>` in SQL."""
    day, lo, hi = today(now, zone)
    p = _Params(dialect)
    urgent = f"{_ACTIVE} AND c.priority = {p('urgent')}"
    resolved = f"NOT {_ACTIVE} AND {_in('c.resolved_at', p(to_iso(lo)), p(to_iso(hi)))}"
    sql = (f"SELECT COUNT(*), {_n(_ACTIVE)}, {_n(urgent)}, {_n(resolved)}, COUNT(c.csat), "
           f"SUM(c.csat), {_n('c.csat >= 4')} FROM cases c "
           f"WHERE {_base(query, tenant, dialect, p)}")
    total, open_, critical, done, rated, score, satisfied = (
        _int(v) for v in fetch(sql, p.values)[0])
    first = _durations(fetch, query, tenant, dialect, "frt_s", "first_response_at", lo, None,
                       None).get(None, DurationStats(0, 0, None, None))
    return SummaryCards(total, open_, critical, done, first,
                        CsatStats(rated, score, satisfied), day, zone)
