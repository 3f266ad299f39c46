"""Ranking settings: per-field BM25F weights and length normalisation, ``k1`` and the analyzer.

Frozen values the index is built with, apart from the index so hosts can load, compare and
pass them around (and tests can sweep them) without touching the scoring code.
"""

from __future__ import annotations

import math
from typing import Any, Final, get_args

import attrs

from caselib.checks import instance_attribute, str_set
from caselib.errors import InvalidConfiguration, WrongType
from caselib.kb.semantic import SemanticSettings
from caselib.kb.text import ENGLISH_STOP_WORDS, StemmerName

__all__ = [
    "Bm25Settings",
    "FieldSettings",
    "KbSettings",
    "ResolutionBoost",
]


# --- settings --------------------------------------------------------------------------------


def _positive(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InvalidConfiguration(f"{attr.name} must be a finite number > 0, got {value!r}")


def _non_negative(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
        raise InvalidConfiguration(f"{attr.name} must be a finite number >= 0, got {value!r}")


def _unit(_inst: object, attr: attrs.Attribute[float], value: float) -> None:
    if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
        raise InvalidConfiguration(f"{attr.name} must be between 0 and 1, got {value!r}")


@attrs.frozen
class FieldSettings:
    """Weight and length normalisation of one field (BM25F).

    ``b`` = 0 ignores the field's length; ``b`` = 1 divides the term frequency by the field's
    length relative to the average.
    """

    weight: float = attrs.field(validator=_non_negative)
    b: float = attrs.field(default=0.75, validator=_unit)


@attrs.frozen
class ResolutionBoost:
    """How much resolving similar cases lifts an article (see :mod:`caselib.kb.resolutions`).

    ``weight`` bounds the multiplier at ``1 + weight``; 0 (the default) turns it off.
    Measured on StackFAQ with half A's paraphrases as resolved cases: half B MRR@10 0.885 →
    0.897 (weight 0.25) → 0.913 (0.5), also with 30 % of credits wrong; but where the right
    article never resolved a case and its neighbours did (construction FAQ), 0.527 → 0.517
    → 0.505. The worst case decides: off unless a desk has a resolution history that
    covers its articles. ``half_life_days``: how fast a resolution fades; ``neighbours``:
    how many similar resolved cases a query consults.
    """

    weight: float = attrs.field(default=0.0, validator=_non_negative)
    half_life_days: float = attrs.field(default=90.0, validator=_positive)
    neighbours: int = attrs.field(default=20)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.neighbours, int) or self.neighbours < 1:
            raise InvalidConfiguration(f"neighbours must be an int >= 1, got {self.neighbours!r}")


def _stop_words(value: object) -> frozenset[str]:
    return str_set(value, "stop_words")


_STEMMERS: Final[tuple[str, ...]] = get_args(StemmerName)
_FIELD: Final = "a FieldSettings (e.g. FieldSettings(weight=4.0, b=0.5))"


def _stemmer(_instance: object, attribute: Any, value: object) -> None:
    """One of the stemmer names, checked when the settings are made (the index would only
    refuse it when it is built, from another place in the host's code)."""
    names = ", ".join(repr(n) for n in _STEMMERS)
    if not isinstance(value, str):
        raise WrongType(attribute.name, f"a stemmer name ({names})", value)
    if value not in _STEMMERS:
        raise InvalidConfiguration(f"unknown stemmer {value!r}; expected {names}",
                                   field=attribute.name)


@attrs.frozen
class KbSettings:
    """Everything that shapes ranking; frozen so an index's behaviour cannot drift.

    ``k1`` is measured in units of the heaviest field that the corpus actually has: BM25F
    saturates the weighted sum of the fields, so with titles weighing 10 a ``k1`` of 2 acts
    as 20 (a title match saturates, repeated body words keep counting), while in a corpus
    with no titles (answers only) it acts as 2 on the body alone. A field that is empty in
    every article thus changes nothing, not even the saturation's scale.

    The defaults were chosen for robustness, not for one corpus (see ``docs/kb.md``): over
    a grid of ``k1``, title weight and ``b``, the setting whose *worst* margin over plain
    BM25 across five conditions (StackFAQ as is, without titles, titles only, first answer
    only, and a second FAQ domain) is largest, on tuning queries only; 5-fold
    cross-validation of that rule picks the same ``k1`` and title weight in every fold.
    Tags (no evaluation data has them) sit between title and body.
    """

    k1: float = attrs.field(default=2.0, validator=_positive)
    title: FieldSettings = attrs.field(default=FieldSettings(weight=10.0, b=0.5),
                                       validator=instance_attribute(FieldSettings, _FIELD))
    tags: FieldSettings = attrs.field(default=FieldSettings(weight=4.0, b=0.5),
                                      validator=instance_attribute(FieldSettings, _FIELD))
    body: FieldSettings = attrs.field(default=FieldSettings(weight=1.0, b=0.75),
                                      validator=instance_attribute(FieldSettings, _FIELD))
    #: Multiplier for articles in the case's category when ``category_mode="boost"``.
    category_boost: float = attrs.field(default=1.25, validator=_positive)
    stemmer: StemmerName = attrs.field(default="porter2", validator=_stemmer)
    stop_words: frozenset[str] = attrs.field(
        default=ENGLISH_STOP_WORDS, converter=_stop_words)
    #: The boost for articles that resolved similar cases (off by default).
    resolutions: ResolutionBoost = attrs.field(
        default=ResolutionBoost(), validator=instance_attribute(
            ResolutionBoost, "a ResolutionBoost (e.g. ResolutionBoost(weight=0.5))"))
    #: The optional semantic scorer fused with BM25F (``None``, the default: BM25F alone).
    semantic: SemanticSettings | None = attrs.field(default=None)

    @semantic.validator
    def _check_semantic(self, _attr: attrs.Attribute[object], value: object) -> None:
        if value is not None and not isinstance(value, SemanticSettings):
            raise InvalidConfiguration(
                f"semantic must be a SemanticSettings or None, got {type(value).__name__}")

    def fields(self) -> tuple[FieldSettings, FieldSettings, FieldSettings]:
        """The per-field settings in index order (title, tags, body)."""
        return (self.title, self.tags, self.body)


#: The name the issue used; same class.
Bm25Settings = KbSettings
