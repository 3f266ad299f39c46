"""E-mail channel benchmark: parse + resolve + append of inbound replies on SQLite.

Run from the repository root::

    python benchmarks/bench_mail.py [--messages 2000] [--cases 200] [--size 12500]

Builds ``--cases`` cases in a fresh SQLite store (each opened by an inbound mail), then
ingests ``--messages`` replies of about 10 kB (``--size`` is the generator's text budget;
text and HTML alternatives, a quoted history, thread headers naming a case's first mail) with
:meth:`ServiceDesk.ingest_mail`: parse, resolve (the mail ledger), append the public
entry, record the Message-ID; one commit each. Prints messages per second (the issue's
goal: at least 500/s), the rate of only parsing the same bytes with the stdlib
(``email.message_from_bytes(policy=default)`` plus reading the text body) and the ratio.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

try:
    import caselib  # noqa: F401
except ImportError:  # running from a checkout without ``pip install -e``
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from caselib import ServiceDesk
from caselib.desk.mail import MailSettings
from caselib.mail import ReplyKeys
from caselib.storage.sqlite import SqliteStore

WORDS = ["printer", "tray", "jam", "toner", "invoice", "refund", "login", "password",
         "shipment", "damage", "box", "delivery", "update", "firmware", "restart", "error",
         "screen", "cable", "port"]


def _text(n: int, seed: int) -> str:
    out, i = [], seed
    while sum(len(w) + 1 for w in out) < n:
        out.append(WORDS[i % len(WORDS)])
        i = i * 1103515245 + 12345 & 0x7FFFFFFF
    return " ".join(out)


def message(mid: str, sender: str, subject: str, size: int, reply_to: str | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer <{sender}>"
    msg["To"] = "help@support.test"
    msg["Subject"] = subject
    msg["Message-ID"] = f"<{mid}>"
    if reply_to:
        msg["In-Reply-To"] = f"<{reply_to}>"
        msg["References"] = f"<{reply_to}>"
    new = _text(size // 8, len(mid))
    quoted = "\n".join("> " + line for line in _text(size // 4, 7).split(" toner "))
    msg.set_content(f"{new}\n\nOn Mon, Jan 5, 2026 Support wrote:\n{quoted}\n")
    msg.add_alternative(f"<div>{new}</div><blockquote>{quoted}</blockquote>", subtype="html")
    return msg.as_bytes()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--size", type=int, default=12_500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        desk = ServiceDesk(SqliteStore(Path(tmp) / "mail.db"), tenant="acme")
        desk.mail = MailSettings("help@support.test",
                                 keys=ReplyKeys({"k1": b"bench-reply-key-0001"}, "k1"))
        for c in range(args.cases):
            desk.ingest_mail(message(f"open-{c}@c.test", f"c{c}@c.test", f"Issue {c}",
                                     2000, None))
        raws = [message(f"r{n}@c.test", f"c{n % args.cases}@c.test", f"Re: Issue {n}",
                        args.size, f"open-{n % args.cases}@c.test")
                for n in range(args.messages)]
        mean = sum(map(len, raws)) / len(raws)
        start = time.perf_counter()
        for raw in raws:
            msg = email.message_from_bytes(raw, policy=email.policy.default)
            body = msg.get_body(("plain", "html"))  # type: ignore[attr-defined]
            if body is not None:
                body.get_content()
        parse = time.perf_counter() - start
        start = time.perf_counter()
        outcomes: dict[str, int] = {}
        for raw in raws:
            out = desk.ingest_mail(raw)
            outcomes[out.outcome] = outcomes.get(out.outcome, 0) + 1
        full = time.perf_counter() - start
        desk.store.close()
    n = args.messages
    print(f"{n} messages of {mean / 1000:.1f} kB on {args.cases} SQLite cases: {outcomes}")
    print(f"parse + resolve + append: {n / full:8.0f} msgs/s ({full * 1000 / n:.2f} ms each)"
          f"  goal >= 500/s: {'PASS' if n / full >= 500 else 'FAIL'}")
    print(f"stdlib parse only:        {n / parse:8.0f} msgs/s ({parse * 1000 / n:.2f} ms each)")
    print(f"ratio (full / parse-only time): {full / parse:.1f}x")


if __name__ == "__main__":
    main()
