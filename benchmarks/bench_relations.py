"""Merging a big case: ``ServiceDesk.merge`` of a 1,000-entry case on SQLite beside the raw
SQL of moving those 1,000 timeline rows onto the survivor.

Target (issue 20): the merge costs at most 3x the raw move. A caselib merge moves no rows
(the source closes into ``merged``, its journal entry and a ``merged_into`` link are written,
the survivor's merged reading joins the two timelines; see ``docs/relations.md``), so what it
pays is locking and loading both cases whole and saving the source. The raw side is what a
merge that copied the entries would at least cost: one ``INSERT … SELECT`` with the seq
numbers shifted past the survivor's, and one ``DELETE``, in one transaction. Each side runs on
its own fresh pair of cases every round, alternately, so load on this shared machine hits both
alike.

    python benchmarks/bench_relations.py                # 1,000 entries, 15 rounds
    python benchmarks/bench_relations.py --entries 5000 --rounds 9
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib import Actor, ServiceDesk
from caselib.cases import Case, Workflow
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
CUSTOMER = Actor.customer("c-1")
WF = Workflow.default().compile()


def big_case(store: SqliteStore, n: int, entries: int) -> str:
    """A case with ``entries`` timeline entries (comments alternating public / internal),
    written in one unit of work."""
    case = Case.open(id=uuid.uuid4().hex, tenant="acme", number=f"CASE-{n:06d}",
                     subject=f"Printer jam {n}", status=WF.initial,
                     status_category=WF.category(WF.initial), workflow=WF.name, actor=ANA,
                     at=T0, links={"contact": "c-1"})
    for i in range(entries - 1):
        who, audience = (CUSTOMER, "public") if i % 2 else (ANA, "internal")
        case.add_comment(f"entry {i}: the tray jams again after the update", audience=audience,
                         actor=who, at=T0 + timedelta(seconds=i))
    with store.unit_of_work("acme") as uow:
        uow.cases.add(case)
        uow.commit()
    return case.id


def raw_move(conn: sqlite3.Connection, source: str, survivor: str) -> None:
    """The SQL of moving every timeline row of ``source`` onto ``survivor`` (on a connection
    opened beforehand, as the store's own is)."""
    try:
        conn.execute("BEGIN IMMEDIATE")
        (top,) = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM timeline WHERE tenant = ? "
                              "AND case_id = ?", ("acme", survivor)).fetchone()
        conn.execute("INSERT INTO timeline (tenant, case_id, seq, entry) SELECT tenant, ?, "
                     "seq + ?, entry FROM timeline WHERE tenant = ? AND case_id = ?",
                     (survivor, top, "acme", source))
        conn.execute("DELETE FROM timeline WHERE tenant = ? AND case_id = ?",
                     ("acme", source))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "cases.db")
        store = SqliteStore(path)
        desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(T0))
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA synchronous = NORMAL")  # as the store runs
        n = 0

        def pair() -> tuple[str, str]:
            nonlocal n
            n += 2
            return big_case(store, n, args.entries), big_case(store, n + 1, args.entries)

        merges: list[float] = []
        moves: list[float] = []
        for _ in range(args.rounds):
            source, survivor = pair()
            t = time.perf_counter()
            desk.merge(source, survivor, actor=ANA)
            merges.append(time.perf_counter() - t)
            source, survivor = pair()
            t = time.perf_counter()
            raw_move(conn, source, survivor)
            moves.append(time.perf_counter() - t)
        conn.close()
        store.close()
    merge_ms = statistics.median(merges) * 1e3
    move_ms = statistics.median(moves) * 1e3
    print(f"entries per case: {args.entries}, rounds: {args.rounds}")
    print(f"ServiceDesk.merge:      {merge_ms:8.2f} ms (median)")
    print(f"raw SQL move of rows:   {move_ms:8.2f} ms (median)")
    print(f"ratio merge / raw move: {merge_ms / move_ms:8.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
