"""The standard policy's options in a simulation: which a policy has, and the policy to build.

A [`Scenario`][hirepipe.simulate.Scenario] turns options on by name (``options=``); the
simulator then builds ``standard_policy(**options)`` when no policy is given, and checks that a
policy given has exactly the options the scenario names, so that the runner drives every event
the policy's guards wait for. The options are those of
[`STANDARD_OPTIONS`][hirepipe.standard.STANDARD_OPTIONS] and ``structured_scorecards``.
"""

from __future__ import annotations

from collections.abc import Callable

from hirepipe.errors import SimulationError
from hirepipe.policy import Policy, ScorecardScheme
from hirepipe.standard import STANDARD_OPTIONS, standard_policy
from hirepipe.standard._background import BACKGROUND_STAGES

__all__ = [
    "DEFAULT_SCHEME",
    "OPTIONS",
    "SCORECARDS",
    "check_options",
    "options_of",
    "options_policy",
]

SCORECARDS = "structured_scorecards"
OPTIONS: tuple[str, ...] = (*STANDARD_OPTIONS, SCORECARDS)
"""Every option a scenario may turn on, in the order ``--help`` lists them."""

DEFAULT_SCHEME = ScorecardScheme(
    categories=["skills", "qualifications", "traits"],
    attributes=[
        {"name": "python", "category": "skills"},
        {"name": "system_design", "category": "skills"},
        {"name": "domain_experience", "category": "qualifications"},
        {"name": "communication", "category": "traits"},
    ],
    scale=[1, 2, 3, 4],
    focus={
        1: ["python", "communication"],
        2: ["system_design", "domain_experience"],
        3: ["communication"],
    },
)
"""The example scheme of ``docs/scorecards.md`` (an engineering role), used when a scenario turns
structured scorecards on without naming a scheme; rounds past 3 have no focus attributes."""


def _has_event_guard(event: str, guard: str) -> Callable[[Policy], bool]:
    def found(policy: Policy) -> bool:
        spec = policy.events.get(event)
        return spec is not None and any(g.name == guard for g in spec.guards)

    return found


_PRESENT: dict[str, Callable[[Policy], bool]] = {
    "position_approval": _has_event_guard("approve", "offer_approvals_granted"),
    "background_check": lambda p: (
        set(BACKGROUND_STAGES) <= set(p.stages) and "send_pre_adverse_notice" in p.events
    ),
    "offer_signatures": _has_event_guard("accept", "offer_signatures_complete"),
    "feedback_requests": lambda p: "request_feedback" in p.events,
    "keep_in_touch_from_rejection": _has_event_guard("keep_warm", "warm_until_within_warm_days"),
    "next_round_scheduling": lambda p: "request_availability" in p.events,
    SCORECARDS: _has_event_guard("complete_debrief", "focus_attributes_rated"),
}


def options_of(policy: Policy) -> frozenset[str]:
    """The standard options ``policy`` has on, recognised by the events and guards they add."""
    return frozenset(name for name in OPTIONS if _PRESENT[name](policy))


def options_policy(options: tuple[str, ...], scheme: ScorecardScheme | None) -> Policy:
    """``standard_policy`` with ``options`` on (structured scorecards with ``scheme``)."""
    on = frozenset(options)
    return standard_policy(
        structured_scorecards=(scheme or DEFAULT_SCHEME) if SCORECARDS in on else None,
        position_approval="position_approval" in on,
        background_check="background_check" in on,
        offer_signatures="offer_signatures" in on,
        feedback_requests="feedback_requests" in on,
        keep_in_touch_from_rejection="keep_in_touch_from_rejection" in on,
        next_round_scheduling="next_round_scheduling" in on,
    )


def check_options(policy: Policy, options: tuple[str, ...]) -> None:
    """Refuse a policy without exactly the scenario's options: the runner drives only those.

    Raises [`SimulationError`][hirepipe.errors.SimulationError] naming what to change.
    """
    have = options_of(policy)
    missing = [name for name in options if name not in have]
    if missing:
        raise SimulationError(
            f"the scenario turns on {', '.join(missing)}, which {policy.label} does not have: "
            "options are the standard policy's; give no policy (the simulator builds "
            "standard_policy with the scenario's options) or one built with them"
        )
    unnamed = [name for name in OPTIONS if name in have and name not in options]
    if unnamed:
        raise SimulationError(
            f"{policy.label} has the option{'s' if len(unnamed) > 1 else ''} "
            f"{', '.join(unnamed)} on, which the scenario does not name: add "
            f"Scenario(options={{{', '.join(map(repr, unnamed))}}}) so the simulator drives "
            "its events"
        )
