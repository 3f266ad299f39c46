"""Every public attrs class refuses a wrong type with a caselib error, never a bare one.

caselib's rule: bad input, wrong types included, raises a typed caselib error (a
:class:`~caselib.errors.CaselibError`: ``WrongType`` names the field and what to pass) and
changes nothing. A bare ``TypeError`` from ``tuple(12345)`` or an ``AttributeError`` from
``None.name`` deep inside a converter says neither, and a web layer maps it to a 500.

The sweep walks every attrs class in the ``__all__`` of caselib and its subpackages, builds a
valid instance of each (from :data:`VALID` or, for plain fields, from the field types: see
:data:`PLAIN`), then puts each of :data:`WRONG` into one init field at a time. The
construction may succeed (many result records take what they are given) or raise a
``CaselibError``; anything else fails. A new public class fails :func:`test_table_covers`
until it is added to the table, so the sweep keeps up.
"""

from __future__ import annotations

import enum
import importlib
import inspect
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import attrs
import pytest

from caselib.errors import CaselibError

MODULES = ("caselib", "caselib.cases", "caselib.sla", "caselib.routing", "caselib.automation",
           "caselib.kb", "caselib.reports", "caselib.access", "caselib.mail", "caselib.desk",
           "caselib.serialize")

WRONG: tuple[object, ...] = (object(), "x", 12345, None)

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def _key(cls: type) -> str:
    """``cases.Transition`` / ``automation.Transition``: the name, with its subpackage."""
    return f"{cls.__module__.split('.')[1]}.{cls.__name__}"


def _public() -> dict[str, type]:
    found: dict[str, type] = {}
    for name in MODULES:
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if inspect.isclass(obj) and attrs.has(obj):
                found.setdefault(_key(obj), obj)
    return dict(sorted(found.items()))


CLASSES = _public()


class _Embedder:
    name = "test"
    dimension = 2

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        return [[1.0, 0.0] for _ in texts]


def _valid() -> dict[str, dict[str, Any]]:
    """Keyword arguments for the classes whose required fields need a domain value (a known
    field, event or address, two levels, a 64-hex digest …)."""
    from caselib.automation import AddNote, EscalationLevel, EventTrigger, Template
    from caselib.routing import Equals, Target
    from caselib.sla import SlaPolicy, SlaTargets
    from caselib.sla.hours import TimeRange
    from caselib.vocab import Priority

    equals = Equals("category", "billing")
    template = Template("Hello", "Your case moved.", audience="internal")
    policy = SlaPolicy("p", "P", {p: SlaTargets() for p in Priority})
    return {
        "routing.AllOf": {"conditions": (equals,)},
        "routing.AnyOf": {"conditions": (equals,)},
        "cases.Attachment": {"name": "a.txt", "content_type": "text/plain", "size": 1,
                             "sha256": "0" * 64, "storage_key": "k", "added_at": NOW,
                             "added_by": "agent-1"},
        "automation.AutomationRule": {"id": "r", "trigger": EventTrigger("case.created"),
                                      "actions": (AddNote("Seen."),)},
        "sla.BusinessCalendar": {"timezone": "UTC", "hours": ((TimeRange(0, 60),),) * 7},
        "cases.CaseLink": {"source": "c1", "kind": "related", "target": "c2",
                           "created_at": NOW},
        "routing.Equals": {"field": "category", "value": "billing"},
        "automation.EscalationLadder": {"levels": (EscalationLevel("owner"),
                                                   EscalationLevel("manager"))},
        "automation.EventTrigger": {"event": "case.created"},
        "routing.Exists": {"field": "category"},
        "routing.FallbackMap": {"name": "f", "field": "category",
                                "routes": (("billing", "team-b"),)},
        "routing.In": {"field": "category", "values": ("billing",)},
        "mail.MailDecision": {"action": "new", "reason": "r", "confidence": 1.0, "via": "v"},
        "desk.MailOutcome": {"message_id": "<m@x>", "outcome": "new", "case_id": None,
                             "decision": None},
        "mail.MailQueued": {"case_id": "c", "tenant": "t", "at": NOW, "actor": "a",
                            "to": "a@example.com", "subject": "s", "body": "b",
                            "message_id": "<m@x>", "in_reply_to": "", "references": "",
                            "reply_to": "r@example.com"},
        "desk.MailSettings": {"support_address": "support@example.com"},
        "routing.Not": {"condition": equals},
        "automation.Notify": {"who": ("owner",), "template": template},
        "routing.Prefix": {"field": "category", "prefix": "bill"},
        "mail.ReplyKeys": {"keys": {"k1": b"0123456789abcdef0123456789abcdef"},
                           "current": "k1"},
        "routing.Rule": {"id": "r", "when": equals, "then": Target(team="team-b")},
        "kb.SemanticSettings": {"embedder": _Embedder()},
        "automation.SendEmail": {"template": template, "to": "owner"},
        "automation.SetField": {"field": "category", "value": "billing"},
        "sla.SlaEvaluation": {"targets": (), "pauses": (), "newly_breached": (),
                              "policy": policy, "now": NOW},
        "sla.SlaPolicy": {"id": "p", "name": "P", "targets": {p: SlaTargets() for p in Priority}},
        "routing.Target": {"team": "team-b"},
        "sla.TimeRange": {"start": 0, "end": 60},
        "automation.TimeTrigger": {"anchor": "created"},
        "automation.Webhook": {"url": "https://hooks.example.com/x"},
    }


PLAIN = frozenset({
    # required fields that are plain values (text, numbers, datetimes, enums, tuples, other
    # attrs classes): built from the field types by _plain_kwargs
    "access.AccessPolicy", "access.Role", "automation.AddNote", "automation.AutomationApplied",
    "automation.AutomationReport", "automation.CreateTask", "automation.EscalationLevel",
    "automation.Occurrence", "automation.RuleVerdict", "automation.Template",
    "automation.Transition", "cases.Actor", "cases.Assigned", "cases.Case", "cases.CaseCreated",
    "cases.CaseLinked", "cases.CaseSnapshot", "cases.CaseTemplate", "cases.CaseUnlinked",
    "cases.Checklist", "cases.ChecklistItem", "cases.Closed", "cases.CommentAdded",
    "cases.CommentRedacted", "cases.Conversion", "cases.Csat", "cases.CsatRecorded",
    "cases.DomainEvent", "cases.Escalated", "cases.FieldsUpdated", "cases.Merged",
    "cases.MergedEntry", "cases.Pause", "cases.PriorityChanged", "cases.Redaction",
    "cases.Reopened", "cases.Resolution", "cases.Resolved", "cases.SlaBreached", "cases.SlaTarget",
    "cases.Split", "cases.Status", "cases.StatusChanged", "cases.TimelineEntry",
    "cases.Transition", "cases.Unmerged", "desk.Board", "desk.BoardColumn", "desk.BreachNotice",
    "desk.CustomerReply", "desk.CustomerView", "desk.SweepReport", "kb.Article",
    "kb.ArticleStats", "kb.Deflection", "kb.DeflectionReport", "kb.Explanation",
    "kb.FieldSettings", "kb.Fusion", "kb.KbQuery", "kb.KbStats", "kb.PeriodStats",
    "kb.QueryPart", "kb.ResolvedByArticle", "kb.Suggestion", "kb.SuggestionShown",
    "kb.TermMatch", "mail.MailAttachment", "mail.ParsedMail", "mail.ReplyAddress",
    "mail.ThreadResolver", "mail.TokenCheck", "ports.CaseSummary",
    "ports.Notification", "ports.OutboxMessage", "ports.Page", "reports.AgeBucket",
    "reports.CaseFacts", "reports.CsatStats", "reports.DayPoint", "reports.DeflectionFunnel",
    "reports.DurationStats", "reports.Period", "reports.Scorecard", "reports.ScorecardRow",
    "reports.SearchText", "reports.SummaryCards", "reports.TargetAttainment", "reports.View",
    "routing.Agent", "routing.AgentLoad", "routing.AssignmentOutcome", "routing.RouteDecision",
    "routing.RouteStep", "routing.Team", "sla.DueExplanation", "sla.Holiday",
    "sla.PriorityMove", "sla.PythonHolidaysSource", "sla.SlaCase", "sla.SlaCondition",
    "automation.DeliveryReport", "access.CaseActions", "cases.Workflow",
})

VALID = _valid()

REFUSING: dict[str, tuple[str, ...]] = {
    # Settings that once raised a bare TypeError / AttributeError (or read a string letter by
    # letter), or silently kept a wrong value that failed later, deep inside: each must now
    # refuse every wrong value (but those in ACCEPTED), not merely avoid a bare error.
    "access.AccessPolicy": ("roles", "agents_unrestricted"),
    "access.Role": ("permissions",),
    "access.Visibility": ("everything", "teams", "assignees", "contacts", "accounts"),
    "automation.AutomationApplied": ("deliveries",),
    "automation.AutomationRule": ("actions", "name", "enabled"),
    "automation.CreateTask": ("due_in",),
    "automation.Notify": ("who", "template"),
    "automation.SendEmail": ("template",),
    "automation.SetField": ("field",),
    "automation.TimeTrigger": ("category", "business", "target"),
    "cases.CasePolicy": ("vocabulary", "numbers", "require_account", "default_priority"),
    "cases.CaseTemplate": ("checklist", "fields"),
    "cases.ChecklistItem": ("role",),
    "cases.Escalated": ("deliveries",),
    "cases.NumberFormat": ("prefix", "padding"),
    "cases.Split": ("seqs",),
    "cases.Status": ("label",),
    "cases.Transition": ("source", "target", "gates"),
    "cases.Workflow": ("name", "statuses", "transitions", "initial"),
    "desk.DeliveryChannels": ("webhooks", "mailer", "notifier", "tasks", "events",
                              "conversions", "addresses", "mail_domain", "digest_after"),
    "desk.MailSettings": ("keys", "policy", "contacts", "blobs"),
    "desk.TenantSettings": ("workflow", "policy", "workflows", "router", "kb", "sla",
                            "access", "automations", "templates", "reopen"),
    "kb.KbQuery": ("parts",),
    "kb.KbSettings": ("title", "tags", "body", "stemmer", "stop_words", "resolutions"),
    "kb.Redactor": ("names", "values"),
    "mail.MailPolicy": ("reopens_per_case", "reopens_per_sender", "reopen_window",
                        "hold_unknown_senders"),
    "mail.ReplyKeys": ("keys", "max_age"),
    "mail.ThreadResolver": ("tenant", "keys"),
    "routing.Agent": ("teams", "skills", "away"),
    "routing.AllOf": ("conditions",),
    "routing.AnyOf": ("conditions",),
    "routing.FallbackMap": ("routes",),
    "routing.In": ("values",),
    "routing.Router": ("rules", "fallbacks"),
    "routing.RuleSet": ("rules",),
    "routing.Team": ("members",),
    "sla.BusinessCalendar": ("holidays",),
    "sla.Holiday": ("name", "active"),
    "sla.SlaPolicies": ("rules", "default"),
    "vocab.Vocabulary": ("case_types", "categories", "reason_codes"),
}

ACCEPTED: frozenset[tuple[str, str, object]] = frozenset({
    # a wrong value from WRONG that is in fact a valid setting
    ("mail.MailPolicy", "reopens_per_case", 12345),  # a (generous) limit is a whole number
    ("mail.MailPolicy", "reopens_per_sender", 12345),
    ("desk.TenantSettings", "router", None),  # None turns routing off
    ("desk.TenantSettings", "sla", None),  # None turns SLA clocks off
    ("desk.TenantSettings", "access", None),  # None: agents unrestricted
    # names and ids are text: "x" is one (a workflow checks its ids when compiled)
    ("automation.AutomationRule", "name", "x"),
    ("automation.TimeTrigger", "target", "x"),  # an SLA target name
    ("cases.ChecklistItem", "role", "x"),
    ("cases.ChecklistItem", "role", None),  # no role named
    ("cases.NumberFormat", "prefix", "x"),
    ("cases.Status", "label", "x"),
    ("cases.Status", "label", None),  # a null label in plain data: made from the id
    ("cases.Transition", "source", "x"),
    ("cases.Transition", "target", "x"),
    ("cases.Workflow", "name", "x"),
    ("cases.Workflow", "initial", "x"),
    ("cases.Workflow", "initial", None),  # the first status of category new
    ("desk.DeliveryChannels", "digest_after", 12345),  # a (generous) digest threshold
    ("desk.DeliveryChannels", "mail_domain", "x"),  # a domain (a host name on a LAN)
    ("mail.ThreadResolver", "tenant", "x"),
    ("sla.Holiday", "name", "x"),
    # a channel or port left None is off
    *(("desk.DeliveryChannels", port, None)
      for port in ("webhooks", "mailer", "notifier", "tasks", "events")),
    ("desk.MailSettings", "keys", None),  # no signed reply addresses
    ("desk.MailSettings", "blobs", None),  # only the text reaches the case
    ("mail.ThreadResolver", "keys", None),
    ("automation.TimeTrigger", "category", None),  # only the 'category' anchor needs one
})


def _required(cls: type) -> list[attrs.Attribute[Any]]:
    return [f for f in attrs.fields(cls) if f.init and f.default is attrs.NOTHING]


def _plain(tp: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    simple = {str: "x", int: 1, float: 1.0, bool: True, bytes: b"x", datetime: NOW,
              date: NOW.date(), timedelta: timedelta(hours=1)}
    if tp in simple:
        return simple[tp]
    if inspect.isclass(tp) and issubclass(tp, enum.Enum):
        return next(iter(tp))
    if origin in (types.UnionType, typing.Union):
        return _plain(args[0])
    if origin is typing.Literal:
        return args[0]
    if origin in (tuple, list, frozenset, set, dict, Mapping):
        return {tuple: (), list: [], frozenset: frozenset(), set: frozenset()}.get(origin, {})
    if inspect.isclass(tp) and attrs.has(tp):
        return _build(tp)
    raise AssertionError(f"no plain value for {tp!r}: add the class to VALID")


def _plain_kwargs(cls: type) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.alias or f.name: _plain(hints[f.name]) for f in _required(cls)}


def _kwargs(cls: type) -> dict[str, Any]:
    key = _key(cls)
    return dict(VALID[key]) if key in VALID else _plain_kwargs(cls)


def _build(cls: type) -> Any:
    return cls(**_kwargs(cls))


def test_table_covers_every_public_class() -> None:
    """A new public attrs class with required fields must be added to VALID or PLAIN."""
    missing = [k for k, cls in CLASSES.items()
               if _required(cls) and k not in VALID and k not in PLAIN]
    assert not missing, f"add valid keyword arguments for {missing} to VALID (or PLAIN)"
    stale = sorted((set(VALID) | PLAIN) - set(CLASSES))
    assert not stale, f"{stale} are no longer public attrs classes: drop them from the table"


@pytest.mark.parametrize("key", list(CLASSES))
def test_wrong_types_raise_caselib_errors(key: str) -> None:
    cls = CLASSES[key]
    base = _kwargs(cls)
    cls(**base)  # the table itself is valid
    bare = []
    for field in attrs.fields(cls):
        if not field.init:
            continue
        name = field.alias or field.name
        for wrong in WRONG:
            try:
                cls(**{**base, name: wrong})
            except CaselibError as err:
                if not str(err):  # a message to act on
                    bare.append(f"{name}={wrong!r}: {type(err).__name__} without a message")
            except Exception as err:
                bare.append(f"{name}={wrong!r}: {type(err).__name__}: {err}")
    assert not bare, f"{key} raised bare errors:\n" + "\n".join(bare)


@pytest.mark.parametrize("key", sorted(REFUSING))
def test_fixed_settings_refuse_every_wrong_value(key: str) -> None:
    """Not a bare error, and not a silent success either: each wrong value is refused."""
    cls = CLASSES[key]
    base = _kwargs(cls)
    taken = []
    for name in REFUSING[key]:
        for wrong in WRONG:
            if (key, name, wrong) in ACCEPTED:
                continue
            try:
                cls(**{**base, name: wrong})
            except CaselibError:
                continue
            taken.append(f"{name}={wrong!r}")
    assert not taken, f"{key} took wrong values: {taken}"


@pytest.mark.parametrize(("factory", "field", "wrong"), [
    ("access.Visibility", "teams", 12345),
    ("access.Visibility", "accounts", "acme"),
    ("vocab.Vocabulary", "categories", ["billing"]),
    ("vocab.Vocabulary", "case_types", None),
    ("kb.KbSettings", "stop_words", 12345),
    ("mail.MailPolicy", "reopens_per_case", "3"),
    ("mail.MailPolicy", "reopen_window", 24),
    ("kb.Redactor", "values", 12345),
    ("routing.Router", "rules", 12345),
    ("routing.Router", "fallbacks", None),
    ("routing.RuleSet", "rules", object()),
    ("sla.SlaPolicies", "default", "default"),
    ("sla.SlaPolicies", "rules", 12345),
    ("desk.TenantSettings", "automations", ["rule"]),
    ("desk.TenantSettings", "templates", [None]),
])
def test_wrong_type_names_the_setting(factory: str, field: str, wrong: object) -> None:
    """The error is a WrongType naming the setting (not an item's internals), and a string
    is not read letter by letter as a list of names."""
    from caselib.errors import WrongType

    cls = CLASSES[factory]
    with pytest.raises(WrongType) as info:
        cls(**{field: wrong})
    assert info.value.field == field
    assert field in str(info.value)


BOOLS = (("access.AccessPolicy", "agents_unrestricted"), ("access.Visibility", "everything"),
         ("routing.Agent", "away"), ("sla.Holiday", "active"),
         ("cases.CasePolicy", "require_account"), ("automation.AutomationRule", "enabled"),
         ("automation.TimeTrigger", "business"))


@pytest.mark.parametrize(("key", "field"), BOOLS)
@pytest.mark.parametrize("wrong", [0, 1, "yes"])
def test_bool_settings_take_true_or_false_only(key: str, field: str, wrong: object) -> None:
    """As require_bool: 0 and 1 are not guessed to be False and True."""
    from caselib.errors import WrongType

    cls = CLASSES[key]
    with pytest.raises(WrongType, match="True or False") as info:
        cls(**{**_kwargs(cls), field: wrong})
    assert info.value.field == field


@pytest.mark.parametrize(("key", "field", "wrong"), [
    ("access.AccessPolicy", "agents_unrestricted", "no"),
    ("sla.Holiday", "name", 12345),
    ("kb.KbSettings", "title", 10.0),  # a weight is FieldSettings(weight=10.0)
    ("kb.KbSettings", "stemmer", None),
    ("kb.KbSettings", "resolutions", 0.5),
    ("desk.MailSettings", "keys", {"k1": b"0" * 32}),
    ("desk.MailSettings", "contacts", {"a@example.com": "c-1"}),  # a function, not a dict
    ("desk.MailSettings", "blobs", object()),
    ("desk.DeliveryChannels", "mailer", print),  # a function, not a Mailer
    ("desk.DeliveryChannels", "conversions", {"opportunity": object()}),
    ("desk.DeliveryChannels", "conversions", {1: None}),
    ("desk.DeliveryChannels", "digest_after", 2.5),
    ("mail.ThreadResolver", "tenant", None),
    ("cases.CasePolicy", "numbers", "SC-"),
    ("cases.CasePolicy", "default_priority", 2),
    ("cases.NumberFormat", "padding", "4"),
    ("cases.Workflow", "initial", 1),
    ("cases.Transition", "target", None),
    ("cases.Status", "label", 7),
    ("cases.ChecklistItem", "role", 7),
    ("automation.CreateTask", "due_in", 3),
    ("automation.TimeTrigger", "category", 1),
    ("automation.TimeTrigger", "target", None),
])
def test_wrong_type_names_the_setting_of_a_built_value(key: str, field: str,
                                                        wrong: object) -> None:
    from caselib.errors import WrongType

    cls = CLASSES[key]
    with pytest.raises(WrongType) as info:
        cls(**{**_kwargs(cls), field: wrong})
    assert info.value.field == field
    assert field in str(info.value)


@pytest.mark.parametrize(("key", "field", "bad"), [
    ("kb.KbSettings", "stemmer", "lancaster"),
    ("cases.NumberFormat", "padding", -1),
    ("cases.NumberFormat", "padding", 21),
    ("cases.CasePolicy", "default_priority", "asap"),
    ("automation.CreateTask", "due_in", timedelta(days=-1)),
    ("automation.CreateTask", "due_in", timedelta(days=3651)),
    ("automation.TimeTrigger", "category", "someday"),
    ("desk.DeliveryChannels", "mail_domain", "support@example.com"),
    ("desk.DeliveryChannels", "mail_domain", ""),
    ("desk.DeliveryChannels", "digest_after", -1),
    ("mail.ThreadResolver", "tenant", ""),
])
def test_bad_values_are_refused_naming_the_setting(key: str, field: str, bad: object) -> None:
    """A value of the right type that cannot work is InvalidInput (InvalidConfiguration,
    UnknownValue …) naming the setting, when the settings are made."""
    from caselib.errors import InvalidInput, WrongType

    cls = CLASSES[key]
    with pytest.raises(InvalidInput) as info:
        cls(**{**_kwargs(cls), field: bad})
    assert not isinstance(info.value, WrongType)
    assert info.value.field == field


def test_the_valid_forms_stay_valid() -> None:
    """Every form these settings took before they were checked is still taken."""
    from caselib.automation import CreateTask, TimeTrigger
    from caselib.cases import CasePolicy, ChecklistItem, Status, Transition, Workflow
    from caselib.desk import DeliveryChannels, MailSettings
    from caselib.kb import FieldSettings, KbSettings, ResolutionBoost
    from caselib.mail import MailPolicy, ReplyKeys, ThreadResolver
    from caselib.vocab import DEFAULT_VOCABULARY, Priority, StatusCategory

    for name in ("porter2", "snowball", "none"):
        assert KbSettings(stemmer=name).stemmer == name
    plain = FieldSettings(weight=1, b=0.75)
    assert KbSettings(title=plain, tags=plain, body=plain,
                      resolutions=ResolutionBoost(weight=0.5)).title is plain
    # a priority's name is read as every command reads it
    assert CasePolicy(default_priority="critical").default_priority is Priority.URGENT
    assert CasePolicy(DEFAULT_VOCABULARY, default_priority=Priority.LOW).default_priority \
        is Priority.LOW
    assert Status("pending", "waiting", None).label == "Pending"  # a null label: from the id
    assert Workflow("w", [Status("new", "new")], [], None).initial_status == "new"
    assert Transition("a", "b").target == "b"
    assert ChecklistItem("x", "Do it", role=None).role is None
    assert TimeTrigger("category", category="waiting").category is StatusCategory.WAITING
    assert CreateTask("Call back", timedelta(days=3650)).due_in.days == 3650

    class Blobs:
        def put(self, data: bytes, *, name: str, content_type: str) -> str:
            return "k"

    class Crm:
        def create(self, snapshot: object) -> str:
            return "opp-1"

    keys = ReplyKeys({"k1": b"0123456789abcdef0123456789abcdef"}, "k1")
    settings = MailSettings("support@example.com", keys, MailPolicy(), str.lower, Blobs())
    assert settings.contacts("A@x") == "a@x"
    assert ThreadResolver("acme", keys).keys is keys
    channels = DeliveryChannels(conversions={"opportunity": Crm()},
                                addresses=lambda who: f"{who}@example.com",
                                mail_domain="support.example.com", digest_after=0)
    assert channels.addresses("ana") == "ana@example.com"


@pytest.mark.parametrize(("status", "transition"), [
    ({"id": "new", "category": "new", "label": 7}, {"from": "new", "to": "done"}),
    ({"id": "new", "category": "new"}, {"from": 1, "to": "done"}),
])
def test_workflow_data_of_a_wrong_type_is_invalid_configuration(
        status: dict[str, object], transition: dict[str, object]) -> None:
    """Workflow.from_dict keeps its promise (InvalidConfiguration naming what is wrong) when
    a status or transition refuses a wrong type."""
    from caselib.cases import Workflow
    from caselib.errors import InvalidConfiguration

    data = {"name": "w", "statuses": [status, {"id": "done", "category": "closed"}],
            "transitions": [transition]}
    with pytest.raises(InvalidConfiguration, match="workflow 'w'"):
        Workflow.from_dict(data)
