"""Business days: holiday data from ``holidays``, arithmetic from numpy, local dates from pendulum.

```python
calendar = BusinessCalendar("US", time_zone="America/New_York")
calendar.add_business_days(date(2025, 1, 6), 24)  # 2025-02-10
```

One counting convention for every method and the array forms: ``[a, b)``, adding rolls
forward first, local dates in the calendar's zone, weekend eras per country. The conventions
in full: ``docs/business-days.md``.
"""

from __future__ import annotations

import datetime as _dt
import operator
import threading
import zoneinfo
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Literal, cast, overload

import holidays
import numpy as np
import numpy.typing as npt
import pendulum

from hirepipe._fork import renew_in_child
from hirepipe.errors import CalendarError
from hirepipe.timeline._weekends import WeekendEra, weekend_eras

if TYPE_CHECKING:
    from hirepipe.models import Requisition

__all__ = ["EPOCH", "BusinessCalendar", "Roll", "WeekendEra", "calendar_for"]

Roll = Literal["forward", "backward"]
"""Which way ``BusinessCalendar.roll`` moves a day that is not a business day."""

DayArray = npt.NDArray[np.datetime64]
_DAY = np.dtype("datetime64[D]")
EPOCH = _dt.date(1970, 1, 1).toordinal()
"""The ordinal of 1970-01-01: numpy's ``datetime64[D]`` counts days from it."""
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
_ZONES = (zoneinfo.ZoneInfo, _dt.timezone)  # zones that always give an offset (pendulum's too)


@dataclass(frozen=True, slots=True)
class _Span:
    """The loaded days of one weekend era, ``[lo, hi)``: numpy's calendar for them, and more."""

    lo: int
    hi: int
    lo64: np.datetime64
    busdaycal: np.busdaycalendar
    worked_sorted: tuple[int, ...]  # ordinals of worked days numpy counts as off (weekend days)
    worked64: DayArray
    worked_ranks: npt.NDArray[np.int64]  # business days before each worked day, from lo
    size: int  # business days in [lo, hi)


@dataclass(frozen=True, slots=True)
class _Table:
    """One immutable snapshot of loaded years; replaced whole, so readers need no lock."""

    lo: int  # numpy's answers are right for ordinals in [lo, hi): a year inside the load
    hi: int
    one: _Span | None  # the only span, when the loaded years lie in one weekend era
    spans: tuple[_Span, ...]  # by date, covering [lo, hi)
    starts: tuple[int, ...]  # each span's lo
    starts64: DayArray
    ends64: DayArray  # each span's hi
    ranks: tuple[int, ...]  # business days before each span, from lo
    ranks64: npt.NDArray[np.int64]
    worked: frozenset[int]  # every span's worked days
    names: dict[_dt.date, str]
    shifts: frozenset[int]  # ordinals of days the time zone changes its UTC offset


class BusinessCalendar:
    """Business-day arithmetic for one country (and subdivision) in one time zone.

    ``country`` and ``subdiv`` are codes ``holidays`` knows (``"US"``, ``"CA"``); ``time_zone``
    is an IANA name whose local dates count. ``weekmask`` is numpy's (``"1111100"``,
    ``"Mon Tue Wed Thu Fri"`` or seven 0/1 values from Monday) and holds for every year; by
    default the country's weekend eras (``weekend_eras``: Thursday-Friday in Saudi Arabia until
    2013-06-28, Friday-Saturday since), or its weekend as ``holidays`` knows it where it never
    changed. ``weekmask`` is the latest era's. ``extra_holidays`` and
    ``shutdown_days`` are days off, ``working_days`` days worked even on a weekend or holiday.
    Holidays are loaded lazily, one year beyond each side of the dates asked for.
    Raises ``CalendarError`` for an unknown country, subdivision or time zone, a bad weekmask,
    or a day that is both a working day and a day off.
    """

    def __init__(
        self,
        country: str = "US",
        *,
        subdiv: str | None = None,
        time_zone: str = "UTC",
        weekmask: str | Sequence[int] | None = None,
        extra_holidays: Iterable[_dt.date] = (),
        shutdown_days: Iterable[_dt.date] = (),
        working_days: Iterable[_dt.date] = (),
    ) -> None:
        self.country: Final = country
        self.subdiv: Final = subdiv
        self.time_zone: Final = time_zone
        try:
            self._tz = pendulum.timezone(time_zone)
        except (ValueError, TypeError, AttributeError) as exc:  # InvalidTimezone is a ValueError
            raise CalendarError(
                f"unknown time zone {time_zone!r}; use an IANA name like 'America/Los_Angeles'"
            ) from exc
        loaded = _load_holidays(country, subdiv, ())  # fail now, not at the first question
        if weekmask is None:
            eras = weekend_eras(loaded.country, _subdivision_code(loaded, subdiv))
            if eras is None:  # never changed: holidays knows Fri-Sat, Fri-only and more
                mask = "".join("0" if day in loaded.weekend else "1" for day in range(7))
                eras = (WeekendEra(None, mask, "the holidays package's weekend"),)
        else:
            try:
                given = np.busdaycalendar(weekmask=weekmask).weekmask
            except (ValueError, TypeError) as exc:
                raise CalendarError(
                    f"bad weekmask {weekmask!r}: {exc}; give at least one working day as"
                    " '1111100', 'Mon Tue Wed Thu Fri' or seven 0/1 values from Monday"
                ) from exc
            mask = "".join("1" if on else "0" for on in given)
            eras = (WeekendEra(None, mask, "given"),)
        self.weekend_eras: Final[tuple[WeekendEra, ...]] = eras
        self.weekmask: Final = eras[-1].weekmask
        self._era_starts = tuple(era.start.toordinal() for era in eras[1:] if era.start)
        self._extra = frozenset(self._day_of(d) for d in extra_holidays)
        self._shutdown = frozenset(self._day_of(d) for d in shutdown_days)
        self._working = frozenset(self._day_of(d) for d in working_days)
        if clash := sorted(self._working & (self._extra | self._shutdown)):
            days = ", ".join(d.isoformat() for d in clash)
            raise CalendarError(f"days both worked and off: {days}; keep each in one list")
        self._lock = threading.Lock()
        renew_in_child(self)
        # an empty window: the first call loads the years it needs
        self._table = _table(0, 0, [_span(0, 0, self.weekmask, [], [])], {}, frozenset())

    def _after_fork(self) -> None:
        # a forked child's copy of the lock may be held for good by a thread of its parent
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"BusinessCalendar({self.country!r}, subdiv={self.subdiv!r}, "
            f"time_zone={self.time_zone!r}, weekmask={self.weekmask!r}, "
            f"extra_holidays=<{len(self._extra)}>, shutdown_days=<{len(self._shutdown)}>, "
            f"working_days=<{len(self._working)}>)"
        )

    # -- scalar forms ---------------------------------------------------------------------------

    def local_date(self, when: _dt.date) -> pendulum.Date:
        """Return the date ``when`` falls on in the calendar's time zone."""
        return pendulum.Date.fromordinal(self._split(when)[0])

    def is_business_day(self, when: _dt.date) -> bool:
        """Return whether ``when`` (its local date, for a datetime) is a business day."""
        ordinal, _ = self._split(when)
        table = self._table
        if not table.lo <= ordinal < table.hi:
            table = self._cover(_to64(ordinal), _to64(ordinal))
        span = table.one or table.spans[bisect_right(table.starts, ordinal) - 1]
        return ordinal in table.worked or bool(
            np.is_busday(_to64(ordinal), busdaycal=span.busdaycal)
        )

    def weekmask_on(self, when: _dt.date) -> str:
        """Return the weekmask in force on ``when``'s local date (its weekend era's)."""
        ordinal = self._split(when)[0]
        return self.weekend_eras[bisect_right(self._era_starts, ordinal)].weekmask

    @overload
    def add_business_days(self, when: _dt.datetime, n: int) -> pendulum.DateTime: ...
    @overload
    def add_business_days(self, when: _dt.date, n: int) -> pendulum.Date: ...
    def add_business_days(self, when: _dt.date, n: int) -> pendulum.Date:
        """Move ``n`` business days from ``when`` (back if ``n < 0``), rolling forward first.

        A start that is not a business day counts from the next business day, so
        ``business_days_between(when, result) == n`` always holds. Returns the type given:
        a ``pendulum.Date``, or a ``pendulum.DateTime`` at the same local wall-clock time.
        """
        ordinal, local = self._split(when)
        return self._join(self._offset(ordinal, _steps(n)), local)

    @overload
    def next_business_day(self, when: _dt.datetime) -> pendulum.DateTime: ...
    @overload
    def next_business_day(self, when: _dt.date) -> pendulum.Date: ...
    def next_business_day(self, when: _dt.date) -> pendulum.Date:
        """Return the first business day strictly after ``when``."""
        ordinal, local = self._split(when)
        return self._join(self._offset(ordinal + 1, 0), local)

    @overload
    def roll(self, when: _dt.datetime, direction: Roll = ...) -> pendulum.DateTime: ...
    @overload
    def roll(self, when: _dt.date, direction: Roll = ...) -> pendulum.Date: ...
    def roll(self, when: _dt.date, direction: Roll = "forward") -> pendulum.Date:
        """Return ``when`` if it is a business day, else the next (or previous) one."""
        ordinal, local = self._split(when)
        if direction == "forward":
            return self._join(self._offset(ordinal, 0), local)
        if direction == "backward":  # the business day before the first one after ``when``
            return self._join(self._offset(ordinal + 1, -1), local)
        raise CalendarError(f"roll direction must be 'forward' or 'backward', not {direction!r}")

    def business_days_between(self, start: _dt.date, stop: _dt.date) -> int:
        """Count the business days in ``[start, stop)``; negative when ``stop`` is before ``start``.

        For any day ``d``: ``business_days_between(d, add_business_days(d, n)) == n``.
        """
        a, b = self._split(start)[0], self._split(stop)[0]
        back = int(b < a)  # numpy counts (b, a] backwards: a day earlier makes that [b, a)
        table = self._table
        if not (table.lo <= min(a, b) - back and max(a, b) < table.hi):
            table = self._cover(_to64(min(a, b) - back), _to64(max(a, b)))
        span = table.one
        if span is None:  # weekend eras: within one, numpy's alone; across a change, by rank
            span = table.spans[bisect_right(table.starts, min(a, b)) - 1]
            if max(a, b) > span.hi:
                return _rank(table, b) - _rank(table, a)
        count = int(np.busday_count(_to64(a - back), _to64(b - back), busdaycal=span.busdaycal))
        if span.worked_sorted:
            count += bisect_left(span.worked_sorted, b) - bisect_left(span.worked_sorted, a)
        return count

    def holidays_between(self, start: _dt.date, stop: _dt.date) -> list[tuple[pendulum.Date, str]]:
        """List the days off in ``[start, stop)`` other than plain weekends, with their names.

        Public holidays (weekend ones too), extra holidays and shutdown days, by date; a public
        holiday listed in ``working_days`` or worked nationally is left out.
        """
        first, last = self._split(start)[0], self._split(stop)[0]
        table = self._cover(_to64(first), _to64(max(first, last)))
        return [
            (pendulum.Date(d.year, d.month, d.day), name)
            for d, name in sorted(table.names.items())
            if first <= d.toordinal() < last
        ]

    # -- array forms ----------------------------------------------------------------------------

    def is_business_day_array(self, dates: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Elementwise ``is_business_day`` over local dates given as ``datetime64[D]``."""
        days = _days(dates, "dates")
        table = self._cover_array(days)
        if table.one is not None:
            return _is_busday(table.one, days)
        index = _span_index(table, days)
        sole = _sole(index)
        if sole is not None:  # every day in one era: no masks
            return _is_busday(table.spans[sole], days)
        result = np.zeros(days.shape, dtype=np.bool_)
        for k, span in enumerate(table.spans):
            chosen = index == k
            result[chosen] = _is_busday(span, days[chosen])
        return result

    def add_business_days_array(self, dates: npt.ArrayLike, n: int | npt.ArrayLike) -> DayArray:
        """Elementwise ``add_business_days`` over ``datetime64[D]`` dates; ``n`` broadcasts."""
        days = _days(dates, "dates")
        steps = np.asarray(n)
        if steps.dtype.kind not in "iu":
            raise CalendarError(f"n must be integers, got dtype {steps.dtype}")
        steps = steps.astype(np.int64, copy=False)  # numpy refuses uint64 offsets
        try:
            if days.shape != steps.shape:
                days, steps = np.broadcast_arrays(days, steps)
        except ValueError as exc:  # shapes that do not broadcast
            raise CalendarError(f"dates and n do not fit together: {exc}") from exc
        table = self._cover_array(days)
        while True:
            span = table.one
            result = np.asarray(_shift(span, days, steps) if span else _move(table, days, steps))
            if result.size == 0 or (
                _to64(table.lo) <= result.min() and result.max() < _to64(table.hi)
            ):
                return result
            table = self._cover(result.min(), result.max())

    def business_days_between_array(
        self, start: npt.ArrayLike, stop: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Elementwise ``business_days_between`` over ``datetime64[D]`` dates (they broadcast)."""
        first, last = _days(start, "start"), _days(stop, "stop")
        try:
            back = (last < first).astype("timedelta64[D]")  # as in the scalar form: [b, a)
        except ValueError as exc:
            raise CalendarError(f"start and stop do not fit together: {exc}") from exc
        self._cover_array(first - back)
        table = self._cover_array(last - back)
        span = table.one
        if span is None:  # weekend eras: within one, numpy's alone; across a change, by rank
            low = _sole(_span_index(table, np.minimum(first, last)))
            final = cast(DayArray, np.maximum(first, last) - np.timedelta64(1, "D"))
            high = _sole(_span_index(table, final))
            if low is None or low != high:
                return _ranks(table, last) - _ranks(table, first)
            span = table.spans[low]
        count: npt.NDArray[np.int64] = np.busday_count(
            first - back, last - back, busdaycal=span.busdaycal
        )
        if span.worked_sorted:
            count += np.searchsorted(span.worked64, last) - np.searchsorted(span.worked64, first)
        return count

    # -- internals ------------------------------------------------------------------------------

    def _split(self, when: _dt.date) -> tuple[int, _dt.datetime | None]:
        """Return the ordinal of ``when``'s local date and, for a datetime, its local time."""
        if isinstance(when, _dt.datetime):
            zone = when.tzinfo
            if zone is self._tz:
                return when.toordinal(), when
            if zone is None or (not isinstance(zone, _ZONES) and when.utcoffset() is None):
                raise CalendarError(
                    f"naive datetime {when.isoformat()}: attach a time zone"
                    " (e.g. pendulum.datetime(..., tz='America/New_York')) so its local date"
                    f" in {self.time_zone} is known"
                )
            if type(when) is not _dt.datetime:  # pendulum's astimezone is slow: convert a copy
                when = _dt.datetime(
                    when.year, when.month, when.day, when.hour, when.minute, when.second,
                    when.microsecond, tzinfo=zone, fold=when.fold,
                )  # fmt: skip
            local = when.astimezone(self._tz)
            return local.toordinal(), local
        if isinstance(when, _dt.date):
            return when.toordinal(), None
        raise CalendarError(f"expected a date or an aware datetime, got {type(when).__name__}")

    def _day_of(self, when: _dt.date) -> _dt.date:
        return _dt.date.fromordinal(self._split(when)[0])  # plain dates: they are dict keys

    def _join(self, day: _dt.date, local: _dt.datetime | None) -> pendulum.Date:
        """Return ``day`` as a Date, or at ``local``'s wall-clock time when it is given."""
        if local is None:
            return pendulum.Date(day.year, day.month, day.day)
        if day.toordinal() in self._table.shifts:
            # the clocks change that day, so the time may be skipped or repeated: take
            # pendulum's rule (a skipped time moves forward, a repeated one takes the later offset)
            return pendulum.datetime(
                day.year, day.month, day.day, local.hour, local.minute, local.second,
                local.microsecond, tz=self._tz,
            )  # fmt: skip
        return pendulum.DateTime(
            day.year, day.month, day.day, local.hour, local.minute, local.second,
            local.microsecond, tzinfo=self._tz, fold=1,
        )  # fmt: skip

    def _offset(self, ordinal: int, steps: int) -> _dt.date:
        """Roll ``ordinal``'s day forward to a business day, then move ``steps`` business days."""
        start = _to64(ordinal)
        table = self._table
        if not table.lo <= ordinal < table.hi:
            table = self._cover(start, start)
        while True:
            span = table.one
            if span is None:
                result = _move_one(table, ordinal, steps)
            elif span.worked_sorted:
                result = _shift(span, start, steps).item()
            else:  # the usual case, inlined: this is the hot path
                result = np.busday_offset(start, steps, "forward", busdaycal=span.busdaycal).item()
            if isinstance(result, _dt.date) and table.lo <= result.toordinal() < table.hi:
                return result
            # the answer left the loaded years (or Python's date range): load more and redo
            end = np.datetime64(result, "D")
            table = self._cover(min(start, end), max(start, end))

    def _cover_array(self, days: DayArray) -> _Table:
        table = self._table
        if days.size == 0:
            return table
        low, high = days.min(), days.max()
        if np.isnat(low):  # min and max propagate NaT, so this finds any
            raise CalendarError("dates contain NaT; drop or fill the missing dates first")
        if _to64(table.lo) <= low and high < _to64(table.hi):
            return table
        return self._cover(low, high)

    def _cover(self, low: np.datetime64, high: np.datetime64) -> _Table:
        """Return a table answering for ``[low, high]``, loading more years if needed."""
        first_year = int(low.astype("datetime64[Y]").astype(np.int64)) + 1970
        last_year = int(high.astype("datetime64[Y]").astype(np.int64)) + 1970
        if first_year < _FIRST_YEAR or last_year > _LAST_YEAR:
            raise CalendarError(
                f"dates from {low} to {high} are outside the supported years"
                f" {_FIRST_YEAR} to {_LAST_YEAR}"
            )
        with self._lock:
            table = self._table
            if _to64(table.lo) <= low and high < _to64(table.hi):
                return table  # another thread loaded them meanwhile
            if table.lo < table.hi:  # grow the loaded years, never shrink them
                first_year = min(first_year, _dt.date.fromordinal(table.lo).year)
                last_year = max(last_year, _dt.date.fromordinal(table.hi).year - 1)
            self._table = table = self._build(first_year - 1, last_year + 1)
            return table

    def _build(self, first_year: int, last_year: int) -> _Table:
        """Load the holidays of ``first_year`` to ``last_year`` into a fresh table."""
        public = _load_holidays(self.country, self.subdiv, range(first_year, last_year + 1))
        off = self._extra | self._shutdown
        national = {d for d in public.weekend_workdays if first_year <= d.year <= last_year} - off
        names = {d: name for d, name in public.items() if d not in national}
        names.update(dict.fromkeys(self._extra - names.keys(), "extra holiday"))
        names.update(dict.fromkeys(self._shutdown - names.keys(), "company shutdown"))
        for d in self._working:
            names.pop(d, None)
        first = _dt.date(first_year, 1, 1).toordinal()
        stop = _dt.date(last_year + 1, 1, 1).toordinal()
        lo, hi = _dt.date(first_year + 1, 1, 1).toordinal(), _dt.date(last_year, 1, 1).toordinal()
        business = self._working | national  # worked, on a day of the weekend or not
        # the eras in [lo, hi), each a span; the first and last also hold the loaded days
        # outside it, where numpy looks before the answer is found to lie beyond the table
        bounds = [*self._era_starts, stop]
        eras = [
            (max(lo, bounds[k - 1] if k else first), min(hi, bounds[k]), era.weekmask)
            for k, era in enumerate(self.weekend_eras)
            if (bounds[k - 1] if k else first) < hi and lo < bounds[k]
        ]
        spans = []
        for k, (span_lo, span_hi, mask) in enumerate(eras):
            data_lo = first if k == 0 else span_lo
            data_hi = stop if k == len(eras) - 1 else span_hi
            mine = [d for d in sorted(names) if data_lo <= d.toordinal() < data_hi]
            worked = sorted(
                d
                for d in business
                if data_lo <= d.toordinal() < data_hi and mask[d.weekday()] == "0"
            )
            spans.append(_span(span_lo, span_hi, mask, mine, worked))
        return _table(lo, hi, spans, names, _offset_changes(self._tz, first_year, last_year))


def _span(lo: int, hi: int, mask: str, days_off: list[_dt.date], worked: list[_dt.date]) -> _Span:
    """One era's span ``[lo, hi)``: its numpy calendar, worked weekend days and their ranks."""
    calendar = np.busdaycalendar(
        weekmask=[on == "1" for on in mask], holidays=np.array(days_off, dtype=_DAY).reshape(-1)
    )
    worked64 = np.array(worked, dtype=_DAY).reshape(-1)
    lo64 = _to64(lo)
    ranks = np.busday_count(lo64, worked64, busdaycal=calendar) + np.arange(len(worked))
    ordinals = tuple(d.toordinal() for d in worked)
    inside = bisect_left(ordinals, hi) - bisect_left(ordinals, lo)
    size = int(np.busday_count(lo64, _to64(hi), busdaycal=calendar)) + inside if hi > lo else 0
    return _Span(lo, hi, lo64, calendar, ordinals, worked64, ranks.astype(np.int64), size)


def _table(
    lo: int, hi: int, spans: list[_Span], names: dict[_dt.date, str], shifts: frozenset[int]
) -> _Table:
    """The loaded years: their spans, where each begins and how many business days precede it."""
    ranks = [0]
    for span in spans[:-1]:
        ranks.append(ranks[-1] + span.size)
    starts = tuple(span.lo for span in spans)
    return _Table(
        lo, hi, spans[0] if len(spans) == 1 else None, tuple(spans), starts,
        np.array([_to64(o) for o in starts], dtype=_DAY),
        np.array([_to64(o) for o in (*starts[1:], hi)], dtype=_DAY),
        tuple(ranks), np.array(ranks, dtype=np.int64),
        frozenset(o for span in spans for o in span.worked_sorted), names, shifts,
    )  # fmt: skip


def _shift(
    span: _Span, days: DayArray | np.datetime64, steps: int | npt.NDArray[np.integer]
) -> DayArray:
    """Numpy's roll-forward offset within one era, with worked weekend days as business days.

    Without worked days this is one ``busday_offset``. With them, count in ranks: a day's rank
    is the number of business days before it (numpy's, plus worked days). Rolling forward keeps
    the rank, so the answer is the business day whose rank is ``rank(day) + steps``: a worked day
    if one has that rank, else numpy's business day with that rank less the worked days before.
    """
    calendar = span.busdaycal
    if not span.worked_sorted:
        return np.busday_offset(days, steps, roll="forward", busdaycal=calendar)
    worked_before = np.searchsorted(span.worked64, days)
    rank = np.busday_count(span.lo64, days, busdaycal=calendar) + worked_before + steps
    index = np.searchsorted(span.worked_ranks, rank)
    nearest = np.minimum(index, len(span.worked_ranks) - 1)
    # numpy's day of rank ``rank - index``, reached from ``days`` itself: busday_offset walks
    # every holiday it passes, so a short hop is far cheaper than one from ``lo``
    plain = np.busday_offset(
        days, steps + worked_before - index, roll="forward", busdaycal=calendar
    )
    return np.where(span.worked_ranks[nearest] == rank, span.worked64[nearest], plain)


def _is_busday(span: _Span, days: DayArray) -> npt.NDArray[np.bool_]:
    """Elementwise: is each day, inside ``span``, a business day."""
    result: npt.NDArray[np.bool_] = np.is_busday(days, busdaycal=span.busdaycal)
    if span.worked_sorted:
        index = np.minimum(np.searchsorted(span.worked64, days), len(span.worked64) - 1)
        result |= span.worked64[index] == days
    return result


def _span_index(table: _Table, days: DayArray) -> npt.NDArray[np.intp]:
    """The index of the span holding each day (days in ``[lo, hi]``; ``hi`` is the last's)."""
    return np.searchsorted(table.starts64, days, side="right") - 1


def _rank(table: _Table, ordinal: int) -> int:
    """The business days in ``[table.lo, ordinal)``, each era counted with its own calendar."""
    k = bisect_right(table.starts, ordinal) - 1
    span = table.spans[k]
    count = int(np.busday_count(span.lo64, _to64(ordinal), busdaycal=span.busdaycal))
    if span.worked_sorted:
        worked = span.worked_sorted
        count += bisect_left(worked, ordinal) - bisect_left(worked, span.lo)
    return int(table.ranks[k] + count)


def _ranks(table: _Table, days: DayArray) -> npt.NDArray[np.int64]:
    """Elementwise ``_rank``, era by era."""
    flat = days.reshape(-1)
    index = _span_index(table, flat)
    ranks = table.ranks64[index]
    sole = _sole(index)
    for k, span in enumerate(table.spans):
        if sole is not None and k != sole:
            continue
        chosen = index == k if sole is None else slice(None)  # every day in one era: no mask
        part = flat[chosen]
        count = np.busday_count(span.lo64, part, busdaycal=span.busdaycal)
        if span.worked_sorted:
            count += np.searchsorted(span.worked64, part) - bisect_left(span.worked_sorted, span.lo)
        ranks[chosen] += count
    return ranks.reshape(days.shape)


def _sole(index: npt.NDArray[np.intp]) -> int | None:
    """The one span every day lies in, if they all lie in one."""
    if index.size and index.min() == index.max():
        return int(index[0])
    return None


def _move_one(table: _Table, ordinal: int, steps: int) -> _dt.date | int | None:
    """``_move`` for one day: numpy's within the day's era, else by rank."""
    span = table.spans[bisect_right(table.starts, ordinal) - 1]
    result: _dt.date | int | None = _shift(span, _to64(ordinal), steps).item()
    if isinstance(result, _dt.date) and span.lo <= result.toordinal() < span.hi:
        return result
    rank = _rank(table, ordinal) + steps
    k = min(max(bisect_right(table.ranks, rank) - 1, 0), len(table.spans) - 1)
    holder = table.spans[k]
    found: _dt.date | int | None = _shift(holder, holder.lo64, rank - table.ranks[k]).item()
    return found


def _move(
    table: _Table, days: DayArray | np.datetime64, steps: int | npt.NDArray[np.integer]
) -> DayArray:
    """``_shift`` across weekend eras (``days`` and ``steps`` of one shape).

    Each day moves within its own era with numpy; a move that leaves the era is redone by
    rank: the business day with ``rank(day) + steps`` business days before it, found in the
    era that holds that rank. An answer beyond the table comes back for the caller to load.
    """
    shape = np.shape(days)
    flat = np.asarray(days).reshape(-1)
    moves = np.broadcast_to(np.asarray(steps), shape).reshape(-1)
    index = _span_index(table, flat)
    sole = _sole(index)
    if sole is not None:  # every day in one era: no masks
        result = np.asarray(_shift(table.spans[sole], flat, moves))
    else:
        result = np.empty(flat.shape, dtype=_DAY)
        for k, span in enumerate(table.spans):
            chosen = index == k
            if chosen.any():
                result[chosen] = _shift(span, flat[chosen], moves[chosen])
    crossing = (result < table.starts64[index]) | (result >= table.ends64[index])
    if crossing.any():
        ranks = _ranks(table, flat[crossing]) + moves[crossing]
        holder = np.clip(
            np.searchsorted(table.ranks64, ranks, side="right") - 1, 0, len(table.spans) - 1
        )
        found = np.empty(ranks.shape, dtype=_DAY)
        for k, span in enumerate(table.spans):
            chosen = holder == k
            if chosen.any():  # the day of that rank, from the era's first day
                found[chosen] = _shift(span, span.lo64, ranks[chosen] - table.ranks[k])
        result[crossing] = found
    return result.reshape(shape)


def _subdivision_code(loaded: holidays.HolidayBase, subdiv: str | None) -> str | None:
    """The subdivision's code (``"01"`` for Malaysia's ``"Johor"`` or ``"JHR"``)."""
    if subdiv is None:
        return None
    for code, aliases in loaded.get_subdivision_aliases().items():
        if subdiv in aliases:
            return str(code)
    return subdiv


def _offset_changes(zone: _dt.tzinfo, first_year: int, last_year: int) -> frozenset[int]:
    """Return the ordinals of the days whose midnight offset differs from the next midnight's."""
    first = _dt.date(first_year, 1, 1).toordinal()
    stop = _dt.date(last_year + 1, 1, 1).toordinal()
    offsets = [zone.utcoffset(_dt.datetime.fromordinal(o)) for o in range(first, stop + 1)]
    return frozenset(first + i for i in range(stop - first) if offsets[i] != offsets[i + 1])


def _days(values: npt.ArrayLike, what: str) -> DayArray:
    days = np.asarray(values)
    if days.dtype != _DAY:
        raise CalendarError(
            f"{what} must be local dates as datetime64[D], got dtype {days.dtype}; take each"
            " local date first (BusinessCalendar.local_date), then np.array(..., 'datetime64[D]')"
        )
    return days


_MOST_STEPS = (_LAST_YEAR - _FIRST_YEAR + 1) * 366  # more days than the supported years hold


def _steps(n: int) -> int:
    try:
        if isinstance(n, bool):  # True is no count of days: it was taken as 1
            raise TypeError
        steps = operator.index(n)
    except TypeError:
        raise CalendarError(f"n must be a whole number of business days, got {n!r}") from None
    if abs(steps) > _MOST_STEPS:
        # numpy's OverflowError ("Python int too large to convert to C long") said nothing
        # of n; a move this long leaves the supported years wherever it starts
        raise CalendarError(
            f"n={steps if steps.bit_length() <= 256 else 'a number of hundreds of digits'} "
            f"business days leaves the supported years {_FIRST_YEAR} to {_LAST_YEAR}: "
            f"move at most {_MOST_STEPS} business days"
        )
    return steps


def _to64(ordinal: int) -> np.datetime64:
    return np.datetime64(ordinal - EPOCH, "D")


def _load_holidays(country: str, subdiv: str | None, years: Iterable[int]) -> holidays.HolidayBase:
    """Return ``holidays``' observed public holidays, or raise CalendarError naming valid codes."""
    try:
        return holidays.country_holidays(country, subdiv=subdiv, years=years)
    except (NotImplementedError, TypeError, ValueError, AttributeError, KeyError) as exc:
        supported = holidays.list_supported_countries()
        if country not in supported:
            raise CalendarError(
                f"unknown country {country!r}: use a code holidays knows, e.g. 'US', 'GB',"
                " 'DE' (holidays.list_supported_countries() lists them)"
            ) from exc
        valid = ", ".join(supported[country]) or "none"
        raise CalendarError(
            f"unknown subdivision {subdiv!r} of {country!r}; valid subdivisions: {valid}"
        ) from exc


def calendar_for(requisition: Requisition) -> BusinessCalendar:
    """Return the calendar of the requisition's country, subdivision and time zone.

    Building a calendar loads holiday data, so one per place is built and kept.
    """
    return _calendar(requisition.country, requisition.subdivision, requisition.time_zone)


@lru_cache(maxsize=128)
def _calendar(country: str, subdivision: str | None, time_zone: str) -> BusinessCalendar:
    return BusinessCalendar(country, subdiv=subdivision, time_zone=time_zone)
