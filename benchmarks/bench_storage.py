"""Storage throughput and query latency for the SQLite and PostgreSQL stores.

Measures, per store:

- cases created per second one by one through ``ServiceDesk.create_case`` (each its own unit of
  work and commit);
- batch import (``store.import_cases``) per second, the same rows inserted raw with
  ``executemany`` (the floor: no domain objects, no serialisation) and the ratio batch/raw;
- after filling the store to ``--cases`` cases (batch import, a realistic mix of statuses,
  assignees, teams, priorities, tags, SLA due times): the agent inbox query (one agent, active
  cases, created order, first page of 50) and board counts (``count_by_status``), median ms.

Targets on SQLite: >= 2,000 creates/s one by one, >= 20,000/s batch, ratio <= 3, inbox <= 20 ms
at 1M cases. Run::

    python benchmarks/bench_storage.py                 # 1M cases (minutes)
    python benchmarks/bench_storage.py --quick         # 50k cases, smaller samples
    python benchmarks/bench_storage.py --cases 200000 --pg-cases 200000
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
from typing import Any

from caselib import Actor, ServiceDesk
from caselib.model import Case, SlaTarget
from caselib.ports import CaseQuery, Store
from caselib.storage._sql import import_rows
from caselib.vocab import StatusCategory

T0 = datetime(2025, 1, 1, tzinfo=UTC)
AGENT = Actor.agent("bench")
STATUSES = (("new", StatusCategory.NEW, 10), ("open", StatusCategory.OPEN, 15),
            ("pending", StatusCategory.WAITING, 5), ("resolved", StatusCategory.RESOLVED, 30),
            ("closed", StatusCategory.CLOSED, 40))
AGENTS = [f"agent{i:03d}" for i in range(200)]
TEAMS = [f"team{i:02d}" for i in range(20)]
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


def timed(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def median_ms(fn: Callable[[], Any], runs: int) -> float:
    fn()  # warm caches
    return statistics.median(timed(fn) * 1000 for _ in range(runs))


def bench_store(name: str, open_store: Callable[[], Store],
                raw_insert: Callable[[Any, list[Any]], None],
                raw_conn: Callable[[], Any], n_fill: int, quick: bool) -> None:
    print(f"\n== {name} ==")
    n_one = 2_000 if quick else 5_000
    n_batch = 20_000 if quick else 100_000

    store = open_store()
    desk = ServiceDesk(store, tenant="one")
    secs = timed(lambda: [desk.create_case(subject=f"case {i}", actor=AGENT, assignee="ana",
                                           priority="high") for i in range(n_one)])
    print(f"create_case one by one : {n_one / secs:10,.0f} cases/s  ({n_one} cases)")

    batch = list(make_cases("batch", n_batch))
    secs_lib = timed(lambda: store.import_cases(batch))  # type: ignore[attr-defined]
    print(f"import_cases (batch)   : {n_batch / secs_lib:10,.0f} cases/s  ({n_batch} cases)")
    rows = list(import_rows(make_cases("raw", n_batch), events=True))
    conn = raw_conn()
    secs_raw = timed(lambda: raw_insert(conn, rows))
    print(f"raw executemany (floor): {n_batch / secs_raw:10,.0f} cases/s")
    print(f"ratio import/raw       : {secs_lib / secs_raw:10.2f}")

    # fill to n_fill in tenant "big"
    t = time.perf_counter()
    chunk = 100_000
    for start in range(0, n_fill, chunk):
        store.import_cases(make_cases("big", min(chunk, n_fill - start), start=start),  # type: ignore[attr-defined]
                           events=False)
    print(f"filled {n_fill:,} cases in {time.perf_counter() - t:.0f}s")
    analyze = getattr(conn, "execute", None)
    if analyze is not None:
        analyze("ANALYZE")
        if hasattr(conn, "commit"):
            conn.commit()
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
    store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="fill size for queries")
    parser.add_argument("--pg-cases", type=int, default=None,
                        help="fill size for PostgreSQL (default: --cases)")
    parser.add_argument("--quick", action="store_true", help="50k cases, smaller samples")
    parser.add_argument("--no-pg", action="store_true")
    args = parser.parse_args(argv)
    n = 50_000 if args.quick else args.cases

    import sqlite3

    from caselib.storage.sqlite import SqliteStore

    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "bench.db")

        def sqlite_raw(conn: sqlite3.Connection, chunks: list[Any]) -> None:
            conn.execute("BEGIN IMMEDIATE")
            for cases, entries, tags, messages, _ in chunks:
                conn.executemany(f"INSERT INTO cases VALUES ({','.join('?' * 18)})", cases)
                conn.executemany("INSERT INTO timeline VALUES (?,?,?,?)", entries)
                conn.executemany("INSERT INTO case_tags VALUES (?,?,?)", tags)
                conn.executemany("INSERT INTO outbox (key, tenant, case_id, type, payload, "
                                 "created_at) VALUES (?,?,?,?,?,?)", messages)
            conn.execute("COMMIT")

        def sqlite_conn() -> sqlite3.Connection:
            c = sqlite3.connect(path, isolation_level=None)
            c.execute("PRAGMA synchronous = NORMAL")
            return c

        bench_store(f"SQLite {sqlite3.sqlite_version} (WAL, synchronous=NORMAL)",
                    lambda: SqliteStore(path), sqlite_raw, sqlite_conn, n, args.quick)

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
        with conn.cursor() as cur:
            for cases, entries, tags, messages, _ in chunks:
                cur.executemany(f"INSERT INTO cases VALUES ({','.join(['%s'] * 18)})", cases)
                cur.executemany("INSERT INTO timeline VALUES (%s,%s,%s,%s)", entries)
                cur.executemany("INSERT INTO case_tags VALUES (%s,%s,%s)", tags)
                cur.executemany("INSERT INTO outbox (key, tenant, case_id, type, payload, "
                                "created_at) VALUES (%s,%s,%s,%s,%s,%s)", messages)
        conn.commit()

    def pg_conn() -> Any:
        c = psycopg.connect(DSN)
        c.execute(f'SET search_path TO "{schema}"')
        return c

    try:
        bench_store("PostgreSQL", lambda: PostgresStore(DSN, schema=schema), pg_raw, pg_conn,
                    args.pg_cases or n, args.quick)
    finally:
        PostgresStore(DSN, schema=schema).drop_schema()


if __name__ == "__main__":
    main()
