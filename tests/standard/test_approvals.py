"""Approval chains and bands: what approve accepts, and what a revised offer needs."""

from __future__ import annotations

import pytest

from hirepipe import (
    GuardRejected,
    Pipeline,
    standard_policy,
)
from hirepipe.testing import make_application, make_requisition


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
                actor="maria",
                requisition=requisition,
                band={"minimum": 0, "maximum": 999_999, "currency": "USD"},
            )
        assert ("band_outside_budget",) == caught.value.codes
        pipeline.fire(
            application,
            "approve",
            actor="maria",
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
                application,
                "revise_offer",
                actor="maria",
                requisition=requisition,
                salary=9_999_999,
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
                application, "revise_offer", actor="maria", requisition=requisition, salary=180_000
            )
        assert ("pay_outside_band",) == caught.value.codes
