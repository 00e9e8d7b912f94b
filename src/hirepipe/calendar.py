"""The old home of names that now live in ``hirepipe.timeline.calendar``.

Kept so that existing imports keep working; new code imports from the new home.
"""

from hirepipe.timeline.calendar import BusinessCalendar as BusinessCalendar
from hirepipe.timeline.calendar import Roll as Roll
from hirepipe.timeline.calendar import calendar_for as calendar_for

__all__ = [
    "BusinessCalendar",
    "Roll",
    "calendar_for",
]
