"""Approval chains: steps in sequence, each needing k of its n approvers, as Greenhouse runs them.

The chain is the requisition's ``approval_chain``, or, when it names none, its ``approvers``
split into sequential steps by company size (the policy's ``approval_steps``). Decisions are the
application's ``approvals`` (the latest per approver counts) after its ``substitutions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from hirepipe.models import Application, ApprovalStep, Requisition
from hirepipe.policy import PolicySettings

__all__ = [
    "StepState",
    "approval_round",
    "chain_of",
    "chain_state",
    "current_step",
    "pay_steps_covering",
]


def chain_of(requisition: Requisition, settings: PolicySettings) -> tuple[ApprovalStep, ...]:
    """Return the requisition's approval chain (its own, or its approvers split by size)."""
    if requisition.approval_chain:
        return requisition.approval_chain
    if not requisition.approvers:
        return ()
    count = settings.approval_steps.get(str(requisition.company_size), 1)
    return _split(tuple(requisition.approvers), count)


@lru_cache(maxsize=1024)
def _split(people: tuple[str, ...], count: int) -> tuple[ApprovalStep, ...]:
    """The approvers in ``count`` sequential steps, each needing all of its approvers."""
    count = min(max(count, 1), len(people))
    size, extra = divmod(len(people), count)
    steps, start = [], 0
    for index in range(count):
        end = start + size + (1 if index < extra else 0)
        steps.append(ApprovalStep(name=f"step-{index + 1}", approvers=tuple(people[start:end])))
        start = end
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class StepState:
    """Where one step stands for one application."""

    step: ApprovalStep
    approvers: tuple[str, ...]  # after substitutions
    granted: tuple[str, ...]
    denied: tuple[str, ...]

    @property
    def pending(self) -> tuple[str, ...]:
        """Approvers who have not decided."""
        return tuple(p for p in self.approvers if p not in self.granted and p not in self.denied)

    @property
    def satisfied(self) -> bool:
        """Whether enough approvers granted."""
        return len(self.granted) >= self.step.needed

    @property
    def impossible(self) -> bool:
        """Whether too many denied for the step ever to be granted."""
        return len(self.approvers) - len(self.denied) < self.step.needed


def _approvers(application: Application, step: ApprovalStep) -> tuple[str, ...]:
    people = list(step.approvers)
    for substitution in application.substitutions:
        if substitution.step == step.name and substitution.absent in people:
            people[people.index(substitution.absent)] = substitution.substitute
    return tuple(people)


def chain_state(
    application: Application,
    requisition: Requisition,
    settings: PolicySettings,
    *,
    since: datetime | None = None,
) -> list[StepState]:
    """Return the state of each step, counting decisions made at or after ``since``."""
    latest = {
        a.approver: a for a in application.approvals if since is None or a.decided_at >= since
    }
    states = []
    for step in chain_of(requisition, settings):
        people = _approvers(application, step)
        decided = [latest[p] for p in people if p in latest]
        states.append(
            StepState(
                step=step,
                approvers=people,
                granted=tuple(a.approver for a in decided if a.granted),
                denied=tuple(a.approver for a in decided if not a.granted),
            )
        )
    return states


def current_step(states: Sequence[StepState]) -> StepState | None:
    """Return the first step not yet granted, or ``None`` when the whole chain is."""
    return next((state for state in states if not state.satisfied), None)


def pay_steps_covering(
    application: Application,
    requisition: Requisition,
    settings: PolicySettings,
    *,
    amount: Decimal,
    currency: str,
    since: datetime,
) -> list[StepState]:
    """Return the pay steps NOT yet re-granted, since ``since``, for ``amount`` in ``currency``.

    A pay step counts as re-granted when enough of its approvers' latest decisions since
    ``since`` grant a band covering the amount (a later denial withdraws an earlier grant).
    An empty list means every pay step covers the new pay.
    """
    latest = {a.approver: a for a in application.approvals if a.decided_at >= since}
    open_steps = []
    for state in chain_state(application, requisition, settings):
        if not state.step.covers_pay:
            continue
        covering = [
            p
            for p in state.approvers
            if p in latest
            and latest[p].granted
            and latest[p].band is not None
            and latest[p].band.contains(amount, currency)  # type: ignore[union-attr]
        ]
        if len(covering) < state.step.needed:
            # as far as the new pay goes, only the covering grants count
            open_steps.append(StepState(state.step, state.approvers, tuple(covering), ()))
    return open_steps


def approval_round(application: Application) -> datetime | None:
    """When the application's current approval round began: its latest ``request_approval``.

    Decisions made before it (for an earlier round, or another requisition) do not count.
    """
    for record in reversed(application.history):
        if record.event == "request_approval":
            return record.at
    return None
