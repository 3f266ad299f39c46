"""PostgreSQL test support: a reachable server or a clear skip (a failure under ``CI``).

Every test gets its own schema ``caselib_test_<pid>_<random>``, dropped afterwards, so test
runs (and xdist workers) never see each other's data.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
START_HINT = (
    "PostgreSQL is not reachable at {dsn!r} ({err}). Start it with "
    "`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
    "or point CASELIB_PG_DSN at a server."
)


def server_error() -> str | None:
    """Why the server cannot be used, or ``None`` when it can."""
    try:
        import psycopg
    except ImportError:
        return 'psycopg is not installed (pip install "caselib-engine[postgres]")'
    try:
        with psycopg.connect(DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        return START_HINT.format(dsn=DSN, err=str(err).strip().splitlines()[0])
    return None


def require_server() -> None:
    """Skip the test when there is no server, but fail when ``CI`` is set."""
    why = server_error()
    if why is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI is set, so a missing PostgreSQL fails the run: {why}")
    pytest.skip(why)


def fresh_schema() -> str:
    """A schema name no other run uses."""
    return f"caselib_test_{os.getpid()}_{secrets.token_hex(4)}"


def drop_schema(schema: str) -> None:
    """Drop a test schema (whatever state the test left it in)."""
    import psycopg

    with psycopg.connect(DSN, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh schema name on a reachable server; dropped at teardown."""
    require_server()
    schema = fresh_schema()
    try:
        yield schema
    finally:
        drop_schema(schema)
