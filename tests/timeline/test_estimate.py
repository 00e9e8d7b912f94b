"""The timeline estimator: published priors, calibration, conditioning, adjustments, fitting."""

from __future__ import annotations

import itertools
import math
from datetime import date, datetime, timedelta
from importlib import resources
from typing import ClassVar

import numpy as np
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import CompanySize, EstimateError, Pipeline, RequisitionMismatch, TransitionRecord
from hirepipe.models import Application
from hirepipe.testing import FakeClock, advance, make_application, make_candidate, make_requisition
from hirepipe.timeline.calendar import BusinessCalendar
from hirepipe.timeline.estimate import (
    DateQuantiles,
    Estimate,
    FitReport,
    Priors,
    Quantiles,
    StageDistribution,
    TimelineEstimator,
)

NY = "America/New_York"
CALENDAR = BusinessCalendar("US", time_zone=NY)
UTC_CALENDAR = BusinessCalendar("US", time_zone="UTC")
PUBLISHED = {
    "all_employers": 24.2,
    "computer_electronics": 16.0,
    "accounting": 17.0,
    "business_services": 17.5,
    "construction": 30.0,
    "engineering_services": 30.3,
    "government": 38.0,
    "hospitality": 39.5,
}
PATH = ("interviewed", "debrief", "review", "approval", "references")


@pytest.fixture(scope="module")
def estimator() -> TimelineEstimator:
    return TimelineEstimator()


def later(when: datetime, business_days: int) -> pendulum.DateTime:
    """``when`` moved by business days in New York, same wall-clock time."""
    return CALENDAR.add_business_days(when, business_days)


def covered(draws: np.ndarray, bound: float) -> float:
    """The share of ``draws`` on or before ``bound``."""
    return float(np.mean(draws <= bound))


def vars_of(quantiles: Quantiles | DateQuantiles) -> tuple:
    """P50, P80 and P95, in order."""
    return (quantiles.p50, quantiles.p80, quantiles.p95)


class TestPriors:
    @pytest.mark.parametrize(
        ("industry", "published"), list(PUBLISHED.items()), ids=list(PUBLISHED)
    )
    def test_default_stage_means_add_up_to_the_published_total(
        self, estimator, industry, published
    ):
        """At a medium company and the reference slate the stage means sum to NACE's mean."""
        requisition = make_requisition(industry=industry)
        total = sum(estimator.stage_distribution(s, requisition).mean for s in PATH)
        assert published == pytest.approx(total)

    def test_offer_window_is_published_figure(self, estimator):
        """The offer stage lasts 14.1 business days on average, as NACE 2012 measured."""
        assert 14.1 == estimator.stage_distribution("offer", make_requisition()).mean

    def test_figures_carry_source_unit_and_year(self):
        """Published figures name their source, unit and year; assumed ones say so."""
        sources = Priors.load().sources
        published = sources["interview_to_offer"]
        assert (2012, "business days", False) == (
            published.year,
            published.unit,
            published.assumption,
        )
        assert "NACE" in published.source
        assumed = ["split", "other_stages", "cv", "company_size", "candidates"]
        assert [True] * 5 == [sources[name].assumption for name in assumed]

    @pytest.mark.parametrize(
        ("name", "key"),
        [
            ("engineering", "engineering_services"),
            ("Engineering Services", "engineering_services"),
            ("Computer & Electronics", "computer_electronics"),
            ("recreation-and-hospitality", "hospitality"),
            ("all_employers", "all_employers"),
        ],
        ids=["alias", "spaces", "ampersand", "hyphens", "key"],
    )
    def test_industry_names_are_forgiving(self, name, key):
        """Case, spaces, hyphens, '&' and a few aliases resolve to the published keys."""
        assert key == Priors.load().industry(name)

    def test_unknown_industry_lists_known_ones(self, estimator):
        """An unknown industry raises EstimateError naming every known industry."""
        with pytest.raises(EstimateError, match="known industries: accounting, all_employers"):
            estimator.stage_distribution("review", make_requisition(industry="mining"))

    @pytest.mark.parametrize(
        "changes",
        [
            {"split": dict.fromkeys(PATH, 0.3)},
            {"split": {"debrief": 1.0}},
            {"cv": 0},
            {"company_size": {"small": 1.0}},
            {"aliases": {"tech": "technology"}},
            {"other_stages": {"review": 7.0}},
            {"stage_cv": {"lunch": 0.5}},
        ],
        ids=["split-sum", "split-stages", "cv", "sizes", "alias", "other-repeats", "stage-cv"],
    )
    def test_invalid_priors_are_refused(self, changes):
        """Priors that cannot work raise a ValidationError saying what is wrong."""
        with pytest.raises(ValidationError):
            Priors.load().replace(**changes)

    def test_an_estimator_lacking_a_duration_is_refused_when_built(self):
        """Priors without a figure for a stage of the policy are refused at once, stage named."""
        priors = Priors.load().replace(other_stages={"next_round": 7.0})
        with pytest.raises(EstimateError, match=r"no expected duration for negotiation"):
            TimelineEstimator(priors)

    def test_priors_load_from_a_file(self, tmp_path):
        """A TOML file laid out like the packaged one replaces the defaults."""
        text = resources.files("hirepipe.timeline").joinpath("data/priors.toml").read_text("utf-8")
        path = tmp_path / "priors.toml"
        path.write_text(text.replace("accounting = 17.0", "accounting = 20.0"))
        estimator = TimelineEstimator(Priors.load(path))
        requisition = make_requisition(industry="accounting")
        assert 20.0 == pytest.approx(
            sum(estimator.stage_distribution(s, requisition).mean for s in PATH)
        )

    def test_a_missing_table_is_named(self):
        """A priors file without one of its tables says which."""
        with pytest.raises(EstimateError, match="lacks the table 'offer_decision'"):
            Priors.from_toml({"interview_to_offer": {}})

    def test_stage_cv_overrides_one_stage(self):
        """``stage_cv`` sets one stage's spread and leaves the others at ``cv``."""
        estimator = TimelineEstimator(Priors.load().replace(stage_cv={"approval": 1.5}))
        requisition = make_requisition()
        cvs = {s: estimator.stage_distribution(s, requisition).cv for s in PATH}
        assert {**dict.fromkeys(PATH, 0.8), "approval": 1.5} == cvs

    def test_custom_split_changes_the_stages_not_the_total(self):
        """A different split moves time between stages; the published total is kept."""
        split = {
            "interviewed": 0.1,
            "debrief": 0.1,
            "review": 0.2,
            "approval": 0.4,
            "references": 0.2,
        }
        estimator = TimelineEstimator(Priors.load().replace(split=split))
        requisition = make_requisition()
        means = [estimator.stage_distribution(s, requisition).mean for s in PATH]
        assert [2.42, 2.42, 4.84, 9.68, 4.84] == pytest.approx(means)


class TestStageDistribution:
    def test_mean_matches_the_prior(self):
        """The lognormal's mean is the stage mean (checked by 200,000 draws)."""
        dist = StageDistribution("review", 8.47, 0.8)
        draws = dist.sample(np.random.default_rng(7), 200_000)
        assert 8.47 == pytest.approx(float(draws.mean()), rel=0.01)
        assert 0.8 == pytest.approx(float(draws.std() / draws.mean()), rel=0.03)

    @pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5], ids=["zero", "one", "negative", "above"])
    def test_quantile_levels_outside_zero_one_are_refused(self, p):
        """A quantile level must lie strictly between 0 and 1."""
        with pytest.raises(EstimateError, match="strictly between 0 and 1"):
            StageDistribution("review", 5.0, 0.8).quantile(p)

    @pytest.mark.parametrize(
        ("mean", "cv"), [(0.0, 0.8), (5.0, 0.0), (math.inf, 0.8)], ids=["mean", "cv", "infinite"]
    )
    def test_a_distribution_needs_a_positive_mean_and_cv(self, mean, cv):
        """A lognormal needs a positive, finite mean and coefficient of variation."""
        with pytest.raises(EstimateError, match="positive mean and CV"):
            StageDistribution("review", mean, cv)

    def test_no_mass_before_zero(self):
        """A remaining duration is never negative."""
        dist = StageDistribution("review", 5.0, 0.8)
        assert (0.0, 0.0) == (dist.cdf(-1.0), dist.cdf(-3.0, elapsed=2))
        assert "StageDistribution('review', mean=5, cv=0.8)" == repr(dist)

    def test_negative_elapsed_is_refused(self):
        """Elapsed time cannot be negative."""
        with pytest.raises(EstimateError, match="0 or more"):
            StageDistribution("review", 5.0, 0.8).quantile(0.5, elapsed=-1)

    @pytest.mark.parametrize("elapsed", [0, 2, 8, 30], ids=["fresh", "early", "late", "overdue"])
    def test_conditional_samples_match_conditional_quantiles(self, elapsed):
        """Draws given the elapsed time fall below the conditional P80 and P95 as often."""
        dist = StageDistribution("approval", 4.84, 0.8)
        draws = dist.sample(np.random.default_rng(3), 20_000, elapsed)
        expected = (0.80, 0.95)
        actual = tuple(covered(draws, dist.quantile(p, elapsed)) for p in expected)
        assert expected == pytest.approx(actual, abs=0.01)
        assert dist.moments(elapsed)[0] == pytest.approx(float(draws.mean()), rel=0.03)

    @settings(max_examples=200, deadline=None)
    @given(
        elapsed=st.integers(min_value=0, max_value=80),
        p=st.floats(min_value=0.01, max_value=0.99),
        mean=st.floats(min_value=0.5, max_value=60),
        cv=st.floats(min_value=0.2, max_value=2.0),
    )
    def test_cdf_inverts_quantile_and_completion_moves_later(self, elapsed, p, mean, cv):
        """For any stage and elapsed time, cdf(quantile(p)) is p and the completion is later."""
        dist = StageDistribution("review", mean, cv)
        remaining = dist.quantile(p, elapsed)
        assert p == pytest.approx(dist.cdf(remaining, elapsed), abs=1e-6)
        assert elapsed + remaining <= elapsed + 1 + dist.quantile(p, elapsed + 1) + 1e-9


class TestCalibration:
    """The issue's honest-calibration tests: sampled outcomes against the published means."""

    @pytest.mark.parametrize(
        "industry",
        ["engineering_services", "computer_electronics", "all_employers"],
        ids=["engineering", "electronics", "all"],
    )
    def test_sampled_interview_to_offer_mean_is_published(
        self, estimator, pipeline, clock, industry
    ):
        """The mean of 20,000 sampled interview-to-offer times is within 5% of NACE's mean."""
        requisition = make_requisition(industry=industry)
        application = make_application(pipeline, requisition)
        draws = estimator.sample(application, requisition, clock.now(), size=20_000, rng=11)
        assert PUBLISHED[industry] == pytest.approx(float(draws.mean()), rel=0.05)

    @pytest.mark.parametrize(
        ("industry", "stage", "elapsed", "milestone"),
        [
            ("engineering_services", "interviewed", 0, "offer"),
            ("computer_electronics", "interviewed", 0, "offer"),
            ("all_employers", "interviewed", 0, "offer"),
            ("all_employers", "interviewed", 0, "answer"),
            ("government", "review", 6, "offer"),
            ("hospitality", "approval", 15, "answer"),
            ("all_employers", "next_round", 3, "offer"),
            ("accounting", "references", 2, "next_decision"),
            ("construction", "negotiation", 1, "answer"),
        ],
        ids=[
            "engineering",
            "electronics",
            "all",
            "all-answer",
            "government-review",
            "hospitality-overdue-approval",
            "next-round",
            "references",
            "negotiation",
        ],
    )
    def test_p80_and_p95_cover_80_and_95_percent(
        self, estimator, pipeline, clock, industry, stage, elapsed, milestone
    ):
        """80% (95%) of 10,000 sampled outcomes fall on or before P80 (P95), within 3 points."""
        requisition = make_requisition(industry=industry)
        application = make_application(pipeline, requisition, stage=stage)
        now = later(clock.now(), elapsed)
        estimate = estimator.estimate(application, requisition, now)
        quantiles = getattr(estimate, milestone).business_days
        draws = estimator.sample(
            application, requisition, now, size=10_000, rng=5, milestone=milestone
        )
        expected = (0.50, 0.80, 0.95)
        actual = tuple(covered(draws, q) for q in (quantiles.p50, quantiles.p80, quantiles.p95))
        assert expected == pytest.approx(actual, abs=0.03)

    def test_coverage_holds_with_approver_absences(self, estimator, pipeline, clock):
        """Absences extend estimates and samples alike: P80 and P95 still cover."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        start = clock.now().date()
        absences = [(start + timedelta(days=3), start + timedelta(days=12))]
        estimate = estimator.estimate(
            application, requisition, clock.now(), approver_absences=absences
        )
        draws = estimator.sample(
            application, requisition, clock.now(), rng=2, approver_absences=absences
        )
        quantiles = estimate.offer.business_days
        actual = (covered(draws, quantiles.p80), covered(draws, quantiles.p95))
        assert (0.80, 0.95) == pytest.approx(actual, abs=0.03)

    def test_dates_are_the_business_days_after_today(self, estimator, pipeline, clock):
        """A milestone's dates are its business days, rounded, counted in the local calendar."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        estimate = estimator.estimate(application, requisition, clock.now())
        today = clock.now().date()
        for stage in estimate.stages:
            days, dates = stage.finish.business_days, stage.finish.dates
            expected = [
                CALENDAR.add_business_days(today, math.floor(q + 0.5)) for q in vars_of(days)
            ]
            assert expected == list(vars_of(dates))


class TestEstimate:
    def test_stages_follow_the_path_to_an_offer(self, estimator, pipeline, clock):
        """From an interview the remaining stages are the path to an offer, then the answer."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        estimate = estimator.estimate(application, requisition, clock.now())
        assert [*PATH, "offer"] == [s.stage for s in estimate.stages]
        assert estimate.stages[0].finish == estimate.next_decision
        assert estimate.stages[-2].finish == estimate.offer
        assert estimate.stages[-1].finish == estimate.answer
        assert (True, date(2025, 1, 6), 0) == (estimate.pending, estimate.entered, estimate.elapsed)

    @pytest.mark.parametrize(
        ("stage", "route"),
        [
            ("next_round", ["next_round", *PATH, "offer"]),
            ("negotiation", ["negotiation", "offer"]),
            ("references", ["references", "offer"]),
            ("offer", ["offer"]),
        ],
        ids=["next-round", "negotiation", "references", "offer"],
    )
    def test_routes_of_each_stage(self, estimator, pipeline, clock, stage, route):
        """Each stage leads to an answer along its own remaining stages."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage=stage)
        estimate = estimator.estimate(application, requisition, clock.now())
        assert route == [s.stage for s in estimate.stages]
        assert (estimate.offer is None) == (stage == "offer")

    def test_estimates_move_later_as_the_stage_lasts(self, estimator, pipeline, clock):
        """Conditional on time already spent, the expected end only ever moves later."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        elapsed = [0, 2, 5, 10, 20, 40]
        ends = []
        for days in elapsed:
            estimate = estimator.estimate(application, requisition, later(clock.now(), days))
            assert days == estimate.elapsed
            ends.append([days + q for q in vars_of(estimate.next_decision.business_days)])
        for earlier, next_ in itertools.pairwise(ends):
            assert all(a < b for a, b in zip(earlier, next_, strict=True))

    def test_overdue_offer_date_moves_later(self, estimator, pipeline, clock):
        """A stage past its P95 keeps a future estimate, pushed later day by day."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        first = estimator.estimate(application, requisition, later(clock.now(), 30))
        second = estimator.estimate(application, requisition, later(clock.now(), 31))
        assert first.offer.dates.p50 < second.offer.dates.p50

    def test_absences_push_the_approval_stage(self, estimator, pipeline, clock):
        """An approver away for the next 5 business days adds exactly 5 to approval's end."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        now = clock.now()
        away = [(now.date(), CALENDAR.add_business_days(now.date(), 4))]
        plain = estimator.estimate(application, requisition, now)
        absent = estimator.estimate(application, requisition, now, approver_absences=away)
        shift = [
            b - a
            for a, b in zip(
                vars_of(plain.next_decision.business_days),
                vars_of(absent.next_decision.business_days),
                strict=True,
            )
        ]
        assert [5.0, 5.0, 5.0] == pytest.approx(shift)
        assert plain.stages[1].duration == absent.stages[1].duration

    def test_absence_after_the_likely_end_delays_later_quantiles(self, estimator, pipeline, clock):
        """An absence from the 6th business day delays P80 and P95 by its length, not P50."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        now = clock.now()
        first, last = (CALENDAR.add_business_days(now.date(), n) for n in (5, 7))
        overlapping = [(first, last), (first, CALENDAR.add_business_days(first, 1))]
        plain = estimator.estimate(application, requisition, now)
        absent = estimator.estimate(application, requisition, now, approver_absences=overlapping)
        shift = [
            b - a
            for a, b in zip(
                vars_of(plain.next_decision.business_days),
                vars_of(absent.next_decision.business_days),
                strict=True,
            )
        ]
        assert [0.0, 3.0, 3.0] == pytest.approx(shift)

    def test_absences_after_approval_change_nothing(self, estimator, pipeline, clock):
        """Once past approval, or with an absence long after it, estimates are unchanged."""
        requisition = make_requisition()
        now = clock.now()
        far = [(date(2026, 6, 1), date(2026, 6, 30))]
        for stage in ("references", "approval"):
            application = make_application(pipeline, requisition, stage=stage)
            expected = estimator.estimate(application, requisition, now)
            actual = estimator.estimate(application, requisition, now, approver_absences=far)
            assert expected == actual

    def test_past_absence_does_not_count_as_time_spent(self, estimator, pipeline, clock):
        """Approval days an approver was away do not make the approval look overdue."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        start = clock.now()
        away = [(start.date(), CALENDAR.add_business_days(start.date(), 4))]
        with_absence = estimator.estimate(
            application, requisition, later(start, 10), approver_absences=away
        )
        shorter = estimator.estimate(application, requisition, later(start, 5))
        assert with_absence.next_decision.business_days == shorter.next_decision.business_days
        assert 10 == with_absence.elapsed

    @pytest.mark.parametrize(
        ("size", "factor"),
        [
            (CompanySize.small, 0.75),
            (CompanySize.medium, 1.0),
            (CompanySize.large, 1.3),
            (CompanySize.enterprise, 1.6),
        ],
        ids=["small", "medium", "large", "enterprise"],
    )
    def test_company_size_changes_approval_only(self, estimator, size, factor):
        """Company size multiplies the approval stage's mean and no other stage's."""
        base = make_requisition()
        sized = make_requisition(company_size=size)
        expected = {s: estimator.stage_distribution(s, base).mean for s in (*PATH, "offer")}
        expected["approval"] *= factor
        actual = {s: estimator.stage_distribution(s, sized).mean for s in (*PATH, "offer")}
        assert expected == pytest.approx(actual)

    @pytest.mark.parametrize(
        ("candidates", "factor"),
        [(None, 1.0), (1, math.sqrt(1 / 3)), (3, 1.0), (12, 2.0)],
        ids=["default", "one", "reference", "twelve"],
    )
    def test_candidates_change_review_only(self, estimator, candidates, factor):
        """More candidates under review lengthen the review stage and no other stage."""
        requisition = make_requisition()
        expected = {s: estimator.stage_distribution(s, requisition).mean for s in PATH}
        expected["review"] *= factor
        actual = {
            s: estimator.stage_distribution(s, requisition, candidates_under_review=candidates).mean
            for s in PATH
        }
        assert expected == pytest.approx(actual)

    def test_larger_slate_delays_the_offer(self, estimator, pipeline, clock):
        """An estimate with 10 candidates under review puts the offer later than with 2."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        few, many = (
            estimator.estimate(application, requisition, clock.now(), candidates_under_review=count)
            for count in (2, 10)
        )
        assert few.offer.business_days.p50 < many.offer.business_days.p50
        assert few.stages[1].duration == many.stages[1].duration

    @pytest.mark.parametrize(
        ("stage", "note"),
        [
            ("hired", "has ended (hired)"),
            ("rejected", "has ended (rejected)"),
            ("on_hold", "on hold"),
            ("talent_pool", "talent pool"),
        ],
        ids=["hired", "rejected", "on-hold", "talent-pool"],
    )
    def test_no_decision_pending(self, estimator, pipeline, clock, stage, note):
        """Terminal, held and pooled applications get an estimate saying nothing is pending."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage=stage)
        estimate = estimator.estimate(application, requisition, clock.now())
        assert (False, (), None, None, None) == (
            estimate.pending,
            estimate.stages,
            estimate.next_decision,
            estimate.offer,
            estimate.answer,
        )
        assert note in estimate.note
        with pytest.raises(EstimateError, match="no 'offer' is ahead of"):
            estimator.sample(application, requisition, clock.now())

    def test_answer_comes_by_the_offer_expiry(self, estimator, pipeline, clock):
        """While an offer is out, its valid-until date caps the answer (the sweep expires it)."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="offer")
        estimate = estimator.estimate(application, requisition, clock.now())
        valid_until = application.offer.valid_until.date()
        assert estimate.answer.dates.p95 <= CALENDAR.roll(valid_until)
        draws = estimator.sample(application, requisition, clock.now(), milestone="answer")
        assert float(draws.max()) <= estimate.answer.business_days.p95
        assert float(draws.mean()) == pytest.approx(estimate.answer.mean, rel=0.02)

    def test_time_on_hold_is_not_time_in_the_stage(self, estimator, pipeline, clock):
        """A stage paused and resumed counts only the business days it was active."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        clock.set(later(clock.now(), 2))
        pipeline.fire(
            application, "hold", actor="maria", requisition=requisition, reason="budget freeze"
        )
        clock.set(later(clock.now(), 10))
        pipeline.fire(
            application, "resume", actor="maria", requisition=requisition, reason="budget back"
        )
        estimate = estimator.estimate(application, requisition, later(clock.now(), 3))
        assert (5, date(2025, 1, 6)) == (estimate.elapsed, estimate.entered)

    def test_holidays_are_not_business_days(self, estimator, pipeline):
        """Dates skip the country's holidays and any shutdown the calendar is given."""
        clock = FakeClock(pendulum.datetime(2025, 12, 22, 10, tz=NY))
        pipeline = Pipeline(pipeline.policy, clock=clock)
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="references")
        shutdown = BusinessCalendar(
            "US", time_zone=NY, shutdown_days=[date(2025, 12, d) for d in (22, 23, 24, 26)]
        )
        plain = estimator.estimate(application, requisition, clock.now())
        closed = estimator.estimate(application, requisition, clock.now(), calendar=shutdown)
        days = closed.next_decision.business_days
        assert days == plain.next_decision.business_days
        dates = [d for s in plain.stages for d in vars_of(s.finish.dates)]
        assert not {date(2025, 12, 25), date(2026, 1, 1)} & set(dates)
        assert shutdown.add_business_days(date(2025, 12, 29), math.floor(days.p50 + 0.5)) == (
            closed.next_decision.dates.p50
        )
        assert plain.next_decision.dates.p50 < closed.next_decision.dates.p50

    def test_years_in_a_stage(self, estimator, clock):
        """An application stuck for eight years still gets a later, calendar-true estimate."""
        requisition = make_requisition(industry="government")
        start = clock.now().subtract(years=8)
        pipeline = Pipeline(clock=FakeClock(start))
        application = make_application(pipeline, requisition, stage="review")
        now = clock.now()
        estimate = estimator.estimate(application, requisition, now)
        assert CALENDAR.business_days_between(start, now) == estimate.elapsed
        answer = estimate.answer
        expected = CALENDAR.add_business_days(
            now.date(), math.floor(answer.business_days.p95 + 0.5)
        )
        assert (True, expected) == (answer.business_days.p95 > 520, answer.dates.p95)
        assert "TimelineEstimator(industries=8, fitted: none)" == repr(estimator)

    def test_estimate_round_trips_through_json(self, estimator, pipeline, clock):
        """An estimate is plain data: JSON out and back gives an equal estimate."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="approval")
        estimate = estimator.estimate(application, requisition, later(clock.now(), 2))
        assert estimate == Estimate.from_json(estimate.to_json())
        assert '"stage":"approval"' in estimate.to_json()

    def test_calendars_are_cached_per_place(self):
        """One calendar per country, subdivision and time zone serves every estimate."""
        from hirepipe.timeline.calendar import calendar_for

        new_york = make_requisition()
        assert calendar_for(new_york) is calendar_for(make_requisition(id="other"))
        assert calendar_for(new_york) is not calendar_for(make_requisition(time_zone="UTC"))
        california = calendar_for(make_requisition(subdivision="CA"))
        assert california is not calendar_for(new_york)
        # Cesar Chavez Day is a California state holiday, not a federal one
        assert not california.is_business_day(pendulum.date(2025, 3, 31))
        assert calendar_for(new_york).is_business_day(pendulum.date(2025, 3, 31))

    def test_estimate_is_repeatable_and_leaves_the_application_alone(
        self, estimator, pipeline, clock
    ):
        """Estimating twice gives equal answers and changes nothing on the application."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump()
        first = estimator.estimate(application, requisition, clock.now())
        assert first == estimator.estimate(application, requisition, clock.now())
        assert before == application.model_dump()


class TestBadInput:
    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"candidates_under_review": -2}, "at least 1"),
            ({"candidates_under_review": 0}, "at least 1"),
            ({"candidates_under_review": True}, "at least 1"),
            ({"approver_absences": [(date(2025, 1, 9), date(2025, 1, 8))]}, "swap them"),
            ({"approver_absences": [date(2025, 1, 9)]}, "pair of dates"),
            ({"approver_absences": [(datetime(2025, 1, 9), date(2025, 1, 9))]}, "pair"),
        ],
        ids=["negative", "zero", "bool", "reversed-absence", "not-a-pair", "naive-absence"],
    )
    def test_bad_arguments(self, estimator, pipeline, clock, kwargs, message):
        """Impossible arguments raise EstimateError saying what to pass instead."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        with pytest.raises(EstimateError, match=message):
            estimator.estimate(application, requisition, clock.now(), **kwargs)

    def test_naive_now(self, estimator, pipeline, clock):
        """A naive datetime has no local date, so it is refused."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        with pytest.raises(EstimateError, match="time-zone-aware"):
            estimator.estimate(application, requisition, datetime(2025, 1, 6, 9))

    def test_unknown_stage(self, estimator, clock):
        """A stage the estimator has no duration for is named, with the known stages."""
        requisition = make_requisition()
        application = Application(
            id="app-1",
            candidate=make_candidate(),
            requisition_id=requisition.id,
            stage="assessment",
            created_at=clock.now(),
        )
        with pytest.raises(EstimateError, match="cannot estimate stage 'assessment'"):
            estimator.estimate(application, requisition, clock.now())
        with pytest.raises(EstimateError, match="no duration for stage 'assessment'"):
            estimator.stage_distribution("assessment", requisition)

    def test_other_requisition(self, estimator, pipeline, clock):
        """The application's own requisition must be passed."""
        application = make_application(pipeline, make_requisition())
        with pytest.raises(RequisitionMismatch):
            estimator.estimate(application, make_requisition(id="req-2"), clock.now())

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [({"size": 0}, "size"), ({"milestone": "lunch"}, "milestone must be one of")],
        ids=["size", "milestone"],
    )
    def test_bad_sample_arguments(self, estimator, pipeline, clock, kwargs, message):
        """Sampling refuses an empty size and an unknown milestone."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        with pytest.raises(EstimateError, match=message):
            estimator.sample(application, requisition, clock.now(), **kwargs)

    def test_sampling_is_seeded(self, estimator, pipeline, clock):
        """The same seed gives the same draws; a Generator may be passed instead."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        now = later(clock.now(), 3)
        first = estimator.sample(application, requisition, now, size=100, rng=9)
        again = estimator.sample(
            application, requisition, now, size=100, rng=np.random.default_rng(9)
        )
        assert first.tolist() == again.tolist()


def synthetic_histories(
    means: dict[str, float], count: int, seed: int, cv: float = 0.6
) -> list[Application]:
    """Applications walked interview to hire, each stage a rounded lognormal draw."""
    rng = np.random.default_rng(seed)
    stages = [*PATH, "offer"]
    draws = {
        s: np.rint(StageDistribution(s, means[s], cv).sample(rng, count)).astype(int)
        for s in stages
    }
    candidate = make_candidate()
    start = pendulum.datetime(2024, 1, 8, 10, tz="UTC")
    applications = []
    for i in range(count):
        at, history = start, []
        for k, stage in enumerate(stages):
            at = UTC_CALENDAR.add_business_days(at, int(draws[stage][i]))
            target = stages[k + 1] if k + 1 < len(stages) else "hired"
            history.append(
                TransitionRecord(
                    event="step",
                    from_stage=stage,
                    to_stage=target,
                    actor="maria",
                    at=at,
                    version=len(history) + 1,
                    policy="standard@1",
                )
            )
        applications.append(
            Application(
                id=f"app-{i}",
                candidate=candidate,
                requisition_id="req-1",
                stage="hired",
                created_at=start,
                version=len(history),
                history=history,
            )
        )
    return applications


class TestFit:
    MEANS: ClassVar[dict[str, float]] = {
        "interviewed": 2.0,
        "debrief": 4.0,
        "review": 12.0,
        "approval": 6.0,
        "references": 5.0,
        "offer": 9.0,
    }

    @pytest.mark.slow
    def test_recovers_stage_means_from_2000_histories(self, estimator):
        """Fitting 2,000 synthetic histories recovers every stage's mean within 10%."""
        fitted, report = estimator.fit(synthetic_histories(self.MEANS, 2_000, seed=4))
        requisition = make_requisition()
        actual = {s: fitted.stage_distribution(s, requisition).mean for s in self.MEANS}
        assert self.MEANS == pytest.approx(actual, rel=0.10)
        observed = {s.stage: s.observations for s in report.stages if s.stage in self.MEANS}
        assert dict.fromkeys(self.MEANS, 2_000) == observed
        assert ("next_round", "negotiation") == report.fallbacks

    @pytest.mark.slow
    def test_fitted_estimates_are_calibrated(self, estimator):
        """Held-out histories reach the offer by the fitted P80 80% of the time.

        In business days the share is 80%; by date it can only be higher, since a date is a
        whole day: the P80 date is the first day by which at least 80% have had their offer.
        """
        fitted, _ = estimator.fit(synthetic_histories(self.MEANS, 2_000, seed=6))
        held_out = synthetic_histories(self.MEANS, 2_000, seed=8)
        requisition = make_requisition(time_zone="UTC")
        first = held_out[0]
        fresh = first.model_copy(update={"stage": "interviewed", "history": []})
        estimate = fitted.estimate(fresh, requisition, first.created_at)
        to_offer = np.array(
            [UTC_CALENDAR.business_days_between(a.created_at, a.history[-2].at) for a in held_out]
        )
        p80 = estimate.offer.business_days.p80
        assert 0.80 == pytest.approx(covered(to_offer, p80), abs=0.03)
        offers = [a.history[-2].at.date() for a in held_out]
        by_date = float(np.mean([d <= estimate.offer.dates.p80 for d in offers]))
        assert 0.80 <= by_date <= 0.86

    def test_falls_back_to_the_prior_with_few_observations(self, estimator):
        """With fewer than min_observations a stage keeps its prior, and the report says so."""
        fitted, report = estimator.fit(synthetic_histories(self.MEANS, 12, seed=1))
        requisition = make_requisition()
        expected = [estimator.stage_distribution(s, requisition).mean for s in PATH]
        assert expected == [fitted.stage_distribution(s, requisition).mean for s in PATH]
        assert (20, 8) == (report.min_observations, len(report.fallbacks))
        assert "review: 12 observations < 20, prior used" in str(report)
        assert [12] * 6 == [s.observations for s in report.stages if s.stage in self.MEANS]

    def test_threshold_is_configurable(self, estimator):
        """A lower threshold lets a small history replace the prior."""
        _, report = estimator.fit(synthetic_histories(self.MEANS, 12, seed=1), min_observations=10)
        assert ("next_round", "negotiation") == report.fallbacks

    def test_fit_returns_a_new_estimator(self, estimator):
        """Fitting never changes the estimator it was called on."""
        before = estimator.stage_distribution("review", make_requisition()).mean
        fitted, report = estimator.fit(synthetic_histories(self.MEANS, 50, seed=2))
        assert fitted is not estimator
        assert isinstance(report, FitReport)
        assert (before, report) == (
            estimator.stage_distribution("review", make_requisition()).mean,
            fitted.fitted,
        )

    def test_pipeline_histories_measure_business_days(self, pipeline, clock, estimator):
        """Real histories: activities are skipped, holds left out, open stages not counted."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        plan = [("start_debrief", 1), ("complete_debrief", 2), ("request_approval", 4)]
        for event, days in plan:
            clock.set(later(clock.now(), days))
            advance(pipeline, application, requisition, [event])
        clock.set(later(clock.now(), 2))
        pipeline.fire(
            application, "hold", actor="maria", requisition=requisition, reason="budget freeze"
        )
        clock.set(later(clock.now(), 20))
        pipeline.fire(
            application, "resume", actor="maria", requisition=requisition, reason="budget back"
        )
        clock.set(later(clock.now(), 1))
        advance(pipeline, application, requisition, ["approve"])
        _, report = estimator.fit([application] * 3, calendar=CALENDAR, min_observations=2)
        means = {s.stage: s.mean for s in report.stages if s.observations}
        assert {"interviewed": 1, "debrief": 2, "review": 4, "approval": 3} == means

    def test_a_stage_left_while_on_hold_is_not_measured(self, pipeline, clock, estimator):
        """Rejected while on hold, the held stage never ended, so it gives no observation."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        clock.set(later(clock.now(), 2))
        pipeline.fire(
            application, "hold", actor="maria", requisition=requisition, reason="budget freeze"
        )
        clock.set(later(clock.now(), 2))
        advance(pipeline, application, requisition, ["reject"])
        _, report = estimator.fit([application] * 2, calendar=CALENDAR, min_observations=2)
        observed = {s.stage: s.observations for s in report.stages if s.observations}
        assert {"interviewed": 2, "debrief": 2} == observed

    def test_bare_records_skip_the_first_stage(self, pipeline, clock, estimator):
        """A record list without its application has no entry time for its first stage."""
        requisition = make_requisition()
        application = make_application(pipeline, requisition)
        for event in ("start_debrief", "complete_debrief"):
            clock.set(later(clock.now(), 3))
            advance(pipeline, application, requisition, [event])
        _, report = estimator.fit([application.history] * 2, calendar=CALENDAR, min_observations=2)
        assert {"debrief": 2} == {s.stage: s.observations for s in report.stages if s.observations}

    @pytest.mark.parametrize(
        ("histories", "kwargs", "message"),
        [
            ([["not a record"]], {}, "TransitionRecords"),
            ([], {"min_observations": 1}, "at least 2"),
            ([], {"min_observations": 2.5}, "must be an int"),
        ],
        ids=["not-records", "threshold-low", "threshold-float"],
    )
    def test_bad_fit_input(self, estimator, histories, kwargs, message):
        """Fit refuses what it cannot learn from."""
        with pytest.raises(EstimateError, match=message):
            estimator.fit(histories, **kwargs)

    def test_records_out_of_order_are_refused(self, estimator):
        """Records must be oldest first; a negative stay says so."""
        application = synthetic_histories(self.MEANS, 1, seed=3)[0]
        shuffled = list(reversed(application.history))
        with pytest.raises(EstimateError, match="oldest first"):
            estimator.fit([shuffled])
