"""SLA benchmarks: business-calendar due-time computations (and, later, the breach sweep).

Run from the repository root::

    python benchmarks/bench_sla.py

Prints, from one run, due computations per second for spans of 1 hour, 1 week and 1 year on a
realistic calendar (Europe/Berlin, Mon-Fri 09:00-12:00 + 13:00-17:30, German holidays), the
1-year / 1-hour cost ratio (the calendar's cost must not grow with the span), and the same spans
against the minute-walking oracle in ``caselib.testing.calendar_oracle`` with the speed-up.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

try:
    import caselib  # noqa: F401
except ImportError:  # running from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib.calendar import BusinessCalendar
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
# TODO(lead): add the breach-sweep benchmark here (1M cases on SQLite): a ``report_sweep()``
# function that builds the store, runs ``ServiceDesk.sweep_breaches`` and prints cases/s; then
# call it from ``main()`` below.


def main() -> None:
    """Run every benchmark section once and print the figures."""
    report_calendar()
    # report_sweep()  # TODO(lead): sweep section


if __name__ == "__main__":
    main()
