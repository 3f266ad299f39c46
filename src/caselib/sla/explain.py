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
from caselib.sla.clock import _clock, _due, derive_pauses, evaluate
from caselib.sla.durations import _ZERO
from caselib.sla.holiday import Holiday
from caselib.sla.hours import TimeRange
from caselib.sla.policy import FIRST_RESPONSE, NEXT_REPLY, RESOLUTION, TARGET_NAMES, SlaPolicy
from caselib.timeutil import aware_utc
from caselib.vocab import Priority

__all__ = [
    "DueExplanation",
    "PriorityMove",
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
class PriorityMove:
    """A priority change and how it re-derived a target's due time.

    Due times are derived from the clock's start as if the case had always had its current
    priority, so a change moves the due time either way: raising the priority moves it
    *earlier* (possibly into the past), lowering it moves it *later*. ``old_due`` and
    ``new_due`` are that target's due times under the old and the new priority, on the same
    start and pauses as the explanation (``None``: that priority has no such target, or the
    clock is paused). A breach already recorded is not moved by it (see
    :func:`~caselib.sla.mark_breached`).
    """

    at: datetime
    old_priority: Priority
    new_priority: Priority
    old_due: datetime | None
    new_due: datetime | None
    by_sweep: bool = False
    """The breach sweep raised it (an ``sla_breached`` entry), not a person."""

    @property
    def direction(self) -> str:
        """``"earlier"``, ``"later"``, ``"unchanged"``, or ``"set"`` / ``"cleared"`` when one
        side has no due time."""
        if self.old_due is None or self.new_due is None:
            if self.old_due is self.new_due:
                return "unchanged"
            return "cleared" if self.new_due is None else "set"
        if self.new_due < self.old_due:
            return "earlier"
        return "later" if self.new_due > self.old_due else "unchanged"


def _priority_changes(case: Case) -> list[tuple[datetime, Priority, Priority, bool]]:
    """``(at, old, new, by_sweep)`` for each priority change on the timeline, in order: a
    ``priority_changed`` entry, or a breach entry that raised the priority a rung."""
    out: list[tuple[datetime, Priority, Priority, bool]] = []
    for e in case.timeline:
        if e.kind == "priority_changed":
            old, new, sweep = e.data.get("old"), e.data.get("new"), False
        elif e.kind == "sla_breached":
            old, new, sweep = e.data.get("old_priority"), e.data.get("new_priority"), True
        else:
            continue
        if isinstance(old, str) and isinstance(new, str) and old != new:
            out.append((e.at, Priority.parse(old), Priority.parse(new), sweep))
    return out


def _moves(case: Case, policy: SlaPolicy, target_name: str, start: datetime,
           pauses: tuple[Pause, ...]) -> tuple[PriorityMove, ...]:
    """The priority changes since ``start``, each with the due times it moved between."""

    def due(priority: Priority) -> datetime | None:
        duration = policy.targets_for(priority).get(target_name)
        return None if duration is None else _due(policy.calendar, start, duration, pauses)

    return tuple(
        PriorityMove(at, old, new, due(old), due(new), sweep)
        for at, old, new, sweep in _priority_changes(case)
        if at >= start
    )


def _due_text(t: datetime | None, priority: Priority, policy: SlaPolicy, target_name: str,
              zone: ZoneInfo) -> str:
    if t is not None:
        return _when(t, zone)
    if policy.targets_for(priority).get(target_name) is None:
        return f"no target at {priority.value}"
    return "none while paused"


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
    priority_changes: tuple[PriorityMove, ...] = ()
    """Each priority change since the clock started and how it re-derived the due time
    (oldest first). .. versionadded:: 0.3"""


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
    moves = _moves(case, policy, target_name, clock.start, clock.pauses)
    for m in moves:
        by = " (breach sweep)" if m.by_sweep else ""
        lines.append(
            f"Priority {m.old_priority.value} → {m.new_priority.value} {_when(m.at, zone)}{by}: "
            f"due time re-derived "
            f"{_due_text(m.old_due, m.old_priority, policy, target_name, zone)} → "
            f"{_due_text(m.new_due, m.new_priority, policy, target_name, zone)} ({m.direction})."
        )
    breached = state is not None and state.state == "breached"
    if state is not None and breached and state.breached_at is not None:
        if clock.due_at is not None and clock.due_at != state.breached_at:
            lines.append(
                f"Breached at {_when(state.breached_at, zone)}, the due time it ran past then; "
                f"the breach stays on record although the due time is now "
                f"{_when(clock.due_at, zone)}."
            )
        else:
            lines.append(
                f"Breached at {_when(state.breached_at, zone)}; the breach stays on record "
                "whichever way a priority change moves the due time."
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
        moves,
    )
