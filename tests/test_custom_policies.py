"""Companies' own lifecycles through every layer, tested as a company would, with the kit.

Five policies (tests/policies.py and the Acme example): (a) a background check after the
references, (b) interns with no reference checks, (c) a take-home assessment after the debrief,
(d) a small company with no approval stage, (e) a two-step final review. Each is walked path by
path, runs on a slate (runner-ups brought forward from every in-flight stage), owes deadlines in
its own stages, is estimated from every stage, simulated and stored.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hirepipe import (
    EstimateError,
    GuardRejected,
    Pipeline,
    Policy,
    ServiceLevels,
    Slate,
    TimelineEstimator,
    standard_policy,
)
from hirepipe.policy import StageKind, StageRole, paths
from hirepipe.simulate import Scenario, simulate
from hirepipe.store import Store
from hirepipe.testing import (
    FakeClock,
    Recipe,
    advance,
    make_candidate,
    make_requisition,
    path_to,
    walk,
)
from tests import policies
from tests.conftest import START

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
import acme_hiring


@dataclass(frozen=True)
class Company:
    """A policy and what the kit needs to pass its own guards."""

    policy: Policy
    recipes: dict[str, Recipe]
    custom: tuple[str, ...]  # its own stages
    prepare: dict[str, object]  # for the simulator: the company's activities before events


COMPANIES = {
    "background-check": Company(
        policies.background_check_policy(),
        policies.background_recipes(),
        ("background_check",),
        {"extend_offer": policies.clear_background},
    ),
    "interns": Company(policies.intern_policy(), {}, (), {}),
    "assessment": Company(
        acme_hiring.acme_policy(),
        acme_hiring.RECIPES,
        ("assessment",),
        {"complete_debrief": acme_hiring.RECIPES["complete_debrief"].prepare},
    ),
    "no-approval": Company(policies.small_company_policy(), {}, (), {}),
    "final-review": Company(policies.final_review_policy(), {}, ("final_review",), {}),
}


@pytest.fixture(params=list(COMPANIES), ids=str)
def company(request: pytest.FixtureRequest) -> Company:
    return COMPANIES[request.param]


@pytest.fixture
def hirepipe_policy(company: Company) -> Policy:
    """The pytest plugin's policy fixture, overridden as a company's suite would."""
    return company.policy


def at(pipeline: Pipeline, company: Company, stage: str, number: int = 1):
    """A new application brought to ``stage`` with the company's recipes."""
    requisition = make_requisition()
    application = pipeline.new_application(
        make_candidate(number), requisition, interviewers=("alice", "bob")
    )
    events = path_to(company.policy, stage)
    advance(pipeline, application, requisition, events, recipes=company.recipes)
    return application, requisition


class TestPaths:
    def test_every_path_walks_to_its_end(self, company, hirepipe_pipeline, hirepipe_clock):
        """Every simple path of the policy walks, with the company's recipes, to where it ends."""
        found = paths(company.policy)
        assert found
        for path in found:
            pipeline = Pipeline(company.policy, clock=FakeClock(hirepipe_clock.now()))
            application = walk(pipeline, make_requisition(), path, recipes=company.recipes)
            assert path.end == application.stage, str(path)

    def test_the_plugin_pipeline_runs_the_companys_policy(self, company, hirepipe_pipeline):
        """The plugin's pipeline fixture runs the overridden policy."""
        assert company.policy is hirepipe_pipeline.policy


class TestBackgroundCheck:
    def test_no_offer_exists_before_the_check_clears(self):
        """The offer waits for the check; a 'consider' result waits for its adjudication."""
        company = COMPANIES["background-check"]
        pipeline = Pipeline(company.policy, clock=FakeClock(START))
        application, requisition = at(pipeline, company, "background_check")
        offer = {"salary": 135_000, "start_date": START.date().add(weeks=8)}
        for result, code in (
            (None, "background_pending"),
            ("consider", "adjudication_pending"),
        ):
            if result is not None:
                pipeline.fire(
                    application, "record_background_result", actor="provider", result=result
                )
            with pytest.raises(GuardRejected) as refused:
                pipeline.fire(
                    application, "extend_offer", actor="maria", requisition=requisition, **offer
                )
            assert (code,) == refused.value.codes
            assert (0, "background_check") == (len(application.offers), application.stage)
        pipeline.fire(application, "adjudicate", actor="maria", decision="proceed")
        pipeline.fire(application, "extend_offer", actor="maria", requisition=requisition, **offer)
        assert ("offer", 1) == (application.stage, len(application.offers))


def in_flight_stages(policy: Policy) -> list[str]:
    return sorted(policy.stages_in(StageRole.in_flight))


class TestSlate:
    @pytest.mark.parametrize("ending", ["reject", "withdraw"], ids=str)
    def test_a_runner_up_comes_forward_from_every_in_flight_stage(self, company, ending):
        """Whatever in-flight stage the chosen candidate leaves for good, the next comes forward."""
        policy = company.policy
        for stage in in_flight_stages(policy):
            pipeline = Pipeline(policy, clock=FakeClock(START))
            requisition = make_requisition()
            slate = Slate(pipeline, requisition)
            reviewing = policy.stages_in(StageRole.review)
            first_review = next(s for s in policy.stages if s in reviewing)
            review = path_to(policy, first_review)
            chosen, runner_up = (
                slate.new_application(make_candidate(n), interviewers=("alice", "bob"))
                for n in (1, 2)
            )
            for application in (chosen, runner_up):
                advance(pipeline, application, requisition, review, recipes=company.recipes)
            onward = path_to(policy, stage)[len(review) :]
            advance(pipeline, chosen, requisition, onward, recipes=company.recipes)
            assert stage == chosen.stage
            data = {"reason": "skills", "feedback": "Not this time."} if ending == "reject" else {}
            actor = chosen.candidate.id if ending == "withdraw" else "maria"
            fired = slate.fire(chosen.id, ending, actor=actor, **data)
            assert runner_up in [f.application for f in fired[1:]], stage
            assert runner_up.stage in policy.stages_in(StageRole.in_flight), stage


class TestDeadlines:
    def test_each_custom_stage_owes_its_deadline_and_goes_overdue(self, company):
        """Entering a custom stage opens its service-level deadline; past it, it is overdue."""
        policy = company.policy
        for stage in company.custom:
            clock = FakeClock(START)
            pipeline = Pipeline(policy, clock=clock)
            application, requisition = at(pipeline, company, stage)
            service = policy.stage(stage).service
            assert service is not None
            levels = ServiceLevels(policy)
            (own,) = [
                d
                for d in levels.deadlines(application, requisition)
                if d.kind == (service.deadline or stage)
            ]
            entered = application.history[-1].at
            calendar = levels.calendar(requisition)
            assert calendar.add_business_days(entered, service.days) == own.due

            at_due, after = (
                [d for d in levels.overdue([application], [requisition], now) if d.kind == own.kind]
                for now in (own.due, own.due.add(minutes=1))
            )
            assert ([], [own]) == (at_due, after)


class TestEstimates:
    def test_every_active_stage_has_dated_quantiles(self, company):
        """From any active stage the estimator dates the next decision at P50 <= P80 <= P95."""
        policy = company.policy
        estimator = TimelineEstimator(policy=policy)
        for stage, spec in policy.stages.items():
            if spec.kind is not StageKind.active:
                continue
            pipeline = Pipeline(policy, clock=FakeClock(START))
            application, requisition = at(pipeline, company, stage)
            outlook = estimator.estimate(application, requisition, pipeline.clock.now())
            dates = outlook.next_decision.dates
            assert dates.p50 <= dates.p80 <= dates.p95, stage
            assert outlook.answer is not None, stage

    def test_a_policy_with_an_untimed_stage_is_refused_when_the_estimator_is_built(self):
        """A stage with no duration is named when the estimator is built, not at estimate time."""
        policy = standard_policy().with_stage("vetting", after="references")
        with pytest.raises(EstimateError, match="no expected duration for vetting"):
            TimelineEstimator(policy=policy)


@pytest.mark.slow
class TestSimulation:
    def test_five_hundred_runs_complete_and_show_the_custom_stage(self, company):
        """A 500-run simulation completes; its report times every custom stage."""
        result = simulate(
            company.policy,
            Scenario(candidates=4),
            runs=500,
            seed=3,
            prepare=company.prepare,
        )
        assert 500 == result.runs
        assert 0 < result.fill_rate
        for stage in company.custom:
            assert result.stages[stage].mean > 0, stage
            service = company.policy.stage(stage).service
            assert (service.deadline or stage) in result.breaches


class StoredPipeline:
    """Fires through a store as the kit fires through a pipeline, so recipes run on the store.

    The kit's recipes read the application they are given; after each stored fire the caller's
    copy is brought up to date from the store's.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self.policy = store.pipeline.policy
        self.clock = store.pipeline.clock

    def fire(self, application, event, *, actor, requisition=None, reason=None, **data):
        fired = self.store.fire(application.id, event, actor=actor, reason=reason, **data)
        application.__dict__.update(fired.application.__dict__)
        return fired


class TestStore:
    def test_the_store_persists_and_replays_the_custom_stages(self, company, tmp_path):
        """An application walked through the custom stages replays from the log to its snapshot."""
        policy = company.policy
        target = company.custom[-1] if company.custom else policy.main_path(policy.initial)[-1]
        pipeline = Pipeline(policy, clock=FakeClock(START))
        with Store(f"sqlite:///{tmp_path / 'hiring.db'}", pipeline) as store:
            store.upgrade()
            requisition = make_requisition()
            application = pipeline.new_application(
                make_candidate(), requisition, interviewers=("alice", "bob")
            )
            store.add(application, requisition)
            events = path_to(policy, target)
            advance(
                StoredPipeline(store), application, requisition, events, recipes=company.recipes
            )
            stored = store.load(application.id)
            assert (target, stored) == (application.stage, application)
            assert stored == store.replay(application.id)
            assert [] == store.verify()
