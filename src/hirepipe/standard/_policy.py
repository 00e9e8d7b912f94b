"""The standard post-interview lifecycle: the design's tables, as a ``Policy``."""

from __future__ import annotations

from hirepipe.policy import (
    ACTIVE,
    ANY,
    OPEN,
    PREVIOUS,
    Duration,
    EventSpec,
    Owner,
    Policy,
    PolicySettings,
    RejectionSide,
    Role,
    ScorecardScheme,
    ServiceLevel,
    StageKind,
    StageRole,
    StageSpec,
)
from hirepipe.policy._registry import Registry, register_built_in
from hirepipe.standard._background import with_background_check
from hirepipe.standard._effects import STANDARD_EFFECTS
from hirepipe.standard._feedback import with_feedback_requests
from hirepipe.standard._guards import STANDARD_GUARDS
from hirepipe.standard._keep_in_touch import with_keep_in_touch_from_rejection
from hirepipe.standard._notifications import STANDARD_NOTIFICATIONS
from hirepipe.standard._position import POSITION_EFFECTS, with_position_approval
from hirepipe.standard._scheduling import with_next_round_scheduling
from hirepipe.standard._scorecards import with_structured_scorecards
from hirepipe.standard._signatures import with_offer_signatures

__all__ = [
    "STANDARD_OPTIONS",
    "STANDARD_REJECTION_REASONS",
    "standard_policy",
    "standard_registry",
]

STANDARD_REJECTION_REASONS: dict[str, RejectionSide] = {
    # company side
    "skills": RejectionSide.company,
    "experience": RejectionSide.company,
    "role_filled": RejectionSide.company,
    "stronger_candidate": RejectionSide.company,
    "budget": RejectionSide.company,
    "position_cancelled": RejectionSide.company,
    "references": RejectionSide.company,
    "other_company": RejectionSide.company,
    # candidate side
    "declined_offer": RejectionSide.candidate,
    "withdrew": RejectionSide.candidate,
    "accepted_elsewhere": RejectionSide.candidate,
    "compensation": RejectionSide.candidate,
    "location": RejectionSide.candidate,
    "unresponsive": RejectionSide.candidate,
    "other_candidate": RejectionSide.candidate,
}
"""Rejection reasons and the side each belongs to."""


def _prior(name: str) -> Duration:
    """The priors' published or assumed figure for the standard stage ``name``."""
    return Duration(prior=name)


_STAGES = (
    StageSpec(
        "interviewed",
        StageKind.active,
        "an interview round was held",
        role=StageRole.assessment,
        service=ServiceLevel("scorecard_days", Owner.interviewers, "scorecards"),
        duration=_prior("interviewed"),
    ),
    StageSpec(
        "debrief",
        StageKind.active,
        "interviewers submit scorecards and discuss",
        role=StageRole.assessment,
        service=ServiceLevel("scorecard_days", Owner.interviewers, "scorecards"),
        duration=_prior("debrief"),
    ),
    StageSpec(
        "review",
        StageKind.active,
        "the candidate is compared with the whole slate",
        role=StageRole.review,
        service=ServiceLevel(
            "review_days",
            Owner.hiring_manager,
            "review",
            "decide on {name}: another round, approval, the talent pool or a rejection",
        ),
        duration=_prior("review"),
        forward="request_approval",
    ),
    StageSpec(
        "next_round",
        StageKind.active,
        "another interview round is scheduled",
        role=StageRole.assessment,
        duration=_prior("next_round"),
    ),
    StageSpec(
        "approval",
        StageKind.active,
        "position and budget approval for an offer",
        role=StageRole.in_flight,
        service=ServiceLevel(
            "approval_days", Owner.approvers, "approval", "approve or refuse an offer to {name}"
        ),
        duration=_prior("approval"),
    ),
    StageSpec(
        "references",
        StageKind.active,
        "reference checks, the candidate told first",
        role=StageRole.in_flight,
        service=ServiceLevel(
            "reference_check_days",
            Owner.hiring_manager,
            "references",
            "finish the reference checks of {name}",
        ),
        duration=_prior("references"),
    ),
    StageSpec(
        "offer",
        StageKind.active,
        "an offer is out",
        role=StageRole.in_flight,
        service=ServiceLevel("offer_validity_days", Owner.candidate, "offer_expiry"),
        duration=_prior("offer"),
    ),
    StageSpec(
        "negotiation",
        StageKind.active,
        "the candidate countered",
        role=StageRole.in_flight,
        duration=_prior("negotiation"),
    ),
    StageSpec("talent_pool", StageKind.pool, "kept warm: a runner-up or a future fit"),
    StageSpec("on_hold", StageKind.paused, "paused; resumes where it left"),
    StageSpec("hired", StageKind.terminal, "offer accepted", role=StageRole.hired),
    StageSpec("declined", StageKind.terminal, "offer declined"),
    StageSpec("rejected", StageKind.terminal, "the company said no"),
    StageSpec("withdrawn", StageKind.terminal, "the candidate withdrew"),
)

# name, sources, dest, guards, effect, description
_EVENTS: tuple[tuple[str, tuple[str, ...], str | None, tuple[str, ...], str | None, str], ...] = (
    ("start_debrief", ("interviewed",), "debrief", ("interview_held",), None, "start the debrief"),
    ("complete_debrief", ("debrief",), "review", ("scorecards_complete",), None, "debrief done"),
    (
        "schedule_next_round",
        ("review",),
        "next_round",
        ("below_max_rounds", "interviewers_named"),
        "schedule_round",
        "schedule another interview round",
    ),
    ("round_held", ("next_round",), "interviewed", ("interview_held",), "mark_held", "round held"),
    (
        "request_approval",
        ("review",),
        "approval",
        ("requisition_open", "debrief_recommends_hire"),
        "propose_salary",
        "ask for position and budget approval",
    ),
    (
        "approve",
        ("approval",),
        "references",
        ("approvals_granted", "pay_inside_band"),
        "grant",
        "approval granted",
    ),
    (
        "extend_offer",
        ("references",),
        "offer",
        ("references_ready", "offer_terms_valid"),
        "make_offer",
        "put out an offer",
    ),
    ("counter", ("offer",), "negotiation", ("offer_not_expired",), "counter", "candidate counters"),
    (
        "revise_offer",
        ("negotiation",),
        "offer",
        ("offer_terms_valid",),
        "make_offer",
        "put out a revised offer",
    ),
    (
        "accept",
        ("offer",),
        "hired",
        ("offer_not_expired", "requisition_open"),
        "accept_offer",
        "candidate accepts",
    ),
    ("decline", ("offer", "negotiation"), "declined", (), "decline_offer", "candidate declines"),
    (
        "expire",
        ("offer", "negotiation"),
        "declined",
        ("offer_past_valid_until",),
        "expire_offer",
        "the offer lapsed",
    ),
    ("reject", (OPEN,), "rejected", ("rejection_explained",), "record_rejection", "say no"),
    ("withdraw", (OPEN,), "withdrawn", (), "withdraw", "the candidate withdrew"),
    (
        "keep_warm",
        ("review", "approval", "references", "declined"),
        "talent_pool",
        ("warm_until_set",),
        "warm",
        "keep in the talent pool",
    ),
    (
        "reactivate",
        ("talent_pool",),
        "review",
        ("requisition_open",),
        "retarget",
        "back into review, for this or another requisition",
    ),
    ("hold", (ACTIVE,), "on_hold", ("reason_given",), "hold", "pause"),
    ("resume", ("on_hold",), PREVIOUS, ("reason_given",), "resume", "resume where it left"),
    (
        "reopen",
        ("rejected",),
        "review",
        ("reason_given", "target_requisition_usable"),
        "reopen",
        "undo a rejection, for this or another requisition",
    ),
    # activities: recorded, no stage change
    ("note", (ANY,), None, (), "note", "a note"),
    ("thank_you_received", (ANY,), None, (), "note", "the candidate sent a thank-you note"),
    ("inquiry", (ANY,), None, (), "note", "the candidate asked where things stand"),
    ("thank_you_sent", (ANY,), None, (), "note", "the company thanked the candidate"),
    (
        "status_update",
        (ANY,),
        None,
        (),
        "note",
        "the company told the candidate where things stand",
    ),
    (
        "renew_consent",
        ("talent_pool",),
        None,
        ("warm_until_set",),
        "warm",
        "the candidate renewed their consent to stay in touch, until a new date",
    ),
    (
        "submit_scorecard",
        ("interviewed", "debrief", "review"),
        None,
        ("interviewer_assigned",),
        "add_scorecard",
        "an interviewer's scorecard",
    ),
    (
        "record_approval",
        ("approval", "negotiation"),
        None,
        ("approver_in_chain",),
        "add_approval",
        "an approver's decision",
    ),
    (
        "replace_approver",
        ("review", "approval", "references", "negotiation"),
        None,
        ("reason_given", "absent_approver_in_chain"),
        "substitute_approver",
        "an approver away: a substitute decides instead",
    ),
    (
        "add_reference",
        ("approval", "references"),
        None,
        ("referee_new",),
        "add_reference",
        "a referee",
    ),
    (
        "send_reference_notice",
        ("approval", "references"),
        None,
        (),
        "send_notice",
        "tell the candidate referees will be contacted",
    ),
    (
        "contact_reference",
        ("references",),
        None,
        ("reference_notice_given", "referee_known"),
        "contact_reference",
        "a referee contacted",
    ),
    (
        "complete_reference",
        ("references",),
        None,
        ("reference_notice_given", "referee_known"),
        "complete_reference",
        "a reference check ended",
    ),
)


_HM, _RECRUITER, _APPROVER = Role.hiring_manager, Role.recruiter, Role.approver
_INTERVIEWER, _CANDIDATE, _SYSTEM = Role.interviewer, Role.candidate, Role.system
_STAFF = (_HM, _RECRUITER)

# event: the roles that fire it. The slate's fills and fall-throughs and the offer sweep fire as
# the system; the candidate's own decisions are the candidate's.
_FIRED_BY: dict[str, tuple[Role, ...]] = {
    "start_debrief": _STAFF,
    "complete_debrief": _STAFF,
    "schedule_next_round": _STAFF,
    "round_held": (*_STAFF, _INTERVIEWER),
    "request_approval": (*_STAFF, _SYSTEM),
    "approve": (*_STAFF, _APPROVER),
    "extend_offer": _STAFF,
    "counter": (_CANDIDATE,),
    "revise_offer": _STAFF,
    "accept": (_CANDIDATE,),
    "decline": (_CANDIDATE,),
    "expire": (_SYSTEM, *_STAFF),
    "reject": (*_STAFF, _SYSTEM),
    "withdraw": (_CANDIDATE,),
    "keep_warm": (*_STAFF, _SYSTEM),
    "reactivate": (*_STAFF, _SYSTEM),
    "renew_consent": (_CANDIDATE,),
    "hold": (*_STAFF, _APPROVER),  # a budget freeze may come from finance
    "resume": (*_STAFF, _APPROVER),
    "reopen": _STAFF,
    "note": (*_STAFF, _INTERVIEWER, _APPROVER),
    "thank_you_received": (_CANDIDATE, *_STAFF),
    "inquiry": (_CANDIDATE, *_STAFF),
    "thank_you_sent": (*_STAFF, _SYSTEM),
    "status_update": (*_STAFF, _SYSTEM),
    "submit_scorecard": (_INTERVIEWER,),
    "record_approval": (_APPROVER,),
    "replace_approver": _STAFF,
    "add_reference": (*_STAFF, _CANDIDATE),
    "send_reference_notice": (*_STAFF, _SYSTEM),
    "contact_reference": _STAFF,
    "complete_reference": _STAFF,
}
"""Who fires each standard event, by role."""

_ON_BEHALF: dict[str, tuple[Role, ...]] = {
    # an answer given by phone or e-mail is recorded by the company, for the candidate
    "counter": _STAFF,
    "accept": _STAFF,
    "decline": _STAFF,
    "withdraw": _STAFF,
    "renew_consent": _STAFF,
}
"""Who may fire a standard event for the person it belongs to; no other event allows it.

Approvals and scorecards are their authors' own: allow more with
``policy.with_permissions("record_approval", on_behalf=["recruiter"])``.
"""


STANDARD_OPTIONS: dict[str, str] = {
    "position_approval": "budgets approved once per requisition; offers by the terms they change",
    "background_check": "a background check under the FCRA between references and the offer",
    "offer_signatures": "the offer document sent, viewed, signed and countersigned",
    "feedback_requests": "a rejected candidate's feedback request, owed by a deadline",
    "keep_in_touch_from_rejection": "keep in touch from a rejection, with consent and expiry",
    "next_round_scheduling": "the next round scheduled in steps, each with a deadline",
}
"""The switches of [`standard_policy`][hirepipe.standard.standard_policy] that take ``True``,
each with what it turns on (``structured_scorecards`` takes a scheme instead).

```python
everything = standard_policy(**dict.fromkeys(STANDARD_OPTIONS, True))
```
"""


def standard_policy(
    settings: PolicySettings | None = None,
    *,
    structured_scorecards: ScorecardScheme | None = None,
    offer_signatures: bool = False,
    feedback_requests: bool = False,
    keep_in_touch_from_rejection: bool = False,
    next_round_scheduling: bool = False,
    position_approval: bool = False,
    background_check: bool = False,
) -> Policy:
    """Return the standard lifecycle of the design document, a new immutable policy.

    ``settings`` replaces the default [`PolicySettings`][hirepipe.policy.PolicySettings].
    Optional features, off by default:

    - ``structured_scorecards``: attribute ratings and each round's focus attributes, with
      this scheme (so does a ``settings.scorecard``):
      [`with_structured_scorecards`][hirepipe.standard.with_structured_scorecards];
      see ``docs/scorecards.md``.
    - ``offer_signatures``: the offer document is sent, viewed, signed by the candidate and
      countersigned, each stamped on its offer version, and ``accept`` waits for the
      signatures (the ``countersignature_required`` setting); see ``docs/offers.md``.
    - ``feedback_requests``: a rejected candidate asks for feedback (``request_feedback``),
      owed within ``feedback_days`` by the recruiter, closed by ``send_feedback``;
      see ``docs/service-levels.md``.
    - ``keep_in_touch_from_rejection``: ``keep_warm`` leads from ``rejected`` too, with the
      candidate's consent and a ``warm_until`` at most ``warm_days`` away (``renew_consent``
      alike).
    - ``next_round_scheduling``: the next round is scheduled in steps (availability
      requested and given, slots proposed, scheduled), each with a deadline and an owner.
    - ``position_approval``: budgets approved once per requisition: the position's chain
      approves opening it and its band
      ([`hirepipe.positions.Positions`][hirepipe.positions.Positions]), an offer inside that
      band needs only the offer approval steps (``settings.offer_approval_fields``, none by
      default), one outside it waits for the position's band to be approved again, and only
      an open requisition takes offers; see ``docs/position-approval.md``.
    - ``background_check``: a background check between the references and the offer, under
      the U.S. FCRA's disclosure, authorization and adverse-action rules: the candidate's
      written authorization first, an individualized assessment of a "consider" result, the
      pre-adverse action notice, a waiting period in the requisition's business days, the
      final adverse action notice; see ``docs/background-checks.md``.
    """
    events = [
        EventSpec(
            name=name,
            sources=sources,
            dest=dest,
            guards=tuple(STANDARD_GUARDS[g] for g in guards),
            effect=STANDARD_EFFECTS[effect] if effect is not None else None,
            description=description,
            retarget=name in {"reactivate", "reopen"},
            fired_by=_FIRED_BY[name],
            on_behalf=_ON_BEHALF.get(name, ()),
        )
        for name, sources, dest, guards, effect, description in _EVENTS
    ]
    policy = Policy(
        name="standard",
        version="1",
        stages=_STAGES,
        initial="interviewed",
        events=events,
        settings=settings,
        rejection_reasons=STANDARD_REJECTION_REASONS,
        notifications=STANDARD_NOTIFICATIONS,
    )
    if structured_scorecards is not None or policy.settings.scorecard is not None:
        policy = with_structured_scorecards(policy, structured_scorecards)
    if offer_signatures:
        policy = with_offer_signatures(policy)
    if feedback_requests:
        policy = with_feedback_requests(policy)
    if keep_in_touch_from_rejection:
        policy = with_keep_in_touch_from_rejection(policy)
    if next_round_scheduling:
        policy = with_next_round_scheduling(policy)
    if position_approval:
        policy = with_position_approval(policy)
    if background_check:
        policy = with_background_check(policy)
    return policy


def standard_registry() -> Registry:
    """Return a new registry holding the standard policy's guards and effects.

    A company adds its own to it (``registry.add_guard``) to load a policy file that names both.
    """
    return Registry(
        guards=STANDARD_GUARDS.values(),
        effects=[*STANDARD_EFFECTS.values(), *POSITION_EFFECTS.values()],
    )


register_built_in(standard_registry)
