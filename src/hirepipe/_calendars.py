"""The business-day calendar of a requisition, shared by every service that counts days."""

from __future__ import annotations

from functools import lru_cache

from hirepipe.calendar import BusinessCalendar
from hirepipe.models import Requisition

__all__ = ["calendar_for"]


def calendar_for(requisition: Requisition) -> BusinessCalendar:
    """Return the calendar of the requisition's country, subdivision and time zone.

    Building a calendar loads holiday data, so one per place is built and kept.
    """
    return _calendar(requisition.country, requisition.subdivision, requisition.time_zone)


@lru_cache(maxsize=128)
def _calendar(country: str, subdivision: str | None, time_zone: str) -> BusinessCalendar:
    return BusinessCalendar(country, subdiv=subdivision, time_zone=time_zone)
