"""Shared test setup: hypothesis profiles and common fixtures.

Profiles: ``dev`` (default, quick), ``ci`` (more examples, still inside the CI time budget;
selected when ``CI`` is set), ``thorough`` (for a long local run:
``HYPOTHESIS_PROFILE=thorough pytest``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from caselib import Actor, MemoryStore, ServiceDesk, Store
from caselib.testing import FrozenClock
from pg import DSN, pg_schema, require_server  # noqa: F401  (pg_schema: a fixture)

settings.register_profile(
    "dev", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "ci", max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    print_blob=True,
)
settings.register_profile(
    "thorough", max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev")
)


@pytest.fixture
def clock() -> FrozenClock:
    """Monday 2026-01-05 09:00 UTC, frozen."""
    return FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))


@pytest.fixture
def agent() -> Actor:
    return Actor.agent("ana")


@pytest.fixture
def desk(clock: FrozenClock) -> ServiceDesk:
    """A desk over a fresh in-memory store, tenant ``acme``."""
    return ServiceDesk(MemoryStore(), tenant="acme", clock=clock)


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Store]]:
    """Makes stores of one kind per test: memory, SQLite (a file in ``tmp_path``) or
    PostgreSQL (the test's fresh schema; a failure under ``CI`` when the server is down).
    Every store made is closed at teardown."""
    made: list[Store] = []

    def make() -> Store:
        if request.param == "memory":
            made.append(MemoryStore())
        elif request.param == "sqlite":
            from caselib.storage.sqlite import SqliteStore

            made.append(SqliteStore(tmp_path / f"cases-{len(made)}.db"))
        else:
            require_server()
            from caselib.storage.postgres import PostgresStore

            made.append(PostgresStore(DSN, schema=request.getfixturevalue("pg_schema")))
        return made[-1]

    yield make
    for store in made:
        store.close()


@pytest.fixture
def second_store(store: Store) -> Iterator[Store]:
    """Another handle on the database of the test's ``store`` fixture (a second SQLite
    connection to its file, a second PostgreSQL pool on its schema; the memory store is one
    process, so itself): for contracts that check what one handle wrote is what another reads,
    and that two handles take turns."""
    path = getattr(store, "path", None)
    schema = getattr(store, "schema", None)
    if path is not None:
        from caselib.storage.sqlite import SqliteStore

        other: Store = SqliteStore(path)
    elif schema is not None:
        from caselib.storage.postgres import PostgresStore

        other = PostgresStore(DSN, schema=schema)
    else:
        yield store
        return
    yield other
    other.close()

