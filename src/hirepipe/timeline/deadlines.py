"""Service levels: what an application is owed, by whom, and by when, as plain data.

```python
levels = ServiceLevels(policy)
levels.overdue(applications, requisitions, clock.now())  # the daily sweep
```

Deadlines are data, never timers: derived from an application's fields and history alone, so
a sweep finds the same ones after any restart. Each stage's own deadline comes from its
``StageSpec.service``, and what an event leaves owed (feedback asked for, a step of
scheduling a round) from its ``EventSpec.follow_up``. The conventions (business days,
contact, clocks): ``docs/service-levels.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar, TypeVar, cast

import pendulum
from pydantic import BaseModel, ConfigDict

from hirepipe._types import withhold_personal
from hirepipe.errors import CalendarError, PolicyError, PolicyProblem, RequisitionMismatch
from hirepipe.models import (
    PERSONAL,
    Application,
    Identifier,
    OfferStatus,
    Requisition,
    Timestamp,
    TransitionRecord,
)
from hirepipe.policy import FollowUp, Owner, Policy, ServiceLevel, StageKind, StageSpec
from hirepipe.standard._approvals import StepState, approval_round, current_step
from hirepipe.standard._position import application_approval_state
from hirepipe.timeline.calendar import BusinessCalendar, calendar_for

__all__ = [
    "CANDIDATE_CONTACT_EVENTS",
    "CalendarFor",
    "Deadline",
    "DeadlineKind",
    "ServiceLevels",
    "open_approval_step",
]

CANDIDATE_CONTACT_EVENTS: frozenset[str] = frozenset(
    {
        # written by the communications layer when a message goes out
        "thank_you_sent",
        "status_update",
        # standard-policy events the candidate is told of as they happen
        "schedule_next_round",  # invited to another round
        "send_reference_notice",  # told before any referee is contacted
        "extend_offer",
        "revise_offer",
        "keep_warm",  # needs the candidate's consent, so they were asked
        "reject",
        # the optional parts of the standard policy (feedback requests, round scheduling)
        "send_feedback",
        "request_availability",
        "propose_slots",
        "schedule_interview",
        # the background-check option's notices (standard_policy(background_check=True))
        "send_background_disclosure",
        "send_pre_adverse_notice",
        "final_adverse_action",
    }
)
"""History events that mean the company told the candidate something."""


class DeadlineKind(StrEnum):
    """The standard deadline codes; a policy's own stages add theirs (``ServiceLevel.deadline``).

    The values are stable codes to match on and store; ``Deadline.kind`` is the code.
    """

    thank_you = "thank_you"  # thank the candidate for an interview round
    candidate_update = "candidate_update"  # tell the candidate where things stand
    scorecards = "scorecards"  # interviewers submit their scorecards for the round
    review = "review"  # decide: another round, approval, the pool or a rejection
    approval = "approval"  # approvers decide on the offer
    references = "references"  # finish the reference checks
    offer_expiry = "offer_expiry"  # the live offer lapses
    warm_until = "warm_until"  # the talent-pool period ends


class Deadline(BaseModel):
    """One thing owed on an application, by whom, and by when.

    ``since`` is the instant the deadline counts from (the interview held, the stage entered,
    the last contact, the offer extended); ``due`` is when it is owed. Both read as the
    requisition's local time (held at that zone's UTC offset). ``owed_by`` names people (the
    hiring manager, interviewers, approvers) or, for an offer's answer, the candidate's id.
    ``stage`` is the application's stage when the deadline was derived. Frozen, and exact
    through JSON.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)

    application_id: Identifier
    requisition_id: Identifier
    kind: Identifier
    due: Timestamp
    since: Timestamp
    owed_by: tuple[Identifier, ...]
    stage: Identifier
    description: Annotated[str, PERSONAL]  # names the candidate ("thank Ada for ...")

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # no description in a repr: logs and error trackers keep reprs, and it names the person
        return withhold_personal(type(self), super().__repr_args__())

    def is_overdue(self, now: datetime) -> bool:
        """Whether the deadline has passed at ``now`` (strictly before it)."""
        return self.due < now


CalendarFor = Callable[[Requisition], BusinessCalendar]
"""Returns the business-day calendar of a requisition."""


class ServiceLevels:
    """Derives the service-level deadlines of applications under ``policy``.

    ``calendars`` returns the business-day calendar of a requisition; by default one
    ``BusinessCalendar(country, time_zone=...)`` per country and zone, built once and kept.
    ``contact_events`` names the history events that count as contact with the candidate.
    The number of business days each deadline allows comes from the policy's settings.
    """

    __slots__ = ("_calendars", "contact_events", "policy")

    def __init__(
        self,
        policy: Policy,
        *,
        calendars: CalendarFor | None = None,
        contact_events: Iterable[str] = CANDIDATE_CONTACT_EVENTS,
    ) -> None:
        self.policy: Policy = policy
        self.contact_events: frozenset[str] = frozenset(contact_events)
        self._calendars = calendars

    def calendar(self, requisition: Requisition) -> BusinessCalendar:
        """Return the business-day calendar deadlines of ``requisition`` are counted in."""
        if self._calendars is not None:
            return self._calendars(requisition)
        return calendar_for(requisition)

    def deadlines(self, application: Application, requisition: Requisition) -> list[Deadline]:
        """Return the open deadlines of ``application``, soonest first.

        Met deadlines are left out; overdue ones are included (see
        [`overdue`][hirepipe.timeline.ServiceLevels.overdue]). Raises
        [`RequisitionMismatch`][hirepipe.errors.RequisitionMismatch] if ``requisition`` is not
        the application's, and [`PolicyError`][hirepipe.errors.PolicyError] if the policy does
        not define the application's stage.
        """
        if requisition.id != application.requisition_id:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given=requisition.id,
            )
        spec = self.policy.stages.get(application.stage)
        if spec is None:
            problem = (
                f"application {application.id!r} is in stage {application.stage!r}, which "
                f"{self.policy.label} does not define; pass the policy it runs under"
            )
            raise PolicyError([PolicyProblem("stages", problem)])
        follow_ups = self.policy.follow_ups
        if spec.terminal and not follow_ups:
            return []
        owed = _Owed(self, application, requisition)
        if spec.terminal:
            # an ended application owes only what its events left owed (feedback asked for)
            return sorted(owed.follow_ups(follow_ups), key=_order)
        found = owed.thank_yous()
        if spec.owes_updates:
            found.append(owed.update())
        found += owed.stage_deadlines(spec)
        if follow_ups:
            found += owed.follow_ups(follow_ups)
        return sorted(found, key=_order)

    def due(
        self,
        applications: Iterable[Application],
        requisitions: Mapping[str, Requisition] | Iterable[Requisition],
        now: datetime,
        *,
        within: timedelta = timedelta(0),
    ) -> list[Deadline]:
        """Return every open deadline due before ``now + within``, soonest first.

        ``requisitions`` maps ids to requisitions, or lists them; every application's
        requisition must be among them (else
        [`RequisitionMismatch`][hirepipe.errors.RequisitionMismatch]). ``within`` looks ahead
        (``timedelta(days=1)`` for a daily sweep's warnings). Raises
        [`CalendarError`][hirepipe.errors.CalendarError] for a naive ``now``.
        """
        if now.tzinfo is None or now.utcoffset() is None:
            raise CalendarError(
                f"naive now {now.isoformat()}: pass an aware datetime, e.g. clock.now()"
            )
        by_id = (
            requisitions
            if isinstance(requisitions, Mapping)
            else {requisition.id: requisition for requisition in requisitions}
        )
        try:
            horizon = now + within
        except OverflowError:  # timedelta.max for "everything": a bare OverflowError before
            raise CalendarError(
                f"within={within} from now ({now.isoformat()}) leaves the calendar (years 1 "
                "to 9999); look ahead by less"
            ) from None
        found: list[Deadline] = []
        for application in applications:
            requisition = by_id.get(application.requisition_id)
            if requisition is None:
                raise RequisitionMismatch(
                    application_id=application.id,
                    expected=application.requisition_id,
                    given="<not passed>",
                )
            found += (d for d in self.deadlines(application, requisition) if d.due < horizon)
        return sorted(found, key=_order)

    def overdue(
        self,
        applications: Iterable[Application],
        requisitions: Mapping[str, Requisition] | Iterable[Requisition],
        now: datetime,
    ) -> list[Deadline]:
        """Return every open deadline whose due time is before ``now``, soonest first.

        The same as [`due`][hirepipe.timeline.ServiceLevels.due] with no look-ahead; it raises
        what [`due`][hirepipe.timeline.ServiceLevels.due] raises.
        """
        return self.due(applications, requisitions, now)

    def __repr__(self) -> str:
        return f"ServiceLevels({self.policy!r})"


_Instant = TypeVar("_Instant", datetime, int)


def open_approval_step(
    states: Sequence[StepState],
    entered: _Instant,
    grants: Iterable[tuple[str, _Instant]],
    *,
    since: _Instant,
) -> tuple[_Instant, int | None, tuple[str, ...]] | None:
    """The open step of an approval chain: when it opened, its own days, who still owes it.

    A step opens when the steps before it are granted: on entering the stage, or at the
    latest grant (at or after ``since``) by an approver of an earlier step. ``None`` once
    every step is granted. Time is an instant or any count the caller uses (the simulator's
    business minutes): the one rule for both.
    """
    current = current_step(states)
    if current is None:
        return None
    earlier = {p for s in states[: states.index(current)] for p in s.approvers}
    opened = entered
    for person, at in grants:
        if person in earlier and at >= since and at > opened:
            opened = at
    return opened, current.step.due_days, current.pending


def _order(deadline: Deadline) -> tuple[pendulum.DateTime, str, str]:
    return (deadline.due, deadline.application_id, deadline.kind)


class _Owed:
    """What one application is owed, computed from its data in one pass over its history."""

    __slots__ = ("app", "calendar", "contacts", "levels", "manager", "requisition", "zone")

    def __init__(
        self, levels: ServiceLevels, application: Application, requisition: Requisition
    ) -> None:
        self.levels = levels
        self.app = application
        self.requisition = requisition
        self.calendar = levels.calendar(requisition)
        self.zone = requisition.time_zone
        self.manager = (requisition.hiring_manager,)
        self.contacts = [r.at for r in application.history if r.event in levels.contact_events]

    def after(self, since: pendulum.DateTime, business_days: int) -> pendulum.DateTime:
        return self.calendar.add_business_days(since, business_days)

    def make(
        self,
        kind: str,
        since: pendulum.DateTime,
        due: pendulum.DateTime,
        owed_by: tuple[str, ...],
        description: str,
    ) -> Deadline:
        # read in the requisition's zone (a custom calendar may answer in another one);
        # Timestamp then holds that local time at its UTC offset
        return Deadline(
            application_id=self.app.id,
            requisition_id=self.requisition.id,
            kind=kind,
            due=due.in_timezone(self.zone),
            since=since.in_timezone(self.zone),
            owed_by=owed_by,
            stage=self.app.stage,
            description=description,
        )

    def thank_yous(self) -> list[Deadline]:
        days = self.levels.policy.settings.thank_you_days
        found = []
        for interview in self.app.interviews:
            held = interview.held_at
            if held is None or any(at >= held for at in self.contacts):
                continue
            found.append(
                self.make(
                    DeadlineKind.thank_you,
                    held,
                    self.after(held, days),
                    self.manager,
                    f"thank {self.app.candidate.name} for the round {interview.round} interview",
                )
            )
        return found

    def update(self) -> Deadline:
        # the candidate last heard from us at the latest contact, interview or application
        heard = max(
            [
                self.app.created_at,
                *self.contacts,
                *(i.held_at for i in self.app.interviews if i.held_at is not None),
            ]
        )
        return self.make(
            DeadlineKind.candidate_update,
            heard,
            self.after(heard, self.levels.policy.settings.update_cadence_days),
            self.manager,
            f"tell {self.app.candidate.name} where the application stands",
        )

    def approval_step(
        self, entered: pendulum.DateTime, allowed: int
    ) -> tuple[pendulum.DateTime, int, tuple[str, ...]]:
        """When the open approval step opened, its business days, and who owes it.

        Once the whole chain is granted (with position approval: its offer steps), the hiring
        manager owes the ``approve`` event.
        """
        round_start = approval_round(self.app) or entered
        states = application_approval_state(
            self.app, self.requisition, self.levels.policy, since=round_start
        )
        grants = [(a.approver, a.decided_at) for a in self.app.approvals if a.granted]
        step = open_approval_step(states, entered, grants, since=round_start)
        if step is None:
            return entered, allowed, self.manager
        opened, days, pending = step
        # the grants' times are the approvals' own pendulum timestamps, like ``entered``
        return cast(pendulum.DateTime, opened), days or allowed, pending or self.manager

    def entered(self) -> pendulum.DateTime:
        for record in reversed(self.app.history):
            if record.kind == "transition" and record.to_stage == self.app.stage:
                return record.at
        return self.app.created_at

    def stage_deadlines(self, spec: StageSpec) -> list[Deadline]:
        app, name = self.app, self.app.candidate.name
        service = spec.service
        found: list[Deadline] = []
        if service is not None and service.owner is Owner.interviewers:
            found += self.scorecards(service)
        elif service is not None and service.owner is not Owner.candidate:
            since = self.entered()
            allowed = self.levels.policy.service_days(spec.name) or 0
            owed_by: tuple[str, ...] = self.manager
            if service.owner is Owner.recruiter and self.requisition.recruiter:
                owed_by = (self.requisition.recruiter,)
            if service.owner is Owner.approvers:
                since, allowed, owed_by = self.approval_step(since, allowed)
            found.append(
                self.make(
                    service.deadline or spec.name,
                    since,
                    self.after(since, allowed),
                    owed_by,
                    service.owes.format(name=name)
                    if service.owes
                    else f"move {name} on from {spec.name}",
                )
            )
        answering = service is not None and service.owner is Owner.candidate
        offer = app.offer
        if offer is not None and offer.status is OfferStatus.extended:
            # an offer out waits on the candidate; after a counter, on the company's revision
            found.append(
                self.make(
                    DeadlineKind.offer_expiry,
                    offer.extended_at,
                    offer.valid_until,
                    (app.candidate.id,) if answering else self.manager,
                    f"offer version {offer.version} to {name} lapses; "
                    + ("an answer is due" if answering else "revise it before then"),
                )
            )
        if spec.kind is StageKind.pool and app.warm_until is not None:
            found.append(
                self.make(
                    DeadlineKind.warm_until,
                    self.entered(),
                    app.warm_until,
                    self.manager,
                    f"reactivate {name} or let the talent-pool period end",
                )
            )
        return found

    def follow_ups(self, follow_ups: Mapping[str, FollowUp]) -> list[Deadline]:
        """What the application's events left owed and no later event closed.

        One pass over the history: a record closes the open follow-ups that name its event,
        then opens its own event's (unless one is open already: the first request stands).
        """
        opened: dict[str, TransitionRecord] = {}
        for record in self.app.history:
            event = record.event
            if opened:
                for name in [n for n in opened if event in follow_ups[n].closed_by]:
                    del opened[name]
            follow_up = follow_ups.get(event)
            if (
                follow_up is not None
                and event not in opened
                and (follow_up.unless is None or record.data.get(follow_up.unless) is None)
            ):
                opened[event] = record
        found = []
        for event, record in opened.items():
            follow_up = follow_ups[event]
            if follow_up.stages and self.app.stage not in follow_up.stages:
                continue
            days = follow_up.days
            allowed = int(
                getattr(self.levels.policy.settings, days) if isinstance(days, str) else days
            )
            name = self.app.candidate.name
            found.append(
                self.make(
                    follow_up.deadline or event,
                    record.at,
                    self.after(record.at, allowed),
                    self.owed_by(follow_up.owner),
                    follow_up.owes.format(name=name)
                    if follow_up.owes
                    else f"answer {event} of {name}",
                )
            )
        return found

    def owed_by(self, owner: Owner) -> tuple[str, ...]:
        """The people an owner names on this application."""
        requisition = self.requisition
        if owner is Owner.candidate:
            return (self.app.candidate.id,)
        if owner is Owner.recruiter and requisition.recruiter:
            return (requisition.recruiter,)
        if owner is Owner.interviewers:
            interview = self.app.interview()
            if interview is not None and interview.interviewers:
                return interview.interviewers
        if owner is Owner.approvers and requisition.approvers:
            return tuple(requisition.approvers)
        return self.manager

    def scorecards(self, service: ServiceLevel) -> list[Deadline]:
        """The round's scorecards, owed by its interviewers from the interview held."""
        interview = self.app.interview()
        if interview is None or interview.held_at is None:
            return []
        submitted = {card.interviewer for card in self.app.scorecards_for(interview.round)}
        missing = tuple(p for p in interview.interviewers if p not in submitted)
        if not missing:
            return []
        days = self.levels.policy.service_days(self.app.stage) or 0
        return [
            self.make(
                service.deadline or self.app.stage,
                interview.held_at,
                self.after(interview.held_at, days),
                missing,
                f"submit scorecards for round {interview.round} of {self.app.candidate.name}",
            )
        ]
