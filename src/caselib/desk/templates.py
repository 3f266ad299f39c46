"""Template use cases: :func:`create_from_template` (a case pre-filled from one of the
tenant's :class:`~caselib.cases.CaseTemplate`, its checklist copied on in the same unit of
work), :func:`check_item` and :func:`checklist`.

The checklist's gate is enforced where every resolve and close passes
(:func:`caselib.cases.checklist.require_checklist_done`, called by the case commands).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from caselib.access import Permission
from caselib.cases import Actor, Case, CaseTemplate, Checklist
from caselib.cases.checklist import check_item as _check
from caselib.cases.checklist import start_checklist
from caselib.desk import _inputs as check
from caselib.desk import casework
from caselib.desk._context import DeskContext
from caselib.errors import InvalidInput, UnknownValue
from caselib.vocab import Source

__all__ = ["check_item", "checklist", "create_from_template", "template_named"]

CREATE_DEFAULTS: Final[Mapping[str, Any]] = {
    "description": "", "priority": None, "severity": None, "case_type": None,
    "category": None, "subcategory": None, "reason_code": None, "source": Source.OTHER,
    "links": None, "tags": (), "custom": None, "assignee": None, "team": None,
}
""":meth:`ServiceDesk.create_case`'s optional arguments and their defaults (what a template
and the caller may fill in)."""


def template_named(ctx: DeskContext, name: object) -> CaseTemplate:
    """The tenant's template ``name``; :class:`UnknownValue` listing the names it has."""
    for template in ctx.settings.templates:
        if template.name == name:
            return template
    raise UnknownValue("template", name, [t.name for t in ctx.settings.templates])


def create_from_template(ctx: DeskContext, template: str, *, subject: str, actor: Actor,
                         fields: Mapping[str, Any]) -> Case:
    check.actor(actor)
    chosen = template_named(ctx, template)
    for source in (chosen.fields, fields):
        unknown = sorted(set(source) - set(CREATE_DEFAULTS))
        if unknown:
            raise InvalidInput(f"{unknown[0]!r} is not a create_case argument; use one of "
                               f"{', '.join(CREATE_DEFAULTS)}", field=unknown[0])
    merged: dict[str, Any] = {**CREATE_DEFAULTS, **chosen.fields, **fields}
    if chosen.fields.get("custom") and fields.get("custom"):
        merged["custom"] = {**chosen.fields["custom"], **fields["custom"]}

    def prepare(case: Case, now: datetime) -> None:
        start_checklist(case, chosen, actor=actor, at=now)

    return casework.create_case(ctx, prepare=prepare, subject=subject, actor=actor, **merged)


def check_item(ctx: DeskContext, case_id: str, item: str, *, done: bool, actor: Actor,
               expected_version: int | None) -> Case:
    check.command(case_id, actor, expected_version)
    check.flag(done, "done")
    return ctx.change(
        case_id,
        lambda case, now: _check(case, item, done=done, actor=actor, at=now),
        expected_version, actor=actor, permission=Permission.WRITE)


def checklist(ctx: DeskContext, case_id: str, *, actor: Actor) -> Checklist:
    check.actor(actor)
    check.case_id(case_id)
    return Checklist.of(ctx.read(case_id, actor))
