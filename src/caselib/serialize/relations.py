"""The shapes of what relates cases to each other and to the host: a typed link
(``case_link``), a checklist and its items (``checklist``, ``checklist_item``) and a
conversion (``conversion``) — written and read back.

A host lists a case's links, shows its checklist and its conversions in its API, so each has
a document of its own, in the same rules as the others (ISO datetimes, enums as their values,
unknown keys refused with their path). Reading a document builds the value through its own
constructor, so a link to itself or a checklist item with a bad id is refused here as it is
anywhere else, naming the key.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from caselib.cases import CaseLink, Checklist, ChecklistItem, Conversion
from caselib.cases.conversion import check_target
from caselib.errors import InvalidInput
from caselib.serialize._read import Doc, inside, instant_text

__all__ = [
    "checklist_from",
    "checklist_item_from",
    "checklist_item_to",
    "checklist_to",
    "conversion_from",
    "conversion_to",
    "link_from",
    "link_to",
]


def link_to(link: CaseLink) -> dict[str, Any]:
    """``{"source", "kind", "target", "created_at", "created_by"}`` (the stored direction;
    each end reads its role with :meth:`CaseLink.role_for`)."""
    return {"source": link.source, "kind": link.kind.value, "target": link.target,
            "created_at": instant_text(link.created_at), "created_by": link.created_by}


def link_from(d: Doc) -> CaseLink:
    source, kind, target = d.text("source"), d.text("kind", limit=32), d.text("target")
    at, by = d.instant("created_at"), d.text("created_by", default="system")
    d.finish()
    with inside(d.path):
        return CaseLink.make(source, kind, target, at=at, by=by)


def checklist_item_to(item: ChecklistItem) -> dict[str, Any]:
    """``{"id", "text", "required", "role"}``."""
    return item.to_dict()


def checklist_item_from(d: Doc) -> ChecklistItem:
    item_id, text = d.text("id", limit=64), d.text("text")
    required, role = d.boolean("required", default=True), d.opt_text("role", limit=64)
    d.finish()
    with inside(d.path):
        return ChecklistItem(item_id, text, required, role)


def checklist_to(checklist: Checklist) -> dict[str, Any]:
    """``{"template", "gate", "items": [...], "done": {item: {"by", "at"}},
    "open_required": [...]}`` (``open_required`` is derived: written, ignored on read)."""
    return {
        "template": checklist.template, "gate": checklist.gate,
        "items": [i.to_dict() for i in checklist.items],
        "done": {item: {"by": by, "at": instant_text(at)}
                 for item, (by, at) in sorted(checklist.done.items())},
        "open_required": list(checklist.open_required),
    }


def checklist_from(d: Doc) -> Checklist:
    template, gate = d.opt_text("template", limit=64), d.boolean("gate", default=False)
    items = tuple(checklist_item_from(i) for i in d.docs("items", default=[]))
    ids = [i.id for i in items]
    for n, item_id in enumerate(ids):
        if item_id in ids[:n]:  # as a template refuses them: each item is named once
            field = f"{d.name('items')}[{n}].id"
            raise InvalidInput(f"{field}: item id {item_id!r} is already used by an earlier "
                               "item; give each item its own id", field=field)
    done_doc = d.doc("done") if d.raw("done", None) is not None else None
    d.raw("open_required", None)
    d.finish()
    known = {i.id for i in items}
    done: dict[str, tuple[str, datetime]] = {}
    if done_doc is not None:
        for key in done_doc.key_names():
            if key not in known:
                raise InvalidInput(f"{done_doc.name(key)}: no item {key!r} in this "
                                   f"checklist; done names one of {sorted(known)}",
                                   field=done_doc.name(key))
            entry = done_doc.doc(key)
            done[key] = (entry.text("by"), entry.instant("at"))
            entry.finish()
    return Checklist(template, items, done, gate)


def conversion_to(conversion: Conversion) -> dict[str, Any]:
    """``{"target", "key", "requested_by", "requested_at", "record_id"}`` (``record_id``
    ``null`` while the host has not answered)."""
    return {"target": conversion.target, "key": conversion.key,
            "requested_by": conversion.requested_by,
            "requested_at": instant_text(conversion.requested_at),
            "record_id": conversion.record_id}


def conversion_from(d: Doc) -> Conversion:
    target = d.text("target", limit=32)
    with inside(d.path):  # the name a conversion request accepts, nothing else
        check_target(target)
    conversion = Conversion(target, d.text("key"), d.text("requested_by"),
                            d.instant("requested_at"), d.opt_text("record_id"))
    d.finish()
    return conversion
