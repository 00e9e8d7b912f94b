"""A declarative policy: stages, events, guards, effects and settings.

A :class:`Policy` is plain, immutable data. Guards and effects are named callables, so a policy
can be described in a file and resolved against a registry; the engine
(:mod:`hirepipe._machine`, :mod:`hirepipe.pipeline`) compiles it and never changes it.

A guard takes a :class:`Context` and yields :class:`~hirepipe.errors.Blocker` objects, one per
reason the event cannot fire; it yields nothing when the event may fire. An effect takes the
same context and returns a :class:`Change`: the application fields to replace, derived facts
to keep in the history record, and requisition fields to replace. Effects never mutate
anything themselves; the engine applies a change whole or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Final

import pendulum
from pydantic import BaseModel, ConfigDict, Field

from hirepipe.errors import Blocker, PolicyError, PolicyProblem
from hirepipe.models import Application, Requisition

if TYPE_CHECKING:
    from hirepipe.registry import Registry

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
    "Policy",
    "PolicySettings",
    "RejectionSide",
    "StageKind",
    "StageSpec",
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
    """Base class of the data an event accepts; unknown keys are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def value(self, name: str, default: Any = None) -> Any:
        """Return field ``name``, or ``default`` when this event's data has no such field.

        Guards shared by several events use this instead of ``getattr(data, name, None)``:
        a missing attribute on a Pydantic model costs microseconds, on every event.
        """
        return self.__dict__.get(name, default)


class NoData(EventData):
    """The data of an event that takes none."""


class PolicySettings(BaseModel):
    """The numbers a policy runs by. Durations are in business days unless named otherwise."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_rounds: int = Field(default=3, ge=1, strict=True)
    """Interview rounds an application may have, the first included."""
    hire_threshold: float = Field(default=0.5, ge=-2, le=2)
    """The mean scorecard score (-2 strong_no .. 2 strong_yes) a debrief needs to recommend."""
    required_references: int = Field(default=2, ge=0, strict=True)
    """Completed, satisfactory references an offer needs."""
    offer_validity_days: int = Field(default=21, ge=1, strict=True)
    """Calendar days an offer stays valid when ``extend_offer`` names no ``valid_until``.

    21 calendar days (15 business days) covers the published mean decision window of 14.1
    business days (NACE 2012); a shorter default would expire most offers before the answer.
    """
    thank_you_days: int = Field(default=1, ge=0, strict=True)
    """Business days after each interview round by which the candidate is thanked."""
    scorecard_days: int = Field(default=1, ge=0, strict=True)
    """Business days after an interview by which every scorecard is due."""
    update_cadence_days: int = Field(default=5, ge=1, strict=True)
    """The longest a waiting candidate goes without an update, in business days."""
    reference_check_days: int = Field(default=7, ge=1, strict=True)
    """Business days reference checks may take (the prior's mean share is about 6)."""
    review_days: int = Field(default=10, ge=1, strict=True)
    """Business days a slate review may take (the prior's mean share is about 8.5)."""
    approval_days: int = Field(default=5, ge=1, strict=True)
    """Business days each approval step may take (the prior's mean share is about 4.8)."""
    approval_steps: dict[str, int] = Field(
        default_factory=lambda: {"small": 1, "medium": 1, "large": 2, "enterprise": 3}
    )
    """Sequential steps a requisition's approvers are split into, by company size, when the
    requisition names no ``approval_chain``: larger companies approve in longer chains."""
    runner_ups: int = Field(default=2, ge=0, strict=True)
    """Candidates kept warm in the talent pool when a requisition is filled; the rest are
    rejected (``role_filled``)."""
    warm_days: int = Field(default=180, ge=1, strict=True)
    """Calendar days a runner-up stays in the talent pool."""
    ranking: str = "mean_recommendation"
    """How a slate is ranked: a name from :data:`hirepipe.slate.RANKINGS`."""


@dataclass(slots=True)
class Context:
    """What a guard or an effect sees: the application, the event and its data, and time.

    Treat it as read-only. (It is not a frozen dataclass only because a frozen one costs a
    microsecond more to build, on every event.)

    ``actor`` is ``None`` only when :meth:`hirepipe.Pipeline.blockers` is asked without one.
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


@dataclass(frozen=True, slots=True)
class Change:
    """What an effect changes: replaced fields and derived facts for the record."""

    application: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    record_data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    requisition: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)


Guard = Callable[[Context], Iterable[Blocker]]
"""A guard yields one Blocker per reason the event cannot fire, and nothing when it can."""
Effect = Callable[[Context], Change]
"""An effect returns the change an event makes; it must not mutate anything."""


@dataclass(frozen=True, slots=True)
class GuardSpec:
    """A named guard and what it checks, for diagrams and error messages.

    ``checks`` names the stage whose work the guard checks (``references_ready`` checks the
    ``references`` stage); :meth:`Policy.without_stage` drops such guards with their stage.
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
        label = name or getattr(check, "__name__", "")
        if not label or label == "<lambda>":
            raise ValueError("name the guard: a lambda has no name to write in a policy")
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
    """A stage of the lifecycle."""

    name: str
    kind: StageKind = StageKind.active
    description: str = ""

    @property
    def terminal(self) -> bool:
        """Whether the application has ended for its requisition in this stage."""
        return self.kind is StageKind.terminal


@dataclass(frozen=True, slots=True)
class EventSpec:
    """An event: where it may fire from, where it leads, what guards it and what it changes.

    ``sources`` holds stage names or the selectors :data:`ANY`, :data:`OPEN` and
    :data:`ACTIVE`. ``dest`` is a stage name, :data:`PREVIOUS` (back to where a hold began), or
    ``None`` for an activity, which changes no stage but is recorded. ``retarget`` lets the
    event move the application to the requisition passed with it (``reactivate``).
    """

    name: str
    sources: tuple[str, ...]
    dest: str | None
    guards: tuple[GuardSpec, ...] = ()
    effect: EffectSpec | None = None
    description: str = ""
    retarget: bool = False

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


@dataclass(frozen=True, slots=True)
class NotificationRule:
    """When a notification is due, to whom, and with which template.

    A rule fires on any of ``events`` (activities included), on entering any of ``stages``,
    or when the service-level deadline of kind ``deadline`` falls due; the notification is due
    ``delay_days`` business days later (0: at once). ``template`` names a template of the
    notify layer.
    """

    name: str
    template: str
    to: Recipient
    events: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    deadline: str | None = None
    delay_days: int = 0
    description: str = ""


class Policy:
    """An immutable, validated lifecycle definition.

    Construction checks the whole definition and raises :class:`~hirepipe.errors.PolicyError`
    listing every problem at once. ``rejection_reasons`` maps each reason name to the side that
    ends the application.
    """

    __slots__ = (
        "_events",
        "_events_from",
        "_sources",
        "_stages",
        "initial",
        "label",
        "name",
        "notifications",
        "rejection_reasons",
        "settings",
        "version",
    )

    def __init__(
        self,
        *,
        name: str,
        version: str,
        stages: Sequence[StageSpec],
        initial: str,
        events: Sequence[EventSpec],
        settings: PolicySettings | None = None,
        rejection_reasons: Mapping[str, RejectionSide] | None = None,
        notifications: Sequence[NotificationRule] = (),
    ) -> None:
        self.name = name
        self.version = version
        self.label = f"{name}@{version}"
        """``name@version``, as written into every TransitionRecord."""
        self.initial = initial
        self.settings = settings if settings is not None else PolicySettings()
        self.rejection_reasons: Mapping[str, RejectionSide] = MappingProxyType(
            dict(rejection_reasons or {})
        )
        self._stages: Mapping[str, StageSpec] = MappingProxyType({s.name: s for s in stages})
        self._events: Mapping[str, EventSpec] = MappingProxyType({e.name: e for e in events})
        self.notifications: tuple[NotificationRule, ...] = tuple(notifications)
        from hirepipe._policy_checks import problems_of  # beside us: it reads our types

        problems = problems_of(self, stages, events)
        if problems:
            raise PolicyError(problems)
        self._sources: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {e.name: self._expand(e.sources) for e in events}
        )
        by_stage: dict[str, list[str]] = {s.name: [] for s in stages}
        for event in events:
            for source in self._sources[event.name]:
                by_stage[source].append(event.name)
        self._events_from: Mapping[str, tuple[str, ...]] = MappingProxyType(
            {stage: tuple(names) for stage, names in by_stage.items()}
        )

    @property
    def stages(self) -> Mapping[str, StageSpec]:
        """The stages by name, in definition order."""
        return self._stages

    @property
    def events(self) -> Mapping[str, EventSpec]:
        """The events (activities included) by name, in definition order."""
        return self._events

    def stage(self, name: str) -> StageSpec:
        """Return the stage called ``name``; raise ``KeyError`` if there is none."""
        return self._stages[name]

    def sources(self, event: str) -> tuple[str, ...]:
        """Return the stages ``event`` may fire from, selectors expanded."""
        return self._sources[event]

    def events_from(self, stage: str) -> tuple[str, ...]:
        """Return the names of the events (activities included) defined from ``stage``."""
        return self._events_from.get(stage, ())

    def destinations(self, event: str) -> tuple[str, ...]:
        """Return every stage ``event`` can lead to (the source itself for an activity)."""
        spec = self._events[event]
        if spec.dest is None:
            return self._sources[event]
        if spec.dest == PREVIOUS:
            return self._expand((ACTIVE,))
        return (spec.dest,)

    def is_terminal(self, stage: str) -> bool:
        """Whether ``stage`` is terminal."""
        return self._stages[stage].terminal

    def _expand(self, sources: Iterable[str]) -> tuple[str, ...]:
        names: dict[str, None] = {}
        for source in sources:
            if source == ANY:
                names.update(dict.fromkeys(self._stages))
            elif source == OPEN:
                names.update({s: None for s, spec in self._stages.items() if not spec.terminal})
            elif source == ACTIVE:
                names.update(
                    {s: None for s, spec in self._stages.items() if spec.kind is StageKind.active}
                )
            else:
                names[source] = None
        return tuple(names)

    # -- as data ------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, document: Mapping[str, Any], *, registry: Registry | None = None) -> Policy:
        """Build a policy from a document: plain data as :meth:`to_dict` returns it.

        Guard and effect names resolve through ``registry`` (default: the standard one).
        Raises :class:`~hirepipe.errors.PolicyError` listing every problem, and nothing else.
        """
        from hirepipe._policy_io import load_dict

        return load_dict(document, registry=registry)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, registry: Registry | None = None) -> Policy:
        """Load a policy from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

        Raises :class:`~hirepipe.errors.PolicyError` (with the file and key of each problem)
        for anything wrong, from a missing file to an unknown guard, and nothing else.
        """
        from hirepipe._policy_io import load_file

        return load_file(path, registry=registry)

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain data; ``Policy.from_dict`` reads it back to an equal one."""
        from hirepipe._policy_io import to_dict

        return to_dict(self)

    def to_toml(self) -> str:
        """Return the policy as a TOML document that :meth:`from_file` reads back."""
        from hirepipe._policy_io import dump_toml, to_dict

        return dump_toml(to_dict(self))

    def registry(self) -> Registry:
        """Return a registry of the standard guards and effects and every one this policy uses.

        ``Policy.from_dict(p.to_dict(), registry=p.registry())`` rebuilds ``p`` whatever
        custom guards it carries.
        """
        from hirepipe.registry import Registry, standard_registry

        own = Registry(
            guards=[g for e in self._events.values() for g in e.guards],
            effects=[e.effect for e in self._events.values() if e.effect is not None],
        )
        return standard_registry().merged(own)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        # the documents name guards and effects; the callables behind the names must match too
        return self.to_dict() == other.to_dict() and all(
            mine.guards == theirs.guards and mine.effect == theirs.effect
            for mine, theirs in zip(self._events.values(), other._events.values(), strict=True)
        )

    __hash__ = None  # type: ignore[assignment]  # equal policies compare by content

    # -- deriving ------------------------------------------------------------------------------

    def named(self, name: str, version: str) -> Policy:
        """Return this policy under another name and version (records carry both)."""
        from hirepipe._derive import rebuild

        return rebuild(self, name=name, version=version)

    def with_stage(
        self,
        stage: StageSpec | str,
        *,
        after: str | None = None,
        event: str | None = None,
        guards: Sequence[GuardSpec | Guard] = (),
        kind: StageKind = StageKind.active,
        description: str = "",
    ) -> Policy:
        """Return a policy with another stage; with ``after``, on the way out of that stage.

        With ``after="debrief"``, the events that moved an application on from the debrief
        lead to the new stage instead, and a new event (``event``, default
        ``complete_<stage>``, guarded by ``guards``) leads on from it to where they led.
        """
        from hirepipe._derive import with_stage

        spec = stage if isinstance(stage, StageSpec) else StageSpec(stage, kind, description)
        try:
            specs = [g if isinstance(g, GuardSpec) else GuardSpec.of(g) for g in guards]
        except ValueError as error:
            raise PolicyError([PolicyProblem("with_stage(guards=...)", str(error))]) from None
        return with_stage(self, spec, after=after, event=event, guards=specs)

    def without_stage(self, name: str) -> Policy:
        """Return a policy without stage ``name``, its events rewired around it.

        The events that moved an application on from the stage fire from the stages that led
        into it, with the guards of the events that led in; guards that check the removed
        stage (``GuardSpec.checks``) and activities only possible there go with it.
        """
        from hirepipe._derive import without_stage

        return without_stage(self, name)

    def with_event(self, event: EventSpec) -> Policy:
        """Return a policy with ``event`` added, or replacing the event of its name."""
        from hirepipe._derive import with_event

        return with_event(self, event)

    def without_event(self, name: str) -> Policy:
        """Return a policy without event ``name``."""
        from hirepipe._derive import without_event

        return without_event(self, name)

    def with_guard(
        self, event: str, guard: Guard | GuardSpec, *, name: str | None = None
    ) -> Policy:
        """Return a policy whose ``event`` is also guarded by ``guard``."""
        from hirepipe._derive import with_guard

        return with_guard(self, event, guard, name=name)

    def with_setting(self, **settings: Any) -> Policy:
        """Return a policy with settings replaced (``with_setting(update_cadence_days=5)``)."""
        from hirepipe._derive import with_setting

        return with_setting(self, **settings)

    def with_notifications(self, *rules: NotificationRule) -> Policy:
        """Return a policy with notification rules added (replacing rules of the same name)."""
        from hirepipe._derive import with_notifications

        return with_notifications(self, rules)

    def with_rejection_reasons(self, **reasons: RejectionSide | str) -> Policy:
        """Return a policy whose rejection taxonomy has more reasons (``name=side``)."""
        from hirepipe._derive import with_rejection_reasons

        return with_rejection_reasons(self, reasons)

    # -- pictures ------------------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """Return the lifecycle as a Mermaid ``stateDiagram-v2`` (GitHub renders it)."""
        from hirepipe._diagram import to_mermaid

        return to_mermaid(self)

    def to_dot(self) -> str:
        """Return the lifecycle as a Graphviz ``digraph``."""
        from hirepipe._diagram import to_dot

        return to_dot(self)

    def __repr__(self) -> str:
        return (
            f"Policy({self.label!r}, {len(self._stages)} stages, "
            f"{len(self._events)} events, initial={self.initial!r})"
        )
