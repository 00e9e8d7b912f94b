"""The Pipeline facade: errors that explain themselves, atomic transitions, hooks, queries."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import sys
import threading
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from hirepipe import (
    Application,
    Blocker,
    CalendarError,
    Change,
    ConcurrentUpdate,
    Context,
    EventSpec,
    Fired,
    GuardRejected,
    HirepipeError,
    Pipeline,
    Policy,
    PolicyError,
    Requisition,
    RequisitionMismatch,
    StageKind,
    StageSpec,
    TransitionNotAllowed,
    standard_policy,
)
from hirepipe.policy import EffectSpec, GuardSpec
from hirepipe.testing import (
    FakeClock,
    RecordingHook,
    make_application,
    make_candidate,
    make_requisition,
)
from tests.conftest import START
from tests.leaks import leaked, logged


class TestErrors:
    def test_event_not_from_this_stage(self, pipeline, requisition):
        """An event that does not exist from the stage names the events that do."""
        application = make_application(pipeline, requisition)
        with pytest.raises(TransitionNotAllowed) as caught:
            pipeline.fire(application, "accept", actor="maria", requisition=requisition)
        error = caught.value
        assert (application.id, "interviewed", "accept", True) == (
            error.application_id,
            error.stage,
            error.event,
            error.known,
        )
        assert "start_debrief" in error.allowed
        assert "cannot 'accept' application" in str(error)
        assert "events from 'interviewed': start_debrief, reject, withdraw" in str(error)

    def test_unknown_event(self, pipeline, requisition):
        """An event the policy does not define says so."""
        application = make_application(pipeline, requisition)
        with pytest.raises(TransitionNotAllowed, match="the policy has no event 'hire_now'"):
            pipeline.fire(application, "hire_now", actor="maria", requisition=requisition)
        with pytest.raises(TransitionNotAllowed):
            pipeline.blockers(application, "hire_now")

    def test_terminal_stage_lists_no_events(self, pipeline, requisition):
        """From a final stage, the message says there is nothing left to do."""
        application = make_application(pipeline, requisition, stage="withdrawn")
        with pytest.raises(TransitionNotAllowed) as caught:
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert (
            "note",
            "thank_you_received",
            "inquiry",
            "thank_you_sent",
            "status_update",
        ) == caught.value.allowed

    def test_guard_rejected_carries_blockers(self, pipeline, requisition):
        """A refused event carries every blocker, each with a code, message and data."""
        application = make_application(pipeline, requisition, stage="review")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "reject", actor="maria", requisition=requisition)
        assert ("rejection_reason_missing", "feedback_missing") == caught.value.codes
        assert all(b.needs_input for b in caught.value.blockers)
        assert isinstance(caught.value, HirepipeError)
        as_dict = caught.value.blockers[0].to_dict()
        assert {"code", "message", "data", "needs_input"} == set(as_dict)

    def test_other_requisition_refused(self, pipeline, requisition):
        """Firing with another requisition's data is refused and changes nothing."""
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump_json()
        other = make_requisition(id="req-2")
        with pytest.raises(RequisitionMismatch) as caught:
            pipeline.fire(application, "request_approval", actor="maria", requisition=other)
        assert ("req-1", "req-2") == (caught.value.expected, caught.value.given)
        with pytest.raises(RequisitionMismatch):
            pipeline.blockers(application, "request_approval", requisition=other)
        assert before == application.model_dump_json()

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"salary": "lots"}, "salary"),
            ({"salary": -5}, "salary"),
            ({"bonus": 5}, "bonus"),
        ],
        ids=["not-a-number", "negative", "unknown-key"],
    )
    def test_bad_event_data_is_a_validation_error(self, pipeline, requisition, kwargs, field):
        """Malformed event data raises ValidationError naming the field; nothing changes."""
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump_json()
        with pytest.raises(ValidationError) as caught:
            pipeline.fire(
                application, "request_approval", actor="maria", requisition=requisition, **kwargs
            )
        assert field == caught.value.errors()[0]["loc"][0]
        assert before == application.model_dump_json()

    @pytest.mark.parametrize("actor", ["", "   ", 7], ids=["empty", "blank", "not-a-string"])
    def test_actor_required(self, pipeline, requisition, actor):
        """Every record names its actor."""
        application = make_application(pipeline, requisition)
        with pytest.raises(ValidationError):
            pipeline.fire(application, "start_debrief", actor=actor)
        assert 0 == application.version


class TestConcurrency:
    def test_expected_version_compare_and_set(self, pipeline, requisition):
        """A writer holding an old version is told, with both versions, and changes nothing."""
        application = make_application(pipeline, requisition)
        pipeline.fire(
            application, "start_debrief", actor="maria", requisition=requisition, expected_version=0
        )
        with pytest.raises(ConcurrentUpdate) as caught:
            pipeline.fire(application, "withdraw", actor="cand-1", expected_version=0)
        assert (0, 1) == (caught.value.expected, caught.value.actual)
        assert "reload it and try again" in str(caught.value)
        assert "debrief" == application.stage

    def test_threads_on_one_application_lose_nothing(self, clock, requisition):
        """Eight threads adding notes to one application: every note is kept, versions in order."""
        pipeline = Pipeline(clock=clock)
        application = make_application(pipeline, requisition)
        conflicts: list[ConcurrentUpdate] = []

        def work(worker: int) -> None:
            for n in range(50):
                while True:
                    try:
                        pipeline.fire(
                            application,
                            "note",
                            actor="maria",
                            requisition=requisition,
                            expected_version=application.version,
                            text=f"{worker}-{n}",
                        )
                        break
                    except ConcurrentUpdate as exc:
                        conflicts.append(exc)

        threads = [threading.Thread(target=work, args=(w,)) for w in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert 400 == application.version == len(application.history)
        assert list(range(1, 401)) == [r.version for r in application.history]
        texts = sorted(str(r.data["text"]) for r in application.history)
        assert sorted(f"{w}-{n}" for w in range(8) for n in range(50)) == texts

    def test_two_threads_moving_one_application_refuse_with_concurrent_update(
        self, clock, requisition
    ):
        """Two threads fire on one application at once: one applies, the other is told so.

        The loser read the stage before the winner committed; it must hear ConcurrentUpdate,
        never "policy and machine disagree" (the stage was read twice, once after the winner
        moved it) nor the guards' verdict on a state it never read. 300 trials, with thread
        switches forced often so the two interleave.
        """
        pipeline = Pipeline(clock=clock)
        offer = make_application(pipeline, requisition, stage="offer")
        attempts = [
            ("decline", {"actor": offer.candidate.id}),
            (
                "reject",
                {
                    "actor": "maria",
                    "requisition": requisition,
                    "reason": "stronger_candidate",
                    "feedback": "another fit better",
                },
            ),
        ]
        outcomes: list[tuple[str, str]] = []
        switching = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            for _ in range(300):
                application = offer.model_copy(deep=True)
                barrier = threading.Barrier(2, timeout=5)

                def fire(
                    event: str, data: dict[str, Any], application=application, barrier=barrier
                ) -> None:
                    barrier.wait()
                    try:
                        pipeline.fire(application, event, expected_version=offer.version, **data)
                        outcomes.append((event, "applied"))
                    except HirepipeError as exc:  # anything else escapes and fails the test
                        outcomes.append((event, type(exc).__name__))
                    except RuntimeError as exc:
                        outcomes.append((event, f"RuntimeError: {exc}"))

                threads = [threading.Thread(target=fire, args=attempt) for attempt in attempts]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                applied = [event for event, outcome in outcomes[-2:] if outcome == "applied"]
                assert (1, [offer.version + 1]) == (
                    len(applied),
                    [application.version],
                ), outcomes[-2:]
                assert application.history[-1].event == applied[0]
        finally:
            sys.setswitchinterval(switching)
        refusals = {outcome for _, outcome in outcomes if outcome != "applied"}
        assert {"ConcurrentUpdate"} == refusals

    @pytest.mark.parametrize("where", ["guard", "effect"], ids=["guard", "effect"])
    def test_a_refusal_on_a_state_changed_meanwhile_is_a_concurrent_update(self, clock, where):
        """A guard that blocks, or an effect that raises, after another commit: ConcurrentUpdate.

        Another thread commits on the application while the event is being decided; what
        the guard or effect concluded was about a state the caller never read.
        """
        pipeline: Pipeline

        def interloper() -> None:
            """Another thread commits a note on the application, and is waited for."""
            thread = threading.Thread(
                target=lambda: pipeline.fire(application, "note", actor="other")
            )
            thread.start()
            thread.join()

        def blocks(ctx):
            interloper()
            yield Blocker("changed", "what this guard saw changed")

        def raises(ctx):
            interloper()
            raise ValueError("what this effect saw changed")

        policy = Policy(
            name="racing",
            version="1",
            initial="a",
            stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
            events=[
                EventSpec(
                    "go",
                    ("a",),
                    "b",
                    guards=(GuardSpec.of(blocks),) if where == "guard" else (),
                    effect=EffectSpec("raises", raises) if where == "effect" else None,
                ),
                EventSpec("note", ("a",), None),
            ],
        )
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), make_requisition())
        with pytest.raises(ConcurrentUpdate) as refused:
            pipeline.fire(application, "go", actor="maria")
        assert (0, 1, "a") == (refused.value.expected, refused.value.actual, application.stage)
        assert ["note"] == [record.event for record in application.history]


def _exploding_policy() -> Policy:
    def explode(ctx):
        raise RuntimeError("effect failed")

    def bad_value(ctx):
        return Change({"round": "not a number"})

    def bad_requisition(ctx):
        return Change({"proposed_salary": 5}, requisition={"headcount": 0})

    return Policy(
        name="exploding",
        version="1",
        initial="a",
        stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
        events=[
            EventSpec("boom", ("a",), "b", effect=EffectSpec("boom", explode)),
            EventSpec("bad", ("a",), "b", effect=EffectSpec("bad", bad_value)),
            EventSpec("bad_req", ("a",), "b", effect=EffectSpec("bad_req", bad_requisition)),
            EventSpec("fine", ("a",), "b"),
        ],
    )


class TestAtomicity:
    @pytest.mark.parametrize(
        ("event", "error"),
        [("boom", RuntimeError), ("bad", ValidationError), ("bad_req", ValidationError)],
        ids=["effect-raises", "effect-returns-bad-value", "effect-breaks-requisition"],
    )
    def test_failing_effect_changes_nothing(self, clock, requisition, event, error):
        """An effect that raises, or returns invalid values, leaves everything as it was."""
        pipeline = Pipeline(_exploding_policy(), clock=clock)
        application = pipeline.new_application(make_candidate(), requisition)
        before, req_before = application.model_dump_json(), requisition.model_dump_json()
        with pytest.raises(error):
            pipeline.fire(application, event, actor="x", requisition=requisition)
        assert before == application.model_dump_json()
        assert req_before == requisition.model_dump_json()
        pipeline.fire(application, "fine", actor="x")
        assert "b" == application.stage

    def test_records_carry_policy_version(self, pipeline, requisition):
        """Every record names the policy and version it was made under."""
        application = make_application(pipeline, requisition, stage="offer")
        assert {"standard@1"} == {r.policy for r in application.history}


class TestHooks:
    def test_hooks_receive_every_record(self, pipeline, recorder, requisition):
        """Hooks see every applied event, activities included, in order."""
        application = make_application(pipeline, requisition, stage="review")
        assert [r.event for r in application.history] == recorder.events
        fired = recorder.calls[-1]
        assert isinstance(fired, Fired)
        assert fired.application is application
        assert application.history[-1] is fired.record

    def test_fired_is_frozen_and_compares_by_its_parts(self, pipeline, recorder, requisition):
        """No hook can rewrite what the next one sees; a Fired equals one built of its parts."""
        make_application(pipeline, requisition, stage="debrief")
        fired = recorder.calls[-1]
        with pytest.raises(dataclasses.FrozenInstanceError):
            fired.record = fired.record  # type: ignore[misc]
        copy = Fired(fired.record, fired.application, fired.requisition, fired.policy)
        assert copy == fired
        assert (fired.record, fired.application, fired.requisition, fired.policy) == (
            copy.record,
            copy.application,
            copy.requisition,
            copy.policy,
        )
        assert repr(copy) == repr(fired)

    def test_refused_events_reach_no_hook(self, pipeline, recorder, requisition):
        """A refused event notifies nobody."""
        application = make_application(pipeline, requisition, stage="debrief")
        seen = len(recorder.calls)
        with pytest.raises(GuardRejected):
            pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert seen == len(recorder.calls)

    def test_failing_hook_never_undoes_and_is_retried(self, clock, requisition, caplog):
        """A hook that raises keeps the transition; the failure is kept and retried."""
        attempts: list[str] = []

        def flaky(fired: Fired) -> None:
            attempts.append(fired.record.event)
            if len(attempts) == 1:
                raise ConnectionError("mail server down")

        recorder = RecordingHook()
        pipeline = Pipeline(clock=clock, hooks=[flaky, recorder])
        application = make_application(pipeline, requisition)
        with caplog.at_level(logging.ERROR, logger="hirepipe"):
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert "debrief" == application.stage
        assert ["start_debrief"] == recorder.events  # later hooks still ran
        (failure,) = pipeline.hook_failures
        assert ("start_debrief", "mail server down") == (
            failure.fired.record.event,
            str(failure.error),
        )
        assert "kept for retry" in caplog.text
        assert 0 == pipeline.retry_failed_hooks()
        assert ["start_debrief", "start_debrief"] == attempts
        assert () == pipeline.hook_failures

    def test_a_failing_hook_logs_no_personal_data(self, clock, requisition, caplog):
        """The log says the hook, the event and the error's class; the error is kept for the host.

        The error's message (an SMTP refusal repeats the recipient) and a hook's repr (a
        partial's arguments) stay out of the log: it is never erased.
        """

        class SMTPRecipientsRefused(Exception):
            pass

        def send(address: str, fired: Fired) -> None:
            raise SMTPRecipientsRefused(f"{address}: 550 mailbox unavailable")

        address = "candidate1@example.com"
        pipeline = Pipeline(clock=clock, hooks=[functools.partial(send, address)])
        with caplog.at_level(logging.DEBUG, logger="hirepipe"):
            application = make_application(pipeline, requisition)
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert [] == leaked(logged(caplog), [address, "Candidate 1"])
        assert "SMTPRecipientsRefused" in caplog.text
        assert "<locals>.send) failed on start_debrief" in caplog.text  # the hook, by name
        assert "start_debrief" in caplog.text
        assert application.id in caplog.text
        (failure,) = pipeline.hook_failures
        assert address in str(failure.error)  # the host asked for it: it has it all

    def test_retry_keeps_what_still_fails(self, clock, requisition):
        """A hook that keeps failing stays in the failure list."""

        def down(fired: Fired) -> None:
            raise ConnectionError("down")

        pipeline = Pipeline(clock=clock, hooks=[down])
        application = make_application(pipeline, requisition)
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert 1 == pipeline.retry_failed_hooks()
        assert 1 == len(pipeline.hook_failures)


class TestQueries:
    def test_available_from_review(self, pipeline, requisition):
        """available() lists what can fire now, counting data the caller can still give."""
        application = make_application(pipeline, requisition, stage="review")
        assert [
            "schedule_next_round",
            "request_approval",
            "reject",
            "withdraw",
            "keep_warm",
            "hold",
        ] == pipeline.available(application, requisition=requisition)

    def test_available_leaves_out_state_blocked_events(self, pipeline, requisition):
        """An event blocked by the application's state is not available."""
        application = make_application(pipeline, requisition, stage="debrief")
        assert "complete_debrief" not in pipeline.available(application)
        assert "submit_scorecard" in pipeline.available(application, activities=True)

    def test_blockers_for_wrong_stage(self, pipeline, requisition):
        """Asking about an event from the wrong stage gives one wrong_stage blocker."""
        application = make_application(pipeline, requisition)
        (blocker,) = pipeline.blockers(application, "accept")
        assert "wrong_stage" == blocker.code
        assert "start_debrief" in blocker.data["allowed"]

    def test_blockers_empty_when_event_can_fire(self, pipeline, requisition):
        """No blockers means fire will succeed."""
        application = make_application(pipeline, requisition)
        assert [] == pipeline.blockers(application, "start_debrief")

    def test_new_application_defaults(self, pipeline, clock, requisition):
        """A new application starts in the initial stage, round 1, version 0, interview held."""
        application = pipeline.new_application(
            make_candidate(), requisition, interviewers=["a"], application_id="app-1"
        )
        assert ("app-1", "interviewed", 1, 0, clock.now()) == (
            application.id,
            application.stage,
            application.round,
            application.version,
            application.interview().held_at,
        )
        assert ["interviewed"] == list(application.stages_visited())

    def test_repr_names_policy(self, pipeline):
        """The pipeline's repr says which policy it runs."""
        assert repr(pipeline).startswith("Pipeline(Policy('standard@1'")
        assert "standard@1" == standard_policy().label


class TestCustomEffects:
    def _policy(self, effect):
        return Policy(
            name="custom",
            version="2",
            initial="a",
            stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
            events=[EventSpec("go", ("a",), "b", effect=EffectSpec("go", effect))],
        )

    def test_untrusted_effect_is_validated_and_recorded_as_json(self, clock, requisition):
        """A policy's own effect has its changes validated and its derived facts JSON-ified."""
        from decimal import Decimal

        def go(ctx):
            return Change(
                {"proposed_salary": "120000.50"},
                record_data={"when": date(2025, 1, 2), "amount": Decimal("1.5")},
                requisition={"headcount": 3},
            )

        pipeline = Pipeline(self._policy(go), clock=clock)
        application = pipeline.new_application(make_candidate(), requisition)
        record = pipeline.fire(application, "go", actor="x", requisition=requisition).record
        assert {"when": "2025-01-02", "amount": "1.5"} == record.data
        assert "120000.50" == str(application.proposed_salary)
        assert 3 == requisition.headcount
        assert "custom@2" == record.policy

    def test_blockers_with_malformed_data_raise(self, pipeline, requisition):
        """Asking with malformed data is a ValidationError, not a blocker."""
        application = make_application(pipeline, requisition, stage="debrief")
        with pytest.raises(ValidationError):
            pipeline.blockers(application, "submit_scorecard", recommendation="maybe")

    def test_blockers_name_missing_required_data(self, pipeline, requisition):
        """Required data not given yet is a needs-input blocker naming the field."""
        application = make_application(pipeline, requisition, stage="debrief")
        (blocker,) = pipeline.blockers(application, "submit_scorecard", actor="alice")
        assert ("data_missing", {"field": "recommendation"}, True) == (
            blocker.code,
            dict(blocker.data),
            blocker.needs_input,
        )


class TestDiagrams:
    def test_dot_names_every_stage_once(self, policy):
        """The Graphviz rendering declares each stage, terminal ones as double circles."""
        dot = policy.to_dot()
        assert dot.startswith('digraph "standard@1" {')
        for name, spec in policy.stages.items():
            shape = "doublecircle" if spec.terminal else "ellipse"
            assert 1 == dot.count(f'    "{name}" [shape={shape}'), name
        assert '"any_open_stage" -> "rejected" [label="reject [rejection_explained]"];' in dot

    def test_mermaid_draws_selectors_once(self, policy):
        """Events from every open stage are drawn once, from a pseudo-state."""
        mermaid = policy.to_mermaid()
        assert 1 == mermaid.count("--> rejected: reject")
        assert "on_hold --> previous_stage: resume [reason_given]" in mermaid


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
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
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
                actor = application.candidate.id
                pipeline.fire(application, "accept", actor=actor, requisition=requisition)
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
        record = pipeline.fire(
            application, "note", actor="  maria ", requisition=requisition, text="hi"
        ).record
        assert "maria" == record.actor
        assert application == type(application).model_validate_json(application.model_dump_json())

    def test_event_must_be_a_name(self, pipeline, requisition):
        """An event that is not a string is refused as unknown."""
        application = make_application(pipeline, requisition)
        with pytest.raises(TransitionNotAllowed):
            pipeline.fire(application, ["note"], actor="maria", requisition=requisition)  # type: ignore[arg-type]

    def test_naive_clock_is_a_calendar_error(self, requisition):
        """A clock that returns naive datetimes is refused with a hirepipe error."""

        class Naive:
            def now(self):
                return dt.datetime(2025, 1, 6, 9)

        pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
        application = make_application(pipeline, requisition)
        pipeline.clock = Naive()
        with pytest.raises(CalendarError, match="no time zone"):
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
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
            pipeline.fire(application, "go", actor="maria")
        assert ("requisition_required",) == caught.value.codes
        assert "a" == application.stage


class TestArgumentTypes:
    """Arguments of the wrong type are refused by name before anything changes."""

    def test_a_requisition_given_as_a_dict(self, pipeline, requisition):
        """requisition={...} is a TypeError saying what to pass, not an AttributeError."""
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump_json()
        as_dict = requisition.model_dump()
        with pytest.raises(TypeError, match=r"requisition must be a Requisition, not dict"):
            pipeline.fire(
                application, "request_approval", actor="maria", requisition=as_dict, salary=1
            )
        with pytest.raises(TypeError, match=r"requisition must be a Requisition, not dict"):
            pipeline.blockers(application, "request_approval", requisition=as_dict)
        assert before == application.model_dump_json()

    def test_an_application_given_as_a_dict(self, pipeline, requisition):
        """An application given as plain data is a TypeError saying how to build one."""
        application = pipeline.new_application(make_candidate(), requisition)
        with pytest.raises(TypeError, match=r"application must be an Application, not dict"):
            pipeline.fire(application.model_dump(), "note", actor="maria")

    @pytest.mark.parametrize("version", ["0", 0.0, True], ids=["str", "float", "bool"])
    def test_expected_version_of_another_type(self, pipeline, requisition, version):
        """expected_version="0" is a TypeError, not a confusing ConcurrentUpdate."""
        application = pipeline.new_application(make_candidate(), requisition)
        with pytest.raises(TypeError, match=r"expected_version must be an int"):
            pipeline.fire(application, "note", actor="maria", expected_version=version)


class TestStateCannotLie:
    """The engine refuses to work on, or to make, state that contradicts itself (issue 18)."""

    def test_firing_on_a_stage_the_policy_lacks_names_the_policy(self, pipeline, clock):
        """An application in a stage the policy does not define is refused, naming the policy."""
        application = Application(
            id="a",
            candidate=make_candidate(),
            requisition_id="req-1",
            stage="lost",
            created_at=START,
        )
        label = pipeline.policy.label
        for ask in (
            lambda: pipeline.fire(application, "note", actor="maria", text="hi"),
            lambda: pipeline.blockers(application, "note"),
            lambda: pipeline.available(application),
        ):
            with pytest.raises(TransitionNotAllowed) as caught:
                ask()
            message = str(caught.value)
            assert f"stage 'lost', which policy {label!r} does not define" in message
            assert "final" not in message
        assert 0 == application.version

    @pytest.mark.parametrize("field", ["id", "history", "version", "stage", "created_at"], ids=str)
    def test_an_effect_cannot_change_what_the_engine_owns(self, clock, requisition, field):
        """An effect that replaces the id, history, version, stage or creation is refused."""
        values = {
            "id": "someone-else",
            "history": [],
            "version": 0,
            "stage": "b",
            "created_at": START.add(days=1),
        }

        def forge(ctx):
            return Change({field: values[field]})

        for trusted in (False, True):
            policy = Policy(
                name="forger",
                version="1",
                initial="a",
                stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
                events=[
                    EventSpec(
                        "go", ("a",), None, effect=EffectSpec("forge", forge, trusted=trusted)
                    ),
                    EventSpec("end", ("a",), "b"),
                ],
            )
            pipeline = Pipeline(policy, clock=clock)
            application = pipeline.new_application(make_candidate(), requisition)
            before = application.model_dump_json()
            with pytest.raises(PolicyError, match=f"effect 'forge' of event 'go' changes {field}"):
                pipeline.fire(application, "go", actor="maria")
            assert before == application.model_dump_json()

    def test_an_effect_cannot_change_the_requisition_id(self, clock, requisition):
        """An effect that renames the requisition is refused; the requisition stays as it was."""

        def rename(ctx):
            return Change(requisition={"id": "req-9"})

        policy = Policy(
            name="p",
            version="1",
            initial="a",
            stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
            events=[EventSpec("go", ("a",), "b", effect=EffectSpec("rename", rename))],
        )
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), requisition)
        with pytest.raises(PolicyError, match="changes the requisition's id"):
            pipeline.fire(application, "go", actor="maria", requisition=requisition)
        assert ("req-1", "a") == (requisition.id, application.stage)

    @pytest.mark.parametrize(
        "actor",
        ["mal\x00lory", "mallory\r\nX-Admin: yes", "mal\u202elory"],
        ids=["nul", "crlf", "bidi"],
    )
    def test_actors_refuse_control_characters(self, pipeline, requisition, actor):
        """An actor with a NUL, a line break or an invisible control is refused; nothing changes."""
        application = make_application(pipeline, requisition)
        with pytest.raises(ValidationError, match="control or invisible character"):
            pipeline.fire(application, "note", actor=actor, text="hi")
        assert 0 == application.version


class TestPolicyGivenLater:
    def test_a_policy_given_later_decides_from_then_on(self):
        """A pipeline given another policy fires by its events and its transitions."""
        pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        pipeline.policy = standard_policy().without_stage("debrief")
        with pytest.raises(TransitionNotAllowed, match="no event 'start_debrief'"):
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        for person, card in (("alice", "yes"), ("bob", "strong_yes")):
            pipeline.fire(application, "submit_scorecard", actor=person, recommendation=card)
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert ("review", "interviewed") == (application.stage, application.history[-1].from_stage)

    def test_a_policy_given_while_others_fire_is_never_half_seen(self):
        """Threads firing while the policy is swapped each see one whole policy: none fails."""
        policies = [standard_policy(), standard_policy().without_stage("debrief")]
        pipeline = Pipeline(policies[0], clock=FakeClock(START))
        requisition = make_requisition()
        applications = [make_application(pipeline, requisition) for _ in range(4)]
        failures: list[BaseException] = []

        def notes(application: Any) -> None:
            try:
                for _ in range(200):
                    pipeline.fire(
                        application, "note", actor="maria", requisition=requisition, text="x"
                    )
            except BaseException as exc:  # the test reports any failure
                failures.append(exc)

        threads = [threading.Thread(target=notes, args=(a,)) for a in applications]
        for thread in threads:
            thread.start()
        for swap in range(400):
            pipeline.policy = policies[swap % 2]
        for thread in threads:
            thread.join()
        assert ([], [200] * 4) == (failures, [a.version for a in applications])


class TestSubclassedApply:
    def test_fire_goes_through_a_subclass_apply(self, policy, clock, requisition):
        """``fire`` is ``apply`` then the hooks: a subclass's own ``apply`` is what fires."""
        seen: list[tuple[str, str, dict[str, Any]]] = []

        class Audited(Pipeline):
            def apply(self, application: Application, event: str, **kwargs: Any) -> Fired:
                seen.append((application.id, event, dict(kwargs)))
                return super().apply(application, event, **kwargs)

        hook = RecordingHook()
        pipeline = Audited(policy, clock=clock, hooks=[hook])
        application = pipeline.new_application(make_candidate(1), requisition)
        fired = pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert seen == [
            (
                application.id,
                "start_debrief",
                {
                    "actor": "maria",
                    "requisition": requisition,
                    "reason": None,
                    "expected_version": None,
                    "on_behalf_of": None,
                },
            )
        ]
        assert application.stage == "debrief"
        assert [f.record for f in hook.calls] == [fired.record]

    def test_fire_goes_through_an_apply_set_on_the_pipeline(self, pipeline, requisition):
        """An ``apply`` replaced on one pipeline (a test double, a wrapper) is what fire calls."""
        application = make_application(pipeline, requisition)
        calls: list[str] = []
        original = pipeline.apply

        def wrapped(application: Application, event: str, **kwargs: Any) -> Fired:
            calls.append(event)
            return original(application, event, **kwargs)

        pipeline.apply = wrapped  # type: ignore[method-assign]
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert (["start_debrief"], "debrief") == (calls, application.stage)


def test_an_assignment_during_the_fire_keeps_the_event_and_the_assigned_value() -> None:
    """A validated assignment gives the application a new dict: the commit writes to that one.

    The engine reads the application's fields from its dict; a roles function that assigns a
    field while the event fires (its own bookkeeping, say) must lose neither the event nor
    the value it assigned.
    """
    requisition = make_requisition()

    def roles(actor: str, application: Application, req: Requisition | None) -> set[str]:
        application.held_from = "screen"  # validated: a new __dict__ on the application
        return {"hiring_manager"}

    pipeline = Pipeline(standard_policy(), clock=FakeClock(START.add(days=1)), roles=roles)
    application = pipeline.new_application(make_candidate(1), requisition, interviewers=["a"])
    fired = pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    assert application.stage == "debrief"
    assert application.version == 1
    assert application.history == [fired.record]
    assert application.held_from == "screen"


def test_a_roles_function_assigning_the_requisition_leaves_its_events_change_to_commit() -> None:
    """The requisition the guards see is read after who may fire the event is asked.

    A roles function that assigns a requisition's field (its own bookkeeping) changed it before
    the guards ran, not under them: the event's change to the requisition must commit. Reading
    the requisition before the roles function made every such event a ConcurrentUpdate.
    """

    def fill(ctx: Context) -> Change:
        return Change(requisition={"filled": 1})

    policy = Policy(
        name="p",
        version="1",
        initial="a",
        stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
        events=[
            EventSpec(
                "fill", ("a",), "b", fired_by=("hiring_manager",), effect=EffectSpec("f", fill)
            )
        ],
    )

    def roles(actor: str, application: Application, req: Requisition | None) -> set[str]:
        assert req is not None
        req.recruiter = "rita"  # validated: a new __dict__ on the requisition
        return {"hiring_manager"}

    pipeline = Pipeline(policy, clock=FakeClock(START.add(days=1)), roles=roles)
    requisition = make_requisition()
    application = pipeline.new_application(make_candidate(1), requisition)
    pipeline.fire(application, "fill", actor="maria", requisition=requisition)
    assert (application.stage, requisition.filled, requisition.recruiter) == ("b", 1, "rita")


@pytest.mark.parametrize("missing", ["stage", "requisition_id"])  # required: no default
def test_an_application_built_without_its_fields_is_refused_as_such(missing: str) -> None:
    """An application built by ``model_construct`` without a field: a TypeError naming it.

    Reading the fields from the model's dict made it a bare KeyError (an AttributeError
    before); nothing is changed.
    """
    pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
    requisition = make_requisition()
    application = make_application(pipeline, requisition, stage="interviewed")
    values = {k: v for k, v in application.__dict__.items() if k != missing}
    incomplete = Application.model_construct(**values)
    before = dict(incomplete.__dict__)
    with pytest.raises(TypeError, match=f"application has no '{missing}'.*model_validate"):
        pipeline.fire(incomplete, "hold", actor="maria", requisition=requisition, reason="x")
    assert (before, []) == (incomplete.__dict__, incomplete.history)
