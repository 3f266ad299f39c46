"""The reopen policy (grace window, then a linked follow-up) and the direct lifecycle preset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from caselib import (
    Actor,
    InvalidConfiguration,
    MemoryStore,
    ServiceDesk,
    TenantSettings,
    Workflow,
)
from caselib.cases import ReopenPolicy
from caselib.errors import ReopenWindowClosed
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
CUSTOMER = Actor.customer("c-1", account="acc-1")


def _desk(clock: FrozenClock, **settings: object) -> ServiceDesk:
    return ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                       settings=TenantSettings(**settings))  # type: ignore[arg-type]


def _resolved(desk: ServiceDesk) -> str:
    case = desk.create_case(subject="Printer jam", actor=ANA, category="Technical",
                            links={"contact": "c-1", "account": "acc-1"}, tags=["printer"])
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, to, actor=ANA)
    desk.resolve(case.id, "Cleared the tray", actor=ANA)
    return case.id


class TestReopenPolicy:
    """Inside the grace window a reply reopens; past it a follow-up opens."""

    def test_inside_grace_reopens_and_counts(self) -> None:
        """A reply two days after the resolve reopens the case; the scorecard counts it."""
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        clock.advance(timedelta(days=2))
        landed = desk.customer_reply(case_id, "Jammed again", actor=CUSTOMER)
        assert landed.id == case_id and landed.status == "open"
        assert landed.timeline[-1].body == "Jammed again"
        card = desk.scorecard(start=T0, end=T0 + timedelta(days=3), actor=ANA)
        assert card.total.reopened == 1

    def test_past_grace_opens_a_follow_up(self) -> None:
        """Past the window: the case closes, a linked follow-up carries its context."""
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        clock.advance(timedelta(days=30))
        with pytest.raises(ReopenWindowClosed):
            desk.reopen(case_id, actor=CUSTOMER)
        follow = desk.customer_reply(case_id, "Same printer, new jam", actor=CUSTOMER)
        assert follow.id != case_id and follow.subject == "Follow-up: Printer jam"
        assert (follow.links.contact, follow.links.account) == ("c-1", "acc-1")
        assert (follow.category, set(follow.tags)) == ("Technical", {"printer"})
        assert follow.description == "Same printer, new jam"
        assert desk.get_case(case_id, actor=ANA).status == "closed"
        assert [k.role_for(follow.id) for k in desk.case_links(follow.id, actor=ANA)] \
            == ["follow_up_of"]
        # agents may always reopen
        assert desk.reopen(case_id, actor=ANA, reason="Customer called").status == "open"
        card = desk.scorecard(start=T0, end=T0 + timedelta(days=31), actor=ANA)
        assert card.total.created == 2

    def test_default_keeps_the_old_behaviour(self) -> None:
        """No grace set: customers reopen resolved cases whenever they reply."""
        clock = FrozenClock(T0)
        desk = _desk(clock)
        case_id = _resolved(desk)
        clock.advance(timedelta(days=400))
        assert desk.customer_reply(case_id, "Again", actor=CUSTOMER).id == case_id
        with pytest.raises(InvalidConfiguration):
            ReopenPolicy(grace=timedelta(days=-1))


class TestDirectPreset:
    """Workflow.direct allows in_progress -> resolved; default does not."""

    def test_direct_resolve(self) -> None:
        """The direct preset resolves from in_progress; default refuses."""
        clock = FrozenClock(T0)
        for workflow, allowed in ((Workflow.direct(), True), (Workflow.default(), False)):
            desk = _desk(clock, workflow=workflow)
            case = desk.create_case(subject="x", actor=ANA)
            desk.transition(case.id, "open", actor=ANA)
            case = desk.transition(case.id, "in_progress", actor=ANA)
            assert ("resolved" in desk.allowed_transitions(case, actor=ANA)) is allowed
