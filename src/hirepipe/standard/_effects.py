"""The standard policy's effects: what each event changes.

Each effect takes a [`Context`][hirepipe.policy.Context] and returns the
[`Change`][hirepipe.policy.Change] its event makes; none mutates anything. What each event
accepts is in ``hirepipe.standard._data``.

Scorecards, approvals, references and offers are built with ``from_validated`` from the
event's data, which fields of the same types validated already, the actor and the clock's
instant (an offer also from the requisition's or its last version's terms, and its amounts
still checked against its currency); updates use ``replaced``. Validating them again cost more
than the rest of the event.
``tests/standard/test_effects.py`` holds each to the model validation gives.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pendulum

from hirepipe.models import (
    Approval,
    Counter,
    Interview,
    Offer,
    OfferStatus,
    Reference,
    ReferenceStatus,
    Rejection,
    RequisitionStatus,
    Scorecard,
    Substitution,
    as_instant,
)
from hirepipe.policy import Change, Context, EffectSpec
from hirepipe.standard._approvals import approved_band, chain_state
from hirepipe.standard._background import BACKGROUND_EFFECTS
from hirepipe.standard._data import (
    ApprovalData,
    ApproveData,
    CounterData,
    HeldData,
    KeepWarmData,
    NextRoundData,
    NoteData,
    OfferData,
    RefereeData,
    ReferenceData,
    ReferenceResultData,
    RejectData,
    RetargetData,
    SalaryData,
    ScorecardData,
    SubstitutionData,
)
from hirepipe.standard._feedback import FEEDBACK_EFFECTS
from hirepipe.standard._keep_in_touch import KEEP_IN_TOUCH_EFFECTS
from hirepipe.standard._offers import offer_terms
from hirepipe.standard._scheduling import SCHEDULING_EFFECTS
from hirepipe.standard._scorecards import SCORECARD_EFFECTS
from hirepipe.standard._signatures import SIGNATURE_EFFECTS

__all__ = ["STANDARD_EFFECTS", "accept_offer", "make_offer"]


def _data(ctx: Context, model: type[Any]) -> Any:
    assert isinstance(ctx.data, model), f"{ctx.event} got {type(ctx.data).__name__}"
    return ctx.data


def schedule_round(ctx: Context) -> Change:
    """Open the next round with its interviewers."""
    data: NextRoundData = _data(ctx, NextRoundData)
    app = ctx.application
    interview = Interview(
        round=app.round + 1, interviewers=data.interviewers, scheduled_at=data.scheduled_at
    )
    return Change({"round": app.round + 1, "interviews": (*app.interviews, interview)})


def mark_held(ctx: Context) -> Change:
    """Record when the current round's interview was held."""
    data: HeldData = _data(ctx, HeldData)
    app = ctx.application
    held_at = data.held_at or ctx.now
    interviews = tuple(
        i.replaced(held_at=held_at) if i.round == app.round else i for i in app.interviews
    )
    return Change({"interviews": interviews}, {"held_at": held_at.isoformat()})


def propose_salary(ctx: Context) -> Change:
    """Keep the salary proposed for approval."""
    data: SalaryData = _data(ctx, SalaryData)
    return Change({"proposed_salary": data.salary}) if data.salary is not None else Change()


def grant(ctx: Context) -> Change:
    """Fix the approved band and salary."""
    data: ApproveData = _data(ctx, ApproveData)
    band = data.band or approved_band(ctx)
    salary = data.salary or ctx.application.proposed_salary
    assert band is not None
    return Change(
        {"approved_band": band, "proposed_salary": salary},
        {"band": band.model_dump(mode="json"), "salary": str(salary)},
    )


def make_offer(ctx: Context) -> Change:
    """Put out a new offer version; a revision supersedes the previous one."""
    data: OfferData = _data(ctx, OfferData)
    app = ctx.application
    current = app.offer
    terms, given = offer_terms(ctx)
    given.pop("valid_until", None)
    terms.update(given)
    valid_until = data.valid_until or _days_later(ctx, ctx.settings.offer_validity_days)
    if "benefits" in terms:
        terms["benefits"] = list(terms["benefits"])  # the offer's own list, not the data's
    # every term was validated as the offer's field (the data's, the requisition's, the last
    # version's): built without validating again, the amounts still checked against the currency
    offer = Offer.from_validated(
        version=len(app.offers) + 1,
        valid_until=valid_until,
        extended_at=ctx.now,
        **terms,
    )
    offers = app.offers
    if current is not None and current.status is OfferStatus.extended:
        offers = (*offers[:-1], current.replaced(status=OfferStatus.superseded))
    # the record keeps what the event's data did not say: the version, the validity, and the
    # terms carried over from the last version or the requisition
    facts: dict[str, Any] = {
        "version": offer.version,
        "valid_until": valid_until.isoformat(),
        **{k: _json_term(v) for k, v in terms.items() if k not in given},
    }
    if current is not None and current.counter is not None and current.status is _LIVE:
        facts.update(_answers(current.version, current.counter, offer, ctx.now))
    band = approved_band(ctx)
    if current is not None and band is not None and not band.contains(offer.salary, offer.currency):
        # the guard let it through because the pay steps approved it again: say so
        facts["reapproved"] = {
            "reason": "revised pay outside the approved band",
            "steps": [
                s.step.name
                for s in chain_state(ctx.application, ctx.requisition, ctx.settings)
                if s.step.covers_pay
            ]
            if ctx.requisition is not None
            else [],
        }
    return Change({"offers": (*offers, offer)}, facts)


_LIVE = OfferStatus.extended


def _answers(
    version: int, counter: Counter, offer: Offer, now: pendulum.DateTime
) -> dict[str, Any]:
    """What a revision did with the counter it answers, for the reports and the audit."""
    if not counter.terms and counter.competing_deadline is None:
        return {}  # a note only: nothing to meet
    unmet = counter.unmet(offer)
    answer: dict[str, Any] = {
        "version": version,
        "met": [name for name in counter.terms if name not in unmet],
        "unmet": list(unmet),
    }
    if counter.competing_deadline is not None:
        answer["before_competing_deadline"] = now <= counter.competing_deadline
    return {"answers_counter": answer}


def _json_term(value: Any) -> Any:
    """An offer term as the record's JSON holds it: amounts as strings, dates ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def record_counter(ctx: Context) -> Change:
    """Keep the terms the candidate asked for on the offer version they answer.

    Amounts finer than the offer's currency allows are refused (a ValidationError), and
    nothing changes.
    """
    data: CounterData = _data(ctx, CounterData)
    app = ctx.application
    offer = app.offer
    if offer is None:  # the guard saw a live offer; without one there is nothing to answer
        return Change()
    counter = Counter(
        currency=offer.currency,
        countered_at=ctx.now,
        **data.model_dump(exclude_none=True),
    )
    answered = offer.model_copy(update={"counter": counter})
    return Change({"offers": (*app.offers[:-1], answered)}, {"version": offer.version})


def _days_later(ctx: Context, days: int) -> pendulum.DateTime:
    """``days`` calendar days after now, same wall-clock time in the requisition's zone."""
    if ctx.requisition is None:
        return ctx.now.add(days=days)
    # the standard library's zoneinfo: pendulum reads zone data anew on every lookup
    local = datetime.fromtimestamp(ctx.now.timestamp(), _zone(ctx.requisition.time_zone))
    return as_instant(local + timedelta(days=days))


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _settle_offer(ctx: Context, status: OfferStatus) -> dict[str, Any]:
    offer = ctx.application.offer
    if offer is None or offer.status is not OfferStatus.extended:
        return {}
    return {"offers": (*ctx.application.offers[:-1], offer.replaced(status=status))}


def accept_offer(ctx: Context) -> Change:
    """Accept the live offer and fill one headcount."""
    requisition: dict[str, Any] = {}
    if ctx.requisition is not None:
        filled = ctx.requisition.filled + 1
        requisition = {"filled": filled}
        if filled >= ctx.requisition.headcount:
            requisition["status"] = RequisitionStatus.filled
    return Change(_settle_offer(ctx, OfferStatus.accepted), requisition=requisition)


def decline_offer(ctx: Context) -> Change:
    """The candidate turned the offer down."""
    return Change(_settle_offer(ctx, OfferStatus.declined))


def expire_offer(ctx: Context) -> Change:
    """The offer's valid-until date passed."""
    return Change(_settle_offer(ctx, OfferStatus.expired))


def record_rejection(ctx: Context) -> Change:
    """Keep the rejection's reason and feedback."""
    data: RejectData = _data(ctx, RejectData)
    rejection = Rejection(
        reason=ctx.reason or "",
        feedback=data.feedback,
        feedback_on_request=data.feedback_on_request,
        rejected_at=ctx.now,
    )
    return Change({"rejection": rejection})


def warm(ctx: Context) -> Change:
    """Keep the candidate warm until a date."""
    data: KeepWarmData = _data(ctx, KeepWarmData)
    return Change({"warm_until": data.warm_until})


def retarget(ctx: Context) -> Change:
    """Move the application to the requisition it is reactivated for."""
    data: RetargetData = _data(ctx, RetargetData)
    target = ctx.requisition.id if ctx.requisition is not None else data.requisition_id
    return Change(
        {"requisition_id": target, "warm_until": None, "rejection": None, **_FRESH_ROUND},
        {"requisition_id": target},
    )


def hold(ctx: Context) -> Change:
    """Remember where the application was, to resume there."""
    return Change({"held_from": ctx.application.stage})


def resume(ctx: Context) -> Change:
    """Forget the hold."""
    return Change({"held_from": None})


def reopen(ctx: Context) -> Change:
    """Undo a rejection (the record keeps the reason), for this or another requisition."""
    data: RetargetData = _data(ctx, RetargetData)
    target = ctx.requisition.id if ctx.requisition is not None else data.requisition_id
    if target is None or target == ctx.application.requisition_id:
        return Change({"rejection": None})
    return Change(
        {"rejection": None, "requisition_id": target, **_FRESH_ROUND}, {"requisition_id": target}
    )


_FRESH_ROUND: dict[str, Any] = {
    "approvals": (),
    "substitutions": (),
    "approved_band": None,
    "proposed_salary": None,
}
"""Another requisition has its own budget and approvers: nothing approved carries over."""


def substitute_approver(ctx: Context) -> Change:
    """Put a substitute in the absent approver's steps; decisions already made stand."""
    data: SubstitutionData = _data(ctx, SubstitutionData)
    assert ctx.requisition is not None
    steps = [
        s.step.name
        for s in chain_state(ctx.application, ctx.requisition, ctx.settings)
        if data.absent in s.approvers and (data.step is None or s.step.name == data.step)
    ]
    added = tuple(
        Substitution(
            step=step,
            absent=data.absent,
            substitute=data.substitute,
            reason=ctx.reason or "",
            at=ctx.now,
        )
        for step in steps
    )
    return Change({"substitutions": (*ctx.application.substitutions, *added)}, {"steps": steps})


def _person(named: str | None, ctx: Context) -> str:
    """Whose decision the data states: the person it names, or else the actor (validated)."""
    person = named or ctx.actor
    if person is None:  # pragma: no cover - the engine fills the person field in with the actor
        raise ValueError(f"{ctx.event} names nobody and has no actor")
    return person


def add_scorecard(ctx: Context) -> Change:
    """Add an interviewer's scorecard."""
    data: ScorecardData = _data(ctx, ScorecardData)
    card = Scorecard.from_validated(
        interviewer=_person(data.interviewer, ctx),
        round=data.round or ctx.application.round,
        recommendation=data.recommendation,
        notes=data.notes,
        submitted_at=ctx.now,
    )
    return Change({"scorecards": (*ctx.application.scorecards, card)})


def add_approval(ctx: Context) -> Change:
    """Add an approver's decision."""
    data: ApprovalData = _data(ctx, ApprovalData)
    approval = Approval.from_validated(
        approver=_person(data.approver, ctx),
        granted=data.granted,
        band=data.band,
        note=data.note,
        decided_at=ctx.now,
    )
    return Change({"approvals": (*ctx.application.approvals, approval)})


def add_reference(ctx: Context) -> Change:
    """Put a referee on record."""
    data: ReferenceData = _data(ctx, ReferenceData)
    reference = Reference.from_validated(**data.__dict__)
    return Change({"references": (*ctx.application.references, reference)})


def send_notice(ctx: Context) -> Change:
    """Record that the candidate was told before any referee is contacted."""
    return Change({"reference_notice_at": ctx.now})


def _update_reference(ctx: Context, referee: str, **update: Any) -> Change:
    # a loop over the fields' own dicts: no generator, no model attribute read per referee
    references = []
    for reference in ctx.application.references:
        if reference.__dict__["referee"] == referee:
            reference = reference.replaced(**update)
        references.append(reference)
    return Change({"references": tuple(references)})


def contact_reference(ctx: Context) -> Change:
    """Mark a referee contacted now."""
    data: RefereeData = _data(ctx, RefereeData)
    return _update_reference(
        ctx, data.referee, status=ReferenceStatus.contacted, contacted_at=ctx.now
    )


def complete_reference(ctx: Context) -> Change:
    """Record how a reference check ended."""
    data: ReferenceResultData = _data(ctx, ReferenceResultData)
    return _update_reference(
        ctx,
        data.referee,
        status=data.status,
        outcome=data.outcome,
        notes=data.notes,
        completed_at=ctx.now,
    )


_NO_CHANGE = Change()
"""Shared: a Change is frozen, its mappings read-only."""


def _nothing(ctx: Context) -> Change:
    return _NO_CHANGE


STANDARD_EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec("schedule_round", schedule_round, NextRoundData, trusted=True),
        EffectSpec("mark_held", mark_held, HeldData, trusted=True),
        EffectSpec("propose_salary", propose_salary, SalaryData, trusted=True),
        EffectSpec("grant", grant, ApproveData, trusted=True),
        EffectSpec("make_offer", make_offer, OfferData, trusted=True),
        EffectSpec("counter", record_counter, CounterData, trusted=True),
        EffectSpec("accept_offer", accept_offer, NoteData, trusted=True),
        EffectSpec("decline_offer", decline_offer, NoteData, trusted=True),
        EffectSpec("expire_offer", expire_offer, trusted=True),
        EffectSpec("record_rejection", record_rejection, RejectData, trusted=True),
        EffectSpec("withdraw", _nothing, NoteData, trusted=True),
        EffectSpec("warm", warm, KeepWarmData, trusted=True),
        EffectSpec("retarget", retarget, RetargetData, trusted=True),
        EffectSpec("hold", hold, trusted=True),
        EffectSpec("resume", resume, trusted=True),
        EffectSpec("reopen", reopen, RetargetData, trusted=True),
        EffectSpec("substitute_approver", substitute_approver, SubstitutionData, trusted=True),
        EffectSpec("note", _nothing, NoteData, trusted=True),
        EffectSpec("add_scorecard", add_scorecard, ScorecardData, trusted=True),
        EffectSpec("add_approval", add_approval, ApprovalData, trusted=True),
        EffectSpec("add_reference", add_reference, ReferenceData, trusted=True),
        EffectSpec("send_notice", send_notice, trusted=True),
        EffectSpec("contact_reference", contact_reference, RefereeData, trusted=True),
        EffectSpec("complete_reference", complete_reference, ReferenceResultData, trusted=True),
        # the optional parts: standard_policy(feedback_requests=True, ...)
        *FEEDBACK_EFFECTS,
        *KEEP_IN_TOUCH_EFFECTS,
        *SCHEDULING_EFFECTS,
    )
}
STANDARD_EFFECTS.update(SCORECARD_EFFECTS)  # on with structured_scorecards
STANDARD_EFFECTS.update(SIGNATURE_EFFECTS)  # standard_policy(offer_signatures=True)
STANDARD_EFFECTS.update(BACKGROUND_EFFECTS)  # standard_policy(background_check=True)
