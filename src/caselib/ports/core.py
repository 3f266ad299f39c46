"""Ports: the protocols a host (or a caselib storage adapter) implements.

Each method's docstring is its contract; ``caselib.testing.conformance`` checks the storage
ones. The shape:

- a :class:`Store` hands out a :class:`UnitOfWork` scoped to **one tenant**; nothing read or
  written through it can cross into another tenant;
- the unit of work groups repositories (:class:`CaseRepository`, :class:`CaseNumberAllocator`,
  :class:`Outbox`) whose writes become visible together on :meth:`UnitOfWork.commit`, or not at
  all;
- :class:`Clock`, :class:`EventSink`, :class:`Notifier` and :class:`Directory` connect caselib
  to the host's time, message bus, notification channel and people directory.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, Literal, Protocol, Self, runtime_checkable

import attrs

from caselib.cases import Case
from caselib.errors import CaseNotFound, InvalidInput
from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.sla import SlaCase
from caselib.timeutil import aware_utc, from_iso, to_iso
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "cursor_sort_key",
    "decode_cursor",
    "encode_cursor",
    "ArticleRepository",
    "AssignmentLedger",
    "KbLog",
    "CaseNumberAllocator",
    "CasePage",
    "CaseQuery",
    "CaseRepository",
    "CaseSummary",
    "Clock",
    "EventSink",
    "MAX_QUERY_LIMIT",
    "Notification",
    "Notifier",
    "Outbox",
    "OutboxMessage",
    "Page",
    "QueryOrder",
    "SlaCasePage",
    "SlaSweepRepository",
    "Store",
    "SystemClock",
    "UnitOfWork",
    "get_each",
    "query_each",
    "require_tenant",
    "sla_parts",
    "units_cross_threads",
]


@runtime_checkable
class Clock(Protocol):
    """Where caselib gets "now". Inject ``caselib.testing.FrozenClock`` in tests."""

    def now(self) -> datetime:
        """The current time as an aware datetime."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"


# --- queries --------------------------------------------------------------------------------

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
            case.priority, case.assignee, case.team, case.tags, case.created_at,
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


# --- outbox ---------------------------------------------------------------------------------


@attrs.frozen
class OutboxMessage:
    """A domain event waiting in (or relayed from) the outbox.

    ``key`` (``"{case_id}:{version}:{n}"``) is the idempotency key: the same on every
    delivery attempt, so a host drops duplicates with a unique index.
    """

    key: str
    tenant: str
    case_id: str
    type: str
    payload: Mapping[str, Any] = attrs.field(hash=False)
    created_at: datetime

    def to_json(self) -> str:
        """The message as JSON text (what a webhook would carry)."""
        return json.dumps({"key": self.key, "tenant": self.tenant, "case_id": self.case_id,
                           "type": self.type, "created_at": to_iso(self.created_at),
                           "payload": dict(self.payload)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> OutboxMessage:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        return cls(d["key"], d["tenant"], d["case_id"], d["type"], d["payload"],
                   from_iso(d["created_at"]))


# --- storage ports ------------------------------------------------------------------------


class CaseRepository(Protocol):
    """Cases of one tenant. Reads see the unit of work's own uncommitted writes."""

    def get(self, case_id: str) -> Case:
        """Load a case with its whole timeline.

        Raises:
            CaseNotFound: no such case in this tenant (also when it exists in another).
        """
        ...

    def get_by_number(self, number: str) -> Case:
        """Load a case by its human number (``CASE-0042``); :class:`CaseNotFound` if none."""
        ...

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        """Load several whole cases at once: those of ``case_ids`` that exist, in that order.

        Ids that are not found (or belong to another tenant) are left out and a repeated id
        is returned once, so a batch job can read what a query just listed without one round
        trip per case. The cases are read in one consistent snapshot.
        """
        ...

    def add(self, case: Case) -> None:
        """Insert a new case (``case.version`` is 0) with its timeline and pending events.

        Sets ``case.version`` to 1 and marks it saved. Raises :class:`DuplicateKey` if the id
        or number exists in this tenant.
        """
        ...

    def save(self, case: Case, expected_version: int) -> None:
        """Write a changed case if the stored version is still ``expected_version``.

        Writes the case's columns, appends its unsaved timeline entries, applies redactions
        and queues its pending events in the outbox, all in this unit of work. On success
        ``case.version`` becomes ``expected_version + 1`` and the case is marked saved.

        Raises:
            ConcurrencyConflict: the stored version is not ``expected_version``.
            CaseNotFound: the case does not exist in this tenant.
        """
        ...

    def query(self, query: CaseQuery) -> Page:
        """Summaries matching ``query`` in its total order, one page at a time.

        Must not load every case: filters and ordering are pushed down to the store.
        """
        ...

    def query_cases(self, query: CaseQuery) -> CasePage:
        """The page :meth:`query` lists, each case loaded whole (as :meth:`get` would), with
        the same ``next_cursor``, read in one consistent snapshot.

        For batch jobs that act on every case a query finds (the breach sweep): the store
        reads each case once, where ``query`` followed by :meth:`get_many` finds every row
        twice. An adapter without this method still works — the desk falls back to
        :func:`query_each` — and :func:`query_each` is a correct implementation when called
        inside the store's snapshot.
        """
        ...

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        """``{status: count}`` of cases matching the query's filters (board columns).

        Statuses with no cases are absent. Paging fields of the query are ignored.
        """
        ...

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        """How many active (new/open/waiting) cases each of ``assignees`` owns.

        Every requested agent is in the result, with 0 when they own none (least-loaded and
        capacity assignment read this).
        """
        ...


@runtime_checkable
class SlaSweepRepository(Protocol):
    """An optional capability of a :class:`CaseRepository`: the breach sweep's reads and
    writes, done on the SLA part of each case (:class:`~caselib.sla.SlaCase`) instead of the
    whole case.

    Why: the sweep changes a few fields of each due case and appends one timeline line, so a
    store that can read just those fields and patch them in place saves decoding and
    re-encoding every due case whole. The bundled SQL stores offer it; a store without it
    (``MemoryStore``, most host adapters) gets the same sweep through ``query_cases`` and
    ``save``. Both paths must leave the store in the same state: the conformance suite's
    stateful test checks it for every adapter that offers this.
    """

    def query_sla_cases(self, query: CaseQuery) -> SlaCasePage:
        """The page :meth:`CaseRepository.query_cases` would give, as the SLA part of each
        case (:meth:`SlaCase.of(case) <caselib.sla.SlaCase.of>` of it), with the same
        ``next_cursor``, read in one consistent snapshot."""
        ...

    def save_sla_cases(self, cases: Sequence[tuple[SlaCase, int]]) -> list[str]:
        """Write what the sweep changed on each ``(case, expected_version)`` whose stored
        version is ``expected_version``, and return the ids of the others (someone else
        saved them first; nothing of theirs is written).

        After it, loading a written case gives what ``case.apply_to(loaded)`` then
        :meth:`CaseRepository.save` would have stored: priority, SLA targets, pauses,
        ``updated_at``, ``case.new_entries`` on the timeline, the events in the outbox and the
        version one higher. Each written case gets ``case.mark_saved(new_version)``. A batch
        rather than one case per call, so a store can write the new rows of all of them in a
        few statements.

        Raises:
            CaseNotFound: one of the cases is not in this tenant (the unit of work is then
                only fit for a rollback).
        """
        ...


class CaseNumberAllocator(Protocol):
    """Hands out human case numbers, unique per tenant."""

    def next_number(self) -> int:
        """The next counter value for this tenant (1, 2, 3 …).

        Stores that allocate inside the transaction roll the number back with it; others
        may leave gaps. Never returns the same number twice in a tenant.
        """
        ...


class Outbox(Protocol):
    """Events saved with their case, waiting to be relayed to the host."""

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Undelivered messages in the order they were written, oldest first.

        Stores shared by several processes lock what they return for this unit of work and
        skip rows another worker has locked, so two relays do not hand out the same message
        at the same time.
        """
        ...

    def mark_delivered(self, keys: Sequence[str]) -> None:
        """Record that these messages reached the sink; they are never returned again."""
        ...


class ArticleRepository(Protocol):
    """Knowledge-base articles of one tenant (the KB index is rebuilt from here)."""

    def get(self, article_id: str) -> Article:
        """One article; :class:`~caselib.errors.ArticleNotFound` if absent."""
        ...

    def put(self, article: Article) -> None:
        """Insert or replace the article with this id."""
        ...

    def remove(self, article_id: str) -> None:
        """Delete the article; :class:`~caselib.errors.ArticleNotFound` if absent."""
        ...

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        """All articles (optionally of one status), ordered by id."""
        ...


class KbLog(Protocol):
    """What was suggested, opened and credited: the raw data of deflection analytics."""

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        """Append suggestions that were shown."""
        ...

    def record_opened(self, deflection: Deflection) -> None:
        """Append an opened suggestion (a deflection)."""
        ...

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        """Append an explicit "this article resolved the case"."""
        ...

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        """Shown suggestions with ``since <= at < until`` (and of ``case_id``, when given), oldest
        first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        """Opened suggestions with ``since <= at < until`` (and of ``case_id``, when given), oldest
        first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        """Resolved-by-article records with ``since <= at < until`` (and of ``case_id``, when
        given), oldest first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...


class AssignmentLedger(Protocol):
    """Round-robin cursors and last-assignment times per team/agent."""

    def cursor(self, team: str) -> str | None:
        """The agent id that received the team's last round-robin case, if any."""
        ...

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        """Set the cursor to ``new`` only if it is still ``expected``; False if it moved.

        Two processes assigning at once: one wins, the other re-reads and picks again.
        """
        ...

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        """When each agent last received a case (agents never assigned are absent)."""
        ...

    def record_assigned(self, agent: str, at: datetime) -> None:
        """Remember that ``agent`` received a case at ``at``."""
        ...


class UnitOfWork(Protocol):
    """One transaction over one tenant's data.

    Use as a context manager: leaving the block without :meth:`commit` rolls back, and an
    exception always rolls back.
    """

    # Read-only properties (not plain attributes) so adapters may expose their own subtypes.
    @property
    def tenant(self) -> str:
        """The tenant every repository of this unit of work is scoped to."""
        ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def numbers(self) -> CaseNumberAllocator: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def articles(self) -> ArticleRepository: ...

    @property
    def kb_log(self) -> KbLog: ...

    @property
    def assignments(self) -> AssignmentLedger: ...

    def commit(self) -> None:
        """Make every write of this unit of work visible at once, or raise and write nothing."""
        ...

    def rollback(self) -> None:
        """Discard every write of this unit of work."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def units_cross_threads(store: Store) -> bool:
    """Whether ``store`` declares ``units_cross_threads = True`` (see :class:`Store`).

    Only the literal ``True`` counts, so a mock or proxy object that answers every attribute
    does not switch on a threaded path by accident.
    """
    return getattr(store, "units_cross_threads", False) is True


def get_each(cases: CaseRepository, case_ids: Sequence[str]) -> list[Case]:
    """:meth:`CaseRepository.get_many` made of ``get`` calls: the existing cases among
    ``case_ids``, in that order, each once.

    A correct ``get_many`` for an adapter whose reads are cheap, when called inside whatever
    gives the store one snapshot (a lock, a read transaction).
    """
    found = []
    for case_id in dict.fromkeys(case_ids):
        try:
            found.append(cases.get(case_id))
        except CaseNotFound:
            continue
    return found


def query_each(cases: CaseRepository, query: CaseQuery) -> CasePage:
    """:meth:`CaseRepository.query_cases` made of :meth:`~CaseRepository.query` and
    :meth:`~CaseRepository.get_many` (or ``get`` calls, for an adapter without
    ``get_many``): a correct ``query_cases`` inside whatever gives the store one snapshot.

    A case listed by the query but gone before it is read is left out.
    """
    page = cases.query(query)
    ids = [s.id for s in page.items]
    get_many = getattr(cases, "get_many", None)
    found: list[Case] = get_each(cases, ids) if get_many is None else get_many(ids)
    return CasePage(tuple(found), page.next_cursor)


def sla_parts(cases: CaseRepository, query: CaseQuery
              ) -> tuple[list[tuple[SlaCase, Case | None]], str | None]:
    """The breach sweep's read of one page: each case's SLA part, with the whole case when it
    had to be loaded whole, and the next cursor.

    Through the store's :class:`SlaSweepRepository` when it offers one (no whole cases);
    else ``query_cases`` (or :func:`query_each` for an adapter without it) and
    :meth:`SlaCase.of <caselib.sla.SlaCase.of>` of each case, whose change is then applied to
    the whole case and saved with :meth:`CaseRepository.save`.
    """
    if isinstance(cases, SlaSweepRepository):
        lean = cases.query_sla_cases(query)
        return [(c, None) for c in lean.cases], lean.next_cursor
    query_cases = getattr(cases, "query_cases", None)
    page: CasePage = query_each(cases, query) if query_cases is None else query_cases(query)
    return [(SlaCase.of(c), c) for c in page.cases], page.next_cursor


def require_tenant(tenant: object) -> str:
    """The tenant check every store and desk applies: a non-empty string, or InvalidInput."""
    if not isinstance(tenant, str) or not tenant:
        raise InvalidInput("tenant must be a non-empty string", field="tenant")
    return tenant


class Store(Protocol):
    """A storage backend: memory, SQLite, PostgreSQL or the host's own.

    Optional capability: a store may set a class attribute ``units_cross_threads = True`` to
    promise that a unit of work opened on one thread may be finished (saved into, committed,
    rolled back) on another while other units of work of the same store run meanwhile. Long
    jobs such as :meth:`~caselib.ServiceDesk.sweep_breaches` then commit one batch on a
    background thread while they read and decide the next. Leave it unset when units of
    work are bound to their thread (a Django connection is per thread, for instance): those
    jobs then run every step on the calling thread. :func:`units_cross_threads` reads it.
    """

    def unit_of_work(self, tenant: str) -> UnitOfWork:
        """A new unit of work for ``tenant`` (a non-empty string)."""
        ...

    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...


# --- host-side ports ------------------------------------------------------------------------


class EventSink(Protocol):
    """Where relayed domain events go: a message bus, webhooks, a search indexer …"""

    def publish(self, message: OutboxMessage) -> None:
        """Deliver one message or raise. Delivery is at least once: dedupe on ``message.key``."""
        ...


@attrs.frozen
class Notification:
    """A message for a person (case owner, their manager, a queue contact)."""

    recipient: str
    subject: str
    body: str
    case_id: str
    kind: str
    key: str
    """Idempotency key: the same notification carries the same key on every attempt."""


class Notifier(Protocol):
    """Sends notifications to people (email, chat, in-app)."""

    def notify(self, notification: Notification) -> None:
        """Deliver one notification or raise."""
        ...
