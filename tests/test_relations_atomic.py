"""A split and a reply-opened follow-up commit whole: when the link to the case they came
from cannot be written, no new case, no link and no change to the old case remain."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from caselib import Actor, ServiceDesk, TenantSettings
from caselib.cases import ReopenPolicy
from caselib.ports import Store
from caselib.storage._memory_links import MemoryLinks
from caselib.storage._sql.links import SqlLinks
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ANA = Actor.agent("ana")
CUSTOMER = Actor.customer("c-1")


class LinkWriteFailed(RuntimeError):
    """What the injected fault raises (a disk or network error in a real store)."""


@pytest.fixture
def failing_links(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """Make the next link write of any bundled store fail."""

    def arm() -> None:
        def add(self: Any, link: Any) -> bool:
            raise LinkWriteFailed("injected: the link row could not be written")

        for cls in (MemoryLinks, SqlLinks):
            monkeypatch.setattr(cls, "add", add)

    return arm


def _state(desk: ServiceDesk) -> list[tuple[str, str, int, int]]:
    rows = desk.find_cases(actor=ANA, limit=100).items
    return sorted((s.id, s.status, s.version, len(desk.get_case(s.id, actor=ANA).timeline))
                  for s in rows)


def test_a_split_is_whole_or_nothing(make_store: Callable[[], Store],
                                     failing_links: Callable[[], None]) -> None:
    desk = ServiceDesk(make_store(), tenant="acme", clock=FrozenClock(T0))
    src = desk.create_case(subject="Two problems", actor=ANA, links={"contact": "c-1"})
    src = desk.add_comment(src.id, "Also the scanner", actor=ANA, audience="public")
    before = _state(desk)
    failing_links()
    with pytest.raises(LinkWriteFailed):
        desk.split(src.id, [src.timeline[-1].seq], subject="Scanner", actor=ANA)
    assert _state(desk) == before
    assert desk.case_links(src.id, actor=ANA) == []


def test_a_follow_up_is_whole_or_nothing(make_store: Callable[[], Store],
                                         failing_links: Callable[[], None]) -> None:
    clock = FrozenClock(T0)
    desk = ServiceDesk(make_store(), tenant="acme", clock=clock,
                       settings=TenantSettings(reopen=ReopenPolicy(grace=timedelta(days=7))))
    case = desk.create_case(subject="Printer jam", actor=ANA, links={"contact": "c-1"})
    for to in ("open", "in_progress", "pending_customer"):
        desk.transition(case.id, to, actor=ANA)
    desk.resolve(case.id, "Cleared the tray", actor=ANA)
    clock.advance(timedelta(days=30))
    before = _state(desk)
    failing_links()
    with pytest.raises(LinkWriteFailed):
        desk.customer_reply(case.id, "Same printer, new jam", actor=CUSTOMER)
    assert _state(desk) == before  # still resolved: the close went with the rest
    events = desk.store  # the outbox holds nothing of the failed attempt either
    with events.unit_of_work("acme") as uow:
        assert not [m for m in uow.outbox.pending(1000) if "closed" in m.type
                    or m.type == "case.linked"]
