"""Relation use cases: typed links between cases (:func:`link_cases`, :func:`unlink_cases`,
:func:`links_of`), merge, split and follow-ups, and the source → survivor lookup mail ingest
calls (:func:`survivor_of`). The parent gate is :func:`caselib.desk.moves.require_children_done`,
beside the other gates every move passes.

A link touches two cases, so these commands do not go through :meth:`DeskContext.change`
(one case): they lock both cases in id order (two linkers of the same pair take turns
instead of deadlocking), write the link row and one system entry on each case, and save both
in one unit of work.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime

from caselib.access import Permission
from caselib.cases import Actor, Case, CaseLink, CaseLinked, CaseUnlinked, LinkKind, Split
from caselib.cases.merge import (
    MergedEntry,
    merge_source,
    refuse_if_merged,
    split_entries,
    unmerge_source,
)
from caselib.cases.merge import merged_timeline as _merged_timeline
from caselib.cases.values import BODY_MAX_LENGTH, _text
from caselib.desk import _inputs as check
from caselib.desk import casework
from caselib.desk._context import DeskContext
from caselib.errors import CaseNotFound, GateRequired, InvalidInput, TransitionNotAllowed
from caselib.ports import (
    MAX_QUERY_LIMIT,
    CaseLinkRepository,
    CaseQuery,
    CaseSummary,
    UnitOfWork,
    case_links,
    get_for_update,
)
from caselib.vocab import ActorKind, Audience, StatusCategory

__all__ = [
    "MAX_MERGE_HOPS",
    "customer_reply",
    "link_cases",
    "links_of",
    "merge",
    "merged_timeline",
    "related_cases",
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

_Also = Callable[[Case, Case, datetime], None]
"""A step run on a new link's source and target cases before they are saved."""


def _lock_pair(ctx: DeskContext, uow: UnitOfWork, a: str, b: str, actor: Actor
               ) -> tuple[Case, Case]:
    """Load (and lock, where the store can) both cases in id order; both must be writable
    and not merged away (:class:`CaseMerged`: links go to the survivor, and a merge's own
    link comes and goes with merge / unmerge, never alone)."""
    access = ctx.access
    loaded = {case_id: get_for_update(uow.cases, case_id)[0] for case_id in sorted({a, b})}
    for case in loaded.values():
        access.check(actor, Permission.WRITE, case)
        refuse_if_merged(case)
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


def _link_new(ctx: DeskContext, uow: UnitOfWork, new: Case, kind: LinkKind, other_id: str,
              actor: Actor, now: datetime, also: _Also | None = None) -> Case:
    """Link a case being created (``new``, not yet added) *kind* ``other_id`` inside the
    creating unit of work (:data:`~caselib.desk.casework.Within`), so the new case, the link,
    both entries and events and the other case's save commit together: a split or a
    follow-up never exists without its link. ``also`` runs on (new, other) before the other
    is saved; returns the other case as saved."""
    other = get_for_update(uow.cases, other_id)[0]
    ctx.access.check(actor, Permission.WRITE, other)
    refuse_if_merged(other)
    version = other.version
    link = CaseLink.make(new.id, kind, other.id, at=now, by=actor.id)
    case_links(uow).add(link)
    _note(new, other, link, actor, now, "linked")
    _note(other, new, link, actor, now, "linked")
    if also is not None:
        also(new, other, now)
    ctx.after_change(other, now)
    uow.cases.save(other, version)
    return other


def _wanted(ctx: DeskContext, source: str, kind: LinkKind | str, target: str, actor: Actor
            ) -> tuple[CaseLink, datetime]:
    """The link a link / unlink command names (checked, the actor allowed to write) and the
    command's instant. ``merged_into`` is refused: only :func:`merge` and :func:`unmerge`
    write it, beside the journal that undoes it."""
    check.actor(actor)
    check.case_id(source, "source")
    check.case_id(target, "target")
    ctx.access.require(actor, Permission.WRITE)
    now = ctx.now()
    link = CaseLink.make(source, kind, target, at=now, by=actor.id)
    if link.kind is LinkKind.MERGED_INTO:
        # a hand-made merged_into link would send the case's mail to the other case while
        # the case itself stays open, with no journal to undo it
        raise InvalidInput("a merged_into link comes and goes with a merge only: call "
                           "merge(source, survivor) or unmerge(source) instead", field="kind")
    return link, now


def link_cases(ctx: DeskContext, source: str, kind: LinkKind | str, target: str, *,
               actor: Actor) -> CaseLink:
    """Link ``source`` *kind* ``target`` (linking twice is linking once)."""
    link, now = _wanted(ctx, source, kind, target, actor)
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
    wanted, now = _wanted(ctx, source, kind, target, actor)
    with ctx.uow() as uow:
        links = case_links(uow)
        a, b = _lock_pair(ctx, uow, wanted.source, wanted.target, actor)
        if not links.remove(wanted.source, wanted.kind, wanted.target):
            return False
        _note_both(ctx, uow, a, b, wanted, actor, now, "unlinked")
        uow.commit()
    return True


def _readable_links(ctx: DeskContext, case_id: str, actor: Actor
                    ) -> list[tuple[CaseLink, CaseSummary]]:
    """The case's links (both directions) with their other case's summary, those whose
    other case ``actor`` may read. The case and the other ends are read as summary rows
    (``CaseQuery(ids=…)``, one query per :data:`MAX_QUERY_LIMIT` cases) after the links, not
    loaded whole: the access checks need only what a summary carries, and a timeline can be
    long."""
    check.actor(actor)
    check.case_id(case_id)
    access = ctx.access
    wanted = access.read_permission(actor)
    access.require(actor, wanted)
    with ctx.uow() as uow:
        found = case_links(uow).of_case(case_id)
        # the case itself rides in the first batch: its access check needs a summary too
        ids = list(dict.fromkeys([case_id, *(k.other(case_id) for k in found)]))
        rows: dict[str, CaseSummary] = {}
        for start in range(0, len(ids), MAX_QUERY_LIMIT):
            batch = ids[start:start + MAX_QUERY_LIMIT]
            page = uow.cases.query(CaseQuery(ids=batch, limit=len(batch)))
            rows.update((s.id, s) for s in page.items)
    case = rows.get(case_id)
    if case is None:
        raise CaseNotFound(case_id, ctx.tenant)
    access.check(actor, wanted, case)
    return [(k, o) for k in found if (o := rows.get(k.other(case_id))) is not None
            and access.can(actor, wanted, o)]


def links_of(ctx: DeskContext, case_id: str, *, actor: Actor) -> list[CaseLink]:
    """The case's links (both directions) whose other end ``actor`` may read as well."""
    return [link for link, _ in _readable_links(ctx, case_id, actor)]


def related_cases(ctx: DeskContext, case_id: str, *, actor: Actor
                  ) -> list[tuple[str, CaseSummary]]:
    """Each linked case as ``(role, summary)``: the link's role as ``case_id`` reads it
    (``parent_of``, ``child_of``, ``split_into`` …) and the other case's
    :class:`~caselib.ports.CaseSummary` (number, subject, status …), in :func:`links_of`'s
    order, read as summary rows in one query. A case ``actor`` may not read is left out,
    as :func:`links_of` leaves its link out: saying "a restricted case" would still tell a
    customer that another case exists."""
    return [(link.role_for(case_id), other)
            for link, other in _readable_links(ctx, case_id, actor)]


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

    chosen = tuple(dict.fromkeys(seqs))

    def announce(new: Case, source: Case, now: datetime) -> None:
        # on the source, saved with its split_into link: a host following the source case
        # learns where its comments went (the new case has case.created and case.linked)
        source.emit(Split(source.id, source.tenant, now, actor.id, new.id, new.number, chosen))

    def link(uow: UnitOfWork, new: Case, now: datetime) -> None:
        _link_new(ctx, uow, new, LinkKind.SPLIT_FROM, original.id, actor, now, announce)

    made = casework.create_case(
        ctx, prepare=prepare, within=link, subject=subject, actor=actor, description="",
        priority=original.priority, severity=None, case_type=original.case_type,
        category=original.category, subcategory=original.subcategory, reason_code=None,
        source=original.source, links=original.links, tags=tuple(original.tags), custom=None,
        assignee=None, team=None)
    return ctx.read(made.id, actor)


def customer_reply(ctx: DeskContext, case_id: str, body: str, *, actor: Actor) -> Case:
    """A customer's reply under the tenant's :class:`~caselib.cases.ReopenPolicy`: on an
    active case, a public reply; on a resolved case inside the grace window, a reopen and the
    reply, saved together; past it, the old case's active follow-up takes the reply when an
    earlier late reply opened one; otherwise the old case is closed (if only resolved) and
    the reply opens a follow-up case carrying its context (contact, account, category,
    priority, tags), linked ``follow_up_of`` it. Returns the case the reply landed on."""
    check.actor(actor)
    check.case_id(case_id)
    # the reply is checked as the comment it becomes before anything is written: a
    # follow-up takes it as its description (which may be empty); a reopen saves it with
    # the reopen, in one command
    _text(body, "comment", BODY_MAX_LENGTH)
    replies_to = survivor_of_case(ctx, case_id)
    case = ctx.read(replies_to, actor)
    now = ctx.now()
    if case.is_active:
        return casework.add_comment(ctx, case.id, body, actor=actor, audience=Audience.PUBLIC,
                                    expected_version=None)
    if ctx.settings.reopen.customer_may_reopen(case, now):
        return casework.reopen(ctx, case.id, actor=actor, reason=None, expected_version=None,
                               reply=body)
    onward = open_follow_up(ctx, case.id, actor)
    if onward is not None:  # the follow-up an earlier late reply opened takes this one too
        return casework.add_comment(ctx, onward, body, actor=actor, audience=Audience.PUBLIC,
                                    expected_version=None)
    follow = casework.create_case(
        ctx, within=follow_up_within(ctx, case.id), subject=follow_up_subject(case),
        actor=actor,
        description=body, priority=case.priority, severity=None, case_type=case.case_type,
        category=case.category, subcategory=case.subcategory, reason_code=None,
        source=case.source, links=case.links if not actor.is_customer else None,
        tags=tuple(case.tags), custom=None, assignee=None, team=None)
    return ctx.read(follow.id, actor)


def open_follow_up(ctx: DeskContext, case_id: str, actor: Actor | None = None) -> str | None:
    """The newest active case that follows ``case_id`` up (linked ``follow_up_of`` it), or
    ``None``: where a later reply to a done case belongs, so a customer who writes twice past
    the reopen window gets one follow-up, not one per message. ``actor``: only a follow-up it
    may read (the portal's customer); ``None`` for the mail channel, whose own checks (the
    sender against the case's contact) run on the case it picks."""
    with ctx.uow() as uow:
        links = getattr(uow, "links", None)
        if links is None:
            return None
        ids = [k.source for k in links.of_case(case_id)
               if k.kind is LinkKind.FOLLOW_UP_OF and k.target == case_id][:MAX_QUERY_LIMIT]
        if not ids:
            return None
        rows = uow.cases.query(CaseQuery(ids=ids, limit=len(ids))).items
    access = ctx.access
    live = [s for s in rows if s.status_category.is_active and (
        actor is None or access.can(actor, access.read_permission(actor), s))]
    return max(live, key=lambda s: (s.created_at, s.number)).id if live else None


def follow_up_subject(old: Case) -> str:
    """The subject of a follow-up of ``old`` (cut to the subject's length limit)."""
    return f"Follow-up: {old.subject}"[:200]


def follow_up_within(ctx: DeskContext, old_id: str) -> casework.Within:
    """What makes a case being created a follow-up of ``old_id``, in the creating unit of
    work: the ``follow_up_of`` link with its entries and events on both cases, and the close
    of the old case when it was only resolved (its reopen window has passed). The portal's
    :func:`customer_reply` and the mail channel both open follow-ups with it, so the old case
    closes, the new one opens and the two are linked in one commit: a crash leaves all of it
    or none (the reply is then refused or retried, never lost)."""
    def link(uow: UnitOfWork, new: Case, now: datetime) -> None:
        close = casework.to_category_command(
            ctx, (StatusCategory.CLOSED,), "closed", actor=_SYSTEM,
            note="Closed: the reopen window has passed", uow=uow)

        def close_if_resolved(new: Case, old: Case, now: datetime) -> None:
            # a child reopened since, a required checklist item, or a workflow with no
            # closed status after resolved keeps the old case resolved; the reply must land
            # on the follow-up all the same
            if old.status_category is StatusCategory.RESOLVED:
                with contextlib.suppress(GateRequired, TransitionNotAllowed):
                    close(old, now)

        _link_new(ctx, uow, new, LinkKind.FOLLOW_UP_OF, old_id, _SYSTEM, now,
                  close_if_resolved)

    return link


def survivor_of_case(ctx: DeskContext, case_id: str) -> str:
    """:func:`survivor_of` in a unit of work of its own."""
    with ctx.uow() as uow:
        return survivor_of(uow, case_id)
