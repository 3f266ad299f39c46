"""Lists through the desk: the inbox as one query, list totals, unknown statuses refused,
cursors bound to their filters and to the actor's scope, and the category column migrated
into existing SQLite and PostgreSQL stores."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from actors import READER
from caselib import (
    Actor,
    CaseQuery,
    InvalidInput,
    ServiceDesk,
    Store,
    TenantSettings,
    UnknownValue,
)
from caselib.access import AccessPolicy
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from pg import DSN, pg_schema, require_server  # noqa: F401  (pg_schema is a fixture)

ANA = Actor.agent("ana", "support", teams=["tier1"])


def undo_migration_5(prefix: str = "") -> list[str]:
    """SQL that takes a store back to schema 4: migration 5's indexes and columns dropped."""
    from caselib.storage._sql.columns import MIGRATION_5_COLUMNS

    return [*(f"DROP INDEX {prefix}{i}" for i in (
                "cases_alive", "cases_alive_active", "cases_resolved", "cases_first_response",
                "cases_csat")),
            *(f"ALTER TABLE {prefix}cases DROP COLUMN {c}"
              for c in MIGRATION_5_COLUMNS)]


def undo_migration_10(prefix: str = "") -> list[str]:
    """SQL that takes a store back to schema 9: the escalation level column and its index."""
    return [f"DROP INDEX {prefix}cases_escalated",
            f"ALTER TABLE {prefix}cases DROP COLUMN escalation_level"]


UNDO_MIGRATION_6_SQLITE = (
    *(f"DROP TRIGGER cases_fts_{trigger}" for trigger in ("insert", "delete", "update")),
    "DROP TABLE cases_fts",
    "DROP INDEX cases_queue",
    "ALTER TABLE cases DROP COLUMN terms",
)
"""SQL that takes a SQLite file back to schema 5: text search (migration 6) removed."""


BO = Actor.agent("bo", "support", teams=["tier2"])
LEAD = Actor.agent("lea", "manager")


def _pages(desk: ServiceDesk, actor: Actor, **filters: Any) -> list[str]:
    """Every page of a listing (case ids), through one cursor at a time."""
    ids: list[str] = []
    page = desk.find_cases(actor=actor, **filters)
    while True:
        ids += [s.id for s in page.items]
        if page.next_cursor is None:
            return ids
        page = desk.find_cases(actor=actor, after=page.next_cursor, **filters)


def _seed(desk: ServiceDesk, clock: FrozenClock) -> dict[str, str]:
    """Cases in every corner of the inbox: number by name."""
    made = {}
    for name, fields in {
        "mine-t1": {"assignee": "ana", "team": "tier1"},
        "mine-moved": {"assignee": "ana", "team": "tier2"},  # mine, no longer in my team
        "free-t1": {"team": "tier1"},
        "free-t2": {"team": "tier2"},
        "free-none": {},
        "bo-t1": {"assignee": "bo", "team": "tier1"},
        "mine-done": {"assignee": "ana", "team": "tier1"},
    }.items():
        clock.advance(minutes=1)
        case = desk.create_case(subject=name, actor=LEAD, **fields)
        made[name] = case.id
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(made["mine-done"], status, actor=LEAD)
    desk.resolve(made["mine-done"], "fixed", actor=LEAD)
    return made


class TestInbox:
    """Assigned to me ∪ unassigned in my teams: one query, one cursor."""

    def test_inbox_is_one_query_with_one_cursor(self, make_store: Callable[[], Store],
                                                clock: FrozenClock) -> None:
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock)
        made = _seed(desk, clock)
        inbox = {"assignees": "ana", "unassigned_teams": ["tier1"], "limit": 1,
                 "status_categories": ["new", "open", "waiting"]}
        want = [made[n] for n in ("mine-t1", "mine-moved", "free-t1")]
        assert _pages(desk, READER, **inbox) == want
        assert desk.count_cases(actor=READER, **inbox) == len(want)
        # the AND-ed team filter would have dropped the case that moved teams
        assert _pages(desk, READER, assignees="ana", teams="tier1", limit=2) == [
            made["mine-t1"], made["mine-done"]]


class TestCountCases:
    """count_cases is the list's total, for the cases the actor may read."""

    def test_count_matches_the_pages_and_the_scope(self, make_store: Callable[[], Store],
                                                   clock: FrozenClock) -> None:
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                           settings=TenantSettings(access=AccessPolicy.default()))
        _seed(desk, clock)
        assert desk.count_cases(actor=LEAD) == 7 == len(_pages(desk, LEAD, limit=3))
        # ana (support, team-scoped) reads tier1 cases and her own
        assert desk.count_cases(actor=ANA) == len(_pages(desk, ANA, limit=3)) == 5
        assert desk.count_cases(CaseQuery(unassigned=True), actor=ANA) == 1
        assert desk.count_cases(actor=BO, unassigned=True) == 1
        assert desk.count_cases(actor=ANA, limit=1, teams="tier2") == 1  # paging ignored

    def test_count_refuses_a_query_and_filters_together(self, desk: ServiceDesk) -> None:
        with pytest.raises(InvalidInput):
            desk.count_cases(CaseQuery(), actor=READER, teams="x")


class TestUnknownStatus:
    """A status no workflow of the desk has is refused, as an unknown priority is."""

    @pytest.mark.parametrize("call", [
        lambda d: d.find_cases(statuses="opne", actor=READER),
        lambda d: d.find_cases(CaseQuery(statuses={"open", "Open"}), actor=READER),
        lambda d: d.count_cases(statuses=["new", "nope"], actor=READER),
        lambda d: d.count_by_status(CaseQuery(statuses="done"), actor=READER),
    ])
    def test_refused_naming_the_field_and_the_choices(
            self, desk: ServiceDesk, call: Callable[[ServiceDesk], object]) -> None:
        with pytest.raises(UnknownValue) as info:
            call(desk)
        assert info.value.field == "statuses"
        assert "open" in info.value.allowed and "new" in info.value.allowed

    def test_known_statuses_still_list(self, desk: ServiceDesk) -> None:
        desk.create_case(subject="x", actor=READER)
        assert desk.count_cases(statuses=["new", "open"], actor=READER) == 1
        assert desk.find_cases(statuses=set(), actor=READER).items == ()  # empty: nothing


class TestCursorBinding:
    """A cursor continues only the list it came from."""

    def test_other_filters_or_another_scope_are_refused(self, make_store: Callable[[], Store],
                                                        clock: FrozenClock) -> None:
        desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                           settings=TenantSettings(access=AccessPolicy.default()))
        _seed(desk, clock)
        page = desk.find_cases(actor=ANA, limit=2)
        assert page.next_cursor is not None
        assert desk.find_cases(actor=ANA, limit=5, after=page.next_cursor).items
        for actor, filters in ((ANA, {"teams": "tier1"}), (ANA, {"statuses": "new"}),
                               (LEAD, {}), (BO, {})):
            with pytest.raises(InvalidInput) as info:
                desk.find_cases(actor=actor, after=page.next_cursor, limit=2, **filters)
            assert info.value.field == "after"


class TestCategoryMigration:
    """Schema 3 adds the category column and fills it from the stored documents."""

    def test_sqlite_back_fills_existing_cases(self, tmp_path: Path,
                                              clock: FrozenClock) -> None:
        path = tmp_path / "old.db"
        store = SqliteStore(path)
        desk = ServiceDesk(store, tenant="acme", clock=clock)
        desk.create_case(subject="a", actor=READER, category="Billing")
        desk.create_case(subject="b", actor=READER)
        store.close()
        conn = sqlite3.connect(path)  # back to schema 2: no category column, no article stamp
        with conn:
            for statement in (*undo_migration_10(), *UNDO_MIGRATION_6_SQLITE):  # 10, 6
                conn.execute(statement)
            for statement in undo_migration_5():
                conn.execute(statement)
            conn.execute("DROP INDEX cases_category")
            conn.execute("ALTER TABLE cases DROP COLUMN category")
            conn.execute("DROP TABLE kb_versions")
            conn.execute("DELETE FROM schema_version WHERE version >= 3")
        conn.close()
        store = SqliteStore(path)
        try:
            desk = ServiceDesk(store, tenant="acme", clock=clock)
            assert desk.count_cases(categories="Billing", actor=READER) == 1
            [row] = desk.find_cases(categories="Billing", actor=READER).items
            assert (row.subject, row.category) == ("a", "Billing")
            # migration 6 back-filled the search terms of the cases already there
            assert [r.subject for r in desk.find_cases(text="A", actor=READER).items] == ["a"]
        finally:
            store.close()

    def test_postgres_back_fills_existing_cases(self, pg_schema: str,  # noqa: F811
                                                clock: FrozenClock) -> None:
        require_server()
        import psycopg

        from caselib.storage.postgres import PostgresStore

        store = PostgresStore(DSN, schema=pg_schema)
        desk = ServiceDesk(store, tenant="acme", clock=clock)
        desk.create_case(subject="a", actor=READER, category="Billing")
        desk.create_case(subject="b", actor=READER)
        store.close()
        with psycopg.connect(DSN, autocommit=True) as conn:
            for statement in undo_migration_10(f'"{pg_schema}".'):
                conn.execute(statement)
            conn.execute(f'ALTER TABLE "{pg_schema}".cases DROP COLUMN search')  # migration 6
            conn.execute(f'ALTER TABLE "{pg_schema}".cases DROP COLUMN terms')
            conn.execute(f'DROP INDEX "{pg_schema}".cases_queue')
            for statement in undo_migration_5(f'"{pg_schema}".'):
                conn.execute(statement)
            conn.execute(f'DROP INDEX "{pg_schema}".cases_category')
            conn.execute(f'ALTER TABLE "{pg_schema}".cases DROP COLUMN category')
            conn.execute(f'DROP TABLE "{pg_schema}".kb_versions')
            conn.execute(f'DELETE FROM "{pg_schema}".schema_version WHERE version >= 3')
        store = PostgresStore(DSN, schema=pg_schema)
        try:
            desk = ServiceDesk(store, tenant="acme", clock=clock)
            assert desk.count_cases(categories="Billing", actor=READER) == 1
            [row] = desk.find_cases(categories="Billing", actor=READER).items
            assert (row.subject, row.category) == ("a", "Billing")
            # migration 6 back-filled the search terms of the cases already there
            assert [r.subject for r in desk.find_cases(text="A", actor=READER).items] == ["a"]
        finally:
            store.close()
