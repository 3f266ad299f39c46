"""The e-mail channel against real servers: Dovecot (IMAP, polled with ImapPoller) and
aiosmtpd (SMTP, SmtpMailer): a customer mail creates a case, the ack goes out, the
customer replies to it, the reply lands, the agent answers, and the answer arrives
threaded, with no internal note in any outbound message."""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

from caselib import ServiceDesk
from caselib.adapters import FileBlobStore, ImapPoller, SmtpMailer
from caselib.cases import Actor
from caselib.desk.delivery import DeliveryChannels
from caselib.desk.mail import MailSettings
from caselib.errors import InvalidInput
from caselib.mail import ReplyKeys
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock
from mailservers import PASSWORD, USER, SmtpInbox, append, dovecot, free_port

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

ADMIN = Actor.system("admin")
ANA = Actor.agent("ana", "support", name="Ana")
KEYS = ReplyKeys({"k1": b"e2e-reply-key-000001"}, "k1")


@pytest.fixture
def imap_port() -> Iterator[int]:
    with dovecot() as port:
        yield port


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpInbox, int]]:
    inbox = SmtpInbox()
    port = free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def poller(port: int) -> ImapPoller:
    return ImapPoller("127.0.0.1", port, username=USER, password=PASSWORD, ssl=False)


def customer_mail(subject: str, body: str, mid: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Kim Lee <kim@customer.test>"
    msg["To"] = headers.pop("to", "help@support.test")
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{mid}>"
    for name, value in headers.items():
        msg[name.replace("_", "-")] = value
    msg.set_content(body)
    return msg.as_bytes()


def test_poller_hands_each_unseen_message_once(imap_port: int) -> None:
    append(imap_port, customer_mail("One", "first", "p1@customer.test"))
    append(imap_port, b"this is not a mail\r\n")
    seen: list[bytes] = []

    def handle(raw: bytes) -> None:
        if b"Message-ID" not in raw:
            raise InvalidInput("no sender")
        seen.append(raw)

    report = poller(imap_port).poll(handle)
    assert (report.fetched, report.handled, len(report.refused)) == (2, 1, 1)
    assert poller(imap_port).poll(handle).fetched == 0  # all seen now
    assert len(seen) == 1


def test_end_to_end_threaded(imap_port: int, smtp: tuple[SmtpInbox, int],
                             tmp_path: Path, clock: FrozenClock) -> None:
    inbox, smtp_port = smtp
    desk = ServiceDesk(SqliteStore(tmp_path / "desk.db"), tenant="acme", clock=clock)
    desk.mail = MailSettings("help@support.test", keys=KEYS,
                             blobs=FileBlobStore(tmp_path / "blobs"))
    desk.enable_automation_preset("ack_email", actor=ADMIN)
    channels = DeliveryChannels(mailer=SmtpMailer("127.0.0.1", smtp_port,
                                                  sender="help@support.test"),
                                mail_domain="support.test")
    imap = poller(imap_port)

    # 1. the customer writes; the poller ingests; a case opens
    append(imap_port, customer_mail("Invoice wrong", "The total is off.", "c1@customer.test"))
    assert imap.poll(desk.ingest_mail).handled == 1
    [summary] = desk.find_cases(actor=ANA).items
    case_id = summary.id
    # 2. the ack goes out over SMTP
    desk.run_automations()
    desk.deliver_pending(channels)
    [ack] = inbox.messages
    assert ack["To"] == "kim@customer.test" and ack["Auto-Submitted"] == "auto-generated"
    # the automatic ack carries the case's signed reply address too, like an agent's answer
    assert ack["Reply-To"].split("@")[0].split("+")[0].startswith("case-")
    assert "+" in ack["Reply-To"]
    # 3. the customer replies to the ack (Gmail style: quote below)
    reply = customer_mail(f"Re: {ack['Subject']}", "It should be 120 EUR.\n\nOn Mon, Jan 5, "
                          "2026 Support wrote:\n> We received your request", "c2@customer.test",
                          In_Reply_To=ack["Message-ID"],
                          References=f"<c1@customer.test> {ack['Message-ID']}")
    append(imap_port, reply)
    assert imap.poll(desk.ingest_mail).handled == 1
    case = desk.get_case(case_id, actor=ANA)
    assert [e.body for e in case.timeline if e.kind == "reply"][-1] == "It should be 120 EUR."
    # 4. an internal note, then the agent answers by mail
    desk.add_comment(case_id, "SECRET: customer flagged for churn", actor=ANA)
    desk.reply_by_mail(case_id, "Corrected, a new invoice follows.", actor=ANA)
    desk.deliver_pending(channels)
    answer = inbox.messages[-1]
    assert answer["In-Reply-To"] == "<c2@customer.test>"
    refs = answer["References"].split()
    assert refs[0] == "<c1@customer.test>" and "<c2@customer.test>" in refs
    assert ack["Message-ID"] in refs
    assert answer["From"] == "help@support.test" and answer["Auto-Submitted"] is None
    assert answer["Reply-To"].startswith(case.number.lower() + "+")
    # 5. the customer answers the agent's mail through the case address: it lands
    append(imap_port, customer_mail("Re: thanks", "Thanks!", "c3@customer.test",
                                    to=answer["Reply-To"], In_Reply_To=answer["Message-ID"]))
    assert imap.poll(desk.ingest_mail).handled == 1
    case = desk.get_case(case_id, actor=ANA)
    assert [e.body for e in case.timeline if e.kind == "reply"][-1] == "Thanks!"
    assert desk.count_cases(actor=ANA) == 1
    # no internal note in any outbound message
    assert all(b"SECRET" not in raw for raw in inbox.raw)
