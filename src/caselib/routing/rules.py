"""Tenant routing rules: targets, rules, the ordered rule set and its JSON form.

A rule set is what a tenant edits in an admin screen and stores as JSON; loading validates
every rule and names the first bad one by position and id (:class:`InvalidRule`).
:func:`naive_first_match` is the plain first-match loop over the uncompiled conditions, kept
here as the oracle the router's index is tested against.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import ClassVar

import attrs

from caselib.checks import require_items
from caselib.errors import InvalidConfiguration
from caselib.routing.conditions import Condition, Facts, _check_condition, _parse_condition

__all__ = [
    "InvalidRule",
    "Rule",
    "RuleSet",
    "Target",
    "naive_first_match",
]


class InvalidRule(InvalidConfiguration):
    """A routing rule cannot be loaded; the message names its position and id.

    Attributes:
        position: 1-based position of the rule in the list (``None`` when built in code).
        rule_id: the rule's id when it could be read.
    """

    code = "invalid_rule"
    title = "Invalid routing rule"
    problem_fields: ClassVar[tuple[str, ...]] = ("position", "rule_id")

    def __init__(self, message: str, *, position: int | None, rule_id: str | None) -> None:
        super().__init__(message)
        self.position = position
        self.rule_id = rule_id


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


def _rules_tuple(items: object) -> tuple[Rule, ...]:
    return require_items(items, "rules", "a list of Rule values")


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
