"""Case queries compiled to SQL: a :class:`~caselib.ports.CaseQuery` as a WHERE clause,
a total ORDER BY, a keyset condition and a page read back; also the list total, board and
workload counts over the same filters.

Both adapters keep the same table shapes (see their schema docstrings), store datetimes as the
fixed-width ISO UTC text of :func:`caselib.timeutil.to_iso` (so text order is time order and a
keyset cursor holds exactly the strings :meth:`CaseQuery.cursor_values` produces), and compare
text byte-wise (SQLite's ``BINARY`` collation, PostgreSQL columns declared ``COLLATE "C"``), which
for UTF-8 is the same order as Python's ``str`` comparison. That is what lets this module turn a
:class:`~caselib.ports.CaseQuery` into SQL whose filter and total order are exactly
:meth:`CaseQuery.matches` and :meth:`CaseQuery.sort_key`.

Queries are built for a placeholder style (``?`` for ``sqlite3``, ``%s`` for psycopg); the only
values ever written into SQL text are enum members (status categories, priority ranks), which
are inlined on purpose so a partial index over active cases can be proven usable by both
planners (a bound parameter cannot be).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from caselib.access import Visibility
from caselib.errors import InvalidInput
from caselib.ports import CaseQuery, Page, decode_cursor, encode_cursor
from caselib.storage._sql.columns import _ACTIVE, ACTIVE_CATEGORIES_SQL, SUMMARY_COLUMNS
from caselib.storage._sql.dialect import SqlDialect
from caselib.storage._sql.rows import summary_from_row
from caselib.timeutil import to_iso
from caselib.vocab import StatusCategory

__all__ = [
    "count_by_status_sql",
    "count_sql",
    "open_counts_sql",
    "page_from_rows",
    "query_sql",
    "query_tail",
]


def _in(column: str, values: Iterable[Any], dialect: SqlDialect, params: list[Any]) -> str:
    vals = sorted(values)
    if not vals:
        return "1 = 0"  # an empty set matches nothing, as in CaseQuery.matches
    params.extend(vals)
    return f"{column} IN ({dialect.params(len(vals))})"


def _where(query: CaseQuery, tenant: str, dialect: SqlDialect, *, text_scan: bool = False,
           priority_names: bool = False) -> tuple[list[str], list[Any]]:
    """The filter of ``query`` as AND-ed SQL conditions over table alias ``c``; with
    ``text_scan`` the text search is a membership test on the rows another index finds
    (:attr:`SqlDialect.text_scan`) rather than the rows the search finds. With
    ``priority_names`` priorities are matched by name (``c.priority``, a column of the
    metrics' covering indexes) instead of by rank (``c.priority_rank``, the list order's)."""
    ph = dialect.ph
    params: list[Any] = [tenant]
    conds = [f"c.tenant = {ph}"]
    if query.statuses is not None:
        conds.append(_in("c.status", query.statuses, dialect, params))
    if query.status_categories is not None:
        cats = [c for c in StatusCategory if c in query.status_categories]
        if not cats:
            conds.append("1 = 0")
        elif tuple(cats) == _ACTIVE:
            conds.append("c." + ACTIVE_CATEGORIES_SQL)
        else:  # enum values: safe to inline, and lets the planner use partial indexes
            conds.append("c.status_category IN ({})".format(
                ", ".join(f"'{c.value}'" for c in cats)))
    if query.priorities is not None:
        ranks = sorted(p.rank for p in query.priorities)
        if not ranks:
            conds.append("1 = 0")
        elif priority_names:  # enum values: safe to inline, like the ranks
            names = sorted(p.value for p in query.priorities)
            conds.append("c.priority IN ({})".format(", ".join(f"'{n}'" for n in names)))
        else:
            conds.append("c.priority_rank IN ({})".format(", ".join(str(r) for r in ranks)))
    if query.assignees is not None or query.unassigned_teams is not None:
        conds.append(_assignment(query, dialect, params))
    if query.teams is not None:
        conds.append(_in("c.team", query.teams, dialect, params))
    if query.unassigned is not None:
        conds.append("c.assignee IS NULL" if query.unassigned else "c.assignee IS NOT NULL")
    for column, values in (("contact", query.contacts), ("account", query.accounts),
                           ("category", query.categories)):
        if values is not None:
            conds.append(_in(f"c.{column}", values, dialect, params))
    if query.tags:
        for tag in sorted(query.tags):
            conds.append("EXISTS (SELECT 1 FROM case_tags t WHERE t.tenant = c.tenant "
                         f"AND t.case_id = c.id AND t.tag = {ph})")
            params.append(tag)
    if query.breached is not None:
        conds.append(f"c.breached = {ph}")
        params.append(query.breached)
    if query.escalated is not None:
        conds.append("c.escalation_level IS NOT NULL" if query.escalated
                     else "c.escalation_level IS NULL")
    if query.due_before is not None:
        conds.append(f"c.next_due_at IS NOT NULL AND c.next_due_at <= {ph}")
        params.append(to_iso(query.due_before))
    if query.created_from is not None:
        conds.append(f"c.created_at >= {ph}")
        params.append(to_iso(query.created_from))
    if query.created_before is not None:
        conds.append(f"c.created_at < {ph}")
        params.append(to_iso(query.created_before))
    if query.resolved_from is not None:
        conds.append(f"c.resolved_at IS NOT NULL AND c.resolved_at >= {ph}")
        params.append(to_iso(query.resolved_from))
    if query.resolved_before is not None:
        conds.append(f"c.resolved_at IS NOT NULL AND c.resolved_at < {ph}")
        params.append(to_iso(query.resolved_before))
    if query.ids is not None:
        if query.ids:
            conds.append(f"c.id IN ({', '.join([ph] * len(query.ids))})")
            params.extend(sorted(query.ids))
        else:
            conds.append("1 = 0")
    if query.child_of is not None:
        conds.append("EXISTS (SELECT 1 FROM case_links l WHERE l.tenant = c.tenant "
                     f"AND l.source = {ph} AND l.kind = 'parent_of' AND l.target = c.id)")
        params.append(query.child_of)
    search = query.search
    if search is not None:
        conds.append(dialect.text_scan if text_scan and dialect.text_scan else dialect.text_match)
        params.append(dialect.text_param(search))
    if query.visible is not None and not query.visible.everything:
        conds.append(_visible(query.visible, dialect, params))
    return conds, params


def _assignment(query: CaseQuery, dialect: SqlDialect, params: list[Any]) -> str:
    """``assignees`` OR-ed with ``unassigned_teams`` (see :attr:`CaseQuery.unassigned_teams`):
    one condition, so the inbox is one query (each side can use its own index)."""
    sides = []
    if query.assignees is not None:
        sides.append(_in("c.assignee", query.assignees, dialect, params))
    if query.unassigned_teams is not None:
        teams = _in("c.team", query.unassigned_teams, dialect, params)
        sides.append(f"(c.assignee IS NULL AND {teams})")
    return sides[0] if len(sides) == 1 else f"({' OR '.join(sides)})"


def _visible(seen: Visibility, dialect: SqlDialect, params: list[Any]) -> str:
    """An access scope (:meth:`Visibility.admits`) as one OR-ed condition."""
    clauses = [_in(f"c.{column}", values, dialect, params)
               for column, values in (("team", seen.teams), ("assignee", seen.assignees),
                                      ("contact", seen.contacts), ("account", seen.accounts))
               if values]
    if not clauses:
        return "1 = 0"
    return clauses[0] if len(clauses) == 1 else f"({' OR '.join(clauses)})"


_ORDER_BY: Final[Mapping[str, str]] = {
    "created": "c.created_at ASC, c.id ASC",
    "-created": "c.created_at DESC, c.id DESC",
    "updated": "c.updated_at ASC, c.id ASC",
    "-updated": "c.updated_at DESC, c.id DESC",
    "due": "c.next_due_at ASC NULLS LAST, c.id ASC",
    "-priority": "c.priority_rank DESC, c.created_at ASC, c.id ASC",
}


def _after(query: CaseQuery, values: Sequence[Any], dialect: SqlDialect,
           params: list[Any]) -> str:
    """The keyset condition "strictly after the cursor row" in ``query.order``."""
    ph = dialect.ph
    order = query.order
    try:
        if order in ("created", "-created", "updated", "-updated"):
            col = "c.created_at" if order.endswith("created") else "c.updated_at"
            op = ">" if order[0] != "-" else "<"
            params.extend([str(values[0]), str(values[1])])
            return f"({col}, c.id) {op} ({ph}, {ph})"
        if order == "due":
            due, last_id = values[0], str(values[1])
            if due is None:
                params.append(last_id)
                return f"(c.next_due_at IS NULL AND c.id > {ph})"
            params.extend([str(due), last_id])
            return f"(c.next_due_at IS NULL OR (c.next_due_at, c.id) > ({ph}, {ph}))"
        rank = int(values[0])
        params.extend([rank, rank, str(values[1]), str(values[2])])
        return (f"(c.priority_rank < {ph} OR (c.priority_rank = {ph} "
                f"AND (c.created_at, c.id) > ({ph}, {ph})))")
    except (IndexError, TypeError, ValueError) as err:
        raise InvalidInput("malformed paging cursor", field="after") from err


_SUMMARY_SELECT: Final = ", ".join(f"c.{c}" for c in SUMMARY_COLUMNS)


def query_tail(query: CaseQuery, tenant: str, dialect: SqlDialect, *, text_scan: bool = False
               ) -> tuple[str, list[Any]]:
    """What follows ``SELECT … FROM cases c WHERE`` for one page of ``query``: its filter,
    keyset condition, order and a limit of ``limit + 1`` rows (to know whether another page
    follows)."""
    conds, params = _where(query, tenant, dialect, text_scan=text_scan)
    cursor = decode_cursor(query)
    if cursor is not None:
        conds.append(_after(query, cursor, dialect, params))
    params.append(query.limit + 1)
    return (f"{' AND '.join(conds)} ORDER BY {_ORDER_BY[query.order]} LIMIT {dialect.ph}",
            params)


def query_sql(query: CaseQuery, tenant: str, dialect: SqlDialect, *, text_scan: bool = False
              ) -> tuple[str, list[Any]]:
    """``SELECT`` of one page of summaries (see :func:`query_tail`)."""
    tail, params = query_tail(query, tenant, dialect, text_scan=text_scan)
    return f"SELECT {_SUMMARY_SELECT} FROM cases c WHERE {tail}", params


def page_from_rows(query: CaseQuery, rows: Sequence[Sequence[Any]]) -> Page:
    """The :class:`Page` for the ``limit + 1`` rows :func:`query_sql` fetched."""
    items = [summary_from_row(r) for r in rows[: query.limit]]
    more = len(rows) > query.limit
    cursor = encode_cursor(query, query.cursor_values(items[-1])) if more and items else None
    return Page(tuple(items), cursor)


def count_by_status_sql(query: CaseQuery | None, tenant: str, dialect: SqlDialect, *,
                        text_scan: bool = False) -> tuple[str, list[Any]]:
    """``SELECT status, count(*)`` over the query's filters (paging ignored)."""
    conds, params = _where(query or CaseQuery(), tenant, dialect, text_scan=text_scan)
    return (f"SELECT c.status, COUNT(*) FROM cases c WHERE {' AND '.join(conds)} "
            "GROUP BY c.status"), params


def count_sql(query: CaseQuery | None, tenant: str, dialect: SqlDialect, *,
              text_scan: bool = False) -> tuple[str, list[Any]]:
    """``SELECT COUNT(*)`` over the query's filters (paging ignored): the total of a list,
    read from the indexes its page uses, no row returned."""
    conds, params = _where(query or CaseQuery(), tenant, dialect, text_scan=text_scan)
    return f"SELECT COUNT(*) FROM cases c WHERE {' AND '.join(conds)}", params


def open_counts_sql(assignees: Sequence[str], tenant: str,
                    dialect: SqlDialect) -> tuple[str, list[Any]]:
    """``SELECT assignee, count(*)`` of active cases for the given agents."""
    params: list[Any] = [tenant]
    cond = _in("c.assignee", set(assignees), dialect, params)
    return (f"SELECT c.assignee, COUNT(*) FROM cases c WHERE c.tenant = {dialect.ph} "
            f"AND {cond} AND c.{ACTIVE_CATEGORIES_SQL} GROUP BY c.assignee"), params
