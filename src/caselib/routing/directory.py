"""Who works where: the host's people directory, as caselib sees it.

The :class:`Directory` port answers which agents a team has, who an agent's manager is and
whether an agent is available now; routing, assignment and SLA breach notifications read it.
A directory that also knows each branch's manager implements :class:`BranchDirectory` (one
more method); :class:`StaticDirectory` is a plain in-memory implementation of both for small
hosts, demos and tests.

Why a second protocol rather than a new method on :class:`Directory`: hosts implement the port
structurally (no base class), so a new required method would make every existing host
directory fail type checks, and a default body in a Protocol is inherited only by classes
that subclass it. caselib asks for the method with :func:`branch_manager_of` and, when a
directory lacks it, routes as before (the case waits in the branch managers' queue).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Protocol

from caselib.routing.assignment import Agent, Team

__all__ = ["BranchDirectory", "Directory", "StaticDirectory", "branch_manager_of"]


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


class BranchDirectory(Directory, Protocol):
    """A :class:`Directory` that also knows who manages each branch (optional extension)."""

    def branch_manager(self, branch: str) -> str | None:
        """The agent id of ``branch``'s manager, or ``None`` if caselib should leave the case
        in the branch managers' queue.

        ``branch`` is the value of the fact :class:`~caselib.routing.BranchRouting` names
        (``custom.branch`` by default, or an installation id when the tenant routes by the
        ``installation`` link). caselib then checks :meth:`is_available` for that agent when
        :meth:`agent` knows them, so an away manager is not given the case.
        """
        ...


def branch_manager_of(directory: Directory | None) -> Callable[[str], str | None] | None:
    """The directory's ``branch_manager`` method, or ``None`` when it has none."""
    method = getattr(directory, "branch_manager", None)
    return method if callable(method) else None


class StaticDirectory:
    """A :class:`BranchDirectory` built from lists; ``available`` defaults to "unless away".

    ``branches`` maps a branch (or installation id) to its manager's agent id.
    """

    def __init__(
        self,
        teams: Iterable[Team] = (),
        agents: Iterable[Agent] = (),
        available: Callable[[Agent, datetime], bool] | None = None,
        branches: Mapping[str, str] | None = None,
    ) -> None:
        self._teams = {t.id: t for t in teams}
        self._agents = {a.id: a for a in agents}
        self._available = available
        self._branches = dict(branches or {})

    def __repr__(self) -> str:
        return (f"<StaticDirectory teams={len(self._teams)} agents={len(self._agents)} "
                f"branches={len(self._branches)}>")

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

    def branch_manager(self, branch: str) -> str | None:
        """Look the branch up in ``branches``."""
        return self._branches.get(branch)
