"""Case builders, comparisons and shared constants of the storage contract.

Separate from the contract classes because every port's contract uses them, and because the
public ones (:func:`make_case`, :func:`assert_same_case`, :func:`sla_state`) are for adapter
authors who write extra tests in the same style. The private builders here are shared by two
or more contract modules.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from caselib.cases import Actor, Attachment, Case, Pause, SlaTarget
from caselib.errors import CaselibError
from caselib.kb import Article
from caselib.ports import CaseQuery, CaseSummary, QueryOrder, Store, UnitOfWork
from caselib.sla import SlaCase
from caselib.storage.codec import case_to_document, entry_to_dict
from caselib.vocab import Audience, Priority, Severity, Source, StatusCategory

__all__ = [
    "AGENT",
    "CUSTOMER",
    "ORDERS",
    "STATUSES",
    "T0",
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
        links={"contact": "cust-1", "account": "a-1", "deal": "d-1", "order": "o-1",
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


def _article(article_id: str, **kw: Any) -> Article:
    base: dict[str, Any] = {"title": f"How to {article_id}", "body": "Step 1. Step 2.",
                            "updated_at": T0}
    base.update(kw)
    return Article(id=article_id, **base)
