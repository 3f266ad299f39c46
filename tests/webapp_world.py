"""The reference web app (examples/webapp) over a fresh SQLite desk, for its tests."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from caselib import Actor, ServiceDesk, TenantSettings
from caselib._webdemo import load_app_module
from caselib.access import AccessPolicy
from caselib.kb import Article
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
INTERNAL = "Internal: looks like the 3.2 client bug"
PUBLIC = "Could you send the client log?"


def make_desk(path: Path) -> ServiceDesk:
    """A desk with the default access policy, one KB article and one customer case that
    has an internal note and a public reply."""
    desk = ServiceDesk(SqliteStore(path), tenant="acme", clock=FrozenClock(T0),
                       settings=TenantSettings(access=AccessPolicy.default()))
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
