"""A pytest plugin offering hirepipe's test kit as fixtures (registered as ``hirepipe``).

Installed with hirepipe, it gives every test suite these fixtures, each new per test:

- ``hirepipe_clock``: a [`FakeClock`][hirepipe.testing.FakeClock] at Monday 2025-01-06 09:00 in New
  York, moving in US business days;
- ``hirepipe_policy``: the standard policy (override the fixture to test your own);
- ``hirepipe_recorder``: a [`RecordingHook`][hirepipe.testing.RecordingHook];
- ``hirepipe_pipeline``: a [`Pipeline`][hirepipe.pipeline.Pipeline] of the three above;
- ``hirepipe_requisition``: a requisition from
  [`make_requisition`][hirepipe.testing.make_requisition].

Installing hirepipe registers the plugin with every pytest run on the machine, so it costs
nothing until a ``hirepipe_*`` fixture is used: each fixture imports what it needs when it
runs, and importing this module imports no more than ``hirepipe``'s own (lazy) package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from hirepipe.models import Requisition
    from hirepipe.pipeline import Pipeline
    from hirepipe.policy import Policy
    from hirepipe.testing import FakeClock, RecordingHook


@pytest.fixture
def hirepipe_requisition() -> Requisition:
    """A requisition in New York: one headcount, 120,000-150,000 USD, approver ``cfo``."""
    from hirepipe.testing import make_requisition

    return make_requisition()


@pytest.fixture
def hirepipe_clock(hirepipe_requisition: Requisition) -> FakeClock:
    """A fake clock on Monday 2025-01-06 09:00 New York time, with the requisition's calendar."""
    import pendulum

    from hirepipe.testing import FakeClock
    from hirepipe.timeline.calendar import calendar_for

    return FakeClock(
        pendulum.datetime(2025, 1, 6, 9, tz=hirepipe_requisition.time_zone),
        calendar=calendar_for(hirepipe_requisition),
    )


@pytest.fixture
def hirepipe_policy() -> Policy:
    """The standard policy; override this fixture to run the kit against your own."""
    from hirepipe.standard import standard_policy

    return standard_policy()


@pytest.fixture
def hirepipe_recorder() -> RecordingHook:
    """A hook that records every applied event."""
    from hirepipe.testing import RecordingHook

    return RecordingHook()


@pytest.fixture
def hirepipe_pipeline(
    hirepipe_policy: Policy, hirepipe_clock: FakeClock, hirepipe_recorder: RecordingHook
) -> Pipeline:
    """A pipeline running ``hirepipe_policy`` on ``hirepipe_clock``, recording its events."""
    from hirepipe.pipeline import Pipeline

    return Pipeline(hirepipe_policy, clock=hirepipe_clock, hooks=[hirepipe_recorder])
