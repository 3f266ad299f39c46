"""Typed links between cases through the desk: both ends, the parent gate, the child_of
filter, tenancy, and the source → survivor lookup mail ingest calls."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from caselib import (
    Actor,
    CaseLink,
    CaseNotFound,
    GateRequired,
    InvalidInput,
    LinkKind,
    ServiceDesk,
    TenantSettings,
    UnknownValue,
)
from caselib.desk.relations import survivor_of
from caselib.ports import Store
from caselib.testing import FrozenClock, RecordingSink

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AGENT = Actor.agent("ana")
CUSTOMER = Actor.customer("c-1")


def _desk(store: Store, **settings: object) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0),
                       settings=TenantSettings(**settings))  # type: ignore[arg-type]


def _resolve(desk: ServiceDesk, case_id: str) -> None:
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case_id, to, actor=AGENT)
    desk.resolve(case_id, "Done", actor=AGENT)


class TestLinks:
    """Links through the desk on every store."""

    def test_link_and_unlink_publish_events(self, make_store: Callable[[], Store]) -> None:
        """case.linked / case.unlinked reach the outbox once per end, each read from its own
        case; linking twice or unlinking nothing publishes nothing."""
        desk = _desk(make_store())
        parent = desk.create_case(subject="Office move", actor=AGENT)
        child = desk.create_case(subject="Move printers", actor=AGENT)
        desk.dispatch_events(RecordingSink())  # the created events out of the way
        desk.link_cases(parent.id, "parent_of", child.id, actor=AGENT)
        desk.link_cases(parent.id, "parent_of", child.id, actor=AGENT)
        sink = RecordingSink()
        desk.dispatch_events(sink)
        seen = sorted((m.case_id, m.type, m.payload["role"], m.payload["other"])
                      for m in sink.messages)
        assert seen == sorted([(parent.id, "case.linked", "parent_of", child.id),
                               (child.id, "case.linked", "child_of", parent.id)])
        assert all((m.payload["source"], m.payload["kind"], m.payload["target"], m.payload["actor"])
                   == (parent.id, "parent_of", child.id, "ana") for m in sink.messages)
        assert desk.unlink_cases(parent.id, "parent_of", child.id, actor=AGENT)
        assert not desk.unlink_cases(parent.id, "parent_of", child.id, actor=AGENT)
        sink = RecordingSink()
        desk.dispatch_events(sink)
        assert sorted((m.case_id, m.type) for m in sink.messages) == sorted(
            [(parent.id, "case.unlinked"), (child.id, "case.unlinked")])

    def test_both_ends_list_the_link(self, make_store: Callable[[], Store]) -> None:
        """The parent reads parent_of, the child child_of; each gets one system entry."""
        desk = _desk(make_store())
        parent = desk.create_case(subject="Office move", actor=AGENT)
        child = desk.create_case(subject="Move printers", actor=AGENT)
        link = desk.link_cases(parent.id, "parent_of", child.id, actor=AGENT)
        assert link.kind is LinkKind.PARENT_OF and link.created_by == "ana"
        assert desk.case_links(parent.id, actor=AGENT) == [link]
        assert [k.role_for(child.id) for k in desk.case_links(child.id, actor=AGENT)] \
            == ["child_of"]
        entry = desk.get_case(child.id, actor=AGENT).timeline[-1]
        assert entry.kind == "linked" and entry.data["role"] == "child_of"
        assert entry.data["number"] == parent.number
        # linking twice is linking once (no second entry)
        stamp = desk.get_case(child.id, actor=AGENT).version
        again = desk.link_cases(parent.id, LinkKind.PARENT_OF, child.id, actor=AGENT)
        assert again == link
        assert desk.get_case(child.id, actor=AGENT).version == stamp
        assert [s.id for s in desk.find_cases(child_of=parent.id, actor=AGENT).items] \
            == [child.id]
        assert desk.count_cases(child_of=parent.id, actor=AGENT) == 1
        assert desk.unlink_cases(parent.id, "parent_of", child.id, actor=AGENT)
        assert not desk.unlink_cases(parent.id, "parent_of", child.id, actor=AGENT)
        assert desk.case_links(parent.id, actor=AGENT) == []
        assert desk.get_case(parent.id, actor=AGENT).timeline[-1].kind == "unlinked"

    def test_parent_gate(self, make_store: Callable[[], Store]) -> None:
        """With children_block_parent, the parent resolves only once its children are done."""
        desk = _desk(make_store(), children_block_parent=True)
        parent = desk.create_case(subject="Office move", actor=AGENT)
        kids = [desk.create_case(subject=f"Task {i}", actor=AGENT) for i in range(2)]
        for kid in kids:
            desk.link_cases(parent.id, "parent_of", kid.id, actor=AGENT)
        for to in ("open", "in_progress", "pending_customer"):
            desk.transition(parent.id, to, actor=AGENT)
        before = desk.get_case(parent.id, actor=AGENT)
        with pytest.raises(GateRequired) as refused:
            desk.resolve(parent.id, "Done", actor=AGENT)
        assert refused.value.gate == "children"
        assert kids[0].number in str(refused.value) and kids[1].number in str(refused.value)
        after = desk.get_case(parent.id, actor=AGENT)  # nothing written
        assert (after.version, after.status, len(after.timeline)) \
            == (before.version, before.status, len(before.timeline))
        _resolve(desk, kids[0].id)
        with pytest.raises(GateRequired, match=kids[1].number):
            desk.transition(parent.id, "resolved", actor=AGENT, note="Done")
        _resolve(desk, kids[1].id)
        assert desk.resolve(parent.id, "Done", actor=AGENT).status == "resolved"


class TestLinkInput:
    """Bad links are refused and write nothing (memory store)."""

    def test_refusals(self) -> None:
        """Self-links, unknown kinds, cycles and other tenants' cases."""
        from caselib import MemoryStore

        store = MemoryStore()
        desk = _desk(store)
        a = desk.create_case(subject="A", actor=AGENT)
        b = desk.create_case(subject="B", actor=AGENT)
        with pytest.raises(InvalidInput, match="itself"):
            desk.link_cases(a.id, "related", a.id, actor=AGENT)
        with pytest.raises(UnknownValue):
            desk.link_cases(a.id, "cousin_of", b.id, actor=AGENT)
        desk.link_cases(a.id, "parent_of", b.id, actor=AGENT)
        with pytest.raises(InvalidInput, match="ancestor"):
            desk.link_cases(b.id, "parent_of", a.id, actor=AGENT)
        other = desk.for_tenant("globex")
        c = other.create_case(subject="C", actor=AGENT)
        with pytest.raises(CaseNotFound):
            desk.link_cases(a.id, "related", c.id, actor=AGENT)
        assert other.case_links(c.id, actor=AGENT) == []
        assert len(desk.case_links(a.id, actor=AGENT)) == 1

    def test_a_merged_case_takes_no_link_change(self, make_store: Callable[[], Store]
                                                ) -> None:
        """Links go to the survivor: linking a merged case is CaseMerged, unlinking its merge
        (which would leave it merged with no pointer, so its mail landed on the closed case)
        is InvalidInput, and neither writes anything; unmerge still undoes the merge."""
        from caselib import CaseMerged

        store = make_store()
        desk = _desk(store)
        a, b, c = (desk.create_case(subject=s, actor=AGENT) for s in "ABC")
        desk.merge(a.id, b.id, actor=AGENT)
        before = desk.get_case(a.id, actor=AGENT)
        desk.dispatch_events(RecordingSink())
        refused: list[tuple[Callable[[], object], type[Exception]]] = [
            (lambda: desk.unlink_cases(a.id, "merged_into", b.id, actor=AGENT), InvalidInput),
            (lambda: desk.link_cases(a.id, "related", c.id, actor=AGENT), CaseMerged),
            (lambda: desk.link_cases(c.id, "parent_of", a.id, actor=AGENT), CaseMerged)]
        for call, error in refused:
            with pytest.raises(error):
                call()
        sink = RecordingSink()
        desk.dispatch_events(sink)
        assert sink.messages == []
        assert desk.get_case(a.id, actor=AGENT).version == before.version
        assert [k.key for k in desk.case_links(c.id, actor=AGENT)] == []
        with store.unit_of_work("acme") as uow:
            assert survivor_of(uow, a.id) == b.id
        desk.unmerge(a.id, actor=AGENT)
        with store.unit_of_work("acme") as uow:
            assert survivor_of(uow, a.id) == a.id

    def test_merged_into_is_made_by_merge_only(self, make_store: Callable[[], Store]
                                               ) -> None:
        """Linking or unlinking ``merged_into`` by hand is InvalidInput and writes nothing:
        the case would stay open while its mail went to the other case, with no journal."""
        store = make_store()
        desk = _desk(store)
        a, b = (desk.create_case(subject=s, actor=AGENT) for s in "AB")
        desk.dispatch_events(RecordingSink())
        for call in (lambda: desk.link_cases(a.id, "merged_into", b.id, actor=AGENT),
                     lambda: desk.link_cases(a.id, LinkKind.MERGED_INTO, b.id, actor=AGENT),
                     lambda: desk.unlink_cases(a.id, "merged_into", b.id, actor=AGENT)):
            with pytest.raises(InvalidInput, match="merge"):
                call()
        sink = RecordingSink()
        desk.dispatch_events(sink)
        assert sink.messages == []
        assert desk.case_links(a.id, actor=AGENT) == []
        assert desk.get_case(a.id, actor=AGENT).version == a.version
        with store.unit_of_work("acme") as uow:
            assert survivor_of(uow, a.id) == a.id

    def test_customer_sees_only_links_to_cases_it_reaches(self) -> None:
        """A customer's listing leaves out links to cases it may not read."""
        from caselib import MemoryStore

        desk = _desk(MemoryStore())
        mine = desk.create_case(subject="Mine", actor=AGENT, links={"contact": "c-1"})
        theirs = desk.create_case(subject="Theirs", actor=AGENT, links={"contact": "c-2"})
        also = desk.create_case(subject="Also mine", actor=AGENT, links={"contact": "c-1"})
        desk.link_cases(mine.id, "related", theirs.id, actor=AGENT)
        desk.link_cases(mine.id, "follow_up_of", also.id, actor=AGENT)
        seen = desk.case_links(mine.id, actor=CUSTOMER)
        assert [k.other(mine.id) for k in seen] == [also.id]


class TestSurvivor:
    """Where replies to a merged case land (the lookup mail ingest calls)."""

    def test_follows_merged_into(self, make_store: Callable[[], Store]) -> None:
        """A case merged into another, itself merged on: replies land on the last."""
        store = make_store()
        desk = _desk(store)
        a, b, c = (desk.create_case(subject=s, actor=AGENT) for s in "ABC")
        with store.unit_of_work("acme") as uow:
            assert survivor_of(uow, a.id) == a.id
        desk.link_cases(a.id, "related", c.id, actor=AGENT)
        desk.merge(a.id, b.id, actor=AGENT)
        desk.merge(b.id, c.id, actor=AGENT)
        with store.unit_of_work("acme") as uow:
            assert survivor_of(uow, a.id) == c.id
            assert survivor_of(uow, b.id) == c.id
            assert survivor_of(uow, c.id) == c.id

    def test_a_link_value_is_plain(self) -> None:
        """CaseLink.make orders a related link's ends; equal links compare equal."""
        one = CaseLink.make("b", "related", "a", at=T0)
        assert (one.source, one.target) == ("a", "b")
        assert one == CaseLink.make("a", LinkKind.RELATED, "b", at=T0, by="x")
        assert one.role_for("b") == "related"
        assert LinkKind.SPLIT_FROM.inverse == "split_into"
