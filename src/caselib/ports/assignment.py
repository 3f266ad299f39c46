"""The assignment port: :class:`AssignmentLedger`, the round-robin cursors and
last-assignment times that automatic assignment reads and writes.

Its own module because its one concurrency rule (compare-and-set on the cursor) is
unlike the versioned writes of the case ports.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

__all__ = [
    "AssignmentLedger",
]


class AssignmentLedger(Protocol):
    """Round-robin cursors and last-assignment times per team/agent."""

    def cursor(self, team: str) -> str | None:
        """The agent id that received the team's last round-robin case, if any."""
        ...

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        """Set the cursor to ``new`` only if it is still ``expected``; False if it moved.

        Two processes assigning at once: one wins, the other re-reads and picks again.
        """
        ...

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        """When each agent last received a case (agents never assigned are absent)."""
        ...

    def record_assigned(self, agent: str, at: datetime) -> None:
        """Remember that ``agent`` received a case at ``at``."""
        ...
