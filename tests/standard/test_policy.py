"""The standard policy's people: who may fire each event, and who acts is who is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hirepipe import ApprovalStep, GuardRejected, Pipeline, standard_policy
from hirepipe.testing import make_application, make_requisition

WIDE = {"minimum": 0, "maximum": 1_000_000, "currency": "USD"}


def codes_of(pipeline, application, event, *, actor, requisition, **data):
    """Fire ``event`` expecting a refusal; return its codes, and check nothing changed."""
    before = application.model_dump_json()
    with pytest.raises(GuardRejected) as caught:
        pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
    assert before == application.model_dump_json()
    return caught.value.codes


class TestWhoActsIsWhoIsRecorded:
    def test_a_stranger_cannot_record_the_cfos_approval(self, pipeline, requisition):
        """Mallory naming the CFO as approver is refused, and approve still waits for the CFO."""
        application = make_application(pipeline, requisition, stage="approval")
        codes = codes_of(
            pipeline,
            application,
            "record_approval",
            actor="mallory",
            requisition=requisition,
            approver="cfo",
            granted=True,
        )
        assert ("acting_for_another", "not_permitted") == codes
        assert ("approvals_missing",) == codes_of(
            pipeline, application, "approve", actor="maria", requisition=requisition
        )

    def test_the_manager_cannot_approve_a_wider_band_in_the_cfos_name(
        self, pipeline, clock, requisition
    ):
        """An approval in the CFO's name from maria, 0..1,000,000, is refused: 900,000 stays out.

        The budget is 120,000-150,000; the application is in negotiation.
        """
        application = make_application(pipeline, requisition, stage="negotiation")
        clock.advance(hours=1)
        codes = codes_of(
            pipeline,
            application,
            "record_approval",
            actor="maria",
            requisition=requisition,
            approver="cfo",
            granted=True,
            band=WIDE,
        )
        assert ("acting_for_another", "not_permitted") == codes
        assert ("pay_outside_band",) == codes_of(
            pipeline,
            application,
            "revise_offer",
            actor="maria",
            requisition=requisition,
            salary=Decimal(900_000),
        )

    @pytest.mark.parametrize(
        ("actor", "expected"),
        [
            ("mallory", ("acting_for_another", "not_permitted")),
            ("alice", ("acting_for_another",)),
        ],
        ids=["stranger", "fellow-interviewer"],
    )
    def test_nobody_submits_another_interviewers_scorecard(
        self, pipeline, requisition, actor, expected
    ):
        """A scorecard naming bob is refused from anyone but bob."""
        application = make_application(pipeline, requisition)
        codes = codes_of(
            pipeline,
            application,
            "submit_scorecard",
            actor=actor,
            requisition=requisition,
            interviewer="bob",
            recommendation="strong_no",
        )
        assert expected == codes
        assert () == application.scorecards


# a stage each standard event can fire from, reached by real events
FROM_STAGE = {
    "start_debrief": "interviewed",
    "complete_debrief": "debrief",
    "schedule_next_round": "review",
    "round_held": "next_round",
    "request_approval": "review",
    "approve": "approval",
    "extend_offer": "references",
    "counter": "offer",
    "revise_offer": "negotiation",
    "accept": "offer",
    "decline": "offer",
    "expire": "offer",
    "reject": "review",
    "withdraw": "review",
    "keep_warm": "review",
    "reactivate": "talent_pool",
    "renew_consent": "talent_pool",
    "hold": "review",
    "resume": "on_hold",
    "reopen": "rejected",
    "note": "review",
    "thank_you_received": "review",
    "inquiry": "review",
    "thank_you_sent": "review",
    "status_update": "review",
    "submit_scorecard": "debrief",
    "record_approval": "approval",
    "replace_approver": "approval",
    "add_reference": "references",
    "send_reference_notice": "references",
    "contact_reference": "references",
    "complete_reference": "references",
}


class TestTheStandardTable:
    def test_every_event_is_somebodys(self, policy):
        """No standard event is open to anyone, and the table covers every event."""
        assert set(policy.events) == set(FROM_STAGE)
        assert [] == [name for name, e in policy.events.items() if "anyone" in e.fired_by]

    @pytest.mark.parametrize("event", sorted(FROM_STAGE), ids=str)
    def test_a_stranger_may_fire_nothing(self, pipeline, requisition, event):
        """mallory, who holds no role, is refused every standard event, with not_permitted."""
        application = make_application(pipeline, requisition, stage=FROM_STAGE[event])
        codes = [
            b.code
            for b in pipeline.blockers(application, event, requisition=requisition, actor="mallory")
        ]
        assert ["not_permitted"] == codes

    @pytest.mark.parametrize(
        ("event", "data"),
        [
            ("start_debrief", {}),
            ("extend_offer", {"salary": 135_000}),
            ("reject", {"feedback": "no"}),
            ("submit_scorecard", {"recommendation": "yes"}),
            ("record_approval", {"granted": True}),
        ],
        ids=["start_debrief", "extend_offer", "reject", "submit_scorecard", "record_approval"],
    )
    def test_the_candidate_decides_nothing_for_the_company(
        self, pipeline, requisition, event, data
    ):
        """The candidate may not move their own application on, nor judge it."""
        application = make_application(pipeline, requisition, stage=FROM_STAGE[event])
        codes = [
            b.code
            for b in pipeline.blockers(
                application, event, requisition=requisition, actor="cand-1", **data
            )
        ]
        assert ["not_permitted"] == codes


class TestOnBehalf:
    def test_the_recruiter_records_the_candidates_acceptance(self, pipeline, recorder):
        """Accepted by phone: the recruiter fires accept for the candidate; both are recorded."""
        requisition = make_requisition(recruiter="rita")
        application = make_application(pipeline, requisition, stage="offer")
        record = pipeline.fire(
            application, "accept", actor="rita", on_behalf_of="cand-1", requisition=requisition
        ).record
        assert ("hired", "rita", "cand-1") == (
            application.stage,
            record.actor,
            record.data["on_behalf_of"],
        )
        assert record is recorder.calls[-1].record

    @pytest.mark.parametrize(
        ("actor", "for_whom", "codes"),
        [
            ("alice", "cand-1", ("not_permitted",)),
            ("maria", "cand-2", ("not_permitted",)),
            ("cand-1", "maria", ("not_permitted", "not_permitted")),
        ],
        ids=["interviewer-for-candidate", "for-another-candidate", "candidate-for-manager"],
    )
    def test_only_staff_act_for_the_candidate_and_only_for_them(
        self, pipeline, requisition, actor, for_whom, codes
    ):
        """An interviewer may not act for the candidate; nobody accepts for someone else."""
        application = make_application(pipeline, requisition, stage="offer")
        assert codes == codes_of(
            pipeline,
            application,
            "accept",
            actor=actor,
            requisition=requisition,
            on_behalf_of=for_whom,
        )

    def test_approvals_are_not_recorded_for_others_by_default(self, pipeline, requisition):
        """The standard policy lets nobody record an approval for the approver."""
        application = make_application(pipeline, requisition, stage="approval")
        codes = codes_of(
            pipeline,
            application,
            "record_approval",
            actor="maria",
            requisition=requisition,
            on_behalf_of="cfo",
            granted=True,
        )
        assert ("on_behalf_not_allowed",) == codes

    def test_a_company_may_let_the_recruiter_record_approvals(self, clock):
        """Allowed by the policy, the recruiter records the CFO's approval: it is the CFO's."""
        policy = standard_policy().with_permissions("record_approval", on_behalf=["recruiter"])
        pipeline = Pipeline(policy, clock=clock)
        requisition = make_requisition(recruiter="rita")
        application = make_application(pipeline, requisition, stage="approval")
        record = pipeline.fire(
            application,
            "record_approval",
            actor="rita",
            on_behalf_of="cfo",
            requisition=requisition,
            granted=True,
        ).record
        assert ("rita", "cfo", "cfo") == (
            record.actor,
            record.data["on_behalf_of"],
            application.approvals[-1].approver,
        )
        assert [] == pipeline.blockers(application, "approve", requisition=requisition)
        assert ("acting_for_another",) == codes_of(
            pipeline,
            application,
            "record_approval",
            actor="rita",
            on_behalf_of="cfo",
            requisition=requisition,
            approver="vp",
            granted=True,
        )

    def test_the_recruiter_may_not_record_for_a_stranger(self, clock):
        """Acting for someone needs them to hold the role: mallory approves nothing, even so."""
        policy = standard_policy().with_permissions("record_approval", on_behalf=["recruiter"])
        pipeline = Pipeline(policy, clock=clock)
        requisition = make_requisition(recruiter="rita")
        application = make_application(pipeline, requisition, stage="approval")
        assert ("not_permitted",) == codes_of(
            pipeline,
            application,
            "record_approval",
            actor="rita",
            on_behalf_of="mallory",
            requisition=requisition,
            granted=True,
        )


class TestSubstitutes:
    def test_a_deputy_approves_for_the_absent_approver(self, pipeline, requisition):
        """The substitute holds the approver role on that application, and decides."""
        application = make_application(pipeline, requisition, stage="approval")
        pipeline.fire(
            application,
            "replace_approver",
            actor="maria",
            requisition=requisition,
            reason="cfo away",
            absent="cfo",
            substitute="deputy",
        )
        pipeline.fire(
            application, "record_approval", actor="deputy", requisition=requisition, granted=True
        )
        assert [] == pipeline.blockers(application, "approve", requisition=requisition)

    def test_a_substitute_who_approves_another_step_is_refused(self, pipeline):
        """The VP standing in for the CFO would count in both steps with one grant: refused."""
        requisition = make_requisition(
            approval_chain=(
                ApprovalStep(name="finance", approvers=("cfo",)),
                ApprovalStep(name="board", approvers=("vp",)),
            )
        )
        application = make_application(pipeline, requisition, stage="approval")
        assert ("substitute_already_approves",) == codes_of(
            pipeline,
            application,
            "replace_approver",
            actor="maria",
            requisition=requisition,
            reason="cfo away",
            absent="cfo",
            substitute="vp",
        )
