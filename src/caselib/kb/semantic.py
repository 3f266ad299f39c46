"""The optional semantic scorer: an :class:`Embedder` port, a :class:`VectorIndex` port, and
reciprocal rank fusion of the BM25F ranking with the embedding ranking.

Pure domain code: the ports are protocols, the fusion is arithmetic on two rankings, and the
only vector store here (:class:`ExactVectors`) is plain Python. A host plugs a model by
putting a :class:`SemanticSettings` into :attr:`KbSettings.semantic
<caselib.kb.settings.KbSettings.semantic>`; the ``semantic`` extra ships one
(:class:`caselib.adapters.embeddings.MiniLmEmbedder` with
:class:`~caselib.adapters.embeddings.NumpyVectors`), and a host may write its own (an
embedding API, vectors kept in pgvector).

Why rank fusion rather than adding scores: a BM25F score and a cosine live on different
scales that move with the corpus and the query length, while ranks do not. Each article
gets ``1 / (k + text rank) + weight / (k + vector rank)`` (a list it is missing from adds 0);
``k`` and ``weight`` were chosen by cross-validation over StackFAQ's query halves and the
other evaluation conditions (``benchmarks/eval_kb.py --semantic``, ``docs/kb.md``).
"""

from __future__ import annotations

import math
import operator
from array import array
from collections.abc import Callable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from caselib.errors import InvalidConfiguration, WrongType
from caselib.kb.results import Explanation, Fusion, Suggestion

__all__ = [
    "Embedder",
    "ExactVectors",
    "SemanticSettings",
    "VectorIndex",
    "check_vectors",
    "fuse",
    "nearest",
    "rrf",
]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors whose cosine says how close their meanings are.

    Contract:

    - ``name``: a short stable name of the model (shown in explanations and benchmarks).
    - ``dimension``: the length of every vector ``embed`` returns (an int ≥ 1).
    - ``embed(texts)``: one vector per text, in order, each a sequence of ``dimension``
      finite floats (a list, an ``array``, a numpy row). Any length is fine: the index
      scales every vector to unit length. It must be deterministic (the same text gives the
      same vector), since article vectors are computed once, when an article is indexed
      or changed, and queries are embedded on every search. It may be slow for articles
      (called in batches at build), but it is on every search's path for the query.

    An embedder that breaks the contract (wrong count, wrong length, a string or NaN in a
    vector) makes the index raise :class:`~caselib.errors.WrongType` or
    :class:`~caselib.errors.InvalidConfiguration` naming the embedder, and nothing is indexed.
    """

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def embed(self, texts: Sequence[str]) -> Sequence[Sequence[float]]: ...


@runtime_checkable
class VectorIndex(Protocol):
    """Holds one unit vector per article id and finds the nearest ones to a query vector.

    ``put`` adds or replaces, ``remove`` forgets (unknown ids are ignored), ``nearest``
    returns up to ``limit`` (article id, cosine) pairs, highest first, ties by id. Vectors
    arrive already scaled to unit length, so a dot product is the cosine. The index makes
    one per :class:`~caselib.kb.index.KbIndex` through
    :attr:`SemanticSettings.vectors` (called with the embedder's dimension).
    """

    def __len__(self) -> int: ...

    def put(self, key: str, vector: Sequence[float]) -> None: ...

    def remove(self, key: str) -> None: ...

    def nearest(self, vector: Sequence[float], limit: int) -> list[tuple[str, float]]: ...


class ExactVectors:
    """A :class:`VectorIndex` in plain Python: float32 arrays, an exact scan per query.

    Fine up to a few thousand articles (the scan costs about 7.5 µs an article for 384
    dimensions: 75 ms at 10k); the ``semantic`` extra's
    :class:`~caselib.adapters.embeddings.NumpyVectors` does the same in 0.4 ms.
    """

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._vectors: dict[str, array[float]] = {}

    def __len__(self) -> int:
        return len(self._vectors)

    def put(self, key: str, vector: Sequence[float]) -> None:
        self._vectors[key] = array("f", vector)

    def remove(self, key: str) -> None:
        self._vectors.pop(key, None)

    def nearest(self, vector: Sequence[float], limit: int) -> list[tuple[str, float]]:
        q = list(vector)
        mul = operator.mul
        scored = [(k, sum(map(mul, q, v))) for k, v in self._vectors.items()]
        scored.sort(key=lambda e: (-e[1], e[0]))
        return scored[: max(limit, 0)]


def _finite(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise InvalidConfiguration(f"{attr.name} must be a finite number >= 0, got {value!r}")


def _embedder(_inst: object, _attr: attrs.Attribute[Embedder], value: object) -> None:
    if not isinstance(value, Embedder):
        raise WrongType("embedder", "an Embedder (name, dimension, embed(texts))", value)
    dim = value.dimension
    if not isinstance(dim, int) or isinstance(dim, bool) or dim < 1:
        raise InvalidConfiguration(f"embedder {value.name!r}: dimension must be an int >= 1, "
                                   f"got {dim!r}")


@attrs.frozen
class SemanticSettings:
    """Turns the semantic scorer on: the model, where its vectors live, and the fusion.

    ``k`` and ``weight`` are the fusion's constants (see the module docstring). The
    defaults (0.5 and 3) are the grid point with the best worst-case margin over BM25F
    across five conditions on the tuning queries, for all-MiniLM-L6-v2; 5-fold
    cross-validation of that rule picks k 0.5–1 and weight 2–4 (``docs/kb.md``). With them
    the embedding's ranking leads and BM25F reorders near-ties: a vector rank 1 (3/1.5 = 2)
    beats a text rank 1 with vector rank 2 (1/1.5 + 3/2.5 = 1.87). For a weaker model,
    lower ``weight``.
    ``depth``: how many articles each ranking contributes before fusing (an article
    beyond both lists cannot reach the top). ``vectors`` makes the vector store, given the
    embedder's dimension (:class:`ExactVectors` unless a faster one is passed).
    """

    embedder: Embedder = attrs.field(validator=_embedder)
    vectors: Callable[[int], VectorIndex] = ExactVectors
    k: float = attrs.field(default=0.5, validator=_finite)
    weight: float = attrs.field(default=3.0, validator=_finite)
    depth: int = attrs.field(default=100)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.depth, int) or isinstance(self.depth, bool) or self.depth < 1:
            raise InvalidConfiguration(f"depth must be an int >= 1, got {self.depth!r}")
        if not callable(self.vectors):
            raise WrongType("vectors", "a callable making a VectorIndex from a dimension",
                            self.vectors)


def rrf(
    text: Sequence[tuple[str, float]],
    vector: Sequence[tuple[str, float]],
    *,
    k: float,
    weight: float,
) -> list[tuple[str, Fusion]]:
    """Reciprocal rank fusion of two rankings (best first), best fused first, ties by id.

    >>> [(a, round(f.score, 4)) for a, f in rrf([("x", 9.0), ("y", 4.0)], [("y", 0.8)],
    ...                                          k=10, weight=1)]
    [('y', 0.1742), ('x', 0.0909)]
    """
    fused: dict[str, list[float | int | None]] = {}
    for rank, (key, score) in enumerate(text, start=1):
        fused[key] = [1.0 / (k + rank), rank, score, None, None]
    for rank, (key, sim) in enumerate(vector, start=1):
        entry = fused.get(key)
        if entry is None:
            entry = fused[key] = [0.0, None, 0.0, None, None]
        entry[0] = float(entry[0] or 0.0) + weight / (k + rank)
        entry[3], entry[4] = rank, sim
    out = [
        (key, Fusion(score=float(e[0] or 0.0), text_rank=_int(e[1]),
                     text_score=float(e[2] or 0.0), vector_rank=_int(e[3]),
                     similarity=None if e[4] is None else float(e[4])))
        for key, e in fused.items()
    ]
    out.sort(key=lambda e: (-e[1].score, e[0]))
    return out


def _int(value: float | int | None) -> int | None:
    return None if value is None else int(value)


def check_vectors(embedder: Embedder, texts: Sequence[str]) -> list[array[float]]:
    """Embed ``texts`` and return unit-length float32 vectors, checked against the contract.

    Raises:
        WrongType: the embedder returned something that is not a sequence of numbers.
        InvalidConfiguration: wrong count, wrong length, a non-finite or all-zero vector.
    """
    name = getattr(embedder, "name", type(embedder).__name__)
    dim = embedder.dimension
    raw = embedder.embed(list(texts))
    try:
        count = len(raw)
    except TypeError:
        raise WrongType(f"embedder {name!r} output", "a sequence of vectors", raw) from None
    if count != len(texts):
        raise InvalidConfiguration(
            f"embedder {name!r} returned {count} vectors for {len(texts)} texts; it must "
            "return one vector per text, in order")
    out = []
    for vector in raw:
        if isinstance(vector, str | bytes):
            raise WrongType(f"embedder {name!r} vector", "a sequence of floats", vector)
        try:
            values = array("d", vector)
        except TypeError:
            raise WrongType(f"embedder {name!r} vector", "a sequence of floats", vector,
                            "every component must be a real number") from None
        if len(values) != dim:
            raise InvalidConfiguration(
                f"embedder {name!r} returned a vector of {len(values)} numbers; its "
                f"dimension says {dim}")
        norm = math.sqrt(math.fsum(x * x for x in values))
        if not math.isfinite(norm) or norm == 0.0:
            raise InvalidConfiguration(
                f"embedder {name!r} returned a vector that is all zeros or not finite")
        out.append(array("f", [x / norm for x in values]))
    return out


def fuse(
    text_hits: Sequence[Suggestion],
    near: Sequence[tuple[str, float]],
    settings: SemanticSettings,
    limit: int,
) -> list[Suggestion]:
    """The top ``limit`` of the text hits (BM25F, best first) fused with the vector hits.

    A text hit keeps its explanation (term matches and boosts) with the :class:`Fusion`
    added; an article found by meaning alone gets an explanation with no matches.
    """
    by_id = {h.article_id: h for h in text_hits}
    fused = rrf([(h.article_id, h.score) for h in text_hits], near,
                k=settings.k, weight=settings.weight)
    out = []
    for rank, (article_id, fusion) in enumerate(fused[:limit], start=1):
        hit = by_id.get(article_id)
        explanation = (Explanation(()) if hit is None else hit.explanation)
        out.append(Suggestion(article_id=article_id, score=fusion.score, rank=rank,
                              explanation=attrs.evolve(explanation, fusion=fusion)))
    return out


def nearest(
    vectors: VectorIndex,
    query_vector: Sequence[float],
    depth: int,
    category_of: Callable[[str], str | None],
    category: str | None,
    only: bool,
    boost: float,
) -> list[tuple[str, float]]:
    """The top ``depth`` of ``vectors`` under a category boost (``only`` false: a positive
    cosine in ``category`` times ``boost``) or filter (``only``: in ``category`` alone),
    exactly: the store is asked for twice as many until no article beyond the answer could
    climb into it (its cosine is at most the last one seen, times the boost)."""
    if category is None:
        return vectors.nearest(query_vector, depth)
    wide = depth
    while True:
        raw = vectors.nearest(query_vector, wide)
        near = []
        for article_id, sim in raw:
            inside = category_of(article_id) == category
            if only and not inside:
                continue
            near.append((article_id, sim * boost if inside and sim > 0 else sim))
        near.sort(key=lambda e: (-e[1], e[0]))
        if len(raw) < wide or wide >= len(vectors):
            break
        last = raw[-1][1]
        bound = last * max(boost, 1.0) if last > 0 else last
        if len(near) >= depth and bound < near[depth - 1][1]:
            break
        wide *= 2
    return near[:depth]
