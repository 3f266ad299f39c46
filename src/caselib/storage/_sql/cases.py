"""The case repositories over a :class:`~caselib.storage._sql.session.SqlSession`:
:class:`SqlCases` (loads, queries, partial saves, and the breach sweep's SLA-part reads
and patches) and :class:`SqlNumbers` (the per-tenant case counter).

The sweep's part stays in :class:`SqlCases`: it shares the record of stored column
values that lets a save assign only what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Final

from caselib.cases import Case
from caselib.errors import CaseNotFound, ConcurrencyConflict, InvalidInput
from caselib.ports import (
    CasePage,
    CaseQuery,
    CaseSummary,
    Page,
    SlaCasePage,
    encode_cursor,
)
from caselib.reports import GroupBy, Period, Scorecard, SummaryCards
from caselib.sla import SlaCase
from caselib.storage._sql.columns import (
    _SWEPT,
    _VERSION,
    CASE_COLUMNS,
    STORED_COLUMNS,
    Loaded,
    summary_values,
)
from caselib.storage._sql.dialect import insert_sql, update_case_sql
from caselib.storage._sql.jsontext import _encode
from caselib.storage._sql.metrics import sql_cards, sql_scorecard
from caselib.storage._sql.queries import (
    count_by_status_sql,
    count_sql,
    open_counts_sql,
    page_from_rows,
    query_sql,
    query_tail,
)
from caselib.storage._sql.rows import (
    _case_from,
    _sla_case_from,
    case_row,
    event_rows,
    sla_values,
    summary_from_row,
    tag_rows,
    timeline_rows,
)
from caselib.storage._sql.session import SqlSession
from caselib.storage.codec import sla_patch
from caselib.timeutil import to_iso

__all__ = [
    "SqlCases",
    "SqlNumbers",
]

_ENTRY_COLUMNS: Final = ("tenant", "case_id", "seq", "entry")
_TAG_COLUMNS: Final = ("tenant", "case_id", "tag")
_OUTBOX_COLUMNS: Final = ("key", "tenant", "case_id", "type", "payload", "created_at")
_DRIVE_LIMIT: Final = 2000
"""Up to this many matches (in all tenants) a text search drives its query (each match's
row is read, then filtered and sorted); beyond it the rows come from the list's own index
and are tested for the search. Measured at 1M SQLite cases: driving reads ~2.5 us a match,
while a membership test over a page scans ~limit / share entries."""


class SqlCases:
    """:class:`~caselib.ports.CaseRepository` over a :class:`SqlSession`."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session
        d = session.dialect
        self._insert_case = insert_sql("cases", CASE_COLUMNS, d)
        self._update_case = update_case_sql(d)
        self._updates: dict[tuple[int, ...], str] = {}
        self._patches: dict[tuple[int, ...], str] = {}  # the UPDATEs of _patch, by columns
        # STORED_COLUMNS of each case as read from the store (or written) in this unit of
        # work: a save at that version assigns only the columns whose new value differs from
        # what is stored, so a column changed out of band is still repaired by the next save
        self._stored: dict[str, tuple[Any, ...]] = {}
        # cases this unit of work holds the write lock of, with their stored version: a save
        # at that version cannot miss, so it needs no row count back (see save)
        self._locked: dict[str, int] = {}

    def _loaded(self, loaded: Loaded) -> Case:
        case = _case_from(loaded)
        self._stored[case.id] = tuple(loaded[2])
        return case

    def get(self, case_id: str) -> Case:
        self._s.check_open()
        loaded = self._s.load_case("id", case_id)
        if loaded is None:
            raise CaseNotFound(case_id, self._s.tenant)
        return self._loaded(loaded)

    def get_for_update(self, case_id: str) -> Case:
        self._s.check_open()
        self._s.lock_case(case_id)
        case = self.get(case_id)
        self._locked[case_id] = case.version
        return case

    def get_many_for_update(self, case_ids: Sequence[str]) -> list[Case]:
        """:meth:`get_for_update` of each of ``case_ids`` that exists, locked together and
        read in one query (the automation sweep's page of due cases)."""
        self._s.check_open()
        wanted = list(dict.fromkeys(case_ids))
        if not wanted:
            return []
        self._s.lock_cases(wanted)
        cases = self.get_many(wanted)
        for case in cases:
            self._locked[case.id] = case.version
        return cases

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        self._s.check_open()
        wanted = list(dict.fromkeys(case_ids))
        if not wanted:
            return []
        by_id = {case.id: case for case in map(self._loaded, self._s.load_cases(wanted))}
        return [by_id[i] for i in wanted if i in by_id]

    def query_cases(self, query: CaseQuery) -> CasePage:
        self._s.check_open()
        tail, params = query_tail(query, self._s.tenant, self._s.dialect,
                                  text_scan=self._text_scan(query))
        loaded = self._s.load_where(tail, params)
        cases = [self._loaded(row) for row in loaded[: query.limit]]
        more = len(loaded) > query.limit
        cursor = (encode_cursor(query, query.cursor_values(CaseSummary.of(cases[-1])))
                  if more and cases else None)
        return CasePage(tuple(cases), cursor)

    def query_sla_cases(self, query: CaseQuery) -> SlaCasePage:
        self._s.check_open()
        tail, params = query_tail(query, self._s.tenant, self._s.dialect)
        # where the dialect can, the sweep claims its page (see SlaSweepRepository): the
        # cases it returns are locked for this unit of work and others' are left out
        claim = self._s.dialect.skip_locked
        if claim:
            # exactly a page, not the page and one more: a claim locks every row it returns,
            # and a row locked but not examined would only keep other sweepers off it
            params[-1] = query.limit
        loaded = self._s.load_where(tail, params, claim=claim)
        cases = []
        for row in loaded[: query.limit]:
            case = _sla_case_from(row)
            self._stored[case.id] = tuple(row[2])
            if claim:
                self._locked[case.id] = case.version
            cases.append(case)
        cursor = None
        # (a full claimed page may be the last one: the next read then finds nothing)
        if (len(loaded) > query.limit or (claim and len(loaded) == query.limit)) and cases:
            # the keyset of the last row, from its indexed columns (what the query orders by)
            stored = loaded[query.limit - 1][2]
            last = summary_from_row(summary_values(cases[-1].id, stored))
            cursor = encode_cursor(query, query.cursor_values(last))
        return SlaCasePage(tuple(cases), cursor)

    def get_by_number(self, number: str) -> Case:
        self._s.check_open()
        loaded = self._s.load_case("number", number)
        if loaded is None:
            raise CaseNotFound(number, self._s.tenant)
        return self._loaded(loaded)

    def _update_for(self, changed: tuple[int, ...]) -> str:
        """The UPDATE assigning the columns at ``changed`` (indexes into CASE_COLUMNS[2:])."""
        sql = self._updates.get(changed)
        if sql is None:
            columns = [CASE_COLUMNS[2 + i] for i in changed]
            sql = self._updates[changed] = update_case_sql(self._s.dialect, columns)
        return sql

    def _write_children(self, case: Case, version: int, *, replace_tags: bool) -> None:
        s, ph = self._s, self._s.dialect.ph
        if not replace_tags or case.tags_changed_since_save:
            if replace_tags:
                s.run(f"DELETE FROM case_tags WHERE tenant = {ph} AND case_id = {ph}",
                      (case.tenant, case.id))
            tags = tag_rows(case)
            if tags:
                s.insert_many("case_tags", _TAG_COLUMNS, tags)
        entries = timeline_rows(case, case.unsaved_entries())
        if entries:
            s.insert_many("timeline", _ENTRY_COLUMNS, entries)
        redacted = [(row[3], row[0], row[1], row[2])
                    for row in timeline_rows(case, case.redacted_since_save())]
        if redacted:
            s.run_many(f"UPDATE timeline SET entry = {ph} WHERE tenant = {ph} "
                       f"AND case_id = {ph} AND seq = {ph}", redacted)
        messages = event_rows(case, version)
        if messages:
            s.insert_many("outbox", _OUTBOX_COLUMNS, messages)
        case.mark_saved(version)

    def add(self, case: Case) -> None:
        s = self._s
        s.check_open()
        if case.tenant != s.tenant:
            raise InvalidInput(f"case belongs to tenant {case.tenant!r}, not {s.tenant!r}")
        row = case_row(case, 1)
        # a duplicate id or number fails the INSERT (DuplicateKey, translated from the driver's
        # error), so it needs no row count back and may travel with the commit
        s.write(self._insert_case, row)
        self._stored[case.id] = row[2:-1]
        self._locked[case.id] = 1  # a new row is this unit of work's until it commits
        self._write_children(case, 1, replace_tags=False)

    def save(self, case: Case, expected_version: int) -> None:
        s = self._s
        s.check_open()
        if case.tenant != s.tenant:
            raise CaseNotFound(case.id, s.tenant)
        version = expected_version + 1
        row = case_row(case, version)
        values = row[2:]
        before = self._stored.get(case.id)
        if before is not None and before[_VERSION] == expected_version:
            # the stored row is the one read: assign what changed (version and doc always do)
            changed = tuple(i for i, v in enumerate(values) if i >= len(before) or before[i] != v)
            sql, params = self._update_for(changed), [values[i] for i in changed]
        else:
            sql, params = self._update_case, list(values)
        if self._locked.get(case.id) == expected_version:
            # locked at this version: nobody else can have changed the row, so the guarded
            # UPDATE cannot miss and may travel with the commit (PostgreSQL's pipeline)
            s.write(sql, (*params, case.tenant, case.id, expected_version))
            self._locked[case.id] = version
        elif s.run(sql, (*params, case.tenant, case.id, expected_version)) == 0:
            self._refuse(case.id, expected_version)
        self._stored[case.id] = values[:-1]
        self._write_children(case, version, replace_tags=True)

    def _refuse(self, case_id: str, expected_version: int) -> None:
        """Raise why a version-guarded UPDATE of ``case_id`` changed no row."""
        s, ph = self._s, self._s.dialect.ph
        found = s.fetch(f"SELECT version FROM cases WHERE tenant = {ph} AND id = {ph}",
                        (s.tenant, case_id), write=True)
        if not found:
            raise CaseNotFound(case_id, s.tenant)
        raise ConcurrencyConflict(case_id, expected_version, int(found[0][0]))

    def save_sla_cases(self, cases: Sequence[tuple[SlaCase, int]]) -> list[str]:
        s = self._s
        s.check_open()
        saved: list[tuple[SlaCase, int]] = []
        refused: list[str] = []
        for case, expected in cases:
            if case.tenant != s.tenant:
                raise CaseNotFound(case.id, s.tenant)
            if self._patch(case, expected):
                saved.append((case, expected + 1))
            else:
                refused.append(case.id)
        # the batch's new rows in two statements (one call each: the per-call cost of the
        # driver is a visible share of a sweep that writes one entry and two messages a case)
        entries = [row for case, _ in saved for row in timeline_rows(case, case.new_entries)]
        if entries:
            s.insert_many("timeline", _ENTRY_COLUMNS, entries)
        messages = [row for case, version in saved for row in event_rows(case, version)]
        if messages:
            s.insert_many("outbox", _OUTBOX_COLUMNS, messages)
        for case, version in saved:
            case.mark_saved(version)
        return refused

    def _patch(self, case: SlaCase, expected_version: int) -> bool:
        """The version-guarded UPDATE of what the sweep changes on ``case``; ``False`` when
        the stored version is another one (:class:`CaseNotFound` when there is no case)."""
        s = self._s
        version = expected_version + 1
        due = case.next_due_at
        # the columns a breach can change, by their index in STORED_COLUMNS
        new = {_SWEPT[0]: case.priority.value, _SWEPT[1]: case.priority.rank,
               _SWEPT[2]: to_iso(case.updated_at), _SWEPT[3]: None if due is None else to_iso(due),
               _SWEPT[4]: case.breached, _SWEPT[5]: version}
        new.update(zip(_SWEPT[6:-1], sla_values(case.sla_targets), strict=True))
        new[_SWEPT[-1]] = case.escalation_level
        before = self._stored.get(case.id)
        if before is not None and before[_VERSION] == expected_version:
            changed = tuple(i for i, v in new.items() if before[i] != v)  # (version always)
        else:
            changed, before = _SWEPT, None
        sql = self._patches.get(changed)
        if sql is None:
            sql = self._patches[changed] = update_case_sql(
                s.dialect, [STORED_COLUMNS[i] for i in changed], merge_doc=True)
        params = [new[i] for i in changed]
        params.append(_encode(sla_patch(case, version)))
        if self._locked.get(case.id) == expected_version:
            # claimed at this version: the guarded UPDATE cannot miss (see save)
            s.write(sql, (*params, case.tenant, case.id, expected_version))
            self._locked[case.id] = version
        elif s.run(sql, (*params, case.tenant, case.id, expected_version)) == 0:
            try:
                self._refuse(case.id, expected_version)
            except ConcurrencyConflict:
                return False
        if before is None:
            self._stored.pop(case.id, None)  # unknown columns: the next save assigns them all
        else:
            stored = list(before)
            for i in changed:
                stored[i] = new[i]
            self._stored[case.id] = tuple(stored)
        return True

    def _text_scan(self, query: CaseQuery | None) -> bool:
        """Whether ``query``'s text search matches so many cases that its rows are better
        found by the other filters' index and tested for the search (see
        :attr:`SqlDialect.text_scan`): a bounded count of the matches decides. Only the
        plan differs; the rows are the same either way."""
        d = self._s.dialect
        search = None if query is None else query.search
        if search is None or d.text_estimate is None:
            return False
        found = self._s.fetch(d.text_estimate, (d.text_param(search), _DRIVE_LIMIT + 1))
        return int(found[0][0]) > _DRIVE_LIMIT

    def query(self, query: CaseQuery) -> Page:
        self._s.check_open()
        sql, params = query_sql(query, self._s.tenant, self._s.dialect,
                                text_scan=self._text_scan(query))
        return page_from_rows(query, self._s.fetch(sql, params))

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        self._s.check_open()
        # (a count reads every match either way: driving by the search reads only those)
        sql, params = count_by_status_sql(query, self._s.tenant, self._s.dialect)
        return {status: int(n) for status, n in self._s.fetch(sql, params)}

    def count(self, query: CaseQuery | None = None) -> int:
        self._s.check_open()
        sql, params = count_sql(query, self._s.tenant, self._s.dialect)
        return int(self._s.fetch(sql, params)[0][0])

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        self._s.check_open()
        counts = dict.fromkeys(assignees, 0)
        if counts:
            sql, params = open_counts_sql(list(counts), self._s.tenant, self._s.dialect)
            for agent, n in self._s.fetch(sql, params):
                counts[agent] = int(n)
        return counts


    def cards(self, query: CaseQuery, now: datetime, zone: str) -> SummaryCards:
        self._s.check_open()
        return sql_cards(self._s.fetch, query, self._s.tenant, self._s.dialect, now, zone)

    def scorecard(self, query: CaseQuery, period: Period, group_by: GroupBy,
                  now: datetime) -> Scorecard:
        self._s.check_open()
        return sql_scorecard(self._s.fetch, query, self._s.tenant, self._s.dialect, period,
                             group_by, now)


class SqlNumbers:
    """:class:`~caselib.ports.CaseNumberAllocator`: an upsert inside the transaction, so a
    rolled-back create gives its number back and concurrent creates queue on the row lock."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def next_number(self) -> int:
        self._s.check_open()
        ph = self._s.dialect.ph
        rows = self._s.fetch(
            f"INSERT INTO case_numbers (tenant, counter) VALUES ({ph}, 1) "
            "ON CONFLICT (tenant) DO UPDATE SET counter = case_numbers.counter + 1 "
            "RETURNING counter", (self._s.tenant,), write=True)
        return int(rows[0][0])
