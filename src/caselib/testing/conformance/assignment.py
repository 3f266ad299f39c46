"""The assignment ledger's contract: the round-robin cursor and last-assigned times."""

from __future__ import annotations

from datetime import timedelta

from caselib.errors import ConcurrencyConflict
from caselib.ports import Store
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0

__all__ = ["AssignmentLedgerContract"]


class AssignmentLedgerContract(StoreFixtures):
    """The :class:`~caselib.ports.AssignmentLedger` contract. Not named ``Test…``."""

    # -- assignment ledger --------------------------------------------------------------------

    def test_round_robin_cursor_compare_and_set(self, store: Store) -> None:
        """The cursor moves only from the expected value."""
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            assert uow.assignments.cursor("tier1") == "ana"
            assert not uow.assignments.compare_and_set_cursor("tier1", None, "bo")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "ana"
            assert uow.assignments.cursor("tier2") is None
            assert not uow.assignments.compare_and_set_cursor("tier1", "bo", "cy")
            assert uow.assignments.compare_and_set_cursor("tier1", "ana", "bo")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "bo"

    def test_round_robin_cursor_race(self, store: Store, second_store: Store) -> None:
        """Two units of work move the cursor from the same value: only one move sticks."""
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            assert first.assignments.cursor("tier1") is None
            assert second.assignments.cursor("tier1") is None
            assert first.assignments.compare_and_set_cursor("tier1", None, "ana")
            first.commit()
            try:
                moved = second.assignments.compare_and_set_cursor("tier1", None, "bo")
                if moved:
                    second.commit()
            except ConcurrencyConflict:
                moved = False
            assert not moved
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "ana"

    def test_last_assigned(self, store: Store) -> None:
        """Last assignment time per agent; the latest record wins; unknown agents absent."""
        with store.unit_of_work(self.tenant) as uow:
            uow.assignments.record_assigned("ana", T0)
            uow.assignments.record_assigned("bo", T0 + timedelta(minutes=5))
            uow.assignments.record_assigned("ana", T0 + timedelta(minutes=9))
            assert uow.assignments.last_assigned(["ana"]) == {"ana": T0 + timedelta(minutes=9)}
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            got = uow.assignments.last_assigned(["ana", "bo", "cy"])
        assert got == {"ana": T0 + timedelta(minutes=9), "bo": T0 + timedelta(minutes=5)}
        assert all(v.tzinfo is not None for v in got.values())
