"""The standard policy's guards and their table; each yields one Blocker per reason.

Blocker codes are stable. The guards on approvals live with the approval chains
(``hirepipe.standard._approvals``), those on offer terms with the offers
(``hirepipe.standard._offers``).
"""

from __future__ import annotations

from collections.abc import Iterator

from hirepipe.errors import Blocker
from hirepipe.models import ReferenceOutcome, ReferenceStatus, RequisitionStatus
from hirepipe.policy import Context, GuardSpec
from hirepipe.standard._approvals import (
    absent_approver_in_chain,
    approvals_granted,
    approver_in_chain,
    pay_inside_band,
)
from hirepipe.standard._background import BACKGROUND_GUARDS
from hirepipe.standard._feedback import FEEDBACK_GUARDS
from hirepipe.standard._keep_in_touch import KEEP_IN_TOUCH_GUARDS, warm_until_set
from hirepipe.standard._offers import offer_not_expired, offer_past_valid_until, offer_terms_valid
from hirepipe.standard._position import POSITION_GUARDS
from hirepipe.standard._scheduling import SCHEDULING_GUARDS
from hirepipe.standard._scorecards import SCORECARD_GUARDS
from hirepipe.standard._signatures import SIGNATURE_GUARDS

__all__ = ["STANDARD_GUARDS"]


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
    # the class's own table: ``model_fields`` is a property pydantic computes anew on each read
    recorded = "held_at" in type(ctx.data).__pydantic_fields__
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
            f"{len(missing)} of {len(expected)} scorecards missing: {', '.join(missing)}",
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
            f"referees contacted before the candidate was told: {', '.join(early)}",
            {"referees": early},
        )
    bad = [r.referee for r in app.references if r.outcome is ReferenceOutcome.unsatisfactory]
    if bad:
        yield Blocker(
            "reference_unsatisfactory",
            f"unsatisfactory references: {', '.join(bad)}",
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
    """The event carries a reason that says something: blank text is no reason.

    Holds, resumes, reopenings and substitutions are audited.
    """
    if not (ctx.reason and ctx.reason.strip()):
        yield Blocker("reason_missing", f"say why ({ctx.event}: reason='...')", needs_input=True)


def target_requisition_usable(ctx: Context) -> Iterator[Blocker]:
    """The requisition an application moves to is passed with the event and not cancelled.

    Moving by id alone would put the application into a requisition nobody checked: one that
    does not exist, or was cancelled. Without either, the application stays where it is.
    """
    requisition = ctx.requisition
    named = ctx.data.value("requisition_id")
    if requisition is None:
        if named is not None and named != ctx.application.requisition_id:
            yield Blocker(
                "requisition_required",
                f"pass the requisition {named!r} itself (requisition=...), so that it can be "
                "checked",
                {"requisition_id": named},
                needs_input=True,
            )
        return
    if named is not None and named != requisition.id:
        yield Blocker(
            "target_requisition_mismatch",
            f"requisition_id {named!r} names another requisition than the one passed "
            f"({requisition.id!r}); give one of them",
            {"requisition_id": named, "requisition": requisition.id},
        )
    if requisition.status is RequisitionStatus.cancelled:
        yield Blocker(
            "requisition_cancelled",
            f"requisition {requisition.id!r} was cancelled; choose an open one",
            {"requisition": requisition.id},
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
            f"{', '.join(list(interview.interviewers))}",
            {"interviewer": author, "round": round_number},
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
        GuardSpec(
            "target_requisition_usable",
            target_requisition_usable,
            "the requisition moved to is passed, not cancelled",
        ),
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
        # the optional parts: standard_policy(feedback_requests=True, ...)
        *FEEDBACK_GUARDS,
        *KEEP_IN_TOUCH_GUARDS,
        *SCHEDULING_GUARDS,
    )
} | POSITION_GUARDS
STANDARD_GUARDS.update(SCORECARD_GUARDS)  # on with structured_scorecards
STANDARD_GUARDS.update(SIGNATURE_GUARDS)  # standard_policy(offer_signatures=True)
STANDARD_GUARDS.update(BACKGROUND_GUARDS)  # standard_policy(background_check=True)
