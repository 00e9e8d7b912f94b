"""The scenario, what it and a policy fix before the first simulated run, and business time.

[`hirepipe.simulate`][hirepipe.simulate] is the public face (it re-exports
[`Scenario`][hirepipe.simulate.Scenario]); ``hirepipe.simulate._runner`` drives the runs. A
``Plan`` is everything runs share: the requisition, the stage distributions, the timeline, which
event moves each stage on, the outcome probabilities, and where in a candidate's row of uniforms
each random number lives.

Time inside a run is counted in **business minutes** from the start: a business day is 09:00 to
17:00 local time (480 minutes), so ``N`` business days after any moment is the same wall-clock
time ``N`` business days later, exactly as [`ServiceLevels`][hirepipe.timeline.ServiceLevels]
counts. Integers keep every comparison exact.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pendulum
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from hirepipe.errors import EstimateError, SimulationError
from hirepipe.models import (
    Application,
    ApprovalStep,
    Band,
    Candidate,
    CompanySize,
    CountryCode,
    Recommendation,
    Requisition,
    RequisitionStatus,
    as_instant,
)
from hirepipe.pipeline import Pipeline
from hirepipe.policy import (
    PREVIOUS,
    Duration,
    Owner,
    Policy,
    RejectionSide,
    ScorecardScheme,
    StageKind,
    StageRole,
)
from hirepipe.simulate._options import DEFAULT_SCHEME, OPTIONS, SCORECARDS, check_options
from hirepipe.standard._approvals import chain_of
from hirepipe.standard._position import offer_steps
from hirepipe.timeline.calendar import EPOCH, BusinessCalendar, calendar_for
from hirepipe.timeline.deadlines import ServiceLevels
from hirepipe.timeline.estimate import StageDistribution, TimelineEstimator

__all__ = [
    "AT_REVIEW",
    "DAY",
    "FIRST_START",
    "LAST_START",
    "MAX_DAYS",
    "Plan",
    "Scenario",
    "SimulationError",
    "Timeline",
    "make_plan",
]

DAY = 480
"""Business minutes in a business day (09:00 to 17:00 local time)."""
_INTO_DAY = tuple(timedelta(minutes=minute) for minute in range(DAY))
"""Each business minute of a day as the time from its 09:00 (``Timeline.instant``)."""

AT_REVIEW = "@review"
"""The key of ``Plan.reasons`` for a rejection when the debrief did not recommend hiring."""
SALARY = Decimal(120_000)
MANAGER = "hiring-manager"
_BUDGET = Band(minimum=Decimal(100_000), maximum=Decimal(140_000), currency="USD")

# Each candidate draws one row of uniforms per run, each number at a fixed place, so that two
# arms of a comparison use the same number for the same purpose (common random numbers)
# whatever else differs between them. Durations: one per stage and visit.
MAX_ROUNDS, MAX_INTERVIEWERS, MAX_APPROVERS, MAX_VISITS, MAX_STAGES = 5, 10, 16, 4, 12
DURATION = 0
VERDICT = DURATION + MAX_STAGES * MAX_VISITS  # each interviewer's recommendation, per round
SCORED = VERDICT + MAX_ROUNDS * MAX_INTERVIEWERS  # when in the stage they submit it
ABSENT = SCORED + MAX_ROUNDS * MAX_INTERVIEWERS  # whether each approver is away
OUTCOME = ABSENT + MAX_APPROVERS  # the answer to each offer
COUNTER = OUTCOME + MAX_VISITS  # how much more a counter asks for
WITHDRAWS, WITHDRAW_AT, REFERENCES_FAIL = range(COUNTER + MAX_VISITS, COUNTER + MAX_VISITS + 3)
SLOTS = REFERENCES_FAIL + 1

# The options' numbers come from a second row per candidate, drawn only when a scenario turns
# an option on (a run without options draws exactly what it drew before options existed).
MAX_FOCUS = 8  # focus attributes rated per scorecard
BG_RESULT, BG_ADVERSE, BG_DISPUTES, BG_DISPUTE_AT, BG_DISPUTE_CLEARED, AUTHORIZE_AT = range(6)
FEEDBACK_ASKS, FEEDBACK_ASK_AT, FEEDBACK_SENT_AT, KEEPS, KEPT_AT = range(6, 11)
VIEWED_AT = 11  # per offer visit: when the candidate opens the document (share of the answer)
COUNTERSIGNED_AT = VIEWED_AT + MAX_VISITS  # per offer visit: the company's countersignature
SCHEDULING = COUNTERSIGNED_AT + MAX_VISITS  # per round: the four scheduling steps
RATING = SCHEDULING + MAX_ROUNDS * 4  # per round, interviewer and focus attribute
OPTION_SLOTS = RATING + MAX_ROUNDS * MAX_INTERVIEWERS * MAX_FOCUS
SCHEDULING_STEPS = ("request_availability", "give_availability", "propose_slots",
                    "schedule_interview")  # fmt: skip

RECOMMENDATIONS = (
    Recommendation.strong_yes,
    Recommendation.yes,
    Recommendation.mixed,
    Recommendation.no,
    Recommendation.strong_no,
)


_Probability = float
_FROZEN = ConfigDict(extra="forbid", frozen=True)
MAX_DAYS = 260
"""The most business days a scenario adds to or gives a stage, or an absence lasts: a
working year."""
FIRST_START, LAST_START = date(1950, 1, 1), date(2150, 12, 31)
"""The earliest and latest interview day a scenario may start on: the calendar's holiday
data spans 1900 to 2200, and a run needs years of room after its start."""
_Days = Annotated[float, Field(ge=0, le=MAX_DAYS, allow_inf_nan=False)]
_PositiveDays = Annotated[float, Field(gt=0, le=MAX_DAYS, allow_inf_nan=False)]


def _probability(default: float) -> Any:
    return Field(default=default, ge=0, le=1)


class Scenario(BaseModel):
    """The requisition and the people a simulation runs; every field has a default.

    Probabilities are assumptions unless you know better: the defaults follow the published
    shares where there are any (about 69% of offers accepted and 17% turned down, NACE and
    Glassdoor via Greenhouse) and are round guesses otherwise. ``stage_days`` replaces a stage's
    mean business days (its spread kept), ``extra_days`` adds fixed business days to every
    visit of a stage ("approvals take a week longer": ``{"approval": 5}``); stages outside the
    priors (a policy's own) need a ``stage_days`` entry. Invalid values raise Pydantic's
    ``ValidationError``.
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    industry: str = "all_employers"
    """An industry of the priors (``"engineering"``, ``"government"``; aliases accepted)."""
    company_size: CompanySize = CompanySize.medium
    candidates: int = Field(default=3, ge=1, le=500)
    """Candidates interviewed for the requisition (the priors' reference slate is 3)."""
    headcount: int = Field(default=1, ge=1, le=500)
    rounds: int = Field(default=1, ge=1, le=MAX_ROUNDS)
    """Interview rounds a candidate the debriefs recommend goes through before an offer."""
    interviewers: int = Field(default=2, ge=1, le=MAX_INTERVIEWERS)
    approvers: int = Field(default=1, ge=0, le=MAX_APPROVERS)
    """Approvers of every offer, split into steps by company size (the policy's setting)."""
    approval_chain: tuple[ApprovalStep, ...] = ()
    """An explicit chain, replacing ``approvers``."""
    approver_availability: float = Field(default=1.0, gt=0, le=1)
    """The chance an approver is at work when their decision falls due."""
    absence_days: _Days = 3.0
    """Business days before an absent approver's deputy is named and the step goes on
    (at most ``MAX_DAYS``)."""
    recommendations: dict[Recommendation, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = (
        Field(
            default_factory=lambda: {
                Recommendation.strong_yes: 0.15,
                Recommendation.yes: 0.35,
                Recommendation.mixed: 0.2,
                Recommendation.no: 0.2,
                Recommendation.strong_no: 0.1,
            }
        )
    )
    """How likely each interviewer's recommendation is (finite weights; missing ones are 0)."""
    offer_accepted: _Probability = _probability(0.69)
    offer_countered: _Probability = _probability(0.12)
    offer_declined: _Probability = _probability(0.17)
    offer_lapsed: _Probability = _probability(0.02)
    """The four answers to a first offer; they sum to 1. A revised offer is accepted,
    declined or left to lapse in the same proportions."""
    reference_failure: _Probability = _probability(0.05)
    """The chance a candidate's reference checks come back unsatisfactory."""
    withdrawal: _Probability = _probability(0.10)
    """The chance a candidate withdraws at some point of the process."""
    stage_days: dict[str, _PositiveDays] = Field(default_factory=dict)
    """Mean business days of a stage, replacing the prior's (above 0, at most ``MAX_DAYS``)."""
    extra_days: dict[str, _Days] = Field(default_factory=dict)
    """Business days added to every visit of a stage (0 to ``MAX_DAYS``)."""
    country: CountryCode = "US"
    """The country whose public holidays the business calendar skips (``holidays``' codes)."""
    subdivision: str | None = None
    time_zone: str = "UTC"
    """The IANA time zone of the requisition; business days run 09:00 to 17:00 there."""
    start: date = Field(default=date(2025, 1, 6), ge=FIRST_START, le=LAST_START)
    """The day of the interviews (rolled forward to a business day); fixed, never today.
    Between ``FIRST_START`` and ``LAST_START``."""
    periodic_updates: bool = False
    """Whether the company sends a status update whenever a candidate's update falls due."""

    # -- the standard policy's options (docs/simulation.md, "Options of the standard policy")
    options: tuple[str, ...] = ()
    """The standard policy's options turned on: names of ``STANDARD_OPTIONS`` and
    ``"structured_scorecards"`` (any iterable of names; kept sorted). With no policy given,
    the simulator runs ``standard_policy`` with them on; a policy given must have exactly
    these on."""
    scorecard_scheme: ScorecardScheme | None = None
    """The scheme of ``structured_scorecards`` (default: the example scheme of
    ``docs/scorecards.md``); only with that option."""
    background_consider: _Probability = _probability(0.10)
    """``background_check``: the share of checks that come back "consider" (assumption: a
    round figure for U.S. criminal and employment checks; providers publish none)."""
    background_failed: _Probability = _probability(0.02)
    """``background_check``: the share that come back "failed" (assumption)."""
    adverse_decision: _Probability = _probability(0.25)
    """``background_check``: the share of individualized assessments of a "consider" result
    that end adverse (assumption)."""
    background_dispute: _Probability = _probability(0.20)
    """``background_check``: the share of pre-adverse action notices the candidate disputes
    within the waiting period (assumption)."""
    dispute_cleared: _Probability = _probability(0.50)
    """``background_check``: the share of disputes that clear the candidate; the rest leave
    the report standing (assumption; an amended report is not simulated)."""
    authorization_days: _PositiveDays = 1.0
    """``background_check``: mean business days from the disclosure to the candidate's
    signed authorization (assumption; the check starts once both the references and the
    authorization are in)."""
    feedback_requested: _Probability = _probability(0.25)
    """``feedback_requests``: the share of rejected candidates who ask for feedback
    (assumption)."""
    feedback_request_days: _PositiveDays = 2.0
    """``feedback_requests``: mean business days from the rejection to the request
    (assumption)."""
    feedback_send_days: _PositiveDays = 3.0
    """``feedback_requests``: mean business days from the request to the feedback sent; the
    policy's deadline is ``feedback_days`` (5) (assumption)."""
    stay_in_touch: _Probability = _probability(0.30)
    """``keep_in_touch_from_rejection``: the share of rejected candidates who consent to
    stay in touch, and are kept in the talent pool (assumption)."""
    scheduling_days: tuple[_PositiveDays, _PositiveDays, _PositiveDays, _PositiveDays] = (
        0.5, 1.0, 0.5, 1.0,
    )  # fmt: skip
    """``next_round_scheduling``: mean business days of each step: availability requested,
    given, slots proposed, one chosen (assumption, inside the policy's deadlines 1, 2, 1, 2).
    The round's interview is held when the prior's wait says, or a business day after the
    slot is chosen if that is later."""
    countersign_days: _PositiveDays = 1.0
    """``offer_signatures``: mean business days from the candidate's signature to the
    company's countersignature (assumption); the candidate signs when they would have
    accepted, and opens the document before any answer."""

    @field_validator("options", mode="before")
    @classmethod
    def _option_names(cls, value: Any) -> Any:
        names = [value] if isinstance(value, str) else list(value)
        if not all(isinstance(name, str) for name in names):
            raise ValueError("options are names (strings)")
        unknown = sorted(set(names) - set(OPTIONS))
        if unknown:
            raise ValueError(
                f"unknown option{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}; "
                f"the options are {', '.join(OPTIONS)}"
            )
        return tuple(sorted(set(names)))

    @property
    def scheme(self) -> ScorecardScheme | None:
        """The scorecard scheme the scenario's structured scorecards use (None without)."""
        if SCORECARDS not in self.options:
            return None
        return self.scorecard_scheme or DEFAULT_SCHEME

    @model_serializer(mode="wrap")
    def _options_only_when_on(self, handler: SerializerFunctionWrapHandler) -> Any:
        # without options, the fields they add stay out: a result's JSON is what it was
        # before options existed, byte for byte
        data = handler(self)
        if not self.options and isinstance(data, dict):
            for name in _OPTION_FIELDS:
                data.pop(name, None)
        return data

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ValueError, OSError, ZoneInfoNotFoundError):  # a directory, a long name...
            raise ValueError(
                f"unknown time zone {name!r}; use an IANA name such as 'Europe/Berlin'"
            ) from None
        return name

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        answers = (self.offer_accepted, self.offer_countered, self.offer_declined)
        total = sum(answers) + self.offer_lapsed
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(
                "offer_accepted, offer_countered, offer_declined and offer_lapsed must sum "
                f"to 1, not {total:g}"
            )
        if self.offer_accepted + self.offer_declined + self.offer_lapsed <= 0:
            raise ValueError("a revised offer needs a chance to be accepted, declined or lapse")
        if sum(self.recommendations.values()) <= 0:
            raise ValueError("recommendations need at least one positive weight")
        if self.headcount > self.candidates:
            raise ValueError(
                f"headcount {self.headcount} is more than the {self.candidates} candidates"
            )
        if sum(step.needed for step in self.approval_chain) > MAX_APPROVERS:
            raise ValueError(f"at most {MAX_APPROVERS} approvals per offer can be simulated")
        if self.scorecard_scheme is not None and SCORECARDS not in self.options:
            raise ValueError(
                "scorecard_scheme is the scheme of structured scorecards: add "
                "'structured_scorecards' to options, or leave the scheme out"
            )
        if self.background_consider + self.background_failed > 1:
            raise ValueError("background_consider and background_failed sum to more than 1")
        return self


_OPTION_FIELDS = tuple(Scenario.model_fields)[list(Scenario.model_fields).index("options") :]
"""The fields of the options, from ``options`` on: left out of the JSON of a scenario without."""


class Timeline:
    """Business minutes since a run's start, mapped to instants and back.

    Minute ``m`` is ``m // 480`` business days after the start day, ``m % 480`` minutes after
    09:00 local time; the instants are held at their fixed UTC offset like every hirepipe
    timestamp.
    """

    def __init__(self, calendar: BusinessCalendar, start: date) -> None:
        self.calendar = calendar
        self.start = calendar.roll(start)
        self._days: list[int] = []
        self._starts: dict[int, pendulum.DateTime] = {}
        self._seconds: dict[int, int] = {}
        self._after: tuple[datetime | None, int] = (None, 0)  # minute_after's last answer
        self._zone = pendulum.timezone(calendar.time_zone)
        self._extend(520)
        self.origin = self.instant(0)

    def _extend(self, count: int) -> None:
        first = np.datetime64(self.start.isoformat(), "D")
        days = self.calendar.add_business_days_array(first, np.arange(count))
        self._days = [EPOCH + int(d) for d in days.astype(np.int64).tolist()]

    def _day(self, index: int) -> pendulum.DateTime:
        found = self._starts.get(index)
        if found is None:
            if index < 0:  # the table's end, read from the back, is no day before the start
                raise ValueError(
                    f"business minute {index * DAY} or later is before the run's start "
                    f"(minute 0, {self.start.isoformat()}); give a minute of 0 or more"
                )
            while index >= len(self._days):
                self._extend(2 * len(self._days))
            day = date.fromordinal(self._days[index])
            local = pendulum.datetime(day.year, day.month, day.day, 9, tz=self.calendar.time_zone)
            found = self._starts[index] = as_instant(local)
        return found

    def instant(self, minute: int) -> pendulum.DateTime:
        """The instant of business minute ``minute``."""
        day, into = divmod(minute, DAY)
        start = self._starts.get(day)  # _day's kept answer, without its call
        if start is None:
            start = self._day(day)
        if not into:
            return start
        # the standard library's addition keeps the class and the fixed offset, and costs a
        # third of its replace (a twentieth of pendulum's addition); the day's 09:00 + 480
        # minutes never crosses midnight
        return datetime.__add__(start, _INTO_DAY[into])

    def minute_at_or_after(self, when: datetime) -> int:
        """The first business minute at or after ``when`` (an aware datetime)."""
        # the standard library's conversion into the calendar's zone (pendulum's zones are
        # zoneinfo's) of a plain datetime: on pendulum's class, astimezone would subtract the
        # offset with pendulum's addition (1.5 us against 8, and a tenth of in_timezone())
        plain = datetime(
            when.year, when.month, when.day, when.hour, when.minute, when.second,
            when.microsecond, when.tzinfo, fold=when.fold,
        )  # fmt: skip
        local = plain.astimezone(self._zone)
        ordinal = local.date().toordinal()
        while ordinal > self._days[-1]:
            self._extend(2 * len(self._days))
        index = bisect_left(self._days, ordinal)
        if index >= len(self._days) or self._days[index] != ordinal:
            return index * DAY  # not a business day: 09:00 on the next one
        into = (
            (local.hour - 9) * 60 + local.minute + (1 if local.second or local.microsecond else 0)
        )
        return index * DAY + min(max(into, 0), DAY)

    def minute_after(self, when: datetime) -> int:
        """The first business minute strictly after ``when``.

        The last answer is kept: the runner asks twice about an offer's end when it goes out.
        """
        last, found = self._after
        if last is None or last != when:
            minute = self.minute_at_or_after(when)
            found = minute + 1 if self.instant(minute) == when else minute
            self._after = (when, found)
        return found

    def calendar_days(self, minute: int) -> float:
        """Calendar days from the start to business minute ``minute``."""
        day, into = divmod(minute, DAY)
        seconds = self._seconds.get(day)
        if seconds is None:  # whole seconds from the start to the day's 09:00, kept per day
            # the standard library's subtraction of aware datetimes, not pendulum's Interval
            delta = datetime.__sub__(self._day(day), self.origin)
            seconds = self._seconds[day] = delta.days * 86_400 + delta.seconds
        return (seconds + into * 60) / 86_400


@dataclass(frozen=True, slots=True)
class Plan:
    """What a scenario fixes before the first run; shared by every run, never changed."""

    policy: Policy
    scenario: Scenario
    requisition: Requisition
    timeline: Timeline
    durations: dict[str, tuple[StageDistribution, int]]  # stage -> distribution, extra minutes
    slot: dict[str, int]
    forward: dict[str, str]
    answering: frozenset[str]  # stages where the candidate owes an answer (an offer out)
    chain: tuple[ApprovalStep, ...]
    candidates: tuple[Candidate, ...]
    contact_events: frozenset[str]
    verdicts: tuple[float, ...]  # cumulative probabilities, in RECOMMENDATIONS order
    first_answer: tuple[float, ...]  # cumulative: accepted, countered, declined, lapsed
    later_answer: tuple[float, ...]  # after a counter: no second counter
    withdraw_window: int
    reasons: dict[str, str]
    prepare: Mapping[str, Prepare] = field(
        default_factory=dict
    )  # AT_REVIEW: a rejection after the debrief; a stage: its failure
    options: frozenset[str] = frozenset()  # the standard policy's options the runs drive
    approval_share: float = 1.0  # of the approval stage's time, what the application's steps take
    position_chain: tuple[ApprovalStep, ...] = ()  # with position approval: the position's chain


Prepare = Callable[[Pipeline, Application, Requisition], object]
"""Fires what a company's own guards look for before the simulated company fires an event."""


def make_plan(
    policy: Policy,
    scenario: Scenario,
    estimator: TimelineEstimator,
    prepare: Mapping[str, Prepare] | None = None,
) -> Plan:
    """Check that the policy and scenario fit together and fix everything runs share.

    Raises [`SimulationError`][hirepipe.errors.SimulationError] naming what does not fit.
    """
    industry = estimator.priors.industry(scenario.industry)
    settings = policy.settings
    check_options(policy, scenario.options)
    options = frozenset(scenario.options)
    positions = "position_approval" in options
    if not policy.stages_in(StageRole.review):
        # weak candidates are turned down there; without one they run into guards mid-run
        raise SimulationError(
            "the simulator decides at a stage with the role 'review' (the slate's decision); "
            f"{policy.label} has none: give one of its stages StageSpec(role=StageRole.review)"
        )
    if scenario.rounds > settings.max_rounds:
        raise SimulationError(
            f"the scenario has {scenario.rounds} rounds but the policy allows "
            f"max_rounds={settings.max_rounds}; lower rounds or raise the policy's max_rounds"
        )
    chain = tuple(scenario.approval_chain)
    requisition = Requisition(
        id="req",
        title="Simulated role",
        headcount=scenario.headcount,
        budget=_BUDGET,
        industry=industry,
        company_size=scenario.company_size,
        country=scenario.country,
        subdivision=scenario.subdivision,
        time_zone=scenario.time_zone,
        hiring_manager=MANAGER,
        approvers=[] if chain else [f"approver-{n}" for n in range(1, scenario.approvers + 1)],
        approval_chain=chain,
        # with position approval the runs open the position first (Positions), from a draft
        status=RequisitionStatus.draft if positions else RequisitionStatus.open,
    )
    chain = chain_of(requisition, settings)  # at most MAX_APPROVERS: the scenario checked
    share, position_chain = 1.0, tuple[ApprovalStep, ...]()
    if positions:  # the position's chain approved the budget: an offer needs its offer steps
        offer_chain = offer_steps(requisition, settings)
        share = len(offer_chain) / len(chain) if chain else 1.0
        chain, position_chain = offer_chain, chain
    active = [s for s, spec in policy.stages.items() if spec.kind is StageKind.active]
    unknown = sorted(set(scenario.stage_days) | set(scenario.extra_days))
    unknown = [s for s in unknown if s not in policy.stages]
    if unknown:
        raise SimulationError(
            f"stage_days or extra_days name stages the policy does not have: {', '.join(unknown)}"
        )
    timed = _timed(policy, scenario, estimator)
    durations: dict[str, tuple[StageDistribution, int]] = {}
    for stage in active:
        durations[stage] = _duration(stage, scenario, requisition, timed)
    answering = frozenset(
        s
        for s in active
        if (service := policy.stage(s).service) is not None and service.owner is Owner.candidate
    )
    # random numbers by stage, in definition order, the stages that wait on the candidate last;
    # the stages options add after those, so every other stage keeps its numbers
    late = _option_stages(active) if options else set()
    ordered = (
        [s for s in active if s not in answering and s not in late]
        + [s for s in active if s in answering and s not in late]
        + [s for s in active if s in late]
    )
    slot = {s: n for n, s in enumerate(ordered)}
    forward = {s: _forward(policy, s) for s in active if s not in answering}
    for stage in answering:
        for needed in ("accept", "decline"):
            if needed not in policy.events_from(stage):
                raise SimulationError(f"the simulator needs the {needed!r} event from {stage!r}")
        if scenario.offer_countered > 0 and "counter" not in policy.events_from(stage):
            raise SimulationError(
                f"the scenario counters offers but the policy has no 'counter' event from {stage!r}"
            )
    path = policy.main_path(policy.initial)
    # from the interview to the answer: the span within which a candidate may withdraw
    window = sum(durations[s][0].mean for s in path[:4]) + sum(
        durations[s][0].mean for s in path[4:]
    )
    first = _cumulative(
        scenario.offer_accepted, scenario.offer_countered, scenario.offer_declined,
        scenario.offer_lapsed,
    )  # fmt: skip
    later = _cumulative(
        scenario.offer_accepted, 0.0, scenario.offer_declined, scenario.offer_lapsed
    )
    verdicts = _cumulative(*(scenario.recommendations.get(r, 0.0) for r in RECOMMENDATIONS))
    return Plan(
        policy=policy,
        scenario=scenario,
        requisition=requisition,
        timeline=Timeline(calendar_for(requisition), scenario.start),
        durations=durations,
        slot=slot,
        forward=forward,
        answering=answering,
        chain=chain,
        candidates=tuple(
            Candidate(
                id=f"cand-{n}",
                name=f"Candidate {n}",
                email=f"candidate{n}@example.com",
                consent_to_contact=True,
            )
            for n in range(1, scenario.candidates + 1)
        ),
        contact_events=ServiceLevels(policy).contact_events,
        verdicts=verdicts,
        first_answer=first,
        later_answer=later,
        withdraw_window=round(window * DAY),
        prepare=dict(prepare or {}),
        options=options,
        approval_share=share,
        position_chain=position_chain,
        reasons={
            AT_REVIEW: _reason(policy, "skills"),
            **{stage: _reason(policy, stage) for stage in active},
        },
    )


def _option_stages(active: Sequence[str]) -> set[str]:
    """The stages of ``active`` that the plain standard policy does not have."""
    from hirepipe.standard import standard_policy

    return set(active) - set(standard_policy().stages)


def _timed(policy: Policy, scenario: Scenario, estimator: TimelineEstimator) -> TimelineEstimator:
    """The estimator of ``policy``: the scenario's stage_days time the stages nothing else does."""
    for name, spec in policy.stages.items():
        mean = scenario.stage_days.get(name)
        if mean is None:
            continue
        duration = spec.duration
        prior = (duration.prior if duration is not None else None) or name
        if (
            duration is None or duration.mean_days is None
        ) and prior not in estimator.priors.stages:
            policy = policy.replace_stage(
                name, duration=Duration(mean, duration.cv if duration is not None else None)
            )
    try:
        return TimelineEstimator(estimator.priors, policy=policy, fitted=estimator.fitted)
    except EstimateError as exc:
        raise SimulationError(f"{exc}; or give Scenario(stage_days={{stage: days}})") from None


def _duration(
    stage: str, scenario: Scenario, requisition: Requisition, estimator: TimelineEstimator
) -> tuple[StageDistribution, int]:
    extra = round(scenario.extra_days.get(stage, 0.0) * DAY)
    found = estimator.stage_distribution(
        stage, requisition, candidates_under_review=scenario.candidates
    )
    mean = scenario.stage_days.get(stage)
    if mean is None:
        return found, extra
    return StageDistribution(stage, mean, found.cv), extra


def _forward(policy: Policy, stage: str) -> str:
    """The event that moves an application on from ``stage`` when the stage's work is done."""
    found = policy.forward(stage)
    if found is not None:
        return found
    ways = [
        name
        for name in policy.events_from(stage)
        if (dest := policy.events[name].dest) not in (None, PREVIOUS, stage)
        and policy.stage(dest).kind is StageKind.active
    ]
    raise SimulationError(
        f"stage {stage!r} has {'no' if not ways else 'several'} ways on to another active "
        f"stage ({', '.join(ways) or 'none'}); the simulator needs one: declare it "
        f"(StageSpec(forward=...))"
    )


def _reason(policy: Policy, wanted: str) -> str:
    """The rejection reason named ``wanted``, else the first company-side one."""
    reasons = policy.rejection_reasons
    if wanted in reasons:
        return wanted
    company = [r for r, side in reasons.items() if side is RejectionSide.company]
    if not (company or reasons):
        raise SimulationError("the policy has no rejection reasons; the simulator needs one")
    return (company or list(reasons))[0]


def _cumulative(*weights: float) -> tuple[float, ...]:
    total = sum(weights)
    running, out = 0.0, []
    for weight in weights:
        running += weight / total
        out.append(running)
    out[-1] = 1.0
    return tuple(out)


def pick(cumulative: Sequence[float], u: float) -> int:
    """The outcome a uniform ``u`` in [0, 1) picks from cumulative probabilities."""
    return min(bisect_right(cumulative, u), len(cumulative) - 1)


def interviewers(round: int, count: int) -> list[str]:
    """The ids of a round's ``count`` interviewers (each round has its own panel)."""
    prefix = "interviewer" if round == 1 else f"round-{round}-interviewer"
    return [f"{prefix}-{n}" for n in range(1, count + 1)]
