"""Automation benchmarks: the time-rule sweep of ``run_automations`` and webhook delivery.

Run from the repository root::

    python benchmarks/bench_automation.py [--cases 1000000] [--due-percent 1] [--rules 100]
        [--db PATH]

``--db PATH`` keeps the filled store at ``PATH`` (filled on the first run, for the given
``--cases`` and ``--due-percent``) and measures copies of it, so later runs skip the fill
(minutes at 1M cases). The file must have been filled by this script with the same figures.

1. A SQLite store of ``--cases`` waiting cases (default 1,000,000), ``--due-percent`` of them
   (default 1 %) past the *pending follow-up* rule's due time, under ``--rules`` tenant rules
   (default 100: the follow-up and 99 time rules whose conditions do not hold). Prints the
   seconds of one ``run_automations(now)``, the seconds of raw SQL doing the least any such
   sweep must (page the due range of ``automation_schedule``, read those cases' documents,
   write their ledger rows and clear their schedule rows, one commit per page), and the
   ratio of the two (the issue's goal: at most 2x); then a second run at the same instant
   (must apply nothing); then raw SQL that also writes what each application records (a
   timeline entry, an outbox row, the case's new version and document) and that ratio.
2. Webhook throughput: ``--webhooks`` (default 2000) signed POSTs with keep-alive to a
   stdlib HTTP server on 127.0.0.1 started here, through :class:`HttpWebhookPoster`
   (goal: at least 500 per second).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

try:
    import caselib  # noqa: F401
except ImportError:  # running from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib import Actor, MemoryStore, ServiceDesk, TenantSettings
from caselib.adapters import HttpWebhookPoster
from caselib.automation import AutomationRule, add_business_days, preset
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from caselib.timeutil import to_iso

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
AGENT = Actor.agent("ana")


def rules(n: int) -> list[AutomationRule]:
    """The pending follow-up plus ``n - 1`` time rules whose conditions never hold."""
    out = [preset("pending_follow_up")]
    for i in range(n - 1):
        out.append(AutomationRule.from_dict({
            "id": f"r{i}", "trigger": {"time": {"since": "category", "category": "waiting",
                                                "days": 1 + i % 9, "business": True}},
            "when": {"field": "category", "equals": f"never-{i}"},
            "actions": [{"do": "note", "body": "x"}]}))
    return out


def template(waiting_since: datetime) -> Any:
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=FrozenClock(waiting_since))
    case = desk.create_case(subject="Printer jams on tray 2", actor=AGENT,
                            category="Technical", links={"contact": "c@example.com"})
    for status in ("open", "in_progress", "pending_customer"):
        case = desk.transition(case.id, status, actor=AGENT)
    return case


def fill(path: Path, cases: int, due: int) -> None:
    """Import ``cases`` waiting cases and their schedule rows (``due`` of them due)."""
    import attrs

    late = template(NOW - timedelta(days=10))
    fresh = template(NOW - timedelta(hours=1))
    store = SqliteStore(path)
    rng = random.Random(5)
    every = max(1, cases // max(1, due))
    chunk: list[Any] = []
    sched: list[tuple[str, str, str]] = []
    made = 0
    for i in range(cases):
        is_due = made < due and i % every == 0
        made += is_due
        base = late if is_due else fresh
        case = base.clone()
        case.id = f"{rng.getrandbits(128):032x}"
        case.number = f"CASE-{i + 1:07d}"
        case.version = 0
        case.timeline = [attrs.evolve(e) for e in base.timeline]
        chunk.append(case)
        anchor = base.timeline[-1].at
        sched.append(("acme", case.id, to_iso(add_business_days(anchor, 1 if not is_due
                                                                   else 5))))
        if len(chunk) == 20_000:
            store.import_cases(chunk)
            chunk = []
    if chunk:
        store.import_cases(chunk)
    store.close()
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.executemany("INSERT INTO automation_schedule VALUES (?, ?, ?)", sched)
    conn.close()


def time_run(path: Path, n_rules: int) -> tuple[float, int, float]:
    store = SqliteStore(path)
    desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(NOW),
                       settings=TenantSettings(automations=rules(n_rules)))
    start = time.perf_counter()
    report = desk.run_automations(NOW, batch=500)
    elapsed = time.perf_counter() - start
    again = time.perf_counter()
    second = desk.run_automations(NOW, batch=500)
    repeat = time.perf_counter() - again
    store.close()
    assert second.total_applied == 0, "a second run at the same instant must do nothing"
    return elapsed, report.total_applied, repeat


def time_floor(path: Path, batch: int = 500, full: bool = False) -> float:
    """Raw SQL: page the due range, read the documents, write ledger rows, clear schedule;
    ``full``: also the rows every application writes (a timeline entry, an outbox row, the
    case's version and document), without any domain code."""
    store = SqliteStore(path, checkpoint="inline")
    conn = store._pool.checkout()
    stamp = to_iso(NOW)
    start = time.perf_counter()
    while True:
        conn.execute("BEGIN IMMEDIATE")
        ids = [r[0] for r in conn.execute(
            "SELECT case_id FROM automation_schedule WHERE tenant = 'acme' AND next_at <= ? "
            "ORDER BY next_at, case_id LIMIT ?", (stamp, batch))]
        if not ids:
            conn.execute("COMMIT")
            break
        marks = ",".join("?" * len(ids))
        docs = conn.execute(f"SELECT doc FROM cases WHERE tenant = 'acme' AND id IN ({marks})",
                            ids).fetchall()
        assert len(docs) == len(ids)
        conn.executemany("INSERT INTO automation_ledger VALUES ('acme', ?, "
                         "'pending_follow_up', 'x', ?)", [(i, stamp) for i in ids])
        conn.executemany("DELETE FROM automation_schedule WHERE tenant = 'acme' "
                         "AND case_id = ?", [(i,) for i in ids])
        if full:
            conn.executemany(
                "INSERT INTO timeline VALUES ('acme', ?, 99, '{\"kind\":\"automation\"}')",
                [(i,) for i in ids])
            conn.executemany(
                "INSERT INTO outbox (key, tenant, case_id, type, payload, created_at) "
                "VALUES (?, 'acme', ?, 'automation.applied', '{}', ?)",
                [(f"{i}:9:0", i, stamp) for i in ids])
            conn.executemany("UPDATE cases SET version = version + 1, doc = ?, updated_at = ? "
                             "WHERE tenant = 'acme' AND id = ?",
                             [(d[0], stamp, i) for d, i in zip(docs, ids, strict=False)])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    store._pool.checkin(conn)
    store.close()
    return elapsed


def _on_copy(path: Path, tmp: Path, measure: Any) -> Any:
    """``measure`` of a fresh copy of the store at ``path`` (removed afterwards)."""
    copy = tmp / "copy.db"
    shutil.copy(path, copy)
    os.sync()
    try:
        return measure(copy)
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)


def bench_webhooks(n: int) -> float:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    poster = HttpWebhookPoster({"default": b"secret"})
    body = {"rule": "critical_webhook", "case": {"number": "CASE-0001", "subject": "x" * 80}}
    start = time.perf_counter()
    for i in range(n):
        assert poster.post(url, "default", body, f"k{i}")
    elapsed = time.perf_counter() - start
    poster.close()
    server.shutdown()
    server.server_close()
    return n / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--due-percent", type=float, default=1.0)
    parser.add_argument("--rules", type=int, default=100)
    parser.add_argument("--webhooks", type=int, default=2000)
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--db", type=Path, default=None,
                        help="keep the filled store here and reuse it on later runs")
    args = parser.parse_args()
    if not args.no_sweep:
        due = int(args.cases * args.due_percent / 100)
        tmp = Path(tempfile.mkdtemp(prefix="bench-automation-"))
        try:
            kept: Path | None = args.db
            path = tmp / "cases.db" if kept is None else kept
            if kept is None or not kept.exists():
                began = time.perf_counter()
                fill(path, args.cases, due)
                SqliteStore(path, checkpoint="inline").close()  # the WAL into the file
                print(f"filled {args.cases:,} waiting cases ({due:,} due) in "
                      f"{time.perf_counter() - began:.0f} s")
            else:
                SqliteStore(path, checkpoint="inline").close()  # migrated, checkpointed
                print(f"reusing {path} ({args.cases:,} cases, {due:,} due)")
            # each measurement on its own fresh copy, made just before it and removed after:
            # at 1M cases a store is ~6 GB, and copies made up front would push each other
            # out of the page cache, timing the disk for some measurements and not others
            elapsed, applied, repeat = _on_copy(path, tmp, lambda p: time_run(p, args.rules))
            floor = _on_copy(path, tmp, time_floor)
            full = _on_copy(path, tmp, lambda p: time_floor(p, full=True))
            print(f"run_automations, {args.rules} rules: {elapsed:.2f} s, {applied:,} applied "
                  f"({applied / elapsed:,.0f}/s); second run at the same instant: "
                  f"{repeat * 1000:.0f} ms, 0 applied")
            print(f"raw SQL floor (due range, documents, ledger rows): {floor:.2f} s")
            print(f"ratio: {elapsed / floor:.1f}x (goal <= 2x)")
            print(f"raw SQL with the rows an application writes (timeline, outbox, case): "
                  f"{full:.2f} s; ratio {elapsed / full:.1f}x")
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    rate = bench_webhooks(args.webhooks)
    print(f"webhooks to 127.0.0.1 with keep-alive: {rate:,.0f}/s (goal >= 500/s)")


if __name__ == "__main__":
    main()
