"""The stateful test: random operations on an adapter and on the ``MemoryStore`` model.

:class:`StoreMachine` is the hypothesis rule-based machine; :class:`StatefulContract` runs it
against the ``store`` fixture. Separate from the per-port contracts because it crosses all of
them and carries its own strategies.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    rule,
    run_state_machine_as_test,
)

from caselib.cases import Case, Pause, SlaTarget
from caselib.errors import CaseNotFound, ConcurrencyConflict
from caselib.ports import CaseQuery, Page, QueryOrder, Store, sla_parts
from caselib.storage.memory import MemoryStore
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import (
    _CATEGORY,
    AGENT,
    ORDERS,
    STATUSES,
    T0,
    _save_commit,
    _with_after,
    assert_same_case,
    make_case,
    sla_state,
)
from caselib.testing.conformance.sla_sweep import _record_breach
from caselib.vocab import Priority, StatusCategory

__all__ = ["StatefulContract", "StoreMachine"]

# --- the stateful machine ---------------------------------------------------------------------

_PEOPLE = st.sampled_from([None, "ana", "bo", "cy"])
_TEAMS = st.sampled_from([None, "tier1", "tier2"])
_TAGS = st.frozensets(st.sampled_from(["vip", "eu", "tax", "bug"]), max_size=3)
_STATUS = st.sampled_from([s for s, _ in STATUSES])
_OFFSETS = st.one_of(st.none(), st.integers(-48, 48))
_CONTACTS = st.sampled_from([None, "c-1", "c-2"])
_ACCOUNTS = st.sampled_from([None, "a-1", "a-2"])
_CATEGORIES = st.sampled_from([None, "Billing", "Technical"])
# caselib refuses NUL and lone surrogates in text (no store can hold them)
_NO_NUL = st.characters(codec="utf-8", blacklist_characters="\x00")

_CASE_FIELDS = st.fixed_dictionaries({
    "priority": st.sampled_from(list(Priority)),
    "assignee": _PEOPLE,
    "team": _TEAMS,
    "tags": _TAGS,
    "status": _STATUS,
    "due_in": _OFFSETS,
    "breached": st.booleans(),
    "contact": _CONTACTS,
    "account": _ACCOUNTS,
    "category": _CATEGORIES,
    "custom": st.dictionaries(st.sampled_from(["plan", "seats", "vip"]),
                              st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                                        st.text(_NO_NUL, max_size=5)), max_size=2),
})
_CHANGES = st.one_of(
    st.tuples(st.just("comment"), st.sampled_from(["internal", "public"]),
              st.text("abc xyz", min_size=1, max_size=12).filter(str.strip)),
    st.tuples(st.just("priority"), st.sampled_from(list(Priority))),
    st.tuples(st.just("assign"), _PEOPLE, _TEAMS),
    st.tuples(st.just("status"), _STATUS),
    st.tuples(st.just("tags"), _TAGS),
    st.tuples(st.just("category"), _CATEGORIES),
    st.tuples(st.just("sla"), _OFFSETS, st.booleans()),
)
_FILTERS = st.fixed_dictionaries({}, optional={
    "statuses": st.frozensets(_STATUS, min_size=1, max_size=3),
    "status_categories": st.frozensets(st.sampled_from(list(StatusCategory)), min_size=1,
                                       max_size=2),
    "priorities": st.frozensets(st.sampled_from(list(Priority)), min_size=1, max_size=2),
    "assignees": st.frozensets(st.sampled_from(["ana", "bo", "cy"]), min_size=1, max_size=2),
    "teams": st.frozensets(st.sampled_from(["tier1", "tier2"]), min_size=1),
    "unassigned": st.booleans(),
    "tags": st.frozensets(st.sampled_from(["vip", "eu", "tax", "bug"]), min_size=1,
                          max_size=2),
    "breached": st.booleans(),
    "due_before": st.integers(-24, 72).map(lambda h: T0 + timedelta(hours=h)),
    "created_from": st.integers(0, 48).map(lambda h: T0 + timedelta(hours=h)),
    "created_before": st.integers(0, 48).map(lambda h: T0 + timedelta(hours=h)),
    "unassigned_teams": st.frozensets(st.sampled_from(["tier1", "tier2"]), max_size=2),
    "contacts": st.frozensets(st.sampled_from(["c-1", "c-2"]), min_size=1),
    "accounts": st.frozensets(st.sampled_from(["a-1", "a-2"]), min_size=1),
    "categories": st.frozensets(st.sampled_from(["Billing", "Technical"]), min_size=1),
    "resolved_from": st.integers(-1, 48).map(lambda h: T0 + timedelta(hours=h)),
    "resolved_before": st.integers(0, 48).map(lambda h: T0 + timedelta(hours=h)),
})


class StoreMachine(RuleBasedStateMachine):
    """Applies the same random operations to an adapter and to a ``MemoryStore``.

    Every rule compares what a host could observe (return values, raised conflicts, loaded
    cases, query pages, counts, outbox contents), so any divergence from the reference model
    is a contract violation. Runs in one tenant of the adapter; see :class:`StoreContract`.
    """

    cases = Bundle("cases")

    def __init__(self, store: Store, second: Store, tenant: str) -> None:
        super().__init__()
        model: Store = MemoryStore()
        self.stores: tuple[Store, Store] = (store, model)
        self.second = second
        self.tenant = tenant
        self.now = T0
        self.n = 0

    def teardown(self) -> None:
        """Close the model (the adapter belongs to the fixture)."""
        self.stores[1].close()

    def _build(self, fields: dict[str, Any]) -> Case:
        self.n += 1
        due = None if fields["due_in"] is None else self.now + timedelta(hours=fields["due_in"])
        return make_case(
            self.tenant, self.n, at=self.now, case_id=f"c{self.n:04d}-{uuid.uuid4().hex[:6]}",
            status=fields["status"], assignee=fields["assignee"], team=fields["team"],
            due=due, breached=fields["breached"], priority=fields["priority"],
            tags=fields["tags"], custom=fields["custom"], category=fields["category"],
            links={k: fields[k] for k in ("contact", "account") if fields[k] is not None},
        )

    def _apply(self, case: Case, change: tuple[Any, ...]) -> None:
        kind, at = change[0], self.now
        if kind == "comment":
            case.add_comment(change[2], audience=change[1], actor=AGENT, at=at)
        elif kind == "priority":
            case.change_priority(change[1], actor=AGENT, at=at)
        elif kind == "assign":
            case.assign(assignee=change[1], team=change[2], actor=AGENT, at=at)
        elif kind == "status":
            status = change[1]
            note = "done" if _CATEGORY[status] in (StatusCategory.RESOLVED,
                                                    StatusCategory.CLOSED) else None
            case.move_to(status, _CATEGORY[status], actor=AGENT, at=at, note=note)
        elif kind == "tags":
            case.update_fields({"tags": change[1]}, actor=AGENT, at=at)
        elif kind == "category":
            case.update_fields({"category": change[1]}, actor=AGENT, at=at)
        else:
            due = None if change[1] is None else at + timedelta(hours=change[1])
            case.sla_targets = [SlaTarget("resolution", due, "running")] + (
                [SlaTarget("first_response", at, "breached", None, at)] if change[2] else [])
            case.record_activity(AGENT, at, "sla_updated")

    def _tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(target=cases, fields=_CASE_FIELDS, gap=st.sampled_from([0, 1, 60, 3600, 7200]))
    def create(self, fields: dict[str, Any], gap: int) -> str:
        """Add a case with random fields (gap 0 makes sort-key ties)."""
        self._tick(gap)
        case = self._build(fields)
        for store in self.stores:
            copy = case.clone()
            with store.unit_of_work(self.tenant) as uow:
                uow.cases.add(copy)
                uow.commit()
            assert copy.version == 1
        return case.id

    @rule(fields=_CASE_FIELDS)
    def create_rolled_back(self, fields: dict[str, Any]) -> None:
        """An added-then-rolled-back case leaves no trace."""
        case = self._build(fields)
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                uow.cases.add(case.clone())
                uow.rollback()
            with store.unit_of_work(self.tenant) as uow, pytest.raises(CaseNotFound):
                uow.cases.get(case.id)

    @rule(case_id=cases, changes=st.lists(_CHANGES, min_size=1, max_size=3),
          gap=st.sampled_from([0, 30, 3600]))
    def change(self, case_id: str, changes: list[tuple[Any, ...]], gap: int) -> None:
        """Load, change and save a case at the loaded version in both stores."""
        self._tick(gap)
        versions = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                case = uow.cases.get(case_id)
                loaded = case.version
                for c in changes:
                    self._apply(case, c)
                uow.cases.save(case, loaded)
                uow.commit()
            versions.append(case.version)
        assert versions[0] == versions[1]

    @rule(case_ids=st.lists(cases, min_size=1, max_size=4),
          changes=st.lists(_CHANGES, min_size=1, max_size=2),
          filters=_FILTERS, order=st.sampled_from(ORDERS))
    def change_many(self, case_ids: list[str], changes: list[tuple[Any, ...]],
                    filters: dict[str, Any], order: QueryOrder) -> None:
        """Several saves in one unit of work (a case listed twice is saved twice), each case
        read back and a query run before the commit: the unit of work sees its own saves,
        and all of them land together (an adapter may hold saves back until commit)."""
        self._tick(1)
        query = CaseQuery(**filters, order=order, limit=50)
        seen = []
        for store in self.stores:
            observed: list[Any] = []
            with store.unit_of_work(self.tenant) as uow:
                for case_id in case_ids:
                    case = uow.cases.get(case_id)
                    loaded = case.version
                    for c in changes:
                        self._apply(case, c)
                    uow.cases.save(case, loaded)
                    again = uow.cases.get(case_id)
                    assert_same_case(again, case)
                    observed.append(again.version)
                observed.append(uow.cases.query(query).items)
                uow.commit()
            seen.append(observed)
        assert seen[0] == seen[1]

    @rule(hours=st.integers(-24, 72), limit=st.integers(1, 4),
          raise_to=st.sampled_from(list(Priority)), paused=st.booleans())
    def sweep_breaches(self, hours: int, limit: int, raise_to: Priority, paused: bool) -> None:
        """The breach sweep's reads and writes: a page of due cases as their SLA parts, a
        breach recorded on each. An adapter with a :class:`~caselib.ports.SlaSweepRepository`
        reads and writes them through it; the model loads and saves whole cases."""
        self._tick(1)
        query = CaseQuery(due_before=T0 + timedelta(hours=hours), order="due", limit=limit,
                          status_categories=frozenset(c for c in StatusCategory if c.is_active))
        pauses = [Pause(T0, self.now, "waiting")] if paused else []
        seen = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                parts, cursor = sla_parts(uow.cases, query)
                seen.append(([sla_state(p) for p, _ in parts], cursor))
                for part, whole in parts:
                    _record_breach(uow.cases, part, whole, self.now, raise_to, pauses)
                uow.commit()
        assert seen[0][0] == seen[1][0]
        # the same cursor, except that a claiming store may give one after a full last page
        # (see SlaSweepRepository.query_sla_cases)
        assert seen[0][1] == seen[1][1] or (len(seen[0][0]) == limit
                                            and None in (seen[0][1], seen[1][1]))

    @rule(case_id=cases)
    def stale_save(self, case_id: str) -> None:
        """A save from an outdated load raises ConcurrencyConflict in both stores."""
        self._tick(1)
        for store, other in ((self.stores[0], self.second), (self.stores[1], self.stores[1])):
            with store.unit_of_work(self.tenant) as slow:
                stale = slow.cases.get(case_id)
                with other.unit_of_work(self.tenant) as fast:
                    winner = fast.cases.get(case_id)
                    winner.add_comment("won", audience="internal", actor=AGENT, at=self.now)
                    fast.cases.save(winner, winner.version)
                    fast.commit()
                stale.add_comment("lost", audience="internal", actor=AGENT, at=self.now)
                with pytest.raises(ConcurrencyConflict):
                    _save_commit(slow, stale, stale.version)

    @rule(case_id=cases, use_second=st.booleans())
    def load(self, case_id: str, use_second: bool) -> None:
        """A loaded case is the same in both stores, field by field."""
        adapter = self.second if use_second else self.stores[0]
        with adapter.unit_of_work(self.tenant) as uow:
            got = uow.cases.get(case_id)
        with self.stores[1].unit_of_work(self.tenant) as uow:
            want = uow.cases.get(case_id)
        assert_same_case(got, want)

    @rule(filters=_FILTERS, order=st.sampled_from(ORDERS), limit=st.integers(1, 7))
    def query(self, filters: dict[str, Any], order: QueryOrder, limit: int) -> None:
        """Every page of a random query has the same rows in both stores."""
        query = CaseQuery(**filters, order=order, limit=limit)
        pages: list[list[Page]] = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                got = [uow.cases.query(query)]
                while got[-1].next_cursor is not None:
                    got.append(uow.cases.query(_with_after(query, got[-1].next_cursor)))
                    assert len(got) < 1000
            pages.append(got)
        assert [p.items for p in pages[0]] == [p.items for p in pages[1]]

    @rule(filters=_FILTERS)
    def counts(self, filters: dict[str, Any]) -> None:
        """List totals, board counts and per-agent open counts agree."""
        results = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                results.append((uow.cases.count(CaseQuery(**filters)),
                                uow.cases.count_by_status(CaseQuery(**filters)),
                                uow.cases.open_counts(["ana", "bo", "cy", "dee"])))
        assert results[0] == results[1]

    @rule(limit=st.integers(1, 30), deliver=st.lists(st.booleans(), max_size=30),
          commit=st.booleans())
    def relay(self, limit: int, deliver: list[bool], commit: bool) -> None:
        """pending() returns the same messages; delivering a random subset keeps them equal."""
        seen = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                pending = uow.outbox.pending(limit)
                keys = [m.key for m, d in zip(pending, deliver, strict=False) if d]
                uow.outbox.mark_delivered(keys)
                if commit:
                    uow.commit()
            seen.append(pending)
        assert seen[0] == seen[1]


class StatefulContract(StoreFixtures):
    """The stateful test against the memory model, and its settings hook. Not named
    ``Test…``."""

    # -- hooks -------------------------------------------------------------------------------

    def stateful_settings(self) -> settings:
        """Hypothesis settings for :meth:`test_stateful_against_memory_model`."""
        examples = max(10, settings().max_examples // 4)
        return settings(max_examples=examples, stateful_step_count=20, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.filter_too_much])

    # -- stateful -----------------------------------------------------------------------------

    def test_stateful_against_memory_model(self, store: Store, second_store: Store) -> None:
        """Random operations give the same observable results as on a ``MemoryStore``."""

        class Bound(StoreMachine):
            # hypothesis builds the machine once per example: a fresh tenant each time
            def __init__(self) -> None:
                super().__init__(store, second_store, f"sm-{uuid.uuid4().hex[:12]}")

        run_state_machine_as_test(Bound, settings=self.stateful_settings())
