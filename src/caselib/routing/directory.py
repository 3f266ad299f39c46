"""Who works where: the host's people directory, as caselib sees it.

The :class:`Directory` port answers which agents a team has, who an agent's manager is and
whether an agent is available now; routing, assignment and SLA breach notifications read it.
:class:`StaticDirectory` is a plain in-memory implementation for small hosts, demos and tests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol

from caselib.routing.assignment import Agent, Team

__all__ = ["Directory", "StaticDirectory"]


class Directory(Protocol):
    """The host's people directory."""

    def team(self, team_id: str) -> Team | None:
        """The team (queue) with this id, or ``None`` if caselib should not assign in it."""
        ...

    def agent(self, agent_id: str) -> Agent | None:
        """The agent with this id, or ``None`` if unknown."""
        ...

    def manager_of(self, agent_id: str) -> str | None:
        """Who is notified when this agent's case breaches its SLA (``None``: nobody)."""
        ...

    def is_available(self, agent: Agent, at: datetime) -> bool:
        """Whether the agent is working at ``at`` (their calendar, leave …)."""
        ...


class StaticDirectory:
    """A :class:`Directory` built from lists; ``available`` defaults to "unless away"."""

    def __init__(
        self,
        teams: Iterable[Team] = (),
        agents: Iterable[Agent] = (),
        available: Callable[[Agent, datetime], bool] | None = None,
    ) -> None:
        self._teams = {t.id: t for t in teams}
        self._agents = {a.id: a for a in agents}
        self._available = available

    def __repr__(self) -> str:
        return f"<StaticDirectory teams={len(self._teams)} agents={len(self._agents)}>"

    def team(self, team_id: str) -> Team | None:
        """Look the team up by id."""
        return self._teams.get(team_id)

    def agent(self, agent_id: str) -> Agent | None:
        """Look the agent up by id."""
        return self._agents.get(agent_id)

    def manager_of(self, agent_id: str) -> str | None:
        """The agent's ``manager_id``, else the manager of the first team they are in."""
        agent = self._agents.get(agent_id)
        if agent is not None and agent.manager_id:
            return agent.manager_id
        for team in self._teams.values():
            if agent_id in team.members and team.manager_id:
                return team.manager_id
        return None

    def is_available(self, agent: Agent, at: datetime) -> bool:
        """Not away, and the ``available`` callable (if any) agrees."""
        if agent.away:
            return False
        return True if self._available is None else self._available(agent, at)
