"""PostgreSQL store for hosts running many processes over one shared database (psycopg 3).

Install with ``pip install "caselib-engine[postgres]"``. Design, and why:

- **Same shape as SQLite.** Tables, columns and every query come from
  :mod:`caselib.storage._sql`, so the two stores cannot drift apart. Datetimes are fixed-width
  ISO UTC text and text columns are ``COLLATE "C"``: byte order equals Python's ``str`` order,
  so keyset paging matches :meth:`CaseQuery.sort_key` exactly and cursors are interchangeable
  with the other stores'. Documents are ``json``, not ``jsonb``: jsonb refuses ``\u0000``,
  which free-text fields may legitimately contain, and nothing queries inside documents.
- **Transactions.** One database transaction per unit of work, READ COMMITTED. Lost updates
  are prevented by the versioned ``UPDATE … WHERE version = %s`` (a concurrent saver waits on
  the row lock, then sees the new version and gets :class:`ConcurrencyConflict`). A case is
  loaded with one statement (document and timeline together), so it is one snapshot.
- **Work queues.** ``outbox.pending`` is ``SELECT … FOR UPDATE SKIP LOCKED``: several relay
  processes share the outbox without handing out the same message twice. The same pattern
  (a partial index on the due column plus ``SKIP LOCKED``) is how a future ``claim_due(now,
  limit)`` for SLA sweeps fits in: ``cases_due`` already indexes ``(tenant, next_due_at, id)``.
- **Counters.** Case numbers are an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the
  transaction (rolled back with it: no gaps); the round-robin cursor CAS is a conditional
  ``UPDATE``, so the row lock picks one winner.
- **Schema.** Everything lives in one PostgreSQL schema (default ``caselib``) with a
  ``schema_version`` table; migrations run under a transaction-scoped advisory lock so several
  processes starting at once apply them once. A newer schema raises :class:`SchemaMismatch`
  before anything is changed.
- **Connections.** A unit of work takes a connection from a small pool and gives it back when
  it ends; the store is safe to share between threads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Final

from caselib.cases import Case
from caselib.errors import DuplicateKey, InvalidInput, SchemaMismatch, StorageError
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
)

if TYPE_CHECKING:
    import psycopg

__all__ = ["SCHEMA_VERSION", "PostgresStore", "PostgresUnitOfWork"]

DIALECT: Final = SqlDialect("%s", for_update_skip_locked=True,
                            merge_doc="(doc::jsonb || %s::jsonb)::json")

_T: Final = 'TEXT COLLATE "C"'

# a case with its timeline (aggregated, so one statement is one snapshot even under READ
# COMMITTED) and the column values a partial save compares against
_SELECT_WHERE: Final = (
    "SELECT c.doc::text, (SELECT COALESCE(json_agg(t.entry ORDER BY t.seq), '[]')::text "
    "FROM timeline t WHERE t.tenant = c.tenant AND t.case_id = c.id), "
    + ", ".join(f"c.{column}" for column in STORED_COLUMNS)
    + " FROM cases c WHERE "
)
_SELECT_CASE: Final = _SELECT_WHERE + "c.tenant = %s AND "

_MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    # 1: the initial schema
    (
        f"""CREATE TABLE cases (
            tenant {_T} NOT NULL,
            id {_T} NOT NULL,
            number {_T} NOT NULL,
            subject TEXT NOT NULL,
            status {_T} NOT NULL,
            status_category {_T} NOT NULL,
            priority {_T} NOT NULL,
            priority_rank SMALLINT NOT NULL,
            assignee {_T},
            team {_T},
            tags TEXT NOT NULL,
            created_at {_T} NOT NULL,
            updated_at {_T} NOT NULL,
            resolved_at {_T},
            next_due_at {_T},
            breached BOOLEAN NOT NULL,
            version INTEGER NOT NULL,
            doc JSON NOT NULL,
            PRIMARY KEY (tenant, id),
            UNIQUE (tenant, number)
        )""",
        # the same indexes as the SQLite store (see there): only what the shared queries use
        "CREATE INDEX cases_created ON cases (tenant, created_at, id)",
        "CREATE INDEX cases_updated ON cases (tenant, updated_at, id)",
        "CREATE INDEX cases_status ON cases (tenant, status)",
        "CREATE INDEX cases_team ON cases (tenant, team, status_category, created_at, id)",
        "CREATE INDEX cases_inbox ON cases (tenant, assignee, created_at, id) "
        f"WHERE {ACTIVE_CATEGORIES_SQL}",
        "CREATE INDEX cases_due ON cases (tenant, next_due_at, id) WHERE next_due_at IS NOT NULL",
        "CREATE INDEX cases_priority ON cases (tenant, priority_rank DESC, created_at, id) "
        f"WHERE {ACTIVE_CATEGORIES_SQL}",
        f"""CREATE TABLE case_tags (
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            tag {_T} NOT NULL,
            PRIMARY KEY (tenant, case_id, tag),
            FOREIGN KEY (tenant, case_id) REFERENCES cases (tenant, id) ON DELETE CASCADE
        )""",
        "CREATE INDEX case_tags_tag ON case_tags (tenant, tag, case_id)",
        f"""CREATE TABLE timeline (
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            seq INTEGER NOT NULL,
            entry JSON NOT NULL,
            PRIMARY KEY (tenant, case_id, seq),
            FOREIGN KEY (tenant, case_id) REFERENCES cases (tenant, id) ON DELETE CASCADE
        )""",
        f"""CREATE TABLE outbox (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            key {_T} NOT NULL,
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            type {_T} NOT NULL,
            payload JSON NOT NULL,
            created_at {_T} NOT NULL,
            delivered_at {_T},
            UNIQUE (tenant, key)
        )""",
        "CREATE INDEX outbox_pending ON outbox (tenant, seq) WHERE delivered_at IS NULL",
        f"""CREATE TABLE case_numbers (
            tenant {_T} PRIMARY KEY,
            counter BIGINT NOT NULL
        )""",
        f"""CREATE TABLE articles (
            tenant {_T} NOT NULL,
            id {_T} NOT NULL,
            status {_T} NOT NULL,
            updated_at {_T} NOT NULL,
            doc JSON NOT NULL,
            PRIMARY KEY (tenant, id)
        )""",
        *(f"""CREATE TABLE {t} (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            at {_T} NOT NULL,
            doc JSON NOT NULL
        )""" for t in ("kb_shown", "kb_opened", "kb_resolved")),
        *(f"CREATE INDEX {t}_at ON {t} (tenant, at, seq)"
          for t in ("kb_shown", "kb_opened", "kb_resolved")),
        *(f"CREATE INDEX {t}_case ON {t} (tenant, case_id, at, seq)"
          for t in ("kb_shown", "kb_opened", "kb_resolved")),
        f"""CREATE TABLE rr_cursors (
            tenant {_T} NOT NULL,
            team {_T} NOT NULL,
            agent {_T} NOT NULL,
            PRIMARY KEY (tenant, team)
        )""",
        f"""CREATE TABLE agent_last_assigned (
            tenant {_T} NOT NULL,
            agent {_T} NOT NULL,
            at {_T} NOT NULL,
            PRIMARY KEY (tenant, agent)
        )""",
    ),
    # 2: the article stamp that desks in other processes poll before a search
    (
        f"""CREATE TABLE kb_versions (
            tenant {_T} PRIMARY KEY,
            version BIGINT NOT NULL
        )""",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this caselib writes; older schemas are migrated forward on open."""

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


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
    return StorageError(f"PostgreSQL error: {err}")


@contextmanager
def _errors() -> Iterator[None]:
    psycopg = _psycopg()
    try:
        yield
    except psycopg.Error as err:
        raise _translate(err) from err


def _close(conn: psycopg.Connection[Any]) -> None:
    conn.close()


class PostgresStore:
    """A :class:`~caselib.ports.Store` in a PostgreSQL schema.

    Args:
        dsn: a libpq connection string or URL (``"host=127.0.0.1 dbname=app user=app"``).
        schema: the PostgreSQL schema holding caselib's tables (created if missing).
        pool_size: idle connections kept for reuse; more are opened when units of work
            overlap, and closed again when they end.

    Raises:
        SchemaMismatch: the schema was written by a newer caselib.
        StorageError: the server cannot be reached.
    """

    units_cross_threads: Final = True
    """A unit of work may be finished on another thread (see :class:`~caselib.ports.Store`):
    a unit of work owns its pooled connection, and psycopg connections are thread-safe."""

    def __init__(self, dsn: str, *, schema: str = "caselib", pool_size: int = 4) -> None:
        self._psycopg = _psycopg()
        if not _SCHEMA_NAME.match(schema):
            raise InvalidInput("schema must be a plain SQL identifier", field="schema")
        if pool_size < 0:
            raise InvalidInput("pool_size must be >= 0", field="pool_size")
        self.dsn = dsn
        self.schema = schema
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._connect, self._reset, _close, pool_size)
        conn = self._connect(search_path=False)
        try:
            self._migrate(conn)
            with _errors():
                conn.execute(f'SET search_path TO "{schema}"')
                conn.commit()
        except BaseException:
            conn.close()
            raise
        self._pool.checkin(conn)

    def __repr__(self) -> str:
        return f"<PostgresStore schema={self.schema!r}>"

    # -- connections ----------------------------------------------------------------------

    def _connect(self, *, search_path: bool = True) -> psycopg.Connection[Any]:
        with _errors():
            conn: psycopg.Connection[Any] = self._psycopg.connect(self.dsn, autocommit=False)
            if search_path:
                conn.execute(f'SET search_path TO "{self.schema}"')
                conn.commit()
        return conn

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        schema = self.schema
        with _errors():
            try:
                # one migrator at a time across processes; released at commit/rollback
                conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))",
                             (f"caselib-migrate:{schema}",))
                row = conn.execute("SELECT to_regclass(%s)",
                                   (f'"{schema}".schema_version',)).fetchone()
                version = 0
                if row is not None and row[0] is not None:
                    got = conn.execute(
                        f'SELECT MAX(version) FROM "{schema}".schema_version').fetchone()
                    version = int(got[0] or 0) if got else 0
                if version > SCHEMA_VERSION:
                    raise SchemaMismatch(
                        f"PostgreSQL schema {schema!r} has version {version}; this caselib "
                        f"knows up to {SCHEMA_VERSION}. Upgrade caselib; nothing was changed.")
                if version < SCHEMA_VERSION:
                    conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                    conn.execute(f'SET LOCAL search_path TO "{schema}"')
                    conn.execute("CREATE TABLE IF NOT EXISTS schema_version "
                                 "(version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)")
                    for number, statements in enumerate(_MIGRATIONS, start=1):
                        if number <= version:
                            continue
                        for statement in statements:
                            conn.execute(statement)
                        conn.execute("INSERT INTO schema_version VALUES (%s, now())", (number,))
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _reset(self, conn: psycopg.Connection[Any]) -> bool:
        try:
            if conn.closed:
                return False
            if conn.info.transaction_status != self._psycopg.pq.TransactionStatus.IDLE:
                conn.rollback()
        except self._psycopg.Error:
            return False
        return True

    # -- the Store protocol ---------------------------------------------------------------

    def unit_of_work(self, tenant: str) -> PostgresUnitOfWork:
        """A new unit of work over ``tenant``; it holds a connection until it ends."""
        require_tenant(tenant)
        return PostgresUnitOfWork(self, tenant, self._pool.checkout())

    def close(self) -> None:
        """Close idle connections; busy ones close when their unit of work ends. Idempotent."""
        self._pool.close()

    def drop_schema(self) -> None:
        """Drop the whole schema with every tenant's data (tests and teardown only)."""
        conn = self._connect(search_path=False)
        try:
            with _errors():
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
                conn.commit()
        finally:
            conn.close()

    # -- bulk -----------------------------------------------------------------------------

    def import_cases(self, cases: Iterable[Case], *, events: bool = False) -> int:
        """Insert many new cases (``version == 0``) in one transaction with ``COPY``.

        Same contract as :meth:`caselib.storage.sqlite.SqliteStore.import_cases`: stored at
        version 1 with timeline and tags; pending events dropped unless ``events=True`` (an
        import is a migration of history, not news to relay); numbers taken as given; all or
        nothing.

        Raises:
            DuplicateKey: an id or number already exists (in the store or the batch).
        """
        conn = self._pool.checkout()
        done: list[Case] = []
        tables = (
            ("cases", CASE_COLUMNS),
            ("timeline", ("tenant", "case_id", "seq", "entry")),
            ("case_tags", ("tenant", "case_id", "tag")),
            ("outbox", ("key", "tenant", "case_id", "type", "payload", "created_at")),
        )
        try:
            with _errors():
                try:
                    # Foreign-key checks run plans cached per connection. Planned while the
                    # tables were tiny (earlier units of work on this pooled connection), they
                    # made the import quadratic: after 500 creates, 10k imported cases ran at
                    # 2,500/s instead of 12,000/s, 100k at 370/s. Replan at today's sizes.
                    conn.execute("DISCARD PLANS")
                    with conn.cursor() as cur:
                        for *parts, chunk in import_rows(cases, events=events):
                            for (table, cols), rows in zip(tables, parts, strict=True):
                                if not rows:
                                    continue
                                copy_sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
                                with cur.copy(copy_sql) as copy:
                                    for row in rows:
                                        copy.write_row(row)
                            done.extend(chunk)
                    conn.commit()
                except BaseException:
                    conn.rollback()
                    raise
        finally:
            self._pool.checkin(conn)
        for case in done:
            case.mark_saved(1)
        return len(done)


class PostgresUnitOfWork(SqlUnitOfWorkBase):
    """One PostgreSQL transaction over one tenant (see the module docstring)."""

    dialect = DIALECT

    def __init__(self, store: PostgresStore, tenant: str, conn: psycopg.Connection[Any]) -> None:
        self.tenant = tenant
        self._store = store
        self._conn: psycopg.Connection[Any] | None = conn
        self._init_repositories(lambda: datetime.now(UTC))

    def __repr__(self) -> str:
        return f"<PostgresUnitOfWork tenant={self.tenant!r}{' done' if self._conn is None else ''}>"

    # -- SqlSession -----------------------------------------------------------------------

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None:
            raise StorageError("this unit of work has already been committed or rolled back")
        return self._conn

    def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False
              ) -> list[tuple[Any, ...]]:
        with _errors():
            return self._connection().execute(sql, params).fetchall()

    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        with _errors():
            return self._connection().execute(sql, params).rowcount

    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with _errors(), self._connection().cursor() as cur:
            cur.executemany(sql, rows)

    def load_case(self, column: str, value: str) -> Loaded | None:
        rows = self.fetch(f"{_SELECT_CASE}c.{column} = %s", (self.tenant, value))
        if not rows:
            return None
        return rows[0][0], json.loads(rows[0][1]), rows[0][2:]

    def load_cases(self, case_ids: Sequence[str]) -> list[Loaded]:
        rows = self.fetch(f"{_SELECT_CASE}c.id = ANY(%s)", (self.tenant, list(case_ids)))
        return [(row[0], json.loads(row[1]), row[2:]) for row in rows]

    def load_where(self, tail: str, params: Sequence[Any]) -> list[Loaded]:
        rows = self.fetch(_SELECT_WHERE + tail, params)  # one statement: one snapshot
        return [(row[0], json.loads(row[1]), row[2:]) for row in rows]

    # -- UnitOfWork -----------------------------------------------------------------------

    def commit(self) -> None:
        """Commit every write at once (or raise, roll back and write nothing)."""
        conn = self._connection()
        try:
            with _errors():
                conn.commit()
        finally:
            self._finish()

    def rollback(self) -> None:
        """Discard every write of this unit of work."""
        if self._conn is None:
            return
        self._finish()

    def _finish(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            self._store._pool.checkin(conn)  # rolls back whatever is still open
