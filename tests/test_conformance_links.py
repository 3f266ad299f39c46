"""The case-link contract on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from caselib.ports import Store
from caselib.testing.conformance import CaseLinkContract


class TestCaseLinks(CaseLinkContract):
    """Every bundled store keeps case links."""

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
