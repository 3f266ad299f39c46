"""Commands under contention: a command without ``expected_version`` applies to the latest
state and never fails because another writer won a race; one with ``expected_version`` still
reports the conflict; ``retrying`` backs off with jitter.

Acceptance of issue 16 (point 7): 16 threads on one SQLite file and 8 processes on one
PostgreSQL schema add comments to one case without ``expected_version``: every comment lands
exactly once and no call fails.
"""

from __future__ import annotations

import multiprocessing as mp
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from caselib import Actor, ConcurrencyConflict, InvalidInput, ServiceDesk
from caselib.desk.retry import BACKOFF_CAP, BACKOFF_FIRST, backoff_delay, retry_conflicts
from caselib.ports import Store
from caselib.storage.memory import MemoryStore
from caselib.storage.sqlite import SqliteStore
from pg import DSN

TENANT = "acme"
THREADS = 16
PER_THREAD = 25
PROCESSES = 8
PER_PROCESS = 25


def comment_from_threads(store: Store, threads: int, each: int) -> None:
    """``threads`` threads each add ``each`` comments to one case through one desk; assert
    that no call failed and that every comment is stored exactly once, in a gapless
    timeline, with one outbox event per comment."""
    desk = ServiceDesk(store, tenant=TENANT)
    case = desk.create_case(subject="Shared case", actor=Actor.agent("lead"))
    start = threading.Barrier(threads)
    failures: list[str] = []

    def worker(i: int) -> None:
        agent = Actor.agent(f"agent-{i}")
        start.wait(timeout=60)
        for n in range(each):
            try:
                desk.add_comment(case.id, f"t{i}-{n}", actor=agent)
            except BaseException as err:  # every failure is counted, none swallowed
                failures.append(f"{type(err).__name__}: {err}")

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join(timeout=300)
    assert failures == []
    check_comments(store, case.id, {f"t{i}-{n}" for i in range(threads) for n in range(each)})


def check_comments(store: Store, case_id: str, expected: set[str]) -> None:
    with store.unit_of_work(TENANT) as uow:
        final = uow.cases.get(case_id)
        events = [m for m in uow.outbox.pending(limit=100_000)
                  if m.type == "case.comment_added"]
    notes = Counter(e.body for e in final.timeline if e.kind == "note")
    assert set(notes) == expected
    assert all(count == 1 for count in notes.values())
    assert final.version == 1 + len(expected)
    assert [e.seq for e in final.timeline] == list(range(1, len(final.timeline) + 1))
    assert len(events) == len(expected)


class TestLatestStateCommands:
    """Commands without expected_version wait their turn instead of failing."""

    def test_sixteen_threads_on_one_sqlite_file(self, tmp_path: Path) -> None:
        """16 threads x 25 comments on one SQLite case: no call fails, each lands once."""
        store = SqliteStore(tmp_path / "cases.db")
        try:
            comment_from_threads(store, THREADS, PER_THREAD)
        finally:
            store.close()

    def test_sixteen_threads_on_the_memory_store(self) -> None:
        """The same on the reference store."""
        comment_from_threads(MemoryStore(), THREADS, PER_THREAD)

    def test_a_given_expected_version_still_conflicts(self) -> None:
        """Passing expected_version asks for that version: a stale one raises at once and
        writes nothing."""
        desk = ServiceDesk(MemoryStore(), tenant=TENANT)
        agent = Actor.agent("ana")
        case = desk.create_case(subject="x", actor=agent)
        desk.add_comment(case.id, "first", actor=agent)
        with pytest.raises(ConcurrencyConflict) as info:
            desk.add_comment(case.id, "stale", actor=agent, expected_version=1)
        assert (info.value.expected, info.value.actual) == (1, 2)
        assert desk.get_case(case.id, actor=agent).version == 2


class _Unlocked:
    """A store whose case repository lacks get_for_update (as a host adapter may)."""

    units_cross_threads = True

    def __init__(self, inner: MemoryStore) -> None:
        self.inner = inner

    def unit_of_work(self, tenant: str) -> Any:
        uow = self.inner.unit_of_work(tenant)
        uow.cases = _PlainCases(uow.cases)
        return uow

    def close(self) -> None:
        self.inner.close()


class _PlainCases:
    after_get: Callable[[], None] | None = None  # runs once a get has read (to force a race)

    def __init__(self, cases: Any) -> None:
        self._cases = cases

    def get(self, case_id: str) -> Any:
        case = self._cases.get(case_id)
        if _PlainCases.after_get is not None:
            _PlainCases.after_get()
        return case

    def __getattr__(self, name: str) -> Any:
        if name == "get_for_update":
            raise AttributeError(name)
        return getattr(self._cases, name)


class TestStoresWithoutLocking:
    """An adapter without get_for_update: the desk retries lost races with backoff."""

    def test_racing_threads_all_land(self) -> None:
        """8 threads x 10 comments on an adapter that cannot lock: every call succeeds."""
        store = _Unlocked(MemoryStore())
        desk = ServiceDesk(store, tenant=TENANT)
        pauses: list[float] = []

        def pause(seconds: float) -> None:
            pauses.append(seconds)
            time.sleep(0)  # give the winner the GIL; no wall-clock wait

        desk._ctx.sleep = pause
        case = desk.create_case(subject="Shared", actor=Actor.agent("lead"))
        errors: list[str] = []
        start = threading.Barrier(8)

        def worker(i: int) -> None:
            start.wait(timeout=60)
            for n in range(10):
                try:
                    desk.add_comment(case.id, f"t{i}-{n}", actor=Actor.agent(f"a{i}"))
                except BaseException as err:
                    errors.append(repr(err))

        pool = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for t in pool:
            t.start()
        for t in pool:
            t.join(timeout=120)
        assert errors == []
        check_comments(store.inner, case.id, {f"t{i}-{n}" for i in range(8) for n in range(10)})
        assert all(0 <= p < BACKOFF_CAP for p in pauses)

    def test_a_lost_race_is_applied_again_to_the_newer_state(self) -> None:
        """One forced conflict: the command pauses once, then runs again on the new version."""
        store = _Unlocked(MemoryStore())
        desk = ServiceDesk(store, tenant=TENANT)
        other = ServiceDesk(store.inner, tenant=TENANT)
        agent = Actor.agent("ana")
        case = desk.create_case(subject="x", actor=agent)
        pauses: list[float] = []
        desk._ctx.sleep = pauses.append

        def someone_else_saves_first() -> None:
            _PlainCases.after_get = None
            other.add_comment(case.id, "someone else", actor=agent)

        _PlainCases.after_get = someone_else_saves_first
        try:
            result = desk.add_comment(case.id, "mine", actor=agent)
        finally:
            _PlainCases.after_get = None
        assert result.version == 3
        assert [e.body for e in result.timeline if e.kind == "note"] == ["someone else", "mine"]
        assert len(pauses) == 1 and 0 <= pauses[0] < BACKOFF_FIRST


class TestRetrying:
    """retrying() and the backoff behind it."""

    def test_backoff_grows_with_jitter_up_to_the_cap(self) -> None:
        """Full jitter: uniform below a cap that doubles from 2 ms and stops at 250 ms."""
        assert backoff_delay(1, lambda: 0.5) == pytest.approx(BACKOFF_FIRST / 2)
        assert backoff_delay(2, lambda: 0.5) == pytest.approx(BACKOFF_FIRST)
        assert backoff_delay(3, lambda: 0.999) == pytest.approx(BACKOFF_FIRST * 4 * 0.999)
        assert backoff_delay(40, lambda: 1.0) == BACKOFF_CAP
        assert backoff_delay(7, lambda: 0.0) == 0.0

    def test_pauses_between_attempts_and_gives_up_with_the_last_conflict(self) -> None:
        """attempts=4: three pauses, growing caps, then the fourth conflict propagates."""
        pauses: list[float] = []
        calls = 0

        def always_loses() -> None:
            nonlocal calls
            calls += 1
            raise ConcurrencyConflict("c1", calls, calls + 1)

        with pytest.raises(ConcurrencyConflict) as info:
            retry_conflicts(always_loses, attempts=4, sleep=pauses.append, draw=lambda: 1.0)
        assert calls == 4 and info.value.expected == 4
        assert pauses == [BACKOFF_FIRST, BACKOFF_FIRST * 2, BACKOFF_FIRST * 4]

    def test_returns_the_first_success(self) -> None:
        """A success after two conflicts is returned; nothing else is retried."""
        outcomes: Iterator[object] = iter([ConcurrencyConflict("c", 1, 2),
                                           ConcurrencyConflict("c", 2, 3), "done"])

        def command() -> object:
            outcome = next(outcomes)
            if isinstance(outcome, BaseException):
                raise outcome
            return outcome

        pauses: list[float] = []
        assert retry_conflicts(command, attempts=5, sleep=pauses.append) == "done"
        assert len(pauses) == 2

    def test_other_errors_are_not_retried(self) -> None:
        """Only conflicts are retried: a refusal propagates from the first attempt."""
        calls: list[int] = []

        def refused() -> None:
            calls.append(1)
            raise InvalidInput("no")

        with pytest.raises(InvalidInput):
            retry_conflicts(refused, attempts=5, sleep=lambda s: None)
        assert calls == [1]

    @pytest.mark.parametrize("attempts", [0, -1, True, 2.5, "3"])
    def test_bad_attempts_are_refused(self, attempts: Any) -> None:
        """attempts must be a positive int (InvalidInput, nothing run)."""
        ran: list[int] = []
        command: Callable[[], None] = lambda: ran.append(1)  # noqa: E731
        with pytest.raises(InvalidInput):
            retry_conflicts(command, attempts=attempts)
        assert ran == []


def _pg_worker(schema: str, case_id: str, index: int, results: Any) -> None:
    """One process: PER_PROCESS comments without expected_version or retrying."""
    from caselib.storage.postgres import PostgresStore

    failures: list[str] = []
    store = PostgresStore(DSN, schema=schema, pool_size=1)
    try:
        desk = ServiceDesk(store, tenant=TENANT)
        agent = Actor.agent(f"agent-{index}")
        for n in range(PER_PROCESS):
            try:
                desk.add_comment(case_id, f"p{index}-{n}", actor=agent)
            except BaseException as err:  # every failure is counted, none swallowed
                failures.append(f"{type(err).__name__}: {err}")
    finally:
        store.close()
        results.put((index, failures))


@pytest.mark.slow
@pytest.mark.postgres
class TestPostgresProcesses:
    """Eight processes, one case, no expected_version."""

    def test_eight_processes_comment_on_one_case(self, pg_schema: str) -> None:
        """8 processes x 25 comments on one PostgreSQL case: none fails, each lands once."""
        from caselib.storage.postgres import PostgresStore

        store = PostgresStore(DSN, schema=pg_schema)
        try:
            case = ServiceDesk(store, tenant=TENANT).create_case(
                subject="Shared case", actor=Actor.agent("lead"))
        finally:
            store.close()
        ctx = mp.get_context("fork")  # no re-import per process: seconds, not tens
        results = ctx.Queue()
        procs = [ctx.Process(target=_pg_worker, args=(pg_schema, case.id, i, results))
                 for i in range(PROCESSES)]
        for p in procs:
            p.start()
        reports = [results.get(timeout=300) for _ in procs]
        for p in procs:
            p.join(timeout=60)
            assert p.exitcode == 0
        assert [f for _, f in reports if f] == []
        store = PostgresStore(DSN, schema=pg_schema)
        try:
            check_comments(store, case.id, {f"p{i}-{n}" for i in range(PROCESSES)
                                            for n in range(PER_PROCESS)})
        finally:
            store.close()
