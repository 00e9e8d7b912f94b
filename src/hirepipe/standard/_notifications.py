"""The standard policy's notification rules: who hears what, and when.

Every rule is due at once (``delay_days=0``); the thank-you after each interview round is
therefore well inside the policy's ``thank_you_days``. ``deadline="created"`` marks rules that
fire when an application is created (``hirepipe.notify.CREATED``); other ``deadline`` values
are service-level deadline kinds found by ``Notifier.sweep``.
"""

from __future__ import annotations

from dataclasses import replace

from hirepipe.policy import NotificationRule, Policy, Recipient
from hirepipe.policy._derive import rebuild

__all__ = ["STANDARD_NOTIFICATIONS", "with_acted_for"]

_CREATED = "created"  # hirepipe.notify.CREATED; this module imports the policy layer only

_STAGE_CHANGES = (
    "complete_debrief",  # the debrief is done; the whole slate is reviewed
    "request_approval",  # the company wants to move forward; approval is sought
    "counter",  # the counter-offer is being considered
    "accept",  # welcome, and what happens before the start date
    "decline",  # the decision is recorded
    "expire",  # the offer lapsed
    "withdraw",  # the withdrawal is recorded
    "hold",  # paused, with the reason
    "resume",  # moving again
    "reactivate",  # back from the talent pool into a review
    "reopen",  # a rejection was undone
)
"""Transitions the candidate hears of as a status update. The rest have their own message
(the invitation, the offer, the rejection, the talent pool), or are internal (``start_debrief``,
``approve``: the reference notice follows), or end an interview round (the thank-you)."""

STANDARD_NOTIFICATIONS: tuple[NotificationRule, ...] = (
    NotificationRule(
        name="application_received",
        template="application_received",
        to=Recipient.candidate,
        deadline=_CREATED,
        description="confirm the application is in the process, and what happens next",
    ),
    NotificationRule(
        name="interview_thank_you",
        template="thank_you",
        to=Recipient.candidate,
        events=("round_held",),
        deadline=_CREATED,
        description="thank the candidate for every interview round, at once",
        records="thank_you_sent",
    ),
    NotificationRule(
        name="status_update",
        template="status_update",
        to=Recipient.candidate,
        events=_STAGE_CHANGES,
        description="where things stand, the next steps and the current estimate",
        records="status_update",
    ),
    NotificationRule(
        name="periodic_update",
        template="periodic_update",
        to=Recipient.candidate,
        deadline="candidate_update",
        description="no news for longer than the cadence: where things stand, and the estimate",
        records="status_update",
    ),
    NotificationRule(
        name="reference_notice",
        template="reference_notice",
        to=Recipient.candidate,
        events=("send_reference_notice",),
        description="tell the candidate before any referee is contacted",
    ),
    NotificationRule(
        name="next_round_invitation",
        template="next_round",
        to=Recipient.candidate,
        events=("schedule_next_round",),
        description="invite the candidate to another interview round",
    ),
    NotificationRule(
        name="offer",
        template="offer",
        to=Recipient.candidate,
        events=("extend_offer", "revise_offer"),
        description="the offer: title, salary, benefits, start date and validity",
    ),
    NotificationRule(
        name="rejection",
        template="rejection",
        to=Recipient.candidate,
        events=("reject",),
        description="the decision, the feedback offered, and other open roles",
    ),
    NotificationRule(
        name="keep_warm",
        template="keep_warm",
        to=Recipient.candidate,
        events=("keep_warm",),
        description="kept in the talent pool: until when, and what that means",
    ),
    NotificationRule(
        name="inquiry_answer",
        template="inquiry_answer",
        to=Recipient.candidate,
        events=("inquiry",),
        description="answer the candidate's question with where things stand and the estimate",
    ),
    NotificationRule(
        name="candidate_message",
        template="candidate_message",
        to=Recipient.recruiter,
        events=("thank_you_received", "inquiry"),
        description="pass the candidate's note or question on to the recruiter",
    ),
    NotificationRule(
        name="acted_for_you",
        template="acted_for_you",
        to=Recipient.on_behalf_of,
        events=(
            "counter",
            "accept",
            "decline",
            "withdraw",
            "renew_consent",
            "record_approval",
            "submit_scorecard",
        ),
        description="tell the person someone acted for (on_behalf_of) who acted, and when",
    ),
    NotificationRule(
        name="approval_reminder",
        template="reminder",
        to=Recipient.approvers,
        deadline="approval",
        description="remind approvers who have not decided once approval is overdue",
    ),
    NotificationRule(
        name="scorecard_reminder",
        template="reminder",
        to=Recipient.interviewers,
        deadline="scorecards",
        description="remind interviewers whose scorecards are overdue",
    ),
)
"""The standard policy's notification rules, in the order a candidate meets them.

``acted_for_you`` covers the events a person may be acted for in (the candidate's answers, and
approvals and scorecards where a company allows it with ``Policy.with_permissions``); a policy
that lets someone act for another in more events adds them to it.
"""


def with_acted_for(policy: Policy, *events: str) -> Policy:
    """Return ``policy`` whose ``acted_for_you`` rule covers ``events`` too, if it has the rule.

    An optional part of the standard policy that lets someone act for another in its events
    adds them here, so the person acted for is told.
    """
    rules = [
        replace(rule, events=(*rule.events, *(e for e in events if e not in rule.events)))
        if rule.name == "acted_for_you"
        else rule
        for rule in policy.notifications
    ]
    return rebuild(policy, notifications=rules)
