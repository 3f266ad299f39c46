"""The brief's four automations, and the SLA breach and amber notices, as presets a tenant
turns on (:data:`PRESETS`).

Each preset is a function of the few settings it needs (a webhook URL, a day count), so a
tenant enables one with ``desk.enable_automation_preset("critical_webhook", url=…)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Final

from caselib.automation.rules import (
    AutomationRule,
    CreateTask,
    EventTrigger,
    Notify,
    SendEmail,
    TimeTrigger,
    Webhook,
)
from caselib.automation.templates import Template
from caselib.errors import UnknownValue
from caselib.routing.conditions import Equals
from caselib.vocab import StatusCategory

__all__ = ["PRESETS", "preset"]


def _critical_webhook(url: str = "http://127.0.0.1/hooks/critical", secret: str = "default"
                      ) -> AutomationRule:
    return AutomationRule("critical_webhook", EventTrigger("case.created"),
                          [Webhook(url, secret)], Equals("priority", "urgent"),
                          "New critical case: notify the team's channel")


def _ack_email() -> AutomationRule:
    template = Template(
        "[{{ case.number }}] We received your request: {{ case.subject }}",
        "Hello,\n\nThank you for contacting us. Your request {{ case.number }} "
        "(\"{{ case.subject }}\") is registered and we will reply soon.\n")
    return AutomationRule("ack_email", EventTrigger("case.created"), [SendEmail(template)],
                          name="Acknowledge new cases to the contact")


def _pending_follow_up(days: int = 5) -> AutomationRule:
    template = Template(
        "[{{ case.number }}] Are you still there? {{ case.subject }}",
        "Hello,\n\nWe are waiting for your reply on {{ case.number }}. Please answer this "
        "e-mail so we can continue.\n\nLast message from us:\n{{ case.last_reply }}\n")
    return AutomationRule(
        "pending_follow_up",
        TimeTrigger("category", timedelta(days=days), StatusCategory.WAITING, business=True),
        [SendEmail(template)], name=f"Follow up after {days} business days pending")


def _resolved_follow_up(days: int = 7) -> AutomationRule:
    return AutomationRule(
        "resolved_follow_up", EventTrigger("case.resolved"),
        [CreateTask("Follow up and confirm satisfaction", timedelta(days=days))],
        name=f"Task: confirm satisfaction {days} days after resolution")


def _breach_notice() -> AutomationRule:
    template = Template(
        "{{ case.number }} breached its {{ event.target }} SLA: {{ case.subject }}",
        "Case {{ case.number }} ({{ case.priority }}, team {{ case.team }}, owner "
        "{{ case.assignee }}) passed its {{ event.target }} SLA target.", "internal")
    return AutomationRule("breach_notice", EventTrigger("case.sla_breached"),
                          [Notify(("owner", "manager"), template)],
                          name="SLA breach: notify the owner and their manager")


def _first_response_warning() -> AutomationRule:
    template = Template(
        "{{ case.number }}: first response due {{ case.due_at }}",
        "Case {{ case.number }} ({{ case.subject }}) is about to miss its first-response "
        "target; owner {{ case.assignee }}.", "internal")
    return AutomationRule("first_response_warning", TimeTrigger("sla_warning"),
                          [SendEmail(template, "manager")],
                          name="Amber first response: e-mail the owner's manager")


PRESETS: Final[Mapping[str, Callable[..., AutomationRule]]] = {
    "ack_email": _ack_email,
    "breach_notice": _breach_notice,
    "critical_webhook": _critical_webhook,
    "first_response_warning": _first_response_warning,
    "pending_follow_up": _pending_follow_up,
    "resolved_follow_up": _resolved_follow_up,
}
"""Preset name → factory of the rule (keyword settings as documented on each)."""


def preset(name: str, **settings: Any) -> AutomationRule:
    """The preset rule ``name`` built with ``settings``."""
    factory = PRESETS.get(name)
    if factory is None:
        raise UnknownValue("automation preset", name, sorted(PRESETS))
    try:
        return factory(**settings)
    except TypeError as err:
        raise UnknownValue("preset setting", ", ".join(sorted(settings)),
                           ["url", "secret", "days"]) from err
