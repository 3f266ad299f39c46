"""Automations: rules on events and on time, their actions, templates and timing.

Pure domain code: a rule is data (:class:`AutomationRule`: a trigger, a condition in the
router's condition language, actions); :mod:`caselib.automation.timing` decides when a time
rule is due on a case; the desk (:mod:`caselib.desk.automations`) reads the store, records
each application once in the ledger and queues the actions through the outbox.

Modules, lowest first: ``templates`` (safe message templates), ``rules`` (triggers, actions,
rules and their JSON form), ``timing`` (occurrences, business days, next automation time),
``presets`` (the brief's four automations), ``escalation`` (the tenant's escalation levels).
"""

from __future__ import annotations

from caselib.automation.applied import (
    AUTOMATION_EVENT,
    AutomationApplied,
    AutomationReport,
    DeliveryReport,
)
from caselib.automation.escalation import (
    DEFAULT_LEVEL_TEMPLATE,
    EscalationLadder,
    EscalationLevel,
)
from caselib.automation.presets import PRESETS, preset
from caselib.automation.rules import (
    ACTION_KINDS,
    EVENT_TYPES,
    NOTIFY_TARGETS,
    SETTABLE_FIELDS,
    TIME_ANCHORS,
    Action,
    AddNote,
    Assign,
    AutomationRule,
    CreateTask,
    EventTrigger,
    Notify,
    SendEmail,
    SetField,
    TimeTrigger,
    Transition,
    Trigger,
    Webhook,
)
from caselib.automation.templates import CUSTOMER_PLACEHOLDERS, INTERNAL_PLACEHOLDERS, Template
from caselib.automation.timing import (
    AUTOMATION_ACTOR_PREFIX,
    Occurrence,
    RuleVerdict,
    TimeRules,
    add_business_days,
    next_automation_at,
    rule_matches,
    rules_for_event,
    time_occurrence,
)

__all__ = [
    "ACTION_KINDS",
    "AUTOMATION_ACTOR_PREFIX",
    "AUTOMATION_EVENT",
    "CUSTOMER_PLACEHOLDERS",
    "DEFAULT_LEVEL_TEMPLATE",
    "EVENT_TYPES",
    "INTERNAL_PLACEHOLDERS",
    "NOTIFY_TARGETS",
    "PRESETS",
    "SETTABLE_FIELDS",
    "TIME_ANCHORS",
    "Action",
    "AddNote",
    "Assign",
    "AutomationApplied",
    "AutomationReport",
    "AutomationRule",
    "CreateTask",
    "DeliveryReport",
    "EscalationLadder",
    "EscalationLevel",
    "EventTrigger",
    "Notify",
    "Occurrence",
    "RuleVerdict",
    "SendEmail",
    "SetField",
    "Template",
    "TimeRules",
    "TimeTrigger",
    "Transition",
    "Trigger",
    "Webhook",
    "add_business_days",
    "next_automation_at",
    "preset",
    "rule_matches",
    "rules_for_event",
    "time_occurrence",
]
