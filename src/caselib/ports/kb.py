"""The knowledge-base ports: :class:`ArticleRepository` (the articles the KB index is
built from) and :class:`KbLog` (what was suggested, opened and credited).

Apart from the case ports: their own records, read by the KB index and the deflection
analytics rather than by case commands; the unit of work hands out both.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown

__all__ = [
    "ArticleRepository",
    "KbLog",
]


class ArticleRepository(Protocol):
    """Knowledge-base articles of one tenant (the KB index is rebuilt from here)."""

    def get(self, article_id: str) -> Article:
        """One article; :class:`~caselib.errors.ArticleNotFound` if absent."""
        ...

    def put(self, article: Article) -> None:
        """Insert or replace the article with this id."""
        ...

    def remove(self, article_id: str) -> None:
        """Delete the article; :class:`~caselib.errors.ArticleNotFound` if absent."""
        ...

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        """All articles (optionally of one status), ordered by id."""
        ...

    def version(self) -> int:
        """A stamp of the tenant's articles: one more for every committed put or remove.

        Desks in several processes share one article store but each keeps its own index;
        they read this stamp before every search and catch up only when it moved, so it must
        be one cheap read (a counter row, not a scan). Starts at 0; writes rolled back do
        not move it; other tenants' writes do not either. A desk that sees ``v`` before its
        own write and ``v + 1`` after knows no other process wrote in between, so "by one"
        is part of the contract.
        """
        ...


class KbLog(Protocol):
    """What was suggested, opened and credited: the raw data of deflection analytics."""

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        """Append suggestions that were shown."""
        ...

    def record_opened(self, deflection: Deflection) -> None:
        """Append an opened suggestion (a deflection)."""
        ...

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        """Append an explicit "this article resolved the case"."""
        ...

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        """Shown suggestions with ``since <= at < until`` (and of ``case_id``, when given), oldest
        first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        """Opened suggestions with ``since <= at < until`` (and of ``case_id``, when given), oldest
        first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        """Resolved-by-article records with ``since <= at < until`` (and of ``case_id``, when
        given), oldest first.

        Stores index the case filter: the desk reads one case's records per opened article."""
        ...
