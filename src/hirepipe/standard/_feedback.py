"""Feedback on request: a rejected candidate asks, the company answers within a deadline.

```python
policy = standard_policy(feedback_requests=True)
pipeline.fire(application, "request_feedback", actor=candidate.id)
pipeline.fire(application, "send_feedback", actor="rita", feedback="...")
```

``request_feedback`` (the candidate's, or recorded for them by the recruiter or the hiring
manager) opens a deadline of ``feedback_days`` business days owed by the requisition's
recruiter (its hiring manager when it has none): the overdue sweep of
[`hirepipe.timeline.ServiceLevels`][hirepipe.timeline.ServiceLevels] lists it, and the
``feedback_reminder`` rule reminds its owner. ``send_feedback`` closes it, keeps the text in
the rejection and in the history (personal free text: erasure removes it) and sends it to
the candidate. The rules and their sources: ``docs/service-levels.md``.
"""

from __future__ import annotations

from collections.abc import Iterator

from hirepipe.errors import Blocker
from hirepipe.models import Text
from hirepipe.policy import (
    Change,
    Context,
    EffectSpec,
    EventData,
    EventSpec,
    FollowUp,
    GuardSpec,
    NotificationRule,
    Owner,
    Policy,
    Recipient,
    Role,
)
from hirepipe.standard._notifications import with_acted_for

__all__ = [
    "FEEDBACK_EFFECTS",
    "FEEDBACK_GUARDS",
    "FeedbackRequestData",
    "SendFeedbackData",
    "with_feedback_requests",
]

_ENDED = ("rejected", "talent_pool")
"""Where a rejected candidate may be: rejected, or kept in touch after the rejection."""


class FeedbackRequestData(EventData):
    """``request_feedback``: the candidate's message, if any."""

    text: Text = ""


class SendFeedbackData(EventData):
    """``send_feedback``: the feedback itself."""

    feedback: Text


def feedback_requestable(ctx: Context) -> Iterator[Blocker]:
    """The application was rejected, and no feedback was given or asked for since."""
    rejection = ctx.application.rejection
    if rejection is None:
        yield Blocker(
            "not_rejected",
            "feedback is asked for on a rejection, and this application has none on record",
        )
    elif rejection.feedback is not None:
        yield Blocker(
            "feedback_already_given",
            "the candidate already has the feedback"
            + (
                f" (sent {rejection.feedback_sent_at.isoformat()})"
                if rejection.feedback_sent_at is not None
                else " (given with the rejection)"
            )
            + "; record a follow-up question as a note",
        )
    elif rejection.feedback_requested_at is not None:
        yield Blocker(
            "feedback_already_requested",
            f"the candidate asked for feedback on {rejection.feedback_requested_at.isoformat()}; "
            "send it (send_feedback)",
            {"requested_at": rejection.feedback_requested_at.isoformat()},
        )


def feedback_sendable(ctx: Context) -> Iterator[Blocker]:
    """The application was rejected without feedback yet, and the feedback says something."""
    rejection = ctx.application.rejection
    if rejection is None:
        yield Blocker("not_rejected", "this application has no rejection to give feedback on")
    elif rejection.feedback is not None:
        yield Blocker(
            "feedback_already_given",
            "the candidate already has the feedback; record anything more as a note",
        )
    if not str(ctx.data.value("feedback") or "").strip():
        yield Blocker("feedback_missing", "write the feedback (feedback='...')", needs_input=True)


def record_feedback_request(ctx: Context) -> Change:
    """Keep when the candidate asked for feedback."""
    rejection = ctx.application.rejection
    assert rejection is not None  # the guard saw to it
    return Change({"rejection": rejection.model_copy(update={"feedback_requested_at": ctx.now})})


def send_feedback(ctx: Context) -> Change:
    """Keep the feedback sent, and when."""
    assert isinstance(ctx.data, SendFeedbackData)
    rejection = ctx.application.rejection
    assert rejection is not None  # the guard saw to it
    sent = rejection.model_copy(update={"feedback": ctx.data.feedback, "feedback_sent_at": ctx.now})
    return Change({"rejection": sent})


FEEDBACK_GUARDS: tuple[GuardSpec, ...] = (
    GuardSpec(
        "feedback_requestable", feedback_requestable, "rejected; no feedback given or asked yet"
    ),
    GuardSpec("feedback_sendable", feedback_sendable, "rejected without feedback; feedback given"),
)
"""The guards of feedback requests, registered with the standard ones."""

FEEDBACK_EFFECTS: tuple[EffectSpec, ...] = (
    EffectSpec(
        "record_feedback_request", record_feedback_request, FeedbackRequestData, trusted=True
    ),
    EffectSpec("send_feedback", send_feedback, SendFeedbackData, trusted=True),
)
"""The effects of feedback requests, registered with the standard ones."""

_STAFF = (Role.hiring_manager, Role.recruiter)

_FOLLOW_UP = FollowUp(
    "feedback_days",
    Owner.recruiter,
    "feedback",
    "send {name} the feedback they asked for",
    # undoing the rejection makes the request moot: the candidate is back in the process
    closed_by=("send_feedback", "reopen", "reactivate"),
)

_RULES = (
    NotificationRule(
        name="feedback_requested",
        template="candidate_message",
        to=Recipient.recruiter,
        events=("request_feedback",),
        description="tell the recruiter the candidate asked for feedback, and by when it is due",
    ),
    NotificationRule(
        name="feedback_reminder",
        template="reminder",
        to=Recipient.recruiter,
        deadline="feedback",
        description="remind the recruiter (or the hiring manager) of overdue feedback",
    ),
    NotificationRule(
        name="feedback",
        template="feedback",
        to=Recipient.candidate,
        events=("send_feedback",),
        description="the feedback the candidate asked for",
    ),
)


def with_feedback_requests(policy: Policy) -> Policy:
    """Return ``policy`` with ``request_feedback`` and ``send_feedback`` (the standard one's)."""
    guards = {g.name: g for g in FEEDBACK_GUARDS}
    effects = {e.name: e for e in FEEDBACK_EFFECTS}
    request = EventSpec(
        name="request_feedback",
        sources=_ENDED,
        dest=None,
        guards=(guards["feedback_requestable"],),
        effect=effects["record_feedback_request"],
        description="the rejected candidate asks for feedback",
        fired_by=(Role.candidate,),
        on_behalf=_STAFF,  # a request by phone or e-mail, recorded for the candidate
        follow_up=_FOLLOW_UP,
    )
    send = EventSpec(
        name="send_feedback",
        sources=_ENDED,
        dest=None,
        guards=(guards["feedback_sendable"],),
        effect=effects["send_feedback"],
        description="the company sends the rejected candidate feedback",
        fired_by=_STAFF,
    )
    return with_acted_for(
        policy.with_event(request).with_event(send).with_notifications(*_RULES),
        "request_feedback",
    )
