"""Storage throughput and query latency for the SQLite and PostgreSQL stores.

Measures, per store:

- cases created per second one by one through ``ServiceDesk.create_case`` (each its own unit of
  work and commit);
- batch import (``store.import_cases``) per second, the same rows inserted raw with
  ``executemany`` (the floor: no domain objects, no serialisation) and the ratio batch/raw;
- after filling the store to ``--cases`` cases (batch import, a realistic mix of statuses,
  assignees, teams, priorities, tags, SLA due times): the agent inbox query (one agent, active
  cases, created order, first page of 50), the inbox as one query (mine or unassigned in my
  team), an account's cases, board counts (``count_by_status``) and list totals (``count``,
  beside ``count_by_status`` of the same filter), median ms.

The batch import is measured twice: with its default (``events=False``: an import is a
migration, its history is not relayed) and with ``events=True`` (outbox rows too); each raw floor
inserts exactly the rows that variant of the library wrote.

Targets on SQLite: >= 2,000 creates/s one by one, >= 20,000/s batch, ratio <= 3, inbox <= 20 ms
at 1M cases. Run::

    python benchmarks/bench_storage.py                 # 1M cases (minutes)
    python benchmarks/bench_storage.py --quick         # 50k cases, smaller samples
    python benchmarks/bench_storage.py --cases 200000 --pg-cases 200000
    python benchmarks/bench_storage.py --cases 1000000 --pg-cases 200000  # PG fill is slower
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from caselib import Actor, ServiceDesk
from caselib.cases import Case, SlaTarget
from caselib.ports import CaseQuery, Store
from caselib.storage._sql import CASE_COLUMNS, import_rows
from caselib.vocab import DEFAULT_CATEGORIES, StatusCategory

T0 = datetime(2025, 1, 1, tzinfo=UTC)
AGENT = Actor.agent("bench")
STATUSES = (("new", StatusCategory.NEW, 10), ("open", StatusCategory.OPEN, 15),
            ("pending", StatusCategory.WAITING, 5), ("resolved", StatusCategory.RESOLVED, 30),
            ("closed", StatusCategory.CLOSED, 40))
AGENTS = [f"agent{i:03d}" for i in range(200)]
TEAMS = [f"team{i:02d}" for i in range(20)]
ACCOUNTS = [f"acct{i:04d}" for i in range(2000)]
CATEGORIES = sorted(DEFAULT_CATEGORIES)
DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")


def make_cases(tenant: str, n: int, start: int = 0, seed: int = 7) -> Iterator[Case]:
    """``n`` new cases with a realistic mix of every indexed column."""
    rng = random.Random(seed + start)
    weights = [w for *_, w in STATUSES]
    for i in range(start, start + n):
        at = T0 + timedelta(seconds=i * 30)
        case = Case.open(
            id=f"c{i:09d}", tenant=tenant, number=f"CASE-{i + 1:07d}",
            subject=f"Printer {i % 97} on floor {i % 13} is jammed again", status="new",
            status_category=StatusCategory.NEW, workflow="default", actor=AGENT, at=at,
            priority=rng.choice(("low", "normal", "normal", "normal", "high", "urgent")),
            tags=rng.sample(("vip", "billing", "printer", "outage", "mobile"), rng.randint(0, 2)),
            category=rng.choice(CATEGORIES),
            links={"account": rng.choice(ACCOUNTS)} if rng.random() < 0.7 else None,
        )
        if rng.random() < 0.9:
            case.assign(assignee=rng.choice(AGENTS), team=rng.choice(TEAMS), actor=AGENT, at=at)
        status, category, _ = rng.choices(STATUSES, weights)[0]
        if status != "new":
            note = "done" if not category.is_active else None
            case.move_to(status, category, actor=AGENT, at=at, note=note)
        if category.is_active:
            case.sla_targets = [SlaTarget("resolution", at + timedelta(hours=rng.randint(1, 72)),
                                          "running")]
        yield case


def _desk_alone_us(n: int) -> float:
    """Microseconds per ``create_case`` on the in-memory store: the application layer's share
    (routing, SLA evaluation, Case.open) that no storage adapter can remove."""
    from caselib.storage.memory import MemoryStore

    desk = ServiceDesk(MemoryStore(), tenant="one")
    secs = timed(lambda: [desk.create_case(subject=f"case {i}", actor=AGENT, assignee="ana",
                                           priority="high") for i in range(n)])
    return secs / n * 1e6


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm caches
    return statistics.median(timed(fn) * 1000 for _ in range(runs))


def bench_store(name: str, open_store: Callable[[], Store],
                raw_insert: Callable[[Any, list[Any]], None],
                raw_conn: Callable[[], Any], n_fill: int, quick: bool,
                maintain: Callable[[Any], None], raw_label: str = "raw executemany") -> None:
    print(f"\n== {name} ==")
    n_one = 2_000 if quick else 5_000
    n_batch = 20_000 if quick else 100_000

    store = open_store()
    desk = ServiceDesk(store, tenant="one")
    secs = timed(lambda: [desk.create_case(subject=f"case {i}", actor=AGENT, assignee="ana",
                                           priority="high") for i in range(n_one)])
    print(f"create_case one by one : {n_one / secs:10,.0f} cases/s  ({n_one} cases, "
          f"{secs / n_one * 1e6:.0f} us each; application layer alone on MemoryStore: "
          f"{_desk_alone_us(n_one):.0f} us)")

    conn = raw_conn()
    for events in (False, True):
        tenant = "batch-events" if events else "batch"
        batch = list(make_cases(tenant, n_batch))
        secs_lib = timed(partial(store.import_cases, batch, events=events))  # type: ignore[attr-defined]
        # the floor: the very rows the library wrote (built beforehand, not timed) into the
        # same tables and indexes with plain executemany
        rows = list(import_rows(make_cases(tenant + "-raw", n_batch), events=events))
        secs_raw = timed(partial(raw_insert, conn, rows))
        what = "cases + timeline + tags" + (" + outbox" if events else "")
        label = "events=True " if events else "default     "
        print(f"import_cases {label}: {n_batch / secs_lib:10,.0f} cases/s  ({n_batch} cases; "
              f"writes {what})")
        print(f"{raw_label:23s}: {n_batch / secs_raw:10,.0f} cases/s  (floor: the same "
              f"rows, prebuilt, same tables and indexes)")
        print(f"ratio import/raw       : {secs_lib / secs_raw:10.2f}")

    # fill to n_fill in tenant "big"
    t = time.perf_counter()
    chunk = 100_000
    for start in range(0, n_fill, chunk):
        store.import_cases(make_cases("big", min(chunk, n_fill - start), start=start),  # type: ignore[attr-defined]
                           events=False)
    print(f"filled {n_fill:,} cases in {time.perf_counter() - t:.0f}s")
    # what a host does after a bulk load (and autovacuum does later anyway): planner
    # statistics, and on PostgreSQL the visibility map that index-only scans need
    t = time.perf_counter()
    maintain(conn)
    print(f"after the fill: {maintain.__doc__} ({time.perf_counter() - t:.0f}s)")
    runs = 9 if quick else 21
    inbox = CaseQuery(assignees={AGENTS[17]}, status_categories={"new", "open", "waiting"})
    prio = CaseQuery(assignees={AGENTS[17]}, status_categories={"new", "open", "waiting"},
                     order="-priority")

    def run(q: CaseQuery) -> Callable[[], Any]:
        def go() -> Any:
            with store.unit_of_work("big") as uow:
                return uow.cases.query(q)
        return go

    def board() -> Any:
        with store.unit_of_work("big") as uow:
            return uow.cases.count_by_status()

    def team_board() -> Any:
        with store.unit_of_work("big") as uow:
            return uow.cases.count_by_status(CaseQuery(teams={TEAMS[3]}))

    page = run(inbox)()
    print(f"inbox (created order)  : {median_ms(run(inbox), runs):8.2f} ms  "
          f"({len(page.items)} rows)")
    print(f"inbox (-priority)      : {median_ms(run(prio), runs):8.2f} ms")
    print(f"board counts (tenant)  : {median_ms(board, max(3, runs // 3)):8.2f} ms  {board()}")
    print(f"board counts (1 team)  : {median_ms(team_board, runs):8.2f} ms")
    # the inbox as one query: mine (any team) or unassigned in my team, one cursor
    union = CaseQuery(assignees={AGENTS[17]}, unassigned_teams={TEAMS[3]},
                      status_categories={"new", "open", "waiting"})
    page = run(union)()
    print(f"inbox mine ∪ team queue: {median_ms(run(union), runs):8.2f} ms  "
          f"({len(page.items)} rows, one query)")
    account = CaseQuery(accounts={ACCOUNTS[42]})
    print(f"account's cases        : {median_ms(run(account), runs):8.2f} ms")

    def total(q: CaseQuery) -> Callable[[], Any]:
        def go() -> Any:
            with store.unit_of_work("big") as uow:
                return uow.cases.count(q)
        return go

    def by_status(q: CaseQuery) -> Callable[[], Any]:
        def go() -> Any:
            with store.unit_of_work("big") as uow:
                return uow.cases.count_by_status(q)
        return go

    team = CaseQuery(teams={TEAMS[3]})
    for label, q in (("1 team", team), ("inbox", union), ("1 account", account),
                     ("1 category", CaseQuery(categories={CATEGORIES[0]}))):
        print(f"count ({label:10s})     : {median_ms(total(q), runs):8.2f} ms  "
              f"= {total(q)()}; count_by_status of the same: "
              f"{median_ms(by_status(q), runs):.2f} ms")
    store.close()


def _bench_sqlite(path: str, n: int, quick: bool) -> None:
    import sqlite3

    from caselib.storage.sqlite import SqliteStore

    def sqlite_raw(conn: sqlite3.Connection, chunks: list[Any]) -> None:
        conn.execute("BEGIN IMMEDIATE")
        for cases, entries, tags, messages, _ in chunks:
            conn.executemany(
                f"INSERT INTO cases ({', '.join(CASE_COLUMNS)}) "
                f"VALUES ({', '.join('?' * len(CASE_COLUMNS))})", cases)
            conn.executemany("INSERT INTO timeline VALUES (?,?,?,?)", entries)
            conn.executemany("INSERT INTO case_tags VALUES (?,?,?)", tags)
            conn.executemany("INSERT INTO outbox (key, tenant, case_id, type, payload, "
                             "created_at) VALUES (?,?,?,?,?,?)", messages)
        conn.execute("COMMIT")

    def sqlite_conn() -> sqlite3.Connection:
        c = sqlite3.connect(path, isolation_level=None)
        c.execute("PRAGMA synchronous = NORMAL")
        return c

    def analyze(conn: sqlite3.Connection) -> None:
        """ANALYZE"""
        conn.execute("ANALYZE")

    bench_store(f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)",
                lambda: SqliteStore(path), sqlite_raw, sqlite_conn, n, quick, analyze)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="fill size for queries")
    parser.add_argument("--pg-cases", type=int, default=None,
                        help="fill size for PostgreSQL (default: --cases)")
    parser.add_argument("--quick", action="store_true", help="50k cases, smaller samples")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--no-sqlite", action="store_true", help="skip SQLite")
    args = parser.parse_args(argv)
    n = 50_000 if args.quick else args.cases

    with tempfile.TemporaryDirectory() as tmp:
        if not args.no_sqlite:
            _bench_sqlite(os.path.join(tmp, "bench.db"), n, args.quick)

    if args.no_pg:
        return
    try:
        import psycopg

        psycopg.connect(DSN, connect_timeout=3).close()
    except Exception as err:
        print(f"\n== PostgreSQL skipped: {err} ==")
        return
    from caselib.storage.postgres import PostgresStore

    schema = f"caselib_bench_{os.getpid()}"

    def pg_raw(conn: Any, chunks: list[Any]) -> None:
        # COPY, as the library does: the fastest plain way into PostgreSQL is the floor
        tables = (("cases", CASE_COLUMNS), ("timeline", ("tenant", "case_id", "seq", "entry")),
                  ("case_tags", ("tenant", "case_id", "tag")),
                  ("outbox", ("key", "tenant", "case_id", "type", "payload", "created_at")))
        with conn.cursor() as cur:
            for *parts, _ in chunks:
                for (table, cols), rows in zip(tables, parts, strict=True):
                    if rows:
                        with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
                            for row in rows:
                                copy.write_row(row)
        conn.commit()

    def vacuum_analyze(conn: Any) -> None:
        """VACUUM ANALYZE"""
        with psycopg.connect(DSN, autocommit=True) as c:
            c.execute(f'SET search_path TO "{schema}"')
            c.execute("VACUUM ANALYZE")

    def pg_conn() -> Any:
        c = psycopg.connect(DSN)
        c.execute(f'SET search_path TO "{schema}"')
        return c

    try:
        bench_store("PostgreSQL", lambda: PostgresStore(DSN, schema=schema), pg_raw, pg_conn,
                    args.pg_cases or n, args.quick, vacuum_analyze, raw_label="raw COPY")
    finally:
        PostgresStore(DSN, schema=schema).drop_schema()


if __name__ == "__main__":
    main()
