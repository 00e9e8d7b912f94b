"""Business days: holiday data from ``holidays``, arithmetic from numpy, local dates from pendulum.

The one layer of hirepipe that imports numpy and ``holidays``. Conventions, the same for every
method and for the array forms:

- A **business day** is a day whose weekday is in the weekmask and that is not a public holiday
  (observed days included), an extra holiday or a shutdown day. A weekend day that the country
  works (a transferred working day, ``holidays``' ``weekend_workdays``) or that the company names
  in ``working_days`` is a business day too. Precedence: ``working_days``, then shutdown days and
  extra holidays, then national working weekends, then public holidays, then the weekmask.
- **Counting is half-open**: ``business_days_between(a, b)`` counts the business days in
  ``[a, b)`` (``a`` counts if it is one, ``b`` never does), and is ``-business_days_between(b,
  a)`` when ``b < a``. This is numpy's ``busday_count`` forwards; backwards numpy counts
  ``(b, a]``, which breaks the identity below for a start off a business day, so we shift it.
- **Adding rolls forward first**: ``add_business_days(d, n)`` starts from ``d`` if it is a business
  day, else from the next one, then moves ``n`` business days (back when ``n < 0``). This is numpy's
  ``busday_offset(..., roll="forward")``. So for every ``d`` and ``n``,
  ``business_days_between(d, add_business_days(d, n)) == n``; a Saturday plus 1 is the Tuesday.
  For "the first business day after ``d``" use ``next_business_day(d)``.
- **Local dates**: an aware datetime is converted to the calendar's time zone first and its local
  date is what counts (23:30 in Los Angeles is still that day there). A naive datetime is refused.
  Output follows input: a date gives a ``pendulum.Date``; a datetime gives a ``pendulum.DateTime``
  in the calendar's time zone at the same local wall-clock time on the resulting day.
- **Clock changes**: on a day the zone's clocks change, a skipped wall-clock time moves forward
  and a repeated one takes the later offset, as ``pendulum.datetime`` does.
- The weekend is the country's current one for every year (``holidays`` knows that Saudi Arabia
  had Thursday-Friday before mid-2013; numpy takes one weekmask). Dates must fall in 1900-2200.
"""

from __future__ import annotations

import datetime as _dt
import operator
import threading
import zoneinfo
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Final, Literal, overload

import holidays
import numpy as np
import numpy.typing as npt
import pendulum

from hirepipe.errors import CalendarError

if TYPE_CHECKING:
    from hirepipe.models import Requisition

__all__ = ["BusinessCalendar", "Roll", "calendar_for"]

Roll = Literal["forward", "backward"]
"""Which way ``BusinessCalendar.roll`` moves a day that is not a business day."""

DayArray = npt.NDArray[np.datetime64]
_DAY = np.dtype("datetime64[D]")
_EPOCH = _dt.date(1970, 1, 1).toordinal()  # datetime64[D] counts days from 1970-01-01
_FIRST_YEAR, _LAST_YEAR = 1900, 2200
_ZONES = (zoneinfo.ZoneInfo, _dt.timezone)  # zones that always give an offset (pendulum's too)


@dataclass(frozen=True, slots=True)
class _Table:
    """One immutable snapshot of loaded years; replaced whole, so readers need no lock."""

    lo: int  # numpy's answers are right for ordinals in [lo, hi): a year inside the load
    hi: int
    busdaycal: np.busdaycalendar
    worked: frozenset[int]  # ordinals of worked days numpy counts as off (weekend days)
    worked_sorted: tuple[int, ...]
    worked64: DayArray
    worked_ranks: npt.NDArray[np.int64]  # business days before each worked day, from lo
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
        self.country: Final = country
        self.subdiv: Final = subdiv
        self.time_zone: Final = time_zone
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
        self.weekmask: Final = "".join("1" if on else "0" for on in mask)
        self._extra = frozenset(self._day_of(d) for d in extra_holidays)
        self._shutdown = frozenset(self._day_of(d) for d in shutdown_days)
        self._working = frozenset(self._day_of(d) for d in working_days)
        if clash := sorted(self._working & (self._extra | self._shutdown)):
            days = ", ".join(d.isoformat() for d in clash)
            raise CalendarError(f"days both worked and off: {days}; keep each in one list")
        self._lock = threading.Lock()
        # an empty window: the first call loads the years it needs
        self._table = _Table(
            0, 0, np.busdaycalendar(weekmask=mask), frozenset(), (), np.array([], dtype=_DAY),
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
        return pendulum.Date.fromordinal(self._split(when)[0])

    def is_business_day(self, when: _dt.date) -> bool:
        """Return whether ``when`` (its local date, for a datetime) is a business day."""
        ordinal, _ = self._split(when)
        table = self._table
        if not table.lo <= ordinal < table.hi:
            table = self._cover(_to64(ordinal), _to64(ordinal))
        return ordinal in table.worked or bool(
            np.is_busday(_to64(ordinal), busdaycal=table.busdaycal)
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
        count = int(np.busday_count(_to64(a - back), _to64(b - back), busdaycal=table.busdaycal))
        if table.worked_sorted:
            count += bisect_left(table.worked_sorted, b) - bisect_left(table.worked_sorted, a)
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
        result: npt.NDArray[np.bool_] = np.is_busday(days, busdaycal=table.busdaycal)
        if table.worked_sorted:
            index = np.minimum(np.searchsorted(table.worked64, days), len(table.worked64) - 1)
            result |= table.worked64[index] == days
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
        count: npt.NDArray[np.int64] = np.busday_count(
            first - back, last - back, busdaycal=table.busdaycal
        )
        if table.worked_sorted:
            count += np.searchsorted(table.worked64, last) - np.searchsorted(table.worked64, first)
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
            if table.worked_sorted:
                result = _shift(table, start, steps).item()
            else:  # the usual case, inlined: this is the hot path
                result = np.busday_offset(start, steps, "forward", busdaycal=table.busdaycal).item()
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
        mask = [on == "1" for on in self.weekmask]
        calendar = np.busdaycalendar(
            weekmask=mask, holidays=np.array(sorted(names), dtype=_DAY).reshape(-1)
        )
        worked = sorted(d for d in self._working | national if not mask[d.weekday()])
        worked64 = np.array(worked, dtype=_DAY).reshape(-1)
        lo = _dt.date(first_year + 1, 1, 1).toordinal()
        ranks = np.busday_count(_to64(lo), worked64, busdaycal=calendar) + np.arange(len(worked))
        worked_ordinals = tuple(d.toordinal() for d in worked)
        return _Table(
            lo, _dt.date(last_year, 1, 1).toordinal(), calendar, frozenset(worked_ordinals),
            worked_ordinals, worked64, ranks.astype(np.int64), names,
            _offset_changes(self._tz, first_year, last_year),
        )  # fmt: skip


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
    rank = np.busday_count(_to64(table.lo), days, busdaycal=calendar) + worked_before + steps
    index = np.searchsorted(table.worked_ranks, rank)
    nearest = np.minimum(index, len(table.worked_ranks) - 1)
    # numpy's day of rank ``rank - index``, reached from ``days`` itself: busday_offset walks
    # every holiday it passes, so a short hop is far cheaper than one from ``lo``
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


def _to64(ordinal: int) -> np.datetime64:
    return np.datetime64(ordinal - _EPOCH, "D")


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
