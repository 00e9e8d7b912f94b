"""Position approval, once per requisition: the requisition's lifecycle and the offer guards.

Budget approval belongs to the position, not to each candidate. With
``standard_policy(position_approval=True)``:

- a requisition goes through a lifecycle of its own (``REQUISITION_LIFECYCLE``: draft,
  pending approval, open, on hold, filled, cancelled), fired through
  [`hirepipe.positions.Positions`][hirepipe.positions.Positions], where ``transitions``
  decides every transition; its approval chain approves opening the position and its band
  once, and the requisition keeps the decisions and the approved band;
- an application's ``approve`` needs only the offer approval steps: the chain's steps covering
  an offer term the policy names (``PolicySettings.offer_approval_fields``), none by default,
  and pay inside the position's approved band. So the runner-up brought forward after a
  decline needs no second CFO approval;
- an offer outside the approved band is refused (``outside_position_band``) until the
  position's budget approval is re-opened (the requisition's ``revise_band``) and granted;
- a revised offer re-opens only the offer steps covering a term it changed;
- only an open requisition takes offers (``position_open``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pendulum

from hirepipe.errors import Blocker
from hirepipe.models import (
    Application,
    Approval,
    ApprovalStep,
    Band,
    Name,
    Offer,
    OfferField,
    Requisition,
    RequisitionStatus,
)
from hirepipe.policy import (
    Change,
    Context,
    EffectSpec,
    EventData,
    GuardSpec,
    NoData,
    Policy,
    PolicySettings,
    Role,
)
from hirepipe.standard._approvals import (
    StepState,
    approval_round,
    chain_of,
    chain_state,
    current_step,
    out_of_order,
    steps_state,
)
from hirepipe.standard._data import ApprovalData, ApproveData, NoteData, OfferData
from hirepipe.standard._effects import accept_offer, make_offer
from hirepipe.standard._offers import offer_terms, term_blockers

__all__ = [
    "POSITION_EFFECTS",
    "POSITION_GUARDS",
    "REQUISITION_LIFECYCLE",
    "BandData",
    "PositionContext",
    "PositionEvent",
    "PositionOfferData",
    "application_approval_state",
    "changed_terms",
    "offer_steps",
    "position_band",
    "position_round",
    "position_state",
    "with_position_approval",
]

_DRAFT, _PENDING = RequisitionStatus.draft, RequisitionStatus.pending_approval
_OPEN, _HELD = RequisitionStatus.open, RequisitionStatus.on_hold
_FILLED, _CANCELLED = RequisitionStatus.filled, RequisitionStatus.cancelled
_HM, _RECRUITER, _APPROVER, _SYSTEM = (
    Role.hiring_manager,
    Role.recruiter,
    Role.approver,
    Role.system,
)
_ROUND_EVENTS = frozenset({"submit", "revise_band"})


# -- the data the lifecycle's events take ----------------------------------------------------


class BandData(EventData):
    """``submit``: the band asked for (default: the requisition's ``budget``)."""

    band: Band | None = None


class RevisedBandData(EventData):
    """``revise_band``: the new band the position's approval chain is asked to approve."""

    band: Band


class PositionOfferData(OfferData):
    """``extend_offer`` and ``revise_offer`` with position approval: the terms, all of them.

    Adds the terms an approval step can cover besides those of
    [`OfferData`][hirepipe.standard.OfferData] (whose ``bonus`` and ``equity`` are amounts in
    the offer's currency): ``level`` and ``location``.
    """

    level: Name | None = None
    location: Name | None = None


# -- the requisition's lifecycle -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PositionContext:
    """What a requisition event's guards and effect see; treat it as read-only."""

    requisition: Requisition
    event: str
    data: EventData
    actor: str
    reason: str | None
    now: pendulum.DateTime
    settings: PolicySettings


@dataclass(frozen=True, slots=True)
class PositionChange:
    """What a requisition event changes (validated fields) and adds to its record's data."""

    requisition: Mapping[str, Any] = field(default_factory=dict)
    record_data: Mapping[str, Any] = field(default_factory=dict)


PositionGuard = Callable[[PositionContext], Iterator[Blocker]]
PositionEffect = Callable[[PositionContext], PositionChange]


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """One event of the requisition's lifecycle: ``dest`` ``None`` is an activity."""

    name: str
    sources: tuple[RequisitionStatus, ...]
    dest: RequisitionStatus | None
    guards: tuple[PositionGuard, ...]
    effect: PositionEffect | None
    data: type[EventData]
    fired_by: tuple[Role, ...]
    description: str


def position_round(requisition: Requisition) -> datetime | None:
    """When the position's current approval round began: its latest submit or band revision."""
    for record in reversed(requisition.history):
        if record.event in _ROUND_EVENTS:
            return record.at
    return None


def position_state(requisition: Requisition, settings: PolicySettings) -> list[StepState]:
    """The state of each step of the position's approval chain in its current round."""
    return steps_state(
        chain_of(requisition, settings), requisition.approvals, since=position_round(requisition)
    )


def position_band(requisition: Requisition) -> Band | None:
    """The band the current round's grants agree on: the budget narrowed by each grant's band."""
    band: Band | None = requisition.budget
    since = position_round(requisition)
    latest = {
        a.approver: a for a in requisition.approvals if since is None or a.decided_at >= since
    }
    for approval in latest.values():
        if band is not None and approval.granted and approval.band is not None:
            band = band.intersect(approval.band)
    return band


def _chain_named(ctx: PositionContext) -> Iterator[Blocker]:
    """The requisition names approvers (an ``approval_chain``, or ``approvers``)."""
    if not chain_of(ctx.requisition, ctx.settings):
        yield Blocker(
            "approvers_missing",
            f"requisition {ctx.requisition.id!r} names no approvers: give it an approval_chain "
            "(or approvers) before submitting it for approval",
            {"requisition": ctx.requisition.id},
        )


def _approver_decides_now(ctx: PositionContext) -> Iterator[Blocker]:
    """The approval comes from an approver of the chain whose step is open."""
    approver = ctx.data.value("approver") or ctx.actor
    states = position_state(ctx.requisition, ctx.settings)
    mine = [s for s in states if approver in s.approvers]
    if not mine:
        everyone = [p for s in states for p in s.approvers]
        yield Blocker(
            "not_an_approver",
            f"{approver!r} is not an approver of requisition {ctx.requisition.id!r}: "
            f"{', '.join(everyone) or 'nobody'}",
            {"approver": approver},
        )
        return
    yield from out_of_order(approver, mine, states)


def _chain_granted(ctx: PositionContext) -> Iterator[Blocker]:
    """Every step of the chain granted the position in this round; their bands overlap."""
    states = position_state(ctx.requisition, ctx.settings)
    yield from _steps_blockers(states, "the position")
    if (
        not any(True for _ in _steps_blockers(states, ""))
        and position_band(ctx.requisition) is None
    ):
        yield Blocker(
            "approval_bands_disjoint",
            "the approvers' bands and the budget do not overlap: no band can be approved",
        )


def _steps_blockers(states: Sequence[StepState], what: str) -> Iterator[Blocker]:
    """A denied step, or the first step still waiting, as a blocker."""
    for state in states:
        if state.impossible:
            yield Blocker(
                "approval_denied",
                f"approval of {what} denied by {', '.join(state.denied)} "
                f"(step {state.step.name!r})",
                {"denied": list(state.denied), "step": state.step.name},
            )
            return
    waiting = current_step(states)
    if waiting is not None:
        short = waiting.step.needed - len(waiting.granted)
        yield Blocker(
            "approvals_missing",
            f"{short} of {waiting.step.needed} approvals of {what} missing: "
            f"{', '.join(waiting.pending)} (step {waiting.step.name!r})",
            {
                "missing": list(waiting.pending),
                "expected": waiting.step.needed,
                "step": waiting.step.name,
            },
        )


def _reason_given(ctx: PositionContext) -> Iterator[Blocker]:
    """A reason that says something: holds, resumptions, cancellations are audited."""
    if not (ctx.reason and ctx.reason.strip()):
        yield Blocker("reason_missing", f"say why ({ctx.event}: reason='...')", needs_input=True)


def _headcount_filled(ctx: PositionContext) -> Iterator[Blocker]:
    """Every headcount of the requisition is filled."""
    requisition = ctx.requisition
    if requisition.filled < requisition.headcount:
        yield Blocker(
            "headcount_open",
            f"requisition {requisition.id!r} has filled {requisition.filled} of "
            f"{requisition.headcount}; it is filled when the last one accepts",
            {"filled": requisition.filled, "headcount": requisition.headcount},
        )


def _submitted(ctx: PositionContext) -> PositionChange:
    data: BandData = ctx.data  # type: ignore[assignment]
    band = data.band or ctx.requisition.budget
    return PositionChange({"budget": band}, {"band": band.model_dump(mode="json")})


def _band_revised(ctx: PositionContext) -> PositionChange:
    data: RevisedBandData = ctx.data  # type: ignore[assignment]
    before = ctx.requisition.approved_band
    return PositionChange(
        {"budget": data.band},
        {
            "band": data.band.model_dump(mode="json"),
            "approved_before": before.model_dump(mode="json") if before is not None else None,
        },
    )


def _approval_added(ctx: PositionContext) -> PositionChange:
    data: ApprovalData = ctx.data  # type: ignore[assignment]
    approval = Approval(
        approver=data.approver or ctx.actor,
        granted=data.granted,
        band=data.band,
        note=data.note,
        decided_at=ctx.now,
    )
    return PositionChange({"approvals": (*ctx.requisition.approvals, approval)})


def _opened(ctx: PositionContext) -> PositionChange:
    band = position_band(ctx.requisition)
    assert band is not None  # the guard refused disjoint bands
    states = position_state(ctx.requisition, ctx.settings)
    return PositionChange(
        {"approved_band": band},
        {
            "band": band.model_dump(mode="json"),
            "approved_by": [p for s in states for p in s.granted],
        },
    )


_STAFF = (_HM, _RECRUITER)

REQUISITION_LIFECYCLE: tuple[PositionEvent, ...] = (
    PositionEvent(
        "submit",
        (_DRAFT,),
        _PENDING,
        (_chain_named,),
        _submitted,
        BandData,
        _STAFF,
        "submit the position and its band to the approval chain",
    ),
    PositionEvent(
        "record_approval",
        (_PENDING,),
        None,
        (_approver_decides_now,),
        _approval_added,
        ApprovalData,
        (_APPROVER,),
        "an approver's decision on the position and its band",
    ),
    PositionEvent(
        "approve",
        (_PENDING,),
        _OPEN,
        (_chain_granted,),
        _opened,
        NoteData,
        (*_STAFF, _APPROVER, _SYSTEM),
        "every step granted: the position opens with the approved band",
    ),
    PositionEvent(
        "send_back",
        (_PENDING,),
        _DRAFT,
        (_reason_given,),
        None,
        NoData,
        (*_STAFF, _APPROVER),
        "back to draft, to be changed and submitted again",
    ),
    PositionEvent(
        "revise_band",
        (_OPEN,),
        _PENDING,
        (_chain_named, _reason_given),
        _band_revised,
        RevisedBandData,
        _STAFF,
        "re-open the position's budget approval for a new band",
    ),
    PositionEvent(
        "hold", (_OPEN,), _HELD, (_reason_given,), None, NoData, (*_STAFF, _APPROVER), "pause"
    ),
    PositionEvent(
        "resume",
        (_HELD,),
        _OPEN,
        (_reason_given,),
        None,
        NoData,
        (*_STAFF, _APPROVER),
        "the pause is over",
    ),
    PositionEvent(
        "fill",
        (_OPEN,),
        _FILLED,
        (_headcount_filled,),
        None,
        NoData,
        (*_STAFF, _SYSTEM),
        "every headcount accepted",
    ),
    PositionEvent(
        "cancel",
        (_DRAFT, _PENDING, _OPEN, _HELD),
        _CANCELLED,
        (_reason_given,),
        None,
        NoData,
        _STAFF,
        "the position will not be filled",
    ),
)
"""The requisition's lifecycle: its events, from which statuses, guards, effects and who fires.

Filled and cancelled are final. A requisition made without a status starts ``open`` (as
before the lifecycle existed) and has no approval to show: create it with
``status="draft"`` to have its position approved.
"""


# -- the application side: offer approval inside the position's band ---------------------------


def offer_steps(requisition: Requisition, settings: PolicySettings) -> tuple[ApprovalStep, ...]:
    """The chain's steps that approve offers: those covering a term the policy names."""
    named = frozenset(settings.offer_approval_fields)
    return tuple(s for s in chain_of(requisition, settings) if named.intersection(s.covers))


def application_approval_state(
    application: Application,
    requisition: Requisition,
    policy: Policy,
    *,
    since: datetime | None = None,
) -> list[StepState]:
    """The state of each step ``application``'s own approval waits on, as ``policy`` says.

    The requisition's whole chain (``chain_state``); with position approval
    (``offer_approvals_granted`` guards ``approve``), only its offer steps: the chain approved
    the position on the requisition, and its other approvers may not record an application's
    approval. The overdue sweep and the reminders read this, so they name who can act.
    """
    approve = policy.events.get("approve")
    if approve is None or all(g.name != "offer_approvals_granted" for g in approve.guards):
        return chain_state(application, requisition, policy.settings, since=since)
    return steps_state(
        offer_steps(requisition, policy.settings),
        application.approvals,
        application.substitutions,
        since=since,
    )


def changed_terms(current: Offer, terms: Mapping[str, Any]) -> frozenset[OfferField]:
    """The offer terms ``terms`` change from ``current`` (a currency change changes pay)."""
    changed = {
        OfferField(name)
        for name in OfferField
        if name in terms and terms[name] != getattr(current, name)
    }
    if terms.get("currency", current.currency) != current.currency:
        changed |= {OfferField.salary, OfferField.bonus}
    return frozenset(changed)


def _requisition_needed(ctx: Context) -> Blocker:
    return Blocker(
        "requisition_required",
        f"pass the requisition {ctx.application.requisition_id!r} (requisition=...): its "
        "status and approved band decide",
        needs_input=True,
    )


def position_open(ctx: Context) -> Iterator[Blocker]:
    """The requisition's position is open: approved, not on hold, filled or cancelled."""
    requisition = ctx.requisition
    if requisition is None:
        yield _requisition_needed(ctx)
    elif requisition.status is not _OPEN:
        yield Blocker(
            "position_not_open",
            f"requisition {requisition.id!r} is {requisition.status.value}, not open: "
            f"{_WAITS[requisition.status]}",
            {"requisition": requisition.id, "status": requisition.status.value},
        )


_WAITS = {
    _DRAFT: "submit it for approval first",
    _PENDING: "its position and band are waiting for approval",
    _HELD: "resume it first",
    _FILLED: "every headcount is filled",
    _CANCELLED: "it was cancelled",
}


def _outside_band(requisition: Requisition, amount: Any, currency: str) -> Blocker:
    band = requisition.approved_band
    shown = (
        f"approved band ({band.minimum}..{band.maximum} {band.currency})"
        if band
        else "approval: no band was ever approved for it"
    )
    return Blocker(
        "outside_position_band",
        f"{amount} {currency} is outside the position's {shown}: re-open the "
        f"position's budget approval (revise_band on requisition {requisition.id!r}, with a "
        "band covering it) and have the chain approve it again",
        {
            "amount": str(amount),
            "currency": currency,
            "band": band.model_dump(mode="json") if band else None,
            "requisition": requisition.id,
        },
    )


def _inside_position_band(requisition: Requisition, amount: Any, currency: str) -> bool:
    band = requisition.approved_band
    return band is not None and band.contains(amount, currency)


def pay_inside_position_band(ctx: Context) -> Iterator[Blocker]:
    """The proposed salary lies inside the position's approved band."""
    requisition = ctx.requisition
    if requisition is None:
        yield _requisition_needed(ctx)
        return
    salary = ctx.data.value("salary") or ctx.application.proposed_salary
    if salary is None:
        yield Blocker(
            "salary_missing", "propose a salary (salary=...) to approve", needs_input=True
        )
    elif not _inside_position_band(requisition, salary, requisition.budget.currency):
        yield _outside_band(requisition, salary, requisition.budget.currency)


def offer_approvals_granted(ctx: Context) -> Iterator[Blocker]:
    """Every offer approval step (those covering a term the policy names) granted this offer."""
    requisition = ctx.requisition
    if requisition is None:
        yield _requisition_needed(ctx)
        return
    states = steps_state(
        offer_steps(requisition, ctx.settings),
        ctx.application.approvals,
        ctx.application.substitutions,
        since=approval_round(ctx.application),
    )
    yield from _steps_blockers(states, "the offer")


def offer_approver_in_chain(ctx: Context) -> Iterator[Blocker]:
    """The approval comes from an approver of an offer step, whose turn it is."""
    requisition = ctx.requisition
    if requisition is None:
        yield _requisition_needed(ctx)
        return
    approver = ctx.data.value("approver") or ctx.actor
    app = ctx.application
    revising = app.offer is not None
    since = app.offer.extended_at if app.offer is not None else approval_round(app)
    states = steps_state(
        offer_steps(requisition, ctx.settings), app.approvals, app.substitutions, since=since
    )
    mine = [s for s in states if approver in s.approvers]
    if not mine:
        everyone = [p for s in states for p in s.approvers]
        yield Blocker(
            "not_an_offer_approver",
            f"{approver!r} approves no offer step of requisition {requisition.id!r} "
            f"(offer approvers: {', '.join(everyone) or 'none'}); the position's approval is "
            "recorded on the requisition",
            {"approver": approver},
        )
        return
    current = current_step(states)
    if (
        not revising
        and current is not None
        and all(states.index(s) > states.index(current) for s in mine)
    ):
        yield Blocker(
            "approval_out_of_order",
            f"{approver!r} decides in step {mine[0].step.name!r}, which opens once step "
            f"{current.step.name!r} is granted",
            {"approver": approver, "step": mine[0].step.name, "current": current.step.name},
        )


def reopened_steps(
    ctx: Context, terms: Mapping[str, Any]
) -> tuple[frozenset[OfferField], list[StepState]]:
    """For a revision: the named terms it changes, and the offer steps not yet re-granted."""
    current = ctx.application.offer
    if current is None or ctx.requisition is None:
        return frozenset(), []
    changed = changed_terms(current, terms) & frozenset(ctx.settings.offer_approval_fields)
    covering = [s for s in offer_steps(ctx.requisition, ctx.settings) if changed & set(s.covers)]
    states = steps_state(
        covering,
        ctx.application.approvals,
        ctx.application.substitutions,
        since=current.extended_at,
    )
    return changed, [s for s in states if not s.satisfied]


def position_offer_terms(ctx: Context) -> Iterator[Blocker]:
    """Offer terms complete, pay inside the position's band, changed terms re-approved.

    A revision re-opens only the offer steps covering a term it changed; their approvers'
    decisions since the offer being revised count.
    """
    requisition = ctx.requisition
    if requisition is None:
        yield _requisition_needed(ctx)
        return
    base, given = offer_terms(ctx)
    terms = {**base, **given}
    found = list(term_blockers(ctx, terms))
    yield from found
    if any(b.code == "offer_terms_missing" for b in found):
        return
    if not _inside_position_band(requisition, terms["salary"], terms["currency"]):
        yield _outside_band(requisition, terms["salary"], terms["currency"])
    changed, waiting = reopened_steps(ctx, terms)
    if waiting:
        names = [s.step.name for s in waiting]
        people = [p for s in waiting for p in s.pending]
        yield Blocker(
            "offer_reapproval_missing",
            f"the revision changes {', '.join(sorted(changed))}: step"
            f"{'s' if len(names) > 1 else ''} {', '.join(map(repr, names))} must approve it "
            f"again ({', '.join(people)})",
            {"steps": names, "approvers": people, "changed": sorted(changed)},
        )


def _grant_within_position(ctx: Context) -> Change:
    """Fix the application's band to the position's, and the salary approved."""
    data: ApproveData = ctx.data  # type: ignore[assignment]
    assert ctx.requisition is not None
    assert ctx.requisition.approved_band is not None
    band = ctx.requisition.approved_band
    salary = data.salary or ctx.application.proposed_salary
    return Change(
        {"approved_band": band, "proposed_salary": salary},
        {"band": band.model_dump(mode="json"), "salary": str(salary), "position": True},
    )


def _make_position_offer(ctx: Context) -> Change:
    """The standard offer, its record naming the steps that re-approved a revision."""
    change = make_offer(ctx)
    current = ctx.application.offer
    # the band's reapproval is the position's, on the requisition: never the pay steps here
    facts = {k: v for k, v in change.record_data.items() if k != "reapproved"}
    change = Change(change.application, facts, change.requisition)
    if current is None or ctx.requisition is None:
        return change
    base, given = offer_terms(ctx)
    changed = changed_terms(current, {**base, **given}) & frozenset(
        ctx.settings.offer_approval_fields
    )
    if not changed:
        return change
    steps = [s.name for s in offer_steps(ctx.requisition, ctx.settings) if changed & set(s.covers)]
    return Change(
        change.application,
        {**change.record_data, "reapproved": {"terms": sorted(changed), "steps": steps}},
        change.requisition,
    )


def _accept_into_position(ctx: Context) -> Change:
    """Accept the live offer and count the headcount; the requisition's ``fill`` closes it."""
    change = accept_offer(ctx)
    counted = {k: v for k, v in change.requisition.items() if k != "status"}
    return Change(change.application, change.record_data, counted)


POSITION_GUARDS: dict[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        GuardSpec("position_open", position_open, "the requisition's position is open"),
        GuardSpec(
            "pay_inside_position_band",
            pay_inside_position_band,
            "proposed pay inside the position's approved band",
            checks="approval",
        ),
        GuardSpec(
            "offer_approvals_granted",
            offer_approvals_granted,
            "every offer approval step granted",
            checks="approval",
        ),
        GuardSpec(
            "offer_approver_in_chain",
            offer_approver_in_chain,
            "the approver approves an offer step",
        ),
        GuardSpec(
            "position_offer_terms",
            position_offer_terms,
            "offer terms inside the position's band; changed terms re-approved",
        ),
    )
}
"""The guards position approval puts on applications' events."""

POSITION_EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec("grant_within_position", _grant_within_position, ApproveData, trusted=True),
        EffectSpec("make_position_offer", _make_position_offer, PositionOfferData, trusted=True),
        EffectSpec("accept_into_position", _accept_into_position, NoteData, trusted=True),
    )
}
"""The effects position approval puts on applications' events."""

# event: (guards replaced by, effect replaced by); guards not named stay
_SWAPS: dict[str, tuple[dict[str, tuple[str, ...]], str | None]] = {
    "request_approval": ({"requisition_open": ("requisition_open", "position_open")}, None),
    "approve": (
        {
            "approvals_granted": ("position_open", "offer_approvals_granted"),
            "pay_inside_band": ("pay_inside_position_band",),
        },
        "grant_within_position",
    ),
    "record_approval": ({"approver_in_chain": ("offer_approver_in_chain",)}, None),
    "extend_offer": (
        {"offer_terms_valid": ("position_open", "position_offer_terms")},
        "make_position_offer",
    ),
    "revise_offer": (
        {"offer_terms_valid": ("position_open", "position_offer_terms")},
        "make_position_offer",
    ),
    "accept": ({}, "accept_into_position"),
}


def with_position_approval(policy: Policy) -> Policy:
    """Return ``policy`` with position approval: its events' guards and effects swapped."""
    for name, (guards, effect) in _SWAPS.items():
        spec = policy.events[name]
        swapped: list[GuardSpec] = []
        for guard in spec.guards:
            swapped += [POSITION_GUARDS.get(g) or guard for g in guards.get(guard.name, ())]
            if guard.name not in guards:
                swapped.append(guard)
        policy = policy.with_event(
            replace(
                spec,
                guards=tuple(swapped),
                effect=POSITION_EFFECTS[effect] if effect is not None else spec.effect,
            )
        )
    return policy
