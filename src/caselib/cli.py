"""The ``caselib`` command: ``caselib demo`` walks cases through a desk and prints what happens.

The demo is a scripted support morning on the embedded SQLite store (a fresh file in a
temporary folder unless ``--db`` names one; ``--store memory`` skips the disk). Time is a
:class:`~caselib.testing.FrozenClock`, so the output is the same on every run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from caselib import __version__
from caselib.cases import Actor, Case
from caselib.desk import ServiceDesk
from caselib.errors import CaselibError
from caselib.kb import Article
from caselib.ports import Store
from caselib.storage.memory import MemoryStore
from caselib.testing import FrozenClock, RecordingNotifier, RecordingSink

__all__ = ["main"]


def _open_store(kind: str, db: str | None) -> tuple[Store, str]:
    if kind == "memory":
        return MemoryStore(), "in-memory store"
    try:
        from caselib.storage.sqlite import SqliteStore
    except ImportError:  # pragma: no cover - only while the adapter is absent
        return MemoryStore(), "in-memory store (SQLite adapter not available)"
    path = Path(db) if db else Path(tempfile.mkdtemp(prefix="caselib-demo-")) / "demo.sqlite3"
    return SqliteStore(path), f"SQLite store at {path}"


_ARTICLES = (
    ("kb-vpn", "VPN drops every hour", "Upgrade the VPN client to 3.3; it fixes keep-alive."),
    ("kb-vat", "Invoice shows the wrong VAT", "Check the billing country and the VAT id."),
    ("kb-parts", "Missing parts on delivery", "Order the part from purchasing with the SKU."),
)


class _Printer:
    def __init__(self, out: TextIO) -> None:
        self.out = out

    def __call__(self, text: str = "") -> None:
        print(text, file=self.out)

    def case(self, case: Case) -> None:
        who = case.assignee or "unassigned"
        queue = case.team or "no queue"
        self(f"  {case.number}  [{case.status:<16}] {case.priority.value:<6} "
             f"{who:<10} {queue:<12} {case.subject}")


def run_demo(store: Store, where: str, out: TextIO = sys.stdout) -> int:
    """Script a short support morning; returns a process exit code."""
    p = _Printer(out)
    clock = FrozenClock(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    desk = ServiceDesk(store, tenant="acme", clock=clock)
    ana, bo = Actor.agent("ana", name="Ana"), Actor.agent("bo", name="Bo")
    customer = Actor.customer("jane@example.com", "Jane", account="acc-7")
    lee = Actor.agent("lee", "admin", name="Lee")  # edits the knowledge base

    p(f"caselib {__version__} demo on the {where}")
    p("=" * 72)
    p("08:30  Three cases arrive; the router picks each one's queue")
    vpn = desk.create_case(subject="VPN drops every hour", actor=customer, source="portal",
                           category="Technical", priority="high", links={"account": "acc-7"})
    invoice = desk.create_case(subject="Invoice shows wrong VAT", actor=customer,
                               source="email", category="Billing", priority="medium")
    part = desk.create_case(subject="Installer missing a bracket", actor=ana, source="phone",
                            category="Delivery", reason_code="missing_part", priority="critical")
    for case in (vpn, invoice, part):
        p.case(case)
    due = {t.name: t.due_at for t in part.sla_targets}
    p(f"        {part.number} is urgent: first response due {due['first_response']:%H:%M}, "
      f"resolution due {due['resolution']:%H:%M} (UTC)")

    p()
    p("08:35  Knowledge-base suggestions for the VPN case")
    for aid, title, body in _ARTICLES:
        desk.put_article(Article(id=aid, title=title, body=body, updated_at=clock.now()),
                         actor=lee)
    for hit in desk.suggest_articles(vpn.id, actor=ana, limit=2):
        p(f"        #{hit.rank} {hit.article_id:<10} score {hit.score:5.2f}")
    desk.open_article(vpn.id, "kb-vpn", actor=ana)

    p()
    p("09:00  Ana takes the VPN case and asks the customer for logs")
    clock.advance(minutes=30)
    desk.assign(vpn.id, assignee="ana", team="engineering", actor=ana)
    for status in ("open", "in_progress"):
        desk.transition(vpn.id, status, actor=ana)
    desk.add_comment(vpn.id, "Looks like the 3.2 client; known keep-alive bug.", actor=ana)
    desk.add_comment(vpn.id, "Could you send the client log from today?", actor=ana,
                     audience="public")
    vpn = desk.transition(vpn.id, "pending_customer", actor=ana)
    p.case(vpn)

    p()
    p("09:10  Someone tries to close the invoice case straight away")
    clock.advance(minutes=10)
    _refused(p, lambda: desk.transition(invoice.id, "closed", actor=bo, note="dup"))
    desk.transition(invoice.id, "open", actor=bo)
    _refused(p, lambda: desk.resolve(invoice.id, "", actor=bo))

    p()
    p("10:00  The customer answers; Ana resolves, the customer rates it and reopens next day")
    clock.advance(minutes=50)
    desk.add_comment(vpn.id, "Log attached.", actor=customer, audience="public")
    desk.transition(vpn.id, "in_progress", actor=ana)
    desk.add_comment(vpn.id, "Upgrade to client 3.3 fixes the keep-alive.", actor=ana,
                     audience="public")
    desk.transition(vpn.id, "pending_customer", actor=ana)
    vpn = desk.resolve(vpn.id, "Upgraded VPN client to 3.3", actor=ana, code="upgrade")
    p.case(vpn)
    vpn = desk.close(vpn.id, "Customer confirmed the fix", actor=ana)
    p.case(vpn)
    vpn = desk.rate(vpn.id, 5, actor=customer, comment="Quick and clear, thanks")
    clock.advance(days=1)
    vpn = desk.reopen(vpn.id, actor=customer, reason="Dropped again after reboot")
    p.case(vpn)
    p(f"        resolutions kept: {[r.summary for r in vpn.resolutions]}")

    p()
    p("Tue 13:30  Cases nobody took breach their SLA: the sweep escalates and notifies")
    clock.set(datetime(2026, 3, 3, 13, 30, tzinfo=UTC))
    notifier = RecordingNotifier()
    report = desk.sweep_breaches(actor=Actor.system(), notifier=notifier)
    for breach in report.breaches:
        p(f"        {breach.number} {breach.target} breached "
          f"({breach.breached_by_seconds / 60:.0f} min late); "
          f"priority {breach.old_priority.value} → {breach.new_priority.value}; "
          f"notified: {', '.join(breach.notified) or 'nobody'}")
    again = desk.sweep_breaches(actor=Actor.system(), notifier=notifier)
    p(f"        a second sweep records {len(again.breaches)} breaches (idempotent)")

    p()
    p(f"Timeline of {vpn.number} (what agents see)")
    for entry in vpn.timeline:
        p(f"  #{entry.seq:<2} {entry.at:%a %H:%M} {entry.audience.value:<8} "
          f"{entry.actor:<17} {entry.describe()[:70]}")
    p()
    p(f"Customer view of {vpn.number} (public replies only)")
    view = desk.customer_view(vpn.id, actor=customer)
    for reply in view.replies:
        p(f"  #{reply.seq:<2} {reply.author:<17} {reply.body}")

    p()
    p("Board (cases per status)")
    for status, count in sorted(desk.count_by_status(actor=ana).items()):
        p(f"  {status:<18} {count}")
    sink = RecordingSink()
    sent = desk.dispatch_events(sink)
    p()
    p(f"Outbox: relayed {sent} domain events to the host's event sink, e.g.")
    for message in sink.messages[:3]:
        p(f"  {message.key:<40} {message.type}")
    return 0


def _refused(p: _Printer, command: Callable[[], object]) -> None:
    try:
        command()
    except CaselibError as err:
        p(f"        refused ({type(err).__name__}): {err}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``caselib`` console script."""
    parser = argparse.ArgumentParser(prog="caselib", description="caselib support-case engine")
    parser.add_argument("--version", action="version", version=f"caselib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="walk cases through a desk and print what happens")
    demo.add_argument("--store", choices=["sqlite", "memory"], default="sqlite",
                      help="storage adapter (default: the embedded SQLite store)")
    demo.add_argument("--db", help="SQLite file to use (default: a fresh temporary file)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        store, where = _open_store(args.store, args.db)
        try:
            return run_demo(store, where)
        finally:
            store.close()
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
