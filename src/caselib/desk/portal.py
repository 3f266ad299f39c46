"""Deflection before a case exists: suggestions on a portal form, openings, and the
``self_service`` record when the visitor then files no case.

A portal visit has no case id, so its log records use a visit key (``VISIT_PREFIX`` + the
host's visit id: a form session, a page view id) in the same KB log the case path uses; the
deflection report tells the two apart by that prefix and counts both.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from caselib.access import Permission
from caselib.cases import Actor
from caselib.checks import require_int, require_str
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.desk.knowledge import boosts, kb_index
from caselib.errors import InvalidInput, WrongType
from caselib.kb import (
    VISIT_PREFIX,
    CategoryMode,
    Deflection,
    ResolvedByArticle,
    Suggestion,
    SuggestionShown,
    text_query,
)
from caselib.ports import MAX_QUERY_LIMIT, CaseQuery, Page

__all__ = [
    "customer_cases",
    "open_portal_article",
    "record_self_service",
    "suggest_for_text",
    "visit_key",
]


def customer_cases(ctx: DeskContext, *, actor: Actor, after: str | None = None,
                   limit: int = 50) -> Page:
    """A customer's own cases (contact or account), newest first: the portal's list.

    Scoped with the ``portal.read`` visibility of the tenant's policy, so it lists exactly
    the cases :meth:`~caselib.ServiceDesk.customer_view` opens for the same customer.
    Agents list with ``find_cases``; an agent here is refused with :class:`InvalidInput`.
    """
    check.actor(actor)
    if not actor.is_customer:
        raise InvalidInput("customer_cases lists a customer's own cases; agents use "
                           "find_cases or a view", field="actor")
    access = ctx.access
    access.require(actor, Permission.PORTAL_READ)
    seen = access.visible(actor, Permission.PORTAL_READ)
    query = CaseQuery(after=after, limit=require_int(limit, "limit", 1, MAX_QUERY_LIMIT),
                      order="-created", visible=seen)
    with ctx.uow() as uow:
        return uow.cases.query(query)


_MAX_VISIT = 150
_PAGE = 500


def visit_key(visit: str) -> str:
    """The log key of a portal visit.

    Raises:
        InvalidInput: an empty or over-long visit id.
    """
    require_str(visit, "visit", "the host's id of the portal form session (a string)")
    if not visit.strip() or len(visit) > _MAX_VISIT:
        raise InvalidInput(
            f"visit must be a non-empty string of at most {_MAX_VISIT} characters "
            "(the host's id of the portal form session)", field="visit")
    return VISIT_PREFIX + visit.strip()


def suggest_for_text(
    ctx: DeskContext,
    subject: str,
    description: str,
    *,
    actor: Actor,
    visit: str,
    category: str | None,
    limit: int,
    category_mode: CategoryMode,
    record: bool,
) -> list[Suggestion]:
    """Search with the form's text; log what was shown under the visit key."""
    check.actor(actor)
    key = visit_key(visit)
    for text, field in ((subject, "subject"), (description, "description")):
        require_str(text, field, "text from the portal form")
    if category is not None:
        require_str(category, "category", "a category name")
    check.count(limit, "limit", 0)
    check.flag(record, "record")
    now = ctx.now()
    query = text_query(subject, description, category)
    index = kb_index(ctx)
    multipliers = boosts(ctx, query, now)
    with ctx.kb_lock:
        hits = index.search(query, limit=limit, category=category, category_mode=category_mode,
                            multipliers=multipliers)
    if hits and record:
        with ctx.uow() as uow:
            uow.kb_log.record_shown(
                [SuggestionShown(key, h.article_id, h.rank, h.score, now, actor.id) for h in hits]
            )
            uow.commit()
    return hits


def open_portal_article(ctx: DeskContext, visit: str, article_id: str, *,
                        actor: Actor) -> Deflection:
    """Record the opening with the rank and score of the article's last showing in the visit."""
    check.actor(actor)
    check.article_id(article_id)
    key = visit_key(visit)
    now = ctx.now()
    with ctx.uow() as uow:
        uow.articles.get(article_id)
        shown = [s for s in uow.kb_log.shown(case_id=key) if s.article_id == article_id]
        last = shown[-1] if shown else None
        deflection = Deflection(key, article_id, actor.id, now,
                                last.rank if last else 0, last.score if last else 0.0)
        uow.kb_log.record_opened(deflection)
        uow.commit()
    return deflection


def record_self_service(ctx: DeskContext, *, within: timedelta, lookback: timedelta,
                        actor: Actor) -> int:
    """Write a ``self_service`` record for each portal visit whose first opening is at least
    ``within`` old (and at most ``within + lookback``), that has none yet, and whose visitor
    created no case in the ``within`` after that opening. Returns how many were written.

    The record credits the last article the visit opened, stamped at the window's end.
    """
    check.actor(actor)
    ctx.access.require(actor, Permission.ADMIN)  # a scheduler's job: Actor.system() runs it
    for span, field in ((within, "within"), (lookback, "lookback")):
        if not isinstance(span, timedelta):
            raise WrongType(field, "a timedelta", span)
    if within <= timedelta(0) or lookback <= timedelta(0):
        raise InvalidInput("within and lookback must be positive durations", field="within")
    now = ctx.now()
    cutoff = now - within
    with ctx.uow() as uow:
        opened = [o for o in uow.kb_log.opened(cutoff - lookback, cutoff)
                  if o.case_id.startswith(VISIT_PREFIX)]
        if not opened:
            return 0
        done = {r.case_id for r in uow.kb_log.resolved(since=cutoff - lookback)
                if r.case_id.startswith(VISIT_PREFIX)}
        visits: dict[str, list[Deflection]] = {}
        for o in opened:
            if o.case_id not in done:
                visits.setdefault(o.case_id, []).append(o)
        if not visits:
            return 0
        firsts = {key: min(items, key=lambda o: o.at) for key, items in visits.items()}
        earliest = min(o.at for o in firsts.values())
        latest = max(o.at for o in firsts.values()) + within
        filed: dict[str, list[datetime]] = {}
        after: str | None = None
        while True:
            page = uow.cases.query_cases(CaseQuery(created_from=earliest, created_before=latest,
                                                   limit=_PAGE, after=after))
            for case in page.cases:
                filed.setdefault(case.created_by, []).append(case.created_at)
            after = page.next_cursor
            if after is None:
                break
        records = []
        for key, first in sorted(firsts.items()):
            end = first.at + within
            if any(first.at <= at <= end for at in filed.get(first.actor, ())):
                continue
            credited = max(visits[key], key=lambda o: o.at).article_id
            records.append(ResolvedByArticle(key, credited, end))
        for record in records:
            uow.kb_log.record_resolved(record)
        uow.commit()
    return len(records)
