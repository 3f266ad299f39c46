"""What an actor may do, as data: :class:`Permission` names a right, :class:`Scope` the cases
a role exercises its rights on.

Both parse from their values like the other vocabularies (``Permission.parse("service.read")``,
an :class:`~caselib.errors.UnknownValue` listing the allowed values otherwise).
Permissions are strings with a dotted prefix so hosts can keep them in their own role tables
next to their other rights (``service.read`` beside ``invoices.read``).
"""

from __future__ import annotations

from caselib.vocab import _ParseableEnum

__all__ = ["Permission", "Scope"]


class Permission(str, _ParseableEnum):
    """The rights the desk's commands and queries require.

    The ``service.*`` rights are the product brief's, for agents; the ``portal.*`` rights are
    what a customer does on its own cases: read their public view, reply, open one, rate one.
    """

    READ = "service.read"
    """Open and read a case whole (internal notes included), list and count cases."""
    WRITE = "service.write"
    """Comment, change priority, re-route, assign, edit fields, attach, move between
    working statuses, reopen."""
    ESCALATE = "service.escalate"
    """Escalate a case (bump its priority, re-derive its clocks)."""
    RESOLVE = "service.resolve"
    """Resolve or close a case (any transition into a resolved or closed status)."""
    ADMIN = "service.admin"
    """Run the breach sweep, edit knowledge-base articles, change settings."""
    PORTAL_READ = "portal.read"
    """Read the public view of a case (public replies only)."""
    PORTAL_REPLY = "portal.reply"
    """Add a public reply to a case, attach evidence to it, reopen it."""
    PORTAL_OPEN = "portal.open"
    """Open a case as its contact."""
    PORTAL_RATE = "portal.rate"
    """Rate a resolved case (CSAT), once, as its contact."""



class Scope(str, _ParseableEnum):
    """Which cases a role's permissions apply to."""

    ALL = "all"
    """Every case of the tenant."""
    TEAM = "team"
    """Cases in the queues of the actor's teams (``Actor.teams``), and cases assigned to it."""
    ASSIGNED = "assigned"
    """Only cases assigned to the actor."""
    OWN = "own"
    """Customers: cases whose contact is the actor, or whose account is the actor's account."""

