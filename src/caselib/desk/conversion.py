"""Conversion use cases: :func:`convert` (a case into an opportunity, a supplier return …
through the host's :class:`~caselib.ports.OpportunityGateway`), :func:`conversions`, and
:func:`complete` (what the outbox relay calls with the host's answer).

Why the request is saved before the host is called: if the host fails (or the process dies)
after the commit, the request is still there, in the outbox and on the timeline, and
:meth:`~caselib.ServiceDesk.deliver_pending` (or the next :func:`convert`) asks again with the
same idempotency key, so the host creates one record however often it is asked.
"""

from __future__ import annotations

from caselib.access import Permission
from caselib.cases import Actor, Case
from caselib.cases.conversion import (
    CaseSnapshot,
    Conversion,
    conversions_of,
    record_converted,
    request_conversion,
)
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import CaselibError, WrongType
from caselib.ports import OpportunityGateway

__all__ = ["complete", "conversions", "convert"]


def convert(ctx: DeskContext, case_id: str, target: str, *, actor: Actor,
            gateway: OpportunityGateway) -> Conversion:
    check.command(case_id, actor)
    if not callable(getattr(gateway, "create", None)):
        raise WrongType("gateway", "an OpportunityGateway (an object with create(snapshot))",
                        gateway)
    case = ctx.change(case_id, lambda c, now: request_conversion(c, target, actor=actor, at=now),
                      actor=actor, permission=Permission.WRITE)
    found = conversions_of(case)[target]
    if found.record_id is not None:
        return found  # converted before: the first record, never a second
    snapshot = _snapshot(case, found)
    try:
        record_id = gateway.create(snapshot)
    except CaselibError:
        raise
    except Exception:  # the host failed: the request waits in the outbox
        return found
    return complete(ctx, case_id, target, record_id, actor=actor)


def _snapshot(case: Case, found: Conversion) -> CaseSnapshot:
    """The snapshot the request was made with (its key, requester and time), so every
    attempt sends the host the same thing."""
    return CaseSnapshot.of(case, found.target, found.requested_by, found.requested_at)


def complete(ctx: DeskContext, case_id: str, target: str, record_id: str, *,
             actor: Actor) -> Conversion:
    """Record the host's ``record_id`` on the case (once; a later answer is ignored)."""
    case = ctx.change(
        case_id, lambda c, now: record_converted(c, target, record_id, actor=actor, at=now),
        actor=actor, permission=Permission.WRITE)
    return conversions_of(case)[target]


def conversions(ctx: DeskContext, case_id: str, *, actor: Actor) -> list[Conversion]:
    check.actor(actor)
    check.case_id(case_id)
    return list(conversions_of(ctx.read(case_id, actor, Permission.READ)).values())
