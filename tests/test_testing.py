"""The test kit: a fake clock, a recording hook and factories for the standard policy."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from hirepipe import SystemClock
from hirepipe.testing import FakeClock, make_application


class TestClocks:
    def test_fake_clock_stands_still_until_moved(self):
        """FakeClock returns the same instant until set or advanced."""
        clock = FakeClock()
        first = clock.now()
        assert first is clock.now()
        assert first.add(days=1, hours=2) == clock.advance(days=1, hours=2)
        target = pendulum.datetime(2030, 1, 1, tz="Asia/Tokyo")
        clock.set(target)
        assert target == clock.now()
        assert "FakeClock(2030-01-01T00:00:00+09:00)" == repr(clock)

    @pytest.mark.parametrize("use", ["start", "set"], ids=str)
    def test_fake_clock_refuses_naive(self, use):
        """A fake clock needs aware datetimes too."""
        naive = dt.datetime(2025, 1, 1)
        act = FakeClock if use == "start" else FakeClock().set
        with pytest.raises(ValueError, match="time-zone-aware"):
            act(naive)

    def test_system_clock(self):
        """The system clock answers in its zone and refuses an unknown one."""
        clock = SystemClock("Europe/Paris")
        assert "SystemClock('Europe/Paris')" == repr(clock)
        assert clock.now().utcoffset() is not None
        with pytest.raises(Exception, match="Mars"):
            SystemClock("Mars/Olympus")


class TestFactories:
    def test_unknown_stage(self, pipeline, requisition):
        """The factory names the stages it can reach."""
        with pytest.raises(ValueError, match="no standard path to 'limbo'"):
            make_application(pipeline, requisition, stage="limbo")

    def test_recording_hook_sees_factory_events(self, pipeline, recorder, requisition):
        """The recording hook keeps each Fired, in order."""
        make_application(pipeline, requisition, stage="debrief")
        assert ["start_debrief"] == recorder.events
