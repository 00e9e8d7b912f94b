"""Derive a new policy from an existing one; the original is never changed.

Each function returns a new, validated [`Policy`][hirepipe.policy.Policy] (or raises
[`PolicyError`][hirepipe.errors.PolicyError]); [`Policy`][hirepipe.policy._derive.Policy]
exposes them as ``with_*`` methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from hirepipe.errors import PolicyError, PolicyProblem
from hirepipe.policy._specs import (
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

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy

__all__ = [
    "rebuild",
    "replace_stage",
    "with_event",
    "with_guard",
    "with_permissions",
    "with_setting",
    "with_stage",
    "without_event",
    "without_stage",
]

_SELECTOR = "@"


def rebuild(policy: Policy, **parts: Any) -> Policy:
    """Return a policy like ``policy`` with some constructor arguments replaced."""
    arguments: dict[str, Any] = {
        "name": policy.name,
        "version": policy.version,
        "initial": policy.initial,
        "stages": list(policy.stages.values()),
        "events": list(policy.events.values()),
        "settings": policy.settings,
        "rejection_reasons": dict(policy.rejection_reasons),
        "notifications": list(policy.notifications),
    }
    arguments.update(parts)
    return type(policy)(**arguments)


def _problem(where: str, message: str) -> PolicyError:
    return PolicyError([PolicyProblem(where, message)])


def _forward(policy: Policy, stage: str) -> list[EventSpec]:
    """The events that move an application on from ``stage`` to another active stage."""
    return [
        event
        for event in policy.events.values()
        if stage in event.sources
        and event.dest not in (None, PREVIOUS, stage)
        and policy.stage(event.dest or "").kind is StageKind.active
    ]


def with_stage(
    policy: Policy,
    stage: StageSpec,
    *,
    after: str | None = None,
    event: str | None = None,
    guards: Sequence[GuardSpec] = (),
) -> Policy:
    """Add ``stage``; with ``after``, insert it between that stage and what followed it.

    The application leaves ``after`` by a new event (``event``, default ``start_<stage>``,
    guarded by ``guards``) into the new stage, and every event that used to move it on from
    ``after`` to another active stage (with its guards, effects and notifications) now moves it
    on from the new stage instead. Guards that check the work of ``after``
    (``GuardSpec.checks``) move to the new event, the way out of it. Activities and endings
    stay where they were. A new stage
    with no role takes the role of ``after`` (a check after the references is in flight too).
    Without ``after``, add events with ``with_event``.
    """
    stages = list(policy.stages.values())
    if after is None:
        return rebuild(policy, stages=[*stages, stage])
    if after not in policy.stages:
        raise _problem(f"with_stage(after={after!r})", f"unknown stage {after!r}")
    if stage.name in policy.stages:
        raise _problem(f"with_stage({stage.name!r})", f"the policy has a stage {stage.name!r}")
    forward = _forward(policy, after)
    if not forward:
        raise _problem(
            f"with_stage(after={after!r})",
            f"nothing moves an application on from {after!r} to insert the stage before; "
            "insert it by hand with with_event",
        )
    name = event or f"start_{stage.name}"
    if name in policy.events:
        raise _problem(f"with_stage(event={name!r})", f"the policy has an event {name!r}")
    before = policy.stage(after)
    inserted = stage if stage.role is not None else replace(stage, role=before.role)
    if inserted.forward is None and before.forward is not None:
        inserted = replace(inserted, forward=before.forward)
    position = [s.name for s in stages].index(after) + 1
    stages = [replace(s, forward=name) if s.name == after and s.forward else s for s in stages]
    stages.insert(position, inserted)
    # guards that check the work of ``after`` (scorecards for a debrief) guard the way out of
    # it, which is now the new event; the others stay with the events they guard
    checking = {g.name: g for e in forward for g in e.guards if g.checks == after}
    events = [
        replace(
            e,
            sources=tuple(stage.name if s == after else s for s in e.sources),
            guards=tuple(g for g in e.guards if g.checks != after),
        )
        if e in forward
        else e
        for e in policy.events.values()
    ]
    events.append(
        EventSpec(
            name=name,
            sources=(after,),
            dest=stage.name,
            guards=(*checking.values(), *(g for g in guards if g.name not in checking)),
            description=f"on to {stage.name}",
            # whoever moved an application on from `after` moves it into the new stage
            fired_by=tuple(dict.fromkeys(role for e in forward for role in e.fired_by)),
        )
    )
    return rebuild(policy, stages=stages, events=events)


def replace_stage(policy: Policy, name: str, /, **changes: Any) -> Policy:
    """Change fields of stage ``name`` (``role``, ``service``, ``duration``...), not its name."""
    if name not in policy.stages:
        raise _problem(f"replace_stage({name!r})", f"unknown stage {name!r}")
    if "name" in changes:
        raise _problem(f"replace_stage({name!r})", "a stage keeps its name; events refer to it")
    try:
        stages = [replace(s, **changes) if s.name == name else s for s in policy.stages.values()]
    except TypeError as error:
        raise _problem(f"replace_stage({name!r})", str(error)) from None
    return rebuild(policy, stages=stages)


def without_stage(policy: Policy, name: str) -> Policy:
    """Remove stage ``name`` and rewire around it.

    The events that moved an application on from the stage now fire from the stages that led
    into it, guarded by the guards of the events they replace as well as their own, and fired
    by the roles that fired those events as well as their own (the slate's system actor that
    asked for an approval now moves a candidate on where there is none); guards that
    check the removed stage's work (``GuardSpec.checks``) go with it, and so do the events
    that led only into the stage (their effects with them), activities that were possible only
    there, and notification rules that mention only what was removed.
    """
    if name not in policy.stages:
        raise _problem(f"without_stage({name!r})", f"unknown stage {name!r}")
    if name == policy.initial:
        raise _problem(f"without_stage({name!r})", "cannot remove the initial stage")
    incoming = [e for e in policy.events.values() if e.dest == name]
    forward = _forward(policy, name)
    if incoming and not forward:
        raise _problem(f"without_stage({name!r})", "nothing leads on from it to rewire to")
    before = tuple(dict.fromkeys(s for e in incoming for s in e.sources))
    inherited = [g for e in incoming for g in e.guards]
    fired_by = [role for e in incoming for role in e.fired_by]
    on_behalf = [role for e in incoming for role in e.on_behalf]
    events = []
    for event in policy.events.values():
        if event in incoming:
            continue
        sources = tuple(s for s in event.sources if s != name)
        guards = event.guards
        by, for_others = event.fired_by, event.on_behalf
        if event in forward:
            sources = tuple(dict.fromkeys((*before, *sources)))
            guards = tuple({g.name: g for g in (*inherited, *event.guards)}.values())
            by = tuple(dict.fromkeys((*by, *fired_by)))
            for_others = tuple(dict.fromkeys((*for_others, *on_behalf)))
        guards = tuple(g for g in guards if g.checks != name)
        if sources:
            events.append(
                replace(event, sources=sources, guards=guards, fired_by=by, on_behalf=for_others)
            )
    kept = {e.name for e in events}
    rules = []
    for rule in policy.notifications:
        trimmed = replace(
            rule,
            events=tuple(e for e in rule.events if e in kept),
            stages=tuple(s for s in rule.stages if s != name),
        )
        if trimmed.events or trimmed.stages or trimmed.deadline:
            rules.append(trimmed)
    # a stage that went on by an event into the removed one now goes on by the removed one's,
    # declared where it now has several ways on (the debrief, once the review is gone)
    onward = policy.forward(name)
    gone = {e.name for e in incoming}
    stages = [
        replace(s, forward=None) if s.forward in gone else s
        for s in policy.stages.values()
        if s.name != name
    ]
    derived = rebuild(policy, stages=stages, events=events, notifications=rules)
    undecided = {
        s.name
        for s in stages
        if policy.forward(s.name) in gone
        and derived.forward(s.name) is None
        and onward in {e.name for e in _forward(derived, s.name)}
    }
    if not undecided:
        return derived
    stages = [replace(s, forward=onward) if s.name in undecided else s for s in stages]
    return rebuild(derived, stages=stages)


def with_event(policy: Policy, event: EventSpec) -> Policy:
    """Add ``event``, or replace the event of the same name."""
    events = [e for e in policy.events.values() if e.name != event.name]
    if event.name in policy.events:
        position = list(policy.events).index(event.name)
        events.insert(position, event)
    else:
        events.append(event)
    return rebuild(policy, events=events)


def without_event(policy: Policy, name: str) -> Policy:
    """Remove event ``name`` and the notification rules that fired only on it."""
    if name not in policy.events:
        raise _problem(f"without_event({name!r})", f"unknown event {name!r}")
    rules = []
    for rule in policy.notifications:
        trimmed = replace(rule, events=tuple(e for e in rule.events if e != name))
        if trimmed.events or trimmed.stages or trimmed.deadline:
            rules.append(trimmed)
    return rebuild(
        policy,
        events=[e for e in policy.events.values() if e.name != name],
        notifications=rules,
    )


def with_permissions(
    policy: Policy,
    event: str,
    *,
    fired_by: Sequence[str] | None = None,
    on_behalf: Sequence[str] | None = None,
) -> Policy:
    """Replace the roles that may fire ``event``, and those that may fire it for another."""
    if event not in policy.events:
        raise _problem(f"with_permissions({event!r})", f"unknown event {event!r}")
    spec = policy.events[event]
    if isinstance(fired_by, str) or isinstance(on_behalf, str):
        raise _problem(
            f"with_permissions({event!r})", "give roles as a list: fired_by=['recruiter']"
        )
    return with_event(
        policy,
        replace(
            spec,
            fired_by=spec.fired_by if fired_by is None else tuple(fired_by),
            on_behalf=spec.on_behalf if on_behalf is None else tuple(on_behalf),
        ),
    )


def with_guard(
    policy: Policy, event: str, guard: Guard | GuardSpec, *, name: str | None = None
) -> Policy:
    """Add a guard to ``event``; a plain function is named by ``name`` or its ``__name__``."""
    if event not in policy.events:
        raise _problem(f"with_guard({event!r})", f"unknown event {event!r}")
    if not isinstance(guard, GuardSpec):
        try:
            guard = GuardSpec.of(guard, name=name)
        except ValueError as error:
            raise _problem(f"with_guard({event!r})", f"{error} (name=...)") from None
    spec = policy.events[event]
    return with_event(policy, replace(spec, guards=(*spec.guards, guard)))


def with_setting(policy: Policy, **settings: Any) -> Policy:
    """Replace settings by name; an unknown name or a wrong type raises PolicyError."""
    try:
        merged = PolicySettings.model_validate({**policy.settings.model_dump(), **settings})
    except ValidationError as error:
        raise PolicyError(
            [
                PolicyProblem(f"settings.{'.'.join(str(p) for p in e['loc'])}", e["msg"])
                for e in error.errors(include_url=False)
            ]
        ) from None
    return rebuild(policy, settings=merged)


def with_notifications(policy: Policy, rules: Iterable[NotificationRule]) -> Policy:
    """Add notification rules, replacing rules of the same name."""
    new = {rule.name: rule for rule in rules}
    kept = [r for r in policy.notifications if r.name not in new]
    return rebuild(policy, notifications=[*kept, *new.values()])


def with_rejection_reasons(policy: Policy, reasons: dict[str, RejectionSide | str]) -> Policy:
    """Add rejection reasons to the taxonomy, each with its side."""
    merged = dict(policy.rejection_reasons)
    for reason, side in reasons.items():
        try:
            merged[reason] = RejectionSide(side)
        except ValueError:
            raise _problem(
                f"rejection_reasons.{reason}", f"{side!r} is not a side: company or candidate"
            ) from None
    return rebuild(policy, rejection_reasons=merged)
