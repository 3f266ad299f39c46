"""A customer's reply puts a case waiting on the customer back to work, whichever way the
reply comes (portal, mail, an approved held mail): the portal's reply used to leave it waiting
with its SLA clock paused while the same answer by mail moved it. On the three stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib import (
    Actor,
    MemoryStore,
    ServiceDesk,
    TenantSettings,
    Workflow,
)
from caselib.cases import ReopenPolicy
from caselib.desk.mail import MailSettings
from caselib.errors import WrongType
from caselib.ports import Store
from caselib.testing import FrozenClock
from caselib.vocab import StatusCategory

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
CUSTOMER = Actor.customer("jo@example.com")
COLLEAGUE = "Colleague <co@example.com>"


def _desk(store: Store, clock: FrozenClock, **settings: object) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=clock,
                       settings=TenantSettings(**settings))  # type: ignore[arg-type]


def _waiting(desk: ServiceDesk) -> str:
    case = desk.create_case(subject="Printer jam", actor=ANA,
                            links={"contact": CUSTOMER.id})
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, to, actor=ANA)
    return case.id


def _mail(mid: str, body: str, in_reply_to: str | None = None,
          sender: str = f"Jo <{CUSTOMER.id}>") -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "help@support.test"
    msg["Subject"] = "Printer jam" if in_reply_to is None else "Re: Printer jam"
    msg["Message-ID"] = f"<{mid}>"
    if in_reply_to:
        msg["In-Reply-To"] = f"<{in_reply_to}>"
    msg.set_content(body)
    return msg.as_bytes()


class TestPortalReply:
    def test_a_reply_resumes_a_waiting_case_and_its_clock(
            self, make_store: Callable[[], Store]) -> None:
        """Pending customer → in progress on the customer's reply; the SLA pause ends at the
        reply (it ran on before: the clock stayed paused however long the answer was)."""
        clock = FrozenClock(T0)
        desk = _desk(make_store(), clock)
        case_id = _waiting(desk)
        paused = desk.get_case(case_id, actor=ANA)
        clock.advance(timedelta(hours=3))
        landed = desk.customer_reply(case_id, "Here is the photo", actor=CUSTOMER)
        assert landed.id == case_id and landed.status == "in_progress"
        assert landed.timeline[-2].body == "Here is the photo"
        assert landed.timeline[-1].kind == "status_changed"
        assert landed.timeline[-1].actor == CUSTOMER.id
        assert [(p.start, p.end) for p in paused.pauses] == [(T0, None)]
        assert [(p.start, p.end) for p in landed.pauses] == [(T0, T0 + timedelta(hours=3))]
        # add_comment by the customer is the same reply
        desk.transition(case_id, "pending_customer", actor=ANA)
        again = desk.add_comment(case_id, "One more", actor=CUSTOMER, audience="public")
        assert again.status == "in_progress"

    def test_an_agents_note_or_reply_leaves_it_waiting(
            self, make_store: Callable[[], Store]) -> None:
        desk = _desk(make_store(), FrozenClock(T0))
        case_id = _waiting(desk)
        desk.add_comment(case_id, "chased them", actor=ANA)
        desk.add_comment(case_id, "Any news?", actor=ANA, audience="public")
        assert desk.get_case(case_id, actor=ANA).status == "pending_customer"

    def test_a_tenant_may_keep_waiting_cases_waiting(
            self, make_store: Callable[[], Store]) -> None:
        desk = _desk(make_store(), FrozenClock(T0),
                     reopen=ReopenPolicy(replies_resume_waiting=False))
        case_id = _waiting(desk)
        landed = desk.customer_reply(case_id, "Here is the photo", actor=CUSTOMER)
        assert landed.status == "pending_customer"
        assert landed.timeline[-1].body == "Here is the photo"

    @pytest.mark.parametrize("make", [
        lambda: ReopenPolicy(replies_resume_waiting="no"),
        lambda: ReopenPolicy(customers_may_reopen=0),
        lambda: TenantSettings(children_block_parent="yes"),
    ])
    def test_the_flags_take_a_bool_only(self, make: Callable[[], object]) -> None:
        """A wrong type is a caselib WrongType naming the setting, not attrs' bare
        TypeError."""
        with pytest.raises(WrongType, match="True or False"):
            make()

    def test_a_gate_a_reply_cannot_meet_leaves_it_waiting(self) -> None:
        """The only way back to work needs an assignee the case lacks: the reply lands, the
        case stays waiting, nothing raises."""
        wf = Workflow.from_dict({
            "name": "gated",
            "statuses": [{"id": "new", "category": "new"},
                         {"id": "waiting", "category": "waiting"},
                         {"id": "working", "category": "open"},
                         {"id": "done", "category": "resolved"}],
            "transitions": [{"from": "new", "to": "waiting"},
                            {"from": "waiting", "to": "working", "gates": ["assignee"]},
                            {"from": "working", "to": "done"}],
        })
        desk = _desk(MemoryStore(), FrozenClock(T0), workflow=wf)
        case = desk.create_case(subject="x", actor=ANA, links={"contact": CUSTOMER.id},
                                assignee=None, team=None)
        desk.transition(case.id, "waiting", actor=ANA)
        landed = desk.customer_reply(case.id, "hello", actor=CUSTOMER)
        assert landed.status == "waiting" and landed.timeline[-1].body == "hello"


class TestMail:
    def test_mail_and_an_approved_held_mail_resume_it_too(
            self, make_store: Callable[[], Store]) -> None:
        desk = _desk(make_store(), FrozenClock(T0))
        desk.mail = MailSettings("help@support.test")
        case_id = desk.ingest_mail(_mail("m1@ex", "It jams.")).case_id or ""
        for to in ("open", "in_progress", "pending_customer"):
            desk.transition(case_id, to, actor=ANA)
        out = desk.ingest_mail(_mail("m2@ex", "Photo attached", in_reply_to="m1@ex"))
        assert (out.outcome, out.case_id) == ("reply", case_id)
        assert desk.get_case(case_id, actor=ANA).status == "in_progress"
        # a held mail (another sender) resumes the case once an agent approves it
        desk.transition(case_id, "pending_customer", actor=ANA)
        assert desk.ingest_mail(_mail("m3@ex", "Same problem here", in_reply_to="m1@ex",
                                      sender=COLLEAGUE)).outcome == "held"
        case = desk.get_case(case_id, actor=ANA)
        assert case.status == "pending_customer"
        held = next(e.seq for e in case.timeline if e.kind == "mail_held")
        approved = desk.approve_held_mail(case_id, held, actor=ANA)
        assert approved.status == "in_progress"


@settings(max_examples=40, deadline=None)
@given(preset=st.sampled_from(["default", "simple", "kanban"]), data=st.data())
def test_a_customer_reply_never_fails_and_only_leaves_waiting_for_open(
        preset: str, data: st.DataObject) -> None:
    """In every preset, from any status reached by random agent moves, a customer's reply
    lands; a waiting case ends in an open status or where it was, any other case where it
    was (a resolved one may reopen or follow up, as the reopen policy says)."""
    wf = getattr(Workflow, preset)() if preset != "kanban" else Workflow.kanban([])
    desk = _desk(MemoryStore(), FrozenClock(T0), workflow=wf)
    compiled = wf.compile()
    case = desk.create_case(subject="x", actor=ANA, links={"contact": CUSTOMER.id},
                            assignee="ana")
    for _ in range(data.draw(st.integers(0, 5), label="moves")):
        targets = [t for t in compiled.allowed_transitions(case.status)
                   if compiled.category(t) not in (StatusCategory.RESOLVED,
                                                   StatusCategory.CLOSED)]
        if not targets:
            break
        case = desk.transition(case.id, data.draw(st.sampled_from(targets)), actor=ANA)
    before = case
    landed = desk.customer_reply(case.id, "an answer", actor=CUSTOMER)
    assert landed.id == case.id and landed.timeline[-1].kind in ("reply", "status_changed")
    assert any(e.body == "an answer" for e in landed.timeline)
    if before.status_category is StatusCategory.WAITING:
        assert (landed.status == before.status
                or compiled.category(landed.status) is StatusCategory.OPEN)
    else:
        assert landed.status == before.status


def test_an_approved_held_reopen_puts_the_case_back_to_work() -> None:
    """An unknown sender's mail to a resolved case is held; the agent approving it reopens
    the case, so the answer is in a queue (it was posted on a case nobody's queue shows)."""
    desk = _desk(MemoryStore(), FrozenClock(T0))
    desk.mail = MailSettings("help@support.test")
    case_id = desk.ingest_mail(_mail("m1@ex", "It jams.")).case_id or ""
    desk.mail = MailSettings("help@support.test",
                             contacts=lambda a: a if a == CUSTOMER.id else None)
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case_id, to, actor=ANA)
    desk.resolve(case_id, "Cleared", actor=ANA)
    assert desk.ingest_mail(_mail("m2@ex", "Still jammed", in_reply_to="m1@ex",
                                  sender=COLLEAGUE)).outcome == "held"
    held = next(e.seq for e in desk.get_case(case_id, actor=ANA).timeline
                if e.kind == "mail_held")
    assert desk.approve_held_mail(case_id, held, actor=ANA).is_active
