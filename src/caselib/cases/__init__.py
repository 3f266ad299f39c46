"""The case aggregate: the :class:`Case` and its values, the timeline, lifecycle workflows and
domain events.

Pure domain code: nothing here reads a clock, a store or the desk. Commands on a :class:`Case`
validate everything first and only then change it, so a command that raises has changed
nothing. :class:`Workflow` is the lifecycle as data; :class:`CompiledWorkflow` gates
transitions with python-statemachine. Events are what the store writes to its outbox.
"""

from __future__ import annotations

from caselib.cases.case import Case
from caselib.cases.checklist import CaseTemplate, Checklist, ChecklistItem
from caselib.cases.conversion import CaseSnapshot, Conversion
from caselib.cases.events import (
    Assigned,
    CaseCreated,
    CaseLinked,
    CaseUnlinked,
    Closed,
    CommentAdded,
    CommentRedacted,
    CsatRecorded,
    DomainEvent,
    Escalated,
    FieldsUpdated,
    Merged,
    PriorityChanged,
    Reopened,
    Resolved,
    SlaBreached,
    Split,
    StatusChanged,
    Unmerged,
    event_payload,
)
from caselib.cases.lifecycle import (
    GATES,
    CompiledWorkflow,
    Status,
    Transition,
    Workflow,
)
from caselib.cases.links import CaseLink, LinkKind
from caselib.cases.merge import MERGED_STATUS, MergedEntry
from caselib.cases.reopen import ReopenPolicy
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
    SUBJECT_MAX_LENGTH,
    Actor,
    Attachment,
    CasePolicy,
    Csat,
    CustomValue,
    Links,
    NumberFormat,
    Redaction,
    Resolution,
    TimelineEntry,
)

__all__ = [
    "Actor",
    "Assigned",
    "Attachment",
    "BODY_MAX_LENGTH",
    "BREACH_REASON",
    "Case",
    "CaseCreated",
    "CaseLink",
    "CaseLinked",
    "CasePolicy",
    "CaseSnapshot",
    "CaseTemplate",
    "CaseUnlinked",
    "Checklist",
    "ChecklistItem",
    "Closed",
    "CommentAdded",
    "CommentRedacted",
    "CompiledWorkflow",
    "Conversion",
    "Csat",
    "CsatRecorded",
    "CustomValue",
    "DESCRIPTION_MAX_LENGTH",
    "DomainEvent",
    "Escalated",
    "FieldsUpdated",
    "GATES",
    "LinkKind",
    "Links",
    "MERGED_STATUS",
    "Merged",
    "MergedEntry",
    "NumberFormat",
    "Pause",
    "PriorityChanged",
    "Redaction",
    "ReopenPolicy",
    "Reopened",
    "Resolution",
    "Resolved",
    "SUBJECT_MAX_LENGTH",
    "SlaBreached",
    "SlaTarget",
    "Split",
    "Status",
    "StatusChanged",
    "TimelineEntry",
    "Transition",
    "Unmerged",
    "Workflow",
    "any_breached",
    "breach_entry",
    "event_payload",
    "next_due_of",
]
