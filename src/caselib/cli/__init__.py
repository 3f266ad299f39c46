"""The ``caselib`` command: ``caselib demo`` walks cases through a desk and prints what happens;
``caselib report`` prints the service-desk scorecard of a SQLite store.

The demo is a scripted support morning on the embedded SQLite store (a fresh file in a
temporary folder unless ``--db`` names one; ``--store memory`` skips the disk). Time is a
:class:`~caselib.testing.FrozenClock`, so the output is the same on every run (but for the
local servers' ports). Its automations deliver for real: the acknowledgment e-mail, the
critical-case webhook and the breach digests land on an SMTP server and a webhook receiver
the demo starts on 127.0.0.1 (:mod:`caselib.cli.servers`), and it prints what landed.

The report reads as a system actor (``caselib-report``): whoever can open the database file
can read every case in it anyway, so an access-policy check on a made-up agent would protect
nothing and would hide cases from the person running the report. Hosts that show scorecards
to agents call :meth:`ServiceDesk.scorecard` with the agent as ``actor`` instead.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO, get_args
from zoneinfo import ZoneInfo

from caselib import __version__
from caselib.adapters import HttpWebhookPoster, SmtpMailer
from caselib.cases import Actor, Case
from caselib.cli.mail import add_mail_parser, mail_command
from caselib.cli.servers import Inbox, MailNotifier, WebhookReceiver, local_servers
from caselib.cli.storefile import check_store_file, read_only
from caselib.desk import DeliveryChannels, ServiceDesk
from caselib.desk.metrics import MAX_PERIOD
from caselib.errors import CaselibError
from caselib.kb import Article
from caselib.ports import Store
from caselib.reports import (
    GroupBy,
    Scorecard,
    cards_text,
    scorecard_csv,
    scorecard_html,
    scorecard_json,
    scorecard_table,
)
from caselib.routing import Agent, StaticDirectory, Team
from caselib.storage.memory import MemoryStore
from caselib.testing import FrozenClock, RecordingNotifier, RecordingSink

__all__ = ["main"]


def _open_store(kind: str, db: str | None) -> tuple[Store, str, Path | None]:
    """The demo's store, how to name it, and its database file (``None`` in memory)."""
    if kind == "memory":
        return MemoryStore(), "in-memory store", None
    try:
        from caselib.storage.sqlite import SqliteStore
    except ImportError:  # pragma: no cover - only while the adapter is absent
        return MemoryStore(), "in-memory store (SQLite adapter not available)", None
    path = Path(db) if db else Path(tempfile.mkdtemp(prefix="caselib-demo-")) / "demo.sqlite3"
    return SqliteStore(path), f"SQLite store at {path}", path


def report_beside(db: Path) -> Path:
    """Where the demo writes its HTML report: ``demo.sqlite3`` → ``demo-report.html``."""
    return db.with_name(f"{db.stem}-report.html")


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


def demo_directory() -> StaticDirectory:
    """The demo's people: agents with e-mail addresses and managers, and each team's lead
    (its ``manager_id``), so breach notices reach the owner and the owner's manager, or the
    team's lead when nobody owns the case."""
    def person(pid: str, name: str, manager: str | None = None) -> Agent:
        return Agent(pid, name, email=f"{pid}@acme.example", manager_id=manager)

    return StaticDirectory(
        [Team("engineering", "Engineering", members=("ana", "bo"), manager_id="erin"),
         Team("finance", "Finance", members=("bo",), manager_id="fay"),
         Team("purchasing", "Purchasing", members=("pat",), manager_id="pat"),
         Team("support", "Support", members=("ana", "bo"), manager_id="mia")],
        [person("ana", "Ana", "mia"), person("bo", "Bo", "mia"), person("mia", "Mia"),
         person("erin", "Erin"), person("fay", "Fay"), person("pat", "Pat")])


WEBHOOK_SECRET = b"caselib-demo-secret"
"""The demo's webhook signing key (the poster signs with it, the receiver verifies)."""


class _Delivery:
    """The demo's delivery: channels to the local servers, and what landed on them."""

    def __init__(self, desk: ServiceDesk, directory: StaticDirectory,
                 servers: tuple[Inbox, WebhookReceiver] | None) -> None:
        self.desk = desk
        self.events = RecordingSink()
        self.servers = servers
        self.relayed = 0

        def address(who: str) -> str | None:
            if "@" in who:
                return who
            agent = directory.agent(who)
            return None if agent is None else agent.email

        self.mailer: SmtpMailer | None = None
        if servers is None:
            self.channels = DeliveryChannels(events=self.events)
            return
        self.mailer = SmtpMailer("127.0.0.1", servers[0].port, sender="desk@acme.example",
                                 timeout=5.0, keep_open=True)
        self.poster = HttpWebhookPoster({"demo": WEBHOOK_SECRET}, attempts=2, base_delay=0.05)
        self.channels = DeliveryChannels(
            webhooks=self.poster, mailer=self.mailer,
            notifier=MailNotifier(self.mailer, address, "acme.example"), events=self.events,
            addresses=address, mail_domain="acme.example", digest_after=1)

    def run(self, p: _Printer) -> None:
        """Apply the automations, deliver, and print what landed on the servers."""
        self.desk.run_automations()
        self.relayed += self.desk.deliver_pending(self.channels).events
        if self.servers is None:
            p("        delivery skipped: the local test servers could not start")
            return
        inbox, hooks = self.servers
        for mail in inbox.take():
            p(f"        mail    → {mail['To']:<20} {mail['Subject']}")
            lines = [line for line in mail.get_content().splitlines() if line.startswith("- ")]
            for line in lines:
                p(f"                  {line}")
        for hit in hooks.take():
            case = hit.body["case"]
            p(f"        webhook → {hit.body['rule']}: {case['number']} ({case['priority']}) "
              f"{case['subject']!r}; signature ok")

    def close(self) -> None:
        if self.mailer is not None:
            self.mailer.close()
        if self.servers is not None:
            self.poster.close()


def run_demo(store: Store, where: str, out: TextIO | None = None,
             db: Path | None = None, *, prefer_aiosmtpd: bool = True) -> int:
    """Script a short support morning, then print its summary cards and scorecard and write
    the HTML report beside the database file ``db`` (not without one); returns an exit code.

    The morning's e-mails and webhooks go to local servers it starts on 127.0.0.1 (an
    aiosmtpd server when importable and ``prefer_aiosmtpd``, else a standard-library SMTP
    sink); if they cannot start, it says delivery was skipped and goes on."""
    p = _Printer(sys.stdout if out is None else out)  # read at call time (captured output)
    with contextlib.ExitStack() as stack:
        try:
            servers = stack.enter_context(local_servers(WEBHOOK_SECRET,
                                                        prefer_aiosmtpd=prefer_aiosmtpd))
        except OSError:
            servers = None
        return _morning(p, store, where, db, servers)
    return 1  # pragma: no cover - the block returns


def _morning(p: _Printer, store: Store, where: str, db: Path | None,
             servers: tuple[Inbox, WebhookReceiver] | None) -> int:
    clock = FrozenClock(datetime(2026, 3, 2, 8, 30, tzinfo=UTC))
    directory = demo_directory()
    desk = ServiceDesk(store, tenant="acme", clock=clock, directory=directory)
    ana, bo = Actor.agent("ana", name="Ana"), Actor.agent("bo", name="Bo")
    customer = Actor.customer("jane@example.com", "Jane", account="acc-7")
    lee = Actor.agent("lee", "admin", name="Lee")  # edits the knowledge base
    admin = Actor.system("admin")
    desk.enable_automation_preset("ack_email", actor=admin)
    desk.enable_automation_preset("breach_notice", actor=admin)
    delivery = _Delivery(desk, directory, servers)
    if servers is not None:
        desk.enable_automation_preset("critical_webhook", actor=admin, url=servers[1].url,
                                      secret="demo")
    try:
        return _script(p, desk, clock, where, db, delivery, (ana, bo, customer, lee))
    finally:
        delivery.close()


def _script(p: _Printer, desk: ServiceDesk, clock: FrozenClock, where: str, db: Path | None,
            delivery: _Delivery, actors: tuple[Actor, Actor, Actor, Actor]) -> int:
    ana, bo, customer, lee = actors
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
    if delivery.servers is not None:
        inbox, hooks = delivery.servers
        p(f"        automations deliver to local test servers: SMTP 127.0.0.1:{inbox.port} "
          f"({inbox.kind}), webhooks {hooks.url}")
    delivery.run(p)

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
    p("09:10  Bo takes the invoice case; someone tries to close it straight away")
    clock.advance(minutes=10)
    _refused(p, lambda: desk.transition(invoice.id, "closed", actor=bo, note="dup"))
    desk.assign(invoice.id, assignee="bo", team="finance", actor=bo)
    desk.transition(invoice.id, "open", actor=bo)
    _refused(p, lambda: desk.resolve(invoice.id, "", actor=bo))

    p()
    p("10:00  The customer answers (back to in progress, the SLA clock runs again); Ana "
      "resolves, the customer rates it and reopens next day")
    clock.advance(minutes=50)
    vpn = desk.customer_reply(vpn.id, "Log attached.", actor=customer)
    p.case(vpn)
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
    p("Tue 13:30  Two cases breach their SLA: the sweep escalates and tells the owner and "
      "their manager (no owner: the team's lead)")
    clock.set(datetime(2026, 3, 3, 13, 30, tzinfo=UTC))
    notifier = RecordingNotifier()
    report = desk.sweep_breaches(actor=Actor.system(), notifier=notifier)
    for breach in report.breaches:
        p(f"        {breach.number} {breach.describe()}")
    again = desk.sweep_breaches(actor=Actor.system(), notifier=notifier)
    p(f"        a second sweep records {len(again.breaches)} breaches (idempotent)")
    p("        the breach rule tells each person once: a digest of their notices")
    delivery.run(p)

    p()
    p(f"Timeline of {vpn.number} (what agents see)")
    for entry in vpn.timeline:
        text = entry.describe()
        text = text if len(text) <= 70 else text[:69] + "…"  # a cut line says it was cut
        p(f"  #{entry.seq:<2} {entry.at:%a %H:%M} {entry.audience.value:<8} "
          f"{entry.actor:<17} {text}")
    p()
    p(f"Customer view of {vpn.number} (public replies only)")
    view = desk.customer_view(vpn.id, actor=customer)
    for reply in view.replies:
        p(f"  #{reply.seq:<2} {reply.author:<17} {reply.body}")

    p()
    p("Board (cases per status)")
    for status, count in sorted(desk.count_by_status(actor=ana).items()):
        p(f"  {status:<18} {count}")
    delivery.relayed += desk.deliver_pending(delivery.channels).events
    p()
    p(f"Outbox: relayed {delivery.relayed} domain events to the host's event sink, e.g.")
    for message in delivery.events.messages[:3]:
        p(f"  {message.key:<40} {message.type}")
    _demo_report(p, desk, ana, lee, db)
    return 0


def _demo_report(p: _Printer, desk: ServiceDesk, agent: Actor, admin: Actor,
                 db: Path | None) -> None:
    """The morning in numbers: the agent's cards, the admin's scorecard, the HTML page."""
    p()
    p(f"Summary cards ({agent.name}'s view)")
    p(f"  {cards_text(desk.cards(actor=agent))}")
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC)
    card = desk.scorecard(start=start, end=end, group_by="team", actor=admin)
    p()
    p(f"Scorecard by team ({admin.name}, an admin; `caselib report` prints the same)")
    for line in scorecard_table(card).splitlines():
        p(f"  {line}".rstrip())
    if db is None:
        p("HTML report: not written (the in-memory store has no folder to put it beside)")
        return
    by_priority = desk.scorecard(start=start, end=end, group_by="priority", actor=admin)
    page = report_beside(db)
    page.write_text(scorecard_html(card, by_priority=by_priority), encoding="utf-8")
    p(f"HTML report with charts: {page}")
    p(f"  (the same from the shell: caselib report --store {db} --tenant {desk.tenant} "
      f"--from 2026-03-02 --to 2026-03-03 --group-by team --format html --out FILE)")


def _refused(p: _Printer, command: Callable[[], object]) -> None:
    try:
        command()
    except CaselibError as err:
        p(f"        refused ({type(err).__name__}): {err}")


REPORT_ACTOR = Actor.system("caselib-report")
"""Who reads when ``caselib report`` runs: a system actor (see the module docstring)."""

FORMATS = ("table", "json", "csv", "html")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-01") from None


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        days = 0
    if not 1 <= days <= MAX_PERIOD.days:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a whole number of days from 1 to {MAX_PERIOD.days}")
    return days


def report_period(args: argparse.Namespace, today: date,
                  zone: str = "UTC") -> tuple[datetime, datetime]:
    """``[start, end)``: ``--from`` / ``--to`` are whole days in ``zone``, both included;
    ``--days N`` is the last N days up to and including ``today``; neither: 30 days.

    Raises:
        ValueError: ``--to`` before ``--from``, ``--to`` alone, ``--days`` beside them, or
            a period longer than the desk's :data:`~caselib.desk.metrics.MAX_PERIOD`.
    """
    if args.days is not None and (args.start is not None or args.to is not None):
        raise ValueError("give either --from/--to or --days, not both")
    if args.start is None:
        if args.to is not None:
            raise ValueError("--to needs --from (or use --days N for the last N days)")
        last, first = today, today - timedelta(days=(args.days or 30) - 1)
    else:
        first, last = args.start, args.to or today
        if last < first:
            raise ValueError(f"--to {last} is before --from {first}")
    if (last - first).days + 1 > MAX_PERIOD.days:
        raise ValueError(f"a report covers at most {MAX_PERIOD.days} days; "
                         f"{first} to {last} is {(last - first).days + 1}")
    tz = ZoneInfo(zone)

    def midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day, tzinfo=tz).astimezone(UTC)

    return midnight(first), midnight(last + timedelta(days=1))


def render_report(fmt: str, card: Scorecard, by_priority: Scorecard | None = None) -> str:
    """The scorecard in one of :data:`FORMATS` (``by_priority`` feeds the HTML SLA chart)."""
    if fmt == "json":
        return scorecard_json(card) + "\n"
    if fmt == "csv":
        return scorecard_csv(card)
    if fmt == "html":
        return scorecard_html(card, by_priority=by_priority)
    return scorecard_table(card)


def _other_tenants(path: Path, tenant: str) -> str | None:
    """A hint when ``tenant`` has no case in the store at ``path`` but others do (read-only):
    an empty scorecard would otherwise look like a quiet month."""
    rows = read_only(path, "SELECT tenant, COUNT(*) FROM cases GROUP BY tenant "
                            "ORDER BY COUNT(*) DESC, tenant")
    counts = {str(name): int(n) for name, n in rows}
    if counts.get(tenant) or not counts:
        return None
    held = ", ".join(f"{name!r} ({n} case{'s' if n != 1 else ''})" for name, n in counts.items())
    return (f"tenant {tenant!r} has no cases in this store; it holds {held}: "
            f"pass --tenant {next(iter(counts))}")


ScorecardSource = Callable[[datetime, datetime, GroupBy], Scorecard]
"""How the report gets a scorecard: ``(start, end, group_by)``; the CLI passes the desk's."""


def desk_scorecards(desk: ServiceDesk, actor: Actor = REPORT_ACTOR) -> ScorecardSource:
    """The desk's :meth:`~caselib.desk.ServiceDesk.scorecard`, read by ``actor``."""

    def source(start: datetime, end: datetime, group_by: GroupBy) -> Scorecard:
        return desk.scorecard(start=start, end=end, group_by=group_by, actor=actor)

    return source


def run_report(source: ScorecardSource, start: datetime, end: datetime, group_by: GroupBy,
               fmt: str) -> str:
    """The report text: the scorecard of ``[start, end)`` by ``group_by`` in ``fmt`` (the
    HTML form also reads the period by priority, for its SLA chart)."""
    card = source(start, end, group_by)
    by_priority = None
    if fmt == "html":
        by_priority = card if group_by == "priority" else source(start, end, "priority")
    return render_report(fmt, card, by_priority)


def _report_command(parser: argparse.ArgumentParser, args: argparse.Namespace,
                    today: date | None) -> int:
    try:
        report_period(args, today or date.today())  # refuse bad arguments before any I/O
    except ValueError as err:
        parser.error(str(err))
    path = Path(args.store)
    problem = check_store_file(path)
    if problem is not None:
        print(f"caselib report: {problem}", file=sys.stderr)
        return 1
    try:
        from caselib.storage.sqlite import SqliteStore

        store = SqliteStore(path)
        try:
            desk = ServiceDesk(store, tenant=args.tenant)
            zone = desk.reporting_zone
            day = today or datetime.now(ZoneInfo(zone)).date()
            start, end = report_period(args, day, zone)
            text = run_report(desk_scorecards(desk), start, end, args.group_by, args.format)
        finally:
            store.close()
        hint = _other_tenants(path, args.tenant)
        if hint is not None:
            print(f"caselib report: {hint}", file=sys.stderr)
        if args.out:
            Path(args.out).write_text(text, encoding="utf-8", newline="")  # CSV: CRLF as is
            print(f"caselib report: wrote {args.format} to {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(text)
    except (CaselibError, OSError) as err:
        print(f"caselib report: {type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


def _add_report_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> (
        argparse.ArgumentParser):
    report = sub.add_parser(
        "report", help="print the service-desk scorecard of a SQLite store",
        description="The scorecard of a period (whole days) from a caselib SQLite store, as a "
                    "table, JSON, CSV or one self-contained HTML page with charts. Reads as "
                    "the system actor 'caselib-report'. Without --from/--days: the last 30 "
                    "days, today included.")
    report.add_argument("--store", required=True, metavar="PATH.db",
                        help="the caselib SQLite database to read")
    report.add_argument("--tenant", default="default",
                        help="whose cases (default: 'default'; the demo's store uses 'acme')")
    report.add_argument("--from", dest="start", type=_day, metavar="DATE",
                        help="first day of the period, YYYY-MM-DD (in the desk's reporting zone)")
    report.add_argument("--to", type=_day, metavar="DATE",
                        help="last day of the period, included (default: today)")
    report.add_argument("--days", type=_days, metavar="N",
                        help="the last N days, today included (default 30)")
    report.add_argument("--group-by", default="none", choices=get_args(GroupBy),
                        help="one row per team, assignee, priority, category or channel")
    report.add_argument("--format", default="table", choices=FORMATS,
                        help="table (default), json, csv or html")
    report.add_argument("--out", metavar="FILE", help="write to FILE instead of stdout")
    return report


def main(argv: Sequence[str] | None = None, *, today: date | None = None) -> int:
    """Entry point of the ``caselib`` console script (``today`` pins ``--days`` in tests)."""
    parser = argparse.ArgumentParser(prog="caselib", description="caselib support-case engine")
    parser.add_argument("--version", action="version", version=f"caselib {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="walk cases through a desk and print what happens")
    demo.add_argument("--store", choices=["sqlite", "memory"], default="sqlite",
                      help="storage adapter (default: the embedded SQLite store)")
    demo.add_argument("--db", help="SQLite file to use (default: a fresh temporary file)")
    demo.add_argument("--web", action="store_true",
                      help="seed the demo, then serve the reference web app (web extra)")
    demo.add_argument("--port", type=int, default=8000,
                      help="--web's port on 127.0.0.1 (default: 8000)")
    report = _add_report_parser(sub)
    add_mail_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "mail":
        return mail_command(args)
    if args.command == "report":
        return _report_command(report, args, today)
    if args.command == "demo":
        store, where, db = _open_store(args.store, args.db)
        try:
            if args.web:
                from caselib._webdemo import serve_demo

                return serve_demo(store, where, db, args.port, run_demo)
            return run_demo(store, where, db=db)
        finally:
            store.close()
    return 2  # pragma: no cover - argparse enforces the choices


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
