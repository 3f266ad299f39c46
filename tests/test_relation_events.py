"""Merge, unmerge and split publish their own events (``case.merged``, ``case.unmerged``,
``case.split``) through the outbox with the change, refused ones publish nothing, rules can
trigger on them, and ``related_cases`` reads the linked cases' summaries in one batch."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

import caselib
from caselib import (
    Actor,
    CaseMerged,
    CaseNotFound,
    CaseSummary,
    InvalidInput,
    PermissionDenied,
    ServiceDesk,
)
from caselib.ports import Store
from caselib.storage.codec import case_to_document
from caselib.testing import FrozenClock, RecordingSink

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
ADMIN = Actor.system("admin")
CUSTOMER = Actor.customer("c-1")


def _desk(store: Store) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0))


def _drain(desk: ServiceDesk) -> list[tuple[str, str, dict[str, Any]]]:
    """The events published since the last drain: (case id, type, payload)."""
    sink = RecordingSink()
    desk.dispatch_events(sink)
    return [(m.case_id, m.type, dict(m.payload)) for m in sink.messages]


def _pair(desk: ServiceDesk) -> tuple[str, str]:
    src = desk.create_case(subject="Printer jam", actor=ANA, links={"contact": "c-1"}).id
    survivor = desk.create_case(subject="Printer jams again", actor=ANA,
                                links={"contact": "c-1"}).id
    desk.transition(src, "open", actor=ANA)
    _drain(desk)
    return src, survivor


class TestMergeEvents:
    """case.merged / case.unmerged on every store."""

    def test_merge_and_unmerge(self, make_store: Callable[[], Store]) -> None:
        """Each publishes status_changed then its own event, on the source alone, naming
        the survivor."""
        desk = _desk(make_store())
        src, survivor = _pair(desk)
        number = desk.get_case(survivor, actor=ANA).number
        desk.merge(src, survivor, actor=ANA)
        events = _drain(desk)
        assert [(c, t) for c, t, _ in events] == [(src, "case.status_changed"),
                                                  (src, "case.merged")]
        merged = events[1][2]
        assert (merged["survivor"], merged["survivor_number"], merged["previous_status"],
                merged["actor"]) == (survivor, number, "open", "ana")
        desk.unmerge(src, actor=ANA)
        events = _drain(desk)
        assert [(c, t) for c, t, _ in events] == [(src, "case.status_changed"),
                                                  (src, "case.unmerged")]
        unmerged = events[1][2]
        assert (unmerged["survivor"], unmerged["survivor_number"], unmerged["status"]) \
            == (survivor, number, "open")

    def test_refused_merges_publish_nothing(self, make_store: Callable[[], Store]) -> None:
        """Bad input, a merged source or survivor, no permission, nothing to unmerge: an
        error, no event, no case written."""
        desk = _desk(make_store())
        src, survivor = _pair(desk)
        third = desk.create_case(subject="Third", actor=ANA).id
        desk.merge(third, survivor, actor=ANA)
        _drain(desk)
        docs = {i: case_to_document(desk.get_case(i, actor=ANA))
                for i in (src, survivor, third)}
        refusals: list[tuple[type[Exception], Callable[[], object]]] = [
            (InvalidInput, lambda: desk.merge(src, src, actor=ANA)),
            (CaseNotFound, lambda: desk.merge("no-such-case", survivor, actor=ANA)),
            (InvalidInput, lambda: desk.merge(src, 42, actor=ANA)),  # type: ignore[arg-type]
            (CaseMerged, lambda: desk.merge(third, src, actor=ANA)),
            (CaseMerged, lambda: desk.merge(src, third, actor=ANA)),
            (PermissionDenied, lambda: desk.merge(src, survivor, actor=CUSTOMER)),
            (InvalidInput, lambda: desk.unmerge(src, actor=ANA)),
            (PermissionDenied, lambda: desk.unmerge(third, actor=CUSTOMER)),
            (InvalidInput, lambda: desk.split(src, [999], subject="Nope", actor=ANA)),
        ]
        for error, call in refusals:
            with pytest.raises(error):
                call()
            assert _drain(desk) == []
        assert {i: case_to_document(desk.get_case(i, actor=ANA)) for i in docs} == docs


class TestSplitEvent:
    """case.split on the source, saved with the split_from link."""

    def test_split(self, make_store: Callable[[], Store]) -> None:
        """The source gets case.split naming the new case and the comments copied; the
        new case has case.created and its case.linked."""
        desk = _desk(make_store())
        src = desk.create_case(subject="Two problems", actor=ANA, links={"contact": "c-1"}).id
        desk.add_comment(src, "Also the scanner", actor=CUSTOMER, audience="public")
        case = desk.add_comment(src, "scanner: firmware", actor=ANA, audience="internal")
        seqs = [e.seq for e in case.timeline if e.is_comment]
        _drain(desk)
        new = desk.split(src, [*seqs, seqs[0]], subject="Scanner", actor=ANA)
        events = _drain(desk)
        on_source = [(t, p) for c, t, p in events if c == src]
        assert [t for t, _ in on_source] == ["case.linked", "case.split"]
        split = on_source[1][1]
        assert (split["new_case"], split["new_number"], split["seqs"]) \
            == (new.id, new.number, seqs)
        assert on_source[0][1]["role"] == "split_into"
        on_new = [t for c, t, _ in events if c == new.id]
        assert (on_new[0], on_new[-1]) == ("case.created", "case.linked")
        assert "case.split" not in on_new


class TestRules:
    """The three events are automation triggers."""

    def test_rules_fire(self, make_store: Callable[[], Store]) -> None:
        """A rule on each event fires once on the case that got the event."""
        desk = _desk(make_store())
        desk.set_automation_rules([
            {"id": f"on-{name}", "trigger": {"event": f"case.{name}"},
             "actions": [{"do": "webhook", "url": "https://crm.example/hook"}]}
            for name in ("merged", "unmerged", "split")], actor=ADMIN)
        src, survivor = _pair(desk)
        desk.run_automations()
        desk.merge(src, survivor, actor=ANA)
        assert desk.run_automations().applied == {"on-merged": 1}
        desk.unmerge(src, actor=ANA)
        assert desk.run_automations().applied == {"on-unmerged": 1}
        case = desk.add_comment(src, "and the scanner", actor=ANA)
        desk.split(src, [case.timeline[-1].seq], subject="Scanner", actor=ANA)
        assert desk.run_automations().applied == {"on-split": 1}
        assert desk.run_automations().total_applied == 0
        fired = [e.data["rule"] for e in desk.get_case(src, actor=ANA).timeline
                 if e.kind == "automation"]
        assert fired == ["on-merged", "on-unmerged", "on-split"]

    def test_a_merged_case_takes_no_changes_from_rules(
            self, make_store: Callable[[], Store]) -> None:
        """A rule on case.merged may deliver, but its case-changing actions are refused
        (recorded as failed), so the unmerge still puts the case back as it was."""
        desk = _desk(make_store())
        desk.set_automation_rules([
            {"id": "meddle", "trigger": {"event": "case.merged"},
             "actions": [{"do": "note", "body": "merged!"},
                         {"do": "set_field", "field": "priority", "value": "high"},
                         {"do": "webhook", "url": "https://crm.example/hook"}]}], actor=ADMIN)
        src, survivor = _pair(desk)
        desk.run_automations()
        desk.merge(src, survivor, actor=ANA)
        report = desk.run_automations()
        assert (report.applied, report.failed_actions) == ({"meddle": 1}, 2)
        case = desk.get_case(src, actor=ANA)
        entry = case.timeline[-1]
        assert entry.kind == "automation" and set(entry.data["actions"]) == {"webhook"}
        assert [f["action"] for f in entry.data["failed"]] == ["note", "set_field"]
        assert case.priority.value == "normal"
        assert not any(e.is_comment for e in case.timeline)
        assert desk.unmerge(src, actor=ANA).priority.value == "normal"

    def test_unknown_trigger_still_refused(self) -> None:
        """The trigger list grew by exactly these three."""
        assert {"case.merged", "case.unmerged", "case.split"} <= set(
            caselib.automation.EVENT_TYPES)


class TestRelatedCases:
    """related_cases: role and summary of each readable linked case."""

    def test_roles_and_summaries(self, make_store: Callable[[], Store]) -> None:
        """Both ends read their role beside the other case's summary, in links order."""
        desk = _desk(make_store())
        parent = desk.create_case(subject="Office move", actor=ANA)
        child = desk.create_case(subject="Move printers", actor=ANA)
        other = desk.create_case(subject="Printer toner", actor=ANA)
        desk.link_cases(parent.id, "parent_of", child.id, actor=ANA)
        desk.link_cases(other.id, "related", parent.id, actor=ANA)
        related = desk.related_cases(parent.id, actor=ANA)
        want = [(k.role_for(parent.id), k.other(parent.id))
                for k in desk.case_links(parent.id, actor=ANA)]
        assert [(role, s.id) for role, s in related] == want
        assert sorted((role, s.number, s.subject, s.status) for role, s in related) == sorted([
            ("parent_of", child.number, "Move printers", "new"),
            ("related", other.number, "Printer toner", "new")])
        assert all(isinstance(s, CaseSummary) for _, s in related)
        assert [(r, s.id) for r, s in desk.related_cases(child.id, actor=ANA)] \
            == [("child_of", parent.id)]
        assert desk.related_cases(other.id, actor=ANA)[0][1] == CaseSummary.of(
            desk.get_case(parent.id, actor=ANA))

    def test_unreadable_cases_are_left_out(self, make_store: Callable[[], Store]) -> None:
        """A customer reads the linked cases of their own contact only."""
        desk = _desk(make_store())
        mine = desk.create_case(subject="Mine", actor=ANA, links={"contact": "c-1"})
        also = desk.create_case(subject="Also mine", actor=ANA, links={"contact": "c-1"})
        theirs = desk.create_case(subject="Theirs", actor=ANA, links={"contact": "c-2"})
        desk.link_cases(mine.id, "related", also.id, actor=ANA)
        desk.link_cases(mine.id, "related", theirs.id, actor=ANA)
        assert {s.id for _, s in desk.related_cases(mine.id, actor=ANA)} == {also.id,
                                                                             theirs.id}
        assert [s.id for _, s in desk.related_cases(mine.id, actor=CUSTOMER)] == [also.id]
        with pytest.raises(CaseNotFound):  # as if it did not exist
            desk.related_cases(theirs.id, actor=CUSTOMER)
        with pytest.raises(InvalidInput):
            desk.related_cases(42, actor=ANA)  # type: ignore[arg-type]

    def test_one_batch_read(self) -> None:
        """The other cases are read as summaries in one query, not one read per link and
        not loaded whole."""
        from caselib import MemoryStore
        store = MemoryStore()
        desk = _desk(store)
        hub = desk.create_case(subject="Hub", actor=ANA).id
        for n in range(5):
            spoke = desk.create_case(subject=f"Spoke {n}", actor=ANA).id
            desk.link_cases(hub, "related", spoke, actor=ANA)
        calls: list[str] = []
        real = store.unit_of_work

        def counting(tenant: str) -> Any:
            uow = real(tenant)
            cases = uow.cases
            for name in ("get", "get_many", "query", "query_cases"):
                setattr(cases, name, _counted(calls, name, getattr(cases, name)))
            return uow

        store.unit_of_work = counting  # type: ignore[method-assign]
        assert len(desk.related_cases(hub, actor=ANA)) == 5
        assert calls == ["query"]


def _counted(calls: list[str], name: str, real: Callable[..., Any]) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        calls.append(name)
        return real(*args)
    return call


def test_relations_values_are_exported() -> None:
    """Every relations value a desk method takes or returns is importable from caselib,
    and the public __all__ stays sorted."""
    from caselib import cases
    for name in ("CaseLink", "CaseTemplate", "Checklist", "ChecklistItem", "Conversion",
                 "LinkKind", "ReopenPolicy"):
        assert getattr(caselib, name) is getattr(cases, name)
        assert name in caselib.__all__
    assert caselib.__all__ == sorted(caselib.__all__)


class TestIdsFilter:
    """CaseQuery(ids=…): bounded, cursor-compatible, round-trips as a document."""

    def test_bounds_and_digest(self) -> None:
        """Over MAX_QUERY_LIMIT ids is refused naming the field; unset, the digest is as
        before the filter existed; set, it binds the cursor."""
        from caselib import serialize
        from caselib.ports import MAX_QUERY_LIMIT, CaseQuery
        with pytest.raises(InvalidInput) as err:
            CaseQuery(ids=[f"c{n}" for n in range(MAX_QUERY_LIMIT + 1)])
        assert err.value.field == "ids"
        # the digests before ids existed (caselib at 7fd7718): old cursors still page
        assert CaseQuery(ids=None).filter_digest() == "-OV-NfXXe_14"
        assert CaseQuery(statuses={"open"}, order="due").filter_digest() == "tzvU7lSymmz_"
        assert CaseQuery(ids={"a"}).filter_digest() != CaseQuery().filter_digest()
        query = CaseQuery(ids={"b", "a"})
        assert serialize.from_dict(serialize.to_dict(query), CaseQuery) == query
