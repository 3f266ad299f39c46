"""caselib: an embeddable customer-support case engine.

Plug in a store, get cases with gated lifecycles, timelines, SLA clocks, routing and
knowledge-base suggestions::

    from caselib import Actor, MemoryStore, ServiceDesk

    desk = ServiceDesk(MemoryStore(), tenant="acme")
    case = desk.create_case(subject="Printer on fire", actor=Actor.agent("ana"))
"""

from __future__ import annotations

from caselib._version import __version__
from caselib.desk import CustomerReply, CustomerView, ServiceDesk, TenantSettings
from caselib.errors import (
    ArticleNotFound,
    CaselibError,
    CaseNotFound,
    CommandRefused,
    ConcurrencyConflict,
    DuplicateKey,
    InvalidConfiguration,
    InvalidInput,
    NaiveDatetime,
    NoteRequired,
    NotFound,
    PermissionDenied,
    SchemaMismatch,
    StorageError,
    TextTooLong,
    TransitionNotAllowed,
    UnknownValue,
)
from caselib.lifecycle import CompiledWorkflow, Status, Transition, Workflow
from caselib.model import (
    Actor,
    Attachment,
    Case,
    CasePolicy,
    Csat,
    Links,
    NumberFormat,
    Resolution,
    TimelineEntry,
)
from caselib.ports import CaseQuery, CaseSummary, OutboxMessage, Page, SystemClock
from caselib.storage.memory import MemoryStore
from caselib.vocab import (
    ActorKind,
    Audience,
    Priority,
    Severity,
    Source,
    StatusCategory,
    Vocabulary,
)

__all__ = [
    "Actor",
    "ActorKind",
    "ArticleNotFound",
    "Attachment",
    "Audience",
    "Case",
    "CaseNotFound",
    "CasePolicy",
    "CaseQuery",
    "CaseSummary",
    "CaselibError",
    "CommandRefused",
    "CompiledWorkflow",
    "ConcurrencyConflict",
    "Csat",
    "CustomerReply",
    "CustomerView",
    "DuplicateKey",
    "InvalidConfiguration",
    "InvalidInput",
    "Links",
    "MemoryStore",
    "NaiveDatetime",
    "NotFound",
    "NoteRequired",
    "NumberFormat",
    "OutboxMessage",
    "Page",
    "PermissionDenied",
    "Priority",
    "Resolution",
    "SchemaMismatch",
    "ServiceDesk",
    "Severity",
    "Source",
    "Status",
    "StatusCategory",
    "StorageError",
    "SystemClock",
    "TenantSettings",
    "TextTooLong",
    "TimelineEntry",
    "Transition",
    "TransitionNotAllowed",
    "UnknownValue",
    "Vocabulary",
    "Workflow",
    "__version__",
]
