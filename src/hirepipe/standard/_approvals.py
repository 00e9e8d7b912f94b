"""Approval chains (steps in sequence, each needing k of its n approvers) and their guards.

The chain is the requisition's ``approval_chain``, or, when it names none, its ``approvers``
split into sequential steps by company size (the policy's ``approval_steps``). Decisions are the
application's ``approvals`` (the latest per approver counts) after its ``substitutions``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import lru_cache

from hirepipe.errors import Blocker
from hirepipe.models import Application, Approval, ApprovalStep, Band, Requisition, Substitution
from hirepipe.policy import Context, PolicySettings

__all__ = [
    "StepState",
    "absent_approver_in_chain",
    "approval_round",
    "approvals_granted",
    "approved_band",
    "approver_in_chain",
    "chain_of",
    "chain_state",
    "current_step",
    "has_pay_steps",
    "no_band_blocker",
    "pay_inside_band",
    "pay_outside_blocker",
    "pay_steps_covering",
    "reopened_pay_steps",
    "steps_state",
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


@dataclass(frozen=True, slots=True, init=False)
class StepState:
    """Where one step stands for one application."""

    step: ApprovalStep
    approvers: tuple[str, ...]  # after substitutions
    granted: tuple[str, ...]
    denied: tuple[str, ...]

    def __init__(
        self,
        step: ApprovalStep,
        approvers: tuple[str, ...],
        granted: tuple[str, ...],
        denied: tuple[str, ...],
    ) -> None:
        # written out: each slot set by its own descriptor, as object.__setattr__ (what the
        # frozen dataclass's own calls) checks its arguments each time; the approval guards
        # build one per step on every event
        _set_step(self, step)
        _set_approvers(self, approvers)
        _set_granted(self, granted)
        _set_denied(self, denied)

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


_set_step, _set_approvers, _set_granted, _set_denied = (
    StepState.__dict__[name].__set__ for name in ("step", "approvers", "granted", "denied")
)


def _approvers(substitutions: Sequence[Substitution], step: ApprovalStep) -> tuple[str, ...]:
    people = list(step.approvers)
    for substitution in substitutions:
        if substitution.step == step.name and substitution.absent in people:
            people[people.index(substitution.absent)] = substitution.substitute
    return tuple(people)


def steps_state(
    steps: Sequence[ApprovalStep],
    approvals: Sequence[Approval],
    substitutions: Sequence[Substitution] = (),
    *,
    since: datetime | None = None,
) -> list[StepState]:
    """Return the state of each of ``steps``, counting ``approvals`` made at or after ``since``."""
    latest = {a.approver: a for a in approvals if since is None or a.decided_at >= since}
    states = []
    for step in steps:
        people = _approvers(substitutions, step) if substitutions else step.approvers
        granted: list[str] = []
        denied: list[str] = []
        for person in people:  # loops, no generators: the approval guards run this per event
            decision = latest.get(person)
            if decision is not None:
                (granted if decision.granted else denied).append(person)
        states.append(StepState(step, people, tuple(granted), tuple(denied)))
    return states


def chain_state(
    application: Application,
    requisition: Requisition,
    settings: PolicySettings,
    *,
    since: datetime | None = None,
) -> list[StepState]:
    """Return the state of each step, counting decisions made at or after ``since``."""
    return steps_state(
        chain_of(requisition, settings),
        application.approvals,
        application.substitutions,
        since=since,
    )


def current_step(states: Sequence[StepState]) -> StepState | None:
    """Return the first step not yet granted, or ``None`` when the whole chain is."""
    return next((state for state in states if not state.satisfied), None)


def out_of_order(
    approver: str, mine: Sequence[StepState], states: Sequence[StepState]
) -> Iterator[Blocker]:
    """``approver``'s steps (``mine``, of ``states``) all come after the chain's current step.

    The chain decides in order: a later step's approver waits until the steps before are
    granted (``approval_out_of_order``).
    """
    current = current_step(states)
    if current is not None and all(states.index(s) > states.index(current) for s in mine):
        yield Blocker(
            "approval_out_of_order",
            f"{approver!r} decides in step {mine[0].step.name!r}, which opens once step "
            f"{current.step.name!r} is granted",
            {"approver": approver, "step": mine[0].step.name, "current": current.step.name},
        )


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


# -- the guards on approvals and bands ---------------------------------------------------------


def approvals_granted(ctx: Context) -> Iterator[Blocker]:
    """Every approver of the requisition granted approval for this application."""
    requisition = ctx.requisition
    if requisition is None:
        yield Blocker(
            "requisition_required",
            "pass the requisition to check its approvers",
            needs_input=True,
        )
        return
    states = chain_state(
        ctx.application, requisition, ctx.settings, since=approval_round(ctx.application)
    )
    for state in states:
        if state.impossible:
            yield Blocker(
                "approval_denied",
                f"approval denied by {', '.join(list(state.denied))} (step {state.step.name!r})",
                {"denied": list(state.denied), "step": state.step.name},
            )
            return
    waiting = current_step(states)
    if waiting is not None:
        short = waiting.step.needed - len(waiting.granted)
        later = len(states) - states.index(waiting) - 1
        after = f"; {later} more step{'s' if later > 1 else ''} after it" if later else ""
        where = "" if len(states) == 1 else f" (step {waiting.step.name!r}{after})"
        yield Blocker(
            "approvals_missing",
            f"{short} of {waiting.step.needed} approvals missing: "
            f"{', '.join(list(waiting.pending))}{where}",
            {
                "missing": list(waiting.pending),
                "expected": waiting.step.needed,
                "step": waiting.step.name,
                "steps_after": later,
            },
        )


def approved_band(ctx: Context) -> Band | None:
    """The band this application's approvals cover: the budget narrowed by every approval.

    Once ``approve`` has fired, the band it fixed is the answer.
    """
    app = ctx.application
    if app.approved_band is not None:  # fixed when the approval was granted
        return app.approved_band
    if ctx.requisition is None:
        return None
    band = ctx.requisition.budget
    since = approval_round(app)
    for approval in app.approvals:
        if since is not None and approval.decided_at < since:
            continue
        if approval.granted and approval.band is not None:
            narrowed = band.intersect(approval.band)
            if narrowed is None:
                return None
            band = narrowed
    return band


def no_band_blocker(ctx: Context) -> Blocker:
    if ctx.requisition is None and ctx.application.approved_band is None:
        return Blocker("band_unknown", "pass the requisition to check its budget", needs_input=True)
    return Blocker(
        "approval_bands_disjoint",
        "the approvers' bands and the budget do not overlap: no pay can be approved",
    )


def pay_outside_blocker(amount: Decimal, currency: str, band: Band) -> Blocker:
    return Blocker(
        "pay_outside_band",
        f"{amount} {currency} is outside the approved band "
        f"{band.minimum}..{band.maximum} {band.currency}",
        {"amount": str(amount), "currency": currency, "band": band.model_dump(mode="json")},
    )


def pay_inside_band(ctx: Context) -> Iterator[Blocker]:
    """The proposed salary lies inside the approved band."""
    salary = ctx.data.value("salary") or ctx.application.proposed_salary
    if salary is None:
        yield Blocker(
            "salary_missing", "propose a salary (salary=...) to approve", needs_input=True
        )
        return
    band = approved_band(ctx)
    if band is None:
        yield no_band_blocker(ctx)
        return
    asked: Band | None = ctx.data.value("band")
    if asked is not None and band.intersect(asked) != asked:
        yield Blocker(
            "band_outside_budget",
            f"the band {asked.minimum}..{asked.maximum} {asked.currency} is not inside the "
            f"approved {band.minimum}..{band.maximum} {band.currency}",
            {"band": asked.model_dump(mode="json"), "approved": band.model_dump(mode="json")},
        )
        return
    if not (asked or band).contains(salary, band.currency):
        yield pay_outside_blocker(salary, band.currency, asked or band)


def has_pay_steps(ctx: Context) -> bool:
    requisition = ctx.requisition
    return requisition is not None and any(
        s.step.covers_pay for s in chain_state(ctx.application, requisition, ctx.settings)
    )


def reopened_pay_steps(ctx: Context, amount: Decimal, currency: str) -> list[StepState] | None:
    """For a revised offer: the pay steps still to approve ``amount`` again since the offer.

    ``None`` when this is not a revision with a requisition to read the chain from.
    """
    current = ctx.application.offer
    if ctx.event != "revise_offer" or current is None or ctx.requisition is None:
        return None
    return pay_steps_covering(
        ctx.application,
        ctx.requisition,
        ctx.settings,
        amount=amount,
        currency=currency,
        since=current.extended_at,
    )


def approver_in_chain(ctx: Context) -> Iterator[Blocker]:
    """The approval comes from one of the requisition's approvers."""
    requisition = ctx.requisition
    approver = ctx.data.value("approver") or ctx.actor
    if approver is None:
        yield Blocker("approver_missing", "say who decides", needs_input=True)
        return
    if requisition is None:
        yield Blocker(
            "requisition_required", "pass the requisition to check its approvers", needs_input=True
        )
        return
    states = chain_state(
        ctx.application, requisition, ctx.settings, since=approval_round(ctx.application)
    )
    mine = [s for s in states if approver in s.approvers]
    if not mine:
        everyone = [p for s in states for p in s.approvers]
        yield Blocker(
            "not_an_approver",
            f"{approver!r} is not an approver of requisition {requisition.id!r}: "
            f"{', '.join(everyone)}",
            {"approver": approver},
        )
    elif ctx.application.stage == "negotiation":
        if not any(s.step.covers_pay for s in mine):
            yield Blocker(
                "not_a_pay_approver",
                f"{approver!r} approves no pay step; only pay steps re-approve a revised offer",
                {"approver": approver},
            )
    else:
        yield from out_of_order(approver, mine, states)


def absent_approver_in_chain(ctx: Context) -> Iterator[Blocker]:
    """The replaced approver is in the chain, and the substitute approves no step of it yet.

    A substitute who already approves another step would count in both with one grant.
    """
    requisition = ctx.requisition
    if requisition is None:
        yield Blocker(
            "requisition_required", "pass the requisition to read its chain", needs_input=True
        )
        return
    absent, substitute = ctx.data.value("absent"), ctx.data.value("substitute")
    states = chain_state(ctx.application, requisition, ctx.settings)
    steps = [s for s in states if absent in s.approvers]
    if not steps:
        yield Blocker(
            "not_an_approver",
            f"{absent!r} approves no step of requisition {requisition.id!r}",
            {"approver": absent},
        )
    else:
        theirs = [s.step.name for s in states if substitute in s.approvers]
        if theirs:
            yield Blocker(
                "substitute_already_approves",
                f"{substitute!r} already approves step {theirs[0]!r}: one grant would count "
                "twice; name someone outside the chain",
                {"approver": substitute, "step": theirs[0]},
            )
