"""A clock for tests: time stands still until the test moves it."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from caselib.errors import InvalidInput
from caselib.timeutil import aware_utc

__all__ = ["FrozenClock"]


class FrozenClock:
    """Implements :class:`caselib.ports.Clock`; thread-safe.

    >>> from datetime import datetime, timedelta, timezone
    >>> clock = FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=timezone.utc))
    >>> clock.advance(hours=2).isoformat()
    '2026-01-05T11:00:00+00:00'
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = aware_utc(start, "start") if start is not None else datetime(
            2026, 1, 5, 9, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FrozenClock({self._now.isoformat()})"

    def now(self) -> datetime:
        """The frozen instant (aware, UTC)."""
        return self._now

    def advance(self, delta: timedelta | None = None, **kwargs: float) -> datetime:
        """Move forward by ``delta`` or ``timedelta(**kwargs)``; returns the new now."""
        step = delta if delta is not None else timedelta(**kwargs)
        if step < timedelta(0):
            raise InvalidInput("a clock does not run backwards; use set() to jump", field="delta")
        with self._lock:
            self._now = self._now + step
            return self._now

    def set(self, when: datetime) -> datetime:
        """Jump to ``when`` (aware)."""
        with self._lock:
            self._now = aware_utc(when, "when")
            return self._now
