"""Business calendars: when the support desk is open, and how much open time lies between instants.

SLA targets such as "first response within 8 business hours" need two questions answered
quickly and exactly:

* :meth:`BusinessCalendar.add` -- given a start and a business duration, when is it due?
* :meth:`BusinessCalendar.business_between` -- how much business time lies between two instants?

Both run in time that does not grow with the span (see *How it stays fast* below), because the
breach sweep calls them for every open case.

The weekly hours (:mod:`caselib.sla.hours`) and the holidays (:mod:`caselib.sla.holiday`) a
calendar is built from are plain values kept in their own modules; this one holds the algorithm.

Rules
-----
* Business hours are **wall-clock** times in the calendar's IANA zone ("09:00-17:00" means what
  the office clock shows, summer and winter).
* Elapsed business time is **real** elapsed time. The desk is open while the office clock shows
  an open time; each real second of that counts once. Consequences around DST:

  - spring forward (the clock jumps, e.g. 02:00 -> 03:00): wall times in the gap never occur, so
    they are never open. A window 01:00-04:00 on that night holds 2 real hours.
  - fall back (the clock repeats, e.g. 03:00 -> 02:00): the repeated wall hour occurs twice and
    counts twice. A window 01:00-04:00 on that night holds 4 real hours.
  - a 24/7 calendar therefore simply measures real time: 24 business hours after a start are 24
    real hours later, even across a 23- or 25-hour day.

  No local time is ever resolved with ``fold``: the engine only maps real instants to wall
  clock times (which is always unambiguous) and results are returned as UTC instants, so
  non-existent and ambiguous local times cannot make a result depend on a guess.
* Ranges and closures are half-open ``[start, end)``. ``24:00`` is allowed as an end and means
  midnight at the end of that day; ranges that touch across midnight form one open stretch.
* A start outside business hours begins at the next opening.
* A due time that lands exactly on a closing time stays at that closing time (it is not rolled
  forward to the next opening): ``add`` returns the *earliest* instant at which the business
  duration has elapsed.
* ``add(start, timedelta(0))`` is ``next_open(start)``: a zero target is due when the desk next
  opens (immediately when it is open).
* ``business_between(a, b)`` with ``b < a`` returns the *negative* of ``business_between(b, a)``
  so "business time left" turns negative once a target is overdue.
* Inputs are aware datetimes (stdlib or pendulum); naive ones raise
  :class:`~caselib.errors.NaiveDatetime`. Results are aware stdlib datetimes in UTC. Arithmetic
  is exact to the microsecond.
* Holidays close whole days or a part of a day (``closed_from`` / ``closed_until``, wall clock).
  An inactive holiday (``active=False``) is kept in the configuration but closes nothing.

How it stays fast
-----------------
Think of the wall clock as a straight line of microseconds (ignoring DST). On that line the
weekly hours repeat every week, so the business time before a wall instant is
``weeks * business_per_week + table[within week]`` (a bisect in a table of the week's ranges).
Holidays remove pieces of that business time; they are merged once into a sorted list with
prefix sums, so subtracting them is one more bisect -- and the inverse (finding when a given
amount of business time is reached) is two bisects as well.

Real time maps onto the wall line piecewise: between two UTC-offset changes the wall clock runs
at real speed. Each change skips (spring forward) or repeats (fall back) a stretch of wall time,
and the business time in that stretch is computed once per calendar and tabulated with prefix
sums over a range of years (extended lazily, cached on the calendar). Business time up to a real
instant is then "wall business time minus what the changes so far skipped", and the due time is
found by one bisect over the changes plus the wall inverse above. Every call is a handful of
bisects, ``O(log(holidays + offset changes))``, independent of the span. The zone's offset
changes are found once per (zone, year) by sampling the offset daily and bisecting to the
second, and cached for the process.

Limitation: an offset change that is undone within 24 hours is not detected (no IANA zone has had
one in the era an SLA cares about).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import attrs

from caselib.errors import InvalidConfiguration, InvalidInput
from caselib.sla.holiday import Holiday, HolidaySource, _coerce_holidays
from caselib.sla.hours import DAY_NAMES, TimeRange, _coerce_hours
from caselib.timeutil import aware_utc

__all__ = [
    "BusinessCalendar",
]

_US = 1_000_000
_MINUTE_US = 60 * _US
_DAY_US = 86_400 * _US
_WEEK_US = 7 * _DAY_US
# All internal instants are integer microseconds from this Monday (UTC for real instants, the
# zone's wall clock for wall instants), so ``(w // _DAY_US) % 7`` is the weekday.
_BASE_ORDINAL = date(1970, 1, 5).toordinal()
_BASE_UTC = datetime(1970, 1, 5, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


# --- zone transitions --------------------------------------------------------------------------


def _td_us(delta: timedelta) -> int:
    return (delta.days * 86_400 + delta.seconds) * _US + delta.microseconds


def _offset_us(zone: ZoneInfo, u: int) -> int:
    local = (_BASE_UTC + timedelta(microseconds=u)).astimezone(zone)
    offset = local.utcoffset()
    assert offset is not None  # ZoneInfo always answers for aware datetimes
    return _td_us(offset)


# (zone key, UTC year) -> ((instant_us, offset_after_us), ...). Transitions are facts about the
# zone database, not about a calendar, so one cache serves every calendar in the process.
_TRANSITIONS: dict[tuple[str, int], tuple[tuple[int, int], ...]] = {}


def _transitions_in_year(zone: ZoneInfo, year: int) -> tuple[tuple[int, int], ...]:
    """Offset changes with ``start of year < instant <= start of next year`` (UTC)."""
    key = (zone.key, year)
    found = _TRANSITIONS.get(key)
    if found is not None:
        return found
    first = _td_us(datetime(year, 1, 1, tzinfo=UTC) - _BASE_UTC)
    last = _td_us(datetime(year + 1, 1, 1, tzinfo=UTC) - _BASE_UTC) if year < 9999 else first
    out: list[tuple[int, int]] = []
    lo, lo_off = first, _offset_us(zone, first)
    while lo < last:
        hi = min(lo + _DAY_US, last)
        hi_off = _offset_us(zone, hi)
        if hi_off != lo_off:
            # Offsets change on whole seconds; bisect (lo, hi] down to the first second with hi_off.
            a, b = lo // _US, hi // _US
            while b - a > 1:
                mid = (a + b) // 2
                if _offset_us(zone, mid * _US) == hi_off:
                    b = mid
                else:
                    a = mid
            out.append((b * _US, hi_off))
        lo, lo_off = hi, hi_off
    result = tuple(out)
    _TRANSITIONS[key] = result
    return result


def _utc_year(u: int) -> int:
    return (_BASE_UTC + timedelta(microseconds=u)).year


def _year_start_us(year: int) -> int:
    return _td_us(datetime(year, 1, 1, tzinfo=UTC) - _BASE_UTC)


@attrs.frozen
class _Snapshot:
    """One calendar's view of its zone's offset changes over a covered range of years.

    ``F(u)`` -- business µs from an arbitrary origin up to the real instant ``u`` -- is
    ``G(u + offset) - cum[k]`` in the segment after transition ``k``, where ``G`` is the
    business time on the wall line and ``cum`` adds up what each transition skipped (spring
    forward: business wall time that never happened) or repeated (fall back: negative).
    ``fvals[k]`` is ``F`` at transition ``k``, so ``F`` and its inverse are one bisect each.
    Valid for ``lo < u <= hi``.
    """

    first_year: int
    last_year: int
    lo: int
    hi: int
    off_first: int  # offset in force from lo up to the first transition
    times: tuple[int, ...]
    offs: tuple[int, ...]
    cum: tuple[int, ...]
    fvals: tuple[int, ...]


class _Timeline:
    """Lazily extended :class:`_Snapshot` for one calendar.

    The snapshot is replaced as a whole (one attribute store), so concurrent readers in other
    threads always see a consistent one; at worst two threads build the same extension.
    """

    __slots__ = ("calendar", "snapshot", "zone")

    def __init__(self, calendar: BusinessCalendar, zone: ZoneInfo) -> None:
        self.calendar = calendar
        self.zone = zone
        self.snapshot: _Snapshot | None = None

    def covering(self, lo: int, hi: int) -> _Snapshot:
        """A snapshot valid for every instant in ``[lo, hi]``."""
        snap = self.snapshot
        if snap is not None and snap.lo < lo and hi <= snap.hi:
            return snap
        first = _utc_year(lo) - 1
        last = _utc_year(hi) + 1
        if snap is not None:
            first, last = min(first, snap.first_year), max(last, snap.last_year)
        snap = self._build(max(first, 1), min(last, 9998))
        if not (snap.lo < lo and hi <= snap.hi):
            raise InvalidInput("the instant lies outside the datetime range (year 1-9999)")
        self.snapshot = snap
        return snap

    def _build(self, first_year: int, last_year: int) -> _Snapshot:
        business_at = self.calendar._business_at
        lo = _year_start_us(first_year)
        hi = _year_start_us(last_year + 1)
        off_first = _offset_us(self.zone, lo)
        times: list[int] = []
        offs: list[int] = []
        cum: list[int] = []
        fvals: list[int] = []
        skipped = 0
        prev = off_first
        for year in range(first_year, last_year + 1):
            for t, off in _transitions_in_year(self.zone, year):
                before, after = business_at(t + prev), business_at(t + off)
                times.append(t)
                offs.append(off)
                fvals.append(before - skipped)
                skipped += after - before
                cum.append(skipped)
                prev = off
        return _Snapshot(
            first_year,
            last_year,
            lo,
            hi,
            off_first,
            tuple(times),
            tuple(offs),
            tuple(cum),
            tuple(fvals),
        )


# --- the calendar ------------------------------------------------------------------------------


@attrs.frozen
class _Tables:
    """Precomputed lookup tables (derived from the configuration, excluded from equality)."""

    week_total: int  # business µs per (DST-free) wall week
    starts: tuple[int, ...]  # merged open ranges within the week, µs from Monday 00:00
    ends: tuple[int, ...]
    before: tuple[int, ...]  # business µs in the week before range i starts
    upto: tuple[int, ...]  # business µs in the week up to the end of range i
    # Holiday closures expressed on the weekly business axis ("g"): merged, sorted, disjoint.
    g_starts: tuple[int, ...]
    g_ends: tuple[int, ...]
    g_removed_before: tuple[int, ...]  # total removed before closure j
    g_reached: tuple[int, ...]  # business (after removals) reached when closure j starts


def _check_zone(instance: BusinessCalendar, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value:
        raise InvalidConfiguration(f"timezone must be an IANA zone name, got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as err:
        raise InvalidConfiguration(
            f"unknown time zone {value!r}; use an IANA name such as 'Europe/Berlin' or 'UTC'"
        ) from err


_ALWAYS: Final[tuple[tuple[TimeRange, ...], ...]] = tuple((TimeRange(0, 1440),) for _ in range(7))


@attrs.frozen(cache_hash=True)
class BusinessCalendar:
    """Weekly business hours in one IANA zone, minus holidays.

    Build one with :meth:`from_dict`, :meth:`always_open` or directly. ``hours`` holds seven
    tuples of :class:`TimeRange` (Monday first; a mapping such as ``{"mon": ["09:00-12:00"]}``
    is converted), ``holidays`` a sorted tuple of :class:`Holiday`.

    Rules (see the module documentation for the reasoning):

    * hours are wall-clock times in ``timezone``; elapsed business time is real time, exact
      across DST (a wall hour skipped by spring-forward is never open, a repeated fall-back hour
      counts twice; on a 24/7 calendar 24 business hours are 24 real hours);
    * ranges are half-open ``[start, end)``, ``24:00`` is a valid end;
    * a start outside business hours begins at the next opening;
    * a due time that lands exactly on a closing time stays there;
    * ``add(t, timedelta(0)) == next_open(t)``;
    * ``business_between(a, b) == -business_between(b, a)``;
    * naive datetimes raise :class:`~caselib.errors.NaiveDatetime`; results are UTC.

    Cost per call is a few bisects (``O(log(holidays + offset changes))``), independent of the
    span's length; the first call in a new range of years tabulates that range once.
    """

    timezone: str = attrs.field(validator=_check_zone)
    hours: tuple[tuple[TimeRange, ...], ...] = attrs.field(converter=_coerce_hours)
    holidays: tuple[Holiday, ...] = attrs.field(default=(), converter=_coerce_holidays)
    _tables: _Tables = attrs.field(init=False, repr=False, eq=False, hash=False)
    _zone: ZoneInfo = attrs.field(init=False, repr=False, eq=False, hash=False)
    _timeline: _Timeline = attrs.field(init=False, repr=False, eq=False, hash=False)
    _always: bool = attrs.field(init=False, repr=False, eq=False, hash=False)

    def __attrs_post_init__(self) -> None:
        # Derived state; attrs' documented way to set fields on a frozen instance.
        zone = ZoneInfo(self.timezone)
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_tables", self._build_tables())
        object.__setattr__(self, "_timeline", _Timeline(self, zone))
        object.__setattr__(self, "_always", self.hours == _ALWAYS
                           and not any(h.active for h in self.holidays))

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        """A 24/7 calendar: business time is plain elapsed time (useful for urgent tiers)."""
        return cls(tz, _ALWAYS)

    @property
    def is_always_open(self) -> bool:
        """True when business time is plain elapsed time (24/7, no active holiday).

        SLA code takes an arithmetic shortcut for such calendars.
        """
        return self._always

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BusinessCalendar:
        """Build a calendar from plain data (JSON, YAML, a settings form …).

        ``{"timezone": "Europe/Berlin", "hours": {"mon": ["09:00-12:00", "13:00-17:00"], …},
        "holidays": [{"date": "2026-12-25"}, {"date": "2026-12-24", "closed_from": "12:00"}]}``.
        Days missing from ``hours`` are closed. Holiday keys: ``date`` (required), ``name``,
        ``closed_from``, ``closed_until`` (``HH:MM``, default the whole day), ``active``.

        Raises:
            InvalidConfiguration: unknown zone or day name, malformed or overlapping ranges, a
                range that ends before it starts, or no business hours at all.
        """
        if not isinstance(data, Mapping):
            raise InvalidConfiguration(f"a calendar must be a mapping, got {type(data).__name__}")
        unknown = set(data) - {"timezone", "hours", "holidays"}
        if unknown:
            raise InvalidConfiguration(
                f"unknown calendar keys {sorted(unknown)}; expected timezone, hours, holidays"
            )
        for key in ("timezone", "hours"):
            if key not in data:
                raise InvalidConfiguration(f"a calendar needs {key!r}")
        if not isinstance(data["hours"], Mapping):
            raise InvalidConfiguration("calendar hours must map day names to lists of ranges")
        return cls(data["timezone"], data["hours"], data.get("holidays", ()))

    def to_dict(self) -> dict[str, Any]:
        """Plain data that :meth:`from_dict` turns back into an equal calendar."""
        return {
            "timezone": self.timezone,
            "hours": {
                DAY_NAMES[i]: [str(r) for r in day] for i, day in enumerate(self.hours) if day
            },
            "holidays": [h.to_dict() for h in self.holidays],
        }

    def with_holidays_from(self, source: HolidaySource, years: Iterable[int]) -> BusinessCalendar:
        """Return a copy with the holidays that ``source`` lists for ``years`` added.

        The source is read now, so the returned calendar is a self-contained value that can be
        compared, hashed and serialised with :meth:`to_dict`.
        """
        extra = [h for year in years for h in source.holidays_in(year)]
        return attrs.evolve(self, holidays=(*self.holidays, *extra))

    def _build_tables(self) -> _Tables:
        starts: list[int] = []
        ends: list[int] = []
        for index, day in enumerate(self.hours):
            for r in day:
                s = index * _DAY_US + r.start * _MINUTE_US
                e = index * _DAY_US + r.end * _MINUTE_US
                if ends and ends[-1] == s:  # touching ranges (e.g. 24:00 / 00:00) form one
                    ends[-1] = e
                else:
                    starts.append(s)
                    ends.append(e)
        if not starts:
            raise InvalidConfiguration(
                "a business calendar needs at least one open range; nothing could ever be due"
            )
        # A range ending Sunday 24:00 and one starting Monday 00:00 touch across the week
        # boundary; leaving them separate is harmless for the cumulative table.
        before: list[int] = []
        upto: list[int] = []
        total = 0
        for s, e in zip(starts, ends, strict=True):
            before.append(total)
            total += e - s
            upto.append(total)
        tables = _Tables(
            week_total=total,
            starts=tuple(starts),
            ends=tuple(ends),
            before=tuple(before),
            upto=tuple(upto),
            g_starts=(),
            g_ends=(),
            g_removed_before=(),
            g_reached=(),
        )
        # Holidays: wall intervals, merged, then mapped onto the weekly business axis.
        closures: list[tuple[int, int]] = []
        for h in self.holidays:
            if not h.active:
                continue
            day0 = (h.date.toordinal() - _BASE_ORDINAL) * _DAY_US
            lo, hi = h.closed_span()
            closures.append((day0 + lo * _MINUTE_US, day0 + hi * _MINUTE_US))
        closures.sort()
        merged: list[list[int]] = []
        for lo, hi in closures:
            if merged and lo <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], hi)
            else:
                merged.append([lo, hi])
        g_starts: list[int] = []
        g_ends: list[int] = []
        for lo, hi in merged:
            gs, ge = _weekly(tables, lo), _weekly(tables, hi)
            if ge > gs:
                g_starts.append(gs)
                g_ends.append(ge)
        removed_before: list[int] = []
        reached: list[int] = []
        removed = 0
        for gs, ge in zip(g_starts, g_ends, strict=True):
            removed_before.append(removed)
            reached.append(gs - removed)
            removed += ge - gs
        return attrs.evolve(
            tables,
            g_starts=tuple(g_starts),
            g_ends=tuple(g_ends),
            g_removed_before=tuple(removed_before),
            g_reached=tuple(reached),
        )

    # -- queries ---------------------------------------------------------------------------

    def is_open(self, t: datetime) -> bool:
        """True when the desk is open at instant ``t`` (ranges are half-open)."""
        tb = self._tables
        u = _utc_us(t, "t")
        w = u + _offset_us(self._zone, u)
        q, r = divmod(w, _WEEK_US)
        i = bisect_right(tb.starts, r) - 1
        if i < 0 or r >= tb.ends[i]:
            return False
        g = q * tb.week_total + tb.before[i] + (r - tb.starts[i])
        j = bisect_right(tb.g_starts, g) - 1
        return not (j >= 0 and g < tb.g_ends[j])

    def next_open(self, t: datetime) -> datetime:
        """Return ``t`` if the desk is open then, else the instant it next opens (UTC)."""
        u = _utc_us(t, "t")
        return _from_us(self._add_us(u, 1) - 1)

    def add(self, start: datetime, business_duration: timedelta) -> datetime:
        """Return the earliest instant by which ``business_duration`` of business time elapsed.

        A start outside business hours begins at the next opening; a result that lands exactly
        on a closing time stays there; a zero duration gives :meth:`next_open`.

        Raises:
            NaiveDatetime: ``start`` has no tzinfo.
            InvalidInput: ``business_duration`` is negative or not a timedelta.
        """
        u = _utc_us(start, "start")
        if not isinstance(business_duration, timedelta):
            raise InvalidInput(
                f"business_duration must be a timedelta, got {type(business_duration).__name__}",
                field="business_duration",
            )
        d = _td_us(business_duration)
        if d < 0:
            raise InvalidInput(
                f"business_duration must not be negative, got {business_duration}",
                field="business_duration",
            )
        if d == 0:
            return _from_us(self._add_us(u, 1) - 1)
        return _from_us(self._add_us(u, d))

    def business_between(self, a: datetime, b: datetime) -> timedelta:
        """Business time from ``a`` to ``b``; negative (``-business_between(b, a)``) if ``b < a``.

        Raises:
            NaiveDatetime: ``a`` or ``b`` has no tzinfo.
        """
        ua, ub = _utc_us(a, "a"), _utc_us(b, "b")
        if self.is_always_open:  # business time is elapsed time
            return timedelta(microseconds=ub - ua)
        if ub < ua:
            return timedelta(microseconds=-self._between_us(ub, ua))
        return timedelta(microseconds=self._between_us(ua, ub))

    # -- the engine (integer microseconds) -------------------------------------------------

    def _business_at(self, w: int) -> int:
        """Business µs on the wall line up to wall instant ``w`` (holidays removed)."""
        tb = self._tables
        g = _weekly(tb, w)
        j = bisect_right(tb.g_starts, g) - 1
        if j < 0:
            return g
        return g - tb.g_removed_before[j] - min(g - tb.g_starts[j], tb.g_ends[j] - tb.g_starts[j])

    def _wall_reaching(self, target: int) -> int:
        """Earliest wall instant at which business (holidays removed) reaches ``target``."""
        tb = self._tables
        # Closures that start before the target is reached are passed in full.
        k = bisect_left(tb.g_reached, target)
        g = target + (tb.g_removed_before[k] if k < len(tb.g_starts) else _total_removed(tb))
        q, r = divmod(g, tb.week_total)
        if r == 0:  # reached exactly at the last closing of the previous week
            q -= 1
            r = tb.week_total
        i = bisect_left(tb.upto, r)
        return q * _WEEK_US + tb.starts[i] + (r - tb.before[i])

    def _add_us(self, u: int, remaining: int) -> int:
        """Earliest real instant at which ``remaining`` µs of business time after ``u`` elapsed."""
        hi = u + _WEEK_US
        while True:
            snap = self._timeline.covering(u, hi)
            target = _real_business_at(self, snap, u) + remaining
            # The last transition before which the target is not yet reached fixes the offset.
            k = bisect_left(snap.fvals, target) - 1
            if k < 0:
                due = self._wall_reaching(target) - snap.off_first
            else:
                due = self._wall_reaching(target + snap.cum[k]) - snap.offs[k]
            if due <= snap.hi:
                return due
            hi = due  # transitions beyond the covered years may matter: cover them and redo

    def _between_us(self, ua: int, ub: int) -> int:
        snap = self._timeline.covering(ua, ub)
        return _real_business_at(self, snap, ub) - _real_business_at(self, snap, ua)


def _real_business_at(calendar: BusinessCalendar, snap: _Snapshot, u: int) -> int:
    """``F(u)``: business µs up to real instant ``u`` (origin fixed by the snapshot)."""
    k = bisect_right(snap.times, u) - 1
    if k < 0:
        return calendar._business_at(u + snap.off_first)
    return calendar._business_at(u + snap.offs[k]) - snap.cum[k]


def _total_removed(tb: _Tables) -> int:
    if not tb.g_starts:
        return 0
    return tb.g_removed_before[-1] + tb.g_ends[-1] - tb.g_starts[-1]


def _weekly(tb: _Tables, w: int) -> int:
    """Business µs from the base Monday up to wall instant ``w``, ignoring holidays."""
    q, r = divmod(w, _WEEK_US)
    i = bisect_right(tb.starts, r) - 1
    if i < 0:
        return q * tb.week_total
    return q * tb.week_total + tb.before[i] + min(r - tb.starts[i], tb.ends[i] - tb.starts[i])


def _utc_us(value: datetime, field: str) -> int:
    """An aware datetime as integer µs since the base Monday (UTC); naive is refused."""
    utc = aware_utc(value, field)
    return (
        (utc.toordinal() - _BASE_ORDINAL) * 86_400 + utc.hour * 3600 + utc.minute * 60 + utc.second
    ) * _US + utc.microsecond


def _from_us(u: int) -> datetime:
    try:
        return _BASE_UTC + timedelta(microseconds=u)
    except OverflowError as err:
        raise InvalidInput("the result lies outside the datetime range (year 1-9999)") from err
