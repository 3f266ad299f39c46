"""Routing and assignment use cases: which queue (and maybe owner) a case gets, and again later.

Routing runs inside another command's unit of work (creating a case, changing its category),
so :func:`route` takes that unit of work; the round-robin cursor and the last-assigned times it
reads and moves are committed with the case.

A preview routes exactly what a created case would be routed on: its fields go through the
same normalisation (:class:`~caselib.cases.fields.CaseFields`) and the same fact builder
(:func:`routing_facts`), and the same branch-manager lookup is handed to the router.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Final

from caselib.access import Permission
from caselib.cases import Actor, Case, CasePolicy, Links
from caselib.cases.fields import CaseFields
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import ConcurrencyConflict, InvalidConfiguration, InvalidInput, UnknownValue
from caselib.ports import UnitOfWork
from caselib.routing import (
    CUSTOM_PREFIX,
    AgentLoad,
    AssignmentOutcome,
    RouteDecision,
    Router,
    branch_manager_of,
    choose_assignee,
)

__all__ = [
    "preview_fields",
    "reroute",
    "reroute_in",
    "route",
    "route_preview",
    "routing_facts",
]

_AS_CREATED: Final = frozenset(
    {"category", "subcategory", "reason_code", "case_type", "source", "priority", "severity",
     "tags"}
)
"""Preview keys that are also :meth:`ServiceDesk.create_case` keywords, read the same way."""
_LINK_FACTS: Final = frozenset({"account", "installation"})
"""Routing facts that are the case's links."""
_NOT_ROUTED: Final = frozenset({"subject", "description"})
"""create_case keywords a preview accepts (so a host can pass its whole form) and ignores."""


def routing_facts(case: Case | CaseFields) -> dict[str, object]:
    """What routing rules see of a case (see :data:`caselib.routing.ROUTABLE_FIELDS`), or of
    the normalised fields of one not created yet."""
    if not isinstance(case, CaseFields):
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
        "installation": case.links.installation,
        "tier": case.custom.get("tier"),
    }
    for key, value in case.custom.items():
        facts[f"custom.{key}"] = value
    return facts


def preview_fields(fields: Mapping[str, object], policy: CasePolicy) -> CaseFields:
    """Read :func:`route_preview`'s ``fields`` the way :meth:`ServiceDesk.create_case` reads
    its keywords.

    Keys are routing fact names (``category``, ``reason_code``, ``account``,
    ``installation``, ``tier``, ``custom.<name>`` …) or create_case keywords (``links`` and
    ``custom`` as mappings; ``subject`` and ``description`` are accepted and ignored). A
    ``None`` value means "not given" (the create default), except in custom fields, which
    keep it as create_case does. Unknown keys, a value given twice with two meanings and
    anything create_case would refuse raise :class:`~caselib.errors.InvalidInput`.
    """
    if not isinstance(fields, Mapping):
        raise InvalidInput(f"fields must be a mapping of routing fields, got "
                           f"{type(fields).__name__}", field="fields")
    given: dict[str, Any] = {}
    links: dict[str, Any] = {}
    custom: dict[str, Any] = {}

    def put(into: dict[str, Any], key: str, value: object, label: str) -> None:
        if key in into and into[key] != value:
            raise InvalidInput(f"{label} is given twice, as {into[key]!r} and {value!r}",
                               field=label)
        into[key] = value

    for key, value in fields.items():
        if not isinstance(key, str):
            raise InvalidInput(f"routing field names are text, got {key!r}", field="fields")
        if key in _AS_CREATED:
            if value is not None:
                given[key] = value
        elif key in _LINK_FACTS:
            if value is not None:
                put(links, key, value, f"links.{key}")
        elif key == "tier" or (key.startswith(CUSTOM_PREFIX) and len(key) > len(CUSTOM_PREFIX)):
            name = key.removeprefix(CUSTOM_PREFIX)
            put(custom, name, value, f"custom.{name}")
        elif key in ("links", "custom"):
            if value is None:
                continue
            if key == "links" and isinstance(value, Links):
                value = value.to_dict()
            if not isinstance(value, Mapping):
                raise InvalidInput(f"{key} must be a mapping", field=key)
            for name, inner in value.items():
                if key == "custom" or inner is not None:
                    put(links if key == "links" else custom, name, inner, f"{key}.{name}")
        elif key not in _NOT_ROUTED:
            known = sorted(_AS_CREATED | _LINK_FACTS | _NOT_ROUTED | {"tier", "links", "custom"})
            raise UnknownValue("routing field", key, [*known, "custom.<name>"])
    return CaseFields.parse(policy, **given, links=links or None, custom=custom or None)


def route_preview(ctx: DeskContext, fields: Mapping[str, object]) -> RouteDecision:
    """The tenant router's decision for ``fields``, creating nothing: the decision
    :meth:`ServiceDesk.create_case` would make with the same fields (see
    :func:`preview_fields`)."""
    fields = check.mapping(fields, "fields")
    router = ctx.settings.router
    if router is None:
        raise InvalidConfiguration("routing is turned off for this tenant (router=None)")
    facts = routing_facts(preview_fields(fields, ctx.settings.policy))
    return _decide(ctx, router, facts, ctx.now())


def _decide(
    ctx: DeskContext, router: Router, facts: Mapping[str, object], now: datetime
) -> RouteDecision:
    return router.route(facts, branch_manager=_branch_managers(ctx, now))


def _branch_managers(ctx: DeskContext, now: datetime) -> Callable[[str], str | None]:
    """``manager(branch)`` from the host's directory: its ``branch_manager`` answer unless
    the directory knows that agent is not available at ``now``; ``None`` when the directory
    has no ``branch_manager`` (see :class:`~caselib.routing.BranchDirectory`)."""
    directory = ctx.directory
    lookup = branch_manager_of(directory)

    def manager(branch: str) -> str | None:
        if directory is None or lookup is None:
            return None
        who = lookup(branch)
        if who is None:
            return None
        agent = directory.agent(who)
        if agent is not None and not directory.is_available(agent, now):
            return None
        return who

    return manager


def route(ctx: DeskContext, uow: UnitOfWork, case: Case, now: datetime) -> None:
    """Route ``case`` to a queue (and maybe an owner), then assign inside the team."""
    router = ctx.settings.router
    if router is None:
        return
    decision = _decide(ctx, router, routing_facts(case), now)
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
    reason = decision.text if outcome is None else outcome.reason
    if outcome is not None and owner is None:
        reason = ""  # nobody picked: the assignment_skipped entry below says why, once
    case.assign(
        assignee=owner,
        team=decision.team,
        actor=system,
        at=now,
        manual=False,
        reason=reason,
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

    return ctx.change(case_id, command, expected_version, actor=actor,
                      permission=Permission.WRITE)


def reroute_in(ctx: DeskContext, case: Case, now: datetime) -> bool:
    """Route ``case`` again inside the running command; ``True`` if that changed anything."""
    uow: UnitOfWork = ctx.local.uow  # the command's own unit of work (see DeskContext.change)
    before = (case.assignee, case.team, len(case.timeline))
    route(ctx, uow, case, now)
    return (case.assignee, case.team, len(case.timeline)) != before
