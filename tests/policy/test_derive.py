"""Deriving policies in code: each derivation is a new policy, and the original never changes."""

from __future__ import annotations

import pytest

from hirepipe import (
    Blocker,
    GuardRejected,
    NotificationRule,
    Pipeline,
    PolicyError,
    StageKind,
    standard_policy,
)
from hirepipe.policy import Duration, EventSpec, GuardSpec, StageRole, StageSpec
from hirepipe.testing import (
    STANDARD_RECIPES,
    FakeClock,
    Recipe,
    make_application,
    make_requisition,
)

STANDARD = standard_policy()
SNAPSHOT = STANDARD.to_dict()


def needs_portfolio(ctx):
    """The candidate sent a portfolio."""
    if not any(r.event == "note" for r in ctx.application.history):
        yield Blocker("portfolio_missing", "no portfolio yet")


def attach_portfolio(pipeline, application, requisition):
    """The portfolio arrives and the debrief's scorecards are in: the assessment can start."""
    pipeline.fire(
        application, "note", actor="maria", requisition=requisition, text="portfolio attached"
    )
    STANDARD_RECIPES["complete_debrief"].prepare(pipeline, application, requisition)


@pytest.fixture(autouse=True)
def standard_untouched():
    """Every test here leaves the standard policy exactly as it was."""
    yield
    assert SNAPSHOT == STANDARD.to_dict()
    assert SNAPSHOT == standard_policy().to_dict()


class TestWithStage:
    def test_insert_after_a_stage(self):
        """The new stage sits between the debrief and review: in by a new event, out by the old."""
        policy = STANDARD.with_stage("assessment", after="debrief", event="start_assessment")
        assert (("debrief",), ("assessment",)) == (
            policy.sources("start_assessment"),
            policy.destinations("start_assessment"),
        )
        assert (("assessment",), ("review",)) == (
            policy.sources("complete_debrief"),
            policy.destinations("complete_debrief"),
        )
        assert "assessment" in policy.sources("reject")
        assert "assessment" in policy.sources("hold")
        stages = list(policy.stages)
        assert stages.index("debrief") + 1 == stages.index("assessment")

    def test_default_event_name_and_guard(self):
        """start_<stage>, guarded as asked and by the checks of the debrief's work it now ends."""
        policy = STANDARD.with_stage("assessment", after="debrief", guards=[needs_portfolio])
        assert ["scorecards_complete", "needs_portfolio"] == [
            g.name for g in policy.events["start_assessment"].guards
        ]
        assert [] == [g.name for g in policy.events["complete_debrief"].guards]
        assert StageRole.assessment is policy.stage("assessment").role
        pipeline = Pipeline(policy, clock=FakeClock())
        application = make_application(
            pipeline,
            make_requisition(),
            stage="review",
            recipes={"start_assessment": Recipe(prepare=attach_portfolio)},
        )
        assert "assessment" in application.stages_visited()

    def test_a_check_after_the_references_holds_the_offer_back(self):
        """extend_offer, its effect and its e-mail, leave the new stage, not the references."""
        check = StageSpec("background_check", duration=Duration(mean_days=4))
        policy = STANDARD.with_stage(check, after="references", event="start_background_check")
        assert ("background_check",) == policy.sources("extend_offer")
        assert ("offer",) == policy.destinations("extend_offer")
        assert ("background_check",) == policy.destinations("start_background_check")
        assert STANDARD.events["extend_offer"].effect == policy.events["extend_offer"].effect
        assert StageRole.in_flight is policy.stage("background_check").role
        assert "contact_reference" in policy.events_from("references")
        assert "extend_offer" not in policy.events_from("references")

    def test_without_stage_undoes_with_stage(self):
        """Removing an inserted stage (whose way in had no guards) gives the policy back."""
        policy = STANDARD.with_stage(StageSpec("x"), after="references")
        assert STANDARD == policy.without_stage("x")

    def test_a_declared_forward_moves_with_the_events(self):
        """After the review: the review goes on by the new event, the new stage by the old."""
        policy = STANDARD.with_stage("shortlist", after="review", event="shortlist")
        assert ("shortlist", "request_approval") == (
            policy.forward("review"),
            policy.forward("shortlist"),
        )
        assert {"request_approval", "schedule_next_round"} <= set(policy.events_from("shortlist"))

    def test_nothing_to_insert_before_refused(self):
        """A stage cannot be inserted after one that nothing moves on from to an active stage."""
        with pytest.raises(PolicyError, match="nothing moves an application on"):
            STANDARD.with_stage("x", after="on_hold")

    def test_plain_stage_needs_events(self):
        """A stage added without ``after`` and no event into it is unreachable: refused."""
        with pytest.raises(PolicyError, match=r"stages\.lonely: unreachable"):
            STANDARD.with_stage("lonely")

    def test_unknown_after(self):
        """Inserting after an unknown stage says so."""
        with pytest.raises(PolicyError, match="unknown stage 'ghost'"):
            STANDARD.with_stage("x", after="ghost")


class TestWithoutStage:
    def test_references_skipped(self):
        """Without references, the offer goes out from approval, guarded by the approval checks."""
        policy = STANDARD.without_stage("references")
        assert "references" not in policy.stages
        assert "approve" not in policy.events
        assert ("approval",) == policy.sources("extend_offer")
        assert ["approvals_granted", "pay_inside_band", "offer_terms_valid"] == [
            g.name for g in policy.events["extend_offer"].guards
        ]
        assert "contact_reference" not in policy.events
        assert ("approval",) == policy.sources("add_reference")
        assert ("review", "approval", "declined") == policy.sources("keep_warm")

    def test_offer_without_references_end_to_end(self):
        """An intern's offer goes out with no reference checked, still within the approval."""
        pipeline = Pipeline(STANDARD.without_stage("references"), clock=FakeClock())
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "extend_offer",
                actor="maria",
                requisition=requisition,
                salary=135_000,
                start_date=application.created_at.date(),
            )
        assert ("approvals_missing",) == caught.value.codes
        pipeline.fire(
            application, "record_approval", actor="cfo", requisition=requisition, granted=True
        )
        pipeline.fire(
            application,
            "extend_offer",
            actor="maria",
            requisition=requisition,
            salary=135_000,
            start_date=application.created_at.date(),
        )
        assert ("offer", ()) == (application.stage, application.references)

    @pytest.mark.parametrize(
        ("stage", "message"),
        [("ghost", "unknown stage 'ghost'"), ("interviewed", "cannot remove the initial stage")],
        ids=["unknown", "initial"],
    )
    def test_refusals(self, stage, message):
        """Unknown and initial stages cannot be removed."""
        with pytest.raises(PolicyError, match=message):
            STANDARD.without_stage(stage)

    def test_the_main_path_still_reaches_the_offer(self):
        """Without the review, the debrief goes on as the review did: by the approval.

        The debrief went on by the one event into the review; it now has the review's two ways
        on, so it takes the review's declared one, and the estimator's path reaches the offer.
        """
        policy = STANDARD.without_stage("review")
        assert (
            "request_approval",
            ("interviewed", "debrief", "approval", "references", "offer"),
        ) == (
            policy.forward("debrief"),
            policy.main_path("interviewed"),
        )

    def test_dead_end_refused(self):
        """A stage that leads on to no active stage cannot be bypassed."""
        with pytest.raises(PolicyError, match="nothing leads on from it"):
            STANDARD.without_stage("negotiation").without_stage("offer")

    def test_rules_about_removed_parts_go(self):
        """Notification rules that only mentioned the removed stage or events go with it."""
        rules = [
            NotificationRule("refs", "t", "candidate", events=("contact_reference",)),
            NotificationRule("both", "t", "candidate", events=("contact_reference", "accept")),
            NotificationRule("stage", "t", "candidate", stages=("references",)),
        ]
        policy = STANDARD.with_notifications(*rules).without_stage("references")
        mine = [r for r in policy.notifications if r.name in {"refs", "both", "stage"}]
        assert [("both", ("accept",))] == [(r.name, r.events) for r in mine]


class TestReplaceStage:
    def test_a_stage_keeps_its_name(self):
        """``replace_stage(..., name=...)`` says a stage keeps its name: no TypeError."""
        with pytest.raises(PolicyError, match="a stage keeps its name"):
            STANDARD.replace_stage("review", name="triage")


class TestSmallDerivations:
    def test_with_guard_and_named(self):
        """A guard added to an event blocks it; the derived policy takes its own name."""
        policy = STANDARD.with_guard("start_debrief", needs_portfolio).named("acme", "7")
        pipeline = Pipeline(policy, clock=FakeClock())
        application = make_application(pipeline, make_requisition())
        assert ["portfolio_missing"] == [
            b.code for b in pipeline.blockers(application, "start_debrief")
        ]
        requisition = make_requisition()
        pipeline.fire(
            application, "note", actor="maria", requisition=requisition, text="portfolio attached"
        )
        fired = pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        assert "acme@7" == fired.record.policy

    def test_with_guard_refusals(self):
        """Guards need a known event and a name."""
        with pytest.raises(PolicyError, match="unknown event"):
            STANDARD.with_guard("nope", needs_portfolio)
        with pytest.raises(PolicyError, match="name the guard"):
            STANDARD.with_guard("accept", lambda ctx: ())
        spec = GuardSpec("named", lambda ctx: ())
        assert "named" == STANDARD.with_guard("accept", spec).events["accept"].guards[-1].name

    def test_with_setting(self):
        """Settings change by name, and a wrong type is a PolicyError naming the setting."""
        assert 5 == STANDARD.with_setting(update_cadence_days=5).settings.update_cadence_days
        with pytest.raises(PolicyError) as caught:
            STANDARD.with_setting(update_cadence_days="weekly", colour="red")
        assert ["settings.update_cadence_days", "settings.colour"] == [
            p.where for p in caught.value.problems
        ]

    def test_with_and_without_event(self):
        """Events are added, replaced in place, and removed with their rules."""
        replaced = STANDARD.with_event(EventSpec("accept", ("offer",), "hired"))
        assert list(STANDARD.events) == list(replaced.events)
        assert () == replaced.events["accept"].guards
        added = STANDARD.with_event(EventSpec("ping", ("review",), None))
        assert "ping" == list(added.events)[-1]
        with_rule = added.with_notifications(
            NotificationRule("p", "t", "candidate", events=("ping",))
        )
        assert STANDARD.notifications == with_rule.without_event("ping").notifications
        with pytest.raises(PolicyError, match="unknown event"):
            STANDARD.without_event("ping")

    def test_rejection_reasons(self):
        """The taxonomy is extended with a side per reason; a bad side is refused."""
        policy = STANDARD.with_rejection_reasons(visa="company", relocation="candidate")
        assert ("company", "candidate") == (
            policy.rejection_reasons["visa"],
            policy.rejection_reasons["relocation"],
        )
        with pytest.raises(PolicyError, match="not a side"):
            STANDARD.with_rejection_reasons(visa="government")

    def test_stage_kinds_survive(self):
        """Derivations keep every stage's kind."""
        policy = STANDARD.with_setting(max_rounds=2)
        assert StageKind.paused is policy.stage("on_hold").kind
