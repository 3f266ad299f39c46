"""SQLite store: the storage contract, plus adapter-specific checks.

``StoreChecks`` (imported by ``test_store_postgres``) holds what the generic contract in
:mod:`caselib.testing.conformance` does not cover: batch import, reopening, and query/paging
parity with the reference ``MemoryStore`` on a varied data set.
"""


from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib.cases import Case
from caselib.errors import DuplicateKey, InvalidInput
from caselib.ports import CaseQuery, Store
from caselib.storage.memory import MemoryStore
from caselib.testing.conformance import assert_same_case, make_case
from caselib.vocab import Priority

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
STATUSES = ("new", "open", "in_progress", "pending_customer", "resolved", "closed")
AGENTS = ("ana", "bo", "cy", None)
TEAMS = ("tier1", "tier2", None)
TAGS = ("vip", "billing", "printer")


def varied_cases(tenant: str, n: int) -> list[Case]:
    """``n`` cases with a mix of every queried column, ties included (same created_at)."""
    out = []
    for i in range(1, n + 1):
        status = STATUSES[i % len(STATUSES)]
        due = T0 + timedelta(hours=i % 7) if i % 3 else None
        case = make_case(
            tenant, i, at=T0 + timedelta(minutes=i // 3), status=status,
            assignee=AGENTS[i % 4], team=TEAMS[i % 3], due=due, breached=(i % 5 == 0),
            priority=list(Priority)[i % 4].value,
            tags=[t for k, t in enumerate(TAGS) if (i >> k) & 1],
        )
        out.append(case)
    return out


def clones(cases: list[Case]) -> list[Case]:
    return [c.clone() for c in cases]


def fill(store: Store, tenant: str, cases: list[Case]) -> None:
    with store.unit_of_work(tenant) as uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()


queries = st.builds(
    CaseQuery,
    statuses=st.none() | st.frozensets(st.sampled_from(STATUSES)),
    status_categories=st.none() | st.frozensets(
        st.sampled_from(["new", "open", "waiting", "resolved", "closed"]), min_size=1),
    priorities=st.none() | st.frozensets(st.sampled_from(list(Priority)), min_size=1),
    assignees=st.none() | st.frozensets(st.sampled_from(["ana", "bo", "zed"])),
    teams=st.none() | st.frozensets(st.sampled_from(["tier1", "tier2"]), min_size=1),
    unassigned=st.none() | st.booleans(),
    tags=st.none() | st.frozensets(st.sampled_from(TAGS), max_size=2),
    breached=st.none() | st.booleans(),
    due_before=st.none() | st.sampled_from([T0 + timedelta(hours=h) for h in (0, 2, 5)]),
    created_from=st.none() | st.sampled_from([T0, T0 + timedelta(minutes=5)]),
    created_before=st.none() | st.sampled_from([T0 + timedelta(minutes=10)]),
    order=st.sampled_from(["created", "-created", "updated", "-updated", "due", "-priority"]),
    limit=st.integers(1, 9),
)


def all_pages(store: Store, tenant: str, query: CaseQuery) -> list[list[str]]:
    pages: list[list[str]] = []
    after = None
    while True:
        with store.unit_of_work(tenant) as uow:
            page = uow.cases.query(CaseQuery(**{**_fields(query), "after": after}))
        pages.append([s.id for s in page.items])
        if page.next_cursor is None:
            return pages
        after = page.next_cursor
        assert len(pages) < 200


def _fields(query: CaseQuery) -> dict[str, Any]:
    import attrs

    return attrs.asdict(query, recurse=False)


class StoreChecks:
    """Mixin: needs a ``store`` fixture and a ``reopen`` fixture (a callable that opens the
    same data again)."""

    tenant = "acme"

    def test_pages_equal_memory_store_pages(self, store: Store) -> None:
        """Every filter and order pages exactly like the reference store (cursor for cursor)."""
        cases = varied_cases(self.tenant, 60)
        memory = MemoryStore()
        fill(memory, self.tenant, clones(cases))
        fill(store, self.tenant, clones(cases))

        @settings(max_examples=60, deadline=None)
        @given(query=queries)
        def check(query: CaseQuery) -> None:
            assert all_pages(store, self.tenant, query) == all_pages(memory, self.tenant, query)
            with memory.unit_of_work(self.tenant) as m, store.unit_of_work(self.tenant) as s:
                assert s.cases.count_by_status(query) == m.cases.count_by_status(query)
                assert (s.cases.open_counts(["ana", "bo", "zed"])
                        == m.cases.open_counts(["ana", "bo", "zed"]))
                first_s = s.cases.query(query)
                first_m = m.cases.query(query)
                assert first_s == first_m  # summaries and the cursor string itself

        check()

    def test_import_cases(self, store: Store) -> None:
        """A batch import with events stores cases at version 1 with timeline, tags and events
        exactly as one-by-one adds do."""
        cases = varied_cases(self.tenant, 30)
        reference = clones(cases)
        assert store.import_cases(cases, events=True) == 30  # type: ignore[attr-defined]
        assert all(c.version == 1 and not c.pending_events for c in cases)
        memory = MemoryStore()
        fill(memory, self.tenant, reference)
        with store.unit_of_work(self.tenant) as s, memory.unit_of_work(self.tenant) as m:
            for case in cases:
                assert s.cases.get(case.id).timeline == m.cases.get(case.id).timeline
            assert s.cases.query(CaseQuery(tags={"vip"}, limit=100)) == m.cases.query(
                CaseQuery(tags={"vip"}, limit=100))
            assert [x.key for x in s.outbox.pending(1000)] == [
                x.key for x in m.outbox.pending(1000)]

    def test_import_drops_events_by_default(self, store: Store) -> None:
        """An import is a migration of history: by default nothing reaches the outbox."""
        cases = varied_cases(self.tenant, 10)
        reference = clones(cases)
        assert store.import_cases(cases) == 10  # type: ignore[attr-defined]
        assert all(c.version == 1 and not c.pending_events for c in cases)
        memory = MemoryStore()
        fill(memory, self.tenant, reference)
        with store.unit_of_work(self.tenant) as s, memory.unit_of_work(self.tenant) as m:
            assert s.outbox.pending(1000) == []
            for case in reference:
                assert s.cases.get(case.id).timeline == m.cases.get(case.id).timeline
            assert s.cases.count_by_status() == m.cases.count_by_status()

    def test_import_is_all_or_nothing(self, store: Store) -> None:
        """A duplicate anywhere in the batch writes nothing."""
        fill(store, self.tenant, [make_case(self.tenant, 5)])
        batch = [make_case(self.tenant, n) for n in range(1, 9)]
        with pytest.raises(DuplicateKey):
            store.import_cases(batch)  # type: ignore[attr-defined]
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.count_by_status() == {"new": 1}

    def test_import_refuses_saved_cases(self, store: Store) -> None:
        """Only new cases can be imported."""
        case = make_case(self.tenant, 1)
        fill(store, self.tenant, [case])
        with pytest.raises(InvalidInput):
            store.import_cases([case])  # type: ignore[attr-defined]

    def test_reopen_after_close(self, store: Store, reopen: Callable[[], Store]) -> None:
        """Data (incl. a redaction and the number counter) survives closing and reopening."""
        case = make_case(self.tenant, 1)
        case.add_comment("secret 1234", audience="public", actor=_agent(), at=T0)
        fill(store, self.tenant, [case])
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.redact_comment(2, reason="card number", actor=_agent(), at=T0)
            uow.cases.save(loaded, 1)
            assert uow.numbers.next_number() == 1
            uow.commit()
        store.close()
        again = reopen()
        try:
            with again.unit_of_work(self.tenant) as uow:
                stored = uow.cases.get(case.id)
                assert stored.version == 2
                assert stored.timeline[1].redaction is not None
                assert "1234" not in stored.timeline[1].body
                assert uow.numbers.next_number() == 2
        finally:
            again.close()


def _agent() -> Any:
    from caselib.cases import Actor

    return Actor.agent("ana")


# --- SQLite ---------------------------------------------------------------------------------

import sqlite3  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

from caselib.errors import SchemaMismatch  # noqa: E402
from caselib.storage.sqlite import SCHEMA_VERSION, SqliteStore  # noqa: E402
from caselib.testing.conformance import StoreContract  # noqa: E402


class TestSqliteConformance(StoreContract):
    """The generic storage contract on a SQLite file, with a second handle on the same file."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqliteStore]:
        s = SqliteStore(tmp_path / "cases.db", timeout=10)
        yield s
        s.close()

    @pytest.fixture
    def second_store(self, store: SqliteStore) -> Iterator[SqliteStore]:
        s = SqliteStore(store.path, timeout=10)
        yield s
        s.close()


class TestSqliteStore(StoreChecks):
    """SQLite-specific behaviour: schema, pragmas, plans, batch import."""

    @pytest.fixture
    def store(self, tmp_path: Path) -> Iterator[SqliteStore]:
        s = SqliteStore(tmp_path / "cases.db", timeout=10)
        yield s
        s.close()

    @pytest.fixture
    def reopen(self, store: SqliteStore) -> Callable[[], Store]:
        return lambda: SqliteStore(store.path)

    def test_newer_schema_is_refused_untouched(self, tmp_path: Path) -> None:
        """A file from a newer caselib raises SchemaMismatch and is not modified."""
        path = tmp_path / "future.db"
        SqliteStore(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("INSERT INTO schema_version VALUES (?, 'later')", (SCHEMA_VERSION + 1,))
        conn.close()
        before = path.read_bytes()
        with pytest.raises(SchemaMismatch, match="Upgrade caselib"):
            SqliteStore(path)
        assert path.read_bytes() == before

    def test_version_3_file_is_migrated_forward(self, tmp_path: Path) -> None:
        """A file written before the article stamp gains its table on open; articles stay."""
        path = tmp_path / "v3.db"
        SqliteStore(path).close()
        with sqlite3.connect(path) as conn:
            _undo_text_search(conn)
            _drop_migration_5(conn)
            conn.execute("DROP TABLE kb_versions")
            conn.execute("DELETE FROM schema_version WHERE version > 3")
        conn.close()
        store = SqliteStore(path)
        try:
            with store.unit_of_work("acme") as uow:
                assert uow.articles.version() == 0
        finally:
            store.close()

    def test_version_4_file_gains_text_search(self, tmp_path: Path) -> None:
        """Migration 6 back-fills the search terms of the cases a file already holds."""
        path = tmp_path / "v4.db"
        store = SqliteStore(path)
        with store.unit_of_work("acme") as uow:
            uow.cases.add(make_case("acme", 1, subject="Printer jammed"))
            uow.commit()
        store.close()
        with sqlite3.connect(path) as conn:
            _undo_text_search(conn)
            _drop_migration_5(conn)
            conn.execute("DELETE FROM schema_version WHERE version > 4")
        conn.close()
        store = SqliteStore(path)
        try:
            with store.unit_of_work("acme") as uow:
                found = uow.cases.query(CaseQuery(text="printer JAM*")).items
                assert [s.number for s in found] == ["CASE-0001"]
        finally:
            store.close()

    def test_wal_and_foreign_keys(self, store: SqliteStore) -> None:
        """Connections run in WAL mode with foreign keys on."""
        conn = store._pool.checkout()
        try:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        finally:
            store._pool.checkin(conn)

    def test_memory_path_is_refused(self) -> None:
        """':memory:' would give each pooled connection its own database."""
        with pytest.raises(InvalidInput):
            SqliteStore(":memory:")

    def test_inbox_query_uses_the_partial_index(self, store: SqliteStore) -> None:
        """One agent's active cases in created order read the inbox index, with no sort."""
        from caselib.storage._sql import query_sql
        from caselib.storage.sqlite import DIALECT

        q = CaseQuery(assignees={"ana"}, status_categories={"new", "open", "waiting"})
        sql, params = query_sql(q, "acme", DIALECT)
        conn = store._pool.checkout()
        try:
            plan = " ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        finally:
            store._pool.checkin(conn)
        assert "cases_inbox" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

    def _plan(self, store: SqliteStore, sql: str, params: Any) -> str:
        conn = store._pool.checkout()
        try:
            return " ".join(r[-1] for r in conn.execute("EXPLAIN QUERY PLAN " + sql, params))
        finally:
            store._pool.checkin(conn)

    def test_due_sweep_uses_the_partial_due_index(self, store: SqliteStore) -> None:
        """The breach sweep (active, due before now, due order) reads cases_due, no sort."""
        from caselib.storage._sql import query_sql
        from caselib.storage.sqlite import DIALECT

        q = CaseQuery(due_before=T0, status_categories={"new", "open", "waiting"}, order="due")
        plan = self._plan(store, *query_sql(q, "acme", DIALECT))
        assert "cases_due" in plan, plan
        assert "TEMP B-TREE" not in plan, plan

    def test_board_counts_read_the_status_index_only(self, store: SqliteStore) -> None:
        """count_by_status is a GROUP BY over the (tenant, status) index, never the table."""
        from caselib.storage._sql import count_by_status_sql
        from caselib.storage.sqlite import DIALECT

        plan = self._plan(store, *count_by_status_sql(None, "acme", DIALECT))
        assert "COVERING INDEX cases_status" in plan, plan

    def test_busy_writer_times_out_as_storage_error(self, store: SqliteStore) -> None:
        """A writer blocked past the timeout gets a StorageError, not a driver error."""
        from caselib.errors import StorageError

        impatient = SqliteStore(store.path, timeout=0.05)
        try:
            with store.unit_of_work(self.tenant) as holder:
                holder.numbers.next_number()
                with impatient.unit_of_work(self.tenant) as other, pytest.raises(
                        StorageError, match="locked"):
                    other.numbers.next_number()
        finally:
            impatient.close()

    def test_several_processes_create_cases(self, store: SqliteStore) -> None:
        """Processes writing one file at once: every case stored, numbers never repeat."""
        import multiprocessing

        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(3) as pool:
            numbers = pool.starmap(_create_many, [(store.path, 15)] * 3)
        flat = [n for chunk in numbers for n in chunk]
        assert len(flat) == len(set(flat)) == 45
        with store.unit_of_work(self.tenant) as uow:
            assert sum(uow.cases.count_by_status().values()) == 45


def _create_many(path: str, n: int) -> list[str]:
    from caselib import Actor, ServiceDesk

    store = SqliteStore(path)
    try:
        desk = ServiceDesk(store, tenant="acme")
        return [desk.create_case(subject=f"case {i}", actor=Actor.agent("ana")).number
                for i in range(n)]
    finally:
        store.close()


class TestRowEncoding:
    """The hand-written row encoders produce exactly what the generic JSON path produces."""

    @settings(max_examples=300, deadline=None)
    @given(
        seq=st.integers(min_value=1, max_value=2**40),
        text=st.text(), actor=st.text(min_size=1), kind=st.text(min_size=1),
        data=st.dictionaries(st.text(), st.none() | st.booleans() | st.integers() | st.text()
                             | st.floats(allow_nan=False) | st.lists(st.text(), max_size=3)),
        redacted=st.booleans(),
        at=st.datetimes(timezones=st.just(UTC)),
    )
    def test_entry_json_is_dumps_of_entry_to_dict(
            self, seq: int, text: str, actor: str, kind: str, data: dict[str, Any],
            redacted: bool, at: datetime) -> None:
        """entry_json(e) == dumps(entry_to_dict(e)) for any text, data and redaction."""
        from caselib.cases import Redaction, TimelineEntry
        from caselib.storage._sql import dumps, entry_json
        from caselib.storage.codec import entry_to_dict
        from caselib.vocab import ActorKind, Audience

        red = Redaction(actor, at, text) if redacted else None
        for kind_of_actor in ActorKind:
            for audience in Audience:
                entry = TimelineEntry(seq, at, actor, kind_of_actor, audience, kind, text, data,
                                      red)
                assert entry_json(entry) == dumps(entry_to_dict(entry))

    @settings(max_examples=200, deadline=None)
    @given(texts=st.lists(st.text(), min_size=1, max_size=4),
           numbers=st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=3))
    def test_a_case_s_entries_read_in_one_parse_are_those_read_one_by_one(
            self, texts: list[str], numbers: list[int]) -> None:
        """_case_from parses a case's SQLite entries as one array: the same entries as one
        parse each, big integers included (the fast parser's fallback sees the whole)."""
        from caselib.cases import TimelineEntry
        from caselib.storage._sql.jsontext import dumps
        from caselib.storage._sql.rows import _case_from, case_row, entry_json
        from caselib.storage.codec import entry_from_dict
        from caselib.vocab import ActorKind, Audience

        case = make_case("acme", 1)
        entries = [TimelineEntry(i + 1, T0, "ana", ActorKind.AGENT, Audience.INTERNAL, "note",
                                 text, {"n": numbers}) for i, text in enumerate(texts)]
        raw = [entry_json(e) for e in entries]
        doc = case_row(case, 1)[-1]
        got = _case_from((doc, raw, ()))
        assert got.timeline == [entry_from_dict(json.loads(r)) for r in raw]
        assert dumps([e.data for e in got.timeline]) == dumps([{"n": numbers}] * len(texts))

    @pytest.mark.parametrize("damaged", ["", " ", '{"seq": 1},{"seq": 2}', "[1]"])
    def test_a_damaged_entry_still_fails_on_its_own(self, damaged: str) -> None:
        """A damaged stored entry is not read as something else (e.g. as no entry, or as
        two) by the one-array parse: it fails as it does when parsed alone."""
        from caselib.storage._sql.rows import _case_from, case_row

        doc = case_row(make_case("acme", 1), 1)[-1]
        with pytest.raises((ValueError, TypeError, KeyError, AttributeError)):
            _case_from((doc, [damaged], ()))

    def test_event_payload_matches_the_generic_conversion(self) -> None:
        """The per-class fast path of event_payload gives the same dict as converting
        every field (datetimes, tuples and nested dicts included)."""
        import attrs

        from caselib.cases import events as ev
        from caselib.timeutil import to_iso

        def generic(event: ev.DomainEvent) -> dict[str, Any]:
            def convert(value: Any) -> Any:
                if isinstance(value, datetime):
                    return to_iso(value)
                if isinstance(value, tuple):
                    return [convert(v) for v in value]
                if isinstance(value, dict):
                    return {k: convert(v) for k, v in value.items()}
                return value
            return {a.name: convert(getattr(event, a.name)) for a in attrs.fields(type(event))}

        samples: list[ev.DomainEvent] = [
            ev.CaseCreated("c", "t", T0, "ana", "CASE-1", "s", "high", "new"),
            ev.StatusChanged("c", "t", T0, "ana", "new", "open", "new", "open", None),
            ev.Assigned("c", "t", T0, "ana", None, "bo", None, "tier1", False),
            ev.FieldsUpdated("c", "t", T0, "ana", {"due": (T0, None), "x": ({"at": T0}, 1)}),
            ev.SlaBreached("c", "t", T0, "ana", "resolution", T0, 1.5, ("bo", "cy")),
            ev.Closed("c", "t", T0, "ana", None),
            ev.CsatRecorded("c", "t", T0, "ana", 5),
        ]
        for event in samples:
            fast = ev.event_payload(event)
            assert fast == generic(event)
            assert list(fast) == list(generic(event))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


class TestJsonEncoder:
    """The store's JSON encoder (orjson when installed) writes what the stdlib would read back
    as the same value, compact and without ASCII escaping."""

    @given(_JSON)
    def test_same_values_as_stdlib(self, value: object) -> None:
        from caselib.storage._sql import dumps

        text = dumps(value)
        assert json.loads(text) == value
        if isinstance(value, str) and value.isprintable():
            assert text == json.dumps(value, ensure_ascii=False)


    @given(_JSON)
    def test_decoder_reads_what_the_stdlib_reads(self, value: object) -> None:
        from caselib.storage._sql import loads

        text = json.dumps(value)
        assert loads(text) == json.loads(text)
        assert loads(text.encode()) == json.loads(text)

    @pytest.mark.parametrize("text", ['{"a": NaN}', "[123456789012345678901234567890]",
                                      '{"a": -Infinity}'])
    def test_decoder_falls_back_for_what_orjson_refuses(self, text: str) -> None:
        """Text the stdlib wrote (NaN, huge integers) still reads back, orjson or not."""
        import math

        from caselib.storage._sql import loads

        got, want = loads(text), json.loads(text)
        if isinstance(want, dict):
            assert math.isnan(got["a"]) if math.isnan(want["a"]) else got == want
        else:
            assert got == want


    def test_decoder_reads_lone_surrogates_like_the_stdlib(self) -> None:
        from caselib.storage._sql import loads

        assert loads('"\ud800"') == json.loads('"\ud800"')
        assert loads('["\\ud800"]') == json.loads('["\\ud800"]')


def test_corrupt_enum_values_fail_as_the_enum_does() -> None:
    """The codec's dict lookups keep the enum's own error for junk, hashable or not."""
    from caselib.storage.codec import case_from_document, case_to_document

    doc = case_to_document(make_case("acme", 1))
    for junk in (["high"], "sky-high"):
        with pytest.raises(ValueError, match="not a valid Priority"):
            case_from_document({**doc, "priority": junk}, [])


class TestPartialUpdates:
    """A save assigns only the columns that changed since the case was read (SQLite rewrites
    every index holding an assigned column, changed or not)."""

    def _updates(self, store: SqliteStore, change: Callable[[Case], None],
                 *, same_uow: bool = True) -> list[str]:
        case = make_case("acme", 1, team="support", assignee="ana")
        with store.unit_of_work("acme") as uow:
            uow.cases.add(case)
            uow.commit()
        seen: list[str] = []
        with store.unit_of_work("acme") as uow:
            loaded = uow.cases.get(case.id)
        with store.unit_of_work("acme") as uow:
            if same_uow:
                loaded = uow.cases.get(case.id)
            change(loaded)
            uow._connection().set_trace_callback(seen.append)  # type: ignore[attr-defined]
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work("acme") as uow:
            again = uow.cases.get(case.id)
        assert_same_case(again, loaded)
        # (the trace repeats a statement for each statement of a trigger it fires: the
        # full-text index's triggers on the ``terms`` column)
        return list(dict.fromkeys(sql for sql in seen if sql.startswith("UPDATE cases")))

    def test_only_changed_columns_are_assigned(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "c.db")
        try:
            (update,) = self._updates(store, lambda c: c.change_priority(
                Priority.HIGH, actor=_agent(), at=T0 + timedelta(hours=1)))
        finally:
            store.close()
        sets = update.split(" SET ")[1].split(" WHERE ")[0]
        assigned = {part.split(" = ")[0] for part in sets.split(", ")}
        assert assigned == {"priority", "priority_rank", "updated_at", "version", "doc"}

    def test_a_column_changed_out_of_band_is_repaired_by_the_next_save(
        self, tmp_path: Path
    ) -> None:
        """The comparison is with what the store returned, not with the case as read."""
        store = SqliteStore(tmp_path / "c.db")
        try:
            case = make_case("acme", 1, team="support")
            with store.unit_of_work("acme") as uow:
                uow.cases.add(case)
                uow.commit()
            conn = store._pool.checkout()
            conn.execute("UPDATE cases SET team = 'stale', next_due_at = '2000-01-01' "
                         "WHERE id = ?", (case.id,))
            conn.commit()
            store._pool.checkin(conn)
            with store.unit_of_work("acme") as uow:
                loaded = uow.cases.get(case.id)
                loaded.change_priority(Priority.HIGH, actor=_agent(), at=T0)
                uow.cases.save(loaded, 1)
                uow.commit()
            with store.unit_of_work("acme") as uow:
                (summary,) = uow.cases.query(CaseQuery(limit=5)).items
        finally:
            store.close()
        assert (summary.team, summary.next_due_at, summary.priority) == (
            "support", None, Priority.HIGH)

    def test_get_many_reads_more_ids_than_one_statement_takes(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "c.db")
        try:
            store.import_cases([make_case("acme", n) for n in range(1, 1201)])
            wanted = [f"case-{n:05d}" for n in range(1200, 0, -1)]
            with store.unit_of_work("acme") as uow:
                found = uow.cases.get_many([*wanted, "missing"])
        finally:
            store.close()
        assert [c.id for c in found] == wanted
        assert all(len(c.timeline) == 1 for c in found)

    def test_a_case_read_elsewhere_is_written_whole(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "c.db")
        try:
            (update,) = self._updates(store, lambda c: c.change_priority(
                Priority.HIGH, actor=_agent(), at=T0 + timedelta(hours=1)), same_uow=False)
        finally:
            store.close()
        assert " team = " in update and " status = " in update


def _open_at_once(path: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    try:
        SqliteStore(path).close()
        results.put("ok")
    except Exception as err:  # reported to the parent
        results.put(repr(err))


@pytest.mark.slow
def test_processes_opening_a_new_file_together(tmp_path: Path) -> None:
    """Three processes opening the same new file at once all succeed (switching the file to
    WAL answers "locked" at once instead of waiting; the store retries)."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    for round_ in range(15):
        path = str(tmp_path / f"race{round_}.sqlite3")
        barrier, results = ctx.Barrier(3, timeout=60), ctx.Queue()
        procs = [ctx.Process(target=_open_at_once, args=(path, barrier, results))
                 for _ in range(3)]
        for p in procs:
            p.start()
        for p in procs:
            p.join(60)
        assert sorted(results.get(timeout=10) for _ in procs) == ["ok"] * 3


class TestCheckpoints:
    """The WAL is copied into the database file off the writers' path (or inline, asked)."""

    @staticmethod
    def autocheckpoint(store: SqliteStore) -> int:
        conn = store._pool.checkout()
        try:
            return int(conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
        finally:
            store._pool.checkin(conn)

    @staticmethod
    def write_cases(store: SqliteStore, first: int, n: int = 40) -> None:
        fill(store, "acme", [make_case("acme", i) for i in range(first, first + n)])

    @staticmethod
    def wait_for_checkpoint(store: SqliteStore) -> None:
        """Until a background checkpoint has begun after the last committed write."""
        checkpointer = store._checkpointer
        assert checkpointer is not None
        target = checkpointer.poked
        with checkpointer.ran:
            assert checkpointer.ran.wait_for(lambda: checkpointer.covered >= target, timeout=60)

    def test_background_is_the_default_and_writers_keep_a_safety_net(
            self, tmp_path: Path) -> None:
        background = SqliteStore(tmp_path / "b.db")
        inline = SqliteStore(tmp_path / "i.db", checkpoint="inline")
        try:
            assert self.autocheckpoint(background) == 40_000
            assert self.autocheckpoint(inline) == 10_000
        finally:
            background.close()
            inline.close()

    @pytest.mark.parametrize("mode", ["background", "inline"])
    def test_the_wal_stays_at_one_batch_when_the_thread_checkpoints(
            self, tmp_path: Path, mode: str) -> None:
        """Each checkpoint lets the next writer start the WAL over, so it stays about one
        batch long; inline, below SQLite's threshold, nothing checkpoints and it grows."""
        store = SqliteStore(tmp_path / "cases.db", checkpoint=mode)  # type: ignore[arg-type]
        wal = Path(f"{store.path}-wal")
        sizes = []
        try:
            for batch in range(5):
                self.write_cases(store, 1 + 100 * batch)
                if mode == "background":
                    self.wait_for_checkpoint(store)
                sizes.append(wal.stat().st_size)
        finally:
            store.close()
        if mode == "background":
            assert sizes[-1] <= 2 * sizes[0], sizes
        else:
            assert sizes[-1] >= 3 * sizes[0], sizes

    def test_close_stops_the_thread_and_checkpoints(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "cases.db")
        self.write_cases(store, 1)
        assert store._checkpointer is not None
        thread = store._checkpointer._thread
        assert thread is not None and thread.is_alive()
        store.close()
        store.close()  # idempotent
        assert not thread.is_alive()
        with sqlite3.connect(store.path) as conn:  # nothing left to copy: all of it is in
            _, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        conn.close()
        assert frames == copied
        reopened = SqliteStore(store.path)
        try:
            with reopened.unit_of_work("acme") as uow:
                assert len(uow.cases.get_many([f"case-{i:05d}" for i in range(1, 41)])) == 40
        finally:
            reopened.close()

    def test_a_store_dropped_without_close_stops_its_thread(self, tmp_path: Path) -> None:
        import gc

        store = SqliteStore(tmp_path / "cases.db")
        self.write_cases(store, 1, 5)
        assert store._checkpointer is not None
        thread = store._checkpointer._thread
        assert thread is not None
        del store
        gc.collect()
        thread.join(timeout=30)
        assert not thread.is_alive()

    def test_inline_mode_starts_no_thread(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "cases.db", checkpoint="inline")
        try:
            self.write_cases(store, 1, 5)
            assert store._checkpointer is None
        finally:
            store.close()

    def test_explicit_checkpoint_lets_the_wal_start_over(self, tmp_path: Path) -> None:
        store = SqliteStore(tmp_path / "cases.db", checkpoint="inline")
        wal = Path(f"{store.path}-wal")
        try:
            self.write_cases(store, 1)
            first = wal.stat().st_size
            for batch in range(1, 5):
                store.checkpoint()
                self.write_cases(store, 1 + 100 * batch)
            assert wal.stat().st_size <= 2 * first
        finally:
            store.close()

    def test_unknown_mode_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(InvalidInput, match="checkpoint"):
            SqliteStore(tmp_path / "cases.db", checkpoint="sometimes")  # type: ignore[arg-type]
        assert not (tmp_path / "cases.db").exists()


def _drop_migration_5(conn: sqlite3.Connection) -> None:
    """Undo schema migration 5 (its indexes, then its columns): a version-4 file."""
    from test_desk_queries import undo_migration_5

    for statement in undo_migration_5():
        conn.execute(statement)


def _undo_text_search(conn: sqlite3.Connection) -> None:
    """Take a file back to before schema migration 6 (text search), migration 10 (the
    escalation level column) undone first."""
    from test_desk_queries import UNDO_MIGRATION_6_SQLITE, undo_migration_10

    for statement in (*undo_migration_10(), *UNDO_MIGRATION_6_SQLITE):
        conn.execute(statement)
