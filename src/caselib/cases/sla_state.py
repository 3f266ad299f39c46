"""The SLA state a case carries: pauses, per-target state, and the breach entry.

Kept apart from the aggregate because it is the part of a case the :mod:`caselib.sla` package
reads and writes (the breach sweep's lean path builds the same timeline entry as
:meth:`~caselib.cases.Case.record_breach`), and stores index ``next_due_of`` for the sweep.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.cases.values import Actor, TimelineEntry
from caselib.vocab import Audience, Priority

__all__ = [
    "BREACH_REASON",
    "Pause",
    "SlaTarget",
    "any_breached",
    "breach_entry",
    "next_due_of",
]


@attrs.frozen(cache_hash=True)
class Pause:
    """A span during which SLA clocks did not run (waiting on the customer, or resolved)."""

    start: datetime
    end: datetime | None = None
    reason: str = "waiting"


@attrs.frozen
class SlaTarget:
    """The state of one SLA target (first response, resolution, next reply) on a case.

    Written by the SLA engine; stores index ``due_at`` and ``state`` so the breach sweep reads
    only the cases that are due.
    """

    name: str
    due_at: datetime | None
    state: str = "running"
    """running · paused · warning · breached · met"""
    warn_at: datetime | None = None
    breached_at: datetime | None = None
    met_at: datetime | None = None
    breached_by_seconds: float | None = None
    elapsed_seconds: int | None = None
    """Whole business seconds the clock ran from its start to ``met_at``, pauses left out
    (set once the target is met): what the scorecard's business-time durations read, so a
    store derives them from the case alone, without the SLA calendar."""


def next_due_of(targets: Iterable[SlaTarget]) -> datetime | None:
    """The earliest due time among ``targets`` that can still breach (running or warning):
    what a store indexes so that the breach sweep reads only the cases that are due."""
    dues = [t.due_at for t in targets if t.due_at is not None and t.state in ("running", "warning")]
    return min(dues) if dues else None


def any_breached(targets: Iterable[SlaTarget]) -> bool:
    """Whether any of ``targets`` has breached (a breach is sticky, so this stays true)."""
    return any(t.state == "breached" for t in targets)


BREACH_REASON: Final = "SLA breached"
"""The ``reason`` of the :class:`~caselib.cases.PriorityChanged` event a breach raises."""


def breach_entry(
    seq: int,
    target: str,
    body: str,
    *,
    actor: Actor,
    at: datetime,
    old: Priority,
    new: Priority | None,
    data: Mapping[str, Any],
) -> TimelineEntry:
    """The ``sla_breached`` system entry recording one breach of ``target``, and the rung it
    raised when ``new`` differs from ``old`` (``data`` gains ``old_priority``/``new_priority``).

    One definition of the entry for :meth:`Case.record_breach` and the breach sweep's lean
    path (:class:`caselib.sla.SlaCase`), so both write the same line of history.
    """
    entry_data: dict[str, Any] = {"target": target, **data}
    if new is not None and new is not old:
        entry_data["old_priority"], entry_data["new_priority"] = old.value, new.value
    return TimelineEntry(seq, at, actor.id, actor.kind, Audience.SYSTEM, "sla_breached", body,
                         entry_data, actor_name=actor.name)
