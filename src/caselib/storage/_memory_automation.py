"""The memory store's automation ledger: :class:`MemoryAutomations` over one tenant's
:class:`AutomationData`.

Its own module so the memory store gains one attribute, not another hundred lines. Claims
(the event cursor, due cases, ledger keys being recorded) belong to a unit of work until it
ends, as row locks do in the SQL stores; writes are staged and applied at commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import attrs

from caselib.errors import ConcurrencyConflict
from caselib.ports import AppliedRule, StreamEvent

if TYPE_CHECKING:
    from caselib.storage.memory import MemoryUnitOfWork

__all__ = ["AutomationData", "MemoryAutomations"]

_Key = tuple[str, str, str]  # (case id, rule id, occurrence)


@attrs.define
class AutomationData:
    """One tenant's committed ledger, schedule and cursor, plus who holds what."""

    ledger: dict[_Key, AppliedRule] = attrs.Factory(dict)
    schedule: dict[str, datetime] = attrs.Factory(dict)
    cursor: int | None = None
    holders: dict[object, Any] = attrs.Factory(dict)  # claim → the unit of work holding it


class MemoryAutomations:
    """:class:`~caselib.ports.AutomationLedger` for :class:`~caselib.storage.MemoryStore`."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self._uow = uow
        self._recorded: dict[_Key, AppliedRule] = {}
        self._schedule: dict[str, datetime | None] = {}
        self._cursor: int | None = None

    def _data(self) -> AutomationData:
        return self._uow._data.automation

    def _claim(self, data: AutomationData, claim: object) -> bool:
        holder = data.holders.get(claim)
        if holder is not None and holder is not self._uow and not holder._done:
            return False
        data.holders[claim] = self._uow
        return True

    def _stage(self) -> None:
        """Apply this unit of work's writes at its commit (once)."""
        if getattr(self, "_staged", False):
            return
        self._staged = True

        def apply(_tenant: object) -> None:
            data = self._data()
            data.ledger.update(self._recorded)
            for claim in [c for c, holder in data.holders.items() if holder is self._uow]:
                del data.holders[claim]
            for case_id, at in self._schedule.items():
                if at is None:
                    data.schedule.pop(case_id, None)
                else:
                    data.schedule[case_id] = at
            if self._cursor is not None:
                data.cursor = max(data.cursor or 0, self._cursor)

        self._uow._staged_ops.append(apply)

    def record(self, applied: AppliedRule) -> bool:
        self._uow._check_open()
        key = (applied.case_id, applied.rule_id, applied.occurrence)
        with self._uow._store._lock:
            data = self._data()
            if key in data.ledger or key in self._recorded:
                return False
            if not self._claim(data, ("ledger", key)):
                raise ConcurrencyConflict(f"automation {applied.rule_id} on {applied.case_id}",
                                          0, None)
            self._recorded[key] = applied
        self._stage()
        return True

    def applied(self, case_id: str) -> list[AppliedRule]:
        self._uow._check_open()
        with self._uow._store._lock:
            rows = [a for (c, _, _), a in self._data().ledger.items() if c == case_id]
        return sorted(rows, key=lambda a: (a.at, a.rule_id, a.occurrence))

    def applied_many(self, case_ids: Sequence[str]) -> dict[str, list[AppliedRule]]:
        """:meth:`applied` of each of ``case_ids`` with a row, in one pass over the ledger."""
        self._uow._check_open()
        wanted = set(case_ids)
        out: dict[str, list[AppliedRule]] = {}
        with self._uow._store._lock:
            for (c, _, _), a in self._data().ledger.items():
                if c in wanted:
                    out.setdefault(c, []).append(a)
        for rows in out.values():
            rows.sort(key=lambda a: (a.at, a.rule_id, a.occurrence))
        return out

    def claim_events(self, limit: int) -> list[StreamEvent] | None:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            data = self._data()
            if not self._claim(data, "cursor"):
                return None
            after = (data.cursor or 0) if self._cursor is None else self._cursor
            messages = list(uow._data.outbox.values())[after:after + limit]
        return [StreamEvent(after + i + 1, m) for i, m in enumerate(messages)]

    def start_cursor(self) -> bool:
        uow = self._uow
        uow._check_open()
        with uow._store._lock:
            if self._data().cursor is not None or self._cursor is not None:
                return False
            self._cursor = len(uow._data.outbox)
        self._stage()
        return True

    def advance(self, seq: int) -> None:
        self._uow._check_open()
        self._cursor = max(seq, self._cursor or 0)
        self._stage()

    def schedule(self, case_id: str, next_at: datetime | None) -> None:
        self._uow._check_open()
        self._schedule[case_id] = next_at
        self._stage()

    def claim_due(self, now: datetime, limit: int) -> list[str]:
        self._uow._check_open()
        out: list[str] = []
        with self._uow._store._lock:
            data = self._data()
            for case_id, at in sorted(data.schedule.items(), key=lambda kv: (kv[1], kv[0])):
                if at > now or len(out) >= limit:
                    break
                if self._claim(data, ("due", case_id)):
                    out.append(case_id)
        return out

    def scheduled(self, case_ids: Sequence[str]) -> dict[str, datetime]:
        self._uow._check_open()
        with self._uow._store._lock:
            schedule = self._data().schedule
            return {c: schedule[c] for c in case_ids if c in schedule}
