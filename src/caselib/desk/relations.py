"""Relation use cases: typed links between cases (:func:`link_cases`, :func:`unlink_cases`,
:func:`links_of`), the parent gate (:func:`require_children_done`) and the source → survivor
lookup mail ingest calls (:func:`survivor_of`).

A link touches two cases, so these commands do not go through :meth:`DeskContext.change`
(one case): they lock both cases in id order (two linkers of the same pair take turns
instead of deadlocking), write the link row and one system entry on each case, and save both
in one unit of work.
"""

from __future__ import annotations

from datetime import datetime

from caselib.access import Permission
from caselib.cases import Actor, Case, CaseLink, CaseLinked, CaseUnlinked, LinkKind
from caselib.cases.merge import (
    MergedEntry,
    merge_source,
    split_entries,
    unmerge_source,
)
from caselib.cases.merge import merged_timeline as _merged_timeline
from caselib.desk import _inputs as check
from caselib.desk import casework
from caselib.desk._context import DeskContext
from caselib.errors import CaseNotFound, GateRequired, InvalidInput
from caselib.ports import CaseLinkRepository, CaseQuery, UnitOfWork, case_links, get_for_update
from caselib.vocab import ActorKind, Audience, StatusCategory

__all__ = [
    "MAX_MERGE_HOPS",
    "customer_reply",
    "link_cases",
    "links_of",
    "merge",
    "merged_timeline",
    "require_children_done",
    "split",
    "survivor_of",
    "survivor_of_case",
    "unlink_cases",
    "unmerge",
]

MAX_MERGE_HOPS = 32
"""How many ``merged_into`` links :func:`survivor_of` follows before it gives up (a chain
that long is a loop someone wrote by hand, not a desk's history)."""

_SYSTEM = Actor("caselib-reopen-policy", ActorKind.SYSTEM, frozenset({"admin"}), "caselib")
"""Who closes a case past its grace window and links the follow-up (the policy, not a
person)."""

_ACTIVE = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING})


def _lock_pair(ctx: DeskContext, uow: UnitOfWork, a: str, b: str, actor: Actor
               ) -> tuple[Case, Case]:
    """Load (and lock, where the store can) both cases in id order; both must be writable."""
    access = ctx.access
    loaded = {case_id: get_for_update(uow.cases, case_id)[0] for case_id in sorted({a, b})}
    for case in loaded.values():
        access.check(actor, Permission.WRITE, case)
    return loaded[a], loaded[b]


def _ancestors(links: CaseLinkRepository, case_id: str) -> set[str]:
    """Every case above ``case_id`` through ``parent_of`` links (a cycle check's walk)."""
    seen: set[str] = set()
    frontier = [case_id]
    while frontier:
        current = frontier.pop()
        for link in links.of_case(current):
            if (link.kind is LinkKind.PARENT_OF and link.target == current
                    and link.source not in seen):
                seen.add(link.source)
                frontier.append(link.source)
    return seen


def _note(case: Case, other: Case, link: CaseLink, actor: Actor, now: datetime,
          kind: str) -> None:
    role = link.role_for(case.id)
    case.record_activity(actor, now, kind, "", role=role, case=other.id, number=other.number)
    event = CaseLinked if kind == "linked" else CaseUnlinked
    # saved with the case, so the outbox holds the event iff the link change committed
    case.emit(event(case.id, case.tenant, now, actor.id, other.id, role, link.source,
                    link.kind.value, link.target))


def _note_both(ctx: DeskContext, uow: UnitOfWork, a: Case, b: Case, link: CaseLink,
               actor: Actor, now: datetime, kind: str) -> None:
    """Record ``kind`` (linked / unlinked) on both ends, with a ``case.linked`` /
    ``case.unlinked`` event on each, and save both in ``uow``: a link is listed on both
    cases, so both timelines (and a host following either case) learn when it came and
    went."""
    versions = (a.version, b.version)
    _note(a, b, link, actor, now, kind)
    _note(b, a, link, actor, now, kind)
    for case, version in zip((a, b), versions, strict=True):
        ctx.after_change(case, now)
        uow.cases.save(case, version)


def link_cases(ctx: DeskContext, source: str, kind: LinkKind | str, target: str, *,
               actor: Actor) -> CaseLink:
    check.actor(actor)
    check.case_id(source, "source")
    check.case_id(target, "target")
    ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    link = CaseLink.make(source, kind, target, at=now, by=actor.id)
    with ctx.uow() as uow:
        links = case_links(uow)
        a, b = _lock_pair(ctx, uow, link.source, link.target, actor)
        existing = [k for k in links.of_case(a.id) if k.key == link.key]
        if existing:
            return existing[0]  # linking twice is linking once
        if link.kind is LinkKind.PARENT_OF and link.target in _ancestors(links, link.source):
            raise InvalidInput(f"case {b.number} is above {a.number} already; a case cannot "
                               "be its own ancestor", field="target")
        links.add(link)
        _note_both(ctx, uow, a, b, link, actor, now, "linked")
        uow.commit()
    return link


def unlink_cases(ctx: DeskContext, source: str, kind: LinkKind | str, target: str, *,
                 actor: Actor) -> bool:
    check.actor(actor)
    check.case_id(source, "source")
    check.case_id(target, "target")
    ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    wanted = CaseLink.make(source, kind, target, at=now, by=actor.id)
    with ctx.uow() as uow:
        links = case_links(uow)
        a, b = _lock_pair(ctx, uow, wanted.source, wanted.target, actor)
        if not links.remove(wanted.source, wanted.kind, wanted.target):
            return False
        _note_both(ctx, uow, a, b, wanted, actor, now, "unlinked")
        uow.commit()
    return True


def links_of(ctx: DeskContext, case_id: str, *, actor: Actor) -> list[CaseLink]:
    """The case's links (both directions) whose other end ``actor`` may read as well."""
    check.actor(actor)
    check.case_id(case_id)
    access = ctx.access
    wanted = access.read_permission(actor)
    access.require(actor, wanted)
    with ctx.uow() as uow:
        case = uow.cases.get(case_id)
        access.check(actor, wanted, case)
        found = case_links(uow).of_case(case_id)
        others = {c.id: c for c in uow.cases.get_many([k.other(case_id) for k in found])}
    return [k for k in found if (o := others.get(k.other(case_id))) is not None
            and access.can(actor, wanted, o)]


def require_children_done(ctx: DeskContext, case: Case, target: str) -> None:
    """The parent gate: with :attr:`TenantSettings.children_block_parent`, a case cannot move
    to a resolved or closed status while one of its children is active.

    Runs inside the command's unit of work (``ctx.local.uow``); a store without links has no
    children to wait for.
    """
    if not ctx.settings.children_block_parent:
        return
    category = ctx.workflow_of(case).categories[target]
    if category.is_active:
        return
    uow = getattr(ctx.local, "uow", None)
    if uow is None or getattr(uow, "links", None) is None:
        return
    page = uow.cases.query(CaseQuery(child_of=case.id, status_categories=_ACTIVE, limit=20))
    if page.items:
        numbers = ", ".join(s.number for s in page.items)
        more = " and more" if page.next_cursor else ""
        raise GateRequired(target, "children", f"every child case done (open: {numbers}{more})",
                           how="resolve or close the child cases first, or unlink them")


def survivor_of(uow: UnitOfWork, case_id: str) -> str:
    """Where mail and replies addressed to ``case_id`` belong: the case itself, or the case
    it was merged into (following a chain of merges). Mail ingest calls this with the case
    its thread resolution found; :class:`CaseNotFound` only when a hop is gone."""
    links = getattr(uow, "links", None)
    current = case_id
    for _ in range(MAX_MERGE_HOPS):
        if links is None:
            return current
        onward = [k.target for k in links.of_case(current)
                  if k.kind is LinkKind.MERGED_INTO and k.source == current]
        if not onward:
            return current
        current = onward[0]
    raise CaseNotFound(case_id, uow.tenant)


def merge(ctx: DeskContext, source: str, survivor: str, *, actor: Actor) -> Case:
    """Merge ``source`` into ``survivor``: the source closes into ``merged`` with its journal
    and a ``merged_into`` link; the survivor is locked (so it cannot be merged away at the
    same moment) but not written. Returns the source as saved."""
    check.actor(actor)
    check.case_id(source, "source")
    check.case_id(survivor, "survivor")
    ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    with ctx.uow() as uow:
        links = case_links(uow)
        a, b = _lock_pair(ctx, uow, source, survivor, actor)
        if a.id == b.id:
            raise InvalidInput("a case cannot be merged into itself", field="survivor")
        version = a.version
        merge_source(a, b, actor=actor, at=now)
        links.add(CaseLink.make(a.id, LinkKind.MERGED_INTO, b.id, at=now, by=actor.id))
        ctx.after_change(a, now)
        uow.cases.save(a, version)
        uow.commit()
    return a


def unmerge(ctx: DeskContext, source: str, *, actor: Actor) -> Case:
    """Undo :func:`merge` from the source's journal: its status and category come back, the
    link goes; the survivor was never written. Returns the source as saved."""
    check.actor(actor)
    check.case_id(source, "source")
    ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    with ctx.uow() as uow:
        case, _ = get_for_update(uow.cases, source)
        ctx.access.check(actor, Permission.WRITE, case)
        version = case.version
        survivor = unmerge_source(case, actor=actor, at=now)
        case_links(uow).remove(case.id, LinkKind.MERGED_INTO, survivor)
        ctx.after_change(case, now)
        uow.cases.save(case, version)
        uow.commit()
    return case


def merged_timeline(ctx: DeskContext, case_id: str, *, actor: Actor) -> list[MergedEntry]:
    """The case's timeline with the entries of every case merged into it (through chains of
    merges), each marked with its origin; a customer reads the public entries only."""
    check.actor(actor)
    check.case_id(case_id)
    access = ctx.access
    wanted = access.read_permission(actor)
    access.require(actor, wanted)
    with ctx.uow() as uow:
        survivor = uow.cases.get(case_id)
        access.check(actor, wanted, survivor)
        links = getattr(uow, "links", None)
        merged: dict[str, Case] = {}
        frontier = [case_id]
        while frontier and links is not None and len(merged) < 10_000:
            found = [k.source for k in links.of_cases(frontier)
                     if k.kind is LinkKind.MERGED_INTO and k.target in frontier
                     and k.source not in merged]
            loaded = uow.cases.get_many(found)
            merged.update((c.id, c) for c in loaded)
            frontier = [c.id for c in loaded]
    return _merged_timeline(survivor, merged.values(), public_only=actor.is_customer)


def split(ctx: DeskContext, source: str, seqs: list[int], *, subject: str,
          actor: Actor) -> Case:
    """A new case made of the chosen comments of ``source`` (copied with their audience,
    author and time, marked with their origin), keeping its contact, account, category and
    priority, linked ``split_from`` the source."""
    check.actor(actor)
    check.case_id(source, "source")
    if not isinstance(seqs, (list, tuple)) or not all(
            isinstance(n, int) and not isinstance(n, bool) for n in seqs):
        raise InvalidInput("seqs must be a list of timeline entry numbers", field="seqs")
    original = ctx.read(source, actor, Permission.WRITE)

    def prepare(case: Case, now: datetime) -> None:
        split_entries(original, case, list(seqs), actor=actor, at=now)

    made = casework.create_case(
        ctx, prepare=prepare, subject=subject, actor=actor, description="",
        priority=original.priority, severity=None, case_type=original.case_type,
        category=original.category, subcategory=original.subcategory, reason_code=None,
        source=original.source, links=original.links, tags=tuple(original.tags), custom=None,
        assignee=None, team=None)
    link_cases(ctx, made.id, LinkKind.SPLIT_FROM, original.id, actor=actor)
    return ctx.read(made.id, actor)


def customer_reply(ctx: DeskContext, case_id: str, body: str, *, actor: Actor) -> Case:
    """A customer's reply under the tenant's :class:`~caselib.cases.ReopenPolicy`: on an
    active case, a public reply; on a resolved case inside the grace window, a reopen and the
    reply; otherwise the old case is closed (if only resolved) and the reply opens a
    follow-up case carrying its context (contact, account, category, priority, tags), linked
    ``follow_up_of`` it. Returns the case the reply landed on."""
    check.actor(actor)
    check.case_id(case_id)
    replies_to = survivor_of_case(ctx, case_id)
    case = ctx.read(replies_to, actor)
    now = ctx.now()
    if case.is_active:
        return casework.add_comment(ctx, case.id, body, actor=actor, audience=Audience.PUBLIC,
                                    expected_version=None)
    if ctx.settings.reopen.customer_may_reopen(case, now):
        casework.reopen(ctx, case.id, actor=actor, reason=None, expected_version=None)
        return casework.add_comment(ctx, case.id, body, actor=actor, audience=Audience.PUBLIC,
                                    expected_version=None)
    if case.status_category is StatusCategory.RESOLVED:
        casework.close(ctx, case.id, "Closed: the reopen window has passed", actor=_SYSTEM,
                       csat=None, expected_version=None)
    follow = casework.create_case(
        ctx, subject=f"Follow-up: {case.subject}"[:200], actor=actor, description=body,
        priority=case.priority, severity=None, case_type=case.case_type,
        category=case.category, subcategory=case.subcategory, reason_code=None,
        source=case.source, links=case.links if not actor.is_customer else None,
        tags=tuple(case.tags), custom=None, assignee=None, team=None)
    link_cases(ctx, follow.id, LinkKind.FOLLOW_UP_OF, case.id, actor=_SYSTEM)
    return ctx.read(follow.id, actor)


def survivor_of_case(ctx: DeskContext, case_id: str) -> str:
    """:func:`survivor_of` in a unit of work of its own."""
    with ctx.uow() as uow:
        return survivor_of(uow, case_id)
