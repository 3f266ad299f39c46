"""What the scorecard reads of one case: :class:`CaseFacts`, derived from the case alone.

One definition, :meth:`CaseFacts.of`, for every store: the memory store computes the
scorecard from these values, and the SQL stores keep the same values as columns of the
``cases`` row (written by their row codec from this class), so the three agree by
construction. Business-time durations come from what the SLA engine recorded on the case
(:attr:`caselib.cases.SlaTarget.elapsed_seconds`), so no store needs the SLA calendar.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Final

import attrs

from caselib.cases import Case, SlaTarget
from caselib.vocab import ActorKind, Audience, Priority, Source, StatusCategory

__all__ = ["TARGETS", "CaseFacts", "TargetFacts", "whole_seconds"]

TARGETS: Final = ("first_response", "resolution", "next_reply")
"""The SLA targets the scorecard reports, in its order (:data:`caselib.sla.TARGET_NAMES`)."""


def whole_seconds(a: datetime, b: datetime) -> int:
    """Whole seconds from ``a`` to ``b`` (floored, never negative): every duration the
    scorecard reports, so stores that hold instants to the microsecond agree exactly."""
    return max(int((b - a).total_seconds() // 1), 0)


@attrs.frozen
class TargetFacts:
    """One SLA target as the scorecard counts it.

    ``met_at``: met on time (``None`` otherwise). ``breached_at``: when it breached, marked
    by the sweep or met late (the due time). ``due_at`` / ``warn_at``: only while the target
    still runs (running / warning); a read compares them with its clock, so a target past
    due counts as breached before any sweep marked it.
    """

    met_at: datetime | None = None
    breached_at: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None

    @classmethod
    def of(cls, t: SlaTarget | None) -> TargetFacts:
        """The facts of a stored target (``None``: the case has no such target)."""
        if t is None:
            return _NO_TARGET
        if t.state == "breached":
            return cls(breached_at=t.breached_at or t.due_at or t.met_at)
        if t.state == "met":
            if t.due_at is not None and t.met_at is not None and t.met_at > t.due_at:
                return cls(breached_at=t.due_at)
            return cls(met_at=t.met_at)
        if t.state in ("running", "warning"):
            return cls(due_at=t.due_at, warn_at=t.warn_at)
        return _NO_TARGET  # paused: no due time while the clock is stopped


_NO_TARGET: Final = TargetFacts()


@attrs.frozen
class CaseFacts:
    """The per-case figures of ``docs/metrics.md`` (see there for what each one means)."""

    id: str
    team: str | None
    assignee: str | None
    priority: Priority
    category: str | None
    source: Source
    created_at: datetime
    resolved_at: datetime | None
    """When the current resolved / closed stretch began; ``None`` while active (a reopen
    clears it, so a reopened case never counts as resolved)."""
    first_response_at: datetime | None
    first_response_seconds: int | None
    """Calendar seconds from creation to the first public agent reply."""
    first_response_business: int | None
    resolution_seconds: int | None
    """Calendar seconds from creation to ``resolved_at``."""
    resolution_business: int | None
    reopens: int
    last_reopened_at: datetime | None
    agent_replies: int
    """Public agent replies (first-contact resolution allows one)."""
    csat_score: int | None
    csat_at: datetime | None
    targets: tuple[TargetFacts, ...]
    merged: bool = False
    """Merged into another case: left out of every figure (see docs/metrics.md)."""
    """One per :data:`TARGETS`, in that order."""

    @property
    def first_contact(self) -> bool:
        """Resolved with at most one public agent reply and never reopened."""
        return self.resolved_at is not None and self.reopens == 0 and self.agent_replies <= 1

    def group(self, by: str) -> str | None:
        """The value of grouping field ``by`` (``none`` groups everything under ``None``)."""
        if by == "priority":
            return self.priority.value
        if by == "channel":
            return self.source.value
        if by in ("team", "assignee", "category"):
            value: str | None = getattr(self, by)
            return value
        return None

    @classmethod
    def of(cls, case: Case) -> CaseFacts:
        """The facts of a loaded case (one pass over its timeline)."""
        reopens, last_reopen, replies = 0, None, 0
        for e in case.timeline:
            if e.kind == "reply":
                if e.audience is Audience.PUBLIC and e.actor_kind is ActorKind.AGENT:
                    replies += 1
            elif e.kind == "status_changed" and _is_reopen(e.data):
                reopens += 1
                last_reopen = e.at
        resolved = None if case.status_category.is_active else case.resolved_at
        by_name = {t.name: t for t in case.sla_targets}
        first = by_name.get("first_response")
        resolution = by_name.get("resolution")
        fr_at = case.first_response_at
        return cls(
            case.id, case.team, case.assignee, case.priority, case.category, case.source,
            case.created_at, resolved, fr_at,
            None if fr_at is None else whole_seconds(case.created_at, fr_at),
            None if first is None or fr_at is None else first.elapsed_seconds,
            None if resolved is None else whole_seconds(case.created_at, resolved),
            None if resolution is None or resolved is None else resolution.elapsed_seconds,
            reopens, last_reopen, replies,
            None if case.csat is None else case.csat.score,
            None if case.csat is None else case.csat.at,
            tuple(TargetFacts.of(by_name.get(name)) for name in TARGETS),
            case.status_category is StatusCategory.MERGED,
        )


def _is_reopen(data: object) -> bool:
    """A status change from resolved / closed back to an active status."""
    if not isinstance(data, Mapping):
        return False
    try:
        old = StatusCategory(data.get("old_category"))
        new = StatusCategory(data.get("new_category"))
    except ValueError:
        return False
    # an unmerge puts a case back where it was: not a reopen
    return not old.is_active and new.is_active and old is not StatusCategory.MERGED
