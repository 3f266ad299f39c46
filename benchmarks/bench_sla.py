"""SLA benchmarks: business-calendar due-time computations and the breach sweep.

Run from the repository root::

    python benchmarks/bench_sla.py

Prints, from one run, due computations per second for spans of 1 hour, 1 week and 1 year on a
realistic calendar (Europe/Berlin, Mon-Fri 09:00-12:00 + 13:00-17:30, German holidays), the
1-year / 1-hour cost ratio (the calendar's cost must not grow with the span), and the same spans
against the minute-walking oracle in ``caselib.testing.calendar_oracle`` with the speed-up;
then a breach sweep over SQLite stores of 100,000 and 1,000,000 open cases with the same 10,000
(1 % of a million) due, which should take about the same time (``--sweep-sizes``, ``--due``,
``--no-sweep`` to change that). Each store is swept with its due cases scattered (every
hundredth case at 1M: each due case on storage pages of its own, the worst case) and clustered
(the oldest cases, as after a sweep outage or a tightened policy), and beside each sweep raw SQL
doing the same reads and writes without domain code is timed on a copy, and so is raw SQL
writing only the least any sweep must (``time_least_writes``; ``--no-floor`` skips both).
Timings on a shared 2-core machine drift by tens of per cent from one sweep to the next:
``--repeat N`` adds N sweeps of each store in fresh processes on copies and prints their median
beside the single in-process sweep.

Case ids: ``uuid`` (the default) gives each case a random 32-hex id, as ``ServiceDesk`` does, so
the timeline (clustered by case id) is written in random order and its pages keep the free
space random inserts leave; ``sequential`` (``c00000000``, … in import order, the layout of
earlier runs) packs every timeline page full, so nearly every entry the sweep appends splits a
page: a stress layout, reported beside the other (``--ids``).
"""

from __future__ import annotations

import itertools
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

try:
    import caselib  # noqa: F401
except ImportError:  # running from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib.sla import BusinessCalendar
from caselib.testing.calendar_oracle import oracle_add

SPANS: dict[str, timedelta] = {
    "1 hour": timedelta(hours=1),
    "1 week": timedelta(weeks=1),
    "1 year": timedelta(days=365),
}
#: The oracle walks every real minute of the span: a 1-year span takes seconds per call.
ORACLE_CALLS: dict[str, int] = {"1 hour": 200, "1 week": 20, "1 year": 3}
CALENDAR_CALLS = 20_000


def realistic_calendar() -> BusinessCalendar:
    """Europe/Berlin office hours with a lunch break and ~10 holidays a year (2026-2029)."""
    weekday = ["09:00-12:00", "13:00-17:30"]
    fixed = ["01-01", "05-01", "10-03", "12-25", "12-26"]
    moving = {  # Good Friday, Easter Monday, Ascension, Whit Monday
        2026: ["04-03", "04-06", "05-14", "05-25"],
        2027: ["03-26", "03-29", "05-06", "05-17"],
        2028: ["04-14", "04-17", "05-25", "06-05"],
        2029: ["03-30", "04-02", "05-10", "05-21"],
    }
    holidays: list[dict[str, object]] = []
    for year in range(2026, 2030):
        holidays += [{"date": f"{year}-{md}"} for md in fixed + moving[year]]
        holidays.append({"date": f"{year}-12-24", "closed_from": "12:00"})
    return BusinessCalendar.from_dict(
        {
            "timezone": "Europe/Berlin",
            "hours": dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), weekday),
            "holidays": holidays,
        }
    )


def random_starts(n: int, seed: int = 7) -> list[datetime]:
    """Minute-aligned starts spread over 2026 (the oracle needs whole minutes)."""
    rng = random.Random(seed)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    return [base + timedelta(minutes=rng.randrange(365 * 24 * 60)) for _ in range(n)]


def per_second(
    fn: Callable[[datetime, timedelta], datetime], starts: list[datetime], span: timedelta
) -> float:
    """Calls per second of ``fn(start, span)`` over ``starts`` (best of a few rounds)."""
    best = float("inf")
    rounds = 3 if len(starts) > 10 else 1
    for _ in range(rounds):
        t0 = time.perf_counter()
        for start in starts:
            fn(start, span)
        best = min(best, time.perf_counter() - t0)
    return len(starts) / best


def bench_calendar(calendar: BusinessCalendar) -> dict[str, float]:
    """Due computations per second of ``BusinessCalendar.add`` for each span."""
    starts = random_starts(CALENDAR_CALLS)
    for start in starts[:2000]:  # warm the per-year zone-transition cache
        calendar.add(start, SPANS["1 year"])
    return {name: per_second(calendar.add, starts, span) for name, span in SPANS.items()}


def bench_oracle(calendar: BusinessCalendar) -> dict[str, float]:
    """Due computations per second of the minute-walking oracle (few calls per span)."""
    return {
        name: per_second(
            lambda s, d: oracle_add(calendar, s, d), random_starts(ORACLE_CALLS[name]), span
        )
        for name, span in SPANS.items()
    }


def check_agreement(calendar: BusinessCalendar) -> None:
    """Refuse to report speed for wrong answers: the calendar must match the oracle."""
    for start in random_starts(20, seed=11):
        for span in (SPANS["1 hour"], SPANS["1 week"]):
            assert calendar.add(start, span) == oracle_add(calendar, start, span), (start, span)


def report_calendar() -> None:
    """Print the calendar section of the report."""
    calendar = realistic_calendar()
    check_agreement(calendar)
    fast = bench_calendar(calendar)
    print("== Business calendar: add(start, span) ==")
    print(
        f"calendar: Europe/Berlin, Mon-Fri 09:00-12:00 + 13:00-17:30, "
        f"{len(calendar.holidays)} holidays over 2026-2029"
    )
    print(
        f"{'span':<8} {'calendar/s':>12} {'µs/call':>9} {'oracle/s':>10} "
        f"{'oracle calls':>12} {'speed-up':>10}"
    )
    slow = bench_oracle(calendar)
    for name in SPANS:
        print(
            f"{name:<8} {fast[name]:>12,.0f} {1e6 / fast[name]:>9.1f} {slow[name]:>10,.2f} "
            f"{ORACLE_CALLS[name]:>12} {fast[name] / slow[name]:>9,.0f}x"
        )
    ratio = fast["1 hour"] / fast["1 year"]
    print(f"cost ratio 1 year / 1 hour: {ratio:.2f} (target <= 2)")
    print(f"1-week throughput: {fast['1 week']:,.0f}/s (target >= 20,000/s)")
    print(
        f"(oracle timed on {ORACLE_CALLS['1 year']} calls for the 1-year span: it walks "
        "every minute)"
    )


# --- sweep --------------------------------------------------------------------------------------


def fill_store(path: Path, open_cases: int, due: int, now: datetime,
               layout: str = "scattered", ids: str = "uuid") -> None:
    """Write ``open_cases`` open cases, ``due`` of them past their resolution due time.

    Cases are clones of one case made by a real desk (so every field is valid), with their
    creation time set so that the default policy puts exactly ``due`` of them past due at
    ``now``; SLA targets are derived by the same code the desk uses, then bulk-imported.
    """
    from caselib import Actor, MemoryStore, ServiceDesk
    from caselib.sla import SlaPolicy, evaluate
    from caselib.storage.sqlite import SqliteStore
    from caselib.testing import FrozenClock

    policy = SlaPolicy.default()
    agent = Actor.agent("ana")
    store = SqliteStore(path)
    rng = random.Random(11)
    # Two templates (due and not due), SLA already evaluated; clones differ only in
    # id, number and creation time, shifted together with their due times.
    templates = []
    for age in (timedelta(hours=80), timedelta(hours=1)):  # normal: resolution 72 h
        clock = FrozenClock(now - age)
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
        case = desk.create_case(subject="Printer jams on tray 2", actor=agent,
                                priority="normal", category="Technical")
        case = desk.add_comment(case.id, "On it", actor=agent, audience="public")
        evaluate(case, policy, now)
        templates.append(case)
    chunk: list[object] = []
    due_every = max(1, open_cases // max(1, due))
    made_due = 0
    for i in range(open_cases):
        # scattered: every (n/due)-th case, so each due case sits on pages of its own;
        # clustered: the oldest cases, as after a sweep outage or a tightened policy
        late = i < due if layout == "clustered" else made_due < due and i % due_every == 0
        made_due += late
        base = templates[0 if late else 1]
        shift = timedelta(seconds=rng.randint(0, 3600))
        case = base.clone()
        # uuid: random 32-hex ids, as ServiceDesk makes them; sequential: c00000000, … in
        # import order, which packs every timeline page full (see the module docstring)
        case.id = f"{rng.getrandbits(128):032x}" if ids == "uuid" else f"c{i:08d}"
        case.number = f"CASE-{i + 1:07d}"
        case.version = 0
        case.created_at = case.updated_at = base.created_at - shift
        case.sla_started_at = case.created_at
        case.timeline = [attrs_evolve_at(e, e.at - shift) for e in base.timeline]
        case.first_response_at = base.first_response_at and base.first_response_at - shift
        case.sla_targets = [attrs_evolve_due(t, shift) for t in base.sla_targets]
        chunk.append(case)
        if len(chunk) == 20_000:
            store.import_cases(chunk, events=False)  # type: ignore[arg-type]
            chunk = []
    if chunk:
        store.import_cases(chunk, events=False)  # type: ignore[arg-type]
    store.close()


def attrs_evolve_at(entry: object, at: datetime) -> Any:
    import attrs

    return attrs.evolve(entry, at=at)  # type: ignore[misc]


def attrs_evolve_due(target: object, shift: timedelta) -> Any:
    import attrs

    def moved(value: datetime | None) -> datetime | None:
        return None if value is None else value - shift

    t: Any = target
    return attrs.evolve(t, due_at=moved(t.due_at), warn_at=moved(t.warn_at),
                        met_at=moved(t.met_at))


def settle(path: Path) -> None:
    """Flush the freshly written store to disk before timing anything on it.

    Filling writes gigabytes; without this the first fsync of the measured run (a WAL
    checkpoint) waits for the kernel to write back the whole fill, which is setup cost.
    """
    import os

    os.sync()


def time_sweep(path: Path, now: datetime, quiet: bool = False) -> tuple[float, int]:
    """Seconds for one sweep at ``now`` and the number of breaches it recorded."""
    from caselib import Actor, ServiceDesk
    from caselib.storage.sqlite import SqliteStore
    from caselib.testing import FrozenClock

    store = SqliteStore(path)
    desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(now))
    start = time.perf_counter()
    report = desk.sweep_breaches(actor=Actor.system())
    elapsed = time.perf_counter() - start
    again = time.perf_counter()
    second = desk.sweep_breaches(actor=Actor.system())
    repeat = time.perf_counter() - again
    closing = time.perf_counter()
    store.close()  # waits for the background checkpointer and checkpoints what is left
    closed = time.perf_counter() - closing
    assert not second.breaches, "a second sweep at the same instant must change nothing"
    print(f"    (repeat sweep at the same instant: {repeat * 1000:.0f} ms, 0 breaches; "
          f"closing the store afterwards, with its last checkpoint: {closed * 1000:.0f} ms)",
          file=sys.stderr if quiet else sys.stdout)
    return elapsed, len(report.breaches)


def _time_raw(path: Path, now: datetime, batch: int,
              write: Callable[[Any, list[str], str], None]) -> float:
    """Seconds for raw SQL walking the due cases ``batch`` at a time, as the sweep does, with
    ``write(connection, ids, now as stored text)`` taking each batch off the due index.

    The same connection settings as the store (it opens one from a ``SqliteStore``), one
    commit per batch, checkpointing inline as SQLite does by default.
    """
    from caselib.storage.sqlite import SqliteStore
    from caselib.timeutil import to_iso

    store = SqliteStore(path, checkpoint="inline")
    conn = store._pool.checkout()
    stamp = to_iso(now)
    start = time.perf_counter()
    while True:
        ids = [r[0] for r in conn.execute(
            "SELECT id FROM cases WHERE tenant = 'acme' AND next_due_at IS NOT NULL "
            "AND next_due_at <= ? AND status_category IN ('new', 'open', 'waiting') "
            "ORDER BY next_due_at, id LIMIT ?", (stamp, batch))]
        if not ids:
            break
        write(conn, ids, stamp)
    elapsed = time.perf_counter() - start
    store._pool.checkin(conn)
    store.close()
    return elapsed


def time_raw_floor(path: Path, now: datetime, batch: int = 500) -> float:
    """Seconds for raw SQL doing the sweep's reads and writes, with no domain code.

    The same batches and statements as the sweep (see :func:`_time_raw`): the due query;
    each case's document and timeline; an UPDATE of the columns a breach changes; one
    timeline row (the breach) and two outbox rows (priority changed, breached) per case. The
    documents are written back as read (no JSON work at all), so this is what the storage
    alone costs on this machine.
    """

    def write(conn: Any, ids: list[str], stamp: str) -> None:
        marks = ", ".join("?" * len(ids))
        conn.execute("BEGIN")
        docs = conn.execute(f"SELECT id, doc, version FROM cases WHERE tenant = 'acme' "
                            f"AND id IN ({marks})", ids).fetchall()
        entries = conn.execute(f"SELECT case_id, entry FROM timeline WHERE tenant = 'acme' "
                               f"AND case_id IN ({marks}) ORDER BY case_id, seq", ids).fetchall()
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        for case_id, doc, version in docs:
            conn.execute(
                "UPDATE cases SET priority = 'high', priority_rank = 2, updated_at = ?, "
                "next_due_at = NULL, breached = 1, version = ?, doc = ? "
                "WHERE tenant = 'acme' AND id = ? AND version = ?",
                (stamp, version + 1, doc, case_id, version))
        entry = entries[0][1]
        conn.executemany("INSERT INTO timeline (tenant, case_id, seq, entry) VALUES "
                         "('acme', ?, ?, ?)",
                         [(case_id, 99, entry) for case_id, _, _ in docs])
        conn.executemany("INSERT INTO outbox (key, tenant, case_id, type, payload, created_at) "
                         "VALUES (?, 'acme', ?, 'case.sla_breached', ?, ?)",
                         [(f"{case_id}:{version + 1}:{n}", case_id, entry, stamp)
                          for case_id, _, version in docs for n in (0, 1)])
        conn.execute("COMMIT")

    return _time_raw(path, now, batch, write)


def time_least_writes(path: Path, now: datetime, batch: int = 500) -> float:
    """Seconds for raw SQL doing the least that recording the breaches must write, whatever
    the code around it: the due query (see :func:`_time_raw`), then per due case an UPDATE of
    its row that moves it one priority rung (so the priority queue's index is rewritten too)
    and takes it off the due index, and one timeline row; nothing read, no JSON, no outbox,
    no other index.

    A lower bound for any sweep on this schema and machine: each due case costs at least
    its row's page, a priority-index page and a timeline page, each read from the OS, written
    to the WAL and checkpointed back, which at 1,000,000 cases are all different pages.
    """

    def write(conn: Any, ids: list[str], stamp: str) -> None:
        rows = [(case_id,) for case_id in ids]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("UPDATE cases SET priority_rank = priority_rank + 1, "
                         "next_due_at = NULL, version = version + 1 "
                         "WHERE tenant = 'acme' AND id = ?", rows)
        conn.executemany("INSERT INTO timeline (tenant, case_id, seq, entry) "
                         "VALUES ('acme', ?, 99, '{}')", rows)
        conn.execute("COMMIT")

    return _time_raw(path, now, batch, write)


def time_sweep_in(src: Path | None, path: Path, now: datetime) -> float:
    """:func:`time_sweep` in a fresh interpreter importing caselib from ``src`` (another
    checkout's ``src`` directory, e.g. a ``git worktree`` of an older commit; ``None``: this
    one), on a settled copy of the store at ``path``; the copy is removed afterwards."""
    import json
    import os
    import shutil
    import subprocess

    copy = path.with_name("compare.sqlite3")
    shutil.copyfile(path, copy)
    settle(copy)
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    try:
        out = subprocess.run(
            [sys.executable, __file__, "--sweep-file", str(copy), "--now", now.isoformat()],
            env=env, check=True, capture_output=True, text=True).stdout
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
    return float(json.loads(out.strip().splitlines()[-1])["seconds"])


def _timed_on_copy(timer: Callable[[Path, datetime], float], path: Path, copy: Path,
                   now: datetime) -> float:
    """``timer`` run on a settled copy of the store at ``path``, removed afterwards."""
    import shutil

    shutil.copyfile(path, copy)
    settle(copy)
    try:
        return timer(copy, now)
    finally:
        copy.unlink()


def _spread(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def report_sweep(sizes: tuple[int, ...], due: int, layouts: tuple[str, ...],
                 floor: bool, baseline: Path | None = None, repeat: int = 3,
                 id_modes: tuple[str, ...] = ("uuid",)) -> None:
    """Sweep SQLite stores of several sizes holding the same number of due cases."""
    import tempfile

    print()
    print("== Breach sweep on SQLite (each store: N open cases, the same number due) ==")
    now = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    for ids, layout in itertools.product(id_modes, layouts):
        for n in sizes:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "sweep.sqlite3"
                start = time.perf_counter()
                fill_store(path, n, due, now, layout, ids)
                fill = time.perf_counter() - start
                floors = None  # (raw SQL floor, least writes), in seconds
                if floor:
                    copy = Path(tmp) / "floor.sqlite3"
                    floors = [_timed_on_copy(timer, path, copy, now)
                              for timer in (time_raw_floor, time_least_writes)]
                if baseline is not None:
                    # alternate the two, so that a drift of the machine's speed hits both
                    before: list[float] = []
                    after: list[float] = []
                    for _ in range(repeat):
                        before.append(time_sweep_in(baseline, path, now))
                        after.append(time_sweep_in(None, path, now))
                    b, a = statistics.median(before), statistics.median(after)
                    print(f"  {ids:<10} {layout:<9} {n:>9,} open: baseline {b:.2f} s, this "
                          f"checkout {a:.2f} s, baseline / this = {b / a:.2f} (medians of {repeat} "
                          f"alternating runs, each in a fresh process on a copy; baseline "
                          f"{_spread(before)}, this {_spread(after)})")
                elif repeat > 1:
                    runs = [time_sweep_in(None, path, now) for _ in range(repeat)]
                    mid = statistics.median(runs)
                    print(f"  {ids:<10} {layout:<9} {n:>9,} open: median {mid:.2f} s of "
                          f"{repeat} sweeps, each in a fresh process on a copy "
                          f"({_spread(runs)})")
                settle(path)
                seconds, breaches = time_sweep(path, now)
                floor_text = "" if floors is None else (
                    f"; raw SQL floor {floors[0]:.2f} s, sweep/floor {seconds / floors[0]:.2f}; "
                    f"least writes {floors[1]:.2f} s")
                print(f"  {ids:<10} {layout:<9} {n:>9,} open, {due:,} due: sweep {seconds:6.2f} s "
                      f"({breaches:,} breaches, {breaches / seconds:,.0f}/s{floor_text}; "
                      f"fill took {fill:.0f} s)")
    print(f"  target: <= 2 s at 1,000,000 open with 1 % ({due:,}) due; "
          "the sizes should take about the same time")


def main() -> None:
    """Run every benchmark section once and print the figures."""
    import argparse

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sweep-sizes", default="100000,1000000",
                        help="comma-separated open-case counts for the sweep section")
    parser.add_argument("--due", type=int, default=10_000, help="due cases in every store")
    parser.add_argument("--layouts", default="scattered,clustered",
                        help="where the due cases sit in the store: scattered (every "
                             "(n/due)-th case) and/or clustered (the oldest cases)")
    parser.add_argument("--ids", default="uuid,sequential",
                        help="case ids of the filled stores: uuid (random, as ServiceDesk "
                             "makes them) and/or sequential (packs the timeline pages full)")
    parser.add_argument("--no-floor", action="store_true",
                        help="skip the raw-SQL floor (it copies each store once)")
    parser.add_argument("--no-sweep", action="store_true")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout's src directory (e.g. a git worktree of an "
                             "older commit): each store is also swept by it, and by this "
                             "checkout, in fresh processes on copies, side by side")
    parser.add_argument("--repeat", type=int, default=None,
                        help="fresh-process sweeps per store, each on a copy, reported as a "
                             "median with every run (this machine's timings drift by tens of "
                             "per cent between runs); with --baseline, of each checkout, "
                             "alternating, default 3; without, default 1 (none)")
    parser.add_argument("--sweep-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--now", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sweep_file is not None:  # the child of --baseline: one sweep, seconds as JSON
        import json

        seconds, _ = time_sweep(args.sweep_file, datetime.fromisoformat(args.now), quiet=True)
        print(json.dumps({"seconds": seconds}))
        return
    report_calendar()
    if not args.no_sweep:
        report_sweep(tuple(int(x) for x in args.sweep_sizes.split(",")), args.due,
                     tuple(args.layouts.split(",")), not args.no_floor, args.baseline,
                     max(1, args.repeat or (3 if args.baseline else 1)),
                     tuple(args.ids.split(",")))


if __name__ == "__main__":
    main()
