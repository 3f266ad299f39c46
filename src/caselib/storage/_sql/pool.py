"""The :class:`ConnectionPool` both SQL stores keep their idle connections in.

Driver-neutral (connect, reset and close are passed in) and unrelated to the SQL, hence
its own module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from caselib.errors import StorageError

__all__ = [
    "ConnectionPool",
]


C = TypeVar("C")


class ConnectionPool(Generic[C]):
    """Idle connections kept for reuse by the SQL stores.

    A unit of work checks a connection out for its whole life and gives it back when it ends;
    ``reset`` rolls back whatever is still open and says whether the connection is fit for
    reuse (a broken one is closed instead). Thread-safe.
    """

    def __init__(self, connect: Callable[[], C], reset: Callable[[C], bool],
                 close: Callable[[C], None], size: int) -> None:
        self._connect = connect
        self._reset = reset
        self._close = close
        self._size = size
        self._lock = threading.Lock()
        self._idle: list[C] = []
        self._closed = False

    def checkout(self) -> C:
        """An idle connection, or a new one."""
        with self._lock:
            if self._closed:
                raise StorageError("the store is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def checkin(self, conn: C) -> None:
        """Take a connection back (rolling back anything left open), or close it."""
        if not self._reset(conn):
            self._close(conn)
            return
        with self._lock:
            if not self._closed and len(self._idle) < self._size:
                self._idle.append(conn)
                return
        self._close(conn)

    def close(self) -> None:
        """Close idle connections; busy ones are closed when they are checked in. Idempotent."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)
