"""The knowledge-base tables: article documents and the deflection log's JSON records,
and the repositories over them (:class:`SqlArticles`, :class:`SqlKbLog`).

Apart from the case rows: nothing else reads these tables, and their documents are
plain JSON written through :mod:`caselib.storage._sql.jsontext`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from caselib.errors import ArticleNotFound
from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.storage._sql.dialect import SqlDialect, insert_sql
from caselib.storage._sql.jsontext import dumps, loads
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import from_iso, to_iso

__all__ = [
    "SqlArticles",
    "SqlKbLog",
    "article_from_row",
    "article_row",
    "between_sql",
    "deflection_from_json",
    "deflection_json",
    "resolved_from_json",
    "resolved_json",
    "shown_from_json",
    "shown_json",
]


def article_row(tenant: str, article: Article) -> tuple[str, str, str, str, str]:
    """``articles`` row ``(tenant, id, status, updated_at, doc)``."""
    updated = to_iso(article.updated_at)
    doc = {"id": article.id, "title": article.title, "body": article.body,
           "category": article.category, "tags": list(article.tags),
           "status": article.status.value, "locale": article.locale, "updated_at": updated}
    return (tenant, article.id, article.status.value, updated, dumps(doc))


def article_from_row(doc: Any) -> Article:
    """Inverse of :func:`article_row` (from its ``doc`` column)."""
    d = loads(doc)
    return Article(id=d["id"], title=d["title"], body=d.get("body", ""),
                   category=d.get("category"), tags=tuple(d.get("tags", ())),
                   status=ArticleStatus(d.get("status", "published")),
                   locale=d.get("locale", "en"), updated_at=from_iso(d["updated_at"]))


def shown_json(s: SuggestionShown) -> str:
    """A shown suggestion as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "rank": s.rank,
                  "score": s.score, "at": to_iso(s.at), "actor": s.actor})


def shown_from_json(doc: Any) -> SuggestionShown:
    """Inverse of :func:`shown_json`."""
    d = loads(doc)
    return SuggestionShown(d["case_id"], d["article_id"], int(d["rank"]), float(d["score"]),
                           from_iso(d["at"]), d["actor"])


def deflection_json(s: Deflection) -> str:
    """An opened suggestion as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "actor": s.actor,
                  "at": to_iso(s.at), "rank": s.rank, "score": s.score})


def deflection_from_json(doc: Any) -> Deflection:
    """Inverse of :func:`deflection_json`."""
    d = loads(doc)
    return Deflection(d["case_id"], d["article_id"], d["actor"], from_iso(d["at"]),
                      int(d["rank"]), float(d["score"]))


def resolved_json(s: ResolvedByArticle) -> str:
    """A resolved-by-article record as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "at": to_iso(s.at)})


def resolved_from_json(doc: Any) -> ResolvedByArticle:
    """Inverse of :func:`resolved_json`."""
    d = loads(doc)
    return ResolvedByArticle(d["case_id"], d["article_id"], from_iso(d["at"]))


def between_sql(since: datetime | None, until: datetime | None,
                dialect: SqlDialect) -> tuple[str, list[Any]]:
    """Extra ``AND`` conditions for ``since <= at < until`` on an ISO ``at`` column."""
    sql, params = "", []
    if since is not None:
        sql += f" AND at >= {dialect.ph}"
        params.append(to_iso(since))
    if until is not None:
        sql += f" AND at < {dialect.ph}"
        params.append(to_iso(until))
    return sql, params


class SqlArticles:
    """:class:`~caselib.ports.ArticleRepository` over the ``articles`` table."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def get(self, article_id: str) -> Article:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT doc FROM articles WHERE tenant = {ph} AND id = {ph}",
                       (s.tenant, article_id))
        if not rows:
            raise ArticleNotFound(article_id, s.tenant)
        return article_from_row(rows[0][0])

    def put(self, article: Article) -> None:
        s = self._s
        s.check_open()
        s.run(insert_sql("articles", ("tenant", "id", "status", "updated_at", "doc"), s.dialect,
                         " ON CONFLICT (tenant, id) DO UPDATE SET status = excluded.status, "
                         "updated_at = excluded.updated_at, doc = excluded.doc"),
              article_row(s.tenant, article))
        self._bump()

    def _bump(self) -> None:
        """Move the tenant's article stamp (row-locked until commit, so writers serialise)."""
        s = self._s
        s.run(insert_sql("kb_versions", ("tenant", "version"), s.dialect,
                         " ON CONFLICT (tenant) DO UPDATE SET version = kb_versions.version + 1"),
              (s.tenant, 1))

    def version(self) -> int:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT version FROM kb_versions WHERE tenant = {ph}", (s.tenant,))
        return int(rows[0][0]) if rows else 0

    def remove(self, article_id: str) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if s.run(f"DELETE FROM articles WHERE tenant = {ph} AND id = {ph}",
                 (s.tenant, article_id)) == 0:
            raise ArticleNotFound(article_id, s.tenant)
        self._bump()

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        params: list[Any] = [s.tenant]
        where = ""
        if status is not None:
            where = f" AND status = {ph}"
            params.append(ArticleStatus(status).value)
        rows = s.fetch(f"SELECT doc FROM articles WHERE tenant = {ph}{where} ORDER BY id", params)
        return [article_from_row(doc) for (doc,) in rows]


class SqlKbLog:
    """:class:`~caselib.ports.KbLog` over three append-only tables."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def _append(self, table: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        self._s.check_open()
        if rows:
            self._s.run_many(
                insert_sql(table, ("tenant", "case_id", "at", "doc"), self._s.dialect), rows)

    def _read(self, table: str, since: datetime | None, until: datetime | None,
              case_id: str | None) -> list[Any]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        extra, params = between_sql(since, until, s.dialect)
        if case_id is not None:
            extra, params = f" AND case_id = {ph}{extra}", [case_id, *params]
        rows = s.fetch(f"SELECT doc FROM {table} WHERE tenant = {ph}{extra} ORDER BY at, seq",
                       [s.tenant, *params])
        return [doc for (doc,) in rows]

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        self._append("kb_shown", [(self._s.tenant, x.case_id, to_iso(x.at), shown_json(x))
                                  for x in shown])

    def record_opened(self, deflection: Deflection) -> None:
        self._append("kb_opened", [(self._s.tenant, deflection.case_id, to_iso(deflection.at),
                                    deflection_json(deflection))])

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        self._append("kb_resolved", [(self._s.tenant, resolved.case_id, to_iso(resolved.at),
                                      resolved_json(resolved))])

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        return [shown_from_json(d) for d in self._read("kb_shown", since, until, case_id)]

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        return [deflection_from_json(d) for d in self._read("kb_opened", since, until, case_id)]

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        return [resolved_from_json(d) for d in self._read("kb_resolved", since, until, case_id)]
