"""Hand-made scorecards for the renderer tests: every figure chosen, so a test can name the
text it expects; group names carry HTML and CSV metacharacters (case data is untrusted)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from caselib.cases import Actor
from caselib.desk import ServiceDesk
from caselib.kb import Article
from caselib.reports import (
    AgeBucket,
    CsatStats,
    DayPoint,
    DeflectionFunnel,
    DurationStats,
    GroupBy,
    Period,
    Scorecard,
    ScorecardRow,
    TargetAttainment,
)
from caselib.testing import FrozenClock

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 8, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script>, "quoted"'
"""A group name that would run script in the HTML page or break a naive CSV line."""

__all__ = ["END", "HOSTILE", "START", "WEEK", "build_history", "empty_scorecard", "row",
           "sample_scorecard", "stats"]

AGES = (("< 1 day", 0, 86400), ("1–3 days", 86400, 259200), ("3–7 days", 259200, 604800),
        ("≥ 7 days", 604800, None))
HISTOGRAM = (("< 1h", 0, 3600), ("1–4h", 3600, 14400), ("4–24h", 14400, 86400),
             ("1–3d", 86400, 259200), ("≥ 3d", 259200, None))


def stats(count: int, median: int, p90: int) -> DurationStats:
    """``count`` durations around ``median`` (the total is count × median)."""
    if not count:
        return DurationStats(0, 0, None, None)
    return DurationStats(count, count * median, median, p90)


def row(group: str | None, created: int, resolved: int, *, met: int = 3, breached: int = 1,
        fr: int = 2520, res: int = 14400, ratings: tuple[int, int, int] = (4, 17, 3)) -> (
        ScorecardRow):
    """One group's figures; ``ratings`` is (responses, score total, satisfied)."""
    return ScorecardRow(
        group=group, created=created, resolved=resolved, reopened=1 if resolved else 0,
        backlog_start=5, backlog_end=5 + created - resolved,
        first_response_business=stats(created, fr, fr * 3),
        first_response_calendar=stats(created, fr * 2, fr * 5),
        resolution_business=stats(resolved, res, res * 4),
        resolution_calendar=stats(resolved, res * 2, res * 6),
        sla=(TargetAttainment("first_response", met + 1, breached, 1),
             TargetAttainment("resolution", met, breached + 1, 0)),
        first_contact_resolutions=resolved // 2,
        csat=CsatStats(*ratings),
        backlog_age=tuple(AgeBucket(label, lo, hi, n)
                          for (label, lo, hi), n in zip(AGES, (3, 2, 1, 1), strict=True)),
    )


def sample_scorecard(group_by: GroupBy = "team") -> Scorecard:
    """A week with two named groups and one without a value (or, by priority, the four
    rungs)."""
    if group_by == "priority":
        rows = (row("low", 3, 2, met=2, breached=0), row("normal", 10, 8),
                row("high", 6, 5, met=1, breached=3), row("urgent", 2, 2, met=1, breached=1))
    elif group_by == "none":
        rows = (row(None, 21, 17, met=9, breached=4, ratings=(8, 35, 7)),)
    else:
        rows = (row("support", 12, 10), row(HOSTILE, 6, 5, met=1, breached=2),
                row(None, 3, 2, met=0, breached=0, ratings=(0, 0, 0)))
    days = [(START + timedelta(days=i)).date() for i in range(7)]
    series = tuple(DayPoint(day, created, resolved, backlog) for day, created, resolved, backlog
                   in zip(days, (4, 2, 5, 3, 1, 0, 6), (2, 3, 4, 2, 2, 0, 4),
                          (17, 16, 17, 18, 17, 17, 19), strict=True))
    return Scorecard(
        period=Period(START, END), group_by=group_by, rows=rows,
        total=row(None, 21, 17, met=9, breached=4, ratings=(8, 35, 7)),
        series=series,
        resolution_histogram=tuple(AgeBucket(label, lo, hi, n) for (label, lo, hi), n
                                   in zip(HISTOGRAM, (3, 6, 4, 3, 1), strict=True)),
        deflection=DeflectionFunnel(suggested=40, opened=18, resolved_by_article=7),
        generated_at=datetime(2026, 3, 8, 6, 0, tzinfo=UTC),
    )


def empty_scorecard() -> Scorecard:
    """A period with nothing in it: every chart still draws (its axes and a note)."""
    total = ScorecardRow(None, 0, 0, 0, 0, 0, *(DurationStats(0, 0, None, None),) * 4, (), 0,
                         CsatStats(0, 0, 0), ())
    return Scorecard(Period(START, END), "none", (total,), total, (), (),
                     DeflectionFunnel(0, 0, 0), END)




def build_history(desk: ServiceDesk, clock: FrozenClock) -> tuple[datetime, datetime]:
    """A small real week through the desk: eight cases over four days at every priority,
    answered and mostly resolved at different speeds, two rated, KB suggestions shown and
    one opened. Returns the period ``[start, end)`` that covers it."""
    agent, admin = Actor.agent("ana", name="Ana"), Actor.agent("lee", "admin", name="Lee")
    customer = Actor.customer("kim@example.com", "Kim", account="acc-1")
    desk.put_article(Article(id="kb-1", title="VPN drops", body="Upgrade the VPN client.",
                             updated_at=clock.now()), actor=admin)
    priorities, teams = ("low", "normal", "high", "urgent"), ("support", "billing")
    for i in range(8):
        clock.set(WEEK + timedelta(days=i // 2, hours=i))
        case = desk.create_case(subject=f"VPN drops, case {i}", actor=customer,
                                source=("email", "portal", "phone")[i % 3],
                                category=("Technical", "Billing")[i % 2],
                                priority=priorities[i % 4])
        if i % 3 == 0:
            desk.suggest_articles(case.id, actor=agent, limit=1)
            if i == 0:
                desk.open_article(case.id, "kb-1", actor=agent)
        clock.advance(minutes=10 * (i + 1))
        desk.assign(case.id, assignee="ana", team=teams[i % 2], actor=agent)
        desk.transition(case.id, "open", actor=agent)
        desk.add_comment(case.id, "Looking into it.", actor=agent, audience="public")
        if i < 6:
            clock.advance(hours=(1, 3, 6, 20, 30, 50)[i])
            desk.transition(case.id, "in_progress", actor=agent)
            desk.transition(case.id, "pending_customer", actor=agent)
            desk.resolve(case.id, "Fixed", actor=agent, code="fix")
            if i < 2:
                desk.rate(case.id, 5 - 2 * i, actor=customer)
    return WEEK, WEEK + timedelta(days=7)


WEEK = datetime(2026, 3, 2, tzinfo=UTC)
"""Monday of the real week :func:`build_history` writes."""
