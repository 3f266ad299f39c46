"""The in-memory reference store: thread-safe, transactional, and the model the other adapters
are tested against.

Writes are staged in the unit of work and applied under one lock at :meth:`commit`, after the
versions of every staged case are checked again, so a commit is all-or-nothing and two threads
can never both save the same version. Cases are cloned on the way in and out: a caller mutating
a loaded case (or a command that raises half-way) never touches what the store holds.

Case numbers are allocated outside the transaction, so a rolled-back create leaves a gap (the
SQL stores allocate inside it and do not).

:meth:`get_for_update` locks one case for the unit of work (a per-case owner, released when the
unit of work ends): a second locker waits, and so does the commit of a unit of work that saved
a case someone else has locked, as a row lock makes a PostgreSQL ``UPDATE`` wait. Writers of
one case then take turns, like the SQL stores' writers.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from types import TracebackType
from typing import Final, Self, TypeVar

import attrs

from caselib.cases import Case
from caselib.errors import (
    ArticleNotFound,
    CaseNotFound,
    ConcurrencyConflict,
    DuplicateKey,
    InvalidInput,
    StorageError,
)
from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.ports import (
    ArticleRepository,
    AssignmentLedger,
    CaseNumberAllocator,
    CasePage,
    CaseQuery,
    CaseRepository,
    CaseSummary,
    KbLog,
    Outbox,
    OutboxMessage,
    Page,
    cursor_sort_key,
    decode_cursor,
    encode_cursor,
    query_each,
    require_tenant,
)
from caselib.reports import (
    CaseFacts,
    DeflectionFunnel,
    GroupBy,
    Period,
    Scorecard,
    SummaryCards,
    compute_cards,
    compute_scorecard,
    search_terms,
)
from caselib.storage._memory_automation import AutomationData, MemoryAutomations
from caselib.storage._memory_links import LinkData, MemoryLinks
from caselib.storage._memory_mail import MailData, MemoryMail
from caselib.storage.codec import outbox_messages

_Logged = TypeVar("_Logged", SuggestionShown, Deflection, ResolvedByArticle)

__all__ = ["MemoryStore"]

_LOCK_TIMEOUT: Final = 30.0
"""Seconds a unit of work waits for another one's case lock before StorageError (the SQL
stores' busy and lock timeouts play this part there)."""


@attrs.define
class _Tenant:
    cases: dict[str, Case] = attrs.Factory(dict)
    numbers: dict[str, str] = attrs.Factory(dict)
    counter: int = 0
    outbox: dict[str, OutboxMessage] = attrs.Factory(dict)
    delivered: set[str] = attrs.Factory(set)
    claimed: dict[str, int] = attrs.Factory(dict)
    articles: dict[str, Article] = attrs.Factory(dict)
    article_version: int = 0
    shown: list[SuggestionShown] = attrs.Factory(list)
    opened: list[Deflection] = attrs.Factory(list)
    resolved: list[ResolvedByArticle] = attrs.Factory(list)
    cursors: dict[str, str] = attrs.Factory(dict)
    last_assigned: dict[str, datetime] = attrs.Factory(dict)
    locked: dict[str, int] = attrs.Factory(dict)  # case id -> id of the unit holding it
    automation: AutomationData = attrs.Factory(AutomationData)
    links: LinkData = attrs.Factory(dict)
    mail: MailData = attrs.Factory(MailData)


class MemoryStore:
    """A process-local store. ``MemoryStore()`` is all the setup there is."""

    units_cross_threads: Final = True
    """A unit of work may be finished on another thread (see :class:`~caselib.ports.Store`):
    every access takes the store's lock for its own duration, never across calls."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._unlocked = threading.Condition(self._lock)  # a case lock was released
        self._tenants: dict[str, _Tenant] = {}
        self._closed = False
        self._uow_ids = 0

    def __repr__(self) -> str:
        return f"<MemoryStore tenants={len(self._tenants)}>"

    def unit_of_work(self, tenant: str) -> MemoryUnitOfWork:
        """A new unit of work over ``tenant``."""
        require_tenant(tenant)
        if self._closed:
            raise StorageError("the store is closed")
        with self._lock:
            data = self._tenants.setdefault(tenant, _Tenant())
            self._uow_ids += 1
            return MemoryUnitOfWork(self, tenant, data, self._uow_ids)

    def close(self) -> None:
        """Mark the store closed; later units of work are refused."""
        self._closed = True


class MemoryUnitOfWork:
    """Staged writes over one tenant, applied atomically on commit."""

    def __init__(self, store: MemoryStore, tenant: str, data: _Tenant, uow_id: int) -> None:
        self.tenant = tenant
        self._store = store
        self._data = data
        self._id = uow_id
        self._staged: dict[str, tuple[Case, int | None]] = {}
        self._staged_outbox: list[OutboxMessage] = []
        self._staged_delivered: set[str] = set()
        self._staged_ops: list[Callable[[_Tenant], None]] = []
        self._cas: dict[str, str | None] = {}
        self._staged_articles: dict[str, Article | None] = {}
        self._staged_cursors: dict[str, str] = {}
        self._staged_last: dict[str, datetime] = {}
        self._locks: set[str] = set()  # cases this unit of work holds the lock of
        self._done = False
        # Annotated with the port types: protocol attributes are invariant, so without
        # them mypy refuses ``store: Store = MemoryStore()`` in a host's strict code.
        self.cases: CaseRepository = _Cases(self)
        self.numbers: CaseNumberAllocator = _Numbers(self)
        self.outbox: Outbox = _Outbox(self)
        self.articles: ArticleRepository = _Articles(self)
        self.kb_log: KbLog = _KbLog(self)
        self.assignments: AssignmentLedger = _Assignments(self)
        self.automations = MemoryAutomations(self)
        self.links = MemoryLinks(self)
        self.mail = MemoryMail(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if not self._done:
            self.rollback()

    def _check_open(self) -> None:
        if self._done:
            raise StorageError("this unit of work has already been committed or rolled back")

    def wait_for(self, case_ids: Iterable[str]) -> None:
        """Wait (holding the store's lock on return) until none of ``case_ids`` is locked by
        another unit of work; StorageError after the lock timeout."""
        locked, me = self._data.locked, self._id
        ids = list(case_ids)
        deadline = None
        while any(locked.get(i, me) != me for i in ids):
            deadline = deadline or time.monotonic() + _LOCK_TIMEOUT
            left = deadline - time.monotonic()
            if left <= 0:
                raise StorageError(
                    f"a case stayed locked by another unit of work for {_LOCK_TIMEOUT:.0f} s; "
                    "finish (commit or roll back) the unit of work holding it, then retry")
            self._store._unlocked.wait(left)

    def commit(self) -> None:
        """Apply every staged write at once, or raise and apply none."""
        self._check_open()
        data = self._data
        with self._store._lock:
            # a save of a case another unit of work has locked waits for it, as an UPDATE
            # waits for a row lock (and then usually conflicts with what it committed)
            try:
                self.wait_for(self._staged)
            except StorageError:
                self._release()
                raise
            for case_id, (case, expected) in self._staged.items():
                stored = data.cases.get(case_id)
                if expected is None:
                    if stored is not None or case.number in data.numbers:
                        self._release()
                        raise DuplicateKey(f"case {case_id!r} / {case.number!r} already exists")
                elif stored is None:
                    self._release()
                    raise CaseNotFound(case_id, self.tenant)
                elif stored.version != expected:
                    self._release()
                    raise ConcurrencyConflict(case_id, expected, stored.version)
            for team, expected_cursor in self._cas.items():
                if data.cursors.get(team) != expected_cursor:
                    self._release()
                    raise ConcurrencyConflict(f"round-robin cursor of team {team!r}", 0, None)
            for case_id, (case, _) in self._staged.items():
                data.cases[case_id] = case
                data.numbers[case.number] = case_id
            for message in self._staged_outbox:
                data.outbox[message.key] = message
            data.delivered |= self._staged_delivered
            for op in self._staged_ops:
                op(data)
            self._release()

    def rollback(self) -> None:
        """Forget every staged write."""
        with self._store._lock:
            self._release()

    def _release(self) -> None:
        self._done = True
        self._staged.clear()
        self._staged_outbox.clear()
        self._staged_delivered.clear()
        self._staged_ops.clear()
        self._cas.clear()
        self._staged_articles.clear()
        self._staged_cursors.clear()
        self._staged_last.clear()
        claimed = self._data.claimed
        for key in [k for k, owner in claimed.items() if owner == self._id]:
            del claimed[key]
        if self._locks:
            locked = self._data.locked
            for case_id in self._locks:
                if locked.get(case_id) == self._id:
                    del locked[case_id]
            self._locks.clear()
            self._store._unlocked.notify_all()


class _Cases:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _current(self, case_id: str) -> Case | None:
        staged = self._uow._staged.get(case_id)
        if staged is not None:
            return staged[0]
        return self._uow._data.cases.get(case_id)

    def get(self, case_id: str) -> Case:
        self._uow._check_open()
        with self._uow._store._lock:
            case = self._current(case_id)
            if case is None:
                raise CaseNotFound(case_id, self._uow.tenant)
            return case.clone()

    def get_for_update(self, case_id: str) -> Case:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            uow.wait_for((case_id,))
            case = self._current(case_id)
            if case is None:
                raise CaseNotFound(case_id, uow.tenant)
            uow._data.locked[case_id] = uow._id
            uow._locks.add(case_id)
            return case.clone()

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        self._uow._check_open()
        with self._uow._store._lock:
            found = (self._current(i) for i in dict.fromkeys(case_ids))
            return [case.clone() for case in found if case is not None]

    def get_by_number(self, number: str) -> Case:
        self._uow._check_open()
        with self._uow._store._lock:
            for case, _ in self._uow._staged.values():
                if case.number == number:
                    return case.clone()
            case_id = self._uow._data.numbers.get(number)
            if case_id is None:
                raise CaseNotFound(number, self._uow.tenant)
            return self._uow._data.cases[case_id].clone()

    def add(self, case: Case) -> None:
        uow = self._uow
        uow._check_open()
        if case.tenant != uow.tenant:
            raise InvalidInput(f"case belongs to tenant {case.tenant!r}, not {uow.tenant!r}")
        with uow._store._lock:
            staged_numbers = {c.number for c, _ in uow._staged.values()}
            if (self._current(case.id) is not None or case.number in uow._data.numbers
                    or case.number in staged_numbers):
                raise DuplicateKey(f"case {case.id!r} / {case.number!r} already exists")
            uow._staged_outbox.extend(outbox_messages(case, 1))
            case.mark_saved(1)
            uow._staged[case.id] = (case.clone(), None)

    def save(self, case: Case, expected_version: int) -> None:
        uow = self._uow
        uow._check_open()
        if case.tenant != uow.tenant:
            raise CaseNotFound(case.id, uow.tenant)
        with uow._store._lock:
            current = self._current(case.id)
            if current is None:
                raise CaseNotFound(case.id, uow.tenant)
            if current.version != expected_version:
                raise ConcurrencyConflict(case.id, expected_version, current.version)
            staged = uow._staged.get(case.id)
            # what the committed store must still hold at commit time
            base = staged[1] if staged is not None else expected_version
            uow._staged_outbox.extend(outbox_messages(case, expected_version + 1))
            case.mark_saved(expected_version + 1)
            uow._staged[case.id] = (case.clone(), base)

    def _cases(self) -> list[Case]:
        uow = self._uow
        merged = dict(uow._data.cases)
        merged.update({k: v[0] for k, v in uow._staged.items()})
        return list(merged.values())

    def _summaries(self, query: CaseQuery | None = None) -> list[CaseSummary]:
        """Every case's summary; with ``query``, those it matches (its text search too: a
        scan over the terms :func:`~caselib.reports.search_terms` makes, as the SQL stores'
        indexes hold them)."""
        cases = self._cases()
        if query is None:
            return [CaseSummary.of(c) for c in cases]
        search = query.search
        kids = None if query.child_of is None else self._uow.links.children(query.child_of)
        return [s for c in cases if query.matches(s := CaseSummary.of(c))
                and (kids is None or c.id in kids) and (search is None
                     or search.matches(search_terms(c.number, c.subject, c.description)))]

    def query(self, query: CaseQuery) -> Page:
        self._uow._check_open()
        cursor = decode_cursor(query)
        with self._uow._store._lock:
            rows = self._summaries(query)
        rows.sort(key=query.sort_key)
        if cursor is not None:
            after = cursor_sort_key(query, cursor)
            rows = [s for s in rows if query.sort_key(s) > after]
        page = rows[: query.limit]
        more = len(rows) > query.limit
        next_cursor = encode_cursor(query, query.cursor_values(page[-1])) if more else None
        return Page(tuple(page), next_cursor)

    def query_cases(self, query: CaseQuery) -> CasePage:
        self._uow._check_open()
        with self._uow._store._lock:  # re-entrant: the page and its cases in one snapshot
            return query_each(self, query)

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        self._uow._check_open()
        q = query or CaseQuery()
        counts: dict[str, int] = {}
        with self._uow._store._lock:
            for s in self._summaries(q):
                counts[s.status] = counts.get(s.status, 0) + 1
        return counts

    def count(self, query: CaseQuery | None = None) -> int:
        self._uow._check_open()
        q = query or CaseQuery()
        with self._uow._store._lock:
            return len(self._summaries(q))

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        self._uow._check_open()
        counts = dict.fromkeys(assignees, 0)
        with self._uow._store._lock:
            for s in self._summaries():
                if s.assignee in counts and s.status_category.is_active:
                    counts[s.assignee] += 1
        return counts


    def cards(self, query: CaseQuery, now: datetime, zone: str) -> SummaryCards:
        self._uow._check_open()
        with self._uow._store._lock:
            rows = [s for s in self._summaries() if query.matches(s)]
        return compute_cards(rows, now, zone)

    def scorecard(self, query: CaseQuery, period: Period, group_by: GroupBy,
                  now: datetime) -> Scorecard:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            cases = [c for c in self._cases() if query.matches(CaseSummary.of(c))]
            data = uow._data
            ids = {c.id for c in cases}

            def seen(items: Sequence[SuggestionShown | Deflection | ResolvedByArticle]) -> int:
                return len({x.case_id for x in items if x.case_id in ids
                            and _between(x.at, period.start, period.end)})

            funnel = DeflectionFunnel(seen(data.shown), seen(data.opened), seen(data.resolved))
        return compute_scorecard((CaseFacts.of(c) for c in cases), period, group_by, funnel,
                                 now)


class _Numbers:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def next_number(self) -> int:
        self._uow._check_open()
        with self._uow._store._lock:
            self._uow._data.counter += 1
            return self._uow._data.counter


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        uow = self._uow
        uow._check_open()
        out: list[OutboxMessage] = []
        with uow._store._lock:
            data = uow._data
            for key, message in data.outbox.items():
                if len(out) >= limit:
                    break
                if key in data.delivered or key in uow._staged_delivered:
                    continue
                owner = data.claimed.get(key)
                if owner is not None and owner != uow._id:
                    continue
                data.claimed[key] = uow._id
                out.append(message)
        return out

    def mark_delivered(self, keys: Sequence[str]) -> None:
        self._uow._check_open()
        self._uow._staged_delivered.update(keys)


class _Articles:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def _view(self) -> dict[str, Article | None]:
        view: dict[str, Article | None] = dict(self._uow._data.articles)
        view.update(self._uow._staged_articles)
        return view

    def get(self, article_id: str) -> Article:
        self._uow._check_open()
        with self._uow._store._lock:
            found = self._view().get(article_id)
        if found is None:
            raise ArticleNotFound(article_id, self._uow.tenant)
        return found

    def put(self, article: Article) -> None:
        self._uow._check_open()
        self._uow._staged_articles[article.id] = article

        def apply(data: _Tenant) -> None:
            data.articles[article.id] = article
            data.article_version += 1

        self._uow._staged_ops.append(apply)

    def remove(self, article_id: str) -> None:
        self.get(article_id)
        self._uow._staged_articles[article_id] = None

        def apply(data: _Tenant) -> None:
            data.articles.pop(article_id, None)
            data.article_version += 1

        self._uow._staged_ops.append(apply)

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        self._uow._check_open()
        with self._uow._store._lock:
            view = self._view()
        return [a for _, a in sorted(view.items())
                if a is not None and (status is None or a.status == status)]

    def version(self) -> int:
        self._uow._check_open()
        with self._uow._store._lock:
            return self._uow._data.article_version


def _between(at: datetime, since: datetime | None, until: datetime | None) -> bool:
    return (since is None or at >= since) and (until is None or at < until)


def _select(items: list[_Logged], since: datetime | None, until: datetime | None,
            case_id: str | None) -> list[_Logged]:
    return sorted((x for x in items if _between(x.at, since, until)
                   and (case_id is None or x.case_id == case_id)), key=lambda x: x.at)


class _KbLog:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        self._uow._check_open()
        items = list(shown)
        self._uow._staged_ops.append(lambda data: data.shown.extend(items))

    def record_opened(self, deflection: Deflection) -> None:
        self._uow._check_open()
        self._uow._staged_ops.append(lambda data: data.opened.append(deflection))

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        self._uow._check_open()
        self._uow._staged_ops.append(lambda data: data.resolved.append(resolved))

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        self._uow._check_open()
        with self._uow._store._lock:
            return _select(self._uow._data.shown, since, until, case_id)

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        self._uow._check_open()
        with self._uow._store._lock:
            return _select(self._uow._data.opened, since, until, case_id)

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        self._uow._check_open()
        with self._uow._store._lock:
            return _select(self._uow._data.resolved, since, until, case_id)


class _Assignments:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow

    def cursor(self, team: str) -> str | None:
        self._uow._check_open()
        if team in self._uow._staged_cursors:
            return self._uow._staged_cursors[team]
        with self._uow._store._lock:
            return self._uow._data.cursors.get(team)

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        uow = self._uow
        if self.cursor(team) != expected:
            return False
        if team not in uow._cas:
            uow._cas[team] = expected
        uow._staged_cursors[team] = new

        def apply(data: _Tenant) -> None:
            data.cursors[team] = new

        uow._staged_ops.append(apply)
        return True

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        self._uow._check_open()
        with self._uow._store._lock:
            known = dict(self._uow._data.last_assigned)
        known.update(self._uow._staged_last)
        return {a: known[a] for a in agents if a in known}

    def record_assigned(self, agent: str, at: datetime) -> None:
        self._uow._check_open()
        self._uow._staged_last[agent] = at

        def apply(data: _Tenant) -> None:
            data.last_assigned[agent] = at

        self._uow._staged_ops.append(apply)
