"""Local test servers for ``caselib demo``: an SMTP server and a webhook receiver on
127.0.0.1, started and stopped by the demo, so its morning shows real deliveries landing.

* SMTP: aiosmtpd when it is importable (a dev dependency), else :class:`_SmtpSink`, a small
  standard-library SMTP receiver: a host that installed only the wheel still sees its mail
  land. Either way every message is kept as a parsed :class:`~email.message.EmailMessage`.
* Webhooks: a ``http.server`` receiver that checks each request's signature with
  :func:`caselib.adapters.verify` (what a real receiver does) and dedupes on the
  ``Idempotency-Key``.

Also :class:`MailNotifier`: a :class:`~caselib.ports.Notifier` that e-mails each notice
(digests included) through a :class:`~caselib.ports.Mailer`, so the demo's breach digest
lands in the same inbox.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import socket
import socketserver
import threading
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import attrs

from caselib.adapters import verify
from caselib.ports import Mailer, Notification, OutgoingMail

__all__ = ["Inbox", "MailNotifier", "WebhookHit", "WebhookReceiver", "local_servers"]


class Inbox:
    """The messages an SMTP server received (thread-safe appends)."""

    def __init__(self, kind: str, port: int) -> None:
        self.kind = kind
        """``"aiosmtpd"`` or ``"stdlib sink"``: which server received them."""
        self.port = port
        self.messages: list[EmailMessage] = []
        self._lock = threading.Lock()

    def keep(self, raw: bytes) -> None:
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.messages.append(message)

    def take(self) -> list[EmailMessage]:
        """The messages received since the last call."""
        with self._lock:
            taken, self.messages = self.messages, []
        return taken


class _AioHandler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.inbox.keep(envelope.original_content or envelope.content)
        return "250 OK"


class _SmtpSession(socketserver.StreamRequestHandler):
    """Just enough SMTP (RFC 5321) for ``smtplib``: EHLO/HELO, MAIL, RCPT, DATA (with dot
    unstuffing), RSET, NOOP, QUIT."""

    server: _SmtpSink

    def _say(self, line: str) -> None:
        self.wfile.write(line.encode("ascii") + b"\r\n")

    def handle(self) -> None:
        self._say("220 caselib-demo ESMTP")
        while True:
            line = self.rfile.readline(65537)
            if not line:
                return
            verb = line[:4].decode("ascii", "replace").upper()
            if verb == "EHLO":
                self._say("250-caselib-demo")
                self._say("250 8BITMIME")
            elif verb in ("HELO", "MAIL", "RCPT", "RSET", "NOOP"):
                self._say("250 OK")
            elif verb == "DATA":
                self._say("354 End data with <CR><LF>.<CR><LF>")
                lines: list[bytes] = []
                while True:
                    got = self.rfile.readline(1_000_001)
                    if not got or got in (b".\r\n", b".\n"):
                        break
                    lines.append(got[1:] if got.startswith(b"..") else got)
                self.server.inbox.keep(b"".join(lines))
                self._say("250 OK: queued")
            elif verb == "QUIT":
                self._say("221 Bye")
                return
            else:
                self._say("502 Command not implemented")


class _SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        self.inbox = Inbox("stdlib sink", int(self.server_address[1]))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def smtp_server(*, prefer_aiosmtpd: bool = True) -> Iterator[Inbox]:
    """An SMTP server on 127.0.0.1 for the block's length: aiosmtpd if importable (and
    preferred), else the standard-library sink."""
    controller: Any = None
    if prefer_aiosmtpd:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            controller = None
        else:
            port = _free_port()
            inbox = Inbox("aiosmtpd", port)
            controller = Controller(_AioHandler(inbox), hostname="127.0.0.1", port=port)
            controller.start()
    if controller is not None:
        try:
            yield inbox
        finally:
            controller.stop()
        return
    sink = _SmtpSink()
    thread = threading.Thread(target=sink.serve_forever, kwargs={"poll_interval": 0.05},
                              name="caselib-demo-smtp", daemon=True)
    thread.start()
    try:
        yield sink.inbox
    finally:
        sink.shutdown()
        sink.server_close()


@attrs.frozen
class WebhookHit:
    """One webhook the receiver accepted: its key, body and whether the signature held."""

    key: str
    body: Any
    signature_ok: bool


class WebhookReceiver:
    """A signed-webhook receiver on 127.0.0.1 (``url``), checking every signature with
    :func:`caselib.adapters.verify` under ``secret``; a bad signature gets 401."""

    def __init__(self, secret: bytes, clock: Callable[[], float] = time.time) -> None:
        self.hits: list[WebhookHit] = []
        seen: set[str] = set()
        hits, lock = self.hits, threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the poster expects

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                ok = verify(secret, self.headers.get("X-Caselib-Timestamp", ""), body,
                            self.headers.get("X-Caselib-Signature", ""), now=clock())
                key = self.headers.get("Idempotency-Key", "")
                with lock:
                    if ok and key not in seen:  # a retry of a delivered key is dropped
                        seen.add(key)
                        hits.append(WebhookHit(key, json.loads(body), ok))
                self.send_response(200 if ok else 401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the demo prints what landed, not an access log

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks/critical"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="caselib-demo-webhooks", daemon=True)
        self._thread.start()

    def take(self) -> list[WebhookHit]:
        """The webhooks received since the last call."""
        taken, self.hits[:] = list(self.hits), []
        return taken

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def local_servers(secret: bytes, *, prefer_aiosmtpd: bool = True
                  ) -> Iterator[tuple[Inbox, WebhookReceiver]]:
    """Both servers for the block's length."""
    with smtp_server(prefer_aiosmtpd=prefer_aiosmtpd) as inbox:
        receiver = WebhookReceiver(secret)
        try:
            yield inbox, receiver
        finally:
            receiver.close()


class MailNotifier:
    """A :class:`~caselib.ports.Notifier` that e-mails each notice to the person's address
    (``addresses``: person id → e-mail address, ``None`` to drop)."""

    def __init__(self, mailer: Mailer, addresses: Callable[[str], str | None],
                 domain: str = "caselib.invalid") -> None:
        self.mailer = mailer
        self.addresses = addresses
        self.domain = domain

    def notify(self, notification: Notification) -> None:
        to = self.addresses(notification.recipient)
        if to is None:
            return
        key = notification.key
        self.mailer.send(OutgoingMail(
            to, notification.subject, notification.body, key,
            f"<{key.replace(':', '.')}@{self.domain}>", notification.case_id,
            {"X-Caselib-Kind": notification.kind}))
