"""Where time comes from. Nothing else in hirepipe reads the wall clock.

```python
clock = ManualClock(pendulum.datetime(2025, 1, 6, 9, tz="Europe/Berlin"))
clock.advance(days=2)
```
"""

from __future__ import annotations

import math
from typing import Protocol, runtime_checkable

import pendulum

__all__ = ["Clock", "ManualClock", "SystemClock"]


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
        self.time_zone: str = time_zone

    def now(self) -> pendulum.DateTime:
        """Return the current instant in the clock's time zone."""
        return pendulum.now(self.time_zone)

    def __repr__(self) -> str:
        return f"SystemClock({self.time_zone!r})"


class ManualClock:
    """A clock that stands still until it is set or advanced: for simulations and tests.

    ``ManualClock(pendulum.datetime(2025, 1, 6, 9, tz="America/New_York"))``, then ``set`` it
    or ``advance`` it by any pendulum duration (``advance(days=2, hours=3)``).
    """

    __slots__ = ("_now",)

    def __init__(self, start: pendulum.DateTime | None = None) -> None:
        self._now = start if start is not None else pendulum.datetime(2025, 1, 6, 9, tz="UTC")
        if self._now.tzinfo is None:
            raise ValueError(f"{type(self).__name__} needs a time-zone-aware start")

    def now(self) -> pendulum.DateTime:
        """Return the clock's current instant."""
        return self._now

    def set(self, when: pendulum.DateTime) -> None:
        """Jump to ``when`` (time-zone aware)."""
        if when.tzinfo is None:
            raise ValueError(f"{type(self).__name__}.set needs a time-zone-aware datetime")
        self._now = when

    def advance(self, **duration: float) -> pendulum.DateTime:
        """Move forward by a pendulum duration (``days=1``, ``hours=2``...); return the new now.

        Raises ValueError, the clock unchanged, for a duration that leaves the calendar
        (years 1 to 9999).
        """
        for name, value in duration.items():
            if isinstance(value, float) and not math.isfinite(value):
                # it was said to leave the calendar, which tells nothing of what was wrong
                raise ValueError(f"advance({name}={value!r}): a duration must be a finite number")
            if isinstance(value, bool):  # True is no duration: it was taken as 1
                raise TypeError(f"advance({name}={value!r}): a duration must be a number")
        try:
            moved = self._now.add(**duration)  # type: ignore[arg-type]
        except (OverflowError, ValueError):
            # pendulum's "year 12025 is out of range" or "days=...; must have magnitude
            # <= 999999999" named no argument of this call
            given = ", ".join(f"{name}={value!r}" for name, value in duration.items())
            raise ValueError(
                f"advance({given}) from {self._now.isoformat()} leaves the calendar "
                "(years 1 to 9999); advance by less"
            ) from None
        self._now = moved
        return self._now

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._now.isoformat()})"
