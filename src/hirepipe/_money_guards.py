"""The standard policy's guards for money and approvals: chains, bands, offers.

Split from :mod:`hirepipe._guards`, which holds the rest and the table of standard guards.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from hirepipe._approvals import (
    StepState,
    approval_round,
    chain_state,
    current_step,
    pay_steps_covering,
)
from hirepipe.errors import Blocker
from hirepipe.models import Band, Offer, OfferStatus
from hirepipe.policy import Context

__all__ = [
    "absent_approver_in_chain",
    "approvals_granted",
    "approved_band",
    "approver_in_chain",
    "offer_not_expired",
    "offer_past_valid_until",
    "offer_terms",
    "offer_terms_valid",
    "pay_inside_band",
    "reopened_pay_steps",
]


def _names(people: list[str]) -> str:
    return ", ".join(people)


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
                f"approval denied by {_names(list(state.denied))} (step {state.step.name!r})",
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
            f"{_names(list(waiting.pending))}{where}",
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


def _no_band(ctx: Context) -> Blocker:
    if ctx.requisition is None and ctx.application.approved_band is None:
        return Blocker("band_unknown", "pass the requisition to check its budget", needs_input=True)
    return Blocker(
        "approval_bands_disjoint",
        "the approvers' bands and the budget do not overlap: no pay can be approved",
    )


def _pay_outside(amount: Decimal, currency: str, band: Band) -> Blocker:
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
        yield _no_band(ctx)
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
        yield _pay_outside(salary, band.currency, asked or band)


def offer_terms(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the terms an offer starts from, and the ones the event's data gives.

    A first offer starts from the requisition's title and currency, a revision from the
    current offer's terms; an empty benefits list in the data keeps the benefits as they were.
    """
    given = ctx.data.model_dump(exclude_none=True, exclude={"note"})
    if not given.get("benefits"):
        given.pop("benefits", None)
    current = ctx.application.offer
    base: dict[str, Any] = {}
    if current is not None:
        base = current.model_dump(include={"title", "salary", "currency", "benefits", "start_date"})
    elif ctx.requisition is not None:
        base = {"title": ctx.requisition.title, "currency": ctx.requisition.budget.currency}
    return base, given


def offer_terms_valid(ctx: Context) -> Iterator[Blocker]:
    """Offer terms complete, inside the approved band, and valid until a future date."""
    base, given = offer_terms(ctx)
    terms = {**base, **given}
    missing = [k for k in ("title", "salary", "currency", "start_date") if k not in terms]
    if missing:
        yield Blocker(
            "offer_terms_missing",
            f"the offer needs {', '.join(missing)}",
            {"missing": missing},
            needs_input=True,
        )
        return
    valid_until = terms.get("valid_until")
    if valid_until is not None and valid_until <= ctx.now:
        yield Blocker(
            "offer_valid_until_past",
            f"valid_until {valid_until.isoformat()} is not in the future",
        )
    band = approved_band(ctx)
    if band is not None and band.contains(terms["salary"], terms["currency"]):
        return
    if band is None:
        yield _no_band(ctx)
        return
    reopened = reopened_pay_steps(ctx, terms["salary"], terms["currency"])
    if reopened is not None and not reopened and _has_pay_steps(ctx):
        return  # a revision outside the band, approved again by every pay step
    blocker = _pay_outside(terms["salary"], terms["currency"], band)
    if reopened:
        names = [s.step.name for s in reopened]
        people = [p for s in reopened for p in s.pending]
        blocker = Blocker(
            blocker.code,
            f"{blocker.message}; the pay steps {', '.join(map(repr, names))} must approve it "
            f"again ({_names(people)})",
            {**blocker.data, "reopened_steps": names, "approvers": people},
        )
    yield blocker


def _has_pay_steps(ctx: Context) -> bool:
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


def _live_offer(ctx: Context) -> Offer | None:
    offer = ctx.application.offer
    return offer if offer is not None and offer.status is OfferStatus.extended else None


def offer_not_expired(ctx: Context) -> Iterator[Blocker]:
    """There is a live offer and its valid-until date has not passed."""
    offer = _live_offer(ctx)
    if offer is None:
        yield Blocker("no_live_offer", "there is no extended offer to act on")
    elif ctx.now > offer.valid_until:
        yield Blocker(
            "offer_expired",
            f"offer version {offer.version} expired at {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat(), "version": offer.version},
        )


def offer_past_valid_until(ctx: Context) -> Iterator[Blocker]:
    """The offer's valid-until date has passed (the deadline sweep fires ``expire``)."""
    offer = _live_offer(ctx)
    if offer is not None and ctx.now <= offer.valid_until:
        yield Blocker(
            "offer_still_valid",
            f"offer version {offer.version} is valid until {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat()},
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
    everyone = [p for s in states for p in s.approvers]
    if not mine:
        yield Blocker(
            "not_an_approver",
            f"{approver!r} is not an approver of requisition {requisition.id!r}: "
            f"{_names(everyone)}",
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
        current = current_step(states)
        if current is not None and all(states.index(s) > states.index(current) for s in mine):
            yield Blocker(
                "approval_out_of_order",
                f"{approver!r} decides in step {mine[0].step.name!r}, which opens once step "
                f"{current.step.name!r} is granted",
                {"approver": approver, "step": mine[0].step.name, "current": current.step.name},
            )


def absent_approver_in_chain(ctx: Context) -> Iterator[Blocker]:
    """The replaced approver is in the step named, and the substitute is not already."""
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
    elif any(substitute in s.approvers for s in steps):
        yield Blocker(
            "substitute_already_approves",
            f"{substitute!r} already approves step {steps[0].step.name!r}",
            {"approver": substitute},
        )
