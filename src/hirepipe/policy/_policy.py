"""The [`Policy`][hirepipe.policy.Policy]: an immutable, validated lifecycle definition.

```python
policy = standard_policy().with_setting(update_cadence_days=3)
policy.to_toml()
```

A policy is plain data. Guards and effects are named callables, so a policy can be written in
a file and resolved against a registry; the engine compiles it and never changes it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import Any, ClassVar

from hirepipe.errors import PolicyError, PolicyProblem
from hirepipe.policy import _derive, _diagram, _io
from hirepipe.policy._checks import problems_of
from hirepipe.policy._registry import Registry, default_registry
from hirepipe.policy._roles import FollowUp, Owner, StageRole
from hirepipe.policy._specs import (
    ACTIVE,
    ANY,
    OPEN,
    PREVIOUS,
    EventSpec,
    Guard,
    GuardSpec,
    NotificationRule,
    PolicySettings,
    RejectionSide,
    StageKind,
    StageSpec,
)

__all__ = ["Policy"]


class Policy:
    """An immutable, validated lifecycle definition.

    Construction checks the whole definition and raises [`PolicyError`][hirepipe.errors.PolicyError]
    listing every problem at once. ``rejection_reasons`` maps each reason name to the side that
    ends the application.
    """

    __slots__ = (
        "_events",
        "_events_from",
        "_follow_ups",
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
        self.name: str = name
        self.version: str = version
        self.label: str = f"{name}@{version}"
        """``name@version``, as written into every TransitionRecord."""
        self.initial: str = initial
        self.settings: PolicySettings = settings if settings is not None else PolicySettings()
        self.rejection_reasons: Mapping[str, RejectionSide] = MappingProxyType(
            dict(rejection_reasons or {})
        )
        self._stages: Mapping[str, StageSpec] = MappingProxyType({s.name: s for s in stages})
        self._events: Mapping[str, EventSpec] = MappingProxyType({e.name: e for e in events})
        self.notifications: tuple[NotificationRule, ...] = tuple(notifications)
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
        self._follow_ups: Mapping[str, FollowUp] = MappingProxyType(
            {e.name: e.follow_up for e in events if e.follow_up is not None}
        )

    @property
    def stages(self) -> Mapping[str, StageSpec]:
        """The stages by name, in definition order."""
        return self._stages

    @property
    def events(self) -> Mapping[str, EventSpec]:
        """The events (activities included) by name, in definition order."""
        return self._events

    @property
    def follow_ups(self) -> Mapping[str, FollowUp]:
        """What each event that leaves something owed leaves: a ``FollowUp`` by event name."""
        return self._follow_ups

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

    # -- stage roles ---------------------------------------------------------------------------

    def stages_in(self, *roles: StageRole) -> frozenset[str]:
        """Return the names of the stages whose role is one of ``roles``."""
        return frozenset(s for s, spec in self._stages.items() if spec.role in roles)

    def forward(self, stage: str) -> str | None:
        """Return the event that moves an application on from ``stage`` when its work is done.

        The stage's declared ``forward``, else the one event from it to another active stage;
        ``None`` when there is no such event, or several and none declared.
        """
        spec = self._stages[stage]
        if spec.forward is not None:
            return spec.forward
        ways = self._ways_on(stage)
        return ways[0] if len(ways) == 1 else None

    def _ways_on(self, stage: str) -> list[str]:
        found = []
        for name in self.events_from(stage):
            dest = self._events[name].dest
            if dest in (None, PREVIOUS, stage) or dest not in self._stages:
                continue
            if self._stages[dest].kind is StageKind.active:
                found.append(name)
        return found

    def service_days(self, stage: str) -> int | None:
        """Return the business days the stage's service level allows; ``None`` without one."""
        service = self._stages[stage].service
        if service is None:
            return None
        days = service.days
        value = getattr(self.settings, days) if isinstance(days, str) else days
        return int(value)

    def fell_through(self, stage: str) -> bool:
        """Whether ``stage`` ends an application without filling a headcount."""
        spec = self._stages[stage]
        return spec.terminal and spec.role is not StageRole.hired

    def main_path(self, stage: str) -> tuple[str, ...]:
        """Return the stages from ``stage`` to the candidate's answer along the forward events.

        The path ends with the first stage the candidate owes (an offer out), or where no
        forward event leads on; a stage is never visited twice. Empty for a stage that is not
        active.
        """
        path: list[str] = []
        current: str | None = stage
        while current is not None and current not in path:
            spec = self._stages[current]
            if spec.kind is not StageKind.active:
                break
            path.append(current)
            if spec.service is not None and spec.service.owner is Owner.candidate:
                break
            event = self.forward(current)
            current = self._events[event].dest if event is not None else None
        return tuple(path)

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
        """Build a policy from a document: plain data as ``to_dict`` returns it.

        Guard and effect names resolve through ``registry`` (default: the standard one).
        Raises [`PolicyError`][hirepipe.errors.PolicyError] listing every problem, and nothing else.
        """
        return _io.load_dict(cls, document, registry=registry)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], *, registry: Registry | None = None) -> Policy:
        """Load a policy from a ``.toml``, ``.yaml``/``.yml`` or ``.json`` file.

        Raises [`PolicyError`][hirepipe.errors.PolicyError] (with the file and key of each problem)
        for anything wrong, from a missing file to an unknown guard, and nothing else.
        """
        return _io.load_file(cls, path, registry=registry)

    def to_dict(self) -> dict[str, Any]:
        """Return the policy as plain data; ``Policy.from_dict`` reads it back to an equal one."""
        return _io.to_dict(self)

    def to_toml(self) -> str:
        """Return the policy as a TOML document that ``from_file`` reads back."""
        return _io.dump_toml(_io.to_dict(self))

    def registry(self) -> Registry:
        """Return a registry of the standard guards and effects and every one this policy uses.

        ``Policy.from_dict(p.to_dict(), registry=p.registry())`` rebuilds ``p`` whatever
        custom guards it carries.
        """
        own = Registry(
            guards=[g for e in self._events.values() for g in e.guards],
            effects=[e.effect for e in self._events.values() if e.effect is not None],
        )
        return default_registry().merged(own)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Policy):
            return NotImplemented
        # the documents name guards and effects; the callables behind the names must match too
        return self.to_dict() == other.to_dict() and all(
            mine.guards == theirs.guards and mine.effect == theirs.effect
            for mine, theirs in zip(self._events.values(), other._events.values(), strict=True)
        )

    __hash__: ClassVar[None] = None  # type: ignore[assignment]  # equal policies compare by content

    def __reduce__(self) -> tuple[Any, ...]:
        # pickled by its parts (worker processes get policies this way); its read-only views
        # are rebuilt by the constructor, which checks the definition again
        parts = {
            "name": self.name,
            "version": self.version,
            "initial": self.initial,
            "stages": list(self._stages.values()),
            "events": list(self._events.values()),
            "settings": self.settings,
            "rejection_reasons": dict(self.rejection_reasons),
            "notifications": list(self.notifications),
        }
        return (_restore, (type(self), parts))

    # -- deriving ------------------------------------------------------------------------------

    def named(self, name: str, version: str) -> Policy:
        """Return this policy under another name and version (records carry both)."""
        return _derive.rebuild(self, name=name, version=version)

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
        """Return a policy with another stage; with ``after``, between it and what followed it.

        With ``after="references"``, the application leaves the references by a new event
        (``event``, default ``start_<stage>``, guarded by ``guards``) into the new stage, and the
        events that moved it on from the references (``extend_offer``, its effect and its
        notifications) now move it on from the new stage. ``without_stage`` undoes it.
        """
        spec = stage if isinstance(stage, StageSpec) else StageSpec(stage, kind, description)
        try:
            specs = [g if isinstance(g, GuardSpec) else GuardSpec.of(g) for g in guards]
        except ValueError as error:
            raise PolicyError([PolicyProblem("with_stage(guards=...)", str(error))]) from None
        return _derive.with_stage(self, spec, after=after, event=event, guards=specs)

    def replace_stage(self, name: str, /, **changes: Any) -> Policy:
        """Return a policy whose stage ``name`` has some fields changed.

        ``standard_policy().replace_stage("review", service=ServiceLevel(5))`` gives the
        review a five-day service level; the stage keeps its name and its events.
        """
        return _derive.replace_stage(self, name, **changes)

    def without_stage(self, name: str) -> Policy:
        """Return a policy without stage ``name``, its events rewired around it.

        The events that moved an application on from the stage fire from the stages that led
        into it, with the guards of the events that led in; guards that check the removed
        stage (``GuardSpec.checks``) and activities only possible there go with it.
        """
        return _derive.without_stage(self, name)

    def with_event(self, event: EventSpec) -> Policy:
        """Return a policy with ``event`` added, or replacing the event of its name."""
        return _derive.with_event(self, event)

    def without_event(self, name: str) -> Policy:
        """Return a policy without event ``name``."""
        return _derive.without_event(self, name)

    def with_permissions(
        self,
        event: str,
        *,
        fired_by: Sequence[str] | None = None,
        on_behalf: Sequence[str] | None = None,
    ) -> Policy:
        """Return a policy in which ``event`` is fired by other roles, or for others by them.

        ``fired_by`` replaces the roles that may fire it; ``on_behalf`` the roles that may
        fire it for a person who holds one of those (``()``: nobody acts for another). Either
        left ``None`` stays as it was. ``with_permissions("accept", on_behalf=["recruiter"])``
        lets a recruiter record a candidate's acceptance given by phone.
        """
        return _derive.with_permissions(self, event, fired_by=fired_by, on_behalf=on_behalf)

    def with_guard(
        self, event: str, guard: Guard | GuardSpec, *, name: str | None = None
    ) -> Policy:
        """Return a policy whose ``event`` is also guarded by ``guard``."""
        return _derive.with_guard(self, event, guard, name=name)

    def with_setting(self, **settings: Any) -> Policy:
        """Return a policy with settings replaced (``with_setting(update_cadence_days=5)``)."""
        return _derive.with_setting(self, **settings)

    def with_notifications(self, *rules: NotificationRule) -> Policy:
        """Return a policy with notification rules added (replacing rules of the same name)."""
        return _derive.with_notifications(self, rules)

    def with_rejection_reasons(self, **reasons: RejectionSide | str) -> Policy:
        """Return a policy whose rejection taxonomy has more reasons (``name=side``)."""
        return _derive.with_rejection_reasons(self, reasons)

    # -- pictures ------------------------------------------------------------------------------

    def to_mermaid(self) -> str:
        """Return the lifecycle as a Mermaid ``stateDiagram-v2`` (GitHub renders it)."""
        return _diagram.to_mermaid(self)

    def to_dot(self) -> str:
        """Return the lifecycle as a Graphviz ``digraph``."""
        return _diagram.to_dot(self)

    def __repr__(self) -> str:
        return (
            f"Policy({self.label!r}, {len(self._stages)} stages, "
            f"{len(self._events)} events, initial={self.initial!r})"
        )


def _restore(cls: type[Policy], parts: dict[str, Any]) -> Policy:
    """Rebuild a pickled policy from its parts."""
    return cls(**parts)
