"""Lifecycle costs, side by side in one run.

Prints:
- ns per compiled-table check (``CompiledWorkflow.can_transition``),
- µs per raw python-statemachine transition (a machine already bound to a model, ``send``),
- µs to construct a raw machine (what "a machine per loaded case" would cost),
- µs per ``ServiceDesk.transition`` on the in-memory store (load, gate, record, save, commit),
- the ratio desk / raw transition (target ≤ 2) and the table check (target ≤ 2 µs).

Run: ``python benchmarks/bench_lifecycle.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from caselib import Actor, MemoryStore, ServiceDesk, TenantSettings, Workflow
from caselib.testing import FrozenClock


def per_call(fn: Callable[[], object], n: int, repeats: int = 5) -> float:
    """Median seconds per call over ``repeats`` batches of ``n`` calls."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - start) / n)
    return statistics.median(samples)


class _Model:
    __slots__ = ("status",)

    def __init__(self, status: str) -> None:
        self.status = status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=2000)
    args = parser.parse_args()
    n = args.rounds

    wf = Workflow.default().compile()
    table_s = per_call(lambda: wf.can_transition("pending_customer", "in_progress"), n * 50)

    # Raw python-statemachine: a machine bound to a model, flipping between two statuses.
    model = _Model("in_progress")
    machine = wf.machine_class(model=model, state_field="status")

    def raw_pair() -> None:
        machine.send("to_pending_customer")
        machine.send("to_in_progress")

    raw_s = per_call(raw_pair, n) / 2
    construct_s = per_call(lambda: wf.machine_class(model=_Model("open"), state_field="status"), n)

    agent = Actor.agent("ana")

    def desk_cost(settings: TenantSettings) -> float:
        """Seconds per ServiceDesk.transition; a fresh case every 40 moves keeps timelines
        realistic (real cases carry tens of entries, not thousands)."""
        desk = ServiceDesk(MemoryStore(), clock=FrozenClock(), settings=settings)
        state = {"case": "", "moves": 40}

        def desk_pair() -> None:
            if state["moves"] >= 40:
                case = desk.create_case(subject="benchmark", actor=agent)
                for status in ("open", "in_progress"):
                    desk.transition(case.id, status, actor=agent)
                state["case"], state["moves"] = case.id, 0
            desk.transition(state["case"], "pending_customer", actor=agent)
            desk.transition(state["case"], "in_progress", actor=agent)
            state["moves"] = int(state["moves"]) + 2

        return per_call(desk_pair, max(1, n // 4)) / 2

    desk_s = desk_cost(TenantSettings())
    bare_s = desk_cost(TenantSettings(sla=None, router=None))

    print("caselib lifecycle benchmark (median of 5 batches)")
    print(f"  compiled-table check        {table_s * 1e9:10.0f} ns   (target ≤ 2000 ns)")
    print(f"  raw machine transition      {raw_s * 1e6:10.1f} µs")
    print(f"  raw machine construction    {construct_s * 1e6:10.1f} µs   (avoided: pooled)")
    print(f"  ServiceDesk.transition      {desk_s * 1e6:10.1f} µs   (memory store, SLA clocks on)")
    print(f"  ServiceDesk.transition      {bare_s * 1e6:10.1f} µs   (memory store, SLA off)")
    print(f"  ratio desk / raw transition {desk_s / raw_s:10.2f}      (target ≤ 2, SLA on)")
    print(f"  ratio desk / raw transition {bare_s / raw_s:10.2f}      (SLA off)")


if __name__ == "__main__":
    main()
