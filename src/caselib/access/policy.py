"""One tenant's access rules: :class:`AccessPolicy` answers "may this actor do that to this
case?" and "which cases does this actor's list show?" from the same roles and scopes.

Pure: the actor carries what the host knows of its user (roles, teams, contact and account),
the case carries its team, assignee, contact and account, and nothing is looked up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, Protocol

import attrs

from caselib.access.permissions import Permission, Scope
from caselib.access.roles import PRESET_ROLES, Role
from caselib.access.visibility import Visibility
from caselib.cases import Actor
from caselib.checks import bool_attribute, require_items
from caselib.errors import CaseNotFound, InvalidConfiguration, PermissionDenied, WrongType
from caselib.vocab import ActorKind

__all__ = ["AccessPolicy", "Reachable"]


class Reachable(Protocol):
    """What a policy reads of a case: a :class:`~caselib.Case` or a
    :class:`~caselib.ports.CaseSummary`."""

    @property
    def id(self) -> str: ...
    @property
    def team(self) -> str | None: ...
    @property
    def assignee(self) -> str | None: ...
    @property
    def contact(self) -> str | None: ...
    @property
    def account(self) -> str | None: ...


_AGENT_RIGHTS: Final = frozenset(p for p in Permission if p.value.startswith("service."))
_UNRESTRICTED_AGENT: Final = Role("agent", _AGENT_RIGHTS - {Permission.ADMIN}, Scope.ALL)
_UNRESTRICTED_ADMIN: Final = Role("admin", _AGENT_RIGHTS, Scope.ALL)
_SYSTEM: Final = Role("system", frozenset(Permission), Scope.ALL)
_CUSTOMER: Final = "customer"


def _role_table(value: Mapping[str, Role] | Iterable[Role]) -> Mapping[str, Role]:
    roles = (list(value.values()) if isinstance(value, Mapping)
             else require_items(value, "roles", "a list of Role values"))
    table: dict[str, Role] = {}
    for role in roles:
        if not isinstance(role, Role):
            raise InvalidConfiguration(f"an access policy holds Role values, not {role!r}")
        if role.name in table:
            raise InvalidConfiguration(f"two roles are named {role.name!r}")
        table[role.name] = role
    customer = table.get(_CUSTOMER)
    if customer is not None and (customer.scope is not Scope.OWN or any(
            p in _AGENT_RIGHTS for p in customer.permissions)):
        raise InvalidConfiguration(
            "the 'customer' role must have scope 'own' and only portal.* permissions: "
            "customers reach their own cases' public side and nothing else")
    return MappingProxyType(table)


@attrs.frozen
class AccessPolicy:
    """A tenant's roles; build it once and give it to :class:`~caselib.TenantSettings`.

    * ``AccessPolicy.default()`` — the product brief's roles (:data:`PRESET_ROLES`).
    * ``AccessPolicy.unrestricted()`` — what a desk without a policy uses: every agent may
      do everything but admin actions (those need the ``admin`` role), on every case. A
      customer is limited in both: its own cases, their public side only.

    An agent's rights are the union of its roles' (unknown role names grant nothing); a
    customer always gets the ``customer`` role and nothing else, whatever its ``roles`` say;
    a system actor may do everything.
    """

    roles: Mapping[str, Role] = attrs.field(converter=_role_table)
    agents_unrestricted: bool = attrs.field(default=False, validator=bool_attribute)
    _scopes: dict[tuple[ActorKind, frozenset[str], Permission], tuple[Scope, ...]] = (
        attrs.field(factory=dict, init=False, eq=False, repr=False))
    """What :meth:`scopes` worked out, by actor kind, role names and permission: a check
    is a dictionary look-up and a comparison or two (the policy is immutable)."""
    _granting: dict[Permission, tuple[str, ...]] = attrs.field(
        factory=dict, init=False, eq=False, repr=False)
    """What :meth:`granting` worked out, so a refusal does not walk the role table."""

    @classmethod
    def default(cls) -> AccessPolicy:
        """The brief's role table: support, support_lead, service, installer, manager,
        owner, admin, executive and customer."""
        return cls(PRESET_ROLES)

    @classmethod
    def unrestricted(cls) -> AccessPolicy:
        """Agents unrestricted (admin actions still need the ``admin`` role)."""
        return cls({_CUSTOMER: PRESET_ROLES[_CUSTOMER]}, agents_unrestricted=True)

    def with_roles(self, *roles: Role) -> AccessPolicy:
        """A copy with ``roles`` added, replacing presets of the same name."""
        table = dict(self.roles)
        for role in roles:
            if not isinstance(role, Role):
                raise InvalidConfiguration(f"with_roles takes Role values, not {role!r}")
            table[role.name] = role
        return AccessPolicy(table, self.agents_unrestricted)

    # -- what an actor holds -------------------------------------------------------------

    def roles_of(self, actor: Actor) -> tuple[Role, ...]:
        """The roles whose rights ``actor`` has, in a stable order."""
        if not isinstance(actor, Actor):
            raise WrongType("actor", "an Actor", actor,
                            "for example Actor.agent('ana', 'support') or Actor.customer('c-1')")
        if actor.kind is ActorKind.SYSTEM:
            return (_SYSTEM,)
        if actor.kind is ActorKind.CUSTOMER:
            customer = self.roles.get(_CUSTOMER, PRESET_ROLES[_CUSTOMER])
            return (customer,)
        if self.agents_unrestricted:
            return (_UNRESTRICTED_ADMIN,) if "admin" in actor.roles else (_UNRESTRICTED_AGENT,)
        return tuple(self.roles[name] for name in sorted(actor.roles) if name in self.roles)

    def granting(self, permission: Permission) -> tuple[str, ...]:
        """The names of the roles that grant ``permission`` (for error messages)."""
        found = self._granting.get(permission)
        if found is None:
            names = {r.name for r in self.roles.values() if permission in r.permissions}
            if self.agents_unrestricted and permission in _AGENT_RIGHTS:
                names.add("any agent" if permission is not Permission.ADMIN else "admin")
            found = self._granting[permission] = tuple(sorted(names))
        return found

    def holds(self, actor: Actor, permission: Permission) -> bool:
        """Whether ``actor`` has ``permission`` on at least some cases."""
        return bool(self.scopes(actor, permission))

    # -- the two questions ---------------------------------------------------------------

    def require(self, actor: Actor, permission: Permission) -> None:
        """Raise :class:`PermissionDenied` unless ``actor`` has ``permission`` somewhere.

        Commands ask this before loading anything, so an actor without the right gets the
        same refusal whether the case exists or not.
        """
        if not self.holds(actor, permission):
            raise self._denied(actor, permission)

    def scopes(self, actor: Actor, permission: Permission) -> tuple[Scope, ...]:
        """The scopes in which ``actor`` holds ``permission`` (empty: nowhere)."""
        if not isinstance(actor, Actor):
            self.roles_of(actor)  # raises WrongType
        key = (actor.kind, actor.roles, permission)
        found = self._scopes.get(key)
        if found is None:
            found = tuple(sorted({r.scope for r in self.roles_of(actor)
                                  if permission in r.permissions}))
            self._scopes[key] = found
        return found

    def can(self, actor: Actor, permission: Permission, case: Reachable) -> bool:
        """Whether ``actor`` may exercise ``permission`` on ``case``: a role of the actor
        grants it on the case, and the actor may read the case (nobody acts on a case it
        cannot see, whatever a custom role grants)."""
        read = Permission.PORTAL_READ if actor.kind is ActorKind.CUSTOMER else Permission.READ
        return self._reaches(actor, permission, case) and (
            permission is read or self._reaches(actor, read, case))

    def check(self, actor: Actor, permission: Permission, case: Reachable) -> None:
        """Allow, or refuse: :class:`PermissionDenied` naming the missing permission and the
        roles that grant it — or :class:`~caselib.errors.CaseNotFound` when the case is not
        even visible to the actor, exactly as if it did not exist (no existence oracle)."""
        if self.can(actor, permission, case):
            return
        self.require(actor, permission)
        read = self.read_permission(actor)
        if read is not permission and self._reaches(actor, read, case):
            raise self._denied(actor, permission, scoped=True)
        raise CaseNotFound(case.id)

    def _reaches(self, actor: Actor, permission: Permission, case: Reachable) -> bool:
        return any(_reaches(scope, actor, case) for scope in self.scopes(actor, permission))

    def visible(self, actor: Actor, permission: Permission | None = None) -> Visibility:
        """The cases on which ``actor`` holds ``permission`` (default: its read right), as
        the filter stores compile into their queries. A command on a case also needs the
        read right on it (see :meth:`can`): lists use the read right's filter."""
        wanted = permission or self.read_permission(actor)
        seen = Visibility.none()
        for role in self.roles_of(actor):
            if wanted in role.permissions:
                seen = seen.union(_scope_filter(role.scope, actor))
        return seen

    @staticmethod
    def read_permission(actor: Actor) -> Permission:
        """``portal.read`` for customers, ``service.read`` for everyone else."""
        return Permission.PORTAL_READ if actor.kind is ActorKind.CUSTOMER else Permission.READ

    def _denied(self, actor: Actor, permission: Permission, *, scoped: bool = False
                ) -> PermissionDenied:
        where = " on this case (its scope does not reach it)" if scoped else ""
        return PermissionDenied(f"{actor.id!r} may not do this{where}",
                                permission=permission.value, roles=self.granting(permission))


def _reaches(scope: Scope, actor: Actor, case: Reachable) -> bool:
    """Whether a role of this scope held by ``actor`` reaches ``case``: the reference that
    :func:`_scope_filter` spells as a :class:`Visibility`."""
    if scope is Scope.ALL:
        return True
    if scope is Scope.TEAM:
        return case.assignee == actor.id or (case.team is not None and case.team in actor.teams)
    if scope is Scope.ASSIGNED:
        return case.assignee == actor.id
    return case.contact == actor.id or (actor.account is not None
                                        and case.account == actor.account)


def _scope_filter(scope: Scope, actor: Actor) -> Visibility:
    if scope is Scope.ALL:
        return Visibility.all()
    if scope is Scope.TEAM:
        return Visibility(teams=actor.teams, assignees={actor.id})
    if scope is Scope.ASSIGNED:
        return Visibility(assignees={actor.id})
    accounts = {actor.account} if actor.account is not None else set()
    return Visibility(contacts={actor.id}, accounts=accounts)
