"""The outbox repository: :class:`SqlOutbox`, pending messages claimed in write order and
marked delivered.

Apart from the case repository, which writes the rows: this side only relays them, and
holds the one shared read whose locking differs by dialect (``SKIP LOCKED`` or the write
lock).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from caselib.ports import OutboxMessage
from caselib.storage._sql.jsontext import loads
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import from_iso, to_iso

__all__ = [
    "SqlOutbox",
]


class SqlOutbox:
    """:class:`~caselib.ports.Outbox` over the ``outbox`` table (``seq`` gives write order)."""

    def __init__(self, session: SqlSession, clock: Callable[[], datetime]) -> None:
        self._s = session
        self._clock = clock

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        lock = " FOR UPDATE SKIP LOCKED" if s.dialect.skip_locked else ""
        if not s.dialect.skip_locked and not s.fetch(
                f"SELECT 1 FROM outbox WHERE tenant = {ph} AND delivered_at IS NULL LIMIT 1",
                (s.tenant,)):
            # no SKIP LOCKED (SQLite): the claim is the write lock, taken below; an empty
            # outbox answers without it, so a relay polling an idle outbox never waits
            return []
        rows = s.fetch(
            "SELECT key, tenant, case_id, type, payload, created_at FROM outbox "
            f"WHERE tenant = {ph} AND delivered_at IS NULL ORDER BY seq LIMIT {ph}{lock}",
            (s.tenant, limit), write=True)
        return [OutboxMessage(k, t, c, ty, loads(p), from_iso(at)) for k, t, c, ty, p, at in rows]

    def mark_delivered(self, keys: Sequence[str]) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if keys:
            at = to_iso(self._clock())
            s.run_many(f"UPDATE outbox SET delivered_at = {ph} WHERE tenant = {ph} AND key = {ph} "
                       "AND delivered_at IS NULL", [(at, s.tenant, k) for k in dict.fromkeys(keys)])
