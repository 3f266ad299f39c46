"""Case routing: tenant rules as data, built-in fallback maps and an explained decision.

A case is routed from a flat mapping of *routing facts* that the application layer builds
from the case (see :data:`ROUTABLE_FIELDS`; custom fields arrive as ``custom.<name>``). The
router never sees the case itself, so routing stays a pure function that is cheap to test
and to benchmark.

Routing runs in three steps and always ends in a queue:

1. the tenant's ordered :class:`Rule` list -- the first rule whose condition matches wins;
2. the :class:`FallbackMap` chain (for example by category, then by reason code);
3. the router's final ``default_team``.

Rules are data (plain dicts / JSON, validated on load) because tenants edit them in an admin
screen, not in code. Their conditions are compiled once, and equality, ``in``, ``prefix`` and
``exists`` tests are indexed so that routing a case costs roughly the same with 1,000 rules
as with 10. The plain "evaluate every rule in order" loop is kept next to it
(:meth:`Router.route_naive`, :func:`naive_first_match`) as the benchmark baseline and as the
oracle the property tests compare the index against.

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

import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from enum import StrEnum
from typing import Final, TypeAlias

import attrs

from caselib.errors import InvalidConfiguration

__all__ = [
    "CUSTOM_PREFIX",
    "OPERATORS",
    "ROUTABLE_FIELDS",
    "AllOf",
    "AnyOf",
    "Condition",
    "Equals",
    "Exists",
    "FallbackMap",
    "Facts",
    "In",
    "InvalidRule",
    "JsonScalar",
    "MatchKind",
    "Not",
    "Prefix",
    "RouteDecision",
    "RouteStep",
    "Router",
    "Rule",
    "RuleSet",
    "Target",
    "naive_first_match",
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


class InvalidRule(InvalidConfiguration):
    """A routing rule cannot be loaded; the message names its position and id.

    Attributes:
        position: 1-based position of the rule in the list (``None`` when built in code).
        rule_id: the rule's id when it could be read.
    """

    def __init__(self, message: str, *, position: int | None, rule_id: str | None) -> None:
        super().__init__(message)
        self.position = position
        self.rule_id = rule_id


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


def _values_tuple(values: Iterable[JsonScalar]) -> tuple[JsonScalar, ...]:
    if isinstance(values, str | bytes):
        raise InvalidConfiguration(f"'in' needs a list of values, got text {values!r}")
    return tuple(values)


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


def _conditions_tuple(items: Iterable[Condition]) -> tuple[Condition, ...]:
    return tuple(items)


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


# --- rules -----------------------------------------------------------------------------------


def _optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise InvalidConfiguration(f"{what} must be non-empty text, got {value!r}")
    return value


@attrs.frozen
class Target:
    """Where a matching rule sends the case: a team queue, an owner, or both.

    A rule that names only an owner still needs a queue; the router takes it from the
    fallback chain so that every case ends in some queue.
    """

    team: str | None = None
    owner: str | None = None

    def __attrs_post_init__(self) -> None:
        _optional_text(self.team, "target team")
        _optional_text(self.owner, "target owner")
        if self.team is None and self.owner is None:
            raise InvalidConfiguration("target needs a team, an owner or both")

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form (absent parts are left out)."""
        out: dict[str, object] = {}
        if self.team is not None:
            out["team"] = self.team
        if self.owner is not None:
            out["owner"] = self.owner
        return out


@attrs.frozen
class Rule:
    """One tenant routing rule: ``when`` the condition matches, route ``then`` the target.

    Args:
        id: unique within the rule set; explanations and errors name the rule by it.
        when: the condition.
        then: the target.
        name: optional human label shown in admin screens.
    """

    id: str
    when: Condition
    then: Target
    name: str | None = None

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id.strip():
            raise InvalidConfiguration(f"rule id must be non-empty text, got {self.id!r}")
        try:
            _check_condition(self.when)
            if not isinstance(self.then, Target):
                raise InvalidConfiguration(f"then must be a Target, got {type(self.then).__name__}")
            _optional_text(self.name, "name")
        except InvalidConfiguration as err:
            raise InvalidRule(f"rule {self.id!r}: {err}", position=None, rule_id=self.id) from None

    def matches(self, facts: Facts) -> bool:
        """Evaluate the condition on raw facts (reference semantics)."""
        return self.when.matches(facts)

    @classmethod
    def from_dict(cls, raw: Mapping[str, object], position: int | None = None) -> Rule:
        """Build a rule from its JSON form.

        Raises:
            InvalidRule: the message names the rule's position (when given) and id.
        """
        rule_id = raw.get("id") if isinstance(raw, Mapping) else None
        shown_id = rule_id if isinstance(rule_id, str) else None
        where = "rule" if position is None else f"rule #{position}"
        if shown_id is not None:
            where += f" (id {shown_id!r})"
        try:
            if not isinstance(raw, Mapping):
                raise InvalidConfiguration(f"a rule must be an object, got {raw!r}")
            unknown = sorted(set(raw) - {"id", "name", "when", "then"})
            if unknown:
                raise InvalidConfiguration(
                    f"unknown key {unknown[0]!r}; a rule has id, name, when, then"
                )
            if shown_id is None or not shown_id.strip():
                raise InvalidConfiguration(f"id must be non-empty text, got {rule_id!r}")
            if "when" not in raw:
                raise InvalidConfiguration("missing 'when' (use {\"all\": []} to match every case)")
            when = _parse_condition(raw["when"], "when")
            target = raw.get("then")
            if target is None:
                raise InvalidConfiguration("missing target 'then' (a team, an owner or both)")
            if not isinstance(target, Mapping):
                raise InvalidConfiguration(f"then must be an object, got {target!r}")
            extra = sorted(set(target) - {"team", "owner"})
            if extra:
                raise InvalidConfiguration(f"then: unknown key {extra[0]!r}; expected team, owner")
            then = Target(team=_target_part(target, "team"), owner=_target_part(target, "owner"))
            name = _optional_text(raw.get("name"), "name")
            return cls(id=shown_id, when=when, then=then, name=name)
        except InvalidConfiguration as err:
            message = str(err)
            if isinstance(err, InvalidRule) and message.startswith("rule "):
                message = message.split(": ", 1)[1]
            raise InvalidRule(f"{where}: {message}", position=position, rule_id=shown_id) from None

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form accepted by :meth:`from_dict`."""
        out: dict[str, object] = {"id": self.id}
        if self.name is not None:
            out["name"] = self.name
        out["when"] = self.when.to_dict()
        out["then"] = self.then.to_dict()
        return out


def _target_part(target: Mapping[str, object], key: str) -> str | None:
    value = target.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidConfiguration(f"then.{key} must be text, got {value!r}")
    return value


def _rules_tuple(items: Iterable[Rule]) -> tuple[Rule, ...]:
    return tuple(items)


@attrs.frozen
class RuleSet:
    """A tenant's ordered rule list; the first matching rule wins.

    Ids must be unique so that explanations stored on case timelines stay unambiguous.
    """

    rules: tuple[Rule, ...] = attrs.field(converter=_rules_tuple, default=())

    def __attrs_post_init__(self) -> None:
        seen: dict[str, int] = {}
        for position, rule in enumerate(self.rules, start=1):
            if not isinstance(rule, Rule):
                raise InvalidRule(
                    f"rule #{position}: expected a Rule, got {type(rule).__name__}",
                    position=position,
                    rule_id=None,
                )
            if rule.id in seen:
                raise InvalidRule(
                    f"rule #{position} (id {rule.id!r}): duplicate id, already used by "
                    f"rule #{seen[rule.id]}",
                    position=position,
                    rule_id=rule.id,
                )
            seen[rule.id] = position

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)

    @classmethod
    def from_dicts(cls, items: Iterable[Mapping[str, object]]) -> RuleSet:
        """Load and validate rules from plain dicts (as stored in a tenant's settings).

        Raises:
            InvalidRule: naming the first bad rule by 1-based position and id.
        """
        if isinstance(items, Mapping | str | bytes):
            raise InvalidConfiguration("rules must be a list of rule objects")
        return cls(Rule.from_dict(raw, position) for position, raw in enumerate(items, start=1))

    @classmethod
    def from_json(cls, text: str | bytes) -> RuleSet:
        """Load rules from JSON: a list of rules or ``{"rules": [...]}``."""
        try:
            data = json.loads(text)
        except ValueError as err:
            raise InvalidConfiguration(f"rules are not valid JSON: {err}") from err
        if isinstance(data, dict) and set(data) == {"rules"}:
            data = data["rules"]
        if not isinstance(data, list):
            raise InvalidConfiguration('rules JSON must be a list or {"rules": [...]}')
        return cls.from_dicts(data)

    def to_dicts(self) -> list[dict[str, object]]:
        """Return the JSON form; ``RuleSet.from_dicts(rs.to_dicts()) == rs``."""
        return [rule.to_dict() for rule in self.rules]

    def to_json(self, indent: int | None = 2) -> str:
        """Serialise to JSON text accepted by :meth:`from_json`."""
        return json.dumps(self.to_dicts(), indent=indent, ensure_ascii=False)


def naive_first_match(rules: Iterable[Rule], facts: Facts) -> int | None:
    """Return the 0-based position of the first rule matching ``facts``, or ``None``.

    This is the reference "evaluate every rule in order" loop over the uncompiled
    conditions; the property tests hold the indexed router to exactly its answers.
    """
    for position, rule in enumerate(rules):
        if rule.when.matches(facts):
            return position
    return None


# --- fallbacks -------------------------------------------------------------------------------


def _routes_tuple(
    routes: Mapping[str, str] | Iterable[tuple[str, str]],
) -> tuple[tuple[str, str], ...]:
    pairs = routes.items() if isinstance(routes, Mapping) else routes
    return tuple((str(key), str(team)) for key, team in pairs)


@attrs.frozen
class FallbackMap:
    """A preset table from one fact's value to a team queue, used when no rule matched.

    A map with a ``default`` always decides (mapped value or default), so it must be the last
    in a chain; pass ``default=None`` to let the next map (and finally the router's
    ``default_team``) decide instead.

    Args:
        name: shown in explanations (``"by_category"``).
        field: the single-valued fact to read (not ``tags``).
        routes: value → team; values compare case-insensitively.
        default: the team when the value is absent or not listed, or ``None`` to pass on.
    """

    name: str
    field: str
    routes: tuple[tuple[str, str], ...] = attrs.field(converter=_routes_tuple)
    default: str | None = None
    _lookup: dict[str, str] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        where = f"fallback {self.name!r}"
        try:
            _optional_text(self.name, "fallback name")
            _check_field(self.field)
            if self.field == "tags":
                raise InvalidConfiguration("fallback maps read a single-valued field, not tags")
            _optional_text(self.default, "default team")
            lookup: dict[str, str] = {}
            for key, team in self.routes:
                _optional_text(key, "mapped value")
                _optional_text(team, f"team for {key!r}")
                folded = key.casefold()
                if lookup.get(folded, team) != team:
                    raise InvalidConfiguration(
                        f"{key!r} maps to both {lookup[folded]!r} and {team!r} "
                        "(values compare case-insensitively)"
                    )
                lookup[folded] = team
        except InvalidConfiguration as err:
            raise InvalidConfiguration(f"{where}: {err}") from None
        object.__setattr__(self, "_lookup", lookup)

    @classmethod
    def by_category(
        cls,
        *,
        billing: str = "finance",
        technical: str = "engineering",
        default: str | None = "support",
        name: str = "by_category",
    ) -> FallbackMap:
        """``Billing`` → finance, ``Technical`` → engineering, anything else → ``default``."""
        return cls(name, "category", {"Billing": billing, "Technical": technical}, default)

    @classmethod
    def by_reason_code(
        cls,
        *,
        missing_part: str = "purchasing",
        wrong_item: str = "warehouse",
        site_not_ready: str = "branch_manager",
        access_issue: str = "branch_manager",
        default: str | None = "support",
        name: str = "by_reason_code",
    ) -> FallbackMap:
        """Field-service reasons to the team that can unblock them; else ``default``."""
        routes = {
            "missing_part": missing_part,
            "wrong_item": wrong_item,
            "site_not_ready": site_not_ready,
            "access_issue": access_issue,
        }
        return cls(name, "reason_code", routes, default)

    def step(self, facts: Facts) -> RouteStep | None:
        """Return this map's decision for ``facts``, or ``None`` to pass to the next map."""
        value = facts.get(self.field)
        team = self._lookup.get(value.casefold()) if isinstance(value, str) else None
        if team is not None:
            return RouteStep(
                kind=MatchKind.FALLBACK,
                ref=self.name,
                team=team,
                matched_on=((self.field, value),),
                text=f"fallback {self.name!r} mapped {self.field}={value!r} to team {team!r}",
            )
        if self.default is None:
            return None
        return RouteStep(
            kind=MatchKind.FALLBACK,
            ref=self.name,
            team=self.default,
            matched_on=((self.field, _shown(value)),),
            text=(
                f"fallback {self.name!r} has no entry for {self.field}={_shown(value)!r}, "
                f"using its default team {self.default!r}"
            ),
        )

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able form (for admin screens and snapshots)."""
        return {
            "name": self.name,
            "field": self.field,
            "routes": dict(self.routes),
            "default": self.default,
        }


# --- decisions -------------------------------------------------------------------------------


class MatchKind(StrEnum):
    """What produced a routing step."""

    RULE = "rule"
    FALLBACK = "fallback"
    DEFAULT = "default"


def _shown(value: object) -> object:
    """A JSON-friendly, stable rendering of a fact value for explanations."""
    if isinstance(value, set | frozenset):
        return tuple(sorted(str(m) for m in value))
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


@attrs.frozen
class RouteStep:
    """One step of a routing decision, in the order they were applied.

    Attributes:
        kind: rule, fallback or default.
        ref: the rule id, the fallback map's name, or ``"default"``.
        position: the rule's 1-based position (rules only).
        team: the team this step chose, if it chose one.
        owner: the owner this step chose (rules only).
        matched_on: ``(field, value)`` pairs the step looked at; for a set-valued fact the
            value is the sorted tuple of members that matched.
        text: the step in one line.
    """

    kind: MatchKind
    ref: str
    text: str
    matched_on: tuple[tuple[str, object], ...] = ()
    team: str | None = None
    owner: str | None = None
    position: int | None = None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able form."""
        return {
            "kind": self.kind.value,
            "ref": self.ref,
            "position": self.position,
            "team": self.team,
            "owner": self.owner,
            "matched_on": [[f, list(v) if isinstance(v, tuple) else v] for f, v in self.matched_on],
            "text": self.text,
        }


@attrs.frozen
class RouteDecision:
    """Where a case goes and why; the application layer stores ``text`` on the timeline.

    Attributes:
        team: the team queue; never empty -- every case ends in some queue.
        owner: the owner named by a rule, else ``None`` (team strategies may assign later).
        steps: the rule and/or fallback steps that decided, in order.
        text: one human line, e.g. ``rule #2 'vip' matched tier='Gold' → team 'vip-desk'``.
    """

    team: str
    owner: str | None
    steps: tuple[RouteStep, ...]
    text: str

    @property
    def rule_id(self) -> str | None:
        """The id of the rule that matched, if one did."""
        first = self.steps[0]
        return first.ref if first.kind is MatchKind.RULE else None

    @property
    def kind(self) -> MatchKind:
        """What decided the route: a rule (even if the team came from a fallback) or not."""
        return self.steps[0].kind

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-able form for the case timeline's system entry."""
        return {
            "team": self.team,
            "owner": self.owner,
            "steps": [s.to_dict() for s in self.steps],
            "text": self.text,
        }


def _evidence(condition: Condition, facts: Facts) -> list[tuple[str, object]]:
    """The (field, value) pairs that made a matching condition true (for explanations)."""
    if isinstance(condition, AllOf):
        return [pair for c in condition.conditions for pair in _evidence(c, facts)]
    if isinstance(condition, AnyOf):
        for child in condition.conditions:
            if child.matches(facts):
                return _evidence(child, facts)
        return []
    if isinstance(condition, Not):
        return [(f, _shown(facts.get(f))) for f in _fields_of(condition.condition)]
    value = facts.get(condition.field)
    if isinstance(value, set | frozenset):
        members = (str(m) for m in _atoms(value))
        hits = tuple(sorted(m for m in members if condition.matches({condition.field: {m}})))
        return [(condition.field, hits)]
    return [(condition.field, _shown(value))]


def _fields_of(condition: Condition) -> list[str]:
    if isinstance(condition, AllOf | AnyOf):
        out: list[str] = []
        for child in condition.conditions:
            out.extend(f for f in _fields_of(child) if f not in out)
        return out
    if isinstance(condition, Not):
        return _fields_of(condition.condition)
    return [condition.field]


def _render(pairs: Sequence[tuple[str, object]]) -> str:
    parts = []
    for field, value in pairs:
        if isinstance(value, tuple):
            parts.append(f"{field} has {', '.join(repr(v) for v in value)}")
        else:
            parts.append(f"{field}={value!r}")
    return ", ".join(parts) if parts else "every case"


# --- compiled predicates and the index -------------------------------------------------------

_NormFacts: TypeAlias = dict[str, object]
_Predicate: TypeAlias = Callable[[_NormFacts], bool]


def _compile(condition: Condition) -> _Predicate:
    """Compile a condition to a closure over *normalised* facts (see :func:`_norm_fact`)."""
    if isinstance(condition, Equals):
        f, want = condition.field, _norm_value(condition.value)

        def equals(nf: _NormFacts) -> bool:
            x = nf.get(f)
            return x == want or (x.__class__ is frozenset and want in x)

        return equals
    if isinstance(condition, In):
        f, wanted = condition.field, frozenset(_norm_value(v) for v in condition.values)

        def in_(nf: _NormFacts) -> bool:
            x = nf.get(f)
            if x.__class__ is frozenset:
                return not wanted.isdisjoint(x)
            return x in wanted

        return in_
    if isinstance(condition, Prefix):
        f, p = condition.field, condition.prefix.casefold()

        def prefix(nf: _NormFacts) -> bool:
            x = nf.get(f)
            if x.__class__ is str:
                return x.startswith(p)
            if x.__class__ is frozenset:
                return any(m.startswith(p) for m in x)
            return False

        return prefix
    if isinstance(condition, Exists):
        f = condition.field
        return lambda nf: f in nf
    if isinstance(condition, Not):
        inner = _compile(condition.condition)
        return lambda nf: not inner(nf)
    children = tuple(_compile(c) for c in condition.conditions)
    if isinstance(condition, AllOf):
        if len(children) == 2:
            a, b = children
            return lambda nf: a(nf) and b(nf)
        return lambda nf: all(c(nf) for c in children)
    if len(children) == 2:
        a, b = children
        return lambda nf: a(nf) or b(nf)
    return lambda nf: any(c(nf) for c in children)


# An index key is a literal that must hold for the rule to have a chance of matching:
# ("eq", field, normalised value) | ("pre", field, casefolded prefix) | ("ex", field).
_Key: TypeAlias = tuple[str, ...] | tuple[str, str, object]
_KEY_COST: Final = {"eq": 1, "pre": 4, "ex": 50}  # how many cases a literal lets through


def _keys(condition: Condition) -> frozenset[_Key] | None:
    """A set of literals one of which holds whenever ``condition`` does; ``None`` if unknown.

    ``AllOf`` needs only one indexable child (all must hold, so any child's keys are
    necessary); ``AnyOf`` needs every child indexable (any child may be the one that holds).
    """
    if isinstance(condition, Equals):
        return frozenset({("eq", condition.field, _norm_value(condition.value))})
    if isinstance(condition, In):
        return frozenset(("eq", condition.field, _norm_value(v)) for v in condition.values)
    if isinstance(condition, Prefix):
        return frozenset({("pre", condition.field, condition.prefix.casefold())})
    if isinstance(condition, Exists):
        return frozenset({("ex", condition.field)})
    if isinstance(condition, Not):
        return None
    child_keys = [_keys(c) for c in condition.conditions]
    if isinstance(condition, AllOf):
        usable = [k for k in child_keys if k is not None]
        return min(usable, key=_cost) if usable else None
    if any(k is None for k in child_keys):
        return None
    return frozenset(k for keys in child_keys if keys is not None for k in keys)


def _cost(keys: frozenset[_Key]) -> int:
    return sum(_KEY_COST[k[0]] for k in keys)


@attrs.define
class _Index:
    """Field value → bitmask of candidate rule positions (bit ``i`` is rule ``i``).

    Python ints are arbitrary-size bitsets with C-speed ``|``: OR-ing the masks of the
    literals a case satisfies costs the same whether they name 3 rules or 300, and scanning
    the result lowest bit first visits candidates in rule order, so the first rule that
    really matches is the answer (exactly what the naive loop would return).
    """

    fields: tuple[str, ...]
    equals: tuple[tuple[str, dict[object, int]], ...]
    prefixes: tuple[tuple[str, tuple[int, ...], dict[str, int]], ...]
    exists: tuple[tuple[str, int], ...]
    always: int  # rules no literal covers (``not`` …): always candidates
    exact: int  # rules whose literal *is* the condition: a hit needs no evaluation


def _build_index(rules: Sequence[Rule]) -> _Index:
    eq: dict[str, dict[object, int]] = {}
    pre: dict[str, dict[str, int]] = {}
    ex: dict[str, int] = {}
    always = exact = 0
    fields: list[str] = []
    for position, rule in enumerate(rules):
        bit = 1 << position
        for f in _fields_of(rule.when):
            if f not in fields:
                fields.append(f)
        keys = _keys(rule.when)
        if keys is None:
            always |= bit
            continue
        if isinstance(rule.when, Equals | In | Prefix | Exists):
            exact |= bit
        for key in keys:
            kind, field = key[0], str(key[1])
            if kind == "eq":
                table = eq.setdefault(field, {})
                table[key[2]] = table.get(key[2], 0) | bit
            elif kind == "pre":
                ptable = pre.setdefault(field, {})
                ptable[str(key[2])] = ptable.get(str(key[2]), 0) | bit
            else:
                ex[field] = ex.get(field, 0) | bit
    return _Index(
        fields=tuple(fields),
        equals=tuple(eq.items()),
        prefixes=tuple(
            (f, tuple(sorted({len(p) for p in table})), table) for f, table in pre.items()
        ),
        exists=tuple(ex.items()),
        always=always,
        exact=exact,
    )


def _normalise(facts: Facts, fields: tuple[str, ...]) -> _NormFacts:
    """Normalise once per route the facts the rules read (hot path: keep it flat)."""
    nf: _NormFacts = {}
    get = facts.get
    for f in fields:
        v = get(f)
        if v is None:
            continue
        if v.__class__ is str:
            if v:
                nf[f] = v.casefold()
        elif v.__class__ is frozenset:
            if v:
                members = frozenset([m.casefold() for m in v if isinstance(m, str) and m])
                if members:
                    nf[f] = members
        else:
            n = _norm_fact(v)
            if n is not _ABSENT:
                nf[f] = n
    return nf


def _label(position: int, rule: Rule) -> tuple[str, str]:
    """The fixed parts of a rule's explanation, computed once per router, not per route."""
    label = f"rule #{position} {rule.id!r}"
    if rule.name is not None:
        label += f" ({rule.name})"
    target = rule.then
    chose = ", ".join(
        part
        for part in (
            f"team {target.team!r}" if target.team is not None else "",
            f"owner {target.owner!r}" if target.owner is not None else "",
        )
        if part
    )
    return label, chose


def _ruleset(rules: RuleSet | Iterable[Rule]) -> RuleSet:
    return rules if isinstance(rules, RuleSet) else RuleSet(rules)


def _fallbacks_tuple(items: Iterable[FallbackMap]) -> tuple[FallbackMap, ...]:
    return tuple(items)


# --- the router ------------------------------------------------------------------------------


@attrs.frozen
class Router:
    """An immutable, compiled router: rules first, then the fallback chain, then a default.

    Build one per tenant rule-set version and share it; routing never mutates it, so it is
    safe across threads.

    Args:
        rules: the tenant's rules (a :class:`RuleSet` or a sequence of :class:`Rule`).
        fallbacks: fallback maps tried in order when no rule matched (or a rule named only
            an owner). Every map but the last must have ``default=None``.
        default_team: the queue when neither a rule nor a fallback decided.

    >>> router = Router(fallbacks=[FallbackMap.by_category()])
    >>> router.route({"category": "BILLING"}).team
    'finance'
    """

    rules: RuleSet = attrs.field(default=RuleSet(), converter=_ruleset)
    fallbacks: tuple[FallbackMap, ...] = attrs.field(default=(), converter=_fallbacks_tuple)
    default_team: str = "support"
    _index: _Index = attrs.field(init=False, repr=False, eq=False, hash=False)
    _predicates: tuple[_Predicate, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _labels: tuple[tuple[str, str], ...] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _optional_text(self.default_team, "default_team")
        for i, fallback in enumerate(self.fallbacks):
            if not isinstance(fallback, FallbackMap):
                raise InvalidConfiguration(f"fallback #{i + 1} is not a FallbackMap: {fallback!r}")
            if fallback.default is not None and i < len(self.fallbacks) - 1:
                # Otherwise the maps after it could never decide anything.
                raise InvalidConfiguration(
                    f"fallback {fallback.name!r} has a default team, so the fallbacks after "
                    "it would never run; give it default=None to chain"
                )
        object.__setattr__(self, "_index", _build_index(self.rules.rules))
        object.__setattr__(self, "_predicates", tuple(_compile(r.when) for r in self.rules))
        object.__setattr__(
            self, "_labels", tuple(_label(p, r) for p, r in enumerate(self.rules, start=1))
        )

    # The fast path ---------------------------------------------------------------------

    def first_match(self, facts: Facts) -> int | None:
        """Return the 0-based position of the first matching rule, using the index."""
        index = self._index
        nf = _normalise(facts, index.fields)
        mask = index.always
        for field, table in index.equals:
            x = nf.get(field)
            if x is None:
                continue
            if x.__class__ is frozenset:
                for member in x:
                    mask |= table.get(member, 0)
            else:
                mask |= table.get(x, 0)
        for field, lengths, ptable in index.prefixes:
            x = nf.get(field)
            texts: Iterable[str]
            if x.__class__ is str:
                texts = (x,)
            elif x.__class__ is frozenset:
                texts = x
            else:
                continue
            for text in texts:
                size = len(text)
                for n in lengths:
                    if n > size:
                        break
                    mask |= ptable.get(text[:n], 0)
        for field, bits in index.exists:
            if field in nf:
                mask |= bits
        exact = index.exact
        predicates = self._predicates
        while mask:
            low = mask & -mask
            if low & exact:
                return low.bit_length() - 1
            position = low.bit_length() - 1
            if predicates[position](nf):
                return position
            mask ^= low
        return None

    def route(self, facts: Facts) -> RouteDecision:
        """Route a case from its facts; every case ends in some queue."""
        return self._decide(facts, self.first_match(facts))

    # The baseline ----------------------------------------------------------------------

    def first_match_naive(self, facts: Facts) -> int | None:
        """Like :meth:`first_match` but evaluating every compiled rule in order (no index)."""
        nf = _normalise(facts, self._index.fields)
        for position, predicate in enumerate(self._predicates):
            if predicate(nf):
                return position
        return None

    def route_naive(self, facts: Facts) -> RouteDecision:
        """Route without the index: the benchmark baseline; always equal to :meth:`route`."""
        return self._decide(facts, self.first_match_naive(facts))

    # Decisions -------------------------------------------------------------------------

    def _fallback_step(self, facts: Facts) -> RouteStep:
        for fallback in self.fallbacks:
            step = fallback.step(facts)
            if step is not None:
                return step
        looked = tuple((fb.field, _shown(facts.get(fb.field))) for fb in self.fallbacks)
        detail = f" ({_render(looked)})" if looked else ""
        return RouteStep(
            kind=MatchKind.DEFAULT,
            ref="default",
            team=self.default_team,
            matched_on=looked,
            text=f"no fallback mapped the case{detail}, using default team {self.default_team!r}",
        )

    def _decide(self, facts: Facts, position: int | None) -> RouteDecision:
        if position is None:
            step = self._fallback_step(facts)
            assert step.team is not None
            return RouteDecision(
                team=step.team, owner=None, steps=(step,), text=f"no rule matched; {step.text}"
            )
        rule = self.rules.rules[position]
        evidence = tuple(_evidence(rule.when, facts))
        target = rule.then
        label, chose = self._labels[position]
        rule_step = RouteStep(
            kind=MatchKind.RULE,
            ref=rule.id,
            position=position + 1,
            team=target.team,
            owner=target.owner,
            matched_on=evidence,
            text=f"{label} matched {_render(evidence)} → {chose}",
        )
        if target.team is not None:
            return RouteDecision(
                team=target.team, owner=target.owner, steps=(rule_step,), text=rule_step.text
            )
        team_step = self._fallback_step(facts)
        assert team_step.team is not None
        return RouteDecision(
            team=team_step.team,
            owner=target.owner,
            steps=(rule_step, team_step),
            text=f"{rule_step.text}; team from {team_step.text}",
        )

    # Convenience -----------------------------------------------------------------------

    @classmethod
    def from_dicts(
        cls,
        rules: Iterable[Mapping[str, object]],
        fallbacks: Iterable[FallbackMap] = (),
        default_team: str = "support",
    ) -> Router:
        """Build a router straight from a tenant's stored rule dicts."""
        return cls(RuleSet.from_dicts(rules), fallbacks, default_team)
