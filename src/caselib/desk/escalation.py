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
from caselib.desk.sweep import _ACTIVE, run_sweep
from caselib.errors import InvalidConfiguration
from caselib.ports import CaseQuery, CaseSummary, Notifier
from caselib.sla import DueExplanation
from caselib.sla import explain_due as explain_target
from caselib.vocab import Priority

__all__ = [
    "approaching",
    "escalate",
    "escalation_level",
    "explain_due",
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
) -> Case:
    """Raise to high (never lower), hand to ``to_team`` if given, and always record it: a
    timeline entry ``escalated`` with the level, the reason and the rungs, and a
    ``case.escalated`` event (automations can notify on it), even when an urgent case
    stays urgent."""
    check.command(case_id, actor, expected_version)
    if to_team is not None:
        check.case_id(to_team, "to_team")

    def command(case: Case, now: datetime) -> bool:
        old = case.priority
        target = max(case.priority, Priority.HIGH)
        case.change_priority(target, actor=actor, at=now, reason=reason)
        if to_team is not None and to_team != case.team:
            case.assign(assignee=None, team=to_team, actor=actor, at=now,
                        reason=reason or "escalated")
        level = escalation_level(case) + 1
        case.record_activity(actor, now, "escalated", reason or "", level=level,
                             old=old.value, new=target.value, to_team=to_team)
        case.emit(Escalated(case.id, case.tenant, now, actor.id, level, old.value,
                            target.value, reason, to_team))
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
