"""In-memory implementations of the host-side ports, for tests and demos."""

from __future__ import annotations

import threading

from caselib.ports import Notification, OutboxMessage

__all__ = ["RecordingNotifier", "RecordingSink"]


class RecordingSink:
    """An :class:`~caselib.ports.EventSink` that keeps what it receives.

    Set ``fail_on`` to an event type to make ``publish`` raise for it (to test redelivery).
    """

    def __init__(self, fail_on: str | None = None) -> None:
        self.messages: list[OutboxMessage] = []
        self.fail_on = fail_on
        self._lock = threading.Lock()

    def publish(self, message: OutboxMessage) -> None:
        """Record ``message`` (or raise ``RuntimeError`` if its type is ``fail_on``)."""
        if message.type == self.fail_on:
            raise RuntimeError(f"sink refused {message.type}")
        with self._lock:
            self.messages.append(message)

    @property
    def types(self) -> list[str]:
        """Event types in delivery order."""
        return [m.type for m in self.messages]


class RecordingNotifier:
    """A :class:`~caselib.ports.Notifier` that keeps what it receives."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self._lock = threading.Lock()

    def notify(self, notification: Notification) -> None:
        """Record ``notification``."""
        with self._lock:
            self.sent.append(notification)
