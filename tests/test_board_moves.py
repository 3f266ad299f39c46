"""Board moves from list rows: :meth:`ServiceDesk.allowed_transitions_of` answers from the
summaries what :meth:`ServiceDesk.allowed_transitions` answers from the loaded cases, on
every store, with two workflows in play (a tenant that switched from *simple* to *default*
keeps serving its old cases) and the preset roles' scopes.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import Actor, CaseQuery, CaseSummary, ServiceDesk, Store, TenantSettings
from caselib.access import AccessPolicy
from caselib.cases import Case, Workflow
from caselib.errors import CaselibError, WrongType
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)

SYSTEM = Actor.system()
READERS = (
    None,
    Actor.agent("ana", "support_lead", teams=["t1"]),
    Actor.agent("bo", "support", teams=["t2"]),
    Actor.agent("mo", "manager"),
    Actor.agent("eve", "executive"),
    Actor.customer("jane", account="acc-1"),
)
STATUSES = ("new", "open", "in_progress", "pending_customer", "pending", "resolved", "closed",
            "open")


def desks(store: Store, tenant: str) -> tuple[ServiceDesk, ServiceDesk]:
    """The tenant's old desk (*simple*) and its current one (*default*, still serving
    *simple* cases), on one store and clock."""
    clock = FrozenClock(T0)
    policy = AccessPolicy.default()
    old = ServiceDesk(store, tenant=tenant, clock=clock, settings=TenantSettings(
        workflow=Workflow.simple(), router=None, sla=None, access=policy))
    new = ServiceDesk(store, tenant=tenant, clock=clock, settings=TenantSettings(
        workflow=Workflow.default(), workflows=(Workflow.simple(),), router=None, sla=None,
        access=policy))
    return old, new


CASES = st.lists(st.tuples(
    st.booleans(),  # opened on the old desk (simple workflow)
    st.sampled_from(["t1", "t2", None]),
    st.sampled_from(["ana", "bo", None]),
    st.booleans(),  # the customer's account
    st.lists(st.sampled_from(STATUSES), max_size=5),  # moves tried, in order
), min_size=1, max_size=6)


def _merged_pair() -> tuple[ServiceDesk, Case, Case, dict[str, CaseSummary]]:
    """A memory desk where case a was merged into b, and both list rows by id."""
    from caselib import MemoryStore

    _, desk = desks(MemoryStore(), "acme")
    a = desk.create_case(subject="a", actor=SYSTEM)
    b = desk.create_case(subject="b", actor=SYSTEM)
    desk.merge(a.id, b.id, actor=SYSTEM)
    return desk, a, b, {r.id: r for r in desk.find_cases(actor=SYSTEM).items}


class TestAgreesWithTheLoadedCase:
    def test_every_reader_every_status(self, make_store: Callable[[], Store]) -> None:
        """For every row and reader: the same moves as allowed_transitions(case)."""
        store = make_store()

        @settings(max_examples=25, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(cases=CASES)
        def check(cases: list[tuple[bool, str | None, str | None, bool, list[str]]]) -> None:
            old, new = desks(store, f"b{uuid.uuid4().hex[:12]}")
            for legacy, team, assignee, account, moves in cases:
                desk = old if legacy else new
                case = desk.create_case(subject="x", actor=SYSTEM, team=team,
                                        assignee=assignee,
                                        links={"account": "acc-1" if account else "acc-2"})
                for to in moves:  # not a move from here (or a gate): the next one is tried
                    with contextlib.suppress(CaselibError):
                        desk.transition(case.id, to, note="n", actor=SYSTEM)
            rows = new.find_cases(actor=SYSTEM, limit=100).items
            for reader in READERS:
                want = {r.id: new.allowed_transitions(new.get_case(r.id, actor=SYSTEM),
                                                      actor=reader) for r in rows}
                assert new.allowed_transitions_of(rows, actor=reader) == want
                assert new.note_moves_of(rows, actor=reader) == {
                    r.id: note_moves(new, r.id, reader, want[r.id]) for r in rows}

        check()


def note_moves(desk: ServiceDesk, case_id: str, reader: Actor | None,
               allowed: tuple[str, ...]) -> frozenset[str]:
    """The single-case answer: the moves :meth:`case_actions` marks as needing a note, with
    the resolve and close forms' targets when their gates hold a note (a reader of None:
    every move into resolved or closed, as the workflow's gates say)."""
    case = desk.get_case(case_id, actor=SYSTEM)
    if reader is None:
        return frozenset(t for t in allowed if t in ("resolved", "closed"))
    acts = desk.case_actions(case, actor=reader)
    gated = set(acts.note_moves)
    if acts.resolve_needs_note and acts.resolve_to:
        gated.add(acts.resolve_to)
    if "note" in acts.close_gates and acts.close_to:
        gated.add(acts.close_to)
    return frozenset(gated & set(allowed))


class TestNoteMoves:
    def test_moves_into_resolved_and_closed_need_a_note(
            self, make_store: Callable[[], Store]) -> None:
        """A board's quick moves leave out the gated ones: from pending customer the move
        into resolved, from resolved the one into closed; nothing from open."""
        _, desk = desks(make_store(), "acme")
        ids = {}
        for path in ((), ("open",), ("open", "in_progress", "pending_customer"),
                     ("open", "in_progress", "pending_customer", "resolved")):
            case = desk.create_case(subject="x", actor=SYSTEM)
            for to in path:
                desk.transition(case.id, to, note="n", actor=SYSTEM)
            ids[path[-1] if path else "new"] = case.id
        rows = desk.find_cases(actor=SYSTEM).items
        manager = READERS[3]
        got = desk.note_moves_of(rows, actor=manager)
        assert got == {ids["new"]: frozenset(), ids["open"]: frozenset(),
                       ids["pending_customer"]: frozenset({"resolved"}),
                       ids["resolved"]: frozenset({"closed"})}
        allowed = desk.allowed_transitions_of(rows, actor=manager)
        assert all(got[k] <= set(v) for k, v in allowed.items())
        # an executive may make no move, so none needs a note
        assert set(desk.note_moves_of(rows, actor=READERS[4]).values()) == {frozenset()}

    def test_a_merged_row_has_none_and_bad_rows_are_refused(self) -> None:
        desk, a, _, rows = _merged_pair()
        assert desk.note_moves_of([rows[a.id]], actor=SYSTEM) == {a.id: frozenset()}
        with pytest.raises(WrongType, match="summaries"):
            desk.note_moves_of("rows")  # type: ignore[arg-type]


class TestReadsTheSummary:
    def test_one_workflow_answers_from_the_row_without_loading(
            self, make_store: Callable[[], Store]) -> None:
        """With one workflow the row decides: a stale row answers for its own status."""
        _, desk = desks(make_store(), "acme")
        single = ServiceDesk(desk.store, tenant="acme", clock=desk.clock,
                             settings=TenantSettings(router=None, sla=None))
        case = single.create_case(subject="x", actor=SYSTEM)
        [row] = single.find_cases(actor=SYSTEM).items
        single.transition(case.id, "open", actor=SYSTEM)
        assert single.allowed_transitions_of([row], actor=SYSTEM) == {case.id: ("open",)}
        moved = single.allowed_transitions(single.get_case(case.id, actor=SYSTEM))
        assert moved != ("open",)

    def test_workflows_that_disagree_read_the_case(
            self, make_store: Callable[[], Store]) -> None:
        """"open" moves differently in simple and default: the case is read."""
        old, new = desks(make_store(), "acme")
        legacy = old.create_case(subject="x", actor=SYSTEM, assignee="ana")
        old.transition(legacy.id, "open", actor=SYSTEM)
        current = new.create_case(subject="y", actor=SYSTEM, assignee="ana")
        new.transition(current.id, "open", actor=SYSTEM)
        rows = new.find_cases(actor=SYSTEM).items
        got = new.allowed_transitions_of(rows, actor=SYSTEM)
        assert "pending" in got[legacy.id] and "pending" not in got[current.id]
        assert got[current.id] == new.allowed_transitions(new.get_case(current.id,
                                                                       actor=SYSTEM))

    def test_a_merged_row_has_no_moves_and_bad_rows_are_refused(self) -> None:
        """Only unmerge leaves merged; a row that is not a summary is WrongType."""
        desk, a, b, rows = _merged_pair()
        assert desk.allowed_transitions_of([rows[a.id]], actor=SYSTEM) == {a.id: ()}
        with pytest.raises(WrongType, match="summaries"):
            desk.allowed_transitions_of([desk.get_case(b.id, actor=SYSTEM)])  # type: ignore[list-item]
        assert isinstance(rows[b.id], CaseSummary)


class TestOpenByStatus:
    def test_counts_equal_the_rows_for_every_reader(
            self, make_store: Callable[[], Store]) -> None:
        """count_by_status of the active categories (named statuses when unscoped) equals
        grouping the readable rows, with two workflows and a merged case about."""
        old, new = desks(make_store(), "acme")
        ids = []
        for desk, team, to in ((old, "t1", "pending"), (new, "t1", "pending_customer"),
                               (new, "t2", "in_progress"), (old, "t2", "open"),
                               (new, None, None), (new, "t1", "resolved"),
                               (new, "t1", "pending_customer"), (old, "t1", "open")):
            case = desk.create_case(subject="x", actor=SYSTEM, team=team, assignee="ana")
            ids.append(case.id)
            path = {"pending": ["open", "pending"], "open": ["open"],
                    "pending_customer": ["open", "in_progress", "pending_customer"],
                    "in_progress": ["open", "in_progress"],
                    "resolved": ["open", "in_progress", "pending_customer", "resolved"],
                    None: []}[to]
            for status in path:
                desk.transition(case.id, status, note="n", actor=SYSTEM)
        new.merge(ids[4], ids[2], actor=SYSTEM)
        active = CaseQuery(status_categories={"new", "open", "waiting"}, limit=100)
        for reader in READERS[1:5]:
            rows = new.find_cases(active, actor=reader).items
            want: dict[str, int] = {}
            for r in rows:
                want[r.status] = want.get(r.status, 0) + 1
            assert new.count_by_status(active, actor=reader) == want, reader
            board = new.board(actor=reader, cards_per_column=1)  # full columns: counted
            assert {c.status: c.count for c in board.columns if c.count} == {
                k: v for k, v in want.items() if k in {c.status for c in board.columns}}
        assert new.count_by_status(active, actor=SYSTEM) == {
            "pending": 1, "pending_customer": 2, "in_progress": 1, "open": 2}
        merged = CaseQuery(status_categories={"merged"})
        assert sum(new.count_by_status(merged, actor=SYSTEM).values()) == 1
