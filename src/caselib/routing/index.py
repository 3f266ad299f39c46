"""The router's compiled predicates and rule index.

Conditions are compiled once into closures over normalised facts, and their equality,
``in``, ``prefix`` and ``exists`` literals are indexed as bitmasks of rule positions, so
that finding the first matching rule costs roughly the same with 1,000 rules as with 10.
Private machinery of :class:`~caselib.routing.router.Router`; it follows the matching
semantics of :mod:`caselib.routing.conditions` exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final, TypeAlias

import attrs

from caselib.routing.conditions import (
    _ABSENT,
    AllOf,
    Condition,
    Equals,
    Exists,
    Facts,
    In,
    Not,
    Prefix,
    _fields_of,
    _norm_fact,
    _norm_value,
)
from caselib.routing.rules import Rule

__all__: list[str] = []

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
    return _index_conditions([rule.when for rule in rules])


def _index_conditions(conditions: Sequence[Condition]) -> _Index:
    """The index of ``conditions`` by position (shared with the automation sweep)."""
    eq: dict[str, dict[object, int]] = {}
    pre: dict[str, dict[str, int]] = {}
    ex: dict[str, int] = {}
    always = exact = 0
    fields: list[str] = []
    for position, when in enumerate(conditions):
        bit = 1 << position
        for f in _fields_of(when):
            if f not in fields:
                fields.append(f)
        keys = _keys(when)
        if keys is None:
            always |= bit
            continue
        if isinstance(when, Equals | In | Prefix | Exists):
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


def _candidates(index: _Index, facts: Facts) -> int:
    """The bitmask of positions whose condition may hold on ``facts``: every position whose
    condition holds is in it (the others certainly do not hold); candidates still need
    evaluating unless they are also in ``index.exact``."""
    return _candidate_mask(index, _normalise(facts, index.fields))


def _candidate_mask(index: _Index, nf: Mapping[str, Any]) -> int:
    """:func:`_candidates` over facts already normalised (``_normalise``): the router's
    first match reuses them for its predicates."""
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
        if x.__class__ is str:
            texts: tuple[str, ...] | frozenset[str] = (x,)
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
    return mask
