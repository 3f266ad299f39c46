"""SQL shared by the SQLite and PostgreSQL adapters: one spelling of every query.

Both adapters keep the same table shapes (see their schema docstrings), store datetimes as the
fixed-width ISO UTC text of :func:`caselib.timeutil.to_iso` (so text order is time order and a
keyset cursor holds exactly the strings :meth:`CaseQuery.cursor_values` produces), and compare
text byte-wise (SQLite's ``BINARY`` collation, PostgreSQL columns declared ``COLLATE "C"``), which
for UTF-8 is the same order as Python's ``str`` comparison. That is what lets this module turn a
:class:`~caselib.ports.CaseQuery` into SQL whose filter and total order are exactly
:meth:`CaseQuery.matches` and :meth:`CaseQuery.sort_key`.

Queries are built for a placeholder style (``?`` for ``sqlite3``, ``%s`` for psycopg); the only
values ever written into SQL text are enum members (status categories, priority ranks), which
are inlined on purpose so a partial index over active cases can be proven usable by both
planners (a bound parameter cannot be).
"""

from __future__ import annotations

import abc
import contextlib
import json
import json.encoder
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Final, Generic, Self, TypeVar

from caselib.cases import Case, TimelineEntry, event_payload
from caselib.errors import (
    ArticleNotFound,
    CaseNotFound,
    ConcurrencyConflict,
    DuplicateKey,
    InvalidInput,
    StorageError,
)
from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.ports import (
    CasePage,
    CaseQuery,
    CaseSummary,
    OutboxMessage,
    Page,
    SlaCasePage,
    decode_cursor,
    encode_cursor,
)
from caselib.sla import SlaCase
from caselib.storage.codec import (
    case_from_document,
    case_to_document,
    entry_from_dict,
    entry_to_dict,
    sla_case_from_document,
    sla_patch,
)
from caselib.timeutil import aware_utc, from_iso, to_iso
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "ConnectionPool",
    "ACTIVE_CATEGORIES_SQL",
    "CASE_COLUMNS",
    "STORED_COLUMNS",
    "SUMMARY_COLUMNS",
    "Loaded",
    "SqlDialect",
    "article_from_row",
    "article_row",
    "between_sql",
    "case_row",
    "count_by_status_sql",
    "deflection_from_json",
    "deflection_json",
    "dumps",
    "entry_json",
    "event_rows",
    "import_rows",
    "insert_sql",
    "loads",
    "open_counts_sql",
    "outbox_rows",
    "page_from_rows",
    "query_sql",
    "query_tail",
    "resolved_from_json",
    "resolved_json",
    "shown_from_json",
    "shown_json",
    "SqlArticles",
    "SqlAssignments",
    "SqlCases",
    "SqlKbLog",
    "SqlNumbers",
    "SqlOutbox",
    "SqlSession",
    "SqlUnitOfWorkBase",
    "summary_from_row",
    "tag_rows",
    "timeline_rows",
    "update_case_sql",
]

SUMMARY_COLUMNS: Final = (
    "id", "number", "subject", "status", "status_category", "priority", "assignee", "team",
    "tags", "created_at", "updated_at", "resolved_at", "next_due_at", "breached", "version",
)
"""The ``cases`` columns a :class:`CaseSummary` is read from, in :func:`summary_from_row` order."""

CASE_COLUMNS: Final = (
    "tenant", "id", "number", "subject", "status", "status_category", "priority",
    "priority_rank", "assignee", "team", "tags", "created_at", "updated_at", "resolved_at",
    "next_due_at", "breached", "version", "doc",
)
"""Every ``cases`` column, in :func:`case_row` order."""

_ACTIVE: Final = tuple(c for c in StatusCategory if c.is_active)
ACTIVE_CATEGORIES_SQL: Final = "status_category IN ({})".format(
    ", ".join(f"'{c.value}'" for c in _ACTIVE))
"""The predicate of the partial "active inbox" index; queries spell it identically."""


class SqlDialect:
    """The few differences between the two SQL dialects that the shared queries care about."""

    def __init__(self, placeholder: str, *, for_update_skip_locked: bool,
                 merge_doc: str) -> None:
        self.ph = placeholder
        self.skip_locked = for_update_skip_locked
        self.merge_doc = merge_doc
        """SQL for ``doc`` with the top-level keys of a JSON object parameter replaced."""

    def params(self, n: int) -> str:
        """``n`` comma-separated placeholders."""
        return ", ".join([self.ph] * n)

    def __repr__(self) -> str:
        return f"SqlDialect({self.ph!r})"


# --- JSON -------------------------------------------------------------------------------------


def _make_encoder() -> Callable[[Any], str]:
    """``json.dumps(value, separators=(",", ":"), ensure_ascii=False)``, built once.

    ``json.dumps`` with options builds a ``JSONEncoder`` and then a C encoder on every call;
    a case write encodes about eight documents, so both are built once here. The C encoder
    (stateless without circular-reference markers) is reused when the interpreter has it.
    """
    encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False)
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - interpreters without the C accelerator
        return encoder.encode
    c_encode = make(None, encoder.default, json.encoder.encode_basestring, None, ":", ",",
                    False, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(c_encode(value, 0))

    if encode({"a": [1, None, "é\u0000"]}) != encoder.encode({"a": [1, None, "é\u0000"]}):
        return encoder.encode  # pragma: no cover - a C encoder with another signature
    return encode


def _make_fast_encoder(fallback: Callable[[Any], str]) -> Callable[[Any], str]:
    """With the optional ``orjson`` (extra ``caselib-engine[speed]``): equivalent JSON, ~8x
    faster to make, which bulk imports and sweeps feel (a case write encodes several
    documents). The text parses to the same values; only float spelling may differ
    (``1e-6`` for ``1e-06``), and nothing compares stored JSON as text. Falls back to the
    stdlib encoder for anything orjson refuses (non-string keys, integers beyond 64 bits)
    and when orjson is absent or disagrees on the probe below."""
    try:
        import orjson
    except ImportError:
        return fallback
    orjson_dumps = orjson.dumps
    refused = (TypeError, orjson.JSONEncodeError)

    def encode(value: Any) -> str:
        try:
            return orjson_dumps(value).decode()
        except refused:
            return fallback(value)

    probe = {"a": [1, None, 0.1, 1e16, -2.5, True, "é\u0000\n\"\\\u2028\ud7ff"], "b": {}}
    return encode if encode(probe) == fallback(probe) else fallback


_encode: Final = _make_fast_encoder(_make_encoder())


def _make_fast_decoder() -> Callable[[str | bytes | bytearray], Any]:
    """``json.loads``, or with the optional ``orjson`` its parser (3-4x faster on case
    documents, which the sweep and every command read) where it reads the same values.

    orjson refuses ``NaN`` and reads an integer beyond 64 bits as a float, losing digits; the
    stdlib fallback encoder can write both. Text orjson refuses, and text with a run of 19 or
    more digits (every such integer has one; a false alarm only costs speed), is read by
    ``json.loads``.
    """
    try:
        import orjson
    except ImportError:
        return json.loads
    orjson_loads = orjson.loads
    refused = orjson.JSONDecodeError
    # digits -> "9", every other byte -> "x": a 19-digit run becomes a 19-nine run, found by
    # a substring search (several times cheaper than a regular expression over the text)
    digits = bytes(0x39 if 0x30 <= i <= 0x39 else 0x78 for i in range(256))
    run = b"9" * 19

    def decode(text: str | bytes | bytearray) -> Any:
        raw = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
        if run in raw.translate(digits):
            return json.loads(text)
        try:
            return orjson_loads(text)
        except refused:
            return json.loads(text)

    return decode


_decode: Final = _make_fast_decoder()


def dumps(value: Any) -> str:
    """Compact JSON text (what both stores keep in their document columns)."""
    return _encode(value)


def loads(value: Any) -> Any:
    """Parse a JSON column: text from SQLite, text or already-decoded data from psycopg."""
    if isinstance(value, (str, bytes, bytearray)):
        return _decode(value)
    return value


# --- rows -----------------------------------------------------------------------------------


def case_row(case: Case, version: int) -> tuple[Any, ...]:
    """The ``cases`` row (in :data:`CASE_COLUMNS` order) for ``case`` stored at ``version``."""
    doc = case_to_document(case)
    doc["version"] = version
    due = case.next_due_at
    return (
        case.tenant, case.id, case.number, case.subject, case.status,
        doc["status_category"], doc["priority"], case.priority.rank, case.assignee,
        case.team, _encode(doc["tags"]), doc["created_at"], doc["updated_at"],
        doc["resolved_at"], None if due is None else to_iso(due),
        case.breached, version, _encode(doc),
    )


STORED_COLUMNS: Final = CASE_COLUMNS[2:-1]
"""The ``cases`` columns a load also returns (all but the key and the document): what a
partial save compares against."""

_VERSION: Final = STORED_COLUMNS.index("version")
"""Where the version sits in a row without tenant and id."""
_RANK: Final = STORED_COLUMNS.index("priority_rank")
_SWEPT: Final = tuple(STORED_COLUMNS.index(c) for c in (
    "priority", "priority_rank", "updated_at", "next_due_at", "breached", "version"))
"""Where the columns sit that :meth:`SqlCases.save_sla_case` may change."""

Loaded = tuple[Any, list[Any], Sequence[Any]]
"""What a :class:`SqlSession` load returns: ``(document, [timeline entry, …], values of
STORED_COLUMNS)``."""


def tag_rows(case: Case) -> list[tuple[str, str, str]]:
    """``case_tags`` rows of ``case``."""
    return [(case.tenant, case.id, tag) for tag in sorted(case.tags)]


def timeline_rows(case: Case | SlaCase, entries: Iterable[TimelineEntry]
                  ) -> list[tuple[str, str, int, str]]:
    """``timeline`` rows ``(tenant, case_id, seq, entry)`` for the given entries."""
    tenant, case_id = case.tenant, case.id
    return [(tenant, case_id, e.seq, entry_json(e)) for e in entries]


_quote: Final = json.encoder.encode_basestring


def entry_json(entry: TimelineEntry) -> str:
    """``dumps(entry_to_dict(entry))``, written out directly (the hot path of every save).

    Text fields are quoted by the same function the JSON encoder uses, so the result is the
    same string; entries with unusual field types take the generic path.
    """
    seq, actor, kind, body, data = entry.seq, entry.actor, entry.kind, entry.body, entry.data
    if not (type(seq) is int and type(actor) is str and type(kind) is str
            and type(body) is str and type(data) is dict):
        return _encode(entry_to_dict(entry))
    red = entry.redaction
    return (f'{{"seq":{seq},"at":"{to_iso(entry.at)}","actor":{_quote(actor)},'
            f'"actor_kind":{_quote(entry.actor_kind.value)},'
            f'"audience":{_quote(entry.audience.value)},"kind":{_quote(kind)},'
            f'"body":{_quote(body)},"data":{_encode(data) if data else "{}"},"redaction":'
            f'{"null" if red is None else _encode(entry_to_dict(entry)["redaction"])}}}')


def outbox_rows(messages: Iterable[Any]) -> list[tuple[str, str, str, str, str, str]]:
    """``outbox`` rows ``(key, tenant, case_id, type, payload, created_at)``."""
    return [(m.key, m.tenant, m.case_id, m.type, _encode(dict(m.payload)), to_iso(m.created_at))
            for m in messages]


def event_rows(case: Case | SlaCase, version: int
               ) -> list[tuple[str, str, str, str, str, str]]:
    """``outbox_rows(outbox_messages(case, version))`` without the intermediate messages
    (pulls the case's pending events)."""
    tenant, case_id = case.tenant, case.id
    prefix = f"{case_id}:{version}:"
    return [(f"{prefix}{n}", tenant, case_id, event.type, _encode(event_payload(event)),
             to_iso(event.at))
            for n, event in enumerate(case.pull_events())]


def insert_sql(table: str, columns: Sequence[str], dialect: SqlDialect, suffix: str = "") -> str:
    """``INSERT INTO table (columns) VALUES (placeholders) suffix``."""
    return (f"INSERT INTO {table} ({', '.join(columns)}) "
            f"VALUES ({dialect.params(len(columns))}){suffix}")


def update_case_sql(dialect: SqlDialect, columns: Sequence[str] = CASE_COLUMNS[2:], *,
                    merge_doc: bool = False) -> str:
    """The optimistic-concurrency UPDATE of ``columns`` (default: every column but the key),
    guarded by the version; with ``merge_doc`` also ``doc`` with the top-level keys of a
    JSON object replaced (the dialect's :attr:`SqlDialect.merge_doc`).

    Parameters: the values of ``columns`` (then the JSON object), then tenant, id and the
    expected version. SQLite rewrites every index that contains an assigned column, changed or
    not, so saves assign only the columns that changed (see :meth:`SqlCases.save`).
    """
    ph = dialect.ph
    sets = [f"{c} = {ph}" for c in columns]
    if merge_doc:
        sets.append(f"doc = {dialect.merge_doc}")
    return (f"UPDATE cases SET {', '.join(sets)} "
            f"WHERE tenant = {ph} AND id = {ph} AND version = {ph}")


def summary_from_row(row: Sequence[Any]) -> CaseSummary:
    """Inverse of the :data:`SUMMARY_COLUMNS` select list."""
    (id_, number, subject, status, category, priority, assignee, team, tags, created,
     updated, resolved, due, breached, version) = row
    return CaseSummary(
        id_, number, subject, status, StatusCategory(category), Priority(priority), assignee,
        team, frozenset(loads(tags)), from_iso(created), from_iso(updated),
        None if resolved is None else from_iso(resolved), None if due is None else from_iso(due),
        bool(breached), int(version),
    )


# --- queries --------------------------------------------------------------------------------


def _in(column: str, values: Iterable[Any], dialect: SqlDialect, params: list[Any]) -> str:
    vals = sorted(values)
    if not vals:
        return "1 = 0"  # an empty set matches nothing, as in CaseQuery.matches
    params.extend(vals)
    return f"{column} IN ({dialect.params(len(vals))})"


def _where(query: CaseQuery, tenant: str, dialect: SqlDialect) -> tuple[list[str], list[Any]]:
    """The filter of ``query`` as AND-ed SQL conditions over table alias ``c``."""
    ph = dialect.ph
    params: list[Any] = [tenant]
    conds = [f"c.tenant = {ph}"]
    if query.statuses is not None:
        conds.append(_in("c.status", query.statuses, dialect, params))
    if query.status_categories is not None:
        cats = [c for c in StatusCategory if c in query.status_categories]
        if not cats:
            conds.append("1 = 0")
        elif tuple(cats) == _ACTIVE:
            conds.append("c." + ACTIVE_CATEGORIES_SQL)
        else:  # enum values: safe to inline, and lets the planner use partial indexes
            conds.append("c.status_category IN ({})".format(
                ", ".join(f"'{c.value}'" for c in cats)))
    if query.priorities is not None:
        ranks = sorted(p.rank for p in query.priorities)
        conds.append("c.priority_rank IN ({})".format(", ".join(str(r) for r in ranks))
                     if ranks else "1 = 0")
    if query.assignees is not None:
        conds.append(_in("c.assignee", query.assignees, dialect, params))
    if query.teams is not None:
        conds.append(_in("c.team", query.teams, dialect, params))
    if query.unassigned is not None:
        conds.append("c.assignee IS NULL" if query.unassigned else "c.assignee IS NOT NULL")
    if query.tags:
        for tag in sorted(query.tags):
            conds.append("EXISTS (SELECT 1 FROM case_tags t WHERE t.tenant = c.tenant "
                         f"AND t.case_id = c.id AND t.tag = {ph})")
            params.append(tag)
    if query.breached is not None:
        conds.append(f"c.breached = {ph}")
        params.append(query.breached)
    if query.due_before is not None:
        conds.append(f"c.next_due_at IS NOT NULL AND c.next_due_at <= {ph}")
        params.append(to_iso(query.due_before))
    if query.created_from is not None:
        conds.append(f"c.created_at >= {ph}")
        params.append(to_iso(query.created_from))
    if query.created_before is not None:
        conds.append(f"c.created_at < {ph}")
        params.append(to_iso(query.created_before))
    return conds, params


_ORDER_BY: Final[Mapping[str, str]] = {
    "created": "c.created_at ASC, c.id ASC",
    "-created": "c.created_at DESC, c.id DESC",
    "updated": "c.updated_at ASC, c.id ASC",
    "-updated": "c.updated_at DESC, c.id DESC",
    "due": "c.next_due_at ASC NULLS LAST, c.id ASC",
    "-priority": "c.priority_rank DESC, c.created_at ASC, c.id ASC",
}


def _after(query: CaseQuery, values: Sequence[Any], dialect: SqlDialect,
           params: list[Any]) -> str:
    """The keyset condition "strictly after the cursor row" in ``query.order``."""
    ph = dialect.ph
    order = query.order
    try:
        if order in ("created", "-created", "updated", "-updated"):
            col = "c.created_at" if order.endswith("created") else "c.updated_at"
            op = ">" if order[0] != "-" else "<"
            params.extend([str(values[0]), str(values[1])])
            return f"({col}, c.id) {op} ({ph}, {ph})"
        if order == "due":
            due, last_id = values[0], str(values[1])
            if due is None:
                params.append(last_id)
                return f"(c.next_due_at IS NULL AND c.id > {ph})"
            params.extend([str(due), last_id])
            return f"(c.next_due_at IS NULL OR (c.next_due_at, c.id) > ({ph}, {ph}))"
        rank = int(values[0])
        params.extend([rank, rank, str(values[1]), str(values[2])])
        return (f"(c.priority_rank < {ph} OR (c.priority_rank = {ph} "
                f"AND (c.created_at, c.id) > ({ph}, {ph})))")
    except (IndexError, TypeError, ValueError) as err:
        raise InvalidInput("malformed paging cursor", field="after") from err


_SUMMARY_SELECT: Final = ", ".join(f"c.{c}" for c in SUMMARY_COLUMNS)


def query_tail(query: CaseQuery, tenant: str, dialect: SqlDialect) -> tuple[str, list[Any]]:
    """What follows ``SELECT … FROM cases c WHERE`` for one page of ``query``: its filter,
    keyset condition, order and a limit of ``limit + 1`` rows (to know whether another page
    follows)."""
    conds, params = _where(query, tenant, dialect)
    cursor = decode_cursor(query)
    if cursor is not None:
        conds.append(_after(query, cursor, dialect, params))
    params.append(query.limit + 1)
    return (f"{' AND '.join(conds)} ORDER BY {_ORDER_BY[query.order]} LIMIT {dialect.ph}",
            params)


def query_sql(query: CaseQuery, tenant: str, dialect: SqlDialect) -> tuple[str, list[Any]]:
    """``SELECT`` of one page of summaries (see :func:`query_tail`)."""
    tail, params = query_tail(query, tenant, dialect)
    return f"SELECT {_SUMMARY_SELECT} FROM cases c WHERE {tail}", params


def page_from_rows(query: CaseQuery, rows: Sequence[Sequence[Any]]) -> Page:
    """The :class:`Page` for the ``limit + 1`` rows :func:`query_sql` fetched."""
    items = [summary_from_row(r) for r in rows[: query.limit]]
    more = len(rows) > query.limit
    cursor = encode_cursor(query, query.cursor_values(items[-1])) if more and items else None
    return Page(tuple(items), cursor)


def count_by_status_sql(query: CaseQuery | None, tenant: str,
                        dialect: SqlDialect) -> tuple[str, list[Any]]:
    """``SELECT status, count(*)`` over the query's filters (paging ignored)."""
    conds, params = _where(query or CaseQuery(), tenant, dialect)
    return (f"SELECT c.status, COUNT(*) FROM cases c WHERE {' AND '.join(conds)} "
            "GROUP BY c.status"), params


def open_counts_sql(assignees: Sequence[str], tenant: str,
                    dialect: SqlDialect) -> tuple[str, list[Any]]:
    """``SELECT assignee, count(*)`` of active cases for the given agents."""
    params: list[Any] = [tenant]
    cond = _in("c.assignee", set(assignees), dialect, params)
    return (f"SELECT c.assignee, COUNT(*) FROM cases c WHERE c.tenant = {dialect.ph} "
            f"AND {cond} AND c.{ACTIVE_CATEGORIES_SQL} GROUP BY c.assignee"), params


# --- knowledge base -------------------------------------------------------------------------


def article_row(tenant: str, article: Article) -> tuple[str, str, str, str, str]:
    """``articles`` row ``(tenant, id, status, updated_at, doc)``."""
    updated = to_iso(article.updated_at)
    doc = {"id": article.id, "title": article.title, "body": article.body,
           "category": article.category, "tags": list(article.tags),
           "status": article.status.value, "locale": article.locale, "updated_at": updated}
    return (tenant, article.id, article.status.value, updated, dumps(doc))


def article_from_row(doc: Any) -> Article:
    """Inverse of :func:`article_row` (from its ``doc`` column)."""
    d = loads(doc)
    return Article(id=d["id"], title=d["title"], body=d.get("body", ""),
                   category=d.get("category"), tags=tuple(d.get("tags", ())),
                   status=ArticleStatus(d.get("status", "published")),
                   locale=d.get("locale", "en"), updated_at=from_iso(d["updated_at"]))


def shown_json(s: SuggestionShown) -> str:
    """A shown suggestion as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "rank": s.rank,
                  "score": s.score, "at": to_iso(s.at), "actor": s.actor})


def shown_from_json(doc: Any) -> SuggestionShown:
    """Inverse of :func:`shown_json`."""
    d = loads(doc)
    return SuggestionShown(d["case_id"], d["article_id"], int(d["rank"]), float(d["score"]),
                           from_iso(d["at"]), d["actor"])


def deflection_json(s: Deflection) -> str:
    """An opened suggestion as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "actor": s.actor,
                  "at": to_iso(s.at), "rank": s.rank, "score": s.score})


def deflection_from_json(doc: Any) -> Deflection:
    """Inverse of :func:`deflection_json`."""
    d = loads(doc)
    return Deflection(d["case_id"], d["article_id"], d["actor"], from_iso(d["at"]),
                      int(d["rank"]), float(d["score"]))


def resolved_json(s: ResolvedByArticle) -> str:
    """A resolved-by-article record as JSON text."""
    return dumps({"case_id": s.case_id, "article_id": s.article_id, "at": to_iso(s.at)})


def resolved_from_json(doc: Any) -> ResolvedByArticle:
    """Inverse of :func:`resolved_json`."""
    d = loads(doc)
    return ResolvedByArticle(d["case_id"], d["article_id"], from_iso(d["at"]))


def between_sql(since: datetime | None, until: datetime | None,
                dialect: SqlDialect) -> tuple[str, list[Any]]:
    """Extra ``AND`` conditions for ``since <= at < until`` on an ISO ``at`` column."""
    sql, params = "", []
    if since is not None:
        sql += f" AND at >= {dialect.ph}"
        params.append(to_iso(since))
    if until is not None:
        sql += f" AND at < {dialect.ph}"
        params.append(to_iso(until))
    return sql, params


# --- the unit of work, written once over a small driver interface ---------------------------


class SqlSession(abc.ABC):
    """What a driver adapter provides; the repositories below are written against it.

    ``read`` statements may run outside the write transaction (SQLite) or inside it
    (PostgreSQL); ``write`` statements always run inside this unit of work's transaction.
    Implementations translate driver errors into :class:`~caselib.errors.StorageError`
    subclasses.
    """

    tenant: str
    dialect: SqlDialect

    @abc.abstractmethod
    def fetch(self, sql: str, params: Sequence[Any] = (), *, write: bool = False
              ) -> list[tuple[Any, ...]]:
        """Run a query and return every row (``write=True``: inside the write transaction)."""

    @abc.abstractmethod
    def run(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a writing statement in the transaction; return its row count."""

    @abc.abstractmethod
    def run_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a writing statement once per row, in the transaction."""

    @abc.abstractmethod
    def load_case(self, column: str, value: str) -> Loaded | None:
        """``(document, [timeline entry, …], stored column values)`` of the case whose
        ``column`` is ``value``, read in one consistent snapshot; ``None`` if absent."""

    @abc.abstractmethod
    def load_cases(self, case_ids: Sequence[str]) -> list[Loaded]:
        """:meth:`load_case` for each existing case among ``case_ids`` (no repeats, in any
        order), read in one consistent snapshot."""

    @abc.abstractmethod
    def load_where(self, tail: str, params: Sequence[Any]) -> list[Loaded]:
        """:meth:`load_case` for each case ``SELECT … FROM cases c WHERE {tail}`` finds, in
        that statement's order, read in one consistent snapshot (``tail`` from
        :func:`query_tail`)."""

    @abc.abstractmethod
    def check_open(self) -> None:
        """Raise :class:`StorageError` when the unit of work is finished."""


def _entry_dicts(entries: list[Any]) -> list[Any]:
    """The loaded timeline entries as plain data."""
    parsed: Any = None
    if entries and all(type(e) is str for e in entries):
        # SQLite's text entries are parsed as one array: one parser call per case instead
        # of one per entry (each call has a fixed cost; a case has several entries)
        with contextlib.suppress(ValueError):
            parsed = loads(f"[{','.join(entries)}]")
    if isinstance(parsed, list) and len(parsed) == len(entries):
        return parsed
    return [loads(e) for e in entries]  # (a damaged entry fails here, on its own)


def _case_from(loaded: Loaded) -> Case:
    doc, entries, _ = loaded
    return case_from_document(loads(doc), [entry_from_dict(e) for e in _entry_dicts(entries)])


def _sla_case_from(loaded: Loaded) -> SlaCase:
    doc, entries, stored = loaded
    return sla_case_from_document(loads(doc), _entry_dicts(entries), int(stored[_VERSION]))


class SqlCases:
    """:class:`~caselib.ports.CaseRepository` over a :class:`SqlSession`."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session
        d = session.dialect
        self._insert_case = insert_sql("cases", CASE_COLUMNS, d, " ON CONFLICT DO NOTHING")
        self._update_case = update_case_sql(d)
        self._updates: dict[tuple[int, ...], str] = {}
        self._patches: dict[tuple[int, ...], str] = {}  # the UPDATEs of _patch, by columns
        # STORED_COLUMNS of each case as read from the store (or written) in this unit of
        # work: a save at that version assigns only the columns whose new value differs from
        # what is stored, so a column changed out of band is still repaired by the next save
        self._stored: dict[str, tuple[Any, ...]] = {}
        self._insert_entry = insert_sql("timeline", ("tenant", "case_id", "seq", "entry"), d)
        self._insert_tag = insert_sql("case_tags", ("tenant", "case_id", "tag"), d)
        self._insert_outbox = insert_sql(
            "outbox", ("key", "tenant", "case_id", "type", "payload", "created_at"), d)

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

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        self._s.check_open()
        wanted = list(dict.fromkeys(case_ids))
        if not wanted:
            return []
        by_id = {case.id: case for case in map(self._loaded, self._s.load_cases(wanted))}
        return [by_id[i] for i in wanted if i in by_id]

    def query_cases(self, query: CaseQuery) -> CasePage:
        self._s.check_open()
        tail, params = query_tail(query, self._s.tenant, self._s.dialect)
        loaded = self._s.load_where(tail, params)
        cases = [self._loaded(row) for row in loaded[: query.limit]]
        more = len(loaded) > query.limit
        cursor = (encode_cursor(query, query.cursor_values(CaseSummary.of(cases[-1])))
                  if more and cases else None)
        return CasePage(tuple(cases), cursor)

    def query_sla_cases(self, query: CaseQuery) -> SlaCasePage:
        self._s.check_open()
        tail, params = query_tail(query, self._s.tenant, self._s.dialect)
        loaded = self._s.load_where(tail, params)
        cases = []
        for row in loaded[: query.limit]:
            case = _sla_case_from(row)
            self._stored[case.id] = tuple(row[2])
            cases.append(case)
        cursor = None
        if len(loaded) > query.limit and cases:
            # the keyset of the last row, from its indexed columns (what the query orders by)
            stored = loaded[query.limit - 1][2]
            last = summary_from_row((cases[-1].id, *stored[:_RANK], *stored[_RANK + 1:]))
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
                s.run_many(self._insert_tag, tags)
        entries = timeline_rows(case, case.unsaved_entries())
        if entries:
            s.run_many(self._insert_entry, entries)
        redacted = [(row[3], row[0], row[1], row[2])
                    for row in timeline_rows(case, case.redacted_since_save())]
        if redacted:
            s.run_many(f"UPDATE timeline SET entry = {ph} WHERE tenant = {ph} "
                       f"AND case_id = {ph} AND seq = {ph}", redacted)
        messages = event_rows(case, version)
        if messages:
            s.run_many(self._insert_outbox, messages)
        case.mark_saved(version)

    def add(self, case: Case) -> None:
        s = self._s
        s.check_open()
        if case.tenant != s.tenant:
            raise InvalidInput(f"case belongs to tenant {case.tenant!r}, not {s.tenant!r}")
        row = case_row(case, 1)
        if s.run(self._insert_case, row) == 0:
            raise DuplicateKey(f"case {case.id!r} / {case.number!r} already exists")
        self._stored[case.id] = row[2:-1]
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
        if s.run(sql, (*params, case.tenant, case.id, expected_version)) == 0:
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
            s.run_many(self._insert_entry, entries)
        messages = [row for case, version in saved for row in event_rows(case, version)]
        if messages:
            s.run_many(self._insert_outbox, messages)
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
        if s.run(sql, (*params, case.tenant, case.id, expected_version)) == 0:
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

    def query(self, query: CaseQuery) -> Page:
        self._s.check_open()
        sql, params = query_sql(query, self._s.tenant, self._s.dialect)
        return page_from_rows(query, self._s.fetch(sql, params))

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        self._s.check_open()
        sql, params = count_by_status_sql(query, self._s.tenant, self._s.dialect)
        return {status: int(n) for status, n in self._s.fetch(sql, params)}

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        self._s.check_open()
        counts = dict.fromkeys(assignees, 0)
        if counts:
            sql, params = open_counts_sql(list(counts), self._s.tenant, self._s.dialect)
            for agent, n in self._s.fetch(sql, params):
                counts[agent] = int(n)
        return counts


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


class SqlOutbox:
    """:class:`~caselib.ports.Outbox` over the ``outbox`` table (``seq`` gives write order)."""

    def __init__(self, session: SqlSession, clock: Callable[[], datetime]) -> None:
        self._s = session
        self._clock = clock

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        lock = " FOR UPDATE SKIP LOCKED" if s.dialect.skip_locked else ""
        if not s.dialect.skip_locked and not s.fetch(
                f"SELECT 1 FROM outbox WHERE tenant = {ph} AND delivered_at IS NULL LIMIT 1",
                (s.tenant,)):
            # no SKIP LOCKED (SQLite): the claim is the write lock, taken below; an empty
            # outbox answers without it, so a relay polling an idle outbox never waits
            return []
        rows = s.fetch(
            "SELECT key, tenant, case_id, type, payload, created_at FROM outbox "
            f"WHERE tenant = {ph} AND delivered_at IS NULL ORDER BY seq LIMIT {ph}{lock}",
            (s.tenant, limit), write=True)
        return [OutboxMessage(k, t, c, ty, loads(p), from_iso(at)) for k, t, c, ty, p, at in rows]

    def mark_delivered(self, keys: Sequence[str]) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if keys:
            at = to_iso(self._clock())
            s.run_many(f"UPDATE outbox SET delivered_at = {ph} WHERE tenant = {ph} AND key = {ph} "
                       "AND delivered_at IS NULL", [(at, s.tenant, k) for k in dict.fromkeys(keys)])


class SqlArticles:
    """:class:`~caselib.ports.ArticleRepository` over the ``articles`` table."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def get(self, article_id: str) -> Article:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT doc FROM articles WHERE tenant = {ph} AND id = {ph}",
                       (s.tenant, article_id))
        if not rows:
            raise ArticleNotFound(article_id, s.tenant)
        return article_from_row(rows[0][0])

    def put(self, article: Article) -> None:
        s = self._s
        s.check_open()
        s.run(insert_sql("articles", ("tenant", "id", "status", "updated_at", "doc"), s.dialect,
                         " ON CONFLICT (tenant, id) DO UPDATE SET status = excluded.status, "
                         "updated_at = excluded.updated_at, doc = excluded.doc"),
              article_row(s.tenant, article))

    def remove(self, article_id: str) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if s.run(f"DELETE FROM articles WHERE tenant = {ph} AND id = {ph}",
                 (s.tenant, article_id)) == 0:
            raise ArticleNotFound(article_id, s.tenant)

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        params: list[Any] = [s.tenant]
        where = ""
        if status is not None:
            where = f" AND status = {ph}"
            params.append(ArticleStatus(status).value)
        rows = s.fetch(f"SELECT doc FROM articles WHERE tenant = {ph}{where} ORDER BY id", params)
        return [article_from_row(doc) for (doc,) in rows]


class SqlKbLog:
    """:class:`~caselib.ports.KbLog` over three append-only tables."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def _append(self, table: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
        self._s.check_open()
        if rows:
            self._s.run_many(
                insert_sql(table, ("tenant", "case_id", "at", "doc"), self._s.dialect), rows)

    def _read(self, table: str, since: datetime | None, until: datetime | None,
              case_id: str | None) -> list[Any]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        extra, params = between_sql(since, until, s.dialect)
        if case_id is not None:
            extra, params = f" AND case_id = {ph}{extra}", [case_id, *params]
        rows = s.fetch(f"SELECT doc FROM {table} WHERE tenant = {ph}{extra} ORDER BY at, seq",
                       [s.tenant, *params])
        return [doc for (doc,) in rows]

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        self._append("kb_shown", [(self._s.tenant, x.case_id, to_iso(x.at), shown_json(x))
                                  for x in shown])

    def record_opened(self, deflection: Deflection) -> None:
        self._append("kb_opened", [(self._s.tenant, deflection.case_id, to_iso(deflection.at),
                                    deflection_json(deflection))])

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        self._append("kb_resolved", [(self._s.tenant, resolved.case_id, to_iso(resolved.at),
                                      resolved_json(resolved))])

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        return [shown_from_json(d) for d in self._read("kb_shown", since, until, case_id)]

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        return [deflection_from_json(d) for d in self._read("kb_opened", since, until, case_id)]

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        return [resolved_from_json(d) for d in self._read("kb_resolved", since, until, case_id)]


class SqlAssignments:
    """:class:`~caselib.ports.AssignmentLedger`: the cursor CAS is one conditional statement,
    so the database's row lock decides which of two concurrent assigners wins."""

    def __init__(self, session: SqlSession) -> None:
        self._s = session

    def cursor(self, team: str) -> str | None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        rows = s.fetch(f"SELECT agent FROM rr_cursors WHERE tenant = {ph} AND team = {ph}",
                       (s.tenant, team))
        return None if not rows else str(rows[0][0])

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        if expected is None:
            n = s.run(f"INSERT INTO rr_cursors (tenant, team, agent) VALUES ({ph}, {ph}, {ph}) "
                      "ON CONFLICT DO NOTHING", (s.tenant, team, new))
        else:
            n = s.run(f"UPDATE rr_cursors SET agent = {ph} WHERE tenant = {ph} AND team = {ph} "
                      f"AND agent = {ph}", (new, s.tenant, team, expected))
        return n == 1

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        wanted = list(dict.fromkeys(agents))
        if not wanted:
            return {}
        params: list[Any] = [s.tenant]
        cond = _in("agent", wanted, s.dialect, params)
        rows = s.fetch(f"SELECT agent, at FROM agent_last_assigned WHERE tenant = {ph} "
                       f"AND {cond}", params)
        found = {a: from_iso(at) for a, at in rows}
        return {a: found[a] for a in wanted if a in found}

    def record_assigned(self, agent: str, at: datetime) -> None:
        s, ph = self._s, self._s.dialect.ph
        s.check_open()
        s.run(f"INSERT INTO agent_last_assigned (tenant, agent, at) VALUES ({ph}, {ph}, {ph}) "
              "ON CONFLICT (tenant, agent) DO UPDATE SET at = excluded.at",
              (s.tenant, agent, to_iso(aware_utc(at, "at"))))


C = TypeVar("C")


class ConnectionPool(Generic[C]):
    """Idle connections kept for reuse by the SQL stores.

    A unit of work checks a connection out for its whole life and gives it back when it ends;
    ``reset`` rolls back whatever is still open and says whether the connection is fit for
    reuse (a broken one is closed instead). Thread-safe.
    """

    def __init__(self, connect: Callable[[], C], reset: Callable[[C], bool],
                 close: Callable[[C], None], size: int) -> None:
        self._connect = connect
        self._reset = reset
        self._close = close
        self._size = size
        self._lock = threading.Lock()
        self._idle: list[C] = []
        self._closed = False

    def checkout(self) -> C:
        """An idle connection, or a new one."""
        with self._lock:
            if self._closed:
                raise StorageError("the store is closed")
            if self._idle:
                return self._idle.pop()
        return self._connect()

    def checkin(self, conn: C) -> None:
        """Take a connection back (rolling back anything left open), or close it."""
        if not self._reset(conn):
            self._close(conn)
            return
        with self._lock:
            if not self._closed and len(self._idle) < self._size:
                self._idle.append(conn)
                return
        self._close(conn)

    def close(self) -> None:
        """Close idle connections; busy ones are closed when they are checked in. Idempotent."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            self._close(conn)


class SqlUnitOfWorkBase(SqlSession):
    """Wires the shared repositories onto a session; adapters subclass it.

    Subclasses hold their connection in ``_conn`` (``None`` once the unit of work ended)
    and implement ``commit`` / ``rollback``.
    """

    _conn: Any

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._conn is not None:
            self.rollback()

    def rollback(self) -> None:  # pragma: no cover - overridden by every adapter
        raise NotImplementedError

    def check_open(self) -> None:
        if self._conn is None:
            raise StorageError("this unit of work has already been committed or rolled back")

    def _init_repositories(self, clock: Callable[[], datetime]) -> None:
        self.cases = SqlCases(self)
        self.numbers = SqlNumbers(self)
        self.outbox = SqlOutbox(self, clock)
        self.articles = SqlArticles(self)
        self.kb_log = SqlKbLog(self)
        self.assignments = SqlAssignments(self)


def import_rows(cases: Iterable[Case], *, events: bool
                ) -> Iterator[tuple[list[tuple[Any, ...]], list[tuple[Any, ...]],
                                    list[tuple[Any, ...]], list[tuple[Any, ...]], list[Case]]]:
    """Rows for a batch import, in chunks: ``(cases, timeline, tags, outbox, chunk)``.

    Each case must be new (version 0); it is stored at version 1. The caller marks the cases
    saved once the transaction has committed.
    """
    chunk: list[Case] = []
    for case in cases:
        if case.version != 0:
            raise InvalidInput(f"case {case.id!r} is not new (version {case.version})")
        chunk.append(case)
        if len(chunk) >= _IMPORT_CHUNK:
            yield _chunk_rows(chunk, events)
            chunk = []
    if chunk:
        yield _chunk_rows(chunk, events)


_IMPORT_CHUNK: Final = 2000


def _chunk_rows(chunk: list[Case], events: bool
                ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]],
                           list[tuple[Any, ...]], list[Case]]:
    case_rows: list[tuple[Any, ...]] = []
    entries: list[tuple[Any, ...]] = []
    tags: list[tuple[Any, ...]] = []
    messages: list[tuple[Any, ...]] = []
    for case in chunk:
        case_rows.append(case_row(case, 1))
        entries.extend(timeline_rows(case, case.timeline))
        tags.extend(tag_rows(case))
        if events:
            messages.extend(event_rows(case, 1))
    return case_rows, entries, tags, messages, chunk
