"""Which moves a reader may make on a case: :func:`allowed_transitions` (one loaded case) and
:func:`allowed_transitions_of` (list rows and board cards, from their summaries, without
loading the cases) with :func:`note_moves_of` (which of those need a note, so a quick-move
control can leave them to the case page's forms), :func:`case_actions` (the forms a case
page offers, from the workflow's categories and gates and the access policy), and
:func:`transition_permission`, the permission a move needs (the transition command checks
the same one)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import attrs

from caselib.access import CaseActions, Permission
from caselib.access import case_actions as access_actions
from caselib.cases import Actor, Case, CompiledWorkflow
from caselib.cases.checklist import require_checklist_done
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import CaselibError, GateRequired, WrongType
from caselib.ports import CaseQuery, CaseSummary, UnitOfWork
from caselib.vocab import StatusCategory

__all__ = ["allowed_transitions", "allowed_transitions_of", "case_actions", "customer_answered",
           "gated_move", "note_moves_of", "require_children_done", "transition_permission"]

_ACTIVE = frozenset({StatusCategory.NEW, StatusCategory.OPEN, StatusCategory.WAITING})

_DONE = (StatusCategory.RESOLVED, StatusCategory.CLOSED)


def allowed_transitions(ctx: DeskContext, case: Case, *, actor: Actor | None) -> tuple[str, ...]:
    check.case(case)
    if actor is not None:
        check.actor(actor)
    if case.status_category is StatusCategory.MERGED:
        return ()  # only unmerge leaves the merged status
    wf = ctx.workflow_of(case)
    targets = wf.allowed_transitions(case.status)
    if actor is None:
        return targets
    access = ctx.access
    return tuple(t for t in targets if access.can(actor, transition_permission(wf, t), case))


def case_actions(ctx: DeskContext, case: Case, *, actor: Actor) -> CaseActions:
    """:func:`caselib.access.case_actions` completed from the case's workflow: the targets
    :func:`resolve <caselib.desk.casework.resolve>`, ``close`` and ``reopen`` would pick
    (the first allowed status of the category, as those commands choose it), their gates,
    and the remaining moves. Reads nothing: ``case`` is the one the page already loaded.

    Command-time refusals that depend on other cases or items (open child cases, unchecked
    required checklist items) stay the command's; the form is offered and refused by name.
    """
    check.case(case)
    check.actor(actor)
    base = access_actions(ctx.access, actor, case)
    if not base.read or case.status_category is StatusCategory.MERGED:
        return base  # a merged case moves only by unmerge
    wf = ctx.workflow_of(case)
    allowed = allowed_transitions(ctx, case, actor=actor)
    resolve_to = close_to = reopen_to = None
    if base.resolve:
        resolve_to = wf.first_target(case.status, (StatusCategory.RESOLVED,))
        close_to = wf.first_target(case.status, (StatusCategory.CLOSED,))
    if (base.reopen and not case.is_active
            and (not actor.is_customer
                 or ctx.settings.reopen.customer_may_reopen(case, ctx.now()))):
        reopen_to = wf.first_target(case.status, (StatusCategory.OPEN, StatusCategory.NEW))
    forms = {resolve_to, close_to, reopen_to}
    moves = tuple(t for t in allowed if t not in forms)
    return attrs.evolve(
        base, moves=moves,
        note_moves=frozenset(t for t in moves if "note" in wf.gates(case.status, t)),
        resolve_to=resolve_to, close_to=close_to, reopen_to=reopen_to,
        resolve_gates=wf.gates(case.status, resolve_to) if resolve_to else frozenset(),
        close_gates=wf.gates(case.status, close_to) if close_to else frozenset())


def allowed_transitions_of(ctx: DeskContext, summaries: Iterable[CaseSummary], *,
                           actor: Actor | None) -> dict[str, tuple[str, ...]]:
    """:func:`allowed_transitions` for list rows, keyed by case id, from the summaries alone.

    A summary names the status and its category but not the workflow (the row has no such
    column), so the answer is read from every workflow of the desk that files the status
    under that category: when they all give the same moves (always, with one workflow) no
    case is loaded; otherwise (or for a status no workflow knows) the case is read, in one
    unit of work for all such rows. The access filter reads the summary's team, assignee
    and links, as :meth:`AccessPolicy.can <caselib.access.AccessPolicy.can>` would the case's.
    """
    return {case_id: tuple(t for t, _ in pairs)
            for case_id, pairs in _gated_moves_of(ctx, summaries, actor).items()}


def note_moves_of(ctx: DeskContext, summaries: Iterable[CaseSummary], *,
                  actor: Actor | None) -> dict[str, frozenset[str]]:
    """Of :func:`allowed_transitions_of`'s moves for each row, the ones whose transition is
    gated on a note (into a resolved or closed status always; others where the workflow
    says so), read the same way (summaries alone unless workflows disagree).

    A quick-move control (a board card's dropdown) has no note field, so it leaves these
    out and links to the case page, whose forms carry the note; the same moves
    :func:`case_actions` lists in ``note_moves`` (or reaches with the resolve / close forms)
    for the loaded case.
    """
    return {case_id: frozenset(t for t, gates in pairs if "note" in gates)
            for case_id, pairs in _gated_moves_of(ctx, summaries, actor).items()}


_Pairs = tuple[tuple[str, frozenset[str]], ...]


def _gates_of(wf: CompiledWorkflow, status: str, targets: Iterable[str]) -> _Pairs:
    return tuple((t, wf.gates(status, t)) for t in targets)


def _gated_moves_of(ctx: DeskContext, summaries: Iterable[CaseSummary],
                    actor: Actor | None) -> dict[str, _Pairs]:
    """Each row's allowed moves with their gates (the work behind both answers above)."""
    if actor is not None:
        check.actor(actor)
    if isinstance(summaries, CaseSummary):
        summaries = [summaries]
    if isinstance(summaries, str | bytes) or not isinstance(summaries, Iterable):
        raise WrongType("summaries", "CaseSummary rows (find_cases / board cards)", summaries)
    rows = list(summaries)
    for row in rows:
        if not isinstance(row, CaseSummary):
            raise WrongType("summaries", "CaseSummary rows (find_cases / board cards)", row)
    access = ctx.access
    moves: dict[tuple[str, StatusCategory],
                list[tuple[tuple[str, Permission, frozenset[str]], ...]]] = {}
    out: dict[str, _Pairs] = {}
    ambiguous: list[str] = []
    for row in rows:
        if row.status_category is StatusCategory.MERGED:
            out[row.id] = ()
            continue
        key = (row.status, row.status_category)
        if key not in moves:  # each workflow's (target, permission, gates), once per status
            moves[key] = list(dict.fromkeys(
                tuple((t, transition_permission(wf, t), wf.gates(row.status, t))
                      for t in wf.allowed_transitions(row.status))
                for wf in ctx.workflows.values()
                if wf.categories.get(row.status) == row.status_category))
        answers = {tuple((t, gates) for t, needs, gates in triples if actor is None
                         or access.can(actor, needs, row)) for triples in moves[key]}
        if len(answers) == 1:
            out[row.id] = answers.pop()
        else:
            ambiguous.append(row.id)
    if ambiguous:
        with ctx.uow() as uow:
            cases = [uow.cases.get(case_id) for case_id in ambiguous]
        for case in cases:
            out[case.id] = _gates_of(ctx.workflow_of(case), case.status,
                                     allowed_transitions(ctx, case, actor=actor))
    return out


def transition_permission(wf: CompiledWorkflow, to: str) -> Permission:
    """Moving into a resolved or closed status is resolving; any other move is writing."""
    try:
        category = wf.category(to)
    except CaselibError:
        return Permission.WRITE  # an unknown status: the workflow refuses it after the check
    return Permission.RESOLVE if category in _DONE else Permission.WRITE


def require_children_done(ctx: DeskContext, case: Case, target: str,
                          uow: UnitOfWork | None = None) -> None:
    """The parent gate: with :attr:`TenantSettings.children_block_parent`, a case cannot move
    to a resolved or closed status while one of its children is active.

    Reads in ``uow``, by default the running command's (``ctx.local.uow``); a store without
    links has no children to wait for.
    """
    if not ctx.settings.children_block_parent:
        return
    category = ctx.workflow_of(case).categories[target]
    if category.is_active:
        return
    if uow is None:
        uow = getattr(ctx.local, "uow", None)
    if uow is None or getattr(uow, "links", None) is None:
        return
    page = uow.cases.query(CaseQuery(child_of=case.id, status_categories=_ACTIVE, limit=20))
    if page.items:
        numbers = ", ".join(s.number for s in page.items)
        more = " and more" if page.next_cursor else ""
        raise GateRequired(target, "children", f"every child case done (open: {numbers}{more})",
                           how="resolve or close the child cases first, or unlink them")


def gated_move(ctx: DeskContext, case: Case, target: str, *, actor: Actor, at: datetime,
               note: str | None = None, resolution_code: str | None = None,
               csat: int | None = None, note_parameter: str = "note",
               uow: UnitOfWork | None = None) -> None:
    """Move ``case`` to ``target`` through every gate, all checked before the case changes:
    the workflow's (the transition exists, its note and assignee gates) first, so a refused
    transition says so first, then the tenant's (open children with
    ``children_block_parent``, a template's required checklist items). Every status change
    a command or an automation makes goes through here; an automation catches the refusal
    per action and still saves its other actions, so a gate checked after the move would
    have let the move through. ``uow``: the unit of work to read children in, when it is not
    the running command's (``ctx.local.uow``)."""
    wf = ctx.workflow_of(case)
    wf.check(case.status, target, note=note, assignee=case.assignee,
             note_parameter=note_parameter)
    require_children_done(ctx, case, target, uow)
    require_checklist_done(case, target, wf.category(target))
    wf.apply(case, target, actor=actor, at=at, note=note, resolution_code=resolution_code,
             csat=csat, note_parameter=note_parameter)


def customer_answered(ctx: DeskContext, case: Case, now: datetime, *, actor: Actor) -> None:
    """A customer's reply to a case waiting on the customer puts it back to work: it moves to
    the workflow's first open status it may reach without a gate a reply cannot meet, so its
    SLA clock runs again and it is back in its team's queues. The portal's reply, a mail
    reply and an approved held mail all call this (the portal's reply left the case waiting,
    its clock paused, while the same answer by mail reopened it). Without such a status the
    case stays where it is; the reply lands either way. A tenant turns this off with
    ``ReopenPolicy(replies_resume_waiting=False)``."""
    if (case.status_category is not StatusCategory.WAITING
            or not ctx.settings.reopen.replies_resume_waiting):
        return
    wf = ctx.workflow_of(case)
    for target in wf.allowed_transitions(case.status):
        if wf.category(target) is not StatusCategory.OPEN:
            continue
        try:
            wf.apply(case, target, actor=actor, at=now)
        except GateRequired:  # e.g. an assignee gate: try the next open status
            continue
        return
