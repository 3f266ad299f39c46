"""Summary cards and the scorecard through the desk, on every store (``make_store``): a
hand-written history whose numbers are worked out in the comments, the read-time SLA colour
of list rows, the access scope, refused inputs, and migration 5's back-fill."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from caselib import Actor, CaseQuery, InvalidInput, ServiceDesk, Store, TenantSettings, UnknownValue
from caselib.access import AccessPolicy
from caselib.cases import Workflow
from caselib.errors import PermissionDenied, WrongType
from caselib.reports import DurationStats, Period
from caselib.sla import BusinessCalendar, SlaPolicies, SlaPolicy
from caselib.storage.memory import MemoryStore
from caselib.storage.sqlite import SqliteStore
from caselib.testing import FrozenClock

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)
ANA = Actor.agent("ana", "agent", teams=["t1"])
LEAD = Actor.agent("lea", "admin")
CUSTOMER = Actor.customer("cust")


def _settings(**kw: object) -> TenantSettings:
    return TenantSettings(workflow=Workflow.simple(), router=None, **kw)  # type: ignore[arg-type]


def _history(store: Store) -> tuple[ServiceDesk, FrozenClock, dict[str, str]]:
    """The default SLA policy (24/7 UTC; urgent 1h / 4h, high 4h / 24h, amber at 75 %).

    A  urgent, t1, email: created T0, agent reply T0+30m, resolved T0+2h, rated 5 at T0+3h.
    B  high, t2, web:     created T0+1h, agent reply T0+2h, waiting T0+2h–T0+5h,
                          resolved T0+6h, reopened T0+7h.
    C  urgent, no team, phone: created T0+1h, never answered (first response due T0+2h,
                          resolution due T0+5h; no sweep ever runs).
    The clock ends at T0+8h.
    """
    clock = FrozenClock(T0)
    desk = ServiceDesk(store, tenant="acme", clock=clock, settings=_settings())
    link = {"contact": "cust"}
    a = desk.create_case(subject="A", actor=LEAD, priority="urgent", team="t1",
                         assignee="ana", source="email", links=link).id
    clock.advance(30 * M)
    desk.add_comment(a, "on it", audience="public", actor=ANA)
    desk.transition(a, "open", actor=ANA)
    clock.advance(30 * M)
    b = desk.create_case(subject="B", actor=LEAD, priority="high", team="t2", source="web",
                         links=link).id
    c = desk.create_case(subject="C", actor=LEAD, priority="urgent", source="phone").id
    clock.advance(H)
    desk.resolve(a, "fixed", actor=LEAD)
    desk.add_comment(b, "need logs", audience="public", actor=LEAD)
    desk.transition(b, "open", actor=LEAD)
    desk.transition(b, "pending", actor=LEAD)
    clock.advance(H)
    desk.rate(a, 5, actor=CUSTOMER)
    clock.advance(2 * H)
    desk.transition(b, "open", actor=LEAD)
    clock.advance(H)
    desk.resolve(b, "fixed", actor=LEAD)
    clock.advance(H)
    desk.reopen(b, actor=LEAD)
    clock.advance(H)
    return desk, clock, {"A": a, "B": b, "C": c}


class TestHandWrittenHistory:
    def test_scorecard_figures(self, make_store: Callable[[], Store]) -> None:
        desk, _clock, _ = _history(make_store())
        sc = desk.scorecard(start=T0, end=T0 + 24 * H, actor=LEAD)
        t = sc.total
        assert sc.period == Period(T0, T0 + 24 * H, "UTC")
        assert sc.generated_at == T0 + 8 * H
        # created A, B, C; only A stays resolved (B's reopen un-resolves it); B reopened
        assert (t.created, t.resolved, t.reopened) == (3, 1, 1)
        assert (t.backlog_start, t.backlog_end) == (0, 2)  # B and C open at the end
        # first responses: A 30 min, B 1 h (no pause before either: business = calendar)
        assert t.first_response_calendar == DurationStats(2, 5400, 1800, 3600)
        assert t.first_response_business == t.first_response_calendar
        assert t.resolution_calendar == DurationStats(1, 7200, 7200, 7200)  # A: 2 h
        assert t.resolution_business == t.resolution_calendar
        fr, res, nr = t.sla
        # A and B answered in time; C's first response (due T0+2h) reads breached at read
        # time, with no sweep; A resolved in time, C's resolution (due T0+5h) breached;
        # B's resolution runs again (due T0+29h, amber at T0+23h: not at risk at T0+8h)
        assert (fr.target, fr.met, fr.breached, fr.open_at_risk) == ("first_response", 2, 1, 0)
        assert (res.met, res.breached, res.open_at_risk) == (1, 1, 0)
        assert (nr.met, nr.breached, nr.open_at_risk) == (0, 0, 0)  # no next-reply target
        assert t.first_contact_resolutions == 1  # A: one reply, never reopened
        assert (t.csat.responses, t.csat.score_total, t.csat.satisfied) == (1, 5, 1)
        assert [b.count for b in t.backlog_age] == [2, 0, 0, 0, 0]  # both 7 h old
        assert [(p.day.day, p.created, p.resolved, p.backlog) for p in sc.series] == [
            (2, 3, 1, 2), (3, 0, 0, 2)]
        assert [b.count for b in sc.resolution_histogram] == [0, 1, 0, 0, 0, 0]  # 2 h
        assert (sc.deflection.suggested, sc.deflection.opened,
                sc.deflection.resolved_by_article) == (0, 0, 0)
        assert sc.rows == (t,)

    def test_deflection_funnel_comes_from_the_kb_log(
            self, make_store: Callable[[], Store]) -> None:
        """Shown → opened → resolved-by-article, distinct cases, on every store (the SQL
        stores once bound the tenant and the period's bounds in the wrong slots: 0 → 0)."""
        from caselib.kb import Article

        desk, clock, _ = _history(make_store())
        desk.put_article(Article(id="kb-p", title="Printer jammed", body="Open the tray.",
                                 updated_at=clock.now()), actor=LEAD)
        jammed, offline = (desk.create_case(subject=f"Printer {s}", actor=LEAD).id
                           for s in ("jammed", "offline"))
        for case_id in (jammed, offline):
            assert desk.suggest_articles(case_id, actor=LEAD)
        desk.open_article(jammed, "kb-p", actor=LEAD)
        desk.mark_resolved_by_article(jammed, "kb-p", actor=LEAD)
        sc = desk.scorecard(start=T0, end=T0 + 24 * H, actor=LEAD)
        assert (sc.deflection.suggested, sc.deflection.opened,
                sc.deflection.resolved_by_article) == (2, 1, 1)
        later = desk.scorecard(start=T0 + 9 * H, end=T0 + 24 * H, actor=LEAD)
        assert later.deflection.suggested == 0  # logged at T0+8h, before the period

    def test_grouped_by_team(self, make_store: Callable[[], Store]) -> None:
        desk, _, _ = _history(make_store())
        sc = desk.scorecard(start=T0, end=T0 + 24 * H, group_by="team", actor=LEAD)
        assert [(r.group, r.created, r.resolved, r.reopened, r.backlog_end) for r in sc.rows] == [
            ("t1", 1, 1, 0, 0), ("t2", 1, 0, 1, 1), (None, 1, 0, 0, 1)]
        assert sc.total.created == 3
        by_channel = desk.scorecard(start=T0, end=T0 + 24 * H, group_by="channel", actor=LEAD)
        assert [r.group for r in by_channel.rows] == ["email", "phone", "web"]

    def test_a_later_period_counts_the_opening_backlog(
            self, make_store: Callable[[], Store]) -> None:
        desk, _, _ = _history(make_store())
        sc = desk.scorecard(start=T0 + 3 * H, end=T0 + 4 * H, actor=LEAD)
        t = sc.total
        # open at T0+3h: B (waiting) and C; nothing created or resolved in the hour; A's
        # rating falls in it
        assert (t.created, t.resolved, t.backlog_start, t.backlog_end) == (0, 0, 2, 2)
        assert t.csat.responses == 1

    def test_cards(self, make_store: Callable[[], Store]) -> None:
        desk, _, _ = _history(make_store())
        cards = desk.cards(actor=LEAD)
        # 3 cases, B and C open, C urgent and open, A resolved today (UTC)
        assert (cards.total, cards.open, cards.critical, cards.resolved_today) == (3, 2, 1, 1)
        assert cards.first_response == DurationStats(2, 5400, 1800, 3600)
        assert cards.first_response.mean_seconds == 2700
        assert cards.csat.satisfied_share == 1.0
        assert (cards.day.isoformat(), cards.zone) == ("2026-03-02", "UTC")
        only_b = desk.cards(CaseQuery(teams={"t2"}), actor=LEAD)
        assert (only_b.total, only_b.open, only_b.first_response.count) == (1, 1, 1)

    def test_list_rows_carry_first_response_csat_channel_and_sla(
            self, make_store: Callable[[], Store]) -> None:
        desk, clock, ids = _history(make_store())
        rows = {s.id: s for s in desk.find_cases(actor=LEAD).items}
        a, c = rows[ids["A"]], rows[ids["C"]]
        assert (a.first_response_at, a.csat, a.source.value) == (T0 + 30 * M, 5, "email")
        assert [(t.target, t.state) for t in a.sla] == [("first_response", "met"),
                                                          ("resolution", "met")]
        assert c.sla[0].due_at == T0 + 2 * H and c.sla[0].warn_at == T0 + H + 45 * M
        # stored "running" (no sweep), read red against the clock
        assert c.sla[0].state == "running"
        assert c.sla_signal(clock.now()) == "red"
        assert c.sla_at(clock.now())[0].state == "breached"
        assert a.sla_signal(clock.now()) == "green"


class TestReadTimeSla:
    def test_eighty_minutes_into_a_one_hour_target_reads_red(self) -> None:
        clock = FrozenClock(T0)
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock, settings=_settings())
        desk.create_case(subject="x", actor=LEAD, priority="urgent")
        [row] = desk.find_cases(actor=LEAD).items
        assert row.sla_signal(T0 + 30 * M) == "green"
        assert row.sla_signal(T0 + 50 * M) == "amber"  # warned at 75 %: 45 min
        assert row.sla_signal(T0 + 80 * M) == "red"
        assert row.sla[0].state == "running"  # what is stored until a sweep


class TestAccessAndInputs:
    def test_a_team_scoped_reader_sees_only_their_scope(self) -> None:
        policy = AccessPolicy.default()
        store = MemoryStore()
        clock = FrozenClock(T0)
        desk = ServiceDesk(store, tenant="acme", clock=clock,
                           settings=_settings(access=policy))
        desk.create_case(subject="a", actor=LEAD, team="t1", assignee="ana")
        desk.create_case(subject="b", actor=LEAD, team="t2")
        sam = Actor.agent("sam", "support", teams=["t1"])
        seen = desk.find_cases(actor=sam).items
        assert [s.subject for s in seen] == ["a"]
        assert desk.cards(actor=sam).total == 1
        assert desk.cards(actor=LEAD).total == 2
        sc = desk.scorecard(start=T0, end=T0 + H, group_by="team", actor=sam)
        assert [(r.group, r.created) for r in sc.rows] == [("t1", 1)]

    def test_customers_are_refused(self, desk: ServiceDesk) -> None:
        with pytest.raises(PermissionDenied):
            desk.scorecard(start=T0, end=T0 + H, actor=CUSTOMER)
        with pytest.raises(PermissionDenied):
            desk.cards(actor=CUSTOMER)

    def test_bad_periods_and_groupings_are_refused(self, desk: ServiceDesk) -> None:
        with pytest.raises(InvalidInput):
            desk.scorecard(start=T0, end=T0, actor=LEAD)
        with pytest.raises(InvalidInput):
            desk.scorecard(start=T0, end=T0 + timedelta(days=500), actor=LEAD)
        with pytest.raises(UnknownValue):
            desk.scorecard(start=T0, end=T0 + H, group_by="weekday", actor=LEAD)  # type: ignore[arg-type]
        with pytest.raises(WrongType):
            desk.scorecard(start="2026-01-01", end=T0, actor=LEAD)  # type: ignore[arg-type]
        with pytest.raises(WrongType):
            desk.cards("open", actor=LEAD)

    def test_the_reporting_zone_is_the_sla_calendars(self) -> None:
        calendar = BusinessCalendar.always_open("America/New_York")
        policy = SlaPolicy("ny", "NY", SlaPolicy.default().targets, calendar)
        clock = FrozenClock(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))  # 22:00 on the 2nd in NY
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                           settings=_settings(sla=SlaPolicies(default=policy)))
        cards = desk.cards(actor=LEAD)
        assert (cards.day.isoformat(), cards.zone) == ("2026-03-02", "America/New_York")
        sc = desk.scorecard(start=datetime(2026, 3, 2, 5, tzinfo=UTC),
                            end=datetime(2026, 3, 4, 5, tzinfo=UTC), actor=LEAD)
        assert [p.day.isoformat() for p in sc.series] == ["2026-03-02", "2026-03-03"]
        assert desk.reporting_zone == "America/New_York"

    def test_last_days_are_whole_days_of_the_reporting_zone(self) -> None:
        """The web app's report period: New York's midnights, "today" from the desk clock
        (at 03:00 UTC it is still the 2nd there), the same as ``caselib report --days``."""
        calendar = BusinessCalendar.always_open("America/New_York")
        policy = SlaPolicy("ny", "NY", SlaPolicy.default().targets, calendar)
        clock = FrozenClock(datetime(2026, 3, 3, 3, 0, tzinfo=UTC))
        desk = ServiceDesk(MemoryStore(), tenant="acme", clock=clock,
                           settings=_settings(sla=SlaPolicies(default=policy)))
        assert desk.last_days(2) == (datetime(2026, 3, 1, 5, tzinfo=UTC),
                                     datetime(2026, 3, 3, 5, tzinfo=UTC))
        start, end = desk.last_days()
        assert (end - start).days == 30
        sc = desk.scorecard(start=start, end=end, actor=LEAD)
        assert sc.series[-1].day.isoformat() == "2026-03-02"
        utc = ServiceDesk(MemoryStore(), tenant="acme", clock=clock)
        assert utc.reporting_zone == "UTC"
        assert utc.last_days(1) == (datetime(2026, 3, 3, tzinfo=UTC),
                                    datetime(2026, 3, 4, tzinfo=UTC))
        for bad in (0, 401, "7", True):
            with pytest.raises(InvalidInput):
                desk.last_days(bad)  # type: ignore[arg-type]


class TestMigration5:
    def test_sqlite_back_fills_summaries_and_facts(self, tmp_path: Path) -> None:
        from test_desk_queries import (
            UNDO_MIGRATION_6_SQLITE,
            undo_migration_5,
            undo_migration_10,
        )

        path = tmp_path / "v4.db"
        store = SqliteStore(path)
        desk, clock, _ids = _history(store)
        before = desk.scorecard(start=T0, end=T0 + 24 * H, group_by="team", actor=LEAD)
        rows = desk.find_cases(actor=LEAD).items
        store.close()
        conn = sqlite3.connect(path)
        with conn:
            for statement in (*undo_migration_10(), *UNDO_MIGRATION_6_SQLITE,
                              *undo_migration_5()):
                conn.execute(statement)
            conn.execute("DELETE FROM schema_version WHERE version >= 5")
        conn.close()
        store = SqliteStore(path)
        try:
            desk = ServiceDesk(store, tenant="acme", clock=clock, settings=_settings())
            assert desk.find_cases(actor=LEAD).items == rows
            after = desk.scorecard(start=T0, end=T0 + 24 * H, group_by="team", actor=LEAD)
            assert after == before
        finally:
            store.close()
