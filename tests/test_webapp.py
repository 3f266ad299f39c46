"""The reference web app (examples/webapp) without a browser: Starlette's TestClient.

Every page renders for the users it is for, caselib errors become their HTTP status, an
executive's forced writes are refused with 403, and no portal page carries an internal note
or a system entry.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
from markupsafe import escape

with warnings.catch_warnings():  # newer Starlette prefers httpx2; httpx still works
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from caselib import Actor, ServiceDesk
from caselib.cases import Status, Transition, Workflow
from caselib.testing import FrozenClock
from webapp_world import INTERNAL, PUBLIC, add_agent_side, make_app, make_desk


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[ServiceDesk]:
    desk = make_desk(tmp_path / "web.sqlite3")
    yield desk
    desk.store.close()


def client(desk: ServiceDesk, user: str | None) -> TestClient:
    c = TestClient(make_app(desk), follow_redirects=False)
    if user is not None:
        c.cookies.set("user", user)
    return c


def case_id(desk: ServiceDesk) -> str:
    return desk.find_cases(actor=Actor.system()).items[0].id


def test_login_stub_maps_users_and_redirects(desk: ServiceDesk) -> None:
    anon = client(desk, None)
    assert anon.get("/cases").headers["location"] == "/login"
    assert "Eve (executive)" in anon.get("/login").text
    r = anon.post("/login", data={"user": "ana"})
    assert r.status_code == 303 and r.headers["location"] == "/cases"
    assert anon.post("/login", data={"user": "jane"}).headers["location"] == "/portal"
    assert client(desk, None).post("/cases/x/comment", data={"body": "hi"}).status_code == 401


@pytest.mark.parametrize("path", ["/cases", "/cases?tab=all&priority=normal&q=vpn",
                                  "/cases/board", "/inbox/cases", "/reports"])
def test_agent_pages_render(desk: ServiceDesk, path: str) -> None:
    r = client(desk, "ana").get(path)
    assert r.status_code == 200, r.text
    assert "VPN drops every hour" in r.text or "<svg" in r.text


def test_detail_shows_timeline_sla_and_suggestions(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    page = client(desk, "ana").get(f"/cases/{cid}").text
    assert INTERNAL in page and PUBLIC in page
    assert 'data-sla="first_response"' in page and "title=" in page
    assert f"/cases/{cid}/articles/kb-vpn" in page
    assert 'id="comment"' in page and 'id="escalate"' in page and 'id="assign"' in page
    opened = client(desk, "ana").get(f"/cases/{cid}/articles/kb-vpn")
    assert opened.status_code == 200 and "deflection" in opened.text
    as_json = client(desk, "ana").get(f"/cases/{cid}", headers={"accept": "application/json"})
    assert as_json.json()["subject"] == "VPN drops every hour"


def test_badges_are_explained_from_the_loaded_case(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    page = client(desk, "ana").get(f"/cases/{cid}").text
    case = desk.get_case(cid, actor=Actor.system())
    assert case.sla_targets
    for target in case.sla_targets:
        text = desk.explain_due(cid, target.name, actor=Actor.system()).text
        assert f'data-sla="{target.name}"' in page
        assert 'title="' + str(escape(text)) + '"' in page


TRACKER = Workflow("tracker", [
    Status("triage", "new"), Status("doing", "open"), Status("wont_fix", "resolved"),
    Status("done", "resolved"), Status("archived", "closed")],
    [Transition("triage", "doing"), Transition("doing", "done"), Transition("doing", "wont_fix"),
     Transition("done", "archived"), Transition("done", "doing"),
     Transition("archived", "doing")])
"""A tenant's workflow whose statuses have none of the presets' names."""


def forms(page: str) -> set[str]:
    return {name for name in ("resolve", "close", "reopen")
            if f'id="{name}"' in page}


def test_a_custom_workflow_shows_the_forms_its_categories_allow(tmp_path: Path) -> None:
    """The case page picks its forms by status category, not by the names "resolved" /
    "closed": a tracker's "done" gets the resolve form, "archived" the close form."""
    desk = make_desk(tmp_path / "tracker.sqlite3", workflow=TRACKER)
    cid = case_id(desk)
    ana, bo = client(desk, "ana"), client(desk, "bo")
    assert forms(ana.get(f"/cases/{cid}").text) == set()  # triage: nothing to resolve yet
    assert ana.post(f"/cases/{cid}/transition", data={"to": "doing"}).status_code == 303
    page = ana.get(f"/cases/{cid}").text
    assert forms(page) == {"resolve"} and "Resolve → done" in page
    assert 'name="note"' in page and 'value="wont_fix"' in page  # its note goes with it
    assert ana.post(f"/cases/{cid}/transition", data={"to": "wont_fix"}).status_code == 422
    assert forms(bo.get(f"/cases/{cid}").text) == set()  # support may not resolve
    assert ana.post(f"/cases/{cid}/resolve", data={"summary": "Fixed"}).status_code == 303
    page = ana.get(f"/cases/{cid}").text
    assert forms(page) == {"close", "reopen"} and "Close → archived" in page
    assert 'value="doing"' not in page  # the reopen form is the way back
    assert ana.post(f"/cases/{cid}/close", data={"note": "Done", "csat": "5"}).status_code == 303
    assert desk.get_case(cid, actor=Actor.system()).status == "archived"
    assert forms(ana.get(f"/cases/{cid}").text) == {"reopen"}
    assert ana.post(f"/cases/{cid}/reopen", data={"reason": "again"}).status_code == 303
    assert desk.get_case(cid, actor=Actor.system()).status == "doing"
    desk.store.close()


def test_a_breached_badge_shows_when_it_broke_and_the_due_now(desk: ServiceDesk) -> None:
    """The sweep raised the priority, which moved the due time earlier: the badge shows the
    breach's time (what the timeline entry says) beside the re-derived due time."""
    case = desk.create_case(subject="Printer", actor=Actor.agent("lee", "admin"))
    clock = desk.clock
    assert isinstance(clock, FrozenClock)
    clock.advance(hours=9)
    desk.sweep_breaches(actor=Actor.system())
    page = client(desk, "ana").get(f"/cases/{case.id}").text
    breach = next(e for e in desk.get_case(case.id, actor=Actor.system()).timeline
                  if e.kind == "sla_breached")
    assert "(due 2026-" in breach.body and "normal → high" in breach.body
    assert ("first_response: breached at Mon 02 Mar 17:00 UTC · due now Mon 02 Mar 13:00 UTC"
            in page)
    assert "(earlier)" in page


def test_errors_become_their_http_status(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    ana = client(desk, "ana")
    assert ana.get("/cases/nope").status_code == 404
    for to in ("open", "in_progress", "pending_customer"):
        assert ana.post(f"/cases/{cid}/transition", data={"to": to}).status_code == 303
    refused = ana.post(f"/cases/{cid}/resolve", data={"summary": ""},
                       headers={"accept": "application/json"})
    assert refused.status_code == 422, refused.json()
    assert ana.post(f"/cases/{cid}/transition", data={"to": "new"}).status_code == 409
    stale = ana.post(f"/cases/{cid}/comment", data={"body": "x", "version": "1"},
                     headers={"accept": "application/json"})
    assert stale.status_code == 409 and stale.json()["code"] == "concurrency_conflict"
    assert ana.post(f"/cases/{cid}/resolve", data={"summary": "Upgraded"}).status_code == 303
    assert desk.get_case(cid, actor=Actor.system()).status == "resolved"


def test_executive_sees_no_buttons_and_every_write_is_refused(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    eve = client(desk, "eve")
    page = eve.get(f"/cases/{cid}").text
    assert 'id="actions"' not in page and "<button" not in page.split("</header>")[1]
    assert 'class="move"' not in eve.get("/cases/board").text
    assert 'id="new-case"' not in eve.get("/cases").text
    writes = {"comment": {"body": "x"}, "transition": {"to": "open"},
              "resolve": {"summary": "x"}, "reopen": {}, "close": {"note": "x"},
              "escalate": {}, "assign": {"assignee": "eve"}}
    for name, form in writes.items():
        assert eve.post(f"/cases/{cid}/{name}", data=form).status_code == 403, name
    assert eve.post("/cases", data={"subject": "x"}).status_code == 403
    assert desk.get_case(cid, actor=Actor.system()).version == 3


def test_portal_pages_show_public_replies_only(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    jane = client(desk, "jane")
    case = desk.get_case(cid, actor=Actor.system())
    hidden = [e.describe() for e in case.timeline if e.audience.value != "public"]
    assert hidden
    pages = [jane.get("/portal"), jane.get(f"/portal/{cid}")]
    assert PUBLIC in pages[1].text
    for page in pages:
        assert page.status_code == 200
        body = page.text.split("<main>")[1]
        assert INTERNAL not in body and "internal" not in body.lower()
        for entry in hidden:  # no internal note, no system entry
            assert entry not in body
    assert jane.get(f"/cases/{cid}").status_code == 403
    assert jane.post(f"/portal/{cid}/reply", data={"body": "Log attached"}).status_code == 303
    assert client(desk, "bo").get(f"/portal/{cid}").status_code == 200  # agents may read it
    assert jane.get("/portal/nope").status_code == 404


def _resolved_with_a_window(path: Path) -> tuple[ServiceDesk, Actor, str]:
    """The seeded desk with a 7-day reopen window, an admin, and a case it resolved."""
    from datetime import timedelta

    import attrs

    from caselib.cases import ReopenPolicy

    seeded = make_desk(path)
    desk = ServiceDesk(seeded.store, tenant="acme", clock=seeded.clock,
                       settings=attrs.evolve(seeded.settings,
                                             reopen=ReopenPolicy(grace=timedelta(days=7))))
    lee = Actor.agent("lee", "admin")
    cid = case_id(desk)
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(cid, status, actor=lee)
    desk.resolve(cid, "Upgraded the client", actor=lee)
    return desk, lee, cid


def test_a_portal_reply_follows_the_reopen_policy(tmp_path: Path) -> None:
    """The portal's reply is ``customer_reply``: past the grace window a reply to a resolved
    case opens a follow-up (and the browser goes there), and a reply to a merged case lands
    on the survivor. As a bare public comment it did neither (409 on the merged case)."""
    desk, lee, old = _resolved_with_a_window(tmp_path / "policy.sqlite3")
    desk.clock.advance(days=30)  # type: ignore[attr-defined]
    jane = client(desk, "jane")
    answer = jane.post(f"/portal/{old}/reply", data={"body": "It drops again"})
    follow = answer.headers["location"].removeprefix("/portal/")
    assert answer.status_code == 303 and follow != old
    assert desk.get_case(follow, actor=lee).subject == "Follow-up: VPN drops every hour"
    assert desk.get_case(old, actor=lee).status == "closed"
    survivor = desk.create_case(subject="VPN again", actor=lee,
                                links={"contact": "jane@example.com", "account": "acc-7"})
    desk.merge(follow, survivor.id, actor=lee)
    answer = jane.post(f"/portal/{follow}/reply", data={"body": "Any news?"})
    assert answer.headers["location"] == f"/portal/{survivor.id}"
    assert "Any news?" in jane.get(f"/portal/{survivor.id}").text
    desk.store.close()


def test_the_portal_offers_reopen_only_inside_the_window(tmp_path: Path) -> None:
    """The case page's reopen form follows ``CustomerView.can_reopen`` (the tenant's
    window), not the status category: past the window it is gone, the rating form stays,
    and the page says a reply opens a new request. No internal entry shows either way."""
    desk, _, cid = _resolved_with_a_window(tmp_path / "window.sqlite3")
    jane = client(desk, "jane")
    inside = jane.get(f"/portal/{cid}").text
    assert 'id="reopen"' in inside and 'id="rate"' in inside
    assert 'id="follow-up-note"' not in inside
    desk.clock.advance(days=8)  # type: ignore[attr-defined]
    past = jane.get(f"/portal/{cid}")
    assert past.status_code == 200
    assert 'id="reopen"' not in past.text and f"/portal/{cid}/reopen" not in past.text
    assert 'id="rate"' in past.text and 'id="follow-up-note"' in past.text
    case = desk.get_case(cid, actor=Actor.system())
    body = past.text.split("<main>")[1]
    assert INTERNAL not in body and "internal" not in body.lower()
    for entry in (e.describe() for e in case.timeline if e.audience.value != "public"):
        assert entry not in body
    doc = jane.get(f"/portal/{cid}", headers={"accept": "application/json"}).json()
    assert (doc["can_reopen"], doc["can_rate"], doc["reply_opens_follow_up"]) == (
        False, True, True)
    assert jane.post(f"/portal/{cid}/rate", data={"score": "4"}).status_code == 303
    assert 'id="rate"' not in jane.get(f"/portal/{cid}").text  # rated once
    desk.store.close()


def test_the_board_leaves_moves_that_need_a_note_to_the_case_page(desk: ServiceDesk) -> None:
    """From pending customer the only way on is resolving (a note): no dropdown option for
    it, a link to the case page instead, as ``note_moves_of`` says."""
    cid = case_id(desk)
    lee = Actor.agent("lee", "admin")
    for status in ("open", "in_progress", "pending_customer"):
        desk.transition(cid, status, actor=lee)
    assert "resolved" in desk.allowed_transitions(desk.get_case(cid, actor=lee), actor=lee)
    page = client(desk, "ana").get("/cases/board").text
    card = page.split(f'data-case="{cid}"')[1].split('<div class="card"')[0]
    assert 'value="resolved"' not in card
    assert 'class="needs-note"' in card and f'href="/cases/{cid}"' in card
    assert 'value="in_progress"' in card  # the plain moves stay


def test_agent_side_panels_show_on_the_case_page_and_never_in_the_portal(
        desk: ServiceDesk) -> None:
    first = case_id(desk)
    rich = add_agent_side(desk, first)
    page = client(desk, "ana").get(f"/cases/{rich}").text
    assert 'id="links"' in page and f'href="/cases/{first}"' in page  # related, both ends
    assert "Send the 3.3 installer link" in page and 'class="done"' in page
    assert 'id="mail"' in page and "sent to jane@example.com" in page
    assert 'id="automations"' in page and "Acknowledge new cases" in page
    assert "TODO" not in page
    back = client(desk, "ana").get(f"/cases/{first}").text
    assert f'href="/cases/{rich}"' in back
    # the related case's number, subject and status, not its id
    linked = desk.get_case(rich, actor=Actor.system())
    panel = back.split('id="links"')[1].split("</ul>")[0]
    assert f">{linked.number}</a>" in panel and linked.subject in panel
    assert linked.status.replace("_", " ") in panel
    jane = client(desk, "jane")
    case = desk.get_case(rich, actor=Actor.system())
    hidden = [e.describe() for e in case.timeline if e.audience.value != "public"]
    secrets = ["Send the 3.3 installer link", "Verify the tunnel", "Acknowledge new cases",
               "ack_email", "help@support.test", "Related", "checklist",
               "automation", "E-mail"]
    for path in ("/portal", f"/portal/{rich}", f"/portal/{first}"):
        r = jane.get(path)
        assert r.status_code == 200, path
        body = r.text.split("<main>")[1]
        for text in [*hidden, *secrets]:
            assert text not in body, (path, text)
    assert "The installer is on its way." in jane.get(f"/portal/{rich}").text


def test_reloading_the_case_page_logs_its_suggestions_once(desk: ServiceDesk) -> None:
    cid = case_id(desk)
    ana = client(desk, "ana")
    for _ in range(3):
        assert "/articles/kb-vpn" in ana.get(f"/cases/{cid}").text
    desk.clock.advance(days=8)  # type: ignore[attr-defined]
    ana.get(f"/cases/{cid}")
    report = desk.deflection_report(actor=Actor.agent("mo", "manager"))
    assert (report.totals.shown, report.totals.cases, len(report.periods)) == (1, 1, 1)
