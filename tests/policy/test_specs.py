"""Policy settings: every number has documented bounds, checked when the policy loads."""

from __future__ import annotations

import copy
import dataclasses
import pickle

import pytest
from pydantic import ValidationError

from hirepipe import Policy, PolicyError, PolicySettings, standard_policy
from hirepipe.policy import Change

# setting: (smallest, largest) accepted, as PolicySettings documents them
BOUNDS = {
    "max_rounds": (1, 20),
    "required_references": (0, 20),
    "offer_validity_days": (1, 365),
    "thank_you_days": (0, 260),
    "scorecard_days": (0, 260),
    "update_cadence_days": (1, 260),
    "reference_check_days": (1, 260),
    "review_days": (1, 260),
    "approval_days": (1, 260),
    "runner_ups": (0, 1_000),
    "warm_days": (1, 3_650),
    "feedback_days": (1, 260),
    "availability_request_days": (0, 260),
    "availability_answer_days": (1, 260),
    "slot_proposal_days": (0, 260),
    "slot_choice_days": (1, 260),
    "background_check_days": (1, 260),
    "adjudication_days": (1, 260),
    "adverse_action_waiting_days": (5, 60),
    "adverse_action_days": (6, 260),
    "background_dispute_days": (1, 260),
}

COMPANIONS = {"adverse_action_waiting_days": {"adverse_action_days": 260}}
"""Settings a bound needs beside it: the decision is due after the waiting period."""


def test_every_integer_setting_is_bounded():
    """No integer setting is left without a maximum."""
    integers = {
        name for name, field in PolicySettings.model_fields.items() if field.annotation is int
    }
    assert integers == set(BOUNDS)


@pytest.mark.parametrize(("name", "bounds"), BOUNDS.items(), ids=list(BOUNDS))
def test_bounds_accepted_and_one_past_refused(name, bounds):
    """The documented bounds are accepted; one past either is refused at load, by name."""
    low, high = bounds
    beside = COMPANIONS.get(name, {})
    assert (low, high) == (
        PolicySettings(**{name: low, **beside}).model_dump()[name],
        PolicySettings(**{name: high, **beside}).model_dump()[name],
    )
    document = standard_policy().to_dict()
    for value in (low - 1, high + 1):
        document["settings"][name] = value
        with pytest.raises(PolicyError) as caught:
            Policy.from_dict(document)
        (problem,) = caught.value.problems
        assert problem.where == f"<dict>: settings.{name}"


def test_warm_days_of_a_hundred_million_refused_at_load():
    """warm_days=10**8 is refused when the policy is built, not when a slate fills."""
    with pytest.raises(PolicyError, match="warm_days: Input should be less than or equal to 3650"):
        standard_policy().with_setting(warm_days=10**8)
    document = standard_policy().to_dict()
    document["settings"]["warm_days"] = 10**8
    with pytest.raises(PolicyError, match=r"settings\.warm_days: Input should be less than"):
        Policy.from_dict(document)


@pytest.mark.parametrize(
    "steps",
    [{"small": 0}, {"large": 21}, {"medium": -1}],
    ids=["zero", "past-twenty", "negative"],
)
def test_approval_steps_are_bounded(steps):
    """A company size splits its approvers into 1 to 20 steps."""
    with pytest.raises(ValidationError, match="approval_steps"):
        PolicySettings(approval_steps=steps)


class Tagged(Change):
    """A host's own kind of Change."""

    __slots__ = ()


class TestChange:
    def test_parts_default_to_empty_and_cannot_be_replaced(self):
        """A Change holds what it was given, empty parts otherwise, and is frozen."""
        change = Change({"round": 2}, requisition={"filled": 1})
        assert ({"round": 2}, {}, {"filled": 1}) == (
            change.application,
            dict(change.record_data),
            change.requisition,
        )
        assert Change({"round": 2}, {}, {"filled": 1}) == change
        with pytest.raises(dataclasses.FrozenInstanceError):
            change.application = {}  # type: ignore[misc]

    @pytest.mark.parametrize(
        "change",
        [Change(), Change({"round": 2}, requisition={"filled": 1}), Change(record_data={"a": [1]})],
    )
    def test_pickles_and_copies_are_equal(self, change):
        """The empty default parts included (a read-only view, which does not pickle itself)."""
        for again in (
            pickle.loads(pickle.dumps(change)),
            copy.copy(change),
            copy.deepcopy(change),
        ):
            assert again == change
            assert type(again) is Change

    def test_a_subclass_pickles_and_copies_as_itself(self):
        """A host's subclass of Change stays of its class across pickle and copy."""
        change = Tagged({"round": 2})
        for again in (pickle.loads(pickle.dumps(change)), copy.copy(change), copy.deepcopy(change)):
            assert (Tagged, change) == (type(again), again)
