"""Time in business days: the calendar, service-level deadlines and the timeline estimator.

```python
from hirepipe.timeline import BusinessCalendar, ServiceLevels, TimelineEstimator

BusinessCalendar("US").add_business_days(date(2025, 1, 6), 24)  # 2025-02-10
ServiceLevels(policy).overdue(applications, requisitions, now)
TimelineEstimator().estimate(application, requisition, now).offer.dates.p80
```
"""

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
