"""Case templates and their checklists: :class:`CaseTemplate`, :class:`ChecklistItem`, and
the :class:`Checklist` a case carries.

A template pre-fills a new case's fields and gives it a checklist. The checklist lives on the
timeline, not in a column: one *system* entry ``checklist`` copies the template's items when
the case is opened (so editing the template later does not rewrite the lists of cases already
open), and each check or uncheck is a system entry ``checklist_checked`` /
``checklist_unchecked`` saying who and when. :meth:`Checklist.of` folds those entries into
the current state. Why the timeline: every store already keeps it, in order and append-only,
so templates need no schema of their own and the audit trail is the data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.cases.case import Case
from caselib.cases.values import Actor
from caselib.checks import bool_attribute, require_items, require_mapping, require_str
from caselib.errors import ChecklistIncomplete, InvalidConfiguration, UnknownValue
from caselib.timeutil import aware_utc
from caselib.vocab import Audience, StatusCategory

__all__ = [
    "CaseTemplate",
    "Checklist",
    "ChecklistItem",
    "TEMPLATE_FIELDS",
    "check_item",
    "require_checklist_done",
    "start_checklist",
]

_ID: Final = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
_LISTED: Final = "checklist"
_CHECKED: Final = "checklist_checked"
_UNCHECKED: Final = "checklist_unchecked"


def _item_id(_inst: object, attr: attrs.Attribute[str], value: object) -> None:
    text = require_str(value, attr.name, "an item id such as 'backup-taken'")
    if not _ID.fullmatch(text):
        raise InvalidConfiguration(
            f"checklist item id {text!r}: use 1-64 lowercase letters, digits, '-' or '_'",
            field=attr.name)


def _text(_inst: object, attr: attrs.Attribute[str], value: object) -> None:
    if not require_str(value, attr.name).strip():
        raise InvalidConfiguration(f"checklist item {attr.name} must not be blank",
                                   field=attr.name)


def _role(_inst: object, attr: attrs.Attribute[str | None], value: object) -> None:
    if value is not None:
        require_str(value, attr.name, "a role name such as 'installer', or None")


@attrs.frozen
class ChecklistItem:
    """One task of a checklist: ``required`` ones gate the resolve (when the template says
    so); ``role`` names who is expected to do it (shown, not enforced)."""

    id: str = attrs.field(validator=_item_id)
    text: str = attrs.field(validator=_text)
    required: bool = attrs.field(default=True, validator=bool_attribute)
    role: str | None = attrs.field(default=None, validator=_role)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "required": self.required, "role": self.role}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ChecklistItem:
        return cls(d["id"], d["text"], d.get("required", True), d.get("role"))


def _items(values: object) -> tuple[ChecklistItem, ...]:
    items = require_items(values, "checklist", "a list of ChecklistItem values")
    for item in items:
        if not isinstance(item, ChecklistItem):
            raise InvalidConfiguration(f"a checklist holds ChecklistItem values, not {item!r}")
    ids = [i.id for i in items]
    if len(set(ids)) != len(ids):
        raise InvalidConfiguration(f"checklist item ids repeat: {sorted(ids)}")
    return items


TEMPLATE_FIELDS: Final = frozenset({
    "description", "priority", "severity", "case_type", "category", "subcategory",
    "reason_code", "source", "links", "tags", "custom", "assignee", "team"})
"""What a template may pre-fill: :meth:`~caselib.ServiceDesk.create_case`'s optional
arguments."""


def _fields(value: object) -> Mapping[str, Any]:
    fields = dict(require_mapping(value, "fields"))
    unknown = sorted(set(fields) - TEMPLATE_FIELDS)
    if unknown:
        raise InvalidConfiguration(f"a template cannot pre-fill {unknown[0]!r}; it fills "
                                   f"{', '.join(sorted(TEMPLATE_FIELDS))}")
    return fields


@attrs.frozen
class CaseTemplate:
    """A tenant's named starting point for a kind of case.

    ``fields`` are :meth:`~caselib.ServiceDesk.create_case` keyword arguments (``category``,
    ``priority``, ``case_type``, ``tags``, ``custom``, ``description`` as a skeleton …) that
    the caller's own arguments override; ``checklist`` the items every case opened from it
    gets. ``gate_resolve``: the case cannot be resolved or closed while a required item is
    open (:class:`~caselib.errors.ChecklistIncomplete`).

    .. versionadded:: 0.3
    """

    name: str = attrs.field(validator=_item_id)
    checklist: tuple[ChecklistItem, ...] = attrs.field(default=(), converter=_items)
    fields: Mapping[str, Any] = attrs.field(factory=dict, converter=_fields, hash=False)
    gate_resolve: bool = attrs.field(default=True, validator=bool_attribute)


@attrs.frozen
class Checklist:
    """A case's checklist as its timeline says: the items and which are done, by whom."""

    template: str | None
    items: tuple[ChecklistItem, ...]
    done: Mapping[str, tuple[str, datetime]] = attrs.field(hash=False)
    """Item id → (actor id, when it was checked) for the items checked now."""
    gate: bool = False

    @classmethod
    def of(cls, case: Case) -> Checklist:
        """Fold the case's checklist entries (an empty checklist when it has none)."""
        template, gate = None, False
        items: tuple[ChecklistItem, ...] = ()
        done: dict[str, tuple[str, datetime]] = {}
        for e in case.timeline:
            if e.audience is not Audience.SYSTEM:
                continue
            if e.kind == _LISTED:
                template = e.data.get("template")
                items = tuple(ChecklistItem.from_dict(d) for d in e.data.get("items", ()))
                gate = bool(e.data.get("gate", False))
                done = {}
            elif e.kind == _CHECKED:
                done[e.data["item"]] = (e.actor, e.at)
            elif e.kind == _UNCHECKED:
                done.pop(e.data["item"], None)
        return cls(template, items, done, gate)

    @property
    def open_required(self) -> tuple[str, ...]:
        """Ids of the required items not done, in checklist order."""
        return tuple(i.id for i in self.items if i.required and i.id not in self.done)


def start_checklist(case: Case, template: CaseTemplate, *, actor: Actor, at: datetime) -> None:
    """Copy ``template``'s checklist onto the case (one system entry); no items, no entry."""
    if template.checklist:
        case.record_activity(actor, at, _LISTED, "", template=template.name,
                             items=[i.to_dict() for i in template.checklist],
                             gate=template.gate_resolve)


def check_item(case: Case, item: str, *, done: bool, actor: Actor, at: datetime) -> bool:
    """Check (``done=True``) or uncheck an item: one system entry; ``False`` and no entry
    when it already is in that state. :class:`UnknownValue` for an item the list lacks."""
    checklist = Checklist.of(case)
    known = [i.id for i in checklist.items]
    if item not in known:
        raise UnknownValue("item", item, known)
    if (item in checklist.done) == done:
        return False
    text = next(i.text for i in checklist.items if i.id == item)
    case.record_activity(actor, aware_utc(at, "at"), _CHECKED if done else _UNCHECKED, text,
                         item=item)
    return True


def require_checklist_done(case: Case, target: str, category: StatusCategory) -> None:
    """The checklist gate: a case whose template gates the resolve cannot move to a resolved
    or closed status with required items open (:class:`ChecklistIncomplete` names them)."""
    if category.is_active:
        return
    checklist = Checklist.of(case)
    if checklist.gate and checklist.open_required:
        raise ChecklistIncomplete(target, checklist.open_required)
