"""When will the candidate hear back? Business-day timeline estimates for an application.

```python
outlook = TimelineEstimator().estimate(application, requisition, clock.now())
outlook.offer.dates.p80  # the offer goes out by then, 80% sure
```

Durations come from each stage's ``StageSpec.duration`` (the published priors for the standard
stages, see ``timeline/data/priors.toml``), or the company's own history (``fit``). What is
published, what is assumed and how sums of stages are computed: ``docs/estimator.md``.
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
from hirepipe.policy import Owner, Policy, StageKind, StageRole
from hirepipe.standard import standard_policy
from hirepipe.timeline import _priors
from hirepipe.timeline._priors import FitReport, Priors, Source, StageDistribution, StageFit
from hirepipe.timeline.calendar import EPOCH, BusinessCalendar, calendar_for

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
_IDLE = {
    StageKind.paused: "the application is on hold: no estimate until it resumes",
    StageKind.pool: "the candidate is in the talent pool: no decision is pending",
}
_SEED, _DRAWS = 20_250_101, 16_384  # the sample behind estimates with approver absences
_HORIZON = 520  # business days of dates kept per calendar and day (about two years)


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
    """An application's timeline as of one day; JSON via ``to_json``.

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
        """Read an estimate written by [`to_json`][hirepipe.timeline.Estimate.to_json]."""
        return _ESTIMATE_JSON.validate_json(text)


_ESTIMATE_JSON: TypeAdapter[Estimate] = TypeAdapter(Estimate)


class _Window:
    """A calendar's business days around one local day, as ordinals: O(1) offsets and dates."""

    __slots__ = ("calendar", "dates", "future", "past", "today")

    def __init__(self, calendar: BusinessCalendar, today: date) -> None:
        self.calendar = calendar
        self.today = today
        start = np.datetime64(today.toordinal() - EPOCH, "D")
        ahead = calendar.add_business_days_array(start, np.arange(_HORIZON))
        behind = calendar.add_business_days_array(start, np.arange(-_HORIZON, 0))
        self.future = array("l", (ahead.astype(np.int64) + EPOCH).tolist())
        self.past = array("l", (behind.astype(np.int64) + EPOCH).tolist())
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
    approval: int | None  # where in the route approvers decide (absences halt it)
    answered: bool  # whether the route ends with the candidate's answer to an offer


class TimelineEstimator:
    """Estimates an application's remaining timeline in business days and dates.

    ``priors`` defaults to the published figures
    ([`Priors.load`][hirepipe.timeline.Priors.load]). ``fitted`` is a
    [`FitReport`][hirepipe.timeline.FitReport] from
    [`fit`][hirepipe.timeline.TimelineEstimator.fit]: its fitted stages replace their priors for
    every industry and company size (the company's own data already reflect its size); the
    review stage's candidate adjustment and approver absences still apply. The estimator is
    immutable and thread-safe; its caches only hold pure results.
    """

    def __init__(
        self,
        priors: Priors | None = None,
        *,
        policy: Policy | None = None,
        fitted: FitReport | None = None,
    ) -> None:
        self.priors: Priors = priors if priors is not None else Priors.load()
        self.policy: Policy = policy if policy is not None else standard_policy()
        self.fitted = fitted
        self._own = {s.stage: s for s in fitted.stages if s.fitted} if fitted else {}
        self._routes: dict[tuple[Any, ...], tuple[tuple[str, float, float], ...]] = {}
        self._stages = {s: self.priors.stage_cv.get(s, self.priors.cv) for s in self.priors.stages}
        self._durations = self._check_durations()
        self._paused = frozenset(
            s for s, spec in self.policy.stages.items() if spec.kind is StageKind.paused
        )

    def _check_durations(self) -> dict[str, tuple[str | None, float | None, float | None]]:
        """Each active stage's (prior, mean, cv); refuse a stage the estimator cannot time."""
        found: dict[str, tuple[str | None, float | None, float | None]] = {}
        missing = []
        for name, spec in self.policy.stages.items():
            if spec.kind is not StageKind.active:
                continue
            duration = spec.duration
            if duration is not None and duration.mean_days is not None:
                found[name] = (None, duration.mean_days, duration.cv)
                continue
            prior = (duration.prior if duration is not None else None) or name
            if prior in self._stages:
                found[name] = (prior, None, duration.cv if duration is not None else None)
            elif name in self._own:
                found[name] = (None, None, None)
            else:
                missing.append(name)
        if missing:
            raise EstimateError(
                f"{self.policy.label}: no expected duration for {', '.join(missing)}; give "
                "each StageSpec(duration=Duration(mean_days=...)), name a prior "
                f"(Duration(prior=...): {', '.join(self._stages)}), or fit the company's history"
            )
        return found

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

    def _adjusted(self, stage: str, candidates: int | None) -> float:
        """The slate-size factor for a stage where the whole slate is compared, else 1."""
        if self.policy.stage(stage).role is StageRole.review:
            return self.priors.candidate_factor(candidates)
        return 1.0

    def _params(
        self, requisition: Requisition, candidates: int | None, route: tuple[str, ...]
    ) -> tuple[tuple[str, float, float], ...]:
        key = (requisition.industry, requisition.company_size.value, candidates, route)
        found = self._routes.get(key)
        if found is not None:
            return found
        if route[0] not in self._durations:
            raise EstimateError(
                f"no duration for stage {route[0]!r} in {self.policy.label}; "
                f"stages with one: {', '.join(self._durations)}"
            )
        params = []
        for stage in route:
            own = self._own.get(stage)
            prior, mean, cv = self._durations[stage]
            if own is not None and own.mean is not None and own.cv is not None:
                params.append((stage, own.mean * self._adjusted(stage, candidates), own.cv))
            elif mean is not None:
                params.append((stage, mean, cv if cv is not None else self.priors.cv))
            else:
                assert prior is not None  # _check_durations found one
                mean = self.priors.stage_mean(
                    prior, requisition.industry, requisition.company_size, candidates
                )
                params.append((stage, mean, cv if cv is not None else self._stages[prior]))
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

        ``candidates_under_review`` is the slate size (None: the reference slate of the priors);
        ``approver_absences`` are inclusive (first, last) date ranges when approval cannot
        progress; ``calendar`` defaults to the requisition's country and time zone. Raises
        [`EstimateError`][hirepipe.errors.EstimateError] for bad input (naive ``now``, unknown
        industry or stage, fewer than one candidate) and RequisitionMismatch for another
        requisition's application.
        """
        plan = self._plan(
            application, requisition, now, candidates_under_review, approver_absences, calendar
        )
        window = plan.window
        if not plan.route:
            kind = self.policy.stage(application.stage).kind
            return _idle(application, kind, window.today)
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

        ``rng`` is a numpy Generator or a seed. The other arguments are
        [`estimate`][hirepipe.timeline.TimelineEstimator.estimate]'s. Raises EstimateError when
        the milestone is not ahead (no decision pending, or ``"offer"`` once the offer is out).
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise EstimateError(f"size must be a positive whole number, not {size!r}")
        plan = self._plan(
            application, requisition, now, candidates_under_review, approver_absences, calendar
        )
        last = len(plan.route) - 1
        ends = {
            "next_decision": 0,
            "offer": last - 1 if plan.answered else -1,
            "answer": last if plan.answered else -1,
        }
        if milestone not in ends:
            raise EstimateError(f"milestone must be one of {', '.join(ends)}, not {milestone!r}")
        if (upto := ends[milestone]) < 0:
            stage = application.stage
            raise EstimateError(f"no {milestone!r} is ahead of {application.id!r} in {stage!r}")
        generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        stages = plan.stages[: upto + 1]
        return _priors.draw(
            stages, plan.effective, plan.cap, plan.absent, generator, size, plan.approval
        )[0][-1]

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
        policy = self.policy
        spec = policy.stages.get(stage)
        if spec is None:
            raise EstimateError(
                f"cannot estimate stage {stage!r} of application {application.id!r}: "
                f"{policy.label} has no such stage (TimelineEstimator(policy=...) it runs under)"
            )
        route = policy.main_path(stage)
        if not route:
            return _Plan((), (), 0, 0, window.today, window, (), None, None, False)
        stages = self._params(requisition, count, route)
        approval = next(
            (k for k, s in enumerate(route) if _owner(policy, s) is Owner.approvers), None
        )
        answered = _owner(policy, route[-1]) is Owner.candidate
        local = cal.local_date
        days = [
            (local(start), local(end) if end else None)
            for start, end in _priors.current_visit(application, stage, self._paused)
        ]
        segments = [(window.offset(a), window.offset(b) if b else 0) for a, b in days]
        elapsed = max(sum(b - a for a, b in segments), 0)
        effective = elapsed
        absent: tuple[tuple[int, int], ...] = ()
        ranges = _absences(absences, cal, window)
        if approval is not None and ranges:
            absent = _merge((max(a, 0), b) for a, b in ranges if b > 0)
            if approval == 0:
                lost = sum(max(min(b, e) - max(a, s), 0) for a, b in ranges for s, e in segments)
                effective = max(elapsed - lost, 0)
        cap = None
        offer = application.offer
        answering = _owner(policy, stage) is Owner.candidate
        if answering and offer is not None and offer.status is OfferStatus.extended:
            cap = float(max(window.offset(cal.local_date(offer.valid_until)), 0))
        return _Plan(
            route, stages, elapsed, effective, days[-1][0], window, absent, cap, approval, answered
        )

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
        stages = tuple(dict.fromkeys([*self.priors.stages, *self._durations]))
        report = _priors.learn(histories, cal, stages, min_observations, self._paused)
        return TimelineEstimator(self.priors, policy=self.policy, fitted=report), report


@lru_cache(maxsize=2048)
def _layout(plan: _Plan) -> tuple[tuple[StageEstimate, ...], tuple[Milestone | None, ...]]:
    """The stages and milestones of a plan; cached, since they are pure functions of it."""
    model = _priors.route_model(plan.stages, plan.effective)
    route, window = plan.route, plan.window
    durations = [list(d) for d in model.durations]
    finishes = [list(f) for f in model.finishes]
    means, finish_means = list(model.means), list(model.finish_means)
    absent = plan.absent
    if absent and plan.approval is not None:
        # When approval starts decides how much of an absence it meets, which no closed form
        # captures: from approval on, the figures come from a seeded sample, once per plan.
        j = plan.approval
        rng = np.random.default_rng(_SEED)
        ends, extended = _priors.draw(
            plan.stages, plan.effective, plan.cap, absent, rng, _DRAWS, plan.approval
        )
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
    if not plan.answered:
        return stages, (stages[0].finish, None, None)
    offer = stages[-2].finish if len(stages) > 1 else None
    return stages, (stages[0].finish, offer, stages[-1].finish)


def _candidates(value: int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise EstimateError(f"candidates_under_review must be an int of at least 1, not {value!r}")
    return value


def _owner(policy: Policy, stage: str) -> Owner | None:
    service = policy.stage(stage).service
    return service.owner if service is not None else None


def _idle(application: Application, kind: StageKind, today: date) -> Estimate:
    stage = application.stage
    note = _IDLE.get(kind, f"the application has ended ({stage}): no decision is pending")
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
