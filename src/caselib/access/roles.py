"""Roles as named permission sets with a scope, and the product brief's presets.

A role grants its permissions on the cases its scope reaches; an actor holding several roles
has the union. Hosts map their own user groups onto these names or define their own roles
(:meth:`caselib.access.AccessPolicy.with_roles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import attrs

from caselib.access.permissions import Permission, Scope
from caselib.checks import require_items
from caselib.errors import InvalidConfiguration

__all__ = ["PRESET_ROLES", "Role"]


def _permissions(value: object) -> frozenset[Permission]:
    if isinstance(value, str):
        raise InvalidConfiguration(
            f"a role's permissions are a collection of names, not the string {value!r}")
    return frozenset(Permission.parse(p) for p in require_items(
        value, "permissions", "a list of permission names (e.g. ['case.read'])"))


def _scope(value: object) -> Scope:
    return Scope.parse(value)


def _role_name(value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidConfiguration(f"a role name must be a non-empty string, not {value!r}")
    return value


@attrs.frozen
class Role:
    """A named set of permissions, exercised on the cases ``scope`` reaches."""

    name: str = attrs.field(converter=_role_name)
    permissions: frozenset[Permission] = attrs.field(converter=_permissions)
    scope: Scope = attrs.field(default=Scope.ALL, converter=_scope)

    def grants(self, permission: Permission) -> bool:
        return permission in self.permissions


_R, _W, _E, _S = Permission.READ, Permission.WRITE, Permission.ESCALATE, Permission.RESOLVE
_PORTAL = (Permission.PORTAL_READ, Permission.PORTAL_REPLY, Permission.PORTAL_OPEN,
           Permission.PORTAL_RATE)

PRESET_ROLES: Final[Mapping[str, Role]] = MappingProxyType({
    r.name: r for r in (
        # the product brief's "Who can do what" table
        Role("support", {_R, _W, _E}, Scope.TEAM),
        Role("support_lead", {_R, _W, _E, _S}, Scope.TEAM),
        Role("service", {_R, _W}, Scope.TEAM),
        Role("installer", {_R}, Scope.ASSIGNED),
        Role("manager", {_R, _W, _E, _S}, Scope.ALL),
        Role("owner", {_R, _W, _E, _S}, Scope.ALL),
        Role("admin", {_R, _W, _E, _S, Permission.ADMIN}, Scope.ALL),
        Role("executive", {_R}, Scope.ALL),
        # what every customer may do on its own cases
        Role("customer", _PORTAL, Scope.OWN),
    )
})
"""The brief's roles. Team-scoped roles see their teams' queues plus what is assigned to
them; installers see their own jobs; managers, owners, admins and executives see everything;
customers reach their own cases' public side."""
