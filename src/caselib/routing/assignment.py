"""Choosing an agent inside a team: the ``none``, ``round_robin`` and ``least_loaded`` strategies.

Routing (:mod:`caselib.routing`) picks the team queue; this module picks who in that team
gets the case. It is a pure function of snapshots -- agents, their loads, the team's
round-robin cursor and "now" -- so the application layer can load them, call
:func:`choose_assignee`, and persist the result (the cursor with compare-and-set, so two
processes never hand out the same turn twice).

Every strategy applies the same filters first; an agent is *eligible* when they are

* a known member of the team (``Team.members`` is the authority and its order is the
  round-robin order),
* not marked ``away`` and, if an ``available`` callable is given, available at ``now``
  (their working calendar; the callable must be pure),
* under capacity (``open_cases < capacity``; ``capacity=None`` means unlimited),
* skilled for the case (the case's needed skills ⊆ the agent's skills, case-insensitive).

When nobody is eligible the outcome says so explicitly (``agent_id is None`` plus a reason
naming the team and why each member was skipped) and the case stays in the team queue,
where ``Team.queue_contact`` is the person to notify.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

import attrs

from caselib.checks import bool_attribute, require_instances, str_set
from caselib.errors import InvalidConfiguration, InvalidInput, UnknownValue
from caselib.timeutil import aware_utc

__all__ = [
    "Agent",
    "AgentLoad",
    "AssignmentOutcome",
    "AssignmentStrategy",
    "Availability",
    "SkipReason",
    "Team",
    "choose_assignee",
    "eligible_agents",
]

_NEVER: Final = datetime.min.replace(tzinfo=UTC)  # "never assigned" sorts as idle longest


class AssignmentStrategy(StrEnum):
    """How a team hands out cases that routing put in its queue."""

    NONE = "none"
    """Nobody is assigned automatically; agents pick cases from the queue."""
    ROUND_ROBIN = "round_robin"
    """Take turns in ``Team.members`` order, starting after the last assigned agent."""
    LEAST_LOADED = "least_loaded"
    """Fewest open cases; ties go to the agent idle longest, then to the smaller id."""


class SkipReason(StrEnum):
    """Why a team member was not eligible for a case."""

    UNKNOWN = "unknown agent"
    AWAY = "away"
    OFF_SHIFT = "off shift"
    AT_CAPACITY = "at capacity"
    MISSING_SKILLS = "missing skills"


def _text(value: object, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{what} must be non-empty text, got {value!r}")
    return value


def _optional_text(value: object, what: str) -> None:
    if value is not None:
        _text(value, what)


def _teams(value: object) -> frozenset[str]:
    return str_set(value, "teams")


def _skills(value: object) -> frozenset[str]:
    return str_set(value, "skills")


@attrs.frozen
class Agent:
    """A snapshot of one agent, as far as assignment cares.

    Args:
        id: stable agent id (what ``Case.owner`` holds).
        name: display name for reasons and notifications.
        email: where notifications go, if the host uses email.
        manager_id: the agent's manager (escalation targets).
        teams: ids of the teams the agent belongs to (informational; ``Team.members`` decides).
        skills: skill names; compared case-insensitively with a case's needs.
        capacity: maximum open cases, ``None`` for no limit.
        away: out of office / on leave; an away agent never receives a case.
    """

    id: str
    name: str
    email: str | None = None
    manager_id: str | None = None
    teams: frozenset[str] = attrs.field(default=frozenset(), converter=_teams)
    skills: frozenset[str] = attrs.field(default=frozenset(), converter=_skills)
    capacity: int | None = None
    away: bool = attrs.field(default=False, validator=bool_attribute)

    def __attrs_post_init__(self) -> None:
        _text(self.id, "agent id")
        _text(self.name, "agent name")
        _optional_text(self.email, "agent email")
        _optional_text(self.manager_id, "agent manager_id")
        if self.capacity is not None and (
            not isinstance(self.capacity, int)
            or isinstance(self.capacity, bool)
            or self.capacity < 0
        ):
            raise InvalidInput(
                f"agent {self.id!r}: capacity must be a whole number ≥ 0 or None, "
                f"got {self.capacity!r}",
                field="capacity",
            )


def _strategy(value: object) -> AssignmentStrategy:
    if isinstance(value, str):  # AssignmentStrategy members are str too
        for strategy in AssignmentStrategy:
            if strategy.value == value:
                return strategy
    raise UnknownValue("strategy", value, [s.value for s in AssignmentStrategy])


def _members_tuple(values: Iterable[str]) -> tuple[str, ...]:
    if isinstance(values, str):
        raise InvalidConfiguration(f"team members must be a list of agent ids, got {values!r}")
    return require_instances(values, "members", str, "a list of agent ids")


@attrs.frozen
class Team:
    """A team queue and how it assigns.

    Args:
        id: stable team id (what routing's ``RouteDecision.team`` names).
        name: display name.
        strategy: how cases are handed out (a :class:`AssignmentStrategy` or its value).
        members: agent ids; the order is the round-robin order.
        queue_contact: who is notified when a case sits in the queue without an owner.
        manager_id: the team's manager.
    """

    id: str
    name: str
    strategy: AssignmentStrategy = attrs.field(default=AssignmentStrategy.NONE, converter=_strategy)
    members: tuple[str, ...] = attrs.field(default=(), converter=_members_tuple)
    queue_contact: str | None = None
    manager_id: str | None = None

    def __attrs_post_init__(self) -> None:
        _text(self.id, "team id")
        _text(self.name, "team name")
        _optional_text(self.queue_contact, "team queue_contact")
        _optional_text(self.manager_id, "team manager_id")
        seen: set[str] = set()
        for member in self.members:
            _text(member, f"team {self.id!r} member id")
            if member in seen:
                # A duplicate would get two round-robin turns per lap.
                raise InvalidConfiguration(f"team {self.id!r} lists agent {member!r} twice")
            seen.add(member)


def _optional_aware(value: datetime | None) -> datetime | None:
    return None if value is None else aware_utc(value, "last_assigned_at")


@attrs.frozen
class AgentLoad:
    """How busy an agent is right now (counted by the store, not by this module).

    Args:
        agent_id: the agent.
        open_cases: cases owned by the agent in an open or waiting status.
        last_assigned_at: when the agent last received a case (``None``: never).
    """

    agent_id: str
    open_cases: int = 0
    last_assigned_at: datetime | None = attrs.field(default=None, converter=_optional_aware)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.open_cases, int) or self.open_cases < 0:
            raise InvalidInput(
                f"open_cases for {self.agent_id!r} must be ≥ 0, got {self.open_cases!r}"
            )

    def after_assignment(self, at: datetime) -> AgentLoad:
        """The load once one more case was assigned at ``at`` (for simulations and stores)."""
        return AgentLoad(self.agent_id, self.open_cases + 1, at)


@attrs.frozen
class AssignmentOutcome:
    """The result of :func:`choose_assignee`.

    Attributes:
        agent_id: the chosen agent, or ``None``: the case stays in the team queue.
        strategy: the strategy that decided.
        reason: one human line for the case timeline.
        cursor: the round-robin cursor to persist (compare-and-set against the cursor
            passed in); unchanged unless round robin chose someone.
        team_id: the team.
        notify: who to tell about an unowned case (``Team.queue_contact``) when
            ``agent_id`` is ``None``.
        skipped: ``(agent id, SkipReason)`` for members that were not eligible, in
            member order.
    """

    agent_id: str | None
    strategy: AssignmentStrategy
    reason: str
    cursor: str | None
    team_id: str
    notify: str | None = None
    skipped: tuple[tuple[str, SkipReason], ...] = ()

    @property
    def assigned(self) -> bool:
        """Whether an agent was chosen."""
        return self.agent_id is not None


Availability = Callable[[Agent, datetime], bool]
"""``available(agent, now)``: whether the agent is working at ``now`` (a pure function)."""


def _skip_reason(
    agent: Agent | None,
    load: AgentLoad | None,
    needs: frozenset[str],
    now: datetime,
    available: Availability | None,
) -> SkipReason | None:
    if agent is None:
        return SkipReason.UNKNOWN
    if agent.away:
        return SkipReason.AWAY
    if available is not None and not available(agent, now):
        return SkipReason.OFF_SHIFT
    if agent.capacity is not None and (load.open_cases if load else 0) >= agent.capacity:
        return SkipReason.AT_CAPACITY
    if needs and not needs <= {s.casefold() for s in agent.skills}:
        return SkipReason.MISSING_SKILLS
    return None


def _by_id(items: Mapping[str, Agent] | Iterable[Agent]) -> Mapping[str, Agent]:
    if isinstance(items, Mapping):
        return items
    return {agent.id: agent for agent in items}


def _loads_by_id(items: Mapping[str, AgentLoad] | Iterable[AgentLoad]) -> Mapping[str, AgentLoad]:
    if isinstance(items, Mapping):
        return items
    return {load.agent_id: load for load in items}


def _needs(needs_skills: Iterable[str]) -> frozenset[str]:
    if isinstance(needs_skills, str):
        raise InvalidInput(f"needs_skills must be a collection, got the text {needs_skills!r}")
    return frozenset(s.casefold() for s in needs_skills)


def eligible_agents(
    team: Team,
    agents: Mapping[str, Agent] | Iterable[Agent],
    loads: Mapping[str, AgentLoad] | Iterable[AgentLoad],
    *,
    needs_skills: Iterable[str] = (),
    now: datetime,
    available: Availability | None = None,
) -> tuple[tuple[str, ...], tuple[tuple[str, SkipReason], ...]]:
    """Split the team's members into eligible ids and ``(id, reason)`` skips, in member order.

    Exposed so that admin screens can show *why* nobody was assigned.
    """
    now = aware_utc(now, "now")
    by_id, load_of, needs = _by_id(agents), _loads_by_id(loads), _needs(needs_skills)
    eligible: list[str] = []
    skipped: list[tuple[str, SkipReason]] = []
    for member in team.members:
        why = _skip_reason(by_id.get(member), load_of.get(member), needs, now, available)
        if why is None:
            eligible.append(member)
        else:
            skipped.append((member, why))
    return tuple(eligible), tuple(skipped)


def _nobody_reason(team: Team, skipped: tuple[tuple[str, SkipReason], ...]) -> str:
    if not team.members:
        return f"team {team.name!r} has no members; the case stays in the queue"
    counts: dict[SkipReason, int] = {}
    for _, why in skipped:
        counts[why] = counts.get(why, 0) + 1
    kinds = [why.value for why in SkipReason if why in counts]
    summary = kinds[0] if len(kinds) == 1 else ", ".join(kinds[:-1]) + " or " + kinds[-1]
    detail = ", ".join(f"{counts[why]} {why.value}" for why in SkipReason if why in counts)
    size = len(team.members)
    agents = "agent" if size == 1 else f"all {size} agents"
    verb = "is" if size == 1 else "are"
    return (
        f"{agents} in team {team.name!r} {verb} {summary} ({detail}); the case stays in the queue"
    )


def choose_assignee(
    team: Team,
    agents: Mapping[str, Agent] | Iterable[Agent],
    loads: Mapping[str, AgentLoad] | Iterable[AgentLoad],
    *,
    needs_skills: Iterable[str] = (),
    cursor: str | None = None,
    now: datetime,
    available: Availability | None = None,
) -> AssignmentOutcome:
    """Pick the agent in ``team`` who should own a new case, or say why nobody can.

    Args:
        team: the team routing chose.
        agents: agent snapshots (by id or as an iterable); members missing here are skipped.
        loads: current loads (by agent id or as an iterable); a missing load means 0 open
            cases and never assigned.
        needs_skills: skills the case needs; all must be among the agent's skills.
        cursor: the team's round-robin cursor (the last agent it assigned), as stored.
        now: the current time (aware); passed to ``available`` and recorded nowhere.
        available: optional pure working-calendar check, ``available(agent, now)``.

    Returns:
        The outcome; persist ``cursor`` with compare-and-set against the one passed in
        when it changed, so that concurrent assigners never share a turn.

    >>> from datetime import datetime, timezone
    >>> team = Team("billing", "Billing", "round_robin", members=("ann", "bob"))
    >>> agents = [Agent("ann", "Ann"), Agent("bob", "Bob")]
    >>> now = datetime(2025, 1, 6, 9, tzinfo=timezone.utc)
    >>> choose_assignee(team, agents, [], cursor="ann", now=now).agent_id
    'bob'
    """
    eligible, skipped = eligible_agents(
        team, agents, loads, needs_skills=needs_skills, now=now, available=available
    )
    strategy = team.strategy
    if strategy is AssignmentStrategy.NONE:
        return AssignmentOutcome(
            agent_id=None,
            strategy=strategy,
            reason=f"team {team.name!r} does not assign automatically; the case waits in its queue",
            cursor=cursor,
            team_id=team.id,
            notify=team.queue_contact,
            skipped=skipped,
        )
    if not eligible:
        return AssignmentOutcome(
            agent_id=None,
            strategy=strategy,
            reason=_nobody_reason(team, skipped),
            cursor=cursor,
            team_id=team.id,
            notify=team.queue_contact,
            skipped=skipped,
        )
    if strategy is AssignmentStrategy.ROUND_ROBIN:
        chosen = _next_in_turn(team.members, frozenset(eligible), cursor)
        after = f"after {cursor!r}" if cursor in team.members else "from the top"
        return AssignmentOutcome(
            agent_id=chosen,
            strategy=strategy,
            reason=(
                f"round robin in team {team.name!r}: {chosen!r} is next {after} "
                f"({len(eligible)} of {len(team.members)} agents eligible)"
            ),
            cursor=chosen,
            team_id=team.id,
            skipped=skipped,
        )
    load_of = _loads_by_id(loads)

    def rank(agent_id: str) -> tuple[int, datetime, str]:
        load = load_of.get(agent_id)
        if load is None:
            return (0, _NEVER, agent_id)
        return (load.open_cases, load.last_assigned_at or _NEVER, agent_id)

    chosen = min(eligible, key=rank)
    open_cases = rank(chosen)[0]
    return AssignmentOutcome(
        agent_id=chosen,
        strategy=strategy,
        reason=(
            f"least loaded in team {team.name!r}: {chosen!r} has {open_cases} open "
            f"case{'s' if open_cases != 1 else ''} ({len(eligible)} of {len(team.members)} "
            "agents eligible)"
        ),
        cursor=cursor,
        team_id=team.id,
        skipped=skipped,
    )


def _next_in_turn(members: tuple[str, ...], eligible: frozenset[str], cursor: str | None) -> str:
    """The first eligible member after ``cursor`` in member order, wrapping around.

    An unknown cursor (the agent left the team) restarts from the top rather than failing:
    the cursor is advisory state, and a fair lap resumes from there.
    """
    start = members.index(cursor) + 1 if cursor in members else 0
    size = len(members)
    for step in range(size):
        member = members[(start + step) % size]
        if member in eligible:
            return member
    raise AssertionError("called without an eligible member")  # pragma: no cover
