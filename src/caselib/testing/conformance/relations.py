"""The relations contract: the merge journal, case templates and checklists kept by a store.

Merge, templates and checklists need no table of their own (the journal and the checklist
are system entries on the timeline, the merge's pointer is a ``merged_into`` link), so what a
store owes them is that the timeline, the fields and the links come back exactly as written,
through another handle on the same data (``second_store``), and never into another tenant.
The tests drive a :class:`~caselib.desk.ServiceDesk` over the adapter, because that is where
merge and unmerge live; :func:`assert_restored` is the "exact" a merge then unmerge owes
(docs/relations.md, "What exact means").
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib.cases import Actor, Case, CaseTemplate, ChecklistItem, LinkKind
from caselib.cases.merge import merge_journal
from caselib.desk import ServiceDesk, TenantSettings
from caselib.desk.relations import survivor_of
from caselib.errors import CaseNotFound
from caselib.ports import Store
from caselib.storage.codec import case_to_document, entry_to_dict
from caselib.testing.clock import FrozenClock
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import T0
from caselib.vocab import Audience

__all__ = ["MERGE_AUDIT", "RelationsContract", "assert_restored"]

MERGE_AUDIT: Final = ("status_changed", "merged", "status_changed", "unmerged")
"""The entries a merge then unmerge adds to the source, in order (all ``system``)."""

_ANA: Final = Actor.agent("ana")
_BO: Final = Actor.agent("bo")
_MOVED: Final = frozenset({"version", "updated_at"})


def _doc(case: Case, *, states: bool = True) -> dict[str, Any]:
    doc = {k: v for k, v in case_to_document(case).items() if k not in _MOVED}
    if not states:
        doc["sla_targets"] = [{k: v for k, v in t.items() if k != "state"}
                              for t in doc["sla_targets"]]
    return doc


def assert_restored(before: Case, after: Case, *, same_instant: bool = True) -> None:
    """``after`` is ``before`` as a merge then an unmerge leave it.

    Every stored field but ``version`` and ``updated_at`` is equal (status and category,
    priority, tags, custom fields, contact links, resolutions, CSAT, SLA pauses and
    targets …; an undone merge leaves no pause, so this holds however long the case was
    merged); every entry of ``before`` is still there, once, unchanged and in its place;
    the only additions are the merge's audit (:data:`MERGE_AUDIT`), system entries a
    customer never sees. ``same_instant=False`` (time passed between ``before`` and
    ``after``) leaves out the SLA targets' ``state``, which reads the clock (running turns
    warning as time passes, merged or not).
    """
    assert _doc(after, states=same_instant) == _doc(before, states=same_instant)
    kept = [entry_to_dict(e) for e in after.timeline[:len(before.timeline)]]
    assert kept == [entry_to_dict(e) for e in before.timeline]
    added = after.timeline[len(before.timeline):]
    assert tuple(e.kind for e in added) == MERGE_AUDIT
    assert all(e.audience is Audience.SYSTEM for e in added)
    seqs = [e.seq for e in after.timeline]
    assert len(set(seqs)) == len(seqs)


def _assert_same(got: Case, want: Case) -> None:
    """The same stored case: document (version included) and timeline."""
    assert case_to_document(got) == case_to_document(want)
    assert [entry_to_dict(e) for e in got.timeline] == [entry_to_dict(e) for e in want.timeline]


_ITEM_IDS: Final = st.lists(st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True),
                            min_size=1, max_size=6, unique=True)
_WORDS: Final = st.text("abcdefgh ", min_size=1, max_size=12).filter(str.strip)


@st.composite
def _templates(draw: Callable[..., Any]) -> CaseTemplate:
    items = [ChecklistItem(i, draw(_WORDS), draw(st.booleans()),
                           draw(st.sampled_from([None, "trainer", "billing"])))
             for i in draw(_ITEM_IDS)]
    fields: dict[str, Any] = {
        "category": draw(st.sampled_from(["Account", "Billing", "Technical"])),
        "priority": draw(st.sampled_from(["low", "normal", "high", "urgent"])),
        "tags": draw(st.lists(st.sampled_from(["vip", "onboarding", "eu"]), unique=True)),
        "custom": draw(st.dictionaries(st.sampled_from(["tier", "seats", "region"]),
                                       st.one_of(st.integers(0, 99), _WORDS), max_size=3)),
        "description": draw(st.sampled_from(["", "Company:\nSeats:\nStart date:"])),
    }
    return CaseTemplate("t" + uuid.uuid4().hex[:8], items, fields=fields,
                        gate_resolve=draw(st.booleans()))


class RelationsContract(StoreFixtures):
    """Merge journal, templates and checklists through a desk over the adapter.
    Needs the optional :class:`~caselib.ports.CaseLinkRepository`. Not named ``Test…``."""

    def relations_examples(self) -> int:
        """How many random templates (hook: SQL stores are slower)."""
        return max(5, settings().max_examples // 8)

    def _desks(self, store: Store, second_store: Store, tenant: str | None = None,
               templates: tuple[CaseTemplate, ...] = (), clock: FrozenClock | None = None,
               ) -> tuple[ServiceDesk, ServiceDesk]:
        """A desk on each handle, sharing one frozen clock."""
        clock = clock or FrozenClock(T0)
        config = TenantSettings(templates=templates)
        return (ServiceDesk(store, tenant=tenant or self.tenant, clock=clock, settings=config),
                ServiceDesk(second_store, tenant=tenant or self.tenant, clock=clock,
                            settings=config))

    def _history(self, desk: ServiceDesk) -> tuple[Case, Case, Case]:
        """A source with replies, a note, tags, custom fields and a link; a survivor; a
        third case the source is related to."""
        source = desk.create_case(subject="Printer jam", actor=_ANA, tags=["vip"],
                                  custom={"floor": 3}, links={"contact": "c-1"})
        desk.add_comment(source.id, "Which tray?", actor=_ANA, audience="public")
        desk.add_comment(source.id, "tray 2 is broken", actor=_ANA, audience="internal")
        desk.transition(source.id, "open", actor=_ANA)
        survivor = desk.create_case(subject="Printer jams again", actor=_ANA,
                                    links={"contact": "c-1"})
        third = desk.create_case(subject="Printers on floor 3", actor=_ANA)
        desk.link_cases(source.id, LinkKind.RELATED, third.id, actor=_ANA)
        return (desk.get_case(source.id, actor=_ANA), desk.get_case(survivor.id, actor=_ANA),
                desk.get_case(third.id, actor=_ANA))

    def test_merge_journal_round_trip(self, store: Store, second_store: Store) -> None:
        """Merged through one handle, read and unmerged through another: the journal says
        what the source was, the survivor resolves, unmerge restores both exactly."""
        first, second = self._desks(store, second_store)
        source, survivor, third = self._history(first)
        keys = {c.id: {k.key for k in first.case_links(c.id, actor=_ANA)}
                for c in (source, survivor, third)}
        first.merge(source.id, survivor.id, actor=_ANA)

        merged = second.get_case(source.id, actor=_ANA)
        assert (merged.status, merged.status_category.value) == ("merged", "merged")
        journal = merge_journal(merged)
        assert journal is not None
        assert (journal["into"], journal["number"]) == (survivor.id, survivor.number)
        assert (journal["status"], journal["category"]) == ("open", "open")
        with second_store.unit_of_work(self.tenant) as uow:
            assert survivor_of(uow, source.id) == survivor.id
        assert [k.role_for(survivor.id) for k in second.case_links(survivor.id, actor=_ANA)] \
            == ["merged_from"]
        reading = second.merged_timeline(survivor.id, actor=_ANA)
        assert [r.entry.seq for r in reading if r.origin == source.number] \
            == [e.seq for e in merged.timeline]

        second.unmerge(source.id, actor=_ANA)
        assert_restored(source, first.get_case(source.id, actor=_ANA))
        _assert_same(first.get_case(survivor.id, actor=_ANA), survivor)  # never written
        assert {c: {k.key for k in first.case_links(c, actor=_ANA)} for c in keys} == keys
        assert merge_journal(first.get_case(source.id, actor=_ANA)) is None
        with store.unit_of_work(self.tenant) as uow:
            assert survivor_of(uow, source.id) == source.id

    def test_undone_merge_leaves_no_pause(self, store: Store, second_store: Store) -> None:
        """While merged, the source's clocks stand still; unmerged hours later, its SLA is
        what it would be had it never been merged (pauses and due times equal): an undone
        merge gives the desk no free time."""
        clock = FrozenClock(T0)
        first, second = self._desks(store, second_store, clock=clock)
        source, survivor, _ = self._history(first)
        first.merge(source.id, survivor.id, actor=_ANA)
        clock.advance(timedelta(hours=5))
        merged = second.get_case(source.id, actor=_ANA)
        assert [(p.start, p.end) for p in merged.pauses] == [
            (p.start, p.end) for p in source.pauses] + [(T0, None)]
        back = second.unmerge(source.id, actor=_ANA)
        for case in (back, first.get_case(source.id, actor=_ANA)):
            assert case.pauses == source.pauses
            assert [(t.name, t.due_at, t.warn_at, t.met_at) for t in case.sla_targets] == [
                (t.name, t.due_at, t.warn_at, t.met_at) for t in source.sla_targets]
            assert_restored(source, case, same_instant=False)

    def test_checklist_and_prefill_survive_reload(self, store: Store,
                                                 second_store: Store) -> None:
        """Random templates and check / uncheck runs: the fields a template filled, the
        items and which are done (by whom, when) read back the same through another
        handle."""

        @settings(max_examples=self.relations_examples(), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(template=_templates(), steps=st.lists(
            st.tuples(st.integers(0, 5), st.booleans(), st.booleans()), max_size=8))
        def check(template: CaseTemplate, steps: list[tuple[int, bool, bool]]) -> None:
            tenant = f"r{uuid.uuid4().hex[:12]}"
            first, second = self._desks(store, second_store, tenant, (template,))
            case = first.create_from_template(template.name, subject="From a template",
                                              actor=_ANA)
            done: dict[str, str] = {}
            for index, tick, by_bo in steps:
                item = template.checklist[index % len(template.checklist)].id
                who = _BO if by_bo else _ANA
                first.check_item(case.id, item, actor=who, done=tick)
                if tick:
                    done.setdefault(item, who.id)
                else:
                    done.pop(item, None)
            read = second.get_case(case.id, actor=_ANA)
            fields = template.fields
            assert (read.category, read.priority.value, read.description) \
                == (fields["category"], fields["priority"], fields["description"])
            assert set(read.tags) == set(fields["tags"])
            assert dict(read.custom) == fields["custom"]
            checklist = second.checklist(case.id, actor=_ANA)
            assert (checklist.template, checklist.items, checklist.gate) \
                == (template.name, template.checklist, template.gate_resolve)
            assert {i: who for i, (who, _) in checklist.done.items()} == done
            assert all(at == T0 for _, at in checklist.done.values())
            assert read.timeline == first.get_case(case.id, actor=_ANA).timeline

        check()

    def test_other_tenant_cannot_see_or_merge(self, store: Store,
                                              second_store: Store) -> None:
        """Another tenant finds none of the cases, links, journal or checklist, and cannot
        merge into or out of them."""
        item = ChecklistItem("backup", "Take a backup")
        template = CaseTemplate("restore", [item])
        first, _ = self._desks(store, second_store, templates=(template,))
        source, survivor, _ = self._history(first)
        listed = first.create_from_template("restore", subject="Restore", actor=_ANA)
        first.merge(source.id, survivor.id, actor=_ANA)
        other, other_second = self._desks(store, second_store, self.other_tenant,
                                          (template,))
        own = other.create_case(subject="Theirs", actor=_ANA)
        for call in (
            lambda: other_second.get_case(source.id, actor=_ANA),
            lambda: other_second.case_links(survivor.id, actor=_ANA),
            lambda: other_second.merged_timeline(survivor.id, actor=_ANA),
            lambda: other_second.unmerge(source.id, actor=_ANA),
            lambda: other_second.merge(own.id, survivor.id, actor=_ANA),
            lambda: other_second.merge(survivor.id, own.id, actor=_ANA),
            lambda: other_second.checklist(listed.id, actor=_ANA),
            lambda: other_second.check_item(listed.id, "backup", actor=_ANA),
        ):
            try:
                call()
            except CaseNotFound:
                continue
            raise AssertionError("another tenant reached a case it does not own")
        with second_store.unit_of_work(self.other_tenant) as uow:
            assert survivor_of(uow, source.id) == source.id  # no link to follow
        _assert_same(other.get_case(own.id, actor=_ANA), own)
        assert other.case_links(own.id, actor=_ANA) == []
        assert first.checklist(listed.id, actor=_ANA).done == {}
        assert first.get_case(source.id, actor=_ANA).status == "merged"
