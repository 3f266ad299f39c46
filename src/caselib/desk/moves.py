"""Which moves a reader may make on a case: :func:`allowed_transitions` (one loaded case) and
:func:`allowed_transitions_of` (list rows and board cards, from their summaries, without
loading the cases), and :func:`transition_permission`, the permission a move needs (the
transition command checks the same one)."""

from __future__ import annotations

from collections.abc import Iterable

from caselib.access import Permission
from caselib.cases import Actor, Case, CompiledWorkflow
from caselib.desk import _inputs as check
from caselib.desk._context import DeskContext
from caselib.errors import CaselibError, WrongType
from caselib.ports import CaseSummary
from caselib.vocab import StatusCategory

__all__ = ["allowed_transitions", "allowed_transitions_of", "transition_permission"]

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
    moves: dict[tuple[str, StatusCategory], list[tuple[tuple[str, Permission], ...]]] = {}
    out: dict[str, tuple[str, ...]] = {}
    ambiguous: list[str] = []
    for row in rows:
        if row.status_category is StatusCategory.MERGED:
            out[row.id] = ()
            continue
        key = (row.status, row.status_category)
        if key not in moves:  # each workflow's (target, permission) pairs, once per status
            moves[key] = list(dict.fromkeys(
                tuple((t, transition_permission(wf, t)) for t in wf.allowed_transitions(
                    row.status))
                for wf in ctx.workflows.values()
                if wf.categories.get(row.status) == row.status_category))
        answers = {tuple(t for t, needs in pairs if actor is None
                         or access.can(actor, needs, row)) for pairs in moves[key]}
        if len(answers) == 1:
            out[row.id] = answers.pop()
        else:
            ambiguous.append(row.id)
    if ambiguous:
        with ctx.uow() as uow:
            cases = [uow.cases.get(case_id) for case_id in ambiguous]
        for case in cases:
            out[case.id] = allowed_transitions(ctx, case, actor=actor)
    return out


def transition_permission(wf: CompiledWorkflow, to: str) -> Permission:
    """Moving into a resolved or closed status is resolving; any other move is writing."""
    try:
        category = wf.category(to)
    except CaselibError:
        return Permission.WRITE  # an unknown status: the workflow refuses it after the check
    return Permission.RESOLVE if category in _DONE else Permission.WRITE
