"""What the reference web app needed from caselib: the portal's own-case list
(``ServiceDesk.customer_cases``) and the buttons an actor may see (``case_actions``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from caselib import Actor, InvalidInput, MemoryStore, ServiceDesk, TenantSettings
from caselib.access import AccessPolicy, can_open_cases, case_actions
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk() -> ServiceDesk:
    return ServiceDesk(MemoryStore(), tenant="acme",
                       settings=TenantSettings(access=AccessPolicy.default()),
                       clock=FrozenClock(T0))


def test_customer_cases_lists_own_cases_newest_first(desk: ServiceDesk) -> None:
    jane = Actor.customer("jane", "Jane", account="acc-1")
    joe = Actor.customer("joe", "Joe", account="acc-2")
    mo = Actor.agent("mo", "manager")
    first = desk.create_case(subject="VPN", actor=jane)
    desk.clock.advance(minutes=1)  # type: ignore[attr-defined]
    second = desk.create_case(subject="Invoice", actor=jane)
    desk.create_case(subject="Other", actor=joe)
    desk.create_case(subject="Internal", actor=mo)
    page = desk.customer_cases(actor=jane)
    assert [s.id for s in page.items] == [second.id, first.id]
    for summary in page.items:  # exactly what customer_view opens
        assert desk.customer_view(summary.id, actor=jane).subject == summary.subject
    with pytest.raises(InvalidInput):
        desk.customer_cases(actor=mo)


def test_case_actions_follow_the_policy(desk: ServiceDesk) -> None:
    policy = AccessPolicy.default()
    jane = Actor.customer("jane", "Jane")
    case = desk.create_case(subject="VPN", actor=Actor.agent("mo", "manager"), team="support",
                            links={"contact": "jane"})
    lead = case_actions(policy, Actor.agent("ana", "support_lead", teams={"support"}), case)
    assert lead.resolve and lead.comment and lead.escalate and not lead.rate
    agent = case_actions(policy, Actor.agent("bo", "support", teams={"support"}), case)
    assert agent.comment and not agent.resolve
    exe = case_actions(policy, Actor.agent("eve", "executive"), case)
    assert exe.read and not exe.any_write
    own = case_actions(policy, jane, case)
    assert own.read and own.reply and own.rate and not own.comment and not own.resolve
    stranger = case_actions(policy, Actor.customer("joe"), case)
    assert not stranger.read and not stranger.any_write
    assert not can_open_cases(policy, Actor.agent("eve", "executive"))
    assert can_open_cases(policy, jane) and can_open_cases(policy, Actor.agent("bo", "support"))


def test_the_desk_names_the_policy_it_enforces(desk: ServiceDesk) -> None:
    """``desk.access`` is what a screen hands ``case_actions``: the tenant's policy, or the
    unrestricted one the desk enforces when the tenant set none (so a host never re-derives
    that fallback and offers a button the desk would refuse)."""
    assert desk.access is desk.settings.access
    bare = ServiceDesk(MemoryStore(), tenant="acme", clock=FrozenClock(T0))
    assert bare.settings.access is None
    eve = Actor.agent("eve", "executive")
    case = bare.create_case(subject="VPN", actor=eve, team="support")
    actions = case_actions(bare.access, eve, case)
    assert actions.resolve and can_open_cases(bare.access, eve)  # no roles without a policy
    bare.add_comment(case.id, "shown, so allowed", actor=eve)
    strict = case_actions(desk.access, eve, case)
    assert not strict.any_write and not can_open_cases(desk.access, eve)


def test_demo_web_without_the_extra_says_so_and_exits_2(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from caselib import _webdemo
    from caselib.cli import main

    monkeypatch.setattr(_webdemo, "WEB_MODULES", ("starlette", "no_such_web_module_xyz"))
    assert main(["demo", "--web", "--store", "memory"]) == 2
    err = capsys.readouterr().err
    assert "web extra" in err and "no_such_web_module_xyz" in err
    assert "pip install 'caselib-engine[web]'" in err


def test_demo_web_on_a_busy_port_says_which_option_and_exits_2(
        capsys: pytest.CaptureFixture[str]) -> None:
    """A taken port is refused before seeding, naming ``--port`` (it was a server error
    after the "serving on" line, exit 3)."""
    pytest.importorskip("uvicorn")
    import socket

    from caselib.cli import main

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        assert main(["demo", "--web", "--store", "memory", "--port", str(port)]) == 2
    captured = capsys.readouterr()
    assert f"127.0.0.1:{port}" in captured.err and "--port N" in captured.err
    assert "serving on" not in captured.out
    assert main(["demo", "--web", "--store", "memory", "--port", "70000"]) == 2
    assert "1 to 65535" in capsys.readouterr().err
