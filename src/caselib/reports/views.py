"""Named views over cases, as data: :class:`View` (filters plus an order), the built-in queues
(:data:`OPEN`, :data:`UNASSIGNED`, :data:`MINE`, :data:`RESOLVED`, :data:`INBOX`), the
per-account and per-contact views, the :data:`BOARD` and the catalog a tenant adds its own
views to (:class:`ViewCatalog`).

A view is the keyword arguments of a :class:`~caselib.ports.CaseQuery` (the desk builds the
query; this package may not import the ports) plus its order, so a host can keep views in its
own configuration, list them as tabs and ask the desk for one by name
(:meth:`ServiceDesk.view <caselib.desk.ServiceDesk.view>`). Filter values may name the
person asking instead of a fixed value: :attr:`Placeholder.ME` stands for the actor's id and
:attr:`Placeholder.MY_TEAMS` for its teams, so "mine" and the inbox are one view for every
agent.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final

import attrs

from caselib.cases import Actor, Status, Workflow
from caselib.errors import InvalidConfiguration, UnknownValue, WrongType
from caselib.vocab import StatusCategory

__all__ = [
    "BOARD",
    "BUILTIN_VIEWS",
    "INBOX",
    "MINE",
    "OPEN",
    "Placeholder",
    "RESOLVED",
    "UNASSIGNED",
    "VIEW_FILTERS",
    "VIEW_ORDERS",
    "View",
    "ViewCatalog",
    "account_view",
    "board_statuses",
    "contact_view",
]

VIEW_FILTERS: Final = (
    "accounts", "assignees", "breached", "categories", "child_of", "contacts", "created_before",
    "created_from", "due_before", "escalated", "ids", "priorities", "resolved_before",
    "resolved_from", "status_categories", "statuses", "tags", "teams", "text", "unassigned",
    "unassigned_teams",
)
"""The :class:`~caselib.ports.CaseQuery` filters a view may set (all of them but the access
scope, which the desk adds from the actor)."""

VIEW_ORDERS: Final = ("created", "-created", "updated", "-updated", "due", "-priority")
"""The orders a view may list in (:data:`caselib.ports.QueryOrder`)."""

_ACTIVE: Final = frozenset(c for c in StatusCategory if c.is_active)
_DONE: Final = frozenset(c for c in StatusCategory if not c.is_active)
_NAME: Final = re.compile(r"[a-z][a-z0-9_]*(:[^\n]+)?")


class Placeholder(enum.Enum):
    """A filter value filled in from the actor asking (see :meth:`View.filters_for`)."""

    ME = "me"
    """The actor's id (``assignees=ME``: the cases assigned to whoever asks)."""
    MY_TEAMS = "my_teams"
    """The actor's teams, a set (``unassigned_teams=MY_TEAMS``)."""


def _value(value: object) -> object:
    """A filter value made immutable (lists and sets become frozensets)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return frozenset(value)
    return value


def _filters(value: object) -> tuple[tuple[str, object], ...]:
    if not isinstance(value, Mapping):
        raise WrongType("filters", "a mapping of CaseQuery filter names to values", value)
    for key in value:
        if key not in VIEW_FILTERS:
            raise UnknownValue("filters", key, VIEW_FILTERS)
    return tuple(sorted((k, _value(v)) for k, v in value.items() if v is not None))


def _bind(value: object, actor: Actor) -> object:
    if value is Placeholder.ME:
        return actor.id
    if value is Placeholder.MY_TEAMS:
        return actor.teams
    if isinstance(value, frozenset) and any(isinstance(v, Placeholder) for v in value):
        out: set[object] = set()
        for v in value:
            bound = _bind(v, actor)
            out.update(bound if isinstance(bound, frozenset) else {bound})
        return frozenset(out)
    return value


@attrs.frozen
class View:
    """A named list of cases: ``CaseQuery`` filters (``filters``, keyword → value) and an
    ``order``. Build the built-in ones with the constants and functions of this module, your
    own with ``View("vip", {"tags": "vip", "status_categories": ["new", "open"]})``.

    ``name`` is snake_case, optionally followed by ``:`` and a parameter
    (``account:acme-co``); ``title`` is what a tab shows. A filter name that
    :class:`~caselib.ports.CaseQuery` does not have is refused here
    (:class:`~caselib.errors.UnknownValue` listing the known ones); filter *values* are
    checked by the desk when the view is registered or first read.
    """

    name: str
    filters: tuple[tuple[str, object], ...] = attrs.field(factory=dict, converter=_filters)
    order: str = "created"
    title: str = ""

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise InvalidConfiguration(
                f"view name {self.name!r} must be snake_case (a-z, 0-9, _), starting with a "
                "letter, optionally followed by ':' and a parameter")
        if self.order not in VIEW_ORDERS:
            raise UnknownValue("order", self.order, VIEW_ORDERS)
        if not isinstance(self.title, str):
            raise WrongType("title", "a string", self.title)
        if not self.title:
            object.__setattr__(self, "title", self.name.split(":")[0].replace("_", " ").title())

    def filter(self, name: str) -> object:
        """The value of one filter (``None`` when the view does not set it)."""
        return dict(self.filters).get(name)

    def filters_for(self, actor: Actor) -> dict[str, Any]:
        """The filters with :class:`Placeholder` values filled in from ``actor``: the
        keyword arguments of its :class:`~caselib.ports.CaseQuery`."""
        return {k: _bind(v, actor) for k, v in self.filters}

    def refined(self, **filters: object) -> View:
        """This view with more filters (replacing those of the same name), e.g. a text
        search typed into a tab: ``MINE.refined(text="printer")``."""
        merged = dict(self.filters)
        merged.update(filters)
        return attrs.evolve(self, filters=merged)


OPEN: Final = View("open", {"status_categories": _ACTIVE}, order="-priority")
"""Every active (new, open, waiting) case, the most urgent first."""

UNASSIGNED: Final = View("unassigned", {"status_categories": _ACTIVE, "unassigned": True})
"""Active cases nobody owns, the oldest first."""

MINE: Final = View("mine", {"status_categories": _ACTIVE, "assignees": Placeholder.ME})
"""The asking agent's active cases, the oldest first."""

RESOLVED: Final = View("resolved", {"status_categories": _DONE}, order="-updated")
"""Resolved and closed cases, the most recently changed first."""

INBOX: Final = View("inbox", {"status_categories": _ACTIVE, "assignees": Placeholder.ME,
                              "unassigned_teams": Placeholder.MY_TEAMS})
"""Assigned to me, or unassigned in one of my teams (active cases, the oldest first): one
query and one cursor (:attr:`CaseQuery.unassigned_teams <caselib.ports.CaseQuery>`)."""

BOARD: Final = View("board", {"status_categories": _ACTIVE}, order="-updated")
"""The default kanban board: a column per active status, cards most recently moved first.
A board shows the columns of the statuses its view admits, so a board over
``{"status_categories": ["new", "open", "waiting", "resolved"]}`` gains a resolved column."""

BUILTIN_VIEWS: Final = (OPEN, UNASSIGNED, MINE, RESOLVED, INBOX, BOARD)
"""The views every desk knows by name."""


def _param(value: object, field: str) -> str:
    if not isinstance(value, str) or not value or value != value.strip():
        raise WrongType(field, "a non-empty id without surrounding spaces", value)
    return value


def account_view(account_id: str, *, include_done: bool = False) -> View:
    """The cases of one account, newest first: the active ones (what to know before a
    renewal call), or every one with ``include_done``."""
    account_id = _param(account_id, "account_id")
    filters: dict[str, object] = {"accounts": account_id}
    if not include_done:
        filters["status_categories"] = _ACTIVE
    return View(f"account:{account_id}", filters, order="-created", title="Account")


def contact_view(contact_id: str, *, include_done: bool = False) -> View:
    """The cases of one contact, newest first (as :func:`account_view`)."""
    contact_id = _param(contact_id, "contact_id")
    filters: dict[str, object] = {"contacts": contact_id}
    if not include_done:
        filters["status_categories"] = _ACTIVE
    return View(f"contact:{contact_id}", filters, order="-created", title="Contact")


def _several(value: object) -> list[object] | None:
    """A filter value as a list of its members (one string is one member)."""
    if value is None:
        return None
    if isinstance(value, (str, StatusCategory)) or not isinstance(value, Iterable):
        return [value]
    return list(value)


def board_statuses(workflow: Workflow, view: View = BOARD) -> tuple[Status, ...]:
    """The board's columns: the statuses of ``workflow`` in its order that ``view`` admits
    (by its ``statuses`` and ``status_categories`` filters)."""
    listed = _several(view.filter("status_categories"))
    categories = None if listed is None else {StatusCategory.parse(c) for c in listed}
    wanted = _several(view.filter("statuses"))
    return tuple(s for s in workflow.statuses
                 if (categories is None or s.category in categories)
                 and (wanted is None or s.id in wanted))


def _views(value: object) -> tuple[View, ...]:
    if isinstance(value, View) or not isinstance(value, Iterable):
        raise WrongType("views", "a list of caselib.reports.View", value)
    views = tuple(value)
    seen = {v.name for v in BUILTIN_VIEWS}
    for view in views:
        if not isinstance(view, View):
            raise WrongType("views", "a list of caselib.reports.View", view)
        if view.name in seen:
            raise InvalidConfiguration(
                f"two views are named {view.name!r} (the built-in views are "
                f"{', '.join(v.name for v in BUILTIN_VIEWS)}); give each view its own name")
        seen.add(view.name)
    return views


@attrs.frozen
class ViewCatalog:
    """The views a desk knows by name: the built-in ones and a tenant's own (``views``).

    Set as :attr:`TenantSettings.views <caselib.desk.TenantSettings.views>`; the desk checks
    every view's filter values when it is made, so a broken view fails at start-up.
    """

    views: tuple[View, ...] = attrs.field(default=(), converter=_views)

    @property
    def names(self) -> tuple[str, ...]:
        """Every view name, the built-in ones first (tab order)."""
        return tuple(v.name for v in (*BUILTIN_VIEWS, *self.views))

    def get(self, name: str) -> View:
        """The view called ``name``.

        Raises:
            UnknownValue: no such view (the message lists the known names).
        """
        for view in (*BUILTIN_VIEWS, *self.views):
            if view.name == name:
                return view
        raise UnknownValue("view", name, self.names)

    def __iter__(self) -> Iterator[View]:
        return iter((*BUILTIN_VIEWS, *self.views))

