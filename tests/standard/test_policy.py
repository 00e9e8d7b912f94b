"""The standard policy's people: who may fire each event, and who acts is who is recorded."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hirepipe import GuardRejected
from hirepipe.testing import make_application

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
