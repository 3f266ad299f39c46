"""SLA use cases: escalating by hand, explaining a due time, the amber list of cases about to
breach, and the breach sweep (checked here, run by :mod:`caselib.desk.sweep`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caselib.access import Permission
from caselib.cases import Actor, Case
from caselib.desk._context import DeskContext
from caselib.desk.breach import SweepReport
from caselib.desk.casework import get_case
from caselib.desk.sweep import _ACTIVE, run_sweep
from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery, CaseSummary, Notifier
from caselib.sla import DueExplanation
from caselib.sla import explain_due as explain_target
from caselib.vocab import Priority

__all__ = ["approaching", "escalate", "explain_due", "sweep_breaches"]


def escalate(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    reason: str,
    expected_version: int | None,
) -> Case:
    """Raise to high, never lower; a no-op (nothing saved) when already high or urgent."""

    def command(case: Case, now: datetime) -> bool:
        target = max(case.priority, Priority.HIGH)
        return case.change_priority(target, actor=actor, at=now, reason=reason)

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.ESCALATE)


def explain_due(ctx: DeskContext, case_id: str, target: str, *,
                actor: Actor) -> DueExplanation:
    policies = ctx.settings.sla
    if policies is None:
        raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
    case = get_case(ctx, case_id, actor=actor)
    return explain_target(case, policies.policy_for(case), target, ctx.now())


def approaching(ctx: DeskContext, within: timedelta, *, limit: int,
                actor: Actor) -> list[CaseSummary]:
    now = ctx.now()
    query = ctx.scoped(CaseQuery(due_before=now + within, status_categories=_ACTIVE,
                                 order="due", limit=limit), actor)
    with ctx.uow() as uow:
        return list(uow.cases.query(query).items)


def sweep_breaches(
    ctx: DeskContext, *, actor: Actor, notifier: Notifier | None, batch: int
) -> SweepReport:
    """Check the actor, the batch size and that SLA clocks are on, then run the sweep."""
    ctx.access.require(actor, Permission.ADMIN)
    if not isinstance(batch, int) or isinstance(batch, bool) or not 1 <= batch <= MAX_QUERY_LIMIT:
        raise InvalidInput(
            f"batch must be an integer from 1 to {MAX_QUERY_LIMIT} (cases "
            f"read and written per unit of work), got {batch!r}",
            field="batch",
        )
    policies = ctx.settings.sla
    if policies is None:
        raise InvalidConfiguration("SLA clocks are turned off for this tenant (sla=None)")
    now = ctx.now()
    return run_sweep(ctx, policies, now, actor, notifier, batch)
