"""The knowledge base: text analysis, the BM25F index and its scoring, articles, the query a case
makes, and deflection analytics.

Pure domain code: the desk loads articles through the ``ArticleRepository`` port and keeps a
:class:`KbIndex` current; nothing here does I/O or reads the clock.
"""

from __future__ import annotations

from caselib.kb.core import (
    MAX_ARTICLE_BODY,
    MAX_ARTICLE_TITLE,
    Article,
    ArticleStats,
    ArticleStatus,
    Bm25Settings,
    CaseOutcome,
    CategoryMode,
    Deflection,
    DeflectionReport,
    Explanation,
    FieldSettings,
    KbIndex,
    KbQuery,
    KbSettings,
    KbStats,
    Period,
    PeriodStats,
    QueryPart,
    ResolvedByArticle,
    Suggestion,
    SuggestionShown,
    TermMatch,
    case_query,
    deflection_analytics,
)
from caselib.kb.text import (
    ENGLISH_STOP_WORDS,
    MAX_TOKEN_LENGTH,
    Analyzer,
    StemmerName,
    fold,
    porter2,
)

__all__ = [
    "CategoryMode",
    "Period",
    "Analyzer",
    "Article",
    "ArticleStats",
    "ArticleStatus",
    "Bm25Settings",
    "CaseOutcome",
    "Deflection",
    "DeflectionReport",
    "ENGLISH_STOP_WORDS",
    "Explanation",
    "FieldSettings",
    "KbIndex",
    "KbQuery",
    "KbSettings",
    "KbStats",
    "MAX_ARTICLE_BODY",
    "MAX_ARTICLE_TITLE",
    "MAX_TOKEN_LENGTH",
    "PeriodStats",
    "QueryPart",
    "ResolvedByArticle",
    "StemmerName",
    "Suggestion",
    "SuggestionShown",
    "TermMatch",
    "case_query",
    "deflection_analytics",
    "fold",
    "porter2",
]
