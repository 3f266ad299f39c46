"""Two processes at once on one store: fair round-robin turns and one notification per breach.

Run on SQLite (one file) and PostgreSQL (one schema per test). PostgreSQL tests skip without a
server locally and fail under ``CI``.
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from actors import READER
from caselib import Actor, ServiceDesk
from caselib.ports import CaseQuery, Notification, Store
from caselib.routing import Agent, StaticDirectory, Team
from caselib.testing import FrozenClock
from pg import DSN

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENTS = ("ann", "bob", "cy")
PER_PROCESS = 30
SWEEP_CASES = 40


def open_store(kind: str, where: str) -> Store:
    if kind == "sqlite":
        from caselib.storage.sqlite import SqliteStore

        return SqliteStore(where)
    from caselib.storage.postgres import PostgresStore

    return PostgresStore(DSN, schema=where)


def directory() -> StaticDirectory:
    return StaticDirectory(
        [Team("finance", "Finance", "round_robin", members=AGENTS),
         Team("support", "Support", "none", queue_contact="lead", manager_id="boss")],
        [Agent(a, a.title()) for a in AGENTS],
    )


def desk_on(store: Store, clock: FrozenClock) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=clock, directory=directory())


def _creator(kind: str, where: str, start: Any) -> None:
    store = open_store(kind, where)
    desk = desk_on(store, FrozenClock(T0))
    start.wait()
    for i in range(PER_PROCESS):
        desk.create_case(subject=f"invoice {i}", actor=Actor.agent("ops"), category="Billing")
    store.close()


class _QueueNotifier:
    def __init__(self, queue: Any) -> None:
        self.queue = queue

    def notify(self, notification: Notification) -> None:
        self.queue.put(notification.key)


def _sweeper(kind: str, where: str, start: Any, out: Any) -> None:
    store = open_store(kind, where)
    desk = desk_on(store, FrozenClock(T0 + timedelta(hours=5)))
    start.wait()
    desk.sweep_breaches(actor=Actor.system(), notifier=_QueueNotifier(out), batch=7)
    store.close()


def round_robin_two_processes(kind: str, where: str) -> None:
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(2, timeout=60)
    procs = [ctx.Process(target=_creator, args=(kind, where, start)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    store = open_store(kind, where)
    desk = desk_on(store, FrozenClock(T0))
    owners = Counter(s.assignee for s in desk.find_cases(CaseQuery(limit=1000), actor=READER).items)
    store.close()
    total = 2 * PER_PROCESS
    assert sum(owners.values()) == total and set(owners) == set(AGENTS)
    k = len(AGENTS)
    assert all(total // k <= n <= -(-total // k) for n in owners.values()), owners


def sweepers_two_processes(kind: str, where: str) -> None:
    store = open_store(kind, where)
    desk = desk_on(store, FrozenClock(T0))
    for i in range(SWEEP_CASES):
        desk.create_case(subject=f"outage {i}", actor=Actor.agent("ops"), priority="urgent")
    store.close()
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(2, timeout=60), ctx.Queue()
    procs = [ctx.Process(target=_sweeper, args=(kind, where, start, out)) for _ in range(2)]
    for p in procs:
        p.start()
    keys: list[str] = []
    # 40 cases x 2 targets (first response, resolution) x 2 recipients (queue lead, manager)
    expected = SWEEP_CASES * 2 * 2
    for _ in range(expected):
        keys.append(out.get(timeout=120))
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert out.empty()
    assert len(keys) == len(set(keys)) == expected


@pytest.mark.slow
class TestSqlite:
    """Two processes on one SQLite file."""

    def test_round_robin_stays_fair(self, tmp_path: Path) -> None:
        round_robin_two_processes("sqlite", str(tmp_path / "rr.sqlite3"))

    def test_concurrent_sweepers_notify_once(self, tmp_path: Path) -> None:
        sweepers_two_processes("sqlite", str(tmp_path / "sweep.sqlite3"))


@pytest.mark.slow
@pytest.mark.postgres
class TestPostgres:
    """Two processes on one PostgreSQL schema."""

    def test_round_robin_stays_fair(self, pg_schema: str) -> None:
        round_robin_two_processes("postgres", pg_schema)

    def test_concurrent_sweepers_notify_once(self, pg_schema: str) -> None:
        sweepers_two_processes("postgres", pg_schema)
