"""Scheduling the next round, step by step, each step with a deadline and an owner.

```python
policy = standard_policy(next_round_scheduling=True)
pipeline.fire(application, "schedule_next_round", actor="maria", interviewers=["carol"])
pipeline.fire(application, "request_availability", actor="rita")
pipeline.fire(application, "give_availability", actor=candidate.id, text="Tue or Wed pm")
pipeline.fire(application, "propose_slots", actor="rita", slots=[tuesday, wednesday])
pipeline.fire(application, "schedule_interview", actor=candidate.id, scheduled_at=tuesday)
```

Activities of the ``next_round`` stage, recorded on the application. Each leaves the next
step owed ([`FollowUp`][hirepipe.policy.FollowUp]), so a candidate waiting shows up in the
overdue sweep with the step's owner:

| after | owed next (deadline kind) | by | within (setting) |
| --- | --- | --- | --- |
| round scheduled | `request_availability` (`availability_request`) | recruiter | 1 day |
| `request_availability` | `give_availability` (`availability`) | candidate | 2 days |
| `give_availability` | `propose_slots` (`interview_slots`) | recruiter | 1 day |
| `propose_slots` | `schedule_interview` (`slot_choice`) | candidate | 2 days |

The days are business days, policy settings (``availability_request_days``,
``availability_answer_days``, ``slot_proposal_days``, ``slot_choice_days``).

A later step closes every earlier one (a recruiter may propose slots without asking first);
a new round starts afresh; a round scheduled at once (``schedule_next_round`` with
``scheduled_at``) owes nothing. Deadlines are open only while the application is in
``next_round``. The recruiter is the requisition's, or its hiring manager when it has none.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from pydantic import Field

from hirepipe.errors import Blocker, PolicyError, PolicyProblem
from hirepipe.models import Text, Timestamp
from hirepipe.policy import (
    Change,
    Context,
    EffectSpec,
    EventData,
    EventSpec,
    FollowUp,
    GuardSpec,
    NotificationRule,
    Owner,
    Policy,
    Recipient,
    Role,
)
from hirepipe.policy._derive import rebuild
from hirepipe.standard._data import NoteData
from hirepipe.standard._notifications import with_acted_for

__all__ = [
    "SCHEDULING_EFFECTS",
    "SCHEDULING_GUARDS",
    "SCHEDULING_HORIZON_DAYS",
    "AvailabilityData",
    "ScheduleData",
    "SlotsData",
    "with_next_round_scheduling",
]

_STAGE = "next_round"
_STEPS = ("request_availability", "give_availability", "propose_slots", "schedule_interview")
"""The scheduling steps in order; each closes the deadlines of those before it."""

_MAX_SLOTS = 20

SCHEDULING_HORIZON_DAYS = 365
"""How many calendar days ahead an interview may be proposed or scheduled.

A round is held within weeks; a time a year away or more is a slip of the year (9999 for
2025), and one near the end of the calendar cannot even be shown in a time zone east of UTC
(``time_too_far``).
"""


class AvailabilityData(EventData):
    """``give_availability``: when the candidate can interview, in their words."""

    text: Text


class SlotsData(EventData):
    """``propose_slots``: the interview times offered (1 to 20), and a message."""

    slots: list[Timestamp] = Field(min_length=1, max_length=_MAX_SLOTS)
    text: Text = ""


class ScheduleData(EventData):
    """``schedule_interview``: when the round's interview takes place."""

    scheduled_at: Timestamp


def availability_given(ctx: Context) -> Iterator[Blocker]:
    """The candidate's availability says something."""
    if not str(ctx.data.value("text") or "").strip():
        yield Blocker(
            "availability_missing",
            "say when the candidate can interview (text='...')",
            needs_input=True,
        )


def times_in_future(ctx: Context) -> Iterator[Blocker]:
    """The proposed slots, or the interview's time, are after now and within the horizon.

    The horizon is ``SCHEDULING_HORIZON_DAYS`` (365) calendar days from now.
    """
    times = [t for t in ctx.data.value("slots") or [ctx.data.value("scheduled_at")] if t]
    past = [t.isoformat() for t in times if t <= ctx.now]
    if past:
        yield Blocker(
            "time_in_past",
            f"an interview cannot be scheduled in the past: {', '.join(past)}",
            {"times": past},
        )
    latest = ctx.now.add(days=SCHEDULING_HORIZON_DAYS)
    far = [t.isoformat() for t in times if t > latest]
    if far:
        yield Blocker(
            "time_too_far",
            f"an interview is scheduled within {SCHEDULING_HORIZON_DAYS} days, by "
            f"{latest.isoformat()}; check the year of {', '.join(far)}",
            {"times": far, "latest": latest.isoformat()},
        )


def round_interview_on_record(ctx: Context) -> Iterator[Blocker]:
    """The current round has an interview on record to schedule."""
    app = ctx.application
    if app.interview() is None:
        yield Blocker(
            "interview_not_scheduled",
            f"round {app.round} has no interview on record",
            {"round": app.round},
        )


def _nothing(ctx: Context) -> Change:
    return Change()


def schedule_interview(ctx: Context) -> Change:
    """Put the current round's interview at the time chosen."""
    assert isinstance(ctx.data, ScheduleData)
    app = ctx.application
    at = ctx.data.scheduled_at
    interviews = tuple(
        i.model_copy(update={"scheduled_at": at}) if i.round == app.round else i
        for i in app.interviews
    )
    return Change({"interviews": interviews}, {"round": app.round})


SCHEDULING_GUARDS: tuple[GuardSpec, ...] = (
    GuardSpec("availability_given", availability_given, "the candidate's availability"),
    GuardSpec("times_in_future", times_in_future, "interview times after now"),
    GuardSpec("round_interview_on_record", round_interview_on_record, "the round has an interview"),
)
"""The guards of next-round scheduling, registered with the standard ones."""

SCHEDULING_EFFECTS: tuple[EffectSpec, ...] = (
    EffectSpec("request_availability", _nothing, NoteData, trusted=True),
    EffectSpec("give_availability", _nothing, AvailabilityData, trusted=True),
    EffectSpec("propose_slots", _nothing, SlotsData, trusted=True),
    EffectSpec("schedule_interview", schedule_interview, ScheduleData, trusted=True),
)
"""The effects of next-round scheduling, registered with the standard ones."""


def _step(days: str, owner: Owner, code: str, owes: str, after: str | None) -> FollowUp:
    """The deadline the step after ``after`` (None: the round's start) owes."""
    later = _STEPS[_STEPS.index(after) + 1 :] if after is not None else _STEPS
    restarts = (after,) if after in ("request_availability", "propose_slots") else ()
    return FollowUp(
        days,
        owner,
        code,
        owes,
        # a later step, a new round, or (asking or proposing again) the step itself
        closed_by=(*restarts, *later, "schedule_next_round"),
        stages=(_STAGE,),
        unless="scheduled_at" if after is None else None,
    )


_RULES = (
    NotificationRule(
        name="availability_request",
        template="availability_request",
        to=Recipient.candidate,
        events=("request_availability",),
        description="ask the candidate when they can interview",
    ),
    NotificationRule(
        name="availability_received",
        template="candidate_message",
        to=Recipient.recruiter,
        events=("give_availability",),
        description="pass the candidate's availability on to the recruiter",
    ),
    NotificationRule(
        name="interview_slots",
        template="interview_slots",
        to=Recipient.candidate,
        events=("propose_slots",),
        description="offer the candidate interview times to choose from",
    ),
    NotificationRule(
        name="interview_scheduled",
        template="next_round",
        to=Recipient.candidate,
        events=("schedule_interview",),
        description="confirm the time of the next interview",
    ),
    NotificationRule(
        name="availability_request_reminder",
        template="reminder",
        to=Recipient.recruiter,
        deadline="availability_request",
        description="remind the recruiter to ask for the candidate's availability",
    ),
    NotificationRule(
        name="interview_slots_reminder",
        template="reminder",
        to=Recipient.recruiter,
        deadline="interview_slots",
        description="remind the recruiter to propose interview slots",
    ),
)


def with_next_round_scheduling(policy: Policy) -> Policy:
    """Return ``policy`` whose ``next_round`` is scheduled in steps with deadlines.

    ``schedule_next_round`` leaves the first step owed; the steps are activities of
    ``next_round``. A policy without ``schedule_next_round`` is refused (PolicyError).
    """
    guards = {g.name: g for g in SCHEDULING_GUARDS}
    effects = {e.name: e for e in SCHEDULING_EFFECTS}
    staff = (Role.recruiter, Role.hiring_manager)
    recruiter, candidate = Owner.recruiter, Owner.candidate
    steps = (
        EventSpec(
            name="request_availability",
            sources=(_STAGE,),
            dest=None,
            effect=effects["request_availability"],
            description="ask the candidate when they can interview",
            fired_by=(*staff, Role.system),
            follow_up=_step(
                "availability_answer_days",
                candidate,
                "availability",
                "{name} answers with their availability",
                "request_availability",
            ),
        ),
        EventSpec(
            name="give_availability",
            sources=(_STAGE,),
            dest=None,
            guards=(guards["availability_given"],),
            effect=effects["give_availability"],
            description="the candidate says when they can interview",
            fired_by=(Role.candidate,),
            on_behalf=staff,  # an answer by phone or e-mail, recorded for the candidate
            follow_up=_step(
                "slot_proposal_days",
                recruiter,
                "interview_slots",
                "propose interview slots to {name}",
                "give_availability",
            ),
        ),
        EventSpec(
            name="propose_slots",
            sources=(_STAGE,),
            dest=None,
            guards=(guards["times_in_future"],),
            effect=effects["propose_slots"],
            description="offer the candidate interview times",
            fired_by=(*staff, Role.system),
            follow_up=_step(
                "slot_choice_days",
                candidate,
                "slot_choice",
                "{name} chooses an interview slot",
                "propose_slots",
            ),
        ),
        EventSpec(
            name="schedule_interview",
            sources=(_STAGE,),
            dest=None,
            guards=(guards["round_interview_on_record"], guards["times_in_future"]),
            effect=effects["schedule_interview"],
            description="the next round's interview is scheduled",
            # the candidate picks a slot, or the company books one
            fired_by=(Role.candidate, *staff, Role.system),
            on_behalf=staff,
        ),
    )
    first = _step(
        "availability_request_days",
        recruiter,
        "availability_request",
        "ask {name} for their availability for the next round",
        None,
    )
    events = [
        replace(e, follow_up=first) if e.name == "schedule_next_round" else e
        for e in policy.events.values()
    ]
    if not any(e.name == "schedule_next_round" for e in events):
        raise PolicyError(
            [PolicyProblem("next_round_scheduling", "the policy has no schedule_next_round")]
        )
    derived = rebuild(policy, events=[*events, *steps]).with_notifications(*_RULES)
    return with_acted_for(derived, "give_availability", "schedule_interview")
