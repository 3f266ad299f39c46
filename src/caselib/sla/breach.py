"""The breach decision the sweep applies: :func:`mark_breached` turns overdue targets into
breached ones, and :class:`SlaCase` is the lean part of a case the sweep reads and changes.

Separate from the clocks (:mod:`caselib.sla.clock`) because only the sweep marks a breach
(evaluation never does; see the rules there), and because stores and ports need
:class:`SlaCase` without the evaluation machinery.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from caselib.cases import (
    BREACH_REASON,
    Actor,
    Case,
    CustomValue,
    DomainEvent,
    Links,
    Pause,
    PriorityChanged,
    SlaTarget,
    TimelineEntry,
    any_breached,
    breach_entry,
    next_due_of,
)
from caselib.errors import InvalidInput, UnknownValue
from caselib.sla.calendar import BusinessCalendar
from caselib.sla.clock import SlaEvaluation, _business_seconds
from caselib.sla.subject import SLA_ENTRY_KINDS
from caselib.timeutil import aware_utc
from caselib.vocab import Priority, Source, StatusCategory

__all__ = [
    "SlaCase",
    "mark_breached",
]


def mark_breached(
    targets: SlaEvaluation | Iterable[SlaTarget],
    names: Iterable[str],
    now: datetime,
    calendar: BusinessCalendar | None = None,
) -> tuple[SlaTarget, ...]:
    """Return ``targets`` with the named ones marked breached (what the sweep stores).

    ``breached_at`` is the target's due time (when it broke, not when the sweep noticed) and
    ``breached_by_seconds`` the business time from then to ``now`` (or to when it was met, if
    it was met late). Already breached targets are left as they are, so marking twice is
    harmless. ``calendar`` defaults to the evaluation's policy calendar and is required for a
    plain iterable of targets.

    Raises:
        InvalidInput: an unknown name, or a target that is not overdue at ``now`` (a breach
            cannot be recorded before it happened, nor for a target met on time).
    """
    now = aware_utc(now, "now")
    if isinstance(targets, SlaEvaluation):
        cal = calendar or targets.policy.calendar
        items = targets.targets
    else:
        if calendar is None:
            raise InvalidInput("pass calendar= to mark plain targets breached", field="calendar")
        cal, items = calendar, tuple(targets)
    wanted = set(names)
    known = {t.name for t in items}
    if wanted - known:
        raise UnknownValue("sla target", sorted(wanted - known)[0], sorted(known))
    out = []
    for t in items:
        if t.name not in wanted or t.state == "breached":
            out.append(t)
            continue
        if t.due_at is None or t.due_at > now:
            raise InvalidInput(
                f"SLA target {t.name!r} is not overdue at {now.isoformat()} (due {t.due_at})",
                field="names",
            )
        if t.met_at is not None and t.met_at <= t.due_at:
            raise InvalidInput(f"SLA target {t.name!r} was met on time", field="names")
        end = now if t.met_at is None else min(now, t.met_at)
        out.append(SlaTarget(name=t.name, due_at=t.due_at, state="breached", warn_at=t.warn_at,
                             breached_at=t.due_at, met_at=t.met_at,
                             breached_by_seconds=_business_seconds(cal, t.due_at, end)))
    return tuple(out)


@attrs.define(eq=False)
class SlaCase:
    """The part of a case that its SLA clocks read and the breach sweep changes.

    Why it exists: a breach touches a handful of fields (priority, targets, pauses,
    ``updated_at``), one timeline line and two events, yet loading and saving the whole
    aggregate decodes and re-encodes every field and every timeline entry. A store that
    offers :class:`~caselib.ports.SlaSweepRepository` reads this part only and writes the
    change in place; for any other store the sweep takes it from the loaded case with
    :meth:`of` and hands the change back with :meth:`apply_to`, so the decisions are the same
    code either way.

    ``timeline`` holds only the entries of :data:`SLA_ENTRY_KINDS`; ``entry_count`` is the
    length of the whole timeline (the next entry's ``seq`` is one more). What the sweep
    records is collected in ``new_entries`` and ``events`` until a store saves it.
    """

    id: str
    tenant: str
    number: str
    subject: str
    version: int
    status_category: StatusCategory
    priority: Priority
    assignee: str | None
    team: str | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    first_response_at: datetime | None
    sla_policy: str | None
    sla_started_at: datetime | None
    pauses: list[Pause]
    sla_targets: list[SlaTarget]
    category: str | None
    subcategory: str | None
    case_type: str | None
    source: Source
    tags: frozenset[str]
    custom: Mapping[str, CustomValue]
    links: Links
    timeline: list[TimelineEntry]
    entry_count: int
    escalation_level: str | None = None
    """As :attr:`Case.escalation_level <caselib.cases.Case.escalation_level>` (a breach may
    move it one level up the tenant's ladder)."""
    new_entries: list[TimelineEntry] = attrs.field(factory=list)
    events: list[DomainEvent] = attrs.field(factory=list)
    memo: dict[str, Any] = attrs.field(factory=dict, repr=False)

    @classmethod
    def of(cls, case: Case) -> SlaCase:
        """The SLA part of ``case`` (its lists copied, so changes stay here until
        :meth:`apply_to`)."""
        return cls(
            case.id, case.tenant, case.number, case.subject, case.version,
            case.status_category, case.priority, case.assignee, case.team, case.created_at,
            case.updated_at, case.resolved_at, case.closed_at, case.first_response_at,
            case.sla_policy, case.sla_started_at, list(case.pauses), list(case.sla_targets),
            case.category, case.subcategory, case.case_type, case.source, case.tags,
            case.custom, case.links,
            [e for e in case.timeline if e.kind in SLA_ENTRY_KINDS], len(case.timeline),
            case.escalation_level)

    def apply_to(self, case: Case) -> None:
        """Make the same changes to ``case``, the full case this was taken from."""
        if case.id != self.id or len(case.timeline) + len(self.new_entries) != self.entry_count:
            raise InvalidInput(f"SLA part of case {self.id!r} does not belong to case "
                               f"{case.id!r} as it is now; take a fresh SlaCase.of(case)")
        case.priority = self.priority
        case.sla_targets = list(self.sla_targets)
        case.pauses = list(self.pauses)
        case.updated_at = self.updated_at
        case.escalation_level = self.escalation_level
        case.timeline.extend(self.new_entries)
        for event in self.events:
            case.emit(event)
        self.new_entries, self.events = [], []  # handed over: the case's save writes them

    @property
    def next_due_at(self) -> datetime | None:
        """As :attr:`Case.next_due_at <caselib.cases.Case.next_due_at>`."""
        return next_due_of(self.sla_targets)

    @property
    def breached(self) -> bool:
        """As :attr:`Case.breached <caselib.cases.Case.breached>`."""
        return any_breached(self.sla_targets)

    def record_breach(self, target: str, body: str, *, actor: Actor, at: datetime,
                      priority: Priority | None = None, **data: Any) -> TimelineEntry:
        """As :meth:`Case.record_breach <caselib.cases.Case.record_breach>`: one
        ``sla_breached`` entry, raising the priority to ``priority`` in the same entry."""
        at = aware_utc(at, "at")
        old = self.priority
        if priority is not None and priority is not old:
            self.priority = priority
            self.events.append(PriorityChanged(self.id, self.tenant, at, actor.id, old.value,
                                               priority.value, BREACH_REASON))
        self.entry_count += 1
        entry = breach_entry(self.entry_count, target, body, actor=actor, at=at, old=old,
                             new=priority, data=data)
        self.new_entries.append(entry)
        self.updated_at = at
        return entry

    def emit(self, event: DomainEvent) -> None:
        """Collect an event for the store to write with the change."""
        self.events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        """Hand the collected events to the store and forget them."""
        events, self.events = self.events, []
        return events

    def mark_saved(self, version: int) -> None:
        """Record that the change is written (a store calls this after saving it)."""
        self.version = version
        self.new_entries = []
        self.events = []
