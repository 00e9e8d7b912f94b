"""Fixtures the tests share: a fake clock, the standard pipeline and a requisition."""

from __future__ import annotations

import pendulum
import pytest

from hirepipe import Pipeline, Requisition, standard_policy
from hirepipe.policy import Policy
from hirepipe.testing import FakeClock, RecordingHook, make_requisition

pytest_plugins = ["pytester"]

START = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")


@pytest.fixture(scope="session", params=["code", "toml"])
def policy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Policy:
    """The standard policy, as built in code and as loaded back from its own dumped TOML.

    Every test that uses it runs against both, so the file form behaves identically.
    """
    built = standard_policy()
    if request.param == "code":
        return built
    path = tmp_path_factory.mktemp("policy") / "standard.toml"
    path.write_text(built.to_toml(), encoding="utf-8")
    return Policy.from_file(path)


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


@pytest.fixture(scope="session")
def dask_cluster():
    """A local Dask cluster of two worker processes, one thread each, shared by the session."""
    import distributed  # the `dask` extra, part of the development install

    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield cluster
