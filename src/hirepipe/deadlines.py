"""The old home of names that now live in ``hirepipe.timeline.deadlines``.

Kept so that existing imports keep working; new code imports from the new home.
"""

from hirepipe.timeline.deadlines import CANDIDATE_CONTACT_EVENTS as CANDIDATE_CONTACT_EVENTS
from hirepipe.timeline.deadlines import CalendarFor as CalendarFor
from hirepipe.timeline.deadlines import Deadline as Deadline
from hirepipe.timeline.deadlines import DeadlineKind as DeadlineKind
from hirepipe.timeline.deadlines import ServiceLevels as ServiceLevels

__all__ = [
    "CANDIDATE_CONTACT_EVENTS",
    "CalendarFor",
    "Deadline",
    "DeadlineKind",
    "ServiceLevels",
]
