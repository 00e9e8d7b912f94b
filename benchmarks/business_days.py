"""Calendar figures: add_business_days against bare numpy, one call and a million dates.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/business_days.py``). Prints
``name: value`` lines:
times in microseconds (``_us``) or milliseconds (``_ms``), and ratios (``_vs_``), ours divided
by the anchor, lower is better, measured in this one process so the machine's speed cancels out.
Each time is the best of several rounds with ours and the anchor alternating; holidays are
loaded before timing.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path

import holidays
import numpy as np
import pendulum

# Appended, not inserted first: with this folder ahead of the standard library, ``import
# calendar`` (which ``holidays`` and ``pendulum`` do) would find this file.
sys.path.append(str(Path(__file__).parent))
from _harness import interleaved, report

from hirepipe.timeline.calendar import BusinessCalendar

ZONE = "America/New_York"
CALLS = 20_000  # scalar calls per round


def per_call(run: Callable[[], object], number: int) -> Callable[[], float]:
    """A contender for ``interleaved``: the seconds one call of ``run`` takes, over ``number``."""
    return lambda: timeit.timeit(run, number=number) / number


def prepared_numpy_calendar(first_year: int, last_year: int) -> np.busdaycalendar:
    """The anchor: a numpy busdaycalendar with the same US holidays, built once."""
    days = sorted(holidays.country_holidays("US", years=range(first_year, last_year + 1)))
    return np.busdaycalendar(weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]"))


def calendar_figures() -> None:
    """add_business_days, one call and a million dates, against bare numpy."""
    calendar = BusinessCalendar("US", time_zone=ZONE)
    numpy_calendar = prepared_numpy_calendar(2019, 2031)

    # One call. ``when`` is a stored UTC timestamp, so the conversion to the calendar's zone is
    # part of the cost; ``local`` is already in that zone. The anchor gets a ready datetime64.
    when = pendulum.datetime(2025, 1, 6, 15, 30, tz="UTC")
    local = when.in_tz(ZONE)
    start = np.datetime64("2025-01-06")
    calendar.add_business_days(when, 24)  # load the years before timing
    best = interleaved(
        {
            "ours": per_call(lambda: calendar.add_business_days(when, 24), CALLS),
            "ours_local": per_call(lambda: calendar.add_business_days(local, 24), CALLS),
            "numpy": per_call(
                lambda: np.busday_offset(start, 24, roll="forward", busdaycal=numpy_calendar),
                CALLS,
            ),
        },
        rounds=15,
    )
    report("add_business_days_us", best["ours"] * 1e6)
    report("add_business_days_local_us", best["ours_local"] * 1e6)
    report("numpy_busday_offset_us", best["numpy"] * 1e6)
    report("add_business_days_vs_numpy_scalar", best["ours"] / best["numpy"])

    # A million dates from 2020 to 2029, each with its own offset in [-60, 60].
    rng = np.random.default_rng(2025)
    days = np.datetime64("2020-01-01") + rng.integers(0, 3650, 1_000_000).astype("timedelta64[D]")
    steps = rng.integers(-60, 61, 1_000_000)
    calendar.add_business_days_array(days, steps)
    best = interleaved(
        {
            "ours": per_call(lambda: calendar.add_business_days_array(days, steps), 1),
            "numpy": per_call(
                lambda: np.busday_offset(days, steps, roll="forward", busdaycal=numpy_calendar),
                1,
            ),
        },
        rounds=9,
    )
    report("add_business_days_vectorized_1m_ms", best["ours"] * 1e3)
    report("numpy_busday_offset_1m_ms", best["numpy"] * 1e3)
    report("add_business_days_vectorized_1m_vs_numpy", best["ours"] / best["numpy"])


# Each group measures one area and prints its lines; main() runs them in this order. Add new
# groups here (the estimator's own figures, ``estimate_per_second``, are in estimate.py).
FIGURE_GROUPS: list[Callable[[], None]] = [
    calendar_figures,
]


def main() -> None:
    """Measure every figure group and print ``name: value`` lines."""
    for measure in FIGURE_GROUPS:
        measure()


if __name__ == "__main__":
    main()
