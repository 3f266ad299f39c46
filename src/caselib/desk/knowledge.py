"""Knowledge-base use cases: the desk's article index, article edits, suggestions and the
deflection loop (shown → opened → resolved by an article) and its report.

The index is built from the article store once per desk and kept current by this desk's own
edits; :func:`kb_index` and the edits share the desk's ``kb_lock`` because the index is not
safe to read while it is being changed.
"""

from __future__ import annotations

from datetime import datetime

from caselib.access import Permission
from caselib.cases import Actor, Case
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import ArticleNotFound, CaseNotFound
from caselib.kb import (
    VISIT_PREFIX,
    Article,
    ArticleStatus,
    CategoryMode,
    Deflection,
    DeflectionReport,
    KbIndex,
    KbQuery,
    Period,
    ResolutionMemory,
    ResolvedByArticle,
    Suggestion,
    SuggestionShown,
    case_query,
    deflection_analytics,
)
from caselib.ports import UnitOfWork
from caselib.timeutil import aware_utc
from caselib.vocab import Audience

__all__ = [
    "boosts",
    "deflection_report",
    "get_article",
    "kb_index",
    "kb_resolutions",
    "mark_resolved_by_article",
    "open_article",
    "put_article",
    "reload_kb",
    "remove_article",
    "suggest_articles",
]


def kb_index(ctx: DeskContext) -> KbIndex:
    """The desk's index, current with the article store.

    Built on first use; afterwards one cheap read of the store's article stamp per call: when
    another process (or another desk) put or removed articles, the index catches up with
    :meth:`KbIndex.sync`, re-indexing only the articles that differ.
    """
    with ctx.uow() as uow:
        version = uow.articles.version()
        with ctx.kb_lock:
            if ctx.kb_index is not None and ctx.kb_version == version:
                return ctx.kb_index
        articles = uow.articles.list()  # read after the stamp: never older than it
    with ctx.kb_lock:
        if ctx.kb_index is None:
            ctx.kb_index = KbIndex.build(articles, ctx.settings.kb)
        else:
            ctx.kb_index.sync(articles)
        ctx.kb_version = version
        return ctx.kb_index


def reload_kb(ctx: DeskContext) -> KbIndex:
    with ctx.kb_lock:
        ctx.kb_index = None
        ctx.kb_version = None
        ctx.kb_memory = None
    return kb_index(ctx)


def kb_resolutions(ctx: DeskContext) -> ResolutionMemory | None:
    """The resolved cases the boost learns from; ``None`` while the boost is off.

    Built on first use from the KB log's resolved-by-article records and those cases'
    subject and description (one case read per credited case), then kept current by this
    desk's :func:`mark_resolved_by_article`; other processes' credits arrive at
    :func:`reload_kb`.
    """
    if ctx.settings.kb.resolutions.weight == 0:
        return None
    with ctx.kb_lock:
        if ctx.kb_memory is not None:
            return ctx.kb_memory
    memory = ResolutionMemory(ctx.settings.kb)
    with ctx.uow() as uow:
        latest: dict[str, ResolvedByArticle] = {}
        for r in uow.kb_log.resolved():
            if not r.case_id.startswith(VISIT_PREFIX):
                latest[r.case_id] = r
        for case_id, r in sorted(latest.items()):
            try:
                case = uow.cases.get(case_id)
            except CaseNotFound:
                continue
            memory.remember(case_id, _case_text(case), r.article_id, r.at)
    with ctx.kb_lock:
        if ctx.kb_memory is None:
            ctx.kb_memory = memory
        return ctx.kb_memory


def _case_text(case: Case) -> str:
    return f"{case.subject}\n{case.description}"


def boosts(ctx: DeskContext, query: KbQuery, now: datetime) -> dict[str, float] | None:
    """Per-article multipliers from similar resolved cases (``None`` when the boost is off)."""
    memory = kb_resolutions(ctx)
    if memory is None:
        return None
    with ctx.kb_lock:
        return memory.multipliers(query, now)


def _edited(ctx: DeskContext, before: int) -> None:
    """After this desk's own committed edit (already applied to its index): the index now
    reflects stamp ``before + 1`` if it reflected ``before``; otherwise another process wrote
    in between and the next search catches up."""
    if ctx.kb_version == before:
        ctx.kb_version = before + 1


def put_article(ctx: DeskContext, article: Article, *, actor: Actor) -> Article:
    check.actor(actor)
    check.article(article)
    ctx.access.require(actor, Permission.ADMIN)
    index = kb_index(ctx)
    with ctx.uow() as uow:
        before = uow.articles.version()
        uow.articles.put(article)
        uow.commit()
    with ctx.kb_lock:
        index.upsert(article)
        _edited(ctx, before)
    return article


def remove_article(ctx: DeskContext, article_id: str, *, actor: Actor) -> None:
    check.actor(actor)
    check.article_id(article_id)
    ctx.access.require(actor, Permission.ADMIN)
    index = kb_index(ctx)
    with ctx.uow() as uow:
        before = uow.articles.version()
        uow.articles.remove(article_id)
        uow.commit()
    with ctx.kb_lock:
        if article_id in index:
            index.remove(article_id)
        _edited(ctx, before)


def get_article(ctx: DeskContext, article_id: str, *, actor: Actor) -> Article:
    """An article from the store; customers see published articles only (a draft or archived
    article is "not found" to them, so its existence does not leak)."""
    check.actor(actor)
    check.article_id(article_id)
    with ctx.uow() as uow:
        article = uow.articles.get(article_id)
    if actor.kind.value == "customer" and article.status is not ArticleStatus.PUBLISHED:
        raise ArticleNotFound(article_id, ctx.tenant)
    return article


def suggest_articles(
    ctx: DeskContext,
    case_id: str,
    *,
    actor: Actor,
    limit: int,
    category_mode: CategoryMode,
    record: bool,
) -> list[Suggestion]:
    """Search with what the customer can see of the case; log what was shown for the first
    time on this case unless ``record`` is false (previews)."""
    check.case_id(case_id)
    check.actor(actor)
    check.count(limit, "limit", 0)
    check.flag(record, "record")
    now = ctx.now()
    case = ctx.read(case_id, actor)
    replies = [e.body for e in case.timeline if e.audience is Audience.PUBLIC and e.body]
    query = case_query(case.subject, case.description, case.category, replies)
    index = kb_index(ctx)
    multipliers = boosts(ctx, query, now)
    with ctx.kb_lock:
        hits = index.search(query, limit=limit, category=case.category,
                            category_mode=category_mode, multipliers=multipliers)
    if hits and record:
        # the first showing of each (case, article) only: a page that suggests on every view
        # would otherwise log each reload, and a reload in a later period would count the
        # case again in that period's funnel (the analytics dedupe pairs within a window,
        # not across windows)
        with ctx.uow() as uow:
            logged = {s.article_id for s in uow.kb_log.shown(case_id=case.id)}
            fresh = [SuggestionShown(case.id, h.article_id, h.rank, h.score, now, actor.id)
                     for h in hits if h.article_id not in logged]
            if fresh:
                uow.kb_log.record_shown(fresh)
                uow.commit()
    return hits


def open_article(ctx: DeskContext, case_id: str, article_id: str, *, actor: Actor) -> Deflection:
    """Record the opening with the rank and score of the article's showing on this case
    (logged once per case and article since 0.3, so its first showing; of a log written
    before, its last)."""
    check.case_id(case_id)
    check.article_id(article_id)
    check.actor(actor)
    now = ctx.now()
    ctx.read(case_id, actor)  # refused or CaseNotFound before anything is written
    with ctx.uow() as uow:
        uow.articles.get(article_id)
        shown = [s for s in uow.kb_log.shown(case_id=case_id) if s.article_id == article_id]
        last = shown[-1] if shown else None
        deflection = Deflection(
            case_id,
            article_id,
            actor.id,
            now,
            last.rank if last else 0,
            last.score if last else 0.0,
        )
        uow.kb_log.record_opened(deflection)
        uow.commit()
    return deflection


def mark_resolved_by_article(
    ctx: DeskContext, case_id: str, article_id: str, *, actor: Actor
) -> Case:
    """Log the credit in the case command's own unit of work, with an activity entry."""
    check.command(case_id, actor)
    check.article_id(article_id)

    def command(case: Case, now: datetime) -> None:
        uow: UnitOfWork = ctx.local.uow
        uow.articles.get(article_id)
        uow.kb_log.record_resolved(ResolvedByArticle(case.id, article_id, now))
        case.record_activity(actor, now, "resolved_by_article", "", article_id=article_id)

    case = ctx.change(case_id, command, actor=actor, permission=Permission.RESOLVE)
    with ctx.kb_lock:
        if ctx.kb_memory is not None:
            ctx.kb_memory.remember(case.id, _case_text(case), article_id, case.updated_at)
    return case


def deflection_report(
    ctx: DeskContext,
    *,
    actor: Actor,
    since: datetime | None,
    until: datetime | None,
    period: Period,
) -> DeflectionReport:
    """Read the logs in one unit of work, with each logged case's resolution and last agent
    reply (cases deleted since are left out); portal visits count through their
    self-service records."""
    lo = None if since is None else aware_utc(since, "since")
    hi = None if until is None else aware_utc(until, "until")
    ctx.access.require(actor, Permission.READ)
    with ctx.uow() as uow:
        shown = uow.kb_log.shown(lo, hi)
        opened = uow.kb_log.opened(lo, hi)
        resolved = uow.kb_log.resolved(lo, hi)
        outcomes: dict[str, tuple[datetime | None, datetime | None]] = {}
        case_ids = (
            {x.case_id for x in shown} | {x.case_id for x in opened} | {x.case_id for x in resolved}
        )
        for case_id in case_ids:
            if case_id.startswith(VISIT_PREFIX):  # a portal visit: no case to read
                continue
            try:
                case = uow.cases.get(case_id)
            except CaseNotFound:
                continue
            agent_replies = [
                e.at
                for e in case.timeline
                if e.audience is Audience.PUBLIC and e.actor_kind.value == "agent"
            ]
            outcomes[case_id] = (case.resolved_at, max(agent_replies, default=None))
    return deflection_analytics(shown, opened, outcomes, resolved, period=period)
