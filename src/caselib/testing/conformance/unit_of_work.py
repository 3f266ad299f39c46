"""The unit of work's contract across every port: visibility, rollback, lifetime, tenancy.

Separate from the per-port contracts because each test here touches several ports at once
(cases, outbox, articles, KB log, assignment ledger) through one unit of work or tenant.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib.cases import Case
from caselib.errors import ArticleNotFound, CaselibError, CaseNotFound, StorageError
from caselib.kb import Deflection, ResolvedByArticle, SuggestionShown
from caselib.ports import CaseQuery, OutboxMessage, Store
from caselib.storage.codec import outbox_messages
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import AGENT, T0, _add, _article, _save, make_case

__all__ = ["UnitOfWorkContract"]


class UnitOfWorkContract(StoreFixtures):
    """The :class:`~caselib.ports.UnitOfWork` contract: own writes visible, others' invisible
    until commit, unfinished work discarded, every port scoped to its tenant. Not named
    ``Test…``."""

    # -- unit of work: visibility, rollback, lifetime ------------------------------------------

    def test_reads_see_own_uncommitted_writes(self, store: Store) -> None:
        """Within a unit of work, reads and queries include its own writes."""
        with store.unit_of_work(self.tenant) as uow:
            case = make_case(self.tenant, 1, status="open", assignee="ana")
            uow.cases.add(case)
            assert uow.cases.get(case.id).number == "CASE-0001"
            assert uow.cases.get_by_number("CASE-0001").id == case.id
            assert [s.id for s in uow.cases.query(CaseQuery()).items] == [case.id]
            assert uow.cases.count_by_status() == {"open": 1}
            assert uow.cases.open_counts(["ana"]) == {"ana": 1}
            loaded = uow.cases.get(case.id)
            loaded.add_comment("more", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(loaded, 1)
            assert uow.cases.get(case.id).version == 2
            uow.commit()

    def test_uncommitted_writes_are_invisible_to_others(
        self, store: Store, second_store: Store
    ) -> None:
        """Another unit of work sees nothing of an open one's writes until it commits."""
        writer = store.unit_of_work(self.tenant)
        with writer:
            writer.cases.add(make_case(self.tenant, 1, status="open", assignee="ana"))
            writer.articles.put(_article("reset-password"))
            with second_store.unit_of_work(self.tenant) as reader:
                with pytest.raises(CaseNotFound):
                    reader.cases.get("case-00001")
                with pytest.raises(CaseNotFound):
                    reader.cases.get_by_number("CASE-0001")
                assert reader.cases.query(CaseQuery()).items == ()
                assert reader.cases.count_by_status() == {}
                assert reader.cases.open_counts(["ana"]) == {"ana": 0}
                assert reader.articles.list() == []
            with second_store.unit_of_work(self.tenant) as relay:
                assert relay.outbox.pending() == []
            writer.commit()
        with second_store.unit_of_work(self.tenant) as reader:
            assert reader.cases.get("case-00001").version == 1
            assert len(reader.outbox.pending()) == len(
                outbox_messages(make_case(self.tenant, 1, status="open", assignee="ana"), 1))
            assert [a.id for a in reader.articles.list()] == ["reset-password"]

    @pytest.mark.parametrize("finish", ["rollback", "exit"])
    def test_unfinished_work_is_discarded(self, store: Store, finish: str) -> None:
        """rollback(), or a with-block that ends without commit(), drops cases, saves, outbox
        marks, articles, logs and cursors."""
        existing = make_case(self.tenant, 1)
        _add(store, self.tenant, existing)
        with store.unit_of_work(self.tenant) as uow:
            before = uow.outbox.pending()
        with store.unit_of_work(self.tenant) as uow:
            uow.cases.add(make_case(self.tenant, 2))
            loaded = uow.cases.get(existing.id)
            loaded.add_comment("lost", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(loaded, 1)
            uow.outbox.mark_delivered([m.key for m in before])
            uow.articles.put(_article("a1"))
            uow.kb_log.record_shown([SuggestionShown("case-00001", "a1", 1, 0.9, T0, "ana")])
            uow.kb_log.record_opened(Deflection("case-00001", "a1", "ana", T0, 1, 0.9))
            uow.kb_log.record_resolved(ResolvedByArticle("case-00001", "a1", T0))
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            uow.assignments.record_assigned("ana", T0)
            if finish == "rollback":
                uow.rollback()
        self._assert_only_first_case(store, existing, before)

    def _assert_only_first_case(
        self, store: Store, existing: Case, before: list[OutboxMessage]
    ) -> None:
        with store.unit_of_work(self.tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00002")
            stored = uow.cases.get(existing.id)
            assert stored.version == 1
            assert len(stored.timeline) == 1
            assert uow.outbox.pending() == before
            assert uow.articles.list() == []
            assert uow.kb_log.shown() == []
            assert uow.kb_log.opened() == []
            assert uow.kb_log.resolved() == []
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.last_assigned(["ana"]) == {}

    @pytest.mark.parametrize("finish", ["commit", "rollback", "exit"])
    def test_finished_unit_of_work_refuses_use(self, store: Store, finish: str) -> None:
        """After commit, rollback or the end of the block, using the unit of work raises
        StorageError (a silently ignored write would be lost data)."""
        uow = store.unit_of_work(self.tenant)
        with uow:
            if finish == "commit":
                uow.commit()
            elif finish == "rollback":
                uow.rollback()
        calls: list[Callable[[], object]] = [
            lambda: uow.cases.get("case-00001"),
            lambda: uow.cases.add(make_case(self.tenant, 1)),
            lambda: uow.cases.query(CaseQuery()),
            lambda: uow.numbers.next_number(),
            lambda: uow.outbox.pending(),
            lambda: uow.articles.put(_article("a1")),
            lambda: uow.articles.list(),
            lambda: uow.kb_log.record_shown([]),
            lambda: uow.kb_log.shown(),
            lambda: uow.assignments.cursor("tier1"),
            lambda: uow.assignments.last_assigned(["ana"]),
            lambda: uow.assignments.record_assigned("ana", T0),
            uow.commit,
        ]
        for call in calls:
            with pytest.raises(StorageError):
                call()
        with store.unit_of_work(self.tenant) as fresh:
            with pytest.raises(CaseNotFound):
                fresh.cases.get("case-00001")
            assert fresh.articles.list() == []

    def test_close_is_idempotent(self, store: Store) -> None:
        """close() may be called more than once."""
        store.close()
        store.close()

    # -- tenancy ------------------------------------------------------------------------------

    def test_tenants_do_not_see_each_others_cases(self, store: Store) -> None:
        """A tenant-A case is invisible from B: get, number, query, counts, outbox."""
        _add(store, self.tenant, make_case(self.tenant, 1, status="open", assignee="ana"))
        with store.unit_of_work(self.other_tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00001")
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-0001")
            assert uow.cases.query(CaseQuery()).items == ()
            assert uow.cases.count_by_status() == {}
            assert uow.cases.open_counts(["ana"]) == {"ana": 0}
            assert uow.outbox.pending() == []

    def test_same_number_and_id_in_two_tenants(self, store: Store) -> None:
        """Numbers (and ids) are unique per tenant, not globally."""
        _add(store, self.tenant, make_case(self.tenant, 1, subject="Acme's"))
        _add(store, self.other_tenant, make_case(self.other_tenant, 1, subject="Globex's"))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get_by_number("CASE-0001").subject == "Acme's"
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.cases.get("case-00001").subject == "Globex's"

    def test_cannot_write_another_tenants_case(self, store: Store) -> None:
        """Adding or saving a tenant-A case through B's unit of work raises and writes
        nothing."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
        loaded.add_comment("sneaky", audience="internal", actor=AGENT, at=T0)
        with pytest.raises(CaselibError):
            _save(store, self.other_tenant, loaded, 1)
        with pytest.raises(CaselibError):
            _add(store, self.other_tenant, make_case(self.tenant, 2))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get(case.id).version == 1
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00002")
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.cases.query(CaseQuery()).items == ()

    def test_tenants_do_not_share_articles_logs_cursors(self, store: Store) -> None:
        """Articles, KB logs, round-robin cursors and last-assigned times are per tenant."""
        with store.unit_of_work(self.tenant) as uow:
            uow.articles.put(_article("a1"))
            uow.kb_log.record_shown([SuggestionShown("c", "a1", 1, 0.5, T0, "ana")])
            uow.kb_log.record_opened(Deflection("c", "a1", "ana", T0, 1, 0.5))
            uow.kb_log.record_resolved(ResolvedByArticle("c", "a1", T0))
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            uow.assignments.record_assigned("ana", T0)
            uow.commit()
        with store.unit_of_work(self.other_tenant) as uow:
            with pytest.raises(ArticleNotFound):
                uow.articles.get("a1")
            with pytest.raises(ArticleNotFound):
                uow.articles.remove("a1")
            assert uow.articles.list() == []
            assert uow.kb_log.shown() == []
            assert uow.kb_log.opened() == []
            assert uow.kb_log.resolved() == []
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.last_assigned(["ana"]) == {}

    def test_outbox_is_per_tenant(self, store: Store) -> None:
        """A relay for tenant B neither sees nor can deliver tenant A's messages."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            keys = [m.key for m in uow.outbox.pending()]
        assert keys
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.outbox.pending() == []
            uow.outbox.mark_delivered(keys)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert [m.key for m in uow.outbox.pending()] == keys
