"""Helpers for testing code built on hirepipe: a clock, a recording hook, factories.

Nothing here reads the wall clock; every test decides what time it is.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pendulum

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy

from hirepipe.clock import ManualClock
from hirepipe.models import Application, Band, Candidate, Requisition
from hirepipe.pipeline import Fired, Pipeline
from hirepipe.policy import PREVIOUS, Path, Policy, Role, StageKind, StageRole
from hirepipe.standard import AdjudicationData, BackgroundResultData
from hirepipe.standard._position import application_approval_state
from hirepipe.timeline.calendar import BusinessCalendar

__all__ = [
    "STANDARD_RECIPES",
    "FakeClock",
    "Recipe",
    "RecordingHook",
    "actor_for",
    "advance",
    "event_sequences",
    "make_application",
    "make_candidate",
    "make_requisition",
    "path_to",
    "walk",
]


class FakeClock(ManualClock):
    """A [`ManualClock`][hirepipe.clock.ManualClock] that also moves in business days.

    ``FakeClock(start, calendar=BusinessCalendar("US"))`` then ``advance_business_days(3)``.
    """

    __slots__ = ("calendar",)

    def __init__(
        self, start: pendulum.DateTime | None = None, *, calendar: BusinessCalendar | None = None
    ) -> None:
        super().__init__(start)
        self.calendar: BusinessCalendar | None = calendar

    def advance_business_days(self, days: int) -> pendulum.DateTime:
        """Move to the same wall-clock time ``days`` business days on, in the calendar's zone."""
        if self.calendar is None:
            raise ValueError("give the FakeClock a calendar to move in business days")
        self.set(self.calendar.add_business_days(self.now(), days))
        return self.now()


class RecordingHook:
    """A hook that keeps every [`Fired`][hirepipe.pipeline.Fired] it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[Fired] = []

    def __call__(self, fired: Fired, /) -> None:
        """Keep ``fired``."""
        self.calls.append(fired)

    @property
    def events(self) -> list[str]:
        """The names of the events seen, in order."""
        return [fired.record.event for fired in self.calls]


# -- factories -----------------------------------------------------------------------------


def path_to(policy: Policy, stage: str) -> tuple[str, ...]:
    """Return the events that take a new application to ``stage`` the way a hiring team would.

    Along the forward events from the initial stage (the main path), then the fewest other
    events; a stage that is not active (an ending, the pool, a hold) is reached from the
    review when it can be, else from the furthest main-path stage it can be reached from.
    Raises ValueError when ``stage`` cannot be reached.
    """
    if stage not in policy.stages:
        raise ValueError(
            f"{policy.label} has no stage {stage!r}; its stages: {', '.join(policy.stages)}"
        )
    main = policy.main_path(policy.initial)
    steps: dict[str, tuple[str, ...]] = {policy.initial: ()}
    for before, after in itertools.pairwise(main):
        event = policy.forward(before)
        assert event is not None  # main_path follows forward events
        steps[after] = (*steps[before], event)
    if stage in steps:
        return steps[stage]
    reviewing = policy.stages_in(StageRole.review)
    starts = sorted(
        main,
        key=lambda s: (
            (s not in reviewing, -main.index(s))
            if policy.stage(stage).kind is not StageKind.active
            else (main.index(s),)
        ),
    )
    for start in starts:
        found = _shortest(policy, start, stage)
        if found is not None:
            return (*steps[start], *found)
    raise ValueError(f"no way to {stage!r} from the main path of {policy.label}")


def _shortest(policy: Policy, start: str, goal: str) -> tuple[str, ...] | None:
    """The fewest transitions from ``start`` to ``goal`` (breadth first), or None."""
    seen = {start}
    frontier: list[tuple[str, tuple[str, ...]]] = [(start, ())]
    while frontier:
        following = []
        for stage, events in frontier:
            for name in policy.events_from(stage):
                dest = policy.events[name].dest
                if dest is None or dest == PREVIOUS or dest in seen:
                    continue
                if dest == goal:
                    return (*events, name)
                if policy.is_terminal(dest):
                    continue  # never through an ending (a rejection reopened, say)
                seen.add(dest)
                following.append((dest, (*events, name)))
        frontier = following
    return None


def make_requisition(**overrides: Any) -> Requisition:
    """Return a requisition: one headcount, a 120,000-150,000 USD band, one approver (cfo)."""
    fields: dict[str, Any] = {
        "id": "req-1",
        "title": "Backend Engineer",
        "budget": Band(minimum=Decimal(120_000), maximum=Decimal(150_000), currency="USD"),
        "hiring_manager": "maria",
        "approvers": ["cfo"],
        "time_zone": "America/New_York",
    }
    fields.update(overrides)
    return Requisition(**fields)


def make_candidate(number: int = 1, **overrides: Any) -> Candidate:
    """Return candidate ``cand-<number>`` with a name and an e-mail address."""
    fields: dict[str, Any] = {
        "id": f"cand-{number}",
        "name": f"Candidate {number}",
        "email": f"candidate{number}@example.com",
        "consent_to_contact": True,
    }
    fields.update(overrides)
    return Candidate(**fields)


DataFor = Callable[[Application], dict[str, Any]]
"""Returns the keyword data (``reason`` included) to fire an event with."""
Prepare = Callable[[Pipeline, Application, Requisition], object]
"""Fires the activities an event's guards look for, before the event."""


@dataclass(frozen=True, slots=True)
class Recipe:
    """How to make one event pass its guards: activities first, then the event's data."""

    data: DataFor | None = None
    prepare: Prepare | None = None


def actor_for(
    pipeline: Pipeline, application: Application, requisition: Requisition, event: str
) -> str:
    """Return someone who may fire ``event`` on ``application``, as the policy's roles say.

    The first role of the event's ``fired_by`` that names a person: the requisition's hiring
    manager or recruiter, its first approver, the round's first interviewer, the candidate, or
    the pipeline's system actor. An event open to anyone, or granted only to roles of the
    host's own, is fired by the hiring manager.
    """
    spec = pipeline.policy.events.get(event)
    for role in spec.fired_by if spec is not None else ():
        person = _person(role, pipeline, application, requisition)
        if person is not None:
            return person
    return requisition.hiring_manager


def _person(
    role: str, pipeline: Pipeline, application: Application, requisition: Requisition
) -> str | None:
    """The person who holds ``role``, or None when nobody does (or it is the host's own)."""
    if role == Role.hiring_manager:
        return requisition.hiring_manager
    if role == Role.recruiter:
        return requisition.recruiter
    if role == Role.approver:
        chain = [p for step in requisition.approval_chain for p in step.approvers]
        return next(iter(chain or requisition.approvers), None)
    if role == Role.interviewer:
        interview = application.interview()
        return interview.interviewers[0] if interview and interview.interviewers else None
    if role == Role.candidate:
        return application.candidate.id
    if role == Role.system:
        return pipeline.system_actor
    return None


def _activity(
    pipeline: Pipeline,
    application: Application,
    requisition: Requisition,
    event: str,
    *,
    actor: str | None = None,
    **data: Any,
) -> None:
    """Fire an activity if the policy has it from the current stage (it may have been removed)."""
    if event in pipeline.policy.events_from(application.stage):
        who = actor if actor is not None else actor_for(pipeline, application, requisition, event)
        pipeline.fire(application, event, actor=who, requisition=requisition, **data)


def _scorecards(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    interview = application.interview()
    ratings = _focus_ratings(pipeline, application)
    for person in interview.interviewers if interview else ():
        _activity(
            pipeline, application, requisition, "submit_scorecard", actor=person,
            recommendation="yes", **ratings,
        )  # fmt: skip


def _focus_ratings(pipeline: Pipeline, application: Application) -> dict[str, Any]:
    """With structured scorecards, the round's focus attributes rated at the scale's top."""
    scheme = pipeline.policy.settings.scorecard
    spec = pipeline.policy.events.get("submit_scorecard")
    if scheme is None or spec is None or "ratings" not in spec.data_model.model_fields:
        return {}
    return {"ratings": dict.fromkeys(scheme.focus_of(application.round), scheme.scale[-1])}


def _approvals(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """Every approver of the application's approval grants, step by step.

    With position approval only the offer steps' approvers: the position's chain approved the
    budget on the requisition, and its other approvers may not record an application's.
    """
    states = application_approval_state(application, requisition, pipeline.policy)
    for approver in dict.fromkeys(p for state in states for p in state.approvers):
        _activity(
            pipeline, application, requisition, "record_approval", actor=approver, granted=True
        )


def _references(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    _activity(pipeline, application, requisition, "send_reference_notice")
    for number in range(pipeline.policy.settings.required_references):
        referee = f"referee-{number + 1}"
        _activity(
            pipeline,
            application,
            requisition,
            "add_reference",
            referee=referee,
            contact=f"{referee}@example.com",
            consent=True,
        )
        _activity(pipeline, application, requisition, "contact_reference", referee=referee)
        _activity(
            pipeline,
            application,
            requisition,
            "complete_reference",
            referee=referee,
            outcome="satisfactory",
        )


def _offer(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    _approvals(pipeline, application, requisition)
    _references(pipeline, application, requisition)
    _background_result(pipeline, application, requisition, "clear")


def _background(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """References done, the disclosure given and the check authorized (the option's)."""
    _approvals(pipeline, application, requisition)
    _references(pipeline, application, requisition)
    _activity(pipeline, application, requisition, "send_background_disclosure")
    _activity(pipeline, application, requisition, "authorize_background_check")


def _background_result(
    pipeline: Pipeline, application: Application, requisition: Requisition, result: str
) -> None:
    """The provider's result, once, while the check is out (a policy's own check is its own)."""
    spec = pipeline.policy.events.get("record_background_result")
    if spec is None or spec.data_model is not BackgroundResultData:
        return
    check = application.background_check
    if check is None or check.result is None:
        _activity(
            pipeline,
            application,
            requisition,
            "record_background_result",
            result=result,
            report="report-1",
        )


def _adverse(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """A "failed" result, or an adverse decision in an adjudication."""
    _background_result(pipeline, application, requisition, "failed")
    spec = pipeline.policy.events.get("record_adjudication")
    if spec is None or spec.data_model is not AdjudicationData:
        return
    _activity(
        pipeline,
        application,
        requisition,
        "record_adjudication",
        decision="adverse",
        assessment="A recent conviction bears directly on the duties of the position.",
    )


def _signatures(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """Send, sign and countersign the live offer version, where the policy has those steps."""
    for event in ("send_offer", "sign_offer", "countersign_offer"):
        offer = application.offer
        if offer is None or event not in pipeline.policy.events_from(application.stage):
            continue
        who = actor_for(pipeline, application, requisition, event)
        version = offer.version
        if not pipeline.blockers(
            application, event, requisition=requisition, actor=who, version=version
        ):
            pipeline.fire(application, event, actor=who, requisition=requisition, version=version)


def _lapse(pipeline: Pipeline, application: Application, requisition: Requisition) -> None:
    """Move a fake clock past the live offer's valid-until date."""
    offer = application.offer
    if offer is not None and isinstance(pipeline.clock, FakeClock):
        pipeline.clock.set(max(pipeline.clock.now(), offer.valid_until.add(minutes=1)))


STANDARD_RECIPES: dict[str, Recipe] = {
    "complete_debrief": Recipe(prepare=_scorecards),
    "schedule_next_round": Recipe(lambda app: {"interviewers": ["carol"]}),
    "request_approval": Recipe(lambda app: {"salary": Decimal(135_000)}),
    "approve": Recipe(prepare=_approvals),
    "extend_offer": Recipe(
        # eight weeks after the application (2025-03-03 for one made on 2025-01-06): a start
        # date is refused more than 90 days before the offer, whatever the clock says
        lambda app: {
            "salary": Decimal(135_000),
            "start_date": app.created_at.date() + timedelta(weeks=8),
        },
        _offer,
    ),
    "start_background_check": Recipe(
        lambda app: {"provider": "Example Screening Inc.", "provider_contact": "1-800-555-0100"},
        _background,
    ),
    "start_adjudication": Recipe(prepare=lambda p, a, r: _background_result(p, a, r, "consider")),
    "send_pre_adverse_notice": Recipe(
        lambda app: {"report_enclosed": True, "summary_of_rights_enclosed": True}, _adverse
    ),
    "dispute_background_check": Recipe(lambda app: {"text": "The record is not mine."}),
    "counter": Recipe(lambda app: {"salary": Decimal(145_000)}),
    "accept": Recipe(prepare=_signatures),  # with offer signatures: the document signed first
    "reject": Recipe(
        lambda app: {"reason": "skills", "feedback": "We need deeper database experience."}
    ),
    # four months: inside the standard warm_days (180), which keeping in touch enforces
    "keep_warm": Recipe(lambda app: {"warm_until": app.created_at.add(months=4), "consent": True}),
    "expire": Recipe(prepare=_lapse),
    "hold": Recipe(lambda app: {"reason": "budget freeze"}),
    "resume": Recipe(lambda app: {"reason": "budget back"}),
    "reopen": Recipe(lambda app: {"reason": "reviewed again"}),
}
"""How the standard policy's events pass their guards: the recipes ``advance`` uses."""


def advance(
    pipeline: Pipeline,
    application: Application,
    requisition: Requisition,
    events: Sequence[str],
    *,
    recipes: Mapping[str, Recipe] | None = None,
    actor: str | None = None,
    hours_between: float = 0,
) -> Application:
    """Fire ``events`` in order, each with the activities and data its recipe gives.

    Each event fires as ``actor``, or by default as someone who may fire it
    ([`actor_for`][hirepipe.testing.actor_for]: the hiring manager, the candidate for their
    answers, the system for the offer's expiry). ``recipes`` add to (or replace)
    [`STANDARD_RECIPES`][hirepipe.testing.STANDARD_RECIPES], for a company's own events and
    guards. With a [`FakeClock`][hirepipe.testing.FakeClock], ``hours_between`` moves time on
    before each event, so stages take time (as the estimator's ``fit`` needs).
    """
    book = {**STANDARD_RECIPES, **(recipes or {})}
    for event in events:
        if hours_between and isinstance(pipeline.clock, FakeClock):
            pipeline.clock.advance(hours=hours_between)
        recipe = book.get(event, Recipe())
        if recipe.prepare is not None:
            recipe.prepare(pipeline, application, requisition)
        data = recipe.data(application) if recipe.data is not None else {}
        reason = data.pop("reason", None)
        who = actor if actor is not None else actor_for(pipeline, application, requisition, event)
        pipeline.fire(application, event, actor=who, requisition=requisition, reason=reason, **data)
    return application


def walk(
    pipeline: Pipeline,
    requisition: Requisition,
    path: Path,
    *,
    candidate: Candidate | None = None,
    recipes: Mapping[str, Recipe] | None = None,
    hours_between: float = 0,
) -> Application:
    """Return a new application taken along ``path`` (from ``hirepipe.policy._paths.paths``)."""
    application = pipeline.new_application(
        candidate or make_candidate(), requisition, interviewers=("alice", "bob")
    )
    return advance(
        pipeline,
        application,
        requisition,
        path.events,
        recipes=recipes,
        hours_between=hours_between,
    )


def make_application(
    pipeline: Pipeline,
    requisition: Requisition,
    *,
    stage: str | None = None,
    candidate: Candidate | None = None,
    interviewers: Sequence[str] = ("alice", "bob"),
    recipes: Mapping[str, Recipe] | None = None,
    hours_between: float = 0,
) -> Application:
    """Return an application brought to ``stage`` (default: the initial one) by real events.

    The events are [`path_to`][hirepipe.testing.path_to]'s, each passed with its recipe
    (``recipes`` add to the standard ones). Its history is consistent: every record was written
    by ``pipeline.fire``.
    """
    events = path_to(pipeline.policy, stage if stage is not None else pipeline.policy.initial)
    application = pipeline.new_application(
        candidate or make_candidate(), requisition, interviewers=interviewers
    )
    return advance(
        pipeline,
        application,
        requisition,
        events,
        recipes=recipes,
        hours_between=hours_between,
    )


def event_sequences(policy: Policy, *, max_size: int = 20) -> SearchStrategy[list[str]]:
    """Return a hypothesis strategy of event sequences that follow ``policy``'s graph.

    Each sequence starts at the initial stage and fires, at every step, a transition the policy
    defines from the stage reached (guards aside: pair it with
    [`advance`][hirepipe.testing.advance] and recipes, or expect refusals). ``resume`` returns
    to the stage the hold began in. Needs hypothesis installed.
    """
    from hypothesis import strategies as st

    transitions = {
        stage: [n for n in policy.events_from(stage) if not policy.events[n].is_activity]
        for stage in policy.stages
    }

    @st.composite
    def sequences(draw: st.DrawFn) -> list[str]:
        stage, held_from, fired = policy.initial, "", []
        for _ in range(draw(st.integers(0, max_size))):
            options = transitions[stage]
            if not options:
                break
            event = draw(st.sampled_from(options))
            dest = policy.events[event].dest
            if dest == PREVIOUS:
                stage, held_from = held_from, ""
            elif dest is not None:
                if policy.stage(dest).kind is StageKind.paused:
                    held_from = stage
                stage = dest
            fired.append(event)
        return fired

    return sequences()
