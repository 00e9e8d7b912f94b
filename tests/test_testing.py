"""The test kit: clocks, factories, walks, event-sequence strategies."""

from __future__ import annotations

import datetime as dt
import math
import sys
from pathlib import Path as FilePath

import pendulum
import pytest
from hypothesis import given, settings

from hirepipe import GuardRejected, Pipeline, Policy, SystemClock, standard_policy
from hirepipe.policy import Path, paths
from hirepipe.testing import FakeClock, event_sequences, make_application, make_requisition, walk
from hirepipe.timeline.calendar import BusinessCalendar
from tests.conftest import START

EXAMPLES = FilePath(__file__).resolve().parent.parent / "examples"
sys.path.insert(0, str(EXAMPLES))
import acme_hiring  # noqa: E402  (the example, tested with the kit as a company would)

STANDARD = standard_policy()


class TestCustomPolicyExample:
    """The example company policy, proved with the kit as a company would in its own suite."""

    def test_file_and_code_agree(self):
        """examples/policy.toml is exactly acme_policy()."""
        loaded = Policy.from_file(EXAMPLES / "policy.toml", registry=acme_hiring.registry)
        assert acme_hiring.acme_policy() == loaded

    @pytest.mark.parametrize(
        "make", [acme_hiring.acme_policy, acme_hiring.intern_policy], ids=["acme", "interns"]
    )
    def test_every_path_reachable(self, make):
        """Every path of Acme's policies walks to its end with Acme's recipes."""
        policy = make()
        for path in paths(policy):
            pipeline = Pipeline(policy, clock=FakeClock(START))
            application = walk(pipeline, make_requisition(), path, recipes=acme_hiring.RECIPES)
            assert path.end == application.stage

    def test_assessment_guard(self):
        """The assessment must be graded 60 or more before the candidate moves on."""
        pipeline = Pipeline(acme_hiring.acme_policy(), clock=FakeClock(START))
        path = paths(pipeline.policy, to="hired")[0]
        requisition = make_requisition()
        application = walk(
            pipeline,
            requisition,
            Path(path.events[:2], path.stages[:3]),
            recipes=acme_hiring.RECIPES,
        )
        assert "assessment" == application.stage
        pipeline.fire(
            application, "grade_assessment", actor="maria", requisition=requisition, score=40
        )
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert ("assessment_failed",) == caught.value.codes

    def test_only_staff_grade_and_pass(self):
        """The candidate may not grade their own assessment, nor move on from it."""
        pipeline = Pipeline(acme_hiring.acme_policy(), clock=FakeClock(START))
        requisition = make_requisition()
        path = paths(pipeline.policy, to="hired")[0]
        application = walk(
            pipeline,
            requisition,
            Path(path.events[:2], path.stages[:3]),
            recipes=acme_hiring.RECIPES,
        )
        for event, data in (("grade_assessment", {"score": 100}), ("complete_debrief", {})):
            codes = [
                b.code
                for b in pipeline.blockers(
                    application, event, requisition=requisition, actor="cand-1", **data
                )
            ]
            assert ["not_permitted"] == codes

    def test_interns_skip_references(self):
        """Interns are hired without the references stage."""
        (hired,) = paths(acme_hiring.intern_policy(), to="hired")
        assert "references" not in hired.stages


class TestStrategies:
    @settings(max_examples=100, deadline=None)
    @given(event_sequences(STANDARD, max_size=15))
    def test_sequences_follow_the_graph(self, events):
        """Every drawn sequence fires events defined from the stage reached."""
        stage, held = STANDARD.initial, None
        for event in events:
            assert event in STANDARD.events_from(stage)
            dest = STANDARD.events[event].dest
            if event == "hold":
                held = stage
            stage = held if dest == "@previous" else dest

    def test_business_day_clock(self):
        """A fake clock with a calendar moves in business days (over a weekend here)."""
        import pendulum

        clock = FakeClock(
            pendulum.datetime(2025, 1, 3, 16, tz="America/New_York"),
            calendar=BusinessCalendar("US", time_zone="America/New_York"),
        )
        assert "2025-01-07T16:00:00-05:00" == clock.advance_business_days(2).isoformat()
        with pytest.raises(ValueError, match="give the FakeClock a calendar"):
            FakeClock().advance_business_days(1)


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

    @pytest.mark.parametrize(
        "duration", [{"days": 10**9}, {"years": 8_000}, {"months": -(10**6)}], ids=str
    )
    def test_advancing_out_of_the_calendar_is_refused_by_name(self, duration):
        """A move out of years 1 to 9999 is refused, naming it; the clock stays where it was.

        Before: pendulum's "year 10025 is out of range" or the timedelta's OverflowError,
        naming no argument of the call.
        """
        clock = FakeClock()
        before = clock.now()
        with pytest.raises(
            ValueError, match=r"advance\((days|years|months)=.* leaves the calendar"
        ):
            clock.advance(**duration)
        assert before is clock.now()

    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf], ids=str)
    def test_advancing_by_no_finite_number_is_refused_as_such(self, value):
        """``advance(days=nan)`` was said to leave the calendar; it is no finite duration."""
        clock = FakeClock()
        before = clock.now()
        with pytest.raises(ValueError, match=r"a duration must be a finite number"):
            clock.advance(hours=1, days=value)
        assert before is clock.now()

    def test_advancing_by_true_is_refused(self):
        """``advance(days=True)`` moved one day: a bool is no duration."""
        clock = FakeClock()
        before = clock.now()
        with pytest.raises(TypeError, match=r"advance\(days=True\): a duration must be a number"):
            clock.advance(days=True)
        assert before is clock.now()

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
        with pytest.raises(ValueError, match=r"has no stage 'limbo'"):
            make_application(pipeline, requisition, stage="limbo")

    def test_recording_hook_sees_factory_events(self, pipeline, recorder, requisition):
        """The recording hook keeps each Fired, in order."""
        make_application(pipeline, requisition, stage="debrief")
        assert ["start_debrief"] == recorder.events
