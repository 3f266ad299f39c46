"""The reference web app's list, board and inbox pages at 100k cases: server time per page.

Target (issue 22): ``/cases``, ``/cases/board`` and ``/inbox/cases`` each render in at most
100 ms of server time at 100k cases on SQLite. The cases are bench_views.py's (20 teams, 200
agents, the default workflow's statuses, about 12 % active), imported in bulk once and kept
under /tmp. Each page is requested in process through Starlette's TestClient (ASGI app,
templates and desk calls; no network), median of 15 after one warm-up, for a support lead
working in two teams and for a manager who sees every case.

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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_views import TEAMS, TENANT, fill  # noqa: E402

from caselib import Actor, ServiceDesk, TenantSettings  # noqa: E402
from caselib._webdemo import load_app_module  # noqa: E402
from caselib.access import AccessPolicy  # noqa: E402
from caselib.storage.sqlite import SqliteStore  # noqa: E402

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

USERS = {
    "lead": Actor.agent("agent017", "support_lead", teams=[TEAMS[3], TEAMS[11]]),
    "manager": Actor.agent("boss", "manager"),
}
PAGES = ("/cases", "/cases?tab=all&priority=high", "/cases/board", "/inbox/cases")
TARGET_MS = 100.0


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
    print(f"web app pages at {args.cases:,} cases on SQLite (median of 15, server time)")
    print(f"{'page':<32} {'user':<8} {'ms':>8}  target ≤ {TARGET_MS:.0f} ms")
    for user in USERS:
        client = TestClient(app)
        client.cookies.set("user", user)
        for page in PAGES:
            ms = page_ms(client, page)
            flag = "ok" if ms <= TARGET_MS else "OVER"
            print(f"{page:<32} {user:<8} {ms:8.1f}  {flag}", flush=True)
    store.close()


if __name__ == "__main__":
    main()
