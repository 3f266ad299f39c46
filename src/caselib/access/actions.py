"""Which actions a screen may offer an actor on one case: :func:`case_actions`.

Every host with buttons asks the same question ("show the Resolve button?") and would
otherwise map actions to permissions itself, drifting from the desk's own checks. This
answers from the same :class:`~caselib.access.AccessPolicy` the desk enforces with, so a
button is shown exactly when the command behind it passes the access check (workflow
gates, such as a resolution note, are still the command's to refuse).

The workflow's half — which forms the case's status offers at all — is
:meth:`ServiceDesk.case_actions <caselib.ServiceDesk.case_actions>`'s: it fills
:attr:`CaseActions.moves`, ``resolve_to``, ``close_to`` and ``reopen_to`` from the workflow's
status categories, so a screen never picks its forms by status names (a tenant's "done" or
"archived" is as resolved or closed as the presets' "resolved" and "closed").
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
    moves: tuple[str, ...] = ()
    """The plain move buttons: statuses the actor may move the case to next, except the ones
    the resolve, close and reopen forms reach (``resolve_to``, ``close_to``, ``reopen_to``).
    Empty unless from :meth:`ServiceDesk.case_actions <caselib.ServiceDesk.case_actions>`."""
    note_moves: frozenset[str] = frozenset()
    """Those of ``moves`` whose transition is gated on a note: their form must carry one."""
    resolve_to: str | None = None
    """The status :meth:`~caselib.ServiceDesk.resolve` would move the case to, when the actor
    may resolve and the workflow has a resolved-category status next; ``None``: no resolve
    form."""
    resolve_gates: frozenset[str] = frozenset()
    """What the resolve move needs: ``"note"`` (the summary, always) and ``"assignee"`` when
    the workflow gates it (assign the case first)."""
    close_to: str | None = None
    """The status :meth:`~caselib.ServiceDesk.close` would move the case to, as
    ``resolve_to`` (closed category); ``None``: no close form."""
    close_gates: frozenset[str] = frozenset()
    """What the close move needs, as ``resolve_gates``."""
    reopen_to: str | None = None
    """The status :meth:`~caselib.ServiceDesk.reopen` would send a resolved or closed case
    back to; ``None``: no reopen form (an active case, no way back, or — for a customer —
    the tenant's reopen window has passed)."""

    @property
    def can_resolve(self) -> bool:
        """Whether to offer the resolve form (the access check and the workflow agree)."""
        return self.resolve_to is not None

    @property
    def can_close(self) -> bool:
        """Whether to offer the close form (with its CSAT)."""
        return self.close_to is not None

    @property
    def can_reopen(self) -> bool:
        """Whether to offer the reopen form."""
        return self.reopen_to is not None

    @property
    def resolve_needs_note(self) -> bool:
        """Whether the resolve form's summary is required (always, by caselib's gates)."""
        return "note" in self.resolve_gates

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
