"""The delivery ports automations use: :class:`Mailer` (with :class:`OutgoingMail`),
:class:`WebhookPoster` and :class:`TaskGateway` (with :class:`HostTask`).

Implemented by adapters (:mod:`caselib.adapters`: SMTP, HTTP) or by the host; each method
delivers one item or raises, and every item carries an idempotency ``key`` that is the same
on every attempt, so a receiver that dedupes on it sees each item once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import attrs

if TYPE_CHECKING:
    from caselib.cases.conversion import CaseSnapshot

__all__ = [
    "HostTask",
    "Mailer",
    "OpportunityGateway",
    "OutgoingMail",
    "TaskGateway",
    "WebhookPoster",
]


@attrs.frozen
class OutgoingMail:
    """One e-mail: ``message_id`` is derived from ``key``, so a resend is recognisably the
    same message; ``headers`` are extra headers (``Auto-Submitted`` …)."""

    to: str
    subject: str
    body: str
    key: str
    message_id: str
    case_id: str
    headers: Mapping[str, str] = attrs.field(factory=dict, hash=False)


class Mailer(Protocol):
    """Sends e-mail."""

    def send(self, mail: OutgoingMail) -> None:
        """Hand ``mail`` to the mail system or raise."""
        ...


class WebhookPoster(Protocol):
    """Posts signed JSON to a URL."""

    def post(self, url: str, secret: str, body: Mapping[str, Any], key: str) -> bool:
        """Deliver ``body`` (retrying as the adapter sees fit); ``True`` when the receiver
        took it, ``False`` when it was dead-lettered (given up for good). Raise to leave it
        pending for a later attempt."""
        ...


@attrs.frozen
class HostTask:
    """A follow-up task for the host's own task list."""

    key: str
    case_id: str
    case_number: str
    title: str
    due_at: datetime


class TaskGateway(Protocol):
    """Creates tasks in the host application (CRM activities, to-dos)."""

    def create_task(self, task: HostTask) -> None:
        """Create ``task`` (dedupe on ``task.key``) or raise."""
        ...


class OpportunityGateway(Protocol):
    """Creates a record in the host from a case: an opportunity in the CRM when support finds
    an upsell, a supplier return in the ERP when a defect ties back to a supplier (the same
    port shape serves both; :attr:`DeliveryChannels.conversions
    <caselib.desk.DeliveryChannels.conversions>` maps each target to its gateway).

    .. versionadded:: 0.3
    """

    def create(self, snapshot: CaseSnapshot) -> str:
        """Create the record for ``snapshot`` and return its id, or raise (the conversion
        stays pending and is retried). Dedupe on ``snapshot.key``: a retry after a failure
        whose record was in fact created must return the first record's id."""
        ...
