"""Inbound mail from an IMAP mailbox with the standard library: :class:`ImapPoller`.

Each :meth:`ImapPoller.poll` connects, selects the mailbox, fetches the unseen messages
(``BODY.PEEK[]``: fetching does not mark them) and hands each one's bytes to a handler —
typically :meth:`~caselib.ServiceDesk.ingest_mail`. A message is flagged ``\\Seen`` only
after the handler returned, so a crash re-reads it next time (at least once; the desk's
mail ledger makes that exactly once). A handler's :class:`~caselib.errors.CaselibError`
(mail caselib refuses, such as one with no sender) marks the message seen and flagged
``$CaselibRefused`` so an operator can look at it; any other error leaves it unseen and
propagates.
"""

from __future__ import annotations

import contextlib
import imaplib
import ssl as ssl_module
from collections.abc import Callable

import attrs

from caselib.errors import CaselibError

__all__ = ["ImapPoller", "PollReport"]

REFUSED_FLAG = "$CaselibRefused"


@attrs.define
class PollReport:
    """What one :meth:`ImapPoller.poll` did."""

    fetched: int = 0
    handled: int = 0
    refused: list[str] = attrs.Factory(list)
    """``uid: error`` for each message the handler refused."""


class ImapPoller:
    """Polls one mailbox over ``imaplib`` (implicit TLS by default; ``ssl=False`` with
    ``starttls=True`` upgrades a plain connection; both ``False`` only on loopback)."""

    def __init__(self, host: str, port: int = 993, *, username: str, password: str,
                 mailbox: str = "INBOX", ssl: bool = True, starttls: bool = False,
                 timeout: float = 30.0, context: ssl_module.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.mailbox = mailbox
        self.ssl = ssl
        self.starttls = starttls
        self.timeout = timeout
        self.context = context

    def _open(self) -> imaplib.IMAP4:
        context = self.context or ssl_module.create_default_context()
        conn: imaplib.IMAP4
        if self.ssl:
            conn = imaplib.IMAP4_SSL(self.host, self.port, ssl_context=context,
                                     timeout=self.timeout)
        else:
            conn = imaplib.IMAP4(self.host, self.port, timeout=self.timeout)
            if self.starttls:
                conn.starttls(ssl_context=context)
        conn.login(self.username, self.password)
        return conn

    def poll(self, handle: Callable[[bytes], object], *, limit: int = 100) -> PollReport:
        """Hand up to ``limit`` unseen messages, oldest first, to ``handle``."""
        report = PollReport()
        conn = self._open()
        try:
            status, _ = conn.select(self.mailbox)
            if status != "OK":
                raise OSError(f"IMAP: cannot select mailbox {self.mailbox!r}")
            status, data = conn.uid("SEARCH", "UNSEEN")
            found = data[0] if status == "OK" and data and isinstance(data[0], bytes) else b""
            uids = [u.decode() for u in found.split()[:limit]]
            for uid in uids:
                status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((p[1] for p in parts if isinstance(p, tuple)), None)
                if status != "OK" or not isinstance(raw, bytes):
                    continue
                report.fetched += 1
                try:
                    handle(raw)
                except CaselibError as err:
                    conn.uid("STORE", uid, "+FLAGS", f"(\\Seen {REFUSED_FLAG})")
                    report.refused.append(f"{uid}: {err}")
                    continue
                conn.uid("STORE", uid, "+FLAGS", "(\\Seen)")
                report.handled += 1
        finally:
            with contextlib.suppress(imaplib.IMAP4.error, OSError):
                conn.logout()
        return report
