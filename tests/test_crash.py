"""Acceptance: a writer killed with SIGKILL leaves only whole cases behind.

A child process creates cases (and comments on each) in a loop until it is killed mid-flight.
Reopening the store must work, and every case must be whole: its row, its timeline and its
outbox messages were written in one transaction, so they agree (created entry and
``case.created`` message present, version = timeline entries = saves in the outbox).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from caselib import Actor, ServiceDesk
from caselib.ports import CaseQuery, Store
from pg import DSN as PG_DSN

TENANT = "acme"



def open_store(kind: str, where: str) -> Store:
    if kind == "sqlite":
        from caselib.storage.sqlite import SqliteStore

        return SqliteStore(where)
    from caselib.storage.postgres import PostgresStore

    return PostgresStore(PG_DSN, schema=where)


def _writer(kind: str, where: str, started: Any) -> None:
    """Create cases with a comment each, forever (until SIGKILL)."""
    store = open_store(kind, where)
    desk = ServiceDesk(store, tenant=TENANT)
    agent = Actor.agent("ana")
    n = 0
    while True:
        n += 1
        case = desk.create_case(subject=f"Crash test {n}", actor=agent, assignee="ana",
                                tags=["crash"], custom={"n": n})
        desk.add_comment(case.id, f"comment on {n}", actor=agent)
        if n == 5:
            started.set()


def crash_and_check(kind: str, where: str) -> None:
    ctx = mp.get_context("spawn")
    started = ctx.Event()
    child = ctx.Process(target=_writer, args=(kind, where, started))
    child.start()
    try:
        assert started.wait(timeout=60), "the writer never got going"
        time.sleep(0.7)  # let it run; the kill lands at an arbitrary point of a write
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL

    store = open_store(kind, where)  # must open cleanly (no stale lock, no half schema)
    try:
        with store.unit_of_work(TENANT) as uow:
            summaries = []
            page = uow.cases.query(CaseQuery(limit=1000))
            summaries.extend(page.items)
            while page.next_cursor is not None:
                page = uow.cases.query(CaseQuery(limit=1000, after=page.next_cursor))
                summaries.extend(page.items)
            cases = [uow.cases.get(s.id) for s in summaries]
            messages = uow.outbox.pending(limit=100_000)
        assert len(cases) >= 5
        by_case: dict[str, list[Any]] = defaultdict(list)
        for m in messages:
            by_case[m.case_id].append(m)
        ids = {c.id for c in cases}
        assert set(by_case) == ids, "outbox messages of a case that is not there (or none)"
        assert len({c.number for c in cases}) == len(cases)
        for case in cases:
            kinds = [e.kind for e in case.timeline]
            assert kinds[0] == "created"
            assert [e.seq for e in case.timeline] == list(range(1, len(kinds) + 1))
            saved_versions = {int(m.key.split(":")[1]) for m in by_case[case.id]}
            assert saved_versions == set(range(1, case.version + 1))
            assert by_case[case.id][0].type == "case.created"
            assert case.version == 1 + kinds.count("note")
            assert case.version in (1, 2)
        # and the store still takes writes, with a fresh number
        desk = ServiceDesk(store, tenant=TENANT)
        new = desk.create_case(subject="After the crash", actor=Actor.agent("ana"))
        assert new.number not in {c.number for c in cases}
    finally:
        store.close()


@pytest.mark.slow
class TestKilledWriter:
    """SIGKILL mid-write leaves whole cases only."""

    def test_sqlite(self, tmp_path: Path) -> None:
        """SQLite file survives a killed writer."""
        crash_and_check("sqlite", str(tmp_path / "cases.db"))

    @pytest.mark.postgres
    def test_postgres(self, pg_schema: str) -> None:
        """PostgreSQL schema survives a killed writer."""
        crash_and_check("postgres", pg_schema)
