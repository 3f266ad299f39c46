"""The embedded default store: one SQLite file, stdlib :mod:`sqlite3` only.

Design, and why:

- **Transactions.** A unit of work reads outside any long transaction (each read method is one
  consistent snapshot, like PostgreSQL's READ COMMITTED) and opens ``BEGIN IMMEDIATE`` at its
  first write. SQLite has one writer at a time anyway; taking the write lock up front means a
  transaction never has to *upgrade* a read snapshot, which in WAL mode fails with
  ``SQLITE_BUSY_SNAPSHOT`` whenever anyone else committed meanwhile (a spurious error the busy
  timeout cannot absorb). Lost updates are prevented by the version check in ``save``
  (``UPDATE … WHERE version = ?``), not by snapshot isolation.
- **Writers take turns.** ``get_for_update`` (how every desk command loads its case) opens
  ``BEGIN IMMEDIATE`` *before* the read, so a command waits (``busy_timeout``) for the
  writer before it, then reads what that writer committed: commands without
  ``expected_version`` never fail on a lost race. The cost is that a unit of work holds the
  write lock while the command runs (tens of microseconds of Python between its read and
  its write), which is nothing beside the commit that follows.
- **Outbox.** :meth:`Outbox.pending` takes the write lock, so two relays (threads or processes)
  never hand out the same message at once: the second waits for the first to commit (SQLite
  has no ``SKIP LOCKED``; with one writer at a time, waiting is the same guarantee).
- **Durability.** WAL with ``synchronous=NORMAL`` by default: a commit is atomic and survives
  a crash of the application, but the last transactions before a power loss or OS crash may be
  lost (the file is never corrupted). Pass ``synchronous="FULL"`` to fsync every commit when
  that matters more than write throughput.
- **Checkpoints.** A thread of the store copies the WAL into the database file after writes
  (see :class:`_Checkpointer`), so commits only append to the WAL; ``checkpoint="inline"``
  leaves it to SQLite's auto-checkpoint inside the committing writer.
- **Threads and processes.** Each unit of work checks a connection out of a small pool and
  returns it when it ends, so a store is shared freely between threads (a unit of work itself
  belongs to one thread at a time). Several processes may open the same file: WAL lets readers
  run during a write, ``busy_timeout`` (``timeout``) queues writers, and the schema migration
  runs under the write lock so two processes opening a fresh file do not race.
- **Schema.** ``schema_version`` records the applied migrations; opening a file written by a
  newer caselib raises :class:`~caselib.errors.SchemaMismatch` before anything is changed.
  Cases are a JSON document plus the indexed columns queries need; the timeline is append-only
  (a redaction rewrites its entry in place, the only UPDATE there); datetimes are fixed-width ISO
  UTC text, so text order is time order. Every index is paid for on every insert, so there are
  only the ones the shared queries use, each commented with the query it serves; the due and
  priority queues are partial indexes over the cases that can be in them.
- **Bulk.** :meth:`SqliteStore.import_cases` writes chunks of rows with ``executemany`` in one
  transaction and, by default, leaves the outbox alone (an import is history, not news).
- **Breach sweep.** The repository offers :class:`~caselib.ports.SlaSweepRepository`: a breach
  is written as ``doc = json_patch(doc, ?)`` (the few changed keys, merged by SQLite, which
  copies the untouched text of the document as it is) with the changed columns, and a batch's
  timeline rows and outbox messages go in two ``executemany`` calls. ``json_patch`` needs
  SQLite's JSON functions: built in since 3.38, and in every common build before (the store
  already needs 3.35 for ``RETURNING``).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

from caselib.cases import Case
from caselib.errors import (
    InvalidInput,
    StorageError,
)
from caselib.ports import require_tenant
from caselib.reports import SearchText
from caselib.storage._sql import (
    CASE_COLUMNS,
    STORED_COLUMNS,
    ConnectionPool,
    Loaded,
    SqlDialect,
    SqlUnitOfWorkBase,
    import_rows,
    insert_sql,
)
from caselib.storage._sqlite_connection import (
    _WAL_CHECKPOINT_PAGES,
    _WAL_SAFETY_PAGES,
    _Checkpointer,
    _close,
    _connect,
    _enable_wal,
    _errors,
    _reset,
)
from caselib.storage._sqlite_schema import (
    _MIGRATIONS,
    SCHEMA_VERSION,
    _check_version,
    _schema_version,
    terms_function,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore", "SqliteUnitOfWork"]

DIALECT: Final = SqlDialect(
    "?", for_update_skip_locked=False, merge_doc="json_patch(doc, ?)",
    text_match="c.rowid IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)",
    text_param=SearchText.fts5,
    # (the unary + keeps the planner from driving the query by the rowid list)
    text_scan="+c.rowid IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)",
    text_estimate="SELECT COUNT(*) FROM (SELECT 1 FROM cases_fts WHERE cases_fts MATCH ? "
                  "LIMIT ?)")


_POOL_MAX: Final = 8
# a case's id, document and the column values a partial save compares against, for the rows
# a condition finds (table alias c, as the query tails of caselib.storage._sql write it)
_SELECT_WHERE: Final = (
    f"SELECT c.id, c.doc, {', '.join(f'c.{c}' for c in STORED_COLUMNS)} FROM cases c WHERE ")
# ... of one tenant, the condition on a column of c to follow
_SELECT_CASE: Final = _SELECT_WHERE + "c.tenant = ? AND c."
_IN_CHUNK: Final = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit


class SqliteStore:
    """A :class:`~caselib.ports.Store` in one SQLite file.

    Args:
        path: the database file (created if missing). ``":memory:"`` is refused: every
            pooled connection would see its own empty database.
        timeout: seconds a writer waits for another writer's lock before
            :class:`~caselib.errors.StorageError`.
        synchronous: ``"NORMAL"`` (default: atomic, crash-safe for the application, may lose
            the last commits on power loss) or ``"FULL"`` (fsync on every commit).
        checkpoint: ``"background"`` (default: a thread of the store copies the WAL into the
            database file, so commits do not wait for it) or ``"inline"`` (SQLite's own
            auto-checkpoint inside the committing writer's COMMIT, every ~40 MiB of WAL).

    Raises:
        SchemaMismatch: the file was written by a newer caselib.
    """

    units_cross_threads: Final = True
    """A unit of work may be finished on another thread (see :class:`~caselib.ports.Store`):
    a unit of work owns its pooled connection (opened with check_same_thread=False)."""

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0,
                 synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
                 checkpoint: Literal["background", "inline"] = "background") -> None:
        self.path = os.fspath(path)
        if self.path == ":memory:" or self.path.startswith("file::memory:"):
            raise InvalidInput("SqliteStore needs a file; use MemoryStore for an in-memory store",
                               field="path")
        if synchronous not in ("NORMAL", "FULL"):
            raise InvalidInput("synchronous must be 'NORMAL' or 'FULL'", field="synchronous")
        if checkpoint not in ("background", "inline"):
            raise InvalidInput("checkpoint must be 'background' or 'inline'", field="checkpoint")
        self._timeout = float(timeout)
        # The writers of this process queue here before BEGIN IMMEDIATE. SQLite's busy
        # handler polls with sleeps of up to 100 ms, so a lock freed meanwhile sits idle:
        # 16 threads commenting on one case managed ~100 commits/s through it. A lock that
        # wakes the next thread at once hands the turn over without the sleeps; other
        # processes still queue through busy_timeout. (Released by whichever thread ends
        # the unit of work: units may cross threads, so a plain Lock, not an RLock.)
        self._writers = threading.Lock()
        self._synchronous = synchronous
        self._checkpointer: _Checkpointer | None = None
        if checkpoint == "background":
            self._checkpointer = _Checkpointer(functools.partial(
                _connect, self.path, self._timeout, synchronous, _WAL_SAFETY_PAGES))
            # a store dropped without close() stops its thread (without waiting for it)
            weakref.finalize(self, self._checkpointer.stop)
        self._pool: ConnectionPool[sqlite3.Connection] = ConnectionPool(
            self._connect, _reset, _close, _POOL_MAX)
        conn = self._connect()
        try:
            self._migrate(conn)
        except BaseException:
            conn.close()
            raise
        self._pool.checkin(conn)

    def __repr__(self) -> str:
        return f"<SqliteStore {self.path!r}>"

    # -- connections ----------------------------------------------------------------------

    def _connect(self) -> sqlite3.Connection:
        pages = _WAL_CHECKPOINT_PAGES if self._checkpointer is None else _WAL_SAFETY_PAGES
        return _connect(self.path, self._timeout, self._synchronous, pages)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        with _errors():
            _check_version(_schema_version(conn), self.path)
            _enable_wal(conn, self._timeout)
            conn.execute("BEGIN IMMEDIATE")
            try:
                version = _schema_version(conn)  # again, under the write lock
                _check_version(version, self.path)
                if version < SCHEMA_VERSION:
                    terms_function(conn)
                    conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
                    for number, statements in enumerate(_MIGRATIONS, start=1):
                        if number <= version:
                            continue
                        for statement in statements:
                            if callable(statement):
                                statement(conn)
                            else:
                                conn.execute(statement)
                        conn.execute("INSERT INTO schema_version VALUES (?, ?)",
                                     (number, datetime.now(UTC).isoformat()))
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    # -- the Store protocol ---------------------------------------------------------------

    def unit_of_work(self, tenant: str) -> SqliteUnitOfWork:
        """A new unit of work over ``tenant``; it holds a pooled connection until it ends."""
        require_tenant(tenant)
        return SqliteUnitOfWork(self, tenant, self._pool.checkout())

    def close(self) -> None:
        """Stop the background checkpointer (after a last checkpoint) and close idle
        connections; connections of running units of work close when they end."""
        if self._checkpointer is not None:
            self._checkpointer.close()
            self.checkpoint()
        self._pool.close()

    def checkpoint(self) -> None:
        """Copy what the WAL holds into the database file now, as far as readers allow (a
        passive checkpoint: it never waits for a reader or a writer). Useful before copying
        the file; the store otherwise does it by itself."""
        conn = self._connect()
        try:
            with _errors():
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()

    def _writer_turn(self) -> None:
        """Wait for this process's current writer, if any (see ``_writers``)."""
        if not self._writers.acquire(timeout=self._timeout):
            raise StorageError(
                f"another unit of work of this process held the write lock for {self._timeout:g} s"
                " (the store's timeout); finish it (commit or roll back), then retry")

    def _writer_done(self) -> None:
        self._writers.release()

    def _committed_write(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.poke()

    # -- bulk -----------------------------------------------------------------------------

    def import_cases(self, cases: Iterable[Case], *, events: bool = False) -> int:
        """Insert many new cases (``version == 0``) in one transaction; return how many.

        The fast path for migrations and seeding: rows are built in chunks and written with
        ``executemany``. Each case is stored at version 1 with its whole timeline, as
        :meth:`CaseRepository.add` would. Case numbers are taken as given; the tenant's
        counter is not moved. On any error nothing is written (and the cases should be
        discarded: their pending events were consumed).

        Events: by default the cases' pending events are dropped, not queued in the outbox.
        An import brings over history (a migration), not news: relaying "case created",
        "assigned", "resolved" for years-old cases would notify customers and agents and fire
        webhooks for things that happened long ago. Pass ``events=True`` when the host does
        want them relayed (e.g. seeding live cases that a search index learns about through
        events); they are then written exactly as :meth:`CaseRepository.add` writes them.

        Raises:
            DuplicateKey: an id or number already exists (in the store or the batch).
        """
        conn = self._pool.checkout()
        done: list[Case] = []
        try:
            with _errors():
                conn.execute("BEGIN IMMEDIATE")
                ins_case = insert_sql("cases", CASE_COLUMNS, DIALECT)
                ins_entry = insert_sql("timeline", ("tenant", "case_id", "seq", "entry"), DIALECT)
                ins_tag = insert_sql("case_tags", ("tenant", "case_id", "tag"), DIALECT)
                ins_out = insert_sql("outbox", ("key", "tenant", "case_id", "type", "payload",
                                                "created_at"), DIALECT)
                for case_rows, entries, tags, messages, chunk in import_rows(cases, events=events):
                    conn.executemany(ins_case, case_rows)
                    conn.executemany(ins_entry, entries)
                    conn.executemany(ins_tag, tags)
                    conn.executemany(ins_out, messages)
                    done.extend(chunk)
                conn.execute("COMMIT")
            self._committed_write()
        finally:
            self._pool.checkin(conn)
        for case in done:
            case.mark_saved(1)
        return len(done)


class SqliteUnitOfWork(SqlUnitOfWorkBase):
    """One transaction over one tenant of a :class:`SqliteStore` (see the module docstring)."""

    dialect = DIALECT

    def __init__(self, store: SqliteStore, tenant: str, conn: sqlite3.Connection) -> None:
        self.tenant = tenant
        self._store = store
        self._conn: sqlite3.Connection | None = conn
        self._writing = False
        self._init_repositories(lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        state = "done" if self._conn is None else "writing" if self._writing else "open"
        return f"<SqliteUnitOfWork tenant={self.tenant!r} {state}>"

    # -- SqlSession -----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StorageError("this unit of work has already been committed or rolled back")
        return self._conn

    def _begin_write(self) -> sqlite3.Connection:
        conn = self._connection()
        if not self._writing:
            self._store._writer_turn()
            try:
                with _errors():
                    conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._store._writer_done()
                raise
            self._writing = True
        return conn

    def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False
              ) -> list[tuple[Any, ...]]:
        conn = self._begin_write() if write else self._connection()
        with _errors():
            return conn.execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        conn = self._begin_write()
        with _errors():
            return conn.execute(sql, params).rowcount

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self._begin_write()
        with _errors():
            conn.executemany(sql, rows)

    def lock_case(self, case_id: str) -> None:
        # SQLite has one lock for writers: BEGIN IMMEDIATE (waiting up to the busy timeout)
        self._begin_write()

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        self._begin_write()  # the one writer lock covers them all

    def load_case(self, column: str, value: str) -> Loaded | None:
        conn = self._connection()
        snapshot = not self._writing  # group the two reads into one read transaction
        with _errors():
            if snapshot:
                conn.execute("BEGIN")
            try:
                row = conn.execute(f"{_SELECT_CASE}{column} = ?", (self.tenant, value)).fetchone()
                if row is None:
                    return None
                entries = conn.execute(
                    "SELECT entry FROM timeline WHERE tenant = ? AND case_id = ? ORDER BY seq",
                    (self.tenant, row[0])).fetchall()
            finally:
                if snapshot:
                    conn.execute("COMMIT")
        return row[1], [e for (e,) in entries], row[2:]

    def load_cases(self, case_ids: Sequence[str]) -> list[Loaded]:
        def read(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            docs: list[tuple[Any, ...]] = []
            for at in range(0, len(case_ids), _IN_CHUNK):
                chunk = case_ids[at:at + _IN_CHUNK]
                docs += conn.execute(f"{_SELECT_CASE}id IN ({', '.join('?' * len(chunk))})",
                                     (self.tenant, *chunk)).fetchall()
            return docs

        return self._load(read)

    def load_where(self, tail: str, params: Sequence[Any], *, claim: bool = False
                   ) -> list[Loaded]:
        # no SKIP LOCKED: a claim would be the write lock, held while the sweep decides
        # (SQLite writers take turns anyway, and the sweep's versions catch a lost race)
        return self._load(lambda conn: conn.execute(_SELECT_WHERE + tail, params).fetchall())

    def _load(self, read: Callable[[sqlite3.Connection], list[tuple[Any, ...]]]
              ) -> list[Loaded]:
        """The rows ``read`` selects (``id, doc, *STORED_COLUMNS``) with their timelines,
        in one read transaction."""
        conn = self._connection()
        snapshot = not self._writing
        entries: dict[str, list[Any]] = {}
        with _errors():
            if snapshot:
                conn.execute("BEGIN")
            try:
                docs = read(conn)
                ids = [row[0] for row in docs]
                for at in range(0, len(ids), _IN_CHUNK):
                    chunk = ids[at:at + _IN_CHUNK]
                    for case_id, entry in conn.execute(
                            "SELECT case_id, entry FROM timeline WHERE tenant = ? AND case_id "
                            f"IN ({', '.join('?' * len(chunk))}) ORDER BY case_id, seq",
                            (self.tenant, *chunk)):
                        entries.setdefault(case_id, []).append(entry)
            finally:
                if snapshot:
                    conn.execute("COMMIT")
        return [(row[1], entries.get(row[0], []), row[2:]) for row in docs]

    # -- UnitOfWork -----------------------------------------------------------------------

    def commit(self) -> None:
        """Commit every write at once (or raise, roll back and write nothing)."""
        conn = self._connection()
        try:
            if self._writing:
                with _errors():
                    conn.execute("COMMIT")
                self._store._committed_write()
        finally:
            self._finish()

    def rollback(self) -> None:
        """Discard every write of this unit of work."""
        if self._conn is None:
            return
        self._finish()

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        writing, self._writing = self._writing, False
        try:
            if conn is not None:
                self._store._pool.checkin(conn)  # rolls back whatever is still open
        finally:
            if writing:
                self._store._writer_done()


