"""Case templates with checklists: pre-filled fields, items checked on the timeline, and the
checklist gate on resolve and close."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from caselib import (
    Actor,
    Audience,
    CaseTemplate,
    ChecklistIncomplete,
    ChecklistItem,
    InvalidConfiguration,
    InvalidInput,
    MemoryStore,
    Priority,
    ServiceDesk,
    TenantSettings,
    UnknownValue,
)
from caselib.ports import Store
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana", name="Ana")
BO = Actor.agent("bo")

ONBOARDING = CaseTemplate(
    "onboarding",
    [ChecklistItem("account", "Create the account"),
     ChecklistItem("training", "Book the training", required=False, role="trainer"),
     ChecklistItem("welcome", "Send the welcome pack")],
    fields={"category": "Account", "priority": "high", "case_type": "onboarding",
            "tags": ["onboarding"], "custom": {"tier": "gold", "seats": 5},
            "description": "Company:\nSeats:\nStart date:"},
)


def _desk(store: Store, *templates: CaseTemplate) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0),
                       settings=TenantSettings(templates=templates or (ONBOARDING,)))


def _to_pending(desk: ServiceDesk, case_id: str) -> None:
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case_id, to, actor=ANA)


class TestTemplates:
    """Opening from a template, checking items, the gate (every store)."""

    def test_prefill_checklist_and_gate(self, make_store: Callable[[], Store]) -> None:
        """Fields pre-filled (caller overrides, custom merged); the gate names open items."""
        desk = _desk(make_store())
        case = desk.create_from_template("onboarding", subject="Globex onboarding",
                                         actor=ANA, custom={"seats": 9}, priority="normal")
        assert (case.category, case.case_type) == ("Account", "onboarding")
        assert set(case.tags) == {"onboarding"}
        assert case.priority is Priority.NORMAL
        assert dict(case.custom) == {"tier": "gold", "seats": 9}
        assert case.description.startswith("Company:")
        checklist = desk.checklist(case.id, actor=ANA)
        assert [i.id for i in checklist.items] == ["account", "training", "welcome"]
        assert checklist.open_required == ("account", "welcome")
        _to_pending(desk, case.id)
        with pytest.raises(ChecklistIncomplete) as refused:
            desk.resolve(case.id, "Done", actor=ANA)
        assert refused.value.items == ("account", "welcome")
        assert "'account', 'welcome'" in str(refused.value)
        assert refused.value.to_dict()["items"] == ["account", "welcome"]
        desk.check_item(case.id, "account", actor=ANA)
        desk.check_item(case.id, "welcome", actor=BO)
        desk.check_item(case.id, "welcome", actor=BO, done=False)
        with pytest.raises(ChecklistIncomplete, match="'welcome'"):
            desk.transition(case.id, "resolved", actor=ANA, note="Done")
        again = desk.check_item(case.id, "welcome", actor=BO)
        stamp = again.version
        assert desk.check_item(case.id, "welcome", actor=BO).version == stamp  # no-op
        done = desk.checklist(case.id, actor=ANA).done
        assert done["account"] == ("ana", T0) and done["welcome"][0] == "bo"
        entries = [e for e in desk.get_case(case.id, actor=ANA).timeline
                   if e.kind.startswith("checklist")]
        assert [e.kind for e in entries] == ["checklist", "checklist_checked",
                                             "checklist_checked", "checklist_unchecked",
                                             "checklist_checked"]
        assert all(e.audience is Audience.SYSTEM for e in entries)
        assert desk.resolve(case.id, "Done", actor=ANA).status == "resolved"


class TestTemplateInput:
    """Bad templates and bad calls are refused, naming what to fix (memory store)."""

    def test_refusals(self) -> None:
        """Unknown template or item, a non-create argument, a gate-free template."""
        desk = _desk(MemoryStore())
        with pytest.raises(UnknownValue, match="onboarding"):
            desk.create_from_template("offboarding", subject="x", actor=ANA)
        with pytest.raises(InvalidInput, match="status"):
            desk.create_from_template("onboarding", subject="x", actor=ANA, status="open")
        case = desk.create_from_template("onboarding", subject="x", actor=ANA)
        with pytest.raises(UnknownValue, match="account"):
            desk.check_item(case.id, "acount", actor=ANA)
        plain = desk.create_case(subject="No template", actor=ANA)
        assert desk.checklist(plain.id, actor=ANA).items == ()
        with pytest.raises(InvalidConfiguration):
            ChecklistItem("Bad Id", "x")
        with pytest.raises(InvalidConfiguration):
            CaseTemplate("t", [ChecklistItem("a", "x"), ChecklistItem("a", "y")])
        with pytest.raises(InvalidConfiguration):
            TenantSettings(templates=[CaseTemplate("t"), CaseTemplate("t")])
        with pytest.raises(InvalidConfiguration, match="status"):
            CaseTemplate("t", fields={"status": "open"})

    def test_template_without_gate(self) -> None:
        """gate_resolve=False: the checklist is advice, the resolve goes through."""
        loose = CaseTemplate("loose", [ChecklistItem("a", "Do A")], gate_resolve=False)
        desk = _desk(MemoryStore(), loose)
        case = desk.create_from_template("loose", subject="x", actor=ANA)
        _to_pending(desk, case.id)
        assert desk.resolve(case.id, "Done", actor=ANA).status == "resolved"
