"""The PostgreSQL unit of work: one transaction whose statements travel in as few round trips
as the work allows (psycopg 3's pipeline mode), and the psycopg error translation.

Why a pipeline. A unit of work is a handful of short statements (a create is BEGIN, the
case-number upsert, the case row, its timeline, tags and outbox rows, COMMIT), and on a
server a network hop away each one used to wait for the server before the next was sent:
nine waits per ``create_case``. Most of them need no answer: an INSERT either succeeds or
raises. So writes whose outcome is only "it worked or it raised" are *queued*
(:meth:`PostgresUnitOfWork.write`, ``run_many``) and sent, in order, together with the next
statement whose result is needed, or with the COMMIT; an error in any of them aborts the
transaction before the COMMIT runs, and is raised as the caselib error it means.

The costs this gives (round trips, i.e. waits for the server, each including whatever was
queued before it), with the :class:`~caselib.ServiceDesk` commands:

- ``create_case``: 2 (BEGIN + case number; the case rows + COMMIT), plus one per routing
  read when the routing rules pick an agent (load and round-robin ledger);
- ``add_comment``, ``transition`` and every command of :meth:`DeskContext.change`: 2 (BEGIN +
  row lock + load; UPDATE + new rows + COMMIT);
- a read-only unit of work: 1 per query, with no BEGIN or ROLLBACK (a single statement under
  READ COMMITTED is its own snapshot either way).

Connections are in autocommit mode so that BEGIN is a statement this class queues (psycopg's
own implicit BEGIN in pipeline mode is a round trip of its own).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from caselib.errors import DuplicateKey, StorageError
from caselib.reports import SearchText
from caselib.storage._sql import STORED_COLUMNS, Loaded, SqlDialect, SqlUnitOfWorkBase

if TYPE_CHECKING:
    import psycopg

    from caselib.storage.postgres import PostgresStore

__all__: list[str] = []

DIALECT: Final = SqlDialect("%s", for_update_skip_locked=True,
                            merge_doc="(doc::jsonb || %s::jsonb)::json",
                            text_match="c.search @@ %s::tsquery", text_param=SearchText.tsquery)

_STORED: Final = ", ".join(f"c.{column}" for column in STORED_COLUMNS)
# a case with its timeline (aggregated, so one statement is one snapshot even under READ
# COMMITTED) and the column values a partial save compares against
_SELECT_WHERE: Final = (
    "SELECT c.doc::text, (SELECT COALESCE(json_agg(t.entry ORDER BY t.seq), '[]')::text "
    "FROM timeline t WHERE t.tenant = c.tenant AND t.case_id = c.id), "
    + _STORED + " FROM cases c WHERE "
)
_SELECT_CASE: Final = _SELECT_WHERE + "c.tenant = %s AND "
# A claim locks the rows it returns and skips rows locked by others. It reads the timelines
# in a second statement: under READ COMMITTED a row locked after waiting is re-read at its
# newest version, but a subquery of the same statement still sees the statement's snapshot,
# so entries committed meanwhile would be missing (and the next entry's seq would collide).
_CLAIM: Final = "SELECT c.id, c.doc::text, " + _STORED + " FROM cases c WHERE "
_CLAIMED_ENTRIES: Final = ("SELECT case_id, entry::text FROM timeline WHERE tenant = %s "
                           "AND case_id = ANY(%s) ORDER BY case_id, seq")
_LOCK: Final = "SELECT 1 FROM cases WHERE tenant = %s AND id = %s FOR UPDATE"
_LOCK_MANY: Final = ("SELECT 1 FROM cases WHERE tenant = %s AND id = ANY(%s) ORDER BY id "
                     "FOR UPDATE")

_Queued = tuple[str, Any, bool]  # (sql, params or rows, executemany?)
_ROWS_PER_INSERT: Final = 500  # rows of one multi-row INSERT (well under 65,535 parameters)


@functools.cache
def _multi_insert(table: str, columns: tuple[str, ...], rows: int) -> str:
    """``INSERT INTO table (columns) VALUES (…), (…), …`` for ``rows`` rows."""
    group = f"({', '.join(['%s'] * len(columns))})"
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([group] * rows)}"


def _psycopg() -> Any:
    try:
        import psycopg
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            'PostgresStore needs psycopg 3: pip install "caselib-engine[postgres]"') from err
    return psycopg


def _translate(err: Exception) -> StorageError:
    """A caselib error for a psycopg error (the caller raises it ``from err``)."""
    psycopg = _psycopg()
    if isinstance(err, psycopg.errors.UniqueViolation):
        return DuplicateKey(f"duplicate key: {err}")
    if isinstance(err, (psycopg.errors.SerializationFailure, psycopg.errors.DeadlockDetected)):
        return StorageError(f"PostgreSQL aborted the transaction, retry it: {err}")
    if isinstance(err, psycopg.errors.LockNotAvailable):
        return StorageError(f"a lock was not granted in time (lock_timeout); retry: {err}")
    return StorageError(f"PostgreSQL error: {err}")


@contextmanager
def _errors() -> Iterator[None]:
    psycopg = _psycopg()
    try:
        yield
    except psycopg.Error as err:
        raise _translate(err) from err


class PostgresUnitOfWork(SqlUnitOfWorkBase):
    """One PostgreSQL transaction over one tenant (see the module docstring)."""

    dialect = DIALECT

    def __init__(self, store: PostgresStore, tenant: str, conn: psycopg.Connection[Any]) -> None:
        self.tenant = tenant
        self._store = store
        self._conn: psycopg.Connection[Any] | None = conn
        self._queue: list[_Queued] = []  # statements not sent yet, in order
        self._open = False  # BEGIN is sent or queued
        self._wake_relays = False  # outbox rows were written: NOTIFY listening relays
        self.round_trips = 0
        """Waits for the server so far (what the module docstring counts)."""
        self._init_repositories(lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"<PostgresUnitOfWork tenant={self.tenant!r}{' done' if self._conn is None else ''}>"

    # -- sending --------------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise StorageError("this unit of work has already been committed or rolled back")
        return self._conn

    def _begin(self) -> None:
        if not self._open:
            self._connection()
            self._queue.append(("BEGIN", None, False))
            self._open = True

    def _send(self, sql: str, params: Any) -> psycopg.Cursor[Any]:
        """Send what is queued, then ``sql``; wait for all of it (one round trip) and return
        the cursor holding ``sql``'s result. An error of any statement is raised here."""
        conn = self._connection()
        queue, self._queue = self._queue, []
        self.round_trips += 1
        with _errors():
            if not queue:
                return conn.execute(sql, params)
            with conn.pipeline(), conn.cursor() as cur:
                for text, args, many in queue:
                    if many:
                        cur.executemany(text, args)
                    else:
                        cur.execute(text, args)
                last = conn.execute(sql, params)
            return last

    # -- SqlSession -----------------------------------------------------------------------

    def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False
              ) -> list[tuple[Any, ...]]:
        if write:
            self._begin()
        with _errors():
            return self._send(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        self._begin()
        return self._send(sql, params).rowcount

    def write(self, sql: str, params: Sequence[Any] = ()) -> None:
        self._begin()
        self._queue.append((sql, params, False))

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._begin()
        if rows:
            self._queue.append((sql, rows, True))

    def insert_many(self, table: str, columns: Sequence[str],
                    rows: Sequence[Sequence[Any]]) -> None:
        # one multi-row INSERT per chunk: measured on a create's three timeline rows and two
        # outbox rows, 1.5x the rate of one INSERT per row (each statement has a fixed cost
        # on the server: parse, plan, executor start-up), pipelined either way
        self._begin()
        if table == "outbox" and self._store.notify_outbox:
            self._wake_relays = True
        for at in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[at:at + _ROWS_PER_INSERT]
            self._queue.append((_multi_insert(table, tuple(columns), len(chunk)),
                                [value for row in chunk for value in row], False))

    def lock_case(self, case_id: str) -> None:
        # queued: it travels with the load that follows, which the server runs after it,
        # in a new snapshot (so the load sees whatever the previous holder committed)
        self.write(_LOCK, (self.tenant, case_id))

    def lock_cases(self, case_ids: Sequence[str]) -> None:
        # one statement; rows are locked in the order returned (id order: no deadlock)
        self.write(_LOCK_MANY, (self.tenant, sorted(case_ids)))

    def load_case(self, column: str, value: str) -> Loaded | None:
        rows = self.fetch(f"{_SELECT_CASE}c.{column} = %s", (self.tenant, value))
        if not rows:
            return None
        return rows[0][0], json.loads(rows[0][1]), rows[0][2:]

    def load_cases(self, case_ids: Sequence[str]) -> list[Loaded]:
        rows = self.fetch(f"{_SELECT_CASE}c.id = ANY(%s)", (self.tenant, list(case_ids)))
        return [(row[0], json.loads(row[1]), row[2:]) for row in rows]

    def load_where(self, tail: str, params: Sequence[Any], *, claim: bool = False
                   ) -> list[Loaded]:
        if not claim:
            rows = self.fetch(_SELECT_WHERE + tail, params)  # one statement: one snapshot
            return [(row[0], json.loads(row[1]), row[2:]) for row in rows]
        found = self.fetch(f"{_CLAIM}{tail} FOR UPDATE OF c SKIP LOCKED", params, write=True)
        entries: dict[str, list[Any]] = {}
        if found:
            for case_id, entry in self.fetch(_CLAIMED_ENTRIES,
                                             (self.tenant, [row[0] for row in found])):
                entries.setdefault(case_id, []).append(entry)
        return [(row[1], entries.get(row[0], []), row[2:]) for row in found]

    # -- UnitOfWork -----------------------------------------------------------------------

    def commit(self) -> None:
        """Commit every write at once (or raise, roll back and write nothing)."""
        self._connection()
        try:
            if self._open:
                if self._wake_relays:
                    # delivered to listeners when (and only if) the transaction commits
                    self._queue.append(("SELECT pg_notify(%s, %s)",
                                        (self._store.outbox_channel, self.tenant), False))
                self._send("COMMIT", None)
        finally:
            self._finish()

    def rollback(self) -> None:
        """Discard every write of this unit of work."""
        if self._conn is None:
            return
        self._finish()

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        self._queue.clear()
        self._open = self._wake_relays = False
        if conn is not None:
            self._store._pool.checkin(conn)  # rolls back whatever is still open
