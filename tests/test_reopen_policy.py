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
        before = desk.get_case(case_id, actor=ANA)
        clock.advance(timedelta(days=2))
        landed = desk.customer_reply(case_id, "Jammed again", actor=CUSTOMER)
        assert landed.id == case_id and landed.status == "open"
        assert landed.version == before.version + 1  # the reopen and the reply: one save
        assert landed.timeline[-1].body == "Jammed again"
        card = desk.scorecard(start=T0, end=T0 + timedelta(days=3), actor=ANA)
        assert card.total.reopened == 1

    def test_a_second_late_reply_joins_the_first_follow_up(self) -> None:
        """Replying twice to the old case past the window gives one follow-up with both
        replies; once that follow-up is done, the next late reply opens a new one."""
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        clock.advance(timedelta(days=30))
        first = desk.customer_reply(case_id, "Jammed again", actor=CUSTOMER)
        second = desk.customer_reply(case_id, "And the photo", actor=CUSTOMER)
        assert second.id == first.id != case_id
        assert second.timeline[-1].body == "And the photo"
        for to in ("open", "in_progress", "pending_customer"):
            desk.transition(first.id, to, actor=ANA)
        desk.resolve(first.id, "Replaced the roller", actor=ANA)
        clock.advance(timedelta(days=30))
        third = desk.customer_reply(case_id, "Months later", actor=CUSTOMER)
        assert third.id not in (case_id, first.id)

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


def _offers(desk: ServiceDesk, case_id: str, actor: Actor = CUSTOMER) -> tuple[bool, ...]:
    view = desk.customer_view(case_id, actor=actor)
    return view.can_reopen, view.can_rate, view.reply_opens_follow_up


class TestCustomerViewOffers:
    """customer_view says what the customer may do now, and the commands agree."""

    def test_inside_the_window_reopen_is_offered_and_works(self) -> None:
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        clock.advance(timedelta(days=7))  # the window's last instant still reopens
        assert _offers(desk, case_id) == (True, True, False)
        assert desk.reopen(case_id, actor=CUSTOMER).status == "open"
        assert _offers(desk, case_id) == (False, False, False)  # active: nothing to offer

    def test_past_the_window_no_reopen_and_a_reply_follows_up(self) -> None:
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        clock.advance(timedelta(days=7, seconds=1))
        assert _offers(desk, case_id) == (False, True, True)
        with pytest.raises(ReopenWindowClosed):
            desk.reopen(case_id, actor=CUSTOMER)
        follow = desk.customer_reply(case_id, "Again", actor=CUSTOMER)
        assert follow.id != case_id  # as the view said
        # agents may always reopen, and their view of the same case says so
        assert _offers(desk, case_id, ANA)[0] is True

    def test_closed_and_rated(self) -> None:
        """A closed case: no reopen with a window (a reply follows up); rated once only;
        only the contact rates. Without a window a closed case still reopens (< 0.3)."""
        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        desk.close(case_id, actor=ANA, note="done")
        colleague = Actor.customer("c-2", account="acc-1")
        assert _offers(desk, case_id, colleague) == (False, False, True)
        assert _offers(desk, case_id) == (False, True, True)
        desk.rate(case_id, 5, actor=CUSTOMER)
        assert _offers(desk, case_id) == (False, False, True)
        open_ended = _desk(clock)
        other = _resolved(open_ended)
        open_ended.close(other, actor=ANA, note="done")
        assert _offers(open_ended, other) == (True, True, False)
        assert open_ended.reopen(other, actor=CUSTOMER).status == "open"

    def test_customers_may_not_reopen(self) -> None:
        desk = _desk(FrozenClock(T0), reopen=ReopenPolicy(customers_may_reopen=False))
        case_id = _resolved(desk)
        assert _offers(desk, case_id) == (False, True, True)

    def test_a_merged_case_offers_nothing(self) -> None:
        """Commands on a merged case go to the survivor: no form on the merged one."""
        clock = FrozenClock(T0)
        desk = _desk(clock)
        case_id = _resolved(desk)
        survivor = desk.create_case(subject="Printer again", actor=ANA,
                                    links={"contact": "c-1", "account": "acc-1"})
        desk.reopen(case_id, actor=ANA)
        desk.merge(case_id, survivor.id, actor=ANA)
        assert _offers(desk, case_id) == (False, False, False)


class TestReplyChangesNothingWhenRefused:
    """A reply the desk refuses (empty, not text, too long) changes nothing, whichever way
    the policy sends it: the reopen inside the window committed before the comment was
    checked (the case stayed reopened without the reply), and past it an empty reply closed
    the old case and opened an empty follow-up."""

    @pytest.mark.parametrize("body", ["", "   ", 5, "x" * 60_000])
    @pytest.mark.parametrize("days", [2, 30])
    def test_a_refused_reply_leaves_the_case_resolved(self, body: object, days: int) -> None:
        from caselib import CaselibError

        clock = FrozenClock(T0)
        desk = _desk(clock, reopen=ReopenPolicy(grace=timedelta(days=7)))
        case_id = _resolved(desk)
        before = desk.get_case(case_id, actor=ANA)
        clock.advance(timedelta(days=days))
        with pytest.raises(CaselibError):
            desk.customer_reply(case_id, body, actor=CUSTOMER)  # type: ignore[arg-type]
        after = desk.get_case(case_id, actor=ANA)
        assert (after.status, after.version) == ("resolved", before.version)
        assert desk.count_cases(actor=ANA) == 1
