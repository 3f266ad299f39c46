"""Durations as SLA configuration writes them: ``"4h"``, ``"1h30m"``, ``"2d"`` or ISO 8601.

Separate because policies, their targets and warning rules all read durations the same way
(bare numbers refused, whole seconds only, no months or years), and the text they write back
must read in again; nothing here knows about cases or calendars.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

import pendulum
import pendulum.parsing.exceptions

from caselib.errors import InvalidConfiguration

__all__ = [
    "format_duration",
    "parse_duration",
]

_ZERO: Final = timedelta(0)


# --- durations ----------------------------------------------------------------------------------

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def parse_duration(value: object, what: str = "duration") -> timedelta:
    """A positive whole-second duration from ``"4h"``, ``"1h30m"``, ``"2d"``, ISO 8601
    (``"PT4H"``, ``"P3DT12H"``, as JSON APIs and other helpdesks export them) or a timedelta.

    Bare numbers are refused: "8" could mean minutes or hours, and an SLA off by a factor of 60
    is worse than a configuration error.

    Raises:
        InvalidConfiguration: not a duration, not positive, or not whole seconds.
    """
    if isinstance(value, timedelta):
        td = value
    elif isinstance(value, str) and value.strip()[:1] in ("P", "p"):
        td = _iso_duration(value.strip(), what)
    elif isinstance(value, str):
        text = value.replace(" ", "").lower()
        match = _DURATION.match(text)
        if not text or match is None:
            raise InvalidConfiguration(
                f"{what}: {value!r} is not a duration such as '4h', '1h30m', '2d' or '45m'"
            )
        d, h, m, s = (int(g) if g else 0 for g in match.groups())
        td = timedelta(days=d, hours=h, minutes=m, seconds=s)
    else:
        raise InvalidConfiguration(
            f"{what}: {value!r} is not a duration; write text such as '4h' or '1h30m'"
        )
    if td <= _ZERO:
        raise InvalidConfiguration(f"{what} must be longer than zero, got {format_duration(td)}")
    if td.microseconds:
        raise InvalidConfiguration(f"{what} must be whole seconds, got {td}")
    return td


def _iso_duration(text: str, what: str) -> timedelta:
    """ISO 8601 durations, parsed by pendulum; months and years are refused (not fixed)."""
    try:
        parsed = pendulum.parse(text.upper())
    except (ValueError, pendulum.parsing.exceptions.ParserError) as err:
        raise InvalidConfiguration(f"{what}: {text!r} is not an ISO 8601 duration") from err
    if not isinstance(parsed, pendulum.Duration):
        raise InvalidConfiguration(f"{what}: {text!r} is a date or time, not a duration")
    if parsed.years or parsed.months:
        raise InvalidConfiguration(
            f"{what}: {text!r} uses months or years, which have no fixed length; "
            "give days or hours")
    return timedelta(seconds=parsed.total_seconds())


def format_duration(value: timedelta) -> str:
    """``timedelta(hours=1, minutes=30)`` → ``"1h30m"``; hours are not folded into days.

    SLA targets are spoken of in hours ("72 hours"), so ``72h`` reads better than ``3d``.
    :func:`parse_duration` reads the result back. Negative values get a leading ``-``.
    """
    total = int(value.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    return sign + ("".join(parts) or "0m")
