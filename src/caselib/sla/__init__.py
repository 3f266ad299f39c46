"""SLA clocks: business calendars, policies and targets, clock evaluation, explanations of a due
time, and the breach decision the sweep applies.

Pure domain code: every function takes the case, the policy and ``now``. The desk
(:mod:`caselib.desk`) reads the clock and runs the sweep; this package only decides.
"""

from __future__ import annotations

from caselib.sla.calendar import (
    DAY_NAMES,
    BusinessCalendar,
    Holiday,
    HolidaySource,
    PythonHolidaysSource,
    TimeRange,
)
from caselib.sla.core import (
    FIRST_RESPONSE,
    NEXT_REPLY,
    RESOLUTION,
    SLA_ENTRY_KINDS,
    TARGET_NAMES,
    DueExplanation,
    SlaCase,
    SlaCondition,
    SlaEvaluation,
    SlaPolicies,
    SlaPolicy,
    SlaSubject,
    SlaTargets,
    derive_pauses,
    describe_hours,
    due_with_pauses,
    evaluate,
    explain_due,
    format_duration,
    mark_breached,
    parse_duration,
)

__all__ = [
    "BusinessCalendar",
    "DAY_NAMES",
    "DueExplanation",
    "FIRST_RESPONSE",
    "Holiday",
    "HolidaySource",
    "NEXT_REPLY",
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
