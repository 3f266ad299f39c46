"""The assignment ledger: :class:`SqlAssignments`, round-robin cursors moved by one
conditional statement, and last-assignment times.

Its own module, as :mod:`caselib.ports.assignment` is: its tables and its concurrency
rule (compare-and-set) are the ledger's alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from caselib.storage._sql.queries import _in
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import aware_utc, from_iso, to_iso

__all__ = [
    "SqlAssignments",
]


class SqlAssignments:
    """:class:`~caselib.ports.AssignmentLedger`: the cursor CAS is one conditional statement,
    so the database's row lock decides which of two concurrent assigners wins."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def cursor(self, team: str) -> str | None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT agent FROM rr_cursors WHERE tenant = {ph} AND team = {ph}",
                       (s.tenant, team))
        return None if not rows else str(rows[0][0])

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if expected is None:
            n = s.run(f"INSERT INTO rr_cursors (tenant, team, agent) VALUES ({ph}, {ph}, {ph}) "
                      "ON CONFLICT DO NOTHING", (s.tenant, team, new))
        else:
            n = s.run(f"UPDATE rr_cursors SET agent = {ph} WHERE tenant = {ph} AND team = {ph} "
                      f"AND agent = {ph}", (new, s.tenant, team, expected))
        return n == 1

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        wanted = list(dict.fromkeys(agents))
        if not wanted:
            return {}
        params: list[Any] = [s.tenant]
        cond = _in("agent", wanted, s.dialect, params)
        rows = s.fetch(f"SELECT agent, at FROM agent_last_assigned WHERE tenant = {ph} "
                       f"AND {cond}", params)
        found = {a: from_iso(at) for a, at in rows}
        return {a: found[a] for a in wanted if a in found}

    def record_assigned(self, agent: str, at: datetime) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        s.run(f"INSERT INTO agent_last_assigned (tenant, agent, at) VALUES ({ph}, {ph}, {ph}) "
              "ON CONFLICT (tenant, agent) DO UPDATE SET at = excluded.at",
              (s.tenant, agent, to_iso(aware_utc(at, "at"))))
