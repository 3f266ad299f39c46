"""The case aggregate.

:class:`Case` is the one mutable object: every change goes through one of its methods, which
validate *everything first* and only then mutate, append a timeline entry and collect a domain
event. A method that raises has changed nothing, and the application layer never saves a case
whose command raised, so bad input can never half-write a case.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from caselib.cases.events import (
    Assigned,
    CaseCreated,
    Closed,
    CommentAdded,
    CommentRedacted,
    CsatRecorded,
    DomainEvent,
    FieldsUpdated,
    PriorityChanged,
    Reopened,
    Resolved,
    StatusChanged,
)
from caselib.cases.fields import CaseFields
from caselib.cases.sla_state import (
    BREACH_REASON,
    Pause,
    SlaTarget,
    any_breached,
    breach_entry,
    next_due_of,
)
from caselib.cases.values import (
    BODY_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    SHORT_TEXT_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Actor,
    Attachment,
    CasePolicy,
    Csat,
    CustomValue,
    Links,
    Redaction,
    Resolution,
    TimelineEntry,
    _check_csat,
    _opt_id,
    _str,
    _tags,
    _text,
    validate_custom_fields,
)
from caselib.checks import require_mapping
from caselib.errors import CommandRefused, InvalidInput, PermissionDenied, UnknownValue
from caselib.timeutil import aware_utc
from caselib.vocab import (
    ActorKind,
    Audience,
    Priority,
    Severity,
    Source,
    StatusCategory,
)

__all__ = ["Case"]

# --- the aggregate ---------------------------------------------------------------------------


@attrs.define(eq=False)
class Case:
    """A customer-support case: the aggregate root.

    Create one with :meth:`open` (or ``ServiceDesk.create_case``); mutate it only through its
    methods. ``version`` counts saved changes and guards against lost updates: stores refuse a
    save whose expected version is not the stored one.
    """

    id: str
    tenant: str
    number: str
    subject: str
    status: str
    status_category: StatusCategory
    workflow: str
    priority: Priority
    created_at: datetime
    updated_at: datetime
    created_by: str
    description: str = ""
    severity: Severity | None = None
    case_type: str | None = None
    category: str | None = None
    subcategory: str | None = None
    reason_code: str | None = None
    source: Source = Source.OTHER
    links: Links = Links()
    assignee: str | None = None
    team: str | None = None
    assigned_manually: bool = False
    tags: frozenset[str] = frozenset()
    custom: dict[str, CustomValue] = attrs.field(factory=dict)
    attachments: list[Attachment] = attrs.field(factory=list)
    timeline: list[TimelineEntry] = attrs.field(factory=list)
    resolutions: list[Resolution] = attrs.field(factory=list)
    csat: Csat | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    first_response_at: datetime | None = None
    sla_policy: str | None = None
    sla_started_at: datetime | None = None
    pauses: list[Pause] = attrs.field(factory=list)
    sla_targets: list[SlaTarget] = attrs.field(factory=list)
    escalation_level: str | None = None
    """The escalation level the case stands at (a name of the tenant's
    :class:`~caselib.automation.EscalationLadder`, or ``"1"``, ``"2"`` … without one);
    ``None``: never escalated."""
    version: int = 0
    _events: list[DomainEvent] = attrs.field(factory=list, alias="_events", repr=False)
    _saved_entries: int = attrs.field(default=0, alias="_saved_entries", repr=False)
    _redacted: set[int] = attrs.field(factory=set, alias="_redacted", repr=False)
    _saved_tags: frozenset[str] | None = attrs.field(
        default=None, alias="_saved_tags", repr=False)
    _memo: dict[str, Any] = attrs.field(factory=dict, alias="_memo", repr=False)
    """Derived data that domain modules fold incrementally over the append-only timeline
    (e.g. SLA pauses); never stored, copied with the case, rebuilt when absent."""

    def __repr__(self) -> str:
        return (
            f"<Case {self.number} {self.status!r} {self.priority.value} v{self.version} "
            f"{self.subject[:40]!r}>"
        )

    # -- construction -------------------------------------------------------------------

    @classmethod
    def open(
        cls,
        *,
        id: str,
        tenant: str,
        number: str,
        subject: str,
        status: str,
        status_category: StatusCategory,
        workflow: str,
        actor: Actor,
        at: datetime,
        policy: CasePolicy = CasePolicy(),
        description: str = "",
        priority: Priority | str | None = None,
        severity: Severity | str | None = None,
        case_type: str | None = None,
        category: str | None = None,
        subcategory: str | None = None,
        reason_code: str | None = None,
        source: Source | str = Source.OTHER,
        links: Links | Mapping[str, str | None] | None = None,
        tags: Iterable[str] = (),
        custom: Mapping[str, object] | None = None,
    ) -> Case:
        """Validate every field and return a new case with a *created* activity entry.

        The descriptive fields go through :meth:`CaseFields.parse
        <caselib.cases.fields.CaseFields.parse>` (also what routing previews use)."""
        at = aware_utc(at, "created_at")
        subject = _text(subject, "subject", SUBJECT_MAX_LENGTH)
        description = _text(description, "description", DESCRIPTION_MAX_LENGTH, required=False)
        f = CaseFields.parse(
            policy, priority=priority, severity=severity, case_type=case_type,
            category=category, subcategory=subcategory, reason_code=reason_code, source=source,
            links=links, tags=tags, custom=custom,
        )
        if policy.require_account and f.links.account is None:
            raise InvalidInput("this tenant requires every case to link an account",
                               field="links.account")
        case = cls(
            id=id,
            tenant=tenant,
            number=number,
            subject=subject,
            status=status,
            status_category=status_category,
            workflow=workflow,
            priority=f.priority,
            created_at=at,
            updated_at=at,
            created_by=actor.id,
            description=description,
            severity=f.severity,
            case_type=f.case_type,
            category=f.category,
            subcategory=f.subcategory,
            reason_code=f.reason_code,
            source=f.source,
            links=f.links,
            tags=f.tags,
            custom=dict(f.custom),
        )
        case._append(actor, at, Audience.SYSTEM, "created", data={"status": status})
        case._events.append(
            CaseCreated(id, tenant, at, actor.id, number, subject, f.priority.value, status)
        )
        return case

    # -- reading --------------------------------------------------------------------------

    @property
    def is_active(self) -> bool:
        """Still needs work (status category new, open or waiting)."""
        return self.status_category.is_active

    @property
    def contact(self) -> str | None:
        """The host contact the case is about (``links.contact``): who may rate it."""
        return self.links.contact

    @property
    def account(self) -> str | None:
        """The host account the case is about (``links.account``)."""
        return self.links.account

    @property
    def resolution(self) -> Resolution | None:
        """The latest resolution while the case is resolved or closed, else ``None``."""
        if self.status_category in (StatusCategory.RESOLVED, StatusCategory.CLOSED):
            return self.resolutions[-1] if self.resolutions else None
        return None

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest due time among SLA targets that can still breach."""
        return next_due_of(self.sla_targets)

    @property
    def breached(self) -> bool:
        """True once any SLA target has breached (stays true after the case is resolved)."""
        return any_breached(self.sla_targets)

    def public_timeline(self) -> list[TimelineEntry]:
        """Only entries a customer may see: public replies, with redacted text removed."""
        return [e for e in self.timeline if e.audience is Audience.PUBLIC]

    # -- persistence bookkeeping (used by stores, not by hosts) ------------------------------

    @property
    def memo(self) -> dict[str, Any]:
        """Scratch space for derived data folded over the timeline (see ``_memo``)."""
        return self._memo

    def emit(self, event: DomainEvent) -> None:
        """Collect an event raised by an application service (e.g. an SLA breach)."""
        self._events.append(event)

    def pull_events(self) -> list[DomainEvent]:
        """Hand the collected events to the store and forget them."""
        events, self._events = self._events, []
        return events

    @property
    def pending_events(self) -> tuple[DomainEvent, ...]:
        """Events collected since the last save."""
        return tuple(self._events)

    def unsaved_entries(self) -> list[TimelineEntry]:
        """Timeline entries appended since the case was loaded or last saved."""
        return self.timeline[self._saved_entries :]

    def redacted_since_save(self) -> list[TimelineEntry]:
        """Previously saved entries whose text was redacted since the last save."""
        return [self.timeline[s - 1] for s in sorted(self._redacted) if s <= self._saved_entries]

    @property
    def tags_changed_since_save(self) -> bool:
        """Whether ``tags`` differ from what the store holds (stores skip rewriting them)."""
        return self._saved_tags is None or self._saved_tags != self.tags

    def mark_saved(self, version: int) -> None:
        """Record that the store holds this state at ``version``."""
        self.version = version
        self._saved_tags = self.tags
        self._saved_entries = len(self.timeline)
        self._redacted.clear()
        self._events.clear()

    def clone(self) -> Case:
        """An independent copy (containers copied; values are immutable and shared)."""
        return _clone(self)

    # -- commands (validate first, then mutate) ------------------------------------------------

    def _append(
        self,
        actor: Actor,
        at: datetime,
        audience: Audience,
        kind: str,
        body: str = "",
        data: Mapping[str, Any] | None = None,
    ) -> TimelineEntry:
        entry = TimelineEntry(
            seq=len(self.timeline) + 1,
            at=at,
            actor=actor.id,
            actor_kind=actor.kind,
            audience=audience,
            kind=kind,
            body=body,
            data=dict(data or {}),
            actor_name=actor.name,
        )
        self.timeline.append(entry)
        self.updated_at = at
        return entry

    def record_activity(
        self, actor: Actor, at: datetime, kind: str, body: str = "", **data: Any
    ) -> TimelineEntry:
        """Append a *system* entry (routing decisions, SLA breaches …) without other changes."""
        return self._append(actor, aware_utc(at, "at"), Audience.SYSTEM, kind, body, data)

    def record_escalation(
        self, to_level: str, reason: str | None, *, actor: Actor, at: datetime, **data: Any
    ) -> TimelineEntry:
        """Move the case to escalation level ``to_level`` and record it: a system entry
        ``escalated`` whose data holds ``from_level`` / ``to_level`` and ``data``."""
        at = aware_utc(at, "at")
        level = _text(to_level, "escalation level", SHORT_TEXT_MAX_LENGTH)
        why = "" if reason is None else _text(reason, "reason", SHORT_TEXT_MAX_LENGTH)
        old, self.escalation_level = self.escalation_level, level
        return self._append(actor, at, Audience.SYSTEM, "escalated", why,
                            {**data, "from_level": old, "to_level": level})

    def add_comment(
        self, body: str, *, audience: Audience | str, actor: Actor, at: datetime
    ) -> TimelineEntry:
        """Add an internal note or a public reply.

        Customers can only write public replies. The first public reply by an agent is the
        case's first response (what the first-response SLA measures).
        """
        at = aware_utc(at, "at")
        aud = Audience.parse(audience)
        if aud is Audience.SYSTEM:
            raise InvalidInput("comments are internal or public; system entries are caselib's",
                               field="audience")
        text = _text(body, "comment", BODY_MAX_LENGTH)
        if actor.kind is ActorKind.CUSTOMER and aud is not Audience.PUBLIC:
            raise PermissionDenied("customers can only add public replies")
        entry = self._append(actor, at, aud, "reply" if aud is Audience.PUBLIC else "note", text)
        if (
            aud is Audience.PUBLIC
            and actor.kind is ActorKind.AGENT
            and self.first_response_at is None
        ):
            self.first_response_at = at
        self._events.append(
            CommentAdded(self.id, self.tenant, at, actor.id, entry.seq, aud.value)
        )
        return entry

    def redact_comment(self, seq: int, *, reason: str, actor: Actor, at: datetime) -> None:
        """Remove a comment's text, keeping the entry, its audience and who redacted it."""
        at = aware_utc(at, "at")
        reason = _text(reason, "reason", SHORT_TEXT_MAX_LENGTH)
        if actor.kind is not ActorKind.AGENT and not actor.is_admin:
            raise PermissionDenied("only agents can redact comments")
        if not isinstance(seq, int) or not 1 <= seq <= len(self.timeline):
            raise InvalidInput(f"case {self.number} has no timeline entry {seq!r}", field="seq")
        entry = self.timeline[seq - 1]
        if not entry.is_comment:
            raise InvalidInput(f"entry {seq} is {entry.kind!r} activity; only comments can be "
                               "redacted", field="seq")
        if entry.redaction is not None:
            raise InvalidInput(f"entry {seq} is already redacted", field="seq")
        self.timeline[seq - 1] = attrs.evolve(
            entry, body="", redaction=Redaction(actor.id, at, reason)
        )
        self._redacted.add(seq)
        self._append(actor, at, Audience.SYSTEM, "redacted", data={"seq": seq, "reason": reason})
        self._events.append(CommentRedacted(self.id, self.tenant, at, actor.id, seq, reason))

    def move_to(
        self,
        status: str,
        category: StatusCategory,
        *,
        actor: Actor,
        at: datetime,
        note: str | None = None,
        resolution_code: str | None = None,
        csat: int | None = None,
        note_parameter: str = "note",
    ) -> None:
        """Record a status change the lifecycle has already allowed and gated.

        Entering a *resolved* status adds a :class:`Resolution` (the note is its summary);
        leaving resolved/closed for an active status is a reopen and keeps every earlier
        resolution. Call through :class:`~caselib.cases.CompiledWorkflow`, which checks the
        workflow first. ``note_parameter`` is the note's name in the calling command
        (``summary`` for a resolve): errors about the note name that field.
        """
        at = aware_utc(at, "at")
        text = (None if note is None
                else _text(note, note_parameter, BODY_MAX_LENGTH, required=False))
        text = text or None
        if category is StatusCategory.RESOLVED and text is None:
            raise InvalidInput(f"a resolution needs a summary; pass {note_parameter}=...",
                               field=note_parameter)
        if csat is not None:
            _check_csat(csat)
            self._check_rater(actor)
        code = _opt_id(resolution_code, "resolution_code")
        old, old_cat = self.status, self.status_category
        self.status, self.status_category = status, category
        self._append(
            actor, at, Audience.SYSTEM, "status_changed", text or "",
            {"old": old, "new": status, "old_category": old_cat.value,
             "new_category": category.value},
        )
        self._events.append(
            StatusChanged(self.id, self.tenant, at, actor.id, old, status, old_cat.value,
                          category.value, text)
        )
        reopening = not old_cat.is_active and category.is_active
        if category is StatusCategory.RESOLVED and old_cat is not StatusCategory.RESOLVED:
            assert text is not None
            self.resolutions.append(Resolution(text, at, actor.id, code))
            self.resolved_at = at
            self._events.append(Resolved(self.id, self.tenant, at, actor.id, text, code))
        if category is StatusCategory.CLOSED and old_cat is not StatusCategory.CLOSED:
            self.closed_at = at
            if self.resolved_at is None:
                self.resolved_at = at
            self._events.append(Closed(self.id, self.tenant, at, actor.id, csat))
        if reopening:
            self.resolved_at = None
            self.closed_at = None
            self._events.append(Reopened(self.id, self.tenant, at, actor.id, old, text))
        if csat is not None:
            self.record_csat(csat, actor=actor, at=at)

    def _check_rater(self, actor: Actor) -> None:
        if actor.kind is ActorKind.CUSTOMER and actor.id != self.links.contact:
            raise PermissionDenied(
                f"only the contact of case {self.number} may rate it",
                permission="portal.rate")
        if self.csat is not None:
            raise CommandRefused(
                f"case {self.number} was already rated ({self.csat.score} by "
                f"{self.csat.by}); a rating is recorded once and never overwritten")

    def record_csat(
        self, score: int, *, actor: Actor, at: datetime, comment: str | None = None
    ) -> None:
        """Capture the 1–5 rating, once, after the case is resolved or closed.

        The rating belongs to the case's contact: a customer other than the contact is
        refused, and a rating is never overwritten (an agent may record one taken by phone
        only while there is none). The comment is kept on the rating and its timeline entry.
        """
        at = aware_utc(at, "at")
        _check_csat(score)
        text = None if comment is None else _text(comment, "csat comment", BODY_MAX_LENGTH)
        self._check_rater(actor)
        if self.is_active:
            raise InvalidInput(
                f"CSAT is captured after a case is resolved; case {self.number} is "
                f"{self.status!r}", field="csat",
            )
        self.csat = Csat(score, at, actor.id, text)
        self._append(actor, at, Audience.SYSTEM, "csat", text or "", data={"score": score})
        self._events.append(CsatRecorded(self.id, self.tenant, at, actor.id, score))

    def change_priority(
        self, priority: Priority | str, *, actor: Actor, at: datetime, reason: str | None = None
    ) -> bool:
        """Set the priority rung; returns False (and records nothing) when it is unchanged."""
        at = aware_utc(at, "at")
        new = Priority.parse(priority)
        why = None if reason is None else _text(reason, "reason", SHORT_TEXT_MAX_LENGTH)
        if new is self.priority:
            return False
        old = self._set_priority(new, actor, at, why)
        self._append(actor, at, Audience.SYSTEM, "priority_changed", why or "",
                     {"old": old.value, "new": new.value})
        return True

    def _set_priority(self, new: Priority, actor: Actor, at: datetime,
                      reason: str | None) -> Priority:
        """Move to ``new`` (a different rung) and emit the event; returns the old rung. The
        caller records the timeline entry."""
        old, self.priority = self.priority, new
        self._events.append(
            PriorityChanged(self.id, self.tenant, at, actor.id, old.value, new.value, reason))
        return old

    def record_breach(
        self,
        target: str,
        body: str,
        *,
        actor: Actor,
        at: datetime,
        priority: Priority | str | None = None,
        **data: Any,
    ) -> TimelineEntry:
        """Record one SLA breach as one ``sla_breached`` system entry, raising the priority
        to ``priority`` in the same entry (``data`` gains ``old_priority``/``new_priority``).

        A breach and the escalation it causes are one fact, so they are one line of history
        (and one timeline row for a store to append, which is what the breach sweep's cost at
        scale comes down to). A :class:`~caselib.cases.PriorityChanged` event is still
        emitted for hosts that follow priority changes. ``priority`` equal to the current
        one (an urgent case stays urgent) records the breach alone.
        """
        at = aware_utc(at, "at")
        new = None if priority is None else Priority.parse(priority)
        old = self.priority
        if new is not None and new is not old:
            self._set_priority(new, actor, at, BREACH_REASON)
        entry = breach_entry(len(self.timeline) + 1, target, body, actor=actor, at=at, old=old,
                             new=new, data=data)
        self.timeline.append(entry)
        self.updated_at = at
        return entry

    def assign(
        self,
        *,
        assignee: str | None,
        team: str | None,
        actor: Actor,
        at: datetime,
        manual: bool = True,
        reason: str = "",
    ) -> bool:
        """Set owner and team queue. Manual assignment is sticky: re-routing leaves it alone.

        Returns False (and records nothing) when neither changed.
        """
        at = aware_utc(at, "at")
        who = _opt_id(assignee, "assignee")
        queue = _opt_id(team, "team")
        if actor.kind is ActorKind.CUSTOMER:
            raise PermissionDenied("customers cannot assign cases")
        if who == self.assignee and queue == self.team:
            if manual:
                self.assigned_manually = True
            return False
        old_who, old_team = self.assignee, self.team
        self.assignee, self.team = who, queue
        self.assigned_manually = manual
        self._append(
            actor, at, Audience.SYSTEM, "assigned", reason,
            {"old_assignee": old_who, "new_assignee": who, "old_team": old_team,
             "new_team": queue, "manual": manual},
        )
        self._events.append(
            Assigned(self.id, self.tenant, at, actor.id, old_who, who, old_team, queue, manual)
        )
        return True

    def update_fields(
        self,
        changes: Mapping[str, object],
        *,
        actor: Actor,
        at: datetime,
        policy: CasePolicy = CasePolicy(),
    ) -> dict[str, tuple[Any, Any]]:
        """Change descriptive fields; returns ``{field: (old, new)}`` for those that changed.

        Accepted keys: subject, description, severity, case_type, category, subcategory,
        reason_code, source, links (a mapping, merged), tags (replaced), custom (a mapping,
        merged; ``None`` removes a key). Status, priority and assignment have their own
        commands because they carry their own rules.
        """
        at = aware_utc(at, "at")
        require_mapping(changes, "changes")
        if actor.kind is ActorKind.CUSTOMER:
            raise PermissionDenied("customers cannot edit case fields")
        allowed = {"subject", "description", "severity", "case_type", "category",
                   "subcategory", "reason_code", "source", "links", "tags", "custom"}
        unknown = set(changes) - allowed
        if unknown:
            raise UnknownValue("field", sorted(unknown, key=repr)[0], sorted(allowed))
        vocab = policy.vocabulary
        new: dict[str, Any] = {}
        for key, value in changes.items():
            if key == "subject":
                new[key] = _text(value, "subject", SUBJECT_MAX_LENGTH)
            elif key == "description":
                new[key] = _text(value, "description", DESCRIPTION_MAX_LENGTH, required=False)
            elif key == "severity":
                new[key] = None if value is None else Severity.parse(value)
            elif key == "source":
                new[key] = Source.parse(value)
            elif key == "case_type":
                new[key] = None if value is None else vocab.case_type(str(value))
            elif key == "category":
                new[key] = None if value is None else vocab.category(_str(value, key))
            elif key == "reason_code":
                new[key] = None if value is None else vocab.reason_code(_str(value, key))
            elif key == "tags":
                new[key] = _tags(value)  # type: ignore[arg-type]
            elif key == "links":
                merged = {**self.links.to_dict(), **require_mapping(value, "links")}
                new[key] = Links.from_dict(merged)
            elif key == "custom":
                merged_custom = {**self.custom, **require_mapping(value, "custom")}
                new[key] = validate_custom_fields(
                    {k: v for k, v in merged_custom.items() if v is not None}
                )
        category = new.get("category", self.category)
        if "subcategory" in changes:
            sub = changes["subcategory"]
            if sub is not None and category is None:
                raise InvalidInput("a subcategory needs a category", field="subcategory")
            new["subcategory"] = None if sub is None or category is None else (
                vocab.subcategory(category, _str(sub, "subcategory")))
        elif "category" in new and new["category"] != self.category:
            new["subcategory"] = None  # the old subcategory belonged to the old category
        links = new.get("links", self.links)
        if policy.require_account and links.account is None:
            raise InvalidInput("this tenant requires every case to link an account",
                               field="links.account")
        diff: dict[str, tuple[Any, Any]] = {}
        for key, value in new.items():
            old = getattr(self, key)
            if old != value:
                diff[key] = (_plain(old), _plain(value))
                setattr(self, key, value)
        if diff:
            self._append(actor, at, Audience.SYSTEM, "fields_changed",
                         data={k: {"old": o, "new": n} for k, (o, n) in diff.items()})
            self._events.append(FieldsUpdated(self.id, self.tenant, at, actor.id, diff))
        return diff

    def add_attachment(self, attachment: Attachment, *, actor: Actor) -> None:
        """Attach evidence metadata and log it."""
        if not isinstance(attachment, Attachment):
            raise InvalidInput("expected an Attachment", field="attachment")
        if any(a.storage_key == attachment.storage_key for a in self.attachments):
            raise InvalidInput(f"storage key {attachment.storage_key!r} is already attached",
                               field="storage_key")
        self.attachments.append(attachment)
        self._append(actor, attachment.added_at, Audience.SYSTEM, "attachment_added",
                     data={"name": attachment.name, "size": attachment.size,
                           "sha256": attachment.sha256})


_CASE_SLOTS: tuple[str, ...] = tuple(a.name for a in attrs.fields(Case))
_CONTAINERS = {"custom": "dict", "attachments": "list", "timeline": "list",
               "resolutions": "list", "pauses": "list", "sla_targets": "list",
               "_events": "list", "_redacted": "set", "_memo": "dict"}


def _make_clone() -> Callable[[Case], Case]:
    """Generate a straight-line copier: stores clone on every load and save, and a loop of
    ``getattr``/``setattr`` over 40 slots (or ``attrs.evolve``, which re-runs ``__init__``)
    is a measurable share of a command's cost."""
    lines = ["def clone(self):", "    new = new_case(Case)", "    put = set_slot"]
    for name in _CASE_SLOTS:
        value = f"self.{name}"
        if name in _CONTAINERS:
            value = f"{_CONTAINERS[name]}({value})"
        lines.append(f"    put(new, {name!r}, {value})")
    lines.append("    return new")
    namespace: dict[str, Any] = {"Case": Case, "new_case": object.__new__,
                                 "set_slot": object.__setattr__}
    exec("\n".join(lines), namespace)  # source built from our own field names
    clone: Callable[[Case], Case] = namespace["clone"]
    return clone


_clone = _make_clone()


def _plain(value: object) -> Any:
    """A JSON-ready form of a field value for timeline data and events."""
    if isinstance(value, Links):
        return value.to_dict()
    if isinstance(value, frozenset):
        return sorted(value)
    if isinstance(value, (Severity, Source, Priority)):
        return value.value
    if isinstance(value, dict):
        return dict(value)
    return value
