"""Plain-data forms of a case, for adapters that store JSON documents and rows.

attrs is not a serializer, so this is explicit on purpose: the stored format is a contract
(databases outlive code), and each field is spelled out once here. A case is stored as one
*document* (every field except the timeline) plus one *entry* per timeline line, so stores can
append entries without rewriting the case.

``FORMAT`` is the document format version; readers accept every older format they know.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.cases import (
    Attachment,
    Case,
    Csat,
    Links,
    Pause,
    Redaction,
    Resolution,
    SlaTarget,
    TimelineEntry,
    event_payload,
)
from caselib.errors import StorageError
from caselib.ports import OutboxMessage
from caselib.sla import SLA_ENTRY_KINDS, SlaCase
from caselib.timeutil import from_iso, to_iso
from caselib.vocab import ActorKind, Audience, Priority, Severity, Source, StatusCategory

__all__ = [
    "FORMAT",
    "case_from_document",
    "case_to_document",
    "entry_from_dict",
    "entry_to_dict",
    "outbox_messages",
    "sla_case_from_document",
    "sla_patch",
]

FORMAT: Final = 1


def _dt(value: datetime | None) -> str | None:
    return None if value is None else to_iso(value)


def _pdt(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)


_LINK_NAMES: Final = tuple(a.name for a in attrs.fields(Links))
_NO_LINKS: Final = Links()  # frozen: one shared instance for every case without links


def case_to_document(case: Case) -> dict[str, Any]:
    """Every field of ``case`` except the timeline, as JSON-ready data."""
    # written for speed (it runs once per save and per imported case): no helper calls for
    # the always-set datetimes, empty collections skip their comprehensions
    links = case.links
    severity = case.severity
    csat = case.csat
    return {
        "format": FORMAT,
        "id": case.id,
        "tenant": case.tenant,
        "number": case.number,
        "subject": case.subject,
        "description": case.description,
        "status": case.status,
        "status_category": case.status_category.value,
        "workflow": case.workflow,
        "priority": case.priority.value,
        "severity": None if severity is None else severity.value,
        "case_type": case.case_type,
        "category": case.category,
        "subcategory": case.subcategory,
        "reason_code": case.reason_code,
        "source": case.source.value,
        "links": {k: v for k in _LINK_NAMES if (v := getattr(links, k)) is not None},
        "assignee": case.assignee,
        "team": case.team,
        "assigned_manually": case.assigned_manually,
        "tags": sorted(case.tags),
        "custom": dict(case.custom),
        "attachments": [
            {"name": a.name, "content_type": a.content_type, "size": a.size,
             "sha256": a.sha256, "storage_key": a.storage_key, "added_at": _dt(a.added_at),
             "added_by": a.added_by}
            for a in case.attachments
        ] if case.attachments else [],
        "resolutions": [
            {"summary": r.summary, "at": _dt(r.at), "by": r.by, "code": r.code, "path": r.path}
            for r in case.resolutions
        ] if case.resolutions else [],
        "csat": None if csat is None else {
            "score": csat.score, "at": _dt(csat.at), "by": csat.by, "comment": csat.comment},
        "created_at": to_iso(case.created_at),
        "updated_at": to_iso(case.updated_at),
        "created_by": case.created_by,
        "resolved_at": _dt(case.resolved_at),
        "closed_at": _dt(case.closed_at),
        "first_response_at": _dt(case.first_response_at),
        "sla_policy": case.sla_policy,
        "sla_started_at": _dt(case.sla_started_at),
        "pauses": _pauses_to_list(case.pauses),
        "sla_targets": _targets_to_list(case.sla_targets),
        **({} if case.escalation_level is None else {"escalation_level": case.escalation_level}),
        "version": case.version,
    }


def _pauses_to_list(pauses: Sequence[Pause]) -> list[dict[str, Any]]:
    return [{"start": _dt(p.start), "end": _dt(p.end), "reason": p.reason}
            for p in pauses] if pauses else []


def _target_dict(t: SlaTarget) -> dict[str, Any]:
    d = {"name": t.name, "due_at": _dt(t.due_at), "state": t.state, "warn_at": _dt(t.warn_at),
         "breached_at": _dt(t.breached_at), "met_at": _dt(t.met_at),
         "breached_by_seconds": t.breached_by_seconds}
    if t.elapsed_seconds is not None:  # documents of unmet targets keep their old shape
        d["elapsed_seconds"] = t.elapsed_seconds
    return d


def _targets_to_list(targets: Sequence[SlaTarget]) -> list[dict[str, Any]]:
    return [_target_dict(t) for t in targets] if targets else []


def sla_patch(case: SlaCase, version: int) -> dict[str, Any]:
    """The document fields the breach sweep changes on ``case``, saved at ``version``: merged
    into the stored document they give :func:`case_to_document` of the whole case after
    :meth:`SlaCase.apply_to <caselib.sla.SlaCase.apply_to>`. No value is ``None``, so the
    patch reads the same as a JSON merge patch (RFC 7396)."""
    return {
        "priority": case.priority.value,
        "updated_at": to_iso(case.updated_at),
        "pauses": _pauses_to_list(case.pauses),
        "sla_targets": _targets_to_list(case.sla_targets),
        **({} if case.escalation_level is None else {"escalation_level": case.escalation_level}),
        "version": version,
    }


def entry_to_dict(entry: TimelineEntry) -> dict[str, Any]:
    """A timeline entry as JSON-ready data."""
    red = entry.redaction
    named = {} if entry.actor_name is None else {"actor_name": entry.actor_name}
    return {
        "seq": entry.seq,
        "at": to_iso(entry.at),
        "actor": entry.actor,
        **named,  # only when set: entries of nameless actors keep their earlier form
        "actor_kind": entry.actor_kind.value,
        "audience": entry.audience.value,
        "kind": entry.kind,
        "body": entry.body,
        "data": dict(entry.data),
        "redaction": None if red is None else {"by": red.by, "at": _dt(red.at),
                                               "reason": red.reason},
    }


def _member_lookup(enum: Any) -> Any:
    """``enum(value)`` through a dict first: stored values are members' values, and the
    enum call's machinery is a visible share of reading a case (6+ lookups per case)."""
    members = {m.value: m for m in enum}

    def lookup(value: Any) -> Any:
        try:
            found = members.get(value)
        except TypeError:  # unhashable junk in a corrupt document: the enum's own error
            found = None
        return enum(value) if found is None else found

    return lookup


_actor_kind = _member_lookup(ActorKind)
_audience = _member_lookup(Audience)
_status_category = _member_lookup(StatusCategory)
_priority = _member_lookup(Priority)
_source = _member_lookup(Source)


def entry_from_dict(d: Mapping[str, Any]) -> TimelineEntry:
    """Inverse of :func:`entry_to_dict`; entries stored without ``actor_name`` (before
    caselib kept display names) load with ``None``."""
    red = d.get("redaction")
    return TimelineEntry(
        seq=int(d["seq"]),
        at=from_iso(d["at"]),
        actor=d["actor"],
        actor_kind=_actor_kind(d["actor_kind"]),
        audience=_audience(d["audience"]),
        kind=d["kind"],
        body=d.get("body", ""),
        data=d.get("data") or {},
        redaction=None if not red else Redaction(red["by"], from_iso(red["at"]), red["reason"]),
        actor_name=d.get("actor_name"),
    )


def case_from_document(doc: Mapping[str, Any], entries: Iterable[TimelineEntry]) -> Case:
    """Rebuild a saved case from its document and timeline entries (in ``seq`` order).

    Raises :class:`StorageError` for a document format this caselib does not know.
    """
    _check_format(doc)
    csat = doc.get("csat")
    case = Case(
        id=doc["id"],
        tenant=doc["tenant"],
        number=doc["number"],
        subject=doc["subject"],
        description=doc.get("description", ""),
        status=doc["status"],
        status_category=_status_category(doc["status_category"]),
        workflow=doc["workflow"],
        priority=_priority(doc["priority"]),
        severity=None if doc.get("severity") is None else Severity(doc["severity"]),
        case_type=doc.get("case_type"),
        category=doc.get("category"),
        subcategory=doc.get("subcategory"),
        reason_code=doc.get("reason_code"),
        source=_source(doc.get("source", "other")),
        links=_links_from(doc),
        assignee=doc.get("assignee"),
        team=doc.get("team"),
        assigned_manually=bool(doc.get("assigned_manually", False)),
        tags=frozenset(doc.get("tags", ())),
        custom=dict(doc.get("custom", {})),
        attachments=[
            Attachment(a["name"], a["content_type"], a["size"], a["sha256"], a["storage_key"],
                       from_iso(a["added_at"]), a["added_by"])
            for a in doc.get("attachments", ())
        ],
        timeline=list(entries),
        resolutions=[
            Resolution(r["summary"], from_iso(r["at"]), r["by"], r.get("code"), r.get("path"))
            for r in doc.get("resolutions", ())
        ],
        csat=None if not csat else Csat(csat["score"], from_iso(csat["at"]), csat["by"],
                                         csat.get("comment")),
        created_at=from_iso(doc["created_at"]),
        updated_at=from_iso(doc["updated_at"]),
        created_by=doc["created_by"],
        resolved_at=_pdt(doc.get("resolved_at")),
        closed_at=_pdt(doc.get("closed_at")),
        first_response_at=_pdt(doc.get("first_response_at")),
        sla_policy=doc.get("sla_policy"),
        sla_started_at=_pdt(doc.get("sla_started_at")),
        pauses=_pauses_from(doc),
        sla_targets=_targets_from(doc),
        escalation_level=doc.get("escalation_level"),
        version=int(doc["version"]),
    )
    case.mark_saved(case.version)
    return case


def _check_format(doc: Mapping[str, Any]) -> None:
    fmt = doc.get("format", 1)
    if fmt > FORMAT:
        raise StorageError(
            f"case {doc.get('id')!r} was written in format {fmt}; this caselib reads up to "
            f"{FORMAT}. Upgrade caselib.")


def _pauses_from(doc: Mapping[str, Any]) -> list[Pause]:
    return [Pause(from_iso(p["start"]), _pdt(p.get("end")), p.get("reason", "waiting"))
            for p in doc.get("pauses", ())]


def _targets_from(doc: Mapping[str, Any]) -> list[SlaTarget]:
    return [
        SlaTarget(t["name"], _pdt(t.get("due_at")), t.get("state", "running"),
                  _pdt(t.get("warn_at")), _pdt(t.get("breached_at")), _pdt(t.get("met_at")),
                  t.get("breached_by_seconds"), t.get("elapsed_seconds"))
        for t in doc.get("sla_targets", ())
    ]


def _links_from(doc: Mapping[str, Any]) -> Links:
    return Links(**links) if (links := doc.get("links")) else _NO_LINKS


def sla_case_from_document(doc: Mapping[str, Any], entries: Iterable[Mapping[str, Any]],
                           version: int) -> SlaCase:
    """The SLA part of a saved case (:class:`~caselib.sla.SlaCase`) from its document and
    its timeline entries as plain data (all of them, in ``seq`` order: only the kinds SLA
    clocks read are turned into entries, the rest are only counted).

    Equal to ``SlaCase.of(case_from_document(doc, ...))`` without building the rest of the
    case. Raises :class:`StorageError` for a document format this caselib does not know.
    """
    _check_format(doc)
    count = 0
    kept = []
    for e in entries:
        count += 1
        if e.get("kind") in SLA_ENTRY_KINDS:
            kept.append(entry_from_dict(e))
    return SlaCase(
        doc["id"], doc["tenant"], doc["number"], doc["subject"], version,
        _status_category(doc["status_category"]), _priority(doc["priority"]),
        doc.get("assignee"), doc.get("team"), from_iso(doc["created_at"]),
        from_iso(doc["updated_at"]), _pdt(doc.get("resolved_at")), _pdt(doc.get("closed_at")),
        _pdt(doc.get("first_response_at")), doc.get("sla_policy"),
        _pdt(doc.get("sla_started_at")), _pauses_from(doc), _targets_from(doc),
        doc.get("category"), doc.get("subcategory"), doc.get("case_type"),
        _source(doc.get("source", "other")), frozenset(doc.get("tags", ())),
        dict(doc.get("custom", {})), _links_from(doc), kept, count,
        doc.get("escalation_level"))


def outbox_messages(case: Case, version: int) -> list[OutboxMessage]:
    """Turn the case's pending events into outbox messages for the save at ``version``.

    Keys are ``"{case_id}:{version}:{n}"``: deterministic, so a retried save of the same
    change can never produce a second, different key for the same event.
    """
    return [
        OutboxMessage(f"{case.id}:{version}:{n}", case.tenant, case.id, event.type,
                      event_payload(event), event.at)
        for n, event in enumerate(case.pull_events())
    ]
