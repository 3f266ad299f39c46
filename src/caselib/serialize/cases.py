"""The shapes of a case and its parts: the actor, links, evidence, timeline entries,
resolutions, CSAT, SLA pauses and target states — written and read back.

A case document is the agent's view: the whole timeline, internal notes included. What a
customer may see is :func:`caselib.serialize.customer_case`, built from a
:class:`~caselib.desk.CustomerView` and never from a case.
"""

from __future__ import annotations

from typing import Any, Final

import attrs

from caselib.cases import (
    BODY_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    SUBJECT_MAX_LENGTH,
    Actor,
    Attachment,
    Case,
    Csat,
    Links,
    Pause,
    Redaction,
    Resolution,
    SlaTarget,
    TimelineEntry,
)
from caselib.cases.values import validate_custom_fields
from caselib.errors import InvalidInput, UnknownValue
from caselib.serialize._read import Doc, check_json, inside, instant_text, jsonable
from caselib.vocab import ActorKind, Audience, Priority, Severity, Source, StatusCategory

__all__ = [
    "actor_from",
    "actor_to",
    "case_from",
    "case_to",
    "entry_from",
    "entry_to",
    "sla_target_from",
    "sla_target_to",
]

_LINKS: Final = tuple(a.name for a in attrs.fields(Links))
_TARGET_STATES: Final = ("running", "paused", "warning", "breached", "met")
_T = instant_text


# --- the actor -------------------------------------------------------------------------------


def actor_to(actor: Actor) -> dict[str, Any]:
    """``{"id", "kind", "roles" (sorted), "name", "teams" (sorted), "account"}``."""
    return {"id": actor.id, "kind": actor.kind.value, "roles": sorted(actor.roles),
            "name": actor.name, "teams": sorted(actor.teams), "account": actor.account}


def actor_from(d: Doc) -> Actor:
    actor = Actor(d.text("id"), d.member("kind", ActorKind, default="agent"),
                  frozenset(d.texts("roles", default=[])), d.opt_text("name"),
                  frozenset(d.texts("teams", default=[])), d.opt_text("account"))
    d.finish()
    return actor


# --- timeline entries ------------------------------------------------------------------------


def entry_to(entry: TimelineEntry) -> dict[str, Any]:
    """One line of history; ``redaction`` is ``null`` unless the text was removed."""
    red = entry.redaction
    return {
        "seq": entry.seq,
        "at": _T(entry.at),
        "actor": entry.actor,
        "actor_name": entry.actor_name,
        "actor_kind": entry.actor_kind.value,
        "audience": entry.audience.value,
        "kind": entry.kind,
        "body": entry.body,
        "data": jsonable(entry.data, "data"),
        "redaction": None if red is None else {"by": red.by, "at": _T(red.at),
                                               "reason": red.reason},
    }


def entry_from(d: Doc) -> TimelineEntry:
    red = d.opt_doc("redaction")
    redaction = None
    if red is not None:
        redaction = Redaction(red.text("by"), red.instant("at"), red.text("reason"))
        red.finish()
    entry = TimelineEntry(
        seq=d.integer("seq", minimum=1),
        at=d.instant("at"),
        actor=d.text("actor"),
        actor_name=d.opt_text("actor_name"),
        actor_kind=d.member("actor_kind", ActorKind),
        audience=d.member("audience", Audience),
        kind=d.text("kind", limit=64),
        body=d.text("body", limit=BODY_MAX_LENGTH, empty=True, default=""),
        data=check_json(d.raw("data", {}), d.name("data")),
        redaction=redaction,
    )
    if not isinstance(entry.data, dict):
        raise InvalidInput(f"{d.name('data')} must be an object", field=d.name("data"))
    d.finish()
    return entry


# --- SLA state -------------------------------------------------------------------------------


def sla_target_to(t: SlaTarget) -> dict[str, Any]:
    """One target's state: ``running · paused · warning · breached · met`` and its times."""
    return {"name": t.name, "state": t.state, "due_at": _T(t.due_at), "warn_at": _T(t.warn_at),
            "breached_at": _T(t.breached_at), "met_at": _T(t.met_at),
            "breached_by_seconds": t.breached_by_seconds, "elapsed_seconds": t.elapsed_seconds}


def sla_target_from(d: Doc) -> SlaTarget:
    state = d.text("state", default="running")
    if state not in _TARGET_STATES:
        raise UnknownValue(d.name("state"), state, _TARGET_STATES)
    target = SlaTarget(d.text("name", limit=64), d.opt_instant("due_at"), state,
                       d.opt_instant("warn_at"), d.opt_instant("breached_at"),
                       d.opt_instant("met_at"), d.opt_number("breached_by_seconds"),
                       d.opt_int("elapsed_seconds", minimum=0))
    d.finish()
    return target


def _pause_to(p: Pause) -> dict[str, Any]:
    return {"start": _T(p.start), "end": _T(p.end), "reason": p.reason}


def _pause_from(d: Doc) -> Pause:
    pause = Pause(d.instant("start"), d.opt_instant("end"),
                  d.text("reason", limit=64, default="waiting"))
    d.finish()
    return pause


# --- the case --------------------------------------------------------------------------------


def case_to(case: Case) -> dict[str, Any]:
    """Every field of the case, the timeline included (an agent's view), plus the derived
    ``next_due_at`` and ``breached`` that list badges show (ignored when read back)."""
    links = case.links
    csat = case.csat
    return {
        "id": case.id,
        "tenant": case.tenant,
        "number": case.number,
        "subject": case.subject,
        "description": case.description,
        "status": case.status,
        "status_category": case.status_category.value,
        "workflow": case.workflow,
        "priority": case.priority.value,
        "severity": None if case.severity is None else case.severity.value,
        "case_type": case.case_type,
        "category": case.category,
        "subcategory": case.subcategory,
        "reason_code": case.reason_code,
        "source": case.source.value,
        "links": {name: getattr(links, name) for name in _LINKS},
        "assignee": case.assignee,
        "team": case.team,
        "assigned_manually": case.assigned_manually,
        "tags": sorted(case.tags),
        "custom": dict(case.custom),
        "attachments": [
            {"name": a.name, "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256, "storage_key": a.storage_key, "added_at": _T(a.added_at),
             "added_by": a.added_by}
            for a in case.attachments
        ],
        "timeline": [entry_to(e) for e in case.timeline],
        "resolutions": [
            {"summary": r.summary, "at": _T(r.at), "by": r.by, "code": r.code, "path": r.path}
            for r in case.resolutions
        ],
        "csat": None if csat is None else {
            "score": csat.score, "at": _T(csat.at), "by": csat.by, "comment": csat.comment},
        "created_at": _T(case.created_at),
        "updated_at": _T(case.updated_at),
        "created_by": case.created_by,
        "resolved_at": _T(case.resolved_at),
        "closed_at": _T(case.closed_at),
        "first_response_at": _T(case.first_response_at),
        "sla_policy": case.sla_policy,
        "sla_started_at": _T(case.sla_started_at),
        "pauses": [_pause_to(p) for p in case.pauses],
        "sla_targets": [sla_target_to(t) for t in case.sla_targets],
        "next_due_at": _T(case.next_due_at),
        "breached": case.breached,
        "escalation_level": case.escalation_level,
        "version": case.version,
    }


def _links_from(d: Doc | None) -> Links:
    if d is None:
        return Links()
    values = {name: d.opt_text(name) for name in _LINKS}
    d.finish()
    with inside(d.path):
        return Links(**values)


def _attachment_from(d: Doc) -> Attachment:
    values = (d.text("name", limit=255), d.text("content_type", limit=255),
              d.integer("size", minimum=0), d.text("sha256", limit=64),
              d.text("storage_key", limit=1024), d.instant("added_at"), d.text("added_by"))
    d.finish()
    with inside(d.path):  # Attachment's own checks (the sha256 digits) name their field
        attachment = Attachment(*values)
    return attachment


def _resolution_from(d: Doc) -> Resolution:
    resolution = Resolution(d.text("summary", limit=BODY_MAX_LENGTH), d.instant("at"),
                            d.text("by"), d.opt_text("code"), d.opt_text("path"))
    d.finish()
    return resolution


def _csat_from(d: Doc | None) -> Csat | None:
    if d is None:
        return None
    score = d.integer("score", minimum=1)
    if score > 5:
        raise InvalidInput(f"{d.name('score')} must be from 1 to 5, got {score}",
                           field=d.name("score"))
    csat = Csat(score, d.instant("at"), d.text("by"),
                d.opt_text("comment", limit=BODY_MAX_LENGTH))
    d.finish()
    return csat


def case_from(d: Doc) -> Case:
    """A case as a store would load it (saved at ``version``, no pending events)."""
    timeline = [entry_from(e) for e in d.docs("timeline", default=[])]
    for i, entry in enumerate(timeline):
        if entry.seq != i + 1:
            raise InvalidInput(f"timeline[{i}].seq is {entry.seq}; entries are numbered "
                               "1, 2, 3 … in order", field=f"timeline[{i}].seq")
    # validate_custom_fields' errors name custom.<key>; check_json refuses lone surrogates
    custom = validate_custom_fields(check_json(d.raw("custom", {}), "custom"))
    case = Case(
        id=d.text("id"),
        tenant=d.text("tenant"),
        number=d.text("number"),
        subject=d.text("subject", limit=SUBJECT_MAX_LENGTH),
        description=d.text("description", limit=DESCRIPTION_MAX_LENGTH, empty=True,
                           default=""),
        status=d.text("status", limit=64),
        status_category=d.member("status_category", StatusCategory),
        workflow=d.text("workflow", limit=64),
        priority=d.member("priority", Priority),
        severity=d.opt_member("severity", Severity),
        case_type=d.opt_text("case_type"),
        category=d.opt_text("category"),
        subcategory=d.opt_text("subcategory"),
        reason_code=d.opt_text("reason_code"),
        source=d.member("source", Source, default="other"),
        links=_links_from(d.opt_doc("links")),
        assignee=d.opt_text("assignee"),
        team=d.opt_text("team"),
        assigned_manually=d.boolean("assigned_manually", default=False),
        tags=frozenset(d.texts("tags", default=[])),
        custom=custom,
        attachments=[_attachment_from(a) for a in d.docs("attachments", default=[])],
        timeline=timeline,
        resolutions=[_resolution_from(r) for r in d.docs("resolutions", default=[])],
        csat=_csat_from(d.opt_doc("csat")),
        created_at=d.instant("created_at"),
        updated_at=d.instant("updated_at"),
        created_by=d.text("created_by"),
        resolved_at=d.opt_instant("resolved_at"),
        closed_at=d.opt_instant("closed_at"),
        first_response_at=d.opt_instant("first_response_at"),
        sla_policy=d.opt_text("sla_policy"),
        sla_started_at=d.opt_instant("sla_started_at"),
        pauses=[_pause_from(p) for p in d.docs("pauses", default=[])],
        sla_targets=[sla_target_from(t) for t in d.docs("sla_targets", default=[])],
        escalation_level=d.opt_text("escalation_level"),
        version=d.integer("version", minimum=0),
    )
    d.raw("next_due_at", None)  # derived from sla_targets; written for readers, not read
    d.raw("breached", None)
    d.finish()
    case.mark_saved(case.version)
    return case
