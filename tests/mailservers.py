"""Real mail servers for the e-mail channel's tests: a throwaway Dovecot IMAP server on
127.0.0.1 (Debian's ``dovecot-imapd``, which ``.ci/run`` installs) and an aiosmtpd SMTP
server. Under ``CI`` a missing Dovecot fails the test; locally it skips."""

from __future__ import annotations

import email
import email.policy
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

USER, PASSWORD = "support", "imap-test-pw"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _dovecot() -> str:
    found = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                        if Path("/usr/sbin/dovecot").exists() else None)
    if found is None:
        message = "dovecot is not installed (apt-get install -y dovecot-imapd)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


@contextmanager
def dovecot() -> Iterator[int]:
    """Start Dovecot with a config in a fresh temporary directory (one passwd-file user,
    plaintext login on loopback, Maildir inside it; readable by Dovecot's own users, which
    pytest's 0700 temp root is not); yields the IMAP port, then stops it and cleans up."""
    binary = _dovecot()
    tmp = Path(tempfile.mkdtemp(prefix="caselib-dovecot-"))
    tmp.chmod(0o755)
    try:
        with _running(binary, tmp) as port:
            yield port
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def _running(binary: str, tmp: Path) -> Iterator[int]:
    port = free_port()
    me = pwd.getpwuid(os.getuid()).pw_name
    root = os.getuid() == 0
    mail_user = "nobody" if root else me
    entry = pwd.getpwnam(mail_user)
    home = tmp / "home"
    for d in (tmp / "run", tmp / "state", home):
        d.mkdir(parents=True, exist_ok=True)
    if root:
        os.chown(home, entry.pw_uid, entry.pw_gid)
    (tmp / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    login_user = "dovenull" if root else me
    internal_user = "dovecot" if root else me
    config = tmp / "dovecot.conf"
    config.write_text(f"""
base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
first_valid_uid = {entry.pw_uid}
mail_location = maildir:{home}/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={entry.pw_uid} gid={entry.pw_gid} home={home}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
    # output to a file: the daemon inherits the descriptors, so a pipe would never close
    with open(tmp / "start.log", "wb") as out:
        code = subprocess.run([binary, "-c", str(config)], stdout=out, stderr=out,
                              stdin=subprocess.DEVNULL, check=False, timeout=30).returncode
    if code != 0:
        pytest.fail(f"dovecot did not start: {(tmp / 'start.log').read_text()[-2000:]}")
    try:
        for _ in range(100):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)  # the server's start-up, not the test's clock
        else:
            log = (tmp / "dovecot.log").read_text() if (tmp / "dovecot.log").exists() else ""
            pytest.fail(f"dovecot is not listening on {port}: {log[-2000:]}")
        yield port
    finally:
        subprocess.run([binary, "-c", str(config), "stop"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, check=False,
                       timeout=30)


def append(port: int, raw: bytes) -> None:
    """Deliver ``raw`` into the test user's INBOX (IMAP APPEND)."""
    conn = imaplib.IMAP4("127.0.0.1", port, timeout=10)
    try:
        conn.login(USER, PASSWORD)
        status, data = conn.append("INBOX", "", None, raw)
        assert status == "OK", data
    finally:
        conn.logout()


class SmtpInbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.raw: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        self.raw.append(raw)
        return "250 OK"
