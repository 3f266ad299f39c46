"""SLA clocks: business calendars, policies and targets, clock evaluation, explanations of a due
time, and the breach decision the sweep applies.

Pure domain code: every function takes the case, the policy and ``now``. The desk
(:mod:`caselib.desk`) reads the clock and runs the sweep; this package only decides.
"""

from __future__ import annotations

from caselib.sla.breach import SlaCase, mark_breached
from caselib.sla.calendar import BusinessCalendar
from caselib.sla.clock import SlaEvaluation, derive_pauses, due_with_pauses, evaluate
from caselib.sla.durations import format_duration, parse_duration
from caselib.sla.explain import DueExplanation, PriorityMove, describe_hours, explain_due
from caselib.sla.holiday import Holiday, HolidaySource, PythonHolidaysSource
from caselib.sla.hours import DAY_NAMES, TimeRange
from caselib.sla.policy import (
    FIRST_RESPONSE,
    NEXT_REPLY,
    RESOLUTION,
    TARGET_NAMES,
    SlaCondition,
    SlaPolicies,
    SlaPolicy,
    SlaTargets,
)
from caselib.sla.subject import SLA_ENTRY_KINDS, SlaSubject

__all__ = [
    "BusinessCalendar",
    "DAY_NAMES",
    "DueExplanation",
    "FIRST_RESPONSE",
    "Holiday",
    "HolidaySource",
    "NEXT_REPLY",
    "PriorityMove",
    "PythonHolidaysSource",
    "RESOLUTION",
    "SLA_ENTRY_KINDS",
    "SlaCase",
    "SlaCondition",
    "SlaEvaluation",
    "SlaPolicies",
    "SlaPolicy",
    "SlaSubject",
    "SlaTargets",
    "TARGET_NAMES",
    "TimeRange",
    "derive_pauses",
    "describe_hours",
    "due_with_pauses",
    "evaluate",
    "explain_due",
    "format_duration",
    "mark_breached",
    "parse_duration",
]
