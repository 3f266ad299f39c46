"""Who may do what to which case: permissions as data, roles with scopes, one policy.

:class:`AccessPolicy` answers both "may this actor do that to this case?"
(:meth:`~AccessPolicy.check`) and "which cases does this actor's list show?"
(:meth:`~AccessPolicy.visible`, a :class:`Visibility` the stores compile into their queries),
from the same roles. See ``docs/access.md``.
"""

from caselib.access.actions import CaseActions, can_open_cases, case_actions
from caselib.access.permissions import Permission, Scope
from caselib.access.policy import AccessPolicy, Reachable
from caselib.access.roles import PRESET_ROLES, Role
from caselib.access.visibility import Visibility

__all__ = [
    "PRESET_ROLES",
    "AccessPolicy",
    "CaseActions",
    "Permission",
    "Reachable",
    "Role",
    "Scope",
    "Visibility",
    "can_open_cases",
    "case_actions",
]
