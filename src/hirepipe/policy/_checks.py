"""Checks a policy definition as a whole: every problem found at once, each with where it is.

Names are unique, every reference resolves, every stage is reachable from the initial one,
and every active or pooled stage has a way on to a terminal stage (an application can end).

[`Policy`][hirepipe.policy.Policy] runs these when it is built and raises one
[`PolicyError`][hirepipe.errors.PolicyError] listing them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from pydantic import BaseModel

from hirepipe._types import identifier_problem, personal_problems
from hirepipe.errors import PolicyProblem
from hirepipe.policy._permissions import Role
from hirepipe.policy._roles import (
    RULE_DEADLINES,
    Duration,
    FollowUp,
    Owner,
    ServiceLevel,
    StageRole,
)
from hirepipe.policy._specs import (
    ACTIVE,
    ANY,
    OPEN,
    PREVIOUS,
    EventData,
    PolicySettings,
    Recipient,
    StageKind,
)

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy
    from hirepipe.policy._specs import EventSpec, StageSpec

__all__ = ["MAX_DELAY_DAYS", "problems_of"]

MAX_DELAY_DAYS = 260
"""The longest a notification rule may wait, in business days: a working year."""

_SELECTORS = (ANY, OPEN, ACTIVE)
_ROLE_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def problems_of(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return every problem of the definition: names, references, the graph and the rules."""
    found = (
        _check_names(policy, stages, events)
        + _check(policy, stages, events)
        + _check_rules(policy)
        + _check_roles(policy, stages, events)
        + _check_permissions(policy.settings, events)
        + _check_data_models(events)
        + _check_follow_ups(stages, events)
    )
    return found or _forward_loops(stages, events)  # a loop is news only in a sound graph


def _check(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return every problem of a definition; empty when it can work."""
    problems: list[PolicyProblem] = []
    problems += _duplicates("stages", [s.name for s in stages])
    problems += _duplicates("events", [e.name for e in events])
    stage_names = {s.name for s in stages}
    for name in stage_names:
        if not name or name.startswith("@"):
            problems.append(
                PolicyProblem(
                    f"stages.{name}", "a stage name must be non-empty and not start with '@'"
                )
            )
    if policy.initial not in stage_names:
        problems.append(
            PolicyProblem(
                "initial", f"initial stage {policy.initial!r} is not a stage of the policy"
            )
        )
    if not any(s.terminal for s in stages):
        problems.append(PolicyProblem("stages", "no terminal stage: add one (e.g. 'rejected')"))
    for event in events:
        where = f"events.{event.name}"
        if not event.sources:
            problems.append(PolicyProblem(f"{where}.sources", "the event has no source stage"))
        problems += _listed_twice(f"{where}.sources", event.sources)
        # a guard asked twice says each of its blockers twice
        problems += _listed_twice(f"{where}.guards", [guard.name for guard in event.guards])
        for source in event.sources:
            if source not in stage_names and source not in _SELECTORS:
                problems.append(
                    PolicyProblem(f"{where}.sources", f"unknown stage {source!r}; define it first")
                )
        if event.dest is not None and event.dest != PREVIOUS and event.dest not in stage_names:
            problems.append(
                PolicyProblem(f"{where}.dest", f"unknown stage {event.dest!r}; define it first")
            )
    if problems:
        return problems  # reachability needs a consistent graph
    return _check_graph(policy, stages, events)


def _check_names(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return the names a record or a store could not hold: the identifier rules.

    Stage and event names, rejection reasons and the ``name@version`` label are written into
    every record as identifiers
    ([`hirepipe.models.identifier_problem`][hirepipe.models.identifier_problem]); a name that
    breaks the rules would fire in memory and then fail to load. Names starting with ``@`` are
    hirepipe's own (selectors, the erasure record).
    """
    problems: list[PolicyProblem] = []
    named = [
        # an empty stage name is reported with the other stage checks
        *((f"stages.{stage.name}", stage.name) for stage in stages if stage.name),
        *((f"events.{event.name}", event.name) for event in events),
        *((f"rejection_reasons.{reason}", reason) for reason in policy.rejection_reasons),
    ]
    for where, name in named:
        problem = identifier_problem(name) if isinstance(name, str) else "not a string"
        if problem is not None:
            problems.append(PolicyProblem(where, problem))
    for event in events:
        if event.name.startswith("@"):
            problems.append(
                PolicyProblem(f"events.{event.name}", "'@' is reserved for hirepipe's own names")
            )
    problem = identifier_problem(policy.label)
    if problem is not None:
        problems.append(PolicyProblem("label", f"name@version {policy.label!r}: {problem}"))
    return problems


def _check_rules(policy: Policy) -> list[PolicyProblem]:
    """Return the problems of the notification rules: unknown events, stages, roles."""
    problems = _duplicates("notifications", [rule.name for rule in policy.notifications])
    for rule in policy.notifications:
        where = f"notifications.{rule.name}"
        problems += _listed_twice(f"{where}.events", rule.events)
        problems += _listed_twice(f"{where}.stages", rule.stages)
        for event in rule.events:
            if event not in policy.events:
                problems.append(PolicyProblem(f"{where}.events", f"unknown event {event!r}"))
        for stage in rule.stages:
            if stage not in policy.stages:
                problems.append(PolicyProblem(f"{where}.stages", f"unknown stage {stage!r}"))
        if not (rule.events or rule.stages or rule.deadline):
            problems.append(
                PolicyProblem(where, "the rule never fires: give events, stages or a deadline")
            )
        if rule.to not in Recipient.__members__:
            problems.append(
                PolicyProblem(
                    f"{where}.to",
                    f"unknown recipient {rule.to!r}; use one of {', '.join(Recipient)}",
                )
            )
        recorded = policy.events.get(rule.records) if rule.records is not None else None
        if rule.records is not None and (
            recorded is None or recorded.dest is not None or ANY not in recorded.sources
        ):
            problems.append(
                PolicyProblem(
                    f"{where}.records",
                    f"{rule.records!r} is not an activity that fires from any stage "
                    f"(sources {ANY!r}); a sent notification is recorded by one",
                )
            )
        if not 0 <= rule.delay_days <= MAX_DELAY_DAYS:
            problems.append(
                PolicyProblem(
                    f"{where}.delay_days", f"must be 0 to {MAX_DELAY_DAYS} (business days)"
                )
            )
    return problems


def _check_permissions(
    settings: PolicySettings, events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return the problems of who may fire each event, and erase: no role, or a role's name."""
    granted = [(f"events.{e.name}.fired_by", e.fired_by, "fire it") for e in events]
    granted += [(f"events.{e.name}.on_behalf", e.on_behalf, "") for e in events]
    granted.append(("settings.erased_by", settings.erased_by, "erase a candidate's data"))
    problems = []
    for where, roles, what in granted:
        if what and not roles:
            problems.append(
                PolicyProblem(where, f"nobody may {what}: name a role ({', '.join(Role)})")
            )
        for role in roles:
            if not isinstance(role, str) or not _ROLE_NAME.fullmatch(role):
                problems.append(
                    PolicyProblem(
                        where,
                        f"{role!r} is not a role name: letters, digits, '_' and '-' "
                        f"(the standard roles: {', '.join(Role)})",
                    )
                )
    return problems


_BYPASSED: Final = ("__init__", "model_validate", "model_validate_json", "model_validate_strings")
"""What the engine never calls: it validates with the model's own compiled validator, as
Pydantic does for a nested model, so an override of these would be skipped."""


def _check_data_models(events: Sequence[EventSpec]) -> list[PolicyProblem]:
    """Return the data models the engine would mishandle: validation or erasure skipped.

    Pydantic's hooks for this are validators (``model_validator``, ``field_validator``): they
    run wherever the model is validated. An override of ``model_validate`` (or ``__init__``)
    runs only when called by name. A personal value inside a generic hirepipe does not walk
    (``hirepipe._types.HOLDERS``), or a personal dict key, would be kept by an erasure.
    """
    problems = []
    seen: set[type[EventData]] = set()
    for event in events:
        model = event.data_model
        if model in seen or not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue  # the spec itself refuses a data model that is no model
        seen.add(model)
        problems += [
            PolicyProblem(f"events.{event.name}.data", problem)
            for problem in personal_problems(model)
        ]
        for klass in model.__mro__:
            if klass is EventData or klass is BaseModel:
                break
            overridden = [name for name in _BYPASSED if name in vars(klass)]
            if overridden:
                names = ", ".join(overridden)
                problems.append(
                    PolicyProblem(
                        f"events.{event.name}.data",
                        f"{klass.__name__} overrides {names}, which hirepipe never calls (it "
                        "validates with the model's compiled validator, as Pydantic does for a "
                        "nested model): move that code into a @model_validator(mode='before') "
                        "or a @field_validator",
                    )
                )
                break
    return problems


def _duplicates(where: str, names: Sequence[str]) -> list[PolicyProblem]:
    """Things defined under one name twice (stages, events, rules)."""
    return _twice(where, names, "is defined twice; rename one")


def _listed_twice(where: str, names: Sequence[str]) -> list[PolicyProblem]:
    """A list that means a set (stages, events, guards) naming one of them twice."""
    return _twice(where, names, "is listed twice; list it once")


def _twice(where: str, names: Sequence[str], said: str) -> list[PolicyProblem]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append(PolicyProblem(where, f"{name!r} {said}"))
        seen.add(name)
    return problems


def _check_graph(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    problems: list[PolicyProblem] = []
    edges: dict[str, set[str]] = {s.name: set() for s in stages}
    resumes: set[str] = set()  # stages a resume leads out of (back to where a hold began)
    for event in events:
        if event.dest is None:
            continue
        for source in policy._expand(event.sources):
            if event.dest == PREVIOUS:
                resumes.add(source)  # only back to a stage already reached: no reach from it
            else:
                edges[source].add(event.dest)
    reached = {policy.initial} | _reach(policy.initial, edges)
    can_end = _can_end(stages, edges)
    for spec in stages:
        if spec.name not in reached:
            problems.append(
                PolicyProblem(
                    f"stages.{spec.name}",
                    f"unreachable from {policy.initial!r}: add an event that leads to it",
                )
            )
        if not spec.terminal and not (edges[spec.name] - {spec.name}) and spec.name not in resumes:
            problems.append(
                PolicyProblem(
                    f"stages.{spec.name}",
                    "a non-terminal stage with no way out: add an event from it, "
                    "or make it terminal",
                )
            )
        elif spec.kind in _MUST_END and spec.name not in can_end:
            ahead = _reach(spec.name, edges)
            problems.append(
                PolicyProblem(
                    f"stages.{spec.name}",
                    "no way from here to a terminal stage (it leads only to: "
                    f"{', '.join(s.name for s in stages if s.name in ahead)}); add an event "
                    "from one of them to a terminal stage, e.g. a rejection from @open",
                )
            )
    return problems


def _fires_from(event: EventSpec, stage: StageSpec) -> bool:
    """Whether ``event`` may fire from ``stage``, selectors included."""
    for source in event.sources:
        if source == stage.name or source == ANY:
            return True
        if source == OPEN and not stage.terminal:
            return True
        if source == ACTIVE and stage.kind is StageKind.active:
            return True
    return False


_INTEGER_SETTINGS = frozenset(
    name for name, field in PolicySettings.model_fields.items() if field.annotation is int
)


def _check_roles(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """The stage roles: each consistent with its stage's kind, and naming what exists."""
    problems: list[PolicyProblem] = []
    kinds = {s.name: s.kind for s in stages}
    hired = {s.name for s in stages if s.role is StageRole.hired}
    by_name = {e.name: e for e in events}
    for stage in stages:
        where = f"stages.{stage.name}"
        malformed = _malformed(stage)
        if malformed:
            problems += malformed
            continue
        role = stage.role
        if role is StageRole.hired and not stage.terminal:
            problems.append(
                PolicyProblem(f"{where}.role", "only a terminal stage can have the role 'hired'")
            )
        elif role not in (None, StageRole.hired) and stage.kind is not StageKind.active:
            problems.append(
                PolicyProblem(
                    f"{where}.role",
                    f"the role {str(role)!r} needs an active stage, not a {stage.kind} one",
                )
            )
        if stage.service is not None:
            problems += _days_problems(f"{where}.service.days", stage.service.days)
            problems += _service_problems(stage, stage.service, events, hired)
        if stage.duration is not None:
            problems += [
                PolicyProblem(f"{where}.duration", message) for message in stage.duration.problems()
            ]
        if stage.forward is not None:
            event = by_name.get(stage.forward)
            if event is None or not _fires_from(event, stage):
                problems.append(
                    PolicyProblem(
                        f"{where}.forward",
                        f"{stage.forward!r} is not an event that fires from {stage.name!r}",
                    )
                )
            elif kinds.get(event.dest or "") is not StageKind.active or event.dest == stage.name:
                problems.append(
                    PolicyProblem(
                        f"{where}.forward",
                        f"{stage.forward!r} does not lead on to another active stage",
                    )
                )
        total = 0.0
        for name, chance in stage.exits:
            event = by_name.get(name)
            if event is None or not _fires_from(event, stage) or event.dest is None:
                problems.append(
                    PolicyProblem(
                        f"{where}.exits",
                        f"{name!r} is not an event that leads out of {stage.name!r}",
                    )
                )
            if (
                isinstance(chance, bool)
                or not isinstance(chance, int | float)
                or not (0 <= chance <= 1)
            ):
                problems.append(
                    PolicyProblem(f"{where}.exits.{name}", f"a chance from 0 to 1, not {chance!r}")
                )
            else:
                total += chance
        if total > 1 + 1e-9:
            problems.append(
                PolicyProblem(f"{where}.exits", f"the chances add up to {total:g}, more than 1")
            )
    flying = [s.name for s in stages if s.role is StageRole.in_flight]
    if flying and not hired:
        problems.append(
            PolicyProblem(
                "stages",
                f"{', '.join(flying)} hold the headcount (role in_flight) but no terminal stage "
                "has the role 'hired': the slate would take a hire for a fall-through; give "
                "the stage an accepted offer ends in role='hired'",
            )
        )
    return problems


def _forward_loops(stages: Sequence[StageSpec], events: Sequence[EventSpec]) -> list[PolicyProblem]:
    """Forward events that go round among review stages, where the slate would loop for ever.

    The slate brings a runner-up forward through the review stages by their forward events. Each
    stage's forward is as [`Policy.forward`][hirepipe.policy.Policy.forward] finds it: the
    declared event, else the one event on to another active stage.
    """
    active = {s.name for s in stages if s.kind is StageKind.active}
    reviewing = {s.name for s in stages if s.role is StageRole.review}
    by_name = {e.name: e for e in events}
    onward: dict[str, str] = {}
    for stage in stages:
        if stage.name not in reviewing:
            continue
        declared = by_name.get(stage.forward) if stage.forward is not None else None
        ways = (
            [declared]
            if declared is not None
            else [
                e
                for e in events
                if e.dest in active and e.dest != stage.name and _fires_from(e, stage)
            ]
        )
        if len(ways) == 1 and ways[0].dest in reviewing:
            onward[stage.name] = ways[0].dest
    problems: list[PolicyProblem] = []
    seen: set[str] = set()  # stages whose way on was followed already
    for start in onward:
        path: list[str] = []
        current: str | None = start
        while current is not None and current not in path and current not in seen:
            path.append(current)
            current = onward.get(current)
        seen.update(path)
        if current is None or current not in path:
            continue  # it leads out, or into a way followed before
        loop = path[path.index(current) :]
        problems.append(
            PolicyProblem(
                f"stages.{loop[0]}.forward",
                f"the forward events of the review stages go round in a loop "
                f"({' -> '.join([*loop, loop[0]])}); declare a forward on one of them that "
                "leads on",
            )
        )
    return problems


def _days_problems(where: str, days: object) -> list[PolicyProblem]:
    """What is wrong with a service level's business days: a number, or a setting's name."""
    if isinstance(days, str):
        if days not in _INTEGER_SETTINGS:
            return [
                PolicyProblem(
                    where,
                    f"{days!r} is not a whole-number setting; use a number of business "
                    f"days or one of {', '.join(sorted(_INTEGER_SETTINGS))}",
                )
            ]
    elif isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 3_650:
        return [
            PolicyProblem(
                where, f"business days must be a whole number from 0 to 3650, not {days!r}"
            )
        ]
    return []


def _check_follow_ups(
    stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return the problems of what events leave owed (``EventSpec.follow_up``)."""
    stage_names = {s.name for s in stages}
    event_names = {e.name for e in events}
    problems: list[PolicyProblem] = []
    for event in events:
        follow_up = event.follow_up
        if follow_up is None:
            continue
        where = f"events.{event.name}.follow_up"
        if not isinstance(follow_up, FollowUp):
            problems.append(PolicyProblem(where, f"a FollowUp, not {follow_up!r}"))
            continue
        if not isinstance(follow_up.owner, Owner):
            problems.append(
                PolicyProblem(f"{where}.owner", _not_a("owner", follow_up.owner, Owner))
            )
        problems += _days_problems(f"{where}.days", follow_up.days)
        code = follow_up.deadline
        if not isinstance(code, str) or not code:
            problems.append(PolicyProblem(f"{where}.deadline", "give the deadline a kind code"))
        elif code in RULE_DEADLINES:
            problems.append(
                PolicyProblem(
                    f"{where}.deadline",
                    f"{code!r} is the code of another deadline; give this one its own code",
                )
            )
        # names outside the policy are ignored (a derived policy may drop an event), but a
        # deadline that nothing can close would stay overdue for ever
        if not any(name in event_names for name in follow_up.closed_by):
            problems.append(
                PolicyProblem(
                    f"{where}.closed_by",
                    "name at least one event of the policy that closes the deadline",
                )
            )
        unknown = [name for name in follow_up.stages if name not in stage_names]
        if unknown:
            problems.append(
                PolicyProblem(f"{where}.stages", f"unknown stages: {', '.join(unknown)}")
            )
        if follow_up.unless is not None and follow_up.unless not in event.data_model.model_fields:
            problems.append(
                PolicyProblem(
                    f"{where}.unless",
                    f"{follow_up.unless!r} is not a field of {event.data_model.__name__}",
                )
            )
    return problems


def _malformed(stage: StageSpec) -> list[PolicyProblem]:
    """Role fields holding the wrong kind of value (from code; documents are typed on load)."""
    where = f"stages.{stage.name}"
    found = []
    for field, kind, label in (("kind", StageKind, "kind"), ("role", StageRole, "role")):
        value = getattr(stage, field)
        if not isinstance(value, kind) and not (field == "role" and value is None):
            found.append((f"{where}.{field}", _not_a(label, value, kind)))
    service = stage.service
    if service is not None and not isinstance(service, ServiceLevel):
        found.append((f"{where}.service", f"a ServiceLevel, not {service!r}"))
    elif service is not None and not isinstance(service.owner, Owner):
        found.append((f"{where}.service.owner", _not_a("owner", service.owner, Owner)))
    elif service is not None and not (
        isinstance(service.owes, str) and isinstance(service.deadline, str | None)
    ):
        found.append((f"{where}.service", "deadline is a code or None, owes a text"))
    if stage.duration is not None and not isinstance(stage.duration, Duration):
        found.append((f"{where}.duration", f"a Duration, not {stage.duration!r}"))
    if stage.updates is not None and not isinstance(stage.updates, bool):
        found.append((f"{where}.updates", f"True, False or None, not {stage.updates!r}"))
    if not isinstance(stage.exits, tuple) or not all(
        isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str)
        for pair in stage.exits
    ):
        found.append((f"{where}.exits", f"(event, chance) pairs, not {stage.exits!r}"))
    return [PolicyProblem(at, message) for at, message in found]


def _not_a(label: str, value: object, kind: type[StrEnum]) -> str:
    article = "an" if label[0] in "aeiou" else "a"
    return f"{value!r} is not {article} {label}; use one of {', '.join(kind)}"


def _service_problems(
    stage: StageSpec, service: ServiceLevel, events: Sequence[EventSpec], hired: set[str]
) -> list[PolicyProblem]:
    """What a service level promises that the layers above could not keep."""
    where = f"stages.{stage.name}.service"
    if service.owner is Owner.candidate:
        # the candidate's deadline is the offer's valid-until, and the estimator's answer
        # milestone ends the stage: only an offer the candidate can accept means that
        if not any(_fires_from(e, stage) and e.dest in hired for e in events):
            return [
                PolicyProblem(
                    f"{where}.owner",
                    "the candidate owes only the answer to an offer (a stage with a way into "
                    "a 'hired' stage); for work a candidate hands in, such as a take-home, "
                    "use 'outside' (the hiring manager chases it)",
                )
            ]
        return []
    code = service.deadline or stage.name
    if code in RULE_DEADLINES:
        return [
            PolicyProblem(
                f"{where}.deadline",
                f"{code!r} is the code of another deadline; give the stage's deadline its own code",
            )
        ]
    return []


_MUST_END = frozenset({StageKind.active, StageKind.pool})
"""Stages an application must be able to leave for good. A paused stage resumes where the
hold began, so it ends when that stage can."""


def _reach(start: str, edges: dict[str, set[str]]) -> set[str]:
    """Return the stages reachable from ``start`` in one or more steps."""
    found: set[str] = set()
    frontier = [start]
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in found:
                found.add(nxt)
                frontier.append(nxt)
    return found


def _can_end(stages: Sequence[StageSpec], edges: dict[str, set[str]]) -> set[str]:
    """Return the stages from which some path leads to a terminal stage (those included).

    ``resume`` edges are left out: they lead back to where a hold began, which is no way on.
    """
    into: dict[str, set[str]] = {s.name: set() for s in stages}
    for source, targets in edges.items():
        for target in targets:
            into[target].add(source)
    ending = {s.name for s in stages if s.terminal}
    frontier = list(ending)
    while frontier:
        for previous in into[frontier.pop()]:
            if previous not in ending:
                ending.add(previous)
                frontier.append(previous)
    return ending
