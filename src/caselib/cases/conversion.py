"""Converting a case into a host record (an opportunity, a supplier return):
:class:`CaseSnapshot`, the events :class:`ConversionRequested` and :class:`Converted`, and
the timeline fold :func:`conversions_of`.

A conversion is two steps, because the host may fail between them. The *request* is
written with the case (a system entry ``conversion_requested`` and an event in the outbox,
one transaction); the host call happens after the commit, with an idempotency key fixed by
the request (``"{case_id}:{target}"``), so a retry after a host failure, or a second convert,
asks for the same record again and a host that dedupes on the key creates it once. When the
host answers, a system entry ``converted`` records the host id on the case. Converting a case
already converted (or requested) to the same target adds nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, Final

import attrs

from caselib.cases.case import Case
from caselib.cases.events import DomainEvent
from caselib.cases.values import Actor
from caselib.errors import InvalidInput, WrongType
from caselib.timeutil import to_iso
from caselib.vocab import Audience

__all__ = [
    "CaseSnapshot",
    "Conversion",
    "ConversionRequested",
    "Converted",
    "check_target",
    "conversion_key",
    "conversions_of",
    "record_converted",
    "request_conversion",
]

_TARGET: Final = re.compile(r"[a-z][a-z0-9_]{0,31}")
_REQUESTED: Final = "conversion_requested"
_DONE: Final = "converted"


def check_target(target: object) -> str:
    """``target`` if it names a conversion target (``opportunity``, ``supplier_return`` …:
    lowercase letters, digits and ``_``, up to 32); else a typed refusal."""
    if not isinstance(target, str):
        raise WrongType("target", "a conversion target such as 'opportunity'", target)
    if not _TARGET.fullmatch(target):
        raise InvalidInput(f"conversion target {target!r}: use a lowercase name such as "
                           "'opportunity' or 'supplier_return'", field="target")
    return target


def conversion_key(case_id: str, target: str) -> str:
    """The idempotency key of converting ``case_id`` to ``target`` (the same every time)."""
    return f"{case_id}:{target}"


@attrs.frozen
class CaseSnapshot:
    """What the host's gateway gets: the case's key facts and its public description, never
    an internal note. ``key`` is the idempotency key the host dedupes on."""

    key: str
    target: str
    case_id: str
    number: str
    subject: str
    description: str
    priority: str
    category: str | None
    contact: str | None
    account: str | None
    requested_by: str
    requested_at: datetime

    @classmethod
    def of(cls, case: Case, target: str, by: str, at: datetime) -> CaseSnapshot:
        return cls(conversion_key(case.id, target), target, case.id, case.number,
                   case.subject, case.description, case.priority.value, case.category,
                   case.links.contact, case.links.account, by, at)

    def to_dict(self) -> dict[str, Any]:
        d = attrs.asdict(self)
        d["requested_at"] = to_iso(self.requested_at)
        return d


@attrs.frozen
class ConversionRequested(DomainEvent):
    """Somebody asked to convert the case; the relay calls the host's gateway with
    ``snapshot`` (retried, with the same key, until the host answers)."""

    type: ClassVar[str] = "case.conversion_requested"
    target: str
    snapshot: Mapping[str, Any] = attrs.field(hash=False)


@attrs.frozen
class Converted(DomainEvent):
    """The host created its record (``record_id``) for the conversion."""

    type: ClassVar[str] = "case.converted"
    target: str
    record_id: str


@attrs.frozen
class Conversion:
    """A case's conversion to ``target`` as its timeline says: requested by whom and when,
    and the host's ``record_id`` once created (``None`` while pending)."""

    target: str
    key: str
    requested_by: str
    requested_at: datetime
    record_id: str | None = None


def conversions_of(case: Case) -> dict[str, Conversion]:
    """Target → :class:`Conversion`, folded from the case's system entries."""
    found: dict[str, Conversion] = {}
    for e in case.timeline:
        if e.audience is not Audience.SYSTEM:
            continue
        if e.kind == _REQUESTED and e.data["target"] not in found:
            found[e.data["target"]] = Conversion(e.data["target"], e.data["key"], e.actor, e.at)
        elif e.kind == _DONE and e.data["target"] in found:
            found[e.data["target"]] = attrs.evolve(found[e.data["target"]],
                                                   record_id=e.data["record_id"])
    return found


def request_conversion(case: Case, target: str, *, actor: Actor, at: datetime) -> bool:
    """Record the request (entry + event); ``False`` and nothing written when the case was
    already converted, or asked to be, to ``target``."""
    target = check_target(target)
    if target in conversions_of(case):
        return False
    snapshot = CaseSnapshot.of(case, target, actor.id, at)
    case.record_activity(actor, at, _REQUESTED, "", target=target, key=snapshot.key)
    case.emit(ConversionRequested(case.id, case.tenant, at, actor.id, target,
                                  snapshot.to_dict()))
    return True


def record_converted(case: Case, target: str, record_id: str, *, actor: Actor,
                     at: datetime) -> bool:
    """Record the host's answer; ``False`` when it is already recorded (a retry's answer)."""
    if not isinstance(record_id, str) or not record_id:
        raise WrongType("record_id", "the host record's id (a non-empty string)", record_id)
    known = conversions_of(case).get(target)
    if known is None or known.record_id is not None:
        return False
    case.record_activity(actor, at, _DONE, "", target=target, record_id=record_id)
    case.emit(Converted(case.id, case.tenant, at, actor.id, target, record_id))
    return True
