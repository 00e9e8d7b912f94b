"""The standard policy's options turned on in a scenario: hiring simulations, real rules."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from hirepipe import ApprovalStep, standard_policy
from hirepipe.policy import ScorecardScheme
from hirepipe.simulate import Scenario, SimulationError, compare, simulate
from hirepipe.simulate._options import OPTIONS, options_of
from hirepipe.simulate._runner import Runner
from hirepipe.simulate._scenario import make_plan
from hirepipe.standard import STANDARD_OPTIONS
from hirepipe.standard._background import BACKGROUND_STAGES
from hirepipe.timeline import TimelineEstimator
from tests.simulate.test_simulate import TruthHook

CHECK, ADJUDICATION, PRE_ADVERSE, DISPUTE = BACKGROUND_STAGES
BUSY = {"candidates": 6, "rounds": 2, "withdrawal": 0.2}
EVERYTHING = Scenario(options=OPTIONS, **BUSY)


class TestScenarioOptions:
    def test_every_standard_option_can_be_named(self):
        """The options are STANDARD_OPTIONS and structured scorecards, kept sorted and unique."""
        scenario = Scenario(options=["position_approval", "background_check", "position_approval"])
        assert ("background_check", "position_approval") == scenario.options
        assert set(STANDARD_OPTIONS) | {"structured_scorecards"} == set(OPTIONS)

    def test_a_single_name_is_one_option(self):
        """A bare string is one option's name, not its letters."""
        assert ("offer_signatures",) == Scenario(options="offer_signatures").options

    def test_an_unknown_option_is_refused_naming_the_options(self):
        """A misspelt option fails up front and lists the names."""
        with pytest.raises(
            ValidationError, match=r"unknown option 'background'.*position_approval"
        ):
            Scenario(options={"background"})

    def test_a_scheme_without_structured_scorecards_is_refused(self):
        """scorecard_scheme belongs to the structured scorecards option."""
        scheme = Scenario(options={"structured_scorecards"}).scheme
        with pytest.raises(ValidationError, match="add 'structured_scorecards' to options"):
            Scenario(scorecard_scheme=scheme)

    def test_shares_of_results_cannot_exceed_one(self):
        """The shares of "consider" and "failed" results are at most every check together."""
        with pytest.raises(ValidationError, match="sum to more than 1"):
            Scenario(background_consider=0.7, background_failed=0.5)

    def test_without_options_the_json_is_what_it_was(self):
        """A scenario without options leaves the option fields out of its JSON; with, keeps them."""
        assert "options" not in Scenario().model_dump_json()
        with_options = Scenario(options={"feedback_requests"}, feedback_requested=0.5)
        assert with_options == Scenario.model_validate_json(with_options.model_dump_json())

    def test_an_option_with_a_policy_without_it_is_refused(self):
        """A policy given must have the options the scenario names: a custom one has none."""
        with pytest.raises(SimulationError, match="background_check, which standard@1 does not"):
            simulate(standard_policy(), Scenario(options={"background_check"}), runs=1)

    def test_a_policy_with_an_option_the_scenario_does_not_name_is_refused(self):
        """The runner drives only what the scenario names: the policy's extra option is named."""
        with pytest.raises(SimulationError, match=r"add Scenario.options=.'offer_signatures'"):
            simulate(standard_policy(offer_signatures=True), Scenario(), runs=1)

    def test_the_policy_built_has_the_scenarios_options(self):
        """With no policy given, simulate runs standard_policy with the scenario's options."""
        result = simulate(None, Scenario(options=OPTIONS), runs=1)
        assert set(OPTIONS) == set(result.scenario.options)
        assert ADJUDICATION in result.stages or result.stages  # ran at all


def _breaches(result, kind):
    return result.breaches[kind].applications if kind in result.breaches else 0


class TestEachOption:
    @pytest.mark.parametrize("option", OPTIONS, ids=str)
    def test_each_option_alone_runs_requisitions(self, option):
        """Each option on its own runs requisitions to their end, every guard passing."""
        result = simulate(None, Scenario(options={option}, **BUSY), runs=25, seed=3)
        assert 25 == result.runs
        assert result.fill_rate > 0

    def test_all_options_together_run_requisitions(self):
        """Every option at once: the runs end, offers are made and signed, checks are run."""
        result = simulate(None, EVERYTHING, runs=40, seed=11)
        assert result.fill_rate > 0
        assert result.outcomes["background_checks"] > 0
        assert result.outcomes["offers_signed"] == result.outcomes["offers_countersigned"]
        assert result.outcomes["scheduling_steps"] >= 4 * result.outcomes["next_rounds"] - 4 * 40

    @pytest.mark.parametrize("scenario", [EVERYTHING, Scenario(options=OPTIONS, headcount=2,
                             candidates=5, approval_chain=(ApprovalStep(name="finance",
                             approvers=("cfo",)),), background_consider=0.5,
                             background_dispute=0.6, feedback_send_days=8.0)],
                             ids=["everything", "disputes-and-late-feedback"])  # fmt: skip
    def test_breaches_are_what_service_levels_report(self, scenario):
        """With every option, the tracker's breaches equal ServiceLevels' after every event."""
        policy = standard_policy(
            structured_scorecards=scenario.scheme, **dict.fromkeys(STANDARD_OPTIONS, True)
        )
        plan = make_plan(policy, scenario, TimelineEstimator())
        truth = TruthHook(policy)
        runner = Runner(plan, seed=21, hooks=[truth])
        for index in range(25):
            truth.reset()
            outcome = runner.run(index)
            assert truth.counts(plan.timeline.instant(outcome.end)) == outcome.breaches, index


class TestBackgroundCheck:
    def test_the_check_shows_in_the_stages_and_delays_the_offer(self):
        """Background checks add their stages and lengthen the time to the first offer."""
        plain = Scenario(candidates=4, withdrawal=0.0)
        checked = plain.model_copy(update={"options": ("background_check",)})
        result = compare(plain, checked, runs=80, seed=2)
        stages = result.b.stages
        assert {CHECK, ADJUDICATION} <= set(stages)
        assert CHECK not in result.a.stages
        difference = result.differences["offer_business_days"]
        assert difference.low is not None
        assert difference.low > 0

    def test_adverse_actions_wait_the_waiting_period(self):
        """Every "consider" adjudicated adverse: notices, disputes, final adverse actions."""
        scenario = Scenario(
            options={"background_check"}, background_consider=0.6, adverse_decision=1.0,
            background_dispute=0.0, **BUSY,
        )  # fmt: skip
        result = simulate(None, scenario, runs=30, seed=4)
        assert result.outcomes["adverse_actions"] > 0
        assert 0 == result.outcomes["disputes"]
        waited = result.stages[PRE_ADVERSE]
        assert waited.count > 0
        assert waited.p50 is not None
        assert waited.p50 >= 5  # the waiting period, business days

    def test_disputes_hold_the_final_notice_until_resolved(self):
        """Disputed notices wait for the reinvestigation; cleared ones go on to the offer."""
        scenario = Scenario(
            options={"background_check"}, background_consider=0.6, adverse_decision=1.0,
            background_dispute=1.0, dispute_cleared=0.5, **BUSY,
        )  # fmt: skip
        result = simulate(None, scenario, runs=30, seed=4)
        assert result.outcomes["disputes"] > 0
        assert 0 < result.outcomes["adverse_actions"] < result.outcomes["disputes"]
        assert result.stages[DISPUTE].count == result.outcomes["disputes"]


class TestPositionApproval:
    def test_a_runner_up_needs_no_second_approval(self):
        """With position approval, approvals per hire fall when first choices decline."""
        declines = {"offer_accepted": 0.4, "offer_declined": 0.45, "offer_countered": 0.1,
                    "offer_lapsed": 0.05, "approvers": 3, "company_size": "large"}  # fmt: skip
        base = Scenario(options={"feedback_requests"}, **declines, **BUSY)
        position = base.model_copy(update={"options": ("feedback_requests", "position_approval")})
        a, b = simulate(None, base, runs=60, seed=5), simulate(None, position, runs=60, seed=5)

        def per_hire(result, *names):  # over the filled runs: approvals for each hire
            filled = [r for r in result.records if r.filled]
            return sum(r.outcomes[n] for r in filled for n in names) / len(filled)

        assert 0 == b.outcomes["approvals"]  # the offer steps: none by default
        assert per_hire(b, "position_approvals") == 3  # once per requisition, three approvers
        assert per_hire(b, "position_approvals") < per_hire(a, "approvals")
        assert b.runner_up_hired > 0
        assert b.time_to_offer.business_days.mean < a.time_to_offer.business_days.mean


class TestOtherOptions:
    def test_feedback_requests_go_overdue_when_slow(self):
        """Feedback sent later than feedback_days shows as a breach of the feedback deadline."""
        slow = Scenario(options={"feedback_requests"}, feedback_requested=1.0,
                        feedback_send_days=12.0, **BUSY)  # fmt: skip
        result = simulate(None, slow, runs=20, seed=6)
        assert result.outcomes["feedback_requests"] > 0
        assert _breaches(result, "feedback") > 0

    def test_slow_scheduling_delays_the_next_round(self):
        """Next-round scheduling that takes longer than the usual wait delays the offer."""
        plain = Scenario(options={"next_round_scheduling"}, **BUSY)
        slow = plain.model_copy(update={"scheduling_days": (3.0, 6.0, 3.0, 6.0)})
        result = compare(plain, slow, runs=40, seed=7)
        assert result.differences["offer_business_days"].low > 0
        assert _breaches(result.b, "availability_request") > 0

    def test_keeping_in_touch_moves_rejected_candidates_to_the_pool(self):
        """Consenting rejected candidates are kept in touch: counted, never offered this role."""
        scenario = Scenario(options={"keep_in_touch_from_rejection"}, stay_in_touch=1.0, **BUSY)
        result = simulate(None, scenario, runs=20, seed=8)
        assert result.outcomes["kept_in_touch"] > 0

    def test_structured_scorecards_rate_the_focus_with_a_scheme_given(self):
        """A scheme given is used: a round without focus attributes needs no ratings."""
        scheme = ScorecardScheme(
            categories=["skills"], attributes=[{"name": "sql", "category": "skills"}],
            scale=["weak", "fair", "good", "great"], focus={1: ["sql"]},
        )  # fmt: skip
        scenario = Scenario(options={"structured_scorecards"}, scorecard_scheme=scheme, **BUSY)
        result = simulate(None, scenario, runs=10, seed=9)
        assert result.offer_rate > 0
        assert "structured_scorecards" in options_of(standard_policy(structured_scorecards=scheme))

    def test_signatures_delay_the_fill_not_the_offer(self):
        """The countersignature comes after the candidate's signature: later fills, same offers."""
        plain = Scenario(**BUSY)
        signed = plain.model_copy(update={"options": ("offer_signatures",)})
        result = compare(plain, signed, runs=40, seed=10)
        assert result.differences["offer_business_days"].difference == 0
        assert result.differences["fill_business_days"].low > 0


class TestDeterminism:
    def test_threads_give_the_json_of_one(self):
        """With every option, 1 and 2 thread workers give the same result for a seed."""
        one = simulate(None, EVERYTHING, runs=16, seed=12).to_json()
        with ThreadPoolExecutor(2) as pool:
            two = simulate(None, EVERYTHING, runs=16, seed=12, workers=2, executor=pool).to_json()
        with ThreadPoolExecutor(1) as pool:
            alone = simulate(None, EVERYTHING, runs=16, seed=12, executor=pool).to_json()
        assert one == two == alone
