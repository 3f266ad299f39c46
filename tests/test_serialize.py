"""caselib.serialize: every public value as a versioned JSON document, and back.

Round trips go through real JSON text (``json.dumps`` with ``allow_nan=False``), so a value
that only looked JSON-ready in Python fails here.
"""

from __future__ import annotations

import copy
import enum
import inspect
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

import caselib
from caselib import (
    Actor,
    Article,
    Case,
    CaseLink,
    CaseQuery,
    CaseSummary,
    CaseTemplate,
    Checklist,
    ChecklistItem,
    InvalidInput,
    MemoryStore,
    NaiveDatetime,
    Page,
    ServiceDesk,
    TenantSettings,
    TextTooLong,
    TimelineEntry,
    UnknownValue,
    serialize,
)
from caselib.cases import CaseSnapshot, Conversion
from caselib.serialize._read import duration_text, parse_duration_text
from caselib.testing import FrozenClock, RecordingNotifier, RecordingSink
from caselib.testing.strategies import actors, articles, case_queries, cases

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana", "support", name="Ana")


def through_json(doc: dict[str, Any]) -> Any:
    """The document as a client receives it (strict JSON: no NaN, UTF-8 encodable)."""
    text = json.dumps(doc, allow_nan=False, ensure_ascii=False)
    return json.loads(text.encode("utf-8").decode("utf-8"))


def fields(case: Case) -> dict[str, Any]:
    """Every public field of a case (Case compares by identity)."""
    return {a.name: getattr(case, a.name) for a in attrs.fields(Case)
            if not a.name.startswith("_")}


class TestRoundTrips:
    """What a host stores or receives comes back equal."""

    @given(cases())
    def test_case(self, case: Case) -> None:
        """Every field of a worked case, the whole timeline and SLA state included."""
        doc = serialize.to_dict(case)
        back = serialize.from_dict(through_json(doc), Case)
        assert fields(back) == fields(case)
        assert serialize.to_dict(back) == doc
        assert back.pending_events == () and back.unsaved_entries() == []

    @given(actors(detailed=True))
    def test_actor(self, actor: Actor) -> None:
        """Id, kind, roles and display name."""
        assert serialize.from_dict(through_json(serialize.to_dict(actor)), Actor) == actor

    @given(case_queries())
    def test_case_query(self, query: CaseQuery) -> None:
        """Every filter, order, limit and cursor."""
        assert serialize.from_dict(through_json(serialize.to_dict(query)), CaseQuery) == query

    @given(articles())
    def test_article(self, article: Article) -> None:
        """Every field of an article, of every status."""
        assert serialize.from_dict(through_json(serialize.to_dict(article)), Article) == article

    @given(cases())
    def test_entries_summaries_and_pages(self, case: Case) -> None:
        """A timeline entry, a list row, and a page with its cursor."""
        for entry in case.timeline:
            doc = through_json(serialize.to_dict(entry))
            assert serialize.from_dict(doc, TimelineEntry) == entry
        summary = CaseSummary.of(case)
        assert serialize.from_dict(through_json(serialize.to_dict(summary)),
                                   CaseSummary) == summary
        page = Page((summary, summary), "eyJjdXJzb3IiOjF9")
        assert serialize.from_dict(through_json(serialize.to_dict(page)), Page) == page

    @given(st.timedeltas(min_value=timedelta(days=-400), max_value=timedelta(days=400)))
    def test_durations(self, value: timedelta) -> None:
        """ISO 8601 durations in hours, minutes and seconds, to the microsecond."""
        assert parse_duration_text(duration_text(value) or "", "d") == value

    def test_duration_spellings(self) -> None:
        """What a reader of docs/serialize.md expects to see."""
        shown = [duration_text(timedelta(hours=h, minutes=m, seconds=s))
                 for h, m, s in ((8, 0, 0), (1, 30, 0), (0, 0, 0), (0, 0, 0.5), (72, 0, 0))]
        assert shown == ["PT8H", "PT1H30M", "PT0S", "PT0.5S", "PT72H"]
        assert duration_text(-timedelta(minutes=15)) == "-PT15M"
        with pytest.raises(InvalidInput):
            parse_duration_text("P1D", "duration")  # a calendar day is not an exact length
        with pytest.raises(InvalidInput):
            parse_duration_text("PT", "duration")


@pytest.fixture
def worked() -> dict[str, Any]:
    """A desk after a day of work: every kind of value the API returns, produced for real."""
    clock = FrozenClock(T0)
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    article = desk.put_article(Article(id="kb-1", title="Printer jams",
                                       body="Open tray two and pull.", category="Technical",
                                       tags=("printer",), updated_at=T0),
                               actor=Actor.agent("lee", "admin"))
    case = desk.create_case(subject="Printer jams on tray two", actor=ANA, priority="urgent",
                            category="Technical", tags=["hw"],
                            links={"account": "A1", "contact": "kim"},
                            custom={"seats": 12})
    desk.add_comment(case.id, "SECRET-NOTE: the customer owes us money", actor=ANA)
    desk.add_comment(case.id, "Which tray?", actor=ANA, audience="public")
    desk.add_comment(case.id, "Tray two", actor=Actor.customer("kim"), audience="public")
    suggestions = desk.suggest_articles(case.id, actor=ANA)
    opened = desk.open_article(case.id, "kb-1", actor=ANA)
    clock.advance(hours=30)
    notifier = RecordingNotifier()
    report = desk.sweep_breaches(actor=Actor.system(), notifier=notifier)
    sink = RecordingSink()
    desk.dispatch_events(sink)
    case = desk.get_case(case.id, actor=ANA)
    rel = _relations(clock)
    return {
        "desk": desk, "case": case, "suggestions": suggestions, "report": report,
        "events": sink.messages, "relations": rel,
        "values": [
            *rel.values(),
            case, case.timeline[0], case.sla_targets[0], ANA, desk.find_cases(actor=ANA),
            desk.find_cases(actor=ANA).items[0],
            CaseQuery(priorities={"urgent"}, unassigned=False),
            desk.customer_view(case.id, actor=ANA),
            desk.explain_due(case.id, "first_response", actor=ANA),
            report, report.breaches[0], desk.route_preview({"category": "Billing"}),
            desk.kb_index().stats, suggestions[0], opened, desk.deflection_report(actor=ANA),
            *notifier.sent[:1], sink.messages[0], article,
            desk.scorecard(start=T0 - timedelta(hours=9), end=T0 + timedelta(days=2),
                           group_by="priority", actor=Actor.system()),
        ],
    }


class _Crm:
    """A host gateway that creates one opportunity per key."""

    def create(self, snapshot: CaseSnapshot) -> str:
        return f"opp-{snapshot.number}"


def _relations(clock: FrozenClock) -> dict[str, Any]:
    """A link, a checklist (one item checked) and a conversion, from a desk of their own."""
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock, settings=TenantSettings(
        templates=[CaseTemplate("onboarding", [
            ChecklistItem("account", "Create the account"),
            ChecklistItem("training", "Book the training", required=False, role="trainer")])]))
    parent = desk.create_from_template("onboarding", subject="Globex", actor=ANA)
    desk.check_item(parent.id, "account", actor=ANA)
    child = desk.create_case(subject="Seats", actor=ANA)
    checklist = desk.checklist(parent.id, actor=ANA)
    return {"link": desk.link_cases(parent.id, "parent_of", child.id, actor=ANA),
            "checklist": checklist, "item": checklist.items[1],
            "conversion": desk.convert(parent.id, actor=ANA, gateway=_Crm())}


class TestRelationDocuments:
    """Links, checklists and conversions: documents, round trips, typed refusals."""

    @pytest.mark.parametrize("name", ["link", "checklist", "item", "conversion"])
    def test_round_trip(self, worked: dict[str, Any], name: str) -> None:
        """Written, sent through JSON text, read back equal."""
        value = worked["relations"][name]
        doc = through_json(serialize.to_dict(value))
        assert doc["schema"] == 1 and doc["document"] == serialize.KINDS[type(value)]
        assert serialize.from_dict(doc, type(value)) == value

    def test_shapes(self, worked: dict[str, Any]) -> None:
        """What a client reads: the stored link direction, done items with who and when,
        the host's record id."""
        rel = worked["relations"]
        link = serialize.to_dict(rel["link"])
        assert (link["kind"], link["created_by"]) == ("parent_of", "ana")
        checklist = serialize.to_dict(rel["checklist"])
        done_at = rel["checklist"].done["account"][1]
        assert checklist["done"] == {"account": {"by": "ana", "at": done_at.isoformat(
            timespec="microseconds")}}
        assert checklist["open_required"] == [] and checklist["template"] == "onboarding"
        assert serialize.to_dict(rel["conversion"])["record_id"].startswith("opp-")

    @pytest.mark.parametrize(("cls", "name", "change", "field"), [
        (CaseLink, "link", {"kind": "cousin_of"}, "kind"),
        (CaseLink, "link", {"target": None}, "target"),
        (CaseLink, "link", {"created_at": "2026-01-05T09:00:00"}, "created_at"),
        (CaseLink, "link", {"colour": "red"}, "colour"),
        (ChecklistItem, "item", {"id": "Bad Id"}, "id"),
        (ChecklistItem, "item", {"required": "yes"}, "required"),
        (Checklist, "checklist", {"done": {"nope": {"by": "ana", "at": T0.isoformat()}}},
         "done.nope"),
        (Checklist, "checklist", {"items": [{"id": "a", "text": " "}]}, "items[0].text"),
        (Checklist, "checklist", {"items": [{"id": "A", "text": "x"}]}, "items[0].id"),
        (Checklist, "checklist", {"done": {"account": {"by": "ana"}}}, "done.account.at"),
        (Checklist, "checklist", {"done": {1: {"by": "ana"}}}, "done"),
        (Checklist, "checklist", {"done": []}, "done"),
        (Checklist, "checklist", {"items": [{"id": "a", "text": "x"}, {"id": "b", "text": "y"},
                                            {"id": "a", "text": "z"}]}, "items[2].id"),
        (Conversion, "conversion", {"target": "Opportunity!"}, "target"),
        (Conversion, "conversion", {"record_id": 7}, "record_id"),
        (Conversion, "conversion", {"schema": 2}, "schema"),
    ])
    def test_bad_documents(self, worked: dict[str, Any], cls: type, name: str,
                           change: dict[str, Any], field: str) -> None:
        """A typed error naming the offending key."""
        doc = {**serialize.to_dict(worked["relations"][name]), **change}
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict(doc, cls)
        assert info.value.field == field

    def test_self_link_is_refused(self, worked: dict[str, Any]) -> None:
        """A link from a case to itself cannot be read into existence."""
        doc = serialize.to_dict(worked["relations"]["link"])
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict({**doc, "target": doc["source"]}, CaseLink)
        assert info.value.field == "target"


class TestDocuments:
    """The shapes: versioned, JSON-native, and one for each public value."""

    def test_every_kind_is_written_from_a_real_desk(self, worked: dict[str, Any]) -> None:
        """Each value class in KINDS came out of a real desk call and became a document."""
        seen = set()
        for value in worked["values"]:
            doc = serialize.to_dict(value)
            assert doc["schema"] == serialize.SCHEMA == 1
            assert through_json(doc) == doc  # JSON-native: nothing was coerced on the way
            seen.add(doc["document"])
        assert seen == set(serialize.KINDS.values())

    def test_lists_are_documents_too(self, worked: dict[str, Any]) -> None:
        """What suggest_articles or approaching return: one document with items."""
        doc = serialize.to_dict(worked["suggestions"])
        assert doc["schema"] == 1 and doc["document"] == "list"
        assert doc["items"][0]["article_id"] == "kb-1" and "schema" not in doc["items"][0]
        assert serialize.to_dict([]) == {"schema": 1, "document": "list", "items": []}

    def test_no_field_hides_the_envelope(self, worked: dict[str, Any]) -> None:
        """No value has a field named ``schema`` or ``document`` that would overwrite them."""
        for value in worked["values"]:
            fields_only = serialize.to_jsonable(value)
            assert not {"schema", "document"} & set(fields_only), type(value).__name__

    def test_datetimes_carry_their_offset(self, worked: dict[str, Any]) -> None:
        """ISO 8601 with +00:00, fixed width (so the text sorts like the instant)."""
        doc = serialize.to_dict(worked["case"])
        assert doc["created_at"] == "2026-03-02T09:00:00.000000+00:00"
        assert datetime.fromisoformat(doc["created_at"]) == T0
        assert doc["timeline"][0]["at"].endswith("+00:00")

    def test_the_case_shape(self, worked: dict[str, Any]) -> None:
        """Enums as values, sets sorted, links with every name, derived SLA badges."""
        doc = serialize.to_dict(worked["case"])
        assert (doc["document"], doc["priority"], doc["status_category"]) == (
            "case", "urgent", "new")
        assert doc["tags"] == ["hw"] and doc["custom"] == {"seats": 12}
        assert doc["links"] == {"contact": "kim", "account": "A1", "deal": None, "order": None,
                                "order_line": None, "product": None, "installation": None}
        assert doc["breached"] is True and "next_due_at" in doc
        breached = [t for t in doc["sla_targets"] if t["state"] == "breached"]
        assert breached and breached[0]["breached_at"].endswith("+00:00")

    def test_explanations_and_reports(self, worked: dict[str, Any]) -> None:
        """Durations as ISO 8601, breaches with their rungs, suggestions with their reasons."""
        desk, case = worked["desk"], worked["case"]
        due = serialize.to_dict(desk.explain_due(case.id, "resolution", actor=ANA))
        assert due["duration"] == "PT4H" and due["text"].startswith("Resolution target")
        report = serialize.to_dict(worked["report"])
        assert report["cases_breached"] == 1
        assert report["breaches"][0]["new_priority"] == "urgent"
        suggestion = serialize.to_dict(worked["suggestions"][0])
        assert suggestion["rank"] == 1
        assert suggestion["explanation"]["total"] == pytest.approx(suggestion["score"])
        event = serialize.to_dict(worked["events"][0])
        assert event["document"] == "event" and event["type"] == "case.created"

    def test_an_unknown_value_is_refused(self) -> None:
        """A value caselib has no document for is a typed error naming the argument."""
        with pytest.raises(InvalidInput) as info:
            serialize.to_dict(object())
        assert info.value.field == "value"
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict({}, ServiceDesk)
        assert info.value.field == "cls"

    def test_every_public_value_has_a_document(self) -> None:
        """A value class exported from caselib either has a document or a reason here
        (so a value added later is not forgotten)."""
        not_values = {
            "Agent": "directory configuration", "AssignmentStrategy": "configuration",
            "BusinessCalendar": "settings: BusinessCalendar.to_dict",
            "CasePolicy": "settings", "CompiledWorkflow": "settings: Workflow.to_dict",
            "Directory": "a port", "FallbackMap": "settings: FallbackMap.to_dict",
            "Holiday": "settings: Holiday.to_dict (inside due_explanation documents)",
            "KbIndex": "a service (its stats() is kb_stats)",
            "KbSettings": "settings", "Links": "a part of a case document",
            "CaseTemplate": "settings",
            "Attachment": "a part of a case document", "Csat": "a part of a case document",
            "Resolution": "a part of a case document", "MemoryStore": "a store",
            "CustomerReply": "a part of a customer_case document",
            "NumberFormat": "settings", "Router": "settings: RuleSet.to_dicts",
            "RuleSet": "settings: RuleSet.to_dicts", "ServiceDesk": "the facade",
            "SlaPolicies": "settings: SlaPolicies.to_dict",
            "SlaPolicy": "settings: SlaPolicy.to_dict",
            "SlaTargets": "settings: SlaTargets.to_dict", "StaticDirectory": "a port",
            "Status": "settings: Workflow.to_dict", "Store": "a port",
            "SystemClock": "a port", "Team": "directory configuration",
            "TenantSettings": "settings", "Transition": "settings: Workflow.to_dict",
            "UnitOfWork": "a port", "Vocabulary": "settings: Vocabulary.from_dict",
            "Workflow": "settings: Workflow.to_dict",
            "Board": "a screen of summaries: each card is a case_summary document",
            "BoardColumn": "a part of a Board",
            "BranchDirectory": "a port", "BranchRouting": "settings: router configuration",
            "Redactor": "a tool (its output is text)", "ResolutionBoost": "settings: KbSettings",
            "AutomationRule": "settings: AutomationRule.to_dict",
            "DeliveryChannels": "the delivery ports a host plugs in",
            "EscalationLadder": "settings: EscalationLadder.to_dict",
            "EscalationLevel": "settings: EscalationLadder.to_dict",
            "MailSettings": "the e-mail channel's configuration (keys, ports)",
            "MailOutcome": "a command's report (ingest_mail), not stored",
            "ReopenPolicy": "settings: TenantSettings.reopen",
        }
        written = {cls.__name__ for cls in serialize.KINDS}
        classes = {name for name in caselib.__all__
                   if inspect.isclass(obj := getattr(caselib, name))
                   and not issubclass(obj, (BaseException, enum.Enum))}
        assert sorted(classes - written - set(not_values)) == []


class TestCustomerShape:
    """What a customer may see is built from CustomerView only."""

    def test_no_internal_or_system_entry(self, worked: dict[str, Any]) -> None:
        """The public replies and nothing else: no note, no activity, no owner, no SLA."""
        desk, case = worked["desk"], worked["case"]
        doc = serialize.customer_case(desk.customer_view(case.id, actor=ANA))
        text = json.dumps(doc)
        assert "SECRET-NOTE" not in text and "engineering" not in text
        assert [r["body"] for r in doc["replies"]] == ["Which tray?", "Tray two"]
        assert [r["from_customer"] for r in doc["replies"]] == [False, True]
        assert set(doc) == {"number", "subject", "status", "status_label", "status_category",
                            "created_at", "updated_at", "resolution", "replies",
                            "can_reopen", "can_rate", "reply_opens_follow_up"}
        # an open case: nothing to reopen or rate, and a reply is a reply
        assert (doc["can_reopen"], doc["can_rate"], doc["reply_opens_follow_up"]) == (
            False, False, False)
        assert serialize.to_dict(desk.customer_view(case.id, actor=ANA)) == {
            "schema": 1, "document": "customer_case", **doc}

    def test_a_case_is_refused(self, worked: dict[str, Any]) -> None:
        """Handing it the case itself is a typed error, not a leak."""
        with pytest.raises(InvalidInput, match="internal notes"):
            serialize.customer_case(worked["case"])  # type: ignore[arg-type]

    def test_redacted_replies_are_blank(self, worked: dict[str, Any]) -> None:
        """A redacted public reply keeps its place with its text removed."""
        desk, case = worked["desk"], worked["case"]
        seq = next(e.seq for e in case.timeline if e.body == "Which tray?")
        desk.redact_comment(case.id, seq, reason="wrong case", actor=ANA)
        replies = serialize.customer_case(desk.customer_view(case.id, actor=ANA))["replies"]
        assert replies[0]["redacted"] is True and replies[0]["body"] == ""


def _case_doc(worked: dict[str, Any]) -> dict[str, Any]:
    desk, case = worked["desk"], worked["case"]
    desk.add_attachment(case.id, actor=ANA, name="jam.png", content_type="image/png", size=10,
                        sha256="a" * 64, storage_key="blob/1")
    doc = serialize.to_dict(desk.get_case(case.id, actor=ANA))
    return through_json(doc)  # type: ignore[no-any-return]


def _set(doc: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    out = copy.deepcopy(doc)
    target = out
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return out


_DELETE = object()

BAD_CASES = [
    (("id",), _DELETE, InvalidInput, "id"),
    (("subject",), "ab\ud800cd", InvalidInput, "subject"),
    (("subject",), "x" * 251, TextTooLong, "subject"),
    (("description",), "nul\x00", InvalidInput, "description"),
    (("priority",), "asap", UnknownValue, "priority"),
    (("tags",), "vip", InvalidInput, "tags"),
    (("tags",), ["ok", 5], InvalidInput, "tags[1]"),
    (("version",), True, InvalidInput, "version"),
    (("version",), 2**80, InvalidInput, "version"),
    (("version",), -1, InvalidInput, "version"),
    (("assigned_manually",), "no", InvalidInput, "assigned_manually"),
    (("colour",), "red", InvalidInput, "colour"),
    (("schema",), 2, InvalidInput, "schema"),
    (("schema",), "1", InvalidInput, "schema"),
    (("document",), "page", InvalidInput, "document"),
    (("created_at",), "2026-03-02T09:00:00", NaiveDatetime, "created_at"),
    (("created_at",), "yesterday", InvalidInput, "created_at"),
    (("timeline", 1, "at"), "2026-03-02T09:00:00", NaiveDatetime, "timeline[1].at"),
    (("timeline", 0, "seq"), 5, InvalidInput, "timeline[0].seq"),
    (("timeline", 0, "audience"), "everyone", UnknownValue, "timeline[0].audience"),
    (("timeline", 0, "data"), [1, 2], InvalidInput, "timeline[0].data"),
    (("timeline", 0, "data"), {"x": float("inf")}, InvalidInput, "timeline[0].data.x"),
    (("timeline", 0), "entry", InvalidInput, "timeline[0]"),
    (("attachments", 0, "sha256"), "nothex", InvalidInput, "attachments[0].sha256"),
    (("attachments", 0, "size"), -1, InvalidInput, "attachments[0].size"),
    (("links",), {"planet": "x"}, InvalidInput, "links.planet"),
    (("links", "account"), 5, InvalidInput, "links.account"),
    (("custom",), {"Bad Key": 1}, InvalidInput, "custom"),
    (("custom",), {"seats": [1]}, InvalidInput, "custom.seats"),
    (("csat",), {"score": 9, "at": "2026-03-02T09:00:00+00:00", "by": "kim"},
     InvalidInput, "csat.score"),
    (("sla_targets",), [{"name": "resolution", "state": "late"}], UnknownValue,
     "sla_targets[0].state"),
    (("pauses",), {"start": "x"}, InvalidInput, "pauses"),
]


class TestBadDocuments:
    """A bad document raises InvalidInput naming the field by its path, and only that."""

    @pytest.mark.parametrize(("path", "value", "error", "field"), BAD_CASES,
                             ids=[".".join(map(str, c[0])) + f"={c[1]!r:.20}"
                                  for c in BAD_CASES])
    def test_case_documents(self, worked: dict[str, Any], path: tuple[Any, ...],
                            value: Any, error: type[InvalidInput], field: str) -> None:
        """Each broken key is named (``timeline[1].at``, ``links.planet`` …)."""
        doc = _set(_case_doc(worked), path, value)
        with pytest.raises(error) as info:
            serialize.from_dict(doc, Case)
        assert info.value.field == field

    def test_not_an_object(self) -> None:
        """A list or text where a document goes."""
        for data in ([], "case", None, 5):
            with pytest.raises(InvalidInput) as info:
                serialize.from_dict(data, Case)
            assert info.value.field == "document"

    @pytest.mark.parametrize(("data", "field"), [
        ({"unassigned": "no"}, "unassigned"),
        ({"breached": "false"}, "breached"),
        ({"statuses": "open"}, "statuses"),
        ({"statuses": ["open", None]}, "statuses[1]"),
        ({"priorities": ["asap"]}, "priorities[0]"),
        ({"status_categories": [3]}, "status_categories[0]"),
        ({"limit": 0}, "limit"),
        ({"limit": "50"}, "limit"),
        ({"limit": 2**80}, "limit"),
        ({"order": "random"}, "order"),
        ({"statuss": ["open"]}, "statuss"),
        ({"due_before": "2026-03-02T09:00:00"}, "due_before"),
        ({"after": {"x": 1}}, "after"),
        ({"teams": ["a"] * 1001}, "teams"),
    ])
    def test_query_filters(self, data: dict[str, Any], field: str) -> None:
        """Filters from a list screen: the domain decides once what a wrong type means."""
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict(data, CaseQuery)
        assert info.value.field == field

    def test_query_defaults(self) -> None:
        """Every key is optional: ``{}`` is the default query."""
        assert serialize.from_dict({}, CaseQuery) == CaseQuery()
        assert serialize.from_dict({"priorities": ["critical"]}, CaseQuery).priorities == {
            caselib.Priority.URGENT}

    @pytest.mark.parametrize(("data", "field"), [
        ({"id": ""}, "id"),
        ({"id": 5}, "id"),
        ({}, "id"),
        ({"id": "x", "kind": "robot"}, "kind"),
        ({"id": "x", "roles": "admin"}, "roles"),
        ({"id": "x", "name": 7}, "name"),
    ])
    def test_actors(self, data: dict[str, Any], field: str) -> None:
        """An actor a host received (from a session, a queue) is checked the same way."""
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict(data, Actor)
        assert info.value.field == field

    @pytest.mark.parametrize(("data", "field"), [
        ({"id": "a", "title": "t"}, "updated_at"),
        ({"id": "a", "title": "t", "updated_at": "2026-03-02T09:00:00+00:00",
          "status": "live"}, "status"),
        ({"id": "a", "title": "t" * 501, "updated_at": "2026-03-02T09:00:00+00:00"}, "title"),
        ({"id": "a", "title": "t", "updated_at": "2026-03-02T09:00:00+00:00",
          "tags": ["x", ""]}, "tags[1]"),
    ])
    def test_articles(self, data: dict[str, Any], field: str) -> None:
        """An article an editor sent."""
        with pytest.raises(InvalidInput) as info:
            serialize.from_dict(data, Article)
        assert info.value.field == field


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                max_size=3),
    max_leaves=8)


@pytest.fixture(scope="module")
def case_doc() -> dict[str, Any]:
    clock = FrozenClock(T0)
    desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
    case = desk.create_case(subject="Printer", actor=ANA, links={"account": "A1"})
    desk.add_comment(case.id, "hello", actor=ANA, audience="public")
    desk.add_attachment(case.id, actor=ANA, name="a.png", content_type="image/png", size=1,
                        sha256="b" * 64, storage_key="k")
    return through_json(serialize.to_dict(desk.get_case(case.id, actor=ANA)))  # type: ignore[no-any-return]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out.extend(_paths(v, (*prefix, i)))
    return out


class TestFuzz:
    """Any JSON put anywhere in a valid document gives a value or an InvalidInput."""

    @given(st.data())
    def test_case_documents(self, case_doc: dict[str, Any], data: st.DataObject) -> None:
        """No TypeError, KeyError or AttributeError escapes from deep inside."""
        path = data.draw(st.sampled_from(_paths(case_doc)))
        doc = _set(case_doc, path, data.draw(_JSON))
        try:
            value = serialize.from_dict(doc, Case)
        except InvalidInput:
            return
        assert isinstance(value, Case)

    @given(st.dictionaries(st.sampled_from(
        ["statuses", "priorities", "status_categories", "unassigned", "breached", "limit",
         "order", "after", "due_before", "tags", "teams"]), _JSON, max_size=4))
    def test_query_documents(self, data: dict[str, Any]) -> None:
        """Filters of any JSON type: a query or an InvalidInput."""
        try:
            value = serialize.from_dict(data, CaseQuery)
        except InvalidInput:
            return
        assert isinstance(value, CaseQuery)


class TestReaderFastPaths:
    """The reader's shortcuts for common values agree with its full checks."""

    @given(st.text(max_size=12) | st.sampled_from(["", " ", "\x1f", "a\x00", "ab\ud800"]),
           st.integers(0, 12), st.booleans())
    def test_text(self, value: str, limit: int, empty: bool) -> None:
        """A value the shortcut lets through passes the full check unchanged."""
        from caselib.serialize._read import _plain_text, check_text

        if _plain_text(value, limit, empty):
            assert check_text(value, "f", limit=limit, empty=empty) == value

    @given(st.datetimes(timezones=st.timezones()))
    def test_instants(self, value: datetime) -> None:
        """Any offset reads back as the same instant in UTC."""
        from caselib.serialize._read import _instant

        parsed = _instant(value.isoformat(), "at")
        # astimezone, not ==: PEP 495 makes a repeated local time unequal to every other zone
        assert parsed == value.astimezone(UTC) and parsed.utcoffset() == timedelta(0)
