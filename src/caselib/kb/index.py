"""The BM25F suggestion index over published knowledge-base articles.

Pure domain code: no I/O, no clock reads. The application layer loads articles from the
``ArticleRepository``, builds a :class:`KbIndex` at start-up with :meth:`KbIndex.build`, keeps it
current with :meth:`KbIndex.add` / :meth:`KbIndex.update` / :meth:`KbIndex.remove`, and asks it
for suggestions with a query made by :func:`case_query`.

Scoring is BM25F (Robertson & Zaragoza): per-field term frequencies are length-normalised with
the field's own ``b``, weighted, summed, and only then saturated with ``k1``, so a word in the
title counts more than the same word in the body without a long body drowning a short title::

    tf~(t, d) = Σ_f  w_f · tf_f(t, d) / (1 - b_f + b_f · len_f(d) / avglen_f)
    score(d)  = Σ_t  qw(t) · idf(t) · tf~(t, d) / (k1 + tf~(t, d))
    idf(t)    = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))           (Lucene's, never negative)

``qw(t)`` is the query weight of the term (the sum of the weights of the query parts it occurs
in, once per occurrence). See ``docs/kb.md`` for measured relevance and speed.
"""

from __future__ import annotations

import heapq
import math
from array import array
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Final, Literal

import attrs

from caselib.errors import ArticleNotFound, InvalidInput, UnknownValue, WrongType
from caselib.kb.articles import Article, ArticleStatus
from caselib.kb.postings import _MAX_TF, _Postings, _Term
from caselib.kb.query import KbQuery
from caselib.kb.results import Explanation, KbStats, Suggestion, TermMatch
from caselib.kb.semantic import SemanticSettings, VectorIndex, check_vectors, fuse, nearest
from caselib.kb.settings import KbSettings
from caselib.kb.text import Analyzer

__all__ = [
    "CategoryMode",
    "KbIndex",
]

FIELDS: Final = ("title", "tags", "body")


CategoryMode = Literal["boost", "filter"]


class KbIndex:
    """An in-memory inverted index over published articles, scored with BM25F.

    Add, update and remove are incremental (postings per term, running length totals), so the
    index never needs a rebuild to stay exact. Only published articles are indexed; drafts and
    archived articles are remembered (``update`` may publish them) but never suggested, and
    they do not count in ``N`` or the average lengths.

    Searching scores only articles that share a term with the query, term at a time from the
    rarest term down, and stops admitting new articles once the terms left cannot lift an
    unseen article into the top ``limit`` (max-score pruning); the survivors are then scored
    exactly and ordered by score, ties by article id.

    Not thread-safe for writes: the application layer serialises changes (reads during no
    writes are fine).
    """

    def __init__(self, settings: KbSettings | None = None) -> None:
        self.settings = settings if settings is not None else KbSettings()
        self.analyzer = Analyzer(stop_words=self.settings.stop_words, stemmer=self.settings.stemmer)
        self._articles: dict[str, Article] = {}
        self._slot_of: dict[str, int] = {}
        # Per-slot data; a removed slot keeps None/0 (slots are never reused, see _compact).
        self._ids: list[str | None] = []
        self._categories: list[str | None] = []
        self._lens: tuple[list[int], list[int], list[int]] = ([], [], [])
        self._terms_of: list[tuple[str, ...]] = []
        self._postings: dict[str, _Term] = {}
        self._total_len = [0, 0, 0]
        self._n = 0
        self._avgs: tuple[float, float, float] | None = None  # average field lengths, cached
        # The semantic scorer's article vectors (None when it is off); while _pending is a
        # list, published articles wait there to be embedded in batches (build, compact).
        self._vectors: VectorIndex | None = None
        self._pending: list[Article] | None = None
        sem = self.settings.semantic
        if sem is not None:
            vectors = sem.vectors(sem.embedder.dimension)
            if not isinstance(vectors, VectorIndex):
                raise WrongType("SemanticSettings.vectors(dimension)",
                                "a VectorIndex (put, remove, nearest, len)", vectors)
            self._vectors = vectors

    # -- building ---------------------------------------------------------------------------

    @classmethod
    def build(cls, articles: Iterable[Article], settings: KbSettings | None = None) -> KbIndex:
        """Index every article (the start-up path: the index is rebuilt from the article store).

        Raises:
            InvalidInput: two articles share an id.
        """
        index = cls(settings)
        if index._vectors is None:
            for article in articles:
                index.add(article)
            return index
        index._pending = []
        for article in articles:
            index.add(article)
        index._embed_pending()
        return index

    #: Articles embedded per call at build time.
    EMBED_BATCH: Final = 32

    def _embed_pending(self) -> None:
        pending, self._pending = self._pending or [], None
        sem, vectors = self.settings.semantic, self._vectors
        assert sem is not None and vectors is not None
        for start in range(0, len(pending), self.EMBED_BATCH):
            chunk = pending[start : start + self.EMBED_BATCH]
            found = check_vectors(sem.embedder, [_embed_text(a) for a in chunk])
            for article, vector in zip(chunk, found, strict=True):
                vectors.put(article.id, vector)

    def _vector_of(self, article: Article) -> Sequence[float] | None:
        """The article's vector when it will be indexed and the semantic scorer is on, computed
        before anything changes (an embedder that fails leaves the index as it was)."""
        sem = self.settings.semantic
        if (sem is None or self._pending is not None
                or article.status is not ArticleStatus.PUBLISHED):
            return None
        return check_vectors(sem.embedder, [_embed_text(article)])[0]

    def __len__(self) -> int:
        return len(self._articles)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._articles

    def __repr__(self) -> str:
        return f"<KbIndex articles={len(self._articles)} indexed={self._n}>"

    def get(self, article_id: str) -> Article:
        """The article held under ``article_id``.

        Raises:
            ArticleNotFound: no such article in the index.
        """
        try:
            return self._articles[article_id]
        except KeyError:
            raise ArticleNotFound(article_id) from None

    @property
    def stats(self) -> KbStats:
        """Current size figures."""
        return KbStats(
            articles=len(self._articles),
            indexed=self._n,
            terms=len(self._postings),
            postings=sum(t.df for t in self._postings.values()),
        )

    def add(self, article: Article) -> None:
        """Add a new article (indexed only if published).

        Raises:
            InvalidInput: an article with this id is already in the index (use :meth:`update`).
        """
        if article.id in self._articles:
            raise InvalidInput(
                f"article {article.id!r} is already indexed; use update()", field="id"
            )
        self._add(article, self._vector_of(article))

    def _add(self, article: Article, vector: Sequence[float] | None) -> None:
        self._articles[article.id] = article
        if article.status is ArticleStatus.PUBLISHED:
            self._index(article)
            if self._vectors is not None:
                if vector is not None:
                    self._vectors.put(article.id, vector)
                elif self._pending is not None:
                    self._pending.append(article)

    def update(self, article: Article) -> None:
        """Replace an article by a new version of it (re-indexes; may publish or unpublish).

        Raises:
            ArticleNotFound: no article with this id.
        """
        if article.id not in self._articles:
            raise ArticleNotFound(article.id)
        self.upsert(article)

    def upsert(self, article: Article) -> None:
        """Add the article, or replace it if its id is already present."""
        vector = self._vector_of(article)
        if article.id in self._articles:
            self.remove(article.id)
        self._add(article, vector)

    def remove(self, article_id: str) -> None:
        """Remove an article; it stops being suggested at once.

        Raises:
            ArticleNotFound: no article with this id.
        """
        if article_id not in self._articles:
            raise ArticleNotFound(article_id)
        del self._articles[article_id]
        slot = self._slot_of.pop(article_id, None)
        if slot is not None:
            self._unindex(slot)
            if self._vectors is not None:
                self._vectors.remove(article_id)

    def sync(self, articles: Iterable[Article]) -> int:
        """Make the index hold exactly ``articles`` (the store's full list), touching only the
        articles that differ; return how many were added, replaced or removed.

        This is how a desk catches up with writes made by another process: cheaper than a
        rebuild (unchanged articles are compared, not re-analysed) and scores afterwards are
        exactly those of a fresh build.
        """
        fresh = {a.id: a for a in articles}
        changed = 0
        for article_id in [i for i in self._articles if i not in fresh]:
            self.remove(article_id)
            changed += 1
        for article_id, article in fresh.items():
            held = self._articles.get(article_id)
            if held != article:
                self.upsert(article)
                changed += 1
        return changed

    def _field_terms(self, article: Article) -> tuple[list[str], list[str], list[str]]:
        terms = self.analyzer.terms
        tag_terms: list[str] = []
        for tag in article.tags:
            tag_terms.extend(terms(tag))
        return terms(article.title), tag_terms, terms(article.body)

    def _index(self, article: Article) -> None:
        fields = self._field_terms(article)
        slot = len(self._ids)
        self._slot_of[article.id] = slot
        self._ids.append(article.id)
        self._categories.append(article.category)
        counts: dict[str, list[int]] = {}
        for f, field_terms in enumerate(fields):
            length = len(field_terms)
            self._lens[f].append(length)
            self._total_len[f] += length
            for term in field_terms:
                c = counts.get(term)
                if c is None:
                    c = counts[term] = [0, 0, 0]
                c[f] += 1
        postings = self._postings
        lens = (len(fields[0]), len(fields[1]), len(fields[2]))
        for term, c in counts.items():
            t = postings.get(term)
            if t is None:
                t = postings[term] = _Term()
            p = t.hi if c[0] or c[1] else t.lo
            p.slots.append(slot)  # slots only grow, so the array stays sorted
            for i, f in enumerate(p.fields):
                tf = min(c[f], _MAX_TF)
                p.tfs[i].append(tf)
                if tf:
                    if tf > p.max_tf[i]:
                        p.max_tf[i] = tf
                        p.best_key = None
                    if lens[f] < p.min_len[i]:
                        p.min_len[i] = lens[f]
                        p.best_key = None
            if p.sat is not None:  # keep the cache aligned, computed with its own averages
                v = self._saturation(c, lens, p.key)
                p.sat.append(v)
                if v > p.max_sat:
                    p.max_sat = v
        self._terms_of.append(tuple(counts))
        self._n += 1
        self._avgs = None

    def _saturation(
        self, tfs: Sequence[int], lens: Sequence[int], avgs: tuple[float, float, float] | None
    ) -> float:
        """``tf~/(k1 + tf~)`` of one posting under the given average lengths."""
        assert avgs is not None
        x = 0.0
        for f, fs in enumerate(self.settings.fields()):
            if tfs[f]:
                e = fs.b / avgs[f] if avgs[f] else 0.0
                x += fs.weight * min(tfs[f], _MAX_TF) / ((1.0 - fs.b) + e * lens[f])
        return x / (self._k1(avgs) + x)

    def _k1(self, avgs: tuple[float, float, float]) -> float:
        """``k1`` scaled by the heaviest field the corpus has (fields adapt to the corpus).

        BM25F saturates the weighted sum, so a field weight is also a scale for ``k1``: with
        titles weighing 10, ``k1`` 8 saturates a title match fast and a body match hardly at
        all. In a corpus without titles that would leave every match unsaturated, so ``k1``
        is read in units of the largest weight among fields that are non-empty somewhere in
        the corpus (an empty field has average length 0).
        """
        top = 0.0
        for fs, avg in zip(self.settings.fields(), avgs, strict=True):
            if avg and fs.weight > top:
                top = fs.weight
        return self.settings.k1 * (top or 1.0)

    def _unindex(self, slot: int) -> None:
        postings = self._postings
        for term in self._terms_of[slot]:
            t = postings[term]
            for p in (t.hi, t.lo):
                i = bisect_left(p.slots, slot)
                if i < len(p.slots) and p.slots[i] == slot:
                    del p.slots[i]
                    for arr in p.tfs:
                        del arr[i]
                    if p.sat is not None:
                        del p.sat[i]
                    break
            if not t.df:
                del postings[term]
        for f in (0, 1, 2):
            self._total_len[f] -= self._lens[f][slot]
            self._lens[f][slot] = 0
        self._terms_of[slot] = ()
        self._ids[slot] = None
        self._categories[slot] = None
        self._n -= 1
        self._avgs = None

    def compact(self) -> None:
        """Re-index from the held articles, dropping the slots of removed versions.

        Slots are append-only (postings stay sorted without inserts), so every update or
        removal leaves ~40 bytes of dead per-slot data and keeps pruning bounds from before the
        removal (valid, maybe loose). Both vanish here and at the next :meth:`build`; a
        process that edits articles all day may call this at a quiet hour.
        """
        fresh = KbIndex(self.settings)
        fresh.analyzer = self.analyzer
        fresh._pending = []  # the vectors are kept, not recomputed
        for article in self._articles.values():
            fresh.add(article)
        fresh._pending = None
        fresh._vectors = self._vectors
        self.__dict__.update(fresh.__dict__)

    # -- searching --------------------------------------------------------------------------

    def df(self, term: str) -> int:
        """How many indexed articles hold the (analysed) ``term``."""
        t = self._postings.get(term)
        return t.df if t is not None else 0

    def idf(self, df: int) -> float:
        """Lucene's BM25 idf: positive for every df ≤ N, so common words never subtract."""
        return math.log(1.0 + (self._n - df + 0.5) / (df + 0.5))

    def _query_weights(self, query: KbQuery) -> dict[str, float]:
        weights: dict[str, float] = defaultdict(float)
        for part in query.parts:
            if part.weight <= 0:
                continue
            for term in self.analyzer.terms(part.text):
                if term in self._postings:
                    weights[term] += part.weight
        return dict(sorted(weights.items()))

    def search(
        self,
        query: str | KbQuery,
        *,
        limit: int = 10,
        category: str | None = None,
        category_mode: CategoryMode = "boost",
        multipliers: Mapping[str, float] | None = None,
    ) -> list[Suggestion]:
        """Return up to ``limit`` published articles for ``query``, best first.

        Args:
            query: plain text, or a :class:`KbQuery` with weighted parts (see :func:`case_query`).
            limit: how many suggestions at most; clamped to the number of matching articles.
            category: the case's category; defaults to ``query.category`` for a KbQuery.
            category_mode: ``"boost"`` multiplies the score of articles in ``category`` by
                ``settings.category_boost``; ``"filter"`` suggests only articles in it.
            multipliers: per article id, a factor >= 1 on its score (the resolution boost);
                articles the query does not match stay out whatever their factor.

        Raises:
            InvalidInput: ``limit`` < 0, an unknown ``category_mode`` or a multiplier below 1.
        """
        if isinstance(query, str):
            query = KbQuery.text(query)
        if category is None:
            category = query.category
        if not isinstance(limit, int) or limit < 0:
            raise InvalidInput(f"limit must be an int >= 0, got {limit!r}", field="limit")
        if category_mode not in ("boost", "filter"):
            raise UnknownValue("category_mode", category_mode, ["boost", "filter"])
        weights = self._query_weights(query)
        sem = self.settings.semantic
        if sem is not None and limit and self._n:
            return self._fused(query, weights, limit, category, category_mode, multipliers, sem)
        return self._text(weights, limit, category, category_mode, multipliers)

    def _text(
        self,
        weights: Mapping[str, float],
        limit: int,
        category: str | None,
        category_mode: CategoryMode,
        multipliers: Mapping[str, float] | None,
    ) -> list[Suggestion]:
        """The BM25F ranking (the whole search when the semantic scorer is off)."""
        if limit == 0 or not weights or self._n == 0:
            return []
        boost = 1.0
        only: str | None = None
        if category is not None:
            if category_mode == "filter":
                only = category
            else:
                boost = self.settings.category_boost
        if multipliers:
            return self._multiplied(weights, limit, only, category, boost, multipliers)
        return self._top(weights, limit, only, category, boost)

    def _fused(
        self,
        query: KbQuery,
        weights: Mapping[str, float],
        limit: int,
        category: str | None,
        category_mode: CategoryMode,
        multipliers: Mapping[str, float] | None,
        sem: SemanticSettings,
    ) -> list[Suggestion]:
        """BM25F's top ``depth`` fused with the embedding's top ``depth`` (see
        :mod:`caselib.kb.semantic`). The query's parts are embedded as one text, in order;
        the category boost multiplies a positive cosine as it multiplies a text score, and
        the category filter keeps only in-category articles in both lists."""
        text = "\n".join(p.text for p in query.parts if p.weight > 0 and p.text.strip())
        if not text:
            return []
        depth = max(sem.depth, limit)
        query_vector = check_vectors(sem.embedder, [text])[0]
        text_hits = self._text(weights, depth, category, category_mode, multipliers)
        return fuse(text_hits, self._near(query_vector, depth, category, category_mode),
                    sem, limit)

    def _near(
        self, query_vector: Sequence[float], depth: int, category: str | None,
        category_mode: CategoryMode,
    ) -> list[tuple[str, float]]:
        assert self._vectors is not None
        articles = self._articles
        return nearest(self._vectors, query_vector, depth,
                       lambda article_id: articles[article_id].category, category,
                       category_mode == "filter", self.settings.category_boost)

    def _multiplied(
        self,
        weights: Mapping[str, float],
        limit: int,
        only: str | None,
        category: str | None,
        boost: float,
        multipliers: Mapping[str, float],
    ) -> list[Suggestion]:
        """The top ``limit`` after multiplying scores, exactly: widen the text top-k until
        no article below it could climb in (its factor is at most the largest one)."""
        for m in multipliers.values():
            if not (isinstance(m, int | float) and math.isfinite(m) and m >= 1.0):
                raise InvalidInput(f"multipliers must be finite and >= 1, got {m!r}",
                                   field="multipliers")
        top = max(multipliers.values())
        wide = 2 * limit
        while True:
            hits = self._top(weights, wide, only, category, boost)
            scored = sorted(((h.score * multipliers.get(h.article_id, 1.0), h) for h in hits),
                            key=lambda e: (-e[0], e[1].article_id))
            if len(hits) < wide or wide >= self._n:
                break
            if len(scored) >= limit and hits[-1].score * top < scored[limit - 1][0]:
                break
            wide *= 2
        return [
            Suggestion(article_id=h.article_id, score=score, rank=rank,
                       explanation=attrs.evolve(h.explanation,
                                                resolution_boost=score - h.score))
            for rank, (score, h) in enumerate(scored[:limit], start=1)
        ]

    #: Cached saturations are refilled once the averages drift by more than this factor;
    #: below it pruning widens its bounds by the drift instead (see ``_top``).
    _DRIFT: Final = 1.02

    def _fill(self, p: _Postings, avgs: tuple[float, float, float]) -> None:
        """Compute the layer's cached saturations under ``avgs``."""
        k1, ((wt, ct, et), (wg, cg, eg), (wb, cb, eb)) = self._params(avgs)
        lt, lg, lb = self._lens
        if len(p.fields) == 1:
            xs = [wb * c / (cb + eb * lb[s]) for s, c in zip(p.slots, p.tfs[0], strict=True)]
        else:
            xs = []
            append = xs.append
            for s, a, g, c in zip(p.slots, *p.tfs, strict=True):
                x = 0.0
                if a:
                    x = wt * a / (ct + et * lt[s])
                if g:
                    x += wg * g / (cg + eg * lg[s])
                if c:
                    x += wb * c / (cb + eb * lb[s])
                append(x)
        p.sat = array("f", [x / (k1 + x) for x in xs])
        p.max_sat = max(p.sat, default=0.0)
        p.key = avgs

    def _current_avgs(self) -> tuple[float, float, float]:
        avgs = self._avgs
        if avgs is None:
            n = self._n
            t0, t1, t2 = self._total_len
            avgs = self._avgs = (t0 / n, t1 / n, t2 / n) if n else (0.0, 0.0, 0.0)
        return avgs

    def _term_plan(
        self, weights: Mapping[str, float]
    ) -> tuple[list[tuple[float, float, array[int], array[float], int]], float, float]:
        """Plan entries (qw·idf, upper bound, slots, saturations, term number), highest bound
        first, and
        the factors (lo, hi) bounding true saturations relative to the cached ones."""
        fields = self.settings.fields()
        avgs = self._current_avgs()
        k1 = self._k1(avgs)
        n = self._n
        log = math.log
        lo = hi = 1.0
        drift = self._DRIFT
        plan = []
        postings = self._postings
        for ti, (term, qw) in enumerate(weights.items()):
            t = postings[term]
            h, b = t.hi, t.lo
            df = len(h.slots) + len(b.slots)
            wi = qw * log(1.0 + (n - df + 0.5) / (df + 0.5))
            for p in (h, b):
                if not p.slots:
                    continue
                key = p.key
                phi = 1.0
                if key is None or p.sat is None:
                    self._fill(p, avgs)
                elif key is not avgs and key != avgs and self._k1(key) != k1:
                    # A field appeared or vanished corpus-wide: k1 changed, so refill.
                    self._fill(p, avgs)
                elif key is not avgs and key != avgs:
                    # True saturation / cached lies between 1 and avg_now / avg_cached per field.
                    plo = phi = 1.0
                    for f in p.fields:
                        if key[f] and avgs[f]:
                            r = avgs[f] / key[f]
                            plo = min(plo, r)
                            phi = max(phi, r)
                        elif key[f] or avgs[f]:
                            plo, phi = 0.0, math.inf
                    if phi > drift * plo:
                        self._fill(p, avgs)
                        phi = 1.0
                    else:
                        lo = min(lo, plo)
                        hi = max(hi, phi)
                if p.best_key is not avgs:
                    # Best case per field: its largest tf in its shortest field; summing the
                    # per-field maxima can only overestimate, which keeps pruning exact.
                    best = 0.0
                    for i, f in enumerate(p.fields):
                        fs = fields[f]
                        if p.max_tf[i] and avgs[f]:
                            norm = 1.0 - fs.b + fs.b * p.min_len[i] / avgs[f]
                            best += fs.weight * p.max_tf[i] / norm
                    p.best = best
                    p.best_key = avgs
                best = p.best
                # Two bounds: from max tf and min length (any averages), and the largest
                # cached saturation (exact when fresh, times the drift otherwise).
                ub = min(best / (k1 + best), p.max_sat * phi * (1.0 + 1e-6))
                assert p.sat is not None
                plan.append((wi, wi * ub, p.slots, p.sat, ti))
        # Stable sort: equal bounds keep term order, so the plan is deterministic.
        plan.sort(key=lambda e: -e[1])
        return plan, lo, hi

    def _params(
        self, avgs: tuple[float, float, float]
    ) -> tuple[float, list[tuple[float, float, float]]]:
        """k1 and per-field (weight, 1 - b, b / avglen) for the tf~ formula."""
        out = []
        for f, fs in enumerate(self.settings.fields()):
            avg = avgs[f]
            out.append((fs.weight, 1.0 - fs.b, fs.b / avg if avg else 0.0))
        return self._k1(avgs), out

    def _scorer(self) -> tuple[float, list[tuple[float, float, float]]]:
        """k1 and per-field (weight, 1 - b, b / avglen) under the current averages."""
        n = self._n
        avgs = (
            self._total_len[0] / n if n else 0.0,
            self._total_len[1] / n if n else 0.0,
            self._total_len[2] / n if n else 0.0,
        )
        return self._params(avgs)

    def _top(
        self,
        weights: Mapping[str, float],
        limit: int,
        only: str | None,
        category: str | None,
        boost: float,
    ) -> list[Suggestion]:
        plan, lo, hi = self._term_plan(weights)
        cats = self._categories
        # Accumulated values use the cached float32 saturations: the true partial score of an
        # article lies within [lo, hi] times its accumulated value, widened by ``slack`` for
        # float32 and summation rounding. Pruning compares bounds only, so it stays exact.
        slack = 1e-6
        lo *= 1.0 - slack
        hi *= 1.0 + slack
        remaining: float = sum(e[1] for e in plan)
        acc: dict[int, float] = {}
        candidates: list[int] | None = None  # set once no unseen article can reach the top
        theta = 0.0  # a lower bound of the true k-th best score
        top_boost = boost if boost > 1.0 else 1.0
        plain = boost == 1.0
        nlargest = heapq.nlargest

        def kth(slots: Iterable[int] | None) -> float:
            """Lower bound of the k-th best true score (0.0 with fewer than k articles)."""
            if plain:
                values: Iterable[float] = acc.values() if slots is None else [acc[s] for s in slots]
            else:
                items = acc.items() if slots is None else [(s, acc[s]) for s in slots]
                values = [v * boost if cats[s] == category else v for s, v in items]
            top = nlargest(limit, values)
            return top[-1] * lo if len(top) == limit else 0.0

        def survivors(slots: Iterable[int], extra: float) -> list[int]:
            # Keep s while (hi·acc[s] + extra)·boost_s can still reach theta.
            if plain:
                cut = (theta - extra) / hi
                return [s for s in slots if acc[s] >= cut]
            cut_in = (theta / boost - extra) / hi
            cut_out = (theta - extra) / hi
            return [s for s in slots if acc[s] >= (cut_in if cats[s] == category else cut_out)]

        # Finding theta is a pass over the accumulator, so it is skipped while it cannot
        # settle the top: theta can grow by at most a layer's bound per layer, and cannot
        # exceed the sum over the terms seen so far of their largest layer bound (an article
        # gets one layer per term). Skipping only delays pruning; it never changes results.
        seen_ub = [0.0] * len(weights)
        theta_cap = 0.0
        for wi, ub, slots, sat, ti in plan:
            remaining -= ub
            if candidates is None:
                if ub > seen_ub[ti]:
                    seen_ub[ti] = ub
                theta_cap = min(theta_cap + ub * top_boost, sum(seen_ub) * top_boost)
                if only is not None:
                    get = acc.get
                    for slot, v in zip(slots, sat, strict=True):
                        if cats[slot] == only:
                            acc[slot] = get(slot, 0.0) + wi * v
                elif not acc:
                    acc = dict(zip(slots, map(wi.__mul__, sat), strict=True))
                else:
                    get = acc.get
                    for slot, v in zip(slots, sat, strict=True):
                        acc[slot] = get(slot, 0.0) + wi * v
                if len(acc) >= limit and remaining * top_boost < theta_cap * hi:
                    theta = kth(None)
                    theta_cap = theta
                    if remaining * top_boost < theta:
                        # From here on no unseen article can reach the top: only update these.
                        candidates = survivors(acc, remaining)
            else:
                n = len(slots)
                hits: Iterable[int]
                if n < 8 * len(candidates):
                    hits = set(candidates).intersection(slots)
                else:
                    hits = candidates
                for slot in hits:
                    i = bisect_left(slots, slot)
                    if i < n and slots[i] == slot:
                        acc[slot] += wi * sat[i]
                if len(candidates) >= limit:
                    theta = max(theta, kth(candidates))
                candidates = survivors(candidates, remaining)
        pool = candidates if candidates is not None else list(acc)
        if len(pool) > limit:
            theta = max(theta, kth(pool))
            pool = survivors(pool, 0.0)
        # Exact, order-independent scores for the survivors: terms in sorted order.
        scored = self._explain_all(pool, weights, category, boost, limit)
        return [
            Suggestion(article_id=aid, score=score, rank=rank, explanation=expl)
            for rank, (score, aid, expl) in enumerate(scored, start=1)
        ]

    def _explain_all(
        self,
        pool: Iterable[int],
        weights: Mapping[str, float],
        category: str | None,
        boost: float,
        limit: int,
    ) -> list[tuple[float, str, Explanation]]:
        """Exact scores of ``pool`` (terms in sorted order), best ``limit`` first, explained.

        Terms are summed in sorted order whatever order the postings were added in, so an
        incrementally maintained index scores exactly like a fresh build.
        """
        k1, params = self._scorer()
        (wt, ct, et), (wg, cg, eg), (wb, cb, eb) = params
        lt, lg, lb = self._lens
        cats = self._categories
        ids = self._ids
        terms = []
        for term, qw in weights.items():  # sorted by term
            t = self._postings[term]
            idf = self.idf(t.df)
            terms.append((term, qw, idf, qw * idf, t.hi.slots, t.hi.tfs, t.lo.slots, t.lo.tfs[0]))
        scored = []
        for slot in pool:
            found = []
            contributions = []
            for entry in terms:
                hs, htfs, ls, ltf = entry[4:]
                i = bisect_left(hs, slot)
                if i < len(hs) and hs[i] == slot:
                    a, g, c = htfs[0][i], htfs[1][i], htfs[2][i]
                else:
                    i = bisect_left(ls, slot)
                    if i < len(ls) and ls[i] == slot:
                        a, g, c = 0, 0, ltf[i]
                    else:
                        continue
                x = 0.0
                if a:
                    x += wt * a / (ct + et * lt[slot])
                if g:
                    x += wg * g / (cg + eg * lg[slot])
                if c:
                    x += wb * c / (cb + eb * lb[slot])
                contributions.append(entry[3] * x / (k1 + x))
                found.append((entry, (a, g, c)))
            base = sum(contributions)
            extra = base * (boost - 1.0) if boost != 1.0 and cats[slot] == category else 0.0
            score = base + extra if extra else base
            article_id = ids[slot]
            assert article_id is not None
            scored.append((score, article_id, extra, found, contributions))
        scored.sort(key=lambda e: (-e[0], e[1]))
        out = []
        for score, article_id, extra, found, contributions in scored[:limit]:
            matches = tuple(
                TermMatch(
                    term=entry[0],
                    query_weight=entry[1],
                    idf=entry[2],
                    tf=tuple((FIELDS[f], tf) for f, tf in enumerate(tfs) if tf),
                    contribution=contribution,
                )
                for (entry, tfs), contribution in zip(found, contributions, strict=True)
            )
            out.append((score, article_id, Explanation(matches, extra)))
        return out


def _embed_text(article: Article) -> str:
    """What the embedder reads of an article: title, tags, then body (a model cuts long
    texts, so the title and the start of the body carry the most)."""
    return "\n".join(part for part in (article.title, " ".join(article.tags), article.body)
                     if part)
