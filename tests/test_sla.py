"""Tests for caselib.sla: policies, selection, pauses, due times, breaches and explanations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselib.cases import Actor, Case, Pause
from caselib.errors import InvalidConfiguration, InvalidInput, UnknownValue
from caselib.sla import (
    FIRST_RESPONSE,
    NEXT_REPLY,
    RESOLUTION,
    SLA_ENTRY_KINDS,
    BusinessCalendar,
    SlaCase,
    SlaCondition,
    SlaPolicies,
    SlaPolicy,
    SlaTargets,
    derive_pauses,
    describe_hours,
    due_with_pauses,
    evaluate,
    explain_due,
    format_duration,
    mark_breached,
    parse_duration,
)
from caselib.testing.calendar_oracle import oracle_is_open
from caselib.vocab import Priority, StatusCategory

H = timedelta(hours=1)
M = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)  # a Monday
AGENT = Actor.agent("ana")
CUSTOMER = Actor.customer("cleo")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")

ALWAYS = BusinessCalendar.always_open("UTC")
OFFICE = BusinessCalendar.from_dict(
    {
        "timezone": "Europe/Berlin",
        "hours": {day: ["09:00-12:00", "13:00-17:00"] for day in WEEKDAYS},
        "holidays": [{"date": "2026-01-07", "name": "Test day"}],
    }
)

MOVES = {
    "open": ("in_progress", StatusCategory.OPEN),
    "wait": ("pending_customer", StatusCategory.WAITING),
    "resolve": ("resolved", StatusCategory.RESOLVED),
    "close": ("closed", StatusCategory.CLOSED),
}


def new_case(at: datetime = T0, priority: str = "normal", **fields: object) -> Case:
    return Case.open(
        id="c1",
        tenant="t",
        number="CASE-0001",
        subject="Printer",
        status="new",
        status_category=StatusCategory.NEW,
        workflow="default",
        actor=AGENT,
        at=at,
        priority=priority,
        **fields,  # type: ignore[arg-type]
    )


def act(case: Case, action: str, at: datetime) -> None:
    """Apply one history step (status move or public reply) at ``at``."""
    if action == "agent":
        case.add_comment("Answer", audience="public", actor=AGENT, at=at)
    elif action == "customer":
        case.add_comment("Question", audience="public", actor=CUSTOMER, at=at)
    else:
        status, category = MOVES[action]
        note = "Done" if category is StatusCategory.RESOLVED else None
        case.move_to(status, category, actor=AGENT, at=at, note=note)


def with_history(steps: list[tuple[int, str]], priority: str = "normal") -> tuple[Case, datetime]:
    """A case built from ``(minutes after the previous step, action)``; returns it and the last
    instant of its history."""
    case = new_case(priority=priority)
    at = T0
    for gap, action in steps:
        at += gap * M
        act(case, action, at)
    return case, at


def stored(case: Case, targets: tuple[object, ...]) -> Case:
    copy = case.clone()
    copy.sla_targets = list(targets)  # type: ignore[arg-type]
    return copy


def dues(case: Case, policy: SlaPolicy, now: datetime) -> dict[str, datetime | None]:
    return {t.name: t.due_at for t in evaluate(case, policy, now).targets}


# --- strategies ------------------------------------------------------------------------------

histories = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.sampled_from(["open", "wait", "resolve", "close", "agent", "customer"]),
    ),
    max_size=8,
)
priorities = st.sampled_from(["low", "normal", "high", "urgent"])


@st.composite
def pause_lists(draw: st.DrawFn, start: datetime, horizon: int = 3000) -> list[Pause]:
    """Whole-minute pauses around ``start``, possibly overlapping, at most one open."""
    pauses = []
    for _ in range(draw(st.integers(0, 4))):
        offset = draw(st.integers(-120, horizon))
        length = draw(st.integers(0, 600))
        s = start + offset * M
        pauses.append(Pause(s, s + length * M, "waiting"))
    if draw(st.booleans()):
        pauses.append(Pause(start + draw(st.integers(-60, horizon)) * M, None, "waiting"))
    return pauses


def walk_due(
    calendar: BusinessCalendar, start: datetime, minutes: int, pauses: list[Pause]
) -> datetime | None:
    """Brute force: count open, un-paused minutes one by one."""
    t, needed = start, minutes
    for _ in range(60 * 24 * 40):
        paused = [p for p in pauses if p.start <= t and (p.end is None or t < p.end)]
        if any(p.end is None for p in paused):
            return None
        if not paused and oracle_is_open(calendar, t):
            needed -= 1
            if needed == 0:
                return t + M
        t += M
    raise AssertionError("walk did not finish")


# --- durations and policies --------------------------------------------------------------------


class TestPolicy:
    def test_default_targets(self) -> None:
        """Resolution 4/24/72/168 h and first response 1/4/8/24 h on a 24/7 UTC calendar."""
        policy = SlaPolicy.default()
        assert policy.calendar == BusinessCalendar.always_open("UTC")
        assert policy.warn_fraction == 0.75
        expected = {"urgent": (1, 4), "high": (4, 24), "normal": (8, 72), "low": (24, 168)}
        for prio, (fr, res) in expected.items():
            targets = policy.targets_for(prio)
            assert (targets.first_response, targets.resolution) == (fr * H, res * H)
            assert targets.next_reply is None

    def test_targets_for_members_values_and_aliases(self) -> None:
        """Members, values and aliases find the same targets; an evolved policy answers with
        its new targets; an unknown rung is a typed error."""
        policy = SlaPolicy.default()
        assert policy.targets_for(Priority.HIGH) is policy.targets_for("high")
        assert policy.targets_for("critical") is policy.targets_for(Priority.URGENT)
        assert policy.targets_for(" High ") is policy.targets_for(Priority.HIGH)
        faster = attrs.evolve(policy, targets={p: SlaTargets(H, 2 * H) for p in Priority})
        assert faster.targets_for(Priority.LOW).resolution == 2 * H
        with pytest.raises(UnknownValue):
            policy.targets_for("asap")

    def test_round_trip(self) -> None:
        policy = SlaPolicy(
            "gold",
            "Gold",
            {p: SlaTargets(H, 8 * H, 90 * M) for p in Priority},
            OFFICE,
            None,
            30 * M,
        )
        assert SlaPolicy.from_dict(policy.to_dict()) == policy
        assert SlaPolicy.from_dict(SlaPolicy.default().to_dict()) == SlaPolicy.default()
        assert hash(policy) == hash(SlaPolicy.from_dict(policy.to_dict()))

    def test_from_dict_aliases_and_durations(self) -> None:
        policy = SlaPolicy.from_dict(
            {
                "id": "p",
                "targets": {
                    "critical": {"first_response": "30m"},
                    "high": {},
                    "medium": {"resolution": "1d 2h"},
                    "low": {},
                },
            }
        )
        assert policy.targets_for("urgent").first_response == 30 * M
        assert policy.targets_for("normal").resolution == 26 * H
        assert policy.name == "p"

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"id": "p"}, "needs 'targets'"),
            ({"id": "p", "targets": {"high": {}}}, "no entry for priority low, normal, urgent"),
            ({"id": "p", "targets": {"huge": {}}}, "unknown priority 'huge'"),
            (
                {"id": "p", "targets": {p.value: {"resolution": "8"} for p in Priority}},
                "is not a duration",
            ),
            (
                {"id": "p", "targets": {p.value: {"resolution": "0h"} for p in Priority}},
                "longer than zero",
            ),
            (
                {"id": "p", "targets": {p.value: {"reply": "1h"} for p in Priority}},
                "unknown targets ['reply']",
            ),
            (
                {"id": "p", "targets": {p.value: {} for p in Priority}, "warn_fraction": 1.5},
                "warn_fraction",
            ),
            (
                {"id": "p", "targets": {p.value: {} for p in Priority}, "colour": "red"},
                "unknown keys ['colour']",
            ),
            (
                {
                    "id": "p",
                    "targets": {p.value: {} for p in Priority},
                    "calendar": {"timezone": "Mars/Olympus", "hours": {}},
                },
                "unknown time zone",
            ),
        ],
    )
    def test_from_dict_names_the_problem(self, data: dict[str, object], message: str) -> None:
        with pytest.raises(InvalidConfiguration, match=message.replace("[", r"\[")):
            SlaPolicy.from_dict(data)

    def test_durations(self) -> None:
        assert parse_duration("1h30m") == 90 * M
        assert format_duration(168 * H) == "168h"
        assert format_duration(timedelta(hours=1, seconds=5)) == "1h5s"
        with pytest.raises(InvalidConfiguration):
            parse_duration(8)


class TestSelection:
    gold = attrs.evolve(SlaPolicy.default(), id="gold", name="Gold")
    billing = attrs.evolve(SlaPolicy.default(), id="billing", name="Billing")
    policies = SlaPolicies(
        [({"tier": ["Gold", "platinum"]}, gold), ({"category": "billing"}, billing)],
        SlaPolicy.default(),
    )

    def test_first_matching_rule_wins(self) -> None:
        both = new_case(category="Billing", custom={"tier": "GOLD"})
        assert self.policies.select(both).id == "gold"
        assert self.policies.select(new_case(category="Billing")).id == "billing"

    def test_default_as_last_resort(self) -> None:
        assert self.policies.select(new_case(custom={"tier": "silver"})).id == "default"
        assert self.policies.select(new_case()).id == "default"

    def test_all_fields_must_match(self) -> None:
        condition = SlaCondition({"source": "email", "account": ["acc-1"], "custom.region": "EU"})
        case = new_case(source="email", links={"account": "ACC-1"}, custom={"region": "eu"})
        assert condition.matches(case)
        assert not condition.matches(new_case(source="email", links={"account": "acc-1"}))

    def test_recorded_policy_is_kept(self) -> None:
        case = new_case()
        case.sla_policy = "billing"
        assert self.policies.policy_for(case).id == "billing"

    def test_from_dict(self) -> None:
        data = self.policies.to_dict()
        assert SlaPolicies.from_dict(data) == self.policies
        with pytest.raises(InvalidConfiguration, match="'nope', which is not defined"):
            SlaPolicies.from_dict({**data, "rules": [{"when": {}, "policy": "nope"}]})
        with pytest.raises(InvalidConfiguration, match="unknown field 'colour'"):
            SlaCondition({"colour": "red"})
        with pytest.raises(InvalidConfiguration, match="two different SLA policies"):
            SlaPolicies([({}, attrs.evolve(self.gold, id="default"))], SlaPolicy.default())


# --- pauses --------------------------------------------------------------------------------------


class TestPauses:
    def test_waiting_pauses_the_clock(self) -> None:
        case, _ = with_history([(60, "open"), (60, "wait"), (120, "open")])
        assert derive_pauses(case) == [Pause(T0 + 2 * H, T0 + 4 * H, "waiting")]
        ev = evaluate(case, SlaPolicy.default(), T0 + 5 * H)
        assert ev.target(RESOLUTION).due_at == T0 + 74 * H  # type: ignore[union-attr]

    def test_open_pause_means_paused(self) -> None:
        case, _ = with_history([(60, "open"), (60, "wait")])
        assert derive_pauses(case) == [Pause(T0 + 2 * H, None, "waiting")]
        target = evaluate(case, SlaPolicy.default(), T0 + 30 * H).target(RESOLUTION)
        assert target is not None
        assert (target.state, target.due_at) == ("paused", None)

    def test_resolve_reopen_gap_not_counted(self) -> None:
        case, _ = with_history([(60, "open"), (60, "resolve"), (600, "close"), (180, "open")])
        assert derive_pauses(case) == [Pause(T0 + 2 * H, T0 + 15 * H, "resolved")]
        target = evaluate(case, SlaPolicy.default(), T0 + 16 * H).target(RESOLUTION)
        assert target is not None
        assert (target.state, target.due_at) == ("running", T0 + 85 * H)

    def test_waiting_then_resolved_are_two_pauses(self) -> None:
        case, _ = with_history([(60, "open"), (60, "wait"), (60, "resolve")])
        assert derive_pauses(case) == [
            Pause(T0 + 2 * H, T0 + 3 * H, "waiting"),
            Pause(T0 + 3 * H, None, "resolved"),
        ]

    def test_pause_before_start_is_ignored(self) -> None:
        pauses = [Pause(T0 - 5 * H, T0 - H), Pause(T0 - H, T0 + H)]
        assert due_with_pauses(ALWAYS, T0, 2 * H, pauses) == T0 + 3 * H


# --- states ----------------------------------------------------------------------------------


class TestEvaluate:
    policy = SlaPolicy.default()

    def test_met_and_late(self) -> None:
        case, _ = with_history([(30, "agent"), (60, "open"), (100 * 60, "resolve")])
        ev = evaluate(case, self.policy, T0 + 200 * H)
        first, resolution = ev.targets
        assert (first.state, first.met_at, first.breached_by_seconds) == ("met", T0 + 30 * M, None)
        assert resolution.state == "met"
        assert resolution.breached_by_seconds == pytest.approx((101.5 - 72) * 3600)
        assert ev.newly_breached == ()  # met late but never swept: not a new breach

    def test_overdue_is_newly_breached_until_marked(self) -> None:
        case = new_case(priority="urgent")
        now = T0 + 90 * M
        ev = evaluate(case, self.policy, now)
        assert ev.newly_breached == (FIRST_RESPONSE,)
        assert ev.target(FIRST_RESPONSE).state == "warning"  # type: ignore[union-attr]
        marked = mark_breached(ev, ev.newly_breached, now)
        first = marked[0]
        assert (first.state, first.breached_at, first.breached_by_seconds) == (
            "breached",
            T0 + H,
            1800.0,
        )
        again = evaluate(stored(case, marked), self.policy, now)
        assert again.newly_breached == ()
        assert again.targets == marked

    def test_priority_change_rederives_from_start(self) -> None:
        case = new_case(priority="low")
        case.change_priority("high", actor=AGENT, at=T0 + 10 * H)
        ev = evaluate(case, self.policy, T0 + 10 * H)
        assert ev.target(RESOLUTION).due_at == T0 + 24 * H  # type: ignore[union-attr]
        assert ev.newly_breached == (FIRST_RESPONSE,)  # 4 h from the start, not from the change

    def test_breach_is_sticky_across_priority_change(self) -> None:
        case = new_case(priority="urgent")
        now = T0 + 5 * H
        marked = mark_breached(evaluate(case, self.policy, now), [FIRST_RESPONSE, RESOLUTION], now)
        case = stored(case, marked)
        case.change_priority("low", actor=AGENT, at=now)
        after = evaluate(case, self.policy, now)
        resolution = after.target(RESOLUTION)
        assert resolution is not None
        assert (resolution.state, resolution.breached_at) == ("breached", T0 + 4 * H)
        assert resolution.due_at == T0 + 168 * H
        assert after.newly_breached == ()

    def test_warning_by_fraction_and_by_offset(self) -> None:
        case = new_case()
        fraction = SlaPolicy.default()
        offset = attrs.evolve(fraction, warn_fraction=None, warn_before=30 * M)
        both = attrs.evolve(fraction, warn_before=30 * M)
        none = attrs.evolve(fraction, warn_fraction=None)
        assert evaluate(case, fraction, T0).target(FIRST_RESPONSE).warn_at == T0 + 6 * H  # type: ignore[union-attr]
        assert evaluate(case, offset, T0).target(FIRST_RESPONSE).warn_at == T0 + 450 * M  # type: ignore[union-attr]
        assert evaluate(case, both, T0).target(FIRST_RESPONSE).warn_at == T0 + 6 * H  # type: ignore[union-attr]
        assert evaluate(case, none, T0 + 9 * H).target(FIRST_RESPONSE).state == "running"  # type: ignore[union-attr]
        states = [
            evaluate(case, fraction, T0 + h * H).target(FIRST_RESPONSE).state  # type: ignore[union-attr]
            for h in (5, 6, 9)
        ]
        assert states == ["running", "warning", "warning"]

    def test_business_hours_and_breached_by(self) -> None:
        policy = attrs.evolve(self.policy, calendar=OFFICE)
        start = datetime(2026, 1, 2, 16, 0, tzinfo=BERLIN)  # Friday 16:00
        case = new_case(at=start, priority="high")  # first response 4 business hours
        due = datetime(2026, 1, 5, 12, 0, tzinfo=BERLIN)  # Monday noon
        now = datetime(2026, 1, 5, 14, 0, tzinfo=BERLIN)
        ev = evaluate(case, policy, now)
        assert ev.target(FIRST_RESPONSE).due_at == due  # type: ignore[union-attr]
        marked = mark_breached(ev, [FIRST_RESPONSE], now)
        assert marked[0].breached_by_seconds == 3600.0  # lunch 12-13 is not business time

    def test_next_reply_cycles(self) -> None:
        policy = SlaPolicy.default()
        policy = attrs.evolve(policy, targets={p: SlaTargets(H, 8 * H, 2 * H) for p in Priority})
        case, _ = with_history(
            [(10, "customer"), (10, "agent"), (60, "customer"), (30, "customer")]
        )
        target = evaluate(case, policy, T0 + 2 * H).target(NEXT_REPLY)
        assert target is not None
        assert (target.state, target.due_at) == ("running", T0 + 200 * M)  # oldest unanswered
        act(case, "agent", T0 + 5 * H)
        target = evaluate(case, policy, T0 + 5 * H).target(NEXT_REPLY)
        assert target is not None
        assert (target.state, target.met_at) == ("met", T0 + 5 * H)
        assert target.breached_by_seconds == pytest.approx(100 * 60)

    def test_mark_breached_refuses_what_did_not_happen(self) -> None:
        ev = evaluate(new_case(), self.policy, T0 + H)
        with pytest.raises(InvalidInput, match="not overdue"):
            mark_breached(ev, [RESOLUTION], T0 + H)
        with pytest.raises(UnknownValue):
            mark_breached(ev, ["lunch"], T0 + H)
        with pytest.raises(InvalidInput, match="calendar"):
            mark_breached(ev.targets, [], T0 + H)

    def test_naive_now_refused(self) -> None:
        with pytest.raises(InvalidInput):
            evaluate(new_case(), self.policy, datetime(2026, 1, 5))


# --- explanations ------------------------------------------------------------------------------


class TestExplain:
    def test_text_for_a_business_calendar(self) -> None:
        policy = attrs.evolve(SlaPolicy.default(), calendar=OFFICE)
        start = datetime(2026, 1, 2, 17, 45, tzinfo=BERLIN)  # Friday after hours
        case = new_case(at=start, priority="high")
        act(case, "open", datetime(2026, 1, 5, 9, 30, tzinfo=BERLIN))
        act(case, "wait", datetime(2026, 1, 5, 10, 0, tzinfo=BERLIN))
        act(case, "open", datetime(2026, 1, 5, 11, 30, tzinfo=BERLIN))
        explanation = explain_due(
            case, policy, RESOLUTION, now=datetime(2026, 1, 6, 10, 0, tzinfo=BERLIN)
        )
        assert explanation.text.splitlines() == [
            'Resolution target: 24h of business time for high priority (policy "Default", '
            "hours Mon–Fri 09:00–12:00, 13:00–17:00 Europe/Berlin).",
            "Clock started Fri 2 Jan 2026 17:45 (outside hours) → counted from Mon 5 Jan 09:00.",
            "Paused Mon 5 Jan 10:00 → Mon 5 Jan 11:30 (waiting on the customer): 1h 30m of "
            "business time not counted.",
            "Holiday skipped: Wed 7 Jan (Test day).",
            "Due Fri 9 Jan 14:30 (Europe/Berlin).",
            "Warning from Thu 8 Jan 15:30.",
            "Now Tue 6 Jan 10:00: 17h 30m of business time left.",
        ]
        assert explanation.due_at == datetime(2026, 1, 9, 14, 30, tzinfo=BERLIN)
        assert explanation.counted_from == datetime(2026, 1, 5, 9, 0, tzinfo=BERLIN)
        assert explanation.duration == 24 * H
        assert explanation.state == "running"
        assert [h.name for h in explanation.holidays] == ["Test day"]

    def test_no_target(self) -> None:
        explanation = explain_due(new_case(), SlaPolicy.default(), NEXT_REPLY)
        assert explanation.due_at is None
        assert "sets no next reply target" in explanation.text

    def test_describe_hours(self) -> None:
        assert describe_hours(ALWAYS) == ("24/7",)
        assert describe_hours(OFFICE) == ("Mon–Fri 09:00–12:00, 13:00–17:00",)


# --- properties --------------------------------------------------------------------------------


@given(st.integers(0, 7 * 24 * 60), st.integers(1, 900), st.data())
def test_due_matches_minute_walk_24_7(offset: int, minutes: int, data: st.DataObject) -> None:
    start = T0 + offset * M
    pauses = data.draw(pause_lists(start, horizon=minutes + 600))
    assert due_with_pauses(ALWAYS, start, minutes * M, pauses) == walk_due(
        ALWAYS, start, minutes, pauses
    )


@given(st.integers(0, 7 * 24 * 60), st.integers(1, 900), st.data())
def test_due_matches_minute_walk_business_hours(
    offset: int, minutes: int, data: st.DataObject
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + offset * M  # the span holds the holiday
    pauses = data.draw(pause_lists(start, horizon=3 * 24 * 60))
    assert due_with_pauses(OFFICE, start, minutes * M, pauses) == walk_due(
        OFFICE, start, minutes, pauses
    )


@given(st.integers(1, 5000), st.data())
def test_adding_a_pause_never_makes_due_earlier(minutes: int, data: st.DataObject) -> None:
    calendar = data.draw(st.sampled_from([ALWAYS, OFFICE]))
    pauses = data.draw(pause_lists(T0))
    extra = data.draw(pause_lists(T0))[:1]
    before = due_with_pauses(calendar, T0, minutes * M, pauses)
    after = due_with_pauses(calendar, T0, minutes * M, pauses + extra)
    if after is not None:
        assert before is not None
        assert after >= before


@given(histories, priorities, st.integers(0, 10_000), st.integers(0, 10_000))
def test_due_never_depends_on_now(
    steps: list[tuple[int, str]], priority: str, a: int, b: int
) -> None:
    case, last = with_history(steps, priority)
    policy = attrs.evolve(SlaPolicy.default(), calendar=OFFICE)
    assert dues(case, policy, last + a * M) == dues(case, policy, last + b * M)


@given(histories, priorities, st.integers(0, 10_000))
def test_raising_priority_never_makes_due_later(
    steps: list[tuple[int, str]], priority: str, wait: int
) -> None:
    case, last = with_history(steps, priority)
    now = last + wait * M
    policy = SlaPolicy.default()
    lower = dues(case, policy, now)
    case.priority = case.priority.raise_one_rung()
    higher = dues(case, policy, now)
    for name, due in higher.items():
        if due is not None and lower[name] is not None:
            assert due <= lower[name]  # type: ignore[operator]
        if due is None:
            assert lower[name] is None


@given(histories, priorities, st.integers(0, 20_000), st.booleans())
def test_evaluate_is_idempotent(
    steps: list[tuple[int, str]], priority: str, wait: int, sweep: bool
) -> None:
    case, last = with_history(steps, priority)
    now = last + wait * M
    policy = attrs.evolve(SlaPolicy.default(), warn_before=H)
    first = evaluate(case, policy, now)
    targets = mark_breached(first, first.newly_breached, now) if sweep else first.targets
    second = evaluate(stored(case, targets), policy, now)
    assert second.targets == targets
    assert evaluate(stored(case, second.targets), policy, now) == second


@given(histories, st.integers(0, 20_000))
def test_escalation_loop_settles_and_breaches_stick(
    steps: list[tuple[int, str]], wait: int
) -> None:
    """What the sweep will do: mark, raise a rung, re-evaluate at the same now, until quiet."""
    case, last = with_history(steps, "low")
    now = last + wait * M
    policy = SlaPolicy.default()
    marked: dict[str, datetime | None] = {}
    for _ in range(10):
        ev = evaluate(case, policy, now)
        for t in ev.targets:
            if t.name in marked:
                assert (t.state, t.breached_at) == ("breached", marked[t.name])
        if not ev.newly_breached:
            break
        case.sla_targets = list(mark_breached(ev, ev.newly_breached, now))
        marked.update({t.name: t.breached_at for t in case.sla_targets if t.state == "breached"})
        case.priority = case.priority.raise_one_rung()
    else:
        pytest.fail("the escalation loop did not settle")
    final = evaluate(case, policy, now)
    assert final.newly_breached == ()
    assert evaluate(stored(case, final.targets), policy, now) == final


class TestIsoDurations:
    """Targets written as ISO 8601 durations (as other helpdesks export them)."""

    @pytest.mark.parametrize(("text", "hours"), [("PT4H", 4), ("p3dt12h", 84), ("PT90M", 1.5)])
    def test_accepted(self, text: str, hours: float) -> None:
        assert parse_duration(text) == timedelta(hours=hours)

    @pytest.mark.parametrize("text", ["P1M", "P1Y", "P2026-01-01", "PXYZ"])
    def test_refused(self, text: str) -> None:
        with pytest.raises(InvalidConfiguration):
            parse_duration(text)


class TestPauseMemo:
    """derive_pauses folds incrementally over the append-only timeline; the memo is exact."""

    @settings(max_examples=60)
    @given(st.lists(st.sampled_from(["open", "in_progress", "pending_customer", "resolved",
                                     "closed", "comment"]), max_size=30))
    def test_incremental_equals_fresh(self, steps: list[str]) -> None:
        from caselib import Actor, CaselibError, MemoryStore, ServiceDesk
        from caselib.testing import FrozenClock

        clock = FrozenClock()
        desk = ServiceDesk(MemoryStore(), clock=clock)
        agent = Actor.agent("ana")
        case = desk.create_case(subject="x", actor=agent)
        for step in steps:
            clock.advance(minutes=7)
            try:
                if step == "comment":
                    case = desk.add_comment(case.id, "hi", actor=agent, audience="public")
                else:
                    case = desk.transition(case.id, step, actor=agent, note="n")
            except CaselibError:
                continue
            memoised = derive_pauses(case)
            fresh = case.clone()
            fresh.memo.clear()
            assert memoised == derive_pauses(fresh)
            assert case.pauses == memoised


class TestSlaCase:
    """The SLA part of a case: what the breach sweep reads, decides on and writes back."""

    @given(histories, priorities, st.integers(0, 20_000))
    def test_evaluates_like_the_whole_case(
        self, steps: list[tuple[int, str]], priority: str, wait: int
    ) -> None:
        """evaluate() of the part equals evaluate() of the case, whatever the history."""
        case, last = with_history(steps, priority)
        now = last + wait * M
        policy = attrs.evolve(SlaPolicy.default(), warn_before=H,
                              targets={p: SlaTargets(H, 8 * H, 2 * H) for p in Priority})
        assert evaluate(SlaCase.of(case), policy, now) == evaluate(case, policy, now)

    @given(st.sampled_from(["Billing", "Technical", None]),
           st.sampled_from(["email", "phone", "web"]),
           st.dictionaries(st.sampled_from(["tier", "region"]),
                           st.sampled_from(["gold", "Platinum", "eu", "silver"]), max_size=2),
           st.sampled_from([None, "ACC-1", "acc-2"]),
           st.frozensets(st.sampled_from(["vip", "eu"])))
    def test_selects_the_policy_the_whole_case_selects(
        self, category: str | None, source: str, custom: dict[str, str], account: str | None,
        tags: frozenset[str]
    ) -> None:
        """Every condition field reads the same on the part as on the case."""
        rules = SlaPolicies(
            [({"tier": ["gold", "platinum"], "tag": "vip"}, attrs.evolve(TestSelection.gold)),
             ({"account": "acc-1", "source": "email"}, attrs.evolve(TestSelection.gold,
                                                                    id="acct", name="A")),
             ({"custom.region": "EU"}, attrs.evolve(TestSelection.gold, id="eu", name="EU")),
             ({"category": "billing"}, TestSelection.billing)],
            SlaPolicy.default(),
        )
        case = new_case(category=category, source=source, custom=custom,
                        links={"account": account} if account else {}, tags=tags)
        assert rules.select(SlaCase.of(case)) == rules.select(case)

    def test_keeps_only_the_entries_clocks_read(self) -> None:
        case, _ = with_history([(5, "agent"), (5, "wait"), (5, "customer"), (5, "open")])
        case.add_comment("internal", audience="internal", actor=AGENT, at=T0 + 30 * M)
        part = SlaCase.of(case)
        assert {e.kind for e in part.timeline} == set(SLA_ENTRY_KINDS)
        assert part.entry_count == len(case.timeline)
        assert [e.seq for e in part.timeline] == [
            e.seq for e in case.timeline if e.kind in SLA_ENTRY_KINDS]

    @given(priorities, st.sampled_from(list(Priority)), st.integers(1, 3))
    def test_record_breach_writes_what_the_case_writes(
        self, priority: str, rung: Priority, breaches: int
    ) -> None:
        """Recording breaches on the part and applying it gives the case that recording
        them on the case itself gives: the same entries, priority and events."""
        case, _ = with_history([(5, "agent"), (5, "wait")], priority)
        case.pull_events()
        direct, part = case.clone(), SlaCase.of(case)
        at = T0 + 2 * H
        for n in range(breaches):
            for target in (direct, part):
                target.record_breach(f"t{n}", "late", actor=Actor.system(), at=at,
                                     priority=rung, breached_by_seconds=n)
        part.sla_targets = list(direct.sla_targets)
        part.apply_to(case)
        assert case.timeline == direct.timeline
        assert (case.priority, case.updated_at) == (direct.priority, direct.updated_at)
        assert case.pending_events == direct.pending_events
        assert not part.new_entries and not part.events

    def test_apply_to_refuses_another_case_or_a_changed_one(self) -> None:
        case = new_case()
        part = SlaCase.of(case)
        other = attrs.evolve(case, id="c2")
        with pytest.raises(InvalidInput, match="does not belong"):
            part.apply_to(other)
        case.add_comment("meanwhile", audience="internal", actor=AGENT, at=T0 + M)
        before = case.clone()
        with pytest.raises(InvalidInput, match="fresh SlaCase"):
            part.apply_to(case)
        assert case.timeline == before.timeline and case.priority is before.priority

    def test_record_breach_refuses_a_naive_time(self) -> None:
        part = SlaCase.of(new_case())
        with pytest.raises(InvalidInput):
            part.record_breach("resolution", "late", actor=Actor.system(),
                               at=datetime(2026, 1, 5, 12, 0))
        assert part.new_entries == [] and part.entry_count == 1
