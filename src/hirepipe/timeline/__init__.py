"""Time in business days: the calendar, service-level deadlines and the timeline estimator.

```python
from hirepipe.timeline import BusinessCalendar, ServiceLevels, TimelineEstimator

BusinessCalendar("US").add_business_days(date(2025, 1, 6), 24)  # 2025-02-10
ServiceLevels(policy).overdue(applications, requisitions, now)
TimelineEstimator().estimate(application, requisition, now).offer.dates.p80
```

The calendar (``hirepipe.timeline.calendar``) depends on nothing above the errors, so the
layers below may count business days with it (the standard policy's adverse-action waiting
period does); the names here are imported on first use (PEP 562), so importing the calendar
does not import the deadlines and the estimator, which build on the standard policy.
"""

# `typing` is not needed at run time for this: the constant is enough
TYPE_CHECKING = False
if TYPE_CHECKING:
    from hirepipe.timeline.calendar import BusinessCalendar as BusinessCalendar
    from hirepipe.timeline.calendar import WeekendEra as WeekendEra
    from hirepipe.timeline.calendar import calendar_for as calendar_for
    from hirepipe.timeline.deadlines import Deadline as Deadline
    from hirepipe.timeline.deadlines import DeadlineKind as DeadlineKind
    from hirepipe.timeline.deadlines import ServiceLevels as ServiceLevels
    from hirepipe.timeline.estimate import Estimate as Estimate
    from hirepipe.timeline.estimate import FitReport as FitReport
    from hirepipe.timeline.estimate import Priors as Priors
    from hirepipe.timeline.estimate import StageDistribution as StageDistribution
    from hirepipe.timeline.estimate import TimelineEstimator as TimelineEstimator

__all__ = [
    "BusinessCalendar",
    "Deadline",
    "DeadlineKind",
    "Estimate",
    "FitReport",
    "Priors",
    "ServiceLevels",
    "StageDistribution",
    "TimelineEstimator",
    "WeekendEra",
    "calendar_for",
]

_HOMES: dict[str, tuple[str, ...]] = {
    "hirepipe.timeline.calendar": ("BusinessCalendar", "WeekendEra", "calendar_for"),
    "hirepipe.timeline.deadlines": ("Deadline", "DeadlineKind", "ServiceLevels"),
    "hirepipe.timeline.estimate": (
        "Estimate",
        "FitReport",
        "Priors",
        "StageDistribution",
        "TimelineEstimator",
    ),
}
if not TYPE_CHECKING:  # type checkers see the imports above, and no name outside them
    from hirepipe._lazy import lazy_names

    __getattr__, __dir__ = lazy_names(__name__, _HOMES, __all__)
    del lazy_names


del TYPE_CHECKING
