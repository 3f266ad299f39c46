"""caselib: an embeddable customer-support case engine.

Plug in a store, get cases with gated lifecycles, timelines, SLA clocks, routing and
knowledge-base suggestions::

    from caselib import Actor, MemoryStore, ServiceDesk

    desk = ServiceDesk(MemoryStore(), tenant="acme")
    case = desk.create_case(subject="Printer on fire", actor=Actor.agent("ana"))

Every value a call returns becomes a versioned JSON document with :mod:`caselib.serialize`
(``serialize.to_dict(case)``); every error carries a ``code``, an ``http_status`` and a
problem-details ``to_dict()``.
"""

from __future__ import annotations

from caselib._version import __version__
from caselib.automation import AutomationRule
from caselib.cases import (
    Actor,
    Attachment,
    Case,
    CasePolicy,
    CompiledWorkflow,
    Csat,
    Links,
    NumberFormat,
    Resolution,
    Status,
    TimelineEntry,
    Transition,
    Workflow,
)
from caselib.desk import (
    Board,
    BoardColumn,
    BreachNotice,
    CustomerReply,
    CustomerView,
    DeliveryChannels,
    ServiceDesk,
    SweepReport,
    TenantSettings,
)
from caselib.errors import (
    ArticleNotFound,
    CaselibError,
    CaseNotFound,
    CommandRefused,
    ConcurrencyConflict,
    DuplicateKey,
    GateRequired,
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
    WrongType,
)
from caselib.kb import (
    Article,
    ArticleStatus,
    KbIndex,
    KbSettings,
    Redactor,
    ResolutionBoost,
    Suggestion,
)
from caselib.ports import (
    CaseQuery,
    CaseSummary,
    Notification,
    OutboxMessage,
    Page,
    Store,
    SystemClock,
    UnitOfWork,
)
from caselib.routing import (
    Agent,
    AssignmentStrategy,
    BranchDirectory,
    BranchRouting,
    Directory,
    FallbackMap,
    RouteDecision,
    Router,
    RuleSet,
    StaticDirectory,
    Team,
)
from caselib.sla import BusinessCalendar, Holiday, SlaPolicies, SlaPolicy, SlaTargets
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
    "Agent",
    "Article",
    "ArticleNotFound",
    "ArticleStatus",
    "AssignmentStrategy",
    "Attachment",
    "AutomationRule",
    "Audience",
    "Board",
    "BoardColumn",
    "BranchDirectory",
    "BranchRouting",
    "BreachNotice",
    "BusinessCalendar",
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
    "DeliveryChannels",
    "Directory",
    "DuplicateKey",
    "FallbackMap",
    "GateRequired",
    "Holiday",
    "InvalidConfiguration",
    "InvalidInput",
    "KbIndex",
    "KbSettings",
    "Links",
    "MemoryStore",
    "NaiveDatetime",
    "NotFound",
    "NoteRequired",
    "Notification",
    "NumberFormat",
    "OutboxMessage",
    "Page",
    "PermissionDenied",
    "Priority",
    "Redactor",
    "Resolution",
    "ResolutionBoost",
    "RouteDecision",
    "Router",
    "RuleSet",
    "SchemaMismatch",
    "ServiceDesk",
    "Severity",
    "SlaPolicies",
    "SlaPolicy",
    "SlaTargets",
    "Source",
    "StaticDirectory",
    "Status",
    "StatusCategory",
    "StorageError",
    "Store",
    "Suggestion",
    "SweepReport",
    "SystemClock",
    "Team",
    "TenantSettings",
    "TextTooLong",
    "TimelineEntry",
    "Transition",
    "TransitionNotAllowed",
    "UnitOfWork",
    "UnknownValue",
    "Vocabulary",
    "Workflow",
    "WrongType",
    "__version__",
]
