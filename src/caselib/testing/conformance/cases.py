"""The case repository's contract: add, get, save, versions and conflicts; case numbers.

Queries and paging over the same repository are in
:mod:`caselib.testing.conformance.queries`, so an adapter's read side can be checked alone.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from caselib.cases import SlaTarget
from caselib.errors import CaseNotFound, ConcurrencyConflict, DuplicateKey
from caselib.ports import CaseQuery, CaseSummary, QueryOrder, Store, units_cross_threads
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import (
    AGENT,
    CUSTOMER,
    ORDERS,
    T0,
    _add,
    _all_pages,
    _assert_translated,
    _rich_case,
    _save,
    _save_commit,
    _with_after,
    assert_same_case,
    make_case,
)
from caselib.vocab import Audience, Priority, StatusCategory

__all__ = ["CaseNumberContract", "CaseRepositoryContract"]


class CaseRepositoryContract(StoreFixtures):
    """The :class:`~caselib.ports.CaseRepository` contract: cases round-trip whole, saves
    append and bump the version, stale saves conflict. Not named ``Test…``."""

    # -- cases: add / get -------------------------------------------------------------------

    def test_add_then_get_round_trips_every_field(self, store: Store) -> None:
        """Every field, link, tag, custom value, attachment, resolution, CSAT, pause, SLA target
        and timeline entry comes back as it was added."""
        case = _rich_case(self.tenant)
        original = case.clone()
        _add(store, self.tenant, case)
        original.mark_saved(1)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            by_number = uow.cases.get_by_number(case.number)
        assert_same_case(loaded, original)
        assert_same_case(by_number, original)
        assert loaded.next_due_at == T0 + timedelta(hours=8)
        assert loaded.breached
        assert loaded.created_at.tzinfo is not None

    def test_get_many_returns_existing_cases_in_the_order_asked(self, store: Store) -> None:
        """``get_many`` returns whole cases in the order asked, each once, without unknown
        ids or another tenant's cases, and sees the unit of work's own writes."""
        rich = _rich_case(self.tenant)
        _add(store, self.tenant, rich)
        _add(store, self.tenant, make_case(self.tenant, 2))
        _add(store, self.other_tenant, make_case(self.other_tenant, 3))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get_many([]) == []
            uow.cases.add(make_case(self.tenant, 4))
            found = uow.cases.get_many(
                ["case-00004", "nope", "case-00002", rich.id, "case-00003", "case-00002"])
            assert [c.id for c in found] == ["case-00004", "case-00002", rich.id]
            assert_same_case(found[2], uow.cases.get(rich.id))
            assert len(found[2].timeline) == len(rich.timeline)
            found[1].tags = frozenset({"changed"})  # a copy: the store is not touched
            assert uow.cases.get("case-00002").tags == frozenset()

    @pytest.mark.parametrize("order", ORDERS)
    def test_query_cases_loads_what_query_lists(self, store: Store, order: QueryOrder
                                                ) -> None:
        """``query_cases`` pages exactly like ``query`` (same cases in the same order, the
        same cursors) with each case loaded whole, and sees the unit of work's own writes."""
        rich = _rich_case(self.tenant)
        _add(store, self.tenant, rich)
        for n in range(2, 9):
            case = make_case(self.tenant, n)
            case.priority = list(Priority)[n % len(Priority)]
            _add(store, self.tenant, case)
        _add(store, self.other_tenant, make_case(self.other_tenant, 20))
        with store.unit_of_work(self.tenant) as uow:
            changed = uow.cases.get("case-00003")
            changed.tags = frozenset({"seen-in-uow"})
            uow.cases.save(changed, changed.version)
            query = CaseQuery(order=order, limit=3)
            cases_of = getattr(uow.cases, "query_cases", None)
            if cases_of is None:
                pytest.skip("this adapter has no query_cases (the desk falls back to "
                            "caselib.ports.query_each)")
            listed, loaded, pages = _all_pages(uow, query), [], 0
            page = cases_of(query)
            while True:
                pages += 1
                expected = uow.cases.query(query)
                assert page.next_cursor == expected.next_cursor
                assert [c.id for c in page.cases] == [s.id for s in expected.items]
                loaded.extend(page.cases)
                if page.next_cursor is None:
                    break
                query = _with_after(query, page.next_cursor)
                page = cases_of(query)
            assert [c.id for c in loaded] == [s.id for s in listed] and pages == 3
            for case in loaded:
                assert_same_case(case, uow.cases.get(case.id))
            assert next(c for c in loaded if c.id == changed.id).tags == changed.tags
            (due,) = cases_of(CaseQuery(due_before=T0 + timedelta(days=1), order="due")).cases
            assert due.id == rich.id and len(due.timeline) == len(rich.timeline)

    def test_summaries_follow_every_save(self, store: Store) -> None:
        """The list-view columns a query returns match the case after each kind of save: add
        then save in one unit of work, two saves in one unit of work, a save of a case read
        in an earlier unit of work, and tags, owner, status, priority and SLA changes."""
        def check(case_id: str) -> None:
            with store.unit_of_work(self.tenant) as uow:
                case = uow.cases.get(case_id)
                (summary,) = [s for s in _all_pages(uow, CaseQuery(limit=50))
                              if s.id == case_id]
            assert summary == CaseSummary.of(case)

        with store.unit_of_work(self.tenant) as uow:
            case = make_case(self.tenant, 1, team="support")
            uow.cases.add(case)
            case.change_priority("high", actor=AGENT, at=T0 + timedelta(minutes=1))
            uow.cases.save(case, 1)
            uow.commit()
        check(case.id)
        with store.unit_of_work(self.tenant) as uow:
            case = uow.cases.get(case.id)
            case.assign(assignee="bo", team="billing", actor=AGENT, at=T0 + timedelta(hours=1))
            uow.cases.save(case, 2)
            case.tags = frozenset({"vip", "emea"})
            case.sla_targets = [SlaTarget("resolution", T0 + timedelta(hours=9), "running")]
            uow.cases.save(case, 3)
            uow.commit()
        check(case.id)
        with store.unit_of_work(self.tenant) as uow:
            earlier = uow.cases.get(case.id)
        earlier.move_to("resolved", StatusCategory.RESOLVED, actor=AGENT,
                        at=T0 + timedelta(hours=2), note="fixed")
        earlier.sla_targets = []
        _save(store, self.tenant, earlier, 4)
        check(case.id)

    def test_add_sets_version_one_and_marks_saved(self, store: Store) -> None:
        """``add`` sets version 1, clears pending events and unsaved entries."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        assert case.version == 1
        assert case.unsaved_entries() == []
        assert case.pending_events == ()
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
        assert loaded.version == 1
        assert loaded.unsaved_entries() == []
        assert loaded.pending_events == ()

    def test_loaded_case_is_a_copy(self, store: Store) -> None:
        """Mutating a loaded case without saving leaves the store unchanged."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            case = uow.cases.get("case-00001")
            case.add_comment("draft", audience="internal", actor=AGENT, at=T0)
            case.tags = frozenset({"changed"})
        with store.unit_of_work(self.tenant) as uow:
            again = uow.cases.get("case-00001")
        assert len(again.timeline) == 1
        assert again.tags == frozenset()

    def test_missing_case_raises_case_not_found(self, store: Store) -> None:
        """``get``, ``get_by_number`` and ``save`` of an unknown case raise CaseNotFound."""
        with store.unit_of_work(self.tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("nope")
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-9999")
            ghost = make_case(self.tenant, 7)
            ghost.mark_saved(1)
            with pytest.raises(CaseNotFound):
                uow.cases.save(ghost, 1)

    def test_duplicate_id_raises_duplicate_key(self, store: Store) -> None:
        """A second case with an existing id is refused with DuplicateKey."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 2, case_id="case-00001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get("case-00001").number == "CASE-0001"
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-0002")

    def test_duplicate_number_raises_duplicate_key(self, store: Store) -> None:
        """A case number is unique per tenant; the error is chained to any driver error."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 2, number="CASE-0001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow, pytest.raises(CaseNotFound):
            uow.cases.get("case-00002")

    def test_duplicate_number_within_one_unit_of_work(self, store: Store) -> None:
        """Two new cases with one number in the same unit of work: DuplicateKey, nothing
        written."""
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 1),
                 make_case(self.tenant, 2, number="CASE-0001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.query(CaseQuery()).items == ()
            assert uow.outbox.pending() == []

    # -- cases: save ------------------------------------------------------------------------

    def test_save_appends_timeline_and_bumps_version(self, store: Store) -> None:
        """Each save appends only the new entries and sets version = expected + 1."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        for i in range(3):
            with store.unit_of_work(self.tenant) as uow:
                loaded = uow.cases.get(case.id)
                loaded.add_comment(f"update {i}", audience="public", actor=AGENT,
                                   at=T0 + timedelta(minutes=i + 1))
                loaded.change_priority("urgent" if i % 2 == 0 else "low", actor=AGENT,
                                       at=T0 + timedelta(minutes=i + 1))
                uow.cases.save(loaded, loaded.version)
                uow.commit()
            assert loaded.version == i + 2
            assert loaded.unsaved_entries() == []
        with store.unit_of_work(self.tenant) as uow:
            final = uow.cases.get(case.id)
        assert final.version == 4
        assert [e.seq for e in final.timeline] == list(range(1, 8))
        assert [e.body for e in final.timeline if e.kind == "reply"] == [
            "update 0", "update 1", "update 2"]
        assert final.priority is Priority.URGENT
        assert final.first_response_at == T0 + timedelta(minutes=1)

    def test_save_writes_changed_columns(self, store: Store) -> None:
        """Fields changed after the first save (tags, custom, links, SLA) are stored."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.update_fields({"tags": ["a", "b"], "custom": {"seats": 3},
                                  "links": {"account": "acc-9"}, "severity": "blocker",
                                  "subject": "Now a new subject"},
                                 actor=AGENT, at=T0 + timedelta(minutes=1))
            loaded.assign(assignee="bo", team="tier2", actor=AGENT,
                          at=T0 + timedelta(minutes=2))
            loaded.sla_targets = [SlaTarget("resolution", T0 + timedelta(hours=4))]
            uow.cases.save(loaded, 1)
            uow.commit()
        expected = loaded.clone()
        with store.unit_of_work(self.tenant) as uow:
            assert_same_case(uow.cases.get(case.id), expected)
            (summary,) = uow.cases.query(CaseQuery()).items
        assert summary == CaseSummary.of(expected)

    def test_redaction_round_trip(self, store: Store) -> None:
        """Redacting a saved comment removes its text in the store and keeps who/when/why."""
        case = make_case(self.tenant, 1)
        case.add_comment("my password is hunter2", audience="public", actor=CUSTOMER, at=T0)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.redact_comment(2, reason="secret", actor=AGENT, at=T0 + timedelta(hours=1))
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            again = uow.cases.get(case.id)
        entry = again.timeline[1]
        assert entry.body == ""
        assert entry.redaction is not None
        assert (entry.redaction.by, entry.redaction.reason) == ("ana", "secret")
        assert entry.redaction.at == T0 + timedelta(hours=1)
        assert entry.audience is Audience.PUBLIC
        assert again.timeline[-1].kind == "redacted"
        assert_same_case(again, loaded)

    def test_stale_save_raises_conflict_and_changes_nothing(self, store: Store) -> None:
        """Saving with an old version raises ConcurrencyConflict; the stored case is intact."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            fresh = uow.cases.get(case.id)
            fresh.add_comment("first", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(fresh, 1)
            uow.commit()
        stale = case  # still at version 1 in memory
        stale.add_comment("second", audience="internal", actor=AGENT, at=T0)
        with pytest.raises(ConcurrencyConflict) as info:
            _save(store, self.tenant, stale, 1)
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
            messages = uow.outbox.pending()
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["first"]
        assert [m.key for m in messages if m.key.startswith(f"{case.id}:3:")] == []

    def test_two_units_of_work_saving_one_version(
        self, store: Store, second_store: Store
    ) -> None:
        """Two units of work load version 1 and both save: exactly one commit succeeds."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            a = first.cases.get(case.id)
            b = second.cases.get(case.id)
            a.add_comment("from first", audience="internal", actor=AGENT, at=T0)
            b.add_comment("from second", audience="internal", actor=AGENT, at=T0)
            first.cases.save(a, 1)
            first.commit()
            with pytest.raises(ConcurrencyConflict):
                _save_commit(second, b, 1)
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["from first"]

    def test_units_declared_to_cross_threads_do(self, store: Store) -> None:
        """A store declaring ``units_cross_threads``: a unit of work opened on this thread
        is saved into and committed on another while a second one reads here."""
        if not units_cross_threads(store):
            pytest.skip("this store keeps each unit of work on the thread that opened it")
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        uow = store.unit_of_work(self.tenant)
        loaded = uow.cases.get(case.id)
        loaded.add_comment("from another thread", audience="internal", actor=AGENT, at=T0)

        errors: list[BaseException] = []
        saved, read = threading.Event(), threading.Event()

        def finish() -> None:
            try:
                with uow:
                    uow.cases.save(loaded, 1)
                    saved.set()
                    read.wait(timeout=30)  # commit only once the other unit of work has read
                    uow.commit()
            except BaseException as err:  # reported below
                errors.append(err)
            finally:
                saved.set()

        worker = threading.Thread(target=finish)
        worker.start()
        assert saved.wait(timeout=30)
        try:
            with store.unit_of_work(self.tenant) as reader:
                assert reader.cases.get(case.id).version == 1  # not committed yet
        finally:
            read.set()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert errors == []
        with store.unit_of_work(self.tenant) as check:
            stored = check.cases.get(case.id)
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["from another thread"]

    def test_racing_threads_one_save_wins(self, store: Store) -> None:
        """Threads that load the same version and save at once: one wins, the rest conflict."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        workers = 4
        barrier = threading.Barrier(workers)
        outcomes: list[str] = []
        lock = threading.Lock()

        def race(i: int) -> None:
            result = "?"
            try:
                with store.unit_of_work(self.tenant) as uow:
                    loaded = uow.cases.get(case.id)
                    loaded.add_comment(f"t{i}", audience="internal", actor=AGENT, at=T0)
                    barrier.wait(timeout=10)
                    uow.cases.save(loaded, 1)
                    uow.commit()
                result = "ok"
            except ConcurrencyConflict:
                result = "conflict"
            except BaseException as err:  # reported below, not swallowed
                result = f"{type(err).__name__}: {err}"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=race, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * (workers - 1) + ["ok"], outcomes
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        assert stored.version == 2
        assert len([e for e in stored.timeline if e.kind == "note"]) == 1


class CaseNumberContract(StoreFixtures):
    """The :class:`~caselib.ports.CaseNumberAllocator` contract. Not named ``Test…``."""

    # -- numbers ------------------------------------------------------------------------------

    def test_numbers_count_per_tenant(self, store: Store) -> None:
        """Numbers start at 1 in each tenant and never repeat, even after a rollback."""
        seen = []
        for _ in range(3):
            with store.unit_of_work(self.tenant) as uow:
                seen.append(uow.numbers.next_number())
                uow.commit()
        assert seen == [1, 2, 3]
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.numbers.next_number() == 1
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            uow.numbers.next_number()
        with store.unit_of_work(self.tenant) as uow:
            a = uow.numbers.next_number()
            b = uow.numbers.next_number()
            uow.commit()
        assert 3 < a < b
