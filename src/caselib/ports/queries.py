"""Case queries and their pages: :class:`CaseQuery` (filters, total orders, keyset
cursors) and the page values the case repository returns (of :class:`CaseSummary` rows,
defined in :mod:`caselib.ports.summary`).

Values, not protocols: every store (and the desk) builds and reads them, and
:meth:`CaseQuery.matches` / :meth:`CaseQuery.sort_key` are the reference semantics that the
SQL stores mirror.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final, Literal

import attrs

from caselib.access import Visibility
from caselib.cases import Case
from caselib.checks import (
    require_bool,
    require_int,
    require_str,
    require_strs,
    storable,
    unstorable,
)
from caselib.errors import InvalidInput, UnknownValue, WrongType
from caselib.ports.summary import CaseSummary, SlaDue, SlaSignal
from caselib.reports.search import SearchText
from caselib.sla import SlaCase
from caselib.timeutil import aware_utc, from_iso, to_iso
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "CasePage",
    "CaseQuery",
    "CaseSummary",
    "MAX_QUERY_LIMIT",
    "MAX_TEXT_LENGTH",
    "Page",
    "QueryOrder",
    "SlaCasePage",
    "SlaDue",
    "SlaSignal",
    "cursor_sort_key",
    "decode_cursor",
    "encode_cursor",
]


QueryOrder = Literal["created", "-created", "updated", "-updated", "due", "-priority"]
"""Sort orders every store supports; each is made total by the case id as a tie-break."""
_ORDERS: tuple[QueryOrder, ...] = ("created", "-created", "updated", "-updated", "due",
                                   "-priority")


def _opt_dt(value: object, field: str) -> datetime | None:
    return None if value is None else aware_utc(value, field)


def _strs(value: object, field: str) -> frozenset[str] | None:
    """A filter of strings: one string, or a collection of them; each must be text every
    store can hold (a filter value no store can keep would match nothing on one store and
    raise on another)."""
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({storable(value, field)})
    return frozenset(
        require_str(v, field, "a string or a list of strings") for v in require_strs(value, field)
    )


def _statuses(value: object) -> frozenset[str] | None:
    return _strs(value, "statuses")


def _assignees(value: object) -> frozenset[str] | None:
    return _strs(value, "assignees")


def _teams(value: object) -> frozenset[str] | None:
    return _strs(value, "teams")


def _tags(value: object) -> frozenset[str] | None:
    return _strs(value, "tags")


def _unassigned_teams(value: object) -> frozenset[str] | None:
    return _strs(value, "unassigned_teams")


def _contacts(value: object) -> frozenset[str] | None:
    return _strs(value, "contacts")


def _accounts(value: object) -> frozenset[str] | None:
    return _strs(value, "accounts")


def _case_categories(value: object) -> frozenset[str] | None:
    return _strs(value, "categories")


def _status_categories(value: object) -> frozenset[StatusCategory] | None:
    if value is None:
        return None
    if isinstance(value, (str, StatusCategory)):
        return frozenset({StatusCategory.parse(value)})
    return frozenset(StatusCategory.parse(v) for v in require_strs(value, "status_categories"))


def _priorities(value: object) -> frozenset[Priority] | None:
    if value is None:
        return None
    if isinstance(value, (str, Priority)):
        return frozenset({Priority.parse(value)})
    return frozenset(Priority.parse(v) for v in require_strs(value, "priorities"))


MAX_TEXT_LENGTH: Final = 500
"""The longest text search a :class:`CaseQuery` takes (characters)."""


def _text(value: object) -> str | None:
    """A text search: a string with a letter or digit (see :class:`SearchText` for the
    syntax), parsed here so a bad one is refused when the query is built."""
    if value is None:
        return None
    text = storable(require_str(value, "text", "a search string or None"), "text")
    if len(text) > MAX_TEXT_LENGTH:
        raise InvalidInput(f"a text search is at most {MAX_TEXT_LENGTH} characters",
                           field="text")
    SearchText.parse(text)
    return text


def _opt_bool(_inst: object, attr: attrs.Attribute[bool | None], value: object) -> None:
    """A yes/no filter takes ``True``, ``False`` or ``None`` (any): ``"no"`` is truthy in
    Python, so a string is refused rather than guessed (stores used to read it differently)."""
    if value is not None:
        require_bool(value, attr.name)


def _after(_inst: object, _attr: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        require_str(value, "after", "a cursor string (a page's next_cursor) or None")


def _due_before(value: object) -> datetime | None:
    return _opt_dt(value, "due_before")


def _created_from(value: object) -> datetime | None:
    return _opt_dt(value, "created_from")


def _created_before(value: object) -> datetime | None:
    return _opt_dt(value, "created_before")


def _resolved_from(value: object) -> datetime | None:
    return _opt_dt(value, "resolved_from")


def _resolved_before(value: object) -> datetime | None:
    return _opt_dt(value, "resolved_before")


def _child_of(value: object) -> str | None:
    if value is None:
        return None
    text = require_str(value, "child_of", "a case id (the parent's) or None")
    if not text:
        raise InvalidInput("child_of must be a case id, not empty", field="child_of")
    return text


MAX_QUERY_LIMIT: Final = 1000
"""The largest page a :class:`CaseQuery` asks for (``limit``): a bound on what one store call
reads and holds in memory."""

def _ids(value: object) -> frozenset[str] | None:
    ids = _strs(value, "ids")
    if ids is not None and len(ids) > MAX_QUERY_LIMIT:
        raise InvalidInput(f"ids lists {len(ids)} case ids; at most {MAX_QUERY_LIMIT} per "
                           "query (ask in batches)", field="ids")
    return ids


_LATE_FILTERS: Final = frozenset({"child_of", "escalated", "ids"})
"""Filters added after cursors were handed out: in a cursor's digest only when set."""


@attrs.frozen
class CaseQuery:
    """Filters and paging for :meth:`CaseRepository.query`. ``None`` means "any".

    Sets are OR-ed within a filter and filters AND-ed together; ``tags`` requires all the
    given tags. One exception makes a queue that is a union: ``assignees`` and
    ``unassigned_teams`` are OR-ed with each other (see :attr:`unassigned_teams`), so the
    inbox "assigned to me, or unassigned in my teams" is one query with one cursor::

        CaseQuery(assignees="ana", unassigned_teams={"tier1", "billing"},
                  status_categories={"new", "open", "waiting"})

    Paging is keyset: pass the page's ``next_cursor`` as ``after`` to continue. A cursor
    carries a digest of the query's filters and order (all but ``limit`` and ``after``), so
    a cursor reused with other filters, another order or another actor's access scope is
    refused with :class:`InvalidInput` naming ``after`` rather than paging a different list.
    """

    statuses: frozenset[str] | None = attrs.field(default=None, converter=_statuses)
    status_categories: frozenset[StatusCategory] | None = attrs.field(
        default=None, converter=_status_categories)
    priorities: frozenset[Priority] | None = attrs.field(
        default=None, converter=_priorities)
    assignees: frozenset[str] | None = attrs.field(default=None, converter=_assignees)
    teams: frozenset[str] | None = attrs.field(default=None, converter=_teams)
    unassigned: bool | None = attrs.field(default=None, validator=_opt_bool)
    """True: only cases with no assignee; False: only assigned ones."""
    tags: frozenset[str] | None = attrs.field(default=None, converter=_tags)
    breached: bool | None = attrs.field(default=None, validator=_opt_bool)
    due_before: datetime | None = attrs.field(
        default=None, converter=_due_before)
    """Cases whose next SLA due time is at or before this instant."""
    created_from: datetime | None = attrs.field(
        default=None, converter=_created_from)
    created_before: datetime | None = attrs.field(
        default=None, converter=_created_before)
    unassigned_teams: frozenset[str] | None = attrs.field(
        default=None, converter=_unassigned_teams)
    """Also the unassigned cases of these teams, OR-ed with ``assignees``: a case passes the
    assignment filter when its assignee is in ``assignees`` or it has no assignee and its
    team is in ``unassigned_teams`` (an absent side adds nothing; both absent: no
    assignment filter). Alone, it is the unassigned queue of those teams.

    Why a set of teams and not ``include_unassigned: bool``: the inbox is "assigned to me
    (in any team) ∪ unassigned *in my teams*". A flag could only be narrowed to my teams by
    the AND-ed ``teams`` filter, which would also drop my cases that moved to another team;
    the team condition belongs to the unassigned side alone.

    .. versionadded:: 0.2
    """
    contacts: frozenset[str] | None = attrs.field(default=None, converter=_contacts)
    """Cases about one of these contacts (``Case.links.contact``).

    .. versionadded:: 0.2
    """
    accounts: frozenset[str] | None = attrs.field(default=None, converter=_accounts)
    """Cases about one of these accounts (``Case.links.account``): "every case of this
    account" before a renewal call.

    .. versionadded:: 0.2
    """
    categories: frozenset[str] | None = attrs.field(default=None, converter=_case_categories)
    """Cases filed under one of these categories (:attr:`Case.category`, as stored: the
    canonical spelling); not to be confused with ``status_categories``.

    .. versionadded:: 0.2
    """
    resolved_from: datetime | None = attrs.field(default=None, converter=_resolved_from)
    """Cases resolved at or after this instant (a case that is not resolved has no
    ``resolved_at`` and never matches).

    .. versionadded:: 0.2
    """
    resolved_before: datetime | None = attrs.field(default=None, converter=_resolved_before)
    """Cases resolved before this instant (exclusive, like ``created_before``).

    .. versionadded:: 0.2
    """
    child_of: str | None = attrs.field(default=None, converter=_child_of)
    """The children of this case (its ``parent_of`` links, :mod:`caselib.cases.links`):
    the SQL stores join the link table, the memory store reads its links. Like :attr:`text`,
    :meth:`matches` does not check it (a summary carries no links).

    .. versionadded:: 0.3
    """
    escalated: bool | None = attrs.field(default=None, validator=_opt_bool)
    """True: only cases standing on an escalation level (:attr:`CaseSummary.escalation_level`
    set); False: only cases on none. Like ``child_of`` it joins the cursor digest only when
    set.

    .. versionadded:: 0.3
    """
    ids: frozenset[str] | None = attrs.field(default=None, converter=_ids)
    """Only these cases (by id, at most :data:`MAX_QUERY_LIMIT`): many known cases' summaries
    in one read, e.g. the other ends of a case's links (``ServiceDesk.related_cases``). Like
    ``child_of`` it joins the cursor digest only when set.

    .. versionadded:: 0.3
    """
    text: str | None = attrs.field(default=None, converter=_text)
    """A text search over the case's number, subject and description: words AND-ed, a
    trailing ``*`` for a prefix (``"printer jam*"``), case-insensitive, no stemming; see
    :mod:`caselib.reports.search` for the exact rules, which every store follows. Combined
    (AND) with every other filter; :meth:`matches` does not check it (a summary carries no
    description): use :meth:`matches_text` on the case.

    .. versionadded:: 0.2
    """
    visible: Visibility | None = None
    """The access scope the desk adds for the actor asking (``None``: every case); see
    :meth:`caselib.access.AccessPolicy.visible`."""
    order: QueryOrder = "created"
    limit: int = 50
    after: str | None = attrs.field(default=None, validator=_after)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.order, str) or self.order not in _ORDERS:
            raise UnknownValue("order", self.order, _ORDERS)
        require_int(self.limit, "limit", 1, MAX_QUERY_LIMIT)
        if self.visible is not None and not isinstance(self.visible, Visibility):
            raise WrongType("visible", "a caselib.access.Visibility or None", self.visible)

    def matches(self, s: CaseSummary) -> bool:
        """Reference semantics of the filters (the in-memory store uses it; SQL mirrors it)."""
        if self.statuses is not None and s.status not in self.statuses:
            return False
        if self.status_categories is not None and s.status_category not in self.status_categories:
            return False
        if self.priorities is not None and s.priority not in self.priorities:
            return False
        if (self.assignees is not None or self.unassigned_teams is not None) and not (
            (self.assignees is not None and s.assignee in self.assignees)
            or (self.unassigned_teams is not None and s.assignee is None
                and s.team in self.unassigned_teams)
        ):
            return False
        if self.teams is not None and s.team not in self.teams:
            return False
        if self.unassigned is not None and (s.assignee is None) != self.unassigned:
            return False
        if self.contacts is not None and s.contact not in self.contacts:
            return False
        if self.accounts is not None and s.account not in self.accounts:
            return False
        if self.categories is not None and s.category not in self.categories:
            return False
        if self.tags is not None and not self.tags <= s.tags:
            return False
        if self.breached is not None and s.breached != self.breached:
            return False
        if self.escalated is not None and (s.escalation_level is not None) != self.escalated:
            return False
        if self.ids is not None and s.id not in self.ids:
            return False
        if self.due_before is not None and (
            s.next_due_at is None or s.next_due_at > self.due_before
        ):
            return False
        if self.created_from is not None and s.created_at < self.created_from:
            return False
        if self.created_before is not None and s.created_at >= self.created_before:
            return False
        if self.resolved_from is not None and (
            s.resolved_at is None or s.resolved_at < self.resolved_from
        ):
            return False
        if self.resolved_before is not None and (
            s.resolved_at is None or s.resolved_at >= self.resolved_before
        ):
            return False
        return self.visible is None or self.visible.admits(
            team=s.team, assignee=s.assignee, contact=s.contact, account=s.account)

    @property
    def search(self) -> SearchText | None:
        """:attr:`text` parsed (``None`` without a text search).

        .. versionadded:: 0.2
        """
        return None if self.text is None else SearchText.parse(self.text)

    def matches_text(self, terms: Iterable[str]) -> bool:
        """Whether a case with these :func:`~caselib.reports.search_terms` passes the text
        search (always, without one): the reference the stores' full-text indexes mirror.

        .. versionadded:: 0.2
        """
        search = self.search
        return search is None or search.matches(terms)

    def filter_digest(self) -> str:
        """A short, stable digest of the filters and the order (not ``limit`` or ``after``),
        the access scope included: what a cursor is bound to. Equal queries (however their
        sets were spelled) give equal digests, in every process and on every store.

        .. versionadded:: 0.2
        """
        # child_of, escalated and ids (added in 0.3) join the digest only when set, so cursors
        # handed out before they existed still page the same list
        plain = [[a.name, _plain(getattr(self, a.name))] for a in attrs.fields(CaseQuery)
                 if a.name not in ("limit", "after")
                 and not (a.name in _LATE_FILTERS and getattr(self, a.name) is None)]
        raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)
        digest = hashlib.blake2b(raw.encode("utf-8", "surrogatepass"), digest_size=9).digest()
        return base64.urlsafe_b64encode(digest).decode()

    def sort_key(self, s: CaseSummary) -> tuple[Any, ...]:
        """The total order for ``self.order``; stores must page in exactly this order.

        ``due`` puts cases without a due time last; ``-priority`` is urgent first, then the
        oldest case first.
        """
        if self.order == "created":
            return (to_iso(s.created_at), s.id)
        if self.order == "-created":
            return (_Desc(to_iso(s.created_at)), _Desc(s.id))
        if self.order == "updated":
            return (to_iso(s.updated_at), s.id)
        if self.order == "-updated":
            return (_Desc(to_iso(s.updated_at)), _Desc(s.id))
        if self.order == "due":
            due = s.next_due_at
            return (due is None, to_iso(due) if due else "", s.id)
        return (-s.priority.rank, to_iso(s.created_at), s.id)

    def cursor_values(self, s: CaseSummary) -> list[Any]:
        """The plain values a cursor stores for the last row of a page."""
        if self.order in ("created", "-created"):
            return [to_iso(s.created_at), s.id]
        if self.order in ("updated", "-updated"):
            return [to_iso(s.updated_at), s.id]
        if self.order == "due":
            return [to_iso(s.next_due_at) if s.next_due_at else None, s.id]
        return [s.priority.rank, to_iso(s.created_at), s.id]


def _plain(value: object) -> Any:
    """A filter value as canonical JSON data (sets sorted, instants as fixed-width text)."""
    if isinstance(value, (frozenset, set)):
        return sorted(_plain(v) for v in value)
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, Visibility):
        return [value.everything, *(sorted(getattr(value, f))
                                    for f in ("teams", "assignees", "contacts", "accounts"))]
    return getattr(value, "value", value)  # enum members as their values


@attrs.frozen(order=False)
class _Desc:
    value: Any

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)

    def __gt__(self, other: _Desc) -> bool:
        return bool(self.value < other.value)


def encode_cursor(query: CaseQuery, values: Sequence[Any]) -> str:
    """An opaque cursor string for keyset paging: the order, the query's
    :meth:`~CaseQuery.filter_digest` and the last row's sort values."""
    raw = json.dumps([query.order, query.filter_digest(), *values],
                     separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


_MAX_CURSOR: Final = 2048
"""Longer than any cursor :func:`encode_cursor` makes (an order, a time, a case id)."""

_CURSOR_SHAPES: Final[dict[str, tuple[str, ...]]] = {
    "created": ("time", "id"), "-created": ("time", "id"),
    "updated": ("time", "id"), "-updated": ("time", "id"),
    "due": ("time?", "id"), "-priority": ("rank", "time", "id"),
}
"""What :meth:`CaseQuery.cursor_values` stores after the order, per order."""


def _cursor_value_fits(value: object, kind: str) -> bool:
    if kind == "rank":
        return type(value) is int and 0 <= value <= 3
    if kind == "time?" and value is None:
        return True
    if not isinstance(value, str) or unstorable(value) is not None:
        return False
    if kind == "id":
        return True
    try:  # the fixed-width text to_iso writes, which sorts as time does
        return to_iso(from_iso(value)) == value
    except (ValueError, OverflowError):
        return False


def decode_cursor(query: CaseQuery) -> list[Any] | None:
    """The values in ``query.after`` (``None`` for the first page).

    Total: any string that is not a cursor :func:`encode_cursor` made for this order (cut,
    edited, from another order, crafted) raises :class:`InvalidInput` naming ``after``, so
    no store ever compares a case against a value of the wrong shape; so does a cursor made
    for other filters (another filter value, another access scope), which would otherwise
    page silently through a different list.
    """
    after = query.after
    if after is None:
        return None
    bad = InvalidInput(
        "malformed paging cursor: pass a page's next_cursor unchanged, or None for the first "
        "page", field="after")
    if len(after) > _MAX_CURSOR:
        raise bad
    try:
        pad = "=" * (-len(after) % 4)
        data = json.loads(base64.urlsafe_b64decode(after + pad))
    except (ValueError, TypeError, RecursionError) as err:
        raise bad from err
    if not isinstance(data, list) or not data or not isinstance(data[0], str):
        raise bad
    if data[0] != query.order:
        raise InvalidInput("this cursor belongs to a different order", field="after")
    if len(data) < 2 or data[1] != query.filter_digest():
        raise InvalidInput(
            "this cursor belongs to a query with other filters (or another actor's scope): "
            "page with the filters that gave the cursor, or start again with after=None",
            field="after")
    values = data[2:]
    shape = _CURSOR_SHAPES[query.order]
    if len(values) != len(shape) or not all(
        _cursor_value_fits(v, kind) for v, kind in zip(values, shape, strict=True)
    ):
        raise bad
    return values


def cursor_sort_key(query: CaseQuery, values: Sequence[Any]) -> tuple[Any, ...]:
    """The sort key of a decoded cursor, comparable with :meth:`CaseQuery.sort_key`."""
    if query.order == "created":
        return (values[0], values[1])
    if query.order == "-created":
        return (_Desc(values[0]), _Desc(values[1]))
    if query.order == "updated":
        return (values[0], values[1])
    if query.order == "-updated":
        return (_Desc(values[0]), _Desc(values[1]))
    if query.order == "due":
        return (values[0] is None, values[0] or "", values[1])
    return (-int(values[0]), values[1], values[2])


@attrs.frozen
class Page:
    """One page of query results; ``next_cursor`` is ``None`` on the last page."""

    items: tuple[CaseSummary, ...]
    next_cursor: str | None


@attrs.frozen
class CasePage:
    """One page of query results with each case loaded whole
    (:meth:`CaseRepository.query_cases`); ``next_cursor`` is ``None`` on the last page.

    .. versionadded:: 0.1
    """

    cases: tuple[Case, ...]
    next_cursor: str | None


@attrs.frozen
class SlaCasePage:
    """One page of query results with the SLA part of each case
    (:meth:`SlaSweepRepository.query_sla_cases`); ``next_cursor`` as for :class:`Page`."""

    cases: tuple[SlaCase, ...]
    next_cursor: str | None
