"""Routing and assignment use cases: which queue (and maybe owner) a case gets, and again later.

Routing runs inside another command's unit of work (creating a case, changing its category),
so :func:`route` takes that unit of work; the round-robin cursor and the last-assigned times it
reads and moves are committed with the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from caselib.cases import Actor, Case
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import ConcurrencyConflict, InvalidConfiguration
from caselib.ports import UnitOfWork
from caselib.routing import AgentLoad, AssignmentOutcome, RouteDecision, choose_assignee

__all__ = ["reroute", "reroute_in", "route", "route_preview", "routing_facts"]


def routing_facts(case: Case) -> dict[str, object]:
    """What routing rules see of a case (see :data:`caselib.routing.ROUTABLE_FIELDS`)."""
    check.case(case)
    facts: dict[str, object] = {
        "category": case.category,
        "subcategory": case.subcategory,
        "reason_code": case.reason_code,
        "case_type": case.case_type,
        "source": case.source.value,
        "priority": case.priority.value,
        "severity": None if case.severity is None else case.severity.value,
        "tags": case.tags,
        "account": case.links.account,
        "tier": case.custom.get("tier"),
    }
    for key, value in case.custom.items():
        facts[f"custom.{key}"] = value
    return facts


def route_preview(ctx: DeskContext, fields: Mapping[str, object]) -> RouteDecision:
    """The tenant router's decision for ``fields``, creating nothing."""
    fields = check.mapping(fields, "fields")
    router = ctx.settings.router
    if router is None:
        raise InvalidConfiguration("routing is turned off for this tenant (router=None)")
    return router.route(fields)


def route(ctx: DeskContext, uow: UnitOfWork, case: Case, now: datetime) -> None:
    """Route ``case`` to a queue (and maybe an owner), then assign inside the team."""
    router = ctx.settings.router
    if router is None:
        return
    decision = router.route(routing_facts(case))
    system = Actor.system("router")
    case.record_activity(system, now, "routed", decision.text, decision=decision.to_dict())
    if decision.owner is not None:
        case.assign(
            assignee=decision.owner,
            team=decision.team,
            actor=system,
            at=now,
            manual=False,
            reason=decision.text,
        )
        return
    outcome = _choose_in_team(ctx, uow, case, decision.team, now)
    owner = None if outcome is None else outcome.agent_id
    case.assign(
        assignee=owner,
        team=decision.team,
        actor=system,
        at=now,
        manual=False,
        reason=decision.text if outcome is None else outcome.reason,
    )
    if outcome is not None and owner is None:
        case.record_activity(
            system,
            now,
            "assignment_skipped",
            outcome.reason,
            team=decision.team,
            notify=outcome.notify,
        )


def _choose_in_team(
    ctx: DeskContext, uow: UnitOfWork, case: Case, team_id: str, now: datetime
) -> AssignmentOutcome | None:
    """Run the team's assignment strategy; ``None`` when the directory has no such team."""
    directory = ctx.directory
    team = None if directory is None else directory.team(team_id)
    if directory is None or team is None:
        return None
    members = list(team.members)
    agents = [a for a in (directory.agent(m) for m in members) if a is not None]
    counts = uow.cases.open_counts(members)
    last = uow.assignments.last_assigned(members)
    loads = [AgentLoad(m, counts.get(m, 0), last.get(m)) for m in members]
    needs = [t.removeprefix("skill:") for t in case.tags if t.startswith("skill:")]
    cursor = uow.assignments.cursor(team_id)
    outcome = choose_assignee(
        team,
        agents,
        loads,
        needs_skills=needs,
        cursor=cursor,
        now=now,
        available=directory.is_available,
    )
    if outcome.agent_id is not None:
        if (
            outcome.cursor != cursor
            and outcome.cursor is not None
            and not (uow.assignments.compare_and_set_cursor(team_id, cursor, outcome.cursor))
        ):
            raise ConcurrencyConflict(f"round-robin cursor of team {team_id!r}", 0, None)
        uow.assignments.record_assigned(outcome.agent_id, now)
    return outcome


def reroute(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    force: bool,
    expected_version: int | None,
) -> Case:
    """Route the case again; a case assigned by hand is left alone unless ``force``."""
    check.command(case_id, actor, expected_version)
    check.flag(force, "force")

    def command(case: Case, now: datetime) -> bool:
        if case.assigned_manually and not force:
            return False
        return reroute_in(ctx, case, now)

    return ctx.change(case_id, command, expected_version)


def reroute_in(ctx: DeskContext, case: Case, now: datetime) -> bool:
    """Route ``case`` again inside the running command; ``True`` if that changed anything."""
    uow: UnitOfWork = ctx.local.uow  # the command's own unit of work (see DeskContext.change)
    before = (case.assignee, case.team, len(case.timeline))
    route(ctx, uow, case, now)
    return (case.assignee, case.team, len(case.timeline)) != before
