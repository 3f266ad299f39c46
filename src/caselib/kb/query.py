"""What a knowledge-base search asks: weighted query parts, and the query a case makes.

:func:`case_query` decides which of a case's texts may drive a suggestion and how much each
counts; it is kept out of the index because that choice is about what the customer can see,
not about scoring.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs

from caselib.checks import require_instances
from caselib.kb.settings import _non_negative

__all__ = [
    "KbQuery",
    "QueryPart",
    "case_query",
    "text_query",
]


@attrs.frozen
class QueryPart:
    """A piece of query text and how much its words count (1.0 = normal)."""

    text: str
    weight: float = attrs.field(default=1.0, validator=_non_negative)


def _parts(value: object) -> tuple[QueryPart, ...]:
    return require_instances(value, "parts", QueryPart, "a list of QueryPart values")


@attrs.frozen
class KbQuery:
    """A query made of weighted parts, for example a case's subject, description and replies."""

    parts: tuple[QueryPart, ...] = attrs.field(converter=_parts)
    category: str | None = None

    @classmethod
    def text(cls, text: str, *, category: str | None = None) -> KbQuery:
        """A single-part query with weight 1."""
        return cls((QueryPart(text),), category)


# --- case -> query ---------------------------------------------------------------------------

#: Weights of the parts of a case; the subject is the customer's own summary of the need.
SUBJECT_WEIGHT: Final = 2.0
DESCRIPTION_WEIGHT: Final = 1.0
REPLY_WEIGHT: Final = 0.5
#: Only the latest public replies say what is still unresolved.
MAX_REPLIES: Final = 3
#: Long texts are cut: the start of a description states the problem; the rest (logs, quoted
#: mail) adds query terms, which cost time, without adding much relevance.
MAX_QUERY_TEXT: Final = 4_000


def case_query(
    subject: str,
    description: str,
    category: str | None,
    public_replies: Sequence[str],
) -> KbQuery:
    """Build the KB query for a case from what the customer can see.

    The subject weighs double, the description normal, the last three public replies half.
    Internal notes are not a parameter on purpose: they may name other customers or
    internal systems, and a suggestion must never be explained by text the customer cannot see.

    >>> q = case_query("Refund missing", "I was charged twice", "billing", ["any news?"])
    >>> [(p.text, p.weight) for p in q.parts]
    [('Refund missing', 2.0), ('I was charged twice', 1.0), ('any news?', 0.5)]
    """
    parts = [
        QueryPart(subject[:MAX_QUERY_TEXT], SUBJECT_WEIGHT),
        QueryPart(description[:MAX_QUERY_TEXT], DESCRIPTION_WEIGHT),
    ]
    for reply in list(public_replies)[-MAX_REPLIES:]:
        parts.append(QueryPart(reply[:MAX_QUERY_TEXT], REPLY_WEIGHT))
    return KbQuery(tuple(p for p in parts if p.text.strip()), category)


def text_query(subject: str, description: str, category: str | None = None) -> KbQuery:
    """The query of a portal form before a case exists: weighted as :func:`case_query` weighs
    a new case (subject double, description normal), so the portal and the agent's view
    suggest the same articles for the same words.

    >>> [(p.text, p.weight) for p in text_query("VPN drops", "every hour").parts]
    [('VPN drops', 2.0), ('every hour', 1.0)]
    """
    return case_query(subject, description, category, ())
