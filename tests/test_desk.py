"""ServiceDesk commands, customer views, outbox relay, and bad input that changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from actors import READER
from caselib import (
    Actor,
    Audience,
    Case,
    CaseNotFound,
    CasePolicy,
    CaseQuery,
    ConcurrencyConflict,
    InvalidInput,
    MemoryStore,
    NaiveDatetime,
    NoteRequired,
    NumberFormat,
    PermissionDenied,
    Priority,
    ServiceDesk,
    TenantSettings,
    TextTooLong,
    TransitionNotAllowed,
    UnknownValue,
    Workflow,
)
from caselib.cases import SUBJECT_MAX_LENGTH
from caselib.testing import FrozenClock, RecordingSink


def snapshot(desk: ServiceDesk) -> Any:
    """Everything observable about the tenant's stored state."""
    with desk.store.unit_of_work(desk.tenant) as uow:
        page = uow.cases.query(CaseQuery(limit=1000))
        cases = [uow.cases.get(s.id) for s in page.items]
        pending = [m.key for m in uow.outbox.pending(1000)]
    return (
        [(c.id, c.version, c.status, c.priority, c.subject, c.category, c.csat,
          [(e.seq, e.kind, e.body) for e in c.timeline], len(c.resolutions)) for c in cases],
        pending,
    )


def worked_case(desk: ServiceDesk, agent: Actor) -> Case:
    """A case taken to pending_customer."""
    case = desk.create_case(subject="VPN drops every hour", actor=agent, category="Technical",
                            links={"contact": "c1"})
    for status in ("open", "in_progress", "pending_customer"):
        case = desk.transition(case.id, status, actor=agent)
    return case


class TestCommands:
    """The happy paths."""

    def test_create_numbers_and_fields(self, desk: ServiceDesk, agent: Actor) -> None:
        """Cases get per-tenant numbers and canonical vocabulary values."""
        a = desk.create_case(subject="A", actor=agent, priority="medium", category="billing",
                             subcategory="refund", source="EMAIL", tags=["VIP", "eu"],
                             links={"account": "acc-1", "order": "o-9"},
                             custom={"tier": "gold", "seats": 12})
        b = desk.create_case(subject="B", actor=agent, priority="critical")
        other = desk.for_tenant("globex").create_case(subject="C", actor=agent)
        assert (a.number, b.number, other.number) == ("CASE-0001", "CASE-0002", "CASE-0001")
        assert a.priority is Priority.NORMAL and b.priority is Priority.URGENT
        assert (a.category, a.subcategory, a.source.value) == ("Billing", "Refund", "email")
        assert a.tags == frozenset({"vip", "eu"})
        assert a.links.account == "acc-1" and a.custom == {"tier": "gold", "seats": 12}
        assert a.version == 1 and a.timeline[0].kind == "created"

    def test_number_format(self, clock: FrozenClock, agent: Actor) -> None:
        """Tenants choose prefix and padding (SC-184 style)."""
        desk = ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(
            policy=CasePolicy(numbers=NumberFormat("SC-", 3))))
        assert desk.create_case(subject="x", actor=agent).number == "SC-001"

    def test_full_lifecycle(self, desk: ServiceDesk, agent: Actor, clock: FrozenClock) -> None:
        """Work, resolve, close with CSAT, reopen: resolutions are all kept."""
        case = worked_case(desk, agent)
        case = desk.resolve(case.id, "Replaced the router", actor=agent, code="hw_swap")
        assert case.status == "resolved" and case.resolution is not None
        assert case.resolution.code == "hw_swap"
        case = desk.close(case.id, "Customer confirmed", actor=agent, csat=4)
        assert case.status == "closed" and case.csat is not None and case.csat.score == 4
        clock.advance(days=2)
        case = desk.reopen(case.id, actor=Actor.customer("c1"), reason="It is back")
        assert case.status == "open" and case.resolution is None and case.resolved_at is None
        for status in ("in_progress", "pending_customer"):
            case = desk.transition(case.id, status, actor=agent)
        case = desk.resolve(case.id, "Firmware update", actor=agent)
        assert [r.summary for r in case.resolutions] == ["Replaced the router",
                                                         "Firmware update"]

    def test_first_response_is_first_agent_public_reply(self, desk: ServiceDesk,
                                                        agent: Actor, clock: FrozenClock) -> None:
        """Customer replies and internal notes do not count as a first response."""
        case = desk.create_case(subject="x", actor=agent, links={"contact": "c"})
        desk.add_comment(case.id, "me too", actor=Actor.customer("c"), audience="public")
        desk.add_comment(case.id, "internal", actor=agent)
        assert desk.get_case(case.id, actor=READER).first_response_at is None
        clock.advance(minutes=5)
        case = desk.add_comment(case.id, "On it", actor=agent, audience="public")
        assert case.first_response_at == clock.now()

    def test_customer_view_hides_internal_and_system(self, desk: ServiceDesk,
                                                     agent: Actor) -> None:
        """Only public replies reach the customer, redacted ones blanked."""
        case = worked_case(desk, agent)
        desk.add_comment(case.id, "secret internal", actor=agent)
        desk.add_comment(case.id, "Please reboot", actor=agent, audience=Audience.PUBLIC)
        case = desk.add_comment(case.id, "password is hunter2", actor=agent, audience="public")
        case = desk.redact_comment(case.id, case.timeline[-1].seq, reason="secret",
                                   actor=agent)
        view = desk.customer_view(case.id, actor=READER)
        assert [r.body for r in view.replies] == ["Please reboot", ""]
        assert view.replies[1].redacted
        assert view.status_label == "Pending customer"
        assert "secret internal" not in repr(view)
        redacted = case.timeline[view.replies[1].seq - 1]
        assert redacted.audience is Audience.PUBLIC and redacted.redaction is not None
        assert case.timeline[-1].kind == "redacted"

    def test_assign_is_sticky_and_noop_saves_nothing(self, desk: ServiceDesk,
                                                     agent: Actor) -> None:
        """Manual assignment marks the case; repeating it writes no new version."""
        case = desk.create_case(subject="x", actor=agent, team="support")
        case = desk.assign(case.id, assignee="bo", actor=agent)
        assert (case.assignee, case.team, case.assigned_manually) == ("bo", "support", True)
        again = desk.assign(case.id, assignee="bo", actor=agent)
        assert again.version == case.version

    def test_update_fields(self, desk: ServiceDesk, agent: Actor) -> None:
        """Field changes are validated, logged with old/new values and emitted."""
        case = desk.create_case(subject="x", actor=agent, category="Billing",
                                subcategory="Invoice")
        case = desk.update_fields(case.id, {"category": "technical", "severity": "blocker",
                                            "custom": {"tier": "gold"}}, actor=agent)
        assert case.category == "Technical" and case.subcategory is None
        entry = next(e for e in case.timeline if e.kind == "fields_changed")
        assert entry.audience is Audience.SYSTEM
        assert entry.data["category"] == {"old": "Billing", "new": "Technical"}

    def test_queries(self, desk: ServiceDesk, agent: Actor, clock: FrozenClock) -> None:
        """Filters, board counts and keyset paging."""
        for i in range(7):
            clock.advance(minutes=1)
            desk.create_case(subject=f"c{i}", actor=agent, assignee="ana" if i % 2 else None,
                             tags=["vip"] if i < 3 else [])
        assert desk.count_by_status(actor=READER) == {"new": 7}
        assert len(desk.find_cases(unassigned=True, actor=READER).items) == 4
        assert len(desk.find_cases(assignees="ana", tags="vip", actor=READER).items) == 1
        seen: list[str] = []
        page = desk.find_cases(limit=3, actor=READER)
        while True:
            seen += [s.number for s in page.items]
            if page.next_cursor is None:
                break
            page = desk.find_cases(limit=3, after=page.next_cursor, actor=READER)
        assert seen == [f"CASE-{i:04d}" for i in range(1, 8)]

    def test_outbox_relay_at_least_once(self, desk: ServiceDesk, agent: Actor) -> None:
        """Events reach the sink once each; a failing sink keeps the rest pending."""
        case = desk.create_case(subject="x", actor=agent)
        desk.add_comment(case.id, "hi", actor=agent)
        failing = RecordingSink(fail_on="case.comment_added")
        with pytest.raises(RuntimeError):
            desk.dispatch_events(failing)
        assert failing.types == ["case.created", "case.assigned"]
        sink = RecordingSink()
        assert desk.dispatch_events(sink) == 1
        assert sink.types == ["case.comment_added"]
        assert desk.dispatch_events(sink) == 0
        assert sink.messages[0].key == f"{case.id}:2:0"
        assert failing.messages[0].key == f"{case.id}:1:0"

    def test_retrying_recovers_from_a_lost_race(self, desk: ServiceDesk, agent: Actor) -> None:
        """retrying() re-runs a command that hit ConcurrencyConflict."""
        case = desk.create_case(subject="x", actor=agent)
        calls = {"n": 0}

        def racing() -> Case:
            calls["n"] += 1
            if calls["n"] == 1:  # someone else saves between our load and our save
                desk.add_comment(case.id, "other", actor=agent)
                return desk.add_comment(case.id, "mine", actor=agent, expected_version=1)
            return desk.add_comment(case.id, "mine", actor=agent)

        result = desk.retrying(racing)
        assert calls["n"] == 2 and result.version == 3

    def test_workflow_per_tenant(self, clock: FrozenClock, agent: Actor) -> None:
        """A tenant on the kanban board moves cards between any columns."""
        desk = ServiceDesk(MemoryStore(), clock=clock, settings=TenantSettings(
            workflow=Workflow.kanban([("QA Review", "open")])))
        case = desk.create_case(subject="card", actor=agent)
        assert case.status == "backlog"
        case = desk.transition(case.id, "qa_review", actor=agent)
        case = desk.resolve(case.id, "shipped", actor=agent)
        assert case.status == "resolved"


class NaiveClock:
    def now(self) -> datetime:
        return datetime(2026, 1, 5, 9, 0)  # no tzinfo: a host bug caselib must catch


BAD_INPUT: list[tuple[str, type[Exception], Callable[[ServiceDesk, Case, Actor], object]]] = [
    ("unknown status", UnknownValue,
     lambda d, c, a: d.transition(c.id, "limbo", actor=a)),
    ("unknown priority", UnknownValue,
     lambda d, c, a: d.change_priority(c.id, "asap", actor=a)),
    ("unknown source", UnknownValue,
     lambda d, c, a: d.update_fields(c.id, {"source": "pigeon"}, actor=a)),
    ("unknown category", UnknownValue,
     lambda d, c, a: d.update_fields(c.id, {"category": "Astrology"}, actor=a)),
    ("unknown field", UnknownValue,
     lambda d, c, a: d.update_fields(c.id, {"status": "closed"}, actor=a)),
    ("disallowed transition", TransitionNotAllowed,
     lambda d, c, a: d.transition(c.id, "closed", actor=a, note="n")),
    ("resolve without summary", NoteRequired,
     lambda d, c, a: d.transition(c.id, "resolved", actor=a)),
    ("blank resolution", NoteRequired,
     lambda d, c, a: d.resolve(c.id, "   ", actor=a)),
    ("empty subject", InvalidInput,
     lambda d, c, a: d.update_fields(c.id, {"subject": "  "}, actor=a)),
    ("subject over limit", TextTooLong,
     lambda d, c, a: d.update_fields(c.id, {"subject": "x" * 251}, actor=a)),
    ("comment over limit", TextTooLong,
     lambda d, c, a: d.add_comment(c.id, "x" * 50_001, actor=a)),
    ("csat on active case", InvalidInput,
     lambda d, c, a: d.rate(c.id, 5, actor=Actor.customer("c1"))),
    ("csat by an agent", PermissionDenied,
     lambda d, c, a: d.rate(c.id, 5, actor=a)),
    ("csat by a customer who is not the contact", CaseNotFound,
     lambda d, c, a: d.rate(c.id, 5, actor=Actor.customer("someone-else"))),
    ("stale version", ConcurrencyConflict,
     lambda d, c, a: d.add_comment(c.id, "late", actor=a, expected_version=c.version - 1)),
    ("unknown case id", CaseNotFound,
     lambda d, c, a: d.add_comment("no-such-case", "x", actor=a)),
    ("customer internal note", PermissionDenied,
     lambda d, c, a: d.add_comment(c.id, "x", actor=Actor.customer("c1"))),
    ("bad custom field", InvalidInput,
     lambda d, c, a: d.update_fields(c.id, {"custom": {"Bad Key": 1}}, actor=a)),
    ("non-scalar custom value", InvalidInput,
     lambda d, c, a: d.update_fields(c.id, {"custom": {"k": [1, 2]}}, actor=a)),
    ("bad attachment hash", InvalidInput,
     lambda d, c, a: d.add_attachment(c.id, actor=a, name="x.png", content_type="image/png",
                                      size=10, sha256="nothex", storage_key="k")),
    ("redact an activity entry", InvalidInput,
     lambda d, c, a: d.redact_comment(c.id, 1, reason="r", actor=a)),
    ("case in another tenant", CaseNotFound,
     lambda d, c, a: d.for_tenant("other").add_comment(c.id, "x", actor=a)),
]


class TestBadInputChangesNothing:
    """Each refusal raises its typed error and leaves the store exactly as it was."""

    @pytest.mark.parametrize(("name", "error", "command"), BAD_INPUT,
                             ids=[b[0] for b in BAD_INPUT])
    def test_refused(self, desk: ServiceDesk, agent: Actor, name: str,
                     error: type[Exception], command: Callable[..., object]) -> None:
        case = worked_case(desk, agent)
        before = snapshot(desk)
        with pytest.raises(error):
            command(desk, case, agent)
        assert snapshot(desk) == before

    @pytest.mark.parametrize("score", [0, 6, -1, 3.5, True])
    def test_csat_outside_range(self, desk: ServiceDesk, agent: Actor, score: Any) -> None:
        """CSAT is 1–5 on close; out-of-range refuses the whole close."""
        case = worked_case(desk, agent)
        case = desk.resolve(case.id, "done", actor=agent)
        before = snapshot(desk)
        with pytest.raises(InvalidInput, match="CSAT"):
            desk.close(case.id, "bye", actor=agent, csat=score)
        assert snapshot(desk) == before

    def test_naive_clock(self, agent: Actor) -> None:
        """A naive 'now' from the host's clock is refused before anything is written."""
        desk = ServiceDesk(MemoryStore(), clock=NaiveClock())
        with pytest.raises(NaiveDatetime):
            desk.create_case(subject="x", actor=agent)
        assert snapshot(desk) == ([], [])

    def test_naive_datetime_in_query(self, desk: ServiceDesk) -> None:
        """Naive datetimes in filters are refused too."""
        with pytest.raises(NaiveDatetime):
            CaseQuery(due_before=datetime(2026, 1, 1))

    @pytest.mark.parametrize(("field", "value", "error"), [
        ("subject", "", InvalidInput),
        ("subject", "x" * (SUBJECT_MAX_LENGTH + 1), TextTooLong),
        ("priority", "asap", UnknownValue),
        ("source", "fax", UnknownValue),
        ("category", "Astrology", UnknownValue),
        ("case_type", "complaint", UnknownValue),
        ("reason_code", "bored", UnknownValue),
        ("severity", "apocalyptic", UnknownValue),
        ("tags", "not-a-list", InvalidInput),
        ("links", {"spaceship": "x"}, UnknownValue),
    ])
    def test_create_refused(self, desk: ServiceDesk, agent: Actor, field: str, value: Any,
                            error: type[Exception]) -> None:
        """Invalid create arguments raise and allocate no case."""
        kwargs: dict[str, Any] = {"subject": "ok", field: value}
        with pytest.raises(error):
            desk.create_case(actor=agent, **kwargs)
        assert snapshot(desk) == ([], [])

    def test_account_required_policy(self, clock: FrozenClock, agent: Actor) -> None:
        """A tenant that requires an account link refuses cases without one."""
        desk = ServiceDesk(MemoryStore(), clock=clock,
                           settings=TenantSettings(policy=CasePolicy(require_account=True)))
        with pytest.raises(InvalidInput, match="account"):
            desk.create_case(subject="x", actor=agent)
        case = desk.create_case(subject="x", actor=agent, links={"account": "acc-1"})
        with pytest.raises(InvalidInput, match="account"):
            desk.update_fields(case.id, {"links": {"account": None}}, actor=agent)


class TestTheFacade:
    """ServiceDesk is a facade over its use cases; its public attributes stay live."""

    def test_a_clock_swapped_after_construction_is_the_one_commands_read(
        self, desk: ServiceDesk, agent: Actor
    ) -> None:
        """Assigning ``desk.clock`` reaches every use case, as on the one-class desk."""
        later = FrozenClock(datetime(2027, 6, 1, 12, 0, tzinfo=UTC))
        desk.clock = later
        case = desk.create_case(subject="Printer on fire", actor=agent)
        assert case.created_at == later.now()
        assert desk.clock is later

    def test_a_store_swapped_after_construction_is_the_one_commands_use(
        self, desk: ServiceDesk, agent: Actor
    ) -> None:
        """Assigning ``desk.store`` moves every command and query to the new store."""
        old = desk.store
        desk.store = MemoryStore()
        case = desk.create_case(subject="Printer on fire", actor=agent)
        assert desk.get_case(case.id, actor=READER).id == case.id
        with pytest.raises(CaseNotFound):
            ServiceDesk(old, tenant="acme").get_case(case.id, actor=READER)

    def test_for_tenant_shares_store_clock_and_ids(self, desk: ServiceDesk) -> None:
        """``for_tenant`` gives a desk over the same parts, another tenant."""
        other = desk.for_tenant("globex")
        assert (other.store, other.clock, other.tenant) == (desk.store, desk.clock, "globex")
        assert repr(other) == "<ServiceDesk tenant='globex' workflow='default'>"
