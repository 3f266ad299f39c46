"""Deflection analytics: suggestion events and the figures computed from them.

The desk records when an article was shown, opened or credited with a resolution; the
:func:`deflection_analytics` report turns those events and the cases' outcomes into
open and deflection rates per period and per article. Separate from the index: it reads
events, never the articles or their text.

Two paths are counted. On a *case*, suggestions are logged under the case id. On the
*portal*, before any case exists, they are logged under a visit key (:data:`VISIT_PREFIX`
plus the host's visit id); when the visitor opened an article and filed no case within the
desk's window, a :class:`ResolvedByArticle` under the same key is the ``self_service``
record.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

import attrs

from caselib.errors import UnknownValue
from caselib.timeutil import aware_utc

__all__ = [
    "VISIT_PREFIX",
    "ArticleStats",
    "CaseOutcome",
    "Deflection",
    "DeflectionReport",
    "Period",
    "PeriodStats",
    "ResolvedByArticle",
    "SuggestionShown",
    "deflection_analytics",
]


#: Log records whose case id starts with this belong to a portal visit, not a case.
VISIT_PREFIX: Final = "visit:"


def _at(value: datetime) -> datetime:
    return aware_utc(value, "at")


@attrs.frozen
class SuggestionShown:
    """An article was shown to someone working on (or raising) a case."""

    case_id: str
    article_id: str
    rank: int
    score: float
    at: datetime = attrs.field(converter=_at)
    actor: str


@attrs.frozen
class Deflection:
    """A suggested article was opened."""

    case_id: str
    article_id: str
    actor: str
    at: datetime = attrs.field(converter=_at)
    rank: int
    score: float


@attrs.frozen
class ResolvedByArticle:
    """Someone stated explicitly that the article resolved the case."""

    case_id: str
    article_id: str
    at: datetime = attrs.field(converter=_at)


#: Per case: (resolved_at or None, last public agent reply at or None).
CaseOutcome = tuple[datetime | None, datetime | None]

Period = Literal["day", "week", "month"]


@attrs.frozen
class PeriodStats:
    """Counts for one period (or the whole range when ``start`` is None).

    ``shown`` and ``opened`` count distinct (case or visit, article) pairs, so a suggestion
    re-shown on every page view counts once. ``cases`` counts cases that were shown
    suggestions, ``deflected`` those resolved after an opened article without a later agent
    public reply. ``visits`` counts portal visits that were shown suggestions,
    ``self_service`` those with a self-service record (an article opened, no case filed).
    """

    start: datetime | None
    shown: int
    opened: int
    cases: int
    deflected: int
    visits: int = 0
    self_service: int = 0

    @property
    def open_rate(self) -> float:
        """opened / shown (0.0 when nothing was shown)."""
        return self.opened / self.shown if self.shown else 0.0

    @property
    def deflection_rate(self) -> float:
        """Both paths: (deflected + self_service) / (cases + visits); 0.0 when both are 0."""
        total = self.cases + self.visits
        return (self.deflected + self.self_service) / total if total else 0.0


@attrs.frozen
class ArticleStats:
    """Per-article counts over distinct cases: shown, opened, credited with a resolution."""

    article_id: str
    shown: int
    opened: int
    resolved: int


@attrs.frozen
class DeflectionReport:
    """Totals, per-period rows (ascending) and per-article rows (by id)."""

    totals: PeriodStats
    periods: tuple[PeriodStats, ...]
    articles: tuple[ArticleStats, ...]


def _period_start(at: datetime, period: Period) -> datetime:
    day = datetime(at.year, at.month, at.day, tzinfo=UTC)
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    return day.replace(day=1)


def deflection_analytics(
    shown: Iterable[SuggestionShown],
    opened: Iterable[Deflection],
    outcomes: Mapping[str, CaseOutcome],
    resolved_by_article: Iterable[ResolvedByArticle] = (),
    *,
    period: Period = "week",
) -> DeflectionReport:
    """Compute suggestion and deflection figures.

    A case counts as deflected when it was resolved at or after the first time one of its
    suggested articles was opened and no agent replied publicly after that opening (or when a
    :class:`ResolvedByArticle` says so). The resolution is credited to the explicitly named
    article, else to the last article opened before the resolution. A case belongs to the
    period of its first shown suggestion (or first opening when none was recorded); shown and
    opened pairs to the period of their first event. Period starts are UTC midnights (weeks
    start on Monday).

    Raises:
        UnknownValue: ``period`` is not day, week or month.
    """
    if period not in ("day", "week", "month"):
        raise UnknownValue("period", period, ["day", "week", "month"])
    first_shown: dict[tuple[str, str], datetime] = {}
    for s in shown:
        key = (s.case_id, s.article_id)
        if key not in first_shown or s.at < first_shown[key]:
            first_shown[key] = s.at
    first_open: dict[tuple[str, str], datetime] = {}
    for o in opened:
        key = (o.case_id, o.article_id)
        if key not in first_open or o.at < first_open[key]:
            first_open[key] = o.at
    explicit: dict[str, ResolvedByArticle] = {}
    for r in resolved_by_article:
        if r.case_id not in explicit or r.at < explicit[r.case_id].at:
            explicit[r.case_id] = r

    # A case starts at its first shown suggestion; at its first opening if none was recorded.
    case_start: dict[str, datetime] = {}
    for source in (first_open, first_shown):
        starts: dict[str, datetime] = {}
        for (case_id, _), at in source.items():
            if case_id not in starts or at < starts[case_id]:
                starts[case_id] = at
        case_start.update(starts)

    opens_by_case: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for (case_id, article_id), at in first_open.items():
        opens_by_case[case_id].append((at, article_id))
    credited: dict[str, str] = {}
    for case_id in case_start:
        if case_id in explicit:
            credited[case_id] = explicit[case_id].article_id
            continue
        opens = sorted(opens_by_case.get(case_id, ()))
        resolved_at, last_reply = outcomes.get(case_id, (None, None))
        if not opens or resolved_at is None:
            continue
        resolved_at = aware_utc(resolved_at, "resolved_at")
        first = opens[0][0]
        if resolved_at < first:
            continue
        if last_reply is not None and aware_utc(last_reply, "last_agent_reply_at") > first:
            continue
        before = [a for at, a in opens if at <= resolved_at]
        credited[case_id] = before[-1]

    rows: dict[datetime, Counter[str]] = defaultdict(Counter)
    for (_, _), at in first_shown.items():
        rows[_period_start(at, period)]["shown"] += 1
    for (_, _), at in first_open.items():
        rows[_period_start(at, period)]["opened"] += 1
    for case_id, at in case_start.items():
        start = _period_start(at, period)
        visit = case_id.startswith(VISIT_PREFIX)
        rows[start]["visits" if visit else "cases"] += 1
        if case_id in credited:
            rows[start]["self_service" if visit else "deflected"] += 1

    per_article: dict[str, Counter[str]] = defaultdict(Counter)
    for _, article_id in first_shown:
        per_article[article_id]["shown"] += 1
    for _, article_id in first_open:
        per_article[article_id]["opened"] += 1
    for article_id in credited.values():
        per_article[article_id]["resolved"] += 1

    def stats(start: datetime | None, c: Mapping[str, int]) -> PeriodStats:
        return PeriodStats(
            start=start,
            shown=c.get("shown", 0),
            opened=c.get("opened", 0),
            cases=c.get("cases", 0),
            deflected=c.get("deflected", 0),
            visits=c.get("visits", 0),
            self_service=c.get("self_service", 0),
        )

    total: Counter[str] = Counter()
    for c in rows.values():
        total.update(c)
    return DeflectionReport(
        totals=stats(None, total),
        periods=tuple(stats(start, rows[start]) for start in sorted(rows)),
        articles=tuple(
            ArticleStats(aid, c["shown"], c["opened"], c["resolved"])
            for aid, c in sorted(per_article.items())
        ),
    )
