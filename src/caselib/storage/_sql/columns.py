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
    "CATEGORY_INDEX",
    "QUEUE_INDEX",
    "SCOPE_INDEXES",
    "CASE_COLUMNS",
    "Loaded",
    "STORED_COLUMNS",
    "SUMMARY_COLUMNS",
]


SUMMARY_COLUMNS: Final = (
    "id", "number", "subject", "status", "status_category", "priority", "assignee", "team",
    "contact", "account", "category", "tags", "created_at", "updated_at", "resolved_at",
    "next_due_at", "breached", "version",
)
"""The ``cases`` columns a :class:`CaseSummary` is read from, in :func:`summary_from_row` order."""

CASE_COLUMNS: Final = (
    "tenant", "id", "number", "subject", "status", "status_category", "priority",
    "priority_rank", "assignee", "team", "contact", "account", "category", "tags", "created_at",
    "updated_at", "resolved_at",
    "next_due_at", "breached", "version", "terms", "doc",
)
"""Every ``cases`` column, in :func:`case_row` order. Without ``priority_rank``, the
columns from ``number`` to ``version`` are ``SUMMARY_COLUMNS[1:]`` in the same order (a
cursor is made from a loaded row's stored columns). ``terms`` is the case's text-search terms
(:func:`caselib.reports.search_terms`, space-joined), which the full-text index reads."""

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
    "priority", "priority_rank", "updated_at", "next_due_at", "breached", "version"))
"""Where the columns sit that :meth:`SqlCases.save_sla_case` may change."""

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
