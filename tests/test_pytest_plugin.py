"""The pytest plugin: the kit as fixtures, free for every suite that does not use them."""

from __future__ import annotations

import pytest

UNUSED = """
import sys

def test_plugin_loaded_and_idle(request):
    assert request.config.pluginmanager.has_plugin("hirepipe")
    loaded = {"hirepipe.models", "pydantic", "pendulum", "numpy", "holidays", "jinja2"}
    assert set() == loaded & set(sys.modules)
"""


def test_fixtures_offer_the_kit(pytester):
    """The installed pytest plugin offers the kit as fixtures to any test suite."""
    pytester.makepyfile(
        """
        def test_kit(hirepipe_pipeline, hirepipe_clock, hirepipe_recorder, hirepipe_requisition):
            app = hirepipe_pipeline.new_application(
                __import__("hirepipe.testing").testing.make_candidate(), hirepipe_requisition,
                interviewers=["alice"],
            )
            hirepipe_pipeline.fire(
                app, "start_debrief", actor="maria", requisition=hirepipe_requisition
            )
            assert hirepipe_recorder.events == ["start_debrief"]
            assert hirepipe_clock.advance_business_days(1).day == 7
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_a_suite_that_never_uses_it_loads_nothing_and_warns_nothing(pytester):
    """With warnings as errors, a suite without hirepipe fixtures starts and imports nothing.

    A fresh pytest process loads the plugin from its entry point, as a user's suite would.
    """
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(UNUSED)
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


@pytest.mark.slow
def test_fixtures_work_under_warnings_as_errors(pytester):
    """The fixtures themselves import and run with every warning an error."""
    pytester.makeini("[pytest]\nfilterwarnings = error\n")
    pytester.makepyfile(
        """
        def test_clock(hirepipe_clock, hirepipe_pipeline):
            assert hirepipe_clock.advance_business_days(1).day == 7
            assert hirepipe_pipeline.policy.name == "standard"
        """
    )
    result = pytester.runpytest_subprocess("-W", "error", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
