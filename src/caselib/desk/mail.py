"""The e-mail channel's use cases: :func:`ingest_mail` (an inbound message becomes a reply,
a held entry, a reopen, a follow-up case, a new case, or nothing) and :func:`reply_by_mail`
(an agent's public answer, queued as a threaded message).

Every inbound message is recorded in the mail ledger (:class:`~caselib.ports.MailLedger`)
in the unit of work of the case change it causes, so a redelivered ``Message-ID`` is seen
once whatever the timing. Outbound messages are :class:`~caselib.mail.MailQueued` case
events: they reach the outbox with the change and the :class:`~caselib.ports.Mailer` after
the commit (:func:`caselib.desk.delivery.deliver_pending`); only public text is ever put in
them.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable
from datetime import datetime
from email.utils import parseaddr

import attrs

from caselib.access import Permission
from caselib.cases import Actor, Attachment, Case, Links
from caselib.checks import instance_attribute, port_attribute
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.desk.moves import customer_answered
from caselib.desk.numbers import find_by_number
from caselib.desk.triage import route
from caselib.errors import (
    CaseNotFound,
    CommandRefused,
    GateRequired,
    InvalidConfiguration,
    InvalidInput,
    WrongType,
)
from caselib.mail import (
    ClosedCaseMail,
    MailDecision,
    MailPolicy,
    MailQueued,
    ParsedMail,
    ReplyKeys,
    ThreadResolver,
    parse_mail,
    reopen_allowed,
    thread_headers,
)
from caselib.ports import BlobStore, MailLedger, MailRecord, UnitOfWork, mail_ledger
from caselib.vocab import ActorKind, Audience, Source, StatusCategory

__all__ = ["MAIL_ACTOR", "MailOutcome", "MailSettings", "approve_held_mail", "ingest_mail",
           "mail_thread",
           "reply_by_mail"]

MAIL_ACTOR = Actor("mail", ActorKind.SYSTEM, name="E-mail")
"""Who the channel acts as (a system actor: it posts what the resolver decided)."""


def _same(address: str) -> str | None:
    return address


def _support(_: object, __: object, value: str) -> None:
    if not isinstance(value, str) or "@" not in parseaddr(value)[1]:
        raise InvalidConfiguration(f"support_address {value!r}: use an address such as "
                                   "support@support.example.com")


@attrs.frozen
class MailSettings:
    """A desk's e-mail channel (set ``desk.mail = MailSettings(...)``).

    ``contacts`` maps a sender address to the contact id it belongs to (``None``: not a
    known contact; default: the address is the contact id); ``blobs`` keeps attachment
    bytes and each original message (without one, only the text reaches the case)."""

    support_address: str = attrs.field(validator=_support)
    keys: ReplyKeys | None = attrs.field(default=None, validator=instance_attribute(
        (ReplyKeys, type(None)), "a ReplyKeys or None (no signed reply addresses)"))
    policy: MailPolicy = attrs.field(factory=MailPolicy, validator=instance_attribute(
        MailPolicy, "a MailPolicy"))
    contacts: Callable[[str], str | None] = attrs.field(default=_same, validator=port_attribute(
        "a function from a sender address to its contact id (or None)"))
    blobs: BlobStore | None = attrs.field(default=None, validator=port_attribute(
        "a BlobStore (with put(data, name=, content_type=)) or None", "put", optional=True))

    @property
    def domain(self) -> str:
        """The support address's domain (the right-hand side of case addresses and of the
        Message-IDs caselib makes)."""
        return parseaddr(self.support_address)[1].rsplit("@", 1)[1].lower()


@attrs.frozen
class MailOutcome:
    """What :func:`ingest_mail` did: ``outcome`` is ``reply``, ``held``, ``reopen``,
    ``follow_up``, ``new``, ``refused``, ``held_rate_limit``, ``drop`` or ``duplicate``
    (seen before: nothing done); ``decision`` is the resolver's."""

    message_id: str
    outcome: str
    case_id: str | None
    decision: MailDecision | None


class _Facts:
    def __init__(self, ctx: DeskContext, uow: UnitOfWork, ledger: MailLedger,
                 settings: MailSettings) -> None:
        self.ctx, self.uow, self.ledger, self.settings = ctx, uow, ledger, settings

    def case_by_number(self, number: str) -> str | None:
        try:
            return find_by_number(self.uow.cases, self.ctx.settings.policy.numbers,
                                  number).id
        except (CaseNotFound, InvalidInput):
            return None

    def case_by_message_ids(self, message_ids: tuple[str, ...]) -> str | None:
        return self.ledger.case_of(message_ids)

    def is_contact(self, case_id: str, address: str) -> bool:
        contact = self.settings.contacts(address)
        return contact is not None and self.uow.cases.get(case_id).links.contact == contact


def _settings(ctx: DeskContext, given: MailSettings | None) -> MailSettings:
    found = given if given is not None else getattr(ctx, "mail", None)
    if found is None:
        raise InvalidConfiguration("this desk has no e-mail channel; set desk.mail = "
                                   "MailSettings(support_address=...) first")
    if not isinstance(found, MailSettings):
        raise WrongType("mail_settings", "a MailSettings", found)
    return found


def _customer(settings: MailSettings, mail: ParsedMail) -> tuple[Actor, bool]:
    contact = settings.contacts(mail.sender)
    name = mail.sender_name.strip()[:200] or None
    return Actor.customer(contact or mail.sender, name), contact is not None


def _blobs(settings: MailSettings, raw: bytes, mail: ParsedMail, actor: Actor,
           now: datetime) -> list[Attachment]:
    """Attachments and the original message through the host's blob store (before the
    unit of work: the store is idempotent per content)."""
    blobs = settings.blobs
    if blobs is None:
        return []
    out = []
    items = [(a.name, a.content_type, a.data) for a in mail.attachments]
    items.append(("original-message.eml", "message/rfc822", raw))
    for name, ctype, data in items:
        key = blobs.put(data, name=name, content_type=ctype)
        out.append(Attachment(name, ctype, len(data), hashlib.sha256(data).hexdigest(), key,
                              now, actor.id))
    return out


def _attach(case: Case, attachments: list[Attachment], actor: Actor) -> None:
    for attachment in attachments:
        if all(a.storage_key != attachment.storage_key for a in case.attachments):
            case.add_attachment(attachment, actor=actor)


def _body(mail: ParsedMail) -> str:
    text = mail.text.strip() or "(no text)"
    return text[:60_000]


def ingest_mail(ctx: DeskContext, raw: bytes, *, settings: MailSettings | None
                ) -> MailOutcome:
    """Decide and apply one inbound message (see the module)."""
    from caselib.desk.relations import survivor_of  # relations and casework import each other

    settings = _settings(ctx, settings)
    mail = parse_mail(raw)
    now = ctx.now()
    with ctx.uow() as uow:
        ledger = mail_ledger(uow)
        if ledger.get(mail.message_id) is not None:
            return MailOutcome(mail.message_id, "duplicate", None, None)
        resolver = ThreadResolver(ctx.tenant, settings.keys, {settings.domain})
        decision = resolver.resolve(mail, _Facts(ctx, uow, ledger, settings), now)
        # the thread of a case merged away goes on on its survivor (never CaseMerged)
        lands_on = None if decision.case_id is None else survivor_of(uow, decision.case_id)
    customer, known = _customer(settings, mail)
    attachments = [] if decision.action == "drop" else _blobs(settings, bytes(raw), mail,
                                                               customer, now)

    def record(ledger: MailLedger, outcome: str, case_id: str | None) -> bool:
        return ledger.record(MailRecord(mail.message_id, "in", case_id, mail.sender, outcome,
                                        f"{decision.via} ({decision.confidence}): "
                                        f"{decision.reason}", now))

    if decision.action == "drop":
        with ctx.uow() as uow:
            fresh = record(mail_ledger(uow), "drop", decision.case_id)
            uow.commit()
        return MailOutcome(mail.message_id, "drop" if fresh else "duplicate",
                           decision.case_id, decision)
    if decision.action == "new" or lands_on is None:
        case = _open(ctx, settings, mail, customer, attachments, record, now, decision,
                     follow_up_of=None)
        return MailOutcome(mail.message_id, "new" if case else "duplicate",
                           case.id if case else None, decision)
    return _reply(ctx, settings, mail, decision, lands_on, customer, known, attachments,
                  record)


def _reply(ctx: DeskContext, settings: MailSettings, mail: ParsedMail,
           decision: MailDecision, case_id: str, customer: Actor, known: bool,
           attachments: list[Attachment], record: Callable[[MailLedger, str, str | None], bool]
           ) -> MailOutcome:
    policy = settings.policy
    outcome = ""
    closed_case: list[Case] = []

    def command(case: Case, now: datetime) -> bool:
        nonlocal outcome
        uow = ctx.local.uow
        ledger = mail_ledger(uow)
        body = _body(mail)
        is_contact = known and case.links.contact == customer.id
        if not case.is_active:
            if (policy.reopen is not ClosedCaseMail.REOPEN
                    or not ctx.settings.reopen.customer_may_reopen(case, now)):
                # the mail policy, or the tenant's reopen window, says not to reopen
                closed_case.append(case)
                outcome = "closed"
                return False
            since = now - policy.reopen_window
            if not reopen_allowed(
                    policy, case_reopens=ledger.count("reopen", since, case_id=case.id),
                    sender_reopens=ledger.count("reopen", since, address=mail.sender)):
                outcome = "held_rate_limit"
            elif is_contact or not policy.hold_unknown_senders:
                outcome = "reopen"
            else:
                outcome = "held"
        else:
            outcome = "reply" if is_contact or not policy.hold_unknown_senders else "held"
        if not record(ledger, outcome, case.id):
            outcome = "duplicate"
            return False
        if outcome == "reopen":
            wf = ctx.workflow_of(case)
            target = wf.first_target(case.status, (StatusCategory.OPEN, StatusCategory.NEW))
            if target is None:
                outcome = "held"
            else:
                wf.apply(case, target, actor=MAIL_ACTOR, at=now,
                         note="the customer replied by e-mail", note_parameter="reason")
        if outcome in ("reply", "reopen"):
            case.add_comment(body, audience=Audience.PUBLIC, actor=customer, at=now)
            customer_answered(ctx, case, now, actor=MAIL_ACTOR)
        else:
            case.record_activity(MAIL_ACTOR, now, "mail_held", body, sender=mail.sender,
                                 name=mail.sender_name, message_id=mail.message_id,
                                 subject=mail.subject, why=outcome)
        _attach(case, attachments, customer)
        return True

    ctx.change(case_id, command, actor=MAIL_ACTOR, permission=Permission.WRITE)
    if outcome == "closed":
        old = closed_case[0]
        if policy.reopen is not ClosedCaseMail.REFUSE:
            from caselib.desk.relations import open_follow_up

            onward = open_follow_up(ctx, old.id)
            if onward is not None:  # a second late mail in the thread joins the first's
                return _reply(ctx, settings, mail, decision, onward, customer, known,
                              attachments, record)
            case = _open(ctx, settings, mail, customer, attachments, record, ctx.now(),
                         decision, follow_up_of=old)
            return MailOutcome(mail.message_id, "follow_up" if case else "duplicate",
                               case.id if case else None, decision)
        return _refuse(ctx, settings, mail, decision, old, record)
    return MailOutcome(mail.message_id, outcome, case_id, decision)


def _refuse(ctx: DeskContext, settings: MailSettings, mail: ParsedMail,
            decision: MailDecision, old: Case,
            record: Callable[[MailLedger, str, str | None], bool]) -> MailOutcome:
    """Nothing posted; the sender is told (an automatic notice) to write a new mail."""
    outcome = "refused"

    def command(case: Case, now: datetime) -> bool:
        nonlocal outcome
        if not record(mail_ledger(ctx.local.uow), "refused", case.id):
            outcome = "duplicate"
            return False
        case.record_activity(MAIL_ACTOR, now, "mail_refused", "", sender=mail.sender,
                             message_id=mail.message_id)
        _queue(ctx, settings, case, now, to=mail.sender, automatic=True,
               subject=f"[{case.number}] This case is closed",
               body=(f"Case {case.number} is closed, so your message was not added to it. "
                     "Please send a new e-mail (without this case number) to open a new "
                     "case."), extra=(mail.message_id,))
        return True

    ctx.change(old.id, command, actor=MAIL_ACTOR, permission=Permission.WRITE)
    return MailOutcome(mail.message_id, outcome, old.id, decision)


def _open(ctx: DeskContext, settings: MailSettings, mail: ParsedMail, customer: Actor,
          attachments: list[Attachment], record: Callable[[MailLedger, str, str | None], bool],
          now: datetime, decision: MailDecision, *, follow_up_of: Case | None) -> Case | None:
    """A new case from the mail (source ``email``, routed, SLA started, contact linked), or
    ``None`` when the message was recorded meanwhile.

    A follow-up of a closed case (``follow_up_of``) carries the old case's context (its
    priority, type, category, tags, and its account when the sender is its contact) and is
    linked ``follow_up_of`` it in the same commit, which also closes the old case when it was
    only resolved: what the portal's reply does once the reopen window has passed."""
    from caselib.desk.relations import follow_up_subject, follow_up_within

    policy = ctx.settings.policy
    wf = ctx.workflow
    known = settings.contacts(mail.sender) is not None
    links = Links(contact=customer.id if known else None)
    old = follow_up_of
    if old is not None and known and old.links.contact == customer.id:
        links = old.links
    with ctx.uow() as uow:
        number = policy.numbers.format(uow.numbers.next_number())
        case = Case.open(id=ctx.ids(), tenant=ctx.tenant, number=number, status=wf.initial,
                         status_category=wf.category(wf.initial), workflow=wf.name,
                         actor=customer, at=now, policy=policy,
                         subject=((mail.subject or "(no subject)")[:200] if old is None
                                  else follow_up_subject(old)),
                         description=_body(mail), source=Source.EMAIL, links=links,
                         priority=None if old is None else old.priority,
                         case_type=None if old is None else old.case_type,
                         category=None if old is None else old.category,
                         subcategory=None if old is None else old.subcategory,
                         tags=() if old is None else old.tags)
        if not record(mail_ledger(uow), "follow_up" if follow_up_of else "new", case.id):
            return None
        route(ctx, uow, case, now)
        case.record_activity(MAIL_ACTOR, now, "mail_received", "", sender=mail.sender,
                             message_id=mail.message_id, via=decision.via,
                             confidence=decision.confidence, reason=decision.reason)
        if follow_up_of is not None:
            case.record_activity(MAIL_ACTOR, now, "follow_up_of", follow_up_of.number,
                                 case_id=follow_up_of.id)
            follow_up_within(ctx, follow_up_of.id)(uow, case, now)
        _attach(case, attachments, customer)
        ctx.after_change(case, now)
        uow.cases.add(case)
        uow.commit()
    return case


def _queue(ctx: DeskContext, settings: MailSettings, case: Case, now: datetime, *, to: str,
           subject: str, body: str, automatic: bool, extra: tuple[str, ...] = ()) -> str:
    """Queue one message on ``case`` (in the running unit of work) and record its id."""
    ledger = mail_ledger(ctx.local.uow)
    earlier = [r.message_id for r in ledger.thread(case.id)]
    in_reply_to, references = thread_headers([*earlier, *extra])
    message_id = f"{case.id}.{len(case.timeline)}.{case.version}@{settings.domain}"
    reply_to = (settings.support_address if settings.keys is None else settings.keys.address(
        ctx.tenant, case.id, case.number, settings.domain, now))
    ledger.record(MailRecord(message_id, "out", case.id, to, "sent", subject[:200], now))
    case.emit(MailQueued(case.id, case.tenant, now, MAIL_ACTOR.id, to, subject, body,
                         f"<{message_id}>", in_reply_to, references, reply_to, automatic))
    return message_id


def reply_by_mail(ctx: DeskContext, case_id: str, body: str, *, actor: Actor,
                  settings: MailSettings | None) -> Case:
    """Add ``body`` as a public reply by ``actor`` and queue it to the case's contact as a
    threaded message (only this public text goes out)."""
    settings = _settings(ctx, settings)
    check.command(case_id, actor, None)
    if actor.kind is ActorKind.CUSTOMER:
        raise CommandRefused("customers reply by e-mail to the case address; reply_by_mail "
                             "is the agents' answer")

    def command(case: Case, now: datetime) -> None:
        contact = case.links.contact
        if not contact or "@" not in contact:
            raise InvalidInput(f"case {case.number} has no contact e-mail address to answer",
                               field="case_id")
        entry = case.add_comment(body, audience=Audience.PUBLIC, actor=actor, at=now)
        subject = case.subject if case.number in case.subject else (
            f"[{case.number}] {case.subject}")
        _queue(ctx, settings, case, now, to=contact, subject=f"Re: {subject}",
               body=entry.body, automatic=False)

    return ctx.change(case_id, command, actor=actor, permission=Permission.WRITE)


def approve_held_mail(ctx: DeskContext, case_id: str, seq: int, *, actor: Actor) -> Case:
    """Post a held mail (timeline entry ``seq``, kind ``mail_held``) as the sender's public
    reply."""
    check.command(case_id, actor, None)

    def command(case: Case, now: datetime) -> None:
        if not isinstance(seq, int) or isinstance(seq, bool) or not (
                1 <= seq <= len(case.timeline)):
            raise InvalidInput(f"case {case.number} has no timeline entry {seq!r}",
                               field="seq")
        entry = case.timeline[seq - 1]
        if entry.kind != "mail_held":
            raise InvalidInput(f"entry {seq} is {entry.kind!r}, not a held mail", field="seq")
        if any(e.kind == "mail_approved" and e.data.get("seq") == seq for e in case.timeline):
            raise InvalidInput(f"held mail {seq} is already approved", field="seq")
        sender = Actor.customer(str(entry.data.get("sender")),
                                str(entry.data.get("name") or "") or None)
        if not case.is_active:
            # held on a done case (an unknown sender, or past the reopen rate limit): the
            # approving agent's reopen, so the answer is in a queue (agents may always
            # reopen; a gate on the way back leaves the case where it is)
            wf = ctx.workflow_of(case)
            target = wf.first_target(case.status, (StatusCategory.OPEN, StatusCategory.NEW))
            if target is not None:
                with contextlib.suppress(GateRequired):
                    wf.apply(case, target, actor=actor, at=now,
                             note="a held e-mail was approved", note_parameter="reason")
        case.add_comment(entry.body, audience=Audience.PUBLIC, actor=sender, at=now)
        case.record_activity(actor, now, "mail_approved", "", seq=seq)
        customer_answered(ctx, case, now, actor=actor)

    return ctx.change(case_id, command, actor=actor, permission=Permission.WRITE)


def mail_thread(ctx: DeskContext, case_id: str, *, actor: Actor) -> list[MailRecord]:
    """The case's messages in both directions, oldest first, from the mail ledger: who
    wrote or was written to, and what the desk did with each. Agents only (``service.read``
    on the case): the ledger holds addresses and refusals a portal must not show."""
    check.actor(actor)
    check.case_id(case_id)
    ctx.read(case_id, actor, Permission.READ)
    with ctx.uow() as uow:
        return mail_ledger(uow).thread(case_id)
