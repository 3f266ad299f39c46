"""Four breach sweepers on one PostgreSQL database split the due cases between them.

Each sweeper claims its pages with ``FOR UPDATE SKIP LOCKED``, so the acceptance of issue 23:
over 2,000 due cases, every breach is recorded and notified exactly once, and no sweeper
examines a case another has claimed (each run's ``SweepReport.examined_ids`` are disjoint and
together cover every due case).
"""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from caselib import Actor, ServiceDesk
from caselib.ports import CaseQuery, Notification
from caselib.storage.memory import MemoryStore
from caselib.storage.postgres import PostgresStore
from caselib.testing import FrozenClock
from pg import DSN
from test_multiprocess_desk import T0, directory

SWEEPERS = 4
DUE_CASES = 2_000
NOW = T0 + timedelta(hours=5)  # an urgent case's first response and resolution are late


def due_cases(n: int) -> list[Any]:
    """``n`` new, routed, urgent cases opened at T0 (one made by a desk, then cloned)."""
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=FrozenClock(T0),
                       directory=directory())
    template = desk.create_case(subject="outage", actor=Actor.agent("ops"), priority="urgent")
    cases = []
    for i in range(n):
        case = template.clone()
        case.id, case.number, case.version = f"due-{i:05d}", f"CASE-{i + 1:05d}", 0
        cases.append(case)
    return cases


class _Keys:
    def __init__(self) -> None:
        self.keys: list[str] = []

    def notify(self, notification: Notification) -> None:
        self.keys.append(notification.key)


def _sweeper(schema: str, start: Any, out: Any) -> None:
    store = PostgresStore(DSN, schema=schema, pool_size=2)
    try:
        desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(NOW), directory=directory())
        notifier = _Keys()
        start.wait()
        report = desk.sweep_breaches(actor=Actor.system(), notifier=notifier, batch=100)
        out.put((report.examined_ids, [b.case_id for b in report.breaches], notifier.keys,
                 None))
    except BaseException as err:  # reported to the parent
        out.put(((), [], [], f"{type(err).__name__}: {err}"))
    finally:
        store.close()


def test_examined_ids_list_each_examined_case_once() -> None:
    """SweepReport.examined_ids: every due case, each once; none on a repeat sweep."""
    store = MemoryStore()
    cases = due_cases(30)
    with store.unit_of_work("acme") as uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()
    desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(NOW), directory=directory())
    first = desk.sweep_breaches(actor=Actor.system(), batch=7)
    assert sorted(first.examined_ids) == sorted(c.id for c in cases)
    assert len(first.examined_ids) == len(set(first.examined_ids)) == first.cases_breached
    assert desk.sweep_breaches(actor=Actor.system(), batch=7).examined_ids == ()


@pytest.mark.slow
@pytest.mark.postgres
def test_four_sweepers_share_two_thousand_due_cases(pg_schema: str) -> None:
    """Every breach recorded and notified once; the sweepers' claims are disjoint."""
    store = PostgresStore(DSN, schema=pg_schema)
    try:
        assert store.import_cases(due_cases(DUE_CASES)) == DUE_CASES
    finally:
        store.close()
    ctx = mp.get_context("fork")  # no re-import per process: seconds, not tens
    start, out = ctx.Barrier(SWEEPERS, timeout=60), ctx.Queue()
    procs = [ctx.Process(target=_sweeper, args=(pg_schema, start, out)) for _ in range(SWEEPERS)]
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    assert [r[3] for r in results if r[3]] == []

    examined = [set(r[0]) for r in results]
    assert sum(len(e) for e in examined) == len(set().union(*examined)) == DUE_CASES
    print("cases examined per sweeper:", sorted(len(e) for e in examined))
    breaches = Counter(case_id for r in results for case_id in r[1])
    assert len(breaches) == DUE_CASES and set(breaches.values()) == {2}  # both targets
    keys = [key for r in results for key in r[2]]
    assert len(keys) == len(set(keys)) == DUE_CASES * 2 * 2  # 2 targets x queue lead, manager

    store = PostgresStore(DSN, schema=pg_schema)
    try:
        with store.unit_of_work("acme") as uow:
            events = Counter(m.case_id for m in uow.outbox.pending(limit=100_000)
                             if m.type == "case.sla_breached")
            page = uow.cases.query_cases(CaseQuery(order="created", limit=1000))
            assert uow.cases.query(CaseQuery(due_before=NOW)).items == ()
        assert len(events) == DUE_CASES and set(events.values()) == {2}
        for case in page.cases:
            assert case.version == 2  # one write per case: its breaches, by one sweeper
            assert len([e for e in case.timeline if e.kind == "sla_breached"]) == 2
    finally:
        store.close()
