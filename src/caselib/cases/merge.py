"""Merge, unmerge and split: the case-side steps (:func:`merge_source`, :func:`unmerge_source`,
:func:`split_entries`) and the merged reading of a survivor (:func:`merged_timeline`).

Why no entry moves. The timeline is append-only (an entry, once saved, is never rewritten or
deleted), so a merge that copied the source's entries onto the survivor could never be undone
exactly. A merge therefore *moves nothing*: the source closes into the status ``merged``
(category :attr:`~caselib.vocab.StatusCategory.MERGED`, which SLA clocks and every metric
leave out), a ``merged_into`` link points it at the survivor, and the source's ``merged``
entry is the **merge journal**: what the source was (status, category) so unmerge can put it
back. The survivor's merged reading (:func:`merged_timeline`) interleaves the entries of every
case merged into it, each keeping its author and time and marked ``from CASE-0012``. Unmerge
restores the source's status and category without side effects (no reopen is counted, no
resolution rewritten) and removes the link; the survivor was never written, so it is exactly
as it was. The one trace left is the audit: the source's ``merged`` and ``unmerged`` entries
(with their ``status_changed`` pair), system entries no customer sees. The SLA clocks read an
undone merge as none at all (:func:`caselib.sla.derive_pauses`), so the source's due times
come back too; :func:`caselib.testing.conformance.assert_restored` is the full promise.
Events follow the same rule: merge and unmerge publish ``case.status_changed`` then
``case.merged`` / ``case.unmerged`` (:class:`~caselib.cases.Merged`,
:class:`~caselib.cases.Unmerged`) on the source alone, naming the survivor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Final

import attrs

from caselib.cases.case import Case
from caselib.cases.events import Merged, StatusChanged, Unmerged
from caselib.cases.values import Actor, TimelineEntry
from caselib.errors import CaseMerged, InvalidInput
from caselib.timeutil import to_iso
from caselib.vocab import ActorKind, Audience, StatusCategory

__all__ = [
    "MERGED_STATUS",
    "MergedEntry",
    "merge_journal",
    "merge_source",
    "merged_timeline",
    "refuse_if_merged",
    "split_entries",
    "unmerge_source",
]

MERGED_STATUS: Final = "merged"
"""The status a merged-away case is in (outside every workflow: only unmerge leaves it)."""

_MERGED: Final = "merged"
_UNMERGED: Final = "unmerged"




def merge_journal(case: Case) -> dict[str, Any] | None:
    """The open merge journal of a merged case (its last ``merged`` entry's data), else
    ``None``."""
    if case.status_category is not StatusCategory.MERGED:
        return None
    for e in reversed(case.timeline):
        if e.audience is Audience.SYSTEM and e.kind == _MERGED:
            return dict(e.data)
    return None


def refuse_if_merged(case: Case) -> None:
    """:class:`CaseMerged` for a merged case (commands go to the survivor)."""
    if case.status_category is StatusCategory.MERGED:
        journal = merge_journal(case) or {}
        raise CaseMerged(case.number, journal.get("number"))


def _status_entry(case: Case, actor: Actor, at: datetime, new_status: str,
                  new_category: StatusCategory, kind: str, **data: Any) -> None:
    old, old_cat = case.status, case.status_category
    status, category = new_status, new_category
    case.status, case.status_category = status, category
    # the SLA engine reads status_changed entries for its pauses: a merged stretch pauses
    # the clocks as a resolved one does until an unmerge takes it back, and the reopen
    # counter skips it (facts)
    case.record_activity(actor, at, "status_changed", "", old=old, new=status,
                         old_category=old_cat.value, new_category=category.value)
    case.record_activity(actor, at, kind, "", **data)
    # hosts that follow status changes see the merge and the unmerge like any other move
    case.emit(StatusChanged(case.id, case.tenant, at, actor.id, old, status, old_cat.value,
                            category.value, None))


def merge_source(source: Case, survivor: Case, *, actor: Actor, at: datetime) -> None:
    """Close ``source`` into ``merged``, its journal naming ``survivor``."""
    if source.id == survivor.id:
        raise InvalidInput("a case cannot be merged into itself", field="survivor")
    refuse_if_merged(source)
    refuse_if_merged(survivor)
    previous = source.status
    _status_entry(source, actor, at, MERGED_STATUS, StatusCategory.MERGED, _MERGED,
                  into=survivor.id, number=survivor.number, status=previous,
                  category=source.status_category.value)
    # on the source alone: the survivor is not written by a merge (see Merged)
    source.emit(Merged(source.id, source.tenant, at, actor.id, survivor.id, survivor.number,
                       previous))


def unmerge_source(source: Case, *, actor: Actor, at: datetime) -> str:
    """Put a merged ``source`` back as its journal says; returns the survivor's id."""
    journal = merge_journal(source)
    if journal is None:
        raise InvalidInput(f"case {source.number} is not merged; nothing to unmerge",
                           field="case_id")
    survivor, number = str(journal["into"]), str(journal["number"])
    _status_entry(source, actor, at, journal["status"], StatusCategory(journal["category"]),
                  _UNMERGED, survivor=survivor, number=number)
    source.emit(Unmerged(source.id, source.tenant, at, actor.id, survivor, number,
                         source.status))
    return survivor


@attrs.frozen
class MergedEntry:
    """An entry of a survivor's merged reading: ``origin`` is ``None`` for the survivor's own
    entries, else the number of the merged case it comes from."""

    entry: TimelineEntry
    origin: str | None = None


def merged_timeline(survivor: Case, merged: Iterable[Case], *,
                    public_only: bool = False) -> list[MergedEntry]:
    """The survivor's entries and those of ``merged`` (cases merged into it), each keeping
    its author and time, in time order (ties: the survivor first, then by number and seq).
    ``public_only`` keeps public entries alone (a customer's reading)."""
    rows: list[tuple[TimelineEntry, str | None]] = [(e, None) for e in survivor.timeline]
    for case in merged:
        rows.extend((e, case.number) for e in case.timeline)
    if public_only:
        rows = [(e, o) for e, o in rows if e.audience is Audience.PUBLIC]
    rows.sort(key=lambda r: (to_iso(r[0].at), r[1] is not None, r[1] or "", r[0].seq))
    return [MergedEntry(e, o) for e, o in rows]


def split_entries(source: Case, target: Case, seqs: Sequence[int], *, actor: Actor,
                  at: datetime) -> int:
    """Copy the chosen comments of ``source`` onto the new case ``target``, each keeping its
    audience, author and time and marked with where it came from; returns how many."""
    by_seq = {e.seq: e for e in source.timeline}
    chosen = []
    for seq in dict.fromkeys(seqs):
        entry = by_seq.get(seq)
        if entry is None or not entry.is_comment:
            raise InvalidInput(f"entry {seq} of {source.number} is not a comment; split "
                               "moves comments (public replies and internal notes)",
                               field="seqs")
        chosen.append(entry)
    if not chosen:
        raise InvalidInput("choose at least one comment to split off", field="seqs")
    for entry in chosen:
        author = Actor(entry.actor, entry.actor_kind or ActorKind.AGENT, frozenset(),
                       entry.actor_name)
        copied = target._append(author, entry.at, entry.audience, entry.kind, entry.body,
                                {**entry.data, "from": source.number, "from_seq": entry.seq})
        assert copied.audience is entry.audience
    target.record_activity(actor, at, "split", "", source=source.id, number=source.number,
                           seqs=[e.seq for e in chosen])
    return len(chosen)
