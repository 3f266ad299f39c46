"""The list surfaces of a desk: named views, the inbox and the kanban board
(:meth:`ServiceDesk.view`, :meth:`ServiceDesk.inbox`, :meth:`ServiceDesk.board`), and the
board's values (:class:`Board`, :class:`BoardColumn`).

Each turns a :class:`~caselib.reports.View` into one :class:`~caselib.ports.CaseQuery` per
list, adds the actor's read scope (:meth:`DeskContext.scoped`) and lets the store answer it
from its indexes: no case is loaded whole.
"""

from __future__ import annotations

import attrs

from caselib.cases import Actor, Status
from caselib.checks import require_int
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import WrongType
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery, CaseSummary, Page
from caselib.reports import BOARD, INBOX, View, board_statuses
from caselib.vocab import StatusCategory

__all__ = [
    "Board",
    "BoardColumn",
    "MAX_CARDS_PER_COLUMN",
    "board",
    "by_status_query",
    "inbox",
    "resolve_view",
    "view",
]

MAX_CARDS_PER_COLUMN = 100
"""The most cards a board shows per column (a board is a glance; page a column with
:meth:`ServiceDesk.find_cases` and the column's ``next_cursor``)."""


@attrs.frozen
class BoardColumn:
    """One column of a :class:`Board`: a workflow status, how many cases the board's view
    has in it (``count``, all of them) and the first of them (``cards``), in the view's
    order. ``next_cursor`` continues the column with :meth:`ServiceDesk.find_cases` and
    :attr:`query`.

    .. versionadded:: 0.2
    """

    status: str
    label: str
    category: StatusCategory
    count: int
    cards: tuple[CaseSummary, ...]
    next_cursor: str | None
    query: CaseQuery
    """The column's query (the board's filters and one status), to page it further."""


@attrs.frozen
class Board:
    """A kanban board: a column per status of the desk's workflow that the board's view
    admits, in the workflow's order (see :func:`caselib.reports.board_statuses`).

    .. versionadded:: 0.2
    """

    view: str
    columns: tuple[BoardColumn, ...]

    @property
    def total(self) -> int:
        """How many cases the board holds (the columns' counts summed)."""
        return sum(c.count for c in self.columns)

    def column(self, status: str) -> BoardColumn:
        """The column of ``status`` (:class:`KeyError` if the board has none)."""
        for col in self.columns:
            if col.status == status:
                return col
        raise KeyError(status)


def resolve_view(ctx: DeskContext, name_or_view: object) -> View:
    """A :class:`View` as given, or the built-in or tenant view of that name
    (:class:`~caselib.errors.UnknownValue` listing the names when there is none)."""
    if isinstance(name_or_view, View):
        return name_or_view
    if isinstance(name_or_view, str):
        return ctx.settings.views.get(name_or_view)
    raise WrongType("view", "a view name or a caselib.reports.View", name_or_view,
                    f"known names: {', '.join(ctx.settings.views.names)}")


def _limit(value: object, field: str, most: int) -> int:
    return require_int(value, field, 1, most)


def view(ctx: DeskContext, name_or_view: object, *, actor: Actor, after: str | None,
         limit: int) -> Page:
    check.actor(actor)
    chosen = resolve_view(ctx, name_or_view)
    query = ctx.scoped(ctx.view_query(chosen, actor, after=after,
                                      limit=_limit(limit, "limit", MAX_QUERY_LIMIT)), actor)
    with ctx.uow() as uow:
        return uow.cases.query(query)


def inbox(ctx: DeskContext, *, actor: Actor, after: str | None, limit: int,
          text: str | None) -> Page:
    check.actor(actor)
    chosen = INBOX if text is None else INBOX.refined(text=text)
    return view(ctx, chosen, actor=actor, after=after, limit=limit)


def board(ctx: DeskContext, query_or_view: object, *, actor: Actor,
          cards_per_column: int) -> Board:
    check.actor(actor)
    cards = _limit(cards_per_column, "cards_per_column", MAX_CARDS_PER_COLUMN)
    if isinstance(query_or_view, CaseQuery):
        base = query_or_view
        name = "query"
        chosen = View("query", _filters_of(base), order=base.order)
    else:
        chosen = resolve_view(ctx, BOARD if query_or_view is None else query_or_view)
        name = chosen.name
        base = ctx.view_query(chosen, actor)
    base = ctx.scoped(attrs.evolve(base, after=None, limit=cards), actor)
    shown: list[tuple[Status, CaseQuery, Page]] = []
    with ctx.uow() as uow:
        for status in board_statuses(ctx.settings.workflow, chosen):
            column_query = attrs.evolve(base, statuses=frozenset({status.id}))
            if base.status_categories is not None and _implied(ctx, status):
                # the status decides the category (in every workflow of this desk): the same
                # cases, and a column the store may read from its status index
                column_query = attrs.evolve(column_query, status_categories=None)
            shown.append((status, column_query, uow.cases.query(column_query)))
        # a full column's count: one grouped count of the board's cases for them all (per
        # column counts each re-read the scope's rows: 21 ms against 8 at 100k cases)
        counts = (uow.cases.count_by_status(by_status_query(ctx, base))
                  if any(page.next_cursor is not None for _s, _q, page in shown) else {})
    return Board(name, tuple(
        BoardColumn(status.id, status.label, status.category,
                    len(page.items) if page.next_cursor is None else counts.get(status.id, 0),
                    page.items, page.next_cursor, attrs.evolve(column_query, visible=None))
        for status, column_query, page in shown))


def by_status_query(ctx: DeskContext, query: CaseQuery) -> CaseQuery:
    """``query`` (scoped) as a per-status count reads it fastest: an unscoped count of active
    categories ("open by status") names the statuses instead when each decides its category
    in every workflow of the desk, so the store counts from its (tenant, status) index alone
    (1 ms against 11 at 100k cases on SQLite); a scoped count keeps the categories, whose
    index carries the scope's columns. Merged and other categories stay as asked."""
    cats = query.status_categories
    if query.visible is not None or not cats or query.statuses is not None or not all(
            c.is_active for c in cats):
        return query
    named = {st: cat for wf in ctx.workflows.values() for st, cat in wf.categories.items()
             if cat in cats}
    if named and all(wf.categories.get(st, cat) == cat for st, cat in named.items()
                     for wf in ctx.workflows.values()):
        return attrs.evolve(query, statuses=frozenset(named), status_categories=None)
    return query


def _implied(ctx: DeskContext, status: Status) -> bool:
    """Whether every workflow of the desk that has ``status`` files it under its category."""
    return all(wf.categories.get(status.id, status.category) == status.category
               for wf in ctx.workflows.values())


def _filters_of(query: CaseQuery) -> dict[str, object]:
    """A query's set filters, by name (what decides a board's columns)."""
    return {name: getattr(query, name) for name in ("statuses", "status_categories")
            if getattr(query, name) is not None}
