"""The automation ledger's contract: applied once per (rule, case, occurrence), the next
automation time and its due range, the event cursor over the outbox."""

from __future__ import annotations

from datetime import timedelta

import pytest

from caselib.ports import AppliedRule, Store, automation_ledger
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0, _add, make_case

__all__ = ["AutomationLedgerContract"]


def _skips_locked(store: Store) -> bool:
    """Whether a second unit of work skips what the first holds (instead of waiting for it,
    as SQLite's single writer does)."""
    with store.unit_of_work("probe") as uow:
        dialect = getattr(uow, "dialect", None)
    return dialect is None or bool(dialect.skip_locked)


class AutomationLedgerContract(StoreFixtures):
    """The :class:`~caselib.ports.AutomationLedger` contract (``uow.automations``), an
    optional port: not part of :class:`StoreContract`. Not named ``Test…``."""

    def test_records_each_key_once(self, store: Store) -> None:
        """A key records once: again in the same unit of work, or after commit, is ``False``."""
        a = AppliedRule("ack", "c1", "c1:1:0", T0)
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            assert ledger.record(a)
            assert not ledger.record(a)
            assert ledger.record(AppliedRule("ack", "c1", "c1:2:0", T0))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            assert not ledger.record(a)
            assert [r.occurrence for r in ledger.applied("c1")] == ["c1:1:0", "c1:2:0"]
            assert ledger.applied("c2") == []
        with store.unit_of_work(self.other_tenant) as uow:
            assert automation_ledger(uow).record(a)  # tenants do not share ledgers

    def test_rollback_forgets(self, store: Store) -> None:
        """A rolled-back record leaves the key free."""
        a = AppliedRule("ack", "c1", "x", T0)
        with store.unit_of_work(self.tenant) as uow:
            assert automation_ledger(uow).record(a)
        with store.unit_of_work(self.tenant) as uow:
            assert automation_ledger(uow).record(a)

    def test_a_late_second_recorder_loses(self, store: Store, second_store: Store) -> None:
        """Two units of work open together; after the first commits the key, the second's
        record is ``False``."""
        a = AppliedRule("ack", "c1", "x", T0)
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            assert automation_ledger(first).record(a)
            first.commit()
            assert not automation_ledger(second).record(a)

    def test_schedule_and_due_range(self, store: Store) -> None:
        """Due cases come earliest first, up to ``now``; clearing or moving a time counts."""
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            for n, hours in ((1, 3), (2, 1), (3, 2), (4, 9)):
                ledger.schedule(f"c{n}", T0 + timedelta(hours=hours))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            assert ledger.claim_due(T0 + timedelta(hours=3), 10) == ["c2", "c3", "c1"]
            assert ledger.claim_due(T0 + timedelta(hours=3), 2) == ["c2", "c3"]
            assert ledger.scheduled(["c1", "c9"]) == {"c1": T0 + timedelta(hours=3)}
            ledger.schedule("c2", None)
            ledger.schedule("c3", T0 + timedelta(hours=5))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert automation_ledger(uow).claim_due(T0 + timedelta(hours=3), 10) == ["c1"]
        with store.unit_of_work(self.other_tenant) as uow:
            assert automation_ledger(uow).claim_due(T0 + timedelta(days=9), 10) == []

    def test_due_cases_are_split_between_sweepers(self, store: Store,
                                                  second_store: Store) -> None:
        """A due case one unit of work holds is skipped by another."""
        if not _skips_locked(store):
            pytest.skip("one writer at a time: the second sweeper waits instead")
        with store.unit_of_work(self.tenant) as uow:
            for n in range(4):
                automation_ledger(uow).schedule(f"c{n}", T0)
            uow.commit()
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            mine = automation_ledger(first).claim_due(T0, 2)
            theirs = automation_ledger(second).claim_due(T0, 10)
            assert sorted(mine + theirs) == ["c0", "c1", "c2", "c3"]

    def test_event_cursor(self, store: Store, second_store: Store) -> None:
        """Events come in write order with rising positions; after ``advance`` they are not
        required again, and every later one is returned."""
        for n in range(1, 4):
            _add(store, self.tenant, make_case(self.tenant, n))
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            events = ledger.claim_events(100)
            assert events is not None
            assert [e.message.case_id for e in events] == ["case-00001", "case-00002",
                                                            "case-00003"]
            assert [e.seq for e in events] == sorted({e.seq for e in events})
            ledger.advance(events[1].seq)
            uow.commit()
        _add(store, self.tenant, make_case(self.tenant, 4))
        with store.unit_of_work(self.tenant) as uow:
            again = automation_ledger(uow).claim_events(100)
            assert again is not None
            ids = [e.message.case_id for e in again if e.seq > events[1].seq]
            assert ids == ["case-00003", "case-00004"]
        with store.unit_of_work(self.other_tenant) as uow:
            assert automation_ledger(uow).claim_events(100) == []

    def test_a_started_cursor_skips_history(self, store: Store) -> None:
        """``start_cursor`` on a tenant with history starts after it; once only."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            assert automation_ledger(uow).start_cursor()
            uow.commit()
        _add(store, self.tenant, make_case(self.tenant, 2))
        with store.unit_of_work(self.tenant) as uow:
            ledger = automation_ledger(uow)
            assert not ledger.start_cursor()
            events = ledger.claim_events(10) or []
            # the history is not handed out, not even by a look-back below the cursor
            assert [e.message.case_id for e in events] == ["case-00002"]

    def test_small_batches_walk_the_whole_stream(self, store: Store) -> None:
        """``limit`` counts events after the cursor: one at a time reaches every event."""
        for n in range(1, 5):
            _add(store, self.tenant, make_case(self.tenant, n))
        got: list[str] = []
        last = 0
        for _ in range(6):
            with store.unit_of_work(self.tenant) as uow:
                ledger = automation_ledger(uow)
                events = [e for e in ledger.claim_events(1) or [] if e.seq > last]
                if not events:
                    break
                got += [e.message.case_id for e in events]
                last = events[-1].seq
                ledger.advance(last)
                uow.commit()
        assert got == [f"case-{n:05d}" for n in range(1, 5)]

    def test_event_cursor_is_held(self, store: Store, second_store: Store) -> None:
        """While one unit of work holds the cursor another gets ``None``."""
        if not _skips_locked(store):
            pytest.skip("one writer at a time: the second reader waits instead")
        with store.unit_of_work(self.tenant) as uow:
            assert automation_ledger(uow).claim_events(10) == []
            uow.commit()
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            assert automation_ledger(first).claim_events(10) == []
            assert automation_ledger(second).claim_events(10) is None
