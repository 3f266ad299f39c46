"""Every desk command and query enforces the access policy, on every store.

- the role matrix of the product brief, command by command (printed as it is checked);
- the agreement property: ``find_cases`` lists exactly what ``get_case`` opens, for random
  roles, scopes, teams, customers and case sets, on memory, SQLite and PostgreSQL;
- a refused command changes nothing, and an allowed one is one the policy allows.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib import (
    Actor,
    CaseNotFound,
    CommandRefused,
    MemoryStore,
    PermissionDenied,
    ServiceDesk,
    Store,
    TenantSettings,
)
from caselib.access import PRESET_ROLES, AccessPolicy, Permission, Role, Scope
from caselib.testing import FrozenClock, check_access_agreement
from pg import DSN, pg_schema, require_server  # noqa: F401  (pg_schema is a fixture)

SYSTEM = Actor.system()
ACCESS = TenantSettings(access=AccessPolicy.default())


@pytest.fixture
def store_factory(make_store: Callable[[], Store]) -> Callable[[], Store]:
    """One store per test (see ``make_store``); each hypothesis example uses its own tenant
    in it."""
    return functools.cache(make_store)


_tenants = itertools.count()


def _desk(store: Store, policy: AccessPolicy) -> ServiceDesk:
    clock = FrozenClock(datetime(2026, 1, 5, 9, 0, tzinfo=UTC))
    return ServiceDesk(store, tenant=f"t{next(_tenants)}", clock=clock,
                       settings=TenantSettings(access=policy))


# -- the role matrix -----------------------------------------------------------------------

def _working_case(desk: ServiceDesk, actor: Actor, *, resolved: bool = False) -> str:
    """A case the actor's scope reaches: team t1 (the actor works in t1), assigned to the
    actor when its role only sees its own jobs; moved to pending_customer (or resolved)."""
    case = desk.create_case(subject="Printer jams", actor=SYSTEM, team="t1",
                            assignee=actor.id, links={"contact": "c-1"})
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, status, actor=SYSTEM)
    if resolved:
        desk.resolve(case.id, "fixed", actor=SYSTEM)
    return case.id


COMMANDS: dict[str, tuple[Permission, Callable[[ServiceDesk, str, Actor], object]]] = {
    "open / read": (Permission.READ, lambda d, c, a: d.get_case(c, actor=a)),
    "comment": (Permission.WRITE, lambda d, c, a: d.add_comment(c, "note", actor=a)),
    "change priority": (Permission.WRITE,
                        lambda d, c, a: d.change_priority(c, "high", actor=a)),
    "re-route": (Permission.WRITE, lambda d, c, a: d.reroute(c, actor=a, force=True)),
    "escalate": (Permission.ESCALATE, lambda d, c, a: d.escalate(c, actor=a)),
    "resolve": (Permission.RESOLVE, lambda d, c, a: d.resolve(c, "done", actor=a)),
    "close": (Permission.RESOLVE, lambda d, c, a: d.close(c, "done", actor=a)),
    "sweep": (Permission.ADMIN, lambda d, c, a: d.sweep_breaches(actor=a)),
}
AGENT_ROLES = sorted(name for name in PRESET_ROLES if name != "customer")


@pytest.mark.parametrize("role", AGENT_ROLES)
def test_each_role_may_do_exactly_what_the_brief_says(role: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    row = []
    for command, (permission, run) in COMMANDS.items():
        desk = _desk(MemoryStore(), AccessPolicy.default())
        actor = Actor.agent(f"{role}-1", role, teams={"t1"})
        case_id = _working_case(desk, actor, resolved=command == "close")
        expected = PRESET_ROLES[role].grants(permission)
        if expected:
            run(desk, case_id, actor)
        else:
            with pytest.raises(PermissionDenied) as refused:
                run(desk, case_id, actor)
            assert refused.value.permission == permission.value, f"{role} / {command}"
        allowed = expected
        row.append(f"{command}: {'yes' if allowed else 'no'}")
    with capsys.disabled():
        print(f"\n  {role:<13} " + " | ".join(row))


def test_customers_reach_only_their_own_cases_public_side() -> None:
    desk = _desk(MemoryStore(), AccessPolicy.default())
    jane = Actor.customer("jane", "Jane", account="acme")
    mine = desk.create_case(subject="Broken hinge", actor=jane)
    assert (mine.links.contact, mine.links.account) == ("jane", "acme")
    other = desk.create_case(subject="Not yours", actor=SYSTEM, links={"contact": "bob"})
    for refused in (lambda: desk.get_case(mine.id, actor=jane),
                    lambda: desk.find_cases(actor=jane),
                    lambda: desk.change_priority(mine.id, "urgent", actor=jane),
                    lambda: desk.escalate(mine.id, actor=jane),
                    lambda: desk.resolve(mine.id, "self-service", actor=jane),
                    lambda: desk.transition(mine.id, "open", actor=jane)):
        with pytest.raises(PermissionDenied):
            refused()
    with pytest.raises(CaseNotFound):
        desk.customer_view(other.id, actor=jane)
    with pytest.raises(CaseNotFound):
        desk.add_comment(other.id, "hello?", actor=jane, audience="public")
    desk.add_comment(mine.id, "Photo attached", actor=jane, audience="public")
    assert [r.body for r in desk.customer_view(mine.id, actor=jane).replies] == ["Photo attached"]
    with pytest.raises(PermissionDenied):
        desk.create_case(subject="for bob", actor=jane, links={"contact": "bob"})


def test_csat_belongs_to_the_contact_once_with_its_comment() -> None:
    desk = _desk(MemoryStore(), AccessPolicy.default())
    jane, colleague = Actor.customer("jane", account="acme"), Actor.customer("kim", account="acme")
    manager = Actor.agent("mo", "manager")
    case = desk.create_case(subject="Slow invoice export", actor=jane)
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, status, actor=manager)
    desk.resolve(case.id, "indexed the table", actor=manager)
    with pytest.raises(PermissionDenied):
        desk.rate(case.id, 1, actor=colleague)       # same account, not the contact
    with pytest.raises(PermissionDenied):
        desk.rate(case.id, 1, actor=manager)         # agents do not rate
    rated = desk.rate(case.id, 4, actor=jane, comment="fast, but tell me next time")
    assert rated.csat is not None and rated.csat.comment == "fast, but tell me next time"
    assert rated.timeline[-1].body == "fast, but tell me next time"
    with pytest.raises(CommandRefused, match="already rated"):
        desk.rate(case.id, 5, actor=jane)
    with pytest.raises(CommandRefused, match="already rated"):
        desk.close(case.id, "done", actor=manager, csat=1)  # an agent never overwrites it
    assert desk.get_case(case.id, actor=manager).csat == rated.csat


def test_a_desk_without_a_policy_leaves_agents_unrestricted(desk: ServiceDesk) -> None:
    ana = Actor.agent("ana")
    case = desk.create_case(subject="x", actor=ana, team="far-away")
    desk.change_priority(case.id, "high", actor=ana)
    assert desk.find_cases(actor=ana).items[0].id == case.id
    with pytest.raises(PermissionDenied):
        desk.sweep_breaches(actor=ana)  # admin actions still need the admin role
    with pytest.raises(PermissionDenied):
        desk.get_case(case.id, actor=Actor.customer("c"))


def test_allowed_transitions_with_an_actor_hides_what_it_may_not_do() -> None:
    desk = _desk(MemoryStore(), AccessPolicy.default())
    lead = Actor.agent("li", "support_lead", teams={"t1"})
    agent = Actor.agent("sam", "support", teams={"t1"})
    case = desk.get_case(_working_case(desk, agent), actor=lead)
    assert "resolved" in desk.allowed_transitions(case, actor=lead)
    assert "resolved" not in desk.allowed_transitions(case, actor=agent)
    assert "resolved" in desk.allowed_transitions(case)


# -- agreement on every store --------------------------------------------------------------

_names = st.sampled_from(["a", "b", "c"])
_opt = st.none() | _names
case_specs = st.lists(st.tuples(_opt, _opt, _opt, _opt), min_size=1, max_size=6)
extra_roles = st.lists(
    st.builds(Role, st.sampled_from(["r1", "r2"]),
              st.frozensets(st.sampled_from([Permission.READ, Permission.WRITE])),
              st.sampled_from([Scope.ALL, Scope.TEAM, Scope.ASSIGNED])),
    unique_by=lambda r: r.name, max_size=2)
actor_specs = st.lists(st.one_of(
    st.builds(lambda i, roles, teams: Actor.agent(i, *roles, teams=teams), _names,
              st.frozensets(st.sampled_from([*AGENT_ROLES, "r1", "r2"]), max_size=2),
              st.frozensets(_names, max_size=2)),
    st.builds(lambda i, acc: Actor.customer(i, account=acc), _names, _opt),
), min_size=1, max_size=4)
COMMAND_PROBES: list[Callable[[ServiceDesk, str, Actor], object]] = [
    lambda d, c, a: d.add_comment(c, "probe", actor=a, audience="public"),
    lambda d, c, a: d.change_priority(c, "urgent", actor=a),
    lambda d, c, a: d.escalate(c, actor=a),
    lambda d, c, a: d.transition(c, "open", actor=a),
    lambda d, c, a: d.assign(c, assignee="zed", actor=a),
]


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
          max_examples=25, deadline=None)
@given(case_specs, extra_roles, actor_specs,
       st.lists(st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 4)),
                max_size=6))
def test_lists_and_object_checks_agree_on_every_store(
        store_factory: Callable[[], Store], specs: list[tuple[str | None, ...]],
        roles: list[Role], actors: list[Actor], probes: list[tuple[int, int, int]]) -> None:
    policy = AccessPolicy.default().with_roles(*roles)
    desk = _desk(store_factory(), policy)
    ids = [desk.create_case(subject=f"case {n}", actor=SYSTEM, team=team, assignee=assignee,
                            links={"contact": contact, "account": account}).id
           for n, (team, assignee, contact, account) in enumerate(specs)]
    check_access_agreement(desk, actors)
    for case_n, actor_n, probe_n in probes:
        case_id, actor = ids[case_n % len(ids)], actors[actor_n % len(actors)]
        before = desk.get_case(case_id, actor=SYSTEM)
        try:
            COMMAND_PROBES[probe_n](desk, case_id, actor)
        except (PermissionDenied, CaseNotFound):
            assert desk.get_case(case_id, actor=SYSTEM).version == before.version
        except CommandRefused:
            pass  # the workflow refused it: also nothing written (the lifecycle tests)
        else:
            assert desk.get_case(case_id, actor=SYSTEM).version >= before.version
            reachable = policy.visible(actor, policy.read_permission(actor)).admits(
                team=before.team, assignee=before.assignee, contact=before.contact,
                account=before.account)
            assert reachable, f"{actor!r} changed a case outside its scope"
    check_access_agreement(desk, actors)  # and still after the commands moved cases around
