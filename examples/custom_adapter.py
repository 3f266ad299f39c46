"""A small custom storage adapter: every record is a JSON string in a dict, under one lock.

It shows what an adapter author writes (a ``Store`` handing out units of work with six
repositories) and how little the domain asks: cases travel through
:mod:`caselib.storage.codec`, versions are checked at save and again at commit, and the
contract suite in :mod:`caselib.testing.conformance` proves the result.

Run it directly to run the conformance suite against it::

    python examples/custom_adapter.py

Design: committed data is ``{tenant: {key: json_text}}`` plus append-only lists. A unit of
work stages writes in an overlay and remembers, for each key it must not lose a race on, the
value it expects to still be committed; ``commit`` checks those under the lock and applies
everything at once (first committer wins, like the SQL stores). Queries decode every case:
fine for an example, not for a real database, where filters belong in SQL.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import attrs
import pytest

from caselib.cases import Case
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
    cursor_sort_key,
    decode_cursor,
    encode_cursor,
    get_each,
    query_each,
)
from caselib.reports import (
    CaseFacts,
    DeflectionFunnel,
    GroupBy,
    Period,
    Scorecard,
    SummaryCards,
    compute_cards,
    compute_scorecard,
    search_terms,
)
from caselib.storage.codec import (
    case_from_document,
    case_to_document,
    entry_from_dict,
    entry_to_dict,
    outbox_messages,
)
from caselib.testing.conformance import StoreContract
from caselib.timeutil import from_iso, to_iso

__all__ = ["JsonDictStore", "TestJsonDictStore"]


@attrs.define
class _Tenant:
    kv: dict[str, str] = attrs.Factory(dict)  # "case/…", "num/…", "article/…", "cursor/…"
    outbox: list[str] = attrs.Factory(list)
    delivered: set[str] = attrs.Factory(set)
    logs: dict[str, list[str]] = attrs.Factory(
        lambda: {"shown": [], "opened": [], "resolved": []})
    counter: int = 0


class JsonDictStore:
    """A process-local store of JSON strings (think: a stand-in for a key-value service)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._tenants: dict[str, _Tenant] = {}
        self._claims: dict[tuple[str, str], int] = {}  # (tenant, key) -> unit of work id
        self._next_uow = 0
        self._closed = False

    def unit_of_work(self, tenant: str) -> JsonUnitOfWork:
        if not isinstance(tenant, str) or not tenant:
            raise InvalidInput("tenant must be a non-empty string", field="tenant")
        if self._closed:
            raise StorageError("the store is closed")
        with self._lock:
            self._next_uow += 1
            data = self._tenants.setdefault(tenant, _Tenant())
            return JsonUnitOfWork(self, tenant, data, self._next_uow)

    def close(self) -> None:
        self._closed = True


class JsonUnitOfWork:
    """Overlay of staged writes plus the committed values they depend on."""

    def __init__(self, store: JsonDictStore, tenant: str, data: _Tenant, uid: int) -> None:
        self.tenant = tenant
        self._store, self._data, self._id = store, data, uid
        self._writes: dict[str, str | None] = {}
        self._expect: dict[str, str | None] = {}
        self._outbox: list[str] = []
        self._delivered: set[str] = set()
        self._logs: dict[str, list[str]] = {"shown": [], "opened": [], "resolved": []}
        self._done = False
        self.cases = _Cases(self)
        self.numbers = _Numbers(self)
        self.outbox = _Outbox(self)
        self.articles = _Articles(self)
        self.kb_log = _KbLog(self)
        self.assignments = _Assignments(self)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if not self._done:
            self.rollback()

    def check(self) -> None:
        if self._done:
            raise StorageError("this unit of work is finished")

    def read(self, key: str) -> str | None:
        if key in self._writes:
            return self._writes[key]
        return self._data.kv.get(key)

    def write(self, key: str, value: str | None, *, guard: bool = False) -> None:
        """Stage a write; ``guard`` makes commit fail if someone else changed the key."""
        if guard and key not in self._expect:
            self._expect[key] = self._data.kv.get(key)
        self._writes[key] = value

    def keys(self, prefix: str) -> set[str]:
        with self._store._lock:
            found = {k for k in self._data.kv if k.startswith(prefix)}
        found |= {k for k in self._writes if k.startswith(prefix)}
        return {k for k in found if self.read(k) is not None}

    def commit(self) -> None:
        self.check()
        data = self._data
        with self._store._lock:
            try:
                for key, expected in self._expect.items():
                    if data.kv.get(key) != expected:
                        raise _conflict(key, expected, data.kv.get(key))
                for key, value in self._writes.items():
                    if value is None:
                        data.kv.pop(key, None)
                    else:
                        data.kv[key] = value
                data.outbox.extend(self._outbox)
                data.delivered |= self._delivered
                for name, items in self._logs.items():
                    data.logs[name].extend(items)
            finally:
                self._end()

    def rollback(self) -> None:
        with self._store._lock:
            self._end()

    def _end(self) -> None:
        self._done = True
        claims = self._store._claims
        for key in [k for k, owner in claims.items() if owner == self._id]:
            del claims[key]


def _conflict(key: str, expected: str | None, actual: str | None) -> StorageError:
    kind, _, name = key.partition("/")
    if kind == "case" and expected is not None:
        return ConcurrencyConflict(name, json.loads(expected)["doc"]["version"],
                                   None if actual is None else json.loads(actual)["doc"]["version"])
    if kind in ("case", "num"):
        return DuplicateKey(f"{kind} {name!r} already exists")
    return ConcurrencyConflict(key, 0, None)


def _case_json(case: Case) -> str:
    return json.dumps({"doc": case_to_document(case),
                       "entries": [entry_to_dict(e) for e in case.timeline]})


def _case_of(text: str) -> Case:
    raw = json.loads(text)
    return case_from_document(raw["doc"], [entry_from_dict(e) for e in raw["entries"]])


class _Cases:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def get(self, case_id: str) -> Case:
        self._uow.check()
        with self._uow._store._lock:
            text = self._uow.read(f"case/{case_id}")
        if text is None:
            raise CaseNotFound(case_id, self._uow.tenant)
        return _case_of(text)

    def get_many(self, case_ids: Sequence[str]) -> list[Case]:
        # one snapshot: the store's (re-entrant) lock is held across the reads
        with self._uow._store._lock:
            return get_each(self, case_ids)

    def query_cases(self, query: CaseQuery) -> CasePage:
        # the page and its cases in one snapshot, as for get_many
        with self._uow._store._lock:
            return query_each(self, query)

    def get_by_number(self, number: str) -> Case:
        self._uow.check()
        with self._uow._store._lock:
            case_id = self._uow.read(f"num/{number}")
        if case_id is None:
            raise CaseNotFound(number, self._uow.tenant)
        return self.get(case_id)

    def add(self, case: Case) -> None:
        uow = self._uow
        uow.check()
        if case.tenant != uow.tenant:
            raise InvalidInput(f"case belongs to tenant {case.tenant!r}")
        with uow._store._lock:
            if uow.read(f"case/{case.id}") is not None or uow.read(f"num/{case.number}"):
                raise DuplicateKey(f"case {case.id!r} / {case.number!r} already exists")
            uow._outbox.extend(m.to_json() for m in outbox_messages(case, 1))
            case.mark_saved(1)
            uow.write(f"case/{case.id}", _case_json(case), guard=True)
            uow.write(f"num/{case.number}", case.id, guard=True)

    def save(self, case: Case, expected_version: int) -> None:
        uow = self._uow
        uow.check()
        if case.tenant != uow.tenant:
            raise CaseNotFound(case.id, uow.tenant)
        with uow._store._lock:
            current = uow.read(f"case/{case.id}")
            if current is None:
                raise CaseNotFound(case.id, uow.tenant)
            stored = json.loads(current)["doc"]["version"]
            if stored != expected_version:
                raise ConcurrencyConflict(case.id, expected_version, stored)
            uow._outbox.extend(m.to_json() for m in outbox_messages(case, expected_version + 1))
            case.mark_saved(expected_version + 1)
            uow.write(f"case/{case.id}", _case_json(case), guard=True)

    def _summaries(self, query: CaseQuery | None = None) -> list[CaseSummary]:
        """Every case's summary; with ``query``, those it matches, its text search too
        (checked on the case's terms: a summary carries no description)."""
        uow = self._uow
        with uow._store._lock:
            texts = [uow.read(k) for k in uow.keys("case/")]
        cases = [_case_of(t) for t in texts if t is not None]
        if query is None:
            return [CaseSummary.of(c) for c in cases]
        return [s for c in cases if query.matches(s := CaseSummary.of(c))
                and query.matches_text(search_terms(c.number, c.subject, c.description))]

    def query(self, query: CaseQuery) -> Page:
        self._uow.check()
        cursor = decode_cursor(query)
        rows = sorted(self._summaries(query), key=query.sort_key)
        if cursor is not None:
            after = cursor_sort_key(query, cursor)
            rows = [s for s in rows if query.sort_key(s) > after]
        page = rows[: query.limit]
        more = len(rows) > query.limit
        return Page(tuple(page),
                    encode_cursor(query, query.cursor_values(page[-1])) if more else None)

    def count_by_status(self, query: CaseQuery | None = None) -> dict[str, int]:
        self._uow.check()
        q = query or CaseQuery()
        counts: dict[str, int] = {}
        for s in self._summaries(q):
            counts[s.status] = counts.get(s.status, 0) + 1
        return counts

    def count(self, query: CaseQuery | None = None) -> int:
        self._uow.check()
        return len(self._summaries(query or CaseQuery()))

    def open_counts(self, assignees: Sequence[str]) -> dict[str, int]:
        self._uow.check()
        counts = dict.fromkeys(assignees, 0)
        for s in self._summaries():
            if s.assignee in counts and s.status_category.is_active:
                counts[s.assignee] += 1
        return counts

    # the metrics: the reference computation of caselib.reports over the matching cases
    def cards(self, query: CaseQuery, now: datetime, zone: str) -> SummaryCards:
        self._uow.check()
        return compute_cards([s for s in self._summaries() if query.matches(s)], now, zone)

    def scorecard(self, query: CaseQuery, period: Period, group_by: GroupBy,
                  now: datetime) -> Scorecard:
        self._uow.check()
        with self._uow._store._lock:
            texts = [self._uow.read(k) for k in self._uow.keys("case/")]
        cases = [c for c in (_case_of(t) for t in texts if t is not None)
                 if query.matches(CaseSummary.of(c))]
        ids, log = {c.id for c in cases}, self._uow.kb_log
        seen = [len({x.case_id for x in items(period.start, period.end) if x.case_id in ids})
                for items in (log.shown, log.opened, log.resolved)]
        return compute_scorecard([CaseFacts.of(c) for c in cases], period, group_by,
                                 DeflectionFunnel(*seen), now)


class _Numbers:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def next_number(self) -> int:
        # outside the transaction, like MemoryStore: a rollback leaves a gap, never a repeat
        self._uow.check()
        with self._uow._store._lock:
            self._uow._data.counter += 1
            return self._uow._data.counter


class _Outbox:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        uow = self._uow
        uow.check()
        out: list[OutboxMessage] = []
        with uow._store._lock:
            claims = uow._store._claims
            for text in uow._data.outbox:
                if len(out) >= limit:
                    break
                message = OutboxMessage.from_json(text)
                if message.key in uow._data.delivered or message.key in uow._delivered:
                    continue
                if claims.get((uow.tenant, message.key), uow._id) != uow._id:
                    continue
                claims[(uow.tenant, message.key)] = uow._id
                out.append(message)
        return out

    def mark_delivered(self, keys: Sequence[str]) -> None:
        self._uow.check()
        self._uow._delivered.update(keys)


def _article_json(a: Article) -> str:
    return json.dumps({"id": a.id, "title": a.title, "body": a.body, "category": a.category,
                       "tags": list(a.tags), "status": a.status.value, "locale": a.locale,
                       "updated_at": to_iso(a.updated_at)})


def _article_of(text: str) -> Article:
    d: dict[str, Any] = json.loads(text)
    d["updated_at"] = from_iso(d["updated_at"])
    d["tags"] = tuple(d["tags"])
    return Article(**d)


class _Articles:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def get(self, article_id: str) -> Article:
        self._uow.check()
        with self._uow._store._lock:
            text = self._uow.read(f"article/{article_id}")
        if text is None:
            raise ArticleNotFound(article_id, self._uow.tenant)
        return _article_of(text)

    def put(self, article: Article) -> None:
        self._uow.check()
        self._uow.write(f"article/{article.id}", _article_json(article))
        self._bump()

    def remove(self, article_id: str) -> None:
        self.get(article_id)
        self._uow.write(f"article/{article_id}", None)
        self._bump()

    def _bump(self) -> None:
        # guarded: of two units that read the same stamp, the second to commit conflicts
        with self._uow._store._lock:
            current = self._uow.read("kb-version")
        self._uow.write("kb-version", str(int(current or 0) + 1), guard=True)

    def version(self) -> int:
        self._uow.check()
        with self._uow._store._lock:
            return int(self._uow._data.kv.get("kb-version") or 0)

    def list(self, status: ArticleStatus | None = None) -> list[Article]:
        self._uow.check()
        with self._uow._store._lock:
            texts = [self._uow.read(k) for k in sorted(self._uow.keys("article/"))]
        found = [_article_of(t) for t in texts if t is not None]
        return [a for a in found if status is None or a.status == status]


class _KbLog:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def _append(self, name: str, item: Any) -> None:
        self._uow.check()
        fields = attrs.asdict(item)
        self._uow._logs[name].append(json.dumps(
            {k: to_iso(v) if isinstance(v, datetime) else v for k, v in fields.items()}))

    def _read(self, name: str, cls: Any, since: datetime | None, until: datetime | None,
              case_id: str | None) -> list[Any]:
        self._uow.check()
        with self._uow._store._lock:
            texts = list(self._uow._data.logs[name])
        items = []
        for text in texts:
            d = json.loads(text)
            d["at"] = from_iso(d["at"])
            if ((since is None or d["at"] >= since) and (until is None or d["at"] < until)
                    and (case_id is None or d["case_id"] == case_id)):
                items.append(cls(**d))
        return sorted(items, key=lambda x: x.at)

    def record_shown(self, shown: Sequence[SuggestionShown]) -> None:
        self._uow.check()
        for item in shown:
            self._append("shown", item)

    def record_opened(self, deflection: Deflection) -> None:
        self._append("opened", deflection)

    def record_resolved(self, resolved: ResolvedByArticle) -> None:
        self._append("resolved", resolved)

    def shown(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[SuggestionShown]:
        return self._read("shown", SuggestionShown, since, until, case_id)

    def opened(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[Deflection]:
        return self._read("opened", Deflection, since, until, case_id)

    def resolved(self, since: datetime | None = None, until: datetime | None = None,
              case_id: str | None = None) -> list[ResolvedByArticle]:
        return self._read("resolved", ResolvedByArticle, since, until, case_id)


class _Assignments:
    def __init__(self, uow: JsonUnitOfWork) -> None:
        self._uow = uow

    def cursor(self, team: str) -> str | None:
        self._uow.check()
        with self._uow._store._lock:
            return self._uow.read(f"cursor/{team}")

    def compare_and_set_cursor(self, team: str, expected: str | None, new: str) -> bool:
        if self.cursor(team) != expected:
            return False
        self._uow.write(f"cursor/{team}", new, guard=True)  # a racing mover fails at commit
        return True

    def last_assigned(self, agents: Sequence[str]) -> dict[str, datetime]:
        self._uow.check()
        with self._uow._store._lock:
            found = {a: self._uow.read(f"last/{a}") for a in agents}
        return {a: from_iso(v) for a, v in found.items() if v is not None}

    def record_assigned(self, agent: str, at: datetime) -> None:
        self._uow.check()
        self._uow.write(f"last/{agent}", to_iso(at))


class TestJsonDictStore(StoreContract):
    """The contract suite, run against this adapter."""

    @pytest.fixture
    def store(self) -> Iterator[JsonDictStore]:
        store = JsonDictStore()
        yield store
        store.close()


if __name__ == "__main__":
    # -p no:cacheprovider: CI may run examples from a read-only checkout. hypothesis is
    # already imported (by the contract) so pytest cannot assertion-rewrite it: expected.
    sys.exit(pytest.main([__file__, "-q", "-p", "no:cacheprovider",
                          "-W", "ignore::pytest.PytestAssertRewriteWarning"]))
