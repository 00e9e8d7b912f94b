"""Every event and every guard of the standard policy: one way through, one refusal each.

Each refusal also checks atomicity: the application's and the requisition's JSON are
byte-identical before and after.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from pydantic import ValidationError

from hirepipe import (
    Application,
    Band,
    GuardRejected,
    Interview,
    Pipeline,
    PolicySettings,
    Requisition,
    RequisitionStatus,
    standard_policy,
)
from hirepipe.testing import FakeClock, advance, make_application, make_candidate, make_requisition

START_DATE = date(2025, 3, 3)


def refused(pipeline, application, event, requisition=None, *, actor="maria", **data) -> list[str]:
    """Fire an event that must be refused; return the blocker codes, check nothing changed."""
    before = application.model_dump_json()
    req_before = requisition.model_dump_json() if requisition is not None else None
    with pytest.raises(GuardRejected) as caught:
        pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
    assert before == application.model_dump_json()
    if requisition is not None:
        assert req_before == requisition.model_dump_json()
    error = caught.value
    assert (application.id, application.stage, event) == (
        error.application_id,
        error.stage,
        error.event,
    )
    as_given = [
        b.code
        for b in pipeline.blockers(application, event, requisition=requisition, actor=actor, **data)
    ]
    assert list(error.codes) == as_given
    return list(error.codes)


class TestDebrief:
    def test_start_debrief_after_interview(self, pipeline, requisition):
        """An interview held makes the debrief start; the record says who and when."""
        application = make_application(pipeline, requisition)
        record = pipeline.fire(
            application, "start_debrief", actor="maria", requisition=requisition
        ).record
        assert ("interviewed", "debrief", "maria", 1) == (
            record.from_stage,
            record.to_stage,
            record.actor,
            record.version,
        )
        assert "debrief" == application.stage
        assert [record] == application.history

    @pytest.mark.parametrize(
        ("interviews", "code"),
        [
            ((), "interview_not_scheduled"),
            ((Interview(round=1, interviewers=["alice"]),), "interview_not_held"),
        ],
        ids=["no-interview", "not-held"],
    )
    def test_start_debrief_needs_held_interview(
        self, pipeline, clock, requisition, interviews, code
    ):
        """No debrief before the round's interview was held."""
        application = Application(
            id="a",
            candidate=make_candidate(),
            requisition_id="req-1",
            stage="interviewed",
            created_at=clock.now(),
            interviews=interviews,
        )
        assert [code] == refused(pipeline, application, "start_debrief", requisition)

    def test_start_debrief_refuses_future_interview(self, pipeline, clock, requisition):
        """An interview recorded as held in the future does not count."""
        application = pipeline.new_application(
            make_candidate(), requisition, interviewers=["alice"], held_at=clock.now().add(hours=2)
        )
        assert ["interview_in_future"] == refused(
            pipeline, application, "start_debrief", requisition
        )

    def test_complete_debrief_needs_every_scorecard(self, pipeline, requisition):
        """The debrief completes only when every interviewer of the round submitted."""
        application = make_application(pipeline, requisition, stage="debrief")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        (blocker,) = caught.value.blockers
        assert "2 of 2 scorecards missing: alice, bob" == blocker.message
        assert {"missing": ["alice", "bob"], "expected": 2, "round": 1} == dict(blocker.data)
        pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="yes")
        assert ["scorecards_missing"] == refused(
            pipeline, application, "complete_debrief", requisition
        )
        pipeline.fire(application, "submit_scorecard", actor="bob", recommendation="no")
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        assert "review" == application.stage

    def test_scorecard_from_someone_else_refused(self, pipeline, requisition):
        """Only interviewers submit scorecards: the hiring manager who did not interview may not."""
        application = make_application(pipeline, requisition, stage="debrief")
        codes = refused(
            pipeline, application, "submit_scorecard", requisition, recommendation="yes"
        )
        assert ["not_permitted"] == codes

    def test_scorecard_from_another_rounds_interviewer_refused(self, pipeline, clock, requisition):
        """Only a round's interviewers submit scorecards for it: round 1's alice not round 2's."""
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application,
            "schedule_next_round",
            actor="maria",
            requisition=requisition,
            interviewers=["director"],
        )
        pipeline.fire(application, "round_held", actor="director", requisition=requisition)
        codes = refused(
            pipeline,
            application,
            "submit_scorecard",
            requisition,
            actor="alice",
            recommendation="yes",
        )
        assert ["not_an_interviewer"] == codes

    def test_scorecard_for_unscheduled_round_refused(self, pipeline, requisition):
        """A scorecard for a round that never happened is refused."""
        application = make_application(pipeline, requisition, stage="debrief")
        codes = refused(
            pipeline,
            application,
            "submit_scorecard",
            requisition,
            actor="alice",
            recommendation="yes",
            round=3,
        )
        assert ["interview_not_scheduled"] == codes


class TestNextRound:
    def test_schedule_and_hold_next_round(self, pipeline, clock, requisition):
        """Another round with other interviewers: scheduled, held, then a new debrief."""
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application,
            "schedule_next_round",
            actor="maria",
            requisition=requisition,
            interviewers=["director", "peer"],
            scheduled_at=clock.now().add(days=2),
        )
        assert (2, "next_round") == (application.round, application.stage)
        assert ["interview_in_future"] == refused(
            pipeline, application, "round_held", requisition, held_at=clock.now().add(days=2)
        )
        clock.advance(days=2, hours=1)
        pipeline.fire(application, "round_held", actor="maria", requisition=requisition)
        assert clock.now() == application.interview().held_at
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert ["2 of 2 scorecards missing: director, peer"] == [
            b.message for b in pipeline.blockers(application, "complete_debrief")
        ]

    def test_next_round_needs_interviewers(self, pipeline, requisition):
        """The next round's interviewers must be named."""
        application = make_application(pipeline, requisition, stage="review")
        assert ["interviewers_missing"] == refused(
            pipeline, application, "schedule_next_round", requisition
        )

    def test_next_round_limited_by_policy(self, clock, requisition):
        """No round beyond the policy's maximum."""
        pipeline = Pipeline(standard_policy(PolicySettings(max_rounds=1)), clock=clock)
        application = make_application(pipeline, requisition, stage="review")
        codes = refused(
            pipeline, application, "schedule_next_round", requisition, interviewers=["x"]
        )
        assert ["max_rounds_reached"] == codes


class TestApproval:
    def test_request_approval_with_salary(self, pipeline, requisition):
        """A positive debrief and open headcount send the candidate to approval."""
        application = make_application(pipeline, requisition, stage="review")
        record = pipeline.fire(
            application, "request_approval", actor="maria", requisition=requisition, salary=140_000
        ).record
        assert {"salary": "140000"} == record.data
        assert Decimal(140_000) == application.proposed_salary

    def test_request_approval_needs_requisition(self, pipeline, requisition):
        """Headcount, and the hiring manager, can only be checked against the requisition."""
        application = make_application(pipeline, requisition, stage="review")
        assert ["requisition_required"] == refused(pipeline, application, "request_approval")
        (blocker,) = pipeline.blockers(application, "request_approval")
        assert ("requisition_required", True) == (blocker.code, blocker.needs_input)

    def test_request_approval_needs_headcount(self, pipeline, requisition):
        """A filled requisition takes nobody else to approval."""
        application = make_application(pipeline, requisition, stage="review")
        requisition.filled = 1
        codes = refused(pipeline, application, "request_approval", requisition)
        assert ["no_open_headcount"] == codes

    def test_request_approval_needs_positive_debrief(self, pipeline, requisition):
        """A debrief below the hire threshold does not go to approval."""
        application = make_application(pipeline, requisition, stage="debrief")
        for person in ("alice", "bob"):
            pipeline.fire(application, "submit_scorecard", actor=person, recommendation="no")
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
        codes = refused(pipeline, application, "request_approval", requisition)
        assert ["debrief_not_positive"] == codes

    def test_approve_needs_every_approver(self, pipeline, requisition):
        """Approval needs a granted decision from every approver of the requisition."""
        requisition.approvers = ["cfo", "vp"]
        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=True
        )
        assert ["approvals_missing"] == refused(pipeline, application, "approve", requisition)
        pipeline.fire(
            application, "record_approval", actor="vp", requisition=requisition, granted=False
        )
        assert ["approval_denied"] == refused(pipeline, application, "approve", requisition)
        pipeline.fire(
            application, "record_approval", actor="vp", requisition=requisition, granted=True
        )
        record = pipeline.fire(
            application, "approve", actor="maria", requisition=requisition
        ).record
        assert "references" == application.stage
        assert {"minimum": "120000", "maximum": "150000", "currency": "USD"} == record.data["band"]

    def test_approve_needs_pay_inside_band(self, pipeline, requisition):
        """Proposed pay outside the approved band is refused."""
        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=True
        )
        codes = refused(pipeline, application, "approve", requisition, salary=160_000)
        assert ["pay_outside_band"] == codes

    def test_approval_band_narrows(self, pipeline, requisition):
        """An approver's own band narrows what is approved."""
        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application,
            "record_approval",
            actor="cfo",
            requisition=requisition,
            granted=True,
            band={"minimum": 120_000, "maximum": 130_000, "currency": "USD"},
        )
        assert ["pay_outside_band"] == refused(pipeline, application, "approve", requisition)
        pipeline.fire(
            application, "approve", actor="maria", requisition=requisition, salary=130_000
        )
        assert Decimal(130_000) == application.approved_band.maximum

    def test_approve_needs_salary(self, pipeline, requisition):
        """Nothing to approve without a proposed salary."""
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(application, "request_approval", actor="maria", requisition=requisition)
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=True
        )
        assert ["salary_missing"] == refused(pipeline, application, "approve", requisition)

    def test_approval_from_outside_the_chain_refused(self, pipeline, requisition):
        """Someone who is not an approver cannot approve, and the guard says so too."""
        application = make_application(pipeline, requisition, stage="approval")
        codes = refused(pipeline, application, "record_approval", requisition, granted=True)
        assert ["not_permitted"] == codes
        blockers = pipeline.blockers(
            application, "record_approval", requisition=requisition, approver="intern", granted=True
        )
        assert ["not_an_approver"] == [b.code for b in blockers]


class TestReferencesAndOffer:
    def _ready(self, pipeline, requisition, *, notice=True, satisfactory=2):
        application = make_application(pipeline, requisition, stage="references")
        if notice:
            pipeline.fire(
                application, "send_reference_notice", actor="maria", requisition=requisition
            )
        for number in range(satisfactory):
            name = f"ref-{number}"
            pipeline.fire(
                application,
                "add_reference",
                actor="maria",
                requisition=requisition,
                referee=name,
                contact="x",
                consent=True,
            )
            pipeline.fire(
                application,
                "contact_reference",
                actor="maria",
                requisition=requisition,
                referee=name,
            )
            pipeline.fire(
                application,
                "complete_reference",
                actor="maria",
                requisition=requisition,
                referee=name,
                outcome="satisfactory",
            )
        return application

    def test_offer_extended(self, pipeline, requisition):
        """Told first, references complete, terms in band: the offer goes out."""
        application = self._ready(pipeline, requisition)
        pipeline.fire(
            application,
            "extend_offer",
            actor="maria",
            requisition=requisition,
            salary=135_000,
            start_date=START_DATE,
            benefits=["health"],
        )
        offer = application.offer
        assert ("Backend Engineer", Decimal(135_000), "USD", 1, ["health"]) == (
            offer.title,
            offer.salary,
            offer.currency,
            offer.version,
            offer.benefits,
        )
        days = pipeline.policy.settings.offer_validity_days
        assert application.history[-1].at.add(days=days) == offer.valid_until

    def test_contact_needs_the_notice_first(self, pipeline, requisition):
        """No referee is contacted before the candidate is told."""
        application = make_application(pipeline, requisition, stage="references")
        pipeline.fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            referee="r",
            contact="x",
            consent=True,
        )
        codes = refused(pipeline, application, "contact_reference", requisition, referee="r")
        assert ["reference_notice_missing"] == codes

    def test_offer_needs_notice_before_contact(self, pipeline, requisition):
        """Contacts recorded before the notice (imported history) block the offer."""
        application = self._ready(pipeline, requisition)
        early = application.reference_notice_at.subtract(hours=1)
        application.references = tuple(
            r.model_copy(update={"contacted_at": early}) for r in application.references
        )
        application.reference_notice_at = None
        codes = refused(
            pipeline,
            application,
            "extend_offer",
            requisition,
            salary=135_000,
            start_date=START_DATE,
        )
        assert ["reference_notice_missing"] == codes
        application.reference_notice_at = early.add(minutes=30)
        codes = refused(
            pipeline,
            application,
            "extend_offer",
            requisition,
            salary=135_000,
            start_date=START_DATE,
        )
        assert ["referees_contacted_before_notice"] == codes

    def test_offer_needs_enough_good_references(self, pipeline, requisition):
        """Required references must be complete and satisfactory."""
        application = self._ready(pipeline, requisition, satisfactory=1)
        pipeline.fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            referee="bad",
            contact="x",
            consent=True,
        )
        pipeline.fire(
            application, "contact_reference", actor="maria", requisition=requisition, referee="bad"
        )
        pipeline.fire(
            application,
            "complete_reference",
            actor="maria",
            requisition=requisition,
            referee="bad",
            outcome="unsatisfactory",
        )
        codes = refused(
            pipeline,
            application,
            "extend_offer",
            requisition,
            salary=135_000,
            start_date=START_DATE,
        )
        assert ["reference_unsatisfactory", "references_incomplete"] == codes

    @pytest.mark.parametrize(
        ("data", "code"),
        [
            ({"salary": 135_000}, "offer_terms_missing"),
            ({"salary": 200_000, "start_date": START_DATE}, "pay_outside_band"),
            ({"salary": 135_000, "start_date": START_DATE, "currency": "EUR"}, "pay_outside_band"),
        ],
        ids=["no-start-date", "over-band", "wrong-currency"],
    )
    def test_offer_terms_checked(self, pipeline, requisition, data, code):
        """Offer terms must be complete and inside the approved band."""
        application = self._ready(pipeline, requisition)
        assert [code] == refused(pipeline, application, "extend_offer", requisition, **data)

    def test_offer_valid_until_must_be_future(self, pipeline, clock, requisition):
        """An offer cannot be valid until a moment already past."""
        application = self._ready(pipeline, requisition)
        codes = refused(
            pipeline,
            application,
            "extend_offer",
            requisition,
            salary=135_000,
            start_date=START_DATE,
            valid_until=clock.now().subtract(days=1),
        )
        assert ["offer_valid_until_past"] == codes

    def test_contact_needs_consent_and_known_referee(self, pipeline, requisition):
        """A referee is contacted only once on record and with consent."""
        application = make_application(pipeline, requisition, stage="references")
        pipeline.fire(application, "send_reference_notice", actor="maria", requisition=requisition)
        assert ["unknown_referee"] == refused(
            pipeline, application, "contact_reference", requisition, referee="x"
        )
        pipeline.fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            referee="x",
            contact="x@example.com",
        )
        assert ["referee_consent_missing"] == refused(
            pipeline, application, "contact_reference", requisition, referee="x"
        )
        assert ["duplicate_referee"] == refused(
            pipeline, application, "add_reference", requisition, referee="x", contact="y"
        )


class TestOfferOutcomes:
    def test_accept_fills_headcount(self, pipeline, requisition):
        """Accepting fills one headcount and, at the last one, the requisition."""
        application = make_application(pipeline, requisition, stage="offer")
        pipeline.fire(application, "accept", actor="cand-1", requisition=requisition)
        assert ("hired", "accepted") == (application.stage, application.offer.status)
        assert (1, RequisitionStatus.filled) == (requisition.filled, requisition.status)

    def test_accept_refused_after_expiry(self, pipeline, clock, requisition):
        """An expired offer cannot be accepted or countered; the sweep expires it."""
        application = make_application(pipeline, requisition, stage="offer")
        assert ["offer_still_valid"] == refused(pipeline, application, "expire", requisition)
        clock.advance(days=pipeline.policy.settings.offer_validity_days + 1)
        assert ["offer_expired"] == refused(
            pipeline, application, "accept", requisition, actor="cand-1"
        )
        assert ["offer_expired"] == refused(
            pipeline, application, "counter", requisition, actor="cand-1"
        )
        pipeline.fire(application, "expire", actor=pipeline.system_actor)
        assert ("declined", "expired") == (application.stage, application.offer.status)

    def test_accept_refused_without_headcount(self, pipeline, requisition):
        """Nobody is hired beyond the headcount."""
        application = make_application(pipeline, requisition, stage="offer")
        requisition.filled = 1
        assert ["no_open_headcount"] == refused(
            pipeline, application, "accept", requisition, actor="cand-1"
        )

    def test_counter_and_revise_inside_band(self, pipeline, requisition):
        """A counter-offer makes a new version and supersedes the old one."""
        application = make_application(pipeline, requisition, stage="negotiation")
        pipeline.fire(
            application, "revise_offer", actor="maria", requisition=requisition, salary=145_000
        )
        first, second = application.offers
        assert ("superseded", "extended") == (first.status, second.status)
        assert (2, Decimal(145_000), first.start_date) == (
            second.version,
            second.salary,
            second.start_date,
        )

    def test_revise_outside_band_needs_new_approval(self, pipeline, clock, requisition):
        """Revised pay outside the band needs a new approval that covers it."""
        application = make_application(pipeline, requisition, stage="negotiation")
        codes = refused(pipeline, application, "revise_offer", requisition, salary=160_000)
        assert ["pay_outside_band"] == codes
        clock.advance(hours=1)
        pipeline.fire(
            application,
            "record_approval",
            actor="cfo",
            requisition=requisition,
            granted=True,
            band={"minimum": 150_000, "maximum": 165_000, "currency": "USD"},
        )
        pipeline.fire(
            application, "revise_offer", actor="maria", requisition=requisition, salary=160_000
        )
        assert Decimal(160_000) == application.offer.salary

    @pytest.mark.parametrize("stage", ["offer", "negotiation"], ids=str)
    def test_decline(self, pipeline, requisition, stage):
        """The candidate may decline an offer or a negotiation; there is no guard."""
        application = make_application(pipeline, requisition, stage=stage)
        pipeline.fire(application, "decline", actor="cand-1", text="went elsewhere")
        assert ("declined", "declined") == (application.stage, application.offer.status)


class TestEndings:
    def test_reject_with_feedback_on_request(self, pipeline, requisition):
        """A rejection needs a reason and feedback, or an explicit offer of feedback."""
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application,
            "reject",
            actor="maria",
            requisition=requisition,
            reason="experience",
            feedback_on_request=True,
        )
        assert ("rejected", "experience", True) == (
            application.stage,
            application.rejection.reason,
            application.rejection.feedback_on_request,
        )

    @pytest.mark.parametrize(
        ("reason", "data", "codes"),
        [
            (None, {}, ["rejection_reason_missing", "feedback_missing"]),
            ("vibes", {"feedback": "x"}, ["unknown_rejection_reason"]),
            ("skills", {}, ["feedback_missing"]),
        ],
        ids=["nothing", "unknown-reason", "no-feedback"],
    )
    def test_reject_refusals(self, pipeline, requisition, reason, data, codes):
        """Each missing part of a rejection is its own blocker."""
        application = make_application(pipeline, requisition, stage="review")
        assert codes == refused(pipeline, application, "reject", requisition, reason=reason, **data)

    def test_withdraw_from_anywhere_open(self, pipeline, requisition):
        """A candidate may withdraw at any open stage."""
        application = make_application(pipeline, requisition, stage="on_hold")
        pipeline.fire(application, "withdraw", actor="cand-1")
        assert "withdrawn" == application.stage
        assert [] == pipeline.available(application)

    def test_reopen_needs_reason(self, pipeline, requisition):
        """Undoing a rejection is audited: it needs a reason, and clears the rejection."""
        application = make_application(pipeline, requisition, stage="rejected")
        assert ["reason_missing"] == refused(pipeline, application, "reopen", requisition)
        record = pipeline.fire(
            application,
            "reopen",
            actor="maria",
            requisition=requisition,
            reason="scored wrong round",
        ).record
        assert ("review", None, "scored wrong round") == (
            application.stage,
            application.rejection,
            record.reason,
        )


class TestPoolAndHold:
    def test_keep_warm_and_reactivate_for_another_requisition(self, pipeline, clock, requisition):
        """A runner-up kept warm can be reactivated for another open role."""
        application = make_application(pipeline, requisition, stage="talent_pool")
        other = make_requisition(id="req-2", title="Data Engineer")
        record = pipeline.fire(application, "reactivate", actor="maria", requisition=other).record
        assert ("review", "req-2", None) == (
            application.stage,
            application.requisition_id,
            application.warm_until,
        )
        assert {"requisition_id": "req-2"} == record.data

    @pytest.mark.parametrize(
        ("data", "candidate_consent", "codes"),
        [
            ({"consent": True}, True, ["warm_until_missing"]),
            ({"warm_until": "past", "consent": True}, True, ["warm_until_past"]),
            ({"warm_until": "future"}, False, ["consent_missing"]),
        ],
        ids=["no-date", "past-date", "no-consent"],
    )
    def test_keep_warm_refusals(self, clock, data, candidate_consent, codes):
        """Keeping warm needs a future date and consent."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        requisition = make_requisition()
        application = make_application(
            pipeline,
            requisition,
            stage="review",
            candidate=make_candidate(consent_to_contact=candidate_consent),
        )
        when = {"past": clock.now().subtract(days=1), "future": clock.now().add(months=3)}
        if "warm_until" in data:
            data = {**data, "warm_until": when[data["warm_until"]]}
        assert codes == refused(pipeline, application, "keep_warm", requisition, **data)

    @pytest.mark.parametrize("keep_in_touch", [False, True], ids=["part-off", "part-on"])
    @pytest.mark.parametrize("event", ["keep_warm", "renew_consent"], ids=str)
    def test_an_explicit_no_to_consent_always_wins(self, clock, event, keep_in_touch):
        """``consent=False`` refuses, though the profile consents: with the part or without."""
        policy = standard_policy(keep_in_touch_from_rejection=keep_in_touch)
        pipeline = Pipeline(policy, clock=clock)
        requisition = make_requisition()
        stage = "talent_pool" if event == "renew_consent" else "review"
        application = make_application(
            pipeline,
            requisition,
            stage=stage,
            candidate=make_candidate(consent_to_contact=True),
        )
        until = clock.now().add(months=3)
        actor = application.candidate.id if event == "renew_consent" else "maria"
        codes = refused(
            pipeline, application, event, requisition, actor=actor, warm_until=until, consent=False
        )
        assert ["consent_refused"] == codes

    def test_keep_warm_after_declining(self, pipeline, clock, requisition):
        """A candidate who declined may still be kept warm for a later role."""
        application = make_application(pipeline, requisition, stage="declined")
        pipeline.fire(
            application,
            "keep_warm",
            actor="maria",
            requisition=requisition,
            warm_until=clock.now().add(months=6),
        )
        assert "talent_pool" == application.stage

    def test_reactivate_needs_open_requisition(self, pipeline, requisition):
        """Reactivation needs a requisition with open headcount."""
        application = make_application(pipeline, requisition, stage="talent_pool")
        assert ["requisition_required"] == refused(pipeline, application, "reactivate")
        closed = make_requisition(id="req-9", status="on_hold")
        assert ["no_open_headcount"] == refused(pipeline, application, "reactivate", closed)

    @pytest.mark.parametrize("stage", ["debrief", "approval", "offer"], ids=str)
    def test_hold_and_resume_where_it_left(self, pipeline, requisition, stage):
        """A hold pauses an active stage; resume returns to it."""
        application = make_application(pipeline, requisition, stage=stage)
        assert ["reason_missing"] == refused(pipeline, application, "hold", requisition)
        pipeline.fire(
            application, "hold", actor="maria", requisition=requisition, reason="budget freeze"
        )
        assert ("on_hold", stage) == (application.stage, application.held_from)
        assert ["reason_missing"] == refused(pipeline, application, "resume", requisition)
        pipeline.fire(
            application, "resume", actor="maria", requisition=requisition, reason="budget back"
        )
        assert (stage, None) == (application.stage, application.held_from)

    def test_resume_without_origin_is_explained(self, pipeline, clock):
        """An application put on hold outside the engine cannot guess where to resume."""
        application = Application(
            id="a",
            candidate=make_candidate(),
            requisition_id="req-1",
            stage="on_hold",
            created_at=clock.now(),
        )
        codes = refused(pipeline, application, "resume", make_requisition(), reason="go")
        assert ["hold_origin_unknown"] == codes


class TestActivities:
    @pytest.mark.parametrize(
        ("activity", "actor"),
        [("note", "maria"), ("thank_you_received", "cand-1"), ("inquiry", "cand-1")],
        ids=["note", "thank_you_received", "inquiry"],
    )
    def test_activities_recorded_without_stage_change(self, pipeline, requisition, activity, actor):
        """Activities change no stage but are recorded, even on a terminal application."""
        application = make_application(pipeline, requisition, stage="hired")
        version = application.version
        record = pipeline.fire(
            application, activity, actor=actor, requisition=requisition, text="thank you!"
        ).record
        assert ("activity", "hired", "hired", version + 1) == (
            record.kind,
            record.from_stage,
            record.to_stage,
            application.version,
        )
        assert {"text": "thank you!"} == record.data

    def test_advance_helper_reaches_review_for_multiple_candidates(self, clock):
        """The testing factory drives many candidates through the same requisition."""
        pipeline = Pipeline(clock=clock)
        requisition = make_requisition(headcount=3)
        applications = [
            advance(
                pipeline,
                pipeline.new_application(make_candidate(n), requisition, interviewers=["a"]),
                requisition,
                ["start_debrief", "complete_debrief"],
            )
            for n in range(3)
        ]
        assert ["review"] * 3 == [a.stage for a in applications]


def test_default_clock_and_policy(requisition):
    """Pipeline() uses the standard policy and the wall clock in UTC."""
    pipeline = Pipeline()
    application = pipeline.new_application(make_candidate(), requisition, interviewers=["a"])
    assert "standard@1" == pipeline.policy.label
    assert timedelta(0) == application.created_at.utcoffset()
    assert isinstance(FakeClock().now(), type(application.created_at))
    assert isinstance(requisition, Requisition)


class TestBandsAndOffersEdgeCases:
    def test_approve_without_requisition(self, pipeline, requisition):
        """Approval checks need the requisition: its approvers and its budget."""
        application = make_application(pipeline, requisition, stage="approval")
        assert ["requisition_required"] == refused(pipeline, application, "approve")
        codes = [b.code for b in pipeline.blockers(application, "approve")]
        assert ["requisition_required", "band_unknown"] == codes

    def test_disjoint_approval_band(self, pipeline, requisition):
        """An approver's band that misses the budget entirely blocks approval, and says so."""
        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application,
            "record_approval",
            actor="cfo",
            requisition=requisition,
            granted=True,
            band={"minimum": 200_000, "maximum": 250_000, "currency": "USD"},
        )
        assert ["approval_bands_disjoint"] == refused(pipeline, application, "approve", requisition)

    def test_offer_terms_without_requisition_need_title_and_currency(self, pipeline, requisition):
        """Without the requisition, a first offer must name its title and currency."""
        offered = make_application(pipeline, requisition, stage="offer")
        # the references done, no offer yet: the same facts, as if imported without a history
        fresh = offered.model_copy(
            update={"offers": (), "stage": "references", "version": 0, "history": []}
        )
        blockers = pipeline.blockers(fresh, "extend_offer", salary=135_000, start_date=START_DATE)
        assert ["offer_terms_missing"] == [b.code for b in blockers]
        assert {"missing": ["title", "currency"]} == dict(blockers[0].data)

    def test_no_live_offer(self, pipeline, clock):
        """Accepting needs a live offer on record."""
        application = Application(
            id="a",
            candidate=make_candidate(),
            requisition_id="req-1",
            stage="offer",
            created_at=clock.now(),
        )
        codes = refused(pipeline, application, "accept", make_requisition(), actor="cand-1")
        assert ["no_live_offer"] == codes

    def test_offer_validity_keeps_local_time_across_dst(self, clock, requisition):
        """Ten days of validity end at the same New York wall-clock time, across the DST change."""
        clock.set(clock.now().set(month=3, day=3))
        pipeline = Pipeline(standard_policy(), clock=clock)
        application = make_application(pipeline, requisition, stage="offer")
        extended = application.offer.extended_at.in_timezone("America/New_York")
        until = application.offer.valid_until.in_timezone("America/New_York")
        days = pipeline.policy.settings.offer_validity_days
        assert (16, 16, days) == (
            extended.hour,
            until.hour,
            (until.date() - extended.date()).days,
        )


def test_offer_record_keeps_what_the_data_did_not_say(pipeline, requisition):
    """The offer's record holds its version, validity and the terms it carried over."""
    application = make_application(pipeline, requisition, stage="negotiation")
    record = pipeline.fire(
        application, "revise_offer", actor="maria", requisition=requisition, salary=145_000
    ).record
    assert {"salary": "145000"} == {"salary": record.data["salary"]}
    assert (2, "Backend Engineer", "USD", "2025-03-03") == (
        record.data["version"],
        record.data["title"],
        record.data["currency"],
        record.data["start_date"],
    )
    assert application.offer.valid_until.isoformat() == record.data["valid_until"]


class TestReferences:
    def test_completion_needs_notice_and_contact(self, pipeline, requisition):
        """A reference is completed only after the notice and the contact."""
        application = make_application(pipeline, requisition, stage="references")
        pipeline.fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            referee="r",
            contact="x",
        )
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "complete_reference",
                actor="maria",
                requisition=requisition,
                referee="r",
                outcome="satisfactory",
            )
        assert ("reference_notice_missing", "referee_not_contacted") == caught.value.codes


class TestRetargeting:
    def test_approvals_do_not_follow_to_another_requisition(self, pipeline, requisition):
        """Reactivated for another requisition, a candidate needs its own approvals and band."""
        application = make_application(pipeline, requisition, stage="declined")
        pipeline.fire(
            application,
            "keep_warm",
            actor="maria",
            requisition=requisition,
            warm_until=application.created_at.add(months=3),
        )
        cheaper = make_requisition(
            id="req-2", budget={"minimum": 40_000, "maximum": 50_000, "currency": "USD"}
        )
        pipeline.fire(application, "reactivate", actor="maria", requisition=cheaper)
        assert ((), None, None) == (
            application.approvals,
            application.approved_band,
            application.proposed_salary,
        )
        pipeline.fire(
            application, "request_approval", actor="maria", requisition=cheaper, salary=45_000
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
        pipeline.fire(application, "hold", actor="maria", requisition=requisition, reason="freeze")
        clock.advance(days=1)
        pipeline.fire(application, "resume", actor="maria", requisition=requisition, reason="thaw")
        assert [] == pipeline.blockers(application, "approve", requisition=requisition)
        levels = ServiceLevels(pipeline.policy)
        (deadline,) = [
            d for d in levels.deadlines(application, requisition) if d.kind == DeadlineKind.approval
        ]
        assert ("maria",) == deadline.owed_by


class TestBadInput:
    """Input that could only be a mistake is refused with a blocker that says what to do."""

    @pytest.mark.parametrize(
        "reason", ["", "   ", "\u3000 \u00a0"], ids=["empty", "spaces", "wide-spaces"]
    )
    def test_hold_needs_a_reason_that_says_something(self, pipeline, requisition, reason):
        """A blank reason is no reason: holds are audited."""
        application = make_application(pipeline, requisition, stage="review")
        codes = refused(pipeline, application, "hold", requisition, reason=reason)
        assert ["reason_missing"] == codes

    def test_a_reason_is_one_line(self, pipeline, requisition):
        """A reason with a line break or a tab is bad input, refused before any guard runs."""
        application = make_application(pipeline, requisition, stage="review")
        with pytest.raises(ValidationError, match="one line of text"):
            pipeline.fire(application, "hold", actor="maria", reason="\n\t")
        assert "review" == application.stage

    def test_reopen_into_a_cancelled_requisition_refused(self, pipeline, requisition):
        """A rejection is not undone into a requisition that was cancelled."""
        application = make_application(pipeline, requisition, stage="rejected")
        cancelled = make_requisition(id="req-2", status=RequisitionStatus.cancelled)
        assert ["requisition_cancelled"] == refused(
            pipeline, application, "reopen", cancelled, reason="fits the new role"
        )
        own = make_requisition(status=RequisitionStatus.cancelled)
        assert ["requisition_cancelled"] == refused(
            pipeline, application, "reopen", own, reason="scored wrong round"
        )

    def test_reopen_into_an_unknown_requisition_refused(self, pipeline, requisition):
        """Moving to another requisition by id alone is refused: pass the requisition itself."""
        application = make_application(pipeline, requisition, stage="rejected")
        assert ["requisition_required"] == refused(
            pipeline, application, "reopen", reason="fits", requisition_id="req-77"
        )
        other = make_requisition(id="req-2")
        assert ["target_requisition_mismatch"] == refused(
            pipeline, application, "reopen", other, reason="fits", requisition_id="req-77"
        )

    def test_reopen_into_another_open_requisition(self, pipeline, requisition):
        """Given the open requisition itself, the rejection is undone into it."""
        application = make_application(pipeline, requisition, stage="rejected")
        other = make_requisition(id="req-2")
        pipeline.fire(application, "reopen", actor="maria", requisition=other, reason="fits")
        assert ("review", "req-2") == (application.stage, application.requisition_id)

    @pytest.mark.parametrize(
        ("target", "codes"),
        [
            ({"status": RequisitionStatus.cancelled}, ["no_open_headcount"]),
            (None, ["requisition_required"]),
        ],
        ids=["cancelled", "unknown"],
    )
    def test_reactivate_refuses_cancelled_and_unknown(self, pipeline, requisition, target, codes):
        """Reactivation needs the open requisition itself, as reopening does."""
        application = make_application(pipeline, requisition, stage="talent_pool")
        given = make_requisition(id="req-2", **target) if target is not None else None
        data = {} if given is not None else {"requisition_id": "req-77"}
        assert codes == refused(pipeline, application, "reactivate", given, **data)

    @pytest.mark.parametrize(
        "start",
        [date(1, 1, 1), date(1900, 1, 1), date(2024, 10, 7)],
        ids=["year-1", "1900", "91-days-before"],
    )
    def test_start_date_far_before_the_offer_refused(self, pipeline, requisition, start):
        """A start date more than 90 days before the day of the offer is a mistake."""
        application = TestReferencesAndOffer()._ready(pipeline, requisition)
        codes = refused(
            pipeline, application, "extend_offer", requisition, salary=135_000, start_date=start
        )
        assert ["start_date_too_early"] == codes

    def test_start_date_up_to_90_days_before_the_offer_accepted(self, pipeline, requisition):
        """Paperwork for someone already at work may start up to 90 days back."""
        application = TestReferencesAndOffer()._ready(pipeline, requisition)
        start = pipeline.clock.now().date() - timedelta(days=90)
        pipeline.fire(
            application,
            "extend_offer",
            actor="maria",
            requisition=requisition,
            salary=135_000,
            start_date=start,
        )
        assert start == application.offer.start_date

    def test_salary_finer_than_the_currency_refused_whole(self, pipeline):
        """A yen offer of 135,000.50 is a ValidationError, and nothing changes."""
        yen = make_requisition(budget=Band(minimum=100_000, maximum=150_000, currency="JPY"))
        application = TestReferencesAndOffer()._ready(pipeline, yen)
        before = application.model_dump_json()
        with pytest.raises(ValidationError, match="JPY has 0 decimal places"):
            pipeline.fire(
                application,
                "extend_offer",
                actor="maria",
                requisition=yen,
                salary=Decimal("135000.50"),
                start_date=START_DATE,
            )
        assert before == application.model_dump_json()
