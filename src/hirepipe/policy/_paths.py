"""Every simple path through a policy, from the initial stage to where applications end.

``paths(policy)`` lets a company assert, in one test, that every way through its custom policy
is reachable and ends where it should (walk them with
[`hirepipe.testing.walk`][hirepipe.testing.walk]).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hirepipe.errors import PolicyError, PolicyProblem
from hirepipe.policy._policy import Policy
from hirepipe.policy._specs import PREVIOUS

__all__ = ["Path", "paths"]


@dataclass(frozen=True, slots=True)
class Path:
    """A way through a policy: the events fired in order and the stages they lead through.

    ``stages`` starts with the initial stage, so it is one longer than ``events``.
    """

    events: tuple[str, ...]
    stages: tuple[str, ...]

    @property
    def end(self) -> str:
        """The stage the path ends in."""
        return self.stages[-1]

    def __str__(self) -> str:
        steps = "".join(f" -{e}-> {s}" for e, s in zip(self.events, self.stages[1:], strict=True))
        return f"{self.stages[0]}{steps}"


def paths(
    policy: Policy, *, to: str | Iterable[str] | None = None, limit: int = 100_000
) -> list[Path]:
    """Return every simple path from the initial stage to a terminal stage.

    A simple path enters no stage twice; it stops at the first terminal stage it reaches (the
    application has ended for its requisition there). ``resume`` leads back to the stage the
    hold began in, which the path has already entered, so it never appears. ``to`` keeps the
    paths that end in the given stage(s). More than ``limit`` paths raise PolicyError: the
    policy is too tangled to enumerate.
    """
    wanted = {to} if isinstance(to, str) else set(to) if to is not None else None
    if wanted is not None:
        unknown = sorted(wanted - set(policy.stages))
        if unknown:
            raise PolicyError([PolicyProblem("paths(to=...)", f"unknown stages {unknown}")])
    moves: dict[str, list[tuple[str, str]]] = {stage: [] for stage in policy.stages}
    for name, spec in policy.events.items():
        if spec.dest is None or spec.dest == PREVIOUS:
            continue
        for source in policy.sources(name):
            moves[source].append((name, spec.dest))
    found: list[Path] = []
    # depth-first, iterative: stack of (stage, events so far, stages so far)
    stack: list[tuple[str, tuple[str, ...], tuple[str, ...]]] = [
        (policy.initial, (), (policy.initial,))
    ]
    while stack:
        stage, events, stages = stack.pop()
        if policy.is_terminal(stage) and events:
            if wanted is None or stage in wanted:
                found.append(Path(events, stages))
                if len(found) > limit:
                    raise PolicyError(
                        [PolicyProblem("paths", f"more than {limit} simple paths; narrow with to=")]
                    )
            continue
        for event, dest in reversed(moves[stage]):
            if dest not in stages:
                stack.append((dest, (*events, event), (*stages, dest)))
    return found
