"""The "Related cases" panel: ``ServiceDesk.related_cases`` (role and summary of each linked
case, the other cases read in one batch) beside what a host did before it, on SQLite.

Floor: ``case_links`` alone (the link ids, the same two reads related_cases makes: the links,
then the other cases in one ``get_many`` for the access check). The host's old way:
``case_links`` then one ``get_case`` per link for the number, subject and status. Each linked
case has ``--entries`` timeline entries, since ``get_many`` loads whole cases. The sides run
alternately each round, so load on this shared machine hits them alike; medians are printed.
For scale, ``find_cases`` of as many rows: a summary-only read (what a ``CaseQuery`` id
filter would cost, which caselib does not have yet).

    python benchmarks/bench_related_cases.py                 # 20 links, 50 entries each
    python benchmarks/bench_related_cases.py --links 100 --entries 200
"""

from __future__ import annotations

import argparse
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

        def floor() -> object:
            return desk.case_links(hub, actor=ANA)

        def per_link() -> object:
            return [(k.role_for(hub), desk.get_case(k.other(hub), actor=ANA))
                    for k in desk.case_links(hub, actor=ANA)]

        def related() -> object:
            return desk.related_cases(hub, actor=ANA)

        def summaries() -> object:
            return desk.find_cases(actor=ANA, limit=args.links + 1)

        sides: dict[str, Callable[[], object]] = {
            "case_links (floor)": floor, "case_links + get_case per link": per_link,
            "related_cases": related, "find_cases, as many rows (scale)": summaries}
        times: dict[str, list[float]] = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, run in sides.items():
                start = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - start)
        base = statistics.median(times["case_links (floor)"])
        print(f"{args.links} links, {args.entries} entries per linked case, SQLite, "
              f"median of {args.rounds}")
        for name, got in times.items():
            med = statistics.median(got)
            print(f"  {name:34s} {med * 1000:8.2f} ms  {med / base:5.2f}x floor")


if __name__ == "__main__":
    main()
