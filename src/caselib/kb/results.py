"""What a knowledge-base search answers: ranked suggestions, their explanations and index size.

Plain frozen values, apart from :class:`~caselib.kb.index.KbIndex` so that the desk, stores and
hosts can hold and render them without the index's scoring code.
"""

from __future__ import annotations

import attrs

__all__ = [
    "Explanation",
    "Fusion",
    "KbStats",
    "Suggestion",
    "TermMatch",
]


@attrs.frozen
class TermMatch:
    """How one query term contributed to a hit.

    ``tf`` holds the term's frequency per field (title, tags, body), ``contribution`` its share
    of the score.
    """

    term: str
    query_weight: float
    idf: float
    tf: tuple[tuple[str, int], ...]
    contribution: float


@attrs.frozen
class Fusion:
    """How a fused hit was ranked: its place and score in each list, and the fused score.

    ``text_rank``/``vector_rank`` are ``None`` when the article was not in that list's top
    ``depth``; ``text_score`` is its BM25F score (with the category and resolution boosts),
    ``similarity`` its cosine to the query (``None`` outside the vector list).
    """

    score: float
    text_rank: int | None
    text_score: float
    vector_rank: int | None
    similarity: float | None


@attrs.frozen
class Explanation:
    """Why an article scored what it scored.

    ``matches`` are listed in term order; ``category_boost`` is the amount the category boost
    added, ``resolution_boost`` the amount added for resolving similar cases (see
    :mod:`caselib.kb.resolutions`). ``total`` equals the suggestion's score (same additions,
    same order). With the semantic scorer on, ``fusion`` says how the text and vector
    rankings were fused, and the score (and ``total``) is the fused score; ``matches`` and
    the boosts still explain the text score (none for an article found by meaning alone).
    """

    matches: tuple[TermMatch, ...]
    category_boost: float = 0.0
    resolution_boost: float = 0.0
    fusion: Fusion | None = None

    @property
    def total(self) -> float:
        """Sum of the contributions and boosts (or the fused score): the score."""
        if self.fusion is not None:
            return self.fusion.score
        base = sum(m.contribution for m in self.matches)
        base = base + self.category_boost if self.category_boost else base
        return base + self.resolution_boost if self.resolution_boost else base


@attrs.frozen
class Suggestion:
    """One ranked article for a query (rank starts at 1)."""

    article_id: str
    score: float
    rank: int
    explanation: Explanation = attrs.field(repr=False)


@attrs.frozen
class KbStats:
    """Size of an index: articles held, articles indexed (published), terms, postings."""

    articles: int
    indexed: int
    terms: int
    postings: int
