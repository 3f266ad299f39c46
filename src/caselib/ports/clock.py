"""Where caselib reads "now": the :class:`Clock` port and the wall clock.

Apart from the storage ports because a host wires a clock whatever store it uses.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol, runtime_checkable

__all__ = [
    "Clock",
    "SystemClock",
]


@runtime_checkable
class Clock(Protocol):
    """Where caselib gets "now". Inject ``caselib.testing.FrozenClock`` in tests."""

    def now(self) -> datetime:
        """The current time as an aware datetime."""
        ...


class SystemClock:
    """The wall clock, in UTC."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def __repr__(self) -> str:
        return "SystemClock()"
