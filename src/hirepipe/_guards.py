"""The standard policy's guards. Each yields one Blocker per reason, with a stable code."""

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
from hirepipe.models import Band, Offer, OfferStatus, ReferenceOutcome, ReferenceStatus
from hirepipe.policy import Context, GuardSpec

__all__ = ["STANDARD_GUARDS"]


def _names(people: list[str]) -> str:
    return ", ".join(people)


def requisition_open(ctx: Context) -> Iterator[Blocker]:
    """The requisition passed with the event has open headcount."""
    requisition = ctx.requisition
    if requisition is None:
        yield Blocker(
            "requisition_required",
            "pass the requisition to check its headcount "
            f"(requisition {ctx.application.requisition_id!r})",
            needs_input=True,
        )
    elif requisition.open_headcount <= 0:
        yield Blocker(
            "no_open_headcount",
            f"requisition {requisition.id!r} has no open headcount "
            f"({requisition.filled} of {requisition.headcount} filled, "
            f"status {requisition.status})",
            {"headcount": requisition.headcount, "filled": requisition.filled},
        )


def interview_held(ctx: Context) -> Iterator[Blocker]:
    """The current round's interview has been held (not scheduled only, not in the future)."""
    app = ctx.application
    interview = app.interview()
    if interview is None:
        yield Blocker(
            "interview_not_scheduled",
            f"round {app.round} has no interview on record",
            {"round": app.round},
        )
        return
    # round_held records the holding itself (default: now); start_debrief reads the record
    recorded = "held_at" in type(ctx.data).model_fields
    held_at = (ctx.data.value("held_at") or ctx.now) if recorded else interview.held_at
    if held_at is None:
        yield Blocker(
            "interview_not_held",
            f"the round {app.round} interview has not been held yet",
            {"round": app.round},
        )
    elif held_at > ctx.now:
        yield Blocker(
            "interview_in_future",
            f"the round {app.round} interview is recorded as held at {held_at.isoformat()}, "
            "which is in the future",
            {"round": app.round, "held_at": held_at.isoformat()},
        )


def scorecards_complete(ctx: Context) -> Iterator[Blocker]:
    """Every assigned interviewer of the current round submitted a scorecard."""
    app = ctx.application
    interview = app.interview()
    expected = list(interview.interviewers) if interview else []
    submitted = {card.interviewer for card in app.scorecards_for()}
    missing = [person for person in expected if person not in submitted]
    if missing:
        yield Blocker(
            "scorecards_missing",
            f"{len(missing)} of {len(expected)} scorecards missing: {_names(missing)}",
            {"missing": missing, "expected": len(expected), "round": app.round},
        )


def below_max_rounds(ctx: Context) -> Iterator[Blocker]:
    """Another round would not pass the policy's maximum number of rounds."""
    limit = ctx.settings.max_rounds
    if ctx.application.round >= limit:
        yield Blocker(
            "max_rounds_reached",
            f"round {ctx.application.round} is the last the policy allows (max_rounds={limit})",
            {"round": ctx.application.round, "max_rounds": limit},
        )


def interviewers_named(ctx: Context) -> Iterator[Blocker]:
    """The event's data names the next round's interviewers."""
    if not ctx.data.value("interviewers"):
        yield Blocker(
            "interviewers_missing",
            "name the next round's interviewers (interviewers=[...])",
            needs_input=True,
        )


def debrief_recommends_hire(ctx: Context) -> Iterator[Blocker]:
    """The current round's mean recommendation reaches the policy's hire threshold."""
    cards = ctx.application.scorecards_for()
    threshold = ctx.settings.hire_threshold
    if not cards:
        yield Blocker("no_scorecards", f"round {ctx.application.round} has no scorecards")
        return
    mean = sum(card.recommendation.score for card in cards) / len(cards)
    if mean < threshold:
        yield Blocker(
            "debrief_not_positive",
            f"the debrief's mean recommendation {mean:+.2f} is below the hire threshold "
            f"{threshold:+.2f}",
            {"mean": mean, "threshold": threshold, "scorecards": len(cards)},
        )


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


def references_ready(ctx: Context) -> Iterator[Blocker]:
    """Candidate told before referees were contacted; enough satisfactory references."""
    app = ctx.application
    required = ctx.settings.required_references
    contacted = [r for r in app.references if r.contacted_at is not None]
    notice = app.reference_notice_at
    if notice is None and (required or contacted):
        yield Blocker(
            "reference_notice_missing",
            "tell the candidate before any referee is contacted (send_reference_notice)",
        )
    early = [
        r.referee
        for r in app.references
        if notice is not None
        and any(at is not None and at < notice for at in (r.contacted_at, r.completed_at))
    ]
    if early:
        yield Blocker(
            "referees_contacted_before_notice",
            f"referees contacted before the candidate was told: {_names(early)}",
            {"referees": early},
        )
    bad = [r.referee for r in app.references if r.outcome is ReferenceOutcome.unsatisfactory]
    if bad:
        yield Blocker(
            "reference_unsatisfactory",
            f"unsatisfactory references: {_names(bad)}",
            {"referees": bad},
        )
    good = [
        r
        for r in app.references
        if r.status is ReferenceStatus.completed and r.outcome is ReferenceOutcome.satisfactory
    ]
    if len(good) < required:
        yield Blocker(
            "references_incomplete",
            f"{len(good)} of {required} required references completed and satisfactory",
            {"completed": len(good), "required": required},
        )


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


def rejection_explained(ctx: Context) -> Iterator[Blocker]:
    """A reason from the taxonomy, and feedback or an explicit "feedback on request"."""
    reasons = ctx.policy.rejection_reasons
    if not ctx.reason:
        yield Blocker(
            "rejection_reason_missing",
            f"give a reason from the taxonomy: {', '.join(reasons)}",
            {"reasons": list(reasons)},
            needs_input=True,
        )
    elif ctx.reason not in reasons:
        yield Blocker(
            "unknown_rejection_reason",
            f"{ctx.reason!r} is not in the rejection taxonomy: {', '.join(reasons)}",
            {"reason": ctx.reason, "reasons": list(reasons)},
            needs_input=True,
        )
    if not ctx.data.value("feedback") and not ctx.data.value("feedback_on_request"):
        yield Blocker(
            "feedback_missing",
            "give feedback (feedback='...') or offer it on request (feedback_on_request=True)",
            needs_input=True,
        )


def reason_given(ctx: Context) -> Iterator[Blocker]:
    """The event carries a reason (holds, resumes and reopenings are audited)."""
    if not ctx.reason:
        yield Blocker("reason_missing", f"say why ({ctx.event}: reason='...')", needs_input=True)


def warm_until_set(ctx: Context) -> Iterator[Blocker]:
    """A future warm-until date and the candidate's consent to stay in touch."""
    warm_until = ctx.data.value("warm_until")
    if warm_until is None:
        yield Blocker(
            "warm_until_missing", "give a warm-until date (warm_until=...)", needs_input=True
        )
    elif warm_until <= ctx.now:
        yield Blocker(
            "warm_until_past", f"warm_until {warm_until.isoformat()} is not in the future"
        )
    consent = ctx.data.value("consent")
    if not (consent or ctx.application.candidate.consent_to_contact):
        yield Blocker(
            "consent_missing",
            "the candidate has not consented to stay in touch (consent=True once they have)",
            needs_input=True,
        )


def interviewer_assigned(ctx: Context) -> Iterator[Blocker]:
    """The scorecard's author interviews the round it is for."""
    app = ctx.application
    author = ctx.data.value("interviewer") or ctx.actor
    round_number = ctx.data.value("round") or app.round
    interview = app.interview(round_number)
    if author is None:
        yield Blocker("author_missing", "say who wrote the scorecard", needs_input=True)
    elif interview is None:
        yield Blocker(
            "interview_not_scheduled",
            f"round {round_number} has no interview on record",
            {"round": round_number},
        )
    elif author not in interview.interviewers:
        yield Blocker(
            "not_an_interviewer",
            f"{author!r} is not an interviewer of round {round_number}: "
            f"{_names(list(interview.interviewers))}",
            {"interviewer": author, "round": round_number},
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


def referee_known(ctx: Context) -> Iterator[Blocker]:
    """The referee is on record; to be contacted, they consented."""
    name = ctx.data.value("referee")
    found = [r for r in ctx.application.references if r.referee == name]
    if not found:
        yield Blocker(
            "unknown_referee",
            f"no referee {name!r} on record; add_reference first",
            {"referee": name},
        )
    elif ctx.event == "contact_reference" and not found[-1].consent:
        yield Blocker(
            "referee_consent_missing",
            f"referee {name!r} has not consented to be contacted",
            {"referee": name},
        )
    elif ctx.event == "complete_reference" and found[-1].contacted_at is None:
        yield Blocker(
            "referee_not_contacted",
            f"referee {name!r} has not been contacted yet (contact_reference)",
            {"referee": name},
        )


def reference_notice_given(ctx: Context) -> Iterator[Blocker]:
    """The candidate was told before any referee is contacted."""
    if ctx.application.reference_notice_at is None:
        yield Blocker(
            "reference_notice_missing",
            "tell the candidate before any referee is contacted (send_reference_notice)",
        )


def referee_new(ctx: Context) -> Iterator[Blocker]:
    """No referee of that name is on record yet."""
    name = ctx.data.value("referee")
    if any(r.referee == name for r in ctx.application.references):
        yield Blocker(
            "duplicate_referee", f"referee {name!r} is already on record", {"referee": name}
        )


STANDARD_GUARDS: dict[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        GuardSpec("requisition_open", requisition_open, "the requisition has open headcount"),
        GuardSpec("interview_held", interview_held, "the round's interview has been held"),
        GuardSpec(
            "scorecards_complete",
            scorecards_complete,
            "every interviewer submitted a scorecard",
            checks="debrief",
        ),
        GuardSpec("below_max_rounds", below_max_rounds, "rounds below the policy's maximum"),
        GuardSpec("interviewers_named", interviewers_named, "the next round's interviewers named"),
        GuardSpec(
            "debrief_recommends_hire", debrief_recommends_hire, "the debrief recommends hiring"
        ),
        GuardSpec(
            "approvals_granted",
            approvals_granted,
            "every required approval granted",
            checks="approval",
        ),
        GuardSpec(
            "pay_inside_band",
            pay_inside_band,
            "proposed pay inside the approved band",
            checks="approval",
        ),
        GuardSpec(
            "references_ready",
            references_ready,
            "candidate told first; references complete",
            checks="references",
        ),
        GuardSpec("offer_terms_valid", offer_terms_valid, "offer terms inside the approved band"),
        GuardSpec("offer_not_expired", offer_not_expired, "the offer has not expired"),
        GuardSpec("offer_past_valid_until", offer_past_valid_until, "the offer's date has passed"),
        GuardSpec("rejection_explained", rejection_explained, "a reason and feedback"),
        GuardSpec("reason_given", reason_given, "a reason"),
        GuardSpec("warm_until_set", warm_until_set, "a warm-until date and consent"),
        GuardSpec("interviewer_assigned", interviewer_assigned, "the author interviews the round"),
        GuardSpec("approver_in_chain", approver_in_chain, "the approver's step is open"),
        GuardSpec(
            "absent_approver_in_chain",
            absent_approver_in_chain,
            "the replaced approver is in the chain",
        ),
        GuardSpec("referee_known", referee_known, "the referee is on record (and consented)"),
        GuardSpec("referee_new", referee_new, "the referee is not on record yet"),
        GuardSpec(
            "reference_notice_given",
            reference_notice_given,
            "the candidate was told first",
            checks="references",
        ),
    )
}
