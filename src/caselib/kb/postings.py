"""The index's postings layout: per-term arrays of slots and field frequencies.

Private to :class:`~caselib.kb.index.KbIndex`; kept apart so that the memory layout and the
pruning caches it carries can be read on their own, next to the bounds they promise.
"""

from __future__ import annotations

from array import array
from typing import Final

__all__: list[str] = []

#: Term frequencies are stored in 16 bits; BM25 saturation makes anything above irrelevant.
_MAX_TF: Final = 0xFFFF


class _Postings:
    """One layer of a term's postings: slots (ascending) and aligned per-field frequencies.

    Arrays rather than dicts keep a posting at 6-10 bytes (100k articles ≈ 7M postings).
    ``max_tf``/``min_len`` per field bound the layer's best possible contribution for pruning;
    they are updated on add and left alone on remove (still a valid, if looser, bound).

    Search caches, filled lazily by :meth:`KbIndex._term_plan`: ``sat`` holds each posting's
    saturated frequency ``tf~/(k1 + tf~)`` (float32, aligned with ``slots``) computed with the
    average field lengths ``key``; add/remove keep it aligned. When the averages drift the
    cached values are off by a bounded factor, which pruning allows for (and a large drift
    refills the cache). ``best`` is the layer's largest possible ``tf~`` under ``best_key``.
    Final scores never use these caches: survivors are re-scored exactly.
    """

    __slots__ = (
        "best",
        "best_key",
        "fields",
        "key",
        "max_sat",
        "max_tf",
        "min_len",
        "sat",
        "slots",
        "tfs",
    )

    def __init__(self, fields: tuple[int, ...]) -> None:
        self.fields = fields
        self.slots = array("i")
        self.tfs = tuple(array("H") for _ in fields)
        self.max_tf = [0] * len(fields)
        self.min_len = [1 << 30] * len(fields)
        self.sat: array[float] | None = None
        self.key: tuple[float, float, float] | None = None
        self.max_sat = 0.0  # largest cached saturation (kept on remove: still a bound)
        self.best = 0.0
        self.best_key: tuple[float, float, float] | None = None


class _Term:
    """A term's postings in two layers, each article in exactly one of them.

    ``hi`` holds articles with the term in the title or tags, ``lo`` those with it only in
    the body. The body-only layer is most of the postings but its best contribution is far
    below a title match's, so max-score pruning can skip it once the top is known; one
    combined bound would have to assume a title match for every article.
    """

    __slots__ = ("hi", "lo")

    def __init__(self) -> None:
        self.hi = _Postings((0, 1, 2))
        self.lo = _Postings((2,))

    @property
    def df(self) -> int:
        return len(self.hi.slots) + len(self.lo.slots)
