"""Tests for the business-day calendar: known dates, conventions, errors, properties."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import holidays
import numpy as np
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirepipe.errors import CalendarError
from hirepipe.timeline.calendar import BusinessCalendar, WeekendEra
from tests.forks import child_status

D = dt.date
LA = "America/Los_Angeles"

# Built once: a calendar and an independent holidays object for each country the properties cover.
CASES = {
    "US": ("US", None),
    "US-CA": ("US", "CA"),
    "GB": ("GB", None),
    "DE": ("DE", None),
    "FR": ("FR", None),
    "IL": ("IL", None),  # Friday-Saturday weekend
    "RU": ("RU", None),  # transferred working Saturdays
}
CALENDARS = {key: BusinessCalendar(c, subdiv=s) for key, (c, s) in CASES.items()}
REFERENCES = {
    key: holidays.country_holidays(c, subdiv=s, years=range(1998, 2043))
    for key, (c, s) in CASES.items()
}
US = CALENDARS["US"]


Eras = tuple[WeekendEra, ...]


def naive_weekend(eras: Eras, day: dt.date) -> bool:
    """Whether the era in force on ``day`` rests on its weekday: a plain scan of the eras."""
    mask = eras[0].weekmask
    for era in eras:
        if era.start is not None and era.start <= day:
            mask = era.weekmask
    return mask[day.weekday()] == "0"


def naive_is_workday(reference: holidays.HolidayBase, day: dt.date, eras: Eras = ()) -> bool:
    """Weekday and holiday membership, straight from holidays (or ``eras``), one day at a time."""
    weekend = naive_weekend(eras, day) if eras else day.weekday() in reference.weekend
    if weekend:
        return day in reference.weekend_workdays
    return day not in reference


def naive_add(reference: holidays.HolidayBase, day: dt.date, n: int, eras: Eras = ()) -> dt.date:
    """Roll forward to a workday, then walk ``n`` workdays one day at a time."""
    one = dt.timedelta(days=1)
    while not naive_is_workday(reference, day, eras):
        day += one
    step = one if n >= 0 else -one
    for _ in range(abs(n)):
        day += step
        while not naive_is_workday(reference, day, eras):
            day += step
    return day


def naive_between(
    reference: holidays.HolidayBase, start: dt.date, stop: dt.date, eras: Eras = ()
) -> int:
    """Count the workdays in [start, stop) one day at a time; negative when stop < start."""
    if stop < start:
        return -naive_between(reference, stop, start, eras)
    days = (stop - start).days
    return sum(naive_is_workday(reference, start + dt.timedelta(days=k), eras) for k in range(days))


def day64(*days: dt.date) -> np.ndarray:
    return np.array(days, dtype="datetime64[D]")


countries = st.sampled_from(sorted(CASES))
dates = st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31))
steps = st.integers(min_value=-60, max_value=60)


class TestKnownDates:
    def test_us_2025_01_06_plus_24(self):
        """2025-01-06 plus 24 US business days is 2025-02-10 (MLK Day is skipped)."""
        assert D(2025, 2, 10) == US.add_business_days(D(2025, 1, 6), 24)

    def test_us_2022_new_year_observed_on_2021_12_31(self):
        """New Year's Day 2022 fell on a Saturday and was observed on Friday 2021-12-31."""
        assert False is US.is_business_day(D(2021, 12, 31))
        assert D(2022, 1, 3) == US.add_business_days(D(2021, 12, 30), 1)

    def test_subdivision_holiday(self):
        """Cesar Chavez Day (2025-03-31) is a holiday in California, not in the whole US."""
        assert (True, False) == (
            US.is_business_day(D(2025, 3, 31)),
            CALENDARS["US-CA"].is_business_day(D(2025, 3, 31)),
        )

    @pytest.mark.parametrize(
        ("country", "weekmask", "off", "on"),
        [
            ("IL", "1111001", D(2025, 1, 3), D(2025, 1, 5)),
            ("SA", "1111001", D(2025, 1, 10), D(2025, 1, 12)),
            ("IR", "1111011", D(2025, 1, 3), D(2025, 1, 4)),
        ],
        ids=["israel-fri-sat", "saudi-arabia-fri-sat", "iran-fri"],
    )
    def test_country_weekend_is_the_default_weekmask(self, country, weekmask, off, on):
        """The weekmask defaults to the country's weekend as holidays knows it."""
        calendar = BusinessCalendar(country)
        assert (weekmask, False, True) == (
            calendar.weekmask,
            calendar.is_business_day(off),
            calendar.is_business_day(on),
        )

    def test_holidays_between_lists_days_off_with_names(self):
        """holidays_between lists public holidays in [start, stop), observed days included."""
        expected = [
            (D(2021, 12, 24), "Christmas Day (observed)"),
            (D(2021, 12, 25), "Christmas Day"),
            (D(2021, 12, 31), "New Year's Day (observed)"),
            (D(2022, 1, 1), "New Year's Day"),
        ]
        assert expected == US.holidays_between(D(2021, 12, 20), D(2022, 1, 17))


class TestWorkingWeekends:
    def test_national_working_saturday(self):
        """Russia worked Saturday 2024-04-27 to bridge to the May holidays."""
        ru = CALENDARS["RU"]
        assert (True, D(2024, 4, 27), D(2024, 5, 2), 2) == (
            ru.is_business_day(D(2024, 4, 27)),
            ru.add_business_days(D(2024, 4, 26), 1),
            ru.add_business_days(D(2024, 4, 27), 1),
            ru.business_days_between(D(2024, 4, 26), D(2024, 5, 2)),
        )

    def test_explicit_working_day_on_a_weekend(self):
        """A Saturday in working_days counts, in every method and array form."""
        calendar = BusinessCalendar("US", working_days=[D(2025, 1, 11)])
        saturday = D(2025, 1, 11)
        assert (True, saturday, D(2025, 1, 10), 2, saturday) == (
            calendar.is_business_day(saturday),
            calendar.add_business_days(D(2025, 1, 10), 1),
            calendar.add_business_days(D(2025, 1, 13), -2),
            calendar.business_days_between(D(2025, 1, 10), D(2025, 1, 13)),
            calendar.next_business_day(D(2025, 1, 10)),
        )
        assert (
            day64(saturday).tolist()
            == calendar.add_business_days_array(day64(D(2025, 1, 10)), 1).tolist()
        )
        assert [2] == calendar.business_days_between_array(
            day64(D(2025, 1, 10)), day64(D(2025, 1, 13))
        ).tolist()
        assert [True] == calendar.is_business_day_array(day64(saturday)).tolist()

    def test_explicit_working_day_on_a_holiday(self):
        """A public holiday in working_days is worked and no longer listed as a holiday."""
        calendar = BusinessCalendar("US", working_days=[D(2025, 1, 20)])
        assert (True, []) == (
            calendar.is_business_day(D(2025, 1, 20)),
            calendar.holidays_between(D(2025, 1, 15), D(2025, 1, 25)),
        )

    def test_shutdown_beats_national_working_saturday(self):
        """A company shutdown on a nationally worked Saturday is a day off."""
        calendar = BusinessCalendar("RU", shutdown_days=[D(2024, 4, 27)])
        assert (False, D(2024, 5, 2)) == (
            calendar.is_business_day(D(2024, 4, 27)),
            calendar.add_business_days(D(2024, 4, 26), 1),
        )


class TestCompanyDays:
    CALENDAR = BusinessCalendar(
        "US",
        extra_holidays=[D(2025, 1, 7)],
        shutdown_days=[D(2025, 12, 29), D(2025, 12, 30), D(2025, 12, 31)],
    )

    @pytest.mark.parametrize(
        ("start", "n", "expected"),
        [
            (D(2025, 1, 6), 1, D(2025, 1, 8)),
            (D(2025, 12, 24), 1, D(2025, 12, 26)),
            (D(2025, 12, 26), 1, D(2026, 1, 2)),
            (D(2026, 1, 2), -1, D(2025, 12, 26)),
        ],
        ids=["extra-holiday", "christmas", "shutdown-then-new-year", "back-over-shutdown"],
    )
    def test_days_off_are_skipped(self, start, n, expected):
        """Extra holidays and shutdown days are skipped like public holidays."""
        assert expected == self.CALENDAR.add_business_days(start, n)

    def test_holidays_between_names_company_days(self):
        """Company days off are listed with their own names."""
        expected = [
            (D(2025, 12, 25), "Christmas Day"),
            (D(2025, 12, 29), "company shutdown"),
            (D(2025, 12, 30), "company shutdown"),
            (D(2025, 12, 31), "company shutdown"),
            (D(2026, 1, 1), "New Year's Day"),
        ]
        assert expected == self.CALENDAR.holidays_between(D(2025, 12, 20), D(2026, 1, 5))
        assert [(D(2025, 1, 7), "extra holiday")] == self.CALENDAR.holidays_between(
            D(2025, 1, 6), D(2025, 1, 8)
        )

    @pytest.mark.parametrize(
        ("weekmask", "start", "expected"),
        [
            ("Mon Tue Wed Thu", D(2025, 1, 9), D(2025, 1, 13)),
            ("1111110", D(2025, 1, 10), D(2025, 1, 11)),
            ([1, 1, 1, 1, 1, 1, 0], D(2025, 1, 10), D(2025, 1, 11)),
        ],
        ids=["four-day-week-names", "six-day-week-string", "six-day-week-list"],
    )
    def test_custom_weekmask(self, weekmask, start, expected):
        """A custom weekmask replaces the country's weekend."""
        assert expected == BusinessCalendar("US", weekmask=weekmask).add_business_days(start, 1)


class TestConventions:
    @pytest.mark.parametrize(
        ("start", "n", "expected"),
        [
            (D(2025, 1, 6), 0, D(2025, 1, 6)),
            (D(2025, 1, 4), 0, D(2025, 1, 6)),
            (D(2025, 1, 4), 1, D(2025, 1, 7)),
            (D(2025, 1, 4), -1, D(2025, 1, 3)),
            (D(2025, 2, 10), -24, D(2025, 1, 6)),
            (D(2025, 1, 10), -5, D(2025, 1, 3)),
            (D(2025, 1, 2), -1, D(2024, 12, 31)),
        ],
        ids=[
            "zero-on-business-day",
            "zero-rolls-forward",
            "saturday-plus-one-is-tuesday",
            "saturday-minus-one-is-friday",
            "negative-24",
            "negative-week",
            "negative-over-new-year",
        ],
    )
    def test_add_rolls_forward_then_moves(self, start, n, expected):
        """add_business_days rolls a non-business start forward, then moves n (n < 0 too)."""
        assert expected == US.add_business_days(start, n)

    @pytest.mark.parametrize(
        ("start", "stop", "expected"),
        [
            (D(2025, 1, 6), D(2025, 1, 6), 0),
            (D(2025, 1, 6), D(2025, 1, 7), 1),
            (D(2025, 1, 3), D(2025, 1, 6), 1),
            (D(2025, 1, 4), D(2025, 1, 6), 0),
            (D(2025, 1, 7), D(2025, 1, 6), -1),
            (D(2025, 2, 10), D(2025, 1, 6), -24),
            (D(2025, 1, 4), D(2025, 1, 3), -1),
            (D(2025, 1, 6), D(2025, 1, 3), -1),
        ],
        ids=[
            "same-day",
            "one-day",
            "friday-to-monday",
            "weekend",
            "backwards",
            "backwards-24",
            "saturday-back-to-friday",
            "monday-back-to-friday",
        ],
    )
    def test_between_is_half_open(self, start, stop, expected):
        """business_days_between counts [start, stop), negative when stop < start."""
        assert expected == US.business_days_between(start, stop)

    @pytest.mark.parametrize(
        ("day", "forward", "backward", "following"),
        [
            (D(2025, 1, 6), D(2025, 1, 6), D(2025, 1, 6), D(2025, 1, 7)),
            (D(2025, 1, 4), D(2025, 1, 6), D(2025, 1, 3), D(2025, 1, 6)),
            (D(2025, 1, 3), D(2025, 1, 3), D(2025, 1, 3), D(2025, 1, 6)),
            (D(2025, 1, 1), D(2025, 1, 2), D(2024, 12, 31), D(2025, 1, 2)),
        ],
        ids=["monday", "saturday", "friday", "new-year"],
    )
    def test_roll_and_next(self, day, forward, backward, following):
        """Roll keeps a business day; next_business_day is strictly after."""
        assert (forward, backward, following) == (
            US.roll(day, "forward"),
            US.roll(day, "backward"),
            US.next_business_day(day),
        )

    @pytest.mark.parametrize(
        "when",
        [D(2025, 1, 6), pendulum.Date(2025, 1, 6)],
        ids=["date", "pendulum-date"],
    )
    def test_date_in_gives_pendulum_date_out(self, when):
        """A date in gives a pendulum.Date out, from every method that returns a day."""
        results = [
            US.add_business_days(when, 1),
            US.next_business_day(when),
            US.roll(when),
            US.local_date(when),
        ]
        assert [pendulum.Date] * 4 == [type(r) for r in results]


class TestTimeZones:
    CALENDAR = BusinessCalendar("US", subdiv="CA", time_zone=LA)
    FRIDAY_NIGHT = pendulum.datetime(2025, 1, 10, 23, 30, tz=LA)  # Saturday 07:30 in UTC

    @pytest.mark.parametrize(
        "when",
        [FRIDAY_NIGHT, FRIDAY_NIGHT.in_tz("UTC"), dt.datetime(2025, 1, 11, 7, 30, tzinfo=dt.UTC)],
        ids=["pendulum-local", "pendulum-utc", "stdlib-utc"],
    )
    def test_late_evening_counts_on_its_local_date(self, when):
        """23:30 in Los Angeles is Friday there, though Saturday in UTC."""
        expected = pendulum.datetime(2025, 1, 13, 23, 30, tz=LA)
        result = self.CALENDAR.add_business_days(when, 1)
        assert (D(2025, 1, 10), True, expected, LA) == (
            self.CALENDAR.local_date(when),
            self.CALENDAR.is_business_day(when),
            result,
            result.timezone_name,
        )

    def test_utc_calendar_sees_saturday(self):
        """The same instant is a Saturday for a calendar kept in UTC."""
        assert False is US.is_business_day(self.FRIDAY_NIGHT)

    def test_wall_clock_kept_across_dst(self):
        """The result keeps the local wall-clock time when the offset changes in between."""
        start = pendulum.datetime(2025, 3, 7, 9, 0, tz=LA)
        result = self.CALENDAR.add_business_days(start, 1)
        assert (pendulum.datetime(2025, 3, 10, 9, 0, tz=LA), -7 * 3600) == (
            result,
            result.offset,
        )

    @pytest.mark.parametrize(
        ("start", "expected_hour", "expected_offset"),
        [
            (pendulum.datetime(2025, 3, 8, 2, 30, tz=LA), 3, -7),
            (pendulum.datetime(2025, 11, 1, 1, 30, tz=LA), 1, -8),
        ],
        ids=["skipped-hour-moves-forward", "repeated-hour-takes-later-offset"],
    )
    def test_wall_clock_on_the_day_clocks_change(self, start, expected_hour, expected_offset):
        """On a clock-change day the time follows pendulum's rule."""
        every_day = BusinessCalendar("US", time_zone=LA, weekmask="1111111")
        result = every_day.add_business_days(start, 1)
        assert (expected_hour, expected_offset * 3600) == (result.hour, result.offset)

    def test_datetime_in_gives_datetime_out(self):
        """next_business_day and roll keep the local wall-clock time too."""
        saturday_utc = pendulum.datetime(2025, 1, 11, 17, 0, tz="UTC")  # 09:00 in Los Angeles
        assert (
            pendulum.datetime(2025, 1, 13, 9, 0, tz=LA),
            pendulum.datetime(2025, 1, 10, 9, 0, tz=LA),
        ) == (
            self.CALENDAR.next_business_day(saturday_utc),
            self.CALENDAR.roll(saturday_utc, "backward"),
        )

    def test_business_days_between_uses_local_dates(self):
        """Both ends are counted on their local dates."""
        monday = pendulum.datetime(2025, 1, 13, 9, 0, tz=LA)
        assert 1 == self.CALENDAR.business_days_between(self.FRIDAY_NIGHT.in_tz("UTC"), monday)


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"country": "XX"}, "unknown country 'XX'"),
            ({"country": "US", "subdiv": "XX"}, "valid subdivisions: AK, AL"),
            ({"weekmask": "0000000"}, "bad weekmask"),
            ({"weekmask": [0] * 7}, "bad weekmask"),
            ({"weekmask": ""}, "bad weekmask"),
            ({"weekmask": "Mon Funday"}, "bad weekmask"),
            ({"weekmask": [1, 1, 1]}, "bad weekmask"),
            ({"time_zone": "Mars/Olympus_Mons"}, "unknown time zone"),
            (
                {"working_days": [D(2025, 1, 11)], "shutdown_days": [D(2025, 1, 11)]},
                "days both worked and off: 2025-01-11",
            ),
        ],
        ids=[
            "unknown-country",
            "unknown-subdivision",
            "all-zero-weekmask",
            "all-zero-weekmask-list",
            "empty-weekmask",
            "bad-weekmask-string",
            "short-weekmask",
            "unknown-time-zone",
            "worked-and-off",
        ],
    )
    def test_bad_construction(self, kwargs, message):
        """A calendar that cannot work is refused with a message saying why."""
        with pytest.raises(CalendarError, match=message):
            BusinessCalendar(**kwargs)

    def test_naive_datetime(self):
        """A naive datetime is refused with a hint to attach a time zone."""
        with pytest.raises(CalendarError, match="attach a time zone"):
            US.add_business_days(dt.datetime(2025, 1, 6, 9, 0), 1)

    def test_zone_without_offset(self):
        """A tzinfo that gives no offset is as naive as no tzinfo at all."""

        class Nowhere(dt.tzinfo):
            def utcoffset(self, when):
                return None

        with pytest.raises(CalendarError, match="attach a time zone"):
            US.is_business_day(dt.datetime(2025, 1, 6, 9, 0, tzinfo=Nowhere()))

    def test_bad_roll(self):
        """An unknown roll direction is refused."""
        with pytest.raises(CalendarError, match="'forward' or 'backward'"):
            US.roll(D(2025, 1, 4), "sideways")  # type: ignore[arg-type]

    @pytest.mark.parametrize(
        ("call", "message"),
        [
            (lambda: US.is_business_day("2025-01-06"), "expected a date"),
            (lambda: US.add_business_days(D(2025, 1, 6), 1.5), "whole number"),
            (lambda: US.add_business_days(D(2025, 1, 6), True), "whole number"),  # was 1
            (lambda: US.add_business_days(D(1850, 1, 6), 1), "supported years 1900 to 2200"),
            (lambda: US.add_business_days(D(2025, 1, 6), 10**6), "supported years"),
            # numpy's bare OverflowError before ("Python int too large to convert to C long")
            (
                lambda: US.add_business_days(D(2025, 1, 6), 10**30),
                "n=1000000000000000000000000000000 business days leaves",
            ),
            (lambda: US.add_business_days(D(2025, 1, 6), -(10**400)), "hundreds of digits"),
            (lambda: US.is_business_day_array(["2025-01-06"]), "datetime64"),
            (lambda: US.is_business_day_array(np.array(["2025-01-06"], "M8[s]")), "datetime64"),
            (lambda: US.is_business_day_array(np.array(["NaT"], "M8[D]")), "NaT"),
            (lambda: US.add_business_days_array(day64(D(2025, 1, 6)), 0.5), "integers"),
            (lambda: US.add_business_days_array(day64(D(2025, 1, 6)).repeat(3), [1, 2]), "fit"),
            (
                lambda: US.business_days_between_array(
                    day64(D(2025, 1, 6)).repeat(3), day64(D(2025, 1, 7)).repeat(2)
                ),
                "fit",
            ),
        ],
        ids=[
            "string-date",
            "fractional-n",
            "bool-n",
            "too-early",
            "too-far",
            "beyond-numpy",
            "beyond-printing",
            "list-of-strings",
            "seconds-not-days",
            "nat",
            "fractional-n-array",
            "n-shape",
            "between-shapes",
        ],
    )
    def test_bad_arguments(self, call, message):
        """Bad arguments raise CalendarError, never a numpy or holidays error."""
        with pytest.raises(CalendarError, match=message):
            call()

    def test_calendar_error_is_a_value_error(self):
        """Callers catching ValueError catch CalendarError too."""
        with pytest.raises(ValueError, match="unknown country"):
            BusinessCalendar("XX")


class TestLoading:
    def test_repr(self):
        """The repr names the country, zone and weekmask."""
        expected = (
            "BusinessCalendar('US', subdiv='CA', time_zone='America/Los_Angeles', "
            "weekmask='1111100', extra_holidays=<0>, shutdown_days=<1>, working_days=<0>)"
        )
        calendar = BusinessCalendar("US", subdiv="CA", time_zone=LA, shutdown_days=[D(2025, 1, 2)])
        assert expected == repr(calendar)

    def test_growing_the_loaded_years_keeps_answers(self):
        """A calendar asked about 2025, then 1990, then 2035, answers as fresh ones do."""
        calendar = BusinessCalendar("GB")
        asked = [(D(2025, 5, 2), 3), (D(1990, 12, 21), 5), (D(2035, 12, 21), 5)]
        expected = [BusinessCalendar("GB").add_business_days(d, n) for d, n in asked]
        assert expected == [calendar.add_business_days(d, n) for d, n in asked]

    def test_result_beyond_the_loaded_years(self):
        """An answer past the loaded years loads them and is still exact."""
        calendar = BusinessCalendar("US")
        assert naive_add(REFERENCES["US"], D(2025, 1, 6), 2000) == calendar.add_business_days(
            D(2025, 1, 6), 2000
        )

    def test_backwards_into_years_not_loaded(self):
        """Stepping back from early January loads the year before and is exact."""
        calendar = BusinessCalendar("DE")
        assert (naive_add(REFERENCES["DE"], D(2000, 1, 10), -9), -1) == (
            calendar.add_business_days(D(2000, 1, 10), -9),
            BusinessCalendar("DE").business_days_between(D(2000, 1, 1), D(1999, 12, 31)),
        )

    def test_threads_share_one_calendar(self):
        """Threads extending the loaded years at once all get exact answers."""
        calendar = BusinessCalendar("DE")
        starts = [D(2000 + k % 41, 1 + k % 12, 1 + k % 28) for k in range(400)]
        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(lambda d: calendar.add_business_days(d, 10), starts))
        assert [naive_add(REFERENCES["DE"], d, 10) for d in starts] == results


class TestArrays:
    RNG_DAYS = np.datetime64("2000-01-01") + np.random.default_rng(7).integers(
        0, 41 * 365, 3000
    ).astype("timedelta64[D]")
    RNG_STEPS = np.random.default_rng(8).integers(-60, 61, 3000)

    @pytest.mark.parametrize("key", sorted(CASES), ids=sorted(CASES))
    def test_arrays_equal_scalars(self, key):
        """Each array form equals its scalar form elementwise (forwards and backwards)."""
        calendar, days, n = CALENDARS[key], self.RNG_DAYS, self.RNG_STEPS
        later = days + self.RNG_STEPS.astype("timedelta64[D]")
        added = calendar.add_business_days_array(days, n)
        counted = calendar.business_days_between_array(days, later)
        flags = calendar.is_business_day_array(days)
        # list the mismatches, not two 3000-item lists: pytest's diff of those takes minutes
        assert [] == [
            (i, day)
            for i, (day, step, stop) in enumerate(
                zip(days.tolist(), n, later.tolist(), strict=True)
            )
            if (
                calendar.add_business_days(day, int(step)),
                calendar.business_days_between(day, stop),
                calendar.is_business_day(day),
            )
            != (added[i].item(), counted[i], flags[i])
        ]

    def test_scalar_n_broadcasts(self):
        """An int n applies to every date."""
        days = day64(D(2025, 1, 6), D(2025, 1, 4))
        assert [D(2025, 2, 10), D(2025, 2, 10)] == US.add_business_days_array(days, 24).tolist()

    def test_unsigned_n(self):
        """Unsigned offsets work like signed ones."""
        days = day64(D(2025, 1, 6))
        assert [D(2025, 2, 10)] == US.add_business_days_array(days, np.array([24], "u8")).tolist()

    def test_empty_arrays(self):
        """Empty input gives empty output of the right dtype."""
        empty = np.array([], dtype="datetime64[D]")
        assert ("datetime64[D]", "int64", "bool") == (
            str(US.add_business_days_array(empty, 1).dtype),
            str(US.business_days_between_array(empty, empty).dtype),
            str(US.is_business_day_array(empty).dtype),
        )


@pytest.mark.slow
class TestProperties:
    @settings(max_examples=2500, deadline=None)
    @given(key=countries, day=dates, n=steps)
    def test_add_matches_day_by_day_walk(self, key, day, n):
        """add_business_days equals a day-by-day walk over holidays' own data."""
        assert naive_add(REFERENCES[key], day, n) == CALENDARS[key].add_business_days(day, n)

    @settings(max_examples=2500, deadline=None)
    @given(key=countries, start=dates, span=st.integers(min_value=-90, max_value=90))
    def test_between_matches_day_by_day_count(self, key, start, span):
        """business_days_between equals a day-by-day count over holidays' own data."""
        stop = start + dt.timedelta(days=span)
        expected = naive_between(REFERENCES[key], start, stop)
        assert expected == CALENDARS[key].business_days_between(start, stop)

    @settings(max_examples=1000, deadline=None)
    @given(key=countries, day=dates, n=steps)
    def test_between_inverts_add(self, key, day, n):
        """For every day, business_days_between(d, add_business_days(d, n)) == n."""
        calendar = CALENDARS[key]
        assert n == calendar.business_days_between(day, calendar.add_business_days(day, n))

    @settings(max_examples=1000, deadline=None)
    @given(key=countries, day=dates)
    def test_is_business_day_matches_holidays(self, key, day):
        """is_business_day agrees with weekday and holiday membership from holidays."""
        assert naive_is_workday(REFERENCES[key], day) == CALENDARS[key].is_business_day(day)


# Every place with weekend eras, every change, and holidays' data around each (two years aside).
ERA_PLACES = [
    ("AE", None), ("BH", None), ("DZ", None), ("JO", None), ("KW", None), ("MR", None),
    ("MY", "01"), ("OM", None), ("QA", None), ("SA", None), ("SD", None), ("TH", None),
    ("YE", None),
]  # fmt: skip
ERA_CALENDARS = {place: BusinessCalendar(place[0], subdiv=place[1]) for place in ERA_PLACES}
CHANGES = [
    (place, era.start)
    for place, calendar in ERA_CALENDARS.items()
    for era in calendar.weekend_eras
    if era.start is not None
]
ERA_REFERENCES = {
    (place, change): holidays.country_holidays(
        place[0], subdiv=place[1], years=range(change.year - 2, change.year + 3)
    )
    for place, change in CHANGES
}
changes = st.sampled_from(CHANGES)
change_ids = ["-".join(filter(None, (*place, str(change)))) for place, change in CHANGES]


class TestWeekendEras:
    def test_uae_moved_to_saturday_sunday_on_2022_01_01(self):
        """The UAE rested Friday-Saturday in 2021 and Saturday-Sunday from 2022-01-01.

        Thursday 2021-12-30 to Tuesday 2022-01-04 holds two business days (that Thursday and
        Monday); one weekmask forever counted three, or none of the Fridays before.
        """
        ae = BusinessCalendar("AE")
        assert (2, D(2022, 1, 3), [False, True, False, True]) == (
            ae.business_days_between(D(2021, 12, 30), D(2022, 1, 4)),
            ae.add_business_days(D(2021, 12, 30), 1),
            [
                ae.is_business_day(day)
                for day in (D(2021, 12, 31), D(2021, 12, 26), D(2022, 1, 2), D(2022, 1, 7))
            ],
        )

    def test_saudi_arabia_moved_to_friday_saturday_on_2013_06_29(self):
        """Saudi Arabia rested Thursday-Friday until 2013-06-28, Friday-Saturday from the 29th."""
        sa = BusinessCalendar("SA")
        thursday, saturday, sunday = D(2013, 6, 27), D(2013, 6, 29), D(2013, 6, 30)
        assert ([False, True, False, True], sunday, 2) == (
            [sa.is_business_day(d) for d in (thursday, D(2013, 6, 22), saturday, D(2013, 7, 4))],
            sa.add_business_days(D(2013, 6, 26), 1),
            sa.business_days_between(D(2013, 6, 26), D(2013, 7, 1)),
        )

    def test_eras_are_data_with_sources(self):
        """Each place's eras start with an open era, then dated ones in order, each sourced."""
        for place, calendar in ERA_CALENDARS.items():
            eras = calendar.weekend_eras
            starts = [era.start for era in eras[1:]]
            assert (None, sorted(starts), True) == (
                eras[0].start,
                starts,
                all(era.source and set(era.weekmask) <= {"0", "1"} for era in eras),
            ), place
            assert eras[-1].weekmask == calendar.weekmask

    def test_weekmask_on_a_day_is_its_eras(self):
        """weekmask_on answers with the era in force that day; a given weekmask holds always."""
        ae = BusinessCalendar("AE")
        given = BusinessCalendar("AE", weekmask="1111100")
        assert ("1111001", "1111100", "1110011", ("1111100",)) == (
            ae.weekmask_on(D(2021, 12, 31)),
            ae.weekmask_on(D(2022, 1, 1)),
            ae.weekmask_on(D(2006, 8, 31)),
            tuple(era.weekmask for era in given.weekend_eras),
        )

    @pytest.mark.parametrize(
        ("subdiv", "weekmask"),
        [("Kedah", "1111001"), ("KTN", "1111001"), ("11", "1111001"), ("Selangor", "1111100")],
        ids=["kedah-by-name", "kelantan-by-alias", "terengganu-by-code", "selangor"],
    )
    def test_malaysian_states_rest_as_their_own(self, subdiv, weekmask):
        """Kedah, Kelantan and Terengganu rest Friday-Saturday, by any name holidays knows."""
        assert weekmask == BusinessCalendar("MY", subdiv=subdiv).weekmask

    def test_company_days_keep_their_precedence_across_a_change(self):
        """Worked Fridays before the UAE's change, a shutdown Monday after it, both count.

        2021-12-20 to 2022-01-10: Friday 12-24 and 12-31 worked (old weekend), Thursday 12-30
        an extra holiday, Sunday 01-02 off (new weekend), Monday 01-03 a shutdown, Friday
        01-07 a business day: 5 + 4 + 1 + 4 = 14 business days.
        """
        ae = BusinessCalendar(
            "AE",
            working_days=[D(2021, 12, 24), D(2021, 12, 31)],
            extra_holidays=[D(2021, 12, 30)],
            shutdown_days=[D(2022, 1, 3)],
        )
        days = [D(2021, 12, 24), D(2021, 12, 30), D(2021, 12, 31), D(2022, 1, 2), D(2022, 1, 3)]
        assert (14, [True, False, True, False, False], D(2022, 1, 4)) == (
            ae.business_days_between(D(2021, 12, 20), D(2022, 1, 10)),
            ae.is_business_day_array(day64(*days)).tolist(),
            ae.add_business_days(D(2021, 12, 29), 2),
        )

    def test_a_count_across_a_change_is_split_there(self):
        """The array forms agree with the scalar ones across a change, in both directions."""
        ae = BusinessCalendar("AE")
        starts = day64(D(2021, 12, 1), D(2022, 2, 1), D(2021, 12, 30), D(2025, 1, 1))
        stops = day64(D(2022, 2, 1), D(2021, 12, 1), D(2022, 1, 4), D(2025, 2, 1))
        steps = np.array([40, -40, 1, 5])
        pairs = list(zip(starts.tolist(), stops.tolist(), steps.tolist(), strict=True))
        assert (
            [ae.business_days_between(a, b) for a, b, _ in pairs],
            [ae.add_business_days(a, n) for a, _, n in pairs],
            [ae.is_business_day(a) for a, _, _ in pairs],
        ) == (
            ae.business_days_between_array(starts, stops).tolist(),
            ae.add_business_days_array(starts, steps).tolist(),
            ae.is_business_day_array(starts).tolist(),
        )

    @pytest.mark.slow
    @pytest.mark.parametrize(("place", "change"), CHANGES, ids=change_ids)
    def test_every_day_around_each_change_matches_a_day_by_day_count(self, place, change):
        """Every day two years either side of a change: is it a business day, and the count.

        A fresh calendar, asked day by day from a year before the change, counts as one that
        walks day by day over holidays' data and the eras.
        """
        calendar = BusinessCalendar(place[0], subdiv=place[1])
        reference, eras = ERA_REFERENCES[place, change], calendar.weekend_eras
        first = change - dt.timedelta(days=365)
        days = [first + dt.timedelta(days=k) for k in range(730)]
        expected = [naive_is_workday(reference, day, eras) for day in days]
        counts = [sum(expected[:k]) for k in range(len(days))]
        assert (expected, counts) == (
            [calendar.is_business_day(day) for day in days],
            [calendar.business_days_between(first, day) for day in days],
        )


@pytest.mark.slow
class TestWeekendEraProperties:
    @settings(max_examples=400, deadline=None)
    @given(
        change=changes,
        before=st.integers(min_value=0, max_value=400),
        after=st.integers(min_value=-30, max_value=400),
        backwards=st.booleans(),
        fresh=st.booleans(),
    )
    def test_counts_across_a_change_match_a_day_by_day_count(
        self, change, before, after, backwards, fresh
    ):
        """Random date pairs around a change count as a day-by-day walk does, either way round.

        A fresh calendar has loaded only the years asked; a shared one, many years and eras.
        """
        place, day = change
        calendar = BusinessCalendar(place[0], subdiv=place[1]) if fresh else ERA_CALENDARS[place]
        start, stop = day - dt.timedelta(days=before), day + dt.timedelta(days=after)
        if backwards:
            start, stop = stop, start
        expected = naive_between(ERA_REFERENCES[change], start, stop, calendar.weekend_eras)
        assert (expected, expected) == (
            calendar.business_days_between(start, stop),
            int(calendar.business_days_between_array(day64(start), day64(stop))[0]),
        )

    @settings(max_examples=400, deadline=None)
    @given(
        change=changes,
        offset=st.integers(min_value=-300, max_value=300),
        n=st.integers(min_value=-150, max_value=150),
        fresh=st.booleans(),
    )
    def test_offsets_across_a_change_match_a_day_by_day_walk(self, change, offset, n, fresh):
        """add_business_days from around a change lands where a day-by-day walk does."""
        place, day = change
        calendar = BusinessCalendar(place[0], subdiv=place[1]) if fresh else ERA_CALENDARS[place]
        start = day + dt.timedelta(days=offset)
        expected = naive_add(ERA_REFERENCES[change], start, n, calendar.weekend_eras)
        assert (expected, [expected], n) == (
            calendar.add_business_days(start, n),
            calendar.add_business_days_array(day64(start), np.array([n])).tolist(),
            calendar.business_days_between(start, expected),
        )

    @settings(max_examples=100, deadline=None)
    @given(
        change=changes,
        offsets=st.lists(st.integers(min_value=-400, max_value=400), min_size=1, max_size=30),
        n=st.integers(min_value=-100, max_value=100),
    )
    def test_array_forms_match_the_scalar_forms(self, change, offsets, n):
        """The array forms equal the scalar forms elementwise over days on both sides."""
        place, day = change
        calendar = BusinessCalendar(place[0], subdiv=place[1])
        days = [day + dt.timedelta(days=k) for k in offsets]
        array = day64(*days)
        steps = np.array([n + k % 7 for k in range(len(days))])
        assert (
            [calendar.is_business_day(d) for d in days],
            [calendar.add_business_days(d, int(m)) for d, m in zip(days, steps, strict=True)],
            [calendar.business_days_between(d, day) for d in days],
        ) == (
            calendar.is_business_day_array(array).tolist(),
            calendar.add_business_days_array(array, steps).tolist(),
            calendar.business_days_between_array(array, day64(day)).tolist(),
        )


# Where these eras and holidays' own weekend rule disagree, and why (see timeline/_weekends.py).
KNOWN_DISAGREEMENTS = {
    ("AE", None): (None, D(2006, 9, 1)),  # holidays misses Thursday-Friday before 2006-09
    ("BH", None): (None, D(2006, 9, 1)),  # holidays misses Bahrain's change of 2006-09-01
    ("DZ", None): (D(2009, 1, 1), D(2009, 8, 14)),  # holidays takes 1 January, the decree 14 Aug
    ("MR", None): (D(2014, 10, 1), None),  # holidays misses Mauritania's change of 2014-10-01
    ("TH", None): (D(1956, 10, 1), D(1957, 10, 7)),  # Buddhist sabbath days: no weekmask
    ("TW", None): (None, D(2001, 1, 1)),  # 2nd and 4th Saturdays off: no weekmask
}


@pytest.mark.slow
class TestWeekendData:
    @pytest.mark.parametrize(
        "place",
        [*ERA_PLACES, ("TW", None), *(("MY", f"{k:02d}") for k in range(1, 17))],
        ids=lambda place: "-".join(filter(None, place)),
    )
    def test_every_day_1930_to_2035_agrees_with_holidays_but_where_listed(self, place):
        """Day by day from 1930 to 2035, the weekend is holidays' own, or a listed disagreement.

        Each disagreement is a source more precise than holidays, or a rule no weekmask holds.
        """
        calendar = BusinessCalendar(place[0], subdiv=place[1])
        # not expanded: the weekend rule needs no holidays, and India warns before 2001
        reference = holidays.country_holidays(place[0], subdiv=place[1], expand=False)
        first, last = D(1930, 1, 1), D(2035, 12, 31)
        disagree = [
            day
            for day in (first + dt.timedelta(days=k) for k in range((last - first).days + 1))
            if reference.is_weekend(day) != (calendar.weekmask_on(day)[day.weekday()] == "0")
        ]
        low, high = KNOWN_DISAGREEMENTS.get(place, (None, None))
        allowed = [d for d in disagree if (low is None or low <= d) and (high is None or d < high)]
        assert allowed == disagree
        if place in KNOWN_DISAGREEMENTS:
            assert disagree, f"{place}: the listed disagreement is gone; remove it"

    def test_no_country_changes_its_weekend_unknown_to_the_eras(self):
        """Sampled every five years, every country holidays knows rests as the eras say.

        A change holidays learns of, in a country without eras here, fails this test.
        """
        listed = {place[0] for place in KNOWN_DISAGREEMENTS}
        weeks = [D(year, month, 1) for year in range(1930, 2036, 5) for month in (1, 7)]
        wrong = []
        for country in sorted(holidays.list_supported_countries()):
            calendar = BusinessCalendar(country)
            reference = holidays.country_holidays(country, expand=False)
            if reference.country in listed:
                continue
            for day in (w + dt.timedelta(days=k) for w in weeks for k in range(7)):
                ours = calendar.weekmask_on(day)[day.weekday()] == "0"
                if reference.is_weekend(day) != ours:
                    wrong.append((country, day))
                    break
        assert [] == wrong


def test_a_child_forked_while_a_calendar_loaded_years_counts_days():
    """A child forked while a thread of its parent loaded holiday years still counts days.

    Its copy of the lock was held for good: it waited at its first load of years, until its
    alarm killed it.
    """
    calendar = BusinessCalendar("US")

    def count() -> None:
        assert pendulum.date(2150, 1, 5) == calendar.add_business_days(pendulum.date(2150, 1, 2), 1)

    assert 0 == child_status(calendar._lock, count)
