"""Named views, the inbox and the board (issue 17): ServiceDesk.view / inbox / board on the
three stores, the view catalog's checks, and the refusals (access scope, unknown names,
cursors of other views, bad sizes)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from caselib import Actor, ServiceDesk, Store, TenantSettings
from caselib.access import AccessPolicy
from caselib.errors import (
    InvalidConfiguration,
    InvalidInput,
    PermissionDenied,
    UnknownValue,
    WrongType,
)
from caselib.ports import CaseQuery
from caselib.reports import (
    BOARD,
    INBOX,
    MINE,
    VIEW_FILTERS,
    Placeholder,
    View,
    ViewCatalog,
    account_view,
    board_statuses,
    contact_view,
)
from caselib.testing import FrozenClock

ANA = Actor.agent("ana", teams=["tier1"])
BO = Actor.agent("bo", teams=["tier2"])
ADMIN = Actor.agent("root", "admin")
JANE = Actor.customer("jane", account="acme-co")

VIP = View("vip", {"tags": ["vip"], "status_categories": ["new", "open", "waiting"]},
           order="-created", title="VIP")


def _seed(desk: ServiceDesk, clock: FrozenClock) -> dict[str, str]:
    """Nine cases over teams, owners, statuses, accounts and texts; name → case id."""
    from datetime import timedelta

    specs: list[tuple[str, dict[str, object], tuple[str, ...]]] = [
        ("a", {"team": "tier1", "assignee": "ana", "tags": ["vip"]}, ()),
        ("b", {"team": "tier1"}, ()),  # unassigned in ana's team
        ("c", {"team": "tier2"}, ()),  # unassigned in another team
        ("d", {"team": "tier2", "assignee": "ana"}, ("open",)),  # ana's, other team
        ("e", {"team": "tier2", "assignee": "bo"}, ("open", "in_progress")),
        ("f", {"team": "tier1", "assignee": "ana",
               "links": {"contact": "jane", "account": "acme-co"}},
         ("open", "in_progress", "pending_customer", "resolved")),
        ("g", {"team": "tier1", "links": {"contact": "kim", "account": "acme-co"}}, ()),
        ("h", {"team": "tier1", "assignee": "bo", "tags": ["vip"]}, ("open",)),
        ("i", {"team": "tier1", "links": {"contact": "jane", "account": "acme-co"}},
         ("open",)),
    ]
    ids = {}
    for name, fields, path in specs:
        clock.advance(timedelta(minutes=5))
        case = desk.create_case(subject=f"Printer {name} jammed", actor=ADMIN,
                                description=f"tray {name} paper", **fields)  # type: ignore[arg-type]
        for status in path:
            desk.transition(case.id, status, actor=ADMIN,
                            note="done" if status == "resolved" else None)
        ids[name] = case.id
    return ids


@pytest.fixture
def world(make_store: Callable[[], Store], clock: FrozenClock
          ) -> tuple[ServiceDesk, dict[str, str]]:
    desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                       settings=TenantSettings(views=[VIP]))
    return desk, _seed(desk, clock)


def _names(ids: dict[str, str], page_ids: list[str]) -> list[str]:
    back = {v: k for k, v in ids.items()}
    return [back[i] for i in page_ids]


def _all(desk: ServiceDesk, view: object, actor: Actor, limit: int = 2) -> list[str]:
    found: list[str] = []
    after = None
    while True:
        page = desk.view(view, actor=actor, after=after, limit=limit)  # type: ignore[arg-type]
        found += [s.id for s in page.items]
        if page.next_cursor is None:
            return found
        after = page.next_cursor


class TestQueues:
    """The built-in views list what their names say, on every store, paged."""

    def test_open_is_every_active_case_most_urgent_first(self, world: tuple) -> None:
        desk, ids = world
        assert sorted(_names(ids, _all(desk, "open", ADMIN))) == list("abcdeghi")

    def test_unassigned(self, world: tuple) -> None:
        desk, ids = world
        assert _names(ids, _all(desk, "unassigned", ADMIN)) == list("bcgi")

    def test_mine_is_the_asking_agents(self, world: tuple) -> None:
        desk, ids = world
        assert _names(ids, _all(desk, "mine", ANA)) == list("ad")
        assert _names(ids, _all(desk, "mine", BO)) == list("eh")

    def test_resolved(self, world: tuple) -> None:
        desk, ids = world
        assert _names(ids, _all(desk, "resolved", ADMIN)) == ["f"]

    def test_inbox_is_mine_and_my_teams_unassigned_with_one_cursor(self, world: tuple) -> None:
        desk, ids = world
        first = desk.inbox(actor=ANA, limit=2)
        assert first.next_cursor is not None
        rest = desk.inbox(actor=ANA, after=first.next_cursor, limit=10)
        assert _names(ids, [s.id for s in (*first.items, *rest.items)]) == list("abdgi")
        assert _names(ids, _all(desk, "inbox", ANA)) == list("abdgi")
        assert _names(ids, [s.id for s in desk.inbox(actor=ANA, text="tray g").items]) == ["g"]

    def test_account_and_contact_views(self, world: tuple) -> None:
        desk, ids = world
        assert _names(ids, _all(desk, account_view("acme-co"), ADMIN)) == list("ig")
        assert _names(ids, _all(desk, account_view("acme-co", include_done=True), ADMIN)
                      ) == list("igf")
        assert _names(ids, _all(desk, contact_view("jane"), ADMIN)) == ["i"]

    def test_a_tenant_view_by_name_and_refined_by_text(self, world: tuple) -> None:
        desk, ids = world
        assert _names(ids, _all(desk, "vip", ADMIN)) == list("ha")
        assert _names(ids, _all(desk, VIP.refined(text="PRINTER h*"), ADMIN)) == ["h"]
        assert _names(ids, _all(desk, MINE.refined(text="jammed"), ANA)) == list("ad")


class TestBoard:
    def test_columns_follow_the_workflow_with_counts_and_first_cards(
        self, world: tuple
    ) -> None:
        desk, _ = world
        board = desk.board(actor=ADMIN, cards_per_column=2)
        assert [c.status for c in board.columns] == [
            "new", "open", "in_progress", "pending_customer"]
        assert [c.count for c in board.columns] == [4, 3, 1, 0]
        assert board.total == 8
        new = board.column("new")
        assert len(new.cards) == 2 and new.next_cursor is not None
        rest = desk.find_cases(new.query, actor=ADMIN)
        assert rest.items[:2] == new.cards
        more = desk.find_cases(CaseQuery(**{**_fields(new.query), "after": new.next_cursor}),
                               actor=ADMIN)
        assert len(more.items) == 2

    def test_a_board_over_a_query_gains_done_columns(self, world: tuple) -> None:
        desk, _ = world
        board = desk.board(CaseQuery(teams="tier1"), actor=ADMIN)
        assert [(c.status, c.count) for c in board.columns] == [
            ("new", 3), ("open", 2), ("in_progress", 0), ("pending_customer", 0),
            ("resolved", 1), ("closed", 0)]

    def test_the_board_of_a_named_view(self, world: tuple) -> None:
        desk, _ = world
        assert [(c.status, c.count) for c in desk.board("vip", actor=ADMIN).columns] == [
            ("new", 1), ("open", 1), ("in_progress", 0), ("pending_customer", 0)]


def _fields(query: CaseQuery) -> dict[str, object]:
    import attrs

    return {a.name: getattr(query, a.name) for a in attrs.fields(CaseQuery)}


class TestRefusals:
    def test_a_customer_is_refused_as_find_cases_refuses_it(self, world: tuple) -> None:
        """Summaries carry internal columns (owner, team, tags): customers read their cases
        through the portal (customer_view), never through a list."""
        desk, _ = world
        for call in (lambda: desk.view("open", actor=JANE), lambda: desk.inbox(actor=JANE),
                     lambda: desk.board(actor=JANE),
                     lambda: desk.view(contact_view("jane"), actor=JANE)):
            with pytest.raises(PermissionDenied):
                call()

    def test_a_scoped_agent_sees_only_its_scope(self, world: tuple) -> None:
        """Under the default policy a support agent sees its team's cases and its own; an
        installer only what is assigned to it: in every view, the inbox and the board."""
        desk, ids = world
        scoped = desk.for_tenant("acme", TenantSettings(access=AccessPolicy.default(),
                                                        views=[VIP]))
        support = Actor.agent("bo", "support", teams=["tier2"])
        assert sorted(_names(ids, _all(scoped, "open", support))) == list("cdeh")
        installer = Actor.agent("ana", "installer", teams=["tier1"])
        assert sorted(_names(ids, _all(scoped, "open", installer))) == list("ad")
        assert _names(ids, [s.id for s in scoped.inbox(actor=installer).items]) == list("ad")
        board = scoped.board(actor=installer)
        assert sorted(_names(ids, [s.id for c in board.columns for s in c.cards])) == list("ad")
        assert board.total == 2
        assert _names(ids, _all(scoped, "vip", installer)) == ["a"]

    def test_an_unknown_view_name_lists_the_known_ones(self, world: tuple) -> None:
        desk, _ = world
        with pytest.raises(UnknownValue) as err:
            desk.view("opne", actor=ADMIN)
        assert err.value.field == "view"
        assert {"open", "inbox", "vip"} <= set(err.value.allowed)
        with pytest.raises(UnknownValue):
            desk.board("nope", actor=ADMIN)

    def test_a_cursor_of_another_view_is_refused(self, world: tuple) -> None:
        desk, _ = world
        cursor = desk.view("open", actor=ADMIN, limit=1).next_cursor
        assert cursor is not None
        for other in ("unassigned", "inbox", "vip"):
            with pytest.raises(InvalidInput) as err:
                desk.view(other, actor=ADMIN, after=cursor)
            assert err.value.field == "after"
        mine = desk.inbox(actor=ANA, limit=1).next_cursor
        with pytest.raises(InvalidInput):  # another agent's inbox is another list
            desk.inbox(actor=BO, after=mine)

    @pytest.mark.parametrize("bad", [0, -1, 1001, True, "5", None])
    def test_bad_sizes(self, world: tuple, bad: object) -> None:
        desk, _ = world
        with pytest.raises(InvalidInput):
            desk.view("open", actor=ADMIN, limit=bad)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            desk.board(actor=ADMIN, cards_per_column=bad)  # type: ignore[arg-type]

    def test_wrong_view_type(self, world: tuple) -> None:
        desk, _ = world
        with pytest.raises(WrongType):
            desk.view(42, actor=ADMIN)  # type: ignore[arg-type]


class TestCatalog:
    def test_an_unknown_filter_name_lists_the_known_ones(self) -> None:
        with pytest.raises(UnknownValue) as err:
            View("x", {"asignees": "ana"})
        assert set(err.value.allowed) == set(VIEW_FILTERS)

    def test_view_filters_are_the_query_filters(self) -> None:
        import attrs

        fields = {a.name for a in attrs.fields(CaseQuery)} - {"visible", "order", "limit",
                                                               "after"}
        assert set(VIEW_FILTERS) == fields

    def test_a_view_with_an_unknown_status_fails_when_the_desk_is_made(
        self, clock: FrozenClock
    ) -> None:
        from caselib import MemoryStore

        bad = View("stuck", {"statuses": ["on_hold"]})
        with pytest.raises(InvalidConfiguration, match="stuck"):
            ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                        settings=TenantSettings(views=[bad]))
        with pytest.raises(InvalidConfiguration, match="stuck"):
            ServiceDesk(MemoryStore(), tenant="acme", clock=clock, settings=TenantSettings(
                views=[View("stuck", {"priorities": "sky-high"})]))

    def test_names_are_unique(self) -> None:
        with pytest.raises(InvalidConfiguration):
            ViewCatalog([View("open")])
        with pytest.raises(InvalidConfiguration):
            ViewCatalog([VIP, VIP])
        with pytest.raises(InvalidConfiguration):
            View("Bad Name")
        with pytest.raises(UnknownValue):
            View("x", order="sideways")

    def test_placeholders_are_filled_from_the_actor(self) -> None:
        assert INBOX.filters_for(ANA)["assignees"] == "ana"
        assert INBOX.filters_for(ANA)["unassigned_teams"] == frozenset({"tier1"})
        both = View("both", {"teams": [Placeholder.MY_TEAMS, "billing"]})
        assert both.filters_for(ANA)["teams"] == frozenset({"tier1", "billing"})

    def test_board_statuses(self) -> None:
        from caselib.cases import Workflow

        wf = Workflow.default()
        assert [s.id for s in board_statuses(wf)] == [
            "new", "open", "in_progress", "pending_customer"]
        assert [s.id for s in board_statuses(wf, View("x", {"statuses": "resolved"}))] == [
            "resolved"]
        assert BOARD.order == "-updated"
