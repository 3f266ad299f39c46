"""Counting the round trips a :class:`~caselib.storage.postgres.PostgresStore` makes, from
libpq's own protocol trace (for the tests and benchmarks that hold the store to its
documented costs).

A round trip is one wait for the server: the client ends what it sends with a ``Sync``
(extended protocol, one per pipeline or per statement) or sends a simple ``Query``, then
reads until the server is ready again. So the count is the number of those two messages
the client sent, read from the trace libpq writes (not from caselib's own bookkeeping).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from caselib.storage.postgres import PostgresStore

__all__: list[str] = []


class RoundTrips:
    """What :func:`count_round_trips` counted: ``total`` waits for the server, and the
    trace's ``messages`` (direction, type) in order."""

    def __init__(self) -> None:
        self.total = 0
        self.messages: list[tuple[str, str]] = []


@contextmanager
def count_round_trips(store: PostgresStore) -> Iterator[RoundTrips]:
    """Trace every connection ``store`` hands out during the block; count on exit."""
    import psycopg

    pool: Any = store._pool
    checkout = pool.checkout
    traced: list[Any] = []
    result = RoundTrips()
    fd, path = tempfile.mkstemp(prefix="caselib-pgtrace-")
    flags = psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE

    def traced_checkout() -> Any:
        conn = checkout()
        conn.pgconn.trace(fd)
        conn.pgconn.set_trace_flags(flags)
        traced.append(conn)
        return conn

    pool.checkout = traced_checkout
    try:
        yield result
    finally:
        del pool.checkout  # the class's method again
        for conn in traced:
            if not conn.closed:
                conn.pgconn.untrace()  # flushes libpq's buffered trace
        with open(path, encoding="utf-8", errors="replace") as trace:
            for line in trace:
                parts = line.split("\t")
                if len(parts) >= 3:
                    result.messages.append((parts[0], parts[2].strip()))
        os.close(fd)
        os.unlink(path)
        result.total = sum(1 for way, kind in result.messages
                           if way == "F" and kind in ("Sync", "Query"))
