"""The "Related cases" panel: ``ServiceDesk.related_cases`` (role and summary of each linked
case) on SQLite, beside a raw-SQL floor and beside what a host did before it.

- floor: the raw SQL of the panel on the same connection: the hub's link rows, then the
  other cases' id, number, subject, status and scope columns in one ``IN (…)`` select;
- ``related_cases``: the same two reads through caselib (plus loading the hub case for its
  access check, turning rows into ``CaseSummary`` values and the access check per case);
- the host's old way: ``case_links`` then one ``get_case`` per link (each loads the case
  whole, timeline included);
- ``get_many`` of the linked cases: what ``case_links`` read before ``CaseQuery(ids=…)``
  (whole cases, for the access check).

Each linked case has ``--entries`` timeline entries. The sides run alternately each round,
so load on this shared machine hits them alike; medians are printed.

    python benchmarks/bench_related_cases.py                 # 20 links, 50 entries each
    python benchmarks/bench_related_cases.py --links 100 --entries 200
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib import Actor, ServiceDesk
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--links", type=int, default=20)
    parser.add_argument("--entries", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=31)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        desk = ServiceDesk(SqliteStore(Path(tmp) / "bench.db"), tenant="acme",
                           clock=FrozenClock(T0))
        hub = desk.create_case(subject="Office move", actor=ANA).id
        for n in range(args.links):
            other = desk.create_case(subject=f"Move printer {n}", actor=ANA).id
            for i in range(args.entries - 2):
                desk.add_comment(other, f"note {i}: cabling checked", actor=ANA)
            desk.link_cases(hub, "related", other, actor=ANA)

        conn = sqlite3.connect(Path(tmp) / "bench.db")

        def floor() -> object:
            rows = conn.execute(
                "SELECT source, kind, target FROM case_links WHERE tenant = ? "
                "AND (source = ? OR target = ?)", ("acme", hub, hub)).fetchall()
            ids = [t if s == hub else s for s, _, t in rows]
            marks = ", ".join("?" * len(ids))
            return conn.execute(
                "SELECT id, number, subject, status, team, assignee, contact, account "
                f"FROM cases WHERE tenant = ? AND id IN ({marks})", ("acme", *ids)).fetchall()

        def per_link() -> object:
            return [(k.role_for(hub), desk.get_case(k.other(hub), actor=ANA))
                    for k in desk.case_links(hub, actor=ANA)]

        def related() -> object:
            return desk.related_cases(hub, actor=ANA)

        ends = [k.other(hub) for k in desk.case_links(hub, actor=ANA)]

        def whole() -> object:
            with desk.store.unit_of_work("acme") as uow:
                return uow.cases.get_many(ends)

        assert len(floor()) == len(related()) == args.links  # type: ignore[arg-type]
        sides: dict[str, Callable[[], object]] = {
            "raw SQL (floor)": floor, "related_cases": related,
            "case_links + get_case per link": per_link,
            "get_many of the linked cases": whole}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, run in sides.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        base = statistics.median(times["raw SQL (floor)"])
        print(f"{args.links} links, {args.entries} entries per linked case, SQLite, "
              f"median of {args.rounds}")
        for name, got in times.items():
            med = statistics.median(got)
            print(f"  {name:34s} {med * 1000:8.2f} ms  {med / base:5.2f}x floor")


if __name__ == "__main__":
    main()
