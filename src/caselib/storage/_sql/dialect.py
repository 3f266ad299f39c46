"""The two SQL dialects (:class:`SqlDialect`: placeholder style, row locking, JSON merge)
and the INSERT and version-guarded UPDATE statements spelled for either.

Apart from the query compiler because writes, imports and every repository build their
statements here, while only case queries need :mod:`caselib.storage._sql.queries`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from caselib.reports import SearchText
from caselib.storage._sql.columns import CASE_COLUMNS

__all__ = [
    "SqlDialect",
    "insert_sql",
    "update_case_sql",
]


class SqlDialect:
    """The few differences between the two SQL dialects that the shared queries care about."""

    def __init__(self, placeholder: str, *, for_update_skip_locked: bool,
                 merge_doc: str, text_match: str,
                 text_param: Callable[[SearchText], str],
                 text_scan: str | None = None, text_estimate: str | None = None) -> None:
        self.ph = placeholder
        self.skip_locked = for_update_skip_locked
        self.merge_doc = merge_doc
        """SQL for ``doc`` with the top-level keys of a JSON object parameter replaced."""
        self.text_match = text_match
        """The condition "case ``c`` passes the text search in the one parameter", served
        by the store's full-text index (see :mod:`caselib.reports.search`)."""
        self.text_param = text_param
        """That parameter for a parsed search (an FTS5 MATCH or a ``tsquery``)."""
        self.text_scan = text_scan
        """The same condition as a membership test only (no index may be driven by it), for
        a search that matches many cases: the rows come from the other filters' index, in
        the list's order, and a page stops early. ``None``: the planner decides alone
        (PostgreSQL keeps statistics of lexeme frequencies; SQLite's FTS5 gives none)."""
        self.text_estimate = text_estimate
        """SQL counting the search's matches in all tenants up to a bound (parameters: the
        search, the bound): which of the two conditions a query uses."""

    def params(self, n: int) -> str:
        """``n`` comma-separated placeholders."""
        return ", ".join([self.ph] * n)

    def __repr__(self) -> str:
        return f"SqlDialect({self.ph!r})"


def insert_sql(table: str, columns: Sequence[str], dialect: SqlDialect, suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (placeholders) suffix``."""
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({dialect.params(len(columns))}){suffix}")


def update_case_sql(dialect: SqlDialect, columns: Sequence[str] = CASE_COLUMNS[2:], *,
                    merge_doc: bool = False) -> str:
    """The optimistic-concurrency UPDATE of ``columns`` (default: every column but the key),
    guarded by the version; with ``merge_doc`` also ``doc`` with the top-level keys of a
    JSON object replaced (the dialect's :attr:`SqlDialect.merge_doc`).

    Parameters: the values of ``columns`` (then the JSON object), then tenant, id and the
    expected version. SQLite rewrites every index that contains an assigned column, changed or
    not, so saves assign only the columns that changed (see :meth:`SqlCases.save`).
    """
    ph = dialect.ph
    sets = [f"{c} = {ph}" for c in columns]
    if merge_doc:
        sets.append(f"doc = {dialect.merge_doc}")
    return (f"UPDATE cases SET {', '.join(sets)} "
            f"WHERE tenant = {ph} AND id = {ph} AND version = {ph}")
