"""A priority change after a breach: the breach entry, the summary and explain_due agree.

A breach is history (it keeps the due time it ran past), while the due time is re-derived on
every priority change; the explanation must say which priority change moved the due time, from
what to what, and never call an earlier due time "later".
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import Actor, CaseSummary, MemoryStore, Priority, ServiceDesk, TenantSettings
from caselib.ports import Store
from caselib.sla import SlaPolicies, SlaPolicy, evaluate, explain_due
from caselib.testing import FrozenClock

ADMIN = Actor.system("sweeper")
ANA = Actor.agent("ana")
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
POLICY = SlaPolicy.from_dict({
    "id": "biz", "name": "Business",
    "calendar": {"timezone": "UTC",
                 "hours": {d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}},
    "targets": {"urgent": {"first_response": "15m"}, "high": {"first_response": "30m"},
                "normal": {"first_response": "7h30m"}, "low": {"first_response": "16h"}},
})


def make_desk() -> tuple[ServiceDesk, FrozenClock]:
    clock = FrozenClock(START)
    desk = ServiceDesk(MemoryStore(), clock=clock,
                       settings=TenantSettings(sla=SlaPolicies(default=POLICY)))
    return desk, clock


def breached_then_raised() -> tuple[ServiceDesk, FrozenClock, str]:
    """The reviewer's case: due 16:30 at normal, swept at 17:00, raised to high (due 09:30)."""
    desk, clock = make_desk()
    case = desk.create_case(subject="Printer", actor=ANA, priority="normal")
    clock.advance(hours=8)
    desk.sweep_breaches(actor=ADMIN)
    return desk, clock, case.id


class TestBreachThenPriorityChange:
    def test_the_three_figures(self) -> None:
        desk, clock, case_id = breached_then_raised()
        case = desk.get_case(case_id, actor=ANA)
        [entry] = [e for e in case.timeline if e.kind == "sla_breached"]
        assert "due 2026-01-05 16:30 UTC" in entry.body  # what it breached against
        [due] = CaseSummary.of(case).sla_at(clock.now())
        assert (due.state, due.due_at) == ("breached", datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
        [stored] = case.sla_targets
        assert stored.breached_at == datetime(2026, 1, 5, 16, 30, tzinfo=UTC)
        explanation = desk.explain_due(case_id, "first_response", actor=ANA)
        assert explanation.due_at == due.due_at

    def test_explanation_says_which_change_moved_the_due_and_how(self) -> None:
        desk, _, case_id = breached_then_raised()
        explanation = desk.explain_due(case_id, "first_response", actor=ANA)
        text = explanation.text
        assert "moves later" not in text
        assert ("Priority normal → high Mon 5 Jan 17:00 (breach sweep): due time re-derived "
                "Mon 5 Jan 16:30 → Mon 5 Jan 09:30 (earlier).") in text
        assert ("Breached at Mon 5 Jan 16:30, the due time it ran past then; the breach stays "
                "on record although the due time is now Mon 5 Jan 09:30.") in text
        [move] = explanation.priority_changes
        assert (move.old_priority, move.new_priority, move.direction) == (
            Priority.NORMAL, Priority.HIGH, "earlier")
        assert (move.old_due, move.new_due) == (datetime(2026, 1, 5, 16, 30, tzinfo=UTC),
                                                datetime(2026, 1, 5, 9, 30, tzinfo=UTC))

    def test_lowering_it_again_says_later(self) -> None:
        desk, clock, case_id = breached_then_raised()
        clock.advance(minutes=5)
        desk.change_priority(case_id, "low", actor=ANA)
        explanation = desk.explain_due(case_id, "first_response", actor=ANA)
        assert [(m.old_priority.value, m.new_priority.value, m.direction)
                for m in explanation.priority_changes] == [("normal", "high", "earlier"),
                                                           ("high", "low", "later")]
        assert ("Priority high → low Mon 5 Jan 17:05: due time re-derived "
                "Mon 5 Jan 09:30 → Tue 6 Jan 17:00 (later).") in explanation.text
        assert "Breached at Mon 5 Jan 16:30" in explanation.text

    def test_a_change_back_to_the_breached_due_is_plain(self) -> None:
        desk, _, case_id = breached_then_raised()
        desk.change_priority(case_id, "normal", actor=ANA)
        text = desk.explain_due(case_id, "first_response", actor=ANA).text
        assert ("Breached at Mon 5 Jan 16:30; the breach stays on record whichever way a "
                "priority change moves the due time.") in text

    def test_no_change_no_line(self) -> None:
        desk, _, _ = breached_then_raised()
        case = desk.create_case(subject="Other", actor=ANA, priority="normal")
        explanation = desk.explain_due(case.id, "first_response", actor=ANA)
        assert explanation.priority_changes == ()
        assert "Priority" not in explanation.text


PRIORITIES = [p.value for p in Priority]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.tuples(st.sampled_from(PRIORITIES), st.integers(0, 600),
                                st.booleans()), max_size=6))
def test_priority_changes_agree_everywhere(steps: list[tuple[str, int, bool]]) -> None:
    """Over any run of priority changes and sweeps: the summary, evaluate and explain_due
    give one due time; every breach keeps the due its entry names; each change is explained
    with the direction its due times actually moved."""
    desk, clock = make_desk()
    case = desk.create_case(subject="x", actor=ANA, priority="normal")
    for priority, minutes, sweep in steps:
        clock.advance(minutes=minutes)
        if sweep:
            desk.sweep_breaches(actor=ADMIN)
        desk.change_priority(case.id, priority, actor=ANA)
    clock.advance(minutes=1)
    desk.sweep_breaches(actor=ADMIN)
    case = desk.get_case(case.id, actor=ANA)
    now = clock.now()
    explanation = desk.explain_due(case.id, "first_response", actor=ANA)
    [due] = CaseSummary.of(case).sla_at(now)
    assert due.due_at == explanation.due_at == evaluate(case, POLICY, now).target(
        "first_response").due_at
    breaches = [e for e in case.timeline if e.kind == "sla_breached"]
    [stored] = case.sla_targets
    if breaches:
        assert stored.breached_at is not None
        assert f"due {stored.breached_at:%Y-%m-%d %H:%M} UTC" in breaches[0].body
    changes = [e for e in case.timeline if e.kind == "priority_changed"
               or (e.kind == "sla_breached" and "new_priority" in e.data)]
    assert len(explanation.priority_changes) == len(changes)
    for move in explanation.priority_changes:
        assert move.old_due is not None and move.new_due is not None
        word = ("earlier" if move.new_due < move.old_due
                else "later" if move.new_due > move.old_due else "unchanged")
        assert move.direction == word
        assert f"({word})" in explanation.text
    assert "moves later" not in explanation.text
    if explanation.priority_changes:
        assert explanation.priority_changes[-1].new_due == explanation.due_at


def test_pure_explain_due_reads_the_timeline() -> None:
    desk, clock, case_id = breached_then_raised()
    case = desk.get_case(case_id, actor=ANA)
    found = explain_due(case, POLICY, "first_response", clock.now())
    assert re.search(r"Priority normal → high .*\(earlier\)", found.text)


@pytest.mark.parametrize("priority", ["urgent", "high"])
def test_raised_before_any_breach(priority: str) -> None:
    desk, clock = make_desk()
    case = desk.create_case(subject="x", actor=ANA, priority="normal")
    clock.advance(minutes=10)
    desk.change_priority(case.id, priority, actor=ANA)
    text = desk.explain_due(case.id, "first_response", actor=ANA).text
    assert "(earlier)" in text and "Breached" not in text


def test_the_document_carries_the_moves() -> None:
    from caselib import serialize

    desk, _, case_id = breached_then_raised()
    doc = serialize.to_dict(desk.explain_due(case_id, "first_response", actor=ANA))
    assert doc["priority_changes"] == [{
        "at": "2026-01-05T17:00:00.000000+00:00", "old_priority": "normal",
        "new_priority": "high", "old_due": "2026-01-05T16:30:00.000000+00:00",
        "new_due": "2026-01-05T09:30:00.000000+00:00", "by_sweep": True,
        "direction": "earlier"}]


class TestSummaryRow:
    """A list row shows both times of a breached target, from every store."""

    def test_breached_at_beside_the_current_due(self, make_store: Callable[[], Store]) -> None:
        clock = FrozenClock(START)
        desk = ServiceDesk(make_store(), clock=clock,
                           settings=TenantSettings(sla=SlaPolicies(default=POLICY)))
        case = desk.create_case(subject="Printer", actor=ANA, priority="normal")
        clock.advance(hours=8)
        desk.sweep_breaches(actor=ADMIN)
        [row] = desk.find_cases(actor=ANA).items
        [due] = row.sla_at(clock.now())
        assert (due.state, due.breached_at, due.due_at) == (
            "breached", datetime(2026, 1, 5, 16, 30, tzinfo=UTC),
            datetime(2026, 1, 5, 9, 30, tzinfo=UTC))
        assert row == CaseSummary.of(desk.get_case(case.id, actor=ANA))

    def test_a_running_target_has_none(self) -> None:
        desk, _ = make_desk()
        case = desk.create_case(subject="x", actor=ANA)
        assert [d.breached_at for d in CaseSummary.of(case).sla] == [None]

    def test_the_document_round_trips(self) -> None:
        from caselib import serialize

        desk, _, case_id = breached_then_raised()
        row = CaseSummary.of(desk.get_case(case_id, actor=ANA))
        doc = serialize.to_dict(row)
        assert doc["sla"][0]["breached_at"] == "2026-01-05T16:30:00.000000+00:00"
        assert serialize.from_dict(doc, CaseSummary) == row
        del doc["sla"][0]["breached_at"]  # a document written before 0.3
        assert serialize.from_dict(doc, CaseSummary).sla[0].breached_at is None


def test_a_change_while_paused_says_so() -> None:
    desk, clock = make_desk()
    case = desk.create_case(subject="x", actor=ANA, priority="normal")
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, status, actor=ANA)
    clock.advance(minutes=10)
    desk.change_priority(case.id, "high", actor=ANA)
    explanation = desk.explain_due(case.id, "first_response", actor=ANA)
    [move] = explanation.priority_changes
    assert (move.old_due, move.new_due, move.direction) == (None, None, "unchanged")
    assert "due time re-derived none while paused → none while paused (unchanged)." in (
        explanation.text)


def test_a_change_from_a_priority_without_the_target() -> None:
    policy = SlaPolicy.from_dict({**POLICY.to_dict(), "targets": {
        **POLICY.to_dict()["targets"], "low": {}}})
    clock = FrozenClock(START)
    desk = ServiceDesk(MemoryStore(), clock=clock,
                       settings=TenantSettings(sla=SlaPolicies(default=policy)))
    case = desk.create_case(subject="x", actor=ANA, priority="low")
    clock.advance(minutes=10)
    desk.change_priority(case.id, "normal", actor=ANA)
    explanation = desk.explain_due(case.id, "first_response", actor=ANA)
    [move] = explanation.priority_changes
    assert move.direction == "set"
    assert "due time re-derived no target at low → Mon 5 Jan 16:30 (set)." in explanation.text


def test_every_store_keeps_the_row_current_through_priority_changes(
        make_store: Callable[[], Store]) -> None:
    """The list row of a case whose priority went up and down equals the loaded case's."""
    clock = FrozenClock(START)
    desk = ServiceDesk(make_store(), clock=clock,
                       settings=TenantSettings(sla=SlaPolicies(default=POLICY)))
    case = desk.create_case(subject="x", actor=ANA, priority="normal")
    for priority, minutes in (("urgent", 5), ("low", 600), ("high", 5)):
        clock.advance(minutes=minutes)
        desk.sweep_breaches(actor=ADMIN)
        desk.change_priority(case.id, priority, actor=ANA)
        [row] = desk.find_cases(actor=ANA).items
        assert row == CaseSummary.of(desk.get_case(case.id, actor=ANA))
