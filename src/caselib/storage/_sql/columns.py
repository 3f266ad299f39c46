"""What the shared SQL knows of the ``cases`` table: the column orders rows are written
and read in, where a stored value sits in a loaded row, and the predicate of the partial
"active inbox" index.

The lowest module of the package: the row codecs, the query compiler and the repositories
all index rows by these tuples, so they live in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from caselib.vocab import StatusCategory

__all__ = [
    "ACTIVE_CATEGORIES_SQL",
    "CASE_COLUMNS",
    "CATEGORY_INDEX",
    "ESCALATION_INDEX",
    "FACTS_INDEXES",
    "FACT_COLUMNS",
    "Loaded",
    "MIGRATION_5_COLUMNS",
    "QUEUE_INDEX",
    "SCOPE_INDEXES",
    "SLA_COLUMNS",
    "STORED_COLUMNS",
    "SUMMARY_COLUMNS",
    "facts_migration",
    "summary_values",
]


SLA_COLUMNS: Final = ("sla", *(
    f"{t}_{k}" for t in ("fr", "res", "nr") for k in ("met", "breach", "due", "warn")))
"""What the breach sweep may change beside the columns it always could: the summary's SLA
targets (JSON) and each target's :class:`~caselib.reports.TargetFacts`, per target
``first_response`` (``fr``), ``resolution`` (``res``), ``next_reply`` (``nr``) (migration 5)."""

FACT_COLUMNS: Final = (
    "csat_at", "reopens", "last_reopened_at", "agent_replies", "frt_s", "frt_bus", "res_s",
    "res_bus",
)
"""The scorecard's per-case figures (:class:`~caselib.reports.CaseFacts`), migration 5."""

SUMMARY_COLUMNS: Final = (
    "id", "number", "subject", "status", "status_category", "priority", "assignee", "team",
    "contact", "account", "category", "tags", "created_at", "updated_at", "resolved_at",
    "next_due_at", "breached", "version", "source", "first_response_at", "csat", "sla",
    "escalation_level",
)
"""The ``cases`` columns a :class:`CaseSummary` is read from, in :func:`summary_from_row` order."""

CASE_COLUMNS: Final = (
    "tenant", "id", "number", "subject", "status", "status_category", "priority",
    "priority_rank", "assignee", "team", "contact", "account", "category", "tags", "created_at",
    "updated_at", "resolved_at",
    "next_due_at", "breached", "version", "source", "first_response_at", "csat",
    *SLA_COLUMNS, *FACT_COLUMNS, "escalation_level", "terms", "doc",
)
"""Every ``cases`` column, in :func:`case_row` order. Without ``priority_rank``, the
columns from ``number`` to ``sla`` are ``SUMMARY_COLUMNS[1:-1]`` in the same order (a
cursor is made from a loaded row's stored columns: :func:`summary_values`); the scorecard's
facts follow, then ``escalation_level`` (migration 10, the summary's last column), then
``terms``, the case's text-search terms (:func:`caselib.reports.search_terms`,
space-joined), which the full-text index reads."""

_ACTIVE: Final = tuple(c for c in StatusCategory if c.is_active)
ACTIVE_CATEGORIES_SQL: Final = "status_category IN ({})".format(
    ", ".join(f"'{c.value}'" for c in _ACTIVE))
"""The predicate of the partial "active inbox" index; queries spell it identically."""


STORED_COLUMNS: Final = CASE_COLUMNS[2:-1]
"""The ``cases`` columns a load also returns (all but the key and the document): what a
partial save compares against."""

_VERSION: Final = STORED_COLUMNS.index("version")
"""Where the version sits in a row without tenant and id."""
_RANK: Final = STORED_COLUMNS.index("priority_rank")
_TERMS: Final = STORED_COLUMNS.index("terms")
_SWEPT: Final = tuple(STORED_COLUMNS.index(c) for c in (
    "priority", "priority_rank", "updated_at", "next_due_at", "breached", "version",
    *SLA_COLUMNS, "escalation_level"))
"""Where the columns sit that :meth:`SqlCases.save_sla_case` may change."""
_SLA_END: Final = STORED_COLUMNS.index("sla") + 1
_ESCALATION: Final = STORED_COLUMNS.index("escalation_level")


def summary_values(case_id: str, stored: Sequence[Any]) -> tuple[Any, ...]:
    """The :data:`SUMMARY_COLUMNS` values of a loaded row (its id and the values of
    :data:`STORED_COLUMNS`): what :func:`summary_from_row` reads, for a page's cursor."""
    return (case_id, *stored[:_RANK], *stored[_RANK + 1:_SLA_END], stored[_ESCALATION])

Loaded = tuple[Any, list[Any], Sequence[Any]]
"""What a :class:`SqlSession` load returns: ``(document, [timeline entry, …], values of
STORED_COLUMNS)``."""


_SCOPE: Final = "team, assignee, contact, account"
"""The columns an access scope (:class:`caselib.access.Visibility`) filters on."""

SCOPE_INDEXES: Final = (
    "CREATE INDEX cases_contact ON cases (tenant, contact, created_at, id) "
    "WHERE contact IS NOT NULL",
    "CREATE INDEX cases_account ON cases (tenant, account, created_at, id) "
    "WHERE account IS NOT NULL",
    # the access scope's columns ride along in the list-order indexes, so a scoped list
    # (team / assignee / contact / account) filters on index entries and reads the table
    # only for the rows it returns; active lists in created order get their own
    "DROP INDEX cases_created",
    f"CREATE INDEX cases_created ON cases (tenant, created_at, id, {_SCOPE})",
    "DROP INDEX cases_updated",
    f"CREATE INDEX cases_updated ON cases (tenant, updated_at, id, {_SCOPE})",
    f"CREATE INDEX cases_active_created ON cases (tenant, created_at, id, {_SCOPE}) "
    f"WHERE {ACTIVE_CATEGORIES_SQL}",
)
"""The indexes of schema migration 2 (after its contact and account columns), the same in
both SQL stores: customers' scope, account lists and scoped list orders."""

QUEUE_INDEX: Final = (
    "CREATE INDEX cases_queue ON cases (tenant, team, created_at, id) "
    f"WHERE assignee IS NULL AND {ACTIVE_CATEGORIES_SQL}")
"""A team's unassigned active cases in created order (part of migration 6, both stores): the
unassigned side of the inbox (``unassigned_teams``) reads its own few entries instead of
filtering every active case's (10 ms -> see bench_views at 200k PostgreSQL cases)."""

CATEGORY_INDEX: Final = ("CREATE INDEX cases_category ON cases (tenant, category, created_at, id) "
                         "WHERE category IS NOT NULL")
"""The index of schema migration 3 (after its category column), the same in both stores."""

_GROUPS: Final = "team, assignee, contact, account, priority, category, source, status_category"
"""The columns a scorecard query filters (access scope) and groups on: in every index it
reads, so the index alone answers it."""
_ALIVE: Final = ("created_at, resolved_at, reopens, agent_replies, last_reopened_at, "
                 + ", ".join(SLA_COLUMNS[1:]))

FACTS_INDEXES: Final = (
    f"CREATE INDEX cases_alive ON cases (tenant, updated_at, {_ALIVE}, {_GROUPS})",
    f"CREATE INDEX cases_alive_active ON cases (tenant, {_ALIVE}, {_GROUPS}, updated_at, "
    "first_response_at, frt_s, csat) "
    f"WHERE {ACTIVE_CATEGORIES_SQL}",
    "CREATE INDEX cases_resolved ON cases (tenant, resolved_at, res_s, res_bus, reopens, "
    f"agent_replies, {_GROUPS}) WHERE resolved_at IS NOT NULL",
    "CREATE INDEX cases_first_response ON cases (tenant, first_response_at, frt_s, frt_bus, "
    f"{_GROUPS}) WHERE first_response_at IS NOT NULL",
    f"CREATE INDEX cases_csat ON cases (tenant, csat_at, csat, {_GROUPS}) "
    "WHERE csat_at IS NOT NULL",
)
"""The indexes of schema migration 5, each *covering* the scorecard query that reads it (the
index entries hold every column the query needs, so the 1 KiB+ rows are never read): the
cases changed since a period's start (``cases_alive``), the active ones
(``cases_alive_active``, which also answers the open queue's summary cards), and the
resolutions, first responses and ratings of a period."""


MIGRATION_5_COLUMNS: Final = ("source", "first_response_at", "csat", *SLA_COLUMNS, *FACT_COLUMNS)
"""The ``cases`` columns schema migration 5 adds (and back-fills), in :func:`case_row`
order: spelled out, not sliced from :data:`CASE_COLUMNS`, so a later migration's columns
never leak into it."""


def facts_migration(text: str, integer: str) -> tuple[str, ...]:
    """Schema migration 5's new ``cases`` columns, spelled with the store's text and integer
    types (the back-fill and the indexes follow them in the migration)."""
    ints = {"csat", "reopens", "agent_replies", "frt_s", "frt_bus", "res_s", "res_bus"}
    counters = {"reopens", "agent_replies"}
    return tuple(
        f"ALTER TABLE cases ADD COLUMN {c} "
        + (f"{integer} NOT NULL DEFAULT 0" if c in counters else integer if c in ints else text)
        for c in MIGRATION_5_COLUMNS)


ESCALATION_INDEX: Final = (
    "CREATE INDEX cases_escalated ON cases (tenant, created_at, id) "
    "WHERE escalation_level IS NOT NULL")
"""The partial index of schema migration 10 (after its ``escalation_level`` column, the
same in both stores): ``CaseQuery(escalated=True)`` in created order (escalated cases are
few, so a partial index)."""
