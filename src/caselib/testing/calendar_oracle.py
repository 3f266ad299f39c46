"""A brute-force business-calendar oracle: walks real time minute by minute.

It exists to check :class:`caselib.sla.BusinessCalendar` (property tests) and to show what
the fast engine saves (benchmarks). It reads only the calendar's public configuration, never its
lookup tables, and is deliberately slow and plain so that it is obviously right:

* a real (UTC) minute is open when the calendar's zone shows, at that minute's start, a wall time
  inside one of the day's ranges and not inside an active holiday closure of that local date;
* every open minute counts one real minute of business time.

Requirements: starts, ends and durations are whole minutes and every UTC offset the zone uses is
a whole number of minutes (true for every zone in use today), so the open/closed state cannot
change within a minute.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from caselib.sla import BusinessCalendar

__all__ = ["oracle_add", "oracle_business_between", "oracle_is_open", "oracle_next_open"]

_MINUTE = timedelta(minutes=1)
#: Give up after this many minutes (about 20 years) instead of looping forever.
MAX_MINUTES = 20 * 366 * 24 * 60


def _minute_aligned_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("the oracle needs aware datetimes")
    utc = value.astimezone(UTC)
    if utc.second or utc.microsecond:
        raise ValueError(f"the oracle works on whole minutes, got {utc.isoformat()}")
    return utc


def oracle_is_open(calendar: BusinessCalendar, t: datetime) -> bool:
    """True when the wall clock of the calendar's zone shows an open, non-holiday time at ``t``."""
    local = t.astimezone(ZoneInfo(calendar.timezone))
    minute = local.hour * 60 + local.minute
    in_hours = any(r.start <= minute < r.end for r in calendar.hours[local.weekday()])
    if not in_hours:
        return False
    for holiday in calendar.holidays:
        if holiday.active and holiday.date == local.date():
            start, end = holiday.closed_span()
            if start <= minute < end:
                return False
    return True


def oracle_business_between(calendar: BusinessCalendar, a: datetime, b: datetime) -> timedelta:
    """Count the open minutes in ``[a, b)`` (negative when ``b < a``)."""
    ua, ub = _minute_aligned_utc(a), _minute_aligned_utc(b)
    if ub < ua:
        return -oracle_business_between(calendar, ub, ua)
    count = 0
    t = ua
    while t < ub:
        if oracle_is_open(calendar, t):
            count += 1
        t += _MINUTE
    return count * _MINUTE


def oracle_next_open(calendar: BusinessCalendar, t: datetime) -> datetime:
    """The first minute at or after ``t`` that is open."""
    u = _minute_aligned_utc(t)
    for _ in range(MAX_MINUTES):
        if oracle_is_open(calendar, u):
            return u
        u += _MINUTE
    raise RuntimeError("no opening within MAX_MINUTES")


def oracle_add(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The end of the open minute in which ``duration`` of business time is used up.

    A zero duration gives :func:`oracle_next_open`, as the real calendar documents.
    """
    u = _minute_aligned_utc(start)
    if duration < timedelta(0) or duration % _MINUTE:
        raise ValueError("the oracle needs a non-negative whole number of minutes")
    needed = duration // _MINUTE
    if needed == 0:
        return oracle_next_open(calendar, u)
    for _ in range(MAX_MINUTES):
        if oracle_is_open(calendar, u):
            needed -= 1
            if needed == 0:
                return u + _MINUTE
        u += _MINUTE
    raise RuntimeError("duration not used up within MAX_MINUTES")
