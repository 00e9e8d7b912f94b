"""Fixtures the tests share: a fake clock, the standard pipeline and a requisition."""

from __future__ import annotations

import pendulum
import pytest

from hirepipe import Pipeline, Requisition, standard_policy
from hirepipe.policy import Policy
from hirepipe.testing import FakeClock, RecordingHook, make_requisition

START = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")


@pytest.fixture(scope="session")
def policy() -> Policy:
    return standard_policy()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def recorder() -> RecordingHook:
    return RecordingHook()


@pytest.fixture
def pipeline(policy: Policy, clock: FakeClock, recorder: RecordingHook) -> Pipeline:
    return Pipeline(policy, clock=clock, hooks=[recorder])


@pytest.fixture
def requisition() -> Requisition:
    return make_requisition()
