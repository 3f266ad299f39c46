"""The mail ledger's contract: each ``Message-ID`` recorded once per tenant, the case of a
thread's ids, a case's messages in order, the reopen counts."""

from __future__ import annotations

from datetime import timedelta

from caselib.ports import MailRecord, Store, mail_ledger
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0

__all__ = ["MailLedgerContract"]


def _rec(mid: str, case_id: str | None = "c1", *, direction: str = "in",
         outcome: str = "reply", address: str = "bo@example.com", minutes: int = 0
         ) -> MailRecord:
    return MailRecord(mid, direction, case_id, address, outcome,  # type: ignore[arg-type]
                      "why", T0 + timedelta(minutes=minutes))


class MailLedgerContract(StoreFixtures):
    """The :class:`~caselib.ports.MailLedger` contract (``uow.mail``), an optional port.
    Not named ``Test…``."""

    def test_records_each_message_once(self, store: Store) -> None:
        """Again in the same unit of work, or after commit, is ``False``; tenants apart."""
        with store.unit_of_work(self.tenant) as uow:
            ledger = mail_ledger(uow)
            assert ledger.record(_rec("a@x"))
            assert not ledger.record(_rec("a@x", "c2"))
            assert ledger.get("a@x") == _rec("a@x")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert not mail_ledger(uow).record(_rec("a@x"))
            assert mail_ledger(uow).get("a@x") == _rec("a@x")
            assert mail_ledger(uow).get("b@x") is None
        with store.unit_of_work(self.other_tenant) as uow:
            assert mail_ledger(uow).get("a@x") is None
            assert mail_ledger(uow).record(_rec("a@x"))

    def test_rollback_forgets(self, store: Store) -> None:
        """A rolled-back record leaves the id free."""
        with store.unit_of_work(self.tenant) as uow:
            assert mail_ledger(uow).record(_rec("a@x"))
        with store.unit_of_work(self.tenant) as uow:
            assert mail_ledger(uow).record(_rec("a@x"))

    def test_thread_case_of_and_counts(self, store: Store) -> None:
        """``case_of`` takes the first id with a case; ``thread`` is oldest first; ``count``
        counts inbound records by outcome, case and address from ``since``."""
        with store.unit_of_work(self.tenant) as uow:
            ledger = mail_ledger(uow)
            ledger.record(_rec("out1@me", direction="out", outcome="sent", minutes=2))
            ledger.record(_rec("in1@you", minutes=1, outcome="reopen"))
            ledger.record(_rec("in2@you", minutes=3, outcome="reopen", address="eve@x"))
            ledger.record(_rec("drop@you", None, outcome="drop", minutes=4))
            ledger.record(_rec("other@you", "c2", minutes=5, outcome="reopen"))
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            ledger = mail_ledger(uow)
            assert ledger.case_of(("nope@x", "drop@you", "other@you", "in1@you")) == "c2"
            assert ledger.case_of(("nope@x",)) is None
            assert ledger.case_of(()) is None
            assert [r.message_id for r in ledger.thread("c1")] == [
                "in1@you", "out1@me", "in2@you"]
            assert ledger.count("reopen", T0) == 3
            assert ledger.count("reopen", T0, case_id="c1") == 2
            assert ledger.count("reopen", T0, address="bo@example.com") == 2
            assert ledger.count("reopen", T0 + timedelta(minutes=2), case_id="c1") == 1
            assert ledger.count("sent", T0) == 0  # outbound is not counted
