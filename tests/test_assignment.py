"""Tests for caselib.routing.assignment: strategies, filters and the explicit "nobody" outcome."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib.errors import InvalidConfiguration, InvalidInput, NaiveDatetime
from caselib.routing import (
    Agent,
    AgentLoad,
    AssignmentStrategy,
    SkipReason,
    Team,
    choose_assignee,
)

NOW = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
PROPS = settings(max_examples=100, deadline=None)

agent_snapshots = st.builds(
    lambda i, capacity, away, skills: Agent(
        f"a{i}", f"Agent {i}", capacity=capacity, away=away, skills=skills
    ),
    i=st.integers(0, 7),
    capacity=st.one_of(st.none(), st.integers(0, 4)),
    away=st.booleans(),
    skills=st.frozensets(st.sampled_from(["de", "sap", "fr"]), max_size=3),
)


def team_of(agents: list[Agent], strategy: str) -> Team:
    return Team("billing", "Billing", strategy, members=tuple(a.id for a in agents))


def simulate(
    team: Team, agents: list[Agent], n: int, needs: frozenset[str] = frozenset()
) -> tuple[Counter[str], dict[str, AgentLoad]]:
    """Assign ``n`` cases one after another, updating loads and the cursor as a store would."""
    loads = {a.id: AgentLoad(a.id) for a in agents}
    cursor: str | None = None
    got: Counter[str] = Counter()
    for i in range(n):
        now = NOW + timedelta(minutes=i)
        outcome = choose_assignee(team, agents, loads, needs_skills=needs, cursor=cursor, now=now)
        cursor = outcome.cursor
        if outcome.agent_id is not None:
            got[outcome.agent_id] += 1
            loads[outcome.agent_id] = loads[outcome.agent_id].after_assignment(now)
    return got, loads


unique_agents = st.lists(agent_snapshots, min_size=1, max_size=6, unique_by=lambda a: a.id)


class TestProperties:
    """Fairness and the hard limits, over random teams."""

    @PROPS
    @given(agents=unique_agents, n=st.integers(0, 40))
    def test_round_robin_is_fair(self, agents: list[Agent], n: int) -> None:
        """With no capacity limits, each eligible agent gets ⌊N/k⌋ or ⌈N/k⌉ cases."""
        agents = [Agent(a.id, a.name, away=a.away) for a in agents]  # no capacity
        eligible = [a.id for a in agents if not a.away]
        got, _ = simulate(team_of(agents, "round_robin"), agents, n)
        if not eligible:
            assert not got
            return
        k = len(eligible)
        assert sum(got.values()) == n
        for agent_id in eligible:
            assert got[agent_id] in (n // k, -(-n // k))

    @PROPS
    @given(
        agents=unique_agents,
        n=st.integers(0, 40),
        strategy=st.sampled_from(["round_robin", "least_loaded"]),
        needs=st.frozensets(st.sampled_from(["de", "SAP"]), max_size=1),
    )
    def test_capacity_away_and_skills_hold(
        self, agents: list[Agent], n: int, strategy: str, needs: frozenset[str]
    ) -> None:
        """No agent exceeds capacity; away or unskilled agents never receive a case."""
        got, loads = simulate(team_of(agents, strategy), agents, n, needs)
        for agent in agents:
            if agent.capacity is not None:
                assert loads[agent.id].open_cases <= agent.capacity
            if agent.away or not {s.casefold() for s in needs} <= agent.skills:
                assert got[agent.id] == 0

    @PROPS
    @given(agents=unique_agents, n=st.integers(0, 30))
    def test_least_loaded_keeps_loads_level(self, agents: list[Agent], n: int) -> None:
        """Without limits, least-loaded keeps open-case counts within one of each other."""
        agents = [Agent(a.id, a.name) for a in agents]
        _, loads = simulate(team_of(agents, "least_loaded"), agents, n)
        counts = [load.open_cases for load in loads.values()]
        assert max(counts) - min(counts) <= 1


class TestRoundRobin:
    """Turn taking over the ordered member list."""

    agents = (Agent("ann", "Ann"), Agent("bob", "Bob", away=True), Agent("cy", "Cy"))
    team = Team("billing", "Billing", "round_robin", members=("ann", "bob", "cy"))

    def test_starts_after_cursor_and_skips_ineligible(self) -> None:
        """Bob is away, so after Ann comes Cy, then Ann again."""
        first = choose_assignee(self.team, self.agents, {}, cursor="ann", now=NOW)
        assert (first.agent_id, first.cursor) == ("cy", "cy")
        assert first.skipped == (("bob", SkipReason.AWAY),)
        second = choose_assignee(self.team, self.agents, {}, cursor=first.cursor, now=NOW)
        assert second.agent_id == "ann"

    def test_unknown_cursor_restarts_from_the_top(self) -> None:
        """A cursor naming someone who left the team is not an error."""
        outcome = choose_assignee(self.team, self.agents, {}, cursor="gone", now=NOW)
        assert outcome.agent_id == "ann"

    def test_availability_callable(self) -> None:
        """A working-calendar check takes agents off shift."""
        outcome = choose_assignee(
            self.team, self.agents, {}, cursor=None, now=NOW, available=lambda a, _: a.id != "ann"
        )
        assert outcome.agent_id == "cy"
        assert ("ann", SkipReason.OFF_SHIFT) in outcome.skipped


class TestLeastLoaded:
    """Fewest open cases, then longest idle, then id."""

    team = Team("ops", "Ops", AssignmentStrategy.LEAST_LOADED, members=("b", "a", "c"))
    agents = (Agent("a", "A"), Agent("b", "B"), Agent("c", "C"))

    def test_fewest_open_cases(self) -> None:
        """The agent with the fewest open cases wins; the cursor is left alone."""
        loads = [AgentLoad("a", 3), AgentLoad("b", 1), AgentLoad("c", 2)]
        outcome = choose_assignee(self.team, self.agents, loads, cursor="x", now=NOW)
        assert (outcome.agent_id, outcome.cursor) == ("b", "x")
        assert "1 open case" in outcome.reason

    def test_tie_goes_to_longest_idle_then_id(self) -> None:
        """Never assigned beats assigned long ago beats assigned recently; then the id."""
        loads = [
            AgentLoad("a", 1, NOW - timedelta(hours=1)),
            AgentLoad("b", 1, NOW - timedelta(hours=5)),
            AgentLoad("c", 1, NOW - timedelta(hours=5)),
        ]
        assert choose_assignee(self.team, self.agents, loads, now=NOW).agent_id == "b"
        loads.append(AgentLoad("c", 1, None))
        assert choose_assignee(self.team, self.agents, loads, now=NOW).agent_id == "c"

    def test_skills_are_case_insensitive(self) -> None:
        """A case needing SAP goes to the agent with 'sap'."""
        agents = [Agent("a", "A"), Agent("b", "B", skills={"sap", "de"}), Agent("c", "C")]
        outcome = choose_assignee(self.team, agents, [], needs_skills={"SAP"}, now=NOW)
        assert outcome.agent_id == "b"


class TestNobodyEligible:
    """The explicit outcome when the case must stay in the queue."""

    def test_all_away_or_at_capacity(self) -> None:
        """The reason names the team, the head count and why."""
        team = Team(
            "billing", "billing", "round_robin", members=("a", "b", "c"), queue_contact="lead"
        )
        agents = [
            Agent("a", "A", away=True),
            Agent("b", "B", away=True),
            Agent("c", "C", capacity=2),
        ]
        outcome = choose_assignee(team, agents, [AgentLoad("c", 2)], cursor="b", now=NOW)
        assert outcome.agent_id is None
        assert not outcome.assigned
        assert outcome.cursor == "b"
        assert outcome.notify == "lead"
        assert outcome.reason.startswith(
            "all 3 agents in team 'billing' are away or at capacity (2 away, 1 at capacity)"
        )

    def test_strategy_none(self) -> None:
        """A 'none' team never assigns, even with free agents."""
        team = Team("t", "Desk", "none", members=("a",), queue_contact="lead")
        outcome = choose_assignee(team, [Agent("a", "A")], [], now=NOW)
        assert (outcome.agent_id, outcome.notify) == (None, "lead")
        assert "does not assign automatically" in outcome.reason

    def test_empty_team_and_unknown_member(self) -> None:
        """No members, or members without a snapshot, still give a reason."""
        empty = Team("t", "Empty", "least_loaded")
        assert "has no members" in choose_assignee(empty, [], [], now=NOW).reason
        ghost = Team("t", "Ghost", "least_loaded", members=("zed",))
        outcome = choose_assignee(ghost, [], [], now=NOW)
        assert outcome.skipped == (("zed", SkipReason.UNKNOWN),)
        assert "agent in team 'Ghost' is unknown agent" in outcome.reason


class TestValidation:
    """Bad snapshots fail loudly."""

    def test_naive_now(self) -> None:
        """``now`` must be timezone-aware."""
        team = Team("t", "T", "round_robin", members=("a",))
        with pytest.raises(NaiveDatetime):
            choose_assignee(team, [Agent("a", "A")], [], now=datetime(2025, 1, 1))

    def test_bad_values(self) -> None:
        """Unknown strategy, duplicate member, negative capacity, naive load time."""
        with pytest.raises(InvalidInput, match="strategy"):
            Team("t", "T", "random")
        with pytest.raises(InvalidConfiguration, match="twice"):
            Team("t", "T", "round_robin", members=("a", "a"))
        with pytest.raises(InvalidInput, match="capacity"):
            Agent("a", "A", capacity=-1)
        with pytest.raises(NaiveDatetime):
            AgentLoad("a", 0, datetime(2025, 1, 1))
        with pytest.raises(InvalidInput, match="collection"):
            Agent("a", "A", skills="sap")  # type: ignore[arg-type]
