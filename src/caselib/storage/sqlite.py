"""The embedded default store: one SQLite file, stdlib :mod:`sqlite3` only.

Design, and why:

- **Transactions.** A unit of work reads outside any long transaction (each read method is one
  consistent snapshot, like PostgreSQL's READ COMMITTED) and opens ``BEGIN IMMEDIATE`` at its
  first write. SQLite has one writer at a time anyway; taking the write lock up front means a
  transaction never has to *upgrade* a read snapshot, which in WAL mode fails with
  ``SQLITE_BUSY_SNAPSHOT`` whenever anyone else committed meanwhile (a spurious error the busy
  timeout cannot absorb). Lost updates are prevented by the version check in ``save``
  (``UPDATE … WHERE version = ?``), not by snapshot isolation.
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

import contextlib
import functools
import itertools
import os
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal

from caselib.cases import Case
from caselib.errors import (
    DuplicateKey,
    InvalidInput,
    SchemaMismatch,
    StorageError,
)
from caselib.ports import require_tenant
from caselib.storage._sql import (
    ACTIVE_CATEGORIES_SQL,
    CASE_COLUMNS,
    STORED_COLUMNS,
    ConnectionPool,
    Loaded,
    SqlDialect,
    SqlUnitOfWorkBase,
    import_rows,
    insert_sql,
)

__all__ = ["SCHEMA_VERSION", "SqliteStore", "SqliteUnitOfWork"]

DIALECT: Final = SqlDialect("?", for_update_skip_locked=False, merge_doc="json_patch(doc, ?)")

_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the initial schema
    (
        # cases is a rowid table, not WITHOUT ROWID: a row is ~1 KiB (its document), far past
        # the size where SQLite recommends WITHOUT ROWID, and secondary indexes then point at
        # an 8-byte rowid instead of repeating (tenant, id). Only the indexes that the queries
        # of caselib.storage._sql need: each one is written on every insert.
        """CREATE TABLE cases (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            number TEXT NOT NULL,
            subject TEXT NOT NULL,
            status TEXT NOT NULL,
            status_category TEXT NOT NULL,
            priority TEXT NOT NULL,
            priority_rank INTEGER NOT NULL,
            assignee TEXT,
            team TEXT,
            tags TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            resolved_at TEXT,
            next_due_at TEXT,
            breached INTEGER NOT NULL,
            version INTEGER NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (tenant, id),
            UNIQUE (tenant, number)
        )""",
        # default order and created-date filters
        "CREATE INDEX cases_created ON cases (tenant, created_at, id)",
        # "recently updated" lists
        "CREATE INDEX cases_updated ON cases (tenant, updated_at, id)",
        # board counts: GROUP BY status reads this index only
        "CREATE INDEX cases_status ON cases (tenant, status)",
        # team queues and team boards
        "CREATE INDEX cases_team ON cases (tenant, team, status_category, created_at, id)",
        # the agent inbox and open counts per agent: active cases of one assignee in created
        # order, no sort, no scan (queries spell the predicate exactly as ACTIVE_CATEGORIES_SQL)
        "CREATE INDEX cases_inbox ON cases (tenant, assignee, created_at, id) "
        f"WHERE {ACTIVE_CATEGORIES_SQL}",
        # the breach sweep: only cases with a running clock have a due time; any comparison
        # on next_due_at implies the predicate, so due_before queries can use it
        "CREATE INDEX cases_due ON cases (tenant, next_due_at, id) "
        "WHERE next_due_at IS NOT NULL",
        # the "most urgent first" queue over active work
        "CREATE INDEX cases_priority ON cases (tenant, priority_rank DESC, created_at, id) "
        f"WHERE {ACTIVE_CATEGORIES_SQL}",
        """CREATE TABLE case_tags (
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            tag TEXT NOT NULL,
            PRIMARY KEY (tenant, case_id, tag),
            FOREIGN KEY (tenant, case_id) REFERENCES cases (tenant, id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        """CREATE TABLE timeline (
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            entry TEXT NOT NULL,
            PRIMARY KEY (tenant, case_id, seq),
            FOREIGN KEY (tenant, case_id) REFERENCES cases (tenant, id) ON DELETE CASCADE
        ) WITHOUT ROWID""",
        # seq: a plain rowid alias (max + 1) is already write order; AUTOINCREMENT would add
        # a sqlite_sequence write to every commit
        """CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            key TEXT NOT NULL,
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            type TEXT NOT NULL,
            payload TEXT NOT NULL,
            created_at TEXT NOT NULL,
            delivered_at TEXT,
            UNIQUE (tenant, key)
        )""",
        "CREATE INDEX outbox_pending ON outbox (tenant, seq) WHERE delivered_at IS NULL",
        """CREATE TABLE case_numbers (
            tenant TEXT PRIMARY KEY,
            counter INTEGER NOT NULL
        )""",
        """CREATE TABLE articles (
            tenant TEXT NOT NULL,
            id TEXT NOT NULL,
            status TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            doc TEXT NOT NULL,
            PRIMARY KEY (tenant, id)
        ) WITHOUT ROWID""",
        *(f"""CREATE TABLE {t} (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            at TEXT NOT NULL,
            doc TEXT NOT NULL
        )""" for t in ("kb_shown", "kb_opened", "kb_resolved")),
        *(f"CREATE INDEX {t}_at ON {t} (tenant, at, seq)"
          for t in ("kb_shown", "kb_opened", "kb_resolved")),
        *(f"CREATE INDEX {t}_case ON {t} (tenant, case_id, at, seq)"
          for t in ("kb_shown", "kb_opened", "kb_resolved")),
        """CREATE TABLE rr_cursors (
            tenant TEXT NOT NULL,
            team TEXT NOT NULL,
            agent TEXT NOT NULL,
            PRIMARY KEY (tenant, team)
        ) WITHOUT ROWID""",
        """CREATE TABLE agent_last_assigned (
            tenant TEXT NOT NULL,
            agent TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (tenant, agent)
        ) WITHOUT ROWID""",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this caselib writes; older files are migrated forward on open."""

_POOL_MAX: Final = 8
# a case's id, document and the column values a partial save compares against, for the rows
# a condition finds (table alias c, as the query tails of caselib.storage._sql write it)
_SELECT_WHERE: Final = (
    f"SELECT c.id, c.doc, {', '.join(f'c.{c}' for c in STORED_COLUMNS)} FROM cases c WHERE ")
# ... of one tenant, the condition on a column of c to follow
_SELECT_CASE: Final = _SELECT_WHERE + "c.tenant = ? AND c."
_IN_CHUNK: Final = 500  # ids per IN (...) list: well under SQLite's bound-parameter limit
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


def _schema_version(conn: sqlite3.Connection) -> int:
    exists = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
    ).fetchone()
    if exists is None:
        return 0
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def _check_version(version: int, path: str) -> None:
    if version > SCHEMA_VERSION:
        raise SchemaMismatch(
            f"{path} has schema version {version}; this caselib knows up to {SCHEMA_VERSION}. "
            "Upgrade caselib; nothing was changed.")


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
                    conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
                    for number, statements in enumerate(_MIGRATIONS, start=1):
                        if number <= version:
                            continue
                        for statement in statements:
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
            with _errors():
                conn.execute("BEGIN IMMEDIATE")
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

    def load_where(self, tail: str, params: Sequence[Any]) -> list[Loaded]:
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
        self._writing = False
        if conn is not None:
            self._store._pool.checkin(conn)  # rolls back whatever is still open


