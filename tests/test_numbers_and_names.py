"""Case numbers people type, and the names people go by (issue 16, point 8), on every store.

``get_case_by_number`` finds ``CASE-0001`` from ``case-0001``; an actor's display name is kept
on the timeline entries it writes (and survives the SQLite and PostgreSQL codecs) and shows in
a customer's view of the replies.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actors import READER
from caselib import (
    Actor,
    CaseNotFound,
    CasePolicy,
    InvalidInput,
    MemoryStore,
    NumberFormat,
    ServiceDesk,
    TenantSettings,
    TimelineEntry,
)
from caselib.ports import Store
from caselib.storage.codec import entry_from_dict, entry_to_dict
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from caselib.vocab import ActorKind, Audience
from pg import DSN

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["memory", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    """Each of the three stores, fresh."""
    if request.param == "memory":
        yield MemoryStore()
        return
    if request.param == "sqlite":
        s: Any = SqliteStore(tmp_path / "cases.db", timeout=10)
    else:
        from caselib.storage.postgres import PostgresStore

        s = PostgresStore(DSN, schema=request.getfixturevalue("pg_schema"))
    try:
        yield s
    finally:
        s.close()


def desk_over(store: Store, numbers: NumberFormat | None = None) -> ServiceDesk:
    settings = TenantSettings(policy=CasePolicy(numbers=numbers or NumberFormat()))
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0), settings=settings)


class TestCaseNumbers:
    """Numbers resolve whatever their letter case, the same on every store."""

    @pytest.mark.parametrize("typed", ["CASE-0002", "case-0002", "Case-0002", " cAsE-0002\t"])
    def test_any_letter_case_finds_the_case(self, store: Store, typed: str) -> None:
        """case-0002, Case-0002 and blank-padded spellings all find CASE-0002."""
        desk = desk_over(store)
        ana = Actor.agent("ana")
        desk.create_case(subject="first", actor=ana)
        second = desk.create_case(subject="second", actor=ana)
        assert second.number == "CASE-0002"
        assert desk.get_case_by_number(typed, actor=READER).id == second.id

    def test_a_missing_number_is_still_not_found(self, store: Store) -> None:
        """An unknown number raises CaseNotFound naming the canonical spelling."""
        desk = desk_over(store)
        desk.create_case(subject="first", actor=Actor.agent("ana"))
        with pytest.raises(CaseNotFound, match="CASE-0009"):
            desk.get_case_by_number("case-0009", actor=READER)
        with pytest.raises(CaseNotFound):
            desk.get_case_by_number("", actor=READER)

    def test_a_tenant_prefix_and_an_earlier_prefix(self, store: Store) -> None:
        """sc-001 finds SC-001; after the tenant moved to CASE-, sc-001 is still found."""
        old = desk_over(store, NumberFormat("SC-", 3))
        case = old.create_case(subject="old", actor=Actor.agent("ana"))
        assert case.number == "SC-001"
        assert old.get_case_by_number("sc-001", actor=READER).id == case.id
        assert desk_over(store).get_case_by_number("sc-001", actor=READER).id == case.id

    def test_a_non_text_number_is_refused(self, store: Store) -> None:
        """A number that is not text is bad input, not a store error."""
        with pytest.raises(InvalidInput, match="case number is text"):
            desk_over(store).get_case_by_number(1, actor=READER)  # type: ignore[arg-type]

    def test_spellings(self) -> None:
        """The canonical spelling first; unprefixed numbers as typed, then upper-cased."""
        fmt = NumberFormat()
        assert fmt.spellings(" case-0042") == ("CASE-0042",)
        assert fmt.spellings("CASE-0042") == ("CASE-0042",)
        assert fmt.spellings("sc-184") == ("sc-184", "SC-184")
        assert fmt.spellings("SC-184") == ("SC-184",)
        assert NumberFormat("", 4).spellings("0042") == ("0042",)


class TestDisplayNames:
    """An actor's display name is kept on what it writes and shown to customers."""

    def test_names_survive_the_store_and_show_in_the_customer_view(self, store: Store) -> None:
        """Entries keep the writer's name through a reload; replies show "Ana", not a login."""
        desk = desk_over(store)
        ana = Actor.agent("u-481", name="Ana Ruiz")
        kim = Actor.customer("c-77", name="Kim")
        bob = Actor.agent("bob")  # no display name
        case = desk.create_case(subject="VPN drops", actor=ana, links={"contact": kim.id})
        desk.add_comment(case.id, "Which client version?", actor=ana, audience="public")
        desk.add_comment(case.id, "3.2", actor=kim, audience="public")
        desk.add_comment(case.id, "vendor ticket 9", actor=bob)
        desk.add_comment(case.id, "We are on it", actor=bob, audience="public")
        loaded = desk_over(store).get_case(case.id, actor=READER)
        written = [e for e in loaded.timeline if e.kind in ("created", "note", "reply")]
        assert [(e.actor, e.actor_name) for e in written] == [
            ("u-481", "Ana Ruiz"), ("u-481", "Ana Ruiz"), ("c-77", "Kim"), ("bob", None),
            ("bob", None),
        ]
        routed = next(e for e in loaded.timeline if e.kind == "routed")
        assert routed.actor_name is None and routed.shown_as == "router"
        view = desk.customer_view(case.id, actor=READER)
        assert [(r.author, r.author_name, r.shown_as) for r in view.replies] == [
            ("u-481", "Ana Ruiz", "Ana Ruiz"), ("c-77", "Kim", "Kim"), ("bob", None, "bob"),
        ]

    def test_a_name_on_an_activity_entry(self, store: Store) -> None:
        """Status changes and other activity keep the name too (the portal's history)."""
        desk = desk_over(store)
        ana = Actor.agent("u-481", name="Ana")
        case = desk.create_case(subject="x", actor=ana)
        desk.transition(case.id, "open", actor=ana)
        last = desk_over(store).get_case(case.id, actor=READER).timeline[-1]
        assert (last.kind, last.actor_name) == ("status_changed", "Ana")


class TestStoredForm:
    """The entry's stored form: the name only when there is one; old entries still load."""

    def test_sqlite_rows_carry_the_name_only_when_set(self, tmp_path: Path) -> None:
        """A nameless actor's entry is stored exactly as before names were kept."""
        store = SqliteStore(tmp_path / "cases.db", timeout=10)
        try:
            desk = desk_over(store)
            case = desk.create_case(subject="x", actor=Actor.agent("ana", name="Ana"))
            desk.add_comment(case.id, "n", actor=Actor.agent("bob"))
        finally:
            store.close()
        with sqlite3.connect(tmp_path / "cases.db") as conn:
            rows = [json.loads(r[0]) for r in conn.execute(
                "SELECT entry FROM timeline ORDER BY seq")]
        assert rows[0]["actor_name"] == "Ana"
        assert "actor_name" not in rows[-1]
        assert list(rows[-1]) == ["seq", "at", "actor", "actor_kind", "audience", "kind",
                                  "body", "data", "redaction"]

    def test_an_old_entry_loads_without_a_name(self) -> None:
        """An entry dict written before names were kept loads with actor_name None."""
        old = {"seq": 1, "at": "2026-01-05T09:00:00.000000+00:00", "actor": "ana",
               "actor_kind": "agent", "audience": "internal", "kind": "note", "body": "hi",
               "data": {}, "redaction": None}
        entry = entry_from_dict(old)
        assert (entry.actor_name, entry.shown_as) == (None, "ana")
        assert entry_to_dict(entry) == old

    @settings(max_examples=200, deadline=None)
    @given(name=st.none() | st.text(min_size=1), actor=st.text(min_size=1), body=st.text())
    def test_the_fast_entry_json_equals_the_codec(self, name: str | None, actor: str,
                                                  body: str) -> None:
        """SQL stores' hand-written entry JSON equals dumps(entry_to_dict(e)), names included,
        and reads back to the same entry."""
        from caselib.storage._sql import dumps, entry_json

        entry = TimelineEntry(1, T0, actor, ActorKind.AGENT, Audience.PUBLIC, "reply", body,
                              {}, None, name)
        assert entry_json(entry) == dumps(entry_to_dict(entry))
        assert entry_from_dict(json.loads(entry_json(entry))) == entry


class TestActorNames:
    """Display names are text: trimmed, blank means none, anything else is refused."""

    def test_trimmed_and_blank(self) -> None:
        assert Actor.agent("a", name=" Ana ").name == "Ana"
        assert Actor.customer("c", name="   ").name is None
        assert Actor("a").name is None

    @pytest.mark.parametrize("bad", [5, b"Ana", "A\x00na", "x" * 201])
    def test_refused(self, bad: object) -> None:
        with pytest.raises(InvalidInput):
            Actor.agent("a", name=bad)  # type: ignore[arg-type]
