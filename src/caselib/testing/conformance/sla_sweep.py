"""The breach sweep's contract: SLA parts read and written without loading whole cases.

Checks :class:`~caselib.ports.SlaSweepRepository` (optional for an adapter) against
:func:`~caselib.ports.sla_parts` and whole-case saves. :func:`_record_breach` is here because it
is the sweep's write; the stateful machine replays it too.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import cast

import attrs
import pytest

from caselib.cases import Actor, Case, Pause, SlaBreached
from caselib.errors import CaseNotFound
from caselib.ports import (
    CaseQuery,
    CaseRepository,
    QueryOrder,
    SlaSweepRepository,
    Store,
    sla_parts,
)
from caselib.sla import SlaCase
from caselib.storage.memory import MemoryStore
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.testing.conformance.helpers import (
    ORDERS,
    T0,
    _add,
    _assert_translated,
    _rich_case,
    _with_after,
    assert_same_case,
    make_case,
    sla_state,
)
from caselib.vocab import Priority

__all__ = ["SlaSweepContract"]


def _record_breach(cases: CaseRepository, part: SlaCase, whole: Case | None, at: datetime,
                   raise_to: Priority, pauses: list[Pause]) -> None:
    """What the breach sweep does to one due case, written the way the desk writes it."""
    loaded = part.version
    part.pauses = pauses
    part.sla_targets = [attrs.evolve(t, state="breached", breached_at=t.due_at or at,
                                     breached_by_seconds=60.0)
                        if t.state in ("running", "warning") else t for t in part.sla_targets]
    part.record_breach("resolution", "resolution target breached", actor=Actor.system(),
                       at=at, priority=raise_to, breached_by_seconds=60.0, notified=["ana"])
    part.emit(SlaBreached(part.id, part.tenant, at, "caselib", "resolution", at, 60.0,
                          ("ana",)))
    if whole is None:
        assert cast(SlaSweepRepository, cases).save_sla_cases([(part, loaded)]) == []
        saved = part.version
    else:
        part.apply_to(whole)
        cases.save(whole, loaded)
        saved = whole.version
    assert saved == loaded + 1 and not part.new_entries and not part.events


class SlaSweepContract(StoreFixtures):
    """The breach sweep's reads and writes, lean or whole-case. Not named ``Test…``."""

    def test_sla_part_is_the_sla_part_of_the_whole_case(self, store: Store) -> None:
        """The breach sweep's read gives SlaCase.of(whole case), every field of every kind."""
        due = make_case("acme", 2, due=T0 + timedelta(hours=1))
        _add(store, "acme", _rich_case("acme"), due)
        with store.unit_of_work("acme") as uow:
            # the rich case is resolved, so any status category; both have a due time or a breach
            query = CaseQuery(order="created", limit=10)
            parts, _ = sla_parts(uow.cases, query)
            wholes = uow.cases.query_cases(query).cases
        assert [sla_state(p) for p, _ in parts] == [sla_state(SlaCase.of(c)) for c in wholes]
        rich = parts[0][0]
        assert rich.entry_count == len(wholes[0].timeline)
        assert {e.kind for e in rich.timeline} <= {"status_changed", "reply"}

    @pytest.mark.parametrize("order", ORDERS)
    def test_sla_pages_follow_query_cases(self, store: Store, order: QueryOrder) -> None:
        """Paged through, the sweep's read lists the cases query_cases lists, with the
        same cursors (ties in the sort key included; a claiming store may add one after a
        full last page, followed by an empty one)."""
        _add(store, "acme", *[make_case("acme", n, at=T0 + timedelta(minutes=n // 3),
                                        due=T0 + timedelta(hours=n % 3), priority=p)
                              for n, p in zip(range(1, 9), list(Priority) * 2, strict=False)])
        query = CaseQuery(order=order, limit=2)
        with store.unit_of_work("acme") as uow:
            after: str | None = None
            for _ in range(10):
                parts, cursor = sla_parts(uow.cases, _with_after(query, after))
                page = uow.cases.query_cases(_with_after(query, after))
                assert [p.id for p, _ in parts] == [c.id for c in page.cases]
                if cursor != page.next_cursor:  # allowed after a full page of a claiming store
                    assert page.next_cursor is None and len(parts) == query.limit
                    assert sla_parts(uow.cases, _with_after(query, cursor))[0] == []
                    cursor = None
                after = cursor
                if after is None:
                    break
            assert after is None

    def test_sla_save_writes_what_a_whole_save_writes(self, store: Store) -> None:
        """A breach written by the lean path loads as the same case, with the same outbox
        messages, as the same breach applied to the whole case and saved (the memory model)."""
        tricky = make_case("acme", 3, due=T0, subject='Quotes " \\ back\\slash \u2028 ü 🧾',
                           custom={"big": 2**53 - 1, "ratio": 1e-7, "text": "a\tb\nc"})
        model = MemoryStore()
        for target in (store, model):
            _add(target, "acme", _rich_case("acme"), tricky.clone())
            with target.unit_of_work("acme") as uow:
                uow.outbox.mark_delivered([m.key for m in uow.outbox.pending(100)])
                parts, _ = sla_parts(uow.cases, CaseQuery(order="created", limit=10))
                for part, whole in parts:
                    _record_breach(uow.cases, part, whole, T0 + timedelta(hours=3),
                                   Priority.URGENT, [Pause(T0, T0 + timedelta(minutes=5))])
                uow.commit()
        for case_id in ("rich-1", tricky.id):
            with store.unit_of_work("acme") as uow, model.unit_of_work("acme") as m:
                assert_same_case(uow.cases.get(case_id), m.cases.get(case_id))
        with store.unit_of_work("acme") as uow, model.unit_of_work("acme") as m:
            assert uow.outbox.pending(100) == m.outbox.pending(100)

    def test_stale_sla_save_raises_conflict_and_changes_nothing(self, store: Store) -> None:
        """A lean breach write at an outdated version is refused and writes nothing."""
        case = make_case("acme", 4, due=T0)
        _add(store, "acme", case)
        with store.unit_of_work("acme") as uow:
            if not isinstance(uow.cases, SlaSweepRepository):
                pytest.skip("this adapter has no SlaSweepRepository")
            before = uow.cases.get(case.id)
            pending = uow.outbox.pending(100)
        with store.unit_of_work("acme") as uow:
            cases = cast(SlaSweepRepository, uow.cases)
            page = cases.query_sla_cases(CaseQuery(order="created", limit=5))
            part = page.cases[0]
            part.record_breach("resolution", "late", actor=Actor.system(), at=T0,
                               priority=Priority.URGENT)
            assert cases.save_sla_cases([(part, part.version - 1)]) == [case.id]
            assert part.new_entries, "a refused save keeps the change for a retry"
            uow.commit()
        with store.unit_of_work("acme") as uow:
            gone = attrs.evolve(part, id="no-such-case")
            with pytest.raises(CaseNotFound) as info:
                cast(SlaSweepRepository, uow.cases).save_sla_cases([(gone, gone.version)])
            _assert_translated(info.value)
        with store.unit_of_work("acme") as uow:
            assert_same_case(uow.cases.get(case.id), before)
            assert uow.outbox.pending(100) == pending
