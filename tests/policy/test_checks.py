"""Checks on a whole policy: every active stage can end, and rules keep sane numbers."""

from __future__ import annotations

import pytest

from hirepipe import (
    EventSpec,
    NotificationRule,
    Policy,
    PolicyError,
    StageKind,
    StageSpec,
    standard_policy,
)
from hirepipe.policy import ACTIVE, OPEN, PREVIOUS


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
