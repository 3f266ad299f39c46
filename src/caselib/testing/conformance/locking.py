"""The contract of :class:`~caselib.ports.LockingCaseRepository` (optional for an adapter):
``get_for_update`` loads like ``get``, and units of work that load a case with it take turns.

Apart from the case repository's contract because an adapter may leave the capability out
(the desk then retries lost races instead), and these tests then skip.
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import pytest

from caselib.errors import CaseNotFound
from caselib.ports import Store
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import AGENT, T0, _add, assert_same_case, make_case

__all__ = ["CaseLockingContract"]

_THREADS = 8
_ROUNDS = 5


def _require_locking(store: Store, tenant: str) -> None:
    with store.unit_of_work(tenant) as uow:
        if not hasattr(uow.cases, "get_for_update"):
            pytest.skip("this adapter has no LockingCaseRepository (get_for_update)")


class CaseLockingContract(StoreFixtures):
    """The :class:`~caselib.ports.LockingCaseRepository` contract. Not named ``Test…``."""

    def test_get_for_update_loads_like_get(self, store: Store) -> None:
        """The locked load is the same case as a plain get; CaseNotFound for a case that is
        missing or in another tenant."""
        _require_locking(store, self.tenant)
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            plain = uow.cases.get(case.id)
        with store.unit_of_work(self.tenant) as uow:
            locked = uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]
            with pytest.raises(CaseNotFound):
                uow.cases.get_for_update("no-such-case")  # type: ignore[attr-defined]
        assert_same_case(locked, plain)
        with store.unit_of_work(self.other_tenant) as uow, pytest.raises(CaseNotFound):
            uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]

    def test_a_waiting_locker_reads_what_the_holder_committed(self, store: Store) -> None:
        """While one unit of work holds the lock, another's get_for_update waits, then reads
        the holder's commit (never the state from before), so its save at that version
        succeeds."""
        _require_locking(store, self.tenant)
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        seen: list[int] = []
        errors: list[BaseException] = []
        asking = threading.Event()

        def second() -> None:
            try:
                with store.unit_of_work(self.tenant) as uow:
                    asking.set()
                    loaded = uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]
                    seen.append(loaded.version)
                    loaded.add_comment("second", audience="internal", actor=AGENT, at=T0)
                    uow.cases.save(loaded, loaded.version)
                    uow.commit()
            except BaseException as err:  # reported below
                errors.append(err)
            finally:
                asking.set()

        with store.unit_of_work(self.tenant) as holder:
            mine = holder.cases.get_for_update(case.id)  # type: ignore[attr-defined]
            worker = threading.Thread(target=second)
            worker.start()
            assert asking.wait(timeout=30)
            mine.add_comment("first", audience="internal", actor=AGENT, at=T0)
            holder.cases.save(mine, 1)
            holder.commit()
        worker.join(timeout=60)
        assert not worker.is_alive()
        assert errors == []
        assert seen == [2]
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        assert stored.version == 3
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["first", "second"]

    def test_a_rolled_back_holder_lets_the_next_locker_in(self, store: Store) -> None:
        """Rolling back releases the lock as committing does."""
        _require_locking(store, self.tenant)
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]
            uow.rollback()
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]
            loaded.add_comment("after", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get(case.id).version == 2

    def test_lockers_on_many_threads_never_conflict(self, store: Store) -> None:
        """Threads that each load with get_for_update and save at the loaded version all
        succeed, every round: no ConcurrencyConflict, every comment stored once."""
        _require_locking(store, self.tenant)
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        barrier = threading.Barrier(_THREADS)
        errors: list[str] = []

        def writer(i: int) -> None:
            for n in range(_ROUNDS):
                try:
                    barrier.wait(timeout=60)  # everyone asks for the lock at once
                    with store.unit_of_work(self.tenant) as uow:
                        loaded = uow.cases.get_for_update(case.id)  # type: ignore[attr-defined]
                        time.sleep(0)  # let the other threads run while this one holds it
                        loaded.add_comment(f"t{i}-{n}", audience="internal", actor=AGENT,
                                           at=T0)
                        uow.cases.save(loaded, loaded.version)
                        uow.commit()
                except BaseException as err:  # reported below, not swallowed
                    errors.append(f"{type(err).__name__}: {err}")
                    barrier.abort()
                    return

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(_THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        assert errors == []
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        notes = Counter(e.body for e in stored.timeline if e.kind == "note")
        assert notes == Counter({f"t{i}-{n}": 1 for i in range(_THREADS) for n in range(_ROUNDS)})
        assert stored.version == 1 + _THREADS * _ROUNDS
