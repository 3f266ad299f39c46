"""Explanations of a due time: why a target is due when it is due, for a support lead.

Separate from the clocks (:mod:`caselib.sla.clock`): it re-runs the same clock derivation and
only turns it into words (:class:`DueExplanation`, :func:`explain_due`, :func:`describe_hours`);
nothing in evaluation or the sweep depends on it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo

import attrs

from caselib.cases import Case, Pause, SlaTarget
from caselib.errors import UnknownValue
from caselib.sla.calendar import BusinessCalendar
from caselib.sla.clock import _clock, derive_pauses, evaluate
from caselib.sla.durations import _ZERO
from caselib.sla.holiday import Holiday
from caselib.sla.hours import TimeRange
from caselib.sla.policy import FIRST_RESPONSE, NEXT_REPLY, RESOLUTION, TARGET_NAMES, SlaPolicy
from caselib.timeutil import aware_utc
from caselib.vocab import Priority

__all__ = [
    "DueExplanation",
    "describe_hours",
    "explain_due",
]


# --- explanations -------------------------------------------------------------------------------

_DAYS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_LABELS: Final = {
    FIRST_RESPONSE: "First response",
    RESOLUTION: "Resolution",
    NEXT_REPLY: "Next reply",
}
_REASONS: Final = {"waiting": "waiting on the customer", "resolved": "resolved until reopened"}


def _human(value: timedelta) -> str:
    """Like :func:`format_duration` with spaces (``1h 30m``), for explanation text."""
    total = int(abs(value.total_seconds()))
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return " ".join(parts) or "0m"


def _range_text(r: TimeRange) -> str:
    return str(r).replace("-", "–")


def describe_hours(calendar: BusinessCalendar) -> tuple[str, ...]:
    """Weekly hours as lines such as ``"Mon–Fri 09:00–12:00, 13:00–17:00"`` (``"24/7"``)."""
    full = (TimeRange(0, 1440),)
    if all(day == full for day in calendar.hours):
        return ("24/7",)
    out: list[str] = []
    i = 0
    while i < 7:
        day = calendar.hours[i]
        j = i
        while j + 1 < 7 and calendar.hours[j + 1] == day:
            j += 1
        if day:
            days = _DAYS[i] if i == j else f"{_DAYS[i]}–{_DAYS[j]}"
            out.append(f"{days} {', '.join(_range_text(r) for r in day)}")
        i = j + 1
    return tuple(out)


def _when(t: datetime, zone: ZoneInfo, *, year: bool = False) -> str:
    local = t.astimezone(zone)
    y = f" {local.year}" if year else ""
    return (
        f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}{y} "
        f"{local.hour:02d}:{local.minute:02d}"
    )


def _holidays_between(calendar: BusinessCalendar, first: date, last: date) -> tuple[Holiday, ...]:
    """Active holidays in ``[first, last]`` that close a day with business hours."""
    return tuple(
        h
        for h in calendar.holidays
        if h.active and first <= h.date <= last and calendar.hours[h.date.weekday()]
    )


@attrs.frozen
class DueExplanation:
    """Why a target is due when it is due, as data and as ``text`` for a support lead."""

    target: str
    policy_id: str
    priority: Priority
    duration: timedelta | None
    start: datetime | None
    counted_from: datetime | None
    pauses: tuple[Pause, ...]
    timezone: str
    windows: tuple[str, ...]
    holidays: tuple[Holiday, ...]
    due_at: datetime | None
    warn_at: datetime | None
    met_at: datetime | None
    state: str | None
    text: str


def explain_due(
    case: Case, policy: SlaPolicy, target_name: str, now: datetime | None = None
) -> DueExplanation:
    """Explain how ``target_name``'s due time follows from the start, pauses and calendar.

    With ``now`` the explanation also gives the state and the business time left (or overdue).
    """
    if target_name not in TARGET_NAMES:
        raise UnknownValue("sla target", target_name, TARGET_NAMES)
    cal = policy.calendar
    zone = ZoneInfo(cal.timezone)
    label = _LABELS[target_name]
    windows = describe_hours(cal)
    prio = case.priority
    state: SlaTarget | None = None
    if now is not None:
        now = aware_utc(now, "now")
        state = evaluate(case, policy, now).target(target_name)
    clock = _clock(case, policy, target_name, derive_pauses(case))
    where = f'policy "{policy.name}", hours {"; ".join(windows)} {cal.timezone}'
    if clock is None:
        why = (
            "no customer reply is waiting for an answer"
            if policy.targets_for(prio).get(target_name) is not None
            else f"the policy sets no {label.lower()} target for {prio.value} priority"
        )
        return DueExplanation(
            target_name,
            policy.id,
            prio,
            policy.targets_for(prio).get(target_name),
            None,
            None,
            (),
            cal.timezone,
            windows,
            (),
            None,
            None,
            None,
            state.state if state else None,
            f"{label}: no clock is running ({why}; {where}).",
        )
    lines = [
        f"{label} target: {_human(clock.duration)} of business time for {prio.value} priority "
        f"({where})."
    ]
    counted = cal.next_open(clock.start)
    opener = (
        "Clock started at the customer's reply" if target_name == NEXT_REPLY else "Clock started"
    )
    if counted == clock.start:
        lines.append(f"{opener} {_when(clock.start, zone, year=True)}.")
    else:
        lines.append(
            f"{opener} {_when(clock.start, zone, year=True)} (outside hours) → counted "
            f"from {_when(counted, zone)}."
        )
    end = clock.due_at or clock.met_at or now or clock.start
    shown: list[Pause] = []
    for p in clock.pauses:
        if p.start >= end and clock.due_at is not None:
            continue  # after the due time: it did not move it
        if p.end is not None and p.end <= clock.start:
            continue
        start = max(p.start, clock.start)
        shown.append(Pause(start, p.end, p.reason))
        why = _REASONS.get(p.reason, p.reason)
        if p.end is None:
            lines.append(
                f"Paused since {_when(start, zone)} ({why}): the clock is stopped, "
                "so there is no due time until the case is active again."
            )
        else:
            lost = cal.business_between(start, p.end)
            lines.append(
                f"Paused {_when(start, zone)} → {_when(p.end, zone)} ({why}): "
                f"{_human(lost)} of business time not counted."
            )
    last = (clock.due_at or clock.met_at or now or clock.start).astimezone(zone).date()
    holidays = _holidays_between(cal, clock.start.astimezone(zone).date(), last)
    for h in holidays:
        span = "" if h.whole_day else f" ({_range_text(TimeRange(*h.closed_span()))} closed)"
        name = f" ({h.name})" if h.name else ""
        lines.append(
            f"Holiday skipped: {_DAYS[h.date.weekday()]} {h.date.day} "
            f"{_MONTHS[h.date.month - 1]}{span}{name}."
        )
    if clock.due_at is not None:
        lines.append(f"Due {_when(clock.due_at, zone)} ({cal.timezone}).")
    if clock.warn_at is not None and clock.due_at is not None:
        lines.append(f"Warning from {_when(clock.warn_at, zone)}.")
    breached = state is not None and state.state == "breached"
    if state is not None and breached and state.breached_at is not None:
        lines.append(
            f"Breached at {_when(state.breached_at, zone)}; a breach stays on record "
            "even if the due time moves later."
        )
    if clock.met_at is not None:
        if clock.due_at is not None and clock.met_at > clock.due_at:
            late = cal.business_between(clock.due_at, clock.met_at)
            lines.append(f"Met {_when(clock.met_at, zone)}, {_human(late)} of business time late.")
        else:
            lines.append(f"Met {_when(clock.met_at, zone)}, on time.")
    elif now is not None and clock.due_at is not None and not breached:
        left = cal.business_between(now, clock.due_at)
        if left > _ZERO:
            lines.append(f"Now {_when(now, zone)}: {_human(left)} of business time left.")
        else:
            lines.append(f"Now {_when(now, zone)}: overdue by {_human(left)} of business time.")
    return DueExplanation(
        target_name,
        policy.id,
        prio,
        clock.duration,
        clock.start,
        counted,
        tuple(shown),
        cal.timezone,
        windows,
        holidays,
        clock.due_at,
        clock.warn_at,
        clock.met_at,
        state.state if state else None,
        "\n".join(lines),
    )
