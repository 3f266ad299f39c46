"""Chains of automations end: a rule never re-triggers itself, and rules that trigger one
another (A sets the priority, B's event fires and sets it back, A fires again …) stop past
``TenantSettings.automation_chain_limit`` rules in a row, saying so on the timeline and in
``explain_automation``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import Actor, InvalidConfiguration, MemoryStore, ServiceDesk, Store, TenantSettings
from caselib.automation import AutomationRule
from caselib.testing import FrozenClock

ADMIN = Actor.system("admin")
ANA = Actor.agent("ana", "support")
_CYCLE = ("low", "normal", "high", "urgent")


def cycle(length: int) -> list[AutomationRule]:
    """``length`` rules on ``case.priority_changed``, rule ``i`` moving the priority from the
    ``i``-th to the next one of a cycle: each rule's change fires the next rule. Listed last
    rule first: rules triggered by one event are checked in order against the case as the
    earlier ones left it, so in cycle order one event would run several links at once."""
    levels = _CYCLE[:length]
    return [*reversed([AutomationRule.from_dict({
        "id": f"r{i}", "trigger": {"event": "case.priority_changed"},
        "when": {"field": "priority", "equals": level},
        "actions": [{"do": "set_field", "field": "priority",
                     "value": levels[(i + 1) % length]}]})
        for i, level in enumerate(levels)])]


def _run_until_quiet(desk: ServiceDesk, *, runs: int = 30) -> dict[str, int]:
    """Run the sweep until a run applies nothing; the applications of each rule."""
    applied: dict[str, int] = {}
    for _ in range(runs):
        report = desk.run_automations()
        for rule, n in report.applied.items():
            applied[rule] = applied.get(rule, 0) + n
        if not report.total_applied and not report.chain_stopped:
            return applied
    raise AssertionError(f"automations still running after {runs} runs: {applied}")


def _desk(store: Store, clock: FrozenClock, length: int, limit: int | None = None
          ) -> ServiceDesk:
    extra: dict[str, Any] = {} if limit is None else {"automation_chain_limit": limit}
    desk = ServiceDesk(store, tenant="acme", clock=clock, settings=TenantSettings(**extra))
    desk.set_automation_rules(cycle(length), actor=ADMIN)
    return desk


def _chains(desk: ServiceDesk, cid: str) -> tuple[list[int], list[int]]:
    """The chain depth of each automation applied to the case, and of each one stopped."""
    case = desk.get_case(cid, actor=ANA)
    return ([e.data.get("chain", 1) for e in case.timeline if e.kind == "automation"],
            [e.data["chain"] for e in case.timeline if e.kind == "automation_stopped"])


def test_two_rules_that_undo_each_other_stop(make_store: Callable[[], Store],
                                             clock: FrozenClock) -> None:
    """The default limit (3): a person's change, then r0, r1, r0 (three rules in a row),
    and the fourth link is recorded as stopped, on every store; later runs do nothing."""
    store = make_store()
    desk = _desk(store, clock, 2)
    cid = desk.create_case(subject="Flapping", actor=ANA, priority="normal").id
    desk.change_priority(cid, "low", actor=ANA)  # the person's change: r0 (low → normal)
    applied = _run_until_quiet(desk)
    applied_chains, stopped_chains = _chains(desk, cid)
    assert max(applied_chains) == 3 and set(stopped_chains) == {4}
    assert desk.run_automations().total_applied == 0
    verdicts = desk.explain_automation(cid, actor=ANA)
    assert {v.reason.split(":", 1)[1].split(";")[0] for v in verdicts
            if v.outcome == "stopped"} == {" not applied, it would be automation 4 in a row "
                                           "(limit 3)"}
    assert applied == {"r0": 2, "r1": 1}
    case = desk.get_case(cid, actor=ANA)
    ran = [(e.data["rule"], e.data.get("chain", 1)) for e in case.timeline
           if e.kind == "automation"]
    assert ran == [("r0", 1), ("r1", 2), ("r0", 3)]
    [stop] = [e for e in case.timeline if e.kind == "automation_stopped"]
    assert (stop.data["rule"], stop.data["chain"], stop.data["limit"]) == ("r1", 4, 3)
    assert sorted((v.rule_id, v.outcome) for v in verdicts
                  if v.outcome in ("fired", "stopped")) == [
        ("r0", "fired"), ("r0", "fired"), ("r1", "fired"), ("r1", "stopped")]
    assert case.priority.value == "normal"  # where the last applied rule left it

    # a new cause (later) starts a new chain
    clock.advance(minutes=1)
    desk.change_priority(cid, "low", actor=ANA)
    assert _run_until_quiet(desk) == {"r0": 2, "r1": 1}


def test_a_rule_after_a_time_rule_counts_from_it(clock: FrozenClock) -> None:
    """A time rule is the first link: with limit 1 the event rule its action triggers is
    stopped."""
    rules = [AutomationRule.from_dict({
        "id": "bump", "trigger": {"time": {"since": "created", "days": 1}},
        "actions": [{"do": "set_field", "field": "priority", "value": "high"}]}),
        *[r for r in cycle(4) if r.id == "r2"]]  # r2: high → urgent, on bump's change
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                       settings=TenantSettings(automation_chain_limit=1))
    desk.set_automation_rules(rules, actor=ADMIN)
    cid = desk.create_case(subject="Old", actor=ANA).id
    desk.run_automations()
    clock.advance(days=2)
    assert _run_until_quiet(desk) == {"bump": 1}
    case = desk.get_case(cid, actor=ANA)
    assert [e.data["rule"] for e in case.timeline if e.kind == "automation_stopped"] == ["r2"]
    assert case.priority.value == "high"


@pytest.mark.parametrize("limit", [0, 21, 2.0, "3", True])
def test_the_limit_is_checked(limit: object) -> None:
    with pytest.raises(InvalidConfiguration, match="automation_chain_limit"):
        TenantSettings(automation_chain_limit=limit)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(length=st.integers(2, 4), limit=st.integers(1, 6), kicks=st.integers(1, 3))
def test_any_cycle_ends_within_the_limit(length: int, limit: int, kicks: int) -> None:
    """Rules in a cycle of any length under any limit: after each person's change the runs
    go quiet, no applied rule is deeper than the limit, every stop is one past it, and each
    rule applies a bounded number of times."""
    clock = FrozenClock()
    desk = _desk(MemoryStore(), clock, length, limit)
    cid = desk.create_case(subject="Cycle", actor=ANA, priority=_CYCLE[length - 1]).id
    total: dict[str, int] = {}
    for kick in range(kicks):
        desk.change_priority(cid, _CYCLE[kick % 2 * (length - 1)]
                             if kick % 2 else _CYCLE[0], actor=ANA)
        for rule, n in _run_until_quiet(desk).items():
            total[rule] = total.get(rule, 0) + n
        clock.advance(minutes=1)
    case = desk.get_case(cid, actor=ANA)
    chains = [e.data.get("chain", 1) for e in case.timeline if e.kind == "automation"]
    stops = [e.data["chain"] for e in case.timeline if e.kind == "automation_stopped"]
    assert chains and max(chains) <= limit
    assert stops and set(stops) == {limit + 1}
    assert max(total.values()) <= limit * kicks
