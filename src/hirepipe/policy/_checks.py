"""Checks a policy definition as a whole: every problem found at once, each with where it is.

:class:`~hirepipe.policy.Policy` runs these when it is built and raises one
:class:`~hirepipe.errors.PolicyError` listing them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from hirepipe.errors import PolicyProblem
from hirepipe.policy._specs import ACTIVE, ANY, OPEN, PREVIOUS, Recipient

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy
    from hirepipe.policy._specs import EventSpec, StageSpec

__all__ = ["problems_of"]

_SELECTORS = (ANY, OPEN, ACTIVE)


def problems_of(
    policy: Policy, stages: Sequence[StageSpec], events: Sequence[EventSpec]
) -> list[PolicyProblem]:
    """Return every problem of the definition: names, references, the graph and the rules."""
    return _check(policy, stages, events) + _check_rules(policy)


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


def _check_rules(policy: Policy) -> list[PolicyProblem]:
    """Return the problems of the notification rules: unknown events, stages, roles."""
    problems = _duplicates("notifications", [rule.name for rule in policy.notifications])
    for rule in policy.notifications:
        where = f"notifications.{rule.name}"
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
        if rule.delay_days < 0:
            problems.append(PolicyProblem(f"{where}.delay_days", "must be 0 or more"))
    return problems


def _duplicates(where: str, names: Sequence[str]) -> list[PolicyProblem]:
    seen: set[str] = set()
    problems = []
    for name in names:
        if name in seen:
            problems.append(PolicyProblem(where, f"{name!r} is defined twice; rename one"))
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
    reached = {policy.initial}
    frontier = [policy.initial]
    while frontier:
        for nxt in edges[frontier.pop()]:
            if nxt not in reached:
                reached.add(nxt)
                frontier.append(nxt)
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
    return problems
