"""PostgreSQL store: the storage contract and the adapter checks, each test in its own schema.

Needs the server at 127.0.0.1:5432 (``CASELIB_PG_DSN`` overrides); skipped with a hint when it
is down, failed when ``CI`` is set.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest

from caselib.errors import SchemaMismatch
from caselib.ports import CaseQuery, Store
from caselib.storage.postgres import SCHEMA_VERSION, PostgresStore
from caselib.testing.conformance import StoreContract, make_case
from pg import DSN, fresh_schema, pg_schema  # noqa: F401  (pg_schema is a fixture)
from test_store_sqlite import StoreChecks, fill

pytestmark = pytest.mark.postgres


class TestPostgresConformance(StoreContract):
    """The generic storage contract, with a second store object on the same schema."""

    @pytest.fixture
    def store(self, pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
        s = PostgresStore(DSN, schema=pg_schema)
        yield s
        s.close()

    @pytest.fixture
    def second_store(self, store: PostgresStore) -> Iterator[PostgresStore]:
        s = PostgresStore(DSN, schema=store.schema)
        yield s
        s.close()


class TestPostgresStore(StoreChecks):
    """PostgreSQL-specific behaviour: schema versioning, SKIP LOCKED, batch import."""

    @pytest.fixture
    def store(self, pg_schema: str) -> Iterator[PostgresStore]:  # noqa: F811
        s = PostgresStore(DSN, schema=pg_schema)
        yield s
        s.close()

    @pytest.fixture
    def reopen(self, store: PostgresStore) -> Callable[[], Store]:
        return lambda: PostgresStore(DSN, schema=store.schema)

    def test_newer_schema_is_refused_untouched(self, store: PostgresStore) -> None:
        """A schema from a newer caselib raises SchemaMismatch; its tables stay as they were."""
        import psycopg

        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'INSERT INTO "{store.schema}".schema_version VALUES (%s, now())',
                         (SCHEMA_VERSION + 1,))
            conn.execute(f'DROP TABLE "{store.schema}".rr_cursors')
        with pytest.raises(SchemaMismatch, match="Upgrade caselib"):
            PostgresStore(DSN, schema=store.schema)
        with psycopg.connect(DSN) as conn:
            row = conn.execute("SELECT to_regclass(%s)", (f'"{store.schema}".rr_cursors',))
            assert row.fetchone() == (None,)  # no migration re-created it

    def test_two_stores_migrate_one_schema_at_once(self) -> None:
        """Processes starting together apply the migrations once (advisory lock)."""
        schema = fresh_schema()
        errors: list[BaseException] = []

        def open_close() -> None:
            try:
                PostgresStore(DSN, schema=schema).close()
            except BaseException as err:
                errors.append(err)

        try:
            threads = [threading.Thread(target=open_close) for _ in range(4)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(60)
            assert errors == []
        finally:
            from pg import drop_schema

            drop_schema(schema)

    def test_skip_locked_relays_split_the_outbox(self, store: PostgresStore) -> None:
        """Two open relays get disjoint messages without waiting for each other."""
        fill(store, self.tenant, [make_case(self.tenant, n) for n in range(1, 5)])
        with store.unit_of_work(self.tenant) as a, store.unit_of_work(self.tenant) as b:
            first = a.outbox.pending(limit=2)
            second = b.outbox.pending(limit=100)
        assert len(first) == 2
        assert not {m.key for m in first} & {m.key for m in second}
        assert len(first) + len(second) == 4

    def test_numbers_roll_back_with_the_transaction(self, store: PostgresStore) -> None:
        """A rolled-back create gives its number back (allocation is inside the transaction)."""
        with store.unit_of_work(self.tenant) as uow:
            assert uow.numbers.next_number() == 1
        with store.unit_of_work(self.tenant) as uow:
            assert uow.numbers.next_number() == 1
            uow.commit()

    def test_query_uses_c_collation_order(self, store: PostgresStore) -> None:
        """Ids that a locale collation would reorder page in Python's str order."""
        ids = ["a-1", "A-2", "b_3", "B-4", "a_5", "Z"]
        fill(store, self.tenant,
             [make_case(self.tenant, n, case_id=i) for n, i in enumerate(ids, 1)])
        with store.unit_of_work(self.tenant) as uow:
            got = [s.id for s in uow.cases.query(CaseQuery(limit=100)).items]
        assert got == sorted(ids)
