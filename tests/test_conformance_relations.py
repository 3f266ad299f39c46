"""The relations contract (merge journal, templates, checklists) on the memory, SQLite and
PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from caselib.ports import Store
from caselib.testing.conformance import RelationsContract


class TestRelations(RelationsContract):
    """Every bundled store keeps the merge journal, templates and checklists."""

    @pytest.fixture
    def store(self, make_store: Callable[[], Store]) -> Store:
        return make_store()

    @pytest.fixture
    def second_store(self, store: Store) -> Iterator[Store]:
        path = getattr(store, "path", None)
        schema = getattr(store, "schema", None)
        if path is not None:
            from caselib.storage.sqlite import SqliteStore

            other: Store = SqliteStore(path)
        elif schema is not None:
            from caselib.storage.postgres import PostgresStore
            from pg import DSN

            other = PostgresStore(DSN, schema=schema)
        else:
            yield store
            return
        yield other
        other.close()
