"""Many worker processes on one PostgreSQL database: throughput, latency, conflicts, and the
invariants that must survive them.

For each N in ``--processes`` (default 1, 2, 4, 8) a fresh schema gets ``--cases`` shared
cases; then N worker processes, each with its own :class:`~caselib.storage.postgres.
PostgresStore` (one pooled connection: a worker runs one unit of work at a time), run a
realistic mix for ``--seconds``:

- 20 % ``create_case``;
- 40 % ``add_comment`` on a random shared case, without ``expected_version`` (a comment
  applies to the latest state: it waits its turn on the case and never conflicts);
- 20 % ``transition`` of a random shared case to another board column, with the
  ``expected_version`` of the read that chose the column (as a form would); a conflict is
  counted, the case re-read and the choice made again (a retry);
- 20 % reads: ``get_case`` or an agent's inbox (``find_cases``), alternately.

It prints, per N: commands per second, p50 / p99 latency per kind, conflicts and retries,
errors. Then it checks the invariants on the database: every case's versions are contiguous
(the versions the workers were handed for a case are exactly 2 .. its final version, once
each), every comment is in its timeline exactly once and the timeline's sequence numbers
have no gaps, and the outbox holds every saved version's events exactly once.

Run::

    python benchmarks/load_postgres.py                    # N = 1, 2, 4, 8; 10 s each
    python benchmarks/load_postgres.py --processes 8 --seconds 5
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any

from caselib import Actor, ConcurrencyConflict, ServiceDesk, TenantSettings, Workflow
from caselib.ports import CaseQuery

DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
TENANT = "load"
COLUMNS = ("pending_agent", "in_progress", "pending_customer")
AGENTS = tuple(f"agent{i}" for i in range(8))
MIX = (("create", 20), ("comment", 40), ("transition", 20), ("read", 20))
TRANSITION_TRIES = 10


def settings() -> TenantSettings:
    # a board: cards move between any two columns, so a transition is always possible
    return TenantSettings(workflow=Workflow.kanban())


def seed(schema: str, n: int) -> list[str]:
    """``n`` shared cases in a fresh schema (a desk-made case, cloned and imported)."""
    from caselib.storage.memory import MemoryStore
    from caselib.storage.postgres import PostgresStore

    model = ServiceDesk(MemoryStore(), tenant=TENANT, settings=settings())
    template = model.create_case(subject="Shared printer jams", actor=Actor.agent("lead"),
                                 assignee=AGENTS[0])
    cases = []
    for i in range(n):
        case = template.clone()
        case.id, case.number, case.version = f"shared-{i:05d}", f"S-{i + 1:05d}", 0
        case.assignee = AGENTS[i % len(AGENTS)]
        cases.append(case)
    store = PostgresStore(DSN, schema=schema)
    try:
        store.import_cases(cases)
    finally:
        store.close()
    return [c.id for c in cases]


def worker(index: int, schema: str, shared: list[str], seconds: float, notify: bool,
           start: Any, out: Any) -> None:
    """One process: the mix until the deadline; sends its records back."""
    from caselib.storage.postgres import PostgresStore

    rng = random.Random(index)
    # (the flag only when asked for, so the script also measures older caselib versions)
    store = PostgresStore(DSN, schema=schema, pool_size=1,
                          **({"notify_outbox": True} if notify else {}))
    desk = ServiceDesk(store, tenant=TENANT, settings=settings())
    agent = Actor.agent(f"worker{index}")
    kinds = [k for k, _ in MIX]
    weights = [w for _, w in MIX]
    latency: dict[str, list[float]] = defaultdict(list)
    saved: list[tuple[str, int]] = []  # (case id, version) of every save this worker made
    comments: list[tuple[str, str]] = []  # (case id, body)
    created: list[str] = []
    conflicts = retries = 0
    errors: list[str] = []
    start.wait()
    deadline = time.monotonic() + seconds
    n = 0
    while time.monotonic() < deadline:
        n += 1
        kind = rng.choices(kinds, weights)[0]
        case_id = rng.choice(shared)
        t = time.perf_counter()
        try:
            if kind == "create":
                case = desk.create_case(subject=f"w{index} case {n}", actor=agent,
                                        description="from the load test")
                created.append(case.id)
                saved.append((case.id, case.version))
            elif kind == "comment":
                body = f"w{index}-{n}"
                case = desk.add_comment(case_id, body, actor=agent)
                comments.append((case_id, body))
                saved.append((case_id, case.version))
            elif kind == "transition":
                for attempt in range(TRANSITION_TRIES):
                    seen = desk.get_case(case_id, actor=agent)
                    to = rng.choice([c for c in COLUMNS if c != seen.status])
                    try:
                        case = desk.transition(case_id, to, actor=agent,
                                               expected_version=seen.version)
                    except ConcurrencyConflict:
                        conflicts += 1
                        if attempt == TRANSITION_TRIES - 1:
                            raise
                        retries += 1
                        continue
                    saved.append((case_id, case.version))
                    break
            elif n % 2:
                desk.get_case(case_id, actor=agent)
            else:
                desk.find_cases(CaseQuery(assignees={rng.choice(AGENTS)}, limit=50), actor=agent)
        except Exception as err:  # counted and reported; the run goes on
            errors.append(f"{kind}: {type(err).__name__}: {err}")
            continue
        latency[kind].append(time.perf_counter() - t)
    store.close()
    out.put({"latency": dict(latency), "saved": saved, "comments": comments,
             "created": created, "conflicts": conflicts, "retries": retries,
             "errors": errors})


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


def check(schema: str, shared: list[str], results: list[dict[str, Any]]) -> list[str]:
    """The invariants; returns what is wrong (empty: all hold)."""
    from caselib.storage.postgres import PostgresStore

    problems: list[str] = []
    versions: dict[str, list[int]] = defaultdict(list)
    for r in results:
        for case_id, version in r["saved"]:
            versions[case_id].append(version)
    expected_comments: dict[str, Counter[str]] = defaultdict(Counter)
    for r in results:
        for case_id, body in r["comments"]:
            expected_comments[case_id][body] += 1
    store = PostgresStore(DSN, schema=schema, pool_size=1)
    try:
        with store.unit_of_work(TENANT) as uow:
            keys = [m.key for m in uow.outbox.pending(limit=1_000_000)]
            pending = len(keys)
        if len(keys) != len(set(keys)):
            problems.append(f"{len(keys) - len(set(keys))} outbox keys appear twice")
        events: dict[tuple[str, int], int] = Counter()
        for key in keys:
            case_id, version, _ = key.rsplit(":", 2)
            events[(case_id, int(version))] += 1
        shared_set = set(shared)
        ids = list(dict.fromkeys([*shared, *(c for r in results for c in r["created"])]))
        with store.unit_of_work(TENANT) as uow:
            cases = {c.id: c for at in range(0, len(ids), 500)
                     for c in uow.cases.get_many(ids[at:at + 500])}
        for case_id in ids:
            case = cases.get(case_id)
            if case is None:
                problems.append(f"{case_id}: missing")
                continue
            # a shared case was imported at version 1 (no events: an import is history), so
            # the workers' saves are 2 ..; a created case's version 1 was handed to a worker
            first = 2 if case_id in shared_set else 1
            handed = sorted(versions.get(case_id, []))
            if handed != list(range(first, case.version + 1)):
                problems.append(f"{case_id}: versions handed out {handed[:5]}… do not run "
                                f"contiguously to its version {case.version}")
            if [e.seq for e in case.timeline] != list(range(1, len(case.timeline) + 1)):
                problems.append(f"{case_id}: timeline sequence has gaps or repeats")
            notes = Counter(e.body for e in case.timeline if e.kind == "note")
            if notes != expected_comments.get(case_id, Counter()):
                problems.append(f"{case_id}: comments stored {sum(notes.values())}, "
                                f"expected {sum(expected_comments[case_id].values())}")
            for version in range(first, case.version + 1):
                if events.get((case_id, version), 0) == 0:
                    problems.append(f"{case_id}: no outbox event for version {version}")
        expected_pairs = {(c, v) for c, vs in versions.items() for v in vs}
        stray = set(events) - expected_pairs
        if stray:
            problems.append(f"{len(stray)} outbox versions no worker saved, e.g. "
                            f"{sorted(stray)[:3]}")
        print(f"   checked {len(ids)} cases, {pending} outbox events, "
              f"{sum(sum(c.values()) for c in expected_comments.values())} comments")
    finally:
        store.close()
    return problems


def run(n: int, seconds: float, shared_cases: int, notify: bool) -> dict[str, Any]:
    from caselib.storage.postgres import PostgresStore

    schema = f"caselib_load_{os.getpid()}_{n}"
    PostgresStore(DSN, schema=schema).drop_schema()
    shared = seed(schema, shared_cases)
    ctx = mp.get_context("spawn")
    start, out = ctx.Barrier(n + 1, timeout=300), ctx.Queue()
    procs = [ctx.Process(target=worker, args=(i, schema, shared, seconds, notify, start, out))
             for i in range(n)]
    for p in procs:
        p.start()
    start.wait()  # every worker is connected and ready: the clock starts now
    t = time.perf_counter()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    elapsed = time.perf_counter() - t
    for p in procs:
        p.join(60)
    problems = check(schema, shared, results)
    PostgresStore(DSN, schema=schema).drop_schema()
    lat: dict[str, list[float]] = defaultdict(list)
    for r in results:
        for kind, values in r["latency"].items():
            lat[kind].extend(values)
    every = [v for values in lat.values() for v in values]
    return {
        "n": n, "ops": len(every), "rate": len(every) / elapsed,
        "p50": pct(every, 0.5), "p99": pct(every, 0.99),
        "kinds": {k: (len(v), pct(v, 0.5), pct(v, 0.99)) for k, v in lat.items()},
        "conflicts": sum(r["conflicts"] for r in results),
        "retries": sum(r["retries"] for r in results),
        "errors": [e for r in results for e in r["errors"]], "problems": problems,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", default="1,2,4,8", help="comma-separated N values")
    parser.add_argument("--seconds", type=float, default=10.0, help="run time per N")
    parser.add_argument("--cases", type=int, default=200, help="shared cases")
    parser.add_argument("--notify", action="store_true",
                        help="workers' stores NOTIFY outbox relays (notify_outbox=True)")
    args = parser.parse_args(argv)
    print(f"load test {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: {args.cases} shared cases, "
          f"{args.seconds:g} s per N, mix {dict(MIX)}, notify_outbox={args.notify}; "
          f"cpus {os.cpu_count()}")
    rows = []
    for n in (int(x) for x in args.processes.split(",")):
        print(f"N = {n} …")
        row = run(n, args.seconds, args.cases, args.notify)
        rows.append(row)
        for kind, (count, p50, p99) in sorted(row["kinds"].items()):
            print(f"   {kind:10s} {count:6d} ops  p50 {p50:7.1f} ms  p99 {p99:7.1f} ms")
        for e in row["errors"][:5]:
            print(f"   error: {e}")
        for p in row["problems"][:10]:
            print(f"   INVARIANT BROKEN: {p}")
    print("\n| N | commands/s | p50 ms | p99 ms | conflicts | retries | errors | invariants |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        ok = "hold" if not r["problems"] else f"{len(r['problems'])} broken"
        print(f"| {r['n']} | {r['rate']:,.0f} | {r['p50']:.1f} | {r['p99']:.1f} | "
              f"{r['conflicts']} | {r['retries']} | {len(r['errors'])} | {ok} |")
    if any(r["problems"] or r["errors"] for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
