"""Every status change goes through every gate, the tenant's too: an automation's transition
action could resolve a parent with open children or a case with required checklist items
open (the workflow's gates ran, the tenant's did not), and a follow-up's housekeeping close of
a gated case must not cost the customer's reply. On the three stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from caselib import Actor, ServiceDesk, TenantSettings
from caselib.cases import CaseTemplate, ChecklistItem, ReopenPolicy
from caselib.errors import ChecklistIncomplete, GateRequired
from caselib.ports import Store
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
ADMIN = Actor.system("admin")
CUSTOMER = Actor.customer("c-1")
OUTAGE = CaseTemplate("outage", [ChecklistItem("status-page", "Post on the status page")])


def _desk(store: Store, clock: FrozenClock | None = None) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=clock or FrozenClock(T0),
                       settings=TenantSettings(children_block_parent=True, templates=(OUTAGE,),
                                               reopen=ReopenPolicy(grace=timedelta(days=7))))


def _to(desk: ServiceDesk, case_id: str, *statuses: str) -> None:
    for to in statuses:
        desk.transition(case_id, to, actor=ANA)


def _resolved_parent_with_a_reopened_child(desk: ServiceDesk) -> tuple[str, str]:
    parent = desk.create_case(subject="Office move", actor=ANA, links={"contact": "c-1"})
    child = desk.create_case(subject="Move the printers", actor=ANA)
    desk.link_cases(parent.id, "parent_of", child.id, actor=ANA)
    for case_id in (child.id, parent.id):
        _to(desk, case_id, "open", "in_progress", "pending_customer")
        desk.resolve(case_id, "Done", actor=ANA)
    desk.reopen(child.id, actor=ANA, reason="One printer is missing")
    return parent.id, child.id


def _rule(to: str) -> dict[str, object]:
    return {"id": f"auto-{to}", "trigger": {"event": "case.comment_added"},
            "actions": [{"do": "transition", "to": to, "note": "Done by a rule"},
                        {"do": "note", "body": "the rule ran"}]}


class TestAutomationTransitions:
    def test_a_rule_cannot_close_a_parent_with_an_open_child(
            self, make_store: Callable[[], Store]) -> None:
        """The transition action fails (recorded on the entry) and the case keeps its status;
        the rule's other action is still applied."""
        desk = _desk(make_store())
        parent, child = _resolved_parent_with_a_reopened_child(desk)
        desk.set_automation_rules([_rule("closed")], actor=ADMIN)
        desk.run_automations()
        desk.add_comment(parent, "closing out", actor=ANA)
        report = desk.run_automations()
        assert (report.applied, report.failed_actions) == ({"auto-closed": 1}, 1)
        case = desk.get_case(parent, actor=ANA)
        assert case.status == "resolved"
        entry = case.timeline[-1]
        assert entry.kind == "automation"
        [failed] = entry.data["failed"]
        assert failed["action"] == "transition" and "every child case done" in failed["error"]
        assert case.timeline[-2].body == "the rule ran"
        # once the child is done the same rule closes the parent
        _to(desk, child, "in_progress", "pending_customer")
        desk.resolve(child, "Found it", actor=ANA)
        desk.add_comment(parent, "now", actor=ANA)
        desk.run_automations()
        assert desk.get_case(parent, actor=ANA).status == "closed"

    def test_a_rule_cannot_resolve_past_a_required_checklist_item(
            self, make_store: Callable[[], Store]) -> None:
        desk = _desk(make_store())
        case = desk.create_from_template("outage", subject="VPN down", actor=ANA)
        _to(desk, case.id, "open", "in_progress", "pending_customer")
        desk.set_automation_rules([_rule("resolved")], actor=ADMIN)
        desk.run_automations()
        desk.add_comment(case.id, "should be fine now", actor=ANA)
        report = desk.run_automations()
        assert report.failed_actions == 1
        after = desk.get_case(case.id, actor=ANA)
        assert after.status == "pending_customer"
        assert "status-page" in after.timeline[-1].data["failed"][0]["error"]
        with pytest.raises(ChecklistIncomplete):  # the command refuses the same way
            desk.resolve(case.id, "Done", actor=ANA)


class TestFollowUpOfAGatedCase:
    def test_the_reply_lands_on_the_follow_up_and_the_parent_stays_resolved(
            self, make_store: Callable[[], Store]) -> None:
        """Past the reopen window a reply closes the old case and opens a follow-up; when
        the close is gated (a child reopened since), the old case stays resolved and the
        reply still lands (it raised GateRequired to the customer before)."""
        clock = FrozenClock(T0)
        desk = _desk(make_store(), clock)
        parent, _ = _resolved_parent_with_a_reopened_child(desk)
        with pytest.raises(GateRequired):
            desk.close(parent, "done", actor=ANA)
        clock.advance(timedelta(days=30))
        follow = desk.customer_reply(parent, "The printers are still in boxes", actor=CUSTOMER)
        assert follow.id != parent and follow.description == "The printers are still in boxes"
        assert desk.get_case(parent, actor=ANA).status == "resolved"
        assert [k.role_for(follow.id) for k in desk.case_links(follow.id, actor=ANA)] == [
            "follow_up_of"]


class TestFollowUpWithoutAClosedStatus:
    """A workflow whose resolved status is its last (no move to a closed status) keeps the
    old case resolved when a reply past the window opens a follow-up: closing it is
    housekeeping, and its TransitionNotAllowed cost the customer's reply (portal) or the mail
    (ingest raised, the CLI bounced it)."""

    @staticmethod
    def _desk(store: Store, clock: FrozenClock) -> ServiceDesk:
        from caselib import Workflow
        from caselib.desk.mail import MailSettings

        wf = Workflow.from_dict({
            "name": "short",
            "statuses": [{"id": "new", "category": "new"},
                         {"id": "open", "category": "open"},
                         {"id": "resolved", "category": "resolved"}],
            "transitions": [{"from": "new", "to": "open"},
                            {"from": "open", "to": "resolved"},
                            {"from": "resolved", "to": "open"}]})
        desk = ServiceDesk(store, tenant="acme", clock=clock, settings=TenantSettings(
            workflow=wf, reopen=ReopenPolicy(grace=timedelta(days=1))))
        desk.mail = MailSettings("help@support.test")
        return desk

    @staticmethod
    def _resolved(desk: ServiceDesk) -> str:
        case = desk.create_case(subject="Printer jam", actor=ANA,
                                links={"contact": "jo@example.com"})
        desk.transition(case.id, "open", actor=ANA)
        desk.resolve(case.id, "Cleared the tray", actor=ANA)
        return case.id

    def test_a_portal_reply_opens_the_follow_up(
            self, make_store: Callable[[], Store]) -> None:
        clock = FrozenClock(T0)
        desk = self._desk(make_store(), clock)
        case_id = self._resolved(desk)
        clock.advance(timedelta(days=3))
        follow = desk.customer_reply(case_id, "Jammed again",
                                     actor=Actor.customer("jo@example.com"))
        assert follow.id != case_id and follow.description == "Jammed again"
        assert desk.get_case(case_id, actor=ANA).status == "resolved"
        assert [k.role_for(follow.id) for k in desk.case_links(follow.id, actor=ANA)] == [
            "follow_up_of"]

    def test_a_mail_reply_opens_the_follow_up(
            self, make_store: Callable[[], Store]) -> None:
        from email.message import EmailMessage

        clock = FrozenClock(T0)
        desk = self._desk(make_store(), clock)
        case_id = self._resolved(desk)
        number = desk.get_case(case_id, actor=ANA).number
        clock.advance(timedelta(days=3))
        msg = EmailMessage()
        msg["From"] = "jo@example.com"
        msg["To"] = "help@support.test"
        msg["Subject"] = f"[{number}] Printer jam"
        msg["Message-ID"] = "<late@example.com>"
        msg.set_content("Jammed again, by mail")
        out = desk.ingest_mail(msg.as_bytes())
        assert out.outcome == "follow_up" and out.case_id not in (None, case_id)
        assert desk.get_case(case_id, actor=ANA).status == "resolved"
