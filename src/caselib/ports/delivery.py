"""The host-side delivery ports: :class:`EventSink` (where relayed domain events go) and
:class:`Notifier` with its :class:`Notification` (messages for people).

Implemented by the host (:mod:`caselib.testing` ships recording fakes), never by a store:
the desk hands them what a unit of work has committed.
"""

from __future__ import annotations

from typing import Protocol

import attrs

from caselib.ports.store import OutboxMessage

__all__ = [
    "EventSink",
    "Notification",
    "Notifier",
]


class EventSink(Protocol):
    """Where relayed domain events go: a message bus, webhooks, a search indexer …"""

    def publish(self, message: OutboxMessage) -> None:
        """Deliver one message or raise. Delivery is at least once: dedupe on ``message.key``."""
        ...


@attrs.frozen
class Notification:
    """A message for a person (case owner, their manager, a queue contact)."""

    recipient: str
    subject: str
    body: str
    case_id: str
    kind: str
    key: str
    """Idempotency key: the same notification carries the same key on every attempt."""


class Notifier(Protocol):
    """Sends notifications to people (email, chat, in-app)."""

    def notify(self, notification: Notification) -> None:
        """Deliver one notification or raise."""
        ...
