"""PostgreSQL: what each command costs in round trips (waits for the server), counted from
libpq's protocol trace, so the costs documented in :mod:`caselib.storage._postgres_uow` stay
true. Speed itself is measured in ``benchmarks/bench_postgres.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from caselib import Actor, CaseQuery, ServiceDesk
from caselib.errors import DuplicateKey, InvalidInput, StorageError
from caselib.storage._pgtrace import count_round_trips
from caselib.storage.postgres import PostgresStore
from caselib.testing.conformance import make_case
from pg import DSN, pg_schema  # noqa: F401  (pg_schema is a fixture)

pytestmark = pytest.mark.postgres

AGENT = Actor.agent("ana")


@pytest.fixture
def store(pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
    s = PostgresStore(DSN, schema=pg_schema, pool_size=1)
    yield s
    s.close()


@pytest.fixture
def desk(store: PostgresStore) -> ServiceDesk:
    desk = ServiceDesk(store, tenant="acme")
    desk.create_case(subject="warm-up", actor=AGENT)  # the case counter row exists
    return desk


class TestRoundTrips:
    """Each command's writes travel with its commit; reads need no transaction."""

    def test_create_case_costs_two(self, store: PostgresStore, desk: ServiceDesk) -> None:
        """BEGIN + case number, then the case's rows + COMMIT."""
        with count_round_trips(store) as trips:
            desk.create_case(subject="Printer jams", actor=AGENT, description="tray 2",
                             tags=["printer", "floor-3"])
        assert trips.total == 2, trips.messages

    @pytest.mark.parametrize("command", ["add_comment", "transition", "change_priority"])
    def test_a_change_costs_two(self, store: PostgresStore, desk: ServiceDesk,
                                command: str) -> None:
        """BEGIN + row lock + load, then UPDATE + new rows + COMMIT."""
        case = desk.create_case(subject="Printer jams", actor=AGENT)
        with count_round_trips(store) as trips:
            if command == "add_comment":
                desk.add_comment(case.id, "On it", actor=AGENT)
            elif command == "transition":
                desk.transition(case.id, "open", actor=AGENT)
            else:
                desk.change_priority(case.id, "urgent", actor=AGENT)
        assert trips.total == 2, trips.messages

    def test_a_read_costs_one_and_no_rollback(self, store: PostgresStore,
                                              desk: ServiceDesk) -> None:
        """A read-only unit of work sends its query alone: no BEGIN, no ROLLBACK."""
        case = desk.create_case(subject="Printer jams", actor=AGENT)
        with count_round_trips(store) as trips:
            desk.get_case(case.id, actor=AGENT)
        assert trips.total == 1, trips.messages

    def test_a_queued_write_error_surfaces_before_anything_commits(
            self, store: PostgresStore) -> None:
        """A duplicate sent with the commit raises DuplicateKey from commit; nothing is
        written, and the pooled connection is fit for the next unit of work."""
        first = make_case("acme", 1)
        with store.unit_of_work("acme") as uow:
            uow.cases.add(first)
            uow.commit()
        with store.unit_of_work("acme") as uow:
            uow.cases.add(make_case("acme", 2))
            uow.cases.add(make_case("acme", 3, number="CASE-0001"))
            with pytest.raises(DuplicateKey):
                uow.commit()
        with store.unit_of_work("acme") as uow:
            ids = [s.id for s in uow.cases.query(CaseQuery()).items]
        assert ids == [first.id]


class TestOutboxWakeUps:
    """A commit that writes outbox events wakes a relay waiting on the store."""

    def test_a_commit_with_events_wakes_the_waiter(self, store: PostgresStore) -> None:
        """First call: True at once (it starts listening); then quiet until events land."""
        other = PostgresStore(DSN, schema=store.schema, pool_size=1, notify_outbox=True)
        try:
            assert store.wait_for_outbox(timeout=0) is True  # starts listening
            assert store.wait_for_outbox(timeout=0) is False  # nothing committed since
            with other.unit_of_work("acme") as uow:  # no events: no wake-up
                uow.numbers.next_number()
                uow.commit()
            assert store.wait_for_outbox(timeout=0) is False
            with other.unit_of_work("acme") as uow:  # rolled back: no wake-up
                uow.cases.add(make_case("acme", 1))
            assert store.wait_for_outbox(timeout=0) is False
            ServiceDesk(other, tenant="globex").create_case(subject="x", actor=AGENT)
            woke: list[bool] = []
            waiter = threading.Thread(target=lambda: woke.append(
                store.wait_for_outbox(timeout=60)))
            waiter.start()
            waiter.join(timeout=90)
            assert woke == [True]
            assert store.wait_for_outbox(timeout=0) is False  # one commit, one wake-up
            ServiceDesk(store, tenant="globex").create_case(subject="y", actor=AGENT)
            assert store.wait_for_outbox(timeout=0) is False  # this writer does not notify
        finally:
            other.close()


class TestLockTimeout:
    """A command that cannot get its case's row lock in time fails cleanly."""

    def test_a_lock_not_granted_in_time_is_a_storage_error(self, store: PostgresStore) -> None:
        """lock_timeout bounds the wait; the waiter gets StorageError and writes nothing."""
        case = make_case("acme", 1)
        with store.unit_of_work("acme") as uow:
            uow.cases.add(case)
            uow.commit()
        impatient = PostgresStore(DSN, schema=store.schema, pool_size=1, lock_timeout=0.001)
        try:
            with store.unit_of_work("acme") as holder:
                holder.cases.get_for_update(case.id)
                with impatient.unit_of_work("acme") as uow, pytest.raises(StorageError,
                                                                          match="lock"):
                    uow.cases.get_for_update(case.id)
            with impatient.unit_of_work("acme") as uow:  # the pooled connection is fine
                assert uow.cases.get_for_update(case.id).version == 1
        finally:
            impatient.close()

    @pytest.mark.parametrize("bad", [0, -1, True, "5", 10**6])
    def test_bad_lock_timeouts_are_refused(self, pg_schema: str, bad: object) -> None:  # noqa: F811
        """lock_timeout must be positive seconds or None (InvalidInput)."""
        with pytest.raises(InvalidInput):
            PostgresStore(DSN, schema=pg_schema, lock_timeout=bad)  # type: ignore[arg-type]
