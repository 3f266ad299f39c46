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
    columns = []
    with ctx.uow() as uow:
        for status in board_statuses(ctx.settings.workflow, chosen):
            column_query = attrs.evolve(base, statuses=frozenset({status.id}))
            if base.status_categories is not None and _implied(ctx, status):
                # the status decides the category (in every workflow of this desk): the same
                # cases, and a count the store reads from its status index alone
                column_query = attrs.evolve(column_query, status_categories=None)
            page = uow.cases.query(column_query)
            count = (len(page.items) if page.next_cursor is None
                     else uow.cases.count(column_query))
            columns.append(BoardColumn(status.id, status.label, status.category, count,
                                       page.items, page.next_cursor,
                                       attrs.evolve(column_query, visible=None)))
    return Board(name, tuple(columns))


def _implied(ctx: DeskContext, status: Status) -> bool:
    """Whether every workflow of the desk that has ``status`` files it under its category."""
    return all(wf.categories.get(status.id, status.category) == status.category
               for wf in ctx.workflows.values())


def _filters_of(query: CaseQuery) -> dict[str, object]:
    """A query's set filters, by name (what decides a board's columns)."""
    return {name: getattr(query, name) for name in ("statuses", "status_categories")
            if getattr(query, name) is not None}
