"""The requisition level, told as the seed's stories: the slate, fills, fall-through, freezes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from hirepipe import (
    ApprovalStep,
    GuardRejected,
    Pipeline,
    RequisitionMismatch,
    SlateError,
    standard_policy,
)
from hirepipe.policy import SYSTEM_ACTOR
from hirepipe.slate import RANKINGS, Slate, mean_recommendation
from hirepipe.testing import FakeClock, RecordingHook, make_candidate, make_requisition
from tests.conftest import START

START_DATE = date(2025, 3, 3)
ACTIVE = {
    "interviewed",
    "debrief",
    "review",
    "next_round",
    "approval",
    "references",
    "offer",
    "negotiation",
    "on_hold",
}


class World:
    """One requisition's slate on a fake clock, with helpers to move candidates along."""

    def __init__(self, *, headcount: int = 1, policy=None, **requisition) -> None:
        self.clock = FakeClock(START)
        self.recorder = RecordingHook()
        self.pipeline = Pipeline(
            policy or standard_policy(), clock=self.clock, hooks=[self.recorder]
        )
        self.requisition = make_requisition(headcount=headcount, **requisition)
        self.slate = Slate(self.pipeline, self.requisition)

    def candidates(self, *verdicts: str) -> list[str]:
        """Interview and debrief one candidate per verdict (both interviewers agree)."""
        ids = []
        for number, verdict in enumerate(verdicts, start=1):
            app = self.slate.new_application(
                make_candidate(number, name=f"Candidate {number}"), interviewers=["alice", "bob"]
            )
            self.fire(app.id, "start_debrief")
            for person in ("alice", "bob"):
                self.fire(app.id, "submit_scorecard", actor=person, recommendation=verdict)
            self.fire(app.id, "complete_debrief")
            ids.append(app.id)
        return ids

    def fire(self, application_id: str, event: str, *, actor: str = "maria", **data):
        """Fire through the slate; return the records of every event it applied, in order."""
        return [
            fired.record for fired in self.slate.fire(application_id, event, actor=actor, **data)
        ]

    def offer(self, application_id: str, salary: int = 135_000) -> None:
        """Take a candidate from review to an extended offer."""
        self.fire(application_id, "request_approval", salary=salary)
        self.approve(application_id)
        self.fire(application_id, "send_reference_notice")
        for referee in ("r1", "r2"):
            self.fire(application_id, "add_reference", referee=referee, contact="x", consent=True)
            self.fire(application_id, "contact_reference", referee=referee)
            self.fire(application_id, "complete_reference", referee=referee, outcome="satisfactory")
        self.fire(application_id, "extend_offer", salary=salary, start_date=START_DATE)

    def approve(self, application_id: str) -> None:
        for approver in self.requisition.approvers:
            self.fire(application_id, "record_approval", actor=approver, granted=True)
        self.fire(application_id, "approve")

    def stage(self, application_id: str) -> str:
        return self.slate.get(application_id).stage

    def stages(self) -> dict[str, str]:
        return {a.candidate.name: a.stage for a in self.slate}


class TestStories:
    def test_first_choice_declines_and_the_runner_up_is_hired(self):
        """The first choice declines; the runner-up is brought forward and hired."""
        world = World()
        first, second, third = world.candidates("strong_yes", "yes", "no")
        world.offer(first)
        records = world.fire(first, "decline", actor="cand-1", text="took another offer")
        assert [("decline", "declined"), ("request_approval", "approval")] == [
            (r.event, r.to_stage) for r in records
        ]
        assert "approval" == world.stage(second)
        assert {"salary": "135000"} == records[-1].data
        world.approve(second)
        world.fire(second, "send_reference_notice")
        for referee in ("r1", "r2"):
            world.fire(second, "add_reference", referee=referee, contact="x", consent=True)
            world.fire(second, "contact_reference", referee=referee)
            world.fire(second, "complete_reference", referee=referee, outcome="satisfactory")
        world.fire(second, "extend_offer", salary=135_000, start_date=START_DATE)
        world.fire(second, "accept", actor="cand-2")
        assert {
            "Candidate 1": "declined",
            "Candidate 2": "hired",
            "Candidate 3": "rejected",
        } == world.stages()
        assert "role_filled" == world.slate.get(third).rejection.reason

    def test_next_round_with_other_managers(self):
        """A second round with other managers, then the offer."""
        world = World()
        (only,) = world.candidates("yes")
        world.fire(
            only,
            "schedule_next_round",
            interviewers=["director", "peer"],
            scheduled_at=world.clock.now().add(days=2),
        )
        world.clock.advance(days=2, hours=1)
        world.fire(only, "round_held")
        world.fire(only, "start_debrief")
        for person in ("director", "peer"):
            world.fire(only, "submit_scorecard", actor=person, recommendation="strong_yes")
        world.fire(only, "complete_debrief")
        world.offer(only)
        world.fire(only, "accept", actor="cand-1")
        application = world.slate.get(only)
        assert (2, "hired") == (application.round, application.stage)
        assert ("director", "peer") == application.interview(2).interviewers

    def test_budget_freeze_holds_and_resumes_the_slate(self):
        """A budget freeze holds every active candidate; the thaw resumes each where it was."""
        world = World()
        first, second = world.candidates("yes", "yes")
        world.fire(first, "request_approval", salary=130_000)
        held = world.slate.hold_all(actor="cfo", reason="budget freeze")
        assert ["hold", "hold"] == [f.record.event for f in held]
        assert {first, second} == {f.application.id for f in held}
        assert ("on_hold", 0) == (world.requisition.status, world.requisition.open_headcount)
        assert {"on_hold"} == set(world.stages().values())
        resumed = world.slate.resume_all(actor="cfo", reason="budget restored")
        assert ["budget restored"] * 2 == [f.record.reason for f in resumed]
        assert ("approval", "review", "open") == (
            world.stage(first),
            world.stage(second),
            world.requisition.status,
        )

    def test_rejected_candidate_hired_for_another_role(self):
        """A candidate rejected for one role is routed to another and hired there."""
        world = World()
        (ada,) = world.candidates("yes")
        world.fire(ada, "reject", reason="experience", feedback="We need more on-call time.")
        other_requisition = make_requisition(id="req-2", title="Data Engineer")
        other = Slate(world.pipeline, other_requisition)
        world.slate.transfer(ada, other, actor="maria", reason="fits the data role")
        assert 0 == len(world.slate)
        application = other.get(ada)
        assert ("review", "req-2", None) == (
            application.stage,
            application.requisition_id,
            application.rejection,
        )
        world.slate = other
        world.requisition = other_requisition
        world.offer(ada)
        world.fire(ada, "accept", actor="cand-1")
        assert "hired" == application.stage
        assert "rejected" in application.stages_visited()


class TestFill:
    def test_nobody_left_in_limbo_after_a_fill(self):
        """After the last headcount is filled, no application is in an active stage."""
        world = World()
        ids = world.candidates("strong_yes", "yes", "yes", "mixed", "no")
        world.offer(ids[0])
        extra = world.slate.new_application(make_candidate(9), interviewers=["alice"])
        world.fire(ids[0], "accept", actor="cand-1")
        stages = world.stages()
        assert set() == set(stages.values()) & ACTIVE
        assert {"hired": 1, "talent_pool": 2, "rejected": 3} == {
            s: list(stages.values()).count(s) for s in set(stages.values())
        }
        assert "rejected" == world.stage(extra.id)
        pooled = [a for a in world.slate if a.stage == "talent_pool"]
        assert {"Candidate 2", "Candidate 3"} == {a.candidate.name for a in pooled}

    def test_fill_on_a_utc_clock_keeps_runner_ups_within_warm_days(self):
        """On a clock in UTC, runner-ups are kept warm for warm_days where the requisition is.

        With keeping in touch after a rejection, ``warm_until`` is at most ``warm_days``
        calendar days away in the requisition's zone. The slate counted them in the clock's
        zone (UTC): across a change to summer time that is an hour too late, the fill's
        ``keep_warm`` was refused after the hire applied, and the requisition was left with
        candidates in review (checked with a day's warm-until, not the one it used).
        """
        policy = standard_policy(keep_in_touch_from_rejection=True)
        world = World(policy=policy)
        world.clock.set(START.in_timezone("UTC"))
        ids = world.candidates("strong_yes", "yes", "mixed")
        world.offer(ids[0])
        records = world.fire(ids[0], "accept", actor="cand-1")
        assert ["accept", "keep_warm", "reject"] == [r.event for r in records]
        pooled = world.slate.get(ids[1])
        local = world.clock.now().in_timezone(world.requisition.time_zone)
        assert local.add(days=policy.settings.warm_days) == pooled.warm_until

    def test_two_headcount_fill_on_the_second_accept(self):
        """With two headcount, the slate closes only when the second offer is accepted."""
        world = World(headcount=2)
        first, second, third = world.candidates("strong_yes", "yes", "yes")
        world.offer(first)
        world.fire(first, "accept", actor="cand-1")
        assert "review" == world.stage(third)
        world.offer(second)
        world.fire(second, "accept", actor="cand-2")
        assert "talent_pool" == world.stage(third)

    def test_an_activity_on_the_hire_fills_nothing(self):
        """A note on a hired candidate is no fill: a frozen slate's candidates stay held.

        Half the headcount filled, then a budget freeze: the requisition has no open
        headcount while on hold, and a note on the hire ran the fill again, rejecting every
        held candidate with ``role_filled`` (found by the chaos test).
        """
        world = World(headcount=2)
        first, second, third = world.candidates("strong_yes", "yes", "yes")
        world.offer(first)
        world.fire(first, "accept", actor="cand-1")
        world.slate.hold_all(actor="cfo", reason="budget freeze")
        records = world.fire(first, "note", text="started on Monday")
        assert ["note"] == [r.event for r in records]
        assert ("on_hold", "on_hold", 1) == (
            world.stage(second),
            world.stage(third),
            world.requisition.filled,
        )

    def test_accepting_beyond_headcount_is_refused(self):
        """A second acceptance on a filled requisition is refused and changes nothing."""
        world = World()
        first, second = world.candidates("yes", "yes")
        world.offer(first)
        world.offer(second)
        world.fire(first, "accept", actor="cand-1")
        assert "rejected" == world.stage(second)

    def test_expired_offer_falls_through(self):
        """The sweep expires a lapsed offer and brings the runner-up forward."""
        world = World()
        first, second = world.candidates("strong_yes", "yes")
        world.offer(first)
        assert [] == world.slate.sweep()
        world.clock.advance(days=30)
        records = [fired.record for fired in world.slate.sweep()]
        assert "approval" == world.stage(second)
        assert [("expire", "declined"), ("request_approval", "approval")] == [
            (r.event, r.to_stage) for r in records
        ]
        assert "expired" == world.slate.get(first).offer.status

    def test_fall_through_from_the_talent_pool(self):
        """A pooled runner-up is reactivated when the chosen candidate withdraws."""
        world = World()
        first, second = world.candidates("strong_yes", "yes")
        world.fire(second, "keep_warm", warm_until=world.clock.now().add(months=3), consent=True)
        world.fire(first, "request_approval", salary=130_000)
        records = world.fire(first, "withdraw", actor="cand-1")
        assert ["withdraw", "reactivate", "request_approval"] == [r.event for r in records]

    def test_fall_through_passes_over_a_weak_debrief(self):
        """A runner-up whose debrief does not recommend hiring is not sent to approval."""
        world = World()
        first, weak = world.candidates("strong_yes", "no")
        world.fire(first, "request_approval", salary=130_000)
        records = world.fire(first, "withdraw", actor="cand-1")
        assert ["withdraw"] == [r.event for r in records]
        assert "review" == world.stage(weak)


class TestWhoFires:
    def test_the_fill_fires_as_the_system_not_the_candidate(self):
        """The candidate who accepts rejects and pools nobody: the fill is the system's."""
        world = World()
        first, _, _ = world.candidates("strong_yes", "yes", "no")
        world.offer(first)
        records = world.fire(first, "accept", actor="cand-1")
        assert [("accept", "cand-1")] + [(e, SYSTEM_ACTOR) for e in ("keep_warm", "reject")] == [
            (r.event, r.actor) for r in records
        ]

    def test_a_fall_through_fires_as_the_system(self):
        """The runner-up brought forward after a withdrawal is the system's doing."""
        world = World()
        first, _ = world.candidates("strong_yes", "yes")
        world.fire(first, "request_approval", salary=130_000)
        records = world.fire(first, "withdraw", actor="cand-1")
        assert [("withdraw", "cand-1"), ("request_approval", SYSTEM_ACTOR)] == [
            (r.event, r.actor) for r in records
        ]

    def test_the_sweep_fires_as_the_pipelines_system_actor(self):
        """A pipeline naming its own system actor sweeps as it; a stranger may not sweep."""
        world = World()
        world.pipeline = Pipeline(standard_policy(), clock=world.clock, system_actor="ats-bot")
        world.slate = Slate(world.pipeline, world.requisition)
        (only,) = world.candidates("yes")
        world.offer(only)
        world.clock.advance(days=30)
        with pytest.raises(GuardRejected) as caught:
            world.slate.sweep(actor="mallory")
        assert ("not_permitted",) == caught.value.codes
        (fired,) = world.slate.sweep()
        assert ("expire", "ats-bot") == (fired.record.event, fired.record.actor)


class TestReview:
    def test_review_open_until_debriefs_complete(self):
        """Approval waits for the whole slate's debrief, or the review deadline."""
        world = World()
        (ready,) = world.candidates("yes")
        late = world.slate.new_application(
            make_candidate(5, name="Late Larry"), interviewers=["alice"]
        )
        (blocker,) = world.slate.blockers(ready, "request_approval")
        assert "review_open" == blocker.code
        assert f"1 applications not yet debriefed ({late.id})" in blocker.message
        assert "Larry" not in blocker.message  # said by id: an error's message reaches logs
        with pytest.raises(GuardRejected):
            world.fire(ready, "request_approval", salary=130_000)
        world.clock.advance(days=15)
        assert [] == world.slate.blockers(ready, "request_approval")
        assert late.stage == "interviewed"

    def test_the_review_deadline_follows_every_change_of_the_slate(self):
        """Asked after each change, the deadline is the one a fresh slate derives from scratch."""
        world = World()

        def both() -> tuple[object, object]:
            fresh = Slate(world.pipeline, world.requisition, list(world.slate))
            return world.slate.review_deadline(), fresh.review_deadline()

        assert (None, None) == both()
        (ada,) = world.candidates("yes")  # in review from START
        early, again = both()
        assert early is not None
        assert early == again
        world.clock.advance(days=4)
        bea = world.slate.new_application(make_candidate(2), interviewers=["alice"]).id
        world.fire(bea, "start_debrief")
        world.fire(bea, "submit_scorecard", actor="alice", recommendation="yes")
        world.fire(bea, "complete_debrief")  # in review four days later
        assert (early, early) == both()
        other = Slate(world.pipeline, make_requisition(id="req-2"))
        world.fire(ada, "reject", reason="experience", feedback="More on-call time needed.")
        world.slate.transfer(ada, other, actor="maria", reason="fits the other role")
        late, again = both()  # the first to enter left: the second's entry counts
        assert late == again
        assert late is not None
        assert late > early
        other.fire(ada, "reject", actor="maria", reason="experience", feedback="Not this one.")
        other.transfer(ada, world.slate, actor="maria", reason="back to the first role")
        assert (early, early) == both()  # her history came back with her
        world.fire(bea, "withdraw", actor="cand-2")
        world.pipeline.erase(
            world.slate.get(bea),
            actor="maria",
            reason="asked to be forgotten",
            requisition=world.slate.requisition,
        )
        assert both()[0] == both()[1]

    def test_ranking_mean_then_strong_yes(self):
        """The default ranking is the mean recommendation, ties broken by strong_yes."""
        world = World()
        a, b, c = world.candidates("yes", "no", "yes")
        app_c = world.slate.get(c)
        world.pipeline.fire(app_c, "submit_scorecard", actor="alice", recommendation="strong_yes")
        world.pipeline.fire(app_c, "submit_scorecard", actor="bob", recommendation="mixed")
        ranked = world.slate.ranking()
        assert [c, a, b] == [r.application.id for r in ranked]
        assert (1.0, 1.0) == mean_recommendation(app_c)
        assert "mean_recommendation" in RANKINGS

    def test_custom_ranking(self):
        """A slate can rank by any key."""
        world = World()
        a, b = world.candidates("strong_yes", "no")
        slate = Slate(
            world.pipeline,
            world.requisition,
            world.slate,
            ranking=lambda app: (-mean_recommendation(app)[0],),
        )
        assert [b, a] == [r.application.id for r in slate.ranking()]


class TestApprovalChains:
    def chain_world(self):
        chain = (
            ApprovalStep(name="finance", approvers=("cfo", "controller"), required=1),
            ApprovalStep(name="exec", approvers=("ceo",), covers_pay=False),
        )
        return World(approvers=[], approval_chain=chain)

    def test_steps_in_sequence_k_of_n(self):
        """Finance needs one of two; the CEO decides only once finance has."""
        world = self.chain_world()
        (ada,) = world.candidates("yes")
        world.fire(ada, "request_approval", salary=130_000)
        with pytest.raises(GuardRejected) as early:
            world.fire(ada, "record_approval", actor="ceo", granted=True)
        assert ("approval_out_of_order",) == early.value.codes
        (missing,) = world.slate.blockers(ada, "approve")
        assert (
            "1 of 1 approvals missing: cfo, controller (step 'finance'; 1 more step after it)"
            == missing.message
        )
        world.fire(ada, "record_approval", actor="controller", granted=True)
        world.fire(ada, "record_approval", actor="ceo", granted=True)
        world.fire(ada, "approve")
        assert "references" == world.stage(ada)

    def test_substitute_for_an_absent_approver(self):
        """An absent CFO is replaced without restarting the chain; the record says why."""
        world = World(approvers=["cfo", "vp"])
        (ada,) = world.candidates("yes")
        world.fire(ada, "request_approval", salary=130_000)
        world.fire(ada, "record_approval", actor="vp", granted=True)
        records = world.fire(
            ada, "replace_approver", absent="cfo", substitute="deputy", reason="cfo on leave"
        )
        assert ("cfo on leave", {"absent": "cfo", "substitute": "deputy", "steps": ["step-1"]}) == (
            records[0].reason,
            records[0].data,
        )
        with pytest.raises(GuardRejected):
            world.fire(ada, "record_approval", actor="cfo", granted=True)
        world.fire(ada, "record_approval", actor="deputy", granted=True)
        world.fire(ada, "approve")
        assert "references" == world.stage(ada)

    def test_larger_companies_default_to_longer_chains(self):
        """Without a chain, approvers are split into steps by company size."""
        world = World(approvers=["cfo", "vp", "ceo"], company_size="enterprise")
        (ada,) = world.candidates("yes")
        world.fire(ada, "request_approval", salary=130_000)
        with pytest.raises(GuardRejected) as caught:
            world.fire(ada, "record_approval", actor="ceo", granted=True)
        assert ("approval_out_of_order",) == caught.value.codes

    def test_revised_offer_outside_band_reopens_pay_steps_only(self):
        """A counter outside the band needs the pay step again, not the CEO; the record says why."""
        world = self.chain_world()
        (ada,) = world.candidates("yes")
        world.fire(ada, "request_approval", salary=130_000)
        for person in ("cfo", "ceo"):
            world.fire(ada, "record_approval", actor=person, granted=True)
        world.fire(ada, "approve")
        world.fire(ada, "send_reference_notice")
        for referee in ("r1", "r2"):
            world.fire(ada, "add_reference", referee=referee, contact="x", consent=True)
            world.fire(ada, "contact_reference", referee=referee)
            world.fire(ada, "complete_reference", referee=referee, outcome="satisfactory")
        world.fire(ada, "extend_offer", salary=140_000, start_date=START_DATE)
        world.fire(ada, "counter", actor="cand-1", salary=160_000)
        (blocker,) = world.slate.blockers(ada, "revise_offer", salary=160_000)
        assert (["finance"], ["cfo", "controller"]) == (
            blocker.data["reopened_steps"],
            blocker.data["approvers"],
        )
        with pytest.raises(GuardRejected) as caught:
            world.fire(ada, "record_approval", actor="ceo", granted=True)
        assert ("not_a_pay_approver",) == caught.value.codes
        world.clock.advance(hours=2)
        world.fire(
            ada,
            "record_approval",
            actor="controller",
            granted=True,
            band={"minimum": 150_000, "maximum": 170_000, "currency": "USD"},
        )
        (record,) = world.fire(ada, "revise_offer", salary=160_000)
        assert {
            "reason": "revised pay outside the approved band",
            "steps": ["finance"],
        } == record.data["reapproved"]


class TestBadInput:
    def test_application_of_another_requisition(self):
        """A slate takes only its requisition's applications."""
        world = World()
        stranger = world.pipeline.new_application(make_candidate(), make_requisition(id="req-9"))
        with pytest.raises(RequisitionMismatch):
            world.slate.add(stranger)

    def test_unknown_and_duplicate_applications(self):
        """Unknown ids and double adds are SlateErrors naming the application."""
        world = World()
        (ada,) = world.candidates("yes")
        with pytest.raises(SlateError, match="no application 'ghost'"):
            world.fire("ghost", "withdraw")
        with pytest.raises(SlateError, match="already on the slate"):
            world.slate.add(world.slate.get(ada))

    def test_unknown_ranking_in_policy(self):
        """A policy naming an unknown ranking is refused when the slate is built."""
        pipeline = Pipeline(standard_policy().with_setting(ranking="vibes"), clock=FakeClock())
        with pytest.raises(SlateError, match="'vibes'"):
            Slate(pipeline, make_requisition())

    def test_refusals_change_nothing(self):
        """Approving out of the chain or contacting a referee without consent changes nothing."""
        world = World()
        (ada,) = world.candidates("yes")
        world.fire(ada, "request_approval", salary=130_000)
        before = world.slate.get(ada).model_dump_json()
        with pytest.raises(GuardRejected):
            world.fire(ada, "record_approval", actor="intern", granted=True)
        assert before == world.slate.get(ada).model_dump_json()


class TestTalentPool:
    def test_lapsing_warm_until(self):
        """The pool query finds candidates whose warm-until date is about to lapse."""
        world = World()
        soon, later = world.candidates("yes", "yes")
        world.fire(soon, "keep_warm", warm_until=world.clock.now().add(days=10), consent=True)
        world.fire(later, "keep_warm", warm_until=world.clock.now().add(days=90), consent=True)
        assert [soon] == [a.id for a in world.slate.lapsing(within=timedelta(days=30))]
        assert "Slate('req-1', 2 applications)" == repr(world.slate)


class TestLateRejection:
    def test_rejected_in_flight_brings_the_runner_up_forward(self):
        """A chosen candidate rejected over their references makes room for the runner-up."""
        world = World()
        first, second = world.candidates("strong_yes", "yes")
        world.fire(first, "request_approval", salary=130_000)
        world.approve(first)
        records = world.fire(
            first, "reject", reason="references", feedback="References fell short."
        )
        assert ["reject", "request_approval"] == [r.event for r in records]
        assert "approval" == world.stage(second)

    def test_repeatable_ids(self):
        """A slate can be given the application ids, for runs that repeat exactly."""
        world = World()
        app = world.slate.new_application(make_candidate(), application_id="req-1-0")
        assert "req-1-0" == app.id


class TestResumeAll:
    @pytest.mark.parametrize("reason", ["", "  "], ids=["empty", "blank"])
    def test_a_blank_reason_changes_nothing(self, reason):
        """resume_all without a reason refuses before reopening the requisition."""
        world = World()
        world.candidates("yes", "yes")
        world.slate.hold_all(actor="cfo", reason="budget freeze")
        with pytest.raises(GuardRejected) as caught:
            world.slate.resume_all(actor="cfo", reason=reason)
        assert ["reason_missing"] == list(caught.value.codes)
        assert ("on_hold", {"on_hold"}) == (world.requisition.status, set(world.stages().values()))
