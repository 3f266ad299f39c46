"""What the reference web app needed from caselib: the portal's own-case list
(``ServiceDesk.customer_cases``) and the buttons an actor may see (``case_actions``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from caselib import (
    Actor,
    InvalidInput,
    MemoryStore,
    NoteRequired,
    PermissionDenied,
    ServiceDesk,
    TenantSettings,
    WrongType,
)
from caselib.access import AccessPolicy, can_open_cases, case_actions
from caselib.cases import ReopenPolicy, Status, Transition, Workflow
from caselib.ports import Store
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


SERVICE = Workflow("service", [
    Status("todo", "new"), Status("doing", "open"), Status("blocked", "waiting"),
    Status("done", "resolved"), Status("wont_fix", "resolved"), Status("archived", "closed")],
    [Transition("todo", "doing"), Transition("doing", "blocked", gates={"note"}),
     Transition("blocked", "doing"), Transition("doing", "done", gates={"assignee"}),
     Transition("doing", "wont_fix"), Transition("done", "archived"),
     Transition("done", "doing"), Transition("archived", "doing")])
"""A tenant's workflow with none of the presets' status names (``done`` is resolved,
``archived`` closed), a second resolved status and gates on two moves."""


def service_desk(store: Store, **settings: object) -> ServiceDesk:
    return ServiceDesk(store, tenant="acme", clock=FrozenClock(T0), settings=TenantSettings(
        workflow=SERVICE, access=AccessPolicy.default(), **settings))  # type: ignore[arg-type]


def test_case_actions_follow_the_workflow_categories_not_status_names(
        make_store: Callable[[], Store]) -> None:
    """The forms of a case page, on a case loaded back from each store: resolve / close /
    reopen targets come from the workflow's categories (the statuses the commands pick),
    their gates from the workflow, and the access policy still decides who gets them."""
    desk = service_desk(make_store())
    ana = Actor.agent("ana", "support_lead", teams={"support"})
    bo = Actor.agent("bo", "support", teams={"support"})
    cid = desk.create_case(subject="VPN", actor=ana, team="support").id

    def actions(actor: Actor) -> object:
        return desk.case_actions(desk.get_case(cid, actor=Actor.system()), actor=actor)

    new = desk.case_actions(desk.get_case(cid, actor=ana), actor=ana)
    assert new.moves == ("doing",) and not (new.can_resolve or new.can_close or new.can_reopen)
    desk.transition(cid, "doing", actor=ana)
    doing = desk.case_actions(desk.get_case(cid, actor=ana), actor=ana)
    assert doing.resolve_to == "done" and doing.can_resolve and doing.resolve_needs_note
    assert doing.resolve_gates == {"note", "assignee"} and not doing.can_close
    assert doing.moves == ("blocked", "wont_fix") and doing.note_moves == {"blocked", "wont_fix"}
    assert not doing.can_reopen
    support = actions(bo)  # may work, may not resolve: no resolve form, no resolved moves
    assert support.moves == ("blocked",) and not support.can_resolve and support.work
    with pytest.raises(PermissionDenied):
        desk.resolve(cid, "fixed", actor=bo)
    with pytest.raises(NoteRequired):  # the gate the actions named
        desk.transition(cid, "blocked", actor=ana)
    desk.assign(cid, assignee="ana", actor=ana)
    assert desk.resolve(cid, "fixed", actor=ana).status == doing.resolve_to
    done = desk.case_actions(desk.get_case(cid, actor=ana), actor=ana)
    assert (done.close_to, done.reopen_to, done.resolve_to) == ("archived", "doing", None)
    assert done.can_close and done.can_reopen and done.moves == ()
    assert done.close_gates == {"note"}
    assert desk.close(cid, "bye", actor=ana, csat=5).status == done.close_to
    archived = desk.case_actions(desk.get_case(cid, actor=ana), actor=ana)
    assert archived.reopen_to == "doing" and not archived.can_close and archived.moves == ()
    assert desk.reopen(cid, actor=ana).status == archived.reopen_to
    exe = actions(Actor.agent("eve", "executive"))
    assert exe.read and not exe.any_write and exe.moves == () and not exe.can_resolve


def test_a_customer_is_offered_reopen_inside_the_window_only() -> None:
    """A customer's reopen follows the tenant's reopen policy, as the reopen command does."""
    desk = service_desk(MemoryStore(), reopen=ReopenPolicy(grace=timedelta(days=7)))
    ana = Actor.agent("ana", "admin")
    jane = Actor.customer("jane", "Jane")
    cid = desk.create_case(subject="VPN", actor=jane).id
    desk.transition(cid, "doing", actor=ana)
    desk.assign(cid, assignee="ana", actor=ana)
    desk.resolve(cid, "fixed", actor=ana)
    offered = desk.case_actions(desk.get_case(cid, actor=Actor.system()), actor=jane)
    assert offered.reopen_to == "doing" and offered.moves == () and not offered.can_close
    desk.clock.advance(days=8)  # type: ignore[attr-defined]
    late = desk.case_actions(desk.get_case(cid, actor=Actor.system()), actor=jane)
    assert not late.can_reopen and late.reply and late.rate
    stranger = desk.case_actions(desk.get_case(cid, actor=Actor.system()),
                                 actor=Actor.customer("joe"))
    assert not stranger.read and not stranger.can_reopen
    with pytest.raises(WrongType):
        desk.case_actions(cid, actor=ana)  # type: ignore[arg-type]


def test_explain_dues_explains_every_badge_from_the_loaded_case(
        make_store: Callable[[], Store]) -> None:
    """One explanation per SLA target, equal to ``explain_due``'s, without a store read."""
    store = make_store()
    desk = ServiceDesk(store, tenant="acme", clock=FrozenClock(T0),
                       settings=TenantSettings(access=AccessPolicy.default()))
    ana = Actor.agent("ana", "admin")
    case = desk.get_case(desk.create_case(subject="VPN", actor=ana).id, actor=ana)
    desk.clock.advance(hours=1)  # type: ignore[attr-defined]
    dues = desk.explain_dues(case, actor=ana)
    assert list(dues) == [t.name for t in case.sla_targets] and dues
    for name, explained in dues.items():
        assert explained == desk.explain_due(case.id, name, actor=ana)
    with pytest.raises(PermissionDenied):
        desk.explain_dues(case, actor=Actor.customer("joe"))
    with pytest.raises(WrongType):
        desk.explain_dues(case.id, actor=ana)  # type: ignore[arg-type]
    off = ServiceDesk(store, tenant="acme", clock=FrozenClock(T0),
                      settings=TenantSettings(sla=None))
    assert off.explain_dues(case, actor=ana) == {}
