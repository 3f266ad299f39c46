"""E-mail over SMTP with the standard library: :class:`SmtpMailer`.

One connection per :meth:`SmtpMailer.send` by default (``keep_open=True`` reuses it across
sends, reconnecting when the server closed it). STARTTLS and login are options, for a relay
that wants them; implicit TLS (port 465) is ``ssl=True``.

Every message carries the ``Message-ID`` the desk derived from the idempotency key (so a
resend after a crash is the same message to the receiving side), ``Auto-Submitted:
auto-generated`` (RFC 3834: auto-responders must not answer it, which stops mail loops)
unless the desk set another value (an agent's answer by mail: empty, so no header), and
the other headers the desk set.
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl as ssl_module
from email.message import EmailMessage
from email.utils import formatdate

from caselib.ports import OutgoingMail

__all__ = ["SmtpMailer", "build_message"]


def build_message(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The RFC 5322 message for ``mail`` from ``sender``."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = formatdate(localtime=False, usegmt=True)
    auto = next((v for k, v in mail.headers.items() if k.lower() == "auto-submitted"),
                "auto-generated")
    if auto:  # an empty value: a person's message (an agent's answer), no header
        message["Auto-Submitted"] = auto
    for name, value in mail.headers.items():
        if name.lower() not in ("auto-submitted", "from", "to", "subject", "message-id"):
            message[name] = value
    message.set_content(mail.body)
    return message


class SmtpMailer:
    """:class:`~caselib.ports.Mailer` over ``smtplib``."""

    def __init__(self, host: str, port: int = 25, *, sender: str,
                 starttls: bool = False, ssl: bool = False,
                 username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, context: ssl_module.SSLContext | None = None,
                 keep_open: bool = False) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.ssl = ssl
        self.username = username
        self.password = password
        self.timeout = timeout
        self.context = context
        self.keep_open = keep_open
        self._conn: smtplib.SMTP | None = None

    def _open(self) -> smtplib.SMTP:
        context = self.context or ssl_module.create_default_context()
        conn: smtplib.SMTP
        if self.ssl:
            conn = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=context)
        else:
            conn = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.starttls:
            conn.starttls(context=context)
        if self.username is not None:
            conn.login(self.username, self.password or "")
        return conn

    def send(self, mail: OutgoingMail) -> None:
        """Send ``mail`` or raise (``smtplib.SMTPException`` / ``OSError``)."""
        message = build_message(mail, self.sender)
        if not self.keep_open:
            conn = self._open()
            try:
                conn.send_message(message, self.sender, [mail.to])
            finally:
                conn.quit()
            return
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = self._open()
            try:
                self._conn.send_message(message, self.sender, [mail.to])
                return
            except smtplib.SMTPServerDisconnected:
                self._conn = None
                if attempt == 2:
                    raise

    def close(self) -> None:
        """Close a kept-open connection."""
        if self._conn is not None:
            with contextlib.suppress(smtplib.SMTPException):
                self._conn.quit()
            self._conn = None
