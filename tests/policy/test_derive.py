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
from hirepipe.policy import EventSpec, GuardSpec
from hirepipe.testing import FakeClock, make_application, make_requisition

STANDARD = standard_policy()
SNAPSHOT = STANDARD.to_dict()


def needs_portfolio(ctx):
    """The candidate sent a portfolio."""
    if not any(r.event == "note" for r in ctx.application.history):
        yield Blocker("portfolio_missing", "no portfolio yet")


@pytest.fixture(autouse=True)
def standard_untouched():
    """Every test here leaves the standard policy exactly as it was."""
    yield
    assert SNAPSHOT == STANDARD.to_dict()
    assert SNAPSHOT == standard_policy().to_dict()


class TestWithStage:
    def test_insert_after_a_stage(self):
        """A stage inserted after the debrief takes over its way out and leads on to review."""
        policy = STANDARD.with_stage("assessment", after="debrief", event="pass_assessment")
        assert ("assessment",) == policy.destinations("complete_debrief")
        assert (("assessment",), ("review",)) == (
            policy.sources("pass_assessment"),
            policy.destinations("pass_assessment"),
        )
        assert "assessment" in policy.sources("reject")
        assert "assessment" in policy.sources("hold")
        stages = list(policy.stages)
        assert stages.index("debrief") + 1 == stages.index("assessment")

    def test_default_event_name_and_guard(self):
        """The new event is complete_<stage>, guarded as asked."""
        policy = STANDARD.with_stage("assessment", after="debrief", guards=[needs_portfolio])
        assert ["needs_portfolio"] == [g.name for g in policy.events["complete_assessment"].guards]
        pipeline = Pipeline(policy, clock=FakeClock())
        application = make_application(pipeline, make_requisition(), stage="review")
        assert "assessment" in application.stages_visited()

    def test_plain_stage_needs_events(self):
        """A stage added without ``after`` and no event into it is unreachable: refused."""
        with pytest.raises(PolicyError, match=r"stages\.lonely: unreachable"):
            STANDARD.with_stage("lonely")

    def test_ambiguous_insertion_refused(self):
        """A stage cannot be inserted after one that leads on to several stages."""
        with pytest.raises(PolicyError, match="leads on to"):
            STANDARD.with_stage("x", after="review")

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
                actor="m",
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
            actor="m",
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


class TestSmallDerivations:
    def test_with_guard_and_named(self):
        """A guard added to an event blocks it; the derived policy takes its own name."""
        policy = STANDARD.with_guard("start_debrief", needs_portfolio).named("acme", "7")
        pipeline = Pipeline(policy, clock=FakeClock())
        application = make_application(pipeline, make_requisition())
        assert ["portfolio_missing"] == [
            b.code for b in pipeline.blockers(application, "start_debrief")
        ]
        pipeline.fire(application, "note", actor="cand-1", text="portfolio attached")
        assert "acme@7" == pipeline.fire(application, "start_debrief", actor="m").record.policy

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
