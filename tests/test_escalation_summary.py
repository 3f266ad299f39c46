"""The escalation level as a summary column (schema migration 10): list rows show it, the
``escalated`` filter finds the escalated cases on every store, the breach sweep's lean save
keeps the column in step, and files and schemas written before migration 10 are back-filled
from the stored documents."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from caselib import CaseQuery, InvalidInput, ServiceDesk, Store
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from pg import DSN, pg_schema, require_server  # noqa: F401  (pg_schema is a fixture)
from test_desk_automation import ADMIN, ANA, ladder_desk
from test_desk_queries import undo_migration_10


def _two_cases(desk: ServiceDesk) -> tuple[str, str]:
    """One case escalated to the ladder's ``manager`` level, one never escalated."""
    up = desk.create_case(subject="Down", actor=ANA, priority="high", assignee="ana",
                          team="support").id
    calm = desk.create_case(subject="Fine", actor=ANA, assignee="ana", team="support").id
    desk.escalate(up, actor=ANA, reason="customer called twice")
    return up, calm


def test_lists_show_and_filter_the_level(make_store: Callable[[], Store],
                                         clock: FrozenClock) -> None:
    desk = ladder_desk(make_store(), clock)
    up, calm = _two_cases(desk)
    levels = {s.id: s.escalation_level for s in desk.find_cases(actor=ADMIN).items}
    assert levels == {up: "manager", calm: None}
    assert [s.id for s in desk.find_cases(actor=ADMIN, escalated=True).items] == [up]
    assert [s.id for s in desk.find_cases(actor=ADMIN, escalated=False).items] == [calm]
    assert desk.count_cases(actor=ADMIN, escalated=True) == 1
    desk.escalate(up, actor=ANA, reason="still down")
    [row] = desk.find_cases(actor=ADMIN, escalated=True).items
    assert (row.id, row.escalation_level) == (up, "tier2")


def test_a_cursor_of_an_unfiltered_list_still_pages(make_store: Callable[[], Store],
                                                    clock: FrozenClock) -> None:
    """``escalated`` joins the cursor digest only when set: cursors handed out before the
    filter existed still page; an escalated list's cursor pages only that list."""
    desk = ladder_desk(make_store(), clock)
    _two_cases(desk)
    plain = CaseQuery(limit=1)
    assert plain.filter_digest() == CaseQuery(limit=1, escalated=None).filter_digest()
    assert plain.filter_digest() != CaseQuery(limit=1, escalated=False).filter_digest()
    first = desk.find_cases(actor=ADMIN, escalated=False, limit=1)
    assert first.next_cursor is None
    page = desk.find_cases(actor=ADMIN, limit=1)
    assert page.next_cursor is not None
    with pytest.raises(InvalidInput):
        desk.find_cases(actor=ADMIN, escalated=True, after=page.next_cursor)
    with pytest.raises(InvalidInput):
        CaseQuery(escalated="yes")  # type: ignore[arg-type]


def test_the_breach_sweep_keeps_the_column_in_step(make_store: Callable[[], Store],
                                                   clock: FrozenClock) -> None:
    """A breach climbs the ladder through the sweep's lean save on the SQL stores: the list
    row shows the level that the whole case shows."""
    desk = ladder_desk(make_store(), clock)
    cid = desk.create_case(subject="Down", actor=ANA, priority="urgent", assignee="ana",
                           team="support").id
    clock.advance(timedelta(days=3))
    desk.sweep_breaches(actor=ADMIN)
    level = desk.get_case(cid, actor=ADMIN).escalation_level
    assert level is not None
    [row] = desk.find_cases(actor=ADMIN, escalated=True).items
    assert (row.id, row.escalation_level) == (cid, level)


def test_sqlite_file_of_schema_9_is_back_filled(tmp_path: Path, clock: FrozenClock) -> None:
    path = tmp_path / "v9.db"
    store = SqliteStore(path)
    up, calm = _two_cases(ladder_desk(store, clock))
    store.close()
    conn = sqlite3.connect(path)
    with conn:
        for statement in undo_migration_10():
            conn.execute(statement)
        conn.execute("DELETE FROM schema_version WHERE version >= 10")
    conn.close()
    _assert_back_filled(SqliteStore(path), clock, up, calm)


def _assert_back_filled(store: Store, clock: FrozenClock, up: str, calm: str) -> None:
    """The reopened store lists the escalated case with its level, and only it."""
    try:
        desk = ladder_desk(store, clock)
        [row] = desk.find_cases(actor=ADMIN, escalated=True).items
        assert (row.id, row.escalation_level) == (up, "manager")
        assert [s.id for s in desk.find_cases(actor=ADMIN, escalated=False).items] == [calm]
    finally:
        store.close()


def test_postgres_schema_9_is_back_filled(pg_schema: str,  # noqa: F811
                                          clock: FrozenClock) -> None:
    require_server()
    import psycopg

    from caselib.storage.postgres import PostgresStore

    store = PostgresStore(DSN, schema=pg_schema)
    up, calm = _two_cases(ladder_desk(store, clock))
    store.close()
    with psycopg.connect(DSN, autocommit=True) as conn:
        for statement in undo_migration_10(f'"{pg_schema}".'):
            conn.execute(statement)
        conn.execute(f'DELETE FROM "{pg_schema}".schema_version WHERE version >= 10')
    _assert_back_filled(PostgresStore(DSN, schema=pg_schema), clock, up, calm)


def test_any_level_a_case_holds_round_trips_in_its_summary(clock: FrozenClock) -> None:
    """A case document accepts a level name up to 200 characters; the list row of that case
    reads back too (the summary reader must not be stricter than the case's)."""
    from caselib import MemoryStore
    from caselib.ports import CaseSummary
    from caselib.serialize import from_dict, to_dict

    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    case = desk.create_case(subject="Down", actor=ANA)
    case.record_escalation("L" * 150, None, actor=ANA, at=clock.now())
    again = from_dict(to_dict(case), type(case))
    assert again.escalation_level == "L" * 150
    summary = CaseSummary.of(case)
    assert from_dict(to_dict(summary), CaseSummary) == summary
