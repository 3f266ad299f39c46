"""Case use cases: reading cases, the commands that change one, and relaying their events.

Each command is a small function handed to :meth:`DeskContext.change`, which loads the case,
runs it, re-derives the SLA clocks and saves at the loaded version; creating a case routes it
first (:mod:`caselib.desk.triage`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import attrs

from caselib.access import Permission
from caselib.cases import Actor, Attachment, Case, Links
from caselib.checks import MAX_INT
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.desk.listing import by_status_query
from caselib.desk.moves import (
    case_actions,
    customer_answered,
    gated_move,
    transition_permission,
)
from caselib.desk.numbers import find_by_number
from caselib.desk.triage import reroute_in, route
from caselib.desk.views import CustomerReply, CustomerView
from caselib.errors import (
    ConcurrencyConflict,
    PermissionDenied,
    ReopenWindowClosed,
    TransitionNotAllowed,
)
from caselib.ports import CaseQuery, EventSink, Page, UnitOfWork
from caselib.vocab import Audience, Priority, StatusCategory

__all__ = [
    "Within",
    "add_attachment",
    "add_comment",
    "assign",
    "change_priority",
    "close",
    "count_by_status",
    "count_cases",
    "create_case",
    "customer_view",
    "dispatch_events",
    "find_cases",
    "get_case",
    "get_case_by_number",
    "rate",
    "redact_comment",
    "reopen",
    "resolve",
    "to_category_command",
    "transition",
    "update_fields",
]

_CREATE_ATTEMPTS = 10
_DONE = (StatusCategory.RESOLVED, StatusCategory.CLOSED)


# -- queries ----------------------------------------------------------------------------------


def get_case(ctx: DeskContext, case_id: str, *, actor: Actor) -> Case:
    check.actor(actor)
    check.case_id(case_id)
    return ctx.read(case_id, actor, Permission.READ)


def get_case_by_number(ctx: DeskContext, number: str, *, actor: Actor) -> Case:
    check.actor(actor)
    check.case_id(number, "number")
    access = ctx.access
    access.require(actor, Permission.READ)
    with ctx.uow() as uow:
        case = find_by_number(uow.cases, ctx.settings.policy.numbers, number)
    access.check(actor, Permission.READ, case)
    return case


def find_cases(ctx: DeskContext, query: CaseQuery | None, *, actor: Actor,
               **filters: Any) -> Page:
    check.actor(actor)
    check.query(query)
    check.query_or_filters(query, filters)
    q = ctx.scoped(query if query is not None else CaseQuery(**filters), actor)
    with ctx.uow() as uow:
        return uow.cases.query(q)


def count_by_status(ctx: DeskContext, query: CaseQuery | None, *,
                    actor: Actor) -> dict[str, int]:
    check.actor(actor)
    check.query(query)
    q = ctx.scoped(query if query is not None else CaseQuery(), actor)
    with ctx.uow() as uow:
        return uow.cases.count_by_status(by_status_query(ctx, q))


def count_cases(ctx: DeskContext, query: CaseQuery | None, *, actor: Actor,
                **filters: Any) -> int:
    check.actor(actor)
    check.query(query)
    check.query_or_filters(query, filters)
    q = ctx.scoped(query if query is not None else CaseQuery(**filters), actor)
    with ctx.uow() as uow:
        return uow.cases.count(q)


def _reply_or_write(actor: Actor) -> Permission:
    """Customers reply (attach evidence, reopen) on their own cases; agents write."""
    return Permission.PORTAL_REPLY if actor.is_customer else Permission.WRITE


def customer_view(ctx: DeskContext, case_id: str, *, actor: Actor) -> CustomerView:
    """Public entries only, redacted ones blanked; status labels from the case's workflow;
    what the reader may do now (reopen, rate, whether a reply opens a follow-up) from
    :func:`~caselib.desk.moves.case_actions` and the tenant's reopen policy."""
    check.actor(actor)
    check.case_id(case_id)
    case = ctx.read(case_id, actor)
    wf = ctx.workflow_of(case)
    labels = {s.id: s.label for s in wf.workflow.statuses}
    replies = tuple(
        CustomerReply(
            e.seq,
            e.at,
            e.actor,
            e.actor_kind.value == "customer",
            "" if e.redaction else e.body,
            e.redaction is not None,
            e.actor_name,
        )
        for e in case.timeline
        if e.audience is Audience.PUBLIC
    )
    res = case.resolution
    can_reopen = can_rate = follows = False
    if case.status_category is not StatusCategory.MERGED and not case.is_active:
        actions = case_actions(ctx, case, actor=actor)
        can_reopen = actions.can_reopen
        can_rate = (actions.rate and case.csat is None
                    and (not actor.is_customer or actor.id == case.links.contact))
        follows = actions.reply and not ctx.settings.reopen.customer_may_reopen(
            case, ctx.now())
    return CustomerView(
        case.number,
        case.subject,
        case.status,
        labels.get(case.status, case.status),
        case.status_category,
        case.created_at,
        case.updated_at,
        replies,
        None if res is None else res.summary,
        can_reopen=can_reopen,
        can_rate=can_rate,
        reply_opens_follow_up=follows,
    )


# -- commands ---------------------------------------------------------------------------------


Within = Callable[[UnitOfWork, Case, datetime], None]
"""Work that must commit with a new case or not at all (a split's or follow-up's link to
the case it came from): called in the creating unit of work, before the case is added."""


def create_case(ctx: DeskContext, *, prepare: Callable[[Case, datetime], None] | None = None,
                within: Within | None = None, **fields: Any) -> Case:
    """Open and route a case; retried when another process took the same round-robin turn
    (the losing attempt wrote nothing). ``fields`` are :meth:`ServiceDesk.create_case`'s
    keyword arguments, every one of them (the facade holds the signature and the defaults).
    ``within`` (see :data:`Within`) runs in the same unit of work."""
    check.actor(fields["actor"])
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            return _create(ctx, prepare, within, **dict(fields))
        except ConcurrencyConflict:
            if attempt == _CREATE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover


def _create(ctx: DeskContext, prepare: Callable[[Case, datetime], None] | None,
            within: Within | None, **fields: Any) -> Case:
    actor: Actor = fields.pop("actor")
    assignee = fields.pop("assignee")
    team = fields.pop("team")
    if actor.is_customer:
        ctx.access.require(actor, Permission.PORTAL_OPEN)
        if assignee is not None or team is not None:
            raise PermissionDenied("customers cannot assign the cases they open; leave out "
                                   "assignee= and team= (routing picks the queue)")
        fields["links"] = _own_links(actor, fields["links"])
    else:
        ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    policy = ctx.settings.policy
    wf = ctx.workflow
    with ctx.uow() as uow:
        number = policy.numbers.format(uow.numbers.next_number())
        case = Case.open(
            id=ctx.ids(),
            tenant=ctx.tenant,
            number=number,
            status=wf.initial,
            status_category=wf.category(wf.initial),
            workflow=wf.name,
            actor=actor,
            at=now,
            policy=policy,
            **fields,
        )
        if prepare is not None:  # a template's checklist, in the same unit of work
            prepare(case, now)
        if assignee is not None or team is not None:
            case.assign(assignee=assignee, team=team, actor=actor, at=now)
        else:
            route(ctx, uow, case, now)
        if within is not None:
            ctx.local.uow = uow  # gates the work runs (require_children_done) read it
            try:
                within(uow, case, now)
            finally:
                ctx.local.uow = None
        ctx.after_change(case, now)
        uow.cases.add(case)
        uow.commit()
    return case


def _own_links(customer: Actor, given: object) -> Links:
    """The links of a case a customer opens: the customer is its contact (and its account,
    the customer's); naming another contact or account is refused."""
    links = given if isinstance(given, Links) else (
        Links() if given is None else Links.from_dict(given))  # type: ignore[arg-type]
    if links.contact not in (None, customer.id) or (
            links.account is not None and links.account != customer.account):
        raise PermissionDenied(
            "a customer opens cases for itself only: links.contact must be its own id "
            "(and links.account its own account), or left out")
    return attrs.evolve(links, contact=customer.id, account=links.account or customer.account)


def add_comment(
    ctx: DeskContext,
    case_id: str,
    body: str,
    *,
    actor: Actor,
    audience: Audience | str,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)

    def command(case: Case, now: datetime) -> None:
        case.add_comment(body, audience=audience, actor=actor, at=now)
        if actor.is_customer:
            customer_answered(ctx, case, now, actor=actor)

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=_reply_or_write(actor))


def redact_comment(
    ctx: DeskContext,
    case_id: str,
    seq: int,
    *,
    reason: str,
    actor: Actor,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    check.count(seq, "seq", 1, MAX_INT)
    return ctx.change(
        case_id,
        lambda case, now: case.redact_comment(seq, reason=reason, actor=actor, at=now),
        expected_version,
        actor=actor,
        permission=Permission.WRITE,
    )


def transition(
    ctx: DeskContext,
    case_id: str,
    to: str,
    *,
    actor: Actor,
    note: str | None,
    resolution_code: str | None,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)

    def command(case: Case, now: datetime) -> None:
        gated_move(ctx, case, to, actor=actor, at=now, note=note,
                   resolution_code=resolution_code)

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=lambda case: transition_permission(ctx.workflow_of(case), to))


def to_category_command(
    ctx: DeskContext,
    categories: Sequence[StatusCategory],
    label: str,
    *,
    actor: Actor,
    note: str | None,
    resolution_code: str | None = None,
    csat: int | None = None,
    note_parameter: str = "note",
    uow: UnitOfWork | None = None,
) -> Callable[[Case, datetime], None]:
    """The command moving a case to the first status of ``categories`` its workflow allows
    (gates included), for :meth:`DeskContext.change` or a unit of work of the caller's
    (``uow``, where the gates read)."""

    def command(case: Case, now: datetime) -> None:
        wf = ctx.workflow_of(case)
        target = wf.first_target(case.status, categories)
        if target is None:
            raise TransitionNotAllowed(case.status, label, wf.allowed_transitions(case.status))
        gated_move(ctx, case, target, actor=actor, at=now, note=note,
                   resolution_code=resolution_code, csat=csat, note_parameter=note_parameter,
                   uow=uow)

    return command


def _to_category(
    ctx: DeskContext,
    case_id: str,
    categories: Sequence[StatusCategory],
    label: str,
    *,
    actor: Actor,
    note: str | None,
    resolution_code: str | None = None,
    csat: int | None = None,
    expected_version: int | None = None,
    note_parameter: str = "note",
) -> Case:
    command = to_category_command(ctx, categories, label, actor=actor, note=note,
                                  resolution_code=resolution_code, csat=csat,
                                  note_parameter=note_parameter)
    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.RESOLVE)


def resolve(
    ctx: DeskContext,
    case_id: str,
    summary: str,
    *,
    actor: Actor,
    code: str | None,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    return _to_category(
        ctx,
        case_id,
        (StatusCategory.RESOLVED,),
        "resolved",
        actor=actor,
        note=summary,
        resolution_code=code,
        expected_version=expected_version,
        note_parameter="summary",  # a refusal says "pass summary=", the name resolve() takes
    )


def close(
    ctx: DeskContext,
    case_id: str,
    note: str,
    *,
    actor: Actor,
    csat: int | None,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    return _to_category(
        ctx,
        case_id,
        (StatusCategory.CLOSED,),
        "closed",
        actor=actor,
        note=note,
        csat=csat,
        expected_version=expected_version,
    )


def reopen(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    reason: str | None,
    expected_version: int | None,
    reply: str | None = None,
) -> Case:
    """Reopen a done case; with ``reply``, the customer's public reply that reopens it, in
    the same save (a refused reply leaves the case done)."""
    check.command(case_id, actor, expected_version)

    def command(case: Case, now: datetime) -> None:
        wf = ctx.workflow_of(case)
        if case.is_active:
            raise TransitionNotAllowed(case.status, "reopen", wf.allowed_transitions(case.status))
        if actor.is_customer and not ctx.settings.reopen.customer_may_reopen(case, now):
            raise ReopenWindowClosed(case.number)
        target = wf.first_target(case.status, (StatusCategory.OPEN, StatusCategory.NEW))
        if target is None:
            raise TransitionNotAllowed(case.status, "reopen", wf.allowed_transitions(case.status))
        wf.apply(case, target, actor=actor, at=now, note=reason, note_parameter="reason")
        if reply is not None:
            case.add_comment(reply, audience=Audience.PUBLIC, actor=actor, at=now)

    # a customer reopening its own case is answering it again: a reply, not an agent's write
    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=_reply_or_write(actor))


def rate(
    ctx: DeskContext,
    case_id: str,
    score: int,
    *,
    actor: Actor,
    comment: str | None,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    return ctx.change(
        case_id,
        lambda case, now: case.record_csat(score, actor=actor, at=now, comment=comment),
        expected_version,
        actor=actor,
        permission=Permission.PORTAL_RATE,
    )


def assign(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    assignee: str | None,
    team: str | None,
    keep_team: bool,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    check.flag(keep_team, "keep_team")

    def command(case: Case, now: datetime) -> bool:
        queue = team if team is not None or not keep_team else case.team
        return case.assign(assignee=assignee, team=queue, actor=actor, at=now, manual=True)

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.WRITE)


def change_priority(
    ctx: DeskContext,
    case_id: str,
    priority: Priority | str,
    *,
    actor: Actor,
    reason: str | None,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)
    return ctx.change(
        case_id,
        lambda case, now: case.change_priority(priority, actor=actor, at=now, reason=reason),
        expected_version,
        actor=actor,
        permission=Permission.WRITE,
    )


def update_fields(
    ctx: DeskContext,
    case_id: str,
    changes: Mapping[str, object],
    *,
    actor: Actor,
    force_reroute: bool,
    expected_version: int | None,
) -> Case:
    """Change fields; a new category or reason code re-routes unless the case is sticky."""
    check.command(case_id, actor, expected_version)
    check.flag(force_reroute, "force_reroute")

    def command(case: Case, now: datetime) -> bool:
        diff = case.update_fields(changes, actor=actor, at=now, policy=ctx.settings.policy)
        if ("category" in diff or "reason_code" in diff) and (
            force_reroute or not case.assigned_manually
        ):
            reroute_in(ctx, case, now)
        return bool(diff)

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.WRITE)


def add_attachment(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    name: str,
    content_type: str,
    size: int,
    sha256: str,
    storage_key: str,
    expected_version: int | None,
) -> Case:
    check.command(case_id, actor, expected_version)

    def command(case: Case, now: datetime) -> None:
        case.add_attachment(
            Attachment(name, content_type, size, sha256, storage_key, now, actor.id),
            actor=actor,
        )

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=_reply_or_write(actor))


# -- events -----------------------------------------------------------------------------------


def dispatch_events(ctx: DeskContext, sink: EventSink, *, limit: int) -> int:
    """Publish, then mark delivered what was published, even when a later publish raises."""
    check.sink(sink)
    check.count(limit, "limit")
    delivered = 0
    with ctx.uow() as uow:
        messages = uow.outbox.pending(limit)
        done: list[str] = []
        try:
            for message in messages:
                sink.publish(message)
                done.append(message.key)
        finally:
            if done:
                uow.outbox.mark_delivered(done)
                uow.commit()
                delivered = len(done)
    return delivered
