"""Every optional part of the standard policy at once: a candidate still gets hired.

Each part was tested alone; these scenarios turn them all on together (position approval,
background checks, structured scorecards, signed offers, feedback requests, keeping in touch
after a rejection, next-round scheduling) and go through the test kit, the slate, the notifier
and erasure.
"""

from __future__ import annotations

from datetime import date

import pendulum
import pytest

from hirepipe import (
    ApprovalStep,
    GuardRejected,
    Pipeline,
    Policy,
    PolicySettings,
    Slate,
    standard_policy,
)
from hirepipe.models import Application, Requisition
from hirepipe.notify import Notifier, Outbox
from hirepipe.policy import ScorecardScheme
from hirepipe.positions import Positions
from hirepipe.standard import standard_registry
from hirepipe.testing import (
    FakeClock,
    actor_for,
    advance,
    make_application,
    make_candidate,
    make_requisition,
)
from tests.standard.test_feedback import dump_everywhere

SCHEME = ScorecardScheme(
    categories=["skills", "traits"],
    attributes=[
        {"name": "python", "category": "skills"},
        {"name": "communication", "category": "traits"},
    ],
    scale=[1, 2, 3, 4],
    focus={1: ["python", "communication"]},
)
FINANCE = ApprovalStep(name="finance", approvers=("cfo",))
PEOPLE = ApprovalStep(name="people", approvers=("hr",), covers=("start_date",))
# a UTC clock, as SystemClock's, for requisitions in New York: days counted across zones
START = pendulum.datetime(2025, 1, 6, 14, tz="UTC")


def everything(**settings: object) -> Policy:
    """The standard policy with every optional part on."""
    return standard_policy(
        PolicySettings(required_references=0, **settings),  # type: ignore[arg-type]
        structured_scorecards=SCHEME,
        offer_signatures=True,
        feedback_requests=True,
        keep_in_touch_from_rejection=True,
        next_round_scheduling=True,
        position_approval=True,
        background_check=True,
    )


def opened(positions: Positions, **fields: object):
    """A requisition whose position the finance and people steps approved."""
    requisition = make_requisition(
        status="draft", approvers=[], approval_chain=(FINANCE, PEOPLE), **fields
    )
    positions.fire(requisition, "submit", actor="maria")
    positions.fire(requisition, "record_approval", actor="cfo", granted=True)
    positions.fire(requisition, "record_approval", actor="hr", granted=True)
    positions.fire(requisition, "approve", actor="cfo")
    return requisition


def cleared(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """From ``references``: the background check started, and its result clear."""
    advance(pipeline, application, requisition, ["start_background_check"])
    event = "record_background_result"
    who = actor_for(pipeline, application, requisition, event)
    pipeline.fire(
        application, event, actor=who, requisition=requisition, result="clear", report="r-1"
    )


def test_the_test_kit_reaches_every_stage():
    """make_application brings an application to each stage with every part on.

    The kit's approvals asked the position's approvers to approve the application too
    (``not_an_offer_approver``), and its keep_warm went six months out, past ``warm_days``
    (``warm_until_too_late``).
    """
    policy = everything()
    pipeline = Pipeline(policy, clock=FakeClock(START))
    positions = Positions(pipeline)
    reached = {}
    for number, stage in enumerate(policy.stages):
        requisition = opened(positions, id=f"req-{number}")
        application = make_application(
            pipeline, requisition, stage=stage, candidate=make_candidate(number)
        )
        reached[stage] = application.stage
    assert {stage: stage for stage in policy.stages} == reached


def test_counter_met_reapproved_signed_declined_then_the_runner_up_is_hired():
    """A counter met on a covered term, re-approved, signed; declined; the runner-up hired.

    The fill keeps the third candidate warm within ``warm_days`` where the requisition is,
    and every notification on the way renders.
    """
    policy = everything(offer_approval_fields=("start_date",))
    clock = FakeClock(START)
    outbox = Outbox()
    notifier = Notifier(outbox, policy)
    pipeline = Pipeline(policy, clock=clock, hooks=[notifier])
    positions = Positions(pipeline)
    requisition = opened(positions)
    first, second, third = (
        make_application(pipeline, requisition, stage="review", candidate=make_candidate(n))
        for n in (1, 2, 3)
    )
    slate = Slate(pipeline, requisition, [first, second, third], positions=positions)

    slate.fire(first.id, "request_approval", actor="maria", salary=140_000)
    pipeline.fire(first, "record_approval", actor="hr", requisition=requisition, granted=True)
    slate.fire(first.id, "approve", actor="maria")
    cleared(pipeline, first, requisition)
    clock.advance(hours=1)
    slate.fire(first.id, "extend_offer", actor="maria", salary=140_000, start_date=date(2025, 3, 3))
    clock.advance(hours=1)
    slate.fire(first.id, "counter", actor="cand-1", salary=148_000, start_date=date(2025, 3, 17))
    assert ["offer_reapproval_missing"] == [
        b.code
        for b in pipeline.blockers(
            first, "revise_offer", requisition=requisition, meet_counter=True
        )
    ]
    pipeline.fire(first, "record_approval", actor="hr", requisition=requisition, granted=True)
    clock.advance(hours=1)
    slate.fire(first.id, "revise_offer", actor="maria", meet_counter=True)
    assert (2, date(2025, 3, 17)) == (first.offer.version, first.offer.start_date)
    with pytest.raises(GuardRejected, match="offer_version_superseded"):
        pipeline.fire(first, "send_offer", actor="maria", requisition=requisition, version=1)
    fired = slate.fire(first.id, "decline", actor="cand-1")
    assert [("decline", first.id), ("request_approval", second.id)] == [
        (f.record.event, f.application.id) for f in fired
    ]

    pipeline.fire(second, "record_approval", actor="hr", requisition=requisition, granted=True)
    slate.fire(second.id, "approve", actor="maria")
    cleared(pipeline, second, requisition)
    slate.fire(
        second.id, "extend_offer", actor="maria", salary=140_000, start_date=date(2025, 3, 10)
    )
    for event, actor in (("send_offer", "maria"), ("sign_offer", "cand-2")):
        pipeline.fire(second, event, actor=actor, requisition=requisition, version=1)
    pipeline.fire(second, "countersign_offer", actor="maria", requisition=requisition, version=1)
    fired = slate.fire(second.id, "accept", actor="cand-2")

    assert [("accept", "hired"), ("keep_warm", "talent_pool")] == [
        (f.record.event, f.application.stage) for f in fired
    ]
    assert ("filled", "talent_pool") == (requisition.status, third.stage)
    assert 0 == sum(a.approver == "cfo" for app in (first, second) for a in app.approvals)
    for notification in outbox.pending():
        notifier.render(notification)  # raises if a template misses a fact


def test_the_policy_with_every_part_round_trips(tmp_path):
    """TOML, YAML and JSON load back an equal policy, every part included."""
    policy = everything(offer_approval_fields=("start_date", "salary"))
    for path in dump_everywhere(policy, tmp_path):
        assert policy == Policy.from_file(path, registry=standard_registry())


def test_erasure_leaves_no_free_text_of_any_part():
    """Scorecard ratings' notes, scheduling messages, counter notes, feedback: all erased."""
    policy = everything()
    clock = FakeClock(START)
    pipeline = Pipeline(policy, clock=clock)
    requisition = opened(Positions(pipeline))
    secret = "Secret-text"
    application = make_application(
        pipeline, requisition, stage="next_round", candidate=make_candidate(1, name=secret)
    )

    def fire(event: str, actor: str, **data: object) -> None:
        pipeline.fire(application, event, actor=actor, requisition=requisition, **data)

    fire("request_availability", "maria", text=secret)
    fire("give_availability", "cand-1", text=secret)
    fire("propose_slots", "maria", slots=[clock.now().add(days=2)], text=secret)
    fire("schedule_interview", "cand-1", scheduled_at=clock.now().add(days=2))
    clock.advance(days=3)
    fire("round_held", "maria")
    fire("start_debrief", "maria")
    ratings = {"python": {"rating": 4, "notes": secret}, "communication": 3}
    fire("submit_scorecard", "carol", recommendation="yes", notes=secret, ratings=ratings)
    fire("complete_debrief", "maria")
    fire("request_approval", "maria", salary=135_000)
    fire("approve", "maria")
    cleared(pipeline, application, requisition)
    fire("extend_offer", "maria", salary=135_000, start_date=date(2025, 3, 3), note=secret)
    fire("counter", "cand-1", salary=140_000, note=secret)
    fire("decline", "cand-1", text=secret)
    fire("keep_warm", "maria", warm_until=clock.now().add(days=30), consent=True)
    fire("reject", "maria", reason="skills", feedback_on_request=True)
    fire("request_feedback", "cand-1", text=secret)
    fire("send_feedback", "maria", feedback=secret)
    assert secret in application.model_dump_json()

    pipeline.erase(
        application, actor="maria", requisition=requisition, reason="the candidate asked"
    )

    assert secret not in application.model_dump_json()
