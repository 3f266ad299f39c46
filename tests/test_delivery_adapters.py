"""Delivery against real servers on 127.0.0.1: signed webhooks with retries and dead letters
(a stdlib HTTP server the test starts), e-mail through the SMTP mailer (an aiosmtpd server),
and the brief's four automations landing on both."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from caselib import Actor, MemoryStore, ServiceDesk
from caselib.adapters import HttpWebhookPoster, SmtpMailer, verify
from caselib.desk import DeliveryChannels
from caselib.ports import HostTask, OutgoingMail
from caselib.routing import Agent, StaticDirectory, Team
from caselib.testing import FrozenClock

aiosmtpd = pytest.importorskip("aiosmtpd.controller")

SECRET = b"s3cret"
ADMIN = Actor.system("admin")
ANA = Actor.agent("ana", "support")


class Receiver:
    """A webhook receiver: answers the first ``fail`` requests with 503, then 200; keeps
    one body per idempotency key (a receiver that dedupes)."""

    def __init__(self, fail: int = 0, status: int = 503) -> None:
        self.fail = fail
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.by_key: dict[str, bytes] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.fail > 0:
                    receiver.fail -= 1
                    code = receiver.status
                else:
                    code = 200
                    receiver.by_key.setdefault(self.headers["Idempotency-Key"], body)
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


class Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                       policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = _free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


class Sleeps:
    def __init__(self) -> None:
        self.slept: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


class TestWebhooks:
    """Signed, retried with backoff, dead-lettered: against a real HTTP server."""

    def test_signed_and_delivered(self, receiver: Receiver) -> None:
        poster = HttpWebhookPoster({"default": SECRET}, clock=lambda: 1_700_000_000.0)
        assert poster.post(receiver.url, "default", {"a": 1}, "k1")
        [(headers, body)] = receiver.requests
        assert headers["Idempotency-Key"] == "k1"
        assert verify(SECRET, headers["X-Caselib-Timestamp"], body,
                      headers["X-Caselib-Signature"], now=1_700_000_010.0)
        assert not verify(b"other", headers["X-Caselib-Timestamp"], body,
                          headers["X-Caselib-Signature"], now=1_700_000_010.0)
        assert not verify(SECRET, headers["X-Caselib-Timestamp"], body,
                          headers["X-Caselib-Signature"], now=1_700_009_999.0)

    def test_fails_then_recovers(self) -> None:
        receiver = Receiver(fail=2)
        try:
            sleeps = Sleeps()
            poster = HttpWebhookPoster({"default": SECRET}, sleep=sleeps, base_delay=1.0)
            assert poster.post(receiver.url, "default", {"a": 1}, "k1")
            assert len(receiver.requests) == 3
            assert sleeps.slept == [1.0, 2.0]
            assert {h["Idempotency-Key"] for h, _ in receiver.requests} == {"k1"}
        finally:
            receiver.close()

    def test_dead_letter_after_n_tries(self) -> None:
        receiver = Receiver(fail=100, status=500)
        try:
            poster = HttpWebhookPoster({"default": SECRET}, attempts=4, sleep=Sleeps())
            assert not poster.post(receiver.url, "default", {"a": 1}, "k1")
            assert len(receiver.requests) == 4
            [dead] = poster.dead_letters
            assert (dead.key, dead.attempts, dead.error) == ("k1", 4, "HTTP 500")
        finally:
            receiver.close()

    def test_client_errors_are_not_retried(self) -> None:
        receiver = Receiver(fail=1, status=410)
        try:
            poster = HttpWebhookPoster({"default": SECRET}, sleep=Sleeps())
            assert not poster.post(receiver.url, "default", {"a": 1}, "k1")
            assert len(receiver.requests) == 1
        finally:
            receiver.close()

    def test_refused_connection_is_retried(self) -> None:
        sleeps = Sleeps()
        poster = HttpWebhookPoster({"default": SECRET}, attempts=3, sleep=sleeps)
        assert not poster.post(f"http://127.0.0.1:{_free_port()}/x", "default", {}, "k")
        assert len(sleeps.slept) == 2
        assert "ConnectionRefused" in poster.dead_letters[0].error


class TestSmtp:
    """The SMTP mailer against a real server."""

    def test_headers(self, smtp: tuple[Inbox, int]) -> None:
        inbox, port = smtp
        mailer = SmtpMailer("127.0.0.1", port, sender="support@example.com")
        mailer.send(OutgoingMail("cust@example.com", "[CASE-0001] Hi", "Body", "c:1:0:0",
                                 "<c.1.0.0@example.com>", "c"))
        [msg] = inbox.messages
        assert msg["Message-ID"] == "<c.1.0.0@example.com>"
        assert msg["Auto-Submitted"] == "auto-generated"
        assert msg["To"] == "cust@example.com"
        assert msg.get_content().strip() == "Body"

    def test_keep_open(self, smtp: tuple[Inbox, int]) -> None:
        inbox, port = smtp
        mailer = SmtpMailer("127.0.0.1", port, sender="support@example.com", keep_open=True)
        for n in range(3):
            mailer.send(OutgoingMail("a@example.com", f"s{n}", "b", f"k{n}", f"<k{n}@x>", "c"))
        mailer.close()
        assert [m["Subject"] for m in inbox.messages] == ["s0", "s1", "s2"]


class Tasks:
    def __init__(self) -> None:
        self.tasks: dict[str, HostTask] = {}

    def create_task(self, task: HostTask) -> None:
        self.tasks[task.key] = task


class TestTheBriefsAutomations:
    """The four presets, end to end, onto the real servers."""

    def test_messages_land(self, receiver: Receiver, smtp: tuple[Inbox, int],
                           clock: FrozenClock) -> None:
        inbox, port = smtp
        directory = StaticDirectory(
            [Team("support", "Support", "none", members=("ana",), manager_id="boss")],
            [Agent("ana", "Ana", manager_id="mgr")])
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock, directory=directory)
        desk.enable_automation_preset("critical_webhook", actor=ADMIN, url=receiver.url)
        for name in ("ack_email", "pending_follow_up", "resolved_follow_up"):
            desk.enable_automation_preset(name, actor=ADMIN)
        tasks = Tasks()
        channels = DeliveryChannels(
            webhooks=HttpWebhookPoster({"default": SECRET}, sleep=Sleeps()),
            mailer=SmtpMailer("127.0.0.1", port, sender="support@example.com"),
            tasks=tasks, mail_domain="support.example.com")
        crit = desk.create_case(subject="Line down", actor=ANA, priority="urgent",
                                links={"contact": "cust@example.com"})
        desk.add_comment(crit.id, "SECRET-INTERNAL: customer is on probation",
                         audience="internal", actor=ANA)
        desk.transition(crit.id, "open", actor=ANA)
        desk.transition(crit.id, "in_progress", actor=ANA)
        desk.add_comment(crit.id, "We are on it, please send logs", audience="public",
                         actor=ANA)
        desk.transition(crit.id, "pending_customer", actor=ANA)
        desk.run_automations()
        clock.advance(timedelta(days=7))
        desk.run_automations()
        desk.resolve(crit.id, summary="replaced the board", actor=ANA)
        report = desk.run_automations()
        assert report.applied == {"resolved_follow_up": 1}
        sent = desk.deliver_pending(channels)
        assert (sent.webhooks, sent.emails, sent.tasks) == (1, 2, 1)
        assert desk.deliver_pending(channels).messages == 0

        [(headers, body)] = receiver.requests
        assert verify(SECRET, headers["X-Caselib-Timestamp"], body,
                      headers["X-Caselib-Signature"],
                      now=float(headers["X-Caselib-Timestamp"]))
        assert json.loads(body)["case"]["number"] == crit.number
        subjects = sorted(m["Subject"] for m in inbox.messages)
        assert all(crit.number in s for s in subjects)
        assert len({m["Message-ID"] for m in inbox.messages}) == 2
        for m in inbox.messages:
            assert m["Auto-Submitted"] == "auto-generated"
            assert "SECRET-INTERNAL" not in m.as_string()
        follow_up = next(m for m in inbox.messages if "still there" in m["Subject"])
        assert "please send logs" in follow_up.get_content()
        [task] = tasks.tasks.values()
        assert task.case_number == crit.number

    def test_a_crash_before_marking_delivered_resends_same_keys(
            self, receiver: Receiver, clock: FrozenClock) -> None:
        """Delivery is at least once: a relay that dies after sending and before marking
        sends again with the same idempotency key, and the receiver keeps one."""
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
        desk.enable_automation_preset("critical_webhook", actor=ADMIN, url=receiver.url)
        desk.create_case(subject="Down", actor=ANA, priority="urgent")
        desk.run_automations()

        class Crash(Exception):
            pass

        class DiesAfterSending:
            def __init__(self) -> None:
                self.inner = HttpWebhookPoster({"default": SECRET})

            def post(self, url: str, secret: str, body: Any, key: str) -> bool:
                self.inner.post(url, secret, body, key)
                raise Crash

        with pytest.raises(Crash):
            desk.deliver_pending(DeliveryChannels(webhooks=DiesAfterSending()))
        desk.deliver_pending(DeliveryChannels(webhooks=HttpWebhookPoster({"default": SECRET})))
        assert len(receiver.requests) == 2
        assert len(receiver.by_key) == 1
        assert desk.deliver_pending(DeliveryChannels()).messages == 0


_CHILD = """
import os, signal, sys
from datetime import UTC, datetime
from caselib import Actor, ServiceDesk
from caselib.adapters import HttpWebhookPoster
from caselib.desk import DeliveryChannels
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

path, url, phase = sys.argv[1], sys.argv[2], sys.argv[3]
desk = ServiceDesk(SqliteStore(path), tenant="acme",
                   clock=FrozenClock(datetime(2026, 1, 5, 9, tzinfo=UTC)))
desk.enable_automation_preset("critical_webhook", actor=Actor.system("a"), url=url)
if phase == "commit":
    for n in range(3):
        desk.create_case(subject=f"Down {n}", actor=Actor.agent("ana"), priority="urgent")
    desk.run_automations()
    os.kill(os.getpid(), signal.SIGKILL)  # committed, nothing delivered

class DiesAfterTwo:
    def __init__(self):
        self.inner, self.n = HttpWebhookPoster({"default": b"s3cret"}), 0
    def post(self, url, secret, body, key):
        ok = self.inner.post(url, secret, body, key)
        self.n += 1
        if self.n == 2:
            os.kill(os.getpid(), signal.SIGKILL)  # sent, not marked delivered
        return ok

desk.deliver_pending(DeliveryChannels(webhooks=DiesAfterTwo()))
"""


def test_kill_9_between_commit_and_delivery(receiver: Receiver, tmp_path: Any) -> None:
    """A process killed after committing, then one killed mid-delivery: nothing lost, and
    the only duplicates carry the same idempotency key (the receiver keeps one of each)."""
    import os
    import signal
    import subprocess
    import sys

    from caselib.storage.sqlite import SqliteStore

    path = str(tmp_path / "cases.db")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    for phase in ("commit", "deliver"):
        done = subprocess.run([sys.executable, "-c", _CHILD, path, receiver.url, phase],
                              env=env, capture_output=True, timeout=120, check=False)
        assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    assert len(receiver.requests) == 2
    desk = ServiceDesk(SqliteStore(path), tenant="acme")
    sent = desk.deliver_pending(DeliveryChannels(
        webhooks=HttpWebhookPoster({"default": SECRET})))
    assert sent.webhooks == 3  # the two sent before the kill go again, same keys
    assert len(receiver.requests) == 5
    assert len(receiver.by_key) == 3
    assert desk.deliver_pending(DeliveryChannels()).messages == 0
    desk.store.close()


def test_smtp_starttls_and_login(tmp_path: Any) -> None:
    """STARTTLS with a self-signed certificate the client trusts, then AUTH LOGIN/PLAIN: the
    server requires both before it takes mail."""
    import ssl
    import subprocess

    from aiosmtpd.smtp import AuthResult

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    seen: list[tuple[str, str]] = []

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str,
                      data: Any) -> AuthResult:
        user, password = data.login.decode(), data.password.decode()
        seen.append((mechanism, user))
        return AuthResult(success=(user, password) == ("desk", "pw"))

    inbox = Inbox()
    port = _free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port,
                                     tls_context=server_ctx, require_starttls=True,
                                     auth_required=True, authenticator=authenticator)
    controller.start()
    try:
        client_ctx = ssl.create_default_context(cafile=str(cert))
        mailer = SmtpMailer("127.0.0.1", port, sender="support@example.com", starttls=True,
                            username="desk", password="pw", context=client_ctx)
        mailer.send(OutgoingMail("a@example.com", "[CASE-0001] s", "b", "k", "<k@x>", "c"))
        assert [m["Subject"] for m in inbox.messages] == ["[CASE-0001] s"]
        assert seen and seen[0][1] == "desk"
        import smtplib

        plain = SmtpMailer("127.0.0.1", port, sender="support@example.com")
        with pytest.raises(smtplib.SMTPException):
            plain.send(OutgoingMail("a@example.com", "s", "b", "k2", "<k2@x>", "c"))
    finally:
        controller.stop()
