"""Automation delivery: rendering a rule's messages when it fires
(:func:`render_deliveries`) and sending them after the commit (:func:`deliver_pending`,
through the :class:`DeliveryChannels` a host configures).

The two template contexts are built here from the case: :func:`customer_context` reads the
public side only (public replies, never an internal note, owner or team), so a contact-facing
template cannot show internal text whatever it names.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from caselib.automation import (
    AUTOMATION_EVENT,
    AutomationRule,
    CreateTask,
    DeliveryReport,
    Notify,
    SendEmail,
    Template,
    Webhook,
)
from caselib.cases import Actor, Case
from caselib.cases.conversion import CaseSnapshot, ConversionRequested
from caselib.checks import port_attribute, require_int, require_mapping, require_port, require_str
from caselib.desk import _inputs as check
from caselib.desk import conversion
from caselib.desk._context import DeskContext
from caselib.errors import CaseNotFound, InvalidConfiguration, WrongType
from caselib.mail import MAIL_EVENT
from caselib.ports import (
    EventSink,
    HostTask,
    Mailer,
    MailRecord,
    Notification,
    Notifier,
    OpportunityGateway,
    OutboxMessage,
    OutgoingMail,
    TaskGateway,
    WebhookPoster,
)
from caselib.timeutil import from_iso, to_iso
from caselib.vocab import ActorKind, Audience

__all__ = [
    "DeliveryChannels",
    "customer_context",
    "deliver_pending",
    "internal_context",
    "render_deliveries",
]


_RELAY = Actor("caselib-relay", ActorKind.SYSTEM, frozenset({"admin"}), "caselib")
"""Who records a host's answer that the relay received."""


def _address(recipient: str) -> str | None:
    return recipient if "@" in recipient else None


def _gateways(_instance: object, attribute: Any, value: object) -> None:
    for target, gateway in require_mapping(value, attribute.name).items():
        require_str(target, attribute.name, "a mapping of conversion targets (text) to gateways")
        require_port(gateway, attribute.name, ("create",),
                     f"a mapping of targets to OpportunityGateway values (for {target!r})")


def _domain(_instance: object, attribute: Any, value: object) -> None:
    text = require_str(value, attribute.name, "a domain name such as 'support.example.com'")
    if not text or "@" in text or any(c.isspace() or c in "<>" for c in text):
        raise InvalidConfiguration(
            f"mail_domain {text!r}: use a domain name such as 'support.example.com'",
            field=attribute.name)


def _digest_after(_instance: object, attribute: Any, value: object) -> None:
    require_int(value, attribute.name, 0)


@attrs.frozen
class DeliveryChannels:
    """Where :meth:`~caselib.ServiceDesk.deliver_pending` sends what automations queued.

    A channel left ``None`` drops its deliveries (listed in the report's ``skipped``).
    ``events`` receives every other outbox event (what :meth:`dispatch_events` relays):
    ``deliver_pending`` is the one relay of the outbox. ``addresses`` maps a contact or
    agent id to an e-mail address (default: the id itself when it contains ``@``).
    """

    webhooks: WebhookPoster | None = attrs.field(default=None, validator=port_attribute(
        "a WebhookPoster (with post(url, secret, body, key)) or None", "post", optional=True))
    mailer: Mailer | None = attrs.field(default=None, validator=port_attribute(
        "a Mailer (with send(mail)) or None", "send", optional=True))
    notifier: Notifier | None = attrs.field(default=None, validator=port_attribute(
        "a Notifier (with notify(notification)) or None", "notify", optional=True))
    tasks: TaskGateway | None = attrs.field(default=None, validator=port_attribute(
        "a TaskGateway (with create_task(task)) or None", "create_task", optional=True))
    events: EventSink | None = attrs.field(default=None, validator=port_attribute(
        "an EventSink (with publish(message)) or None", "publish", optional=True))
    conversions: Mapping[str, OpportunityGateway] = attrs.field(
        factory=dict, validator=_gateways)
    """Conversion target (``"opportunity"``, ``"supplier_return"`` …) → the host's gateway:
    a pending conversion request is retried through it (same key), and the host's answer
    recorded on the case. A target without a gateway is relayed to ``events`` instead.

    .. versionadded:: 0.3
    """
    addresses: Callable[[str], str | None] = attrs.field(default=_address, validator=port_attribute(
        "a function from a contact or agent id to an e-mail address (or None)"))
    mail_domain: str = attrs.field(default="caselib.invalid", validator=_domain)
    """The right-hand side of generated ``Message-ID`` headers."""
    digest_after: int = attrs.field(default=5, validator=_digest_after)
    """A recipient with more notices than this in one :meth:`deliver_pending` call gets one
    digest instead (a burst of 500 breaches: one message per person, not 500)."""


def customer_context(case: Case, rule: AutomationRule | str) -> dict[str, str]:
    """What a customer-facing template may show: the public side of the case (``rule``:
    the rule, or the name ``{{ rule.name }}`` shows, e.g. an escalation level's)."""
    last_reply = next((e.body for e in reversed(case.timeline)
                       if e.audience is Audience.PUBLIC and e.kind == "reply"
                       and e.actor_kind is not ActorKind.CUSTOMER and e.redaction is None), "")
    return {
        "case.number": case.number, "case.subject": case.subject, "case.status": case.status,
        "case.priority": case.priority.value, "case.category": case.category or "",
        "case.created_at": to_iso(case.created_at), "case.last_reply": last_reply,
        "rule.name": rule if isinstance(rule, str) else rule.label,
    }


def internal_context(case: Case, rule: AutomationRule | str,
                     event: Mapping[str, object] | None = None) -> dict[str, str]:
    """What an internal template may show (the customer context and more); ``event`` is the
    payload of the event the rule fires on (``None``: a time rule or a notice)."""
    last_note = next((e.body for e in reversed(case.timeline)
                      if e.audience is Audience.INTERNAL and e.redaction is None), "")
    due = case.next_due_at
    return {
        **customer_context(case, rule),
        "case.id": case.id, "case.assignee": case.assignee or "", "case.team": case.team or "",
        "case.contact": case.links.contact or "", "case.account": case.links.account or "",
        "case.status_category": case.status_category.value,
        "case.due_at": "" if due is None else to_iso(due), "case.last_note": last_note,
        "event.target": str((event or {}).get("target") or ""),
    }


def _render(template: Template, case: Case, rule: AutomationRule | str,
            event: Mapping[str, object] | None = None) -> tuple[str, str]:
    context = (customer_context(case, rule) if template.audience == "customer"
               else internal_context(case, rule, event))
    subject, body = template.render(context)
    if case.number not in subject:  # every automated mail names its case
        subject = f"[{case.number}] {subject}"
    return subject, body


def _people(ctx: DeskContext, case: Case, who: str) -> list[str]:
    """The owner (no owner: the team's lead), the owner's manager, or the team lead."""
    directory = ctx.directory
    team = directory.team(case.team) if directory is not None and case.team else None
    lead = None if team is None else (team.manager_id or team.queue_contact)
    if who == "owner":
        found = case.assignee or lead
    elif who == "manager":
        found = (directory.manager_of(case.assignee) if directory is not None
                 and case.assignee else None) or lead
    else:
        found = lead or (team.queue_contact if team is not None else None)
    return [found] if found else []


def render_notices(ctx: DeskContext, case: Case, who: Sequence[str], template: Template,
                   label: str, kind: str) -> list[dict[str, Any]]:
    """Notices to the people ``who`` names (owner, manager, team lead), each once, rendered
    with ``template`` (``{{ rule.name }}`` is ``label``), as plain data for the outbox."""
    subject, body = _render(template, case, label)
    seen: list[str] = []
    out: list[dict[str, Any]] = []
    for role in who:
        for person in _people(ctx, case, role):
            if person not in seen:
                seen.append(person)
                out.append({"channel": "notify", "to": person, "kind": kind,
                            "subject": subject, "body": body})
    return out


def render_deliveries(ctx: DeskContext, rule: AutomationRule, case: Case, occurrence: str,
                      now: datetime, event: Mapping[str, object] | None = None
                      ) -> list[dict[str, Any]]:
    """The rule's messages, rendered now, as plain data for the outbox (``event``: the
    payload of the event it fires on, for ``{{ event.… }}`` placeholders)."""
    out: list[dict[str, Any]] = []
    for action in rule.actions:
        if isinstance(action, Webhook):
            out.append({"channel": "webhook", "url": action.url, "secret": action.secret,
                        "body": {"rule": rule.id, "occurrence": occurrence,
                                 "at": to_iso(now), "tenant": case.tenant,
                                 "case": {"id": case.id, "number": case.number,
                                          "subject": case.subject,
                                          "priority": case.priority.value,
                                          "status": case.status, "team": case.team,
                                          "assignee": case.assignee}}})
        elif isinstance(action, SendEmail):
            subject, body = _render(action.template, case, rule, event)
            recipients = ([case.links.contact] if action.to == "contact" and case.links.contact
                          else _people(ctx, case, action.to) if action.to != "contact" else [])
            reply_to = _case_address(ctx, case, now) if action.to == "contact" else None
            out.extend({"channel": "email", "to": r, "subject": subject, "body": body,
                        **({} if reply_to is None else {"reply_to": reply_to})}
                       for r in recipients)
        elif isinstance(action, Notify):
            subject, body = _render(action.template, case, rule, event)
            seen: list[str] = []
            for who in action.who:
                for person in _people(ctx, case, who):
                    if person not in seen:
                        seen.append(person)
                        out.append({"channel": "notify", "to": person, "kind": who,
                                    "subject": subject, "body": body})
        elif isinstance(action, CreateTask):
            out.append({"channel": "task", "title": action.title, "number": case.number,
                        "due_at": to_iso(now + action.due_in)})
    return out


_DELIVERING = frozenset({AUTOMATION_EVENT, "case.escalated"})
"""Outbox events that carry rendered deliveries (an escalation carries its level's notice)."""


def deliver_pending(ctx: DeskContext, channels: DeliveryChannels, *, limit: int
                    ) -> DeliveryReport:
    """Send the pending outbox messages; each is marked delivered once all of its
    deliveries went out (a failure leaves it, and those after it, pending: at least once,
    with the same idempotency keys on the next attempt)."""
    if not isinstance(channels, DeliveryChannels):
        raise WrongType("channels", "a DeliveryChannels", channels)
    check.count(limit, "limit")
    report = DeliveryReport()
    with ctx.uow() as uow:
        messages = uow.outbox.pending(limit)
        done: list[str] = []
        notices: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
        waiting: set[str] = set()  # messages with a notice not sent yet
        answers: list[tuple[str, str, str]] = []  # (case, target, host record id)
        try:
            for message in messages:
                gateway = (channels.conversions.get(message.payload.get("target", ""))
                           if message.type == ConversionRequested.type else None)
                if gateway is not None:
                    snapshot = CaseSnapshot(**{**message.payload["snapshot"], "requested_at":
                                               from_iso(message.payload["snapshot"]
                                                        ["requested_at"])})
                    answers.append((message.case_id, snapshot.target, gateway.create(snapshot)))
                    report.conversions += 1
                elif message.type == MAIL_EVENT:
                    _send_mail(channels, message, report)
                elif message.type != AUTOMATION_EVENT and channels.events is not None:
                    channels.events.publish(message)
                    report.events += 1
                if gateway is None and message.type in _DELIVERING:
                    for n, item in enumerate(message.payload.get("deliveries") or ()):
                        key = f"{message.key}:{n}"
                        if item.get("channel") == "notify" and channels.notifier is not None:
                            notices.setdefault(item["to"], []).append(
                                (key, message.case_id, item))
                            waiting.add(message.key)
                        else:
                            _send(channels, message.case_id, key, item, report)
                            _record_sent(uow, channels, message.case_id, key, item,
                                         message.created_at)
                done.append(message.key)
                report.messages += 1
            _send_notices(channels, notices, report)
            waiting.clear()
        finally:
            done = [k for k in done if k not in waiting]
            if done:
                uow.outbox.mark_delivered(done)
                uow.commit()
    # the hosts' answers, each in its own unit of work once the relay's is over (lost only
    # if this process dies here: the next convert asks the host again, with the same key)
    for case_id, target, record_id in answers:
        with contextlib.suppress(CaseNotFound):
            conversion.complete(ctx, case_id, target, record_id, actor=_RELAY)
    return report


def _message_id(key: str, domain: str) -> str:
    return f"<{key.replace(':', '.')}@{domain}>"


def _record_sent(uow: Any, channels: DeliveryChannels, case_id: str, key: str,
                 item: Mapping[str, Any], at: datetime) -> None:
    """An automation's e-mail to a case goes in the mail ledger (when the store has one),
    so a customer's reply to it threads onto the case."""
    ledger = getattr(uow, "mail", None)
    if ledger is not None and item.get("channel") == "email" and channels.mailer is not None:
        mid = _message_id(key, channels.mail_domain)[1:-1]
        ledger.record(MailRecord(mid, "out", case_id, str(item.get("to", "")), "sent",
                                 str(item.get("subject", ""))[:200], at))


def _send_mail(channels: DeliveryChannels, message: OutboxMessage,
               report: DeliveryReport) -> None:
    """One :class:`~caselib.mail.MailQueued` message: threaded, from the support address
    (the mailer's sender), ``Reply-To`` the case address, ``Auto-Submitted`` only when
    automatic."""
    if channels.mailer is None:
        report.skipped.append(message.key)
        return
    p = message.payload
    headers = {"X-Caselib-Key": message.key, "Reply-To": p["reply_to"],
               "Auto-Submitted": "auto-replied" if p.get("automatic") else ""}
    if p.get("in_reply_to"):
        headers["In-Reply-To"] = p["in_reply_to"]
        headers["References"] = p["references"]
    channels.mailer.send(OutgoingMail(p["to"], p["subject"], p["body"], message.key,
                                      p["message_id"], message.case_id, headers))
    report.emails += 1


def _send_notices(channels: DeliveryChannels,
                  notices: Mapping[str, list[tuple[str, str, Mapping[str, Any]]]],
                  report: DeliveryReport) -> None:
    """One notification per notice, or one digest per recipient past ``digest_after``."""
    notifier = channels.notifier
    assert notifier is not None or not notices
    for recipient, items in notices.items():
        assert notifier is not None
        if len(items) <= channels.digest_after:
            for key, case_id, item in items:
                kind = item["kind"]
                notifier.notify(Notification(
                    recipient, item["subject"], item["body"], case_id,
                    kind if kind == "escalation" else f"automation.{kind}", key))
                report.notices += 1
            continue
        keys = sorted(k for k, _, _ in items)
        digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]
        lines = [f"- {item['subject']}" for _, _, item in items]
        notifier.notify(Notification(
            recipient, f"{len(items)} case notices", "\n".join(lines), items[0][1],
            "automation.digest", f"digest:{digest}"))
        report.notices += 1
        report.digests += 1


def _case_address(ctx: DeskContext, case: Case, now: datetime) -> str | None:
    """The signed reply address of ``case`` when the desk runs the e-mail channel with reply
    keys (``desk.mail``), so a customer's reply to an automatic mail (the acknowledgment)
    lands on its case by the strongest rule; ``None`` otherwise."""
    from caselib.desk.mail import MailSettings  # the mail use cases import this module

    settings = ctx.mail
    if not isinstance(settings, MailSettings) or settings.keys is None:
        return None
    return settings.keys.address(ctx.tenant, case.id, case.number, settings.domain, now)


def _send(channels: DeliveryChannels, case_id: str, key: str, item: Mapping[str, Any],
          report: DeliveryReport) -> None:
    channel = item.get("channel")
    if channel == "webhook" and channels.webhooks is not None:
        if channels.webhooks.post(item["url"], item["secret"], item["body"], key):
            report.webhooks += 1
        else:
            report.dead_letters.append(key)
    elif channel == "email" and channels.mailer is not None:
        to = channels.addresses(item["to"])
        if to is None:
            report.skipped.append(key)
            return
        headers = {"Auto-Submitted": "auto-generated", "X-Caselib-Key": key}
        if item.get("reply_to"):
            headers["Reply-To"] = item["reply_to"]
        channels.mailer.send(OutgoingMail(
            to, item["subject"], item["body"], key,
            _message_id(key, channels.mail_domain), case_id, headers))
        report.emails += 1
    elif channel == "task" and channels.tasks is not None:
        channels.tasks.create_task(HostTask(key, case_id, str(item.get("number", "")),
                                            item["title"], from_iso(item["due_at"])))
        report.tasks += 1
    else:
        report.skipped.append(key)
