"""What applying a rule leaves behind: the :class:`AutomationApplied` event (its rendered
deliveries travel through the outbox) and the reports of a run.

Why the deliveries are rendered when the rule fires, not when they are sent: the message
then says what was true when the rule fired, a resend after a crash is byte-for-byte the
same message, and the sender needs no access to the case.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar

import attrs

from caselib.cases.events import DomainEvent, _deliveries

__all__ = ["AUTOMATION_EVENT", "AutomationApplied", "AutomationReport", "DeliveryReport"]

AUTOMATION_EVENT = "automation.applied"


@attrs.frozen
class AutomationApplied(DomainEvent):
    """Rule ``rule_id`` was applied to the case for ``occurrence``; ``deliveries`` are the
    rendered webhooks, e-mails, notices and tasks to send after the commit."""

    type: ClassVar[str] = AUTOMATION_EVENT
    rule_id: str
    occurrence: str
    deliveries: tuple[Mapping[str, Any], ...] = attrs.field(
        default=(), converter=_deliveries, hash=False)


@attrs.define
class AutomationReport:
    """What one :meth:`~caselib.ServiceDesk.run_automations` did."""

    now: datetime
    events_read: int = 0
    due_cases: int = 0
    applied: dict[str, int] = attrs.Factory(dict)
    """Rule id → applications this run."""
    not_matched: int = 0
    already_applied: int = 0
    failed_actions: int = 0
    chain_stopped: int = 0
    """Rules not applied because the chain of automations that led to them was already
    ``TenantSettings.automation_chain_limit`` deep (recorded on the case's timeline)."""
    busy: bool = False
    """Another process held the event cursor; its run handles the events."""

    @property
    def total_applied(self) -> int:
        """Applications of all rules this run."""
        return sum(self.applied.values())


@attrs.define
class DeliveryReport:
    """What one :meth:`~caselib.ServiceDesk.deliver_pending` sent."""

    messages: int = 0
    webhooks: int = 0
    emails: int = 0
    notices: int = 0
    digests: int = 0
    """Notices that were digests (one per recipient past the threshold)."""
    tasks: int = 0
    events: int = 0
    conversions: int = 0
    """Conversions (opportunities, supplier returns) the host's gateways created.

    .. versionadded:: 0.3
    """
    dead_letters: list[str] = attrs.Factory(list)
    """Idempotency keys of the webhooks the poster gave up on."""
    skipped: list[str] = attrs.Factory(list)
    """Keys of deliveries with no channel configured (or no address), dropped."""
