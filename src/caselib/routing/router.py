"""Case routing: tenant rules as data, built-in fallback maps and an explained decision.

A case is routed from a flat mapping of *routing facts* that the application layer builds
from the case (see :data:`ROUTABLE_FIELDS`; custom fields arrive as ``custom.<name>``). The
router never sees the case itself, so routing stays a pure function that is cheap to test
and to benchmark.

Routing runs in three steps and always ends in a queue:

1. the tenant's ordered :class:`Rule` list -- the first rule whose condition matches wins;
2. the :class:`FallbackMap` chain (for example by category, then by reason code);
3. the router's final ``default_team``.

A case that lands in the branch managers' queue then goes to its own branch's manager when
the caller passes a lookup (:class:`~caselib.routing.BranchRouting`; the desk builds the lookup
from the host's directory).

Rules are data (plain dicts / JSON, validated on load) because tenants edit them in an admin
screen, not in code. Their conditions are compiled once, and equality, ``in``, ``prefix`` and
``exists`` tests are indexed so that routing a case costs roughly the same with 1,000 rules
as with 10. The plain "evaluate every rule in order" loop is kept next to it
(:meth:`Router.route_naive`, :func:`naive_first_match`) as the benchmark baseline and as the
oracle the property tests compare the index against.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from caselib.checks import require_items
from caselib.errors import InvalidConfiguration
from caselib.routing.branches import BranchManagerLookup, BranchRouting
from caselib.routing.conditions import Facts
from caselib.routing.decision import MatchKind, RouteDecision, RouteStep, _evidence, _render, _shown
from caselib.routing.fallback import FallbackMap
from caselib.routing.index import (
    _build_index,
    _candidate_mask,
    _compile,
    _Index,
    _normalise,
    _Predicate,
)
from caselib.routing.rules import Rule, RuleSet, _optional_text

__all__ = [
    "Router",
]


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


def _ruleset(rules: object) -> RuleSet:
    return rules if isinstance(rules, RuleSet) else RuleSet(rules)


def _fallbacks_tuple(items: object) -> tuple[FallbackMap, ...]:
    return require_items(items, "fallbacks", "a list of FallbackMap values")


_BRANCHES: Final = BranchRouting()


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
        branches: which queue means "the branch manager" and which fact names a case's
            branch (``None``: no branch step even when a lookup is passed).

    >>> router = Router(fallbacks=[FallbackMap.by_category()])
    >>> router.route({"category": "BILLING"}).team
    'finance'
    """

    rules: RuleSet = attrs.field(default=RuleSet(), converter=_ruleset)
    fallbacks: tuple[FallbackMap, ...] = attrs.field(default=(), converter=_fallbacks_tuple)
    default_team: str = "support"
    branches: BranchRouting | None = attrs.field(factory=BranchRouting)
    _index: _Index = attrs.field(init=False, repr=False, eq=False, hash=False)
    _predicates: tuple[_Predicate, ...] = attrs.field(init=False, repr=False, eq=False, hash=False)
    _labels: tuple[tuple[str, str], ...] = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        _optional_text(self.default_team, "default_team")
        if self.branches is not None and not isinstance(self.branches, BranchRouting):
            raise InvalidConfiguration(f"branches must be a BranchRouting, got {self.branches!r}")
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
        mask = _candidate_mask(index, nf)
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

    def route(
        self, facts: Facts, *, branch_manager: BranchManagerLookup | None = None
    ) -> RouteDecision:
        """Route a case from its facts; every case ends in some queue.

        With ``branch_manager``, a case that lands in :attr:`branches`' queue without an owner
        gets its branch's manager as owner (or a step saying why it waits in the queue).
        """
        return self._decide(facts, self.first_match(facts), branch_manager)

    # The baseline ----------------------------------------------------------------------

    def first_match_naive(self, facts: Facts) -> int | None:
        """Like :meth:`first_match` but evaluating every compiled rule in order (no index)."""
        nf = _normalise(facts, self._index.fields)
        for position, predicate in enumerate(self._predicates):
            if predicate(nf):
                return position
        return None

    def route_naive(
        self, facts: Facts, *, branch_manager: BranchManagerLookup | None = None
    ) -> RouteDecision:
        """Route without the index: the benchmark baseline; always equal to :meth:`route`."""
        return self._decide(facts, self.first_match_naive(facts), branch_manager)

    # Decisions -------------------------------------------------------------------------

    def _fallback_step(self, facts: Facts) -> RouteStep:
        # every field the chain read, so that a default's explanation names them all (the
        # reason code included), not only the field of the map whose default decided
        looked: dict[str, object] = {}
        for fallback in self.fallbacks:
            step = fallback.mapped_step(facts)
            if step is not None:
                return step
            looked.setdefault(fallback.field, _shown(facts.get(fallback.field)))
            if fallback.default is not None:
                return fallback.default_step(tuple(looked.items()))
        return self._default_step(tuple(looked.items()))

    def _default_step(self, looked: tuple[tuple[str, object], ...]) -> RouteStep:
        detail = f" ({_render(looked)})" if looked else ""
        return RouteStep(
            kind=MatchKind.DEFAULT,
            ref="default",
            team=self.default_team,
            matched_on=looked,
            text=f"no fallback mapped the case{detail}, using default team {self.default_team!r}",
        )

    def _decide(
        self, facts: Facts, position: int | None, branch_manager: BranchManagerLookup | None
    ) -> RouteDecision:
        decision = self._queue(facts, position)
        if branch_manager is None or self.branches is None or decision.owner is not None:
            return decision
        step = self.branches.step(decision.team, facts, branch_manager)
        if step is None:
            return decision
        return RouteDecision(
            team=decision.team,
            owner=step.owner,
            steps=(*decision.steps, step),
            text=f"{decision.text}; {step.text}",
        )

    def _queue(self, facts: Facts, position: int | None) -> RouteDecision:
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
        branches: BranchRouting | None = _BRANCHES,
    ) -> Router:
        """Build a router straight from a tenant's stored rule dicts."""
        return cls(RuleSet.from_dicts(rules), fallbacks, default_team, branches)
