"""Tests for caselib.sla.calendar: examples for each rule, properties against the minute oracle."""

from __future__ import annotations

import sys
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caselib.errors import InvalidConfiguration, InvalidInput, NaiveDatetime
from caselib.sla import (
    BusinessCalendar,
    Holiday,
    HolidaySource,
    PythonHolidaysSource,
    TimeRange,
)
from caselib.testing.calendar_oracle import (
    oracle_add,
    oracle_business_between,
    oracle_is_open,
    oracle_next_open,
)

BERLIN = ZoneInfo("Europe/Berlin")
H = timedelta(hours=1)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def office(**extra: object) -> BusinessCalendar:
    """Berlin office hours with a lunch break."""
    data: dict[str, object] = {
        "timezone": "Europe/Berlin",
        "hours": {day: ["09:00-12:00", "13:00-17:00"] for day in WEEKDAYS},
    }
    data.update(extra)
    return BusinessCalendar.from_dict(data)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


class TestAdd:
    """Due times from a start and a business duration."""

    def test_friday_evening_starts_monday_morning(self) -> None:
        """A start after Friday's closing begins at Monday's opening."""
        due = office().add(berlin(2026, 11, 6, 19, 0), 2 * H)
        assert due == berlin(2026, 11, 9, 11, 0)
        assert due.tzinfo is UTC

    def test_holiday_is_skipped(self) -> None:
        """A whole-day holiday is closed; the clock runs on the next working day."""
        cal = office(
            holidays=[{"date": "2026-12-25"}, {"date": "2026-12-24", "closed_from": "12:00"}]
        )
        assert cal.add(berlin(2026, 12, 24, 11, 0), 2 * H) == berlin(2026, 12, 28, 10, 0)

    def test_inactive_holiday_closes_nothing(self) -> None:
        """An inactive holiday is kept in the configuration but the desk is open."""
        cal = office(holidays=[{"date": "2026-12-23", "active": False}])
        assert cal.add(berlin(2026, 12, 23, 9, 0), H) == berlin(2026, 12, 23, 10, 0)

    def test_due_exactly_at_closing_stays(self) -> None:
        """A due time that lands on a closing time is not rolled to the next opening."""
        assert office().add(berlin(2026, 11, 6, 16, 0), H) == berlin(2026, 11, 6, 17, 0)
        assert office().add(berlin(2026, 11, 6, 11, 0), H) == berlin(2026, 11, 6, 12, 0)

    def test_lunch_break_is_not_business_time(self) -> None:
        """Two hours from 11:00 across a 12-13 lunch break are due at 14:00."""
        assert office().add(berlin(2026, 11, 4, 11, 0), 2 * H) == berlin(2026, 11, 4, 14, 0)

    def test_zero_duration_is_next_open(self) -> None:
        """A zero target is due at once when open, at the next opening otherwise."""
        cal = office()
        assert cal.add(berlin(2026, 11, 4, 10, 0), timedelta(0)) == berlin(2026, 11, 4, 10, 0)
        assert cal.add(berlin(2026, 11, 4, 12, 30), timedelta(0)) == berlin(2026, 11, 4, 13, 0)

    @pytest.mark.parametrize(
        ("start", "due"),
        [
            # Spring forward: Sunday 29 March 2026 has 23 hours.
            (berlin(2026, 3, 28, 12, 0), berlin(2026, 3, 29, 13, 0)),
            # Fall back: Sunday 25 October 2026 has 25 hours.
            (berlin(2026, 10, 24, 12, 0), berlin(2026, 10, 25, 11, 0)),
        ],
    )
    def test_dst_weekend_on_24_7_calendar_is_real_time(
        self, start: datetime, due: datetime
    ) -> None:
        """On a 24/7 calendar 24 business hours are 24 real hours, whatever the wall clock does."""
        got = BusinessCalendar.always_open("Europe/Berlin").add(start, 24 * H)
        assert got == due
        assert got - start == 24 * H

    def test_window_in_spring_forward_gap_holds_real_hours(self) -> None:
        """01:00-04:00 on a spring-forward night holds 2 real hours; on fall-back night 4."""
        cal = BusinessCalendar.from_dict(
            {"timezone": "Europe/Berlin", "hours": {"sun": ["01:00-04:00"]}}
        )
        assert cal.business_between(berlin(2026, 3, 29, 0), berlin(2026, 3, 29, 5)) == 2 * H
        assert cal.business_between(berlin(2026, 10, 25, 0), berlin(2026, 10, 25, 5)) == 4 * H
        # 90 minutes from the opening on the short night: 01:00 + 1 h, the gap, then 30 min.
        assert cal.add(berlin(2026, 3, 29, 0), 90 * timedelta(minutes=1)) == berlin(
            2026, 3, 29, 3, 30
        )

    def test_always_open(self) -> None:
        """always_open measures plain elapsed time."""
        cal = BusinessCalendar.always_open()
        start = datetime(2026, 1, 1, 10, 30, 15, 123, tzinfo=UTC)
        assert cal.add(start, timedelta(days=400, microseconds=7)) == start + timedelta(
            days=400, microseconds=7
        )
        assert cal.is_open(start)

    @given(
        st.sampled_from(("Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC")),
        st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1),
                     timezones=st.just(UTC)),
        st.timedeltas(min_value=-timedelta(days=400), max_value=timedelta(days=400)),
    )
    def test_always_open_between_is_elapsed_time(
        self, zone: str, start: datetime, span: timedelta
    ) -> None:
        """On 24/7 calendars (any zone, DST or not) business time between two instants is the
        real time between them, negative backwards, and inverts add."""
        cal = BusinessCalendar.always_open(zone)
        assert cal.business_between(start, start + span) == span
        if span >= timedelta(0):
            assert cal.business_between(start, cal.add(start, span)) == span

    def test_long_span(self) -> None:
        """A year of business time on office hours crosses DST twice and stays exact."""
        cal = office()
        start = berlin(2026, 1, 5, 9, 0)
        due = cal.add(start, timedelta(days=365))
        assert cal.business_between(start, due) == timedelta(days=365)

    def test_pendulum_input(self) -> None:
        """pendulum datetimes are accepted; the result is a plain stdlib datetime in UTC."""
        import pendulum

        start = pendulum.datetime(2026, 11, 6, 19, 0, tz="Europe/Berlin")
        due = office().add(start, 2 * H)
        assert type(due) is datetime
        assert due == berlin(2026, 11, 9, 11, 0)

    def test_naive_datetime_is_refused(self) -> None:
        """Naive datetimes raise NaiveDatetime rather than being guessed."""
        cal = office()
        with pytest.raises(NaiveDatetime):
            cal.add(datetime(2026, 11, 6, 19, 0), H)
        with pytest.raises(NaiveDatetime):
            cal.business_between(datetime(2026, 11, 6), berlin(2026, 11, 7))
        with pytest.raises(NaiveDatetime):
            cal.is_open(datetime(2026, 11, 6))

    def test_negative_duration_is_refused(self) -> None:
        """A negative business duration is invalid input."""
        with pytest.raises(InvalidInput, match="negative"):
            office().add(berlin(2026, 11, 6, 10), -H)


class TestQueries:
    """is_open, next_open and business_between."""

    def test_business_between_is_antisymmetric(self) -> None:
        """b before a gives the negative amount (time left turns negative once overdue)."""
        cal = office()
        a, b = berlin(2026, 11, 6, 10), berlin(2026, 11, 9, 10)
        assert cal.business_between(a, b) == 7 * H
        assert cal.business_between(b, a) == -7 * H

    def test_is_open_half_open_ranges(self) -> None:
        """Ranges include their opening and exclude their closing."""
        cal = office()
        assert cal.is_open(berlin(2026, 11, 4, 9, 0))
        assert not cal.is_open(berlin(2026, 11, 4, 12, 0))
        assert not cal.is_open(berlin(2026, 11, 7, 10, 0))

    def test_next_open(self) -> None:
        """next_open returns the instant itself when open, the next opening otherwise."""
        cal = office()
        assert cal.next_open(berlin(2026, 11, 4, 10, 0)) == berlin(2026, 11, 4, 10, 0)
        assert cal.next_open(berlin(2026, 11, 7, 10, 0)) == berlin(2026, 11, 9, 9, 0)

    def test_24_00_end_joins_the_next_day(self) -> None:
        """A range ending 24:00 runs into one starting at 00:00 the next day."""
        cal = BusinessCalendar.from_dict(
            {"timezone": "UTC", "hours": {"mon": ["20:00-24:00"], "tue": ["00:00-02:00"]}}
        )
        start = datetime(2026, 11, 2, 23, 0, tzinfo=UTC)
        assert cal.add(start, 2 * H) == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)


class TestConfiguration:
    """from_dict / to_dict, validation and holiday sources."""

    def test_round_trip(self) -> None:
        """to_dict gives plain data that from_dict turns back into an equal calendar."""
        cal = office(
            holidays=[
                {"date": "2026-12-24", "closed_from": "12:00", "name": "Christmas Eve"},
                {"date": "2026-12-31", "closed_until": "10:00", "active": False},
            ]
        )
        data = cal.to_dict()
        assert BusinessCalendar.from_dict(data) == cal
        assert data["holidays"][0] == {
            "date": "2026-12-24",
            "name": "Christmas Eve",
            "closed_from": "12:00",
        }
        assert hash(cal) == hash(BusinessCalendar.from_dict(data))

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"timezone": "Mars/Olympus", "hours": {"mon": ["09:00-17:00"]}}, "unknown time zone"),
            ({"timezone": "UTC", "hours": {"mon": ["09:00-13:00", "12:00-17:00"]}}, "overlap"),
            ({"timezone": "UTC", "hours": {"mon": ["17:00-09:00"]}}, "ends before it starts"),
            ({"timezone": "UTC", "hours": {"funday": ["09:00-17:00"]}}, "unknown day name"),
            ({"timezone": "UTC", "hours": {"mon": ["9-17"]}}, "HH:MM"),
            ({"timezone": "UTC", "hours": {"mon": ["09:00-24:30"]}}, "not a valid time"),
            ({"timezone": "UTC", "hours": {}}, "at least one open range"),
            (
                {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"]}, "extra": 1},
                "unknown calendar keys",
            ),
            (
                {
                    "timezone": "UTC",
                    "hours": {"mon": ["09:00-17:00"]},
                    "holidays": [{"date": "soon"}],
                },
                "not a date",
            ),
            (
                {
                    "timezone": "UTC",
                    "hours": {"mon": ["09:00-17:00"]},
                    "holidays": [
                        {"date": "2026-12-24", "closed_from": "14:00", "closed_until": "12:00"}
                    ],
                },
                "must be before",
            ),
        ],
    )
    def test_invalid_configuration(self, data: dict[str, object], message: str) -> None:
        """Bad calendars are refused with InvalidConfiguration and a clear message."""
        with pytest.raises(InvalidConfiguration, match=message):
            BusinessCalendar.from_dict(data)

    def test_holiday_source_protocol(self) -> None:
        """Any object with holidays_in(year) plugs in; holidays are copied into the value."""

        class Company:
            def holidays_in(self, year: int) -> list[Holiday]:
                return [Holiday(date(year, 6, 1), name="Founders' day")]

        assert isinstance(Company(), HolidaySource)
        cal = office().with_holidays_from(Company(), range(2026, 2028))
        assert [h.date for h in cal.holidays] == [date(2026, 6, 1), date(2027, 6, 1)]
        assert not cal.is_open(berlin(2026, 6, 1, 10))

    def test_python_holidays_adapter(self) -> None:
        """The holidays package adapter lists a country's public holidays."""
        pytest.importorskip("holidays")
        cal = office().with_holidays_from(PythonHolidaysSource("DE", subdiv="BY"), [2026])
        assert date(2026, 12, 25) in {h.date for h in cal.holidays}
        assert not cal.is_open(berlin(2026, 12, 25, 10))

    def test_python_holidays_adapter_without_package(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Without the extra installed the adapter says how to install it."""
        monkeypatch.setitem(sys.modules, "holidays", None)
        with pytest.raises(InvalidConfiguration, match=r"caselib-engine\[holidays\]"):
            PythonHolidaysSource("DE").holidays_in(2026)

    def test_time_range_parse(self) -> None:
        """TimeRange parses HH:MM-HH:MM and prints the same way."""
        assert str(TimeRange.parse("09:00-24:00")) == "09:00-24:00"


# --- properties against the minute-walking oracle -----------------------------------------------

ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC")
#: Around these UTC instants each zone changes its offset (or, for fixed zones, nothing happens).
TRANSITIONS = {
    "Europe/Berlin": (datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC)),
    "America/New_York": (datetime(2026, 3, 8, 7, tzinfo=UTC), datetime(2026, 11, 1, 6, tzinfo=UTC)),
    "Australia/Sydney": (
        datetime(2026, 4, 4, 16, tzinfo=UTC),
        datetime(2026, 10, 3, 16, tzinfo=UTC),
    ),
    "Asia/Kolkata": (datetime(2026, 6, 1, tzinfo=UTC),),
    "UTC": (datetime(2026, 6, 1, tzinfo=UTC),),
}
GRID = 30  # minutes: fine enough to put ranges inside DST gaps and repeated hours


@st.composite
def day_ranges(draw: st.DrawFn) -> list[TimeRange]:
    """0-3 sorted, non-overlapping ranges on a 30-minute grid (ends up to 24:00)."""
    count = draw(st.integers(0, 3))
    points = sorted(
        draw(st.sets(st.integers(0, 1440 // GRID), min_size=2 * count, max_size=2 * count))
    )
    return [TimeRange(points[i] * GRID, points[i + 1] * GRID) for i in range(0, len(points), 2)]


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessCalendar, datetime]:
    """A random calendar in a DST zone and a minute-aligned start near its transitions."""
    zone = draw(st.sampled_from(ZONES))
    hours = [draw(day_ranges()) for _ in range(7)]
    if not any(hours):
        hours[draw(st.integers(0, 6))] = [TimeRange(9 * 60, 17 * 60)]
    anchor = draw(st.sampled_from(TRANSITIONS[zone]))
    start = anchor + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    holidays = []
    for _ in range(draw(st.integers(0, 3))):
        day = (start + timedelta(days=draw(st.integers(-1, 8)))).date()
        closed_from = draw(st.none() | st.integers(0, 1440 // GRID - 1).map(lambda m: m * GRID))
        low = (closed_from or 0) // GRID + 1
        closed_until = draw(st.none() | st.integers(low, 1440 // GRID).map(lambda m: m * GRID))
        holidays.append(
            Holiday(
                day, closed_from=closed_from, closed_until=closed_until, active=draw(st.booleans())
            )
        )
    return BusinessCalendar(zone, hours, holidays), start


minutes = st.integers(0, 4 * 1440).map(lambda m: timedelta(minutes=m))
PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class TestAgainstOracle:
    """The fast calendar agrees with the brute-force minute walk."""

    @PROPERTY_SETTINGS
    @given(scenarios(), minutes)
    def test_add_matches_oracle(
        self, scenario: tuple[BusinessCalendar, datetime], d: timedelta
    ) -> None:
        """add agrees with the oracle on random calendars, zones and starts around DST."""
        cal, start = scenario
        assert cal.add(start, d) == oracle_add(cal, start, d)

    @PROPERTY_SETTINGS
    @given(scenarios(), minutes)
    def test_business_between_matches_oracle(
        self, scenario: tuple[BusinessCalendar, datetime], d: timedelta
    ) -> None:
        """business_between agrees with the oracle (and is antisymmetric)."""
        cal, start = scenario
        end = start + d
        expected = oracle_business_between(cal, start, end)
        assert cal.business_between(start, end) == expected
        assert cal.business_between(end, start) == -expected

    @PROPERTY_SETTINGS
    @given(scenarios())
    def test_is_open_and_next_open_match_oracle(
        self, scenario: tuple[BusinessCalendar, datetime]
    ) -> None:
        """is_open and next_open agree with the oracle."""
        cal, start = scenario
        assert cal.is_open(start) == oracle_is_open(cal, start)
        assert cal.next_open(start) == oracle_next_open(cal, start)


class TestProperties:
    """Algebraic properties (no oracle, so they can use any microsecond)."""

    @settings(max_examples=100, deadline=None)
    @given(scenarios(), minutes, st.integers(0, 10**6))
    def test_between_inverts_add(
        self, scenario: tuple[BusinessCalendar, datetime], d: timedelta, micro: int
    ) -> None:
        """business_between(s, add(s, d)) == d for a start inside business hours."""
        cal, start = scenario
        s = cal.next_open(start + timedelta(microseconds=micro))
        d += timedelta(microseconds=micro)
        assert cal.business_between(s, cal.add(s, d)) == d

    @settings(max_examples=100, deadline=None)
    @given(scenarios(), minutes, minutes, st.integers(0, 3 * 1440))
    def test_add_is_monotonic(
        self,
        scenario: tuple[BusinessCalendar, datetime],
        d1: timedelta,
        d2: timedelta,
        shift: int,
    ) -> None:
        """A later start or a longer duration never gives an earlier due time."""
        cal, start = scenario
        short, long = sorted((d1, d2))
        assert cal.add(start, short) <= cal.add(start, long)
        assert cal.add(start, d1) <= cal.add(start + timedelta(minutes=shift), d1)

    @settings(max_examples=50, deadline=None)
    @given(scenarios())
    def test_round_trip(self, scenario: tuple[BusinessCalendar, datetime]) -> None:
        """to_dict / from_dict round-trips random calendars."""
        cal, _ = scenario
        assert BusinessCalendar.from_dict(cal.to_dict()) == cal
