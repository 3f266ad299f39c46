"""Holidays: whole or partial closed days (:class:`Holiday`), the protocol for anything that
lists them per year (:class:`HolidaySource`), and a source backed by the optional
``holidays`` package (:class:`PythonHolidaysSource`).

Separate from :mod:`caselib.sla.calendar`: a calendar reads its holidays as plain values when it
is built; where they come from is not part of the algorithm.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time
from typing import Any, Protocol, runtime_checkable

import attrs

from caselib.checks import bool_attribute, require_items, require_str
from caselib.errors import InvalidConfiguration
from caselib.sla.hours import _format_hhmm, _parse_hhmm

__all__ = [
    "Holiday",
    "HolidaySource",
    "PythonHolidaysSource",
]


def _to_date(value: object) -> date:
    if isinstance(value, datetime):
        raise InvalidConfiguration(f"holiday date must be a date, got the datetime {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidConfiguration(f"holiday date {value!r} is not a date or YYYY-MM-DD text")


def _to_minutes(value: object) -> int | None:
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, time):
        if value.second or value.microsecond:
            raise InvalidConfiguration(f"holiday closure times are whole minutes, got {value}")
        return value.hour * 60 + value.minute
    if isinstance(value, str):
        return _parse_hhmm(value, allow_24=True, what="holiday closure")
    raise InvalidConfiguration(f"holiday closure time {value!r} is not HH:MM text or a time")


def _name(_instance: object, attribute: Any, value: object) -> None:
    require_str(value, attribute.name, "text (the holiday's name, or '')")


@attrs.frozen
class Holiday:
    """A whole or partial closed day.

    ``closed_from`` / ``closed_until`` are wall-clock minutes after midnight (``HH:MM`` text and
    ``datetime.time`` are converted); ``None`` means the start / end of the day, so a holiday with
    neither closes the whole day. ``active=False`` keeps the entry (an admin may switch it back
    on) while closing nothing.
    """

    date: _dt.date = attrs.field(converter=_to_date)
    name: str = attrs.field(default="", kw_only=True, validator=_name)
    closed_from: int | None = attrs.field(default=None, converter=_to_minutes, kw_only=True)
    closed_until: int | None = attrs.field(default=None, converter=_to_minutes, kw_only=True)
    active: bool = attrs.field(default=True, kw_only=True, validator=bool_attribute)

    def __attrs_post_init__(self) -> None:
        start, end = self.closed_span()
        if not 0 <= start < end <= 1440:
            raise InvalidConfiguration(
                f"holiday {self.date}: closed_from {_format_hhmm(start)} must be before "
                f"closed_until {_format_hhmm(end)} within the day"
            )

    def closed_span(self) -> tuple[int, int]:
        """Return the closed part of the day as ``(start, end)`` minutes after midnight."""
        start = 0 if self.closed_from is None else self.closed_from
        end = 1440 if self.closed_until is None else self.closed_until
        return start, end

    @property
    def whole_day(self) -> bool:
        """True when the holiday closes the entire day."""
        return self.closed_span() == (0, 1440)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for :meth:`BusinessCalendar.from_dict` (defaults are left out)."""
        out: dict[str, Any] = {"date": self.date.isoformat()}
        if self.name:
            out["name"] = self.name
        if self.closed_from is not None:
            out["closed_from"] = _format_hhmm(self.closed_from)
        if self.closed_until is not None:
            out["closed_until"] = _format_hhmm(self.closed_until)
        if not self.active:
            out["active"] = False
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Holiday:
        """Build a holiday from ``{"date": "2026-12-24", "closed_from": "12:00", ...}``."""
        if not isinstance(data, Mapping):
            raise InvalidConfiguration(f"a holiday must be a mapping, got {data!r}")
        unknown = set(data) - {"date", "name", "closed_from", "closed_until", "active"}
        if unknown:
            raise InvalidConfiguration(
                f"holiday {data.get('date')!r}: unknown keys {sorted(unknown)}; expected "
                "date, name, closed_from, closed_until, active"
            )
        if "date" not in data:
            raise InvalidConfiguration(f"holiday {dict(data)!r} has no 'date'")
        active = data.get("active", True)
        if not isinstance(active, bool):
            raise InvalidConfiguration(f"holiday {data['date']!r}: active must be true or false")
        return cls(
            data["date"],
            name=str(data.get("name", "")),
            closed_from=data.get("closed_from"),
            closed_until=data.get("closed_until"),
            active=active,
        )


@runtime_checkable
class HolidaySource(Protocol):
    """Anything that can list the holidays of a year (a country table, an HR system …).

    Sources are read once, when a calendar is built with
    :meth:`BusinessCalendar.with_holidays_from`; the calendar itself stays a pure value.
    """

    def holidays_in(self, year: int) -> Iterable[Holiday]:
        """Return the holidays that fall in ``year``."""
        ...


@attrs.frozen
class PythonHolidaysSource:
    """A :class:`HolidaySource` backed by the ``holidays`` package (``caselib-engine[holidays]``).

    The package is imported when holidays are first requested, so caselib does not depend on it.
    """

    country: str
    subdiv: str | None = None

    def holidays_in(self, year: int) -> list[Holiday]:
        """Return the public holidays of ``country`` (and ``subdiv``) in ``year``."""
        try:
            import holidays
        except ImportError as err:
            raise InvalidConfiguration(
                "PythonHolidaysSource needs the 'holidays' package; install it with "
                "pip install 'caselib-engine[holidays]'"
            ) from err
        try:
            table = holidays.country_holidays(self.country, subdiv=self.subdiv, years=year)
        except NotImplementedError as err:
            where = f"{self.country}/{self.subdiv}" if self.subdiv else self.country
            raise InvalidConfiguration(f"the holidays package knows no country {where!r}") from err
        return [Holiday(day, name=str(name)) for day, name in sorted(table.items())]


def _coerce_holidays(value: object) -> tuple[Holiday, ...]:
    out = []
    for item in require_items(value, "holidays", "a list of Holiday values (or mappings)"):
        if isinstance(item, Holiday):
            out.append(item)
        elif isinstance(item, Mapping):
            out.append(Holiday.from_dict(item))
        else:
            raise InvalidConfiguration(f"{item!r} is not a Holiday")
    return tuple(sorted(out, key=_holiday_key))


def _holiday_key(h: Holiday) -> tuple[_dt.date, int, int, str, bool]:
    return (h.date, *h.closed_span(), h.name, h.active)
