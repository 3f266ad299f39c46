"""Access control's cost: a scoped case list beside the same list unscoped, and one check.

Targets (issue 16): ``find_cases`` for an agent whose role sees its teams' queues costs at
most 1.5x the same query without a scope, at 1M cases on SQLite, measured side by side in
one run; ``AccessPolicy.check`` at most 5 us.

The store holds cases spread over 20 teams and 200 agents (see ``bench_storage.make_cases``);
the scoped agent works in 2 teams, so its scope admits about 10 % of the cases plus the ones
assigned to it. Each list is one page of 50 summaries in the default (created) order, in the
"recently updated" order, and of active cases only — the lists a case screen opens with.

    python benchmarks/bench_access.py                  # 1M cases (fills once, minutes)
    python benchmarks/bench_access.py --cases 100000   # quicker
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from bench_storage import TEAMS, make_cases

from caselib import Actor, CaselibError, ServiceDesk, TenantSettings
from caselib.access import AccessPolicy, Permission
from caselib.ports import CaseQuery
from caselib.storage.sqlite import SqliteStore

POLICY = AccessPolicy.default()
MANAGER = Actor.agent("mo", "manager")  # scope: every case (no filter added)
AGENT = Actor.agent("agent017", "support", teams={TEAMS[3], TEAMS[11]})


def median_us(fn: Callable[[], Any], runs: int) -> float:
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1e6


def fill(path: Path, n: int) -> SqliteStore:
    store = SqliteStore(path)
    with store.unit_of_work("big") as uow:
        have = sum(uow.cases.count_by_status().values())
    if have < n:
        t = time.perf_counter()
        for start in range(have, n, 100_000):
            store.import_cases(make_cases("big", min(100_000, n - start), start=start),
                               events=False)
        with sqlite3.connect(path) as conn:  # planner statistics, as after any bulk load
            conn.execute("ANALYZE")
        print(f"filled {n:,} cases in {time.perf_counter() - t:.0f}s")
    return store


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(),
                                                     "caselib-bench-access.sqlite3"))
    parser.add_argument("--runs", type=int, default=41)
    args = parser.parse_args(argv)

    store = fill(Path(args.db), args.cases)
    desk = ServiceDesk(store, tenant="big", settings=TenantSettings(access=POLICY))
    print(f"SQLite, {args.cases:,} cases; agent scope: teams {sorted(AGENT.teams)} + "
          f"assigned to {AGENT.id}")
    lists = {
        "created order": CaseQuery(limit=50),
        "-updated order": CaseQuery(limit=50, order="-updated"),
        "active, created": CaseQuery(limit=50, status_categories={"new", "open", "waiting"}),
    }
    print(f"{'list':<18}{'unscoped':>12}{'team scope':>13}{'ratio':>8}")
    for name, query in lists.items():
        plain = median_us(lambda q=query: desk.find_cases(q, actor=MANAGER), args.runs)
        scoped = median_us(lambda q=query: desk.find_cases(q, actor=AGENT), args.runs)
        print(f"{name:<18}{plain / 1000:>10.2f}ms{scoped / 1000:>11.2f}ms"
              f"{scoped / plain:>8.2f}  (target <= 1.5)")

    case = desk.get_case(desk.find_cases(CaseQuery(limit=1), actor=AGENT).items[0].id,
                         actor=AGENT)
    n = 200_000
    for actor, label in ((AGENT, "team-scoped agent"), (MANAGER, "manager (all cases)"),
                         (Actor.customer("c-1"), "customer (refused: CaseNotFound)")):
        def check(a: Actor = actor) -> None:
            with contextlib.suppress(CaselibError):  # the refusal is what is timed there
                POLICY.check(a, Permission.READ, case)
        t = time.perf_counter()
        for _ in range(n):
            check()
        print(f"policy.check {label:<33}: {(time.perf_counter() - t) / n * 1e6:6.2f} us "
              "(target <= 5)")
    store.close()


if __name__ == "__main__":
    main()
