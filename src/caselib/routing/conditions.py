"""Rule conditions: routing facts, the condition types, their JSON form and the value
normalisation every matcher shares.

A condition reads a flat mapping of *routing facts* (see :data:`ROUTABLE_FIELDS`; custom
fields arrive as ``custom.<name>``), never the case itself. The ``matches`` methods here are
the reference semantics; the router's compiled predicates and index
(:mod:`caselib.routing.index`) and the naive oracle
(:func:`~caselib.routing.rules.naive_first_match`) are held to them.

Matching semantics (the same in the index, the compiled predicates and the oracle):

* text comparisons are case-insensitive (``str.casefold``), so ``"billing"``, ``"Billing"``
  and ``"BILLING"`` are one value;
* a missing key, ``None``, ``""`` and an empty tag set all mean "absent": nothing equals
  them and ``exists`` is false;
* numbers compare by value (``1 == 1.0``), booleans only equal booleans, and text never
  equals a number;
* a set-valued fact (``tags``) matches ``equals`` when it *has* that member, ``in`` when it
  has any of the members, ``prefix`` when any member starts with the prefix;
* any other value (a list, a dict …) exists but equals nothing.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Final, TypeAlias

import attrs

from caselib.checks import require_items
from caselib.errors import InvalidConfiguration

__all__ = [
    "AllOf",
    "AnyOf",
    "CUSTOM_PREFIX",
    "Condition",
    "Equals",
    "Exists",
    "Facts",
    "In",
    "JsonScalar",
    "Not",
    "OPERATORS",
    "Prefix",
    "ROUTABLE_FIELDS",
]

JsonScalar: TypeAlias = str | int | float | bool
"""A value a rule may compare against (JSON scalars except ``null``)."""

Facts: TypeAlias = Mapping[str, object]
"""Routing facts: field name → value, built from a case by the application layer."""

ROUTABLE_FIELDS: Final[frozenset[str]] = frozenset(
    {
        "account",
        "case_type",
        "category",
        "installation",
        "priority",
        "reason_code",
        "severity",
        "source",
        "subcategory",
        "tags",
        "tier",
    }
)
"""The built-in routing fact names; any ``custom.<name>`` key is accepted as well."""

CUSTOM_PREFIX: Final = "custom."
"""Prefix of custom-field facts (``custom.region``, ``custom.plant`` …)."""

OPERATORS: Final[tuple[str, ...]] = ("equals", "in", "prefix", "exists", "not", "all", "any")
"""Condition operators understood by :meth:`RuleSet.from_dicts`."""

_LEAF_OPERATORS: Final = ("equals", "in", "prefix", "exists")
_GROUP_OPERATORS: Final = ("all", "any", "not")
_MAX_DEPTH: Final = 32  # a tenant's JSON must not be able to blow the interpreter stack


# --- value helpers ---------------------------------------------------------------------------


class _Marker:
    """A named sentinel with a stable repr."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_ABSENT: Final = _Marker("absent")
_OPAQUE: Final = _Marker("opaque")  # a fact of a type rules cannot compare (list, dict …)
_TRUE: Final = ("bool", True)  # booleans are tagged so that True never equals 1
_FALSE: Final = ("bool", False)


def _is_custom(field: str) -> bool:
    return field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX)


def _check_field(field: object) -> str:
    if not isinstance(field, str):
        raise InvalidConfiguration(f"field must be text, got {type(field).__name__}")
    if field in ROUTABLE_FIELDS or _is_custom(field):
        return field
    raise InvalidConfiguration(
        f"unknown field {field!r}; expected one of: {', '.join(sorted(ROUTABLE_FIELDS))} "
        "or custom.<name>"
    )


def _check_value(field: str, value: object, operator: str) -> JsonScalar:
    """Refuse values that could never match, so that a typo fails on load, not silently."""
    if _is_custom(field):
        if isinstance(value, str) and value:
            return value
        if isinstance(value, bool):
            return value
        if isinstance(value, int):
            return value
        if isinstance(value, float):
            if math.isfinite(value):
                return value
            raise InvalidConfiguration(f"{operator} on {field!r}: {value!r} is not a finite number")
        raise InvalidConfiguration(
            f"{operator} on {field!r} needs non-empty text, a number or a boolean, got {value!r}"
        )
    if isinstance(value, str) and value:
        return value
    raise InvalidConfiguration(f"{operator} on {field!r} needs non-empty text, got {value!r}")


def _norm_value(value: JsonScalar) -> object:
    """Normalise a (validated) rule value to its hashable comparison key."""
    if isinstance(value, str):
        return value.casefold()
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    return value


def _norm_fact(value: object) -> object:
    """Normalise a fact the same way as rule values; ``_ABSENT`` when it counts as missing."""
    if value is None:
        return _ABSENT
    if isinstance(value, str):
        return value.casefold() if value else _ABSENT
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int | float):
        return value
    if isinstance(value, set | frozenset):
        members = frozenset(m.casefold() for m in value if isinstance(m, str) and m)
        return members if members else _ABSENT
    return _OPAQUE


def _atoms(value: object) -> tuple[object, ...]:
    """The comparable members of a raw fact (the oracle's view; no normalisation)."""
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    if isinstance(value, set | frozenset):
        return tuple(m for m in value if isinstance(m, str) and m)
    return (value,)


def _scalar_eq(fact: object, value: JsonScalar) -> bool:
    if isinstance(fact, str):
        return isinstance(value, str) and fact.casefold() == value.casefold()
    if isinstance(fact, bool) or isinstance(value, bool):
        return isinstance(fact, bool) and isinstance(value, bool) and fact == value
    if isinstance(fact, int | float) and not isinstance(value, str):
        return fact == value
    return False


# --- conditions ------------------------------------------------------------------------------


@attrs.frozen
class Equals:
    """The fact equals ``value`` (a set-valued fact: has ``value`` as a member)."""

    field: str
    value: JsonScalar

    def __attrs_post_init__(self) -> None:
        _check_value(_check_field(self.field), self.value, "equals")

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        return any(_scalar_eq(a, self.value) for a in _atoms(facts.get(self.field)))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"field": self.field, "equals": self.value}


def _values_tuple(values: object) -> tuple[JsonScalar, ...]:
    if isinstance(values, str | bytes):
        raise InvalidConfiguration(f"'in' needs a list of values, got text {values!r}")
    return require_items(values, "values", "a list of values")


@attrs.frozen
class In:
    """The fact equals one of ``values`` (a set-valued fact: has any of them)."""

    field: str
    values: tuple[JsonScalar, ...] = attrs.field(converter=_values_tuple)

    def __attrs_post_init__(self) -> None:
        field = _check_field(self.field)
        if not self.values:
            raise InvalidConfiguration(f"'in' on {field!r} needs at least one value")
        for value in self.values:
            _check_value(field, value, "in")

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        atoms = _atoms(facts.get(self.field))
        return any(_scalar_eq(a, v) for a in atoms for v in self.values)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"field": self.field, "in": list(self.values)}


@attrs.frozen
class Prefix:
    """The text fact starts with ``prefix`` (a set-valued fact: any member does)."""

    field: str
    prefix: str

    def __attrs_post_init__(self) -> None:
        field = _check_field(self.field)
        if not isinstance(self.prefix, str) or not self.prefix:
            # An empty prefix would match every text value: that is what 'exists' is for.
            raise InvalidConfiguration(
                f"prefix on {field!r} needs non-empty text, got {self.prefix!r}"
            )

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        wanted = self.prefix.casefold()
        return any(
            isinstance(a, str) and a.casefold().startswith(wanted)
            for a in _atoms(facts.get(self.field))
        )

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"field": self.field, "prefix": self.prefix}


@attrs.frozen
class Exists:
    """The fact is present: not missing, ``None``, ``""`` or an empty set."""

    field: str

    def __attrs_post_init__(self) -> None:
        _check_field(self.field)

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        return bool(_atoms(facts.get(self.field)))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"field": self.field, "exists": True}


def _check_condition(value: object) -> None:
    if not isinstance(value, Equals | In | Prefix | Exists | Not | AllOf | AnyOf):
        raise InvalidConfiguration(f"expected a condition, got {type(value).__name__}")


@attrs.frozen
class Not:
    """The inner condition does not match."""

    condition: Condition

    def __attrs_post_init__(self) -> None:
        _check_condition(self.condition)

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        return not self.condition.matches(facts)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"not": self.condition.to_dict()}


def _conditions_tuple(items: object) -> tuple[Condition, ...]:
    return require_items(items, "conditions", "a list of conditions")


@attrs.frozen
class AllOf:
    """Every inner condition matches; ``AllOf(())`` matches every case (a catch-all rule)."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions_tuple)

    def __attrs_post_init__(self) -> None:
        for condition in self.conditions:
            _check_condition(condition)

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        return all(c.matches(facts) for c in self.conditions)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"all": [c.to_dict() for c in self.conditions]}


@attrs.frozen
class AnyOf:
    """At least one inner condition matches (there must be at least one)."""

    conditions: tuple[Condition, ...] = attrs.field(converter=_conditions_tuple)

    def __attrs_post_init__(self) -> None:
        if not self.conditions:
            # An empty 'any' can never match; that is always a mistake in a tenant's rules.
            raise InvalidConfiguration("'any' needs at least one condition")
        for condition in self.conditions:
            _check_condition(condition)

    def matches(self, facts: Facts) -> bool:
        """Evaluate on raw facts (reference semantics, used by the oracle)."""
        return any(c.matches(facts) for c in self.conditions)

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form."""
        return {"any": [c.to_dict() for c in self.conditions]}


Condition: TypeAlias = "Equals | In | Prefix | Exists | Not | AllOf | AnyOf"
"""Any rule condition; nest :class:`AllOf`, :class:`AnyOf` and :class:`Not` freely."""


def _parse_condition(raw: object, path: str, depth: int = 0) -> Condition:
    """Build a condition from its JSON form; errors are prefixed with the path inside it."""
    if depth > _MAX_DEPTH:
        raise InvalidConfiguration(f"{path}: conditions nest deeper than {_MAX_DEPTH} levels")
    if not isinstance(raw, Mapping):
        raise InvalidConfiguration(f"{path}: a condition must be an object, got {raw!r}")
    try:
        if "field" in raw:
            ops = [k for k in raw if k != "field"]
            unknown = [k for k in ops if k not in _LEAF_OPERATORS]
            if unknown:
                raise InvalidConfiguration(
                    f"unknown operator {unknown[0]!r}; expected one of: {', '.join(OPERATORS)}"
                )
            if len(ops) != 1:
                raise InvalidConfiguration(
                    f"a field test needs exactly one of {', '.join(_LEAF_OPERATORS)}, "
                    f"got {ops or 'none'}"
                )
            op = ops[0]
            field, value = raw["field"], raw[op]
            if op == "equals":
                return Equals(field, value)
            if op == "in":
                if not isinstance(value, list | tuple):
                    raise InvalidConfiguration(f"'in' needs a list of values, got {value!r}")
                return In(field, value)
            if op == "prefix":
                return Prefix(field, value)
            if not isinstance(value, bool):
                raise InvalidConfiguration(f"'exists' needs true or false, got {value!r}")
            return Exists(field) if value else Not(Exists(field))
        keys = list(raw)
        if len(keys) != 1 or keys[0] not in _GROUP_OPERATORS:
            bad = next((k for k in keys if k not in _GROUP_OPERATORS), None)
            if bad is not None:
                raise InvalidConfiguration(
                    f"unknown operator {bad!r}; expected one of: {', '.join(OPERATORS)} "
                    "(field tests need a 'field' key)"
                )
            raise InvalidConfiguration(f"a group needs exactly one of all, any, not; got {keys}")
    except InvalidConfiguration as err:
        raise InvalidConfiguration(f"{path}: {err}") from None
    op = keys[0]
    inner = raw[op]
    if op == "not":
        return Not(_parse_condition(inner, f"{path}.not", depth + 1))
    if not isinstance(inner, list | tuple):
        raise InvalidConfiguration(f"{path}: '{op}' needs a list of conditions, got {inner!r}")
    children = [
        _parse_condition(child, f"{path}.{op}[{i}]", depth + 1) for i, child in enumerate(inner)
    ]
    try:
        return AllOf(children) if op == "all" else AnyOf(children)
    except InvalidConfiguration as err:
        raise InvalidConfiguration(f"{path}: {err}") from None


def _fields_of(condition: Condition) -> list[str]:
    if isinstance(condition, AllOf | AnyOf):
        out: list[str] = []
        for child in condition.conditions:
            out.extend(f for f in _fields_of(child) if f not in out)
        return out
    if isinstance(condition, Not):
        return _fields_of(condition.condition)
    return [condition.field]
