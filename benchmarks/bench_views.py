"""Views pushed down to the store: the inbox, the board and text search, each beside the
host's way today, in one run.

Targets (issue 17): ``ServiceDesk.inbox`` and ``ServiceDesk.board`` at most 20 ms and a text
search (``find_cases(text=...)``) at most 50 ms, at 1M cases on SQLite and 200k on
PostgreSQL (a real server). Beside each, what a host did before (the ratio is host / view):

- inbox: two queries (my active cases; the unassigned active cases of my teams), merged and
  cut to a page in Python — two cursors to keep;
- board: the active cases listed page by page (summaries) and grouped by status in Python;
- text search: every case loaded whole, page by page, and its number, subject and
  description matched in Python (a summary has no description). Run once: at 1M cases it
  takes minutes.

The cases: 20 teams, 200 agents, the default workflow's statuses (about 12 % active), 90 %
assigned; subjects and descriptions drawn from a 4,000-word vocabulary with a Zipf-like
skew, so a search word matches from a few hundred to tens of thousands of cases. The
database is built once by ``import_cases`` (the stores' own row codec, in bulk) and kept:
SQLite under /tmp, PostgreSQL in schema ``bench_views``.

    python benchmarks/bench_views.py                       # 1M SQLite + 200k PostgreSQL
    python benchmarks/bench_views.py --cases 100000 --pg-cases 50000
    python benchmarks/bench_views.py --no-pg
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib import Actor, Case, ServiceDesk, Store
from caselib.cases import SlaTarget
from caselib.ports import CaseQuery, CaseSummary
from caselib.reports import SearchText, search_terms
from caselib.vocab import StatusCategory

DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
TENANT = "big"
TEAMS = [f"team{i:02d}" for i in range(20)]
AGENTS = [f"agent{i:03d}" for i in range(200)]
ACCOUNTS = [f"acct{i:04d}" for i in range(2000)]
STATUSES = (("new", StatusCategory.NEW, 3), ("open", StatusCategory.OPEN, 4),
            ("in_progress", StatusCategory.OPEN, 3),
            ("pending_customer", StatusCategory.WAITING, 2),
            ("resolved", StatusCategory.RESOLVED, 28), ("closed", StatusCategory.CLOSED, 60))
SYSTEM = Actor.system()
AGENT = Actor.agent("agent017", teams=[TEAMS[3], TEAMS[11]])
ADMIN = Actor.agent("boss", "admin")


def _vocabulary(n: int = 4000) -> list[str]:
    rng = random.Random(1)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: set[str] = set()
    while len(words) < n:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(4, 9))))
    return sorted(words)


VOCAB = _vocabulary()
_CUM = list(__import__("itertools").accumulate(1 / (r + 10) for r in range(len(VOCAB))))


def _words(rng: random.Random, k: int) -> str:
    return " ".join(rng.choices(VOCAB, cum_weights=_CUM, k=k))


def make_cases(n: int, start: int = 0) -> Iterator[Case]:
    rng = random.Random(17 + start)
    weights = [w for *_, w in STATUSES]
    for i in range(start, start + n):
        at = T0 + timedelta(seconds=i * 30)
        case = Case.open(
            id=f"c{i:09d}", tenant=TENANT, number=f"CASE-{i + 1:07d}",
            subject=_words(rng, rng.randint(3, 7)).capitalize(), status="new",
            status_category=StatusCategory.NEW, workflow="default", actor=SYSTEM, at=at,
            description=_words(rng, rng.randint(10, 40)),
            priority=rng.choice(("low", "normal", "normal", "normal", "high", "urgent")),
            links={"account": rng.choice(ACCOUNTS)} if rng.random() < 0.7 else None,
        )
        team = rng.choice(TEAMS)
        case.assign(assignee=rng.choice(AGENTS) if rng.random() < 0.9 else None, team=team,
                    actor=SYSTEM, at=at)
        status, category, _ = rng.choices(STATUSES, weights)[0]
        if status != "new":
            case.move_to(status, category, actor=SYSTEM, at=at,
                         note=None if category.is_active else "done")
        if category.is_active:
            case.sla_targets = [SlaTarget("resolution", at + timedelta(hours=rng.randint(1, 72)),
                                          "running")]
        yield case


def fill(store: Store, n: int, analyze: Callable[[], None]) -> None:
    with store.unit_of_work(TENANT) as uow:
        have = uow.cases.count()
    if have >= n:
        return
    t = time.perf_counter()
    step = 50_000
    for start in range(have, n, step):
        store.import_cases(make_cases(min(step, n - start), start=start),  # type: ignore[attr-defined]
                           events=False)
        print(f"  … {min(start + step, n):,} cases ({time.perf_counter() - t:.0f}s)",
              flush=True)
    analyze()
    print(f"filled {n - have:,} cases in {time.perf_counter() - t:.0f}s", flush=True)


def median_ms(fn: Callable[[], Any], runs: int = 15) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def once_ms(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


_ACTIVE = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING})


def host_inbox(desk: ServiceDesk) -> list[CaseSummary]:
    """Before: my cases and my teams' unassigned ones, two queries merged in Python."""
    mine = desk.find_cases(assignees=AGENT.id, status_categories=_ACTIVE, actor=ADMIN)
    free = desk.find_cases(unassigned=True, teams=AGENT.teams, status_categories=_ACTIVE,
                           actor=ADMIN)
    merged = sorted((*mine.items, *free.items), key=lambda s: (s.created_at, s.id))
    return merged[:50]


def host_board(desk: ServiceDesk) -> dict[str, list[CaseSummary]]:
    """Before: every active case listed (summaries, 1,000 a page), grouped in Python."""
    columns: dict[str, list[CaseSummary]] = {}
    query: CaseQuery | None = CaseQuery(status_categories=_ACTIVE, order="-updated",
                                        limit=1000)
    while query is not None:
        page = desk.find_cases(query, actor=ADMIN)
        for s in page.items:
            columns.setdefault(s.status, []).append(s)
        query = (None if page.next_cursor is None
                 else CaseQuery(status_categories=_ACTIVE, order="-updated", limit=1000,
                                after=page.next_cursor))
    return columns


def host_search(store: Store, text: str) -> list[str]:
    """Before: every case loaded whole, page by page, matched in Python."""
    search = SearchText.parse(text)
    found: list[str] = []
    query: CaseQuery | None = CaseQuery(limit=1000)
    with store.unit_of_work(TENANT) as uow:
        while query is not None:
            page = uow.cases.query_cases(query)
            found += [c.id for c in page.cases
                      if search.matches(search_terms(c.number, c.subject, c.description))]
            query = (None if page.next_cursor is None
                     else CaseQuery(limit=1000, after=page.next_cursor))
    return found


def bench(label: str, store: Store, n: int, host_runs: bool) -> None:
    desk = ServiceDesk(store, tenant=TENANT)
    print(f"\n== {label}: {n:,} cases ==", flush=True)
    with store.unit_of_work(TENANT) as uow:
        active = uow.cases.count(CaseQuery(status_categories=_ACTIVE))
    print(f"active cases: {active:,}")
    inbox = desk.inbox(actor=AGENT)
    assert [s.id for s in inbox.items] == [s.id for s in host_inbox(desk)]
    rows = []
    rows.append(("inbox (page of 50)", median_ms(lambda: desk.inbox(actor=AGENT)),
                 median_ms(lambda: host_inbox(desk))))
    board = desk.board(actor=ADMIN, cards_per_column=10)
    print("board:", ", ".join(f"{c.status} {c.count:,}" for c in board.columns))
    board_ms = median_ms(lambda: desk.board(actor=ADMIN, cards_per_column=10))
    rows.append(("board (4 columns, 10 cards)", board_ms,
                 once_ms(lambda: host_board(desk)) if host_runs else float("nan")))
    common, rare = VOCAB[40], VOCAB[2000]
    for text in (f"{common} {rare}", rare, f"{VOCAB[300][:3]}*"):
        page = desk.find_cases(text=text, actor=ADMIN)
        total = desk.count_cases(text=text, actor=ADMIN)
        ms = median_ms(lambda t=text: desk.find_cases(text=t, actor=ADMIN))
        cnt = median_ms(lambda t=text: desk.count_cases(text=t, actor=ADMIN))
        host = float("nan")
        if host_runs and text == rare:
            host = once_ms(lambda t=text: host_search(store, t))
        rows.append((f"text {text!r}: page ({len(page.items)} of {total:,})", ms, host))
        rows.append((f"text {text!r}: count", cnt, float("nan")))
    mixed = f"{VOCAB[40]}"
    rows.append((f"inbox + text {mixed!r}",
                 median_ms(lambda: desk.inbox(actor=AGENT, text=mixed)), float("nan")))
    print(f"{'figure':52} {'view ms':>9} {'host ms':>10} {'host/view':>9}")
    for name, ms, host in rows:
        ratio = host / ms if host == host else float("nan")
        print(f"{name:52} {ms:9.2f} {host:10.1f} {ratio:9.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--pg-cases", type=int, default=200_000)
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(),
                                                     "caselib-bench-views.sqlite3"))
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--no-host", action="store_true",
                        help="skip the host's way (the full scans take minutes at 1M)")
    args = parser.parse_args(argv)
    if not args.no_sqlite:
        from caselib.storage.sqlite import SqliteStore

        path = f"{args.db}.{args.cases}"
        store = SqliteStore(path)

        def analyze() -> None:
            with sqlite3.connect(path) as conn:
                conn.execute("ANALYZE")

        fill(store, args.cases, analyze)
        bench("SQLite", store, args.cases, not args.no_host)
        store.close()
    if not args.no_pg:
        from caselib.storage.postgres import PostgresStore

        schema = f"bench_views_{args.pg_cases}"
        pg = PostgresStore(DSN, schema=schema)

        def analyze_pg() -> None:
            import psycopg

            with psycopg.connect(DSN, autocommit=True) as conn:
                conn.execute(f'VACUUM ANALYZE "{schema}".cases')

        fill(pg, args.pg_cases, analyze_pg)
        bench("PostgreSQL", pg, args.pg_cases, not args.no_host)
        pg.close()


if __name__ == "__main__":
    main()
