"""Converting a case into a host record (opportunity, supplier return): idempotent, and one
record however the host fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from caselib import Actor, MemoryStore, ServiceDesk
from caselib.cases import CaseSnapshot
from caselib.desk import DeliveryChannels
from caselib.errors import InvalidInput, WrongType
from caselib.ports import Store
from caselib.testing import FrozenClock, RecordingSink

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")


class Crm:
    """A host CRM that dedupes on the snapshot key; ``fail`` makes the next calls raise,
    ``fail_after_create`` makes them create the record and then raise (a lost answer)."""

    def __init__(self) -> None:
        self.records: dict[str, str] = {}
        self.calls = 0
        self.fail = 0
        self.fail_after_create = 0
        self.seen: list[CaseSnapshot] = []

    def create(self, snapshot: CaseSnapshot) -> str:
        self.calls += 1
        self.seen.append(snapshot)
        if self.fail:
            self.fail -= 1
            raise ConnectionError("CRM down")
        record = self.records.setdefault(snapshot.key, f"opp-{len(self.records) + 1}")
        if self.fail_after_create:
            self.fail_after_create -= 1
            raise TimeoutError("CRM answered too late")
        return record


def _desk(store: Store) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0))


class TestConvert:
    """Convert through the desk on every store."""

    def test_twice_is_once(self, make_store: Callable[[], Store]) -> None:
        """The second convert returns the first record; the host is not asked again."""
        desk, crm = _desk(make_store()), Crm()
        case = desk.create_case(subject="Wants 50 more seats", actor=ANA,
                                links={"account": "acc-1"})
        first = desk.convert(case.id, actor=ANA, gateway=crm)
        assert first.record_id == "opp-1" and first.requested_by == "ana"
        assert desk.convert(case.id, actor=ANA, gateway=crm) == first
        assert crm.calls == 1 and crm.seen[0].account == "acc-1"
        kinds = [e.kind for e in desk.get_case(case.id, actor=ANA).timeline]
        assert kinds.count("conversion_requested") == 1 and kinds.count("converted") == 1
        sink = RecordingSink()
        desk.dispatch_events(sink)
        types = [m.type for m in sink.messages]
        assert types.count("case.conversion_requested") == 1
        assert types.count("case.converted") == 1

    def test_twice_under_host_failure_is_one_record(
            self, make_store: Callable[[], Store]) -> None:
        """Host down, then a lost answer, then the relay: exactly one opportunity."""
        desk, crm = _desk(make_store()), Crm()
        case = desk.create_case(subject="Renewal", actor=ANA)
        crm.fail = 1
        pending = desk.convert(case.id, actor=ANA, gateway=crm)
        assert pending.record_id is None
        crm.fail_after_create = 1  # the host creates it, the answer is lost
        assert desk.convert(case.id, actor=ANA, gateway=crm).record_id is None
        report = desk.deliver_pending(DeliveryChannels(conversions={"opportunity": crm}))
        assert report.conversions == 1
        done = desk.conversions(case.id, actor=ANA)
        assert [c.record_id for c in done] == ["opp-1"]
        assert len(crm.records) == 1
        assert len({s.key for s in crm.seen}) == 1 and len(set(crm.seen)) == 1
        # nothing pending any more; converting again asks nobody
        calls = crm.calls
        assert desk.convert(case.id, actor=ANA, gateway=crm).record_id == "opp-1"
        assert desk.deliver_pending(DeliveryChannels(conversions={"opportunity": crm})
                                    ).conversions == 0
        assert crm.calls == calls

    def test_supplier_return_is_another_target(self) -> None:
        """The same port shape for a supplier return: its own key and record."""
        desk, crm, erp = _desk(MemoryStore()), Crm(), Crm()
        case = desk.create_case(subject="Bad batch", actor=ANA)
        desk.convert(case.id, actor=ANA, gateway=crm)
        back = desk.convert(case.id, "supplier_return", actor=ANA, gateway=erp)
        assert back.key == f"{case.id}:supplier_return" and back.record_id == "opp-1"
        assert {c.target for c in desk.conversions(case.id, actor=ANA)} == {
            "opportunity", "supplier_return"}

    def test_bad_input(self) -> None:
        """A bad target or gateway is refused before anything is written."""
        desk = _desk(MemoryStore())
        case = desk.create_case(subject="x", actor=ANA)
        with pytest.raises(InvalidInput):
            desk.convert(case.id, "Opportunity!", actor=ANA, gateway=Crm())
        with pytest.raises(WrongType):
            desk.convert(case.id, actor=ANA, gateway=object())  # type: ignore[arg-type]
        assert desk.conversions(case.id, actor=ANA) == []
