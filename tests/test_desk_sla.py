"""SLA clocks on the desk: re-derived dues, escalation, the breach sweep and its guarantees."""

from __future__ import annotations

import itertools
import signal
import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import Mock

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors import READER
from caselib import (
    Actor,
    Audience,
    InvalidConfiguration,
    InvalidInput,
    MemoryStore,
    PermissionDenied,
    Priority,
    ServiceDesk,
    StorageError,
    TenantSettings,
)
from caselib.desk.breach import _minutes
from caselib.ports import units_cross_threads
from caselib.routing import Agent, StaticDirectory, Team
from caselib.testing import FrozenClock, RecordingNotifier

ADMIN = Actor.system("sweeper")


def directory() -> StaticDirectory:
    return StaticDirectory(
        [Team("support", "Support", "none", members=("ana",), queue_contact="queue-lead",
              manager_id="boss")],
        [Agent("ana", "Ana", manager_id="mgr-ana")],
    )


@pytest.fixture
def sla_desk(clock: FrozenClock) -> ServiceDesk:
    return ServiceDesk(MemoryStore(), tenant="acme", clock=clock, directory=directory())


class _NoGetMany:
    """A case repository as an adapter written before ``get_many`` and ``query_cases``
    joined the port."""

    def __init__(self, inner: object) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> object:
        if name in ("get_many", "query_cases"):
            raise AttributeError(name)
        return getattr(self._inner, name)


class _Hiding(_NoGetMany):
    """A case repository whose ``get_many`` drops some ids (cases gone between the due
    query and the read)."""

    def __init__(self, inner: object, hide: set[str]) -> None:
        super().__init__(inner)
        self._hide = hide

    def get_many(self, ids: list[str]) -> list[Any]:
        inner: Any = self._inner
        return [c for c in inner.get_many(ids) if c.id not in self._hide]


class _StoreWithout(MemoryStore):
    def __init__(self, hide: set[str] | None = None) -> None:
        super().__init__()
        self.hide = hide

    def unit_of_work(self, tenant: str) -> Any:
        uow = super().unit_of_work(tenant)
        wrapped = _NoGetMany(uow.cases) if self.hide is None else _Hiding(uow.cases, self.hide)
        uow.cases = wrapped  # type: ignore[assignment]
        return uow


class _CommitSpy(MemoryStore):
    """A memory store that records which thread commits, and can break a commit: fail it,
    or let another writer change one of its cases just before it (a lost race)."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.fail_at: int | None = None  # the n-th commit from now raises StorageError
        self.race_at: int | None = None  # the n-th commit from now loses a race
        self.on_commit: Any = None  # called with n before the n-th commit
        self.log: list[tuple[str, int]] = []  # ("save" | "committed", unit of work number)
        self.opened = 0

    def unit_of_work(self, tenant: str) -> Any:
        uow = super().unit_of_work(tenant)
        commit, save = uow.commit, uow.cases.save
        self.opened += 1
        number = self.opened

        def saving(case: Any, expected: int) -> None:
            self.log.append(("save", number))
            save(case, expected)

        uow.cases.save = saving

        def spied() -> None:
            self.threads.append(threading.current_thread().name)
            n = len(self.threads)
            if self.on_commit is not None:
                self.on_commit(n)
            if n == self.fail_at:
                raise StorageError("disk full")
            if n == self.race_at:
                case_id = next(iter(uow._staged))
                with super(_CommitSpy, self).unit_of_work(tenant) as other:
                    case = other.cases.get(case_id)
                    case.add_comment("meanwhile", audience="internal",
                                     actor=Actor.agent("bo"), at=case.updated_at)
                    other.cases.save(case, case.version)
                    other.commit()
            commit()
            self.log.append(("committed", number))

        uow.commit = spied
        return uow


class _SerialSpy(_CommitSpy):
    units_cross_threads = False  # type: ignore[misc]  # units bound to their thread


class _FailingRead(MemoryStore):
    """A memory store whose n-th ``get_many`` raises (a read failing mid-sweep)."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.fail_at: int | None = None

    def unit_of_work(self, tenant: str) -> Any:
        uow = super().unit_of_work(tenant)
        get_many = uow.cases.get_many

        def failing(ids: list[str]) -> list[Any]:
            self.reads += 1
            if self.reads == self.fail_at:
                raise StorageError("connection lost")
            return get_many(ids)

        uow.cases.get_many = failing
        return uow


def target(case: object, name: str) -> object:
    return next(t for t in case.sla_targets if t.name == name)  # type: ignore[attr-defined]


class TestClocks:
    """Dues follow the default policy and are re-derived, never taken from 'now'."""

    def test_default_resolution_targets(self, sla_desk: ServiceDesk, agent: Actor,
                                        clock: FrozenClock) -> None:
        """Resolution: urgent 4 h, high 24 h, normal 72 h, low 168 h on a 24/7 calendar."""
        for prio, hours in (("urgent", 4), ("high", 24), ("normal", 72), ("low", 168)):
            case = sla_desk.create_case(subject=prio, actor=agent, priority=prio)
            assert target(case, "resolution").due_at == clock.now() + timedelta(hours=hours)

    def test_priority_change_rederives_from_start(self, sla_desk: ServiceDesk, agent: Actor,
                                                  clock: FrozenClock) -> None:
        start = clock.now()
        case = sla_desk.create_case(subject="x", actor=agent, priority="low")
        clock.advance(hours=2)
        case = sla_desk.change_priority(case.id, "urgent", actor=agent)
        assert target(case, "resolution").due_at == start + timedelta(hours=4)

    def test_waiting_pauses_the_clock(self, sla_desk: ServiceDesk, agent: Actor,
                                      clock: FrozenClock) -> None:
        start = clock.now()
        case = sla_desk.create_case(subject="x", actor=agent, priority="urgent")
        for status in ("open", "in_progress", "pending_customer"):
            case = sla_desk.transition(case.id, status, actor=agent)
        assert target(case, "resolution").state == "paused"
        clock.advance(hours=3)
        case = sla_desk.transition(case.id, "in_progress", actor=agent)
        assert target(case, "resolution").due_at == start + timedelta(hours=7)
        assert case.pauses and case.pauses[0].end == clock.now()

    def test_escalate(self, sla_desk: ServiceDesk, agent: Actor) -> None:
        """Escalation raises to high; urgent stays urgent, and the escalation is recorded
        all the same (level, reason, rungs), with a case.escalated event."""
        low = sla_desk.create_case(subject="x", actor=agent, priority="low")
        assert sla_desk.escalate(low.id, actor=agent).priority is Priority.HIGH
        top = sla_desk.create_case(subject="y", actor=agent, priority="urgent")
        again = sla_desk.escalate(top.id, actor=agent, reason="customer called twice")
        assert again.priority is Priority.URGENT
        [entry] = [e for e in again.timeline if e.kind == "escalated"]
        assert (entry.body, entry.data["level"], entry.data["old"], entry.data["new"]) == (
            "customer called twice", 1, "urgent", "urgent")
        moved = sla_desk.escalate(top.id, actor=agent, to_team="tier2")
        assert moved.team == "tier2"
        assert [e.data["level"] for e in moved.timeline if e.kind == "escalated"] == [1, 2]

    def test_explain_due(self, sla_desk: ServiceDesk, agent: Actor) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="high")
        explanation = sla_desk.explain_due(case.id, "resolution", actor=READER)
        assert explanation.due_at == target(case, "resolution").due_at
        assert explanation.text

    def test_sla_off(self, clock: FrozenClock, agent: Actor) -> None:
        desk = ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(sla=None))
        assert desk.create_case(subject="x", actor=agent).sla_targets == []
        with pytest.raises(InvalidConfiguration):
            desk.sweep_breaches(actor=ADMIN)


class TestSweep:
    """The breach sweep marks, escalates and notifies exactly once."""

    def test_marks_escalates_notifies(self, sla_desk: ServiceDesk, agent: Actor,
                                      clock: FrozenClock) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="high")
        sla_desk.assign(case.id, assignee="ana", actor=agent)
        sla_desk.add_comment(case.id, "on it", actor=agent, audience="public")
        clock.advance(hours=25)
        notifier = RecordingNotifier()
        report = sla_desk.sweep_breaches(actor=ADMIN, notifier=notifier)
        assert [b.target for b in report.breaches] == ["resolution"]
        assert {n.recipient for n in notifier.sent} == {"ana", "mgr-ana"}
        case = sla_desk.get_case(case.id, actor=READER)
        assert case.priority is Priority.URGENT and case.breached
        assert target(case, "resolution").state == "breached"
        assert any(e.kind == "sla_breached" for e in case.timeline)

    def test_notification_and_timeline_text(self, sla_desk: ServiceDesk, agent: Actor,
                                            clock: FrozenClock) -> None:
        """What the owner reads: subject and body, and a key made only of the case, the
        target, its due time and the recipient (so every attempt repeats it)."""
        case = sla_desk.create_case(subject="Printer jams", actor=agent, priority="high")
        sla_desk.assign(case.id, assignee="ana", actor=agent)
        sla_desk.add_comment(case.id, "on it", actor=agent, audience="public")
        clock.advance(hours=25)
        notifier = RecordingNotifier()
        sla_desk.sweep_breaches(actor=ADMIN, notifier=notifier)
        due = case.created_at + timedelta(hours=24)
        sent = {n.recipient: n for n in notifier.sent}
        assert sent["ana"].subject == f"SLA breached: {case.number} resolution"
        assert sent["ana"].body == (
            f"{case.number} 'Printer jams' missed its resolution target "
            f"(due {due:%Y-%m-%d %H:%M} UTC); priority high → urgent.")
        assert sent["mgr-ana"].key == f"{case.id}:resolution:{due.isoformat()}:mgr-ana"
        timeline = sla_desk.get_case(case.id, actor=READER).timeline
        entry = next(e for e in timeline if e.kind == "sla_breached")
        assert entry.body == (f"resolution target breached (due {due:%Y-%m-%d %H:%M} UTC); "
                              "priority high → urgent")
        assert entry.data["notified"] == ["ana", "mgr-ana"]

    def test_the_sweep_says_what_it_did_to_an_urgent_case(
            self, clock: FrozenClock, agent: Actor, make_store: Any) -> None:
        """An urgent case cannot rise a rung: the report, the notice and the timeline say
        the priority stays urgent (never "urgent → urgent"), and with the tenant's ladder
        the breach moves it one level up, which they say too; the sweep stops below a
        level that hands the case to another team."""
        from caselib.automation import EscalationLadder

        ladder = EscalationLadder([{"name": "owner"}, {"name": "manager"},
                                   {"name": "tier2", "team": "tier2"}])
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock, directory=directory(),
                           settings=TenantSettings(escalation=ladder))
        case = desk.create_case(subject="Line down", actor=agent, priority="urgent",
                                assignee="ana")
        clock.advance(days=2)
        notifier = RecordingNotifier()
        report = desk.sweep_breaches(actor=ADMIN, notifier=notifier)
        lines = [b.describe() for b in report.breaches]
        assert lines and all("→" not in line for line in lines)
        assert lines[0].startswith("breached first_response (")
        assert "priority stays urgent; escalated to level manager; notified: ana, mgr-ana" \
            in lines[0]
        assert all("priority stays urgent" in n.body for n in notifier.sent)
        stored = desk.get_case(case.id, actor=READER)
        assert stored.escalation_level == "manager"  # tier2 is a handover: by hand only
        breaches = [e for e in stored.timeline if e.kind == "sla_breached"]
        assert breaches[0].body.endswith("; priority stays urgent; escalated to level manager")
        assert (breaches[0].data["from_level"], breaches[0].data["to_level"]) == (
            None, "manager")
        assert "to_level" not in breaches[1].data

    def test_a_breach_is_one_entry_with_its_rung(self, sla_desk: ServiceDesk, agent: Actor,
                                                 clock: FrozenClock) -> None:
        """The breach and the priority rung it raised are one timeline entry (one row to
        append), and hosts still get a case.priority_changed event."""
        case = sla_desk.create_case(subject="x", actor=agent, priority="high")
        sla_desk.add_comment(case.id, "on it", actor=agent, audience="public")
        before = len(sla_desk.get_case(case.id, actor=READER).timeline)
        clock.advance(hours=25)
        sla_desk.sweep_breaches(actor=ADMIN)
        case = sla_desk.get_case(case.id, actor=READER)
        (entry,) = case.timeline[before:]
        assert entry.kind == "sla_breached" and entry.audience is Audience.SYSTEM
        assert entry.data["target"] == "resolution"
        assert (entry.data["old_priority"], entry.data["new_priority"]) == ("high", "urgent")
        with sla_desk.store.unit_of_work(sla_desk.tenant) as uow:
            types = [m.type for m in uow.outbox.pending(limit=1000) if m.case_id == case.id]
        assert types[-2:] == ["case.priority_changed", "case.sla_breached"]

    def test_each_breached_target_raises_its_own_rung(self, sla_desk: ServiceDesk,
                                                      agent: Actor, clock: FrozenClock) -> None:
        """Two targets breached at once: two entries, each naming the rung it raised."""
        case = sla_desk.create_case(subject="x", actor=agent, priority="low")
        clock.advance(days=30)
        sla_desk.sweep_breaches(actor=ADMIN)
        case = sla_desk.get_case(case.id, actor=READER)
        rungs = [(e.data["target"], e.data.get("old_priority"), e.data.get("new_priority"))
                 for e in case.timeline if e.kind == "sla_breached"]
        assert [r[0] for r in rungs] == ["first_response", "resolution"]
        assert rungs[0][1:] == ("low", "normal") and rungs[1][1:] == ("normal", "high")
        assert case.priority is Priority.HIGH
        assert not any(e.kind == "priority_changed" for e in case.timeline)

    def test_urgent_breach_records_no_rung(self, sla_desk: ServiceDesk, agent: Actor,
                                           clock: FrozenClock) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="urgent")
        clock.advance(hours=5)
        sla_desk.sweep_breaches(actor=ADMIN)
        timeline = sla_desk.get_case(case.id, actor=READER).timeline
        entries = [e for e in timeline if e.kind == "sla_breached"]
        assert entries and all("new_priority" not in e.data for e in entries)
        assert all(e.body.endswith("; priority stays urgent") for e in entries)

    @given(st.datetimes(min_value=datetime(1000, 1, 1), timezones=st.just(UTC)))
    def test_minutes_match_strftime(self, at: datetime) -> None:
        assert _minutes(at) == f"{at:%Y-%m-%d %H:%M}"

    def test_second_sweep_changes_nothing(self, sla_desk: ServiceDesk, agent: Actor,
                                          clock: FrozenClock) -> None:
        for i in range(5):
            sla_desk.create_case(subject=f"c{i}", actor=agent, priority="urgent")
        clock.advance(hours=5)
        first = sla_desk.sweep_breaches(actor=ADMIN, notifier=RecordingNotifier())
        assert first.cases_breached == 5
        versions = {s.id: s.version for s in sla_desk.find_cases(limit=100, actor=READER).items}
        notifier = RecordingNotifier()
        second = sla_desk.sweep_breaches(actor=ADMIN, notifier=notifier)
        assert second.breaches == () and notifier.sent == []
        page = sla_desk.find_cases(limit=100, actor=READER)
        assert {s.id: s.version for s in page.items} == versions

    def test_priority_never_above_urgent(self, sla_desk: ServiceDesk, agent: Actor,
                                         clock: FrozenClock) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="urgent")
        clock.advance(days=30)
        sla_desk.sweep_breaches(actor=ADMIN)
        case = sla_desk.get_case(case.id, actor=READER)
        assert case.priority is Priority.URGENT
        assert {t.state for t in case.sla_targets} == {"breached"}

    def test_unowned_case_notifies_queue(self, sla_desk: ServiceDesk, agent: Actor,
                                         clock: FrozenClock) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="urgent")
        assert case.team == "support" and case.assignee is None
        clock.advance(hours=5)
        notifier = RecordingNotifier()
        sla_desk.sweep_breaches(actor=ADMIN, notifier=notifier)
        assert {n.recipient for n in notifier.sent} == {"queue-lead", "boss"}

    def test_paused_and_resolved_cases_never_breach(self, sla_desk: ServiceDesk, agent: Actor,
                                                    clock: FrozenClock) -> None:
        waiting = sla_desk.create_case(subject="w", actor=agent, priority="urgent")
        for status in ("open", "in_progress", "pending_customer"):
            sla_desk.transition(waiting.id, status, actor=agent)
        sla_desk.add_comment(waiting.id, "answered", actor=agent, audience="public")
        clock.advance(days=3)
        report = sla_desk.sweep_breaches(actor=ADMIN)
        assert [b.target for b in report.breaches if b.case_id == waiting.id] == []

    @pytest.mark.parametrize("batch", [1, 3, 500, 1000])
    def test_any_batch_size_records_every_breach_once(
        self, sla_desk: ServiceDesk, agent: Actor, clock: FrozenClock, batch: int
    ) -> None:
        """Small batches take several passes, a large one a single pass: the same breaches."""
        ids = {sla_desk.create_case(subject=f"c{i}", actor=agent, priority="urgent").id
               for i in range(7)}
        clock.advance(hours=5)
        report = sla_desk.sweep_breaches(actor=ADMIN, batch=batch)
        assert report.cases_breached == 7
        assert report.examined == 7
        assert {b.case_id for b in report.breaches} == ids
        assert sla_desk.sweep_breaches(actor=ADMIN, batch=batch).breaches == ()

    @pytest.mark.parametrize("batch", [0, -1, 1001, 2.5, "10", True])
    def test_bad_batch_is_refused_before_anything_changes(
        self, sla_desk: ServiceDesk, agent: Actor, clock: FrozenClock, batch: object
    ) -> None:
        case = sla_desk.create_case(subject="x", actor=agent, priority="urgent")
        clock.advance(hours=5)
        with pytest.raises(InvalidInput, match="batch"):
            sla_desk.sweep_breaches(actor=ADMIN, batch=batch)  # type: ignore[arg-type]
        assert sla_desk.get_case(case.id, actor=READER).version == case.version

    def test_adapter_without_get_many_still_sweeps(self, clock: FrozenClock,
                                                   agent: Actor) -> None:
        desk = ServiceDesk(_StoreWithout(), tenant="acme", clock=clock, directory=directory())
        for i in range(3):
            desk.create_case(subject=f"c{i}", actor=agent, priority="urgent")
        clock.advance(hours=5)
        assert desk.sweep_breaches(actor=ADMIN, batch=2).cases_breached == 3

    def test_a_case_missing_at_read_time_does_not_stall_the_sweep(
        self, clock: FrozenClock, agent: Actor
    ) -> None:
        """An id the due query lists but the read does not return is tried a few times and
        left; the cases behind it are still swept (even with a batch of one)."""
        store = _StoreWithout(hide=set())
        desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory())
        ids = [desk.create_case(subject=f"c{i}", actor=agent, priority="urgent").id
               for i in range(3)]
        store.hide = {ids[0]}
        clock.advance(hours=5)
        report = desk.sweep_breaches(actor=ADMIN, batch=1)
        assert {b.case_id for b in report.breaches} == set(ids[1:])

    def test_admin_only(self, sla_desk: ServiceDesk, agent: Actor) -> None:
        with pytest.raises(PermissionDenied):
            sla_desk.sweep_breaches(actor=agent)
        sla_desk.sweep_breaches(actor=Actor.agent("lead", "admin"))

    def test_concurrent_sweepers_notify_once(self, sla_desk: ServiceDesk, agent: Actor,
                                             clock: FrozenClock) -> None:
        """Two sweepers at once: every breach is notified exactly once."""
        for i in range(30):
            sla_desk.create_case(subject=f"c{i}", actor=agent, priority="urgent")
        clock.advance(hours=5)
        notifier = RecordingNotifier()
        barrier = threading.Barrier(2)

        def sweep() -> None:
            barrier.wait()
            sla_desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=7)

        threads = [threading.Thread(target=sweep) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        keys = [n.key for n in notifier.sent]
        assert len(keys) == len(set(keys))
        # 30 cases x (first response + resolution) targets x (queue lead + manager)
        assert len(keys) == 30 * 2 * 2

    @staticmethod
    def _due_cases(desk: ServiceDesk, agent: Actor, clock: FrozenClock, n: int) -> list[str]:
        ids = [desk.create_case(subject=f"c{i}", actor=agent, priority="urgent").id
               for i in range(n)]
        clock.advance(hours=5)
        return ids

    def _spied(self, spy: type[_CommitSpy], clock: FrozenClock, agent: Actor, n: int
               ) -> tuple[_CommitSpy, ServiceDesk, list[str]]:
        """A desk over a fresh ``spy`` store with ``n`` overdue cases; the spy's records
        start after their creation."""
        store = spy()
        desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory())
        ids = self._due_cases(desk, agent, clock, n)
        store.threads.clear()
        store.log.clear()
        return store, desk, ids

    @pytest.mark.parametrize(("spy", "committer"), [(_CommitSpy, "caselib-sweep"),
                                                    (_SerialSpy, "MainThread")])
    def test_commits_on_a_background_thread_only_where_the_store_allows(
        self, clock: FrozenClock, agent: Actor, spy: type[_CommitSpy], committer: str
    ) -> None:
        """A store declaring units_cross_threads has each batch committed on the sweep's
        thread while the next is decided; one without it sees every step on the caller's
        thread. The outcome is the same."""
        store, desk, ids = self._spied(spy, clock, agent, 7)
        report = desk.sweep_breaches(actor=ADMIN, batch=2)
        assert {b.case_id for b in report.breaches} == set(ids)
        assert len(store.threads) == 4
        assert all(name.startswith(committer) for name in store.threads)

    def test_only_a_literal_true_declares_units_cross_threads(self) -> None:
        """A proxy that answers every attribute does not switch the threaded path on."""
        assert units_cross_threads(MemoryStore())
        assert not units_cross_threads(_SerialSpy())
        assert not units_cross_threads(Mock())  # type: ignore[arg-type]

    @pytest.mark.parametrize("spy", [_CommitSpy, _SerialSpy])
    def test_a_failed_commit_raises_and_its_batch_stays_unwritten(
        self, clock: FrozenClock, agent: Actor, spy: type[_CommitSpy]
    ) -> None:
        """The second batch's commit fails (on the background thread, or on the calling
        thread for a store without a pool): the sweep raises that error; the first batch
        stays recorded and notified once, nothing of the second or third is written, and
        the next sweep records exactly the rest."""
        store, desk, ids = self._spied(spy, clock, agent, 6)
        store.fail_at = 2
        notifier = RecordingNotifier()
        with pytest.raises(StorageError, match="disk full"):
            desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        first = {n.case_id for n in notifier.sent}
        assert len(first) == 2
        assert {i for i in ids if desk.get_case(i, actor=READER).breached} == first
        store.fail_at = None
        report = desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        assert {b.case_id for b in report.breaches} == set(ids) - first
        keys = [n.key for n in notifier.sent]
        assert len(keys) == len(set(keys)) == 6 * 2 * 2

    def test_one_writer_at_a_time(self, clock: FrozenClock, agent: Actor) -> None:
        """A batch starts saving only once the previous batch's commit has ended."""
        store, desk, _ = self._spied(_CommitSpy, clock, agent, 9)
        desk.sweep_breaches(actor=ADMIN, batch=2)
        batches = list(dict.fromkeys(n for kind, n in store.log if kind == "save"))
        assert len(batches) == 5
        for before, after in itertools.pairwise(batches):
            first_save = store.log.index(("save", after))
            assert store.log.index(("committed", before)) < first_save

    def test_interrupted_while_a_batch_commits_its_breaches_are_still_notified(
        self, clock: FrozenClock, agent: Actor
    ) -> None:
        """Ctrl-C reaches the sweep while a batch commits on the background thread: the
        commit lands, and its breaches are notified before the interrupt propagates."""
        store, desk, ids = self._spied(_CommitSpy, clock, agent, 6)

        def interrupt(n: int) -> None:
            if n == 2:
                signal.pthread_kill(threading.main_thread().ident or 0, signal.SIGINT)

        store.on_commit = interrupt
        notifier = RecordingNotifier()
        with pytest.raises(KeyboardInterrupt):
            desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        breached = {i for i in ids if desk.get_case(i, actor=READER).breached}
        assert {n.case_id for n in notifier.sent} == breached
        store.on_commit = None
        report = desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        assert {b.case_id for b in report.breaches} == set(ids) - breached
        assert len({n.key for n in notifier.sent}) == len(notifier.sent) == 6 * 2 * 2

    def test_a_case_made_overdue_behind_the_pass_is_still_swept(
        self, clock: FrozenClock, agent: Actor
    ) -> None:
        """Another writer makes a case overdue with a due time the pass has already walked
        past: a further pass records it in the same sweep."""
        store = _CommitSpy()
        desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory())
        late = desk.create_case(subject="low", actor=agent, priority="low")
        clock.advance(minutes=1)  # once urgent, its due time is the earliest of all
        ids = self._due_cases(desk, agent, clock, 4)

        def escalate(n: int) -> None:
            if n == 1:  # while the first batch commits: low -> urgent, due 4 h after creation
                store.on_commit = None
                desk.change_priority(late.id, "urgent", actor=agent)

        store.threads.clear()
        store.on_commit = escalate
        report = desk.sweep_breaches(actor=ADMIN, batch=1)
        assert {b.case_id for b in report.breaches} == {*ids, late.id}

    def test_an_error_while_a_batch_commits_still_notifies_that_batch(
        self, clock: FrozenClock, agent: Actor
    ) -> None:
        """Reading the next batch fails while the previous one commits: the error
        propagates, and the committed batch's people are still notified."""
        store = _FailingRead()
        desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory())
        ids = self._due_cases(desk, agent, clock, 4)
        store.reads, store.fail_at = 0, 2
        notifier = RecordingNotifier()
        with pytest.raises(StorageError, match="connection lost"):
            desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        breached = {i for i in ids if desk.get_case(i, actor=READER).breached}
        assert len(breached) == 2
        assert {n.case_id for n in notifier.sent} == breached

    def test_a_batch_refused_at_commit_is_retried_by_another_pass(
        self, clock: FrozenClock, agent: Actor
    ) -> None:
        """Another writer changes a case between the sweep's read and its commit (the
        memory store checks versions at commit, so the whole batch is refused): its cases
        are read again by a second pass and every breach is recorded once."""
        store, desk, ids = self._spied(_CommitSpy, clock, agent, 5)
        store.race_at = 1
        notifier = RecordingNotifier()
        report = desk.sweep_breaches(actor=ADMIN, notifier=notifier, batch=2)
        assert report.conflicts == 2
        assert {b.case_id for b in report.breaches} == set(ids)
        keys = [n.key for n in notifier.sent]
        assert len(keys) == len(set(keys)) == 5 * 2 * 2
        assert desk.sweep_breaches(actor=ADMIN, batch=2).breaches == ()

    def test_approaching_amber_list(self, sla_desk: ServiceDesk, agent: Actor,
                                    clock: FrozenClock) -> None:
        soon = sla_desk.create_case(subject="soon", actor=agent, priority="urgent")
        sla_desk.create_case(subject="later", actor=agent, priority="low")
        clock.advance(minutes=30)
        ids = [s.id for s in sla_desk.approaching(timedelta(hours=4), actor=READER)]
        assert ids == [soon.id]


def _varied_sweep(store: Any, clock: FrozenClock) -> tuple[Any, ...]:
    """Cases of every kind the sweep meets, swept twice at once; what a host observes."""
    serial = itertools.count(1)
    desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory(),
                       ids=lambda: f"case-{next(serial):03d}")
    agent, customer = Actor.agent("ana"), Actor.customer("cleo")
    ids = []
    for n, priority in enumerate(["low", "normal", "high", "urgent"] * 3):
        case = desk.create_case(subject=f"Case {n} \"quoted\" ünï 🧾", actor=agent,
                                priority=priority, custom={"n": n}, links={"contact": "cleo"})
        if n % 3 == 0:
            desk.assign(case.id, assignee="ana", actor=agent)
        if n % 4 == 1:
            desk.add_comment(case.id, "on it", actor=agent, audience="public")
            desk.add_comment(case.id, "still broken", actor=customer, audience="public")
        if n % 5 == 2:
            for status in ("open", "in_progress", "pending_customer"):  # its clock is paused
                desk.transition(case.id, status, actor=agent)
        ids.append(case.id)
        clock.advance(minutes=37)
    clock.advance(hours=30)
    first = desk.sweep_breaches(actor=ADMIN, batch=5)
    again = desk.sweep_breaches(actor=ADMIN, batch=5)
    with store.unit_of_work("acme") as uow:
        outbox = [(m.key, m.type, dict(m.payload)) for m in uow.outbox.pending(limit=1000)]
    cases = [desk.get_case(i, actor=READER) for i in ids]
    return (first.breaches, first.examined, again.breaches,
            [(c.version, c.priority, c.sla_targets, c.pauses, c.updated_at, c.timeline)
             for c in cases], outbox)


def _sweeps_like_memory(store: Any) -> None:
    """``store`` offers SlaSweepRepository and sweeps the varied cases as MemoryStore does."""
    from caselib.ports import SlaSweepRepository

    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    try:
        with store.unit_of_work("acme") as uow:
            assert isinstance(uow.cases, SlaSweepRepository)
        got = _varied_sweep(store, FrozenClock(start))
    finally:
        store.close()
    assert got[0], "the data set has breaches"
    assert got == _varied_sweep(MemoryStore(), FrozenClock(start))


class TestSweepAcrossStores:
    """The SQL stores sweep through SlaSweepRepository, the memory store through whole
    cases: the same breaches, cases, timelines and outbox either way."""

    def test_sqlite_sweeps_like_memory(self, tmp_path: Any) -> None:
        from caselib.storage.sqlite import SqliteStore

        _sweeps_like_memory(SqliteStore(tmp_path / "sweep.sqlite3"))

    @pytest.mark.postgres
    def test_postgres_sweeps_like_memory(self, pg_schema: str) -> None:
        from caselib.storage.postgres import PostgresStore
        from pg import DSN

        _sweeps_like_memory(PostgresStore(DSN, schema=pg_schema))
