"""The e-mail channel on the desk: ingest_mail, reply_by_mail, held mail, reopen policy,
rate limits, exactly-once, and the loop guard; on the memory, SQLite and PostgreSQL stores."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest

from caselib import ServiceDesk
from caselib.adapters import FileBlobStore
from caselib.cases import Actor
from caselib.desk.delivery import DeliveryChannels
from caselib.desk.mail import MailSettings
from caselib.errors import InvalidConfiguration
from caselib.mail import MailPolicy, ReplyKeys
from caselib.ports import OutgoingMail, Store
from caselib.testing import FrozenClock

KEYS = ReplyKeys({"k1": b"acme-reply-key-0001"}, "k1")
AGENT = Actor.agent("ana", "support", name="Ana")
ADMIN = Actor.system("admin")


class Outbox:
    """A Mailer keeping what it sends."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


def make_mail(*, sender: str = "bo@example.com", to: str = "help@support.test",
              subject: str = "Printer broken", body: str = "It jams.", mid: str = "m1@ex",
              headers: dict[str, str] | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Bo <{sender}>"
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{mid}>"
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    return msg.as_bytes()


@pytest.fixture
def desk(make_store: Callable[[], Store], clock: FrozenClock, tmp_path: Path) -> ServiceDesk:
    d = ServiceDesk(make_store(), tenant="acme", clock=clock)
    d.mail = MailSettings("help@support.test", keys=KEYS,
                          blobs=FileBlobStore(tmp_path / "blobs"))
    return d


def test_new_case_then_redelivery_is_one(desk: ServiceDesk) -> None:
    raw = make_mail()
    first = desk.ingest_mail(raw)
    assert first.outcome == "new" and first.decision is not None
    assert [desk.ingest_mail(raw).outcome for _ in range(3)] == ["duplicate"] * 3
    case = desk.get_case(first.case_id or "", actor=AGENT)
    assert case.source.value == "email" and case.links.contact == "bo@example.com"
    assert case.description == "It jams." and case.team is not None
    assert [a.name for a in case.attachments] == ["original-message.eml"]
    assert desk.count_cases(actor=AGENT) == 1


def test_reply_threads_by_token_then_headers(desk: ServiceDesk, clock: FrozenClock) -> None:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    case = desk.get_case(case_id, actor=AGENT)
    address = KEYS.address("acme", case_id, case.number, "support.test", clock.now())
    out = desk.ingest_mail(make_mail(to=address, subject="Re: anything", body="More.\n\n"
                                     "On Mon Ana wrote:\n> old", mid="m2@ex"))
    assert (out.outcome, out.case_id) == ("reply", case_id)
    # replying to the first mail's id (reply-all from a colleague's client) threads too
    out = desk.ingest_mail(make_mail(mid="m3@ex", subject="Re: x",
                                     headers={"In-Reply-To": "<m1@ex>"}))
    assert (out.outcome, out.case_id, out.decision and out.decision.via) == (
        "reply", case_id, "thread")
    bodies = [e.body for e in desk.get_case(case_id, actor=AGENT).timeline if e.kind == "reply"]
    assert bodies == ["More.", "It jams."]


def test_a_reply_to_a_merged_case_lands_on_its_survivor(desk: ServiceDesk,
                                                        clock: FrozenClock) -> None:
    """Threaded by headers or by the merged case's signed address, the customer's answer
    goes on the survivor (it raised CaseMerged and the mail was lost); unmerged, the thread
    is the source's again."""
    source = desk.ingest_mail(make_mail()).case_id or ""
    number = desk.get_case(source, actor=AGENT).number
    survivor = desk.create_case(subject="Printer again", actor=AGENT,
                                links={"contact": "bo@example.com"}).id
    desk.merge(source, survivor, actor=AGENT)
    out = desk.ingest_mail(make_mail(mid="m2@ex", subject="Re: Printer broken",
                                     body="Tray two too.", headers={"In-Reply-To": "<m1@ex>"}))
    assert (out.outcome, out.case_id) == ("reply", survivor)
    address = KEYS.address("acme", source, number, "support.test", clock.now())
    out = desk.ingest_mail(make_mail(to=address, mid="m3@ex", body="And tray three."))
    assert (out.outcome, out.case_id) == ("reply", survivor)
    replies = [e.body for e in desk.get_case(survivor, actor=AGENT).timeline
               if e.kind == "reply"]
    assert replies == ["Tray two too.", "And tray three."]
    assert [r.case_id for r in desk.mail_thread(survivor, actor=AGENT)
            if r.direction == "in"] == [survivor, survivor]
    desk.unmerge(source, actor=AGENT)
    out = desk.ingest_mail(make_mail(mid="m4@ex", headers={"In-Reply-To": "<m1@ex>"}))
    assert (out.outcome, out.case_id) == ("reply", source)


def test_unknown_sender_is_held_until_approved(desk: ServiceDesk) -> None:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    out = desk.ingest_mail(make_mail(sender="eve@other.test", mid="e1@x",
                                     headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "held"
    case = desk.get_case(case_id, actor=AGENT)
    held = [e for e in case.timeline if e.kind == "mail_held"]
    assert len(held) == 1 and not [e for e in case.timeline if e.kind == "reply"]
    case = desk.approve_held_mail(case_id, held[0].seq, actor=AGENT)
    assert [e.actor for e in case.timeline if e.kind == "reply"] == ["eve@other.test"]


@pytest.mark.parametrize("how", ["forged", "other_tenant", "expired"])
def test_bad_tokens_never_post(desk: ServiceDesk, clock: FrozenClock, how: str) -> None:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    number = desk.get_case(case_id, actor=AGENT).number
    if how == "forged":
        good = KEYS.address("acme", case_id, number, "support.test", clock.now())
        local, domain = good.split("@")
        address = f"{local[:-4]}aaaa@{domain}"
    elif how == "other_tenant":
        address = KEYS.address("globex", case_id, number, "support.test", clock.now())
    else:
        address = KEYS.address("acme", case_id, number, "support.test",
                               clock.now() - timedelta(days=400))
    out = desk.ingest_mail(make_mail(to=address, mid="t@x"))
    assert out.case_id != case_id and out.outcome in ("drop", "new")
    assert len(desk.get_case(case_id, actor=AGENT).timeline) == len(
        desk.get_case(case_id, actor=AGENT).timeline)
    assert not [e for e in desk.get_case(case_id, actor=AGENT).timeline
                if e.kind == "reply" and e.body != "It jams."]


def _resolve(desk: ServiceDesk, case_id: str) -> None:
    for status in ("open", "in_progress", "pending_customer"):
        if status in desk.allowed_transitions(desk.get_case(case_id, actor=AGENT)):
            desk.transition(case_id, status, actor=ADMIN)
    desk.resolve(case_id, "fixed", actor=ADMIN)


def _closed(desk: ServiceDesk) -> str:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    _resolve(desk, case_id)
    desk.close(case_id, "done", actor=ADMIN)
    return case_id


def test_closed_case_reopen_and_rate_limit(desk: ServiceDesk) -> None:
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             policy=MailPolicy(reopens_per_case=1))
    case_id = _closed(desk)
    out = desk.ingest_mail(make_mail(mid="r1@x", headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "reopen"
    assert desk.get_case(case_id, actor=AGENT).is_active
    _resolve(desk, case_id)
    out = desk.ingest_mail(make_mail(mid="r2@x", headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "held_rate_limit"
    assert not desk.get_case(case_id, actor=AGENT).is_active


def test_closed_case_follow_up_and_refuse(desk: ServiceDesk) -> None:
    case_id = _closed(desk)
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             policy=MailPolicy(reopen="follow_up"))
    out = desk.ingest_mail(make_mail(mid="f1@x", headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "follow_up" and out.case_id not in (None, case_id)
    new = desk.get_case(out.case_id or "", actor=AGENT)
    assert [e.body for e in new.timeline if e.kind == "follow_up_of"] == [
        desk.get_case(case_id, actor=AGENT).number]
    desk.mail = MailSettings("help@support.test", keys=KEYS, policy=MailPolicy(reopen="refuse"))
    out = desk.ingest_mail(make_mail(mid="f2@x", headers={"In-Reply-To": "<m1@ex>"}))
    assert (out.outcome, out.case_id) == ("refused", case_id)
    mailer = Outbox()
    desk.deliver_pending(DeliveryChannels(mailer=mailer))
    notice = [m for m in mailer.sent if "closed" in m.subject]
    assert len(notice) == 1 and notice[0].headers["Auto-Submitted"] == "auto-replied"
    assert notice[0].to == "bo@example.com"


def _resolved_with_context(desk: ServiceDesk) -> str:
    """A mailed-in case given context (category, priority, tags, account), then resolved."""
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    desk.update_fields(case_id, {"category": "Technical", "tags": ["printer"],
                                 "links": {"contact": "bo@example.com", "account": "acc-1"}},
                       actor=ADMIN)
    desk.change_priority(case_id, "high", actor=ADMIN)
    _resolve(desk, case_id)
    return case_id


def test_mail_follow_up_is_linked_and_carries_the_case_context(desk: ServiceDesk) -> None:
    """A follow-up by mail is the portal's follow-up: linked ``follow_up_of`` the old case,
    carrying its context (the account too, the sender being its contact), and the old case,
    only resolved, closes in the same commit."""
    case_id = _resolved_with_context(desk)
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             policy=MailPolicy(reopen="follow_up"))
    out = desk.ingest_mail(make_mail(mid="f1@x", body="Jammed again",
                                     headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "follow_up" and out.case_id not in (None, case_id)
    new = desk.get_case(out.case_id or "", actor=AGENT)
    assert new.subject == "Follow-up: Printer broken" and new.description == "Jammed again"
    assert (new.category, new.priority.value, set(new.tags)) == ("Technical", "high", {"printer"})
    assert (new.links.contact, new.links.account) == ("bo@example.com", "acc-1")
    assert [k.role_for(new.id) for k in desk.case_links(new.id, actor=AGENT)] == [
        "follow_up_of"]
    assert [k.role_for(case_id) for k in desk.case_links(case_id, actor=AGENT)] == [
        "followed_up_by"]
    assert desk.get_case(case_id, actor=AGENT).status == "closed"
    # redelivered: still one follow-up, one link
    again = desk.ingest_mail(make_mail(mid="f1@x", body="Jammed again",
                                       headers={"In-Reply-To": "<m1@ex>"}))
    assert again.outcome == "duplicate"
    assert len(desk.case_links(case_id, actor=AGENT)) == 1


def test_mail_reopens_only_inside_the_tenants_reopen_window(
        make_store: Callable[[], Store], clock: FrozenClock) -> None:
    """The mail channel obeys the tenant's ReopenPolicy like the portal: a reply inside the
    grace window reopens; past it the case closes and the reply opens a linked follow-up
    (it reopened cases of any age before, whatever the window)."""
    from caselib import TenantSettings
    from caselib.cases import ReopenPolicy

    desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                       settings=TenantSettings(reopen=ReopenPolicy(grace=timedelta(days=7))))
    desk.mail = MailSettings("help@support.test", keys=KEYS)
    case_id = _resolved_with_context(desk)
    clock.advance(timedelta(days=2))
    out = desk.ingest_mail(make_mail(mid="r1@x", headers={"In-Reply-To": "<m1@ex>"}))
    assert (out.outcome, out.case_id) == ("reopen", case_id)
    assert desk.get_case(case_id, actor=AGENT).is_active
    _resolve(desk, case_id)
    clock.advance(timedelta(days=8))
    out = desk.ingest_mail(make_mail(mid="r2@x", body="Again, weeks later",
                                     headers={"In-Reply-To": "<m1@ex>"}))
    assert out.outcome == "follow_up" and out.case_id not in (None, case_id)
    old = desk.get_case(case_id, actor=AGENT)
    assert old.status == "closed"
    assert "Again, weeks later" not in [e.body for e in old.timeline]
    assert desk.get_case(out.case_id or "", actor=AGENT).description == "Again, weeks later"


def test_reply_by_mail_threads_and_never_carries_notes(desk: ServiceDesk) -> None:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    desk.add_comment(case_id, "INTERNAL: customer is difficult", actor=AGENT)
    desk.reply_by_mail(case_id, "Please restart it.", actor=AGENT)
    mailer = Outbox()
    desk.deliver_pending(DeliveryChannels(mailer=mailer))
    [sent] = mailer.sent
    assert sent.to == "bo@example.com" and sent.body == "Please restart it."
    assert sent.headers["In-Reply-To"] == "<m1@ex>" and sent.headers["Auto-Submitted"] == ""
    assert sent.headers["Reply-To"].startswith("case-0001+k1.")
    assert "INTERNAL" not in sent.body + sent.subject
    # the customer answers the agent's mail (its Message-ID), and it lands
    out = desk.ingest_mail(make_mail(mid="m9@ex", to=sent.headers["Reply-To"],
                                     headers={"In-Reply-To": sent.message_id}))
    assert (out.outcome, out.case_id) == ("reply", case_id)
    desk.reply_by_mail(case_id, "Good.", actor=AGENT)
    desk.deliver_pending(DeliveryChannels(mailer=mailer))
    assert mailer.sent[-1].headers["References"].split() == [
        "<m1@ex>", sent.message_id, "<m9@ex>"]


def test_auto_replying_peer_loop_ends(desk: ServiceDesk) -> None:
    """We ack a new mail; the peer answers everything with an out-of-office; that reply is
    dropped, so nothing more goes out: one exchange."""
    desk.enable_automation_preset("ack_email", actor=ADMIN)
    mailer = Outbox()
    channels = DeliveryChannels(mailer=mailer, mail_domain="support.test")
    desk.ingest_mail(make_mail())
    for n in range(3):
        desk.run_automations()
        desk.deliver_pending(channels)
        for sent in list(mailer.sent[n:]):
            ooo = make_mail(mid=f"ooo{n}@ex", subject=f"Automatic reply: {sent.subject}",
                            headers={"Auto-Submitted": "auto-replied",
                                     "In-Reply-To": sent.message_id})
            assert desk.ingest_mail(ooo).outcome == "drop"
    assert len(mailer.sent) == 1 and desk.count_cases(actor=AGENT) == 1


def test_unconfigured_desk_is_refused(make_store: Callable[[], Store]) -> None:
    with pytest.raises(InvalidConfiguration):
        ServiceDesk(make_store(), tenant="acme").ingest_mail(make_mail())


def test_reopen_limit_per_sender(desk: ServiceDesk, clock: FrozenClock) -> None:
    """One sender reopening many cases is stopped by the per-sender limit, and the window
    moves with the (injected) clock."""
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             policy=MailPolicy(reopens_per_sender=2,
                                               reopen_window=timedelta(hours=1)))
    ids = []
    for n in range(3):
        case_id = desk.ingest_mail(make_mail(mid=f"o{n}@ex", subject=f"Issue {n}")).case_id
        _resolve(desk, case_id or "")
        ids.append(case_id)
    outcomes = [desk.ingest_mail(make_mail(mid=f"x{n}@ex", headers={
        "In-Reply-To": f"<o{n}@ex>"})).outcome for n in range(3)]
    assert outcomes == ["reopen", "reopen", "held_rate_limit"]
    clock.advance(hours=2)
    assert desk.ingest_mail(make_mail(mid="late@ex", headers={
        "In-Reply-To": "<o2@ex>"})).outcome == "reopen"


def test_held_mail_is_not_shown_to_the_customer(desk: ServiceDesk) -> None:
    case_id = desk.ingest_mail(make_mail()).case_id or ""
    desk.ingest_mail(make_mail(sender="eve@other.test", mid="e1@x", body="Secret attempt",
                               headers={"In-Reply-To": "<m1@ex>"}))
    view = desk.customer_view(case_id, actor=Actor.customer("bo@example.com"))
    assert "Secret attempt" not in repr(view)


def test_a_second_mail_past_the_window_lands_on_the_follow_up(
        make_store: Callable[[], Store], clock: FrozenClock) -> None:
    """Past the window the first mail in the old thread opens a follow-up (and closes the old
    case); the second lands on that follow-up as a reply instead of opening another."""
    from caselib import TenantSettings
    from caselib.cases import ReopenPolicy

    desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                       settings=TenantSettings(reopen=ReopenPolicy(grace=timedelta(days=7))))
    desk.mail = MailSettings("help@support.test", keys=KEYS)
    _resolved_with_context(desk)
    clock.advance(timedelta(days=8))
    first = desk.ingest_mail(make_mail(mid="r1@x", body="Jammed again",
                                       headers={"In-Reply-To": "<m1@ex>"}))
    assert first.outcome == "follow_up"
    second = desk.ingest_mail(make_mail(mid="r2@x", body="Forgot the photo",
                                        headers={"In-Reply-To": "<m1@ex>"}))
    assert (second.outcome, second.case_id) == ("reply", first.case_id)
