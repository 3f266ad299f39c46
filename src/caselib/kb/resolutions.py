"""Learning from resolutions: articles credited with resolving cases like this one rank higher.

When an agent marks a case as resolved by an article, the case's customer-visible text (the
subject and description) is remembered with the article. A later query is compared with
those remembered cases through an index of their own (same analyzer, same BM25F); each
similar case adds evidence for the article that resolved it::

    sim(c)      = score(query, c) / Σ_t qw(t)·idf(t)          in [0, 1]: 1 = every query term
                                                              fully saturated in the case
    decay(c)    = 0.5 ** (age(c) / half_life)
    evidence(a) = 1 - Π_c (1 - sim(c)·decay(c))               over cases credited to a
    boost(a)    = 1 + weight · evidence(a)                    ≤ 1 + weight

The boost *multiplies* the article's own text score, so it is bounded and it cannot pull in
an article that shares no term with the query (its score is 0), nor lift one above an
article whose text score is more than ``1 + weight`` times higher. Old resolutions fade
(a product changes; its fixes go stale), and one case counts at most once per article.
"""

from __future__ import annotations

from datetime import datetime

from caselib.kb.articles import Article
from caselib.kb.index import KbIndex
from caselib.kb.query import KbQuery
from caselib.kb.settings import KbSettings, ResolutionBoost
from caselib.timeutil import aware_utc

__all__ = ["ResolutionMemory"]


class ResolutionMemory:
    """Resolved cases' text, indexed, each with the article credited and when.

    Pure domain code: the desk feeds it from the KB log and the cases (see
    ``desk.knowledge``); :meth:`multipliers` turns a query into per-article boosts.
    """

    def __init__(self, settings: KbSettings | None = None,
                 boost: ResolutionBoost | None = None) -> None:
        settings = settings if settings is not None else KbSettings()
        self.boost = boost if boost is not None else settings.resolutions
        self._cases = KbIndex(settings)
        self._credit: dict[str, tuple[str, datetime]] = {}  # case id -> (article, at)

    def __len__(self) -> int:
        return len(self._credit)

    def remember(self, case_id: str, text: str, article_id: str, at: datetime) -> None:
        """Remember (or re-credit) one resolved case; the latest credit wins."""
        at = aware_utc(at, "at")
        self._cases.upsert(Article(id=case_id, title="", body=text[:20_000], updated_at=at))
        self._credit[case_id] = (article_id, at)

    def multipliers(self, query: str | KbQuery, now: datetime) -> dict[str, float]:
        """Per article, ``1 + weight·evidence`` (> 1) for articles credited on similar cases."""
        if self.boost.weight == 0 or not self._credit:
            return {}
        now = aware_utc(now, "now")
        if isinstance(query, str):
            query = KbQuery.text(query)
        ceiling = self._ceiling(query)
        if ceiling <= 0:
            return {}
        miss: dict[str, float] = {}
        half_life = self.boost.half_life_days * 86_400.0
        for hit in self._cases.search(query, limit=self.boost.neighbours):
            article_id, at = self._credit[hit.article_id]
            age = max(0.0, (now - at).total_seconds())
            evidence = min(1.0, hit.score / ceiling) * 0.5 ** (age / half_life)
            miss[article_id] = miss.get(article_id, 1.0) * (1.0 - evidence)
        return {a: 1.0 + self.boost.weight * (1.0 - m) for a, m in miss.items() if m < 1.0}

    def _ceiling(self, query: KbQuery) -> float:
        """The largest score any case could reach for ``query``: Σ qw·idf (saturation ≤ 1)."""
        index = self._cases
        total = 0.0
        weights: dict[str, float] = {}
        for part in query.parts:
            for term in index.analyzer.terms(part.text):
                weights[term] = weights.get(term, 0.0) + part.weight
        for term, qw in weights.items():
            df = index.df(term)
            if df:
                total += qw * index.idf(df)
        return total

