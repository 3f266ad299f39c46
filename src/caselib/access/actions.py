"""Which actions a screen may offer an actor on one case: :func:`case_actions`.

Every host with buttons asks the same question ("show the Resolve button?") and would
otherwise map actions to permissions itself, drifting from the desk's own checks. This
answers from the same :class:`~caselib.access.AccessPolicy` the desk enforces with, so a
button is shown exactly when the command behind it passes the access check (workflow
gates, such as a resolution note, are still the command's to refuse).
"""

from __future__ import annotations

import attrs

from caselib.access.permissions import Permission
from caselib.access.policy import AccessPolicy, Reachable
from caselib.cases import Actor

__all__ = ["CaseActions", "can_open_cases", "case_actions"]


@attrs.frozen
class CaseActions:
    """What ``actor`` may do on one case, per command family (access only)."""

    read: bool
    """Open the case whole (agents) or its public view (customers)."""
    comment: bool
    """Add an internal note (agents with ``service.write``)."""
    reply: bool
    """Add a public reply (``service.write``, or ``portal.reply`` for its customer)."""
    work: bool
    """Move between working statuses, assign, change priority (``service.write``)."""
    escalate: bool
    """Escalate (``service.escalate``)."""
    resolve: bool
    """Resolve or close (``service.resolve``)."""
    reopen: bool
    """Reopen a resolved or closed case (``service.write`` or ``portal.reply``)."""
    rate: bool
    """Rate a resolved case (``portal.rate``, its customer)."""

    @property
    def any_write(self) -> bool:
        """Whether any write at all is offered (a read-only screen otherwise)."""
        return any((self.comment, self.reply, self.work, self.escalate, self.resolve,
                    self.reopen, self.rate))


def case_actions(policy: AccessPolicy, actor: Actor, case: Reachable) -> CaseActions:
    """The actions ``policy`` lets ``actor`` take on ``case``, from :meth:`AccessPolicy.can`.

    >>> from caselib.access import AccessPolicy
    >>> from caselib.cases import Actor
    >>> import attrs
    >>> @attrs.frozen
    ... class C:
    ...     id: str = "c1"; team: str | None = "billing"; assignee: str | None = None
    ...     contact: str | None = "jane"; account: str | None = None
    >>> exe = case_actions(AccessPolicy.default(), Actor.agent("eve", "executive"), C())
    >>> exe.read, exe.any_write
    (True, False)
    """

    def can(permission: Permission) -> bool:
        return policy.can(actor, permission, case)

    if actor.is_customer:
        reply = can(Permission.PORTAL_REPLY)
        return CaseActions(read=can(Permission.PORTAL_READ), comment=False, reply=reply,
                           work=False, escalate=False, resolve=False, reopen=reply,
                           rate=can(Permission.PORTAL_RATE))
    write = can(Permission.WRITE)
    return CaseActions(read=can(Permission.READ), comment=write, reply=write, work=write,
                       escalate=can(Permission.ESCALATE), resolve=can(Permission.RESOLVE),
                       reopen=write, rate=False)


def can_open_cases(policy: AccessPolicy, actor: Actor) -> bool:
    """Whether ``actor`` may open cases (a "New case" form): ``portal.open`` for customers,
    ``service.write`` for everyone else, as :meth:`~caselib.ServiceDesk.create_case` checks."""
    wanted = Permission.PORTAL_OPEN if actor.is_customer else Permission.WRITE
    return policy.holds(actor, wanted)
