"""A case's list row: :class:`CaseSummary` (what stores index and every query returns,
without the timeline) and its SLA targets as a list shows them (:class:`SlaDue`), with the
red / amber / green colour computed at read time.

Apart from :mod:`caselib.ports.queries` because a row is read by hosts on its own (lists,
boards, exports) while queries are about finding rows.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import attrs

from caselib.cases import Case
from caselib.vocab import Priority, Source, StatusCategory

__all__ = ["CaseSummary", "SlaDue", "SlaSignal"]


SlaSignal = Literal["green", "amber", "red"]
"""A list row's SLA colour at read time: red (breached or past due), amber (in a warning
window), green (clocks running, met or paused)."""


@attrs.frozen
class SlaDue:
    """One SLA target as a list row shows it: its stored ``state`` and, while it runs, its
    due and warning times (``state_at`` compares them with the reader's clock).

    ``due_at`` is always the due time under the case's *current* priority (re-derived on
    every priority change). A target the sweep marked breached also has ``breached_at``: the
    due time it ran past, which a later priority change does not move, so after a raise a
    breached row may read "breached 16:30, due 09:30" and both are right (docs/sla.md).
    """

    target: str
    state: str
    due_at: datetime | None = None
    warn_at: datetime | None = None
    breached_at: datetime | None = None
    """When a recorded breach broke (its due time then); ``None`` unless ``state`` is
    ``breached``. Rows a SQL store wrote before 0.3 lack it until the case is next saved.
    .. versionadded:: 0.3"""

    def state_at(self, now: datetime) -> str:
        """The state at ``now``: a running target past its due time reads ``breached`` and
        one past its warning time ``warning``, before any sweep has stored that."""
        if self.state in ("running", "warning") and self.due_at is not None:
            if now >= self.due_at:
                return "breached"
            if self.state == "warning" or (self.warn_at is not None and now >= self.warn_at):
                return "warning"
        return self.state


@attrs.frozen
class CaseSummary:
    """A case's list-view columns: what stores index and queries return (no timeline)."""

    id: str
    number: str
    subject: str
    status: str
    status_category: StatusCategory
    priority: Priority
    assignee: str | None
    team: str | None
    contact: str | None
    account: str | None
    category: str | None
    """The case's category (:attr:`Case.category`), for per-category lists and counts.

    .. versionadded:: 0.2
    """
    tags: frozenset[str]
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    next_due_at: datetime | None
    breached: bool
    version: int
    source: Source = Source.OTHER
    """The channel the case arrived through.

    .. versionadded:: 0.2
    """
    first_response_at: datetime | None = None
    """The first public agent reply. .. versionadded:: 0.2"""
    csat: int | None = None
    """The customer's 1–5 rating, if any. .. versionadded:: 0.2"""
    sla: tuple[SlaDue, ...] = ()
    """Each SLA target's state and due / warning times. .. versionadded:: 0.2"""
    escalation_level: str | None = None
    """The escalation level the case stands on (:attr:`Case.escalation_level
    <caselib.cases.Case.escalation_level>`; ``None``: none). .. versionadded:: 0.3"""

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        """The summary of a loaded case: the one definition every store's rows follow."""
        return cls(
            case.id, case.number, case.subject, case.status, case.status_category,
            case.priority, case.assignee, case.team, case.links.contact, case.links.account,
            case.category, case.tags, case.created_at,
            case.updated_at, case.resolved_at, case.next_due_at, case.breached, case.version,
            case.source, case.first_response_at, None if case.csat is None else case.csat.score,
            tuple(SlaDue(t.name, t.state, t.due_at, t.warn_at, t.breached_at)
                  for t in case.sla_targets),
            case.escalation_level,
        )

    def sla_at(self, now: datetime) -> tuple[SlaDue, ...]:
        """The targets with their state at ``now`` (see :meth:`SlaDue.state_at`)."""
        return tuple(attrs.evolve(t, state=t.state_at(now)) for t in self.sla)

    def sla_signal(self, now: datetime) -> SlaSignal | None:
        """Red, amber or green at ``now`` (the desk's clock), computed at read time: a case
        80 minutes into a 1-hour target reads red before the breach sweep has run.
        ``None`` without SLA targets."""
        if not self.sla:
            return None
        states = {t.state_at(now) for t in self.sla}
        if "breached" in states:
            return "red"
        return "amber" if "warning" in states else "green"
