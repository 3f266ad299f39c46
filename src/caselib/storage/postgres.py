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
  processes share the outbox without handing out the same message twice. The breach sweep
  claims its pages the same way (``query_sla_cases``: ``FOR UPDATE OF c SKIP LOCKED`` over
  the ``cases_due`` index, exactly one page, then the claimed cases' timelines in a second
  statement), so sweepers on several hosts split the due cases instead of colliding.
- **Counters.** Case numbers are an ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` inside the
  transaction (rolled back with it: no gaps); the round-robin cursor CAS is a conditional
  ``UPDATE``, so the row lock picks one winner. The price of gapless numbers: creates in one
  tenant hold the counter row from their first round trip to their commit, so they commit
  one at a time (commands on existing cases do not touch it).
- **Schema.** Everything lives in one PostgreSQL schema (default ``caselib``) with a
  ``schema_version`` table; migrations run under a transaction-scoped advisory lock so several
  processes starting at once apply them once. A newer schema raises :class:`SchemaMismatch`
  before anything is changed.
- **Connections.** A unit of work takes a connection from a small pool and gives it back when
  it ends; the store is safe to share between threads. Connections are in autocommit mode:
  the unit of work sends BEGIN itself (see below), and a read before any write needs none.
- **Round trips.** A unit of work queues the writes whose only outcome is "done or raised"
  and sends them with the next statement whose answer it needs, or with its COMMIT, in one
  psycopg pipeline: ``create_case`` and each command on a case cost two round trips (see
  :mod:`caselib.storage._postgres_uow`). Rows of one table go in one multi-row INSERT.
- **Writers take turns.** ``get_for_update`` (how the desk loads a case for a command) sends
  ``SELECT … FOR UPDATE`` on the case row and then the load, in one round trip: the load
  runs after the lock is granted, in a new snapshot, so it sees what the previous holder
  committed. A command without ``expected_version`` therefore waits for the command ahead
  of it on the same case instead of failing with a conflict; other cases are not held up.
- **Outbox wake-ups** (opt-in, ``notify_outbox=True``). A commit that wrote outbox rows
  also sends ``NOTIFY`` (:meth:`PostgresStore.wait_for_outbox`), so relays can sleep until
  there is work. Off by default because PostgreSQL serialises notifying commits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

from caselib.cases import Case
from caselib.errors import InvalidInput, SchemaMismatch
from caselib.ports import require_tenant
from caselib.reports import search_terms
from caselib.storage._postgres_uow import (
    PostgresUnitOfWork,
    _errors,
    _psycopg,
)
from caselib.storage._sql import (
    ACTIVE_CATEGORIES_SQL,
    CASE_COLUMNS,
    CATEGORY_INDEX,
    QUEUE_INDEX,
    SCOPE_INDEXES,
    ConnectionPool,
    import_rows,
)
from caselib.storage._sql.automation import seen_below_cursor
from caselib.storage._sql.columns import ESCALATION_INDEX, FACTS_INDEXES, facts_migration
from caselib.storage._sql.rows import backfill_facts

if TYPE_CHECKING:
    import psycopg

__all__ = ["SCHEMA_VERSION", "PostgresStore", "PostgresUnitOfWork"]

_T: Final = 'TEXT COLLATE "C"'

def _backfill_terms(conn: psycopg.Connection[Any]) -> None:
    """Migration 6's back-fill: every case's search terms, written in batches."""
    rows = conn.execute("SELECT tenant, id, number, subject, "
                        "COALESCE(doc->>'description', '') FROM cases").fetchall()
    with conn.cursor() as cur:
        for at in range(0, len(rows), 1000):
            cur.executemany(
                "UPDATE cases SET terms = %s WHERE tenant = %s AND id = %s",
                [(" ".join(search_terms(n, s, d)), t, i)
                 for t, i, n, s, d in rows[at:at + 1000]])


_Migration = str | Callable[["psycopg.Connection[Any]"], None]


def _backfill_facts(conn: psycopg.Connection[Any]) -> None:
    """Migration 5's Python step (see the SQLite store)."""
    backfill_facts(lambda q, p: conn.execute(q, p).fetchall(), conn.execute, "%s")


_MIGRATIONS: Final[tuple[tuple[_Migration, ...], ...]] = (
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
    # 2: the contact and account a case is about, as columns (see the SQLite store)
    (
        f"ALTER TABLE cases ADD COLUMN contact {_T}",
        f"ALTER TABLE cases ADD COLUMN account {_T}",
        "UPDATE cases SET contact = doc->'links'->>'contact', "
        "account = doc->'links'->>'account'",
        *SCOPE_INDEXES,
    ),
    # 3: the case's category as a column (see the SQLite store)
    (
        f"ALTER TABLE cases ADD COLUMN category {_T}",
        "UPDATE cases SET category = doc->>'category'",
        CATEGORY_INDEX,
    ),
    # 4: the article stamp that desks in other processes poll before a search
    (
        f"""CREATE TABLE kb_versions (
            tenant {_T} PRIMARY KEY,
            version BIGINT NOT NULL
        )""",
    ),
    # 5: the summary's and the scorecard's columns (see the SQLite store), back-filled
    (
        *facts_migration(_T, "BIGINT"),
        _backfill_facts,
        *FACTS_INDEXES,
    ),
    # 6: text search (CaseQuery.text): the case's search terms (caselib.reports.search_terms,
    # space-joined, as in the SQLite store) and a tsvector made of them verbatim
    # (array_to_tsvector: no parser, no dictionary, so PostgreSQL finds exactly what the
    # other stores find) under a GIN index. Existing rows are back-filled in Python.
    (
        "ALTER TABLE cases ADD COLUMN terms TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE cases ADD COLUMN search tsvector GENERATED ALWAYS AS "
        "(array_to_tsvector(string_to_array(terms, ' '))) STORED",
        _backfill_terms,
        "CREATE INDEX cases_search ON cases USING GIN (search)",
        # the inbox's unassigned side: a team's unassigned active cases, in created order
        QUEUE_INDEX,
    ),
    # 7: automations: the applied-once ledger, next automation times, the event cursor
    # (see the SQLite store)
    (
        f"""CREATE TABLE IF NOT EXISTS automation_ledger (
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            rule_id {_T} NOT NULL,
            occurrence {_T} NOT NULL,
            applied_at {_T} NOT NULL,
            PRIMARY KEY (tenant, case_id, rule_id, occurrence)
        )""",
        f"""CREATE TABLE IF NOT EXISTS automation_schedule (
            tenant {_T} NOT NULL,
            case_id {_T} NOT NULL,
            next_at {_T} NOT NULL,
            PRIMARY KEY (tenant, case_id)
        )""",
        "CREATE INDEX IF NOT EXISTS automation_due "
        "ON automation_schedule (tenant, next_at, case_id)",
        f"""CREATE TABLE IF NOT EXISTS automation_cursor (
            tenant {_T} PRIMARY KEY,
            seq BIGINT NOT NULL
        )""",
    ),
    # 8 (IF NOT EXISTS: tests that rewind schema_version re-run it): the e-mail channel's
    # ledger: every Message-ID sent or received, its case and what was done with it
    (
        f"""CREATE TABLE IF NOT EXISTS mail_log (
            tenant {_T} NOT NULL,
            message_id {_T} NOT NULL,
            direction {_T} NOT NULL,
            case_id {_T},
            address {_T} NOT NULL,
            outcome {_T} NOT NULL,
            reason {_T} NOT NULL,
            at {_T} NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (tenant, message_id)
        )""",
        "CREATE INDEX IF NOT EXISTS mail_log_case ON mail_log (tenant, case_id, at, seq)",
        "CREATE INDEX IF NOT EXISTS mail_log_seq ON mail_log (tenant, seq)",
        "CREATE INDEX IF NOT EXISTS mail_log_outcome ON mail_log (tenant, outcome, at)",
    ),
    # 9: typed links between cases (see the SQLite store)
    (
        f"""CREATE TABLE IF NOT EXISTS case_links (
            tenant {_T} NOT NULL,
            source {_T} NOT NULL,
            kind {_T} NOT NULL,
            target {_T} NOT NULL,
            created_at {_T} NOT NULL,
            created_by {_T} NOT NULL,
            PRIMARY KEY (tenant, source, kind, target)
        )""",
        "CREATE INDEX IF NOT EXISTS case_links_target ON case_links (tenant, target, kind)",
    ),
    # 10: the escalation level as a summary column (see the SQLite store)
    (
        f"ALTER TABLE cases ADD COLUMN escalation_level {_T}",
        "UPDATE cases SET escalation_level = doc->>'escalation_level' "
        "WHERE doc->>'escalation_level' IS NOT NULL",
        ESCALATION_INDEX,
    ),
    # 11: the outbox positions the automation sweep has been handed at or below its cursor
    # (see the SQLite store): a late commit is handed out once, never again. A cursor of
    # schema 10 handed out every event in its look-back window (it re-read them each run),
    # so they are counted as handed out: else the first run after the upgrade would judge
    # them again against the cases as they are now
    (
        f"""CREATE TABLE IF NOT EXISTS automation_seen (
            tenant {_T} NOT NULL,
            seq BIGINT NOT NULL,
            PRIMARY KEY (tenant, seq)
        )""",
        seen_below_cursor(),
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this caselib writes; older schemas are migrated forward on open."""

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def _close(conn: psycopg.Connection[Any]) -> None:
    conn.close()


class PostgresStore:
    """A :class:`~caselib.ports.Store` in a PostgreSQL schema.

    Args:
        dsn: a libpq connection string or URL (``"host=127.0.0.1 dbname=app user=app"``).
        schema: the PostgreSQL schema holding caselib's tables (created if missing).
        pool_size: idle connections kept for reuse; more are opened when units of work
            overlap, and closed again when they end.
        notify_outbox: send ``NOTIFY`` with every commit that writes outbox events, for
            relays that wait with :meth:`wait_for_outbox`. Off by default: PostgreSQL
            serialises the commits of all transactions that notify (a global lock held
            through the commit and its WAL flush), which caps how many commands per second
            many processes can commit together.
        lock_timeout: seconds a unit of work waits for a row lock (a command on a case
            another command is changing) before :class:`~caselib.errors.StorageError`;
            ``None`` waits as long as it takes (the server's default). As SQLite's
            ``timeout``.

    Raises:
        SchemaMismatch: the schema was written by a newer caselib.
        StorageError: the server cannot be reached.
    """

    units_cross_threads: Final = True
    """A unit of work may be finished on another thread (see :class:`~caselib.ports.Store`):
    a unit of work owns its pooled connection, and psycopg connections are thread-safe."""

    def __init__(self, dsn: str, *, schema: str = "caselib", pool_size: int = 4,
                 notify_outbox: bool = False, lock_timeout: float | None = 30.0) -> None:
        self._psycopg = _psycopg()
        if not _SCHEMA_NAME.match(schema):
            raise InvalidInput("schema must be a plain SQL identifier", field="schema")
        if pool_size < 0:
            raise InvalidInput("pool_size must be >= 0", field="pool_size")
        if lock_timeout is not None and (
                isinstance(lock_timeout, bool) or not isinstance(lock_timeout, (int, float))
                or not 0 < lock_timeout < 86_400):
            raise InvalidInput("lock_timeout must be seconds (0 < t < 86400) or None",
                               field="lock_timeout")
        # whole milliseconds, at least one (0 would mean "no timeout" to the server)
        self._lock_timeout_ms = 0 if lock_timeout is None else max(1, round(lock_timeout * 1000))
        self.dsn = dsn
        self.schema = schema
        if not isinstance(notify_outbox, bool):
            raise InvalidInput("notify_outbox must be True or False", field="notify_outbox")
        self.notify_outbox = notify_outbox
        self.outbox_channel = f"caselib_outbox_{schema}"[:63]
        """The NOTIFY channel a commit that wrote outbox events signals (payload: the
        tenant) when the writing store has ``notify_outbox``; see :meth:`wait_for_outbox`."""
        self._listener: psycopg.Connection[Any] | None = None
        self._listening = threading.Lock()
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            self._connect, self._reset, _close, pool_size)
        conn = self._connect(search_path=False)
        try:
            self._migrate(conn)
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        self._pool.checkin(conn)

    def __repr__(self) -> str:
        return f"<PostgresStore schema={self.schema!r}>"

    # -- connections ----------------------------------------------------------------------

    def _connect(self, *, search_path: bool = True) -> psycopg.Connection[Any]:
        with _errors():
            # autocommit: a unit of work sends BEGIN itself, queued in its first pipeline
            # (psycopg's implicit BEGIN would cost a round trip of its own)
            conn: psycopg.Connection[Any] = self._psycopg.connect(self.dsn, autocommit=True)
        if search_path:
            try:
                self._configure(conn)
            except BaseException:
                conn.close()
                raise
        return conn

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """The session settings of a pooled connection."""
        with _errors():
            conn.execute(f'SET search_path TO "{self.schema}"')
            conn.execute(f"SET lock_timeout = {self._lock_timeout_ms}")

    def _migrate(self, conn: psycopg.Connection[Any]) -> None:
        schema = self.schema
        with _errors(), conn.transaction():
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
                        if callable(statement):
                            statement(conn)
                        else:
                            conn.execute(statement)
                    conn.execute("INSERT INTO schema_version VALUES (%s, now())", (number,))

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
        with self._listening:
            listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()

    def wait_for_outbox(self, timeout: float) -> bool:
        """Wait until some unit of work commits outbox events, or ``timeout`` seconds pass;
        ``True`` when events may be waiting, ``False`` on a quiet timeout.

        For an outbox relay that should react at once without polling the table::

            while running:
                if desk.dispatch_events(sink) == 0:
                    store.wait_for_outbox(timeout=30)

        Every commit that writes outbox rows through a store opened with
        ``notify_outbox=True`` (in any process) sends ``NOTIFY`` on :attr:`outbox_channel`
        (delivered only if the transaction commits), in the same round trip as its COMMIT;
        the waiting store needs no such flag. Weigh it first: PostgreSQL lets only one
        notifying transaction commit at a time, so with many writer processes a relay
        polling every second or so may cost less than the wake-ups.
        The first call opens a listening connection (kept until :meth:`close`) and returns
        ``True`` at once, since events committed before it could not be announced; from
        then on notifications that arrive between calls are kept, so none is missed. Any
        tenant's events wake the waiter (the payload names the tenant, for hosts that
        listen themselves); a relay per tenant checks its own outbox and waits again.
        The outbox is still the source of truth: the timeout is a safety net, not a poll
        interval that matters.
        """
        with self._listening:
            if self._listener is None or self._listener.closed:
                conn = self._connect(search_path=False)
                with _errors():
                    conn.execute(f'LISTEN "{self.outbox_channel}"')
                self._listener = conn
                return True
            with _errors():
                for _ in self._listener.notifies(timeout=max(0.0, timeout), stop_after=1):
                    return True
        return False

    def drop_schema(self) -> None:
        """Drop the whole schema with every tenant's data (tests and teardown only)."""
        conn = self._connect(search_path=False)
        try:
            with _errors():
                conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
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
            with _errors(), conn.transaction():
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
        finally:
            self._pool.checkin(conn)
        for case in done:
            case.mark_saved(1)
        return len(done)
