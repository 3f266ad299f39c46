"""The mail ledger over SQL: :class:`SqlMail` (table ``mail_log`` of migration 8).

``record`` is ``INSERT … ON CONFLICT DO NOTHING`` on (tenant, message_id): a concurrent
insert of the same id waits for the other transaction and then inserts nothing, so a
message redelivered to two workers at once is taken by one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, cast

from caselib.ports import MailRecord
from caselib.storage._sql.session import SqlSession
from caselib.timeutil import from_iso, to_iso

__all__ = ["SqlMail"]

_COLUMNS = "message_id, direction, case_id, address, outcome, reason, at"


def _row(row: tuple[object, ...]) -> MailRecord:
    mid, direction, case_id, address, outcome, reason, at = row
    return MailRecord(str(mid), cast(Literal["in", "out"], direction),
                      None if case_id is None else str(case_id), str(address), str(outcome),
                      str(reason), from_iso(str(at)))


class SqlMail:
    """:class:`~caselib.ports.MailLedger` over the shared SQL session."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def record(self, record: MailRecord) -> bool:
        s = self._s
        s.check_open()
        # seq: the tenant's write order, so a thread's messages at one instant keep theirs
        return s.run(
            f"INSERT INTO mail_log (tenant, {_COLUMNS}, seq) SELECT {s.dialect.params(8)}, "
            f"COALESCE(MAX(seq), 0) + 1 FROM mail_log WHERE tenant = {s.dialect.ph} "
            "ON CONFLICT DO NOTHING",
            (s.tenant, record.message_id, record.direction, record.case_id, record.address,
             record.outcome, record.reason[:500], to_iso(record.at), s.tenant)) == 1

    def get(self, message_id: str) -> MailRecord | None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT {_COLUMNS} FROM mail_log WHERE tenant = {ph} AND "
                       f"message_id = {ph}", (s.tenant, message_id))
        return _row(rows[0]) if rows else None

    def case_of(self, message_ids: tuple[str, ...]) -> str | None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        ids = list(dict.fromkeys(message_ids))[:100]
        if not ids:
            return None
        rows = s.fetch(f"SELECT message_id, case_id FROM mail_log WHERE tenant = {ph} AND "
                       f"case_id IS NOT NULL AND message_id IN ({s.dialect.params(len(ids))})",
                       (s.tenant, *ids))
        found = {str(m): str(c) for m, c in rows}
        return next((found[i] for i in ids if i in found), None)

    def thread(self, case_id: str) -> list[MailRecord]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT {_COLUMNS} FROM mail_log WHERE tenant = {ph} AND "
                       f"case_id = {ph} ORDER BY at, seq", (s.tenant, case_id))
        return [_row(r) for r in rows]

    def count(self, outcome: str, since: datetime, *, case_id: str | None = None,
              address: str | None = None) -> int:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        sql = (f"SELECT COUNT(*) FROM mail_log WHERE tenant = {ph} AND direction = 'in' AND "
               f"outcome = {ph} AND at >= {ph}")
        args: list[object] = [s.tenant, outcome, to_iso(since)]
        if case_id is not None:
            sql += f" AND case_id = {ph}"
            args.append(case_id)
        if address is not None:
            sql += f" AND address = {ph}"
            args.append(address)
        return int(s.fetch(sql, tuple(args))[0][0])
