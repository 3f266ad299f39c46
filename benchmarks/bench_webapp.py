"""The reference web app's list, board and inbox pages at 100k cases: server time per page,
beside a raw-SQL floor for each page.

Target (issue 22): ``/cases``, ``/cases/board`` and ``/inbox/cases`` each render in at most
100 ms of server time at 100k cases on SQLite. The cases are bench_views.py's (20 teams, 200
agents, the default workflow's statuses, about 12 % active), imported in bulk once and kept
under /tmp. Each page is requested in process through Starlette's TestClient (ASGI app,
templates and desk calls; no network), median of 15 after one warm-up, for a support lead
working in two teams and for a manager who sees every case.

The floor of a page is the SQL that reads the same rows and counts the page shows, written by
hand against the same indexes and run straight on ``sqlite3`` (rows fetched as tuples, not
decoded, nothing rendered), median of 15 in the same run: the list's 50 summary rows, its
summary-card aggregates (for a view that is not active-only, the four index-covered reads a
developer who knows the indexes would write) and the open-by-status counts; the board's
per-status counts and first 20 cards of each active status; the inbox's 50 rows. The ratio
page / floor is what the desk, the app and the templates add on top of the database.

    python benchmarks/bench_webapp.py                 # 100k cases
    python benchmarks/bench_webapp.py --cases 20000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from datetime import UTC, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_views import TEAMS, TENANT, fill  # noqa: E402

from caselib import Actor, ServiceDesk, TenantSettings  # noqa: E402
from caselib._webdemo import load_app_module  # noqa: E402
from caselib.access import AccessPolicy  # noqa: E402
from caselib.storage._sql.columns import SUMMARY_COLUMNS  # noqa: E402
from caselib.storage.sqlite import SqliteStore  # noqa: E402
from caselib.timeutil import to_iso  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

USERS = {
    "lead": Actor.agent("agent017", "support_lead", teams=[TEAMS[3], TEAMS[11]]),
    "manager": Actor.agent("boss", "manager"),
}
PAGES = ("/cases", "/cases?tab=all&priority=high", "/cases/board", "/inbox/cases")
TARGET_MS = 100.0
ACTIVE = "c.status_category IN ('new', 'open', 'waiting')"
ACTIVE_STATUSES = ("new", "open", "in_progress", "pending_customer")
COLUMNS = ", ".join(f"c.{c}" for c in SUMMARY_COLUMNS)
Sql = list[tuple[str, list[object]]]


def scope(user: str) -> tuple[str, list[object]]:
    """The user's read scope as SQL (what ``AccessPolicy.default()`` gives each role)."""
    actor = USERS[user]
    if user == "manager":
        return "1 = 1", []
    return (f"(c.team IN ({', '.join('?' * len(actor.teams))}) OR c.assignee = ?)",
            [*actor.teams, actor.id])


def floor_sql(page: str, user: str, today: str, tomorrow: str) -> Sql:
    """The hand-written SQL reading what ``page`` shows ``user``."""
    where, params = scope(user)
    base = f"c.tenant = ? AND {where}"
    args: list[object] = [TENANT, *params]
    # unscoped: the (tenant, status) index alone; scoped: the active cases' index
    counts = ((f"SELECT c.status, COUNT(*) FROM cases c WHERE {base} AND c.status IN "
               f"({', '.join('?' * len(ACTIVE_STATUSES))}) GROUP BY c.status",
               [*args, *ACTIVE_STATUSES]) if not params else
              (f"SELECT c.status, COUNT(*) FROM cases c WHERE {base} AND {ACTIVE} "
               "GROUP BY c.status", args))
    if page == "/cases":
        return [
            (f"SELECT {COLUMNS} FROM cases c WHERE {base} AND {ACTIVE} "
             "ORDER BY c.updated_at DESC, c.id DESC LIMIT 50", args),
            ("SELECT COUNT(*), SUM(c.priority = 'urgent'), COUNT(c.csat), SUM(c.csat), "
             "SUM(c.csat >= 4), COUNT(c.frt_s), SUM(c.frt_s) FROM cases c "
             f"WHERE {base} AND {ACTIVE}", args),
            counts]
    if page.startswith("/cases?"):
        high = f"{base} AND c.priority = 'high'"
        return [
            (f"SELECT {COLUMNS} FROM cases c WHERE {base} AND c.priority_rank = 2 "
             "ORDER BY c.updated_at DESC, c.id DESC LIMIT 50", args),
            (f"SELECT COUNT(*), SUM({ACTIVE}), SUM({ACTIVE} AND c.priority = 'urgent') "
             f"FROM cases c WHERE {high}", args),
            (f"SELECT COUNT(*) FROM cases c WHERE {high} AND c.resolved_at >= ? "
             f"AND c.resolved_at < ? AND NOT {ACTIVE}", [*args, today, tomorrow]),
            (f"SELECT COUNT(c.csat), SUM(c.csat), SUM(c.csat >= 4) FROM cases c "
             f"WHERE {high} AND c.csat_at IS NOT NULL", args),
            (f"SELECT COUNT(c.frt_s), SUM(c.frt_s) FROM cases c WHERE {high} "
             "AND c.first_response_at IS NOT NULL", args),
            counts]
    if page == "/cases/board":
        return [counts, *((f"SELECT {COLUMNS} FROM cases c WHERE {base} AND c.status = ? "
                           "ORDER BY c.updated_at DESC, c.id DESC LIMIT 20", [*args, status])
                          for status in ACTIVE_STATUSES)]
    actor = USERS[user]
    mine = "c.assignee = ?"
    if actor.teams:
        mine = (f"(c.assignee = ? OR (c.assignee IS NULL AND c.team IN "
                f"({', '.join('?' * len(actor.teams))})))")
    return [(f"SELECT {COLUMNS} FROM cases c WHERE c.tenant = ? AND {ACTIVE} AND {mine} "
             "ORDER BY c.created_at, c.id LIMIT 50", [TENANT, actor.id, *actor.teams])]


def floor_ms(conn: sqlite3.Connection, statements: Sql, runs: int = 15) -> float:
    def once() -> None:
        for sql, params in statements:
            conn.execute(sql, params).fetchall()

    once()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        once()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def page_ms(client: TestClient, path: str, runs: int = 15) -> float:
    assert client.get(path).status_code == 200, path
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--db", default=os.path.join(tempfile.gettempdir(),
                                                     "caselib-bench-views.sqlite3"))
    args = parser.parse_args(argv)
    path = f"{args.db}.{args.cases}"
    store = SqliteStore(path)

    def analyze() -> None:
        with sqlite3.connect(path) as conn:
            conn.execute("ANALYZE")

    fill(store, args.cases, analyze)
    desk = ServiceDesk(store, tenant=TENANT,
                       settings=TenantSettings(access=AccessPolicy.default()))
    app = load_app_module().create_app(desk, USERS)
    day = desk.clock.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    bounds = [to_iso(day), to_iso(day + timedelta(days=1))]
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA cache_size = -65536")  # the store's page cache (64 MiB), for fairness
    print(f"web app pages at {args.cases:,} cases on SQLite (median of 15, server time)")
    print(f"{'page':<32} {'user':<8} {'page ms':>8} {'floor ms':>9} {'ratio':>7}  "
          f"target ≤ {TARGET_MS:.0f} ms")
    for user in USERS:
        client = TestClient(app)
        client.cookies.set("user", user)
        for page in PAGES:
            ms = page_ms(client, page)
            floor = floor_ms(conn, floor_sql(page, user, *bounds))
            flag = "ok" if ms <= TARGET_MS else "OVER"
            ratio = f"{ms / floor:6.1f}x" if floor >= 0.1 else "      -"  # an empty read
            print(f"{page:<32} {user:<8} {ms:8.1f} {floor:9.1f} {ratio}  {flag}", flush=True)
    conn.close()
    store.close()


if __name__ == "__main__":
    main()
