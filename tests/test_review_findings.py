"""Regressions found by a second reader: each refused or contained as it should be."""

from __future__ import annotations

import datetime as dt
import threading
from datetime import date

import pendulum
import pytest

from hirepipe import (
    ApprovalStep,
    CalendarError,
    Change,
    ConcurrentUpdate,
    EventSpec,
    Fired,
    GuardRejected,
    Pipeline,
    Policy,
    StageKind,
    StageSpec,
    TransitionNotAllowed,
    standard_policy,
)
from hirepipe.policy import EffectSpec
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START


def at_references(pipeline, requisition):
    application = make_application(pipeline, requisition, stage="approval")
    for approver in requisition.approvers:
        pipeline.fire(
            application, "record_approval", actor=approver, requisition=requisition, granted=True
        )
    return application


class TestBands:
    def test_approve_cannot_widen_the_budget(self, pipeline, requisition):
        """A band passed to approve must sit inside the budget narrowed by the approvals."""
        application = at_references(pipeline, requisition)
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "approve",
                actor="m",
                requisition=requisition,
                band={"minimum": 0, "maximum": 999_999, "currency": "USD"},
            )
        assert ("band_outside_budget",) == caught.value.codes
        pipeline.fire(
            application,
            "approve",
            actor="m",
            requisition=requisition,
            band={"minimum": 125_000, "maximum": 140_000, "currency": "USD"},
        )
        assert 140_000 == application.approved_band.maximum

    def test_revision_without_pay_steps_stays_in_band(self, clock):
        """With no pay step to re-approve it, a revision outside the band is refused."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        requisition = make_requisition(approvers=[])
        application = make_application(pipeline, requisition, stage="negotiation")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application, "revise_offer", actor="m", requisition=requisition, salary=9_999_999
            )
        assert ("pay_outside_band",) == caught.value.codes

    def test_a_later_denial_withdraws_a_covering_grant(self, pipeline, clock, requisition):
        """The approver's latest decision counts: a denial after a covering grant blocks."""
        application = make_application(pipeline, requisition, stage="negotiation")
        wide = {"minimum": 150_000, "maximum": 200_000, "currency": "USD"}
        clock.advance(hours=1)
        pipeline.fire(
            application,
            "record_approval",
            actor="cfo",
            requisition=requisition,
            granted=True,
            band=wide,
        )
        clock.advance(hours=1)
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=False
        )
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application, "revise_offer", actor="m", requisition=requisition, salary=180_000
            )
        assert ("pay_outside_band",) == caught.value.codes


class TestReferences:
    def test_completion_needs_notice_and_contact(self, pipeline, requisition):
        """A reference is completed only after the notice and the contact."""
        application = make_application(pipeline, requisition, stage="references")
        pipeline.fire(application, "add_reference", actor="m", referee="r", contact="x")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application, "complete_reference", actor="m", referee="r", outcome="satisfactory"
            )
        assert ("reference_notice_missing", "referee_not_contacted") == caught.value.codes


class TestRetargeting:
    def test_approvals_do_not_follow_to_another_requisition(self, pipeline, requisition):
        """Reactivated for another requisition, a candidate needs its own approvals and band."""
        application = make_application(pipeline, requisition, stage="declined")
        pipeline.fire(
            application, "keep_warm", actor="m", warm_until=application.created_at.add(months=3)
        )
        cheaper = make_requisition(
            id="req-2", budget={"minimum": 40_000, "maximum": 50_000, "currency": "USD"}
        )
        pipeline.fire(application, "reactivate", actor="m", requisition=cheaper)
        assert ((), None, None) == (
            application.approvals,
            application.approved_band,
            application.proposed_salary,
        )
        pipeline.fire(
            application, "request_approval", actor="m", requisition=cheaper, salary=45_000
        )
        codes = [b.code for b in pipeline.blockers(application, "approve", requisition=cheaper)]
        assert ["approvals_missing"] == codes

    def test_hold_and_resume_keep_the_approval_round(self, pipeline, clock, requisition):
        """Approvals given before a hold still count after the resume, in guard and deadline."""
        from hirepipe.timeline.deadlines import DeadlineKind, ServiceLevels

        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=True
        )
        pipeline.fire(application, "hold", actor="m", reason="freeze")
        clock.advance(days=1)
        pipeline.fire(application, "resume", actor="m", reason="thaw")
        assert [] == pipeline.blockers(application, "approve", requisition=requisition)
        levels = ServiceLevels(pipeline.policy)
        (deadline,) = [
            d for d in levels.deadlines(application, requisition) if d.kind is DeadlineKind.approval
        ]
        assert ("maria",) == deadline.owed_by


class TestPipelineContract:
    def test_retried_hook_sees_the_application_as_the_event_left_it(self, clock, requisition):
        """A failed hook is retried with the state right after its event, not a later one."""
        seen: list[str] = []

        def fragile(fired: Fired) -> None:
            if fired.record.event == "start_debrief" and not seen:
                seen.append("failed")
                raise ConnectionError("down")
            seen.append(fired.application.stage)

        pipeline = Pipeline(standard_policy(), clock=clock, hooks=[fragile])
        application = make_application(pipeline, requisition)
        pipeline.fire(application, "start_debrief", actor="m")
        pipeline.fire(application, "withdraw", actor="cand-1")
        assert 0 == pipeline.retry_failed_hooks()
        assert ["failed", "withdrawn", "debrief"] == seen

    def test_two_accepts_on_one_headcount(self, clock):
        """Two threads accepting the last headcount at once: one is hired, one is told."""
        barrier = threading.Barrier(2, timeout=5)

        def together(ctx):
            """Both guards pass before either commits."""
            barrier.wait()
            yield from ()

        policy = standard_policy().with_guard("accept", together)
        pipeline = Pipeline(policy, clock=clock)
        requisition = make_requisition(headcount=2)
        first = make_application(pipeline, requisition, stage="offer")
        second = make_application(pipeline, requisition, stage="offer", candidate=make_candidate(2))
        requisition.headcount = 1
        outcomes: list[object] = []

        def accept(application):
            try:
                pipeline.fire(application, "accept", actor="c", requisition=requisition)
                outcomes.append("hired")
            except ConcurrentUpdate as error:
                outcomes.append(type(error).__name__)

        threads = [threading.Thread(target=accept, args=(a,)) for a in (first, second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ["ConcurrentUpdate", "hired"] == sorted(outcomes)
        assert (1, 1) == (requisition.filled, [first.stage, second.stage].count("hired"))

    def test_actor_is_stored_stripped(self, pipeline, requisition):
        """An actor with surrounding spaces is recorded as validated, and round-trips."""
        application = make_application(pipeline, requisition)
        record = pipeline.fire(application, "note", actor="  maria ", text="hi")
        assert "maria" == record.actor
        assert application == type(application).model_validate_json(application.model_dump_json())

    def test_event_must_be_a_name(self, pipeline, requisition):
        """An event that is not a string is refused as unknown."""
        application = make_application(pipeline, requisition)
        with pytest.raises(TransitionNotAllowed):
            pipeline.fire(application, ["note"], actor="m")  # type: ignore[arg-type]

    def test_naive_clock_is_a_calendar_error(self, requisition):
        """A clock that returns naive datetimes is refused with a hirepipe error."""

        class Naive:
            def now(self):
                return dt.datetime(2025, 1, 6, 9)

        pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
        application = make_application(pipeline, requisition)
        pipeline.clock = Naive()
        with pytest.raises(CalendarError, match="no time zone"):
            pipeline.fire(application, "start_debrief", actor="m")
        assert 0 == application.version

    def test_requisition_change_needs_the_requisition(self, clock):
        """An effect that changes the requisition refuses to apply without one."""

        def fill(ctx):
            return Change(requisition={"filled": 1})

        policy = Policy(
            name="p",
            version="1",
            initial="a",
            stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
            events=[EventSpec("go", ("a",), "b", effect=EffectSpec("fill", fill))],
        )
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), make_requisition())
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "go", actor="m")
        assert ("requisition_required",) == caught.value.codes
        assert "a" == application.stage


def test_policies_with_other_effects_differ():
    """Two policies whose effects differ under one name are not equal."""

    def other_note(ctx):
        return Change()

    standard = standard_policy()
    spec = standard.events["note"]
    changed = standard.with_event(
        EventSpec(
            spec.name,
            spec.sources,
            spec.dest,
            effect=EffectSpec("note", other_note, spec.data_model),
            description=spec.description,
        )
    )
    assert standard.to_dict() == changed.to_dict()
    assert standard != changed


def test_approval_reminders_reach_chain_approvers():
    """An overdue step of an approval chain reminds its own approvers."""
    from hirepipe.notify import Notifier, Outbox

    clock = FakeClock(START)
    pipeline = Pipeline(standard_policy(), clock=clock)
    chain = (ApprovalStep(name="finance", approvers=("cfo@example.com",)),)
    requisition = make_requisition(approvers=[], approval_chain=chain)
    application = make_application(pipeline, requisition, stage="approval")
    clock.advance(days=30)
    notifier = Notifier(Outbox(), pipeline.policy)
    made = notifier.sweep([application], [requisition], clock.now())
    reminders = [n for n in made if n.rule == "approval_reminder"]
    assert ["cfo@example.com"] == [n.to for n in reminders]
    assert date(2025, 1, 6) == START.date()
    assert pendulum.DateTime is type(clock.now())
