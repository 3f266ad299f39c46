"""The shapes of case lists: :class:`~caselib.ports.CaseQuery` (the filters a list screen
sends), :class:`~caselib.ports.CaseSummary` (a row) and :class:`~caselib.ports.Page`."""

from __future__ import annotations

from typing import Any, Final

from caselib.errors import InvalidInput
from caselib.ports import MAX_TEXT_LENGTH, CaseQuery, CaseSummary, Page, SlaDue
from caselib.serialize._read import Doc, check_text, inside, instant_text, member
from caselib.vocab import Priority, Source, StatusCategory

__all__ = [
    "page_from",
    "page_to",
    "query_from",
    "query_to",
    "summary_from",
    "summary_to",
]

_T = instant_text
_SETS: Final = ("statuses", "assignees", "teams", "tags", "unassigned_teams", "contacts",
                 "accounts", "categories", "ids")
_MAX_FILTER_VALUES: Final = 1000
"""More values than this in one filter is not a list screen's query."""


def summary_to(s: CaseSummary) -> dict[str, Any]:
    """A list row: the columns, never the timeline."""
    return {
        "id": s.id,
        "number": s.number,
        "subject": s.subject,
        "status": s.status,
        "status_category": s.status_category.value,
        "priority": s.priority.value,
        "assignee": s.assignee,
        "team": s.team,
        "contact": s.contact,
        "account": s.account,
        "category": s.category,
        "tags": sorted(s.tags),
        "created_at": _T(s.created_at),
        "updated_at": _T(s.updated_at),
        "resolved_at": _T(s.resolved_at),
        "next_due_at": _T(s.next_due_at),
        "breached": s.breached,
        "version": s.version,
        "source": s.source.value,
        "first_response_at": _T(s.first_response_at),
        "csat": s.csat,
        "sla": [{"target": t.target, "state": t.state, "due_at": _T(t.due_at),
                 "warn_at": _T(t.warn_at), "breached_at": _T(t.breached_at)} for t in s.sla],
        "escalation_level": s.escalation_level,
    }


def _sla_due(d: Doc) -> SlaDue:
    due = SlaDue(d.text("target", limit=64), d.text("state", limit=64),
                 d.opt_instant("due_at"), d.opt_instant("warn_at"),
                 d.opt_instant("breached_at"))
    d.finish()
    return due


def summary_from(d: Doc) -> CaseSummary:
    summary = CaseSummary(
        d.text("id"), d.text("number"), d.text("subject", limit=1000), d.text("status"),
        d.member("status_category", StatusCategory), d.member("priority", Priority),
        d.opt_text("assignee"), d.opt_text("team"), d.opt_text("contact"),
        d.opt_text("account"), d.opt_text("category"), frozenset(d.texts("tags", default=[])),
        d.instant("created_at"), d.instant("updated_at"), d.opt_instant("resolved_at"),
        d.opt_instant("next_due_at"), d.boolean("breached", default=False),
        d.integer("version", minimum=0),
        d.member("source", Source, default=Source.OTHER.value),
        d.opt_instant("first_response_at"), d.opt_int("csat", minimum=1),
        tuple(_sla_due(t) for t in d.docs("sla", default=[])),
        d.opt_text("escalation_level"),  # as the case document reads it (up to 200)
    )
    d.finish()
    return summary


def page_to(page: Page) -> dict[str, Any]:
    """``{"items": [rows], "next_cursor": "..." | null}``: pass ``next_cursor`` back as the
    query's ``after`` for the next page."""
    return {"items": [summary_to(s) for s in page.items], "next_cursor": page.next_cursor}


def page_from(d: Doc) -> Page:
    page = Page(tuple(summary_from(s) for s in d.docs("items")),
                d.opt_text("next_cursor", limit=4096))
    d.finish()
    return page


def query_to(q: CaseQuery) -> dict[str, Any]:
    """Every filter (``null``: any), sets as sorted lists, then order, limit and cursor."""
    def listed(values: frozenset[Any] | None) -> list[str] | None:
        if values is None:
            return None
        return sorted(getattr(v, "value", v) for v in values)

    return {
        "statuses": listed(q.statuses),
        "status_categories": listed(q.status_categories),
        "priorities": listed(q.priorities),
        "assignees": listed(q.assignees),
        "teams": listed(q.teams),
        "unassigned": q.unassigned,
        "tags": listed(q.tags),
        "breached": q.breached,
        "due_before": _T(q.due_before),
        "created_from": _T(q.created_from),
        "created_before": _T(q.created_before),
        "unassigned_teams": listed(q.unassigned_teams),
        "contacts": listed(q.contacts),
        "accounts": listed(q.accounts),
        "categories": listed(q.categories),
        "resolved_from": _T(q.resolved_from),
        "resolved_before": _T(q.resolved_before),
        "child_of": q.child_of,
        "escalated": q.escalated,
        "ids": listed(q.ids),
        "text": q.text,
        "order": q.order,
        "limit": q.limit,
        "after": q.after,
    }


def _members(d: Doc, key: str, enum_cls: Any) -> frozenset[Any] | None:
    values = _list(d, key)
    if values is None:
        return None
    return frozenset(member(v, enum_cls, f"{d.name(key)}[{i}]") for i, v in enumerate(values))


def _list(d: Doc, key: str) -> list[Any] | None:
    if d.raw(key, None) is None:
        return None
    values = d.items(key)
    if len(values) > _MAX_FILTER_VALUES:
        raise InvalidInput(f"{d.name(key)} lists {len(values)} values; at most "
                           f"{_MAX_FILTER_VALUES}", field=d.name(key))
    return values


def query_from(d: Doc) -> CaseQuery:
    """Filters as a list screen sends them. Every key is optional; a filter that is not a
    list (``"statuses": "open"``), a flag that is not a boolean (``"unassigned": "no"``) or a
    key CaseQuery does not know is refused, naming it."""
    sets: dict[str, frozenset[str] | None] = {}
    for key in _SETS:
        values = _list(d, key)
        sets[key] = None if values is None else frozenset(
            check_text(v, f"{d.name(key)}[{i}]") for i, v in enumerate(values))
    order = d.text("order", limit=16, default="created")
    with inside(d.path):
        query = CaseQuery(
            statuses=sets["statuses"],
            status_categories=_members(d, "status_categories", StatusCategory),
            priorities=_members(d, "priorities", Priority),
            assignees=sets["assignees"],
            teams=sets["teams"],
            unassigned=d.opt_boolean("unassigned"),
            tags=sets["tags"],
            breached=d.opt_boolean("breached"),
            due_before=d.opt_instant("due_before"),
            created_from=d.opt_instant("created_from"),
            created_before=d.opt_instant("created_before"),
            unassigned_teams=sets["unassigned_teams"],
            contacts=sets["contacts"],
            accounts=sets["accounts"],
            categories=sets["categories"],
            resolved_from=d.opt_instant("resolved_from"),
            resolved_before=d.opt_instant("resolved_before"),
            child_of=d.opt_text("child_of", limit=MAX_TEXT_LENGTH),
            escalated=d.opt_boolean("escalated"),
            ids=sets["ids"],
            text=d.opt_text("text", limit=MAX_TEXT_LENGTH),
            order=order,  # type: ignore[arg-type]  # CaseQuery refuses an unknown order
            limit=d.integer("limit", default=50),
            after=d.opt_text("after", limit=4096),
        )
    d.finish()
    return query
