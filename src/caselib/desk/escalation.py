"""SLA use cases: escalating by hand, explaining a due time, the amber list of cases about to
breach, and the breach sweep (checked here, run by :mod:`caselib.desk.sweep`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caselib.access import Permission
from caselib.cases import Actor, Case, Escalated
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.desk.breach import SweepReport
from caselib.desk.casework import get_case
from caselib.desk.delivery import render_notices
from caselib.desk.sweep import _ACTIVE, run_sweep
from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.ports import CaseQuery, CaseSummary, Notifier
from caselib.sla import DueExplanation
from caselib.sla import explain_due as explain_target
from caselib.vocab import Priority

__all__ = [
    "approaching",
    "escalate",
    "escalation_level",
    "explain_due",
    "explain_dues",
    "sweep_breaches",
]


def escalate(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    reason: str | None,
    expected_version: int | None,
    to_team: str | None = None,
    to_level: str | None = None,
) -> Case:
    """Move the case one escalation level up (or to ``to_level``, or to the level of
    ``to_team``), and always record it: a timeline entry ``escalated`` with the levels it
    left and reached, the reason, the priority rungs and who was told, and a
    ``case.escalated`` event carrying the level's notices, even when an urgent case stays
    urgent.

    With the tenant's :class:`~caselib.automation.EscalationLadder` the level decides the
    priority floor (default high), the team taking the case (``to_team`` overrides) and who
    is told. Without one: priority to at least high, ``to_team`` if given, levels numbered.
    """
    check.command(case_id, actor, expected_version)
    if to_team is not None:
        check.case_id(to_team, "to_team")
    ladder = ctx.settings.escalation
    if to_level is not None:
        check.case_id(to_level, "to_level")
        if ladder is None:
            raise InvalidInput(
                "this tenant defines no escalation levels, so to_level cannot name one; give "
                "TenantSettings(escalation=EscalationLadder([...])) or leave to_level out",
                field="to_level")
        ladder.level(to_level)  # an unknown level is refused before anything is read

    def command(case: Case, now: datetime) -> bool:
        old = case.priority
        count = escalation_level(case) + 1
        if ladder is None:
            name, floor, team, level = str(count), Priority.HIGH, to_team, None
        else:
            level = ladder.step(case.escalation_level, to_level=to_level, to_team=to_team)
            name, floor = level.name, level.priority or Priority.HIGH
            team = to_team or level.team
        target = max(case.priority, floor)
        case.change_priority(target, actor=actor, at=now, reason=reason)
        if team is not None and team != case.team:
            case.assign(assignee=None, team=team, actor=actor, at=now,
                        reason=reason or f"escalated to {name}")
        from_level = case.escalation_level
        notices = ([] if level is None else
                   render_notices(ctx, case, level.notify, level.notice, name, "escalation"))
        told = [n["to"] for n in notices]
        case.record_escalation(name, reason, actor=actor, at=now, level=count,
                               old=old.value, new=target.value, to_team=team, notified=told)
        case.emit(Escalated(case.id, case.tenant, now, actor.id, count, old.value,
                            target.value, reason, team, from_level, name, notices))
        return True

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.ESCALATE)


def escalation_level(case: Case) -> int:
    """How many times the case was escalated (its ``escalated`` timeline entries)."""
    return sum(1 for e in case.timeline if e.kind == "escalated")


def explain_due(ctx: DeskContext, case_id: str, target: str, *,
                actor: Actor) -> DueExplanation:
    check.actor(actor)
    check.case_id(case_id)
    policies = ctx.settings.sla
    if policies is None:
        raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
    case = get_case(ctx, case_id, actor=actor)
    return explain_target(case, policies.policy_for(case), target, ctx.now())


def explain_dues(ctx: DeskContext, case: Case, *, actor: Actor) -> dict[str, DueExplanation]:
    """:func:`explain_due` of every SLA target ``case`` carries (its badges), by target name,
    from the already loaded ``case``: one policy lookup and no store read, however many
    badges a page shows. Empty when the tenant runs no SLA clocks (there are no badges)."""
    check.case(case)
    check.actor(actor)
    access = ctx.access
    access.require(actor, Permission.READ)  # what explain_due's get_case checks
    access.check(actor, Permission.READ, case)
    policies = ctx.settings.sla
    if policies is None:
        return {}
    policy, now = policies.policy_for(case), ctx.now()
    return {t.name: explain_target(case, policy, t.name, now) for t in case.sla_targets}


def approaching(ctx: DeskContext, within: timedelta, *, limit: int,
                actor: Actor) -> list[CaseSummary]:
    check.actor(actor)
    check.horizon(within)
    check.count(limit, "limit")
    now = ctx.now()
    query = ctx.scoped(CaseQuery(due_before=now + within, status_categories=_ACTIVE,
                                 order="due", limit=limit), actor)
    with ctx.uow() as uow:
        return list(uow.cases.query(query).items)


def sweep_breaches(
    ctx: DeskContext, *, actor: Actor, notifier: Notifier | None, batch: int
) -> SweepReport:
    """Check the actor, the batch size and that SLA clocks are on, then run the sweep."""
    check.actor(actor)
    check.notifier(notifier)
    check.count(batch, "batch")  # cases read and written per unit of work
    ctx.access.require(actor, Permission.ADMIN)
    policies = ctx.settings.sla
    if policies is None:
        raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
    now = ctx.now()
    return run_sweep(ctx, policies, now, actor, notifier, batch)
