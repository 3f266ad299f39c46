"""The case ports: :class:`CaseRepository`, its optional :class:`LockingCaseRepository` and
:class:`SlaSweepRepository` capabilities and :class:`CaseNumberAllocator`, with the helpers
that build one capability out of another (:func:`get_each`, :func:`query_each`,
:func:`sla_parts`, :func:`get_for_update`).

The helpers live beside the protocols they compose so an adapter (and the desk) finds the
fallback where it finds the contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from caselib.cases import Case
from caselib.errors import CaseNotFound
from caselib.ports.queries import CasePage, CaseQuery, Page, SlaCasePage
from caselib.reports import GroupBy, Period, Scorecard, SummaryCards
from caselib.sla import SlaCase

__all__ = [
    "CaseNumberAllocator",
    "CaseRepository",
    "LockingCaseRepository",
    "SlaSweepRepository",
    "get_each",
    "get_for_update",
    "get_many_for_update",
    "query_each",
    "sla_parts",
]


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

    def count(self, query: CaseQuery | None = None) -> int:
        """How many cases match the query's filters (a list's total), ``count_by_status``
        summed, without reading the rows: a SQL store runs ``COUNT(*)`` over the same
        condition its page reads. Paging fields (order, limit, after) are ignored.

        .. versionadded:: 0.2
        """
        ...

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        """How many active (new/open/waiting) cases each of ``assignees`` owns.

        Every requested agent is in the result, with 0 when they own none (least-loaded and
        capacity assignment read this).
        """
        ...

    def cards(self, query: CaseQuery, now: datetime, zone: str) -> SummaryCards:
        """The summary cards of the cases matching the query's filters (paging ignored):
        what :func:`caselib.reports.compute_cards` computes over their summaries, with
        "today" the day of ``now`` in IANA ``zone``. SQL stores aggregate in SQL.

        .. versionadded:: 0.2
        """
        ...

    def scorecard(self, query: CaseQuery, period: Period, group_by: GroupBy,
                  now: datetime) -> Scorecard:
        """The scorecard of ``period`` over the cases matching the query's filters (its
        access scope; paging ignored): exactly what :func:`caselib.reports.compute_scorecard`
        computes from their :class:`~caselib.reports.CaseFacts`, the deflection funnel
        counted from the KB log for those cases. ``now`` is the reader's clock (targets past
        due read breached; ``generated_at``).

        .. versionadded:: 0.2
        """
        ...


@runtime_checkable
class LockingCaseRepository(Protocol):
    """An optional capability of a :class:`CaseRepository`: load a case *for writing*, so
    that writers of one case take turns instead of racing.

    Why: a command without ``expected_version`` means "apply to the latest state". With
    optimistic concurrency alone, two such commands on one case both load version *n*, one
    saves *n + 1* and the other gets :class:`~caselib.errors.ConcurrencyConflict` for a race
    its caller never asked about (16 threads commenting on one SQLite case saw 255 of 400
    calls fail). Taking the write lock *before* the read makes the second writer wait for the
    first to finish and then read *n + 1*, so its save cannot conflict. The desk's commands
    load through :func:`get_for_update`; the bundled stores all offer it, and an adapter
    without it still works (the desk then retries a lost race with jittered backoff).
    """

    def get_for_update(self, case_id: str) -> Case:
        """Lock the case for this unit of work, then load it as :meth:`CaseRepository.get`.

        The contract:

        - the lock is held until the unit of work commits or rolls back; another unit of
          work's ``get_for_update`` of the same case waits until then, and then reads what
          was committed (never the state from before it waited);
        - so a unit of work that loads with ``get_for_update`` and saves at the loaded
          version does not meet :class:`~caselib.errors.ConcurrencyConflict` from another
          unit of work that loaded the case the same way;
        - a store may lock more than the one case (SQLite's ``BEGIN IMMEDIATE`` takes the
          database's single write lock), but not less;
        - a lock that is not granted within the store's timeout raises
          :class:`~caselib.errors.StorageError` (nothing is written); a deadlock between two
          units of work that lock cases in opposite orders may end the same way.

        Raises:
            CaseNotFound: no such case in this tenant (also when it exists in another).
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
        ``next_cursor``, read in one consistent snapshot.

        Stores shared by several processes may *claim* the page instead, as
        :meth:`~caselib.ports.Outbox.pending` does: lock the cases they return until the unit
        of work ends and leave out cases another unit of work has locked, so sweepers on
        several hosts split the due cases instead of examining the same ones. A case left
        out is one somebody else is writing; the sweep's next pass (or next run) looks again.
        A claiming store reads exactly ``limit`` rows, so after a full page it may give a
        ``next_cursor`` where :meth:`~CaseRepository.query_cases` gives none (the next page
        is then empty): a row locked only to learn that more follow would keep the other
        sweepers off a case nobody examines.
        """
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


def get_many_for_update(cases: CaseRepository, case_ids: Sequence[str]
                        ) -> tuple[list[Case], bool]:
    """:func:`get_for_update` of each of ``case_ids`` that exists (absent ones are left
    out), in one read when the repository offers ``get_many_for_update`` (the bundled SQL
    stores: a sweep's page of due cases costs one query, not one per case)."""
    lock_many = getattr(cases, "get_many_for_update", None)
    if lock_many is not None:
        return list(lock_many(case_ids)), True
    out: list[Case] = []
    locked = True
    for case_id in dict.fromkeys(case_ids):
        try:
            case, locked = get_for_update(cases, case_id)
        except CaseNotFound:
            continue
        out.append(case)
    return out, locked


def get_for_update(cases: CaseRepository, case_id: str) -> tuple[Case, bool]:
    """Load ``case_id`` for writing: through :meth:`LockingCaseRepository.get_for_update`
    when the repository offers it, else with a plain ``get``.

    Returns the case and whether it is locked, i.e. whether a save at its version is safe
    from other lockers (``False``: the caller should expect, and may retry, a lost race).
    """
    lock = getattr(cases, "get_for_update", None)
    if lock is None:
        return cases.get(case_id), False
    return lock(case_id), True
