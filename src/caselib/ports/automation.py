"""The automation ledger: :class:`AutomationLedger` (which rule was applied to which case for
which occurrence, the next automation time of each case, the event cursor) and its rows
(:class:`AppliedRule`, :class:`StreamEvent`).

An optional capability of a unit of work (``uow.automations``), not a member of
:class:`~caselib.ports.UnitOfWork`: a host's own store keeps type-checking without it, and
:func:`automation_ledger` says clearly when it is missing. The bundled stores have it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

import attrs

from caselib.ports.store import OutboxMessage, UnitOfWork, optional_port

__all__ = [
    "AppliedRule",
    "AutomationLedger",
    "StreamEvent",
    "applied_to_cases",
    "automation_ledger",
    "schedule_cases",
]


@attrs.frozen
class AppliedRule:
    """One ledger row: ``rule_id`` was applied to ``case_id`` for ``occurrence`` (an event's
    outbox key, or a time trigger's anchor) at ``at``."""

    rule_id: str
    case_id: str
    occurrence: str
    at: datetime


@attrs.frozen
class StreamEvent:
    """An outbox message with its position in the tenant's write order."""

    seq: int
    message: OutboxMessage


class AutomationLedger(Protocol):
    """What automations keep in the store, written in the unit of work of the case change
    they belong to (so a rule's application, its timeline entry and its queued actions
    commit together or not at all)."""

    def record(self, applied: AppliedRule) -> bool:
        """Record ``applied`` unless (rule, case, occurrence) is already recorded (committed,
        or earlier in this unit of work); ``True`` when this call recorded it.

        Raises :class:`~caselib.errors.ConcurrencyConflict` when another open unit of work
        is recording the same key (the caller retries after it ended)."""
        ...

    def applied(self, case_id: str) -> list[AppliedRule]:
        """Every committed application to ``case_id``, oldest first."""
        ...

    def claim_events(self, limit: int) -> list[StreamEvent] | None:
        """Hold this tenant's event cursor for the unit of work and return up to ``limit``
        outbox messages written after it, in write order (delivered or not); ``None`` when
        another unit of work holds the cursor (stores shared by several processes skip it
        rather than wait).

        Each event is handed out once: a store whose positions are not commit order
        (PostgreSQL: a sequence value is taken before commit) also returns, first, events at
        or before the cursor that committed late and were never handed out, and remembers
        what it handed out with the cursor (so it is forgotten if the unit of work rolls
        back). Handing an event out twice would let a rule that did not match it the first
        time fire late, on the case as it is now."""
        ...

    def start_cursor(self) -> bool:
        """Create this tenant's event cursor at the end of the stream if it has none yet
        (``True``), so automations turned on for a tenant with history start with the next
        event instead of replaying the past; a no-op (``False``) once the cursor exists."""
        ...

    def advance(self, seq: int) -> None:
        """Move the held cursor to ``seq`` (the last event handled)."""
        ...

    def schedule(self, case_id: str, next_at: datetime | None) -> None:
        """Set (``None``: clear) the case's next automation time."""
        ...

    def claim_due(self, now: datetime, limit: int) -> list[str]:
        """Up to ``limit`` ids of cases whose next automation time is at or before ``now``,
        earliest first (an index range: the cost follows the due cases). Stores shared by
        several processes lock them for this unit of work and skip the ones another unit
        of work holds, so sweepers split the due cases instead of colliding."""
        ...

    def scheduled(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        """The committed next automation time of each of ``case_ids`` that has one."""
        ...


def automation_ledger(uow: UnitOfWork) -> AutomationLedger:
    """``uow.automations``, or :class:`~caselib.errors.InvalidConfiguration` saying the
    store has no automation ledger."""
    return optional_port(uow, "automations", "automation ledger", "AutomationLedger")  # type: ignore[no-any-return]


def applied_to_cases(ledger: AutomationLedger, case_ids: Sequence[str]
                     ) -> dict[str, list[AppliedRule]]:
    """:meth:`AutomationLedger.applied` of each of ``case_ids`` (every id a key), in one
    read when the ledger offers ``applied_many`` (the bundled SQL stores: a sweep's page
    costs one query, not one per case)."""
    many = getattr(ledger, "applied_many", None)
    if many is not None:
        found: dict[str, list[AppliedRule]] = many(case_ids)
        return {i: found.get(i, []) for i in case_ids}
    return {i: ledger.applied(i) for i in case_ids}


def schedule_cases(ledger: AutomationLedger,
                   plan: Sequence[tuple[str, datetime | None]]) -> None:
    """:meth:`AutomationLedger.schedule` of each ``(case id, next time)`` of ``plan``, in
    one statement per kind when the ledger offers ``schedule_many``."""
    many = getattr(ledger, "schedule_many", None)
    if many is not None:
        many(plan)
        return
    for case_id, next_at in plan:
        ledger.schedule(case_id, next_at)
