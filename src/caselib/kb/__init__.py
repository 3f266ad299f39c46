"""The knowledge base: text analysis, the BM25F index and its scoring, articles, the query a case
makes, and deflection analytics.

Pure domain code: the desk loads articles through the ``ArticleRepository`` port and keeps a
:class:`KbIndex` current; nothing here does I/O or reads the clock.

Modules, lowest first: ``text`` (the analyzer), ``articles`` (articles and their validation),
``settings`` (ranking settings), ``query`` (query parts and the query a case makes),
``results`` (suggestions, explanations, index size), ``semantic`` (the optional
embedding scorer's ports and rank fusion), ``postings`` (the index's postings
layout), ``index`` (the BM25F index and its search), ``deflection`` (suggestion events and
deflection analytics), ``resolutions`` (the boost for articles that resolved similar cases)
and ``redact`` (personal data out of article drafts).
"""

from __future__ import annotations

from caselib.kb.articles import MAX_ARTICLE_BODY, MAX_ARTICLE_TITLE, Article, ArticleStatus
from caselib.kb.deflection import (
    VISIT_PREFIX,
    ArticleStats,
    CaseOutcome,
    Deflection,
    DeflectionReport,
    Period,
    PeriodStats,
    ResolvedByArticle,
    SuggestionShown,
    deflection_analytics,
)
from caselib.kb.index import CategoryMode, KbIndex
from caselib.kb.query import KbQuery, QueryPart, case_query, text_query
from caselib.kb.redact import Redactor
from caselib.kb.resolutions import ResolutionMemory
from caselib.kb.results import Explanation, Fusion, KbStats, Suggestion, TermMatch
from caselib.kb.semantic import (
    Embedder,
    ExactVectors,
    SemanticSettings,
    VectorIndex,
    rrf,
)
from caselib.kb.settings import Bm25Settings, FieldSettings, KbSettings, ResolutionBoost
from caselib.kb.text import (
    ENGLISH_STOP_WORDS,
    MAX_TOKEN_LENGTH,
    Analyzer,
    StemmerName,
    fold,
    porter2,
)

__all__ = [
    "Analyzer",
    "Article",
    "ArticleStats",
    "ArticleStatus",
    "Bm25Settings",
    "CaseOutcome",
    "CategoryMode",
    "Deflection",
    "DeflectionReport",
    "ENGLISH_STOP_WORDS",
    "Embedder",
    "ExactVectors",
    "Explanation",
    "FieldSettings",
    "Fusion",
    "KbIndex",
    "KbQuery",
    "KbSettings",
    "KbStats",
    "MAX_ARTICLE_BODY",
    "MAX_ARTICLE_TITLE",
    "MAX_TOKEN_LENGTH",
    "Period",
    "PeriodStats",
    "QueryPart",
    "Redactor",
    "ResolutionBoost",
    "ResolutionMemory",
    "ResolvedByArticle",
    "SemanticSettings",
    "StemmerName",
    "Suggestion",
    "SuggestionShown",
    "TermMatch",
    "VISIT_PREFIX",
    "VectorIndex",
    "case_query",
    "deflection_analytics",
    "fold",
    "porter2",
    "rrf",
    "text_query",
]
