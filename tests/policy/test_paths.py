"""Every simple path through a policy: counts, ends, limits and errors."""

from __future__ import annotations

import pytest

from hirepipe import Pipeline, PolicyError, standard_policy
from hirepipe.policy import Path, paths
from hirepipe.testing import FakeClock, make_requisition, walk
from tests.conftest import START

STANDARD = standard_policy()


class TestPaths:
    def test_standard_policy_paths(self, policy):
        """The standard policy has 43 simple paths; one of them hires."""
        found = paths(policy)
        ends = {end: sum(p.end == end for p in found) for end in ("hired", "declined")}
        assert (43, {"hired": 1, "declined": 4}) == (len(found), ends)
        (hired,) = paths(policy, to="hired")
        assert (
            "start_debrief",
            "complete_debrief",
            "request_approval",
            "approve",
            "extend_offer",
            "accept",
        ) == hired.events
        assert "interviewed -start_debrief-> debrief" == str(hired)[:36]

    def test_every_path_walks_to_its_end(self, policy):
        """Walking each path with the standard recipes ends where the path says."""
        for path in paths(policy):
            pipeline = Pipeline(policy, clock=FakeClock(START))
            application = walk(pipeline, make_requisition(), path, hours_between=3)
            assert path.end == application.stage, str(path)
            assert len(path.events) == sum(r.kind == "transition" for r in application.history)

    def test_paths_are_simple_and_end_terminal(self, policy):
        """No path enters a stage twice, and each ends at its first terminal stage."""
        for path in paths(policy):
            assert len(set(path.stages)) == len(path.stages)
            assert policy.is_terminal(path.end)
            assert not any(policy.is_terminal(s) for s in path.stages[:-1])

    def test_filter_and_refusals(self):
        """``to`` filters by end stage; unknown stages and a low limit are PolicyErrors."""
        assert {"declined", "hired"} == {p.end for p in paths(STANDARD, to=["declined", "hired"])}
        with pytest.raises(PolicyError, match="unknown stages"):
            paths(STANDARD, to="limbo")
        with pytest.raises(PolicyError, match="more than 5 simple paths"):
            paths(STANDARD, limit=5)

    def test_path_end(self):
        """A path's end is its last stage."""
        assert "b" == Path(("go",), ("a", "b")).end
