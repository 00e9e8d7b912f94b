"""Where time comes from. Nothing else in hirepipe reads the wall clock."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import pendulum

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    """Anything with a ``now()`` that returns a time-zone-aware pendulum DateTime."""

    def now(self) -> pendulum.DateTime:
        """Return the current instant."""
        ...


class SystemClock:
    """The wall clock, in ``time_zone`` (UTC by default)."""

    __slots__ = ("time_zone",)

    def __init__(self, time_zone: str = "UTC") -> None:
        pendulum.timezone(time_zone)  # refuse an unknown zone now, not at the first event
        self.time_zone = time_zone

    def now(self) -> pendulum.DateTime:
        """Return the current instant in the clock's time zone."""
        return pendulum.now(self.time_zone)

    def __repr__(self) -> str:
        return f"SystemClock({self.time_zone!r})"
