"""The automation ledger over SQL: :class:`SqlAutomations` (tables ``automation_ledger``,
``automation_schedule`` and ``automation_cursor`` of migration 7).

The two claims differ by dialect: PostgreSQL takes row locks with ``SKIP LOCKED`` (a busy
cursor or due case is left to the worker holding it); SQLite has one writer at a time, so
the claim is its write lock, taken by the first statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from caselib.ports import AppliedRule, OutboxMessage, StreamEvent
from caselib.storage._sql.jsontext import loads
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import from_iso, to_iso

__all__ = [
    "AUTOMATION_REREAD",
    "SqlAutomations",
    "seen_below_cursor",
]

AUTOMATION_REREAD: Final = 500
"""PostgreSQL hands out outbox ``seq`` values before commit, so a transaction may commit a
lower ``seq`` after a higher one was read. Each claim on PostgreSQL therefore looks this many
positions below the cursor for events it has not handed out yet (a late commit); the
positions it hands out are kept in ``automation_seen`` (migration 11), so an event is handed
out once. Looking again at an event already handled would evaluate its rules against the
case as it is *now*: a rule that did not match then could fire late."""


def seen_below_cursor(tenant_ph: str | None = None) -> str:
    """SQL counting the events in the look-back window below each cursor (of the tenant at
    placeholder ``tenant_ph``, or of every tenant) as handed out. What a cursor placed
    without handing them out owes: :meth:`SqlAutomations.start_cursor` skips the tenant's
    history, and migration 11 upgrades cursors that handed them out before
    ``automation_seen`` existed. Without it the next claim on PostgreSQL would hand out
    (again) up to :data:`AUTOMATION_REREAD` events from before the cursor."""
    only = "" if tenant_ph is None else f" AND c.tenant = {tenant_ph}"
    return ("INSERT INTO automation_seen (tenant, seq) SELECT o.tenant, o.seq FROM outbox o "
            "JOIN automation_cursor c ON c.tenant = o.tenant "
            f"WHERE o.seq <= c.seq AND o.seq > c.seq - {AUTOMATION_REREAD}{only} "
            "ON CONFLICT DO NOTHING")


class SqlAutomations:
    """:class:`~caselib.ports.AutomationLedger` over the shared SQL session."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def record(self, applied: AppliedRule) -> bool:
        s = self._s
        s.check_open()
        # a concurrent insert of the same key makes this one wait for that transaction,
        # then do nothing (it committed) or insert (it rolled back): no duplicate either way
        n = s.run(
            "INSERT INTO automation_ledger (tenant, case_id, rule_id, occurrence, applied_at)"
            f" VALUES ({s.dialect.params(5)}) ON CONFLICT DO NOTHING",
            (s.tenant, applied.case_id, applied.rule_id, applied.occurrence,
             to_iso(applied.at)))
        return n == 1

    def applied(self, case_id: str) -> list[AppliedRule]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(
            "SELECT rule_id, occurrence, applied_at FROM automation_ledger "
            f"WHERE tenant = {ph} AND case_id = {ph} ORDER BY applied_at, rule_id, occurrence",
            (s.tenant, case_id))
        return [AppliedRule(r, case_id, o, from_iso(at)) for r, o, at in rows]

    def applied_many(self, case_ids: Sequence[str]) -> dict[str, list[AppliedRule]]:
        """:meth:`applied` of each of ``case_ids`` that has a row, 500 ids a query."""
        s = self._s
        s.check_open()
        out: dict[str, list[AppliedRule]] = {}
        ids = list(dict.fromkeys(case_ids))
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = s.fetch(
                "SELECT case_id, rule_id, occurrence, applied_at FROM automation_ledger "
                f"WHERE tenant = {s.dialect.ph} AND case_id IN ({s.dialect.params(len(part))})"
                " ORDER BY case_id, applied_at, rule_id, occurrence", (s.tenant, *part))
            for c, r, o, at in rows:
                out.setdefault(c, []).append(AppliedRule(r, c, o, from_iso(at)))
        return out

    def claim_events(self, limit: int) -> list[StreamEvent] | None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        s.write(f"INSERT INTO automation_cursor (tenant, seq) VALUES ({ph}, 0) "
                "ON CONFLICT DO NOTHING", (s.tenant,))
        lock = " FOR UPDATE SKIP LOCKED" if s.dialect.skip_locked else ""
        rows = s.fetch(f"SELECT seq FROM automation_cursor WHERE tenant = {ph}{lock}",
                       (s.tenant,), write=True)
        if not rows:
            return None
        cursor = int(rows[0][0])
        select = ("SELECT seq, key, tenant, case_id, type, payload, created_at FROM outbox "
                  f"WHERE tenant = {ph} AND seq > {ph}")
        found = s.fetch(f"{select} ORDER BY seq LIMIT {ph}", (s.tenant, cursor, limit),
                        write=True)
        if s.dialect.skip_locked:
            if cursor > 0:
                late = s.fetch(
                    f"{select} AND seq <= {ph} AND NOT EXISTS (SELECT 1 FROM automation_seen"
                    " a WHERE a.tenant = outbox.tenant AND a.seq = outbox.seq) ORDER BY seq",
                    (s.tenant, cursor - AUTOMATION_REREAD, cursor), write=True)
                found = late + found
            if found:  # held with the cursor: rolls back with the unit of work
                s.run_many(f"INSERT INTO automation_seen (tenant, seq) VALUES ({ph}, {ph}) "
                           "ON CONFLICT DO NOTHING", [(s.tenant, int(r[0])) for r in found])
        return [StreamEvent(int(q), OutboxMessage(k, t, c, ty, loads(p), from_iso(at)))
                for q, k, t, c, ty, p, at in found]

    def start_cursor(self) -> bool:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        started = s.run(
            "INSERT INTO automation_cursor (tenant, seq) SELECT "
            f"{ph}, COALESCE(MAX(seq), 0) FROM outbox WHERE tenant = {ph} "
            "ON CONFLICT DO NOTHING", (s.tenant, s.tenant)) == 1
        if started and s.dialect.skip_locked:
            # the history the cursor starts after is not for the sweep: the look-back
            # below the cursor must not hand it out as late commits
            s.write(seen_below_cursor(ph), (s.tenant,))
        return started

    def advance(self, seq: int) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        s.write(f"UPDATE automation_cursor SET seq = {ph} WHERE tenant = {ph} AND seq < {ph}",
                (seq, s.tenant, seq))
        if s.dialect.skip_locked:  # positions the next look-back no longer reaches
            s.write(f"DELETE FROM automation_seen WHERE tenant = {ph} AND seq <= {ph}",
                    (s.tenant, seq - AUTOMATION_REREAD))

    def schedule(self, case_id: str, next_at: datetime | None) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if next_at is None:
            s.write(f"DELETE FROM automation_schedule WHERE tenant = {ph} AND case_id = {ph}",
                    (s.tenant, case_id))
        else:
            s.write(f"INSERT INTO automation_schedule (tenant, case_id, next_at) VALUES "
                    f"({s.dialect.params(3)}) ON CONFLICT (tenant, case_id) DO UPDATE "
                    "SET next_at = excluded.next_at", (s.tenant, case_id, to_iso(next_at)))

    def schedule_many(self, plan: Sequence[tuple[str, datetime | None]]) -> None:
        """:meth:`schedule` of each ``(case id, next time)``: the clears in one statement
        run per row, the settings in another."""
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        last = dict(plan)  # the last word per case, as calls in order would leave it
        clear = [(s.tenant, c) for c, at in last.items() if at is None]
        if clear:
            s.run_many(f"DELETE FROM automation_schedule WHERE tenant = {ph} AND case_id = {ph}",
                       clear)
        put = [(s.tenant, c, to_iso(at)) for c, at in last.items() if at is not None]
        if put:
            s.run_many(f"INSERT INTO automation_schedule (tenant, case_id, next_at) VALUES "
                       f"({s.dialect.params(3)}) ON CONFLICT (tenant, case_id) DO UPDATE "
                       "SET next_at = excluded.next_at", put)

    def claim_due(self, now: datetime, limit: int) -> list[str]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        lock = " FOR UPDATE SKIP LOCKED" if s.dialect.skip_locked else ""
        rows = s.fetch(
            f"SELECT case_id FROM automation_schedule WHERE tenant = {ph} AND next_at <= {ph} "
            f"ORDER BY next_at, case_id LIMIT {ph}{lock}",
            (s.tenant, to_iso(now), limit), write=True)
        return [r[0] for r in rows]

    def scheduled(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        out: dict[str, datetime] = {}
        ids = list(dict.fromkeys(case_ids))
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            rows = s.fetch(
                f"SELECT case_id, next_at FROM automation_schedule WHERE tenant = {ph} AND "
                f"case_id IN ({s.dialect.params(len(part))})", (s.tenant, *part))
            out.update((c, from_iso(at)) for c, at in rows)
        return out
