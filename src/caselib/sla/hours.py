"""Weekly business hours as configuration: :class:`TimeRange` (an open stretch of one day),
``HH:MM`` text, the day names (:data:`DAY_NAMES`), and the checks that turn a mapping or seven
lists into a calendar's week.

Separate from :mod:`caselib.sla.calendar`, which holds the algorithm that measures business
time; this is the data it is built from, also used by holidays and explanations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from itertools import pairwise
from typing import Any

import attrs

from caselib.errors import InvalidConfiguration

__all__ = [
    "DAY_NAMES",
    "TimeRange",
]

#: Day keys accepted by :meth:`BusinessCalendar.from_dict`, Monday first (``date.weekday()``).
DAY_NAMES: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


# --- small value objects -----------------------------------------------------------------------


def _parse_hhmm(text: str, *, allow_24: bool, what: str) -> int:
    """Parse ``HH:MM`` into minutes after midnight (``24:00`` only where an end is meant)."""
    match = _HHMM.match(text.strip()) if isinstance(text, str) else None
    if match is None:
        raise InvalidConfiguration(f"{what}: {text!r} is not a time of day in HH:MM form")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if minutes > 59 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        allowed = "00:00-24:00" if allow_24 else "00:00-23:59"
        raise InvalidConfiguration(f"{what}: {text!r} is not a valid time of day ({allowed})")
    return hours * 60 + minutes


def _format_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _check_minutes(instance: TimeRange, attribute: attrs.Attribute[int], value: int) -> None:
    if not isinstance(value, int) or not 0 <= value <= 1440:
        raise InvalidConfiguration(
            f"{attribute.name} must be minutes after midnight between 0 and 1440, got {value!r}"
        )


@attrs.frozen(order=True)
class TimeRange:
    """An open stretch of one day, in wall-clock minutes after midnight: ``[start, end)``.

    Minutes rather than ``datetime.time`` because an end of ``24:00`` (1440) must be expressible:
    "open until midnight" is common and ``time`` stops at 23:59:59.999999.
    """

    start: int = attrs.field(validator=_check_minutes)
    end: int = attrs.field(validator=_check_minutes)

    def __attrs_post_init__(self) -> None:
        if self.end <= self.start:
            raise InvalidConfiguration(
                f"time range {_format_hhmm(self.start)}-{_format_hhmm(self.end)} ends before "
                "it starts; split ranges that cross midnight at 24:00"
            )

    @classmethod
    def parse(cls, text: str) -> TimeRange:
        """Build a range from ``"HH:MM-HH:MM"`` (an end of ``24:00`` is allowed)."""
        if not isinstance(text, str) or text.count("-") != 1:
            raise InvalidConfiguration(f"time range {text!r} is not in HH:MM-HH:MM form")
        left, right = text.split("-")
        start = _parse_hhmm(left, allow_24=False, what=f"time range {text!r}")
        end = _parse_hhmm(right, allow_24=True, what=f"time range {text!r}")
        if end <= start:
            raise InvalidConfiguration(
                f"time range {text!r} ends before it starts; split ranges that cross midnight "
                "at 24:00 (for example '22:00-24:00' and '00:00-06:00' on the next day)"
            )
        return cls(start, end)

    def __str__(self) -> str:
        return f"{_format_hhmm(self.start)}-{_format_hhmm(self.end)}"


def _coerce_hours(value: object) -> tuple[tuple[TimeRange, ...], ...]:
    if isinstance(value, Mapping):
        return _hours_from_mapping(value)
    if not isinstance(value, Sequence) or len(value) != 7:
        raise InvalidConfiguration(
            "hours must be 7 sequences of TimeRange (Monday first) or a mapping"
        )
    days: list[tuple[TimeRange, ...]] = []
    for index, day in enumerate(value):
        if isinstance(day, str | TimeRange) or not isinstance(day, Iterable):
            raise InvalidConfiguration(f"{DAY_NAMES[index]}: expected a list of time ranges")
        parsed = [TimeRange.parse(r) if isinstance(r, str) else r for r in day]
        for r in parsed:
            if not isinstance(r, TimeRange):
                raise InvalidConfiguration(f"{DAY_NAMES[index]}: {r!r} is not a TimeRange")
        ranges = sorted(parsed)
        for a, b in pairwise(ranges):
            if b.start < a.end:
                raise InvalidConfiguration(f"{DAY_NAMES[index]}: time ranges {a} and {b} overlap")
        days.append(tuple(ranges))
    return tuple(days)


def _day_index(name: object) -> int:
    key = str(name).strip().lower()
    if key in DAY_NAMES:
        return DAY_NAMES.index(key)
    if key in _FULL_DAY_NAMES:
        return _FULL_DAY_NAMES.index(key)
    raise InvalidConfiguration(
        f"unknown day name {name!r}; use one of {', '.join(DAY_NAMES)} (or the full English name)"
    )


def _hours_from_mapping(value: Mapping[Any, Any]) -> tuple[tuple[TimeRange, ...], ...]:
    days: list[list[TimeRange]] = [[] for _ in range(7)]
    seen: set[int] = set()
    for name, ranges in value.items():
        index = _day_index(name)
        if index in seen:
            raise InvalidConfiguration(f"day {DAY_NAMES[index]!r} is given twice in hours")
        seen.add(index)
        if isinstance(ranges, str | TimeRange):
            ranges = [ranges]
        if not isinstance(ranges, Iterable):
            raise InvalidConfiguration(f"{DAY_NAMES[index]}: expected a list of 'HH:MM-HH:MM'")
        days[index] = [TimeRange.parse(r) if isinstance(r, str) else r for r in ranges]
    return _coerce_hours(days)
