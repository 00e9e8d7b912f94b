"""Seeded simulations of whole requisitions through the real pipeline and slate."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import date

import numpy as np
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import (
    ApprovalStep,
    Blocker,
    BusinessCalendar,
    EstimateError,
    Pipeline,
    Policy,
    ServiceLevels,
    StageKind,
    TimelineEstimator,
    standard_policy,
)
from hirepipe.clock import ManualClock
from hirepipe.notify import Notifier, Outbox, no_estimate
from hirepipe.policy import NotificationRule, Recipient
from hirepipe.simulate import (
    BREACH_KINDS,
    Scenario,
    SimulationError,
    SimulationResult,
    compare,
    simulate,
)
from hirepipe.simulate._runner import Runner
from hirepipe.simulate._scenario import AT_REVIEW, SLOTS, Timeline, interviewers, make_plan
from tests import policies

QUIET = {"withdrawal": 0.0, "reference_failure": 0.0}  # nothing falls through by chance


def silent_policy() -> Policy:
    """The standard policy without notification rules: notifications are counted as events."""
    document = standard_policy().to_dict()
    document.pop("notifications", None)
    return Policy.from_dict(document)


def busy_notifications_policy() -> Policy:
    """The background-check policy with rules for staff: approvers, referees, panel, delays."""
    return policies.background_check_policy().with_notifications(
        NotificationRule(
            name="approvers_asked", template="reminder", to=Recipient.approvers,
            stages=("approval",), events=("record_approval", "replace_approver"),
        ),
        NotificationRule(
            name="referee_contacted", template="reminder", to=Recipient.referees,
            events=("contact_reference", "complete_reference"),
        ),
        NotificationRule(
            name="panel_scored", template="reminder", to=Recipient.interviewers,
            events=("submit_scorecard", "round_held"),
        ),
        NotificationRule(
            name="provider_chased", template="reminder", to=Recipient.recruiter,
            stages=("background_check",), delay_days=2,
        ),
    )  # fmt: skip


def never(ctx):
    """Never lets an offer out."""
    yield Blocker("never", "no offers in this test")


class TruthHook:
    """Derives every application's deadlines with ServiceLevels after each of its records."""

    def __init__(self, policy: Policy) -> None:
        self.levels = ServiceLevels(policy)
        self.reset()

    def reset(self) -> None:
        self.open: dict[str, list] = {}
        self.breached: dict[str, set[str]] = {}

    def __call__(self, fired) -> None:
        app, at = fired.application, fired.record.at
        for deadline in self.open.get(app.id, []):
            if deadline.is_overdue(at):
                self.breached.setdefault(app.id, set()).add(deadline.kind)
        self.open[app.id] = self.levels.deadlines(app, fired.requisition)

    def counts(self, end) -> dict[str, int]:
        for app_id, deadlines in self.open.items():
            for deadline in deadlines:
                if deadline.is_overdue(end):
                    self.breached.setdefault(app_id, set()).add(deadline.kind)
        found: dict[str, int] = {}
        for kinds in self.breached.values():
            for kind in kinds:
                found[kind] = found.get(kind, 0) + 1
        return dict(sorted(found.items()))


class TestScenario:
    def test_defaults_are_a_valid_scenario(self):
        """Every field has a default; the scenario is frozen."""
        scenario = Scenario()
        assert (3, 1, "all_employers") == (
            scenario.candidates,
            scenario.headcount,
            scenario.industry,
        )
        with pytest.raises(ValidationError):
            scenario.candidates = 4  # type: ignore[misc]

    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"offer_accepted": 0.5}, "must sum to 1"),
            ({"headcount": 4}, "more than the 3 candidates"),
            ({"recommendations": {"yes": 0.0}}, "positive weight"),
            ({"withdrawal": 1.5}, "less than or equal to 1"),
            ({"stage_days": {"approval": 0}}, "greater than 0"),
            ({"rounds": 6}, "less than or equal to 5"),
            ({"colour": "blue"}, "Extra inputs are not permitted"),
            ({"time_zone": "Mars/Base"}, "unknown time zone 'Mars/Base'"),
            ({"time_zone": "America"}, "unknown time zone 'America'"),
            (
                {
                    "offer_countered": 1.0,
                    "offer_accepted": 0,
                    "offer_declined": 0,
                    "offer_lapsed": 0,
                },
                "a revised offer needs",
            ),
            (
                {"approval_chain": [{"name": "all", "approvers": [f"p{n}" for n in range(17)]}]},
                "at most 16 approvals",
            ),
        ],
        ids=[
            "answers",
            "headcount",
            "verdicts",
            "probability",
            "days",
            "rounds",
            "unknown",
            "zone",
            "zone-directory",
            "counters-only",
            "chain",
        ],
    )
    def test_invalid_scenarios_are_refused(self, fields, message):
        """Bad values raise Pydantic's ValidationError saying what is wrong."""
        with pytest.raises(ValidationError, match=message):
            Scenario(**fields)


class TestDeterminism:
    SCENARIO = Scenario(candidates=4, offer_countered=0.3, offer_accepted=0.51, withdrawal=0.2)

    def test_same_seed_same_json(self):
        """The same seed gives the same result, byte for byte; another seed does not."""
        first = simulate(None, self.SCENARIO, runs=25, seed=11).to_json()
        again = simulate(None, self.SCENARIO, runs=25, seed=11).to_json()
        other = simulate(None, self.SCENARIO, runs=25, seed=12).to_json()
        assert first == again
        assert first != other

    @pytest.mark.slow
    @pytest.mark.parametrize("start", ["fork", "spawn"], ids=str)
    def test_two_workers_give_the_json_of_one(self, start, monkeypatch):
        """Runs split over two processes give the result of one process, byte for byte."""
        if start not in multiprocessing.get_all_start_methods():
            pytest.skip(f"no {start} on this platform")
        monkeypatch.setattr(
            "hirepipe.simulate._simulate._process_context",
            lambda: multiprocessing.get_context(start),
        )
        one = simulate(None, self.SCENARIO, runs=40, seed=5, workers=1)
        done: list[int] = []
        two = simulate(None, self.SCENARIO, runs=40, seed=5, workers=2, progress=done.append)
        assert one.to_json() == two.to_json()
        assert 40 == sum(done)

    def test_workers_are_spawned_while_other_threads_run(self):
        """A process running other threads (a progress bar) spawns its workers, never forks."""
        from hirepipe.simulate._simulate import _process_context

        release = threading.Event()
        other = threading.Thread(target=release.wait)
        other.start()
        try:
            assert "spawn" == _process_context().get_start_method()
        finally:
            release.set()
            other.join()

    @pytest.mark.slow
    def test_another_process_gives_the_same_json(self, tmp_path):
        """A fresh interpreter (another hash seed) computes the same JSON."""
        script = textwrap.dedent(
            """
            from hirepipe.simulate import Scenario, simulate
            scenario = Scenario(candidates=4, offer_countered=0.3, offer_accepted=0.51,
                                withdrawal=0.2)
            print(simulate(None, scenario, runs=25, seed=11).to_json(), end="")
            """
        )
        environment = {**os.environ, "PYTHONHASHSEED": "12345"}
        child = subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
            timeout=120,
        )
        assert simulate(None, self.SCENARIO, runs=25, seed=11).to_json() == child.stdout

    def test_run_numbers_are_the_spawned_children(self):
        """Run i draws from the i-th child of SeedSequence(seed).spawn, so runs are independent."""
        plan = make_plan(standard_policy(), Scenario(), TimelineEstimator())
        runner = Runner(plan, seed=9)
        runner.run(3)
        child = np.random.SeedSequence(9).spawn(4)[3]
        expected = np.random.default_rng(child).random(3 * SLOTS)
        assert expected.tolist()[:SLOTS] == runner.seats[0].row.tolist()

    def test_progress_counts_every_run(self):
        """The progress callback is told of every run, once."""
        done: list[int] = []
        simulate(None, Scenario(), runs=120, seed=1, progress=done.append)
        assert 120 == sum(done)


@pytest.mark.slow
class TestCalibration:
    @pytest.mark.parametrize(
        ("industry", "published"),
        [
            ("all_employers", 24.2),
            ("computer_electronics", 16.0),
            ("engineering_services", 30.3),
            ("government", 38.0),
        ],
        ids=["all", "electronics", "engineering", "government"],
    )
    def test_interview_to_offer_reproduces_the_published_mean(self, industry, published):
        """Default priors, a medium company, three candidates: NACE's mean within 5%."""
        scenario = Scenario(industry=industry, candidates=3, **QUIET)
        result = simulate(None, scenario, runs=500, seed=2025)
        mean = result.time_to_offer.business_days.mean
        assert mean is not None
        assert abs(mean / published - 1) < 0.05, (industry, mean, published)

    def test_sampled_stages_follow_the_priors(self):
        """Stages nobody waits in last as long as the estimator says (within 5%)."""
        result = simulate(None, Scenario(candidates=6, **QUIET), runs=400, seed=3)
        estimator = TimelineEstimator()
        plan = make_plan(standard_policy(), Scenario(candidates=6), estimator)
        for stage in ("interviewed", "debrief"):
            expected = plan.durations[stage][0].mean
            found = result.stages[stage].mean
            assert abs(found / expected - 1) < 0.05, (stage, found, expected)


class TestRules:
    def test_nobody_is_left_in_limbo(self):
        """Every run ends with every application ended or in the talent pool."""
        plan = make_plan(standard_policy(), Scenario(candidates=6), TimelineEstimator())
        runner = Runner(plan, seed=4)
        for index in range(30):
            runner.run(index)
            kinds = {plan.policy.stage(a.stage).kind for a in runner.slate}
            assert kinds <= {StageKind.terminal, StageKind.pool}, (index, kinds)

    def test_the_runner_up_is_hired_when_the_first_choice_declines(self):
        """After a decline the slate brings the runner-up forward, and they can be hired."""
        scenario = Scenario(
            candidates=5, offer_accepted=0.5, offer_declined=0.5, offer_countered=0.0,
            offer_lapsed=0.0, **QUIET,
        )  # fmt: skip
        result = simulate(silent_policy(), scenario, runs=60, seed=8)
        fell = [r for r in result.records if r.runner_up_hired]
        assert fell
        assert all(r.hired[0] != r.first_choice for r in fell)
        assert result.runner_up_hired == pytest.approx(
            len(fell) / sum(r.filled for r in result.records), abs=1e-6
        )

    def test_nobody_recommended_nobody_offered(self):
        """Weights left out are zero: panels that always say no reject everyone at review."""
        scenario = Scenario(candidates=3, recommendations={"strong_no": 1.0}, **QUIET)
        result = simulate(None, scenario, runs=10, seed=1)
        assert (0.0, 30) == (result.offer_rate, result.outcomes["rejected_at_review"])

    def test_failed_references_fall_through(self):
        """A candidate whose references fail is rejected; nobody gets an offer."""
        scenario = Scenario(candidates=3, reference_failure=1.0, withdrawal=0.0)
        result = simulate(None, scenario, runs=20, seed=1)
        assert 0 == result.outcomes["offers"]
        assert result.outcomes["references_failed"] > 20
        assert 0.0 == result.fill_rate

    def test_more_rounds_take_longer(self):
        """A second round runs through next_round and back, and the offer comes later."""
        one = simulate(None, Scenario(candidates=4, **QUIET), runs=60, seed=6)
        two = simulate(None, Scenario(candidates=4, rounds=2, **QUIET), runs=60, seed=6)
        assert two.outcomes["next_rounds"] > 0
        assert "next_round" in two.stages
        assert two.time_to_offer.business_days.mean > one.time_to_offer.business_days.mean

    def test_a_lapsed_offer_is_expired_by_the_sweep(self):
        """An unanswered offer lapses at its valid-until date and counts as a missed deadline."""
        scenario = Scenario(
            candidates=2, offer_lapsed=1.0, offer_accepted=0.0, offer_countered=0.0,
            offer_declined=0.0, **QUIET,
        )  # fmt: skip
        result = simulate(None, scenario, runs=10, seed=2)
        assert result.outcomes["lapsed"] == result.outcomes["offers"] > 0
        assert result.breaches["offer_expiry"].applications == result.outcomes["lapsed"]

    def test_periodic_updates_leave_nobody_waiting(self):
        """With updates at the cadence, nobody passes it; more notifications go out."""
        base = Scenario(candidates=4, **QUIET)
        quiet = simulate(silent_policy(), base, runs=30, seed=3)
        kept = simulate(
            silent_policy(), base.model_copy(update={"periodic_updates": True}), runs=30, seed=3
        )
        assert quiet.breaches["candidate_update"].applications > 0
        assert 0 == kept.breaches["candidate_update"].applications
        assert kept.notifications.per_run.mean > quiet.notifications.per_run.mean
        assert kept.silence.p95 <= 5.0

    @pytest.mark.parametrize(
        "scenario",
        [
            Scenario(candidates=5),
            Scenario(
                candidates=4,
                rounds=2,
                approval_chain=(
                    ApprovalStep(name="finance", approvers=("cfo", "controller"), required=1),
                    ApprovalStep(name="exec", approvers=("ceo",), due_days=2),
                ),
                approver_availability=0.5,
                periodic_updates=True,
                company_size="large",
            ),
            Scenario(
                candidates=5,
                headcount=2,
                approvers=3,
                company_size="enterprise",
                offer_lapsed=0.3,
                offer_accepted=0.41,
            ),
        ],
        ids=["default", "chain-rounds-updates", "two-hires-lapses"],
    )
    def test_breaches_are_what_service_levels_report(self, scenario):
        """Missed deadlines per kind equal ServiceLevels.deadlines checked after every event."""
        policy = standard_policy()
        plan = make_plan(policy, scenario, TimelineEstimator())
        truth = TruthHook(policy)
        runner = Runner(plan, seed=21, hooks=[truth])
        for index in range(25):
            truth.reset()
            outcome = runner.run(index)
            assert truth.counts(plan.timeline.instant(outcome.end)) == outcome.breaches, index

    @pytest.mark.parametrize(
        "make",
        [policies.background_check_policy, policies.final_review_policy],
        ids=["background-check", "final-review"],
    )
    def test_breaches_of_a_companys_own_stages_are_what_service_levels_report(self, make):
        """The tracker reads the same stage roles as ServiceLevels, custom stages included."""
        policy = make()
        scenario = Scenario(candidates=4, periodic_updates=True)
        prepare = {"extend_offer": policies.clear_background}
        plan = make_plan(policy, scenario, TimelineEstimator(), prepare)
        truth = TruthHook(policy)
        runner = Runner(plan, seed=5, hooks=[truth])
        custom = 0
        for index in range(25):
            truth.reset()
            outcome = runner.run(index)
            assert truth.counts(plan.timeline.instant(outcome.end)) == outcome.breaches, index
            custom += sum(n for kind, n in outcome.breaches.items() if kind in policy.stages)
        assert custom > 0  # the custom stage's own deadline was missed, and seen

    def test_absent_approvers_delay_the_offer_by_the_absence(self):
        """Absent approvers (replaced after three business days) delay every offer by three."""
        base = Scenario(candidates=3, **QUIET)
        away = base.model_copy(update={"approver_availability": 1e-9, "absence_days": 3.0})
        found = compare(base, away, runs=40, seed=4)
        difference = found.differences["offer_business_days"]
        assert difference.difference == pytest.approx(3.0, abs=0.01)
        assert found.b.outcomes["substitutes"] >= found.b.outcomes["offers"] > 0

    def test_a_week_longer_approval_delays_offers_by_a_week(self):
        """Approvals a week longer: common random numbers show offers exactly a week later."""
        base = Scenario(candidates=3, **QUIET)
        slower = base.model_copy(update={"extra_days": {"approval": 5}})
        difference = compare(base, slower, runs=60, seed=7).differences["offer_business_days"]
        assert difference.difference == pytest.approx(5.0, abs=0.01)
        assert difference.high - difference.low < 0.1

    def test_five_rounds(self):
        """Five rounds visit interviewed five times, past the fixed draws per stage and visit."""
        policy = standard_policy().with_setting(max_rounds=5)
        scenario = Scenario(candidates=2, rounds=5, recommendations={"yes": 1.0}, **QUIET)
        runner = Runner(make_plan(policy, scenario, TimelineEstimator()), seed=1)
        runner.run(0)
        hired = [seat for seat in runner.seats if seat.app.stage == "hired"]
        assert [(5, 5)] == [(s.app.round, s.visit_count["interviewed"]) for s in hired]

    def test_no_approvers(self):
        """Without approvers the approval stage only takes its time."""
        result = simulate(None, Scenario(candidates=3, approvers=0, **QUIET), runs=10, seed=1)
        assert result.outcomes["offers"] > 0
        assert 0 == result.outcomes["substitutes"]

    def test_without_thank_you_events_the_thank_you_is_late(self):
        """A policy with no thank-you event never thanks anyone: every thank-you is late."""
        policy = silent_policy().without_event("thank_you_sent")
        result = simulate(policy, Scenario(candidates=3, **QUIET), runs=5, seed=1)
        assert 15 == result.breaches["thank_you"].applications

    def test_policy_without_references(self):
        """A policy without the references stage offers straight after approval."""
        policy = standard_policy().without_stage("references")
        result = simulate(policy, Scenario(candidates=3, **QUIET), runs=20, seed=1)
        assert "references" not in result.stages
        assert result.outcomes["offers"] > 0

    def test_a_policy_stage_needs_a_duration(self):
        """A stage the priors do not know needs stage_days; then it is simulated."""
        policy = standard_policy().with_stage("assessment", after="debrief")
        with pytest.raises(SimulationError, match="stage_days"):
            simulate(policy, Scenario(), runs=1, seed=1)
        scenario = Scenario(stage_days={"assessment": 2.0}, **QUIET)
        result = simulate(policy, scenario, runs=20, seed=1)
        assert result.stages["assessment"].count > 0


class TestPolicyFit:
    def test_a_policy_without_a_review_stage_is_refused_up_front(self):
        """The simulated company decides at a review stage: a policy with none says so.

        Before, run 0 stopped on a weak candidate's refused approval request, which did not
        say the policy lacked a review.
        """
        policy = standard_policy().without_stage("review")
        with pytest.raises(SimulationError) as caught:
            simulate(policy, Scenario(candidates=3, **QUIET), runs=1, seed=1)
        assert (
            "the simulator decides at a stage with the role 'review' (the slate's decision); "
            "standard@1 has none: give one of its stages StageSpec(role=StageRole.review)"
        ) == str(caught.value)

    def test_a_policy_without_counters(self):
        """A scenario with counters needs the counter event; without counters it runs."""
        policy = standard_policy().without_stage("negotiation")
        with pytest.raises(SimulationError, match="no 'counter' event"):
            simulate(policy, Scenario(), runs=1, seed=1)
        scenario = Scenario(offer_countered=0.0, offer_accepted=0.81, **QUIET)
        assert simulate(policy, scenario, runs=5, seed=1).outcomes["countered"] == 0

    def test_a_policy_without_declines(self):
        """Candidates answer offers with accept and decline: both must exist."""
        policy = standard_policy().without_event("decline")
        with pytest.raises(SimulationError, match="needs the 'decline' event from 'offer'"):
            simulate(policy, Scenario(), runs=1, seed=1)

    def test_a_stage_with_two_ways_on(self):
        """The simulator needs one way on from each stage it moves along."""
        from hirepipe import EventSpec

        policy = (
            standard_policy()
            .with_stage("assessment", after="debrief")
            .with_event(EventSpec("skip_ahead", ("assessment",), "approval"))
        )
        scenario = Scenario(stage_days={"assessment": 1.0})
        with pytest.raises(
            SimulationError, match=r"several ways on .*complete_debrief, skip_ahead"
        ):
            simulate(policy, scenario, runs=1, seed=1)

    def test_rejection_reasons_of_the_policy(self):
        """Rejections use a company-side reason the policy knows."""
        document = silent_policy().to_dict()
        document["rejection_reasons"] = {"not_a_fit": "company", "went_elsewhere": "candidate"}
        policy = Policy.from_dict(document)
        plan = make_plan(policy, Scenario(), TimelineEstimator())
        assert {"not_a_fit"} == set(plan.reasons.values())
        assert {AT_REVIEW, *(s for s in policy.stages if policy.stage(s).kind == "active")} == set(
            plan.reasons
        )
        assert simulate(policy, Scenario(**QUIET), runs=5, seed=1).runs == 5


class TestNotifications:
    def test_counted_from_the_outbox_with_notification_rules(self):
        """With rules, hirepipe.notify's Notifier fills an in-memory outbox per run."""
        rule = NotificationRule(
            name="offer_out", template="offer", to=Recipient.candidate, events=("extend_offer",)
        )
        policy = silent_policy().with_notifications(rule)
        result = simulate(policy, Scenario(candidates=3, **QUIET), runs=20, seed=1)
        assert "outbox" == result.notifications.source
        assert {"offer_out": result.outcomes["offers"] / 20} == result.notifications.by_kind

    @pytest.mark.parametrize(
        ("make", "prepare"),
        [
            (standard_policy, {}),
            (busy_notifications_policy, {"extend_offer": policies.clear_background}),
        ],
        ids=["standard", "background-check-with-staff-rules"],
    )
    def test_counted_as_a_notifier_fills_its_outbox(self, make, prepare):
        """The runner's count per rule is what a real Notifier keeps, key for key."""
        policy = make()
        scenario = Scenario(
            candidates=4,
            headcount=2,
            rounds=2,
            approvers=2,
            approver_availability=0.5,
            periodic_updates=True,
            offer_countered=0.3,
            offer_accepted=0.51,
            withdrawal=0.2,
            reference_failure=0.2,
        )
        outbox = Outbox()
        notifier = Notifier(outbox, policy, estimate=no_estimate)
        runner = Runner(make_plan(policy, scenario, TimelineEstimator(), prepare), seed=4,
                        hooks=[notifier])  # fmt: skip
        seen: set[str] = set()
        for index in range(25):
            outcome = runner.run(index)
            kept = [n for n in outbox if n.requisition_id == f"req-{index}"]
            assert {n.key for n in kept} == runner.notifier.keys, index
            expected = Counter(n.rule for n in kept)
            if outcome.counts["status_updates"]:  # the sweep's, counted by the runner itself
                expected["periodic_update"] = outcome.counts["status_updates"]
            assert dict(sorted(expected.items())) == outcome.notifications, index
            seen |= set(expected)
        staff = {"approvers_asked", "referee_contacted", "panel_scored", "provider_chased"}
        assert staff <= seen or make is standard_policy  # every kind of recipient was counted

    def test_counted_from_events_without_rules(self):
        """Without rules, the candidate-facing events are counted."""
        result = simulate(silent_policy(), Scenario(candidates=3), runs=20, seed=1)
        assert "events" == result.notifications.source
        assert 3.0 == result.notifications.by_kind["thank_you_sent"]


class TestErrors:
    @pytest.mark.parametrize(
        ("kwargs", "error", "message"),
        [
            ({"runs": 0}, SimulationError, "runs must be"),
            ({"seed": -1}, SimulationError, "seed must be"),
            ({"workers": 0}, SimulationError, "workers must be"),
            ({"scenario": Scenario(industry="astrology")}, EstimateError, "unknown industry"),
            ({"scenario": Scenario(rounds=4)}, SimulationError, "max_rounds=3"),
            ({"scenario": Scenario(extra_days={"lunch": 1})}, SimulationError, "lunch"),
        ],
        ids=["runs", "seed", "workers", "industry", "rounds", "stage"],
    )
    def test_bad_input_is_refused_up_front(self, kwargs, error, message):
        """Problems are found before the first run, each with what to change."""
        arguments = {"runs": 5, "seed": 1, **kwargs}
        with pytest.raises(error, match=message):
            simulate(None, **arguments)

    def test_a_run_the_rules_refuse_names_the_run(self):
        """A guard that blocks what the simulator must do stops it with the run's index."""
        policy = standard_policy().with_guard("extend_offer", never)
        with pytest.raises(SimulationError, match=r"run \d+ stopped: .*\[never\]") as caught:
            simulate(policy, Scenario(candidates=2, **QUIET), runs=10, seed=1)
        assert str(caught.value).startswith(f"run {caught.value.run} stopped")

    def test_a_failing_hook_stops_the_run(self, caplog):
        """A hook that raises (a notifier, say) stops the simulation, naming run and event."""

        def broken(fired):
            raise RuntimeError("boom")

        plan = make_plan(standard_policy(), Scenario(), TimelineEstimator())
        runner = Runner(plan, seed=1, hooks=[broken])
        with pytest.raises(SimulationError, match="run 0: a hook failed on thank_you_sent"):
            runner.run(0)

    def test_a_hook_failing_on_a_creation_stops_the_run(self):
        """A hook whose ``created`` raises stops the simulation too, naming run and application.

        Before, the failure was only logged and kept by the pipeline: the run went on and
        reported counts that missed the creation's notifications.
        """

        class Broken:
            def __call__(self, fired):
                pass

            def created(self, application, requisition):
                raise RuntimeError("boom")

        plan = make_plan(standard_policy(), Scenario(), TimelineEstimator())
        runner = Runner(plan, seed=1, hooks=[Broken()])
        failed = r"run 3: a hook failed on the creation of req-3-1"
        with pytest.raises(SimulationError, match=failed):
            runner.run(3)

    def test_applications_start_as_new_application_makes_them(self):
        """A run's applications, copied from the runner's, are what new_application returns."""
        told = []

        class Listener:
            def __call__(self, fired):
                pass

            def created(self, application, requisition):
                told.append((application.model_copy(deep=True), requisition.id))

        plan = make_plan(standard_policy(), Scenario(candidates=3), TimelineEstimator())
        runner = Runner(plan, seed=1, hooks=[Listener()])
        runner.run(0)
        runner.run(1)  # a second run's applications share nothing with the first's
        pipeline = Pipeline(plan.policy, clock=ManualClock(plan.timeline.origin))
        requisition = plan.requisition.model_copy(update={"id": "req-1"})
        expected = [
            pipeline.new_application(
                candidate,
                requisition,
                interviewers=interviewers(1, plan.scenario.interviewers),
                held_at=plan.timeline.origin,
                application_id=f"req-1-{k + 1}",
            )
            for k, candidate in enumerate(plan.candidates)
        ]
        assert [(app, "req-1") for app in expected] == told[3:]
        for app, _ in told[3:]:
            assert app.model_fields_set == expected[0].model_fields_set
        assert all(len(seat.app.history) == seat.app.version for seat in runner.seats)
        assert [s.app.history for s in runner.seats] != [[]] * 3
        assert {id(s.app.history) for s in runner.seats}.isdisjoint(
            id(t.history) for t in runner._templates
        )
        assert all(t.history == [] for t in runner._templates)

    def test_a_worker_that_cannot_start(self, monkeypatch):
        """When worker processes die, the error says how to call simulate from a script."""

        def dies(payload):
            os._exit(1)

        monkeypatch.setattr("hirepipe.simulate._simulate._runner_for", dies)
        monkeypatch.setattr(
            "hirepipe.simulate._simulate._process_context",
            lambda: multiprocessing.get_context("fork"),
        )
        if "fork" not in multiprocessing.get_all_start_methods():
            pytest.skip("no fork on this platform")
        with pytest.raises(SimulationError, match="if __name__ == '__main__'"):
            simulate(None, Scenario(), runs=4, seed=1, workers=2)

    def test_the_worker_side_in_this_process(self):
        """A worker rebuilds the policy from its payload, keeps it, and runs what one would."""
        from hirepipe.simulate import _simulate as module

        policy, scenario = standard_policy(), Scenario(candidates=3)
        payload = module._payload(policy, scenario, TimelineEstimator(), {}, 2, None)
        here = Runner(make_plan(policy, scenario, TimelineEstimator()), seed=4)
        assert [here.run(i) for i in range(2, 5)] == module._run_chunk(payload, 4, 2, 5)
        assert module._runner_for(payload) is module._runner_for(payload)
        other = Runner(make_plan(policy, scenario, TimelineEstimator()), seed=5)
        assert [other.run(0)] == module._run_chunk(payload, 5, 0, 1)  # another seed, same runner

    def test_workers_need_a_picklable_policy(self):
        """A policy with a lambda guard cannot go to other processes: the error says so."""
        from hirepipe import GuardSpec

        guard = GuardSpec("anything", lambda ctx: iter(()))
        policy = standard_policy().with_guard("start_debrief", guard)
        with pytest.raises(SimulationError, match="cannot be pickled"):
            simulate(policy, Scenario(), runs=4, seed=1, workers=2)


@pytest.fixture(scope="module")
def result() -> SimulationResult:
    return simulate(None, Scenario(candidates=4), runs=30, seed=3)


class TestResult:
    def test_json_round_trip(self, result):
        """The JSON reads back into an equal result."""
        assert result == SimulationResult.model_validate_json(result.to_json())

    def test_json_without_records(self, result):
        """records=False leaves the per-run records out."""
        data = json.loads(result.to_json(records=False))
        assert "records" not in data
        assert set(BREACH_KINDS) == set(data["breaches"])

    def test_one_record_per_run_in_order(self, result):
        """Every run has its record, in run order, with ids that name the run."""
        assert list(range(30)) == [r.run for r in result.records]
        assert all(h.startswith(f"req-{r.run}-") for r in result.records for h in r.hired)

    def test_dataframe_needs_pandas(self, result, monkeypatch):
        """Without pandas, to_dataframe says what to install."""
        monkeypatch.setitem(sys.modules, "pandas", None)
        with pytest.raises(ImportError, match="pip install pandas"):
            result.to_dataframe()

    def test_dataframe(self, result):
        """With pandas, one row per run and a column per outcome and breach kind."""
        import pandas  # noqa: F401  (installed by the dev extra: fail loudly, never skip)

        frame = result.to_dataframe()
        assert 30 == len(frame)
        assert {"offer_business_days", "outcome_offers", "breach_review"} <= set(frame.columns)


class TestCompare:
    def test_an_arm_against_itself_differs_by_nothing(self):
        """Common random numbers: the same arm twice gives zero differences, zero width."""
        found = compare(Scenario(candidates=3), Scenario(candidates=3), runs=20, seed=2)
        for name, difference in found.differences.items():
            assert difference.difference in (0.0, None), name
            if difference.low is not None:
                assert difference.low == difference.high == 0.0, name

    def test_policies_compare_on_a_shared_scenario(self):
        """Two policies run on the same scenario; a faster review shows as earlier offers."""
        fast = standard_policy().with_setting(review_days=2)
        found = compare(
            standard_policy(), fast, runs=30, seed=3, scenario=Scenario(candidates=6, **QUIET)
        )
        assert found.differences["offer_business_days"].difference <= 0
        assert "records" not in json.loads(found.to_json())["a"]

    def test_pairs_of_policy_and_scenario(self):
        """Arms may be (policy, scenario) pairs; a metric no run has compares as None."""
        never = Scenario(candidates=2, recommendations={"no": 1.0})
        found = compare((standard_policy(), never), (silent_policy(), never), runs=4, seed=1)
        assert (0, None, None) == (
            found.differences["fill_business_days"].pairs,
            found.differences["fill_business_days"].difference,
            found.differences["fill_business_days"].mean_a,
        )
        assert "outbox" == found.a.notifications.source
        assert "events" == found.b.notifications.source

    @pytest.mark.parametrize(
        ("arm", "confidence", "message"),
        [("fast", 0.95, "an arm is"), (Scenario(), 1.5, "confidence")],
        ids=["arm", "confidence"],
    )
    def test_bad_arms_are_refused(self, arm, confidence, message):
        """An arm is a Policy, a Scenario or both; the confidence lies in (0, 1)."""
        with pytest.raises(SimulationError, match=message):
            compare(arm, Scenario(), runs=2, seed=1, confidence=confidence)


class TestTimeline:
    def test_business_minutes_skip_weekends_and_holidays(self):
        """Minute 480 is the next business day at 09:00; holidays do not count."""
        from datetime import date

        from hirepipe import BusinessCalendar

        timeline = Timeline(BusinessCalendar("US", time_zone="America/New_York"), date(2025, 1, 17))
        friday = timeline.instant(0)
        assert "2025-01-17T09:00:00-05:00" == friday.isoformat()
        # Monday 20 January 2025 is Martin Luther King Jr. Day
        assert "2025-01-21T09:00:00-05:00" == timeline.instant(480).isoformat()
        assert "2025-01-17T16:59:00-05:00" == timeline.instant(479).isoformat()
        assert 480 == timeline.minute_at_or_after(friday.add(hours=9))
        assert 480 == timeline.minute_at_or_after(friday.add(days=1))
        assert 61 == timeline.minute_after(friday.add(hours=1))
        far = timeline.instant(1_000 * 480)  # beyond the first two years: the table grows
        assert 1_000 * 480 == timeline.minute_at_or_after(far)
        assert far.date() > date(2028, 1, 1)

    @given(
        zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]),
        start=st.dates(min_value=date(2025, 1, 6), max_value=date(2027, 12, 31)),
        minute=st.integers(min_value=0, max_value=900 * 480),
    )
    @settings(max_examples=150, deadline=None)
    def test_calendar_days_are_the_instants_difference(self, zone, start, minute):
        """Calendar days to a business minute are the instants' difference, DST changes included."""
        timeline = Timeline(BusinessCalendar("US", time_zone=zone), start)
        expected = (timeline.instant(minute) - timeline.origin).total_seconds() / 86_400
        assert expected == timeline.calendar_days(minute)
        assert expected == timeline.calendar_days(minute)  # kept, and the same

    @given(
        zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]),
        start=st.dates(min_value=date(2025, 1, 6), max_value=date(2027, 12, 31)),
        day=st.integers(min_value=0, max_value=900),
        into=st.integers(min_value=0, max_value=479),
    )
    @settings(max_examples=150, deadline=None)
    def test_an_instant_is_its_days_nine_oclock_plus_the_minutes(self, zone, start, day, into):
        """A minute's instant: its day's 09:00 plus the minutes, class, zone and fold included."""
        from datetime import datetime, timedelta

        timeline = Timeline(BusinessCalendar("US", time_zone=zone), start)
        nine = timeline.instant(day * 480)
        expected = datetime.__add__(nine, timedelta(minutes=into))
        found = timeline.instant(day * 480 + into)
        assert (expected, expected.isoformat()) == (found, found.isoformat())
        assert (type(expected), expected.tzinfo, expected.fold) == (
            type(found),
            found.tzinfo,
            found.fold,
        )
        assert found == timeline.instant(day * 480 + into)  # kept per day, and the same

    def test_a_day_starting_at_another_time_is_added_to(self):
        """A day whose start is not 09:00:00 (a clock change then): its start plus the minutes."""
        from datetime import datetime, timedelta

        from hirepipe._types import as_instant

        timeline = Timeline(BusinessCalendar("US", time_zone="America/New_York"), date(2025, 1, 17))
        ten = as_instant(timeline.instant(480).add(hours=1, seconds=7))
        timeline._starts[1] = ten  # as if 09:00 did not exist that day
        found = timeline.instant(480 + 61)
        assert datetime.__add__(ten, timedelta(minutes=61)) == found
        assert "2025-01-21T11:01:07-05:00" == found.isoformat()

    @given(
        zone=st.sampled_from(["America/New_York", "Europe/Berlin", "Australia/Sydney", "UTC"]),
        start=st.dates(min_value=date(2025, 1, 6), max_value=date(2026, 12, 31)),
        seconds=st.integers(min_value=-86_400 * 3, max_value=86_400 * 800),
        offset=st.sampled_from([-8, -5, 0, 1, 2, 10]),
    )
    @settings(max_examples=150, deadline=None)
    def test_minutes_of_any_instant(self, zone, start, seconds, offset):
        """The first business minute at or after any instant: in the calendar's own zone."""
        timeline = Timeline(BusinessCalendar("US", time_zone=zone), start)
        when = (
            pendulum.instance(timeline.origin)
            .add(seconds=seconds)
            .in_timezone(pendulum.FixedTimezone(offset * 3600))
        )
        minute = timeline.minute_at_or_after(when)
        assert timeline.instant(minute) >= when
        assert minute == 0 or timeline.instant(minute - 1) < when
        after = timeline.minute_after(when)
        assert timeline.instant(after) > when
        assert after == 0 or timeline.instant(after - 1) <= when
        # the last answer kept: the same again, and for the same instant at another offset
        assert after == timeline.minute_after(when)
        assert after == timeline.minute_after(when.in_timezone(pendulum.FixedTimezone(-3 * 3600)))


class TestExecutors:
    """Any concurrent.futures.Executor runs the chunks; the result is the same JSON."""

    SCENARIO = Scenario(candidates=4, offer_countered=0.3, offer_accepted=0.51, withdrawal=0.2)

    @pytest.mark.parametrize("workers", [1, 2, 3, 7], ids=str)
    def test_threads_give_the_json_of_one_process(self, workers):
        """Whatever the split into chunks, threads sharing nothing give the in-process JSON."""
        here = simulate(None, self.SCENARIO, runs=30, seed=11).to_json()
        done: list[int] = []
        with ThreadPoolExecutor(workers) as pool:
            there = simulate(
                None, self.SCENARIO, runs=30, seed=11, workers=workers, executor=pool,
                progress=done.append,
            )  # fmt: skip
        assert here == there.to_json()
        assert 30 == sum(done)

    def test_compare_on_an_executor(self):
        """compare() hands its executor to both arms; the comparison is the in-process one."""
        slower = self.SCENARIO.model_copy(update={"extra_days": {"approval": 3}})
        here = compare(self.SCENARIO, slower, runs=20, seed=2)
        with ThreadPoolExecutor(2) as pool:
            there = compare(self.SCENARIO, slower, runs=20, seed=2, executor=pool)
        assert here.to_json(records=True) == there.to_json(records=True)

    @pytest.mark.slow
    def test_a_spawned_process_pool_with_a_custom_policy(self):
        """Spawned processes rebuild a company's policy and prepare steps from the payload."""
        policy = policies.background_check_policy()
        prepare = {"extend_offer": policies.clear_background}
        scenario = Scenario(candidates=3, periodic_updates=True)
        here = simulate(policy, scenario, runs=24, seed=3, prepare=prepare)
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(2, mp_context=context) as pool:
            there = simulate(policy, scenario, runs=24, seed=3, prepare=prepare, executor=pool)
        assert here.to_json() == there.to_json()

    def test_a_refused_run_comes_back_from_the_executor(self):
        """A run the rules refuse stops the simulation with its index, as in one process."""
        policy = standard_policy().with_guard("extend_offer", never)
        with (
            ThreadPoolExecutor(2) as pool,
            pytest.raises(SimulationError, match=r"run \d+ stopped") as caught,
        ):
            simulate(policy, Scenario(candidates=2, **QUIET), runs=10, seed=1, executor=pool)
        assert caught.value.run is not None

    def test_a_policy_that_cannot_travel(self):
        """A lambda guard cannot be sent to an executor's workers: the error says so."""
        from hirepipe import GuardSpec

        policy = standard_policy().with_guard("start_debrief", GuardSpec("x", lambda ctx: iter(())))
        with (
            ThreadPoolExecutor(1) as pool,
            pytest.raises(SimulationError, match="the executor sends the policy"),
        ):
            simulate(policy, Scenario(), runs=4, seed=1, executor=pool)

    def test_a_shut_down_executor(self):
        """An executor that takes no more work is a SimulationError, not a bare RuntimeError."""
        pool = ThreadPoolExecutor(1)
        pool.shutdown()
        with pytest.raises(SimulationError, match="the executor takes no more work"):
            simulate(None, Scenario(), runs=4, seed=1, executor=pool)

    def test_a_pool_whose_worker_dies(self, monkeypatch):
        """A caller's process pool that breaks is a SimulationError that says what to check."""
        if "fork" not in multiprocessing.get_all_start_methods():
            pytest.skip("no fork on this platform")

        def dies(payload):
            os._exit(1)

        monkeypatch.setattr("hirepipe.simulate._simulate._runner_for", dies)
        context = multiprocessing.get_context("fork")
        with (
            ProcessPoolExecutor(2, mp_context=context) as pool,
            pytest.raises(SimulationError, match="a worker process stopped"),
        ):
            simulate(None, Scenario(), runs=4, seed=1, executor=pool)

    @pytest.mark.parametrize("executor", [object(), "tcp://127.0.0.1:8786"], ids=["object", "str"])
    def test_not_an_executor(self, executor):
        """Something without submit is refused up front."""
        with pytest.raises(SimulationError, match=r"executor must be a concurrent\.futures"):
            simulate(None, Scenario(), runs=4, seed=1, executor=executor)

    @pytest.mark.slow
    def test_a_local_dask_cluster_of_two_processes(self, dask_cluster):
        """Two Dask worker processes give the JSON of this process, for simulate and compare."""
        import distributed

        slower = self.SCENARIO.model_copy(update={"extra_days": {"approval": 3}})
        here = simulate(None, self.SCENARIO, runs=40, seed=5).to_json()
        compared = compare(self.SCENARIO, slower, runs=16, seed=5).to_json(records=True)
        with distributed.Client(dask_cluster, set_as_default=False) as client:
            assert 2 == len(client.nthreads())  # two worker processes, one thread each
            executor = client.get_executor()
            there = simulate(None, self.SCENARIO, runs=40, seed=5, executor=executor)
            assert here == there.to_json()
            both = compare(self.SCENARIO, slower, runs=16, seed=5, executor=executor)
            assert compared == both.to_json(records=True)


class TestTimelineBounds:
    @given(minute=st.integers(min_value=-10 * 480, max_value=-1))
    @settings(max_examples=50, deadline=None)
    def test_a_minute_before_the_start_is_refused(self, minute):
        """A negative minute named a day at the far end of the table (the list read backwards)."""
        timeline = Timeline(BusinessCalendar("US", time_zone="America/New_York"), date(2025, 1, 17))
        with pytest.raises(ValueError, match="before the run's start"):
            timeline.instant(minute)
        with pytest.raises(ValueError, match="before the run's start"):
            timeline.calendar_days(minute)
        assert "2025-01-17T09:00:00-05:00" == timeline.instant(0).isoformat()  # unchanged
