"""The store and its unit of work: :class:`Store`, :class:`UnitOfWork`, the
:class:`Outbox` that commits events with their case, :class:`OutboxMessage`, and the
checks every store applies (:func:`require_tenant`, :func:`units_cross_threads`).

The top of the ports: a unit of work groups the repositories of the other modules, so
this module imports them and none of them imports it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol, Self

import attrs

from caselib.checks import require_str
from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.ports.assignment import AssignmentLedger
from caselib.ports.cases import CaseNumberAllocator, CaseRepository
from caselib.ports.kb import ArticleRepository, KbLog
from caselib.timeutil import from_iso, to_iso

__all__ = [
    "Outbox",
    "OutboxMessage",
    "Store",
    "UnitOfWork",
    "optional_port",
    "require_tenant",
    "units_cross_threads",
]


@attrs.frozen
class OutboxMessage:
    """A domain event waiting in (or relayed from) the outbox.

    ``key`` (``"{case_id}:{version}:{n}"``) is the idempotency key: the same on every
    delivery attempt, so a host drops duplicates with a unique index.
    """

    key: str
    tenant: str
    case_id: str
    type: str
    payload: Mapping[str, Any] = attrs.field(hash=False)
    created_at: datetime

    def to_json(self) -> str:
        """The message as JSON text (what a webhook would carry)."""
        return json.dumps({"key": self.key, "tenant": self.tenant, "case_id": self.case_id,
                           "type": self.type, "created_at": to_iso(self.created_at),
                           "payload": dict(self.payload)}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> OutboxMessage:
        """Inverse of :meth:`to_json`."""
        d = json.loads(text)
        return cls(d["key"], d["tenant"], d["case_id"], d["type"], d["payload"],
                   from_iso(d["created_at"]))


class Outbox(Protocol):
    """Events saved with their case, waiting to be relayed to the host."""

    def pending(self, limit: int = 100) -> list[OutboxMessage]:
        """Undelivered messages in the order they were written, oldest first.

        Stores shared by several processes lock what they return for this unit of work and
        skip rows another worker has locked, so two relays do not hand out the same message
        at the same time.
        """
        ...

    def mark_delivered(self, keys: Sequence[str]) -> None:
        """Record that these messages reached the sink; they are never returned again."""
        ...


class UnitOfWork(Protocol):
    """One transaction over one tenant's data.

    Use as a context manager: leaving the block without :meth:`commit` rolls back, and an
    exception always rolls back.
    """

    # Read-only properties (not plain attributes) so adapters may expose their own subtypes.
    @property
    def tenant(self) -> str:
        """The tenant every repository of this unit of work is scoped to."""
        ...

    @property
    def cases(self) -> CaseRepository: ...

    @property
    def numbers(self) -> CaseNumberAllocator: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def articles(self) -> ArticleRepository: ...

    @property
    def kb_log(self) -> KbLog: ...

    @property
    def assignments(self) -> AssignmentLedger: ...

    def commit(self) -> None:
        """Make every write of this unit of work visible at once, or raise and write nothing."""
        ...

    def rollback(self) -> None:
        """Discard every write of this unit of work."""
        ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


def units_cross_threads(store: Store) -> bool:
    """Whether ``store`` declares ``units_cross_threads = True`` (see :class:`Store`).

    Only the literal ``True`` counts, so a mock or proxy object that answers every attribute
    does not switch on a threaded path by accident.
    """
    return getattr(store, "units_cross_threads", False) is True


def require_tenant(tenant: object) -> str:
    """The tenant check every store and desk applies: a non-empty string every store can hold
    (:class:`~caselib.errors.WrongType` for another type, else InvalidInput)."""
    text = require_str(tenant, "tenant", "a non-empty string")
    if not text:
        raise InvalidInput("tenant must be a non-empty string", field="tenant")
    return text


class Store(Protocol):
    """A storage backend: memory, SQLite, PostgreSQL or the host's own.

    Optional capability: a store may set a class attribute ``units_cross_threads = True`` to
    promise that a unit of work opened on one thread may be finished (saved into, committed,
    rolled back) on another while other units of work of the same store run meanwhile. Long
    jobs such as :meth:`~caselib.ServiceDesk.sweep_breaches` then commit one batch on a
    background thread while they read and decide the next. Leave it unset when units of
    work are bound to their thread (a Django connection is per thread, for instance): those
    jobs then run every step on the calling thread. :func:`units_cross_threads` reads it.
    """

    def unit_of_work(self, tenant: str) -> UnitOfWork:
        """A new unit of work for ``tenant`` (a non-empty string)."""
        ...

    def close(self) -> None:
        """Release connections and files. Idempotent."""
        ...


def optional_port(uow: UnitOfWork, attribute: str, what: str, port: str) -> Any:
    """``uow.<attribute>``, a port not every store has (links, the mail and automation
    ledgers), or :class:`~caselib.errors.InvalidConfiguration` naming it (``what``, e.g. "an
    automation ledger") and the protocol to implement (``port``)."""
    found = getattr(uow, attribute, None)
    if found is None:
        raise InvalidConfiguration(
            f"{type(uow).__name__} has no {what} (uow.{attribute}); use a bundled store or "
            f"implement caselib.ports.{port}")
    return found
