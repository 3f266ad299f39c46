"""The breach sweep's runner: due cases walked in batches, each committed on a background
thread while the next is read and decided.

Separate from the SLA use cases (:mod:`caselib.desk.escalation`) because it is the one place
in the desk with threads: :class:`_Batch` (one unit of work), :class:`_Sweep` (the passes,
retries and notifications of one run) and the thread pool live here, and what a breach writes
is decided in :mod:`caselib.desk.breach`.
"""

from __future__ import annotations

import contextvars
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime
from typing import cast

import attrs

from caselib.cases import Actor, Case
from caselib.desk._context import DeskContext
from caselib.desk.breach import (
    BreachNotice,
    SweepReport,
    _breach_notifications,
    _Found,
    record_breaches,
)
from caselib.errors import ConcurrencyConflict, StorageError
from caselib.ports import (
    CaseQuery,
    Notifier,
    SlaSweepRepository,
    UnitOfWork,
    sla_parts,
    units_cross_threads,
)
from caselib.sla import SlaCase, SlaPolicies
from caselib.vocab import StatusCategory

__all__ = ["run_sweep"]

_ACTIVE = (StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING)
_SWEEP_ATTEMPTS = 5


def run_sweep(
    ctx: DeskContext,
    policies: SlaPolicies,
    now: datetime,
    actor: Actor,
    notifier: Notifier | None,
    batch: int,
) -> SweepReport:
    """Record the breaches due by ``now``, ``batch`` cases per unit of work (checked by the
    caller: see :meth:`ServiceDesk.sweep_breaches` for the guarantees)."""
    sweep = _Sweep(notifier)
    first = CaseQuery(due_before=now, status_categories=_ACTIVE, order="due", limit=batch)
    pool = (
        ThreadPoolExecutor(1, thread_name_prefix="caselib-sweep")
        if units_cross_threads(ctx.store)
        else None
    )
    writing: _Batch | None = None  # the batch whose commit may still be running
    try:
        after: str | None = None
        while True:
            uow = _enter(ctx.uow())
            work = _Batch(uow)
            try:
                query = first if after is None else attrs.evolve(first, after=after)
                parts, next_cursor = sla_parts(uow.cases, query)
                decided = []
                for case, whole in sweep.take(parts):
                    loaded = case.version
                    outcome = record_breaches(ctx, case, now, actor, policies)
                    if outcome is None:
                        sweep.done(case.id)  # nothing to record
                    else:
                        if whole is not None:
                            case.apply_to(whole)
                        decided.append((case if whole is None else whole, loaded, outcome))
                # one writer at a time: the previous batch's commit ends before this
                # batch writes (it ran while this batch was read and decided)
                if writing is not None:
                    sweep.settle(writing)
                    writing = None
                if work.save(decided):
                    writing = work  # from here the commit owns the unit of work
                    work.start(pool)
                else:
                    sweep.conflicts += work.conflicts
                    _leave(uow, None)
            except BaseException as err:
                if writing is not work:
                    _leave(uow, err)
                raise
            after = next_cursor
            if after is None:  # the end of one pass through the due cases
                if writing is not None:
                    sweep.settle(writing)
                    writing = None
                if not sweep.start_pass():
                    break
    except BaseException as err:
        if writing is not None and not writing.settled:
            if not writing.started:
                _leave(writing.uow, err)
            else:  # its breaches, if it committed, still get their notifications
                try:
                    sweep.settle(writing)
                except BaseException as late:
                    if late is not err:
                        err.add_note(f"The batch committing meanwhile was not settled: {late!r}")
        raise
    finally:
        if pool is not None:
            pool.shutdown()
    return sweep.report(now)


class _Batch:
    """One batch of the breach sweep: its saves, then its commit.

    The saves run on the sweep's thread. With a thread pool the commit runs there: a SQLite
    commit (the WAL write, a checkpoint) or a PostgreSQL commit round trip releases the GIL
    for its whole length, so the sweep reads and decides the next batch meanwhile. Only the
    commit moves: a statement per case on another thread would wait for the GIL (the
    interpreter's switch interval) after every one of them. Without a pool the commit runs
    at once.
    """

    __slots__ = ("_future", "_outcome", "conflicts", "found", "saved", "settled", "started", "uow")

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.saved: list[str] = []
        self.found: _Found = []
        self.conflicts = 0
        self.started = False  # the commit owns the unit of work from here
        self.settled = False  # waited for, and its outcome counted (see _Sweep.settle)
        self._future: Future[None] | None = None
        self._outcome: BaseException | bool = False  # of a commit run here: True or error

    def save(self, decided: list[tuple[Case | SlaCase, int, _Found]]) -> bool:
        """Save the decided cases into the unit of work (the :class:`SlaCase` ones in one
        call of the store's :class:`~caselib.ports.SlaSweepRepository`); ``False`` when none
        was saved. A case someone else saved first is counted and left for the next pass."""
        cases = self.uow.cases
        parts = [(case, loaded) for case, loaded, _ in decided if isinstance(case, SlaCase)]
        refused = set(cast(SlaSweepRepository, cases).save_sla_cases(parts)) if parts else ()
        for case, loaded, outcome in decided:
            if isinstance(case, SlaCase):
                written = case.id not in refused
            else:
                try:
                    cases.save(case, loaded)
                    written = True
                except ConcurrencyConflict:
                    written = False
            if not written:
                self.conflicts += 1  # someone else saved first; re-read on the next pass
                continue
            self.saved.append(case.id)
            self.found.extend(outcome)
        return bool(self.saved)

    def start(self, pool: ThreadPoolExecutor | None) -> None:
        """Start the commit: on ``pool`` (in the caller's context variables, for hooks an
        adapter runs at commit), or now."""
        self.started = True
        if pool is not None:
            try:
                self._future = pool.submit(contextvars.copy_context().run, _commit, self.uow)
                return
            except RuntimeError:  # the pool takes no work (the interpreter is shutting down)
                pass
        try:
            _commit(self.uow)
        except BaseException as err:
            self._outcome = err  # handed back by outcome(), where the sweep handles it
            if not isinstance(err, Exception):
                raise
        else:
            self._outcome = True

    def outcome(self) -> BaseException | None:
        """Wait for the commit; ``None`` if it committed, else what it raised. (An
        interruption of the waiting itself propagates: the commit may still land.)"""
        if self._future is not None:
            return self._future.exception()
        if isinstance(self._outcome, BaseException):
            return self._outcome
        if self._outcome is not True:
            return StorageError("the batch's commit never ran: the sweep was interrupted")
        return None


def _enter(uow: UnitOfWork) -> UnitOfWork:
    """Enter ``uow`` as its context manager (where an adapter may open its transaction)."""
    entered: UnitOfWork = uow.__enter__()
    return entered


def _leave(uow: UnitOfWork, err: BaseException | None) -> None:
    """Leave ``uow`` as its context manager would be left (rolling back what was not
    committed), with ``err`` as the exception leaving it, if any."""
    if err is None:
        uow.__exit__(None, None, None)
    else:
        uow.__exit__(type(err), err, err.__traceback__)


def _commit(uow: UnitOfWork) -> None:
    """Commit ``uow`` and leave it; a failed commit leaves it with that error."""
    try:
        uow.commit()
    except BaseException as err:
        _leave(uow, err)
        raise
    _leave(uow, None)


class _Sweep:
    """The book-keeping of one :meth:`ServiceDesk.sweep_breaches` run.

    The sweep walks the due cases in due order, one keyset page per batch, so a batch whose
    commit is still running is never read again by the next. Another pass from the start
    follows any pass that took a case: it retries the cases left unfinished (another writer
    saved one first, or it vanished between the query and the read) and finds cases made
    overdue behind the pass, and cases a claiming store (PostgreSQL's ``SKIP LOCKED``) left
    out because another unit of work held them: another sweeper that then records their
    breaches makes them not due any more, so this sweep never examines them. A case is taken
    at most ``_SWEEP_ATTEMPTS`` times in all.
    """

    def __init__(self, notifier: Notifier | None) -> None:
        self.notifier = notifier
        self.attempts: dict[str, int] = {}
        self.took = False  # this pass took a case
        self.notices: list[BreachNotice] = []
        self.examined = self.conflicts = 0
        self.examined_ids: list[str] = []

    def take(
        self, page: Sequence[tuple[SlaCase, Case | None]]
    ) -> list[tuple[SlaCase, Case | None]]:
        """The cases of ``page`` still to examine (neither done nor given up on)."""
        attempts = self.attempts
        due = [c for c in page if attempts.get(c[0].id, 0) < _SWEEP_ATTEMPTS]
        for case, _ in due:
            taken = attempts.get(case.id, 0)
            if not taken:
                self.examined_ids.append(case.id)
            attempts[case.id] = taken + 1
        self.examined += len(due)
        self.took = self.took or bool(due)
        return due

    def done(self, case_id: str) -> None:
        self.attempts[case_id] = _SWEEP_ATTEMPTS

    def start_pass(self) -> bool:
        """Begin another pass if this one took any case.

        A pass only moves forward through the due order, so besides the cases left
        unfinished, a case that another writer made overdue meanwhile with a due time behind
        the pass's position is only seen by the next pass. Every pass takes each case at
        most once and a case is taken at most ``_SWEEP_ATTEMPTS`` times, so this ends.
        """
        again = self.took
        self.took = False
        return again

    def settle(self, batch: _Batch) -> None:
        """Wait for ``batch`` to be written; then its cases are done and people notified.

        Cases whose save lost a race, or all of them when the commit was refused for a
        conflict (a store that checks versions at commit), stay unfinished, to be re-read by
        the next pass.
        """
        failure = batch.outcome()
        batch.settled = True
        if isinstance(failure, ConcurrencyConflict):
            self.conflicts += batch.conflicts + len(batch.saved)
            return
        if failure is not None:
            raise failure  # the sweep's error now
        self.conflicts += batch.conflicts
        for case_id in batch.saved:
            self.done(case_id)
        for notice, subject in batch.found:
            self.notices.append(notice)
            if self.notifier is not None:
                for message in _breach_notifications(notice, subject):
                    self.notifier.notify(message)

    def report(self, now: datetime) -> SweepReport:
        return SweepReport(now, self.examined, tuple(self.notices), self.conflicts,
                           tuple(self.examined_ids))
