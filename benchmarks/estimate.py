"""How fast the timeline estimator answers, in one process.

Prints ``name: value`` lines:

- ``estimate_per_second``: one application in review, estimated again and again (the target is
  at least 20,000); caches warm, as for an applicant-tracking system asking about the same
  candidate, or many candidates in the same stage, on one day.
- ``estimate_per_second_cold``: the same with the model and layout caches cleared before every
  call: the cost of a combination never seen before (stage, elapsed days, industry, day).
- ``estimate_per_second_mixed``: 2,000 applications in every pending stage, eight industries
  and elapsed times up to 30 business days, estimated in turn.
- ``fit_records_per_second``: transition records learnt from per second by ``fit``.
"""

from __future__ import annotations

import time

import pendulum

from hirepipe import Pipeline, standard_policy
from hirepipe.testing import FakeClock, make_application, make_requisition
from hirepipe.timeline._priors import route_model
from hirepipe.timeline.calendar import BusinessCalendar
from hirepipe.timeline.estimate import TimelineEstimator, _layout

STAGES = ("interviewed", "debrief", "review", "next_round", "approval", "references", "offer")
INDUSTRIES = (
    "all_employers",
    "computer_electronics",
    "accounting",
    "business_services",
    "construction",
    "engineering_services",
    "government",
    "hospitality",
)


def per_second(call, seconds: float = 1.0) -> float:
    """Calls per second of ``call()``, measured over about ``seconds``."""
    count, start = 0, time.perf_counter()
    while True:
        for _ in range(200):
            call()
        count += 200
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    start = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")
    clock = FakeClock(start)
    pipeline = Pipeline(standard_policy(), clock=clock)
    calendar = BusinessCalendar("US", time_zone="America/New_York")
    estimator = TimelineEstimator()
    requisition = make_requisition()
    application = make_application(pipeline, requisition, stage="review")
    now = calendar.add_business_days(start, 3)

    def one() -> None:
        estimator.estimate(application, requisition, now)

    def cold() -> None:
        _layout.cache_clear()
        route_model.cache_clear()
        estimator.estimate(application, requisition, now)

    cases = []
    for i in range(2_000):
        req = make_requisition(industry=INDUSTRIES[i % len(INDUSTRIES)])
        app = make_application(pipeline, req, stage=STAGES[i % len(STAGES)])
        cases.append((app, req, calendar.add_business_days(start, (i * 7) % 31)))
    position = 0

    def mixed() -> None:
        nonlocal position
        app, req, when = cases[position]
        estimator.estimate(app, req, when)
        position = (position + 1) % len(cases)

    histories = [app for app, _, _ in cases]
    records = sum(len(app.history) for app in histories)
    fit_start = time.perf_counter()
    estimator.fit(histories, calendar=calendar)
    fit_seconds = time.perf_counter() - fit_start

    one()
    print(f"estimate_per_second: {per_second(one):.0f}")
    print(f"estimate_per_second_cold: {per_second(cold):.0f}")
    print(f"estimate_per_second_mixed: {per_second(mixed):.0f}")
    print(f"fit_records_per_second: {records / fit_seconds:.0f}")


if __name__ == "__main__":
    main()
