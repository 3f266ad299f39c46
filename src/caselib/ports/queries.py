"""Case queries and their pages: :class:`CaseQuery` (filters, total orders, keyset
cursors), :class:`CaseSummary` and the page values the case repository returns.

Values, not protocols: every store (and the desk) builds and reads them, and
:meth:`CaseQuery.matches` / :meth:`CaseQuery.sort_key` are the reference semantics that the
SQL stores mirror.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final, Literal

import attrs

from caselib.access import Visibility
from caselib.cases import Case
from caselib.errors import InvalidInput
from caselib.sla import SlaCase
from caselib.timeutil import aware_utc, to_iso
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "CasePage",
    "CaseQuery",
    "CaseSummary",
    "MAX_QUERY_LIMIT",
    "Page",
    "QueryOrder",
    "SlaCasePage",
    "cursor_sort_key",
    "decode_cursor",
    "encode_cursor",
]


QueryOrder = Literal["created", "-created", "updated", "-updated", "due", "-priority"]
"""Sort orders every store supports; each is made total by the case id as a tie-break."""


@attrs.frozen
class CaseSummary:
    """A case's list-view columns: what stores index and queries return (no timeline)."""

    id: str
    number: str
    subject: str
    status: str
    status_category: StatusCategory
    priority: Priority
    assignee: str | None
    team: str | None
    contact: str | None
    account: str | None
    tags: frozenset[str]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    next_due_at: datetime | None
    breached: bool
    version: int

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        """The summary of a loaded case."""
        return cls(
            case.id, case.number, case.subject, case.status, case.status_category,
            case.priority, case.assignee, case.team, case.links.contact, case.links.account,
            case.tags, case.created_at,
            case.updated_at, case.resolved_at, case.next_due_at, case.breached, case.version,
        )


def _opt_dt(value: object, field: str) -> datetime | None:
    return None if value is None else aware_utc(value, field)


def _frozen_strs(value: object) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset({value})
    return frozenset(str(v) for v in value)  # type: ignore[attr-defined]


def _categories(value: object) -> frozenset[StatusCategory] | None:
    if value is None:
        return None
    if isinstance(value, (str, StatusCategory)):
        return frozenset({StatusCategory.parse(value)})
    return frozenset(StatusCategory.parse(v) for v in value)  # type: ignore[attr-defined]


def _priorities(value: object) -> frozenset[Priority] | None:
    if value is None:
        return None
    if isinstance(value, (str, Priority)):
        return frozenset({Priority.parse(value)})
    return frozenset(Priority.parse(v) for v in value)  # type: ignore[attr-defined]


def _due_before(value: object) -> datetime | None:
    return _opt_dt(value, "due_before")


def _created_from(value: object) -> datetime | None:
    return _opt_dt(value, "created_from")


def _created_before(value: object) -> datetime | None:
    return _opt_dt(value, "created_before")


MAX_QUERY_LIMIT: Final = 1000
"""The largest page a :class:`CaseQuery` asks for (``limit``): a bound on what one store call
reads and holds in memory."""


@attrs.frozen
class CaseQuery:
    """Filters and paging for :meth:`CaseRepository.query`. ``None`` means "any".

    Sets are OR-ed within a filter and filters AND-ed together; ``tags`` requires all the
    given tags. Paging is keyset: pass the page's ``next_cursor`` as ``after`` to continue;
    a cursor is only valid with the same filters and order.
    """

    statuses: frozenset[str] | None = attrs.field(default=None, converter=_frozen_strs)
    status_categories: frozenset[StatusCategory] | None = attrs.field(
        default=None, converter=_categories)
    priorities: frozenset[Priority] | None = attrs.field(
        default=None, converter=_priorities)
    assignees: frozenset[str] | None = attrs.field(default=None, converter=_frozen_strs)
    teams: frozenset[str] | None = attrs.field(default=None, converter=_frozen_strs)
    unassigned: bool | None = None
    """True: only cases with no assignee; False: only assigned ones."""
    tags: frozenset[str] | None = attrs.field(default=None, converter=_frozen_strs)
    breached: bool | None = None
    due_before: datetime | None = attrs.field(
        default=None, converter=_due_before)
    """Cases whose next SLA due time is at or before this instant."""
    created_from: datetime | None = attrs.field(
        default=None, converter=_created_from)
    created_before: datetime | None = attrs.field(
        default=None, converter=_created_before)
    visible: Visibility | None = None
    """The access scope the desk adds for the actor asking (``None``: every case); see
    :meth:`caselib.access.AccessPolicy.visible`."""
    order: QueryOrder = "created"
    limit: int = 50
    after: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.order not in ("created", "-created", "updated", "-updated", "due", "-priority"):
            raise InvalidInput(f"unknown order {self.order!r}", field="order")
        if isinstance(self.limit, bool) or not isinstance(self.limit, int) or not (
            1 <= self.limit <= MAX_QUERY_LIMIT
        ):
            raise InvalidInput(f"limit must be between 1 and {MAX_QUERY_LIMIT}", field="limit")

    def matches(self, s: CaseSummary) -> bool:
        """Reference semantics of the filters (the in-memory store uses it; SQL mirrors it)."""
        if self.statuses is not None and s.status not in self.statuses:
            return False
        if self.status_categories is not None and s.status_category not in self.status_categories:
            return False
        if self.priorities is not None and s.priority not in self.priorities:
            return False
        if self.assignees is not None and s.assignee not in self.assignees:
            return False
        if self.teams is not None and s.team not in self.teams:
            return False
        if self.unassigned is not None and (s.assignee is None) != self.unassigned:
            return False
        if self.tags is not None and not self.tags <= s.tags:
            return False
        if self.breached is not None and s.breached != self.breached:
            return False
        if self.due_before is not None and (
            s.next_due_at is None or s.next_due_at > self.due_before
        ):
            return False
        if self.created_from is not None and s.created_at < self.created_from:
            return False
        if self.visible is not None and not self.visible.admits(
                team=s.team, assignee=s.assignee, contact=s.contact, account=s.account):
            return False
        return not (self.created_before is not None and s.created_at >= self.created_before)

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


@attrs.frozen(order=False)
class _Desc:
    value: Any

    def __lt__(self, other: _Desc) -> bool:
        return bool(self.value > other.value)

    def __gt__(self, other: _Desc) -> bool:
        return bool(self.value < other.value)


def encode_cursor(query: CaseQuery, values: Sequence[Any]) -> str:
    """An opaque cursor string for keyset paging."""
    raw = json.dumps([query.order, *values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(query: CaseQuery) -> list[Any] | None:
    """The values in ``query.after`` (``None`` for the first page)."""
    if query.after is None:
        return None
    try:
        pad = "=" * (-len(query.after) % 4)
        data = json.loads(base64.urlsafe_b64decode(query.after + pad))
    except (ValueError, TypeError) as err:
        raise InvalidInput("malformed paging cursor", field="after") from err
    if not isinstance(data, list) or not data or data[0] != query.order:
        raise InvalidInput("this cursor belongs to a different order", field="after")
    return data[1:]


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
