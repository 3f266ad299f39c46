"""The metrics contract: a store's summary cards, scorecard and list rows equal the memory
store's on random case histories (hypothesis), reopen and pause (waiting) paths included.

Each example plays one random history through two desks on the same frozen clock, one over
the store under test and one over a :class:`~caselib.storage.memory.MemoryStore` (the
reference: :func:`caselib.reports.compute_scorecard` over :class:`~caselib.reports.CaseFacts`),
then compares every figure exactly: the stores must agree to the second.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib.cases import Actor, Workflow
from caselib.desk import ServiceDesk, TenantSettings
from caselib.errors import CaselibError
from caselib.ports import CaseQuery, Store
from caselib.reports import GroupBy
from caselib.sla import BusinessCalendar, SlaPolicies, SlaPolicy, SlaTargets
from caselib.storage.memory import MemoryStore
from caselib.testing.clock import FrozenClock
from caselib.testing.conformance.fixtures import StoreFixtures
from caselib.vocab import Priority

__all__ = ["MetricsContract", "metrics_settings", "play"]

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)  # a Monday
AGENTS = (Actor.agent("ana"), Actor.agent("bo"))
ADMIN = Actor.agent("root", "admin")
_H = timedelta(hours=1)


def metrics_settings() -> TenantSettings:
    """A tenant whose SLA runs on business hours (09–17 Mon–Fri, Berlin) with every target,
    so business and calendar time differ and waiting pauses the clocks."""
    calendar = BusinessCalendar("Europe/Berlin", {d: ["09:00-17:00"]
                                                  for d in ("mon", "tue", "wed", "thu", "fri")})
    targets = {p: SlaTargets(n * _H, 4 * n * _H, 2 * n * _H)
               for p, n in zip(Priority, (8, 4, 2, 1), strict=True)}
    policy = SlaPolicy("biz", "Business hours", targets, calendar)
    return TenantSettings(workflow=Workflow.simple(), sla=SlaPolicies(default=policy),
                          router=None)

_CREATE = st.tuples(
    st.just("create"), st.sampled_from(list(Priority)), st.sampled_from(["email", "web", "phone"]),
    st.sampled_from([None, "t1", "t2"]), st.sampled_from([None, "ana", "bo"]),
    st.sampled_from([None, "Billing"]))
_STEP = st.one_of(
    _CREATE,
    st.tuples(st.just("advance"), st.integers(1, 60 * 30)),
    *(st.tuples(st.just(kind), st.integers(0, 3))
      for kind in ("agent_reply", "customer_reply", "open", "wait", "resolve", "resolve",
                   "reopen", "close")),
    st.tuples(st.just("rate"), st.integers(0, 3), st.integers(1, 5)),
    st.tuples(st.just("sweep")),
)
HISTORIES = st.builds(lambda first, rest: [first, *rest], _CREATE,
                      st.lists(_STEP, min_size=4, max_size=40))
"""Random histories: creates, clock advances (minutes), replies, status moves and sweeps."""


def _apply(desk: Any, clock: FrozenClock, ids: list[str], step: tuple[Any, ...]) -> None:
    kind = step[0]
    if kind == "advance":
        clock.advance(timedelta(minutes=step[1]))
        return
    if kind == "create":
        _k, priority, source, team, assignee, category = step
        case = desk.create_case(subject="s", actor=AGENTS[0], priority=priority, source=source,
                                team=team, assignee=assignee, category=category,
                                links={"contact": "cust"})
        ids.append(case.id)
        return
    if kind == "sweep":
        desk.sweep_breaches(actor=ADMIN)
        return
    if not ids:
        return
    case_id = ids[step[1] % len(ids)]
    agent = AGENTS[step[1] % 2]
    try:
        if kind == "agent_reply":
            desk.add_comment(case_id, "r", audience="public", actor=agent)
        elif kind == "customer_reply":
            desk.add_comment(case_id, "q", audience="public", actor=Actor.customer("cust"))
        elif kind in ("open", "wait", "close"):
            to = {"open": "open", "wait": "pending", "close": "closed"}[kind]
            desk.transition(case_id, to, actor=agent, note="n")
        elif kind == "resolve":
            if desk.get_case(case_id, actor=agent).status == "new":
                desk.transition(case_id, "open", actor=agent)
            desk.resolve(case_id, "done", actor=agent)
        elif kind == "reopen":
            desk.reopen(case_id, actor=agent)
        elif kind == "rate":
            desk.rate(case_id, step[2], actor=Actor.customer("cust"))
    except CaselibError:
        pass  # not allowed from the case's status: both desks refuse alike


def play(steps: list[tuple[Any, ...]], stores: list[Store], tenant: str
         ) -> tuple[list[ServiceDesk], FrozenClock]:
    """Play ``steps`` through one desk per store on a shared frozen clock (same case ids)."""
    clock = FrozenClock(T0)
    desks = []
    for store in stores:
        desks.append(ServiceDesk(store, tenant=tenant, settings=metrics_settings(), clock=clock,
                                 ids=_ids()))
    ids: list[list[str]] = [[] for _ in stores]
    for step in steps:
        for desk, own in zip(desks, ids, strict=True):
            if step[0] == "advance" and desk is not desks[0]:
                continue  # one clock: advance it once
            _apply(desk, clock, own, step)
    return desks, clock


def _ids() -> Callable[[], str]:
    """Case ids in creation order, so the desks' cases pair up."""
    seq = itertools.count()
    return lambda: f"case-{next(seq):04d}"


_GROUPS: tuple[GroupBy, ...] = ("none", "team", "assignee", "priority", "category", "channel")


class MetricsContract(StoreFixtures):
    """Cards, scorecard and summaries equal the memory store's on random histories."""

    def metrics_examples(self) -> int:
        """How many random histories (hook: SQL stores are slower)."""
        return max(10, settings().max_examples // 4)

    def test_metrics_agree_with_memory(self, store: Store) -> None:
        @settings(max_examples=self.metrics_examples(), deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])
        @given(steps=HISTORIES, group_by=st.sampled_from(_GROUPS),
               start_h=st.integers(-24, 60), hours=st.integers(1, 96))
        def check(steps: list[tuple[Any, ...]], group_by: GroupBy, start_h: int,
                  hours: int) -> None:
            tenant = f"m{uuid.uuid4().hex[:12]}"
            desks, clock = play(steps, [MemoryStore(), store], tenant)
            start = T0 + start_h * _H
            end = start + hours * _H
            got = [d.scorecard(start=start, end=end, group_by=group_by, actor=ADMIN)
                   for d in desks]
            assert got[1] == got[0]
            for query in (None, CaseQuery(priorities={"urgent", "high"}),
                          CaseQuery(status_categories={"new", "open", "waiting"}),
                          CaseQuery(status_categories={"resolved", "closed"},
                                    priorities={"normal"})):
                cards = [d.cards(query, actor=ADMIN) for d in desks]
                assert cards[1] == cards[0]
            rows = [_rows(d) for d in desks]
            assert rows[1] == rows[0]
            now = clock.now()
            assert [s.sla_signal(now) for s in rows[1]] == [s.sla_signal(now) for s in rows[0]]

        check()


def _rows(desk: Any) -> list[Any]:
    page = desk.find_cases(actor=ADMIN, limit=1000)
    return [attrs.evolve(s, tags=frozenset(s.tags)) for s in page.items]

