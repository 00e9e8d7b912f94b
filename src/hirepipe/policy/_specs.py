"""The parts a policy is made of: stages, events, guards, effects, settings and rules.

A guard takes a [`Context`][hirepipe.policy.Context] and yields
[`Blocker`][hirepipe.errors.Blocker] objects, one per reason the event cannot fire; it yields
nothing when the event may fire. An effect takes the same context and returns a
[`Change`][hirepipe.policy.Change]: the application fields to replace, derived facts to keep in
the history record, and requisition fields to replace. Effects never mutate anything themselves;
the engine applies a change whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Final, Self

import pendulum
from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator
from pydantic_core import PydanticCustomError

from hirepipe._redact import assign_hiding_input
from hirepipe._types import withhold_personal
from hirepipe.errors import Blocker
from hirepipe.models import Application, OfferField, Requisition
from hirepipe.policy._permissions import Role
from hirepipe.policy._roles import Duration, FollowUp, ServiceLevel, StageRole, member
from hirepipe.policy._scorecards import ATTRIBUTE_RANKING, ScorecardScheme

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy

__all__ = [
    "ACTIVE",
    "ANY",
    "OPEN",
    "PREVIOUS",
    "Change",
    "Context",
    "Effect",
    "EffectSpec",
    "EventData",
    "EventSpec",
    "Guard",
    "GuardSpec",
    "NoData",
    "NotificationRule",
    "PolicySettings",
    "Recipient",
    "RejectionSide",
    "StageKind",
    "StageSpec",
    "name_of",
]

ANY: Final = "@any"
"""Source selector: every stage, terminal ones included (for activities such as notes)."""
OPEN: Final = "@open"
"""Source selector: every stage that is not terminal."""
ACTIVE: Final = "@active"
"""Source selector: every active stage (not paused, not pooled, not terminal)."""
PREVIOUS: Final = "@previous"
"""Destination: the stage the application was in before it was put on hold."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


class StageKind(StrEnum):
    """What a stage means for the application's life."""

    active = "active"  # the application is moving
    paused = "paused"  # on hold; it resumes where it left
    pool = "pool"  # kept warm for later
    terminal = "terminal"  # the application has ended for its requisition


class RejectionSide(StrEnum):
    """Who ended the application: the company or the candidate."""

    company = "company"
    candidate = "candidate"


class EventData(BaseModel):
    """Base class of the data an event accepts; unknown keys are refused.

    ``person_field`` names the field that says whose decision the data states (an approval's
    ``approver``, a scorecard's ``interviewer``): the engine refuses it naming anyone but the
    person acting (``acting_for_another``), and fills it in with them when left out.

    Check or change values with validators (``@model_validator``, ``@field_validator``): the
    engine validates with the model's compiled validator, as Pydantic does for a nested model,
    so a policy whose data model overrides ``model_validate`` (or ``__init__``) is refused.
    """

    # an error says where and what, never the value given (a note, a feedback): as models'
    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", frozen=True, hide_input_in_errors=True
    )

    person_field: ClassVar[str | None] = None

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # personal values (Text, and fields marked PERSONAL) never in a repr: ``<personal>``
        return withhold_personal(type(self), super().__repr_args__())

    def __setattr__(self, name: str, value: Any) -> None:
        # frozen: the error never quotes the value given (Pydantic's own would)
        assign_hiding_input(self, name, value)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        """Refuse a ``person_field`` that names no field, when the class is defined."""
        super().__pydantic_init_subclass__(**kwargs)
        if cls.person_field is not None and cls.person_field not in cls.model_fields:
            raise TypeError(
                f"{cls.__name__}.person_field names {cls.person_field!r}, which is not one of "
                f"its fields: {', '.join(cls.model_fields) or 'none'}"
            )

    def value(self, name: str, default: Any = None) -> Any:
        """Return field ``name``, or ``default`` when this event's data has no such field.

        Guards shared by several events use this instead of ``getattr(data, name, None)``:
        a missing attribute on a Pydantic model costs microseconds, on every event.
        """
        return self.__dict__.get(name, default)


class NoData(EventData):
    """The data of an event that takes none."""


_BUSINESS_YEAR: Final = 260
"""The largest business-day duration a setting may hold: a working year."""


class PolicySettings(BaseModel):
    """The numbers a policy runs by. Durations are in business days unless named otherwise.

    Every number has bounds, checked when the policy is built or loaded: business-day
    durations are at most 260 (a working year), counts at most 20 (rounds, references,
    approval steps) or 1,000 (runner-ups), and calendar-day durations at most 365 (an offer's
    validity) or 3,650 (ten years in the talent pool). Past them a date would leave the
    calendar, or a slate would fail half-way through a fill.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)

    max_rounds: int = Field(default=3, ge=1, le=20, strict=True)
    """Interview rounds an application may have, the first included (1 to 20)."""
    hire_threshold: float = Field(default=0.5, ge=-2, le=2)
    """The mean scorecard score (-2 strong_no .. 2 strong_yes) a debrief needs to recommend."""
    required_references: int = Field(default=2, ge=0, le=20, strict=True)
    """Completed, satisfactory references an offer needs (0 to 20)."""
    offer_validity_days: int = Field(default=21, ge=1, le=365, strict=True)
    """Calendar days an offer stays valid when ``extend_offer`` names no ``valid_until``
    (1 to 365).

    21 calendar days (15 business days) covers the published mean decision window of 14.1
    business days (NACE 2012); a shorter default would expire most offers before the answer.
    """
    thank_you_days: int = Field(default=1, ge=0, le=_BUSINESS_YEAR, strict=True)
    """Business days after each interview round by which the candidate is thanked."""
    scorecard_days: int = Field(default=1, ge=0, le=_BUSINESS_YEAR, strict=True)
    """Business days after an interview by which every scorecard is due."""
    update_cadence_days: int = Field(default=5, ge=1, le=_BUSINESS_YEAR, strict=True)
    """The longest a waiting candidate goes without an update, in business days."""
    reference_check_days: int = Field(default=7, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days reference checks may take (the prior's mean share is about 6)."""
    review_days: int = Field(default=10, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days a slate review may take (the prior's mean share is about 8.5)."""
    approval_days: int = Field(default=5, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days each approval step may take (the prior's mean share is about 4.8)."""
    approval_steps: dict[str, Annotated[int, Field(ge=1, le=20, strict=True)]] = Field(
        default_factory=lambda: {"small": 1, "medium": 1, "large": 2, "enterprise": 3}
    )
    """Sequential steps (1 to 20) a requisition's approvers are split into, by company size,
    when the requisition names no ``approval_chain``: larger companies approve in longer
    chains."""
    runner_ups: int = Field(default=2, ge=0, le=1_000, strict=True)
    """Candidates kept warm in the talent pool when a requisition is filled; the rest are
    rejected (``role_filled``). At most 1,000."""
    warm_days: int = Field(default=180, ge=1, le=3_650, strict=True)
    """Calendar days a runner-up stays in the talent pool (1 to 3,650: ten years)."""
    feedback_days: int = Field(default=5, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days to send a rejected candidate the feedback they asked for
    (``request_feedback``, with the ``feedback_requests`` part of the standard policy).

    5 business days: one working week, the same as the update cadence. No published standard
    sets it; a request for the interview notes themselves is a data-subject access request,
    which GDPR Art. 12(3) requires answered within one month, well beyond this.
    """
    availability_request_days: int = Field(default=1, ge=0, le=_BUSINESS_YEAR, strict=True)
    """Business days from scheduling another round to asking the candidate for their
    availability (``request_availability``; the ``next_round_scheduling`` part of the
    standard policy).

    The four scheduling steps' defaults (1 + 2 + 1 + 2 business days) fit inside the 7
    business days the priors give a whole next round (``timeline/data/priors.toml``); the
    split between the company's steps and the candidate's answers is an assumption.
    """
    availability_answer_days: int = Field(default=2, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days the candidate is given to answer with their availability
    (``give_availability``)."""
    slot_proposal_days: int = Field(default=1, ge=0, le=_BUSINESS_YEAR, strict=True)
    """Business days from the candidate's availability to proposing interview slots
    (``propose_slots``)."""
    slot_choice_days: int = Field(default=2, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days the candidate is given to choose a proposed slot
    (``schedule_interview``)."""
    ranking: str = "mean_recommendation"
    """How a slate is ranked: a name from [`hirepipe.slate.RANKINGS`][hirepipe.slate.RANKINGS],
    or ``"attributes"`` to rank by the ``scorecard`` scheme's ``rank_by`` attributes first."""
    scorecard: ScorecardScheme | None = None
    """Structured scorecards: the attributes interviewers rate, the scale, each round's focus
    attributes ([`ScorecardScheme`][hirepipe.policy.ScorecardScheme]). None (the default):
    plain scorecards, a recommendation and notes."""
    countersignature_required: StrictBool = True
    """With offer signatures (``standard_policy(offer_signatures=True)``): an acceptance needs
    the current offer version countersigned by the company, not only signed by the candidate.

    On by default: an employment contract binds once both parties signed it, and the e-signature
    flows of the ATSs compared in issue 16 (Greenhouse, Lever, Ashby) mark an offer accepted
    when the last signer, the company's, has signed. Turn it off where the candidate's signature
    alone completes the acceptance. Without offer signatures nothing reads it.
    """

    offer_approval_fields: tuple[OfferField, ...] = ()
    """With position approval on: the offer terms whose setting or change needs offer approval.

    The steps of the requisition's chain that cover one of them
    ([`ApprovalStep.covers`][hirepipe.models.ApprovalStep]) approve each offer, and a revised
    offer again when it changes a term they cover. Empty (the default): an offer inside the
    position's approved band needs no approval of its own, since the position's approval
    already covered its budget. Read only by the position-approval guards
    (``standard_policy(position_approval=True)``).
    """

    background_check_days: int = Field(default=5, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days the consumer reporting agency may take from the order to the result,
    before the hiring manager chases it (``standard_policy(background_check=True)``).

    Assumed: providers commonly quote two to five business days for a standard U.S. package;
    county court searches take longer.
    """
    adjudication_days: int = Field(default=3, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days for the individualized assessment of a "consider" result (assumed)."""
    adverse_action_waiting_days: int = Field(default=5, ge=5, le=60, strict=True)
    """Business days, in the requisition's calendar, between the pre-adverse action notice and
    the earliest final adverse action (5 to 60).

    The FCRA (15 U.S.C. 1681b(b)(3)) sets no period: it requires the notice, with a copy of the
    report and the summary of rights, *before* any adverse action. Five business days is the
    figure FTC staff guidance found reasonable and the common practice; a city or state may
    require more. The days counted are those after the day the notice is sent; a holiday
    inside them extends the period.
    """
    adverse_action_days: int = Field(default=10, ge=6, le=_BUSINESS_YEAR, strict=True)
    """Business days from the pre-adverse action notice by which the company sends the final
    adverse action notice or goes on to the offer: the waiting period, then time to decide.
    At least one more than ``adverse_action_waiting_days`` (checked)."""
    background_dispute_days: int = Field(default=21, ge=1, le=_BUSINESS_YEAR, strict=True)
    """Business days a disputed report may take to be reinvestigated: the agency has 30
    calendar days (15 U.S.C. 1681i(a)(1)(A)), about 21 business days."""
    erased_by: tuple[str, ...] = (Role.recruiter, Role.hiring_manager, Role.system)
    """The roles that may erase a candidate's personal data
    ([`Pipeline.erase`][hirepipe.pipeline.Pipeline.erase],
    [`Store.erase`][hirepipe.store.Store.erase]): role names as an event's ``fired_by``.

    By default the requisition's recruiter and hiring manager, who own the candidate's
    process, and the system actor (a retention sweep); anyone else is refused
    (``not_permitted``). A data protection officer, say, erases once the host's
    [`RoleResolver`][hirepipe.policy.RoleResolver] gives them a role named here
    (``erased_by=("recruiter", "hiring_manager", "system", "privacy_officer")``).
    """

    @model_validator(mode="after")
    def _ranking_has_attributes(self) -> Self:
        if self.ranking == ATTRIBUTE_RANKING and (
            self.scorecard is None or not self.scorecard.rank_by
        ):
            raise PydanticCustomError(
                "ranking_attributes",
                "ranking '{ranking}' orders a slate by the scorecard scheme's rank_by "
                "attributes, and {missing}; name them (scorecard.rank_by = [...])",
                {
                    "ranking": ATTRIBUTE_RANKING,
                    "missing": "there is no scorecard scheme"
                    if self.scorecard is None
                    else "rank_by is empty",
                },
            )
        return self

    @model_validator(mode="after")
    def _decision_after_waiting(self) -> Self:
        if self.adverse_action_days <= self.adverse_action_waiting_days:
            raise ValueError(
                f"adverse_action_days ({self.adverse_action_days}) must exceed "
                f"adverse_action_waiting_days ({self.adverse_action_waiting_days}): the "
                "decision is due after the waiting period ends"
            )
        return self

    def warm_limit(self, now: pendulum.DateTime, time_zone: str | None = None) -> pendulum.DateTime:
        """The latest ``warm_until`` from ``now``: ``warm_days`` calendar days later.

        At the same wall-clock time in ``time_zone`` (the requisition's) when given: in the
        clock's zone (UTC, say) it would be an hour off across a change to summer time.
        """
        local = now if time_zone is None else now.in_timezone(time_zone)
        return local.add(days=self.warm_days)


@dataclass(slots=True)
class Context:
    """What a guard or an effect sees: the application, the event and its data, and time.

    Treat it as read-only. (It is not a frozen dataclass only because a frozen one costs a
    microsecond more to build, on every event.)

    ``actor`` is ``None`` only when
    [`hirepipe.Pipeline.blockers`][hirepipe.pipeline.Pipeline.blockers] is asked without one.
    """

    application: Application
    requisition: Requisition | None
    event: str
    data: EventData
    actor: str | None
    reason: str | None
    now: pendulum.DateTime
    policy: Policy

    @property
    def settings(self) -> PolicySettings:
        """The policy's settings."""
        return self.policy.settings


@dataclass(frozen=True, slots=True, init=False)
class Change:
    """What an effect changes: replaced fields and derived facts for the record.

    Each part is empty unless given.
    """

    application: Mapping[str, Any]
    record_data: Mapping[str, Any]
    requisition: Mapping[str, Any]

    def __init__(
        self,
        application: Mapping[str, Any] = _EMPTY,
        record_data: Mapping[str, Any] = _EMPTY,
        requisition: Mapping[str, Any] = _EMPTY,
    ) -> None:
        # written out: the generated one calls a default factory per part not given, and an
        # effect returns a Change on every event; each slot set by its own descriptor, as
        # object.__setattr__ (what a frozen dataclass calls) checks its arguments each time
        _set_application(self, application)
        _set_record_data(self, record_data)
        _set_requisition(self, requisition)

    def __reduce__(self) -> tuple[type[Change], tuple[dict[str, Any], ...]]:
        # the empty default is a read-only view, which neither pickles nor deep-copies: each
        # part goes as a dict (equal to what was given), so a Change crosses processes; a
        # subclass's copy is of its own class
        return type(self), (dict(self.application), dict(self.record_data), dict(self.requisition))


_set_application, _set_record_data, _set_requisition = (
    Change.__dict__[name].__set__ for name in ("application", "record_data", "requisition")
)


Guard = Callable[[Context], Iterable[Blocker]]
"""A guard yields one Blocker per reason the event cannot fire, and nothing when it can."""
Effect = Callable[[Context], Change]
"""An effect returns the change an event makes; it must not mutate anything."""


def name_of(function: Callable[..., object], kind: str, name: str | None = None) -> str:
    """Return ``name``, or the function's ``__name__``: the name a policy writes it under.

    Raises ``ValueError`` for a lambda without a ``name``: a policy names guards and effects.
    """
    label = name or getattr(function, "__name__", "")
    if not label or label == "<lambda>":
        raise ValueError(f"name the {kind}: a lambda has no name to write in a policy")
    return label


@dataclass(frozen=True, slots=True)
class GuardSpec:
    """A named guard and what it checks, for diagrams and error messages.

    ``checks`` names the stage whose work the guard checks (``references_ready`` checks the
    ``references`` stage); [`Policy.without_stage`][hirepipe.policy.Policy.without_stage] drops
    such guards with their stage.
    """

    name: str
    check: Guard
    description: str = ""
    checks: str | None = None

    @classmethod
    def of(
        cls,
        check: Guard,
        *,
        name: str | None = None,
        description: str = "",
        checks: str | None = None,
    ) -> GuardSpec:
        """Wrap a function: named by ``name`` or its ``__name__``, described by its docstring.

        Raises ``ValueError`` for a lambda without a name: a policy writes guards by name.
        """
        label = name_of(check, "guard", name)
        summary = description or (check.__doc__ or "").strip().split("\n")[0]
        return cls(label, check, summary, checks)


@dataclass(frozen=True, slots=True)
class EffectSpec:
    """A named effect and the data model its event accepts.

    The engine validates every field an effect changes, unless the effect is ``trusted``
    to build validated values itself (the standard effects are, and are tested for it).
    """

    name: str
    apply: Effect
    data: type[EventData] = NoData
    trusted: bool = False


@dataclass(frozen=True, slots=True)
class StageSpec:
    """A stage of the lifecycle, and what it means to the layers above the engine.

    ``role`` places it in the requisition's decision ([`StageRole`][hirepipe.policy.StageRole]:
    the slate reads it); ``service`` is its service level (a deadline from entering it, and who
    owes it); ``duration`` its expected length for the estimator and the simulator; ``forward``
    the event that moves an application on when the stage's work is done (default: the one event
    from it to another active stage); ``updates`` whether a waiting candidate is owed regular
    updates in it (default: in active and paused stages); ``exits`` the chance of each other way
    out, for the simulator (``(("reject", 0.05),)``; the rest of the time it goes forward).
    """

    name: str
    kind: StageKind = StageKind.active
    description: str = ""
    role: StageRole | None = None
    service: ServiceLevel | None = None
    duration: Duration | None = None
    forward: str | None = None
    updates: bool | None = None
    exits: tuple[tuple[str, float], ...] = ()

    def __post_init__(self) -> None:
        # "in_flight" is StageRole.in_flight: the layers compare members by identity
        object.__setattr__(self, "kind", member(StageKind, self.kind))
        object.__setattr__(self, "role", member(StageRole, self.role))
        exits: Any = self.exits
        if isinstance(exits, Mapping):
            object.__setattr__(self, "exits", tuple(exits.items()))
        elif isinstance(exits, list):
            object.__setattr__(self, "exits", tuple(exits))

    @property
    def terminal(self) -> bool:
        """Whether the application has ended for its requisition in this stage."""
        return self.kind is StageKind.terminal

    @property
    def holds_headcount(self) -> bool:
        """Whether an application here counts against the requisition's open headcount."""
        return self.role is StageRole.in_flight

    @property
    def owes_updates(self) -> bool:
        """Whether a candidate waiting here is owed regular updates."""
        if self.updates is not None:
            return self.updates
        return self.kind in (StageKind.active, StageKind.paused)


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event: where it may fire from, where it leads, what guards it and what it changes.

    ``sources`` holds stage names or the selectors [`ANY`][hirepipe.policy.ANY],
    [`OPEN`][hirepipe.policy.OPEN] and [`ACTIVE`][hirepipe.policy.ACTIVE]. ``dest`` is a stage
    name, [`PREVIOUS`][hirepipe.policy.PREVIOUS] (back to where a hold began), or ``None`` for
    an activity, which changes no stage but is recorded. ``retarget`` lets the event move the
    application to the requisition passed with it (``reactivate``).

    Who may fire it (``hirepipe.policy._permissions``): ``fired_by`` names the roles (a
    [`Role`][hirepipe.policy.Role] or a host's own role name; ``anyone`` by default);
    ``on_behalf`` the roles that may fire it for a person who holds one of ``fired_by``
    (``fire(..., on_behalf_of=person)``; empty: nobody acts for another).

    ``follow_up`` is what the event leaves owed (a [`FollowUp`][hirepipe.policy.FollowUp]:
    a deadline from its record, closed by later events), which the service levels of
    [`hirepipe.timeline`][hirepipe.timeline] find like a stage's.
    """

    name: str
    sources: tuple[str, ...]
    dest: str | None
    guards: tuple[GuardSpec, ...] = ()
    effect: EffectSpec | None = None
    description: str = ""
    retarget: bool = False
    fired_by: tuple[str, ...] = (Role.anyone,)
    on_behalf: tuple[str, ...] = ()
    follow_up: FollowUp | None = None

    @property
    def is_activity(self) -> bool:
        """Whether the event changes no stage."""
        return self.dest is None

    @property
    def data_model(self) -> type[EventData]:
        """The model that validates the event's data."""
        return self.effect.data if self.effect is not None else NoData


class Recipient(StrEnum):
    """Who a notification goes to, by role; the notify layer resolves roles to addresses."""

    candidate = "candidate"
    hiring_manager = "hiring_manager"
    recruiter = "recruiter"
    approvers = "approvers"
    interviewers = "interviewers"
    referees = "referees"
    on_behalf_of = "on_behalf_of"
    """The person an event was fired for by someone else (``fire(..., on_behalf_of=...)``);
    nobody when the actor acted for themselves."""


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """When a notification is due, to whom, and with which template.

    A rule fires on any of ``events`` (activities included), on entering any of ``stages``,
    or when the service-level deadline of kind ``deadline`` falls due; the notification is due
    ``delay_days`` business days later (0: at once). ``template`` names a template of the
    notify layer. ``records`` names the activity written into the application's history once
    the notification is sent (``thank_you_sent``), which closes the deadline it answers.
    """

    name: str
    template: str
    to: Recipient
    events: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    deadline: str | None = None
    delay_days: int = 0
    description: str = ""
    records: str | None = None
