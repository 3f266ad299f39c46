"""Reports at scale: the service-desk scorecard and the summary cards, computed by the store
(SQL aggregates) beside the host's way (loading the cases into Python and computing the same
figures), as a ratio, in one run.

Sections (one function per figure, so more report figures slot in beside them):

- data: ``build_sqlite`` / ``build_postgres`` fill a store with ``N`` cases of a year of
  realistic history (first responses, waiting pauses, resolutions, reopens, ratings, SLA
  targets evaluated by the engine), inserted in bulk through the store's own
  ``import_cases`` (its row codec, ``executemany`` in chunks). The SQLite file is cached
  under ``--db-dir`` (rebuilt when ``N`` or the schema changes);
- scorecard: ``bench_scorecard`` — the last 30 days, grouped by none and by team;
- cards: ``bench_cards`` — the open queue's and one team's cards.

Targets (issue 17): scorecard of a 30-day period ≤ 1 s on SQLite at 1M cases, ≤ 0.5 s on
PostgreSQL at 200k.

Run::

    python benchmarks/bench_reports.py                                   # 1M SQLite, 200k PG
    python benchmarks/bench_reports.py --sqlite-cases 100000 --pg-cases 0
    python benchmarks/bench_reports.py --no-host                          # store figures only
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import attrs

from caselib import Actor, CaseQuery, ServiceDesk, TenantSettings
from caselib.cases import Case
from caselib.ports import CaseSummary, Store
from caselib.reports import CaseFacts, DeflectionFunnel, Period, compute_cards, compute_scorecard
from caselib.sla import SlaPolicy, evaluate
from caselib.testing import FrozenClock
from caselib.vocab import Audience, StatusCategory

DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
TENANT = "acme"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
YEAR = timedelta(days=365)
AGENT = Actor.agent("bench", "admin")
CUSTOMER = Actor.customer("cust")
TEAMS = ("t1", "t2", "t3", "t4", "t5", "t6")
AGENTS = tuple(f"agent{i}" for i in range(40))
SOURCES = ("email", "web", "phone", "chat", "portal")
PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
POLICY = SlaPolicy.default()
H = timedelta(hours=1)


# --- data -------------------------------------------------------------------------------------


_LIMIT = NOW - timedelta(seconds=1)


def later(span: timedelta, t0: datetime) -> datetime | None:
    """``t0 + span`` if it comes before the data's "now", else ``None`` (not yet)."""
    nxt = t0 + span
    return nxt if nxt < _LIMIT else None


def make_cases(n: int, seed: int = 17) -> Iterator[Case]:
    """``n`` cases created evenly over the year before ``NOW``, each with a history: a first
    response, sometimes a waiting stretch, usually a resolution (older cases almost always),
    a few reopens and ratings; the SLA engine's targets evaluated at the last event."""
    rng = random.Random(seed)
    step = YEAR / max(n, 1)
    for i in range(n):
        at = NOW - YEAR + step * i
        case = Case.open(
            id=f"c{i:08d}", tenant=TENANT, number=f"CASE-{i + 1:08d}",
            subject=f"Printer {i % 97} jammed", status="new", status_category=StatusCategory.NEW,
            workflow="default", actor=AGENT, at=at, priority=rng.choice(PRIORITIES),
            source=rng.choice(SOURCES), category=rng.choice(("Billing", "Technical", None)),
            links={"contact": "cust"},
        )
        case.assign(assignee=rng.choice(AGENTS), team=rng.choice(TEAMS), actor=AGENT, at=at)
        t = at
        first = later(timedelta(minutes=rng.expovariate(1 / 240)), t)
        if first is not None:
            t = first
            case.move_to("open", StatusCategory.OPEN, actor=AGENT, at=t)
            case.add_comment("Looking", audience=Audience.PUBLIC, actor=AGENT, at=t)
            if rng.random() < 0.25:
                wait = later(H, t)
                back = None if wait is None else later(H * rng.uniform(1, 48), wait)
                if wait is not None and back is not None:
                    case.move_to("pending_customer", StatusCategory.WAITING, actor=AGENT, at=wait)
                    case.move_to("open", StatusCategory.OPEN, actor=AGENT, at=back)
                    t = back
            age = NOW - at
            if rng.random() < (0.97 if age > timedelta(days=14) else 0.5):
                done = later(H * rng.expovariate(1 / 30), t)
                if done is not None:
                    t = done
                    case.move_to("resolved", StatusCategory.RESOLVED, actor=AGENT, at=t,
                                 note="done")
                    again = later(H * rng.uniform(1, 72), t) if rng.random() < 0.05 else None
                    if again is not None:
                        t = again
                        case.move_to("open", StatusCategory.OPEN, actor=AGENT, at=t)
                    elif rng.random() < 0.2:
                        rated = later(H * rng.uniform(1, 48), t)
                        if rated is not None:
                            t = rated
                            case.record_csat(rng.choice((1, 3, 4, 5, 5, 5)), actor=AGENT, at=t)
        result = evaluate(case, POLICY, t)
        case.sla_policy, case.sla_started_at = POLICY.id, at
        case.pauses, case.sla_targets = list(result.pauses), list(result.targets)
        yield case


def _import(store: Any, n: int) -> float:
    t = time.perf_counter()
    chunk = 20_000
    gen = make_cases(n)
    while True:
        batch = [c for _, c in zip(range(chunk), gen, strict=False)]
        if not batch:
            break
        store.import_cases(batch)
    return time.perf_counter() - t


def build_sqlite(n: int, db_dir: str) -> Store:
    """The cached SQLite file of ``n`` cases (built on the first run, ~3 min per million)."""
    from caselib.storage.sqlite import SCHEMA_VERSION, SqliteStore

    path = Path(db_dir) / f"caselib-bench-reports-{n}-v{SCHEMA_VERSION}.db"
    if path.exists():
        return SqliteStore(path)
    tmp = path.with_suffix(".building")
    for leftover in Path(db_dir).glob(tmp.name + "*"):
        leftover.unlink()
    store = SqliteStore(tmp)
    secs = _import(store, n)
    store.close()
    tmp.rename(path)
    print(f"built {path} ({n:,} cases) in {secs:.0f} s")
    return SqliteStore(path)


def build_postgres(n: int) -> Store:
    """A PostgreSQL schema of ``n`` cases, reused when it already holds them."""
    from caselib.storage.postgres import SCHEMA_VERSION, PostgresStore

    schema = f"bench_reports_{n}_v{SCHEMA_VERSION}"
    store = PostgresStore(DSN, schema=schema)
    with store.unit_of_work(TENANT) as uow:
        have = uow.cases.count(CaseQuery())
    if have != n:
        store.drop_schema()
        store.close()
        store = PostgresStore(DSN, schema=schema)
        secs = _import(store, n)
        print(f"built PostgreSQL schema {schema} ({n:,} cases) in {secs:.0f} s")
        import psycopg

        with psycopg.connect(DSN, autocommit=True) as conn:
            conn.execute(f'VACUUM ANALYZE "{schema}".cases')
    return store


# --- measuring ----------------------------------------------------------------------------------


def best_of(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    """The fastest of ``runs`` runs in seconds, and the last result."""
    times, result = [], None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return min(times), result


def _desk(store: Store) -> ServiceDesk:
    return ServiceDesk(store, tenant=TENANT, clock=FrozenClock(NOW),
                       settings=TenantSettings(router=None))


def _load_all(store: Store, query: CaseQuery) -> list[Case]:
    """Every case of ``query``, whole, page by page: the host's way of reading them."""
    out: list[Case] = []
    q = CaseQuery(**{**_fields(query), "limit": 1000})
    with store.unit_of_work(TENANT) as uow:
        while True:
            page = uow.cases.query_cases(q)
            out.extend(page.cases)
            if page.next_cursor is None:
                return out
            q = CaseQuery(**{**_fields(q), "after": page.next_cursor})


def _fields(q: CaseQuery) -> dict[str, Any]:
    return {a.name: getattr(q, a.name) for a in attrs.fields(CaseQuery)}


def host_scorecard(store: Store, period: Period, group_by: Any) -> Any:
    """The host's way: load the cases created or resolved in the period and every open one
    (three filtered lists, whole cases), then compute the figures in Python. (It still
    misses ratings given in the period to cases resolved before it: no list filters on
    them.)"""
    byid: dict[str, Case] = {}
    for q in (CaseQuery(created_from=period.start, created_before=period.end),
              CaseQuery(resolved_from=period.start, resolved_before=period.end),
              CaseQuery(status_categories={"new", "open", "waiting"})):
        byid.update((c.id, c) for c in _load_all(store, q))
    return compute_scorecard((CaseFacts.of(c) for c in byid.values()), period, group_by,
                             DeflectionFunnel(0, 0, 0), NOW)


def host_cards(store: Store, query: CaseQuery) -> Any:
    """The host's way: every summary of the view, page by page, then the cards in Python."""
    rows: list[CaseSummary] = []
    q = CaseQuery(**{**_fields(query), "limit": 1000})
    with store.unit_of_work(TENANT) as uow:
        while True:
            page = uow.cases.query(q)
            rows.extend(page.items)
            if page.next_cursor is None:
                break
            q = CaseQuery(**{**_fields(q), "after": page.next_cursor})
    return compute_cards(rows, NOW, "UTC")


def _line(label: str, store_s: float, host_s: float | None) -> None:
    ratio = ("" if host_s is None else
             f"   host's way {host_s * 1000:9.1f} ms  ({host_s / store_s:,.0f}x)")
    print(f"  {label:<36} {store_s * 1000:9.1f} ms{ratio}")


# --- scorecard ------------------------------------------------------------------------------------


def bench_scorecard(store: Store, *, host: bool, runs: int) -> None:
    """The scorecard of the last 30 days through the desk (store aggregates), beside the
    host's way; the two must agree on every figure the host can compute."""
    desk = _desk(store)
    period = Period(NOW - timedelta(days=30), NOW)
    for group_by in ("none", "team"):
        secs, sc = best_of(lambda g=group_by: desk.scorecard(
            start=period.start, end=period.end, group_by=g, actor=AGENT), runs)
        host_s = None
        if host:
            host_s, ref = best_of(lambda g=group_by: host_scorecard(store, period, g), 1)
            # (ratings of cases resolved before the period are beyond the host's three lists)
            same = attrs.evolve(ref.total, csat=sc.total.csat)
            assert same == sc.total, "the host's figures differ from the store's"
        _line(f"scorecard 30 days, group_by={group_by}", secs, host_s)
    t = sc.total
    print(f"    (created {t.created:,}, resolved {t.resolved:,}, backlog {t.backlog_end:,}, "
          f"median resolution {t.resolution_calendar.median_seconds} s)")


# --- cards ----------------------------------------------------------------------------------------


def bench_cards(store: Store, *, host: bool, runs: int) -> None:
    """Summary cards of the open queue and of one team's cases."""
    desk = _desk(store)
    for label, query in (("cards: open queue", CaseQuery(status_categories={"new", "open",
                                                                              "waiting"})),
                         ("cards: team t1 (all its cases)", CaseQuery(teams={"t1"}))):
        secs, cards = best_of(lambda q=query: desk.cards(q, actor=AGENT), runs)
        host_s = None
        if host:
            host_s, ref = best_of(lambda q=query: host_cards(store, q), 1)
            assert ref == cards, "the host's cards differ from the store's"
        _line(f"{label} ({cards.total:,})", secs, host_s)


# --- main -----------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sqlite-cases", type=int, default=1_000_000)
    parser.add_argument("--pg-cases", type=int, default=200_000)
    parser.add_argument("--db-dir", default="/tmp")
    parser.add_argument("--runs", type=int, default=3, help="store runs per figure (best)")
    parser.add_argument("--no-host", action="store_true", help="skip the host's-way figures")
    args = parser.parse_args(argv)
    for kind, n in (("SQLite", args.sqlite_cases), ("PostgreSQL", args.pg_cases)):
        if n <= 0:
            continue
        store = build_sqlite(n, args.db_dir) if kind == "SQLite" else build_postgres(n)
        try:
            print(f"{kind}, {n:,} cases")
            bench_scorecard(store, host=not args.no_host, runs=args.runs)
            bench_cards(store, host=not args.no_host, runs=args.runs)
        finally:
            store.close()


if __name__ == "__main__":
    main()
