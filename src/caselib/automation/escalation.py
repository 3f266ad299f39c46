"""Tenant-defined escalation levels: :class:`EscalationLadder` and its :class:`EscalationLevel`
rungs (e.g. owner → manager → tier 2).

Why a ladder and not just "raise the priority": escalating an urgent case used to change
nothing anyone could see. A ladder names where the case stands (``Case.escalation_level``),
says who is told on reaching each level (the level's own notice, queued through the outbox
with the ``case.escalated`` event) and which team takes the case at a level. The first level
is where every case starts; :meth:`EscalationLadder.step` decides the next one and refuses
(with a typed error, before anything changes) a level that is unknown, not above the current
one, or past the top.

Without a ladder (``TenantSettings.escalation=None``) escalation behaves as it always did:
priority to at least high, an optional ``to_team``, and levels numbered ``"1"``, ``"2"`` ….
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final

import attrs

from caselib.automation.rules import NOTIFY_TARGETS, _check_id
from caselib.automation.templates import Template
from caselib.errors import CommandRefused, InvalidConfiguration, InvalidInput, UnknownValue
from caselib.vocab import Priority

__all__ = ["DEFAULT_LEVEL_TEMPLATE", "EscalationLadder", "EscalationLevel"]

DEFAULT_LEVEL_TEMPLATE: Final = Template(
    "{{ case.number }} escalated to {{ rule.name }}: {{ case.subject }}",
    "Case {{ case.number }} ({{ case.priority }}, team {{ case.team }}, owner "
    "{{ case.assignee }}) was escalated to level {{ rule.name }}.\n\n{{ case.last_note }}",
    "internal")
"""The notice of a level that names no template (``rule.name`` is the level's name)."""


def _who(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not isinstance(value, Iterable):
        raise InvalidConfiguration(f"notify is a list of {list(NOTIFY_TARGETS)}, got {value!r}")
    return tuple(value)


def _priority(value: object) -> Priority | None:
    return None if value is None else Priority.parse(value)


@attrs.frozen
class EscalationLevel:
    """One rung: its ``name``; who is told on reaching it (``notify``: ``owner``,
    ``manager``, ``team`` — the team's lead — as for automation notices), with which
    ``template`` (internal; :data:`DEFAULT_LEVEL_TEMPLATE` when ``None``); the ``team``
    that takes the case at this level (its owner is cleared), if any; and the ``priority``
    the case is raised to at least (default ``high``, as escalation always did)."""

    name: str
    notify: tuple[str, ...] = attrs.field(default=(), converter=_who)
    team: str | None = None
    priority: Priority | None = attrs.field(default=None, converter=_priority)
    template: Template | None = None

    def __attrs_post_init__(self) -> None:
        _check_id(self.name, "escalation level name")
        for who in self.notify:
            if who not in NOTIFY_TARGETS:
                raise UnknownValue("escalation notify target", who, NOTIFY_TARGETS)
        if self.team is not None:
            _check_id(self.team, f"team of escalation level {self.name!r}")
        if self.template is not None:
            if not isinstance(self.template, Template):
                raise InvalidConfiguration(
                    f"level {self.name!r}: template must be a Template, got {self.template!r}")
            if self.template.audience != "internal":
                raise InvalidConfiguration(
                    f"level {self.name!r}: an escalation notice goes to agents; give its "
                    "template audience 'internal'")

    @property
    def notice(self) -> Template:
        """The template of this level's notice."""
        return self.template or DEFAULT_LEVEL_TEMPLATE

    def to_dict(self) -> dict[str, object]:
        """The JSON form (only the keys that are set)."""
        out: dict[str, object] = {"name": self.name}
        if self.notify:
            out["notify"] = list(self.notify)
        if self.team is not None:
            out["team"] = self.team
        if self.priority is not None:
            out["priority"] = self.priority.value
        if self.template is not None:
            out["template"] = self.template.to_dict()
        return out

    @classmethod
    def from_dict(cls, raw: object) -> EscalationLevel:
        """Inverse of :meth:`to_dict`; an unknown key is an :class:`UnknownValue`."""
        if not isinstance(raw, Mapping):
            raise InvalidConfiguration(f"an escalation level must be an object, got {raw!r}")
        keys = ("name", "notify", "priority", "team", "template")
        for key in raw:
            if key not in keys:
                raise UnknownValue("escalation level key", key, keys)
        template = raw.get("template")
        return cls(raw.get("name"), raw.get("notify", ()),  # type: ignore[arg-type]
                   raw.get("team"), raw.get("priority"),
                   None if template is None else Template.from_dict(template))


def _levels(items: Iterable[EscalationLevel | Mapping[str, object]]
            ) -> tuple[EscalationLevel, ...]:
    if isinstance(items, str | bytes | Mapping) or not isinstance(items, Iterable):
        raise InvalidConfiguration(f"levels is a list of escalation levels, got {items!r}")
    return tuple(i if isinstance(i, EscalationLevel) else EscalationLevel.from_dict(i)
                 for i in items)


@attrs.frozen
class EscalationLadder:
    """The tenant's escalation levels, lowest first; ``levels[0]`` is where a case starts
    (a case whose ``escalation_level`` is ``None`` stands there)."""

    levels: tuple[EscalationLevel, ...] = attrs.field(converter=_levels)
    on_breach: bool = True
    """The breach sweep moves a case one level up per breached target (see
    :meth:`after_breach`)."""

    def __attrs_post_init__(self) -> None:
        if len(self.levels) < 2:
            raise InvalidConfiguration(
                "an escalation ladder needs at least two levels: where cases start and one to "
                "escalate to (e.g. owner, manager)")
        if not isinstance(self.on_breach, bool):
            raise InvalidConfiguration(f"on_breach is true or false, got {self.on_breach!r}")
        names = [level.name for level in self.levels]
        for name in names:
            if names.count(name) > 1:
                raise InvalidConfiguration(f"two escalation levels are named {name!r}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(level.name for level in self.levels)

    def level(self, name: str) -> EscalationLevel:
        """The level called ``name`` (:class:`UnknownValue` naming the levels if none)."""
        for level in self.levels:
            if level.name == name:
                return level
        raise UnknownValue("escalation level", name, self.names)

    def current(self, name: str | None) -> EscalationLevel:
        """Where a case whose ``escalation_level`` is ``name`` stands (``None``: the first
        level; a level the ladder no longer has: the first level too, so a tenant that
        renames levels does not strand its cases)."""
        if name is not None:
            for level in self.levels:
                if level.name == name:
                    return level
        return self.levels[0]

    def step(self, current: str | None, *, to_level: str | None = None,
             to_team: str | None = None) -> EscalationLevel:
        """The level an escalation from ``current`` reaches.

        ``to_level``: that level, which must be above the current one. ``to_team``: the
        lowest level above the current one whose ``team`` it is, else simply the next level
        (the caller hands the case to ``to_team`` either way). Neither: the next level.

        Raises:
            UnknownValue: ``to_level`` is not a level of the ladder.
            InvalidInput: ``to_level`` is not above the current level.
            CommandRefused: the case is at the top level already (nothing is above it).
        """
        here = self.levels.index(self.current(current))
        if to_level is not None:
            target = self.level(to_level)
            if self.levels.index(target) <= here:
                raise InvalidInput(
                    f"escalation moves up only: the case is at level {self.levels[here].name!r} "
                    f"and {to_level!r} is not above it (levels, lowest first: "
                    f"{', '.join(self.names)})", field="to_level")
            return target
        above = self.levels[here + 1:]
        if not above:
            raise CommandRefused(
                f"the case is at the top escalation level {self.levels[here].name!r}; there is "
                "no level above it (hand it over with assign(), or add a level to the "
                "tenant's EscalationLadder)")
        if to_team is not None:
            for level in above:
                if level.team == to_team:
                    return level
        return above[0]

    def after_breach(self, current: str | None) -> EscalationLevel | None:
        """The level a breach moves a case at ``current`` to: the next one, unless
        ``on_breach`` is off, the case is at the top, or the next level hands the case to
        another team (a handover is a person's decision: :meth:`ServiceDesk.escalate
        <caselib.desk.ServiceDesk.escalate>` makes it; the sweep never reassigns)."""
        if not self.on_breach:
            return None
        here = self.levels.index(self.current(current))
        if here + 1 >= len(self.levels):
            return None
        nxt = self.levels[here + 1]
        return None if nxt.team is not None else nxt

    def to_dict(self) -> dict[str, object]:
        """The JSON form (``on_breach`` only when off)."""
        out: dict[str, object] = {"levels": [level.to_dict() for level in self.levels]}
        if not self.on_breach:
            out["on_breach"] = False
        return out

    @classmethod
    def from_dict(cls, raw: object) -> EscalationLadder:
        """Inverse of :meth:`to_dict`."""
        if not isinstance(raw, Mapping):
            raise InvalidConfiguration(f"an escalation ladder must be an object, got {raw!r}")
        for key in raw:
            if key not in ("levels", "on_breach"):
                raise UnknownValue("escalation ladder key", key, ("levels", "on_breach"))
        return cls(raw.get("levels", ()), raw.get("on_breach", True))
