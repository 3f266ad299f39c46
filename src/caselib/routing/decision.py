"""Routing decisions: what decided a route, the steps taken and their one-line evidence.

Kept apart from the router so that the values the application layer stores on a case
timeline (:class:`RouteDecision`, :class:`RouteStep`) and the way evidence is rendered can be
read without the index machinery.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum

import attrs

from caselib.routing.conditions import AllOf, AnyOf, Condition, Facts, Not, _atoms, _fields_of

__all__ = [
    "MatchKind",
    "RouteDecision",
    "RouteStep",
]


class MatchKind(StrEnum):
    """What produced a routing step."""

    RULE = "rule"
    FALLBACK = "fallback"
    DEFAULT = "default"
    BRANCH = "branch"
    """The case's branch named its manager as owner (or said why nobody; see
    :class:`~caselib.routing.BranchRouting`)."""


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
        kind: rule, fallback, default or branch.
        ref: the rule id, the fallback map's name, ``"default"``, or (branch steps) the
            fact that names the branch.
        position: the rule's 1-based position (rules only).
        team: the team this step chose, if it chose one.
        owner: the owner this step chose (rules and branch steps).
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
        owner: the owner named by a rule or found for the case's branch, else ``None`` (team
            strategies may assign later).
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


def _render(pairs: Sequence[tuple[str, object]], joiner: str = ", ") -> str:
    parts = []
    for field, value in pairs:
        if isinstance(value, tuple):
            parts.append(f"{field} has {', '.join(repr(v) for v in value)}")
        else:
            parts.append(f"{field}={value!r}")
    return joiner.join(parts) if parts else "every case"
