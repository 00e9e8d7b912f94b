"""Background checks under the U.S. FCRA's adverse-action rules: an option of the standard policy.

```python
policy = standard_policy(background_check=True)
```

Between the references and the offer the application passes a ``background_check`` stage:
the candidate is given a standalone disclosure and authorizes the check in writing before it is
ordered; a "consider" (or "failed") result goes to ``adjudication``, an individualized
assessment; an adverse decision sends the pre-adverse action notice (with a copy of the report
and the summary of rights) and opens ``pre_adverse_action``, a waiting period of business days
in the requisition's calendar during which the candidate may dispute the report
(``background_dispute``); only then may the final adverse action notice end the application.
The rules, each with its source: ``docs/background-checks.md``. Not legal advice.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pendulum
from pydantic import StrictBool

from hirepipe.errors import Blocker
from hirepipe.models import (
    AdjudicationDecision,
    Application,
    BackgroundCheck,
    BackgroundResult,
    DisputeOutcome,
    Identifier,
    Name,
    Rejection,
    Text,
)
from hirepipe.policy import (
    Change,
    Context,
    Duration,
    EffectSpec,
    EventData,
    EventSpec,
    GuardSpec,
    NotificationRule,
    Owner,
    Policy,
    Recipient,
    RejectionSide,
    Role,
    ServiceLevel,
    StageKind,
    StageRole,
    StageSpec,
)
from hirepipe.policy._derive import rebuild

if TYPE_CHECKING:
    from hirepipe.timeline.calendar import BusinessCalendar

__all__ = [
    "ADVERSE_ACTION_REASON",
    "BACKGROUND_EFFECTS",
    "BACKGROUND_GUARDS",
    "BACKGROUND_NOTIFICATIONS",
    "BACKGROUND_STAGES",
    "AdjudicationData",
    "AuthorizationData",
    "BackgroundOrderData",
    "BackgroundResultData",
    "DisclosureData",
    "DisputeData",
    "DisputeResolutionData",
    "FinalAdverseActionData",
    "PreAdverseNoticeData",
    "waiting_period",
    "with_background_check",
]

_CHECK, _ADJUDICATION = "background_check", "adjudication"
_PRE_ADVERSE, _DISPUTE = "pre_adverse_action", "background_dispute"
_BEFORE = ("approval", "references")  # where the disclosure and the authorization are given
_REJECTED = "rejected"

BACKGROUND_STAGES: tuple[str, ...] = (_CHECK, _ADJUDICATION, _PRE_ADVERSE, _DISPUTE)
"""The stages the option adds, in the order an application may pass them."""

ADVERSE_ACTION_REASON = "background_check"
"""The rejection reason the final adverse action records (company side); ``reject`` refuses it."""


# -- what each event accepts -----------------------------------------------------------------


class DisclosureData(EventData):
    """``send_background_disclosure``: the disclosure document given (its id or version)."""

    document: Identifier | None = None


class AuthorizationData(EventData):
    """``authorize_background_check``: the candidate's signed authorization (its id)."""

    document: Identifier | None = None


class BackgroundOrderData(EventData):
    """``start_background_check``: the consumer reporting agency the check is ordered from.

    Its name and contact details (address, telephone) go into the final adverse action
    notice (15 U.S.C. 1681m(a)(3)).
    """

    provider: Name
    provider_contact: Name


class BackgroundResultData(EventData):
    """``record_background_result``: the provider's result and the report's id."""

    result: BackgroundResult
    report: Identifier


class AdjudicationData(EventData):
    """``record_adjudication``: the decision and the individualized assessment behind it."""

    decision: AdjudicationDecision
    assessment: Text = ""


class PreAdverseNoticeData(EventData):
    """``send_pre_adverse_notice``: the notice carries the report and the summary of rights.

    Both must be confirmed (15 U.S.C. 1681b(b)(3)(A)): a copy of the report, and "A Summary of
    Your Rights Under the Fair Credit Reporting Act" in the CFPB's form.
    """

    report_enclosed: StrictBool = False
    summary_of_rights_enclosed: StrictBool = False
    text: Text = ""


class DisputeData(EventData):
    """``dispute_background_check``: what the candidate says is wrong or incomplete."""

    text: Text = ""


class DisputeResolutionData(EventData):
    """``resolve_dispute``: how the dispute ended; an amended report is named by its id."""

    outcome: DisputeOutcome
    report: Identifier | None = None
    text: Text = ""


class FinalAdverseActionData(EventData):
    """``final_adverse_action``: anything the company adds to the final notice."""

    text: Text = ""


# -- the state of a check --------------------------------------------------------------------


def _check(app: Application) -> BackgroundCheck:
    return app.background_check or BackgroundCheck()


def _cleared(check: BackgroundCheck) -> bool:
    """Whether the check allows the offer: a clear result, a decision or a dispute for it."""
    if check.result is None:
        return False
    if check.dispute_outcome is DisputeOutcome.cleared:
        return True
    return check.decision is AdjudicationDecision.proceed or check.result is BackgroundResult.clear


def _local(ctx: Context, moment: pendulum.DateTime) -> str:
    zone = ctx.requisition.time_zone if ctx.requisition is not None else "UTC"
    return moment.in_timezone(zone).isoformat()


def waiting_period(
    calendar: BusinessCalendar, sent_at: pendulum.DateTime, days: int
) -> tuple[pendulum.DateTime, list[tuple[pendulum.Date, str]]]:
    """When the waiting period after a notice sent at ``sent_at`` ends, and its holidays.

    The period is the ``days`` business days of ``calendar`` after the local day the notice
    was sent (that day does not count: it may be sent in the evening); it ends at the local
    midnight after the last of them. A holiday inside it is not a business day, so it
    extends the period. Returns the end and the holidays (date, name) between.
    """
    sent = calendar.local_date(sent_at)
    first = calendar.roll(sent.add(days=1))
    last = calendar.add_business_days(first, days - 1)
    end = last.add(days=1)
    until = pendulum.datetime(end.year, end.month, end.day, tz=calendar.time_zone)
    return until, calendar.holidays_between(sent.add(days=1), end)


# -- guards ----------------------------------------------------------------------------------


def background_disclosed(ctx: Context) -> Iterator[Blocker]:
    """The standalone disclosure was given before the candidate authorizes the check."""
    if _check(ctx.application).disclosed_at is None:
        yield Blocker(
            "background_disclosure_missing",
            "give the candidate the standalone disclosure first (send_background_disclosure)",
        )


def background_authorized(ctx: Context) -> Iterator[Blocker]:
    """The candidate authorized the check in writing, after the disclosure: no check without."""
    check = _check(ctx.application)
    if check.disclosed_at is None:
        yield Blocker(
            "background_disclosure_missing",
            "give the candidate the standalone disclosure (send_background_disclosure), then "
            "record their written authorization (authorize_background_check)",
        )
    elif check.authorized_at is None:
        yield Blocker(
            "background_authorization_missing",
            "no background check starts without the candidate's written authorization "
            "(authorize_background_check)",
        )
    elif check.authorized_at < check.disclosed_at:
        yield Blocker(
            "background_authorization_stale",
            "the disclosure was given again after the authorization: the candidate authorizes "
            "the disclosure they were given (authorize_background_check)",
            {
                "disclosed_at": check.disclosed_at.isoformat(),
                "authorized_at": check.authorized_at.isoformat(),
            },
        )


def _result_pending(check: BackgroundCheck) -> Blocker:
    return Blocker(
        "background_result_pending",
        "the background check has not come back yet (record_background_result)",
    )


def background_needs_assessment(ctx: Context) -> Iterator[Blocker]:
    """The result is "consider" or "failed": there is something to assess."""
    check = _check(ctx.application)
    if check.result is None:
        yield _result_pending(check)
    elif check.result is BackgroundResult.clear:
        yield Blocker(
            "background_result_clear",
            "the background check came back clear: nothing to assess, go on to the offer",
        )


def background_cleared(ctx: Context) -> Iterator[Blocker]:
    """The check allows the offer: a clear result, a decision to proceed, a dispute cleared."""
    check = _check(ctx.application)
    if check.result is None:
        yield _result_pending(check)
    elif _cleared(check):
        return
    elif ctx.application.stage == _CHECK:
        yield Blocker(
            "background_assessment_needed",
            f"the background check came back {check.result}: assess it individually "
            "(start_adjudication) before deciding",
            {"result": check.result.value},
        )
    elif ctx.application.stage == _DISPUTE and check.dispute_outcome is None:
        yield Blocker(
            "background_dispute_open",
            "the candidate disputes the report: wait for the dispute to be resolved "
            "(resolve_dispute)",
        )
    elif check.decision is None:
        yield Blocker(
            "background_decision_pending",
            "record the individualized assessment and its decision (record_adjudication)",
        )
    else:
        yield Blocker(
            "background_adverse",
            "the background check stands against an offer: decide to proceed "
            "(record_adjudication) or follow the adverse-action steps",
            {"result": check.result.value},
        )


def adverse_decision_made(ctx: Context) -> Iterator[Blocker]:
    """An adverse decision: a "failed" result, an assessment against, an amended report."""
    check, stage = _check(ctx.application), ctx.application.stage
    if check.result is None:
        yield _result_pending(check)
    elif _cleared(check):
        yield Blocker(
            "background_not_adverse",
            "the background check allows the offer: there is no adverse action to announce",
        )
    elif stage == _CHECK and check.result is not BackgroundResult.failed:
        yield Blocker(
            "background_assessment_needed",
            'a "consider" result is assessed individually first (start_adjudication)',
            {"result": check.result.value},
        )
    elif stage == _ADJUDICATION and check.decision is not AdjudicationDecision.adverse:
        yield Blocker(
            "background_decision_pending",
            "record the individualized assessment and an adverse decision first "
            "(record_adjudication)",
        )
    elif stage == _DISPUTE and check.dispute_outcome is not DisputeOutcome.amended:
        yield Blocker(
            "background_dispute_not_amended",
            "a new pre-adverse action notice follows an amended report only; "
            + (
                "the dispute is still open (resolve_dispute)"
                if check.dispute_outcome is None
                else "the report stands: take the final adverse action (final_adverse_action)"
            ),
        )


def pre_adverse_enclosures(ctx: Context) -> Iterator[Blocker]:
    """The pre-adverse action notice carries a copy of the report and the summary of rights."""
    missing = [
        label
        for field, label in (
            ("report_enclosed", "a copy of the report (report_enclosed=True)"),
            (
                "summary_of_rights_enclosed",
                '"A Summary of Your Rights Under the FCRA" (summary_of_rights_enclosed=True)',
            ),
        )
        if not ctx.data.value(field)
    ]
    if missing:
        yield Blocker(
            "pre_adverse_enclosures_missing",
            f"the pre-adverse action notice must carry {' and '.join(missing)}",
            {"missing": missing},
            needs_input=True,
        )
    if ctx.requisition is None:
        yield Blocker(
            "requisition_required",
            "pass the requisition: the waiting period is counted in its calendar "
            f"(requisition {ctx.application.requisition_id!r})",
            needs_input=True,
        )


def _waiting(ctx: Context, check: BackgroundCheck) -> Iterator[Blocker]:
    if check.pre_adverse_at is None or check.waiting_until is None:
        yield Blocker(
            "pre_adverse_notice_missing",
            "send the pre-adverse action notice, with the report and the summary of rights, "
            "and wait the waiting period (send_pre_adverse_notice)",
        )
    elif ctx.now < check.waiting_until:
        until = _local(ctx, check.waiting_until)
        yield Blocker(
            "adverse_action_waiting",
            f"the waiting period after the pre-adverse action notice of "
            f"{_local(ctx, check.pre_adverse_at)} ends at {until}: no final adverse action "
            "before then",
            {"waiting_until": until, "days": ctx.settings.adverse_action_waiting_days},
        )


def adverse_action_waiting_over(ctx: Context) -> Iterator[Blocker]:
    """The waiting period after the pre-adverse action notice has ended."""
    yield from _waiting(ctx, _check(ctx.application))


def adverse_decision_stands(ctx: Context) -> Iterator[Blocker]:
    """No dispute is open and nothing since the notice cleared the candidate."""
    check = _check(ctx.application)
    if _cleared(check):
        yield Blocker(
            "background_cleared",
            "the background check now allows the offer: extend it (extend_offer)",
        )
    elif ctx.application.stage == _DISPUTE and check.dispute_outcome is None:
        yield Blocker(
            "background_dispute_open",
            "the candidate disputes the report: no final decision until it is resolved "
            "(resolve_dispute)",
        )
    elif check.dispute_outcome is DisputeOutcome.amended:
        yield Blocker(
            "background_report_amended",
            "the report was amended: send a new pre-adverse action notice with it "
            "(send_pre_adverse_notice)",
        )


def background_assessment_given(ctx: Context) -> Iterator[Blocker]:
    """The decision comes with the individualized assessment behind it."""
    assessment = ctx.data.value("assessment") or ""
    if not assessment.strip():
        yield Blocker(
            "assessment_missing",
            "write the individualized assessment (assessment='...'): the nature of the "
            "finding, the time since, and its bearing on this job",
            needs_input=True,
        )


def amended_report_named(ctx: Context) -> Iterator[Blocker]:
    """An amended report is named by its id."""
    if ctx.data.value("outcome") is DisputeOutcome.amended and not ctx.data.value("report"):
        yield Blocker(
            "amended_report_missing",
            "name the amended report (report='...'): the new notice carries it",
            needs_input=True,
        )


def _in_check(app: Application) -> bool:
    return app.stage in BACKGROUND_STAGES or app.held_from in BACKGROUND_STAGES


def background_rejection_allowed(ctx: Context) -> Iterator[Blocker]:
    """A company-side rejection during an unsettled background check takes the FCRA steps."""
    app = ctx.application
    if ctx.reason == ADVERSE_ACTION_REASON:
        yield Blocker(
            "adverse_action_required",
            "a rejection because of a background check is an adverse action: send the "
            "pre-adverse action notice, wait, then take the final adverse action "
            "(final_adverse_action)",
            needs_input=True,
        )
        return
    if not _in_check(app):
        return
    check = _check(app)
    side = ctx.policy.rejection_reasons.get(ctx.reason or "")
    if check.result is None or _cleared(check) or side is RejectionSide.candidate:
        return
    yield Blocker(
        "adverse_action_required",
        f"the background check came back {check.result} and is not settled: a company-side "
        "rejection now is presumed to rest on it; follow the adverse-action steps "
        "(send_pre_adverse_notice, the waiting period, final_adverse_action)",
        {"result": check.result.value},
    )


def _guard(function: Any, description: str, checks: str | None = None) -> GuardSpec:
    return GuardSpec(function.__name__, function, description, checks)


BACKGROUND_GUARDS: dict[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        _guard(background_disclosed, "the standalone disclosure was given first"),
        _guard(background_authorized, "the candidate authorized the check in writing"),
        _guard(background_needs_assessment, 'a "consider" or "failed" result'),
        _guard(background_cleared, "the background check allows the offer", _CHECK),
        _guard(adverse_decision_made, "an adverse decision on the background check"),
        _guard(pre_adverse_enclosures, "the notice carries the report and the summary of rights"),
        _guard(
            adverse_action_waiting_over, "the waiting period after the pre-adverse notice ended"
        ),
        _guard(adverse_decision_stands, "no open dispute; nothing cleared the candidate since"),
        _guard(background_assessment_given, "an individualized assessment"),
        _guard(amended_report_named, "an amended report is named"),
        _guard(background_rejection_allowed, "no rejection around the adverse-action steps"),
    )
}
"""The guards of the background-check option, by name (also in ``STANDARD_GUARDS``)."""


# -- effects ---------------------------------------------------------------------------------


def _update(ctx: Context, facts: dict[str, Any] | None = None, **fields: Any) -> Change:
    check = _check(ctx.application).model_copy(update=fields)
    return Change({"background_check": check}, facts or {})


def disclose_background_check(ctx: Context) -> Change:
    """Record that the standalone disclosure was given now."""
    return _update(ctx, disclosed_at=ctx.now)


def authorize(ctx: Context) -> Change:
    """Record the candidate's written authorization."""
    return _update(ctx, authorized_at=ctx.now)


def order_background_check(ctx: Context) -> Change:
    """Order the check: a new one, keeping only the disclosure and the authorization."""
    data = ctx.data
    assert isinstance(data, BackgroundOrderData)
    before = _check(ctx.application)
    check = BackgroundCheck(
        disclosed_at=before.disclosed_at,
        authorized_at=before.authorized_at,
        provider=data.provider,
        provider_contact=data.provider_contact,
        ordered_at=ctx.now,
    )
    return Change({"background_check": check})


def record_background_result(ctx: Context) -> Change:
    """Keep the provider's result and the report's id."""
    data = ctx.data
    assert isinstance(data, BackgroundResultData)
    return _update(ctx, result=data.result, report=data.report, reported_at=ctx.now)


def adjudicate(ctx: Context) -> Change:
    """Keep the decision and the individualized assessment."""
    data = ctx.data
    assert isinstance(data, AdjudicationData)
    return _update(ctx, decision=data.decision, assessment=data.assessment, assessed_at=ctx.now)


def send_pre_adverse_notice(ctx: Context) -> Change:
    """Start the waiting period, counted in the requisition's calendar; any dispute is over."""
    # imported here: only a notice needs holiday data (and numpy); the rest of the lifecycle
    # runs without loading them
    from hirepipe.timeline.calendar import calendar_for

    assert ctx.requisition is not None  # pre_adverse_enclosures asks for it
    days = ctx.settings.adverse_action_waiting_days
    until, holidays = waiting_period(calendar_for(ctx.requisition), ctx.now, days)
    facts = {
        "waiting_until": until.isoformat(),
        "waiting_days": days,
        "holidays": [f"{day.isoformat()} {name}" for day, name in holidays],
        "report": _check(ctx.application).report,
    }
    return _update(
        ctx,
        facts,
        pre_adverse_at=ctx.now,
        waiting_until=until,
        disputed_at=None,
        dispute="",
        dispute_outcome=None,
        resolved_at=None,
    )


def dispute(ctx: Context) -> Change:
    """Record the candidate's dispute; the final decision waits for its resolution."""
    data = ctx.data
    assert isinstance(data, DisputeData)
    return _update(
        ctx, disputed_at=ctx.now, dispute=data.text, dispute_outcome=None, resolved_at=None
    )


def resolve_dispute(ctx: Context) -> Change:
    """Keep how the dispute ended (and the amended report)."""
    data = ctx.data
    assert isinstance(data, DisputeResolutionData)
    report = data.report or _check(ctx.application).report
    return _update(ctx, dispute_outcome=data.outcome, resolved_at=ctx.now, report=report)


def take_adverse_action(ctx: Context) -> Change:
    """The final adverse action: the rejection, and the agency the notice names."""
    data = ctx.data
    assert isinstance(data, FinalAdverseActionData)
    check = _check(ctx.application).model_copy(update={"final_notice_at": ctx.now})
    rejection = Rejection(
        reason=ADVERSE_ACTION_REASON,
        feedback=data.text or None,
        feedback_on_request=not data.text,
        rejected_at=ctx.now,
    )
    facts = {"provider": check.provider, "report": check.report}
    return Change({"background_check": check, "rejection": rejection}, facts)


BACKGROUND_EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec(
            "disclose_background_check", disclose_background_check, DisclosureData, trusted=True
        ),
        EffectSpec("authorize_background_check", authorize, AuthorizationData, trusted=True),
        EffectSpec(
            "order_background_check", order_background_check, BackgroundOrderData, trusted=True
        ),
        EffectSpec(
            "record_background_result",
            record_background_result,
            BackgroundResultData,
            trusted=True,
        ),
        EffectSpec("adjudicate", adjudicate, AdjudicationData, trusted=True),
        EffectSpec(
            "send_pre_adverse_notice", send_pre_adverse_notice, PreAdverseNoticeData, trusted=True
        ),
        EffectSpec("dispute_background_check", dispute, DisputeData, trusted=True),
        EffectSpec("resolve_dispute", resolve_dispute, DisputeResolutionData, trusted=True),
        EffectSpec(
            "take_adverse_action", take_adverse_action, FinalAdverseActionData, trusted=True
        ),
    )
}
"""The effects of the background-check option, by name (also in ``STANDARD_EFFECTS``)."""


# -- stages, events and notifications ----------------------------------------------------------

_STAGES = (
    StageSpec(
        _CHECK,
        StageKind.active,
        "a background check by a consumer reporting agency, authorized by the candidate",
        role=StageRole.in_flight,
        service=ServiceLevel(
            "background_check_days", Owner.outside, _CHECK, "chase the background check of {name}"
        ),
        duration=Duration(mean_days=3.0, cv=0.6),
        forward="extend_offer",
    ),
    StageSpec(
        _ADJUDICATION,
        StageKind.active,
        'an individualized assessment of a "consider" result',
        role=StageRole.in_flight,
        service=ServiceLevel(
            "adjudication_days",
            Owner.hiring_manager,
            _ADJUDICATION,
            "assess the background check of {name} and decide",
        ),
        duration=Duration(mean_days=2.0, cv=0.5),
        forward="extend_offer",
    ),
    StageSpec(
        _PRE_ADVERSE,
        StageKind.active,
        "pre-adverse action notice sent: the candidate's waiting period to respond or dispute",
        role=StageRole.in_flight,
        service=ServiceLevel(
            "adverse_action_days",
            Owner.hiring_manager,
            _PRE_ADVERSE,
            "after the waiting period, send {name} the final adverse action notice or go on",
        ),
        duration=Duration(mean_days=6.0, cv=0.2),
        forward="extend_offer",
    ),
    StageSpec(
        _DISPUTE,
        StageKind.active,
        "the candidate disputes the report; the final decision waits",
        role=StageRole.in_flight,
        service=ServiceLevel(
            "background_dispute_days",
            Owner.outside,
            _DISPUTE,
            "chase the reinvestigation of the report {name} disputes",
        ),
        duration=Duration(mean_days=15.0, cv=0.5),
        forward="extend_offer",
    ),
)

_HM, _RECRUITER, _CANDIDATE, _SYSTEM = (
    Role.hiring_manager,
    Role.recruiter,
    Role.candidate,
    Role.system,
)
_STAFF = (_HM, _RECRUITER)

# name, sources, dest, guards, effect, fired_by, on_behalf, description
_EVENTS: tuple[
    tuple[
        str,
        tuple[str, ...],
        str | None,
        tuple[str, ...],
        str | None,
        tuple[Role, ...],
        tuple[Role, ...],
        str,
    ],
    ...,
] = (
    (
        "send_background_disclosure",
        _BEFORE,
        None,
        (),
        "disclose_background_check",
        (*_STAFF, _SYSTEM),
        (),
        "give the candidate the standalone background-check disclosure",
    ),
    (
        "authorize_background_check",
        _BEFORE,
        None,
        ("background_disclosed",),
        "authorize_background_check",
        (_CANDIDATE,),
        _STAFF,
        "the candidate authorizes the background check in writing",
    ),
    (
        "record_background_result",
        (_CHECK,),
        None,
        (),
        "record_background_result",
        (*_STAFF, _SYSTEM),
        (),
        "the consumer reporting agency's result",
    ),
    (
        "start_adjudication",
        (_CHECK,),
        _ADJUDICATION,
        ("background_needs_assessment",),
        None,
        _STAFF,
        (),
        'assess a "consider" result individually',
    ),
    (
        "record_adjudication",
        (_ADJUDICATION, _PRE_ADVERSE),
        None,
        ("background_assessment_given",),
        "adjudicate",
        _STAFF,
        (),
        "the individualized assessment and its decision",
    ),
    (
        "send_pre_adverse_notice",
        (_CHECK, _ADJUDICATION, _DISPUTE),
        _PRE_ADVERSE,
        ("adverse_decision_made", "pre_adverse_enclosures"),
        "send_pre_adverse_notice",
        (*_STAFF, _SYSTEM),
        (),
        "the pre-adverse action notice, with the report and the summary of rights",
    ),
    (
        "dispute_background_check",
        (_PRE_ADVERSE,),
        _DISPUTE,
        (),
        "dispute_background_check",
        (_CANDIDATE,),
        _STAFF,
        "the candidate disputes the report",
    ),
    (
        "resolve_dispute",
        (_DISPUTE,),
        None,
        ("amended_report_named",),
        "resolve_dispute",
        (*_STAFF, _SYSTEM),
        (),
        "how the dispute of the report ended",
    ),
    (
        "final_adverse_action",
        (_PRE_ADVERSE, _DISPUTE),
        _REJECTED,
        ("adverse_action_waiting_over", "adverse_decision_stands"),
        "take_adverse_action",
        _STAFF,
        (),
        "the final adverse action notice; the application ends",
    ),
)

_CANDIDATE_TOLD = (
    "start_background_check",
    "start_adjudication",
    "dispute_background_check",
    "resolve_dispute",
)
"""Steps of the check the candidate hears of as a status update."""

BACKGROUND_NOTIFICATIONS: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="background_disclosure",
        template="background_disclosure",
        to=Recipient.candidate,
        events=("send_background_disclosure",),
        description="the standalone disclosure that a background check may be obtained",
    ),
    NotificationRule(
        name="pre_adverse_notice",
        template="pre_adverse_notice",
        to=Recipient.candidate,
        events=("send_pre_adverse_notice",),
        description="the pre-adverse action notice: the report, the summary of rights, the "
        "waiting period and how to dispute",
    ),
    NotificationRule(
        name="final_adverse_notice",
        template="final_adverse_notice",
        to=Recipient.candidate,
        events=("final_adverse_action",),
        description="the final adverse action notice: the agency, its contact details, the "
        "right to a free copy and to dispute",
    ),
    *(
        NotificationRule(
            name=f"{stage}_reminder",
            template="reminder",
            to=Recipient.hiring_manager,
            deadline=stage,
            description=f"remind the hiring manager once the {stage.replace('_', ' ')} "
            "step is overdue",
        )
        for stage in BACKGROUND_STAGES
    ),
)
"""The notification rules of the background-check option; the candidate also hears of each
step as a status update, and of an action recorded for them (``acted_for_you``)."""


def with_background_check(policy: Policy) -> Policy:
    """Return ``policy`` with the background check between the references and the offer.

    ``policy`` is the standard policy (it needs its ``references``, ``offer`` and
    ``rejected`` stages and its ``extend_offer`` and ``reject`` events).
    """
    guards = BACKGROUND_GUARDS
    authorized = guards["background_authorized"]
    derived = policy.with_stage(
        _STAGES[0], after="references", event="start_background_check", guards=(authorized,)
    )
    start = derived.events["start_background_check"]
    offer = derived.events["extend_offer"]
    reject = derived.events["reject"]
    effects = BACKGROUND_EFFECTS
    stages = list(derived.stages.values())
    position = [s.name for s in stages].index(_CHECK) + 1
    stages[position:position] = _STAGES[1:]
    events = [
        *(
            replace(
                e,
                effect=effects["order_background_check"],
                description="order the background check, authorized by the candidate",
            )
            if e is start
            else replace(
                e,
                sources=(_CHECK, _ADJUDICATION, _PRE_ADVERSE, _DISPUTE),
                guards=(*e.guards, guards["background_cleared"]),
            )
            if e is offer
            else replace(e, guards=(*e.guards, guards["background_rejection_allowed"]))
            if e is reject
            else e
            for e in derived.events.values()
        ),
        *(
            EventSpec(
                name=name,
                sources=sources,
                dest=dest,
                guards=tuple(guards[g] for g in needed),
                effect=effects[effect] if effect is not None else None,
                description=description,
                fired_by=fired_by,
                on_behalf=on_behalf,
            )
            for name, sources, dest, needed, effect, fired_by, on_behalf, description in _EVENTS
        ),
    ]
    rules = {rule.name: rule for rule in derived.notifications}
    told = rules["status_update"]
    acted = rules["acted_for_you"]
    notifications = [
        replace(told, events=(*told.events, *_CANDIDATE_TOLD))
        if rule is told
        else replace(
            acted, events=(*acted.events, "authorize_background_check", "dispute_background_check")
        )
        if rule is acted
        else rule
        for rule in derived.notifications
    ]
    reasons = {**derived.rejection_reasons, ADVERSE_ACTION_REASON: RejectionSide.company}
    return rebuild(
        derived,
        stages=stages,
        events=events,
        notifications=[*notifications, *BACKGROUND_NOTIFICATIONS],
        rejection_reasons=reasons,
    )
