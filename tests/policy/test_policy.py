"""Policies: validation lists every problem, and the standard policy is the design's tables."""

from __future__ import annotations

from dataclasses import replace

import pytest

from hirepipe import (
    Change,
    EventSpec,
    Policy,
    PolicyError,
    PolicySettings,
    StageKind,
    StageSpec,
    standard_policy,
)
from hirepipe.policy import ACTIVE, ANY, OPEN, PREVIOUS, EffectSpec, GuardSpec, NotificationRule

DESIGN_EVENTS = {
    # event: (sources, destination), from the design document's table
    "start_debrief": ({"interviewed"}, "debrief"),
    "complete_debrief": ({"debrief"}, "review"),
    "schedule_next_round": ({"review"}, "next_round"),
    "round_held": ({"next_round"}, "interviewed"),
    "request_approval": ({"review"}, "approval"),
    "approve": ({"approval"}, "references"),
    "extend_offer": ({"references"}, "offer"),
    "counter": ({"offer"}, "negotiation"),
    "revise_offer": ({"negotiation"}, "offer"),
    "accept": ({"offer"}, "hired"),
    "decline": ({"offer", "negotiation"}, "declined"),
    "expire": ({"offer", "negotiation"}, "declined"),
    "keep_warm": ({"review", "approval", "references", "declined"}, "talent_pool"),
    "reactivate": ({"talent_pool"}, "review"),
    "reopen": ({"rejected"}, "review"),
}
TERMINAL = {"hired", "declined", "rejected", "withdrawn"}
ACTIVE_STAGES = {
    "interviewed",
    "debrief",
    "review",
    "next_round",
    "approval",
    "references",
    "offer",
    "negotiation",
}


def tiny(**overrides) -> Policy:
    spec = {
        "name": "tiny",
        "version": "1",
        "initial": "a",
        "stages": [StageSpec("a"), StageSpec("done", StageKind.terminal)],
        "events": [EventSpec("finish", ("a",), "done")],
    }
    spec.update(overrides)
    return Policy(**spec)


class TestStandardPolicy:
    def test_every_stage_of_the_design(self, policy):
        """The standard policy has exactly the design's stages, with the right kinds."""
        assert ACTIVE_STAGES | TERMINAL | {"talent_pool", "on_hold"} == set(policy.stages)
        assert TERMINAL == {s for s, spec in policy.stages.items() if spec.terminal}
        assert StageKind.paused is policy.stage("on_hold").kind
        assert StageKind.pool is policy.stage("talent_pool").kind

    @pytest.mark.parametrize("event", sorted(DESIGN_EVENTS), ids=str)
    def test_event_sources_and_destination(self, policy, event):
        """Each event of the design's table goes from its sources to its destination."""
        sources, dest = DESIGN_EVENTS[event]
        assert sources == set(policy.sources(event))
        assert (dest,) == policy.destinations(event)

    def test_reject_and_withdraw_from_every_non_terminal_stage(self, policy):
        """Reject and withdraw leave from every stage that is not terminal."""
        open_stages = set(policy.stages) - TERMINAL
        assert open_stages == set(policy.sources("reject")) == set(policy.sources("withdraw"))

    def test_hold_from_active_stages_and_resume_back(self, policy):
        """Hold pauses any active stage; resume can lead back to each of them."""
        assert ACTIVE_STAGES == set(policy.sources("hold"))
        assert ACTIVE_STAGES == set(policy.destinations("resume"))
        assert PREVIOUS == policy.events["resume"].dest

    def test_only_reopen_and_keep_warm_leave_terminal_stages(self, policy):
        """Only reopen (from rejected) and keep_warm (from declined) leave a terminal stage.

        hired and withdrawn have no way out; activities record but do not move.
        """
        leaving = {
            (name, stage)
            for name, spec in policy.events.items()
            if not spec.is_activity
            for stage in policy.sources(name)
            if stage in TERMINAL
        }
        assert {("reopen", "rejected"), ("keep_warm", "declined")} == leaving

    def test_settings_can_be_replaced(self):
        """standard_policy takes settings; the default policy keeps the defaults."""
        custom = standard_policy(PolicySettings(max_rounds=5))
        assert 5 == custom.settings.max_rounds
        assert 3 == standard_policy().settings.max_rounds

    def test_label_and_repr(self, policy):
        """A policy has a name and version, written into every record as name@version."""
        assert "standard@1" == policy.label
        assert "Policy('standard@1', 14 stages" in repr(policy)

    def test_rejection_taxonomy_has_both_sides(self, policy):
        """The rejection taxonomy separates company-side from candidate-side reasons."""
        sides = {str(side) for side in policy.rejection_reasons.values()}
        assert {"company", "candidate"} == sides
        assert "company" == policy.rejection_reasons["skills"]
        assert "candidate" == policy.rejection_reasons["accepted_elsewhere"]


class TestValidation:
    def test_valid_tiny_policy(self):
        """A minimal policy with one event to a terminal stage is valid."""
        assert ("finish",) == tiny().events_from("a")

    def test_every_problem_listed_at_once(self):
        """Unknown stages, duplicates and a missing initial stage are all reported together."""
        with pytest.raises(PolicyError) as caught:
            tiny(
                initial="nowhere",
                stages=[StageSpec("a"), StageSpec("a"), StageSpec("done", StageKind.terminal)],
                events=[EventSpec("finish", ("ghost",), "limbo")],
            )
        messages = [str(p) for p in caught.value.problems]
        assert [
            "stages: 'a' is defined twice; rename one",
            "initial: initial stage 'nowhere' is not a stage of the policy",
            "events.finish.sources: unknown stage 'ghost'; define it first",
            "events.finish.dest: unknown stage 'limbo'; define it first",
        ] == messages
        assert str(caught.value).startswith("the policy has 4 problems")

    def test_a_list_names_each_stage_event_or_guard_once(self):
        """An event's sources and guards, a rule's events and stages: each named twice is refused.

        A guard asked twice would say each of its blockers twice.
        """
        never = GuardSpec("never", lambda ctx: iter(()))
        with pytest.raises(PolicyError) as caught:
            tiny(
                events=[EventSpec("finish", ("a", "a"), "done", guards=(never, never))],
                notifications=[
                    NotificationRule(
                        "told", "status_update", "candidate", ("finish", "finish"), ("a", "a")
                    )
                ],
            )
        assert [
            "events.finish.sources: 'a' is listed twice; list it once",
            "events.finish.guards: 'never' is listed twice; list it once",
            "notifications.told.events: 'finish' is listed twice; list it once",
            "notifications.told.stages: 'a' is listed twice; list it once",
        ] == [str(p) for p in caught.value.problems]

    def test_no_terminal_stage(self):
        """A policy without a terminal stage is refused."""
        with pytest.raises(PolicyError, match="no terminal stage"):
            tiny(stages=[StageSpec("a"), StageSpec("b")], events=[EventSpec("go", ("a",), "b")])

    def test_unreachable_and_dead_end_stages(self):
        """A stage no event reaches, and a non-terminal stage with no way out, are refused."""
        with pytest.raises(PolicyError) as caught:
            tiny(
                stages=[
                    StageSpec("a"),
                    StageSpec("stuck"),
                    StageSpec("island"),
                    StageSpec("done", StageKind.terminal),
                ],
                events=[EventSpec("go", ("a",), "stuck"), EventSpec("end", ("a",), "done")],
            )
        assert [
            "stages.stuck: a non-terminal stage with no way out: add an event from it, "
            "or make it terminal",
            "stages.island: unreachable from 'a': add an event that leads to it",
            "stages.island: a non-terminal stage with no way out: add an event from it, "
            "or make it terminal",
        ] == [str(p) for p in caught.value.problems]

    def test_event_without_sources(self):
        """An event must fire from somewhere."""
        with pytest.raises(PolicyError, match="no source stage"):
            tiny(events=[EventSpec("finish", ("a",), "done"), EventSpec("x", (), "done")])

    def test_reserved_stage_names(self):
        """Stage names starting with '@' are reserved for selectors."""
        with pytest.raises(PolicyError, match="must be non-empty and not start with '@'"):
            tiny(
                stages=[StageSpec("a"), StageSpec("@b"), StageSpec("done", StageKind.terminal)],
                events=[EventSpec("finish", ("a",), "done"), EventSpec("b", ("a",), "@b")],
            )

    def test_selectors_expand(self):
        """@any, @open and @active expand to the stages they name."""
        policy = tiny(
            stages=[
                StageSpec("a"),
                StageSpec("wait", StageKind.paused),
                StageSpec("done", StageKind.terminal),
            ],
            events=[
                EventSpec("finish", (OPEN,), "done"),
                EventSpec("pause", (ACTIVE,), "wait"),
                EventSpec("back", ("wait",), PREVIOUS),
                EventSpec("note", (ANY,), None),
            ],
        )
        assert ("a", "wait") == policy.sources("finish")
        assert ("a",) == policy.sources("pause")
        assert ("a", "wait", "done") == policy.sources("note")
        assert ("a", "wait", "done") == policy.destinations("note")
        assert ("a",) == policy.destinations("back")
        assert policy.is_terminal("done")


def test_policies_with_other_effects_differ():
    """Two policies whose effects differ under one name are not equal."""

    def other_note(ctx):
        return Change()

    standard = standard_policy()
    spec = standard.events["note"]
    changed = standard.with_event(
        replace(spec, effect=EffectSpec("note", other_note, spec.data_model))
    )
    assert standard.to_dict() == changed.to_dict()
    assert standard != changed


class TestNames:
    """Stage, event and reason names, and the label, follow the identifier rules (issue 18)."""

    def test_a_250_character_event_name_is_refused(self):
        """An event name a record could not hold (over 200 characters) is refused at load.

        Before, it fired in memory and bricked the application once stored and read back.
        """
        long = "e" * 250
        with pytest.raises(PolicyError) as caught:
            tiny(events=[EventSpec("finish", ("a",), "done"), EventSpec(long, ("a",), "done")])
        assert [f"events.{long}: 250 characters; an identifier has at most 200"] == [
            str(p) for p in caught.value.problems
        ]

    @pytest.mark.parametrize(
        ("stage", "problem"),
        [
            ("a\x00b", "a control or invisible character (U+0000)"),
            ("a\nb", "a control or invisible character (U+000A)"),
            (" padded ", "spaces at either end"),
        ],
        ids=["nul", "line-break", "padded"],
    )
    def test_stage_names_follow_the_identifier_rules(self, stage, problem):
        """A stage name with a control character or outer spaces is refused, saying which."""
        with pytest.raises(PolicyError) as caught:
            tiny(
                stages=[StageSpec("a"), StageSpec(stage), StageSpec("done", StageKind.terminal)],
                events=[EventSpec("finish", ("a",), "done"), EventSpec("go", ("a",), stage)],
            )
        assert any(
            problem in str(p) and str(p).startswith("stages.") for p in caught.value.problems
        )

    def test_event_names_starting_with_at_are_reserved(self):
        """Names starting with '@' are hirepipe's own (selectors, the erasure record)."""
        with pytest.raises(PolicyError, match="'@' is reserved"):
            tiny(events=[EventSpec("finish", ("a",), "done"), EventSpec("@erase", ("a",), None)])

    def test_the_label_and_rejection_reasons_are_identifiers(self):
        """The label every record carries and the reasons a Rejection names are identifiers."""
        with pytest.raises(PolicyError) as caught:
            tiny(name="n" * 199, rejection_reasons={"bad\treason": "company"})
        assert ["rejection_reasons.bad\treason", "label"] == [
            p.where for p in caught.value.problems
        ]

    def test_names_are_checked_in_files_too(self, tmp_path):
        """A policy file with a control character in an event name is refused at load."""
        document = standard_policy().to_dict()
        document["events"][0]["name"] = "start\x1bdebrief"
        with pytest.raises(PolicyError, match=r"events\.start\x1bdebrief"):
            Policy.from_dict(document)
