"""JSON document costs, side by side in one run.

Prints, for a case with a 50-entry timeline and for a page of 50 list rows:
- µs per ``serialize.to_dict`` and per ``json.dumps`` of the result,
- µs per ``serialize.from_dict`` (every field checked) of the parsed JSON,
- the storage codec's ``case_to_document`` beside ``to_dict`` (the codec is the speed-tuned
  stored format; the ratio says what the API shape's fixed keys and checks cost),
- µs per ``to_dict`` of the customer's view.

Run: ``python benchmarks/bench_serialize.py [--rounds N]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime

from caselib import Actor, Case, CaseQuery, MemoryStore, Page, ServiceDesk, serialize
from caselib.storage.codec import case_to_document
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=500)
    args = parser.parse_args()
    n = args.rounds

    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    ana = Actor.agent("ana", "support", name="Ana")
    case = desk.create_case(subject="Printer jams on tray two", actor=ana, category="Technical",
                            tags=["hw", "vip"], links={"account": "A-17"}, custom={"seats": 12})
    while len(case.timeline) < 50:
        clock.advance(minutes=7)
        audience = "public" if len(case.timeline) % 3 else "internal"
        case = desk.add_comment(case.id, f"Reply {len(case.timeline)}: checked the tray.",
                                actor=ana, audience=audience)
    for i in range(60):
        desk.create_case(subject=f"Case {i}", actor=ana)
    page = desk.find_cases(CaseQuery(limit=50), actor=ana)

    case_doc = serialize.to_dict(case)
    case_text = json.dumps(case_doc)
    page_doc = serialize.to_dict(page)
    page_text = json.dumps(page_doc)
    view = desk.customer_view(case.id, actor=ana)

    rows = [
        ("case (50 entries)", "to_dict", per_call(lambda: serialize.to_dict(case), n)),
        ("case (50 entries)", "json.dumps", per_call(lambda: json.dumps(case_doc), n)),
        ("case (50 entries)", "from_dict",
         per_call(lambda: serialize.from_dict(json.loads(case_text), Case), n)),
        ("case (50 entries)", "storage codec (no timeline)",
         per_call(lambda: case_to_document(case), n)),
        ("page (50 rows)", "to_dict", per_call(lambda: serialize.to_dict(page), n)),
        ("page (50 rows)", "from_dict",
         per_call(lambda: serialize.from_dict(json.loads(page_text), Page), n)),
        ("customer view", "customer_case", per_call(lambda: serialize.customer_case(view), n)),
    ]
    print(f"{'value':<20} {'call':<30} {'µs/call':>9}")
    for value, call, seconds in rows:
        print(f"{value:<20} {call:<30} {seconds * 1e6:>9.1f}")
    print(f"case document: {len(case_text):,} bytes of JSON; page: {len(page_text):,} bytes")


if __name__ == "__main__":
    main()
