"""The storage contract: a pytest suite every :class:`~caselib.ports.Store` adapter must pass.

Subclass :class:`StoreContract` in a test module, name the subclass ``Test…`` and override the
``store`` fixture; pytest then runs every contract test against the adapter::

    import pytest
    from caselib.testing.conformance import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            s = MyStore(tmp_path / "cases.db")
            yield s
            s.close()

The contract is the docstrings of :mod:`caselib.ports`, made executable: what a host may rely
on whichever adapter it runs on. :class:`~caselib.storage.memory.MemoryStore` is the reference
model: the stateful test replays random operations against the adapter and a ``MemoryStore``
side by side and requires identical observable results.

Needs ``pytest`` and ``hypothesis`` (test dependencies, not runtime ones).

.. versionadded:: 0.1
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, cast

import attrs
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    rule,
    run_state_machine_as_test,
)

from caselib.cases import Actor, Attachment, Case, Pause, SlaBreached, SlaTarget
from caselib.errors import (
    ArticleNotFound,
    CaselibError,
    CaseNotFound,
    ConcurrencyConflict,
    DuplicateKey,
    InvalidInput,
    StorageError,
)
from caselib.kb import Article, ArticleStatus, Deflection, ResolvedByArticle, SuggestionShown
from caselib.ports import (
    CaseQuery,
    CaseRepository,
    CaseSummary,
    OutboxMessage,
    Page,
    QueryOrder,
    SlaSweepRepository,
    Store,
    UnitOfWork,
    sla_parts,
    units_cross_threads,
)
from caselib.sla import SlaCase
from caselib.storage.codec import case_to_document, entry_to_dict, outbox_messages
from caselib.storage.memory import MemoryStore
from caselib.vocab import Audience, Priority, Severity, Source, StatusCategory

__all__ = [
    "StoreContract",
    "StoreMachine",
    "assert_same_case",
    "make_case",
    "sla_state",
]

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
AGENT = Actor.agent("ana")
CUSTOMER = Actor.customer("cust-1")
ORDERS: tuple[QueryOrder, ...] = ("created", "-created", "updated", "-updated", "due", "-priority")
STATUSES: tuple[tuple[str, StatusCategory], ...] = (
    ("new", StatusCategory.NEW),
    ("open", StatusCategory.OPEN),
    ("in_progress", StatusCategory.OPEN),
    ("pending_customer", StatusCategory.WAITING),
    ("resolved", StatusCategory.RESOLVED),
    ("closed", StatusCategory.CLOSED),
)
_CATEGORY = dict(STATUSES)


# --- helpers (public so adapter authors can write extra tests in the same style) ------------


def make_case(
    tenant: str,
    n: int,
    *,
    at: datetime = T0,
    case_id: str | None = None,
    number: str | None = None,
    status: str = "new",
    assignee: str | None = None,
    team: str | None = None,
    due: datetime | None = None,
    breached: bool = False,
    **fields: Any,
) -> Case:
    """A new (unsaved) case numbered ``n``, with optional status, owner and SLA state.

    The status is reached with :meth:`Case.move_to` (not through a workflow) because the
    store only has to round-trip whatever the domain produced.
    """
    case = Case.open(
        id=case_id or f"case-{n:05d}", tenant=tenant, number=number or f"CASE-{n:04d}",
        subject=fields.pop("subject", f"Printer on floor {n} is jammed"), status="new",
        status_category=StatusCategory.NEW, workflow="default", actor=AGENT, at=at, **fields,
    )
    if assignee is not None or team is not None:
        case.assign(assignee=assignee, team=team, actor=AGENT, at=at)
    if status != "new":
        note = "fixed" if _CATEGORY[status] in (StatusCategory.RESOLVED,
                                                  StatusCategory.CLOSED) else None
        case.move_to(status, _CATEGORY[status], actor=AGENT, at=at, note=note)
    targets = []
    if due is not None:
        targets.append(SlaTarget("resolution", due, "running"))
    if breached:
        targets.append(SlaTarget("first_response", at, "breached", None, at, None, 60.0))
    case.sla_targets = targets
    return case


def _state(case: Case) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return case_to_document(case), [entry_to_dict(e) for e in case.timeline]


def assert_same_case(actual: Case, expected: Case) -> None:
    """Every stored field and every timeline entry of two cases agree."""
    doc_a, entries_a = _state(actual)
    doc_e, entries_e = _state(expected)
    assert doc_a == doc_e
    assert entries_a == entries_e
    assert actual.timeline == expected.timeline


def sla_state(case: SlaCase) -> tuple[Any, ...]:
    """Every field of an :class:`~caselib.sla.SlaCase` but its scratch ``memo``."""
    return tuple(getattr(case, a.name) for a in attrs.fields(SlaCase) if a.name != "memo")


def _record_breach(cases: CaseRepository, part: SlaCase, whole: Case | None, at: datetime,
                   raise_to: Priority, pauses: list[Pause]) -> None:
    """What the breach sweep does to one due case, written the way the desk writes it."""
    loaded = part.version
    part.pauses = pauses
    part.sla_targets = [attrs.evolve(t, state="breached", breached_at=t.due_at or at,
                                     breached_by_seconds=60.0)
                        if t.state in ("running", "warning") else t for t in part.sla_targets]
    part.record_breach("resolution", "resolution target breached", actor=Actor.system(),
                       at=at, priority=raise_to, breached_by_seconds=60.0, notified=["ana"])
    part.emit(SlaBreached(part.id, part.tenant, at, "caselib", "resolution", at, 60.0,
                          ("ana",)))
    if whole is None:
        assert cast(SlaSweepRepository, cases).save_sla_cases([(part, loaded)]) == []
        saved = part.version
    else:
        part.apply_to(whole)
        cases.save(whole, loaded)
        saved = whole.version
    assert saved == loaded + 1 and not part.new_entries and not part.events


def _assert_translated(err: BaseException) -> None:
    """A caselib error; if raised while handling a driver error, chained with ``from``.

    ``raise DuplicateKey(...) from err`` keeps the driver's traceback for whoever debugs the
    database; ``from None`` or an implicit chain would hide or blur it.
    """
    assert isinstance(err, CaselibError), f"{type(err).__name__} is not a CaselibError"
    context = err.__context__
    if context is not None and not isinstance(context, CaselibError):
        assert err.__cause__ is context, (
            f"{type(err).__name__} was raised while handling {type(context).__name__} "
            "but not chained with `raise ... from err`")


def _rich_case(tenant: str) -> Case:
    """A case that uses every field the store must keep."""
    at = T0
    case = Case.open(
        id="rich-1", tenant=tenant, number="CASE-0100", subject="Invoice shows VAT twice",
        status="new", status_category=StatusCategory.NEW, workflow="default", actor=AGENT,
        at=at, description="Since the March run, every invoice adds VAT twice.\nSee PDF.",
        priority=Priority.HIGH, severity=Severity.MAJOR, case_type="billing",
        category="Billing", subcategory="Invoice", source=Source.EMAIL,
        links={"contact": "c-1", "account": "a-1", "deal": "d-1", "order": "o-1",
               "order_line": "ol-1", "product": "p-1", "installation": "i-1"},
        tags=["vip", "eu", "tax"],
        custom={"plan": "pro", "seats": 12, "ratio": 0.25, "renewal": True, "legacy": None},
    )
    case.assign(assignee="ana", team="billing", actor=AGENT, at=at + timedelta(minutes=1))
    case.add_comment("Can you send the PDF?", audience=Audience.PUBLIC, actor=AGENT,
                     at=at + timedelta(minutes=2))
    case.add_comment("Attached. Ünïcödé and emoji 🧾 survive?", audience="public",
                     actor=CUSTOMER, at=at + timedelta(minutes=3))
    case.add_comment("Customer's card number was 4111 1111", audience="internal",
                     actor=AGENT, at=at + timedelta(minutes=4))
    case.add_attachment(Attachment("invoice.pdf", "application/pdf", 48213, "a" * 64,
                                   "blobs/acme/invoice.pdf", at + timedelta(minutes=3),
                                   "cust-1"), actor=CUSTOMER)
    case.record_activity(Actor.system(), at + timedelta(minutes=5), "routed",
                         "matched rule", rule="billing", score=0.5)
    case.move_to("open", StatusCategory.OPEN, actor=AGENT, at=at + timedelta(minutes=6))
    case.move_to("resolved", StatusCategory.RESOLVED, actor=AGENT, at=at + timedelta(hours=1),
                 note="Duplicate tax rule removed", resolution_code="fixed")
    case.record_csat(4, actor=CUSTOMER, at=at + timedelta(hours=2), comment="quick, thanks")
    case.sla_policy = "gold"
    case.sla_started_at = at
    case.pauses = [Pause(at + timedelta(minutes=10), at + timedelta(minutes=20), "waiting"),
                   Pause(at + timedelta(hours=1), None, "resolved")]
    case.sla_targets = [
        SlaTarget("first_response", at + timedelta(hours=1), "met",
                  at + timedelta(minutes=45), None, at + timedelta(minutes=2)),
        SlaTarget("resolution", at + timedelta(hours=8), "running", at + timedelta(hours=6)),
        SlaTarget("next_reply", at + timedelta(minutes=30), "breached", None,
                  at + timedelta(minutes=30), None, 1234.5),
    ]
    return case


def _add(store: Store, tenant: str, *cases: Case) -> None:
    with store.unit_of_work(tenant) as uow:
        for case in cases:
            uow.cases.add(case)
        uow.commit()


def _save_commit(uow: UnitOfWork, case: Case, expected_version: int) -> None:
    # a conflict may surface at save (version checked at once) or at commit (checked late)
    uow.cases.save(case, expected_version)
    uow.commit()


def _save(store: Store, tenant: str, case: Case, expected_version: int) -> None:
    with store.unit_of_work(tenant) as uow:
        _save_commit(uow, case, expected_version)


def _all_pages(uow: UnitOfWork, query: CaseQuery) -> list[CaseSummary]:
    items: list[CaseSummary] = []
    page = uow.cases.query(query)
    seen_cursors: set[str] = set()
    while True:
        items.extend(page.items)
        if page.next_cursor is None:
            return items
        assert page.next_cursor not in seen_cursors, "paging does not advance"
        seen_cursors.add(page.next_cursor)
        page = uow.cases.query(_with_after(query, page.next_cursor))


def _with_after(query: CaseQuery, after: str | None) -> CaseQuery:
    return attrs.evolve(query, after=after)


def _expected(summaries: Sequence[CaseSummary], query: CaseQuery) -> list[CaseSummary]:
    return sorted((s for s in summaries if query.matches(s)), key=query.sort_key)


def _article(article_id: str, **kw: Any) -> Article:
    base: dict[str, Any] = {"title": f"How to {article_id}", "body": "Step 1. Step 2.",
                            "updated_at": T0}
    base.update(kw)
    return Article(id=article_id, **base)


def _seed_cases(tenant: str) -> list[Case]:
    """Fourteen cases spread over every filterable column, with ties in every sort key."""
    h = timedelta(hours=1)
    specs: list[dict[str, Any]] = [
        {"status": "new", "priority": "low", "tags": ["vip"]},
        {"status": "open", "priority": "high", "assignee": "ana", "team": "tier1",
         "due": T0 + 3 * h},
        {"status": "open", "priority": "urgent", "assignee": "bo", "team": "tier2",
         "due": T0 + 1 * h, "tags": ["vip", "eu"]},
        {"status": "in_progress", "priority": "normal", "assignee": "ana", "team": "tier1",
         "breached": True, "tags": ["eu"]},
        {"status": "pending_customer", "priority": "high", "assignee": "ana",
         "due": T0 + 1 * h},
        {"status": "resolved", "priority": "normal", "assignee": "bo", "team": "tier2"},
        {"status": "closed", "priority": "low", "assignee": "cy", "breached": True},
        {"status": "new", "priority": "urgent", "team": "tier2", "due": T0 + 2 * h,
         "tags": ["vip", "eu", "tax"]},
        {"status": "open", "priority": "normal", "assignee": "bo", "due": T0 + 5 * h},
        {"status": "new", "priority": "high", "tags": ["tax"], "breached": True,
         "due": T0 + 4 * h},
        {"status": "resolved", "priority": "urgent", "assignee": "ana", "tags": ["vip"]},
        {"status": "in_progress", "priority": "low", "assignee": "cy", "team": "tier1",
         "due": T0 + 2 * h},
        {"status": "pending_customer", "priority": "normal", "team": "tier1"},
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
    pytest.param(CaseQuery(status_categories={"new", "open"}, teams={"tier1", "tier2"},
                           priorities={"high", "urgent", "low"}, created_from=T0),
                 id="combined"),
]


class StoreContract:
    """The tests every storage adapter must pass. Subclass as ``class TestMyStore(StoreContract)``.

    Not named ``Test…``, so pytest does not collect the base class itself.

    Fixtures to provide:

    ``store`` (required)
        Yields a **fresh, empty** :class:`~caselib.ports.Store` and closes it afterwards.
        Function-scoped: every test starts from nothing.

    ``second_store`` (optional)
        Another handle on the **same** data (a second connection, a second process's
        view), used wherever the contract says "another unit of work", e.g. to check
        that uncommitted writes are invisible elsewhere. Default: ``store`` itself, which
        is right for stores that are one object per process (``MemoryStore``). SQL adapters
        should open a second store object on the same file/database so the tests exercise
        two connections.

    Hooks:

    ``stateful_settings()``
        The hypothesis settings of the stateful test. By default a quarter of the loaded
        profile's ``max_examples`` (at least 10), 20 steps each, no deadline.

    Fresh state per stateful example: the stateful test does not need a store factory.
    Each hypothesis example works in a **new random tenant** of the ``store`` fixture; the
    tenancy tests guarantee that a new tenant is, observably, an empty store. This keeps
    SQL adapters from creating a schema per example. An adapter whose tenancy is broken fails
    the tenancy tests first, which point at the real problem.

    Concurrency assumptions: some tests hold two units of work open at once from one thread
    (one may have written, the other only reads), and stores with a single writer (SQLite)
    must not block a reader meanwhile. Where a second unit of work might legitimately wait
    for the first one's locks (an outbox relay), the test runs it in a thread.
    """

    tenant: ClassVar[str] = "acme"
    other_tenant: ClassVar[str] = "globex"

    # -- fixtures and hooks ------------------------------------------------------------------

    @pytest.fixture
    def store(self) -> Iterator[Store]:
        """Override: yield a fresh, empty store and close it afterwards."""
        raise NotImplementedError(
            f"{type(self).__name__} must override the `store` fixture "
            "(see caselib.testing.conformance.StoreContract)")

    @pytest.fixture
    def second_store(self, store: Store) -> Store:
        """Override: another handle on the same data as ``store`` (default: ``store``).

        An override that opens a new handle should yield it and close it afterwards.
        """
        return store

    def stateful_settings(self) -> settings:
        """Hypothesis settings for :meth:`test_stateful_against_memory_model`."""
        examples = max(10, settings().max_examples // 4)
        return settings(max_examples=examples, stateful_step_count=20, deadline=None,
                        suppress_health_check=[HealthCheck.too_slow,
                                               HealthCheck.filter_too_much])

    # -- cases: add / get -------------------------------------------------------------------

    def test_add_then_get_round_trips_every_field(self, store: Store) -> None:
        """Every field, link, tag, custom value, attachment, resolution, CSAT, pause, SLA target
        and timeline entry comes back as it was added."""
        case = _rich_case(self.tenant)
        original = case.clone()
        _add(store, self.tenant, case)
        original.mark_saved(1)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            by_number = uow.cases.get_by_number(case.number)
        assert_same_case(loaded, original)
        assert_same_case(by_number, original)
        assert loaded.next_due_at == T0 + timedelta(hours=8)
        assert loaded.breached
        assert loaded.created_at.tzinfo is not None

    def test_get_many_returns_existing_cases_in_the_order_asked(self, store: Store) -> None:
        """``get_many`` returns whole cases in the order asked, each once, without unknown
        ids or another tenant's cases, and sees the unit of work's own writes."""
        rich = _rich_case(self.tenant)
        _add(store, self.tenant, rich)
        _add(store, self.tenant, make_case(self.tenant, 2))
        _add(store, self.other_tenant, make_case(self.other_tenant, 3))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get_many([]) == []
            uow.cases.add(make_case(self.tenant, 4))
            found = uow.cases.get_many(
                ["case-00004", "nope", "case-00002", rich.id, "case-00003", "case-00002"])
            assert [c.id for c in found] == ["case-00004", "case-00002", rich.id]
            assert_same_case(found[2], uow.cases.get(rich.id))
            assert len(found[2].timeline) == len(rich.timeline)
            found[1].tags = frozenset({"changed"})  # a copy: the store is not touched
            assert uow.cases.get("case-00002").tags == frozenset()

    @pytest.mark.parametrize("order", ORDERS)
    def test_query_cases_loads_what_query_lists(self, store: Store, order: QueryOrder
                                                ) -> None:
        """``query_cases`` pages exactly like ``query`` (same cases in the same order, the
        same cursors) with each case loaded whole, and sees the unit of work's own writes."""
        rich = _rich_case(self.tenant)
        _add(store, self.tenant, rich)
        for n in range(2, 9):
            case = make_case(self.tenant, n)
            case.priority = list(Priority)[n % len(Priority)]
            _add(store, self.tenant, case)
        _add(store, self.other_tenant, make_case(self.other_tenant, 20))
        with store.unit_of_work(self.tenant) as uow:
            changed = uow.cases.get("case-00003")
            changed.tags = frozenset({"seen-in-uow"})
            uow.cases.save(changed, changed.version)
            query = CaseQuery(order=order, limit=3)
            cases_of = getattr(uow.cases, "query_cases", None)
            if cases_of is None:
                pytest.skip("this adapter has no query_cases (the desk falls back to "
                            "caselib.ports.query_each)")
            listed, loaded, pages = _all_pages(uow, query), [], 0
            page = cases_of(query)
            while True:
                pages += 1
                expected = uow.cases.query(query)
                assert page.next_cursor == expected.next_cursor
                assert [c.id for c in page.cases] == [s.id for s in expected.items]
                loaded.extend(page.cases)
                if page.next_cursor is None:
                    break
                query = _with_after(query, page.next_cursor)
                page = cases_of(query)
            assert [c.id for c in loaded] == [s.id for s in listed] and pages == 3
            for case in loaded:
                assert_same_case(case, uow.cases.get(case.id))
            assert next(c for c in loaded if c.id == changed.id).tags == changed.tags
            (due,) = cases_of(CaseQuery(due_before=T0 + timedelta(days=1), order="due")).cases
            assert due.id == rich.id and len(due.timeline) == len(rich.timeline)

    def test_summaries_follow_every_save(self, store: Store) -> None:
        """The list-view columns a query returns match the case after each kind of save: add
        then save in one unit of work, two saves in one unit of work, a save of a case read
        in an earlier unit of work, and tags, owner, status, priority and SLA changes."""
        def check(case_id: str) -> None:
            with store.unit_of_work(self.tenant) as uow:
                case = uow.cases.get(case_id)
                (summary,) = [s for s in _all_pages(uow, CaseQuery(limit=50))
                              if s.id == case_id]
            assert summary == CaseSummary.of(case)

        with store.unit_of_work(self.tenant) as uow:
            case = make_case(self.tenant, 1, team="support")
            uow.cases.add(case)
            case.change_priority("high", actor=AGENT, at=T0 + timedelta(minutes=1))
            uow.cases.save(case, 1)
            uow.commit()
        check(case.id)
        with store.unit_of_work(self.tenant) as uow:
            case = uow.cases.get(case.id)
            case.assign(assignee="bo", team="billing", actor=AGENT, at=T0 + timedelta(hours=1))
            uow.cases.save(case, 2)
            case.tags = frozenset({"vip", "emea"})
            case.sla_targets = [SlaTarget("resolution", T0 + timedelta(hours=9), "running")]
            uow.cases.save(case, 3)
            uow.commit()
        check(case.id)
        with store.unit_of_work(self.tenant) as uow:
            earlier = uow.cases.get(case.id)
        earlier.move_to("resolved", StatusCategory.RESOLVED, actor=AGENT,
                        at=T0 + timedelta(hours=2), note="fixed")
        earlier.sla_targets = []
        _save(store, self.tenant, earlier, 4)
        check(case.id)

    def test_add_sets_version_one_and_marks_saved(self, store: Store) -> None:
        """``add`` sets version 1, clears pending events and unsaved entries."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        assert case.version == 1
        assert case.unsaved_entries() == []
        assert case.pending_events == ()
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
        assert loaded.version == 1
        assert loaded.unsaved_entries() == []
        assert loaded.pending_events == ()

    def test_loaded_case_is_a_copy(self, store: Store) -> None:
        """Mutating a loaded case without saving leaves the store unchanged."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            case = uow.cases.get("case-00001")
            case.add_comment("draft", audience="internal", actor=AGENT, at=T0)
            case.tags = frozenset({"changed"})
        with store.unit_of_work(self.tenant) as uow:
            again = uow.cases.get("case-00001")
        assert len(again.timeline) == 1
        assert again.tags == frozenset()

    def test_missing_case_raises_case_not_found(self, store: Store) -> None:
        """``get``, ``get_by_number`` and ``save`` of an unknown case raise CaseNotFound."""
        with store.unit_of_work(self.tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("nope")
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-9999")
            ghost = make_case(self.tenant, 7)
            ghost.mark_saved(1)
            with pytest.raises(CaseNotFound):
                uow.cases.save(ghost, 1)

    def test_duplicate_id_raises_duplicate_key(self, store: Store) -> None:
        """A second case with an existing id is refused with DuplicateKey."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 2, case_id="case-00001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get("case-00001").number == "CASE-0001"
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-0002")

    def test_duplicate_number_raises_duplicate_key(self, store: Store) -> None:
        """A case number is unique per tenant; the error is chained to any driver error."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 2, number="CASE-0001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow, pytest.raises(CaseNotFound):
            uow.cases.get("case-00002")

    def test_duplicate_number_within_one_unit_of_work(self, store: Store) -> None:
        """Two new cases with one number in the same unit of work: DuplicateKey, nothing
        written."""
        with pytest.raises(DuplicateKey) as info:
            _add(store, self.tenant, make_case(self.tenant, 1),
                 make_case(self.tenant, 2, number="CASE-0001"))
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.query(CaseQuery()).items == ()
            assert uow.outbox.pending() == []

    # -- cases: save ------------------------------------------------------------------------

    def test_save_appends_timeline_and_bumps_version(self, store: Store) -> None:
        """Each save appends only the new entries and sets version = expected + 1."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        for i in range(3):
            with store.unit_of_work(self.tenant) as uow:
                loaded = uow.cases.get(case.id)
                loaded.add_comment(f"update {i}", audience="public", actor=AGENT,
                                   at=T0 + timedelta(minutes=i + 1))
                loaded.change_priority("urgent" if i % 2 == 0 else "low", actor=AGENT,
                                       at=T0 + timedelta(minutes=i + 1))
                uow.cases.save(loaded, loaded.version)
                uow.commit()
            assert loaded.version == i + 2
            assert loaded.unsaved_entries() == []
        with store.unit_of_work(self.tenant) as uow:
            final = uow.cases.get(case.id)
        assert final.version == 4
        assert [e.seq for e in final.timeline] == list(range(1, 8))
        assert [e.body for e in final.timeline if e.kind == "reply"] == [
            "update 0", "update 1", "update 2"]
        assert final.priority is Priority.URGENT
        assert final.first_response_at == T0 + timedelta(minutes=1)

    def test_save_writes_changed_columns(self, store: Store) -> None:
        """Fields changed after the first save (tags, custom, links, SLA) are stored."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.update_fields({"tags": ["a", "b"], "custom": {"seats": 3},
                                  "links": {"account": "acc-9"}, "severity": "blocker",
                                  "subject": "Now a new subject"},
                                 actor=AGENT, at=T0 + timedelta(minutes=1))
            loaded.assign(assignee="bo", team="tier2", actor=AGENT,
                          at=T0 + timedelta(minutes=2))
            loaded.sla_targets = [SlaTarget("resolution", T0 + timedelta(hours=4))]
            uow.cases.save(loaded, 1)
            uow.commit()
        expected = loaded.clone()
        with store.unit_of_work(self.tenant) as uow:
            assert_same_case(uow.cases.get(case.id), expected)
            (summary,) = uow.cases.query(CaseQuery()).items
        assert summary == CaseSummary.of(expected)

    def test_redaction_round_trip(self, store: Store) -> None:
        """Redacting a saved comment removes its text in the store and keeps who/when/why."""
        case = make_case(self.tenant, 1)
        case.add_comment("my password is hunter2", audience="public", actor=CUSTOMER, at=T0)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
            loaded.redact_comment(2, reason="secret", actor=AGENT, at=T0 + timedelta(hours=1))
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            again = uow.cases.get(case.id)
        entry = again.timeline[1]
        assert entry.body == ""
        assert entry.redaction is not None
        assert (entry.redaction.by, entry.redaction.reason) == ("ana", "secret")
        assert entry.redaction.at == T0 + timedelta(hours=1)
        assert entry.audience is Audience.PUBLIC
        assert again.timeline[-1].kind == "redacted"
        assert_same_case(again, loaded)

    def test_stale_save_raises_conflict_and_changes_nothing(self, store: Store) -> None:
        """Saving with an old version raises ConcurrencyConflict; the stored case is intact."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            fresh = uow.cases.get(case.id)
            fresh.add_comment("first", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(fresh, 1)
            uow.commit()
        stale = case  # still at version 1 in memory
        stale.add_comment("second", audience="internal", actor=AGENT, at=T0)
        with pytest.raises(ConcurrencyConflict) as info:
            _save(store, self.tenant, stale, 1)
        _assert_translated(info.value)
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
            messages = uow.outbox.pending()
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["first"]
        assert [m.key for m in messages if m.key.startswith(f"{case.id}:3:")] == []

    def test_two_units_of_work_saving_one_version(
        self, store: Store, second_store: Store
    ) -> None:
        """Two units of work load version 1 and both save: exactly one commit succeeds."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            a = first.cases.get(case.id)
            b = second.cases.get(case.id)
            a.add_comment("from first", audience="internal", actor=AGENT, at=T0)
            b.add_comment("from second", audience="internal", actor=AGENT, at=T0)
            first.cases.save(a, 1)
            first.commit()
            with pytest.raises(ConcurrencyConflict):
                _save_commit(second, b, 1)
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["from first"]

    def test_units_declared_to_cross_threads_do(self, store: Store) -> None:
        """A store declaring ``units_cross_threads``: a unit of work opened on this thread
        is saved into and committed on another while a second one reads here."""
        if not units_cross_threads(store):
            pytest.skip("this store keeps each unit of work on the thread that opened it")
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        uow = store.unit_of_work(self.tenant)
        loaded = uow.cases.get(case.id)
        loaded.add_comment("from another thread", audience="internal", actor=AGENT, at=T0)

        errors: list[BaseException] = []
        saved, read = threading.Event(), threading.Event()

        def finish() -> None:
            try:
                with uow:
                    uow.cases.save(loaded, 1)
                    saved.set()
                    read.wait(timeout=30)  # commit only once the other unit of work has read
                    uow.commit()
            except BaseException as err:  # reported below
                errors.append(err)
            finally:
                saved.set()

        worker = threading.Thread(target=finish)
        worker.start()
        assert saved.wait(timeout=30)
        try:
            with store.unit_of_work(self.tenant) as reader:
                assert reader.cases.get(case.id).version == 1  # not committed yet
        finally:
            read.set()
        worker.join(timeout=30)
        assert not worker.is_alive()
        assert errors == []
        with store.unit_of_work(self.tenant) as check:
            stored = check.cases.get(case.id)
        assert stored.version == 2
        assert [e.body for e in stored.timeline if e.kind == "note"] == ["from another thread"]

    def test_racing_threads_one_save_wins(self, store: Store) -> None:
        """Threads that load the same version and save at once: one wins, the rest conflict."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        workers = 4
        barrier = threading.Barrier(workers)
        outcomes: list[str] = []
        lock = threading.Lock()

        def race(i: int) -> None:
            result = "?"
            try:
                with store.unit_of_work(self.tenant) as uow:
                    loaded = uow.cases.get(case.id)
                    loaded.add_comment(f"t{i}", audience="internal", actor=AGENT, at=T0)
                    barrier.wait(timeout=10)
                    uow.cases.save(loaded, 1)
                    uow.commit()
                result = "ok"
            except ConcurrencyConflict:
                result = "conflict"
            except BaseException as err:  # reported below, not swallowed
                result = f"{type(err).__name__}: {err}"
            with lock:
                outcomes.append(result)

        threads = [threading.Thread(target=race, args=(i,)) for i in range(workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["conflict"] * (workers - 1) + ["ok"], outcomes
        with store.unit_of_work(self.tenant) as uow:
            stored = uow.cases.get(case.id)
        assert stored.version == 2
        assert len([e for e in stored.timeline if e.kind == "note"]) == 1

    # -- unit of work: visibility, rollback, lifetime ------------------------------------------

    def test_reads_see_own_uncommitted_writes(self, store: Store) -> None:
        """Within a unit of work, reads and queries include its own writes."""
        with store.unit_of_work(self.tenant) as uow:
            case = make_case(self.tenant, 1, status="open", assignee="ana")
            uow.cases.add(case)
            assert uow.cases.get(case.id).number == "CASE-0001"
            assert uow.cases.get_by_number("CASE-0001").id == case.id
            assert [s.id for s in uow.cases.query(CaseQuery()).items] == [case.id]
            assert uow.cases.count_by_status() == {"open": 1}
            assert uow.cases.open_counts(["ana"]) == {"ana": 1}
            loaded = uow.cases.get(case.id)
            loaded.add_comment("more", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(loaded, 1)
            assert uow.cases.get(case.id).version == 2
            uow.commit()

    def test_uncommitted_writes_are_invisible_to_others(
        self, store: Store, second_store: Store
    ) -> None:
        """Another unit of work sees nothing of an open one's writes until it commits."""
        writer = store.unit_of_work(self.tenant)
        with writer:
            writer.cases.add(make_case(self.tenant, 1, status="open", assignee="ana"))
            writer.articles.put(_article("reset-password"))
            with second_store.unit_of_work(self.tenant) as reader:
                with pytest.raises(CaseNotFound):
                    reader.cases.get("case-00001")
                with pytest.raises(CaseNotFound):
                    reader.cases.get_by_number("CASE-0001")
                assert reader.cases.query(CaseQuery()).items == ()
                assert reader.cases.count_by_status() == {}
                assert reader.cases.open_counts(["ana"]) == {"ana": 0}
                assert reader.articles.list() == []
            with second_store.unit_of_work(self.tenant) as relay:
                assert relay.outbox.pending() == []
            writer.commit()
        with second_store.unit_of_work(self.tenant) as reader:
            assert reader.cases.get("case-00001").version == 1
            assert len(reader.outbox.pending()) == len(
                outbox_messages(make_case(self.tenant, 1, status="open", assignee="ana"), 1))
            assert [a.id for a in reader.articles.list()] == ["reset-password"]

    @pytest.mark.parametrize("finish", ["rollback", "exit"])
    def test_unfinished_work_is_discarded(self, store: Store, finish: str) -> None:
        """rollback(), or a with-block that ends without commit(), drops cases, saves, outbox
        marks, articles, logs and cursors."""
        existing = make_case(self.tenant, 1)
        _add(store, self.tenant, existing)
        with store.unit_of_work(self.tenant) as uow:
            before = uow.outbox.pending()
        with store.unit_of_work(self.tenant) as uow:
            uow.cases.add(make_case(self.tenant, 2))
            loaded = uow.cases.get(existing.id)
            loaded.add_comment("lost", audience="internal", actor=AGENT, at=T0)
            uow.cases.save(loaded, 1)
            uow.outbox.mark_delivered([m.key for m in before])
            uow.articles.put(_article("a1"))
            uow.kb_log.record_shown([SuggestionShown("case-00001", "a1", 1, 0.9, T0, "ana")])
            uow.kb_log.record_opened(Deflection("case-00001", "a1", "ana", T0, 1, 0.9))
            uow.kb_log.record_resolved(ResolvedByArticle("case-00001", "a1", T0))
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            uow.assignments.record_assigned("ana", T0)
            if finish == "rollback":
                uow.rollback()
        self._assert_only_first_case(store, existing, before)

    def _assert_only_first_case(
        self, store: Store, existing: Case, before: list[OutboxMessage]
    ) -> None:
        with store.unit_of_work(self.tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00002")
            stored = uow.cases.get(existing.id)
            assert stored.version == 1
            assert len(stored.timeline) == 1
            assert uow.outbox.pending() == before
            assert uow.articles.list() == []
            assert uow.kb_log.shown() == []
            assert uow.kb_log.opened() == []
            assert uow.kb_log.resolved() == []
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.last_assigned(["ana"]) == {}

    @pytest.mark.parametrize("finish", ["commit", "rollback", "exit"])
    def test_finished_unit_of_work_refuses_use(self, store: Store, finish: str) -> None:
        """After commit, rollback or the end of the block, using the unit of work raises
        StorageError (a silently ignored write would be lost data)."""
        uow = store.unit_of_work(self.tenant)
        with uow:
            if finish == "commit":
                uow.commit()
            elif finish == "rollback":
                uow.rollback()
        calls: list[Callable[[], object]] = [
            lambda: uow.cases.get("case-00001"),
            lambda: uow.cases.add(make_case(self.tenant, 1)),
            lambda: uow.cases.query(CaseQuery()),
            lambda: uow.numbers.next_number(),
            lambda: uow.outbox.pending(),
            lambda: uow.articles.put(_article("a1")),
            lambda: uow.articles.list(),
            lambda: uow.kb_log.record_shown([]),
            lambda: uow.kb_log.shown(),
            lambda: uow.assignments.cursor("tier1"),
            lambda: uow.assignments.last_assigned(["ana"]),
            lambda: uow.assignments.record_assigned("ana", T0),
            uow.commit,
        ]
        for call in calls:
            with pytest.raises(StorageError):
                call()
        with store.unit_of_work(self.tenant) as fresh:
            with pytest.raises(CaseNotFound):
                fresh.cases.get("case-00001")
            assert fresh.articles.list() == []

    def test_close_is_idempotent(self, store: Store) -> None:
        """close() may be called more than once."""
        store.close()
        store.close()

    # -- tenancy ------------------------------------------------------------------------------

    def test_tenants_do_not_see_each_others_cases(self, store: Store) -> None:
        """A tenant-A case is invisible from B: get, number, query, counts, outbox."""
        _add(store, self.tenant, make_case(self.tenant, 1, status="open", assignee="ana"))
        with store.unit_of_work(self.other_tenant) as uow:
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00001")
            with pytest.raises(CaseNotFound):
                uow.cases.get_by_number("CASE-0001")
            assert uow.cases.query(CaseQuery()).items == ()
            assert uow.cases.count_by_status() == {}
            assert uow.cases.open_counts(["ana"]) == {"ana": 0}
            assert uow.outbox.pending() == []

    def test_same_number_and_id_in_two_tenants(self, store: Store) -> None:
        """Numbers (and ids) are unique per tenant, not globally."""
        _add(store, self.tenant, make_case(self.tenant, 1, subject="Acme's"))
        _add(store, self.other_tenant, make_case(self.other_tenant, 1, subject="Globex's"))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get_by_number("CASE-0001").subject == "Acme's"
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.cases.get("case-00001").subject == "Globex's"

    def test_cannot_write_another_tenants_case(self, store: Store) -> None:
        """Adding or saving a tenant-A case through B's unit of work raises and writes
        nothing."""
        case = make_case(self.tenant, 1)
        _add(store, self.tenant, case)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(case.id)
        loaded.add_comment("sneaky", audience="internal", actor=AGENT, at=T0)
        with pytest.raises(CaselibError):
            _save(store, self.other_tenant, loaded, 1)
        with pytest.raises(CaselibError):
            _add(store, self.other_tenant, make_case(self.tenant, 2))
        with store.unit_of_work(self.tenant) as uow:
            assert uow.cases.get(case.id).version == 1
            with pytest.raises(CaseNotFound):
                uow.cases.get("case-00002")
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.cases.query(CaseQuery()).items == ()

    def test_tenants_do_not_share_articles_logs_cursors(self, store: Store) -> None:
        """Articles, KB logs, round-robin cursors and last-assigned times are per tenant."""
        with store.unit_of_work(self.tenant) as uow:
            uow.articles.put(_article("a1"))
            uow.kb_log.record_shown([SuggestionShown("c", "a1", 1, 0.5, T0, "ana")])
            uow.kb_log.record_opened(Deflection("c", "a1", "ana", T0, 1, 0.5))
            uow.kb_log.record_resolved(ResolvedByArticle("c", "a1", T0))
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            uow.assignments.record_assigned("ana", T0)
            uow.commit()
        with store.unit_of_work(self.other_tenant) as uow:
            with pytest.raises(ArticleNotFound):
                uow.articles.get("a1")
            with pytest.raises(ArticleNotFound):
                uow.articles.remove("a1")
            assert uow.articles.list() == []
            assert uow.kb_log.shown() == []
            assert uow.kb_log.opened() == []
            assert uow.kb_log.resolved() == []
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.last_assigned(["ana"]) == {}

    def test_outbox_is_per_tenant(self, store: Store) -> None:
        """A relay for tenant B neither sees nor can deliver tenant A's messages."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            keys = [m.key for m in uow.outbox.pending()]
        assert keys
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.outbox.pending() == []
            uow.outbox.mark_delivered(keys)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert [m.key for m in uow.outbox.pending()] == keys

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
            # paging fields are ignored by count_by_status
            assert uow.cases.count_by_status(_limit(query, 1)) == counts

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

    # -- numbers ------------------------------------------------------------------------------

    def test_numbers_count_per_tenant(self, store: Store) -> None:
        """Numbers start at 1 in each tenant and never repeat, even after a rollback."""
        seen = []
        for _ in range(3):
            with store.unit_of_work(self.tenant) as uow:
                seen.append(uow.numbers.next_number())
                uow.commit()
        assert seen == [1, 2, 3]
        with store.unit_of_work(self.other_tenant) as uow:
            assert uow.numbers.next_number() == 1
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            uow.numbers.next_number()
        with store.unit_of_work(self.tenant) as uow:
            a = uow.numbers.next_number()
            b = uow.numbers.next_number()
            uow.commit()
        assert 3 < a < b

    # -- outbox -------------------------------------------------------------------------------

    def test_outbox_holds_events_in_write_order(self, store: Store) -> None:
        """Each add/save queues its events (keys ``id:version:n``), oldest first."""
        c1 = make_case(self.tenant, 1, assignee="ana")
        c2 = make_case(self.tenant, 2)
        expected = outbox_messages(c1.clone(), 1) + outbox_messages(c2.clone(), 1)
        _add(store, self.tenant, c1)
        _add(store, self.tenant, c2)
        with store.unit_of_work(self.tenant) as uow:
            loaded = uow.cases.get(c1.id)
            loaded.add_comment("hi", audience="public", actor=AGENT, at=T0 + timedelta(hours=1))
            expected += outbox_messages(loaded.clone(), 2)
            uow.cases.save(loaded, 1)
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            pending = uow.outbox.pending()
            assert pending == expected
            assert uow.outbox.pending(limit=2) == expected[:2]
        assert pending[0].key == f"{c1.id}:1:0"
        assert pending[0].type == "case.created"
        assert pending[-1].key == f"{c1.id}:2:0"
        assert pending[-1].type == "case.comment_added"
        assert all(m.tenant == self.tenant for m in pending)

    def test_delivered_messages_are_never_returned_again(self, store: Store) -> None:
        """mark_delivered (once committed) removes messages from pending for good."""
        _add(store, self.tenant, *[make_case(self.tenant, n) for n in range(1, 4)])
        with store.unit_of_work(self.tenant) as uow:
            pending = uow.outbox.pending()
            uow.outbox.mark_delivered([pending[0].key, pending[2].key])
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == [pending[1]]
            uow.outbox.mark_delivered([pending[1].key])
            assert uow.outbox.pending() == []  # its own uncommitted delivery counts
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == [pending[1]]  # that delivery was rolled back

    def test_claimed_messages_are_not_handed_out_twice(
        self, store: Store, second_store: Store
    ) -> None:
        """While one relay holds messages, a second relay gets the others (or waits for the
        first and then gets only what it did not deliver)."""
        _add(store, self.tenant, *[make_case(self.tenant, n) for n in range(1, 7)])
        with store.unit_of_work(self.tenant) as uow:
            everything = uow.outbox.pending()
        assert len(everything) == 6
        second_got: list[OutboxMessage] = []
        errors: list[BaseException] = []

        def second_relay() -> None:
            try:
                with second_store.unit_of_work(self.tenant) as uow2:
                    second_got.extend(uow2.outbox.pending(limit=100))
            except BaseException as err:
                errors.append(err)

        with store.unit_of_work(self.tenant) as uow1:
            first_got = uow1.outbox.pending(limit=3)
            assert first_got == everything[:3]
            thread = threading.Thread(target=second_relay)
            thread.start()
            thread.join(timeout=1.0)  # a store with row locks answers now; others may wait
            uow1.outbox.mark_delivered([m.key for m in first_got])
            uow1.commit()
        thread.join(timeout=60)
        assert not thread.is_alive(), "the second relay never returned"
        assert errors == []
        assert second_got == everything[3:]
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == everything[3:]

    def test_claims_end_with_the_unit_of_work(self, store: Store) -> None:
        """Messages a relay fetched but did not deliver are pending again after it ends."""
        _add(store, self.tenant, make_case(self.tenant, 1))
        with store.unit_of_work(self.tenant) as uow:
            got = uow.outbox.pending()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == got
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.outbox.pending() == got

    # -- articles -------------------------------------------------------------------------------

    def test_articles_put_get_list_remove(self, store: Store) -> None:
        """Articles round-trip, are replaced by id, listed by id and filtered by status."""
        full = _article("b-refund", body="Go to Billing > Refunds.\n\nDone.", category="Billing",
                        tags=("refund", "billing"), status="published", locale="de",
                        updated_at=T0 + timedelta(days=2))
        with store.unit_of_work(self.tenant) as uow:
            uow.articles.put(full)
            uow.articles.put(_article("a-draft", status="draft"))
            uow.articles.put(_article("c-old", status=ArticleStatus.ARCHIVED))
            assert uow.articles.get("b-refund") == full  # own writes are visible
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.get("b-refund") == full
            assert [a.id for a in uow.articles.list()] == ["a-draft", "b-refund", "c-old"]
            assert uow.articles.list(ArticleStatus.DRAFT) == [_article("a-draft", status="draft")]
            assert uow.articles.list(ArticleStatus.PUBLISHED) == [full]
            replaced = _article("b-refund", title="Refunds, new way")
            uow.articles.put(replaced)
            uow.articles.remove("c-old")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.articles.get("b-refund") == replaced
            assert [a.id for a in uow.articles.list()] == ["a-draft", "b-refund"]
            with pytest.raises(ArticleNotFound):
                uow.articles.get("c-old")
            with pytest.raises(ArticleNotFound):
                uow.articles.remove("c-old")

    # -- kb log ---------------------------------------------------------------------------------

    def test_kb_log_ranges_are_half_open_and_oldest_first(self, store: Store) -> None:
        """``since <= at < until``; either bound may be omitted; ``case_id`` narrows to one
        case; results oldest first."""
        times = [T0 + timedelta(hours=h) for h in (2, 0, 1, 3)]
        shown = [SuggestionShown(f"c{i}", "a1", i + 1, 0.5 + i / 10, t, "ana")
                 for i, t in enumerate(times)]
        opened = [Deflection(f"c{i}", "a1", "ana", t, 1, 0.75) for i, t in enumerate(times)]
        resolved = [ResolvedByArticle(f"c{i}", "a1", t) for i, t in enumerate(times)]
        with store.unit_of_work(self.tenant) as uow:
            uow.kb_log.record_shown(shown[:2])
            uow.kb_log.record_shown(shown[2:])
            for d in opened:
                uow.kb_log.record_opened(d)
            for r in resolved:
                uow.kb_log.record_resolved(r)
            uow.commit()

        def by_time(items: Sequence[Any]) -> list[Any]:
            return sorted(items, key=lambda x: x.at)

        h1, h3 = T0 + timedelta(hours=1), T0 + timedelta(hours=3)
        with store.unit_of_work(self.tenant) as uow:
            log = uow.kb_log
            for read, items in ((log.shown, shown), (log.opened, opened),
                                (log.resolved, resolved)):
                assert read() == by_time(items)
                assert read(since=h1) == by_time(items)[1:]
                assert read(until=h3) == by_time(items)[:3]
                assert read(since=h1, until=h3) == by_time(items)[1:3]
                assert read(since=h3, until=h3) == []
                assert read(case_id="c2") == [items[2]]
                assert read(since=h3, case_id="c2") == []
                assert read(case_id="no-such-case") == []

    # -- assignment ledger --------------------------------------------------------------------

    def test_round_robin_cursor_compare_and_set(self, store: Store) -> None:
        """The cursor moves only from the expected value."""
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") is None
            assert uow.assignments.compare_and_set_cursor("tier1", None, "ana")
            assert uow.assignments.cursor("tier1") == "ana"
            assert not uow.assignments.compare_and_set_cursor("tier1", None, "bo")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "ana"
            assert uow.assignments.cursor("tier2") is None
            assert not uow.assignments.compare_and_set_cursor("tier1", "bo", "cy")
            assert uow.assignments.compare_and_set_cursor("tier1", "ana", "bo")
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "bo"

    def test_round_robin_cursor_race(self, store: Store, second_store: Store) -> None:
        """Two units of work move the cursor from the same value: only one move sticks."""
        first = store.unit_of_work(self.tenant)
        second = second_store.unit_of_work(self.tenant)
        with first, second:
            assert first.assignments.cursor("tier1") is None
            assert second.assignments.cursor("tier1") is None
            assert first.assignments.compare_and_set_cursor("tier1", None, "ana")
            first.commit()
            try:
                moved = second.assignments.compare_and_set_cursor("tier1", None, "bo")
                if moved:
                    second.commit()
            except ConcurrencyConflict:
                moved = False
            assert not moved
        with store.unit_of_work(self.tenant) as uow:
            assert uow.assignments.cursor("tier1") == "ana"

    def test_last_assigned(self, store: Store) -> None:
        """Last assignment time per agent; the latest record wins; unknown agents absent."""
        with store.unit_of_work(self.tenant) as uow:
            uow.assignments.record_assigned("ana", T0)
            uow.assignments.record_assigned("bo", T0 + timedelta(minutes=5))
            uow.assignments.record_assigned("ana", T0 + timedelta(minutes=9))
            assert uow.assignments.last_assigned(["ana"]) == {"ana": T0 + timedelta(minutes=9)}
            uow.commit()
        with store.unit_of_work(self.tenant) as uow:
            got = uow.assignments.last_assigned(["ana", "bo", "cy"])
        assert got == {"ana": T0 + timedelta(minutes=9), "bo": T0 + timedelta(minutes=5)}
        assert all(v.tzinfo is not None for v in got.values())

    # -- stateful -----------------------------------------------------------------------------

    def test_sla_part_is_the_sla_part_of_the_whole_case(self, store: Store) -> None:
        """The breach sweep's read gives SlaCase.of(whole case), every field of every kind."""
        due = make_case("acme", 2, due=T0 + timedelta(hours=1))
        _add(store, "acme", _rich_case("acme"), due)
        with store.unit_of_work("acme") as uow:
            # the rich case is resolved, so any status category; both have a due time or a breach
            query = CaseQuery(order="created", limit=10)
            parts, _ = sla_parts(uow.cases, query)
            wholes = uow.cases.query_cases(query).cases
        assert [sla_state(p) for p, _ in parts] == [sla_state(SlaCase.of(c)) for c in wholes]
        rich = parts[0][0]
        assert rich.entry_count == len(wholes[0].timeline)
        assert {e.kind for e in rich.timeline} <= {"status_changed", "reply"}

    @pytest.mark.parametrize("order", ORDERS)
    def test_sla_pages_follow_query_cases(self, store: Store, order: QueryOrder) -> None:
        """Paged through, the sweep's read lists the cases query_cases lists, with the
        same cursors (ties in the sort key included)."""
        _add(store, "acme", *[make_case("acme", n, at=T0 + timedelta(minutes=n // 3),
                                        due=T0 + timedelta(hours=n % 3), priority=p)
                              for n, p in zip(range(1, 8), list(Priority) * 2, strict=False)])
        query = CaseQuery(order=order, limit=2)
        with store.unit_of_work("acme") as uow:
            after: str | None = None
            for _ in range(10):
                parts, cursor = sla_parts(uow.cases, _with_after(query, after))
                page = uow.cases.query_cases(_with_after(query, after))
                assert [p.id for p, _ in parts] == [c.id for c in page.cases]
                assert cursor == page.next_cursor
                after = cursor
                if after is None:
                    break
            assert after is None

    def test_sla_save_writes_what_a_whole_save_writes(self, store: Store) -> None:
        """A breach written by the lean path loads as the same case, with the same outbox
        messages, as the same breach applied to the whole case and saved (the memory model)."""
        tricky = make_case("acme", 3, due=T0, subject='Quotes " \\ back\\slash \u2028 ü 🧾',
                           custom={"big": 2**53 - 1, "ratio": 1e-7, "text": "a\tb\nc"})
        model = MemoryStore()
        for target in (store, model):
            _add(target, "acme", _rich_case("acme"), tricky.clone())
            with target.unit_of_work("acme") as uow:
                uow.outbox.mark_delivered([m.key for m in uow.outbox.pending(100)])
                parts, _ = sla_parts(uow.cases, CaseQuery(order="created", limit=10))
                for part, whole in parts:
                    _record_breach(uow.cases, part, whole, T0 + timedelta(hours=3),
                                   Priority.URGENT, [Pause(T0, T0 + timedelta(minutes=5))])
                uow.commit()
        for case_id in ("rich-1", tricky.id):
            with store.unit_of_work("acme") as uow, model.unit_of_work("acme") as m:
                assert_same_case(uow.cases.get(case_id), m.cases.get(case_id))
        with store.unit_of_work("acme") as uow, model.unit_of_work("acme") as m:
            assert uow.outbox.pending(100) == m.outbox.pending(100)

    def test_stale_sla_save_raises_conflict_and_changes_nothing(self, store: Store) -> None:
        """A lean breach write at an outdated version is refused and writes nothing."""
        case = make_case("acme", 4, due=T0)
        _add(store, "acme", case)
        with store.unit_of_work("acme") as uow:
            if not isinstance(uow.cases, SlaSweepRepository):
                pytest.skip("this adapter has no SlaSweepRepository")
            before = uow.cases.get(case.id)
            pending = uow.outbox.pending(100)
        with store.unit_of_work("acme") as uow:
            cases = cast(SlaSweepRepository, uow.cases)
            page = cases.query_sla_cases(CaseQuery(order="created", limit=5))
            part = page.cases[0]
            part.record_breach("resolution", "late", actor=Actor.system(), at=T0,
                               priority=Priority.URGENT)
            assert cases.save_sla_cases([(part, part.version - 1)]) == [case.id]
            assert part.new_entries, "a refused save keeps the change for a retry"
            uow.commit()
        with store.unit_of_work("acme") as uow:
            gone = attrs.evolve(part, id="no-such-case")
            with pytest.raises(CaseNotFound) as info:
                cast(SlaSweepRepository, uow.cases).save_sla_cases([(gone, gone.version)])
            _assert_translated(info.value)
        with store.unit_of_work("acme") as uow:
            assert_same_case(uow.cases.get(case.id), before)
            assert uow.outbox.pending(100) == pending

    def test_stateful_against_memory_model(self, store: Store, second_store: Store) -> None:
        """Random operations give the same observable results as on a ``MemoryStore``."""

        class Bound(StoreMachine):
            # hypothesis builds the machine once per example: a fresh tenant each time
            def __init__(self) -> None:
                super().__init__(store, second_store, f"sm-{uuid.uuid4().hex[:12]}")

        run_state_machine_as_test(Bound, settings=self.stateful_settings())


def _limit(query: CaseQuery, limit: int) -> CaseQuery:
    return attrs.evolve(query, limit=limit)


# --- the stateful machine ---------------------------------------------------------------------

_PEOPLE = st.sampled_from([None, "ana", "bo", "cy"])
_TEAMS = st.sampled_from([None, "tier1", "tier2"])
_TAGS = st.frozensets(st.sampled_from(["vip", "eu", "tax", "bug"]), max_size=3)
_STATUS = st.sampled_from([s for s, _ in STATUSES])
_OFFSETS = st.one_of(st.none(), st.integers(-48, 48))
_NO_NUL = st.characters(blacklist_characters="\x00")  # caselib refuses NUL in text

_CASE_FIELDS = st.fixed_dictionaries({
    "priority": st.sampled_from(list(Priority)),
    "assignee": _PEOPLE,
    "team": _TEAMS,
    "tags": _TAGS,
    "status": _STATUS,
    "due_in": _OFFSETS,
    "breached": st.booleans(),
    "custom": st.dictionaries(st.sampled_from(["plan", "seats", "vip"]),
                              st.one_of(st.none(), st.booleans(), st.integers(-5, 5),
                                        st.text(_NO_NUL, max_size=5)), max_size=2),
})
_CHANGES = st.one_of(
    st.tuples(st.just("comment"), st.sampled_from(["internal", "public"]),
              st.text("abc xyz", min_size=1, max_size=12).filter(str.strip)),
    st.tuples(st.just("priority"), st.sampled_from(list(Priority))),
    st.tuples(st.just("assign"), _PEOPLE, _TEAMS),
    st.tuples(st.just("status"), _STATUS),
    st.tuples(st.just("tags"), _TAGS),
    st.tuples(st.just("sla"), _OFFSETS, st.booleans()),
)
_FILTERS = st.fixed_dictionaries({}, optional={
    "statuses": st.frozensets(_STATUS, min_size=1, max_size=3),
    "status_categories": st.frozensets(st.sampled_from(list(StatusCategory)), min_size=1,
                                       max_size=2),
    "priorities": st.frozensets(st.sampled_from(list(Priority)), min_size=1, max_size=2),
    "assignees": st.frozensets(st.sampled_from(["ana", "bo", "cy"]), min_size=1, max_size=2),
    "teams": st.frozensets(st.sampled_from(["tier1", "tier2"]), min_size=1),
    "unassigned": st.booleans(),
    "tags": st.frozensets(st.sampled_from(["vip", "eu", "tax", "bug"]), min_size=1,
                          max_size=2),
    "breached": st.booleans(),
    "due_before": st.integers(-24, 72).map(lambda h: T0 + timedelta(hours=h)),
    "created_from": st.integers(0, 48).map(lambda h: T0 + timedelta(hours=h)),
    "created_before": st.integers(0, 48).map(lambda h: T0 + timedelta(hours=h)),
})


class StoreMachine(RuleBasedStateMachine):
    """Applies the same random operations to an adapter and to a ``MemoryStore``.

    Every rule compares what a host could observe (return values, raised conflicts, loaded
    cases, query pages, counts, outbox contents), so any divergence from the reference model
    is a contract violation. Runs in one tenant of the adapter; see :class:`StoreContract`.
    """

    cases = Bundle("cases")

    def __init__(self, store: Store, second: Store, tenant: str) -> None:
        super().__init__()
        model: Store = MemoryStore()
        self.stores: tuple[Store, Store] = (store, model)
        self.second = second
        self.tenant = tenant
        self.now = T0
        self.n = 0

    def teardown(self) -> None:
        """Close the model (the adapter belongs to the fixture)."""
        self.stores[1].close()

    def _build(self, fields: dict[str, Any]) -> Case:
        self.n += 1
        due = None if fields["due_in"] is None else self.now + timedelta(hours=fields["due_in"])
        return make_case(
            self.tenant, self.n, at=self.now, case_id=f"c{self.n:04d}-{uuid.uuid4().hex[:6]}",
            status=fields["status"], assignee=fields["assignee"], team=fields["team"],
            due=due, breached=fields["breached"], priority=fields["priority"],
            tags=fields["tags"], custom=fields["custom"],
        )

    def _apply(self, case: Case, change: tuple[Any, ...]) -> None:
        kind, at = change[0], self.now
        if kind == "comment":
            case.add_comment(change[2], audience=change[1], actor=AGENT, at=at)
        elif kind == "priority":
            case.change_priority(change[1], actor=AGENT, at=at)
        elif kind == "assign":
            case.assign(assignee=change[1], team=change[2], actor=AGENT, at=at)
        elif kind == "status":
            status = change[1]
            note = "done" if _CATEGORY[status] in (StatusCategory.RESOLVED,
                                                    StatusCategory.CLOSED) else None
            case.move_to(status, _CATEGORY[status], actor=AGENT, at=at, note=note)
        elif kind == "tags":
            case.update_fields({"tags": change[1]}, actor=AGENT, at=at)
        else:
            due = None if change[1] is None else at + timedelta(hours=change[1])
            case.sla_targets = [SlaTarget("resolution", due, "running")] + (
                [SlaTarget("first_response", at, "breached", None, at)] if change[2] else [])
            case.record_activity(AGENT, at, "sla_updated")

    def _tick(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(target=cases, fields=_CASE_FIELDS, gap=st.sampled_from([0, 1, 60, 3600, 7200]))
    def create(self, fields: dict[str, Any], gap: int) -> str:
        """Add a case with random fields (gap 0 makes sort-key ties)."""
        self._tick(gap)
        case = self._build(fields)
        for store in self.stores:
            copy = case.clone()
            with store.unit_of_work(self.tenant) as uow:
                uow.cases.add(copy)
                uow.commit()
            assert copy.version == 1
        return case.id

    @rule(fields=_CASE_FIELDS)
    def create_rolled_back(self, fields: dict[str, Any]) -> None:
        """An added-then-rolled-back case leaves no trace."""
        case = self._build(fields)
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                uow.cases.add(case.clone())
                uow.rollback()
            with store.unit_of_work(self.tenant) as uow, pytest.raises(CaseNotFound):
                uow.cases.get(case.id)

    @rule(case_id=cases, changes=st.lists(_CHANGES, min_size=1, max_size=3),
          gap=st.sampled_from([0, 30, 3600]))
    def change(self, case_id: str, changes: list[tuple[Any, ...]], gap: int) -> None:
        """Load, change and save a case at the loaded version in both stores."""
        self._tick(gap)
        versions = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                case = uow.cases.get(case_id)
                loaded = case.version
                for c in changes:
                    self._apply(case, c)
                uow.cases.save(case, loaded)
                uow.commit()
            versions.append(case.version)
        assert versions[0] == versions[1]

    @rule(case_ids=st.lists(cases, min_size=1, max_size=4),
          changes=st.lists(_CHANGES, min_size=1, max_size=2),
          filters=_FILTERS, order=st.sampled_from(ORDERS))
    def change_many(self, case_ids: list[str], changes: list[tuple[Any, ...]],
                    filters: dict[str, Any], order: QueryOrder) -> None:
        """Several saves in one unit of work (a case listed twice is saved twice), each case
        read back and a query run before the commit: the unit of work sees its own saves,
        and all of them land together (an adapter may hold saves back until commit)."""
        self._tick(1)
        query = CaseQuery(**filters, order=order, limit=50)
        seen = []
        for store in self.stores:
            observed: list[Any] = []
            with store.unit_of_work(self.tenant) as uow:
                for case_id in case_ids:
                    case = uow.cases.get(case_id)
                    loaded = case.version
                    for c in changes:
                        self._apply(case, c)
                    uow.cases.save(case, loaded)
                    again = uow.cases.get(case_id)
                    assert_same_case(again, case)
                    observed.append(again.version)
                observed.append(uow.cases.query(query).items)
                uow.commit()
            seen.append(observed)
        assert seen[0] == seen[1]

    @rule(hours=st.integers(-24, 72), limit=st.integers(1, 4),
          raise_to=st.sampled_from(list(Priority)), paused=st.booleans())
    def sweep_breaches(self, hours: int, limit: int, raise_to: Priority, paused: bool) -> None:
        """The breach sweep's reads and writes: a page of due cases as their SLA parts, a
        breach recorded on each. An adapter with a :class:`~caselib.ports.SlaSweepRepository`
        reads and writes them through it; the model loads and saves whole cases."""
        self._tick(1)
        query = CaseQuery(due_before=T0 + timedelta(hours=hours), order="due", limit=limit,
                          status_categories=frozenset(c for c in StatusCategory if c.is_active))
        pauses = [Pause(T0, self.now, "waiting")] if paused else []
        seen = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                parts, cursor = sla_parts(uow.cases, query)
                seen.append(([sla_state(p) for p, _ in parts], cursor))
                for part, whole in parts:
                    _record_breach(uow.cases, part, whole, self.now, raise_to, pauses)
                uow.commit()
        assert seen[0] == seen[1]

    @rule(case_id=cases)
    def stale_save(self, case_id: str) -> None:
        """A save from an outdated load raises ConcurrencyConflict in both stores."""
        self._tick(1)
        for store, other in ((self.stores[0], self.second), (self.stores[1], self.stores[1])):
            with store.unit_of_work(self.tenant) as slow:
                stale = slow.cases.get(case_id)
                with other.unit_of_work(self.tenant) as fast:
                    winner = fast.cases.get(case_id)
                    winner.add_comment("won", audience="internal", actor=AGENT, at=self.now)
                    fast.cases.save(winner, winner.version)
                    fast.commit()
                stale.add_comment("lost", audience="internal", actor=AGENT, at=self.now)
                with pytest.raises(ConcurrencyConflict):
                    _save_commit(slow, stale, stale.version)

    @rule(case_id=cases, use_second=st.booleans())
    def load(self, case_id: str, use_second: bool) -> None:
        """A loaded case is the same in both stores, field by field."""
        adapter = self.second if use_second else self.stores[0]
        with adapter.unit_of_work(self.tenant) as uow:
            got = uow.cases.get(case_id)
        with self.stores[1].unit_of_work(self.tenant) as uow:
            want = uow.cases.get(case_id)
        assert_same_case(got, want)

    @rule(filters=_FILTERS, order=st.sampled_from(ORDERS), limit=st.integers(1, 7))
    def query(self, filters: dict[str, Any], order: QueryOrder, limit: int) -> None:
        """Every page of a random query has the same rows in both stores."""
        query = CaseQuery(**filters, order=order, limit=limit)
        pages: list[list[Page]] = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                got = [uow.cases.query(query)]
                while got[-1].next_cursor is not None:
                    got.append(uow.cases.query(_with_after(query, got[-1].next_cursor)))
                    assert len(got) < 1000
            pages.append(got)
        assert [p.items for p in pages[0]] == [p.items for p in pages[1]]

    @rule(filters=_FILTERS)
    def counts(self, filters: dict[str, Any]) -> None:
        """Board counts and per-agent open counts agree."""
        results = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                results.append((uow.cases.count_by_status(CaseQuery(**filters)),
                                uow.cases.open_counts(["ana", "bo", "cy", "dee"])))
        assert results[0] == results[1]

    @rule(limit=st.integers(1, 30), deliver=st.lists(st.booleans(), max_size=30),
          commit=st.booleans())
    def relay(self, limit: int, deliver: list[bool], commit: bool) -> None:
        """pending() returns the same messages; delivering a random subset keeps them equal."""
        seen = []
        for store in self.stores:
            with store.unit_of_work(self.tenant) as uow:
                pending = uow.outbox.pending(limit)
                keys = [m.key for m, d in zip(pending, deliver, strict=False) if d]
                uow.outbox.mark_delivered(keys)
                if commit:
                    uow.commit()
            seen.append(pending)
        assert seen[0] == seen[1]
