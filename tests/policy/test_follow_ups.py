"""What an event leaves owed (``EventSpec.follow_up``): checked when a policy is built."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hirepipe import PolicyError, standard_policy
from hirepipe.policy import FollowUp, Owner
from hirepipe.policy._derive import rebuild

BASE = standard_policy()


def with_follow_up(follow_up: object):
    """The standard policy whose ``inquiry`` leaves ``follow_up`` owed."""
    event = replace(BASE.events["inquiry"], follow_up=follow_up)
    events = [event if e.name == "inquiry" else e for e in BASE.events.values()]
    return rebuild(BASE, events=events)


GOOD = FollowUp("review_days", Owner.recruiter, "inquiry_answer", closed_by=("status_update",))


class TestChecks:
    def test_a_good_follow_up_is_kept(self):
        """A follow-up naming a setting, an event that closes it and a code loads."""
        assert GOOD == with_follow_up(GOOD).follow_ups["inquiry"]

    @pytest.mark.parametrize(
        ("follow_up", "where"),
        [
            (replace(GOOD, closed_by=("no_such_event",)), "closed_by"),
            (replace(GOOD, closed_by=()), "closed_by"),
            (replace(GOOD, days="no_such_setting"), "days"),
            (replace(GOOD, days=-1), "days"),
            (replace(GOOD, deadline="thank_you"), "deadline"),
            (replace(GOOD, deadline=""), "deadline"),
            (replace(GOOD, stages=("nowhere",)), "stages"),
            (replace(GOOD, unless="no_field"), "unless"),
            (replace(GOOD, owner="boss"), "owner"),
            ("tomorrow", "follow_up"),
        ],
        ids=[
            "closed-by-unknown",
            "closed-by-nothing",
            "unknown-setting",
            "negative-days",
            "rule-code",
            "no-code",
            "unknown-stage",
            "unless-not-a-field",
            "unknown-owner",
            "not-a-follow-up",
        ],
    )
    def test_problems_are_named(self, follow_up, where):
        """Each mistake is refused, naming where it is."""
        with pytest.raises(PolicyError) as caught:
            with_follow_up(follow_up)
        assert any(
            p.where.startswith("events.inquiry.follow_up") and p.where.endswith(where)
            for p in caught.value.problems
        )

    def test_lists_become_tuples(self):
        """Lists given for closed_by and stages are kept as tuples (hashable, frozen)."""
        made = FollowUp(1, "recruiter", "x", closed_by=["a"], stages=["b"])
        assert (("a",), ("b",), Owner.recruiter) == (made.closed_by, made.stages, made.owner)
