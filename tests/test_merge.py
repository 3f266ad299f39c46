"""Merge, unmerge and split: the survivor's merged reading, the merge journal, exact undo,
metrics and SLA leaving merged cases out, and a stateful property test over random histories."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from caselib import (
    Actor,
    Audience,
    Case,
    CaseMerged,
    InvalidInput,
    MemoryStore,
    ServiceDesk,
)
from caselib.cases.merge import merge_source, unmerge_source
from caselib.desk.relations import survivor_of
from caselib.ports import Store
from caselib.sla import derive_pauses
from caselib.storage.codec import case_to_document, entry_to_dict
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from caselib.testing.conformance import assert_restored
from caselib.vocab import StatusCategory
from pg import DSN, drop_schema, fresh_schema, require_server

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
CUSTOMER = Actor.customer("c-1")


def _fields(case: Case) -> dict[str, Any]:
    """The case's stored document without the parts every save moves."""
    doc = case_to_document(case)
    for key in ("version", "updated_at"):
        doc.pop(key, None)
    return doc


def _desk(store: Store, clock: FrozenClock | None = None) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=clock or FrozenClock(T0))


class TestMerge:
    """Merge and unmerge through the desk on every store."""

    def test_merge_then_unmerge(self, make_store: Callable[[], Store]) -> None:
        """The merged reading, refusals on the source, metrics, then an exact undo."""
        clock = FrozenClock(T0)
        desk = _desk(make_store(), clock)
        src = desk.create_case(subject="Printer jam", actor=ANA, links={"contact": "c-1"})
        desk.add_comment(src.id, "Which tray?", actor=ANA, audience="public")
        desk.add_comment(src.id, "SECRET: tray 2 is broken", actor=ANA, audience="internal")
        survivor = desk.create_case(subject="Printer jams again", actor=ANA,
                                    links={"contact": "c-1"})
        clock.advance(timedelta(minutes=5))
        before_src = desk.get_case(src.id, actor=ANA)
        before_surv = desk.get_case(survivor.id, actor=ANA)
        cards_before = desk.cards(actor=ANA).total
        merged = desk.merge(src.id, survivor.id, actor=ANA)
        assert merged.status == "merged" and merged.status_category.value == "merged"
        assert desk.get_case(survivor.id, actor=ANA).version == before_surv.version
        assert [k.role_for(survivor.id) for k in desk.case_links(survivor.id, actor=ANA)] \
            == ["merged_from"]
        reading = desk.merged_timeline(survivor.id, actor=ANA)
        assert {r.origin for r in reading} == {None, src.number}
        assert any(r.entry.body.startswith("SECRET") for r in reading)
        public = desk.merged_timeline(survivor.id, actor=CUSTOMER)
        assert public and all(r.entry.audience is Audience.PUBLIC for r in public)
        with pytest.raises(CaseMerged, match=survivor.number):
            desk.add_comment(src.id, "late reply", actor=ANA)
        assert desk.allowed_transitions(merged, actor=ANA) == ()
        with desk.store.unit_of_work("acme") as uow:
            assert survivor_of(uow, src.id) == survivor.id
        # a reply addressed to the merged source lands on the survivor
        landed = desk.customer_reply(src.id, "Still jammed", actor=CUSTOMER)
        assert landed.id == survivor.id and landed.timeline[-1].body == "Still jammed"
        before_surv = desk.get_case(survivor.id, actor=ANA)
        assert desk.cards(actor=ANA).total == cards_before - 1
        card = desk.scorecard(start=T0, end=T0 + timedelta(days=1), actor=ANA)
        assert card.total.created == 1
        with pytest.raises(CaseMerged):
            desk.merge(survivor.id, src.id, actor=ANA)
        back = desk.unmerge(src.id, actor=ANA)
        assert_restored(before_src, back)
        after_surv = desk.get_case(survivor.id, actor=ANA)
        assert (_fields(after_surv), after_surv.version) == (_fields(before_surv),
                                                             before_surv.version)
        assert desk.case_links(src.id, actor=ANA) == []
        assert desk.cards(actor=ANA).total == cards_before
        card = desk.scorecard(start=T0, end=T0 + timedelta(days=1), actor=ANA)
        assert card.total.created == 2 and card.total.reopened == 0

    def test_split_keeps_the_customer(self, make_store: Callable[[], Store]) -> None:
        """A split copies the chosen comments with their author, time and audience."""
        desk = _desk(make_store())
        src = desk.create_case(subject="Two problems", actor=ANA,
                               links={"contact": "c-1", "account": "acc-1"})
        src = desk.add_comment(src.id, "Also the scanner", actor=CUSTOMER, audience="public")
        src = desk.add_comment(src.id, "scanner: firmware", actor=ANA, audience="internal")
        seqs = [e.seq for e in src.timeline if e.is_comment]
        new = desk.split(src.id, seqs, subject="Scanner", actor=ANA)
        assert (new.links.contact, new.links.account) == ("c-1", "acc-1")
        copies = [e for e in new.timeline if e.is_comment]
        assert [(e.actor, e.audience, e.body, e.data["from"]) for e in copies] == [
            ("c-1", Audience.PUBLIC, "Also the scanner", src.number),
            ("ana", Audience.INTERNAL, "scanner: firmware", src.number)]
        assert [k.role_for(new.id) for k in desk.case_links(new.id, actor=ANA)] \
            == ["split_from"]
        with pytest.raises(InvalidInput):
            desk.split(src.id, [1], subject="x", actor=ANA)  # the "created" entry


class TestMergeClock:
    """The SLA clocks of a merged source (pure domain, no store)."""

    def test_an_undone_merge_leaves_no_pause(self) -> None:
        """Paused while merged; after the unmerge, the pauses of a case never merged (the
        same case object, so the incremental fold is checked as well as a fresh one)."""
        source = Case.open(id="c-1", tenant="acme", number="CASE-0001", subject="Jam",
                           status="open", status_category=StatusCategory.OPEN, workflow="default",
                           actor=ANA, at=T0)
        survivor = Case.open(id="c-2", tenant="acme", number="CASE-0002", subject="Jam",
                             status="open", status_category=StatusCategory.OPEN, workflow="default",
                             actor=ANA, at=T0)
        assert derive_pauses(source) == []
        merge_source(source, survivor, actor=ANA, at=T0 + timedelta(hours=1))
        assert [(p.start, p.end) for p in derive_pauses(source)] \
            == [(T0 + timedelta(hours=1), None)]
        unmerge_source(source, actor=ANA, at=T0 + timedelta(hours=6))
        assert derive_pauses(source) == []
        source.memo.clear()
        assert derive_pauses(source) == []
        # a second merge, still open, pauses again from its own start
        merge_source(source, survivor, actor=ANA, at=T0 + timedelta(hours=7))
        assert [(p.start, p.end) for p in derive_pauses(source)] \
            == [(T0 + timedelta(hours=7), None)]


class MergeMachine(RuleBasedStateMachine):
    """Random create / link / merge / unmerge / split / comment / resolve / reopen."""

    def make_store(self) -> Store:
        return MemoryStore()

    def __init__(self) -> None:
        super().__init__()
        self.clock = FrozenClock(T0)
        self.store = self.make_store()
        self.desk = _desk(self.store, self.clock)
        self.ids: list[str] = []
        self.seen: dict[str, list[tuple[int, str]]] = {}  # case → its entries so far

    def _get(self, i: int) -> Case:
        return self.desk.get_case(self.ids[i % len(self.ids)], actor=ANA)

    @rule(public=st.booleans(), tags=st.lists(st.sampled_from(["vip", "eu"]), unique=True),
          custom=st.dictionaries(st.sampled_from(["tier", "seats"]), st.integers(0, 9)))
    def create(self, public: bool, tags: list[str], custom: dict[str, int]) -> None:
        case = self.desk.create_case(subject=f"Case {len(self.ids)}", actor=ANA,
                                     links={"contact": "c-1"}, tags=tags, custom=custom)
        self.ids.append(case.id)
        if public:
            self.desk.add_comment(case.id, "hello", actor=CUSTOMER, audience="public")

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50), internal=st.booleans())
    def comment(self, i: int, internal: bool) -> None:
        case = self._get(i)
        if case.status == "merged":
            with pytest.raises(CaseMerged):
                self.desk.add_comment(case.id, "x", actor=ANA)
            return
        self.desk.add_comment(case.id, "secret" if internal else "reply", actor=ANA,
                              audience="internal" if internal else "public")

    @precondition(lambda self: len(self.ids) >= 2)
    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def link(self, i: int, j: int) -> None:
        a, b = self._get(i), self._get(j)
        if a.id == b.id:
            return
        if "merged" in (a.status, b.status):  # links go to the survivor
            with pytest.raises(CaseMerged):
                self.desk.link_cases(a.id, "related", b.id, actor=ANA)
            return
        self.desk.link_cases(a.id, "related", b.id, actor=ANA)

    @precondition(lambda self: len(self.ids) >= 2)
    @rule(i=st.integers(0, 50), j=st.integers(0, 50),
          minutes=st.sampled_from([0, 0, 45, 600, 4000]))
    def merge_then_unmerge(self, i: int, j: int, minutes: int) -> None:
        a, b = self._get(i), self._get(j)
        if a.id == b.id or "merged" in (a.status, b.status):
            return
        links = {c: {k.key for k in self.desk.case_links(c, actor=ANA)} for c in (a.id, b.id)}
        self.desk.merge(a.id, b.id, actor=ANA)
        self.clock.advance(timedelta(minutes=minutes))  # however long it stayed merged
        back = self.desk.unmerge(a.id, actor=ANA)
        # every field (tags, custom fields, SLA pauses and due times …) and every entry as
        # it was, the merge's system audit entries the only additions
        # SLA target states read the clock: compared when ``a`` was saved at this instant
        same_instant = a.updated_at == self.clock.now()
        for got in (back, self.desk.get_case(a.id, actor=ANA)):
            assert_restored(a, got, same_instant=same_instant)
        after = self._get(j)  # the survivor was never written
        assert (_fields(after), after.version) == (_fields(b), b.version)
        assert [entry_to_dict(e) for e in after.timeline] \
            == [entry_to_dict(e) for e in b.timeline]
        assert {c: {k.key for k in self.desk.case_links(c, actor=ANA)} for c in links} \
            == links

    @precondition(lambda self: len(self.ids) >= 2)
    @rule(i=st.integers(0, 50), j=st.integers(0, 50))
    def merge(self, i: int, j: int) -> None:
        a, b = self._get(i), self._get(j)
        if a.id == b.id or "merged" in (a.status, b.status):
            return
        self.desk.merge(a.id, b.id, actor=ANA)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50))
    def unmerge(self, i: int) -> None:
        case = self._get(i)
        if case.status == "merged":
            self.desk.unmerge(case.id, actor=ANA)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50))
    def split(self, i: int) -> None:
        case = self._get(i)
        seqs = [e.seq for e in case.timeline if e.is_comment]
        if case.status == "merged" or not seqs:
            return
        new = self.desk.split(case.id, seqs[-1:], subject="Split", actor=ANA)
        self.ids.append(new.id)

    @precondition(lambda self: self.ids)
    @rule(i=st.integers(0, 50))
    def resolve_or_reopen(self, i: int) -> None:
        case = self._get(i)
        if case.status == "merged":
            return
        if case.status == "resolved":
            self.desk.reopen(case.id, actor=ANA, reason="again")
            return
        for to in ("open", "in_progress", "pending_customer"):
            if to in self.desk.allowed_transitions(self._get(i), actor=ANA):
                self.desk.transition(case.id, to, actor=ANA)
        self.desk.resolve(case.id, "Fixed", actor=ANA)

    @invariant()
    def nothing_lost_or_duplicated(self) -> None:
        for case_id in self.ids:
            now = [(e.seq, e.kind) for e in self.desk.get_case(case_id, actor=ANA).timeline]
            old = self.seen.get(case_id, [])
            assert now[:len(old)] == old  # append-only: no entry lost or rewritten
            assert len({s for s, _ in now}) == len(now)
            self.seen[case_id] = now
        # every merged reading holds each entry of each case once
        for case_id in self.ids:
            reading = self.desk.merged_timeline(case_id, actor=ANA)
            keys = [(r.origin, r.entry.seq) for r in reading]
            assert len(keys) == len(set(keys))

    @invariant()
    def customers_see_public_only(self) -> None:
        for case_id in self.ids:
            for r in self.desk.merged_timeline(case_id, actor=CUSTOMER):
                assert r.entry.audience is Audience.PUBLIC

    @invariant()
    def metrics_skip_merged(self) -> None:
        cases = [self.desk.get_case(i, actor=ANA) for i in self.ids]
        alive = [c for c in cases if c.status != "merged"]
        assert self.desk.cards(actor=ANA).total == len(alive)
        card = self.desk.scorecard(start=T0 - timedelta(days=1),
                                   end=self.clock.now() + timedelta(days=1), actor=ANA)
        assert card.total.created == len(alive)


    def teardown(self) -> None:
        self.store.close()


class SqliteMergeMachine(MergeMachine):
    """The same histories on SQLite (its SQL metrics and link table)."""

    def make_store(self) -> Store:
        self._dir = tempfile.TemporaryDirectory()
        return SqliteStore(Path(self._dir.name) / "cases.db")

    def teardown(self) -> None:
        super().teardown()
        self._dir.cleanup()


class PostgresMergeMachine(MergeMachine):
    """The same histories on PostgreSQL (a fresh schema per history)."""

    def make_store(self) -> Store:
        require_server()
        from caselib.storage.postgres import PostgresStore

        self._schema = fresh_schema()
        return PostgresStore(DSN, schema=self._schema)

    def teardown(self) -> None:
        super().teardown()
        drop_schema(self._schema)


TestMergeMachine = MergeMachine.TestCase
TestMergeMachine.settings = settings(max_examples=25, stateful_step_count=15, deadline=None)
TestSqliteMergeMachine = SqliteMergeMachine.TestCase
TestSqliteMergeMachine.settings = settings(max_examples=10, stateful_step_count=12,
                                           deadline=None)
TestPostgresMergeMachine = PostgresMergeMachine.TestCase
TestPostgresMergeMachine.settings = settings(max_examples=5, stateful_step_count=10,
                                             deadline=None)
