"""Approval chains and bands: what approve accepts, and what a revised offer needs."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hirepipe import (
    GuardRejected,
    Pipeline,
    standard_policy,
)
from hirepipe.models import Approval, ApprovalStep, Substitution
from hirepipe.standard._approvals import StepState, steps_state
from hirepipe.testing import make_application, make_requisition
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


APPROVERS = ["ann", "bob", "cy", "dee"]


@given(
    chain=st.lists(
        st.lists(st.sampled_from(APPROVERS), min_size=1, max_size=3, unique=True),
        min_size=1,
        max_size=3,
    ),
    decisions=st.lists(st.tuples(st.sampled_from(APPROVERS), st.booleans()), max_size=8),
    replaced=st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(APPROVERS), st.sampled_from(APPROVERS)),
        max_size=3,
    ),
    since=st.none() | st.integers(0, 8),
)
def test_steps_state_counts_each_approvers_latest_decision(chain, decisions, replaced, since):
    """Each step's approvers after substitutions, split by their latest decision, in order.

    Held to the rule as it read before the approval guards built it with loops.
    """
    steps = tuple(
        ApprovalStep(name=f"step-{n}", approvers=tuple(people)) for n, people in enumerate(chain, 1)
    )
    approvals = tuple(
        Approval(approver=person, granted=granted, decided_at=START.add(minutes=minute))
        for minute, (person, granted) in enumerate(decisions)
    )
    substitutions = tuple(
        Substitution(step=f"step-{n}", absent=gone, substitute=stand_in, reason="away", at=START)
        for n, gone, stand_in in replaced
    )
    cutoff = None if since is None else START.add(minutes=since)
    latest = {a.approver: a for a in approvals if cutoff is None or a.decided_at >= cutoff}
    expected = []
    for step in steps:
        people = list(step.approvers)
        for substitution in substitutions:
            if substitution.step == step.name and substitution.absent in people:
                people[people.index(substitution.absent)] = substitution.substitute
        decided = [latest[p] for p in people if p in latest]
        expected.append(
            StepState(
                step=step,
                approvers=tuple(people),
                granted=tuple(a.approver for a in decided if a.granted),
                denied=tuple(a.approver for a in decided if not a.granted),
            )
        )
    assert expected == steps_state(steps, approvals, substitutions, since=cutoff)


def test_a_step_state_is_frozen():
    """A step's state, built with its written-out constructor, still refuses changes."""
    step = ApprovalStep(name="step-1", approvers=("ann",))
    state = StepState(step, ("ann",), ("ann",), ())
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.granted = ()  # type: ignore[misc]
    assert StepState(step=step, approvers=("ann",), granted=("ann",), denied=()) == state
