"""Reports: named views over cases, summary cards and the service-desk scorecard.

Pure domain values and the reference (Python) computations; every store computes the same
figures in its own query language, and the conformance suite makes them agree.
"""

from __future__ import annotations

from caselib.reports.compute import compute_cards, compute_scorecard
from caselib.reports.facts import CaseFacts, TargetFacts
from caselib.reports.render import (
    cards_text,
    duration_text,
    period_text,
    scorecard_csv,
    scorecard_dict,
    scorecard_html,
    scorecard_json,
    scorecard_table,
)
from caselib.reports.scorecard import (
    AgeBucket,
    CsatStats,
    DayPoint,
    DeflectionFunnel,
    DurationStats,
    GroupBy,
    Period,
    Scorecard,
    ScorecardRow,
    SummaryCards,
    TargetAttainment,
)

__all__ = [
    "AgeBucket",
    "CaseFacts",
    "CsatStats",
    "DayPoint",
    "DeflectionFunnel",
    "DurationStats",
    "GroupBy",
    "Period",
    "Scorecard",
    "ScorecardRow",
    "SummaryCards",
    "TargetAttainment",
    "TargetFacts",
    "compute_cards",
    "cards_text",
    "compute_scorecard",
    "duration_text",
    "period_text",
    "scorecard_csv",
    "scorecard_dict",
    "scorecard_html",
    "scorecard_json",
    "scorecard_table",
]
