"""Timezone discipline at caselib's edges.

pendulum and the stdlib both take a naive datetime as "some zone" without complaint; an SLA
engine that does that silently shifts due times by hours. Everything that enters caselib goes
through :func:`aware_utc`, which refuses naive values and normalises to UTC stdlib datetimes
(drivers such as ``sqlite3`` dispatch on the exact type, so we never hand out pendulum objects).
"""

from __future__ import annotations

from datetime import UTC, datetime

from caselib.errors import NaiveDatetime, WrongType

__all__ = ["aware_utc", "from_iso", "to_iso"]


def aware_utc(value: object, field: str = "datetime") -> datetime:
    """Return ``value`` as an aware stdlib ``datetime`` in UTC.

    Raises:
        NaiveDatetime: ``value`` has no tzinfo (or a tzinfo that gives no offset).
        WrongType: ``value`` is not a datetime at all.
    """
    if type(value) is datetime and value.tzinfo is UTC:
        return value  # already what this returns (the common case: caselib's own values)
    if not isinstance(value, datetime):
        raise WrongType(field, "a timezone-aware datetime", value)
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetime(field)
    utc = value.astimezone(UTC)
    if type(utc) is not datetime:  # pendulum.DateTime and friends -> plain datetime
        utc = datetime(
            utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond,
            tzinfo=UTC,
        )
    return utc


def to_iso(value: datetime) -> str:
    """Serialise an aware UTC datetime as fixed-width ISO text (sorts correctly as text).

    Memoised in a small table: a case's timestamps repeat (its created entry, routing and
    first assignment share ``created_at``; ``updated_at`` is its latest entry's time), and
    formatting is a visible share of every save and bulk import. Equal instants in any zone
    are equal keys, and they map to the same UTC text, so the table is exact.
    """
    text = _ISO.get(value)
    if text is None:
        utc = value if value.tzinfo is UTC else value.astimezone(UTC)
        text = utc.isoformat(timespec="microseconds")
        if len(_ISO) >= _ISO_MAX:
            _ISO.clear()
        _ISO[value] = text
    return text


_ISO: dict[datetime, str] = {}
_ISO_MAX = 4096


def from_iso(text: str) -> datetime:
    """Parse text written by :func:`to_iso` (or any ISO text with an offset) to aware UTC."""
    return aware_utc(datetime.fromisoformat(text), "stored datetime")
