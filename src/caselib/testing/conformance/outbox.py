"""The outbox's contract: events queued in write order, delivered once, claimed per relay."""

from __future__ import annotations

import threading
from datetime import timedelta

from caselib.ports import OutboxMessage, Store
from caselib.storage.codec import outbox_messages
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import AGENT, T0, _add, make_case

__all__ = ["OutboxContract"]


class OutboxContract(StoreFixtures):
    """The :class:`~caselib.ports.Outbox` contract. Not named ``Test…``."""

    # -- outbox -------------------------------------------------------------------------------

    def test_outbox_holds_events_in_write_order(self, store: Store) -> None:
        """Each add/save queues its events (keys ``id:version:n``), oldest first."""
        c1 = make_case(self.tenant, 1, assignee="ana")
        c2 = make_case(self.tenant, 2)
        expected = outbox_messages(c1.clone(), 1) + outbox_messages(c2.clone(), 1)
        _add(store, self.tenant, c1)
        _add(store, self.tenant, c2)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(c1.id)
            loaded.add_comment("hi", audience="public", actor=AGENT, at=T0 + timedelta(hours=1))
            expected += outbox_messages(loaded.clone(), 2)
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            pending = uow.outbox.pending()
            assert pending == expected
            assert uow.outbox.pending(limit=2) == expected[:2]
        assert pending[0].key == f"{c1.id}:1:0"
        assert pending[0].type == "case.created"
        assert pending[-1].key == f"{c1.id}:2:0"
        assert pending[-1].type == "case.comment_added"
        assert all(m.tenant == self.tenant for m in pending)

    def test_delivered_messages_are_never_returned_again(self, store: Store) -> None:
        """mark_delivered (once committed) removes messages from pending for good."""
        _add(store, self.tenant, *[make_case(self.tenant, n) for n in range(1, 4)])
        with store.unit_of_work(self.tenant) as uow:
            pending = uow.outbox.pending()
            uow.outbox.mark_delivered([pending[0].key, pending[2].key])
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == [pending[1]]
            uow.outbox.mark_delivered([pending[1].key])
            assert uow.outbox.pending() == []  # its own uncommitted delivery counts
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == [pending[1]]  # that delivery was rolled back

    def test_claimed_messages_are_not_handed_out_twice(
        self, store: Store, second_store: Store
    ) -> None:
        """While one relay holds messages, a second relay gets the others (or waits for the
        first and then gets only what it did not deliver)."""
        _add(store, self.tenant, *[make_case(self.tenant, n) for n in range(1, 7)])
        with store.unit_of_work(self.tenant) as uow:
            everything = uow.outbox.pending()
        assert len(everything) == 6
        second_got: list[OutboxMessage] = []
        errors: list[BaseException] = []

        def second_relay() -> None:
            try:
                with second_store.unit_of_work(self.tenant) as uow2:
                    second_got.extend(uow2.outbox.pending(limit=100))
            except BaseException as err:
                errors.append(err)

        with store.unit_of_work(self.tenant) as uow1:
            first_got = uow1.outbox.pending(limit=3)
            assert first_got == everything[:3]
            thread = threading.Thread(target=second_relay)
            thread.start()
            thread.join(timeout=1.0)  # a store with row locks answers now; others may wait
            uow1.outbox.mark_delivered([m.key for m in first_got])
            uow1.commit()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the second relay never returned"
        assert errors == []
        assert second_got == everything[3:]
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == everything[3:]

    def test_claims_end_with_the_unit_of_work(self, store: Store) -> None:
        """Messages a relay fetched but did not deliver are pending again after it ends."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            got = uow.outbox.pending()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == got
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == got
