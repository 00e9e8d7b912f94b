"""Helpers for testing code built on hirepipe: a controllable clock and a recording hook.

Nothing here reads the wall clock; every test decides what time it is.
"""

from __future__ import annotations

import pendulum

from hirepipe.pipeline import Fired

__all__ = ["FakeClock", "RecordingHook"]


class FakeClock:
    """A clock that stands still until told to move.

    ``FakeClock(pendulum.datetime(2025, 1, 6, 9, tz="America/New_York"))``; then ``set`` it or
    ``advance`` it by any pendulum duration (``advance(days=2, hours=3)``).
    """

    __slots__ = ("_now",)

    def __init__(self, start: pendulum.DateTime | None = None) -> None:
        self._now = start if start is not None else pendulum.datetime(2025, 1, 6, 9, tz="UTC")
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a time-zone-aware start")

    def now(self) -> pendulum.DateTime:
        """Return the clock's current instant."""
        return self._now

    def set(self, when: pendulum.DateTime) -> None:
        """Jump to ``when`` (time-zone aware)."""
        if when.tzinfo is None:
            raise ValueError("FakeClock.set needs a time-zone-aware datetime")
        self._now = when

    def advance(self, **duration: float) -> pendulum.DateTime:
        """Move forward by a pendulum duration (``days=1``, ``hours=2``...); return the new now."""
        self._now = self._now.add(**duration)  # type: ignore[arg-type]
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


class RecordingHook:
    """A hook that keeps every :class:`~hirepipe.pipeline.Fired` it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[Fired] = []

    def __call__(self, fired: Fired, /) -> None:
        """Keep ``fired``."""
        self.calls.append(fired)

    @property
    def events(self) -> list[str]:
        """The names of the events seen, in order."""
        return [fired.record.event for fired in self.calls]
