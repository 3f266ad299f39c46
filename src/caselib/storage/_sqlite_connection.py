"""SQLite connections for the store: driver errors to caselib errors, the pragmas every
connection gets, switching a file to WAL, and the background WAL checkpointer.

Separate from :mod:`caselib.storage.sqlite` (whose docstring says why each setting is what
it is) so that the store class reads as units of work and queries.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Final

from caselib.errors import DuplicateKey, StorageError

__all__: list[str] = []

_CACHE_KIB: Final = -65_536  # negative: KiB, i.e. 64 MiB
_WAL_CHECKPOINT_PAGES: Final = 10_000
# with the background checkpointer, what a writer's COMMIT still checkpoints itself: only a
# WAL the checkpointer has let grow this far (it fell behind, or its thread is gone)
_WAL_SAFETY_PAGES: Final = 4 * _WAL_CHECKPOINT_PAGES
_WAL_SIZE_LIMIT: Final = 64 * 1024 * 1024
_CHECKPOINT_PAUSE: Final = 0.05  # seconds between background checkpoints while writes go on


def _translate(err: sqlite3.Error) -> StorageError:
    """A caselib error for a driver error (the caller raises it ``from err``)."""
    text = str(err)
    if isinstance(err, sqlite3.IntegrityError) and ("UNIQUE" in text or "PRIMARY KEY" in text):
        return DuplicateKey(f"duplicate key: {text}")
    if isinstance(err, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return StorageError(f"the SQLite database stayed locked past the timeout: {text}")
    return StorageError(f"SQLite error: {text}")


class _Errors:
    """``with _errors():`` turns a driver error into a caselib error. A class, not a
    ``@contextmanager`` generator: it wraps every statement, and entering a generator-based
    one costs several times more."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if isinstance(exc, sqlite3.Error):
            raise _translate(exc) from exc


_ERRORS: Final = _Errors()


def _errors() -> _Errors:
    return _ERRORS


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL, waiting out other processes that open it at the same moment.

    Changing the journal mode needs the file to itself, and SQLite answers "database is
    locked" at once instead of calling its busy handler, so two processes opening a new file
    together would fail. Retry with a short back-off until ``timeout``.
    """
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() >= deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)


def _reset(conn: sqlite3.Connection) -> bool:
    try:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True


def _close(conn: sqlite3.Connection) -> None:
    conn.close()


def _connect(path: str, timeout: float, synchronous: str, autocheckpoint: int
             ) -> sqlite3.Connection:
    """A connection with the store's settings (a function, not a method, so that the
    checkpointer thread holds no reference to the store)."""
    with _errors():
        # isolation_level=None: we issue BEGIN/COMMIT ourselves (the module's implicit
        # transactions would open deferred ones at the first DML)
        conn = sqlite3.connect(path, timeout=timeout, isolation_level=None,
                               check_same_thread=False, cached_statements=256)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        # Inline (checkpoint="inline"), checkpoint the WAL every ~40 MiB instead of SQLite's
        # ~4 MiB: a checkpoint is two fsyncs plus a write of every page changed since the
        # last one, paid inside COMMIT by whichever unit of work crosses the threshold. A case
        # create dirties ~17 pages, so by default every ~60th create paid it: one-by-one
        # creates went from ~1,500/s to ~2,200/s. With the background checkpointer this is
        # only a safety net (see _Checkpointer). Durability is unchanged (that is
        # ``synchronous``); journal_size_limit cuts the WAL file back after a checkpoint so
        # it does not stay at its peak size.
        conn.execute(f"PRAGMA wal_autocheckpoint = {autocheckpoint}")
        conn.execute(f"PRAGMA journal_size_limit = {_WAL_SIZE_LIMIT}")
        # A 64 MiB page cache per connection (SQLite's default is 2 MiB): at a million
        # cases the case indexes no longer fit in 2 MiB, and every UPDATE of a case then
        # re-reads index pages from the OS (the breach sweep ran 1.7x slower at 1M than at
        # 100k). Pages are allocated only as they are used.
        conn.execute(f"PRAGMA cache_size = {_CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")
    return conn


class _Checkpointer:
    """Copies the WAL back into the database file on a thread of its own.

    In WAL mode every commit appends the pages it changed to the WAL, and a *checkpoint*
    later writes them into the database file (two fsyncs and a random write per page). With
    SQLite's auto-checkpoint that cost lands inside the COMMIT of whichever writer crosses
    the threshold; at a million cases a checkpoint of a busy WAL takes a large share of a
    second, paid by one unlucky request (or, in the breach sweep, by every batch). Here a
    daemon thread runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection after
    writes, at most every ``_CHECKPOINT_PAUSE`` seconds: a passive checkpoint never blocks
    readers or writers, so commits only append to the WAL. Writers keep an auto-checkpoint
    at ``_WAL_SAFETY_PAGES`` in case this thread falls behind or is gone, so the WAL stays
    bounded either way. The thread starts at the first write, is restarted in a forked
    child, and is stopped (after a last checkpoint) by :meth:`SqliteStore.close`.
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._pokes = itertools.count(1)
        self.poked = 0  # number of the latest poke
        self.covered = 0  # a checkpoint began after every poke up to this number
        self.ran = threading.Condition()  # notified after each checkpoint (tests wait on it)

    def poke(self) -> None:
        """Note a committed write; start the thread if it is not running (in this process)."""
        self.poked = next(self._pokes)
        if self._thread is None or self._pid != os.getpid():
            with self._lock:
                if self._closing.is_set():
                    return
                if self._thread is None or self._pid != os.getpid():
                    self._wake = threading.Event()  # a forked child's copy may be set
                    self._thread = threading.Thread(target=self._run, daemon=True,
                                                    name="caselib-sqlite-checkpoint")
                    self._pid = os.getpid()
                    self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        try:
            conn = self._connect()
        except StorageError:
            return  # writers' safety-net auto-checkpoint keeps the WAL bounded
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                self.checkpoint(conn, self.poked)
                if self._closing.wait(_CHECKPOINT_PAUSE):  # also: at most one per pause
                    break
        finally:
            conn.close()

    def checkpoint(self, conn: sqlite3.Connection, upto: int) -> None:
        """One passive checkpoint on ``conn``, begun after poke ``upto``; errors are left
        to the next one."""
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        with self.ran:
            self.covered = max(self.covered, upto)
            self.ran.notify_all()

    def stop(self) -> threading.Thread | None:
        """Tell the thread to end after its current checkpoint; return it (idempotent)."""
        with self._lock:
            self._closing.set()
            thread, self._thread = self._thread, None
        self._wake.set()
        return thread if thread is not None and self._pid == os.getpid() else None

    def close(self) -> None:
        """:meth:`stop`, and wait for the thread to end."""
        thread = self.stop()
        if thread is not None:
            thread.join()
