"""Reports: named views over cases, summary cards and the service-desk scorecard.

Pure domain values and the reference (Python) computations; every store computes the same
figures in its own query language, and the conformance suite makes them agree.
"""

from __future__ import annotations

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
    TargetAttainment,
)
from caselib.reports.search import MAX_SEARCH_WORDS, MAX_TERM_LENGTH, SearchText, search_terms

__all__ = [
    "AgeBucket",
    "CsatStats",
    "DayPoint",
    "DeflectionFunnel",
    "DurationStats",
    "GroupBy",
    "MAX_SEARCH_WORDS",
    "MAX_TERM_LENGTH",
    "Period",
    "Scorecard",
    "ScorecardRow",
    "SearchText",
    "TargetAttainment",
    "search_terms",
]
