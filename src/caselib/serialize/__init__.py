"""JSON-ready documents for every value a host returns from its API, and back.

::

    from caselib import serialize

    doc = serialize.to_dict(case)              # {"schema": 1, "document": "case", ...}
    same = serialize.from_dict(doc, Case)      # what a host stored or received
    portal = serialize.customer_case(desk.customer_view(case.id))

Why a module and not ``to_dict()`` methods on the values: the shapes are a contract between a
host and its clients, versioned together (``"schema"``), so they are written down in one place
(with docs/serialize.md) rather than spread over the domain, the ports and the desk, whose
classes change for their own reasons; reading needs one checker that names the offending
field by its path in the document; and the customer-facing shape must be a separate function
whose only input is a :class:`~caselib.desk.CustomerView`, so it cannot reach an internal
note. Storage keeps its own format (:mod:`caselib.storage.codec`): it is tuned for saving and
versioned for databases, not for clients. Settings (workflows, SLA policies, calendars,
routing rules) keep their own ``to_dict``/``from_dict``: that is the admin-screen format.

Every document carries ``"schema"`` (this module's :data:`SCHEMA`) and ``"document"`` (what it
is: ``"case"``, ``"page"`` …) at its top level; nested values do not. (Not ``"kind"`` or
``"type"``: actors, timeline entries and events have fields of those names.) Datetimes are
ISO 8601 text with the UTC offset, durations ISO 8601 in hours, minutes and seconds
(``PT8H``), enums their values, sets sorted lists.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, TypeVar, cast

from caselib.cases import (
    Actor,
    Case,
    CaseLink,
    Checklist,
    ChecklistItem,
    Conversion,
    SlaTarget,
    TimelineEntry,
)
from caselib.desk import BreachNotice, CustomerView, SweepReport
from caselib.errors import InvalidInput
from caselib.kb import Article, Deflection, DeflectionReport, KbStats, Suggestion
from caselib.ports import CaseQuery, CaseSummary, Notification, OutboxMessage, Page
from caselib.reports import Scorecard
from caselib.routing import RouteDecision
from caselib.serialize import cases, queries, relations, results
from caselib.serialize._read import Doc, duration_text, jsonable
from caselib.serialize.results import customer_case
from caselib.sla import DueExplanation

__all__ = [
    "KINDS",
    "READABLE",
    "SCHEMA",
    "customer_case",
    "from_dict",
    "to_dict",
    "to_jsonable",
]

SCHEMA: Final = 1
"""The document shape this caselib writes. Within one schema number shapes only grow (a new
key, always with a default when read); removing or renaming a key, or changing a value's
type or meaning, is a new number. :func:`from_dict` reads every schema up to this one and
refuses newer ones."""

T = TypeVar("T")

_ENCODERS: Final[dict[type, tuple[str, Callable[[Any], dict[str, Any]]]]] = {
    Actor: ("actor", cases.actor_to),
    Article: ("article", results.article_to),
    BreachNotice: ("breach_notice", results.breach_to),
    Case: ("case", cases.case_to),
    CaseLink: ("case_link", relations.link_to),
    CaseQuery: ("case_query", queries.query_to),
    CaseSummary: ("case_summary", queries.summary_to),
    Checklist: ("checklist", relations.checklist_to),
    ChecklistItem: ("checklist_item", relations.checklist_item_to),
    Conversion: ("conversion", relations.conversion_to),
    CustomerView: ("customer_case", customer_case),
    Deflection: ("deflection", results.deflection_to),
    DeflectionReport: ("deflection_report", results.deflection_report_to),
    DueExplanation: ("due_explanation", results.explanation_to),
    KbStats: ("kb_stats", results.kb_stats_to),
    Notification: ("notification", results.notification_to),
    OutboxMessage: ("event", results.outbox_to),
    Page: ("page", queries.page_to),
    RouteDecision: ("route_decision", results.route_to),
    Scorecard: ("scorecard", results.scorecard_to),
    SlaTarget: ("sla_target", cases.sla_target_to),
    Suggestion: ("suggestion", results.suggestion_to),
    SweepReport: ("sweep_report", results.sweep_to),
    TimelineEntry: ("timeline_entry", cases.entry_to),
}

_DECODERS: Final[dict[type, Callable[[Doc], Any]]] = {
    Actor: cases.actor_from,
    Article: results.article_from,
    Case: cases.case_from,
    CaseLink: relations.link_from,
    CaseQuery: queries.query_from,
    CaseSummary: queries.summary_from,
    Checklist: relations.checklist_from,
    ChecklistItem: relations.checklist_item_from,
    Conversion: relations.conversion_from,
    Page: queries.page_from,
    SlaTarget: cases.sla_target_from,
    TimelineEntry: cases.entry_from,
}

KINDS: Final = {cls: kind for cls, (kind, _) in _ENCODERS.items()}
"""Each value class :func:`to_dict` writes, and the ``"document"`` name its documents carry."""

READABLE: Final = frozenset(_DECODERS)
"""The classes :func:`from_dict` reads back: what a host stores or receives."""


def _encoder(value: object) -> tuple[str, Callable[[Any], dict[str, Any]]] | None:
    found = _ENCODERS.get(type(value))
    if found is None:
        for cls in type(value).__mro__[1:]:
            found = _ENCODERS.get(cls)
            if found is not None:
                break
    return found


def to_dict(value: object) -> dict[str, Any]:
    """``value`` as a JSON-ready document: ``{"schema": 1, "document": ..., ...fields}``.

    ``value`` is one of the classes in :data:`KINDS`, or a list or tuple of them (what
    ``approaching`` or ``suggest_articles`` return), written as
    ``{"schema": 1, "document": "list", "items": [...]}``. A
    :class:`~caselib.desk.CustomerView` is written by :func:`customer_case`.

    Raises:
        InvalidInput: caselib has no document for ``value``'s type.
    """
    if isinstance(value, (list, tuple)):
        return {"schema": SCHEMA, "document": "list", "items": [to_jsonable(v) for v in value]}
    found = _encoder(value)
    if found is None:
        raise InvalidInput(f"caselib has no document for a {type(value).__name__}; it writes "
                           f"{', '.join(sorted(c.__name__ for c in _ENCODERS))}", field="value")
    kind, encode = found
    return {"schema": SCHEMA, "document": kind, **encode(value)}


def to_jsonable(value: object) -> Any:
    """``value`` as JSON-native data without the document envelope: a registered value as
    its fields, a list or tuple item by item, anything else through the scalar rules
    (datetimes, durations, enums, sets, plain JSON data)."""
    found = _encoder(value)
    if found is not None:
        return found[1](value)
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, timedelta):
        return duration_text(value)
    return jsonable(value)


def from_dict(data: object, cls: type[T]) -> T:
    """Read a document written by :func:`to_dict` (or by a client, in the same shape) back
    into a ``cls`` (one of :data:`READABLE`).

    ``"schema"`` may be left out (it then means 1); ``"document"`` may be left out, and must
    match ``cls`` when given. Keys a value does not know are refused, as are wrong types,
    naive datetimes, text a store cannot hold (NUL, lone surrogates) and values outside the
    model's limits.

    Raises:
        InvalidInput: the document is not a valid ``cls``; ``field`` is the path of the
            offending key (``"timeline[2].at"``), ``"schema"`` for a document written by a
            newer caselib.
    """
    decode = _DECODERS.get(cls)
    if decode is None:
        raise InvalidInput(f"caselib reads {', '.join(sorted(c.__name__ for c in _DECODERS))} "
                           f"from documents, not {getattr(cls, '__name__', cls)!r}", field="cls")
    kind = KINDS[cls]
    doc = Doc(data)
    schema = doc.raw("schema", 1)
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise InvalidInput(f"schema must be a whole number from 1, got {schema!r}",
                           field="schema")
    if schema > SCHEMA:
        raise InvalidInput(f"this {kind} document was written with schema {schema}; this "
                           f"caselib reads up to {SCHEMA}. Upgrade caselib.", field="schema")
    got = doc.raw("document", kind)
    if got != kind:
        raise InvalidInput(f"this is a {got!r} document, not a {kind!r}", field="document")
    return cast(T, decode(doc))
