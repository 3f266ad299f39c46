"""Routing and assignment wired into ServiceDesk: create, re-route, sticky, strategies."""

from __future__ import annotations

from collections import Counter

import pytest

from actors import READER
from caselib import Actor, InvalidConfiguration, MemoryStore, ServiceDesk, TenantSettings
from caselib.routing import Agent, Router, RuleSet, StaticDirectory, Team
from caselib.testing import FrozenClock


def desk_with(clock: FrozenClock, *, rules: list[dict[str, object]] | None = None,
              directory: StaticDirectory | None = None) -> ServiceDesk:
    settings = TenantSettings()
    if rules is not None:
        base = settings.router
        assert base is not None
        settings = TenantSettings(router=Router(RuleSet.from_dicts(rules), base.fallbacks))
    return ServiceDesk(MemoryStore(), clock=clock, settings=settings, directory=directory)


class TestRoutingOnCreate:
    """Every new case lands in a queue, with the reason on its timeline."""

    @pytest.mark.parametrize(("fields", "team"), [
        ({"category": "Billing"}, "finance"),
        ({"category": "Technical"}, "engineering"),
        ({"category": "Account"}, "support"),
        ({}, "support"),
        ({"reason_code": "missing_part"}, "purchasing"),
        ({"reason_code": "wrong_item", "category": "Billing"}, "warehouse"),
        ({"reason_code": "site_not_ready"}, "branch_manager"),
        ({"reason_code": "access_issue"}, "branch_manager"),
        ({"reason_code": "damaged", "category": "Technical"}, "engineering"),
    ])
    def test_fallback_maps(self, clock: FrozenClock, agent: Actor, fields: dict[str, str],
                           team: str) -> None:
        """Default router: reason-code map, then category map, else support."""
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, **fields)
        assert case.team == team and case.assignee is None
        routed = next(e for e in case.timeline if e.kind == "routed")
        assert routed.body and routed.data["decision"]["team"] == team
        assert not case.assigned_manually

    def test_tenant_rules_win(self, clock: FrozenClock, agent: Actor) -> None:
        """A matching tenant rule beats the fallback maps and may name an owner."""
        desk = desk_with(clock, rules=[{
            "id": "gold-billing",
            "when": {"all": [{"field": "category", "equals": "billing"},
                             {"field": "tier", "equals": "gold"}]},
            "then": {"team": "vip_finance", "owner": "fatima"}}])
        gold = desk.create_case(subject="x", actor=agent, category="Billing",
                                custom={"tier": "gold"})
        plain = desk.create_case(subject="y", actor=agent, category="Billing")
        assert (gold.team, gold.assignee) == ("vip_finance", "fatima")
        assert "gold-billing" in next(e for e in gold.timeline if e.kind == "routed").body
        assert (plain.team, plain.assignee) == ("finance", None)

    def test_explicit_assignment_skips_routing(self, clock: FrozenClock, agent: Actor) -> None:
        """A case created with a team or assignee is assigned by hand, not routed."""
        case = desk_with(clock).create_case(subject="x", actor=agent, category="Billing",
                                            team="frontline")
        assert case.team == "frontline" and case.assigned_manually
        assert not any(e.kind == "routed" for e in case.timeline)

    def test_route_preview_creates_nothing(self, clock: FrozenClock) -> None:
        """route_preview explains a decision without writing."""
        desk = desk_with(clock)
        decision = desk.route_preview({"reason_code": "wrong_item"})
        assert decision.team == "warehouse" and "wrong_item" in decision.text
        assert desk.count_by_status(actor=READER) == {}

    def test_routing_off(self, clock: FrozenClock, agent: Actor) -> None:
        """router=None leaves new cases unqueued and preview refuses."""
        desk = ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(router=None))
        assert desk.create_case(subject="x", actor=agent).team is None
        with pytest.raises(InvalidConfiguration):
            desk.route_preview({})


class TestReRouting:
    """Category or reason-code changes re-route, except sticky manual assignments."""

    def test_reroute_on_category_change(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Account")
        case = desk.update_fields(case.id, {"category": "Billing"}, actor=agent)
        assert case.team == "finance"

    def test_manual_assignment_is_sticky(self, clock: FrozenClock, agent: Actor) -> None:
        """A hand-assigned case keeps its queue unless re-routing is forced."""
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Account")
        case = desk.assign(case.id, assignee="bo", team="escalations", actor=agent)
        case = desk.update_fields(case.id, {"category": "Billing"}, actor=agent)
        assert (case.team, case.assignee) == ("escalations", "bo")
        case = desk.update_fields(case.id, {"reason_code": "missing_part"}, actor=agent,
                                  force_reroute=True)
        assert case.team == "purchasing" and not case.assigned_manually

    def test_reroute_command(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock)
        case = desk.create_case(subject="x", actor=agent, category="Billing", team="other")
        assert desk.reroute(case.id, actor=agent).team == "other"
        assert desk.reroute(case.id, actor=agent, force=True).team == "finance"


def directory(strategy: str, *, away: frozenset[str] = frozenset(),
              capacity: int | None = None) -> StaticDirectory:
    agents = [Agent(a, a.title(), away=a in away, capacity=capacity,
                    skills=frozenset({"sap"}) if a == "cy" else frozenset())
              for a in ("ann", "bob", "cy")]
    team = Team("finance", "Finance", strategy, members=("ann", "bob", "cy"),
                queue_contact="lead@example.com", manager_id="mgr")
    return StaticDirectory([team], agents)


class TestAssignmentInTeams:
    """Team strategies assign new cases through the Directory port."""

    def test_round_robin_is_fair(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock, directory=directory("round_robin"))
        owners = Counter(desk.create_case(subject=f"c{i}", actor=agent,
                                          category="Billing").assignee for i in range(10))
        assert sorted(owners.values()) == [3, 3, 4]

    def test_away_agent_never_assigned(self, clock: FrozenClock, agent: Actor) -> None:
        desk = desk_with(clock, directory=directory("round_robin", away=frozenset({"bob"})))
        owners = {desk.create_case(subject=f"c{i}", actor=agent, category="Billing").assignee
                  for i in range(6)}
        assert owners == {"ann", "cy"}

    def test_least_loaded_with_capacity(self, clock: FrozenClock, agent: Actor) -> None:
        """Capacity is never exceeded; past it, cases stay in the queue with a reason."""
        desk = desk_with(clock, directory=directory("least_loaded", capacity=1))
        cases = [desk.create_case(subject=f"c{i}", actor=agent, category="Billing")
                 for i in range(4)]
        assert sorted(c.assignee or "-" for c in cases) == ["-", "ann", "bob", "cy"]
        left = next(c for c in cases if c.assignee is None)
        assert left.team == "finance"
        skipped = next(e for e in left.timeline if e.kind == "assignment_skipped")
        assert skipped.data["notify"] == "lead@example.com" and skipped.body

    def test_skills(self, clock: FrozenClock, agent: Actor) -> None:
        """A case tagged skill:sap only goes to agents with that skill."""
        desk = desk_with(clock, directory=directory("round_robin"))
        owners = {desk.create_case(subject=f"c{i}", actor=agent, category="Billing",
                                   tags=["skill:sap"]).assignee for i in range(3)}
        assert owners == {"cy"}
