"""The case repository's query contract: filters, keyset paging, cursors and counts.

The read side of :class:`~caselib.ports.CaseRepository`, apart from add/get/save in
:mod:`caselib.testing.conformance.cases`: it has its own seed data and parametrized queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import attrs
import pytest

from caselib.access import Visibility
from caselib.cases import Case, SlaTarget
from caselib.errors import InvalidInput
from caselib.ports import CaseQuery, CaseSummary, QueryOrder, Store
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import (
    AGENT,
    ORDERS,
    T0,
    _add,
    _all_pages,
    _with_after,
    make_case,
)
from caselib.vocab import StatusCategory

__all__ = ["CaseQueryContract"]


def _expected(summaries: Sequence[CaseSummary], query: CaseQuery) -> list[CaseSummary]:
    return sorted((s for s in summaries if query.matches(s)), key=query.sort_key)


def _seed_cases(tenant: str) -> list[Case]:
    """Fourteen cases spread over every filterable column, with ties in every sort key."""
    h = timedelta(hours=1)
    specs: list[dict[str, Any]] = [
        {"status": "new", "priority": "low", "tags": ["vip"], "category": "Billing",
         "links": {"contact": "c-1", "account": "a-1"}},
        {"status": "open", "priority": "high", "assignee": "ana", "team": "tier1",
         "due": T0 + 3 * h},
        {"status": "open", "priority": "urgent", "assignee": "bo", "team": "tier2",
         "due": T0 + 1 * h, "tags": ["vip", "eu"]},
        {"status": "in_progress", "priority": "normal", "assignee": "ana", "team": "tier1",
         "breached": True, "tags": ["eu"]},
        {"status": "pending_customer", "priority": "high", "assignee": "ana",
         "due": T0 + 1 * h},
        {"status": "resolved", "priority": "normal", "assignee": "bo", "team": "tier2",
         "category": "Technical", "links": {"contact": "c-2", "account": "a-1"}},
        {"status": "closed", "priority": "low", "assignee": "cy", "breached": True,
         "category": "Billing", "links": {"account": "a-2"}},
        {"status": "new", "priority": "urgent", "team": "tier2", "due": T0 + 2 * h,
         "tags": ["vip", "eu", "tax"], "links": {"contact": "c-1"}},
        {"status": "open", "priority": "normal", "assignee": "bo", "due": T0 + 5 * h},
        {"status": "new", "priority": "high", "tags": ["tax"], "breached": True,
         "due": T0 + 4 * h},
        {"status": "resolved", "priority": "urgent", "assignee": "ana", "tags": ["vip"],
         "category": "Technical", "links": {"contact": "c-3", "account": "a-2"}},
        {"status": "in_progress", "priority": "low", "assignee": "cy", "team": "tier1",
         "due": T0 + 2 * h},
        {"status": "pending_customer", "priority": "normal", "team": "tier1",
         "category": "Account"},
        {"status": "open", "priority": "high", "assignee": "ana", "team": "tier2",
         "tags": ["eu"]},
    ]
    cases = []
    for n, spec in enumerate(specs, start=1):
        # every third case shares its creation time with the previous one: ties by id
        at = T0 + timedelta(minutes=10 * (n - (n % 3 == 0)))
        cases.append(make_case(tenant, n, at=at, **spec))
    return cases


_QUERIES: list[Any] = [
    pytest.param(CaseQuery(), id="everything"),
    pytest.param(CaseQuery(statuses="open"), id="status"),
    pytest.param(CaseQuery(statuses={"new", "pending_customer"}), id="statuses"),
    pytest.param(CaseQuery(status_categories={"resolved", "closed"}), id="categories"),
    pytest.param(CaseQuery(status_categories="waiting"), id="category"),
    pytest.param(CaseQuery(priorities={"urgent", "high"}), id="priorities"),
    pytest.param(CaseQuery(assignees="ana"), id="assignee"),
    pytest.param(CaseQuery(assignees={"bo", "cy", "nobody"}), id="assignees"),
    pytest.param(CaseQuery(teams="tier2"), id="team"),
    pytest.param(CaseQuery(unassigned=True), id="unassigned"),
    pytest.param(CaseQuery(unassigned=False), id="assigned"),
    pytest.param(CaseQuery(tags="vip"), id="tag"),
    pytest.param(CaseQuery(tags={"vip", "eu"}), id="all-tags"),
    pytest.param(CaseQuery(tags={"missing"}), id="no-match"),
    pytest.param(CaseQuery(breached=True), id="breached"),
    pytest.param(CaseQuery(breached=False), id="not-breached"),
    pytest.param(CaseQuery(due_before=T0 + timedelta(hours=2)), id="due-before-inclusive"),
    pytest.param(CaseQuery(created_from=T0 + timedelta(minutes=50)), id="created-from"),
    pytest.param(CaseQuery(created_before=T0 + timedelta(minutes=50)), id="created-before"),
    pytest.param(CaseQuery(assignees="ana", unassigned_teams={"tier1", "tier2"}),
                 id="mine-or-unassigned-in-my-teams"),
    pytest.param(CaseQuery(assignees="ana", unassigned_teams="tier1",
                           status_categories={"new", "open", "waiting"}), id="inbox"),
    pytest.param(CaseQuery(unassigned_teams="tier2"), id="unassigned-of-a-team"),
    pytest.param(CaseQuery(assignees=set(), unassigned_teams=set()), id="empty-assignment"),
    pytest.param(CaseQuery(contacts="c-1"), id="contact"),
    pytest.param(CaseQuery(accounts={"a-1", "a-2"}, status_categories="resolved"),
                 id="accounts"),
    pytest.param(CaseQuery(categories="Billing"), id="category"),
    pytest.param(CaseQuery(categories={"Technical", "Account", "None"}), id="categories"),
    pytest.param(CaseQuery(resolved_from=T0 + timedelta(minutes=60)), id="resolved-from"),
    pytest.param(CaseQuery(resolved_before=T0 + timedelta(minutes=60)), id="resolved-before"),
    pytest.param(CaseQuery(resolved_from=T0, resolved_before=T0 + timedelta(days=1)),
                 id="resolved-between"),
    pytest.param(CaseQuery(ids={"case-00002", "case-00007", "case-00014", "case-99999"}),
                 id="ids"),
    pytest.param(CaseQuery(ids={"case-00002", "case-00007"}, status_categories="open"),
                 id="ids-and-status"),
    pytest.param(CaseQuery(ids=set()), id="no-ids"),
    pytest.param(CaseQuery(status_categories={"new", "open"}, teams={"tier1", "tier2"},
                           priorities={"high", "urgent", "low"}, created_from=T0),
                 id="combined"),
]


class CaseQueryContract(StoreFixtures):
    """The query side of :class:`~caselib.ports.CaseRepository`: each filter, every order,
    paging while cases are inserted, counts. Not named ``Test…``."""

    # -- queries ------------------------------------------------------------------------------

    @pytest.mark.parametrize("query", _QUERIES)
    def test_query_filter(self, store: Store, query: CaseQuery) -> None:
        """Each filter selects exactly what :meth:`CaseQuery.matches` selects, in order."""
        cases = _seed_cases(self.tenant)
        _add(store, self.tenant, *cases)
        summaries = [CaseSummary.of(c) for c in cases]
        expected = _expected(summaries, query)
        with store.unit_of_work(self.tenant) as uow:
            assert _all_pages(uow, query) == expected
            counts: dict[str, int] = {}
            for s in expected:
                counts[s.status] = counts.get(s.status, 0) + 1
            assert uow.cases.count_by_status(query) == counts
            assert uow.cases.count(query) == len(expected)
            # paging fields are ignored by count_by_status and count
            assert uow.cases.count_by_status(_limit(query, 1)) == counts
            assert uow.cases.count(_limit(query, 1)) == len(expected)

    @pytest.mark.parametrize("order", ORDERS)
    @pytest.mark.parametrize("limit", [1, 4, 50])
    def test_paging_concatenates_to_the_full_order(
        self, store: Store, order: QueryOrder, limit: int
    ) -> None:
        """Pages in every order join up to the whole ordered result: no duplicate, no gap."""
        cases = _seed_cases(self.tenant)
        _add(store, self.tenant, *cases)
        query = CaseQuery(order=order, limit=limit)
        expected = _expected([CaseSummary.of(c) for c in cases], query)
        with store.unit_of_work(self.tenant) as uow:
            first = uow.cases.query(query)
            got = _all_pages(uow, query)
        assert got == expected
        assert len({s.id for s in got}) == len(got)
        assert list(first.items) == expected[:limit]
        assert (first.next_cursor is None) == (len(expected) <= limit)

    @pytest.mark.parametrize("order", ORDERS)
    def test_paging_while_cases_are_inserted(self, store: Store, order: QueryOrder) -> None:
        """Keyset paging: each page continues strictly after the previous page's last row,
        whatever was inserted in between (rows before the cursor are not repeated)."""
        cases = _seed_cases(self.tenant)
        _add(store, self.tenant, *cases)
        summaries = [CaseSummary.of(c) for c in cases]
        query = CaseQuery(order=order, limit=3)
        prios = ["low", "urgent", "normal", "high"]
        got: list[CaseSummary] = []
        after: str | None = None
        n = 100
        while True:
            with store.unit_of_work(self.tenant) as uow:
                page = uow.cases.query(_with_after(query, after))
            candidates = _expected(summaries, query)
            if got:
                last = query.sort_key(got[-1])
                candidates = [s for s in candidates if query.sort_key(s) > last]
            assert list(page.items) == candidates[:3]
            got.extend(page.items)
            if page.next_cursor is None:
                assert len(candidates) <= 3
                break
            after = page.next_cursor
            # two inserts per round: one sorting early (before the cursor), one late
            for early in (True, False):
                n += 1
                shift = timedelta(minutes=-500 if early else 500 + n)
                new = make_case(self.tenant, n, at=T0 + shift, priority=prios[n % 4],
                                due=(T0 + shift) if n % 3 else None)
                _add(store, self.tenant, new)
                summaries.append(CaseSummary.of(new))
        assert len({s.id for s in got}) == len(got)

    def test_cursor_of_another_order_is_refused(self, store: Store) -> None:
        """A cursor only works with the order it came from: InvalidInput otherwise."""
        _add(store, self.tenant, *_seed_cases(self.tenant))
        with store.unit_of_work(self.tenant) as uow:
            page = uow.cases.query(CaseQuery(order="created", limit=2))
            assert page.next_cursor is not None
            with pytest.raises(InvalidInput):
                uow.cases.query(CaseQuery(order="-priority", limit=2, after=page.next_cursor))
            with pytest.raises(InvalidInput):
                uow.cases.query(CaseQuery(after="not a cursor!"))

    def test_cursor_with_other_filters_is_refused(self, store: Store) -> None:
        """A cursor is bound to its query's filters (the access scope included): reused
        with any other filter it raises InvalidInput naming ``after``, never pages on."""
        _add(store, self.tenant, *_seed_cases(self.tenant))
        query = CaseQuery(status_categories={"new", "open"}, limit=2)
        with store.unit_of_work(self.tenant) as uow:
            page = uow.cases.query(query)
            assert page.next_cursor is not None
            # the same filters spelled otherwise, another limit: still the same list
            same = attrs.evolve(query, status_categories=["open", "new"], limit=5,
                                after=page.next_cursor)
            assert uow.cases.query(same).items
            for other in (attrs.evolve(query, status_categories="new"),
                          attrs.evolve(query, teams="tier1"),
                          attrs.evolve(query, categories="Billing"),
                          attrs.evolve(query, visible=Visibility(teams={"tier1"}))):
                with pytest.raises(InvalidInput) as info:
                    uow.cases.query(attrs.evolve(other, after=page.next_cursor))
                assert info.value.field == "after"
            scoped = attrs.evolve(query, visible=Visibility(teams={"tier1", "tier2"}))
            cursor = uow.cases.query(scoped).next_cursor
            assert cursor is not None
            with pytest.raises(InvalidInput):
                uow.cases.query(attrs.evolve(
                    scoped, visible=Visibility(teams={"tier1"}), after=cursor))

    def test_count_follows_saves_and_ignores_other_tenants(self, store: Store) -> None:
        """count() is the number of matching cases now: saves in the unit of work count,
        other tenants' cases never do."""
        cases = _seed_cases(self.tenant)
        _add(store, self.tenant, *cases)
        other = f"{self.tenant}-other"
        _add(store, other, *_seed_cases(other))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.count() == len(cases)
            assert uow.cases.count(CaseQuery(categories="Billing")) == 2
            case = uow.cases.get("case-00002")
            case.update_fields({"category": "Billing"}, actor=AGENT, at=T0 + timedelta(days=1))
            uow.cases.save(case, case.version)
            assert uow.cases.count(CaseQuery(categories="Billing")) == 3
            assert uow.cases.count(CaseQuery(categories="Billing", accounts="a-2")) == 1

    def test_query_reflects_saves(self, store: Store) -> None:
        """Summaries follow saved changes (status, owner, SLA columns, updated_at)."""
        cases = _seed_cases(self.tenant)
        _add(store, self.tenant, *cases)
        later = T0 + timedelta(days=1)
        with store.unit_of_work(self.tenant) as uow:
            case = uow.cases.get("case-00001")
            case.assign(assignee="bo", team="tier1", actor=AGENT, at=later)
            case.move_to("open", StatusCategory.OPEN, actor=AGENT, at=later)
            case.sla_targets = [SlaTarget("resolution", later, "breached", None, later)]
            uow.cases.save(case, 1)
            uow.commit()
        cases[0] = case
        summaries = [CaseSummary.of(c) for c in cases]
        with store.unit_of_work(self.tenant) as uow:
            for query in (CaseQuery(order="-updated"), CaseQuery(assignees="bo"),
                          CaseQuery(breached=True), CaseQuery(statuses="open", order="due")):
                assert _all_pages(uow, query) == _expected(summaries, query)

    def test_open_counts(self, store: Store) -> None:
        """Active cases per agent; every requested agent is present, 0 if none."""
        _add(store, self.tenant, *_seed_cases(self.tenant))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.open_counts(["ana", "bo", "cy", "dee"]) == {
                "ana": 4, "bo": 2, "cy": 1, "dee": 0}
            assert uow.cases.open_counts([]) == {}


def _limit(query: CaseQuery, limit: int) -> CaseQuery:
    return attrs.evolve(query, limit=limit)
