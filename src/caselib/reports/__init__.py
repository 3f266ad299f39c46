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
from caselib.reports.search import MAX_SEARCH_WORDS, MAX_TERM_LENGTH, SearchText, search_terms
from caselib.reports.views import (
    BOARD,
    BUILTIN_VIEWS,
    INBOX,
    MINE,
    OPEN,
    RESOLVED,
    UNASSIGNED,
    VIEW_FILTERS,
    VIEW_ORDERS,
    Placeholder,
    View,
    ViewCatalog,
    account_view,
    board_statuses,
    contact_view,
)

__all__ = [
    "AgeBucket",
    "BOARD",
    "BUILTIN_VIEWS",
    "CaseFacts",
    "CsatStats",
    "DayPoint",
    "DeflectionFunnel",
    "DurationStats",
    "GroupBy",
    "INBOX",
    "MAX_SEARCH_WORDS",
    "MAX_TERM_LENGTH",
    "MINE",
    "OPEN",
    "Period",
    "Placeholder",
    "RESOLVED",
    "Scorecard",
    "ScorecardRow",
    "SearchText",
    "SummaryCards",
    "TargetAttainment",
    "TargetFacts",
    "UNASSIGNED",
    "VIEW_FILTERS",
    "VIEW_ORDERS",
    "View",
    "ViewCatalog",
    "account_view",
    "board_statuses",
    "cards_text",
    "compute_cards",
    "compute_scorecard",
    "contact_view",
    "duration_text",
    "period_text",
    "scorecard_csv",
    "scorecard_dict",
    "scorecard_html",
    "scorecard_json",
    "scorecard_table",
    "search_terms",
]
