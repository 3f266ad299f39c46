"""The memory store's mail ledger: :class:`MemoryMail` over one tenant's records.

A ``Message-ID`` being recorded belongs to the recording unit of work until it ends (as a
row lock would); writes are staged and applied at commit.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from caselib.errors import ConcurrencyConflict
from caselib.ports import MailRecord

if TYPE_CHECKING:
    from caselib.storage.memory import MemoryUnitOfWork

__all__ = ["MailData", "MemoryMail"]


@attrs.define
class MailData:
    """One tenant's committed records (in insertion order) and who is recording what."""

    records: dict[str, MailRecord] = attrs.Factory(dict)
    holders: dict[str, Any] = attrs.Factory(dict)


class MemoryMail:
    """:class:`~caselib.ports.MailLedger` for :class:`~caselib.storage.MemoryStore`."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._staged: dict[str, MailRecord] = {}

    def _data(self) -> MailData:
        data: MailData = self._uow._data.mail
        return data

    def _all(self) -> list[MailRecord]:
        return [*self._data().records.values(), *self._staged.values()]

    def record(self, record: MailRecord) -> bool:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            data = self._data()
            if record.message_id in data.records or record.message_id in self._staged:
                return False
            holder = data.holders.get(record.message_id)
            if holder is not None and holder is not uow and not holder._done:
                raise ConcurrencyConflict(
                    f"mail {record.message_id!r} (being recorded by another unit of work)", 0, None)
            data.holders[record.message_id] = uow
            if not self._staged:
                uow._staged_ops.append(self._apply)
            self._staged[record.message_id] = record
            return True

    def _apply(self, _tenant: object) -> None:
        data = self._data()
        for mid, record in self._staged.items():
            data.records.setdefault(mid, record)
            if data.holders.get(mid) is self._uow:
                del data.holders[mid]

    def get(self, message_id: str) -> MailRecord | None:
        self._uow._check_open()
        with self._uow._store._lock:
            return self._staged.get(message_id) or self._data().records.get(message_id)

    def case_of(self, message_ids: tuple[str, ...]) -> str | None:
        for mid in message_ids:
            found = self.get(mid)
            if found is not None and found.case_id is not None:
                return found.case_id
        return None

    def thread(self, case_id: str) -> list[MailRecord]:
        self._uow._check_open()
        with self._uow._store._lock:
            found = [r for r in self._all() if r.case_id == case_id]
        return sorted(found, key=lambda r: r.at)

    def count(self, outcome: str, since: datetime, *, case_id: str | None = None,
              address: str | None = None) -> int:
        self._uow._check_open()
        with self._uow._store._lock:
            return sum(1 for r in self._all()
                       if r.direction == "in" and r.outcome == outcome and r.at >= since
                       and (case_id is None or r.case_id == case_id)
                       and (address is None or r.address == address))
