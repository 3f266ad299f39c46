"""Automation rules as data: a trigger, a condition and actions.

* :class:`EventTrigger` fires on a domain event (``case.created``, ``case.status_changed`` …);
  the *occurrence* is the event itself (its outbox key), so a rule fires once per event.
* :class:`TimeTrigger` fires when a case has been in a state for a while ("in category
  ``waiting`` for 5 business days", "resolved 7 days ago", "the first-response target turned
  amber"); the occurrence is the state's start time, so a case that leaves and re-enters
  the state starts a new occurrence.
* The condition is the router's condition language (:mod:`caselib.routing.conditions`),
  parsed by the same parser, over the same routing facts.
* Actions are values the application layer carries out (:mod:`caselib.desk.automations`).

Every parse error is an :class:`~caselib.errors.InvalidConfiguration` (an unknown event,
action or key: :class:`~caselib.errors.UnknownValue`, naming the valid ones).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any, Final, TypeAlias

import attrs

from caselib.automation.templates import Template
from caselib.checks import bool_attribute, instance_attribute, require_items, require_str
from caselib.errors import InvalidConfiguration, UnknownValue, WrongType
from caselib.routing.conditions import (
    AllOf,
    Condition,
    _check_condition,
    _parse_condition,
)
from caselib.vocab import Priority, StatusCategory

__all__ = [
    "ACTION_KINDS",
    "EVENT_TYPES",
    "NOTIFY_TARGETS",
    "SETTABLE_FIELDS",
    "TIME_ANCHORS",
    "Action",
    "AddNote",
    "Assign",
    "AutomationRule",
    "CreateTask",
    "EventTrigger",
    "Notify",
    "SendEmail",
    "SetField",
    "TimeTrigger",
    "Transition",
    "Trigger",
    "Webhook",
]

EVENT_TYPES: Final[tuple[str, ...]] = (
    "case.assigned", "case.closed", "case.comment_added", "case.converted", "case.created",
    "case.csat_recorded", "case.escalated", "case.fields_updated", "case.linked",
    "case.merged", "case.priority_changed", "case.reopened", "case.resolved",
    "case.sla_breached", "case.sla_warning", "case.split", "case.status_changed",
    "case.unlinked", "case.unmerged",
)
"""Events a rule may name. ``case.sla_warning`` is derived from time (the target's warn
time passing), so it is read as a :class:`TimeTrigger` with anchor ``sla_warning``."""

TIME_ANCHORS: Final[tuple[str, ...]] = ("category", "created", "resolved", "sla_warning")
"""What a :class:`TimeTrigger` counts from."""

NOTIFY_TARGETS: Final[tuple[str, ...]] = ("manager", "owner", "team")

SETTABLE_FIELDS: Final[tuple[str, ...]] = (
    "case_type", "category", "priority", "reason_code", "severity", "subcategory", "tags")
"""What :class:`SetField` may change (plus ``custom.<name>``)."""

_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}")
_MAX_DAYS: Final = 3650


def _check_id(value: object, what: str) -> str:
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise InvalidConfiguration(
            f"{what} must be 1-100 letters, digits, '_', '.', ':' or '-', got {value!r}")
    return value


@attrs.frozen
class EventTrigger:
    """Fire on each domain event of type ``event``."""

    event: str

    def __attrs_post_init__(self) -> None:
        if self.event not in EVENT_TYPES or self.event == "case.sla_warning":
            raise UnknownValue("event", self.event,
                               [e for e in EVENT_TYPES if e != "case.sla_warning"])

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {"event": self.event}


def _text(_instance: object, attribute: Any, value: object) -> None:
    require_str(value, attribute.name)


def _status_category(value: object) -> StatusCategory | None:
    """A category, its name (``"waiting"``) or ``None``; the setting is named otherwise."""
    if value is None or isinstance(value, StatusCategory):
        return value
    if not isinstance(value, str):
        raise WrongType("category", "a StatusCategory, its name such as 'waiting', or None",
                        value)
    try:
        return StatusCategory.parse(value)
    except UnknownValue:
        raise UnknownValue("category", value, [c.value for c in StatusCategory]) from None


def _span(_instance: object, attribute: Any, value: object) -> None:
    """A delay of 0 to :data:`_MAX_DAYS` days (what the JSON form can say)."""
    if not isinstance(value, timedelta):
        raise WrongType(attribute.name, "a timedelta (e.g. timedelta(days=2))", value)
    if not timedelta(0) <= value <= timedelta(days=_MAX_DAYS):
        raise InvalidConfiguration(f"{attribute.name} must be 0 to {_MAX_DAYS} days, "
                                   f"got {value!r}", field=attribute.name)


@attrs.frozen(cache_hash=True)  # a memo key per rule and case in the sweep
class TimeTrigger:
    """Fire ``after`` the case entered a state (``anchor``).

    ``anchor``: ``category`` (the case entered status category ``category`` and is still in
    it), ``created``, ``resolved`` (resolved or closed since) or ``sla_warning`` (the SLA
    target ``target`` reached its warn time while still running). ``business``: count
    ``after`` in business days (Monday to Friday, UTC; whole days only).
    """

    anchor: str
    after: timedelta = timedelta(0)
    category: StatusCategory | None = attrs.field(default=None, converter=_status_category)
    business: bool = attrs.field(default=False, validator=bool_attribute)
    target: str = attrs.field(default="first_response", validator=_text)

    def __attrs_post_init__(self) -> None:
        if self.anchor not in TIME_ANCHORS:
            raise UnknownValue("time anchor", self.anchor, TIME_ANCHORS)
        if self.anchor == "category" and self.category is None:
            raise InvalidConfiguration("a 'category' time trigger needs category= "
                                       f"(one of: {', '.join(c.value for c in StatusCategory)})")
        if not isinstance(self.after, timedelta) or self.after < timedelta(0) \
                or self.after > timedelta(days=_MAX_DAYS):
            raise InvalidConfiguration(f"after must be 0 to {_MAX_DAYS} days, got {self.after!r}")
        if self.business and self.after % timedelta(days=1):
            raise InvalidConfiguration("business time counts whole days; give days=N")

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        out: dict[str, object] = {"since": self.anchor}
        if self.category is not None:
            out["category"] = self.category.value
        if self.anchor == "sla_warning":
            out["target"] = self.target
        out["days" if self.business or not self.after % timedelta(days=1) else "hours"] = (
            self.after.days if not self.after % timedelta(days=1)
            else self.after / timedelta(hours=1))
        if self.business:
            out["business"] = True
        return {"time": out}


Trigger: TypeAlias = EventTrigger | TimeTrigger


@attrs.frozen
class Webhook:
    """POST the case event as JSON to ``url``, signed with the secret named ``secret``."""

    kind = "webhook"
    url: str
    secret: str = "default"

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.url, str) or not re.fullmatch(r"https?://[^\s]{1,2000}", self.url):
            raise InvalidConfiguration(f"webhook url must be http(s)://…, got {self.url!r}")
        _check_id(self.secret, "webhook secret name")


@attrs.frozen
class SendEmail:
    """E-mail ``to`` (``contact``, ``owner``, ``manager`` or ``team``) from ``template``."""

    kind = "email"
    template: Template = attrs.field(validator=instance_attribute(Template, "a Template"))
    to: str = "contact"

    def __attrs_post_init__(self) -> None:
        if self.to not in ("contact", *NOTIFY_TARGETS):
            raise UnknownValue("recipient", self.to, ("contact", *NOTIFY_TARGETS))
        if self.to == "contact" and self.template.audience != "customer":
            raise InvalidConfiguration("an e-mail to the contact needs a customer template")


@attrs.frozen
class Notify:
    """A notice to the case owner, the owner's manager or the team lead (no owner: the
    team's lead stands in for the owner)."""

    kind = "notify"
    who: tuple[str, ...]
    template: Template = attrs.field(validator=instance_attribute(Template, "a Template"))

    def __attrs_post_init__(self) -> None:
        require_items(self.who, "who", f"a list of notify targets ({', '.join(NOTIFY_TARGETS)})")
        if not self.who:
            raise InvalidConfiguration("notify needs at least one of: "
                                       + ", ".join(NOTIFY_TARGETS))
        for who in self.who:
            if who not in NOTIFY_TARGETS:
                raise UnknownValue("notify target", who, NOTIFY_TARGETS)


@attrs.frozen
class CreateTask:
    """A task in the host's task list (through its :class:`~caselib.ports.TaskGateway`),
    due ``due_in`` after the rule fires."""

    kind = "task"
    title: str
    due_in: timedelta = attrs.field(default=timedelta(0), validator=_span)

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.title, str) or not self.title.strip() or len(self.title) > 500:
            raise InvalidConfiguration("a task needs a title of 1 to 500 characters")


@attrs.frozen
class AddNote:
    """An internal note on the case."""

    kind = "note"
    body: str

    def __attrs_post_init__(self) -> None:
        if not isinstance(self.body, str) or not self.body.strip() or len(self.body) > 20_000:
            raise InvalidConfiguration("a note needs a body of 1 to 20000 characters")


@attrs.frozen
class SetField:
    """Set one descriptive field (or ``priority``) of the case."""

    kind = "set_field"
    field: str
    value: str | tuple[str, ...]

    def __attrs_post_init__(self) -> None:
        require_str(self.field, "field", "a field name such as 'category' or 'custom.<name>'")
        if self.field not in SETTABLE_FIELDS and not (
                self.field.startswith("custom.") and len(self.field) > 7):
            raise UnknownValue("field", self.field, (*SETTABLE_FIELDS, "custom.<name>"))
        if self.field == "priority":
            Priority.parse(self.value)
        if self.field == "tags":
            if not isinstance(self.value, tuple) or not all(
                    isinstance(v, str) for v in self.value):
                raise InvalidConfiguration("set_field tags needs a list of tags")
        elif not isinstance(self.value, str) or not self.value:
            raise InvalidConfiguration(f"set_field {self.field} needs non-empty text")


@attrs.frozen
class Assign:
    """Assign the case: to ``agent``, or in ``team`` (default: its current team) by the
    team's assignment strategy."""

    kind = "assign"
    agent: str | None = None
    team: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.agent is not None:
            _check_id(self.agent, "assign agent")
        if self.team is not None:
            _check_id(self.team, "assign team")


@attrs.frozen
class Transition:
    """Move the case to status ``to`` through its workflow (gates and notes apply)."""

    kind = "transition"
    to: str
    note: str | None = None

    def __attrs_post_init__(self) -> None:
        _check_id(self.to, "transition target")
        if self.note is not None and (not isinstance(self.note, str) or len(self.note) > 5000):
            raise InvalidConfiguration("a transition note must be text (at most 5000 characters)")


Action: TypeAlias = (Webhook | SendEmail | Notify | CreateTask | AddNote | SetField | Assign
                     | Transition)

ACTION_KINDS: Final[tuple[str, ...]] = (
    "assign", "create_task", "email", "note", "notify", "set_field", "transition", "webhook")
"""The action names of the JSON form."""


def _conditions(value: object) -> Condition:
    if isinstance(value, Mapping):
        return _parse_condition(value, "when")
    _check_condition(value)
    return value  # type: ignore[return-value]


def _actions(values: object) -> tuple[Action, ...]:
    return require_items(values, "actions", "a list of actions (AddNote, Assign, …)")


@attrs.frozen
class AutomationRule:
    """One tenant automation: ``when`` the trigger fires and the condition holds, do the
    actions, once per (rule, case, occurrence)."""

    id: str
    trigger: Trigger
    actions: tuple[Action, ...] = attrs.field(converter=_actions)
    when: Condition = attrs.field(factory=lambda: AllOf(()), converter=_conditions)
    name: str = attrs.field(default="", validator=_text)
    enabled: bool = attrs.field(default=True, validator=bool_attribute)

    def __attrs_post_init__(self) -> None:
        _check_id(self.id, "rule id")
        if not isinstance(self.trigger, EventTrigger | TimeTrigger):
            raise InvalidConfiguration(f"rule {self.id}: trigger must be an EventTrigger or "
                                       "TimeTrigger")
        if not self.actions:
            raise InvalidConfiguration(f"rule {self.id}: needs at least one action")
        for action in self.actions:
            if not isinstance(action, Webhook | SendEmail | Notify | CreateTask | AddNote
                              | SetField | Assign | Transition):
                raise InvalidConfiguration(f"rule {self.id}: not an action: {action!r}")

    @property
    def label(self) -> str:
        """The name, or the id when the rule has none."""
        return self.name or self.id

    @classmethod
    def from_dict(cls, raw: object) -> AutomationRule:
        """Parse the JSON form (see ``docs/automations.md``)."""
        if not isinstance(raw, Mapping):
            raise InvalidConfiguration(f"a rule must be an object, got {raw!r}")
        _known(raw, ("actions", "enabled", "id", "name", "trigger", "when"), "rule key")
        rule_id = _check_id(raw.get("id"), "rule id")
        try:
            enabled = raw.get("enabled", True)
            if not isinstance(enabled, bool):
                raise InvalidConfiguration("enabled must be true or false")
            name = raw.get("name", "")
            if not isinstance(name, str) or len(name) > 200:
                raise InvalidConfiguration("name must be text of at most 200 characters")
            actions = raw.get("actions")
            if not isinstance(actions, list | tuple):
                raise InvalidConfiguration(f"actions must be a list of actions, got {actions!r}")
            return cls(rule_id, _parse_trigger(raw.get("trigger")),
                       [_parse_action(a) for a in actions],
                       raw.get("when", {"all": []}), name, enabled)
        except UnknownValue:
            raise
        except InvalidConfiguration as err:
            raise InvalidConfiguration(f"rule {rule_id}: {err}") from None

    def to_dict(self) -> dict[str, object]:
        """The JSON form (:meth:`from_dict` reads it back)."""
        return {"id": self.id, "name": self.name, "enabled": self.enabled,
                "trigger": self.trigger.to_dict(), "when": self.when.to_dict(),
                "actions": [_action_dict(a) for a in self.actions]}


def _known(raw: Mapping[str, object], allowed: Iterable[str], what: str) -> None:
    allowed = tuple(allowed)
    for key in raw:
        if key not in allowed:
            raise UnknownValue(what, key, allowed)


def _days(raw: Mapping[str, object]) -> timedelta:
    days, hours = raw.get("days", 0), raw.get("hours", 0)
    for name, value in (("days", days), ("hours", hours)):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidConfiguration(f"{name} must be a non-negative number, got {value!r}")
    assert isinstance(days, int | float) and isinstance(hours, int | float)
    if days > _MAX_DAYS or hours > _MAX_DAYS * 24:
        raise InvalidConfiguration(f"at most {_MAX_DAYS} days")
    return timedelta(days=days, hours=hours)


def _parse_trigger(raw: object) -> Trigger:
    if not isinstance(raw, Mapping):
        raise InvalidConfiguration(
            "trigger must be {'event': …} or {'time': {'since': …, 'days': N}}")
    _known(raw, ("event", "time"), "trigger key")
    if "event" in raw:
        if raw["event"] == "case.sla_warning":
            return TimeTrigger("sla_warning")
        return EventTrigger(raw["event"])
    time = raw.get("time")
    if not isinstance(time, Mapping):
        raise InvalidConfiguration("a time trigger is {'since': …, 'days': N}")
    _known(time, ("business", "category", "days", "hours", "since", "target"), "time key")
    business = time.get("business", False)
    if not isinstance(business, bool):
        raise InvalidConfiguration("business must be true or false")
    category = time.get("category")
    target = time.get("target", "first_response")
    if not isinstance(target, str):
        raise InvalidConfiguration("target must be an SLA target name")
    return TimeTrigger(time.get("since"), _days(time),  # type: ignore[arg-type]
                       None if category is None else StatusCategory.parse(category),
                       business, target)


def _parse_action(raw: object) -> Action:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("do"), str):
        raise InvalidConfiguration(
            f"an action is {{'do': one of {', '.join(ACTION_KINDS)}, …}}, got {raw!r}")
    kind = raw["do"]
    args = {k: v for k, v in raw.items() if k != "do"}
    fields: dict[str, tuple[str, ...]] = {
        "webhook": ("secret", "url"), "email": ("template", "to"),
        "notify": ("template", "who"), "create_task": ("due_in_days", "title"),
        "note": ("body",), "set_field": ("field", "value"), "assign": ("agent", "team"),
        "transition": ("note", "to")}
    if kind not in fields:
        raise UnknownValue("action", kind, ACTION_KINDS)
    _known(args, fields[kind], f"{kind} key")
    if kind == "webhook":
        return Webhook(args.get("url"), args.get("secret", "default"))  # type: ignore[arg-type]
    if kind == "email":
        return SendEmail(Template.from_dict(args.get("template")),
                         args.get("to", "contact"))
    if kind == "notify":
        who = args.get("who", ["owner"])
        if not isinstance(who, str | list | tuple):
            raise InvalidConfiguration(f"notify who is a list of {NOTIFY_TARGETS}, got {who!r}")
        who = (who,) if isinstance(who, str) else tuple(who)
        template = args.get("template") or {
            "subject": "{{ case.number }}: {{ rule.name }}", "body": "{{ case.subject }}",
            "audience": "internal"}
        return Notify(who, Template.from_dict(template))
    if kind == "create_task":
        return CreateTask(args.get("title"),  # type: ignore[arg-type]
                          _days({"days": args.get("due_in_days", 0)}))
    if kind == "note":
        return AddNote(args.get("body"))  # type: ignore[arg-type]
    if kind == "set_field":
        value = args.get("value")
        field = args.get("field")
        if field not in SETTABLE_FIELDS and not (isinstance(field, str)
                                                 and field.startswith("custom.")):
            raise UnknownValue("field", field, (*SETTABLE_FIELDS, "custom.<name>"))
        return SetField(field,
                        tuple(value) if isinstance(value, list) else value)  # type: ignore[arg-type]
    if kind == "assign":
        return Assign(args.get("agent"), args.get("team"))
    return Transition(args.get("to"), args.get("note"))  # type: ignore[arg-type]


def _action_dict(action: Action) -> dict[str, object]:
    if isinstance(action, Webhook):
        return {"do": "webhook", "url": action.url, "secret": action.secret}
    if isinstance(action, SendEmail):
        return {"do": "email", "to": action.to, "template": action.template.to_dict()}
    if isinstance(action, Notify):
        return {"do": "notify", "who": list(action.who), "template": action.template.to_dict()}
    if isinstance(action, CreateTask):
        return {"do": "create_task", "title": action.title,
                "due_in_days": action.due_in / timedelta(days=1)}
    if isinstance(action, AddNote):
        return {"do": "note", "body": action.body}
    if isinstance(action, SetField):
        value = list(action.value) if isinstance(action.value, tuple) else action.value
        return {"do": "set_field", "field": action.field, "value": value}
    if isinstance(action, Assign):
        return {"do": "assign", "agent": action.agent, "team": action.team}
    return {"do": "transition", "to": action.to, "note": action.note}


