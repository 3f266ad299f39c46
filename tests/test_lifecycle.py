"""Workflows: presets, validation, and machine/table agreement."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselib import (
    GateRequired,
    InvalidConfiguration,
    NoteRequired,
    StatusCategory,
    TransitionNotAllowed,
    UnknownValue,
    Workflow,
)
from caselib.cases import Status, Transition
from caselib.testing.strategies import workflows


class TestPresets:
    """The three shipped workflows match their documentation."""

    def test_default_edges(self) -> None:
        """The default workflow allows exactly the documented moves."""
        wf = Workflow.default().compile()
        edges = {(s, t) for s in wf.statuses for t in wf.allowed_transitions(s)}
        assert edges == {
            ("new", "open"), ("open", "in_progress"), ("in_progress", "pending_customer"),
            ("pending_customer", "resolved"), ("resolved", "closed"),
            ("pending_customer", "in_progress"), ("resolved", "open"), ("closed", "open"),
        }

    @pytest.mark.parametrize(("source", "target"), [
        ("new", "in_progress"), ("new", "resolved"), ("open", "resolved"),
        ("open", "closed"), ("in_progress", "closed"), ("new", "closed"),
    ])
    def test_default_never_skips_forward(self, source: str, target: str) -> None:
        """Skipping a step raises TransitionNotAllowed naming the allowed targets."""
        wf = Workflow.default().compile()
        with pytest.raises(TransitionNotAllowed) as info:
            wf.check(source, target, note="n")
        assert info.value.current == source
        assert info.value.allowed == wf.allowed_transitions(source)
        assert source in str(info.value)

    def test_resolve_and_close_need_notes(self) -> None:
        """Entering resolved or closed without a note is refused by the machine's gate."""
        wf = Workflow.default().compile()
        with pytest.raises(NoteRequired):
            wf.check("pending_customer", "resolved")
        with pytest.raises(NoteRequired):
            wf.check("resolved", "closed", note="   ")
        wf.check("resolved", "closed", note="ok")

    def test_simple(self) -> None:
        """Simple: Pending ↔ Open, labels as in the CRM."""
        wf = Workflow.simple().compile()
        assert wf.can_transition("open", "pending") and wf.can_transition("pending", "open")
        assert [s.label for s in wf.workflow.statuses] == [
            "New", "Open", "Pending", "Resolved", "Closed"]
        assert wf.category("pending") is StatusCategory.WAITING

    def test_kanban_with_tenant_columns(self) -> None:
        """Board columns move freely; tenant columns map to categories; gates still apply."""
        wf = Workflow.kanban([("QA Review", "open"), ("Closed", "closed")]).compile()
        assert wf.statuses == ("backlog", "pending_agent", "in_progress", "pending_customer",
                               "resolved", "qa_review", "closed")
        assert wf.category("qa_review") is StatusCategory.OPEN
        wf.check("backlog", "qa_review")
        with pytest.raises(NoteRequired):
            wf.check("qa_review", "resolved")

    def test_round_trip_dict(self) -> None:
        """to_dict/from_dict keep a workflow identical."""
        for wf in (Workflow.default(), Workflow.simple(), Workflow.kanban([("X", "waiting")])):
            assert Workflow.from_dict(wf.to_dict()).to_dict() == wf.to_dict()


class TestValidation:
    """Broken workflows are refused when built, with a reason."""

    def test_unknown_status_in_transition(self) -> None:
        """A transition to a status that does not exist names it."""
        wf = Workflow("w", [Status("a", "new")], [Transition("a", "zzz")])
        with pytest.raises(InvalidConfiguration, match="zzz"):
            wf.compile()

    def test_unreachable_status(self) -> None:
        """A status nobody can reach is refused."""
        wf = Workflow("w", [Status("a", "new"), Status("b", "open"), Status("c", "open")],
                      [Transition("a", "b")])
        with pytest.raises(InvalidConfiguration, match="'c' cannot be reached"):
            wf.compile()

    def test_status_without_category(self) -> None:
        """from_dict refuses a status with no category."""
        with pytest.raises(InvalidConfiguration, match="no category"):
            Workflow.from_dict({"name": "w", "statuses": [{"id": "a"}], "transitions": []})

    def test_unknown_category(self) -> None:
        """An unknown category is refused."""
        with pytest.raises(InvalidConfiguration):
            Workflow.from_dict({"name": "w", "statuses": [{"id": "a", "category": "limbo"}],
                                "transitions": []})

    @pytest.mark.parametrize("bad", ["", "Has Space", "1st", "x" * 70])
    def test_bad_status_id(self, bad: str) -> None:
        """Status ids are snake_case identifiers."""
        with pytest.raises(InvalidConfiguration):
            Status(bad, "open")

    def test_duplicates_and_self_loops(self) -> None:
        """Duplicate statuses, duplicate transitions and self-loops are refused."""
        a, b = Status("a", "new"), Status("b", "open")
        with pytest.raises(InvalidConfiguration, match="twice"):
            Workflow("w", [a, a], []).compile()
        with pytest.raises(InvalidConfiguration, match="twice"):
            Workflow("w", [a, b], [Transition("a", "b"), Transition("a", "b")]).compile()
        with pytest.raises(InvalidConfiguration, match="itself"):
            Workflow("w", [a, b], [Transition("a", "a"), Transition("a", "b")]).compile()

    def test_unknown_gate(self) -> None:
        """Gates are from a closed list."""
        wf = Workflow("w", [Status("a", "new"), Status("b", "open")],
                      [Transition("a", "b", frozenset({"signature"}))])
        with pytest.raises(InvalidConfiguration, match="signature"):
            wf.compile()

    def test_unknown_status_lookups(self) -> None:
        """Asking about a status the workflow lacks raises UnknownValue with the choices."""
        wf = Workflow.default().compile()
        with pytest.raises(UnknownValue, match="in_progress"):
            wf.allowed_transitions("bogus")
        with pytest.raises(UnknownValue):
            wf.check("new", "bogus")


class TestMachineAgreesWithTable:
    """The compiled table (bulk paths) and the state machine (commands) never disagree."""

    @given(workflows(), st.data())
    def test_random_workflows(self, workflow: Workflow, data: st.DataObject) -> None:
        """For every pair of statuses, the machine accepts exactly the table's transitions."""
        wf = workflow.compile()
        note = data.draw(st.sampled_from([None, "a note"]))
        assignee = data.draw(st.sampled_from([None, "ana"]))
        for source in wf.statuses:
            for target in wf.statuses:
                in_table = wf.can_transition(source, target)
                gates = wf.gates(source, target) if in_table else frozenset()
                failing = {g for g, value in (("note", note), ("assignee", assignee))
                           if g in gates and not value}
                gated = bool(failing)
                refused: GateRequired | None = None
                try:
                    wf.check(source, target, note=note, assignee=assignee)
                except TransitionNotAllowed:
                    assert not in_table
                    continue
                except GateRequired as err:
                    refused = err
                if refused is None:
                    assert in_table and not gated
                else:
                    assert in_table and gated
                    assert refused.gate in failing  # the error names a gate that really failed
                    assert isinstance(refused, NoteRequired) == (refused.gate == "note")

    @given(workflows())
    def test_resolved_and_closed_always_gated(self, workflow: Workflow) -> None:
        """Every transition into a resolved/closed status carries the note gate."""
        wf = workflow.compile()
        for source in wf.statuses:
            for target in wf.allowed_transitions(source):
                if wf.category(target) in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
                    assert "note" in wf.gates(source, target)

    def test_pooled_machine_is_per_thread(self) -> None:
        """Two threads checking transitions at once do not see each other's status."""
        import threading

        wf = Workflow.default().compile()
        errors: list[BaseException] = []

        def work(source: str, target: str) -> None:
            try:
                for _ in range(300):
                    wf.check(source, target, note="n")
            except BaseException as err:  # pragma: no cover - reported below
                errors.append(err)

        threads = [threading.Thread(target=work, args=pair) for pair in
                   [("new", "open"), ("resolved", "closed"), ("closed", "open")]]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
