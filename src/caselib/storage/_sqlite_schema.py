"""The SQLite store's schema: its migrations, in order, and the version check on open.

Separate from :mod:`caselib.storage.sqlite` so the tables and their indexes (each commented
with the query it serves) read on their own.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Final

from caselib.errors import SchemaMismatch
from caselib.reports import search_terms
from caselib.storage._sql import (
    ACTIVE_CATEGORIES_SQL,
    CATEGORY_INDEX,
    QUEUE_INDEX,
    SCOPE_INDEXES,
)
from caselib.storage._sql.columns import ESCALATION_INDEX, FACTS_INDEXES, facts_migration
from caselib.storage._sql.rows import backfill_facts

__all__ = ["SCHEMA_VERSION", "Migration", "terms_function"]



def _backfill_facts(conn: sqlite3.Connection) -> None:
    """Migration 5's Python step: fill its columns of every stored case (see
    :func:`~caselib.storage._sql.rows.backfill_facts`)."""
    backfill_facts(lambda q, p: conn.execute(q, p).fetchall(), conn.execute, "?")


Migration = str | Callable[[sqlite3.Connection], None]
"""A migration step: SQL, or a Python step run on the migrating connection."""

_MIGRATIONS: Final[tuple[tuple[Migration, ...], ...]] = (
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
    # 2: the contact and account a case is about, as columns: customers' access scope and
    # "all cases of this account" lists filter on them
    (
        "ALTER TABLE cases ADD COLUMN contact TEXT",
        "ALTER TABLE cases ADD COLUMN account TEXT",
        "UPDATE cases SET contact = json_extract(doc, '$.links.contact'), "
        "account = json_extract(doc, '$.links.account')",
        *SCOPE_INDEXES,
    ),
    # 3: the case's category as a column: per-category lists and counts (CaseQuery.categories)
    # filter on it; back-filled from the stored document
    (
        "ALTER TABLE cases ADD COLUMN category TEXT",
        "UPDATE cases SET category = json_extract(doc, '$.category')",
        CATEGORY_INDEX,
    ),
    # 4: the article stamp that desks in other processes poll before a search
    (
        """CREATE TABLE kb_versions (
            tenant TEXT PRIMARY KEY,
            version INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 5: what lists show without the timeline (channel, first response, rating, SLA targets)
    # and the scorecard's per-case figures (caselib.reports.CaseFacts), back-filled from each
    # stored case through the codec every save uses; indexes for the period reads
    (
        *facts_migration("TEXT", "INTEGER"),
        _backfill_facts,
        *FACTS_INDEXES,
    ),
    # 6: text search (CaseQuery.text). ``terms`` holds the case's search terms, made by
    # caselib.reports.search_terms (space-joined) so every store splits text alike; an FTS5
    # index over that column (external content: the text is stored once, in cases), kept in
    # step by triggers, so every write path (saves, imports) indexes what it writes. The
    # ``ascii`` tokeniser splits only at the spaces (terms are letters and digits, already
    # case-folded); detail=none and columnsize=0 keep just which case has which term:
    # searches are single terms and prefixes, never phrases, and rank nothing. Existing
    # rows are back-filled by caselib_terms(), which the store registers on its connections.
    (
        "ALTER TABLE cases ADD COLUMN terms TEXT NOT NULL DEFAULT ''",
        "UPDATE cases SET terms = caselib_terms(number, subject, "
        "COALESCE(json_extract(doc, '$.description'), ''))",
        "CREATE VIRTUAL TABLE cases_fts USING fts5(terms, content='cases', "
        "content_rowid='rowid', tokenize='ascii', detail=none, columnsize=0)",
        "INSERT INTO cases_fts (cases_fts) VALUES ('rebuild')",
        "CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases BEGIN "
        "INSERT INTO cases_fts (rowid, terms) VALUES (new.rowid, new.terms); END",
        "CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases BEGIN "
        "INSERT INTO cases_fts (cases_fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);"
        " END",
        "CREATE TRIGGER cases_fts_update AFTER UPDATE OF terms ON cases BEGIN "
        "INSERT INTO cases_fts (cases_fts, rowid, terms) VALUES ('delete', old.rowid, old.terms);"
        " INSERT INTO cases_fts (rowid, terms) VALUES (new.rowid, new.terms); END",
        # the inbox's unassigned side: a team's unassigned active cases, in created order
        QUEUE_INDEX,
    ),
    # 7 (IF NOT EXISTS: tests that rewind schema_version re-run it): automations: the
    # applied-once ledger, each case's next automation time (the sweep
    # reads the due range of automation_due only) and the tenant's event cursor
    (
        """CREATE TABLE IF NOT EXISTS automation_ledger (
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            rule_id TEXT NOT NULL,
            occurrence TEXT NOT NULL,
            applied_at TEXT NOT NULL,
            PRIMARY KEY (tenant, case_id, rule_id, occurrence)
        ) WITHOUT ROWID""",
        """CREATE TABLE IF NOT EXISTS automation_schedule (
            tenant TEXT NOT NULL,
            case_id TEXT NOT NULL,
            next_at TEXT NOT NULL,
            PRIMARY KEY (tenant, case_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS automation_due "
        "ON automation_schedule (tenant, next_at, case_id)",
        """CREATE TABLE IF NOT EXISTS automation_cursor (
            tenant TEXT PRIMARY KEY,
            seq INTEGER NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 8 (IF NOT EXISTS: tests that rewind schema_version re-run it): the e-mail channel's
    # ledger: every Message-ID sent or received, its case and what was done with it
    (
        """CREATE TABLE IF NOT EXISTS mail_log (
            tenant TEXT NOT NULL,
            message_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            case_id TEXT,
            address TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (tenant, message_id)
        )""",
        "CREATE INDEX IF NOT EXISTS mail_log_case ON mail_log (tenant, case_id, at, seq)",
        "CREATE INDEX IF NOT EXISTS mail_log_seq ON mail_log (tenant, seq)",
        "CREATE INDEX IF NOT EXISTS mail_log_outcome ON mail_log (tenant, outcome, at)",
    ),
    # 9: typed links between cases (caselib.cases.links), one row per link, read from both
    # ends: the primary key serves the source end, case_links_target the target end
    (
        """CREATE TABLE IF NOT EXISTS case_links (
            tenant TEXT NOT NULL,
            source TEXT NOT NULL,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            PRIMARY KEY (tenant, source, kind, target)
        ) WITHOUT ROWID""",
        "CREATE INDEX IF NOT EXISTS case_links_target ON case_links (tenant, target, kind)",
    ),
    # 10: the escalation level a case stands on (Case.escalation_level) as a summary column,
    # so lists show it and CaseQuery(escalated=...) filters on it; back-filled from the
    # stored document (absent there: NULL, no level)
    (
        "ALTER TABLE cases ADD COLUMN escalation_level TEXT",
        "UPDATE cases SET escalation_level = json_extract(doc, '$.escalation_level') "
        "WHERE json_extract(doc, '$.escalation_level') IS NOT NULL",
        ESCALATION_INDEX,
    ),
    # 11 (IF NOT EXISTS: tests that rewind schema_version re-run it): the outbox positions
    # the automation sweep has been handed, below its cursor. PostgreSQL needs them (a
    # position may commit after a higher one was read, so each claim looks back, and must
    # not hand the same event out twice); SQLite commits in position order and never looks
    # back, so here the table stays empty: it exists so both schemas read the same
    (
        """CREATE TABLE IF NOT EXISTS automation_seen (
            tenant TEXT NOT NULL,
            seq INTEGER NOT NULL,
            PRIMARY KEY (tenant, seq)
        ) WITHOUT ROWID""",
    ),
)

SCHEMA_VERSION: Final = len(_MIGRATIONS)
"""The schema version this caselib writes; older files are migrated forward on open."""


def terms_function(conn: sqlite3.Connection) -> None:
    """Register ``caselib_terms(number, subject, description)`` (the space-joined
    :func:`~caselib.reports.search_terms`) on ``conn``, for migration 6's back-fill."""
    conn.create_function(
        "caselib_terms", 3, lambda n, s, d: " ".join(search_terms(n, s, d or "")),
        deterministic=True)


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
