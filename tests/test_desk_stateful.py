"""Random command sequences through ServiceDesk, checked against a small reference model."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from actors import READER
from caselib import (
    Actor,
    Audience,
    CaselibError,
    CommandRefused,
    ConcurrencyConflict,
    InvalidInput,
    MemoryStore,
    NoteRequired,
    PermissionDenied,
    Priority,
    ServiceDesk,
    TransitionNotAllowed,
)
from caselib.testing import FrozenClock

# The default workflow as the issue states it, written out independently of lifecycle.py.
ALLOWED = {
    ("new", "open"), ("open", "in_progress"), ("in_progress", "pending_customer"),
    ("pending_customer", "resolved"), ("resolved", "closed"),
    ("pending_customer", "in_progress"), ("resolved", "open"), ("closed", "open"),
}
NOTE_NEEDED = {"resolved", "closed"}
INACTIVE = {"resolved", "closed"}
STATUSES = ["new", "open", "in_progress", "pending_customer", "resolved", "closed"]
AGENT = Actor.agent("ana")
CUSTOMER = Actor.customer("cust-1")


class DeskMachine(RuleBasedStateMachine):
    """Drives one desk; the model tracks what every case must look like."""

    cases = Bundle("cases")

    @initialize()
    def setup(self) -> None:
        self.clock = FrozenClock()
        self.desk = ServiceDesk(MemoryStore(), tenant="t", clock=self.clock)
        self.model: dict[str, dict[str, Any]] = {}
        self.timelines: dict[str, list[Any]] = {}

    def _expect(self, case_id: str, *, changed: bool) -> None:
        case = self.desk.get_case(case_id, actor=READER)
        m = self.model[case_id]
        if changed:
            m["version"] += 1
        assert case.version == m["version"], (case.version, m)
        assert case.status == m["status"]
        assert len(case.resolutions) == m["resolutions"]
        old = self.timelines[case_id]
        assert len(case.timeline) >= len(old)
        for before, now in zip(old, case.timeline, strict=False):
            # append-only: an entry keeps its position, audience, kind, author and time
            assert (before.seq, before.audience, before.kind, before.actor, before.at) == (
                now.seq, now.audience, now.kind, now.actor, now.at)
            assert now.body == before.body or now.redaction is not None
        if not changed:
            assert len(case.timeline) == len(old)
        self.timelines[case_id] = list(case.timeline)

    @rule(target=cases, priority=st.sampled_from(["low", "medium", "high", "critical"]))
    def create(self, priority: str) -> str:
        self.clock.advance(minutes=1)
        case = self.desk.create_case(subject="Broken thing", actor=AGENT, priority=priority,
                                     links={"contact": CUSTOMER.id})
        self.model[case.id] = {"status": "new", "version": 1, "resolutions": 0,
                               "priority": Priority.parse(priority)}
        self.timelines[case.id] = list(case.timeline)
        return case.id

    @rule(case_id=cases, to=st.sampled_from(STATUSES),
          note=st.sampled_from([None, "", "done and checked"]))
    def transition(self, case_id: str, to: str, note: str | None) -> None:
        self.clock.advance(minutes=1)
        m = self.model[case_id]
        allowed = (m["status"], to) in ALLOWED
        needs_note = to in NOTE_NEEDED and not note
        try:
            self.desk.transition(case_id, to, actor=AGENT, note=note)
        except TransitionNotAllowed:
            assert not allowed
            self._expect(case_id, changed=False)
            return
        except NoteRequired:
            assert allowed and needs_note
            self._expect(case_id, changed=False)
            return
        assert allowed and not needs_note
        if to == "resolved":
            m["resolutions"] += 1
        m["status"] = to
        self._expect(case_id, changed=True)

    @rule(case_id=cases)
    def progress(self, case_id: str) -> None:
        """Take the next happy-path step, so deep statuses are explored often."""
        nxt = {"new": "open", "open": "in_progress", "in_progress": "pending_customer",
               "pending_customer": "resolved", "resolved": "closed", "closed": "open"}
        self.transition(case_id, nxt[self.model[case_id]["status"]], "done and checked")

    @rule(case_id=cases)
    def reopen(self, case_id: str) -> None:
        self.clock.advance(minutes=1)
        m = self.model[case_id]
        try:
            self.desk.reopen(case_id, actor=CUSTOMER, reason="still broken")
        except TransitionNotAllowed:
            assert m["status"] not in INACTIVE
            self._expect(case_id, changed=False)
            return
        assert m["status"] in INACTIVE
        m["status"] = "open"
        self._expect(case_id, changed=True)

    @rule(case_id=cases, body=st.sampled_from(["hi", "checking", "  spaced  "]),
          audience=st.sampled_from(list(Audience)), customer=st.booleans())
    def comment(self, case_id: str, body: str, audience: Audience, customer: bool) -> None:
        self.clock.advance(seconds=30)
        actor = CUSTOMER if customer else AGENT
        try:
            self.desk.add_comment(case_id, body, actor=actor, audience=audience)
        except InvalidInput:
            assert audience is Audience.SYSTEM
            self._expect(case_id, changed=False)
            return
        except PermissionDenied:
            assert customer and audience is Audience.INTERNAL
            self._expect(case_id, changed=False)
            return
        if customer and self.model[case_id]["status"] == "pending_customer":
            self.model[case_id]["status"] = "in_progress"  # the answer puts it back to work
        self._expect(case_id, changed=True)

    @rule(case_id=cases, data=st.data())
    def redact(self, case_id: str, data: st.DataObject) -> None:
        case = self.desk.get_case(case_id, actor=READER)
        seq = data.draw(st.integers(1, len(case.timeline)))
        entry = case.timeline[seq - 1]
        try:
            self.desk.redact_comment(case_id, seq, reason="posted a password", actor=AGENT)
        except InvalidInput:
            assert not entry.is_comment or entry.redaction is not None
            self._expect(case_id, changed=False)
            return
        assert entry.is_comment
        self._expect(case_id, changed=True)
        assert self.desk.get_case(case_id, actor=READER).timeline[seq - 1].body == ""

    @rule(case_id=cases, priority=st.sampled_from(["low", "normal", "medium", "urgent", "x"]))
    def priority(self, case_id: str, priority: str) -> None:
        m = self.model[case_id]
        try:
            self.desk.change_priority(case_id, priority, actor=AGENT)
        except InvalidInput:
            assert priority == "x"
            self._expect(case_id, changed=False)
            return
        new = Priority.parse(priority)
        changed = new is not m["priority"]
        m["priority"] = new
        self._expect(case_id, changed=changed)

    @rule(case_id=cases, score=st.integers(0, 6))
    def rate(self, case_id: str, score: int) -> None:
        m = self.model[case_id]
        try:
            self.desk.rate(case_id, score, actor=CUSTOMER)
        except InvalidInput:
            assert not 1 <= score <= 5 or (m["status"] not in INACTIVE and not m.get("rated"))
            self._expect(case_id, changed=False)
            return
        except CommandRefused:  # rated once already: a rating is never overwritten
            assert 1 <= score <= 5 and m.get("rated")
            self._expect(case_id, changed=False)
            return
        assert 1 <= score <= 5 and m["status"] in INACTIVE and not m.get("rated")
        m["rated"] = True
        self._expect(case_id, changed=True)

    @precondition(lambda self: bool(self.model))
    @rule(case_id=cases)
    def stale_save(self, case_id: str) -> None:
        stale = self.model[case_id]["version"] - 1
        with pytest.raises(ConcurrencyConflict):
            self.desk.add_comment(case_id, "late", actor=AGENT, expected_version=stale)
        self._expect(case_id, changed=False)

    @invariant()
    def histories_are_consistent(self) -> None:
        for case_id in self.model:
            case = self.desk.get_case(case_id, actor=READER)
            statuses = ["new"]
            for entry in case.timeline:
                if entry.kind == "status_changed":
                    old, new = entry.data["old"], entry.data["new"]
                    assert (old, new) in ALLOWED, (old, new)
                    assert old == statuses[-1]
                    statuses.append(new)
                    if new in NOTE_NEEDED:
                        assert entry.body.strip(), "entering resolved/closed without a note"
            assert statuses[-1] == case.status
            view = self.desk.customer_view(case_id, actor=READER)
            public = [e.seq for e in case.timeline if e.audience is Audience.PUBLIC]
            assert [r.seq for r in view.replies] == public
            assert all(case.timeline[s - 1].audience is Audience.PUBLIC for s in public)

    def teardown(self) -> None:
        self.clock.advance(timedelta(0))


TestDeskStateful = DeskMachine.TestCase


def test_caselib_errors_are_one_tree() -> None:
    """Every refusal the machine expects derives from CaselibError."""
    for err in (ConcurrencyConflict, InvalidInput, NoteRequired, PermissionDenied,
                TransitionNotAllowed):
        assert issubclass(err, CaselibError)
