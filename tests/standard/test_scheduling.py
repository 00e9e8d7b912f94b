"""Scheduling the next round in steps, each with a deadline and an owner in the sweep."""

from __future__ import annotations

import pendulum
import pytest

from hirepipe import GuardRejected, Pipeline, Policy, standard_policy
from hirepipe.notify import Notifier, Outbox, Templates
from hirepipe.policy import FollowUp
from hirepipe.standard import standard_registry
from hirepipe.testing import FakeClock, make_application, make_requisition
from hirepipe.timeline import BusinessCalendar, ServiceLevels
from tests.conftest import START
from tests.standard.test_feedback import dump_everywhere

POLICY = standard_policy(next_round_scheduling=True)


@pytest.fixture
def world():
    clock = FakeClock(START, calendar=BusinessCalendar("US", time_zone="America/New_York"))
    outbox = Outbox()
    notifier = Notifier(outbox, POLICY, templates=Templates())
    pipeline = Pipeline(POLICY, clock=clock, hooks=[notifier])
    return pipeline, clock, outbox, notifier, make_requisition(recruiter="rita")


def in_next_round(pipeline, requisition, **data):
    application = make_application(pipeline, requisition, stage="review")
    pipeline.fire(
        application,
        "schedule_next_round",
        actor="maria",
        requisition=requisition,
        interviewers=["carol"],
        **data,
    )
    return application


def scheduling(levels, application, requisition):
    """The open scheduling deadlines: (kind, owed by)."""
    return [
        (d.kind, d.owed_by)
        for d in levels.deadlines(application, requisition)
        if d.kind in {"availability_request", "availability", "interview_slots", "slot_choice"}
    ]


class TestNextRoundScheduling:
    def test_each_step_leaves_the_next_owed_by_its_owner(self, world):
        """Recruiter asks, candidate answers, recruiter proposes, candidate picks: in turn."""
        pipeline, clock, outbox, _notifier, requisition = world
        levels = ServiceLevels(POLICY)
        application = in_next_round(pipeline, requisition)
        steps = [
            ("rita", "request_availability", {}),
            ("cand-1", "give_availability", {"text": "Tuesday or Wednesday afternoon"}),
            ("rita", "propose_slots", {"slots": [clock.now().add(days=2)]}),
            ("cand-1", "schedule_interview", {"scheduled_at": clock.now().add(days=2)}),
        ]
        owed = [scheduling(levels, application, requisition)]
        for actor, event, data in steps:
            pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
            owed.append(scheduling(levels, application, requisition))
        assert [
            [("availability_request", ("rita",))],
            [("availability", ("cand-1",))],
            [("interview_slots", ("rita",))],
            [("slot_choice", ("cand-1",))],
            [],
        ] == owed
        assert clock.now().add(days=2) == application.interview().scheduled_at
        rules = [n.rule for n in outbox.for_application(application.id)]
        for rule in ("availability_request", "interview_slots", "interview_scheduled"):
            assert rule in rules
        (slots,) = [
            n for n in outbox.for_application(application.id) if n.rule == "interview_slots"
        ]
        assert "please choose one of these times" in (
            Templates().render(slots.template, slots.facts).text
        )

    def test_waiting_on_slots_shows_overdue_and_leaves_once_scheduled(self, world):
        """Availability given, no slots proposed in time: overdue for the recruiter, until then."""
        pipeline, clock, _outbox, notifier, requisition = world
        levels = ServiceLevels(POLICY)
        application = in_next_round(pipeline, requisition)
        pipeline.fire(application, "request_availability", actor="rita", requisition=requisition)
        pipeline.fire(application, "give_availability", actor="cand-1", text="Any morning")
        days = POLICY.settings.slot_proposal_days
        clock.advance_business_days(days)
        assert [] == levels.overdue([application], [requisition], clock.now())
        clock.advance(minutes=1)
        (late,) = levels.overdue([application], [requisition], clock.now())
        assert ("interview_slots", ("rita",), "next_round") == (late.kind, late.owed_by, late.stage)
        reminders = notifier.sweep([application], [requisition], clock.now())
        assert [("interview_slots_reminder", "rita")] == [(n.rule, n.to) for n in reminders]

        pipeline.fire(
            application,
            "schedule_interview",
            actor="rita",
            requisition=requisition,
            scheduled_at=clock.now().add(days=1),
        )
        assert [] == levels.overdue([application], [requisition], clock.now())

    def test_a_round_scheduled_at_once_owes_nothing(self, world):
        """``schedule_next_round`` with a time needs no scheduling steps."""
        pipeline, clock, _outbox, _notifier, requisition = world
        application = in_next_round(pipeline, requisition, scheduled_at=clock.now().add(days=3))
        assert [] == scheduling(ServiceLevels(POLICY), application, requisition)

    def test_a_hold_hides_the_step_and_a_resume_shows_it(self, world):
        """Deadlines are open only in next_round: paused, they wait; resumed, they are back."""
        pipeline, _clock, _outbox, _notifier, requisition = world
        levels = ServiceLevels(POLICY)
        application = in_next_round(pipeline, requisition)
        pipeline.fire(application, "hold", actor="maria", requisition=requisition, reason="freeze")
        assert [] == scheduling(levels, application, requisition)
        pipeline.fire(application, "resume", actor="maria", requisition=requisition, reason="go")
        assert [("availability_request", ("rita",))] == scheduling(levels, application, requisition)

    def test_a_new_round_starts_afresh(self, world):
        """An unfinished step of one round does not come back in the next."""
        pipeline, clock, _outbox, _notifier, requisition = world
        levels = ServiceLevels(POLICY)
        application = in_next_round(pipeline, requisition)
        pipeline.fire(application, "request_availability", actor="rita", requisition=requisition)
        # the round was arranged by phone, held, debriefed; then another round
        pipeline.fire(application, "round_held", actor="maria", requisition=requisition)
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        for person in ("carol",):
            pipeline.fire(application, "submit_scorecard", actor=person, recommendation="yes")
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        clock.advance(hours=2)
        again = pipeline.fire(
            application,
            "schedule_next_round",
            actor="maria",
            requisition=requisition,
            interviewers=["dave"],
        ).record
        owed = [d for d in levels.deadlines(application, requisition) if d.stage == "next_round"]
        assert [("availability_request", ("rita",), again.at)] == [
            (d.kind, d.owed_by, d.since) for d in owed if d.kind != "candidate_update"
        ]

    @pytest.mark.parametrize(
        ("actor", "event", "data", "code"),
        [
            ("cand-1", "give_availability", {"text": " "}, "availability_missing"),
            ("rita", "propose_slots", {"slots": ["past"]}, "time_in_past"),
            ("cand-1", "schedule_interview", {"scheduled_at": "past"}, "time_in_past"),
            ("rita", "propose_slots", {"slots": ["future", "far"]}, "time_too_far"),
            ("cand-1", "schedule_interview", {"scheduled_at": "far"}, "time_too_far"),
            ("rita", "give_availability", {"text": "Mondays"}, "not_permitted"),
            ("cand-1", "propose_slots", {"slots": ["future"]}, "not_permitted"),
        ],
        ids=[
            "blank-availability",
            "past-slot",
            "past-time",
            "far-slot",
            "far-time",
            "recruiter-as-candidate",
            "cand",
        ],
    )
    def test_refusals_change_nothing(self, world, actor, event, data, code):
        """Blank availability, times in the past, or acting in another's name are refused."""
        pipeline, clock, _outbox, _notifier, requisition = world
        application = in_next_round(pipeline, requisition)
        times = {
            "past": clock.now().subtract(hours=1),
            "future": clock.now().add(days=1),
            # a slip of the year: the candidate's message could not even be rendered in Tokyo
            "far": pendulum.datetime(5000, 12, 31, 20, tz="UTC"),
        }
        data = {
            key: [times[v] for v in value] if isinstance(value, list) else times.get(value, value)
            for key, value in data.items()
        }
        before = application.model_dump_json()
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
        assert code in caught.value.codes
        assert before == application.model_dump_json()

    def test_availability_recorded_for_the_candidate(self, world):
        """An answer by phone is recorded by the recruiter for the candidate, who is told."""
        pipeline, _clock, outbox, _notifier, requisition = world
        application = in_next_round(pipeline, requisition)
        record = pipeline.fire(
            application,
            "give_availability",
            actor="rita",
            requisition=requisition,
            on_behalf_of="cand-1",
            text="Thursdays",
        ).record
        assert ("rita", "cand-1") == (record.actor, record.data["on_behalf_of"])
        assert "acted_for_you" in {n.rule for n in outbox.for_application(application.id)}


class TestOptional:
    def test_off_by_default(self):
        """The standard policy schedules a round in one event, with no follow-up."""
        policy = standard_policy()
        assert policy.events["schedule_next_round"].follow_up is None
        assert "propose_slots" not in policy.events

    def test_round_trips(self, tmp_path):
        """The policy loads back equal from TOML, YAML and JSON, follow-ups included."""
        for path in dump_everywhere(POLICY, tmp_path):
            loaded = Policy.from_file(path, registry=standard_registry())
            assert POLICY == loaded
            assert dict(POLICY.follow_ups) == dict(loaded.follow_ups)
            assert all(isinstance(f, FollowUp) for f in loaded.follow_ups.values())

    def test_all_parts_together(self):
        """The three optional parts combine into one valid policy."""
        policy = standard_policy(
            feedback_requests=True, keep_in_touch_from_rejection=True, next_round_scheduling=True
        )
        assert {"request_feedback", "schedule_next_round", "propose_slots"} <= set(
            policy.follow_ups
        )
