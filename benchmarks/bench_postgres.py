"""PostgreSQL commands one by one: round trips per command, throughput, and the raw floor.

Measures, on one PostgreSQL server (``CASELIB_PG_DSN``, default the local test database):

- the **floor**: a raw psycopg loop of single-row ``INSERT`` + ``commit`` of the very case
  rows ``create_case`` writes (prebuilt, so no domain objects and no JSON), one transaction
  each, the way a host would write a row by hand;
- ``create_case`` one by one through :class:`~caselib.ServiceDesk` (each its own unit of work
  and commit), and the ratio of its time per case to the floor's;
- ``add_comment`` and ``transition`` one by one;
- the round trips (waits for the server) each command costs, counted from libpq's protocol
  trace (see :mod:`caselib.storage._pgtrace`);
- the application layer alone on the memory store, for scale.

Target (issue 23): ``create_case`` <= 3 round trips including the commit and >= 2,000 cases/s
one by one, reported as a ratio to the floor measured in the same run: the floor is what the
server and its disk allow (with ``synchronous_commit = on`` every commit waits for a WAL
flush, which on a slow disk is the whole story). Pass ``--sync-off`` to run both sides with
``synchronous_commit = off`` as well, and ``--rtt-ms`` to run that again through a relay that
delays every packet, as a network between app server and database would: on one machine a
round trip costs ~0.1 ms, across a network ten times that, and there the number of round
trips per command is what decides. Run::

    python benchmarks/bench_postgres.py             # 2,000 creates (and as many comments)
    python benchmarks/bench_postgres.py --n 500 --sync-off --rtt-ms 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from caselib import Actor, ServiceDesk
from caselib.storage._sql import CASE_COLUMNS, case_row, insert_sql
from caselib.storage._sql.dialect import SqlDialect
from caselib.storage.memory import MemoryStore

DSN = os.environ.get("CASELIB_PG_DSN", "host=127.0.0.1 port=5432 user=postgres dbname=test")
AGENT = Actor.agent("bench")
TENANT = "bench"


def _with_sync_off(dsn: str) -> str:
    return f"{dsn} options='-c synchronous_commit=off'"


def floor_per_second(dsn: str, schema: str, rows: list[tuple[Any, ...]]) -> float:
    """Raw psycopg: one ``INSERT`` of a prebuilt case row + ``commit``, per row."""
    import psycopg

    sql = insert_sql("cases", CASE_COLUMNS, SqlDialect("%s", for_update_skip_locked=True,
                                                        merge_doc=""))
    with psycopg.connect(dsn) as conn:
        conn.execute(f'SET search_path TO "{schema}"')
        conn.commit()
        t = time.perf_counter()
        for row in rows:
            conn.execute(sql, row)
            conn.commit()
        secs = time.perf_counter() - t
    return len(rows) / secs


def per_second(fn: Callable[[int], Any], n: int) -> float:
    t = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - t)


def round_trips(store: Any, desk: ServiceDesk, case_id: str) -> dict[str, int]:
    from caselib.storage._pgtrace import count_round_trips

    costs = {}
    commands: dict[str, Callable[[], Any]] = {
        "create_case": lambda: desk.create_case(subject="Printer jams", actor=AGENT,
                                                description="tray 2", tags=["printer"]),
        "add_comment": lambda: desk.add_comment(case_id, "On it", actor=AGENT),
        "transition": lambda: desk.transition(case_id, "open", actor=AGENT),
        "get_case": lambda: desk.get_case(case_id, actor=AGENT),
    }
    for name, command in commands.items():
        with count_round_trips(store) as trips:
            command()
        costs[name] = trips.total
    return costs


def app_layer_us(n: int) -> float:
    desk = ServiceDesk(MemoryStore(), tenant=TENANT)
    t = time.perf_counter()
    for i in range(n):
        desk.create_case(subject=f"Printer {i} jams", actor=AGENT, description="tray 2")
    return (time.perf_counter() - t) / n * 1e6


def run(dsn: str, n: int, label: str) -> None:
    from caselib.storage.postgres import PostgresStore

    schema = f"caselib_bench_pg_{os.getpid()}"
    store = PostgresStore(dsn, schema=schema, pool_size=1)
    try:
        desk = ServiceDesk(store, tenant=TENANT)
        warm = desk.create_case(subject="warm-up", actor=AGENT)
        trips = round_trips(store, desk, warm.id)
        # the floor's rows: what create_case writes to `cases`, prebuilt
        model = ServiceDesk(MemoryStore(), tenant="floor")
        rows = []
        for i in range(n):
            case = model.create_case(subject=f"Printer {i} jams", actor=AGENT,
                                     description="tray 2")
            rows.append(case_row(case, 1))
        floor, creates = [], []
        for _ in range(3):  # interleaved, so both sides see the same server load
            floor.append(floor_per_second(dsn, schema, rows))
            rows = [(r[0], f"{r[1]}x", f"{r[2]}x", *r[3:]) for r in rows]
            creates.append(per_second(lambda i: desk.create_case(
                subject=f"Printer {i} jams", actor=AGENT, description="tray 2"), n))
        f, c = statistics.median(floor), statistics.median(creates)
        # commands on 50 cases in turn, so no timeline grows long (a load reads it whole)
        ids = [desk.create_case(subject=f"worked {i}", actor=AGENT).id for i in range(50)]
        comments = per_second(lambda i: desk.add_comment(ids[i % 50], f"note {i}",
                                                         actor=AGENT), n)
        for case_id in ids:
            for status in ("open", "in_progress"):
                desk.transition(case_id, status, actor=AGENT)
        moves = per_second(lambda i: desk.transition(
            ids[i % 50], "pending_customer" if i // 50 % 2 == 0 else "in_progress",
            actor=AGENT), n)
    finally:
        store.drop_schema()
        store.close()
    print(f"\n== PostgreSQL, {label} ==")
    print("round trips: " + ", ".join(f"{k} {v}" for k, v in trips.items()))
    print(f"raw INSERT + commit    : {f:8,.0f} rows/s   ({1e6 / f:6.0f} us each; median of 3)")
    print(f"create_case one by one : {c:8,.0f} cases/s  ({1e6 / c:6.0f} us each; median of 3)")
    print(f"ratio create/floor     : {f / c:8.2f}x the floor's time per row "
          f"(target 2,000/s: {'met' if c >= 2000 else 'not met'})")
    print(f"add_comment one by one : {comments:8,.0f} /s   (over 50 cases)")
    print(f"transition one by one  : {moves:8,.0f} /s")


def _proxy(listen_port: Any, host: str, port: int, delay: float) -> None:
    """A TCP relay that holds every chunk ``delay`` seconds in each direction: a network
    between client and server, for seeing what round trips cost there. Runs in its own
    process, so it takes no GIL time from the benchmark."""
    import asyncio

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await reader.read(65536):
                loop.call_later(delay, writer.write, data)  # in order: same delay for all
        finally:
            loop.call_later(delay, writer.close)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(host, port)
        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        listen_port.value = server.sockets[0].getsockname()[1]
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def with_latency(dsn: str, rtt_ms: float) -> tuple[str, Any]:
    """``dsn`` through a relay adding about ``rtt_ms`` to every round trip; the process."""
    import multiprocessing as mp

    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    params = conninfo_to_dict(dsn)
    ctx = mp.get_context("spawn")
    port = ctx.Value("i", 0)
    proc = ctx.Process(target=_proxy, daemon=True, args=(
        port, str(params.get("host", "127.0.0.1")), int(params.get("port", 5432)),
        rtt_ms / 2000))
    proc.start()
    while port.value == 0:
        time.sleep(0.01)
    return make_conninfo(dsn, host="127.0.0.1", port=port.value), proc


def measured_rtt_ms(dsn: str) -> float:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SELECT 1")
        t = time.perf_counter()
        for _ in range(50):
            conn.execute("SELECT 1")
        return (time.perf_counter() - t) / 50 * 1000


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2_000, help="commands per measurement")
    parser.add_argument("--sync-off", action="store_true",
                        help="also run with synchronous_commit = off on both sides")
    parser.add_argument("--rtt-ms", type=float, default=0.0,
                        help="also run through a relay adding this round-trip time "
                             "(asyncio timers: about 1 ms resolution)")
    args = parser.parse_args(argv)
    try:
        import psycopg

        psycopg.connect(DSN, connect_timeout=3).close()
    except Exception as err:
        print(f"PostgreSQL skipped: {err}")
        return
    print(f"application layer alone (MemoryStore): {app_layer_us(args.n):.0f} us per create")
    print(f"SELECT 1 round trip: {measured_rtt_ms(DSN):.2f} ms")
    run(DSN, args.n, "synchronous_commit = on (the server default)")
    if args.sync_off:
        run(_with_sync_off(DSN), args.n, "synchronous_commit = off")
    if args.rtt_ms:
        far, relay = with_latency(_with_sync_off(DSN), args.rtt_ms)
        try:
            rtt = measured_rtt_ms(far)
            run(far, args.n, f"synchronous_commit = off, through a relay: SELECT 1 round "
                             f"trip {rtt:.2f} ms")
        finally:
            relay.terminate()


if __name__ == "__main__":
    main()
