"""The mail ledger: every message caselib sent or received, by ``Message-ID``
(:class:`MailLedger`, rows :class:`MailRecord`), and the host's :class:`BlobStore`.

The ledger makes inbound mail exactly-once (a redelivered ``Message-ID`` is recognised),
finds the case a reply's ``In-Reply-To`` / ``References`` name, builds the ``References``
chain of an outbound reply and counts reopens by mail for the rate limit. Like
``uow.automations`` it is an optional capability of a unit of work (``uow.mail``), checked
by :func:`mail_ledger`; the bundled stores have it (SQL: migration 8, table ``mail_log``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal, Protocol

import attrs

from caselib.ports.store import UnitOfWork, optional_port

__all__ = ["BlobStore", "MailLedger", "MailRecord", "mail_ledger"]


@attrs.frozen
class MailRecord:
    """One message: ``direction`` ``in`` (received) or ``out`` (sent); ``outcome`` what the
    desk did (``reply``, ``held``, ``new``, ``reopen``, ``follow_up``, ``drop`` …, or
    ``sent``), ``case_id`` the case it belongs to (``None`` for a dropped mail)."""

    message_id: str
    direction: Literal["in", "out"]
    case_id: str | None
    address: str
    outcome: str
    reason: str
    at: datetime


class MailLedger(Protocol):
    """What the e-mail channel keeps in the store, written in the unit of work of the case
    change it belongs to."""

    def record(self, record: MailRecord) -> bool:
        """Record ``record`` unless its ``message_id`` is already recorded (committed or
        earlier in this unit of work); ``True`` when this call recorded it. A concurrent
        unit of work recording the same id makes this wait for it (SQL) or raise
        :class:`~caselib.errors.ConcurrencyConflict` (memory)."""
        ...

    def get(self, message_id: str) -> MailRecord | None:
        """The record of ``message_id``, if any."""
        ...

    def case_of(self, message_ids: tuple[str, ...]) -> str | None:
        """The case of the first of ``message_ids`` that is recorded with a case."""
        ...

    def thread(self, case_id: str) -> list[MailRecord]:
        """The case's messages (both directions), oldest first."""
        ...

    def count(self, outcome: str, since: datetime, *, case_id: str | None = None,
              address: str | None = None) -> int:
        """How many inbound records with ``outcome`` at or after ``since`` (of the case,
        of the address)."""
        ...


def mail_ledger(uow: UnitOfWork) -> MailLedger:
    """``uow.mail``, or :class:`~caselib.errors.InvalidConfiguration` saying the store has
    no mail ledger."""
    return optional_port(uow, "mail", "mail ledger", "MailLedger")  # type: ignore[no-any-return]


class BlobStore(Protocol):
    """Where the host keeps attachment bytes (caselib keeps only metadata)."""

    def put(self, data: bytes, *, name: str, content_type: str) -> str:
        """Store ``data`` and return the key to find it again (idempotent per content)."""
        ...
