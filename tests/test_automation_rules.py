"""Automation rules as data: parsing, validation, templates, timing and the presets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest

from caselib import InvalidConfiguration, UnknownValue
from caselib.automation import (
    PRESETS,
    AutomationRule,
    EventTrigger,
    Template,
    TimeTrigger,
    add_business_days,
    preset,
    rules_for_event,
)
from caselib.vocab import StatusCategory


class TestParse:
    """The JSON form round-trips and every mistake is a typed error naming the valid ones."""

    RAW: ClassVar[dict[str, object]] = {
        "id": "crit", "name": "Critical", "trigger": {"event": "case.created"},
        "when": {"field": "priority", "equals": "urgent"},
        "actions": [{"do": "webhook", "url": "https://hooks.example/x"},
                    {"do": "note", "body": "webhook sent"}],
    }

    def test_round_trip(self) -> None:
        rule = AutomationRule.from_dict(self.RAW)
        assert AutomationRule.from_dict(rule.to_dict()) == rule

    def test_every_preset_round_trips(self) -> None:
        for name in PRESETS:
            rule = preset(name)
            assert AutomationRule.from_dict(rule.to_dict()) == rule

    @pytest.mark.parametrize(("patch", "names"), [
        ({"trigger": {"event": "case.explodes"}}, "case.created"),
        ({"actions": [{"do": "launch"}]}, "webhook"),
        ({"when": {"field": "colour", "equals": "red"}}, "priority"),
        ({"trigger": {"time": {"since": "lunch", "days": 1}}}, "resolved"),
        ({"actions": [{"do": "set_field", "field": "status", "value": "x"}]}, "severity"),
        ({"colour": 1}, "trigger"),
    ])
    def test_unknown_names_list_the_valid_ones(self, patch: dict[str, object],
                                               names: str) -> None:
        with pytest.raises(InvalidConfiguration if "when" in patch else UnknownValue,
                           match=names):
            AutomationRule.from_dict({**self.RAW, **patch})

    def test_unknown_value_is_invalid_input(self) -> None:
        with pytest.raises(InvalidConfiguration):
            AutomationRule.from_dict({**self.RAW, "actions": []})

    def test_sla_warning_event_is_a_time_trigger(self) -> None:
        rule = AutomationRule.from_dict({**self.RAW, "trigger": {"event": "case.sla_warning"}})
        assert rule.trigger == TimeTrigger("sla_warning")


class TestTemplates:
    """Templates substitute once, from a fixed list; customer templates see the public side."""

    def test_customer_template_cannot_name_internal_fields(self) -> None:
        with pytest.raises(InvalidConfiguration, match="last_note"):
            Template("x", "{{ case.last_note }}")

    def test_values_are_not_rendered_again(self) -> None:
        t = Template("{{ case.subject }}", "{{ case.subject }}")
        subject, body = t.render({"case.subject": "{{ case.last_note }}\nBcc: x"})
        assert body == "{{ case.last_note }}\nBcc: x"
        assert "\n" not in subject

    def test_format_syntax_is_plain_text(self) -> None:
        t = Template("{case.__class__}", "{0.__globals__}")
        assert t.render({}) == ("{case.__class__}", "{0.__globals__}")


class TestTiming:
    """Business days and event-rule selection."""

    def test_business_days_skip_weekends(self) -> None:
        fri = datetime(2026, 1, 9, 10, tzinfo=UTC)
        assert add_business_days(fri, 1) == fri + timedelta(days=3)
        assert add_business_days(fri, 5) == fri + timedelta(days=7)
        sat = datetime(2026, 1, 10, 10, tzinfo=UTC)
        assert add_business_days(sat, 0) == sat + timedelta(days=2)

    def test_a_rule_never_retriggers_itself(self) -> None:
        rule = AutomationRule("r", EventTrigger("case.status_changed"),
                              [{"do": "note", "body": "x"} and
                               AutomationRule.from_dict({**TestParse.RAW}).actions[1]])
        assert rules_for_event([rule], "case.status_changed", "ana") == [rule]
        assert rules_for_event([rule], "case.status_changed", "automation:r") == []

    def test_time_trigger_validates(self) -> None:
        with pytest.raises(InvalidConfiguration, match="whole days"):
            TimeTrigger("category", timedelta(hours=5), StatusCategory.WAITING, business=True)


class TestCompiledTimeRules:
    """The sweep's compiled time rules give the rule-by-rule verdicts."""

    WHENS: ClassVar[list[object]] = [
        {"field": "category", "equals": "technical"}, {"field": "category", "equals": "nope"},
        {"field": "priority", "in": ["high", "normal"]},
        {"not": {"field": "severity", "exists": True}},
        {"field": "category", "prefix": "tech"}, {"all": []},
        {"any": [{"field": "category", "equals": "x"}, {"field": "tags", "equals": "vip"}]},
    ]

    def _case(self) -> object:
        from caselib import Actor, MemoryStore, ServiceDesk
        from caselib.testing import FrozenClock

        at = datetime(2026, 3, 2, 9, tzinfo=UTC)
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=FrozenClock(at))
        agent = Actor.agent("ana")
        case = desk.create_case(subject="Printer jams", actor=agent, category="Technical",
                                tags=["vip"], links={"contact": "c@example.com"})
        for status in ("open", "in_progress", "pending_customer"):
            case = desk.transition(case.id, status, actor=agent)
        return case

    def test_candidates_and_next_time_match_the_naive_loop(self) -> None:
        from caselib.automation import TimeRules, rule_matches, time_occurrence
        from caselib.desk.triage import routing_facts

        case = self._case()
        rules = [AutomationRule.from_dict({
            "id": f"r{i}", "when": when, "actions": [{"do": "note", "body": "x"}],
            "trigger": {"time": {"since": "category", "category": "waiting",
                                 "days": i % 3}}})
            for i, when in enumerate(self.WHENS)]
        facts = routing_facts(case)  # type: ignore[arg-type]
        compiled = TimeRules(rules)
        mask = compiled.candidates(facts)
        for position, rule in enumerate(rules):
            if rule_matches(rule, facts):
                assert mask >> position & 1, rule.id
        start = datetime(2026, 3, 2, 9, tzinfo=UTC)
        for now in (start, start + timedelta(days=1, hours=1), start + timedelta(days=5)):
            for applied in (set(), {(r.id, time_occurrence(r.trigger, case).key)  # type: ignore[arg-type, union-attr]
                                    for r in rules[:3]}):
                naive = None
                for rule in rules:
                    occ = time_occurrence(rule.trigger, case)  # type: ignore[arg-type]
                    if occ is None or (rule.id, occ.key) in applied:
                        continue
                    if occ.due_at <= now and not rule_matches(rule, facts):
                        continue
                    naive = occ.due_at if naive is None else min(naive, occ.due_at)
                assert compiled.next_at(case, facts, applied, now, {}) == naive  # type: ignore[arg-type]
