"""When will the candidate hear back? Business-day timeline estimates for an application.

What is published and what is assumed (``timeline/data/priors.toml`` holds every figure with its
source, unit and year; replace any of it with :class:`Priors`, or learn it with ``fit``):

- **Published**, NACE 2012, business days: mean interview to offer by industry (all employers
  24.2, computer and electronics 16.0, accounting 17.0, business services 17.5, construction 30.0,
  engineering services 30.3, government 38.0, hospitality 39.5); offer to answer 14.1.
- **Assumed**: the total splits into ``interviewed`` 0.05, ``debrief`` 0.15, ``review`` 0.35,
  ``approval`` 0.20 and ``references`` 0.25 (which includes drafting the offer); ``next_round``
  takes 7 and ``negotiation`` 3; every stage is lognormal, its mean the stage mean, coefficient
  of variation 0.8, stages independent; approval's mean is multiplied by 0.75, 1.0, 1.3, 1.6 for
  small, medium, large, enterprise companies and review's by ``(candidates / 3) ** 0.5``. So a
  medium company with the reference slate reproduces the published means.
- The current stage is **conditional** on the business days it has lasted (a truncated
  lognormal's exact inverse CDF): an overdue stage moves the estimate later, never earlier.
  Sums of stages use the Fenton-Wilkinson lognormal (the sum's exact mean and variance), checked
  against sampling in the tests: nothing is sampled per call.
- **Approver absences** (inclusive date ranges) halt the approval stage; when approval starts
  decides how much of an absence it meets, so those figures come from one seeded sample per case,
  cached. Absent days do not count as time the approval has lasted. While an **offer** is out,
  the answer comes by its ``valid_until`` at the latest (the deadline sweep expires it).

A duration of ``x`` business days from today's local date (the requisition's time zone) ends
on the business day ``round(x)`` business days later. ``next_round`` adds its stage and the whole
path again; ``negotiation`` leads to a revised offer. ``on_hold``, ``talent_pool`` and terminal
stages have no pending decision: the :class:`Estimate` says so (``pending`` false, a ``note``).
"""

from __future__ import annotations

import math
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pendulum
from pydantic import TypeAdapter

from hirepipe.errors import CalendarError, EstimateError, RequisitionMismatch
from hirepipe.models import Application, OfferStatus, Requisition, TransitionRecord
from hirepipe.timeline import _priors
from hirepipe.timeline._priors import FitReport, Priors, Source, StageDistribution, StageFit
from hirepipe.timeline.calendar import BusinessCalendar, calendar_for

__all__ = [
    "DateQuantiles",
    "Estimate",
    "FitReport",
    "Milestone",
    "Priors",
    "Quantiles",
    "Source",
    "StageDistribution",
    "StageEstimate",
    "StageFit",
    "TimelineEstimator",
]

LEVELS = _priors.LEVELS
_OFFER_PATH = (*_priors.PATH_STAGES, "offer")
_ROUTES: dict[str, tuple[str, ...]] = {s: _OFFER_PATH[i:] for i, s in enumerate(_OFFER_PATH)}
_ROUTES["next_round"] = ("next_round", *_OFFER_PATH)
_ROUTES["negotiation"] = ("negotiation", "offer")
_IDLE = {
    "on_hold": "the application is on hold: no estimate until it resumes",
    "talent_pool": "the candidate is in the talent pool: no decision is pending",
}
_SEED, _DRAWS = 20_250_101, 16_384  # the sample behind estimates with approver absences
_HORIZON = 520  # business days of dates kept per calendar and day (about two years)
_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True, slots=True)
class Quantiles:
    """Business days at the 50th, 80th and 95th percentiles."""

    p50: float
    p80: float
    p95: float


@dataclass(frozen=True, slots=True)
class DateQuantiles:
    """Local calendar dates at the 50th, 80th and 95th percentiles."""

    p50: date
    p80: date
    p95: date


@dataclass(frozen=True, slots=True)
class Milestone:
    """When something happens, counted from the estimate's day: business days and dates."""

    mean: float
    business_days: Quantiles
    dates: DateQuantiles


@dataclass(frozen=True, slots=True)
class StageEstimate:
    """One remaining stage: its own (remaining) duration and when it ends.

    ``elapsed`` is what the current stage has lasted so far (0 for later stages); ``mean`` and
    ``duration`` describe the time still to go in this stage alone.
    """

    stage: str
    elapsed: int
    mean: float
    duration: Quantiles
    finish: Milestone


@dataclass(frozen=True, slots=True)
class Estimate:
    """An application's timeline as of one day; JSON via :meth:`to_json`.

    ``next_decision`` is the end of the current stage; ``offer`` when the offer goes out (None
    once it is out); ``answer`` when the candidate answers it. ``pending`` is false, and every
    milestone None, when no decision is pending (``note`` says why).
    """

    application_id: str
    stage: str
    as_of: date
    pending: bool
    note: str
    entered: date | None
    elapsed: int
    stages: tuple[StageEstimate, ...]
    next_decision: Milestone | None
    offer: Milestone | None
    answer: Milestone | None

    def to_json(self) -> str:
        """Return the estimate as JSON (dates in ISO 8601)."""
        return _ESTIMATE_JSON.dump_json(self).decode()

    @classmethod
    def from_json(cls, text: str | bytes) -> Estimate:
        """Read an estimate written by :meth:`to_json`."""
        return _ESTIMATE_JSON.validate_json(text)


_ESTIMATE_JSON: TypeAdapter[Estimate] = TypeAdapter(Estimate)


class _Window:
    """A calendar's business days around one local day, as ordinals: O(1) offsets and dates."""

    __slots__ = ("calendar", "dates", "future", "past", "today")

    def __init__(self, calendar: BusinessCalendar, today: date) -> None:
        self.calendar = calendar
        self.today = today
        start = np.datetime64(today.toordinal() - _EPOCH, "D")
        ahead = calendar.add_business_days_array(start, np.arange(_HORIZON))
        behind = calendar.add_business_days_array(start, np.arange(-_HORIZON, 0))
        self.future = array("l", (ahead.astype(np.int64) + _EPOCH).tolist())
        self.past = array("l", (behind.astype(np.int64) + _EPOCH).tolist())
        self.dates: dict[int, date] = {}  # made as asked for: most offsets are never used

    def offset(self, day: date) -> int:
        """Business days in ``[today, day)``; negative for a day before today."""
        o = day.toordinal()
        if self.past[0] <= o <= self.future[-1]:
            if o >= self.future[0]:
                return bisect_left(self.future, o)
            return bisect_left(self.past, o) - len(self.past)
        return self.calendar.business_days_between(self.today, day)

    def day(self, offset: float) -> date:
        """The business day ``round(offset)`` business days after today (rolled forward)."""
        k = math.floor(offset + 0.5)
        if k < _HORIZON:
            found = self.dates.get(k)
            if found is None:
                found = self.dates[k] = pendulum.Date.fromordinal(self.future[k])
            return found
        return self.calendar.add_business_days(self.calendar.roll(self.today), k)


@lru_cache(maxsize=256)
def _window(calendar: BusinessCalendar, today: date) -> _Window:
    return _Window(calendar, today)


@lru_cache(maxsize=1)
def _default_calendar() -> BusinessCalendar:
    """The calendar ``fit`` counts in when given none: United States, UTC."""
    return BusinessCalendar("US", time_zone="UTC")


@dataclass(frozen=True, slots=True)
class _Plan:
    route: tuple[str, ...]
    stages: tuple[tuple[str, float, float], ...]
    elapsed: int
    effective: int
    entered: date = field(compare=False)  # the layout does not depend on it
    window: _Window
    absent: tuple[tuple[int, int], ...]
    cap: float | None


class TimelineEstimator:
    """Estimates an application's remaining timeline in business days and dates.

    ``priors`` defaults to the published figures (:meth:`Priors.load`). ``fitted`` is a
    :class:`FitReport` from :meth:`fit`: its fitted stages replace their priors for every
    industry and company size (the company's own data already reflect its size); the review
    stage's candidate adjustment and approver absences still apply. The estimator is immutable
    and thread-safe; its caches only hold pure results.
    """

    def __init__(self, priors: Priors | None = None, *, fitted: FitReport | None = None) -> None:
        self.priors = priors if priors is not None else Priors.load()
        self.fitted = fitted
        self._own = {s.stage: s for s in fitted.stages if s.fitted} if fitted else {}
        self._routes: dict[tuple[Any, ...], tuple[tuple[str, float, float], ...]] = {}
        self._stages = {s: self.priors.stage_cv.get(s, self.priors.cv) for s in self.priors.stages}

    def __repr__(self) -> str:
        fitted = ", ".join(self._own) or "none"
        return f"TimelineEstimator(industries={len(self.priors.industries)}, fitted: {fitted})"

    # -- distributions ------------------------------------------------------------------------

    def stage_distribution(
        self, stage: str, requisition: Requisition, *, candidates_under_review: int | None = None
    ) -> StageDistribution:
        """Return the duration distribution of ``stage`` for a requisition.

        The same one estimates and samples use: ``mean``, ``quantile(p, elapsed)``,
        ``sample(rng, size, elapsed)``. Raises EstimateError for an unknown stage or industry.
        """
        count = _candidates(candidates_under_review)
        name, mean, cv = self._params(requisition, count, (stage,))[0]
        return StageDistribution(name, mean, cv)

    def _params(
        self, requisition: Requisition, candidates: int | None, route: tuple[str, ...]
    ) -> tuple[tuple[str, float, float], ...]:
        key = (requisition.industry, requisition.company_size.value, candidates, route)
        found = self._routes.get(key)
        if found is not None:
            return found
        if route[0] not in self._stages:
            raise EstimateError(
                f"no duration for stage {route[0]!r}; known stages: {', '.join(self._stages)}"
            )
        params = []
        for stage in route:
            own = self._own.get(stage)
            if own is not None and own.mean is not None and own.cv is not None:
                factor = self.priors.candidate_factor(candidates) if stage == "review" else 1.0
                params.append((stage, own.mean * factor, own.cv))
            else:
                mean = self.priors.stage_mean(
                    stage, requisition.industry, requisition.company_size, candidates
                )
                params.append((stage, mean, self._stages[stage]))
        result = tuple(params)
        if len(self._routes) > 4096:
            self._routes.clear()
        self._routes[key] = result
        return result

    # -- estimates ----------------------------------------------------------------------------

    def estimate(
        self,
        application: Application,
        requisition: Requisition,
        now: datetime,
        *,
        candidates_under_review: int | None = None,
        approver_absences: Iterable[tuple[date, date]] = (),
        calendar: BusinessCalendar | None = None,
    ) -> Estimate:
        """Return the application's timeline as of ``now`` (an aware datetime).

        ``candidates_under_review`` is the slate size (None: the reference slate of the
        priors); ``approver_absences`` are inclusive (first, last) date ranges when approval
        cannot progress; ``calendar`` defaults to the requisition's country and time zone.
        Raises :class:`~hirepipe.errors.EstimateError` for bad input (naive ``now``, unknown
        industry or stage, fewer than one candidate) and RequisitionMismatch for another
        requisition's application.
        """
        plan = self._plan(
            application, requisition, now, candidates_under_review, approver_absences, calendar
        )
        window = plan.window
        if not plan.route:
            return _idle(application, window.today)
        stages, milestones = _layout(plan)
        head = (application.id, application.stage, window.today, True, "")
        return Estimate(*head, plan.entered, plan.elapsed, stages, *milestones)

    def sample(
        self,
        application: Application,
        requisition: Requisition,
        now: datetime,
        *,
        size: int = 10_000,
        rng: np.random.Generator | int = 0,
        milestone: Literal["next_decision", "offer", "answer"] = "offer",
        candidates_under_review: int | None = None,
        approver_absences: Iterable[tuple[date, date]] = (),
        calendar: BusinessCalendar | None = None,
    ) -> npt.NDArray[np.float64]:
        """Draw the business days from ``now`` until ``milestone``, from the estimate's model.

        ``rng`` is a numpy Generator or a seed. The other arguments are :meth:`estimate`'s.
        Raises EstimateError when the milestone is not ahead (no decision pending, or
        ``"offer"`` once the offer is out).
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise EstimateError(f"size must be a positive whole number, not {size!r}")
        plan = self._plan(
            application, requisition, now, candidates_under_review, approver_absences, calendar
        )
        ends = {"next_decision": 0, "offer": len(plan.route) - 2, "answer": len(plan.route) - 1}
        if milestone not in ends:
            raise EstimateError(f"milestone must be one of {', '.join(ends)}, not {milestone!r}")
        if (upto := ends[milestone]) < 0:
            stage = application.stage
            raise EstimateError(f"no {milestone!r} is ahead of {application.id!r} in {stage!r}")
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        stages = plan.stages[: upto + 1]
        return _priors.draw(stages, plan.effective, plan.cap, plan.absent, generator, size)[0][-1]

    def _plan(
        self,
        application: Application,
        requisition: Requisition,
        now: datetime,
        candidates: int | None,
        absences: Iterable[tuple[date, date]],
        calendar: BusinessCalendar | None,
    ) -> _Plan:
        if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
            raise EstimateError(
                f"now must be a time-zone-aware datetime, not {now!r}; "
                "e.g. pendulum.now('America/New_York') or a Clock's now()"
            )
        if requisition.id != application.requisition_id:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given=requisition.id,
            )
        count = _candidates(candidates)
        cal = calendar or calendar_for(requisition)
        window = _window(cal, cal.local_date(now))
        stage = application.stage
        route = _ROUTES.get(stage)
        if route is None:
            if stage in _IDLE or stage in ("hired", "declined", "rejected", "withdrawn"):
                return _Plan((), (), 0, 0, window.today, window, (), None)
            known = ", ".join([*_ROUTES, *_IDLE])
            raise EstimateError(
                f"cannot estimate stage {stage!r} of application {application.id!r}; "
                f"the estimator knows the standard lifecycle's stages: {known}"
            )
        stages = self._params(requisition, count, route)
        local = cal.local_date
        days = [
            (local(start), local(end) if end else None)
            for start, end in _priors.current_visit(application, stage)
        ]
        segments = [(window.offset(a), window.offset(b) if b else 0) for a, b in days]
        elapsed = max(sum(b - a for a, b in segments), 0)
        effective = elapsed
        absent: tuple[tuple[int, int], ...] = ()
        ranges = _absences(absences, cal, window)
        if "approval" in route and ranges:
            absent = _merge((max(a, 0), b) for a, b in ranges if b > 0)
            if stage == "approval":
                lost = sum(max(min(b, e) - max(a, s), 0) for a, b in ranges for s, e in segments)
                effective = max(elapsed - lost, 0)
        cap = None
        offer = application.offer
        if stage == "offer" and offer is not None and offer.status is OfferStatus.extended:
            cap = float(max(window.offset(cal.local_date(offer.valid_until)), 0))
        return _Plan(route, stages, elapsed, effective, days[-1][0], window, absent, cap)

    # -- learning -----------------------------------------------------------------------------

    def fit(
        self,
        histories: Iterable[Application | Sequence[TransitionRecord]],
        *,
        calendar: BusinessCalendar | None = None,
        min_observations: int = 20,
    ) -> tuple[TimelineEstimator, FitReport]:
        """Learn stage durations from the company's own history; return a new estimator.

        Each item is an Application or its ``history`` (records oldest first). Time in a stage
        is the business days from entering it to leaving it (``calendar``: US in UTC unless
        given); activities are skipped, time on hold is left out, stages not yet left and the
        first stage of a bare record list (its entry is unknown) give no observation. A stage
        with fewer than ``min_observations`` keeps its prior; the report says which.
        """
        if isinstance(min_observations, bool) or not isinstance(min_observations, int):
            raise EstimateError(f"min_observations must be an int, not {min_observations!r}")
        if min_observations < 2:
            raise EstimateError("min_observations must be at least 2 to estimate a spread")
        cal = calendar or _default_calendar()
        report = _priors.learn(histories, cal, self.priors.stages, min_observations)
        return TimelineEstimator(self.priors, fitted=report), report


@lru_cache(maxsize=2048)
def _layout(plan: _Plan) -> tuple[tuple[StageEstimate, ...], tuple[Milestone | None, ...]]:
    """The stages and milestones of a plan; cached, since they are pure functions of it."""
    model = _priors.route_model(plan.stages, plan.effective)
    route, window = plan.route, plan.window
    durations = [list(d) for d in model.durations]
    finishes = [list(f) for f in model.finishes]
    means, finish_means = list(model.means), list(model.finish_means)
    absent = plan.absent
    if absent and "approval" in route:
        # When approval starts decides how much of an absence it meets, which no closed form
        # captures: from approval on, the figures come from a seeded sample, once per plan.
        j = route.index("approval")
        rng = np.random.default_rng(_SEED)
        ends, extended = _priors.draw(plan.stages, plan.effective, plan.cap, absent, rng, _DRAWS)
        if extended:
            stay = ends[j] - (ends[j - 1] if j else 0.0)
            if j == 0:  # starting now, the extension follows the duration: exact quantiles
                finishes[0] = durations[0] = [_priors.extend(0.0, q, absent) for q in durations[0]]
            else:
                durations[j] = np.quantile(stay, LEVELS).tolist()
            means[j] = float(stay.mean())
            for k in range(j, len(route)):
                if k:
                    finishes[k] = np.quantile(ends[k], LEVELS).tolist()
                finish_means[k] = float(ends[k].mean())
    if plan.cap is not None:
        durations[0] = finishes[0] = [min(x, plan.cap) for x in finishes[0]]
        first = StageDistribution(*plan.stages[0])
        means[0] = finish_means[0] = first.capped_mean(plan.cap, plan.effective)
    day = window.day
    stages = tuple(
        StageEstimate(
            stage,
            plan.elapsed if k == 0 else 0,
            means[k],
            Quantiles(*durations[k]),
            Milestone(
                finish_means[k],
                Quantiles(*finishes[k]),
                DateQuantiles(day(finishes[k][0]), day(finishes[k][1]), day(finishes[k][2])),
            ),
        )
        for k, stage in enumerate(route)
    )
    offer = stages[-2].finish if len(stages) > 1 else None
    return stages, (stages[0].finish, offer, stages[-1].finish)


def _candidates(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EstimateError(f"candidates_under_review must be an int of at least 1, not {value!r}")
    return value


def _idle(application: Application, today: date) -> Estimate:
    stage = application.stage
    note = _IDLE.get(stage, f"the application has ended ({stage}): no decision is pending")
    return Estimate(application.id, stage, today, False, note, None, 0, (), None, None, None)


def _absences(
    absences: Iterable[tuple[date, date]], calendar: BusinessCalendar, window: _Window
) -> list[tuple[int, int]]:
    """Return each absence as business-day offsets ``[first, after_last)`` from today."""
    ranges = []
    for item in absences:
        try:
            first, last = item
            a, b = calendar.local_date(first), calendar.local_date(last)
        except (TypeError, ValueError, CalendarError) as exc:
            raise EstimateError(
                f"an approver absence is a (first, last) pair of dates, not {item!r}: {exc}"
            ) from None
        if b < a:
            raise EstimateError(f"an absence ends before it starts: {a} to {b}; swap them")
        ranges.append((window.offset(a), window.offset(b + timedelta(days=1))))
    return ranges


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for a, b in sorted(r for r in ranges if r[1] > r[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return tuple(merged)
