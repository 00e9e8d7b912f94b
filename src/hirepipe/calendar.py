"""Business days: holiday data from ``holidays``, arithmetic from numpy, local dates from pendulum.

The one layer of hirepipe that imports numpy and ``holidays``. Conventions, the same for every
method and for the array forms:

- A **business day** is a day whose weekday is in the weekmask and that is not a public holiday
  (observed days included), an extra holiday or a shutdown day. A weekend day that the country
  works (a transferred working day, ``holidays``' ``weekend_workdays``) or that the company names
  in ``working_days`` is a business day too. Precedence: ``working_days``, then shutdown days and
  extra holidays, then national working weekends, then public holidays, then the weekmask.
- **Counting is half-open**: ``business_days_between(a, b)`` counts the business days in
  ``[a, b)`` (``a`` counts if it is one, ``b`` never does), and is negative when ``b < a``:
  ``-business_days_between(b, a)``. This is numpy's ``busday_count``.
- **Adding rolls forward first**: ``add_business_days(d, n)`` starts from ``d`` if it is a business
  day, else from the next one, then moves ``n`` business days (back when ``n < 0``). This is numpy's
  ``busday_offset(..., roll="forward")``. So for every ``d`` and ``n``,
  ``business_days_between(d, add_business_days(d, n)) == n``; a Saturday plus 1 is the Tuesday.
  For "the first business day after ``d``" use ``next_business_day(d)``.
- **Local dates**: an aware datetime is converted to the calendar's time zone first and its local
  date is what counts (23:30 in Los Angeles is still that day there). A naive datetime is refused.
  Output follows input: a date gives a ``pendulum.Date``; a datetime gives a ``pendulum.DateTime``
  in the calendar's time zone at the same local wall-clock time on the resulting day.
- Dates must fall in the years 1900 to 2200.
"""

from __future__ import annotations

import datetime as _dt
import operator
import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, overload

import holidays
import numpy as np
import numpy.typing as npt
import pendulum

from hirepipe.errors import CalendarError

__all__ = ["BusinessCalendar", "Roll"]

Roll = Literal["forward", "backward"]
"""Which way ``BusinessCalendar.roll`` moves a day that is not a business day."""

DayArray = npt.NDArray[np.datetime64]
_DAY = np.dtype("datetime64[D]")
_EPOCH = _dt.date(1970, 1, 1).toordinal()  # datetime64[D] counts days from 1970-01-01
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
_ONE_DAY = _dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class _Table:
    """One immutable snapshot of loaded years; replaced whole, so readers need no lock."""

    first: _dt.date  # numpy's answers are right for dates in [first, end): a year inside the load
    end: _dt.date
    first64: np.datetime64
    end64: np.datetime64
    busdaycal: np.busdaycalendar
    worked: frozenset[int]  # ordinals of worked days numpy counts as off (weekend days)
    worked_sorted: tuple[int, ...]
    worked64: DayArray
    worked_ranks: npt.NDArray[np.int64]  # business days before each worked day, from first64
    names: dict[_dt.date, str]
    shifts: frozenset[int]  # ordinals of days the time zone changes its UTC offset


class BusinessCalendar:
    """Business-day arithmetic for one country (and subdivision) in one time zone.

    ``country`` and ``subdiv`` are codes ``holidays`` knows (``"US"``, ``"CA"``); ``time_zone``
    is an IANA name whose local dates count. ``weekmask`` is numpy's (``"1111100"``,
    ``"Mon Tue Wed Thu Fri"`` or seven 0/1 values from Monday); by default the country's weekend
    as ``holidays`` knows it (Friday and Saturday in Saudi Arabia). ``extra_holidays`` and
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
        self.country = country
        self.subdiv = subdiv
        self.time_zone = time_zone
        try:
            self._tz = pendulum.timezone(time_zone)
        except (ValueError, TypeError, AttributeError) as exc:  # InvalidTimezone is a ValueError
            raise CalendarError(
                f"unknown time zone {time_zone!r}; use an IANA name like 'America/Los_Angeles'"
            ) from exc
        if weekmask is None:  # the country's weekend: holidays knows Fri-Sat, Fri-only and more
            weekend = _load_holidays(country, subdiv, ()).weekend
            weekmask = [0 if day in weekend else 1 for day in range(7)]
        else:
            _load_holidays(country, subdiv, ())  # fail now, not at the first question
        try:
            mask = np.busdaycalendar(weekmask=weekmask).weekmask
        except (ValueError, TypeError) as exc:
            raise CalendarError(
                f"bad weekmask {weekmask!r}: {exc}; give at least one working day as"
                " '1111100', 'Mon Tue Wed Thu Fri' or seven 0/1 values from Monday"
            ) from exc
        self.weekmask: str = "".join("1" if on else "0" for on in mask)
        self._extra = frozenset(self._day_of(d) for d in extra_holidays)
        self._shutdown = frozenset(self._day_of(d) for d in shutdown_days)
        self._working = frozenset(self._day_of(d) for d in working_days)
        if clash := sorted(self._working & (self._extra | self._shutdown)):
            days = ", ".join(d.isoformat() for d in clash)
            raise CalendarError(f"days both worked and off: {days}; keep each in one list")
        self._lock = threading.Lock()
        never = _dt.date.min  # an empty window: the first call loads the years it needs
        self._table = _Table(
            never, never, np.datetime64("NaT", "D"), np.datetime64("NaT", "D"),
            np.busdaycalendar(weekmask=mask), frozenset(), (), np.array([], dtype=_DAY),
            np.array([], dtype=np.int64), {}, frozenset(),
        )  # fmt: skip

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
        day, _ = self._split(when)
        return pendulum.Date(day.year, day.month, day.day)

    def is_business_day(self, when: _dt.date) -> bool:
        """Return whether ``when`` (its local date, for a datetime) is a business day."""
        day, _ = self._split(when)
        table = self._table
        if not table.first <= day < table.end:
            table = self._cover(_to64(day), _to64(day))
        ordinal = day.toordinal()
        return ordinal in table.worked or bool(
            np.is_busday(np.datetime64(ordinal - _EPOCH, "D"), busdaycal=table.busdaycal)
        )

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
        day, local = self._split(when)
        return self._join(self._offset(day, _steps(n)), local)

    @overload
    def next_business_day(self, when: _dt.datetime) -> pendulum.DateTime: ...
    @overload
    def next_business_day(self, when: _dt.date) -> pendulum.Date: ...
    def next_business_day(self, when: _dt.date) -> pendulum.Date:
        """Return the first business day strictly after ``when``."""
        day, local = self._split(when)
        return self._join(self._offset(day + _ONE_DAY, 0), local)

    @overload
    def roll(self, when: _dt.datetime, direction: Roll = ...) -> pendulum.DateTime: ...
    @overload
    def roll(self, when: _dt.date, direction: Roll = ...) -> pendulum.Date: ...
    def roll(self, when: _dt.date, direction: Roll = "forward") -> pendulum.Date:
        """Return ``when`` if it is a business day, else the next (or previous) one."""
        day, local = self._split(when)
        if direction == "forward":
            return self._join(self._offset(day, 0), local)
        if direction == "backward":  # the business day before the first one after ``day``
            return self._join(self._offset(day + _ONE_DAY, -1), local)
        raise CalendarError(f"roll direction must be 'forward' or 'backward', not {direction!r}")

    def business_days_between(self, start: _dt.date, stop: _dt.date) -> int:
        """Count the business days in ``[start, stop)``; negative when ``stop`` is before ``start``.

        For any day ``d``: ``business_days_between(d, add_business_days(d, n)) == n``.
        """
        first, _ = self._split(start)
        last, _ = self._split(stop)
        table = self._table
        if not (table.first <= first < table.end and table.first <= last < table.end):
            table = self._cover(_to64(min(first, last)), _to64(max(first, last)))
        a, b = first.toordinal(), last.toordinal()
        count = int(
            np.busday_count(
                np.datetime64(a - _EPOCH, "D"),
                np.datetime64(b - _EPOCH, "D"),
                busdaycal=table.busdaycal,
            )
        )
        if table.worked_sorted:
            count += bisect_left(table.worked_sorted, b) - bisect_left(table.worked_sorted, a)
        return count

    def holidays_between(self, start: _dt.date, stop: _dt.date) -> list[tuple[pendulum.Date, str]]:
        """List the days off in ``[start, stop)`` other than plain weekends, with their names.

        Public holidays (weekend ones too), extra holidays and shutdown days, by date; a public
        holiday listed in ``working_days`` or worked nationally is left out.
        """
        first, _ = self._split(start)
        last, _ = self._split(stop)
        table = self._cover(_to64(first), _to64(max(first, last)))
        return [
            (pendulum.Date(d.year, d.month, d.day), name)
            for d, name in sorted(table.names.items())
            if first <= d < last
        ]

    # -- array forms ----------------------------------------------------------------------------

    def is_business_day_array(self, dates: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Elementwise ``is_business_day`` over local dates given as ``datetime64[D]``."""
        days = _days(dates, "dates")
        table = self._cover_array(days)
        result: npt.NDArray[np.bool_] = np.is_busday(days, busdaycal=table.busdaycal)
        if table.worked_sorted:
            result |= _member(table.worked64, days)
        return result

    def add_business_days_array(self, dates: npt.ArrayLike, n: int | npt.ArrayLike) -> DayArray:
        """Elementwise ``add_business_days`` over ``datetime64[D]`` dates; ``n`` broadcasts."""
        days = _days(dates, "dates")
        steps = np.asarray(n)
        if steps.dtype.kind not in "iu":
            raise CalendarError(f"n must be integers, got dtype {steps.dtype}")
        steps = steps.astype(np.int64, copy=False)  # numpy refuses uint64 offsets
        table = self._cover_array(days)
        while True:
            try:
                result = np.asarray(_shift(table, days, steps))
            except ValueError as exc:  # shapes that do not broadcast
                raise CalendarError(f"dates and n do not fit together: {exc}") from exc
            if result.size == 0 or (table.first64 <= result.min() and result.max() < table.end64):
                return result
            table = self._cover(result.min(), result.max())

    def business_days_between_array(
        self, start: npt.ArrayLike, stop: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Elementwise ``business_days_between`` over ``datetime64[D]`` dates (they broadcast)."""
        first, last = _days(start, "start"), _days(stop, "stop")
        self._cover_array(first)
        table = self._cover_array(last)
        try:
            count: npt.NDArray[np.int64] = np.busday_count(first, last, busdaycal=table.busdaycal)
        except ValueError as exc:
            raise CalendarError(f"start and stop do not fit together: {exc}") from exc
        if table.worked_sorted:
            count += np.searchsorted(table.worked64, last) - np.searchsorted(table.worked64, first)
        return count

    # -- internals ------------------------------------------------------------------------------

    def _split(self, when: _dt.date) -> tuple[_dt.date, _dt.datetime | None]:
        """Return the local date of ``when`` and, for a datetime, its local datetime."""
        if isinstance(when, _dt.datetime):
            if when.tzinfo is self._tz:  # already local: skip pendulum's costly astimezone
                return when.date(), when
            if when.tzinfo is None or when.utcoffset() is None:
                raise CalendarError(
                    f"naive datetime {when.isoformat()}: attach a time zone"
                    " (e.g. pendulum.datetime(..., tz='America/New_York')) so its local date"
                    f" in {self.time_zone} is known"
                )
            local = when.astimezone(self._tz)
            return local.date(), local
        if isinstance(when, _dt.date):
            return when, None
        raise CalendarError(f"expected a date or an aware datetime, got {type(when).__name__}")

    def _day_of(self, when: _dt.date) -> _dt.date:
        day, _ = self._split(when)
        return _dt.date(day.year, day.month, day.day)  # plain dates: they are dictionary keys

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

    def _offset(self, day: _dt.date, steps: int) -> _dt.date:
        """Roll ``day`` forward to a business day, then move ``steps`` business days."""
        start = np.datetime64(day.toordinal() - _EPOCH, "D")
        table = self._table
        if not table.first <= day < table.end:
            table = self._cover(start, start)
        while True:
            result = _shift(table, start, steps).item()
            if isinstance(result, _dt.date) and table.first <= result < table.end:
                return result
            # the answer left the loaded years (or Python's date range): load more and redo
            table = self._cover(start, np.datetime64(result, "D"))

    def _cover_array(self, days: DayArray) -> _Table:
        table = self._table
        if days.size == 0:
            return table
        low, high = days.min(), days.max()
        if np.isnat(low):  # min and max propagate NaT, so this finds any
            raise CalendarError("dates contain NaT; drop or fill the missing dates first")
        if table.first64 <= low and high < table.end64:
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
            if table.first64 <= low and high < table.end64:
                return table  # another thread loaded them meanwhile
            if table.first < table.end:  # grow the loaded years, never shrink them
                first_year = min(first_year, table.first.year)
                last_year = max(last_year, table.end.year - 1)
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
        mask = [on == "1" for on in self.weekmask]
        calendar = np.busdaycalendar(
            weekmask=mask, holidays=np.array(sorted(names), dtype=_DAY).reshape(-1)
        )
        worked = sorted(d for d in self._working | national if not mask[d.weekday()])
        worked64 = np.array(worked, dtype=_DAY).reshape(-1)
        first = _dt.date(first_year + 1, 1, 1)
        first64 = np.datetime64(first, "D")
        ranks = np.busday_count(first64, worked64, busdaycal=calendar) + np.arange(len(worked))
        return _Table(
            first=first,
            end=_dt.date(last_year, 1, 1),
            first64=first64,
            end64=np.datetime64(_dt.date(last_year, 1, 1), "D"),
            busdaycal=calendar,
            worked=frozenset(d.toordinal() for d in worked),
            worked_sorted=tuple(d.toordinal() for d in worked),
            worked64=worked64,
            worked_ranks=ranks.astype(np.int64),
            names=names,
            shifts=_offset_changes(self._tz, first_year, last_year),
        )


def _shift(
    table: _Table, days: DayArray | np.datetime64, steps: int | npt.NDArray[np.integer]
) -> DayArray:
    """Numpy's roll-forward offset, with worked weekend days counted as business days.

    Without worked days this is one ``busday_offset``. With them, count in ranks: a day's rank
    is the number of business days before it (numpy's, plus worked days). Rolling forward keeps
    the rank, so the answer is the business day whose rank is ``rank(day) + steps``: a worked day
    if one has that rank, else numpy's business day with that rank less the worked days before.
    """
    calendar = table.busdaycal
    if not table.worked_sorted:
        return np.busday_offset(days, steps, roll="forward", busdaycal=calendar)
    worked_before = np.searchsorted(table.worked64, days)
    rank = np.busday_count(table.first64, days, busdaycal=calendar) + worked_before + steps
    index = np.searchsorted(table.worked_ranks, rank)
    nearest = np.minimum(index, len(table.worked_ranks) - 1)
    # numpy's day of rank ``rank - index``, reached from ``days`` itself: busday_offset walks
    # every holiday it passes, so a short hop is far cheaper than one from ``first64``
    plain = np.busday_offset(
        days, steps + worked_before - index, roll="forward", busdaycal=calendar
    )
    return np.where(table.worked_ranks[nearest] == rank, table.worked64[nearest], plain)


def _offset_changes(zone: _dt.tzinfo, first_year: int, last_year: int) -> frozenset[int]:
    """Return the ordinals of the days whose midnight offset differs from the next midnight's."""
    first = _dt.date(first_year, 1, 1).toordinal()
    stop = _dt.date(last_year + 1, 1, 1).toordinal()
    offsets = [zone.utcoffset(_dt.datetime.fromordinal(o)) for o in range(first, stop + 1)]
    return frozenset(first + i for i in range(stop - first) if offsets[i] != offsets[i + 1])


def _member(sorted_days: DayArray, days: DayArray) -> npt.NDArray[np.bool_]:
    index = np.minimum(np.searchsorted(sorted_days, days), len(sorted_days) - 1)
    found: npt.NDArray[np.bool_] = sorted_days[index] == days
    return found


def _days(values: npt.ArrayLike, what: str) -> DayArray:
    days = np.asarray(values)
    if days.dtype != _DAY:
        raise CalendarError(
            f"{what} must be local dates as datetime64[D], got dtype {days.dtype}; take each"
            " local date first (BusinessCalendar.local_date), then np.array(..., 'datetime64[D]')"
        )
    return days


def _steps(n: int) -> int:
    try:
        return operator.index(n)
    except TypeError:
        raise CalendarError(f"n must be a whole number of business days, got {n!r}") from None


def _to64(day: _dt.date) -> np.datetime64:
    return np.datetime64(day.toordinal() - _EPOCH, "D")


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
