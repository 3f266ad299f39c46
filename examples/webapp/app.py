"""caselib's reference web integration: a server-rendered Starlette + Jinja2 app over one
:class:`~caselib.ServiceDesk` (the SQLite store in ``caselib demo --web``).

Glue only: every page is one or two desk calls (see docs/webapp.md for the route table);
permissions come from the tenant's :class:`~caselib.access.AccessPolicy` (a case page's forms
from :meth:`~caselib.ServiceDesk.case_actions`, by the workflow's status categories, never
by status names; refusals from the desk), numbers from ``cards`` /
``scorecard``, the report page from :func:`caselib.reports.scorecard_html`, JSON from
:func:`caselib.serialize.to_dict`, and errors become HTTP through their ``http_status``.

Run it (needs the ``web`` extra)::

    caselib demo --web --port 8000
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from caselib import Actor, Case, CaselibError, Priority, ServiceDesk, StatusCategory
from caselib.access import AccessPolicy, can_open_cases
from caselib.cases import Checklist
from caselib.errors import InvalidConfiguration
from caselib.ports import CaseQuery, CaseSummary, MailRecord
from caselib.reports import cards_text, scorecard_html
from caselib.serialize import to_dict

__all__ = ["DEMO_USERS", "create_app"]

TEAMS = ("support", "engineering", "finance", "purchasing", "warehouse", "branch_manager")

DEMO_USERS: Mapping[str, Actor] = {
    "ana": Actor.agent("ana", "support_lead", name="Ana (support lead)", teams=TEAMS),
    "bo": Actor.agent("bo", "support", name="Bo (support)", teams=TEAMS),
    "mia": Actor.agent("mia", "manager", name="Mia (manager)"),
    "eve": Actor.agent("eve", "executive", name="Eve (executive)"),
    "jane": Actor.customer("jane@example.com", "Jane (customer)", account="acc-7"),
}
"""The login stub's users: an app user name → the :class:`~caselib.Actor` (roles of
``AccessPolicy.default()``) the desk sees. A real host builds it from its session."""

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
Handler = Callable[[Request], Awaitable[Response]]


class NotLoggedIn(Exception):
    """No (known) user cookie: the login stub sends the browser to /login."""


def _user(request: Request) -> tuple[str, Actor]:
    users: Mapping[str, Actor] = request.app.state.users
    login = request.cookies.get("user", "")
    if login not in users:
        raise NotLoggedIn
    return login, users[login]


def _desk(request: Request) -> ServiceDesk:
    desk: ServiceDesk = request.app.state.desk
    return desk


def _policy(request: Request) -> AccessPolicy:
    return _desk(request).access  # what the desk enforces (unrestricted when none is set)


def _page(request: Request, name: str, status: int = 200, **context: Any) -> Response:
    login, actor = _user(request)
    context.update(login=login, me=actor, now=_desk(request).clock.now())
    return TEMPLATES.TemplateResponse(request, name, context, status_code=status)


def _opt(form: Mapping[str, Any], name: str) -> str | None:
    value = form.get(name)
    return value if isinstance(value, str) and value.strip() else None


def _num(value: str | None) -> int | str | None:
    """A form's number as an int, or the text as typed (the desk refuses it by name)."""
    if value is None:
        return None
    return int(value) if value.strip().lstrip("-").isdigit() else value


def _version(form: Mapping[str, Any]) -> int | None:
    value = _num(_opt(form, "version"))
    return value if isinstance(value, int) else None


def _back(path: str) -> Response:
    return RedirectResponse(path, status_code=303)


# -- login stub ---------------------------------------------------------------------------

async def login_form(request: Request) -> Response:
    users = request.app.state.users
    return TEMPLATES.TemplateResponse(request, "login.html", {"users": users, "me": None})


async def login(request: Request) -> Response:
    form = await request.form()
    login = str(form.get("user", ""))
    if login not in request.app.state.users:
        return _back("/login")
    actor = request.app.state.users[login]
    response = _back("/portal" if actor.is_customer else "/cases")
    response.set_cookie("user", login, httponly=True, samesite="lax")
    return response


async def logout(request: Request) -> Response:
    response = _back("/login")
    response.delete_cookie("user")
    return response


async def home(request: Request) -> Response:
    _, actor = _user(request)
    return _back("/portal" if actor.is_customer else "/cases")


# -- the four surfaces --------------------------------------------------------------------

TABS = {"open": tuple(c.value for c in StatusCategory if c.is_active), "resolved": ("resolved",),
        "closed": ("closed",), "all": None}
"""Status tabs of /cases: the tab → its status categories (``None``: every case)."""


async def cases(request: Request) -> Response:
    _, actor = _user(request)
    desk, args = _desk(request), request.query_params
    tab = args.get("tab", "open") if args.get("tab", "open") in TABS else "open"
    filters: dict[str, Any] = {"limit": 50, "order": "-updated"}
    if TABS[tab] is not None:
        filters["status_categories"] = TABS[tab]
    if args.get("q"):
        filters["text"] = args["q"]
    if args.get("priority"):
        filters["priorities"] = [args["priority"]]
    if args.get("team"):
        filters["teams"] = [args["team"]]
    if args.get("status"):
        filters["statuses"] = [args["status"]]
    query = CaseQuery(**filters)
    page = desk.find_cases(query, actor=actor)
    cards = desk.cards(query, actor=actor)
    # the active statuses' counts (an index range); all-time closed counts are the report's
    counts = desk.count_by_status(CaseQuery(status_categories=TABS["open"]), actor=actor)
    return _page(request, "cases.html", page=page, cards=cards, cards_line=cards_text(cards),
                 counts=counts, tab=tab, tabs=list(TABS), args=args,
                 statuses=desk.workflow.statuses, priorities=[p.value for p in Priority],
                 can_create=can_open_cases(_policy(request), actor))


async def create(request: Request) -> Response:
    _, actor = _user(request)
    form = await request.form()
    case = _desk(request).create_case(
        subject=str(form.get("subject", "")), description=str(form.get("description", "")),
        category=_opt(form, "category"), priority=_opt(form, "priority"),
        reason_code=_opt(form, "reason_code"), source=_opt(form, "source") or "other",
        links=None if actor.is_customer else {"contact": _opt(form, "contact"),
                                              "account": _opt(form, "account")},
        actor=actor)
    return _back(f"/portal/{case.id}" if actor.is_customer else f"/cases/{case.id}")


async def board(request: Request) -> Response:
    _, actor = _user(request)
    desk = _desk(request)
    the_board = desk.board(actor=actor, cards_per_column=20)
    cards = [card for col in the_board.columns for card in col.cards]
    # moves gated on a note (into resolved / closed) are left to the case page's forms
    return _page(request, "board.html", board=the_board,
                 moves=desk.allowed_transitions_of(cards, actor=actor),
                 note_moves=desk.note_moves_of(cards, actor=actor))


async def inbox(request: Request) -> Response:
    _, actor = _user(request)
    page = _desk(request).inbox(actor=actor, text=request.query_params.get("q") or None)
    return _page(request, "inbox.html", page=page, args=request.query_params)


async def detail(request: Request) -> Response:
    _, actor = _user(request)
    desk = _desk(request)
    case = desk.get_case(request.path_params["case_id"], actor=actor)
    now = desk.clock.now()
    summary = CaseSummary.of(case)
    explain = {name: e.text for name, e in desk.explain_dues(case, actor=actor).items()}
    suggestions = [(s, desk.get_article(s.article_id, actor=actor))
                   for s in desk.suggest_articles(case.id, actor=actor, limit=3)]
    if _wants_json(request):
        return JSONResponse(to_dict(case))
    # the agents' side panels (this page is service.read only; the portal has its own)
    links = desk.related_cases(case.id, actor=actor)  # (role, summary), one batch read
    return _page(request, "case.html", case=case, summary=summary, sla=summary.sla_at(now),
                 signal=summary.sla_signal(now), explain=explain, suggestions=suggestions,
                 can=desk.case_actions(case, actor=actor), links=links,
                 checklist=Checklist.of(case), mails=_mails(desk, case.id, actor),
                 automations=desk.explain_automation(case.id, actor=actor),
                 timeline=desk.merged_timeline(case.id, actor=actor))


def _mails(desk: ServiceDesk, case_id: str, actor: Actor) -> list[MailRecord]:
    """The case's e-mail thread; none when the store keeps no mail ledger."""
    try:
        return desk.mail_thread(case_id, actor=actor)
    except InvalidConfiguration:
        return []


async def open_article(request: Request) -> Response:
    _, actor = _user(request)
    desk, params = _desk(request), request.path_params
    deflection = desk.open_article(params["case_id"], params["article_id"], actor=actor)
    article = desk.get_article(params["article_id"], actor=actor)
    return _page(request, "article.html", article=article, deflection=deflection,
                 case_id=params["case_id"])


def _command(run: Callable[[ServiceDesk, str, Actor, Mapping[str, Any]], object]) -> Handler:
    """A POST on /cases/{id}/...: run one desk command, then back to the case page."""

    async def handler(request: Request) -> Response:
        _, actor = _user(request)
        form = await request.form()
        case_id = request.path_params["case_id"]
        run(_desk(request), case_id, actor, form)
        back = request.query_params.get("back")
        return _back(back if back in ("/cases/board", "/inbox/cases") else f"/cases/{case_id}")

    return handler


COMMANDS: Mapping[str, Callable[[ServiceDesk, str, Actor, Mapping[str, Any]], object]] = {
    "comment": lambda d, c, a, f: d.add_comment(
        c, str(f.get("body", "")), audience=str(f.get("audience", "internal")), actor=a,
        expected_version=_version(f)),
    "transition": lambda d, c, a, f: d.transition(
        c, str(f.get("to", "")), note=_opt(f, "note"), actor=a, expected_version=_version(f)),
    "resolve": lambda d, c, a, f: d.resolve(
        c, str(f.get("summary", "")), code=_opt(f, "code"), actor=a,
        expected_version=_version(f)),
    "reopen": lambda d, c, a, f: d.reopen(c, reason=_opt(f, "reason"), actor=a,
                                          expected_version=_version(f)),
    "close": lambda d, c, a, f: d.close(
        c, str(f.get("note", "")), csat=_num(_opt(f, "csat")), actor=a,  # type: ignore[arg-type]
        expected_version=_version(f)),
    "escalate": lambda d, c, a, f: d.escalate(
        c, reason=_opt(f, "reason") or "escalated", to_team=_opt(f, "to_team"), actor=a,
        expected_version=_version(f)),
    "assign": lambda d, c, a, f: d.assign(
        c, assignee=_opt(f, "assignee"), team=_opt(f, "team"), actor=a,
        expected_version=_version(f)),
}
"""The case page's forms: each is exactly one :class:`~caselib.ServiceDesk` command."""


# -- reports ------------------------------------------------------------------------------

async def reports(request: Request) -> Response:
    _, actor = _user(request)
    desk = _desk(request)
    days = request.query_params.get("days", "30")
    start, end = desk.last_days(int(days) if days.isdigit() else 30)  # refused past 400
    card = desk.scorecard(start=start, end=end, group_by="team", actor=actor)
    by_priority = desk.scorecard(start=start, end=end, group_by="priority", actor=actor)
    html = scorecard_html(card, by_priority=by_priority)
    nav = ('<p><a href="/cases">Cases</a> · <a href="/cases/board">Board</a> · '
           '<a href="/inbox/cases">Inbox</a></p>')
    return HTMLResponse(html.replace("<body>", "<body>" + nav, 1))


# -- customer portal ----------------------------------------------------------------------

async def portal(request: Request) -> Response:
    _, actor = _user(request)
    page = _desk(request).customer_cases(actor=actor)
    return _page(request, "portal.html", page=page)


async def portal_case(request: Request) -> Response:
    _, actor = _user(request)
    desk = _desk(request)
    case_id = request.path_params["case_id"]
    view = desk.customer_view(case_id, actor=actor)
    if _wants_json(request):
        return JSONResponse(to_dict(view))
    return _page(request, "portal_case.html", view=view, case_id=case_id)


def _portal_command(run: Callable[[ServiceDesk, str, Actor, Mapping[str, Any]], Case]
                    ) -> Handler:
    async def handler(request: Request) -> Response:
        _, actor = _user(request)
        form = await request.form()
        landed = run(_desk(request), request.path_params["case_id"], actor, form)
        return _back(f"/portal/{landed.id}")  # a reply may land on a follow-up or survivor

    return handler


PORTAL_COMMANDS: Mapping[str, Callable[[ServiceDesk, str, Actor, Mapping[str, Any]], Case]] = {
    # the tenant's reopen policy decides: a reply, a reopen, or a follow-up case
    "reply": lambda d, c, a, f: d.customer_reply(c, str(f.get("body", "")), actor=a),
    "rate": lambda d, c, a, f: d.rate(c, _num(_opt(f, "score")),  # type: ignore[arg-type]
                                      comment=_opt(f, "comment"), actor=a),
    "reopen": lambda d, c, a, f: d.reopen(c, reason=_opt(f, "reason"), actor=a),
}


# -- errors -------------------------------------------------------------------------------

def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


async def caselib_error(request: Request, exc: Exception) -> Response:
    """Every caselib error as HTTP: its own ``http_status`` (403 refused, 404 not found or
    out of scope, 409 conflicts, 422 bad input) and problem document."""
    assert isinstance(exc, CaselibError)
    if _wants_json(request):
        return JSONResponse(exc.to_dict(), status_code=exc.http_status,
                            media_type="application/problem+json")
    return _page(request, "error.html", status=exc.http_status, error=exc.to_dict())


async def not_logged_in(request: Request, exc: Exception) -> Response:
    if request.method == "GET":
        return _back("/login")
    return JSONResponse({"title": "Log in first", "status": 401}, status_code=401)


def create_app(desk: ServiceDesk, users: Mapping[str, Actor] = DEMO_USERS) -> Starlette:
    """The app over ``desk`` (give it an access policy: ``TenantSettings(access=...)``);
    ``users`` is the login stub's user table."""
    routes = [
        Route("/", home),
        Route("/login", login_form, methods=["GET"]),
        Route("/login", login, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/cases", cases, methods=["GET"]),
        Route("/cases", create, methods=["POST"]),
        Route("/cases/board", board),
        Route("/inbox/cases", inbox),
        Route("/reports", reports),
        Route("/cases/{case_id}", detail),
        Route("/cases/{case_id}/articles/{article_id}", open_article),
        *(Route(f"/cases/{{case_id}}/{name}", _command(run), methods=["POST"])
          for name, run in COMMANDS.items()),
        Route("/portal", portal, methods=["GET"]),
        Route("/portal", create, methods=["POST"]),
        Route("/portal/{case_id}", portal_case),
        *(Route(f"/portal/{{case_id}}/{name}", _portal_command(run), methods=["POST"])
          for name, run in PORTAL_COMMANDS.items()),
    ]
    app = Starlette(routes=routes, exception_handlers={
        CaselibError: caselib_error, NotLoggedIn: not_logged_in})
    app.state.desk = desk
    app.state.users = users
    return app


def stamp(moment: datetime) -> str:
    """A time as the pages show it (UTC, to the minute)."""
    return moment.astimezone(UTC).strftime("%a %d %b %H:%M UTC")


TEMPLATES.env.filters["stamp"] = stamp
