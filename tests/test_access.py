"""The access policy: roles and scopes as data, object checks and list filters that agree."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselib import Actor, CaseNotFound, PermissionDenied
from caselib.access import PRESET_ROLES, AccessPolicy, Permission, Role, Scope, Visibility
from caselib.errors import InvalidConfiguration, UnknownValue
from caselib.ports import CaseQuery

POLICY = AccessPolicy.default()

# the product brief's "Who can do what" table, role by role
BRIEF = {
    Permission.READ: {"support", "support_lead", "service", "manager", "installer", "owner",
                      "admin", "executive"},
    Permission.WRITE: {"support", "support_lead", "service", "manager", "owner", "admin"},
    Permission.ESCALATE: {"support", "support_lead", "manager", "owner", "admin"},
    Permission.RESOLVE: {"support_lead", "manager", "owner", "admin"},
    Permission.ADMIN: {"admin"},
}


class _Case:
    """The four columns a policy reads, and an id."""

    def __init__(self, team: str | None = None, assignee: str | None = None,
                 contact: str | None = None, account: str | None = None) -> None:
        self.id = "c1"
        self.team, self.assignee, self.contact, self.account = team, assignee, contact, account


class TestPresets:
    @pytest.mark.parametrize("permission", list(BRIEF))
    def test_roles_grant_exactly_the_briefs_permissions(self, permission: Permission) -> None:
        granted = {name for name, role in PRESET_ROLES.items() if role.grants(permission)}
        assert granted == BRIEF[permission]

    def test_customers_hold_only_portal_rights_on_their_own_cases(self) -> None:
        role = PRESET_ROLES["customer"]
        assert role.scope is Scope.OWN
        assert all(p.value.startswith("portal.") for p in role.permissions)

    def test_a_customer_with_agent_role_names_gets_only_the_customer_role(self) -> None:
        sneaky = Actor("c-1", "customer", frozenset({"admin"}))
        assert [r.name for r in POLICY.roles_of(sneaky)] == ["customer"]
        assert not POLICY.holds(sneaky, Permission.READ)

    def test_unknown_roles_grant_nothing(self) -> None:
        assert POLICY.roles_of(Actor.agent("x", "wizard")) == ()


class TestCheck:
    def test_missing_permission_names_it_and_the_roles_that_grant_it(self) -> None:
        with pytest.raises(PermissionDenied) as err:
            POLICY.check(Actor.agent("sam", "service", teams={"t"}), Permission.RESOLVE,
                         _Case(team="t"))
        assert err.value.permission == "service.resolve"
        assert err.value.roles == ("admin", "manager", "owner", "support_lead")
        assert "service.resolve" in str(err.value) and "support_lead" in str(err.value)

    def test_a_case_outside_the_read_scope_reads_as_not_found(self) -> None:
        with pytest.raises(CaseNotFound):
            POLICY.check(Actor.agent("sam", "support", teams={"t"}), Permission.READ,
                         _Case(team="other"))

    def test_visible_but_not_writable_is_a_scoped_refusal(self) -> None:
        policy = POLICY.with_roles(Role("auditor", {Permission.READ}, Scope.ALL))
        actor = Actor.agent("sam", "auditor", "support", teams={"t"})
        with pytest.raises(PermissionDenied, match="scope"):
            policy.check(actor, Permission.WRITE, _Case(team="other"))
        policy.check(actor, Permission.WRITE, _Case(team="t"))

    def test_team_scope_includes_cases_assigned_to_the_actor(self) -> None:
        actor = Actor.agent("sam", "support", teams={"t"})
        POLICY.check(actor, Permission.WRITE, _Case(team="elsewhere", assignee="sam"))

    def test_customer_reaches_own_contact_or_account(self) -> None:
        jane = Actor.customer("jane", account="acme")
        POLICY.check(jane, Permission.PORTAL_READ, _Case(contact="jane"))
        POLICY.check(jane, Permission.PORTAL_READ, _Case(contact="bob", account="acme"))
        with pytest.raises(CaseNotFound):
            POLICY.check(jane, Permission.PORTAL_READ, _Case(contact="bob", account="other"))

    def test_system_may_do_everything(self) -> None:
        for permission in Permission:
            POLICY.check(Actor.system(), permission, _Case())

    def test_unrestricted_agents_need_the_admin_role_for_admin_actions(self) -> None:
        free = AccessPolicy.unrestricted()
        free.check(Actor.agent("ana"), Permission.RESOLVE, _Case())
        with pytest.raises(PermissionDenied):
            free.require(Actor.agent("ana"), Permission.ADMIN)
        free.require(Actor.agent("ana", "admin"), Permission.ADMIN)
        assert not free.holds(Actor.customer("c"), Permission.READ)


class TestConfiguration:
    def test_duplicate_role_names_are_refused(self) -> None:
        with pytest.raises(InvalidConfiguration):
            AccessPolicy([Role("a", {"service.read"}), Role("a", {"service.write"})])

    def test_a_customer_role_with_agent_rights_is_refused(self) -> None:
        with pytest.raises(InvalidConfiguration):
            AccessPolicy([Role("customer", {"service.read"}, "own")])

    def test_unknown_permission_and_scope_are_refused(self) -> None:
        with pytest.raises(UnknownValue):
            Role("x", {"service.fly"})
        with pytest.raises(UnknownValue):
            Role("x", {"service.read"}, "galaxy")
        with pytest.raises(InvalidConfiguration):
            Role("x", "service.read")  # a string is not a collection of permissions

    def test_with_roles_replaces_a_preset(self) -> None:
        policy = POLICY.with_roles(Role("support", {Permission.READ}, Scope.ALL))
        assert not policy.holds(Actor.agent("a", "support"), Permission.WRITE)
        assert POLICY.holds(Actor.agent("a", "support"), Permission.WRITE)  # original intact


# -- the object check and the list filter are one rule -------------------------------------

_ids = st.sampled_from(["a", "b", "c"])
_opt = st.none() | _ids
custom_roles = st.builds(
    Role, st.sampled_from(["r1", "r2", "r3"]),
    st.frozensets(st.sampled_from([p for p in Permission if p.value.startswith("service.")])),
    st.sampled_from([Scope.ALL, Scope.TEAM, Scope.ASSIGNED]))
actors = st.one_of(
    st.builds(lambda i, roles, teams: Actor.agent(i, *roles, teams=teams), _ids,
              st.frozensets(st.sampled_from([*PRESET_ROLES, "r1", "r2", "r3", "nope"])),
              st.frozensets(_ids)),
    st.builds(lambda i, acc: Actor.customer(i, account=acc), _ids, _opt),
    st.just(Actor.system()),
)
cases = st.builds(_Case, _opt, _opt, _opt, _opt)


@given(st.lists(custom_roles, unique_by=lambda r: r.name), actors, cases,
       st.sampled_from(list(Permission)))
def test_check_and_visible_are_one_rule(extra: list[Role], actor: Actor, case: _Case,
                                        permission: Permission) -> None:
    policy = POLICY.with_roles(*extra)
    seen = policy.visible(actor, permission)
    admitted = seen.admits(team=case.team, assignee=case.assignee, contact=case.contact,
                           account=case.account)
    assert policy.can(actor, permission, case) == admitted
    if admitted:
        policy.check(actor, permission, case)
    else:
        with pytest.raises((PermissionDenied, CaseNotFound)):
            policy.check(actor, permission, case)


def test_visibility_nothing_and_everything() -> None:
    assert Visibility.none().is_nothing and not Visibility.none().admits(
        team="t", assignee="a", contact="c", account="x")
    assert Visibility.all().admits(team=None, assignee=None, contact=None, account=None)


def test_a_query_may_not_carry_its_own_visibility_through_the_desk(desk, agent) -> None:  # type: ignore[no-untyped-def]
    from caselib import InvalidInput

    with pytest.raises(InvalidInput, match="visible"):
        desk.find_cases(CaseQuery(visible=Visibility.all()), actor=agent)
