"""Case rows: a :class:`~caselib.cases.Case` as ``cases``, ``timeline``, ``case_tags`` and
``outbox`` rows and back (whole, as its SLA part, or as a summary), and the chunked rows
of a batch import.

The hot path of every save and load, so it writes some JSON by hand (:func:`entry_json`)
and parses a case's entries in one call; kept apart from the SQL that moves the rows.
"""

from __future__ import annotations

import contextlib
import json
import json.encoder
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, Final

from caselib.cases import Case, SlaTarget, TimelineEntry, event_payload
from caselib.errors import InvalidInput
from caselib.ports import CaseSummary, SlaDue
from caselib.reports import search_terms
from caselib.reports.facts import TARGETS, CaseFacts, TargetFacts
from caselib.sla import SlaCase
from caselib.storage._sql.columns import (
    _VERSION,
    MIGRATION_5_COLUMNS,
    SUMMARY_COLUMNS,
    Loaded,
)
from caselib.storage._sql.jsontext import _encode, loads
from caselib.storage.codec import (
    case_from_document,
    case_to_document,
    entry_from_dict,
    entry_to_dict,
    sla_case_from_document,
)
from caselib.timeutil import from_iso, to_iso
from caselib.vocab import Priority, Source, StatusCategory

__all__ = [
    "backfill_facts",
    "case_row",
    "entry_json",
    "event_rows",
    "fact_values",
    "import_rows",
    "outbox_rows",
    "sla_values",
    "summary_from_row",
    "tag_rows",
    "timeline_rows",
]


def _iso(at: datetime | None) -> str | None:
    return None if at is None else to_iso(at)


def sla_values(targets: Sequence[SlaTarget]) -> tuple[Any, ...]:
    """The :data:`SLA_COLUMNS` of a case's SLA targets: the summary's targets as compact
    JSON (``[[target, state, due_at, warn_at, breached_at], …]``; rows written before
    0.3 have no ``breached_at``) and each reported target's
    :class:`~caselib.reports.TargetFacts` (what the breach sweep rewrites)."""
    by_name = {t.name: t for t in targets}
    facts = [TargetFacts.of(by_name.get(name)) for name in TARGETS]
    return (
        _encode([[t.name, t.state, _iso(t.due_at), _iso(t.warn_at), _iso(t.breached_at)]
                 for t in targets]),
        *(_iso(v) for f in facts for v in (f.met_at, f.breached_at, f.due_at, f.warn_at)),
    )


def fact_values(case: Case) -> tuple[Any, ...]:
    """The ``cases`` columns from ``source`` up to before ``doc`` (migration 5): the
    summary's channel, first response, rating and SLA targets, then the scorecard's
    :class:`~caselib.reports.CaseFacts` (:data:`FACT_COLUMNS`)."""
    f = CaseFacts.of(case)
    return (
        case.source.value, _iso(case.first_response_at), f.csat_score,
        *sla_values(case.sla_targets),
        _iso(f.csat_at), f.reopens, _iso(f.last_reopened_at), f.agent_replies,
        f.first_response_seconds, f.first_response_business, f.resolution_seconds,
        f.resolution_business,
    )


def case_row(case: Case, version: int) -> tuple[Any, ...]:
    """The ``cases`` row (in :data:`CASE_COLUMNS` order) for ``case`` stored at ``version``."""
    doc = case_to_document(case)
    doc["version"] = version
    due = case.next_due_at
    return (
        case.tenant, case.id, case.number, case.subject, case.status,
        doc["status_category"], doc["priority"], case.priority.rank, case.assignee,
        case.team, case.links.contact, case.links.account, case.category, _encode(doc["tags"]),
        doc["created_at"], doc["updated_at"],
        doc["resolved_at"], None if due is None else to_iso(due),
        case.breached, version, *fact_values(case), case.escalation_level,
        " ".join(search_terms(case.number, case.subject, case.description)), _encode(doc),
    )


def tag_rows(case: Case) -> list[tuple[str, str, str]]:
    """``case_tags`` rows of ``case``."""
    return [(case.tenant, case.id, tag) for tag in sorted(case.tags)]


def timeline_rows(case: Case | SlaCase, entries: Iterable[TimelineEntry]
                  ) -> list[tuple[str, str, int, str]]:
    """``timeline`` rows ``(tenant, case_id, seq, entry)`` for the given entries."""
    tenant, case_id = case.tenant, case.id
    return [(tenant, case_id, e.seq, entry_json(e)) for e in entries]


_quote: Final = json.encoder.encode_basestring


def entry_json(entry: TimelineEntry) -> str:
    """``dumps(entry_to_dict(entry))``, written out directly (the hot path of every save).

    Text fields are quoted by the same function the JSON encoder uses, so the result is the
    same string; entries with unusual field types take the generic path.
    """
    seq, actor, kind, body, data = entry.seq, entry.actor, entry.kind, entry.body, entry.data
    name = entry.actor_name
    if not (type(seq) is int and type(actor) is str and type(kind) is str
            and type(body) is str and type(data) is dict and (name is None or type(name) is str)):
        return _encode(entry_to_dict(entry))
    red = entry.redaction
    named = "" if name is None else f'"actor_name":{_quote(name)},'
    return (f'{{"seq":{seq},"at":"{to_iso(entry.at)}","actor":{_quote(actor)},{named}'
            f'"actor_kind":{_quote(entry.actor_kind.value)},'
            f'"audience":{_quote(entry.audience.value)},"kind":{_quote(kind)},'
            f'"body":{_quote(body)},"data":{_encode(data) if data else "{}"},"redaction":'
            f'{"null" if red is None else _encode(entry_to_dict(entry)["redaction"])}}}')


def outbox_rows(messages: Iterable[Any]) -> list[tuple[str, str, str, str, str, str]]:
    """``outbox`` rows ``(key, tenant, case_id, type, payload, created_at)``."""
    return [(m.key, m.tenant, m.case_id, m.type, _encode(dict(m.payload)), to_iso(m.created_at))
            for m in messages]


def event_rows(case: Case | SlaCase, version: int
               ) -> list[tuple[str, str, str, str, str, str]]:
    """``outbox_rows(outbox_messages(case, version))`` without the intermediate messages
    (pulls the case's pending events)."""
    tenant, case_id = case.tenant, case.id
    prefix = f"{case_id}:{version}:"
    return [(f"{prefix}{n}", tenant, case_id, event.type, _encode(event_payload(event)),
             to_iso(event.at))
            for n, event in enumerate(case.pull_events())]


def _opt_iso(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)


def summary_from_row(row: Sequence[Any]) -> CaseSummary:
    """Inverse of the :data:`SUMMARY_COLUMNS` select list (longer rows: the rest ignored)."""
    (id_, number, subject, status, status_category, priority, assignee, team, contact, account,
     category, tags, created, updated, resolved, due, breached, version, source, first, csat,
     sla, level) = row[:_N_SUMMARY]
    return CaseSummary(
        id_, number, subject, status, StatusCategory(status_category), Priority(priority),
        assignee, team, contact, account, category, frozenset(loads(tags)), from_iso(created),
        from_iso(updated), _opt_iso(resolved), _opt_iso(due),
        bool(breached), int(version), Source(source or "other"), _opt_iso(first),
        None if csat is None else int(csat),
        tuple(SlaDue(t[0], t[1], _opt_iso(t[2]), _opt_iso(t[3]),
                     _opt_iso(t[4]) if len(t) > 4 else None) for t in loads(sla or "[]")),
        level,
    )


_N_SUMMARY: Final = len(SUMMARY_COLUMNS)


def _entry_dicts(entries: list[Any]) -> list[Any]:
    """The loaded timeline entries as plain data."""
    parsed: Any = None
    if entries and all(type(e) is str for e in entries):
        # SQLite's text entries are parsed as one array: one parser call per case instead
        # of one per entry (each call has a fixed cost; a case has several entries)
        with contextlib.suppress(ValueError):
            parsed = loads(f"[{','.join(entries)}]")
    if isinstance(parsed, list) and len(parsed) == len(entries):
        return parsed
    return [loads(e) for e in entries]  # (a damaged entry fails here, on its own)


def _case_from(loaded: Loaded) -> Case:
    doc, entries, _ = loaded
    return case_from_document(loads(doc), [entry_from_dict(e) for e in _entry_dicts(entries)])


def _sla_case_from(loaded: Loaded) -> SlaCase:
    doc, entries, stored = loaded
    return sla_case_from_document(loads(doc), _entry_dicts(entries), int(stored[_VERSION]))


def import_rows(cases: Iterable[Case], *, events: bool
                ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                    list[tuple[Any, ...]], list[tuple[Any, ...]], list[Case]]]:
    """Rows for a batch import, in chunks: ``(cases, timeline, tags, outbox, chunk)``.

    Each case must be new (version 0); it is stored at version 1. The caller marks the cases
    saved once the transaction has committed.
    """
    chunk: list[Case] = []
    for case in cases:
        if case.version != 0:
            raise InvalidInput(f"case {case.id!r} is not new (version {case.version})")
        chunk.append(case)
        if len(chunk) >= _IMPORT_CHUNK:
            yield _chunk_rows(chunk, events)
            chunk = []
    if chunk:
        yield _chunk_rows(chunk, events)


_IMPORT_CHUNK: Final = 2000


def _chunk_rows(chunk: list[Case], events: bool
                ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                           list[tuple[Any, ...]], list[Case]]:
    case_rows: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for case in chunk:
        case_rows.append(case_row(case, 1))
        entries.extend(timeline_rows(case, case.timeline))
        tags.extend(tag_rows(case))
        if events:
            messages.extend(event_rows(case, 1))
    return case_rows, entries, tags, messages, chunk



_FILLED: Final = MIGRATION_5_COLUMNS


def backfill_facts(fetch: Callable[[str, Sequence[Any]], Sequence[Sequence[Any]]],
                   run: Callable[[str, Sequence[Any]], object], ph: str) -> None:
    """Fill migration 5's columns of every stored case from its document and timeline,
    through the same codec and :func:`fact_values` every save uses (so a migrated row equals
    a re-saved one). One case at a time: a one-off cost on upgrade."""
    update = (f"UPDATE cases SET {', '.join(f'{c} = {ph}' for c in _FILLED)} "
              f"WHERE tenant = {ph} AND id = {ph}")
    for tenant, case_id, doc in fetch("SELECT tenant, id, doc FROM cases", ()):
        entries = [row[0] for row in fetch(
            f"SELECT entry FROM timeline WHERE tenant = {ph} AND case_id = {ph} ORDER BY seq",
            (tenant, case_id))]
        case = _case_from((doc, entries, ()))
        run(update, (*fact_values(case), tenant, case_id))
