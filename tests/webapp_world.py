"""The reference web app (examples/webapp) over a fresh SQLite desk, for its tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from caselib import Actor, MailSettings, ServiceDesk, TenantSettings
from caselib._webdemo import load_app_module
from caselib.access import AccessPolicy
from caselib.cases import CaseTemplate, ChecklistItem, Workflow
from caselib.kb import Article
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INTERNAL = "Internal: looks like the 3.2 client bug"
PUBLIC = "Could you send the client log?"
ROLLOUT = CaseTemplate("rollout", [ChecklistItem("installer", "Send the 3.3 installer link"),
                                   ChecklistItem("verify", "Verify the tunnel stays up")])


def make_desk(path: Path, workflow: Workflow | None = None) -> ServiceDesk:
    """A desk with the default access policy, one KB article and one customer case that
    has an internal note and a public reply (``workflow``: the tenant's own lifecycle
    instead of the default one)."""
    desk = ServiceDesk(SqliteStore(path), tenant="acme", clock=FrozenClock(T0),
                       settings=TenantSettings(access=AccessPolicy.default(),
                                               templates=(ROLLOUT,),
                                               workflow=workflow or Workflow.default()))
    admin = Actor.agent("lee", "admin")
    desk.put_article(Article(id="kb-vpn", title="VPN drops every hour",
                             body="Upgrade the VPN client to 3.3.", updated_at=T0), actor=admin)
    jane = Actor.customer("jane@example.com", "Jane", account="acc-7")
    case = desk.create_case(subject="VPN drops every hour", actor=jane, category="Technical",
                            source="portal")
    desk.add_comment(case.id, INTERNAL, actor=admin)
    desk.add_comment(case.id, PUBLIC, actor=admin, audience="public")
    return desk


def make_app(desk: ServiceDesk) -> Any:
    """The example app's Starlette object over ``desk``."""
    return load_app_module().create_app(desk)


def add_agent_side(desk: ServiceDesk, first: str) -> str:
    """A second case of Jane's that has everything only agents may see: a template's
    checklist (one item checked), a link to ``first``, an e-mail thread and an automation
    that fired on it. Returns its id."""
    admin = Actor.agent("lee", "admin")
    desk.mail = MailSettings("help@support.test")
    desk.enable_automation_preset("ack_email", actor=admin)
    case = desk.create_from_template("rollout", subject="Roll out VPN client 3.3",
                                     actor=admin, links={"contact": "jane@example.com",
                                                         "account": "acc-7"})
    desk.run_automations()
    desk.check_item(case.id, "installer", actor=admin)
    desk.link_cases(case.id, "related", first, actor=admin)
    desk.reply_by_mail(case.id, "The installer is on its way.", actor=admin)
    return case.id
