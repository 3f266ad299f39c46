"""The case links: :class:`SqlLinks`, one ``case_links`` row per link (schema migration 9),
read from either end.

Its own module, as :mod:`caselib.ports.links` is: the table and its two indexes (the primary
key for the source end, ``case_links_target`` for the target end) are the links' alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from caselib.cases import CaseLink, LinkKind
from caselib.storage._sql.queries import _in
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import from_iso, to_iso

__all__ = [
    "SqlLinks",
]

_COLUMNS = "source, kind, target, created_at, created_by"


class SqlLinks:
    """:class:`~caselib.ports.CaseLinkRepository` over the ``case_links`` table."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def add(self, link: CaseLink) -> bool:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        n = s.run(f"INSERT INTO case_links (tenant, {_COLUMNS}) VALUES "
                  f"({ph}, {ph}, {ph}, {ph}, {ph}, {ph}) ON CONFLICT DO NOTHING",
                  (s.tenant, link.source, link.kind.value, link.target,
                   to_iso(link.created_at), link.created_by))
        return n == 1

    def remove(self, source: str, kind: LinkKind, target: str) -> bool:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        n = s.run(f"DELETE FROM case_links WHERE tenant = {ph} AND source = {ph} "
                  f"AND kind = {ph} AND target = {ph}",
                  (s.tenant, source, LinkKind(kind).value, target))
        return n == 1

    def of_case(self, case_id: str) -> list[CaseLink]:
        return self.of_cases([case_id])

    def of_cases(self, case_ids: Sequence[str]) -> list[CaseLink]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        ids = list(dict.fromkeys(case_ids))
        if not ids:
            return []
        params: list[Any] = [s.tenant]
        by_source = _in("source", ids, s.dialect, params)
        params.append(s.tenant)
        by_target = _in("target", ids, s.dialect, params)
        # a UNION of two index ranges (each end has its own index) rather than one OR
        rows = s.fetch(f"SELECT {_COLUMNS} FROM case_links WHERE tenant = {ph} AND {by_source} "
                       f"UNION SELECT {_COLUMNS} FROM case_links WHERE tenant = {ph} "
                       f"AND {by_target}", params)
        links = [CaseLink(src, LinkKind(kind), tgt, from_iso(at), by)
                 for src, kind, tgt, at, by in rows]
        links.sort(key=lambda link: (to_iso(link.created_at), link.key))
        return links
