"""Checks on a whole policy: every active stage can end, and rules keep sane numbers."""

from __future__ import annotations

import pytest
from pydantic import model_validator

from hirepipe import (
    Change,
    EventData,
    EventSpec,
    NotificationRule,
    Pipeline,
    Policy,
    PolicyError,
    StageKind,
    StageSpec,
    standard_policy,
)
from hirepipe.policy import (
    ACTIVE,
    OPEN,
    PREVIOUS,
    EffectSpec,
    Owner,
    ServiceLevel,
    StageRole,
)
from hirepipe.testing import make_candidate, make_requisition


def build(stages, events, **overrides) -> Policy:
    return Policy(
        **{
            "name": "loop",
            "version": "1",
            "initial": "a",
            "stages": stages,
            "events": events,
            **overrides,
        }
    )


def problems(stages, events, **overrides) -> list[str]:
    with pytest.raises(PolicyError) as caught:
        build(stages, events, **overrides)
    return [str(p) for p in caught.value.problems]


LOOP_STAGES = [
    StageSpec("a"),
    StageSpec("b"),
    StageSpec("c"),
    StageSpec("done", StageKind.terminal),
]


class TestEveryActiveStageCanEnd:
    def test_a_loop_with_no_way_to_an_end_is_refused(self):
        """Stages b and c lead only to each other: both are named, with what to do."""
        events = [
            EventSpec("finish", ("a",), "done"),
            EventSpec("go", ("a",), "b"),
            EventSpec("on", ("b",), "c"),
            EventSpec("back", ("c",), "b"),
        ]
        message = (
            "no way from here to a terminal stage (it leads only to: b, c); add an event "
            "from one of them to a terminal stage, e.g. a rejection from @open"
        )
        assert [f"stages.b: {message}", f"stages.c: {message}"] == problems(LOOP_STAGES, events)

    def test_a_hold_is_no_way_out(self):
        """A pause that resumes where it left does not let a loop end."""
        events = [
            EventSpec("finish", ("a",), "done"),
            EventSpec("go", ("a",), "b"),
            EventSpec("on", ("b",), "c"),
            EventSpec("back", ("c",), "b"),
            EventSpec("hold", (ACTIVE,), "wait"),
            EventSpec("resume", ("wait",), PREVIOUS),
        ]
        stages = [*LOOP_STAGES, StageSpec("wait", StageKind.paused)]
        assert ["stages.b", "stages.c"] == [p.split(":")[0] for p in problems(stages, events)]

    def test_a_way_out_from_every_open_stage_is_enough(self):
        """An event from @open to a terminal stage gives every stage its end."""
        events = [
            EventSpec("go", ("a",), "b"),
            EventSpec("on", ("b",), "c"),
            EventSpec("back", ("c",), "b"),
            EventSpec("reject", (OPEN,), "done"),
        ]
        assert ("a", "b", "c") == build(LOOP_STAGES, events).sources("reject")

    def test_the_standard_policy_passes(self):
        """Every active stage of the standard lifecycle can end."""
        assert "standard@1" == standard_policy().label


class TestRuleNumbers:
    @pytest.mark.parametrize(
        ("delay", "expected"),
        [
            (-1, ["notifications.late.delay_days: must be 0 to 260 (business days)"]),
            (261, ["notifications.late.delay_days: must be 0 to 260 (business days)"]),
        ],
        ids=["negative", "past-a-working-year"],
    )
    def test_delay_days_are_bounded(self, delay, expected):
        """A rule's delay is 0 to 260 business days (a working year)."""
        rule = NotificationRule("late", "t", "candidate", events=("finish",), delay_days=delay)
        stages = [StageSpec("a"), StageSpec("done", StageKind.terminal)]
        events = [EventSpec("finish", ("a",), "done")]
        assert expected == problems(stages, events, notifications=[rule])

    def test_the_largest_delay_is_accepted(self):
        """260 business days is still a delay a rule may have."""
        rule = NotificationRule("late", "t", "candidate", events=("finish",), delay_days=260)
        stages = [StageSpec("a"), StageSpec("done", StageKind.terminal)]
        policy = build(stages, [EventSpec("finish", ("a",), "done")], notifications=[rule])
        assert 260 == policy.notifications[0].delay_days


def offer_parts(offer: StageSpec, check: StageSpec | None = None):
    """A small lifecycle: a check, then an offer the candidate accepts or declines."""
    stages = [
        check or StageSpec("check", role=StageRole.in_flight),
        offer,
        StageSpec("hired", StageKind.terminal, role=StageRole.hired),
        StageSpec("declined", StageKind.terminal),
    ]
    events = [
        EventSpec("make_offer", ("check",), "offer"),
        EventSpec("accept", ("offer",), "hired"),
        EventSpec("decline", (OPEN,), "declined"),
    ]
    return stages, events


def offer_policy(offer: StageSpec) -> Policy:
    return build(*offer_parts(offer), initial="check")


def offer_problems(offer: StageSpec, check: StageSpec | None = None) -> list[str]:
    return problems(*offer_parts(offer, check), initial="check")


class TestStageRoles:
    def test_members_written_as_strings_are_those_members(self):
        """A kind, role or owner written as its string works as the member: a hire fills."""
        policy = offer_policy(
            StageSpec("offer", "active", role="in_flight", service=ServiceLevel(5, "candidate"))
        )
        policy = policy.replace_stage("hired", role="hired")
        assert (False, True, ("check", "offer")) == (
            policy.fell_through("hired"),
            policy.stage("offer").holds_headcount,
            policy.main_path("check"),
        )

    @pytest.mark.parametrize(
        ("offer", "expected"),
        [
            (
                StageSpec("offer", role="boss"),
                "stages.offer.role: 'boss' is not a role; use one of assessment, review, "
                "in_flight, hired",
            ),
            (
                StageSpec("offer", "finished"),
                "stages.offer.kind: 'finished' is not a kind; use one of active, paused, pool, "
                "terminal",
            ),
            (
                StageSpec("offer", service=ServiceLevel(3, "nobody")),
                "stages.offer.service.owner: 'nobody' is not an owner; use one of "
                "hiring_manager, recruiter, approvers, interviewers, candidate, outside",
            ),
            (
                StageSpec("offer", service={"days": 3}),  # type: ignore[arg-type]
                "stages.offer.service: a ServiceLevel, not {'days': 3}",
            ),
            (
                StageSpec("offer", duration={"mean_days": 3}),  # type: ignore[arg-type]
                "stages.offer.duration: a Duration, not {'mean_days': 3}",
            ),
            (
                StageSpec("offer", updates="no"),  # type: ignore[arg-type]
                "stages.offer.updates: True, False or None, not 'no'",
            ),
            (
                StageSpec("offer", exits=("decline",)),  # type: ignore[arg-type]
                "stages.offer.exits: (event, chance) pairs, not ('decline',)",
            ),
        ],
        ids=["role", "kind", "owner", "service", "duration", "updates", "exits"],
    )
    def test_a_value_of_the_wrong_kind_is_refused(self, offer, expected):
        """A role field holding the wrong kind of value is a policy problem, not a crash."""
        assert [expected] == offer_problems(offer)

    def test_exits_as_a_mapping_are_pairs(self):
        """``exits={"decline": 0.1}`` is the pairs it lists."""
        policy = offer_policy(StageSpec("offer", exits={"decline": 0.1}))  # type: ignore[arg-type]
        assert (("decline", 0.1),) == policy.stage("offer").exits

    def test_the_candidate_owes_only_an_answer_to_an_offer(self):
        """A stage the candidate owes must be one they can accept from: a take-home is not."""
        take_home = StageSpec(
            "check", role=StageRole.assessment, service=ServiceLevel(5, Owner.candidate)
        )
        offer = StageSpec("offer", role=StageRole.in_flight, service=ServiceLevel(5, "candidate"))
        assert [
            "stages.check.service.owner: the candidate owes only the answer to an offer "
            "(a stage with a way into a 'hired' stage); for work a candidate hands in, such "
            "as a take-home, use 'outside' (the hiring manager chases it)"
        ] == offer_problems(offer, take_home)

    @pytest.mark.parametrize(
        "code", ["thank_you", "candidate_update", "offer_expiry", "warm_until"], ids=str
    )
    def test_a_stage_deadline_cannot_take_a_code_of_another_rule(self, code):
        """The codes of thank-yous, updates, offers and the pool are theirs: a stage's clash."""
        check = StageSpec(
            "check", role=StageRole.in_flight, service=ServiceLevel(5, Owner.outside, deadline=code)
        )
        assert [
            f"stages.check.service.deadline: {code!r} is the code of another deadline; "
            "give the stage's deadline its own code"
        ] == offer_problems(StageSpec("offer"), check)

    def test_forward_events_that_go_round_in_a_loop_are_refused(self):
        """Forward events that go round between a review and a final review are refused.

        Before, a rejection in flight made the slate bring the runner-up forward round the
        loop for ever (Slate.fire never returned).
        """
        policy = standard_policy().with_stage(
            StageSpec("final_review", role=StageRole.review), after="review", event="shortlist"
        )
        with pytest.raises(PolicyError) as caught:
            policy.with_event(
                EventSpec("back_to_review", ("final_review",), "review")
            ).replace_stage("final_review", forward="back_to_review")
        assert [
            "stages.review.forward: the forward events of the review stages go round in a "
            "loop (review -> final_review -> review); declare a forward on one of them that "
            "leads on"
        ] == [str(p) for p in caught.value.problems]


class TestHiredRole:
    def test_in_flight_stages_need_a_hired_stage(self):
        """A policy that holds the headcount but never fills it is refused, the stages named."""
        policy = standard_policy()
        with pytest.raises(PolicyError, match=r"approval, references, offer, negotiation hold"):
            policy.replace_stage("hired", role=None)


class _Overriding(EventData):
    """Data whose model_validate trims the note: code the engine would never run."""

    note: str = ""

    @classmethod
    def model_validate(cls, obj, **kwargs):  # type: ignore[override]
        return super().model_validate({**obj, "note": obj.get("note", "").strip()}, **kwargs)


class _Inheriting(_Overriding):
    """A subclass inherits the override, and is refused as well."""


class _Validating(EventData):
    """The same trimming as a model validator, which runs wherever the model is validated."""

    note: str = ""

    @model_validator(mode="before")
    @classmethod
    def _trimmed(cls, data):
        return {**data, "note": data.get("note", "").strip()} if isinstance(data, dict) else data


def _noted(data_model) -> list[EventSpec]:
    effect = EffectSpec("noted", lambda ctx: Change(), data_model)
    return [EventSpec("note", ("a",), None, effect=effect), EventSpec("end", ("a",), "done")]


class TestDataModelsAreValidatedAsPydanticDoes:
    @pytest.mark.parametrize("model", [_Overriding, _Inheriting], ids=["own", "inherited"])
    def test_an_override_of_model_validate_is_refused(self, model):
        """The engine never calls model_validate: an override is refused, naming the way."""
        stages = [StageSpec("a"), StageSpec("done", StageKind.terminal)]
        found = problems(stages, _noted(model))
        assert 1 == len(found)
        assert found[0].startswith("events.note.data: _Overriding overrides model_validate")
        assert "@model_validator(mode='before')" in found[0]

    def test_a_model_validator_does_the_same_and_runs(self, clock):
        """The validator the message names runs when the event fires."""
        stages = [StageSpec("a"), StageSpec("done", StageKind.terminal)]
        policy = build(stages, _noted(_Validating))
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), make_requisition())
        record = pipeline.fire(application, "note", actor="m", note="  hi  ").record
        assert {"note": "hi"} == record.data
