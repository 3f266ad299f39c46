"""Domain events: facts about a case that hosts react to (notifications, webhooks, search sync).

The aggregate collects events while a command runs; the store writes them to its outbox in the
same transaction as the case (so an event exists if and only if its change was saved), and
``ServiceDesk.dispatch_events`` relays them to the host's :class:`~caselib.ports.EventSink` at
least once. Each message carries an idempotency key ``"{case_id}:{version}:{n}"`` that is the
same on every delivery, so a host drops duplicates with a unique index.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from caselib.checks import require_items
from caselib.timeutil import to_iso

__all__ = [
    "Assigned",
    "CaseCreated",
    "CaseLinked",
    "CaseUnlinked",
    "Closed",
    "CommentAdded",
    "CommentRedacted",
    "CsatRecorded",
    "DomainEvent",
    "Escalated",
    "FieldsUpdated",
    "Merged",
    "PriorityChanged",
    "Reopened",
    "Resolved",
    "SlaBreached",
    "Split",
    "StatusChanged",
    "Unmerged",
    "event_payload",
]


@attrs.frozen
class DomainEvent:
    """Base of all events: which case, when, and who caused it."""

    type: ClassVar[str] = "event"
    case_id: str
    tenant: str
    at: datetime
    actor: str


@attrs.frozen
class CaseCreated(DomainEvent):
    """A case was opened."""

    type: ClassVar[str] = "case.created"
    number: str
    subject: str
    priority: str
    status: str


@attrs.frozen
class CaseLinked(DomainEvent):
    """A typed link was made between this case and ``other``. Published once on each end
    (in the same transaction as the link), each read from its own case: ``role`` is how this
    case sees the link (``child_of`` on the child of a ``parent_of`` link), ``source``,
    ``kind`` and ``target`` the stored link itself."""

    type: ClassVar[str] = "case.linked"
    other: str
    role: str
    source: str
    kind: str
    target: str


@attrs.frozen
class CaseUnlinked(DomainEvent):
    """A typed link between this case and ``other`` was removed (fields as in
    :class:`CaseLinked`)."""

    type: ClassVar[str] = "case.unlinked"
    other: str
    role: str
    source: str
    kind: str
    target: str


def _seqs(items: object) -> tuple[int, ...]:
    return require_items(items, "seqs", "a list of timeline numbers")


@attrs.frozen
class Merged(DomainEvent):
    """This case was merged into ``survivor`` (case number ``survivor_number``); it was in
    ``previous_status`` before. Published on the merged-away case only, beside its
    ``case.status_changed``: a merge never writes the survivor (that is what makes unmerge
    exact, survivor version included), and an event is saved with its case's version, so a
    host following the survivor matches ``survivor`` in the payload instead."""

    type: ClassVar[str] = "case.merged"
    survivor: str
    survivor_number: str
    previous_status: str


@attrs.frozen
class Unmerged(DomainEvent):
    """A merge of this case into ``survivor`` (``survivor_number``) was undone: the case is
    back in ``status``. Published on the formerly merged case only, as :class:`Merged`."""

    type: ClassVar[str] = "case.unmerged"
    survivor: str
    survivor_number: str
    status: str


@attrs.frozen
class Split(DomainEvent):
    """Comments of this case (``seqs``, its timeline numbers) were copied onto the new case
    ``new_case`` (``new_number``). Published on the source in the unit of work that links the
    new case ``split_from`` it (the new case has its own ``case.created`` and
    ``case.linked``)."""

    type: ClassVar[str] = "case.split"
    new_case: str
    new_number: str
    seqs: tuple[int, ...] = attrs.field(converter=_seqs)


@attrs.frozen
class StatusChanged(DomainEvent):
    """The case moved between workflow statuses."""

    type: ClassVar[str] = "case.status_changed"
    old: str
    new: str
    old_category: str
    new_category: str
    note: str | None = None


@attrs.frozen
class PriorityChanged(DomainEvent):
    """The priority rung changed (by hand, by escalation or by an SLA breach)."""

    type: ClassVar[str] = "case.priority_changed"
    old: str
    new: str
    reason: str | None = None


@attrs.frozen
class Assigned(DomainEvent):
    """Owner and/or team queue changed."""

    type: ClassVar[str] = "case.assigned"
    old_assignee: str | None
    new_assignee: str | None
    old_team: str | None
    new_team: str | None
    manual: bool = True


@attrs.frozen
class CommentAdded(DomainEvent):
    """An internal note or public reply was added."""

    type: ClassVar[str] = "case.comment_added"
    seq: int
    audience: str


@attrs.frozen
class CommentRedacted(DomainEvent):
    """A comment's text was removed; the entry itself stays in the timeline."""

    type: ClassVar[str] = "case.comment_redacted"
    seq: int
    reason: str


@attrs.frozen
class FieldsUpdated(DomainEvent):
    """Descriptive fields changed: ``changes`` maps field → (old, new) as plain data."""

    type: ClassVar[str] = "case.fields_updated"
    changes: dict[str, tuple[Any, Any]] = attrs.field(hash=False)


@attrs.frozen
class Resolved(DomainEvent):
    """The case entered a status of category *resolved*."""

    type: ClassVar[str] = "case.resolved"
    summary: str
    code: str | None = None


@attrs.frozen
class Reopened(DomainEvent):
    """A resolved or closed case went back to work."""

    type: ClassVar[str] = "case.reopened"
    previous_status: str
    reason: str | None = None


@attrs.frozen
class Closed(DomainEvent):
    """The case entered a status of category *closed*."""

    type: ClassVar[str] = "case.closed"
    csat: int | None = None


@attrs.frozen
class CsatRecorded(DomainEvent):
    """The customer's satisfaction score (1–5) was captured."""

    type: ClassVar[str] = "case.csat_recorded"
    score: int


def event_payload(event: DomainEvent) -> dict[str, Any]:
    """A JSON-ready dict of the event's fields (datetimes as ISO text), for outboxes."""
    cls = type(event)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(a.name for a in attrs.fields(cls))
    payload = {}
    for name in names:
        value = getattr(event, name)
        # the common field types first: one type() test each, no call into convert
        kind = type(value)
        if kind is str or value is None or kind is int or kind is bool or kind is float:
            payload[name] = value
        elif kind is datetime:
            payload[name] = to_iso(value)
        else:
            payload[name] = _convert(value)
    return payload


_FIELD_NAMES: dict[type[DomainEvent], tuple[str, ...]] = {}
"""Field names per event class (attrs.fields() is a lookup plus checks on every call)."""


def _convert(value: Any) -> Any:
    if isinstance(value, datetime):
        return to_iso(value)
    if isinstance(value, tuple):
        return [_convert(v) for v in value]
    if isinstance(value, dict):
        return {k: _convert(v) for k, v in value.items()}
    return value


def _deliveries(items: object) -> tuple[Mapping[str, Any], ...]:
    return require_items(items, "deliveries", "a list of rendered deliveries (mappings)")


@attrs.frozen
class SlaBreached(DomainEvent):
    """An SLA target passed its due time unmet (recorded once, by the breach sweep)."""

    type: ClassVar[str] = "case.sla_breached"
    target: str
    due_at: datetime
    breached_by_seconds: float
    notified: tuple[str, ...] = ()


@attrs.frozen
class Escalated(DomainEvent):
    """The case was escalated (by hand): always recorded, whether or not the priority moved.

    ``level`` counts the case's escalations so far (1 for the first); ``from_level`` and
    ``to_level`` name the escalation levels it left and reached (see
    :class:`~caselib.automation.EscalationLadder`); ``to_team`` is the team it was handed to,
    if any; ``deliveries`` are the level's rendered notices, sent after the commit by
    ``ServiceDesk.deliver_pending``.
    """

    type: ClassVar[str] = "case.escalated"
    level: int
    old_priority: str
    new_priority: str
    reason: str | None = None
    to_team: str | None = None
    from_level: str | None = None
    to_level: str | None = None
    deliveries: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(), converter=_deliveries, hash=False)
