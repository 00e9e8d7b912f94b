"""The standard notification rules at work: who hears what, when, for each event."""

from __future__ import annotations

import pytest

from hirepipe.notify import (
    CREATED,
    roles_from_requisitions,
)
from hirepipe.standard._notifications import STANDARD_NOTIFICATIONS
from hirepipe.testing import make_requisition
from tests.conftest import START
from tests.notify.world import ESTIMATE_TEXT, IDLE, POLICY, World, business_days, ny

STATUS_CASES = [
    (
        "complete_debrief",
        "debrief",
        None,
        "The interviewers have shared their feedback.",
        "We are comparing all candidates",
    ),
    (
        "request_approval",
        "review",
        None,
        "We would like to move forward with your application.",
        "internal approvals",
    ),
    ("counter", "offer", None, "We have received your proposal.", "considering"),
    ("accept", "offer", None, "Welcome!", "your first day"),
    ("decline", "offer", None, "you declined our offer", "nothing more"),
    ("expire", "offer", None, "Our offer has lapsed", "nothing more"),
    ("withdraw", "review", None, "you withdrew", "nothing more"),
    ("hold", "review", None, "pause the process", "moves again"),
    ("resume", "on_hold", "budget back", "moving again", "We are comparing"),
    ("reactivate", "talent_pool", None, "consider you again", "We are comparing"),
    ("reopen", "rejected", "a mistake", "reopened your application", "We are comparing"),
]
"""Each stage change of the status-update rule: event, start stage, reason, headline, step."""


# -- the standard rules, one by one ---------------------------------------------------------------


class TestStandardRules:
    def test_every_rule_has_a_test_below(self):
        """The standard rules are the ones these tests cover, each once."""
        covered = {
            "application_received",
            "interview_thank_you",
            "status_update",
            "periodic_update",
            "reference_notice",
            "next_round_invitation",
            "offer",
            "rejection",
            "keep_warm",
            "inquiry_answer",
            "candidate_message",
            "approval_reminder",
            "scorecard_reminder",
            "acted_for_you",
        }
        assert covered == {rule.name for rule in STANDARD_NOTIFICATIONS}

    def test_the_standard_policy_accepts_the_rules(self):
        """The rules name only events and stages of the standard policy."""
        assert STANDARD_NOTIFICATIONS == POLICY.notifications

    def test_application_received(self):
        """A new application confirms receipt to the candidate at once, with the cadence."""
        world = World()
        application = world.application()
        (notification,) = world.made(application, "application_received")
        assert ("candidate", "cand-1", "candidate1@example.com") == (
            notification.role,
            notification.to,
            notification.address,
        )
        assert (CREATED, application.created_at) == (notification.trigger, notification.due_at)
        assert 0 == business_days(application.created_at, notification.due_at)
        message = world.render(notification)
        assert "Your application for Backend Engineer" == message.subject
        assert "Thank you for your application for Backend Engineer." in message.text
        assert "at least every 5 business days" in message.text

    def test_thank_you_after_round_one(self):
        """The first round, held at creation, is thanked at once with the estimate."""
        world = World()
        application = world.application()
        (notification,) = world.made(application, "interview_thank_you")
        assert ("cand-1", START) == (notification.to, notification.due_at)
        message = world.render(notification)
        assert "Thank you for interviewing for Backend Engineer" == message.subject
        assert "interview with us for Backend Engineer (round 1)." in message.text
        assert ESTIMATE_TEXT in message.text

    def test_thank_you_after_every_later_round(self):
        """Each round held is thanked within the thank-you days: at once, naming the round."""
        world = World()
        application = world.application("next_round")
        world.clock.advance(days=2)
        world.fire(application, "round_held")
        notification = world.latest(application, "interview_thank_you")
        record = application.history[-1]
        assert ("candidate", record.at) == (notification.role, notification.due_at)
        assert business_days(record.at, notification.due_at) <= POLICY.settings.thank_you_days
        assert "(round 2)." in world.render(notification).text

    @pytest.mark.parametrize(
        ("event", "start", "reason", "headline", "step"),
        STATUS_CASES,
        ids=[case[0] for case in STATUS_CASES],
    )
    def test_status_update_at_each_stage_change(self, event, start, reason, headline, step):
        """A stage change the candidate should know of brings the news, next steps, estimate."""
        world = World()
        application = world.application(start)
        if event == "expire":
            world.clock.advance(days=11)
        if reason is not None:
            world.fire(application, event, reason=reason)
        else:
            world.fire(application, event)
        notification = world.latest(application, "status_update")
        record = application.history[-1]
        assert (event, "cand-1", record.at) == (
            notification.trigger,
            notification.to,
            notification.due_at,
        )
        message = world.render(notification)
        assert "Update on your application for Backend Engineer" == message.subject
        assert headline in message.text
        assert step in message.text
        assert (application.stage not in IDLE) == (ESTIMATE_TEXT in message.text)

    def test_no_status_update_for_internal_steps(self):
        """Starting the debrief and granting approval are not news to the candidate."""
        world = World()
        application = world.application("references")
        assert [] == world.made(application, "status_update")[2:]  # only the two announced
        assert ["complete_debrief", "request_approval"] == [
            n.trigger for n in world.made(application, "status_update")
        ]

    def test_periodic_update_after_the_cadence(self):
        """A candidate silent for longer than the cadence gets an update from the sweep."""
        world = World()
        application = world.application("review")
        world.deliver()  # the confirmation and the updates so far: the last contact, Monday 16:00
        world.clock.set(ny(2025, 1, 14, 17))
        (notification,) = world.notifier.sweep(
            [application], [world.requisition], ny(2025, 1, 14, 17)
        )
        assert ("periodic_update", "candidate_update", "cand-1") == (
            notification.rule,
            notification.trigger,
            notification.to,
        )
        assert ny(2025, 1, 14, 17) == notification.due_at
        assert notification.key.endswith(
            "/candidate_update@2025-01-06T16:00:00-05:00/periodic_update/cand-1"
        )
        message = world.render(notification)
        assert "Your application for Backend Engineer: where things stand" == message.subject
        assert "we did not want to leave you without news" in message.text
        assert ESTIMATE_TEXT in message.text

    def test_periodic_update_once_per_silence(self):
        """Sweeping again adds nothing until the update is sent and the cadence passes again."""
        world = World()
        application = world.application("review")
        world.deliver()
        sweep = world.notifier.sweep
        world.clock.set(ny(2025, 1, 14, 17))
        assert 1 == len(sweep([application], [world.requisition], world.clock.now()))
        assert [] == sweep([application], [world.requisition], world.clock.now().add(hours=3))
        world.deliver()
        assert [] == sweep([application], [world.requisition], ny(2025, 1, 20, 17))
        again = sweep([application], [world.requisition], ny(2025, 1, 22, 18))
        assert ["periodic_update"] == [n.rule for n in again]

    def test_reference_notice(self):
        """Before referees are contacted, the candidate is told, at once."""
        world = World()
        application = world.application("references")
        world.fire(application, "send_reference_notice")
        notification = world.latest(application, "reference_notice")
        assert ("cand-1", application.reference_notice_at) == (
            notification.to,
            notification.due_at,
        )
        message = world.render(notification)
        assert "Reference checks for Backend Engineer" == message.subject
        assert "before we contact any of your referees" in message.text

    def test_next_round_invitation(self):
        """Scheduling another round invites the candidate, naming the round and the time."""
        world = World()
        application = world.application("review")
        world.fire(
            application,
            "schedule_next_round",
            interviewers=["carol"],
            scheduled_at=ny(2025, 1, 13, 10),
        )
        notification = world.latest(application, "next_round_invitation")
        assert ("cand-1", START) == (notification.to, notification.due_at)
        message = world.render(notification)
        assert "Invitation to another interview for Backend Engineer" == message.subject
        assert (
            "interview round 2 for Backend Engineer, on Monday, January 13, 2025, 10:00\u202fAM "
            "(UTC-05:00)." in message.text
        )

    def test_offer_with_its_terms(self):
        """The offer states title, salary, benefits, start date and validity."""
        world = World()
        application = world.application("negotiation")
        world.fire(application, "revise_offer", salary=140_000, benefits=["health", "pension"])
        notification = world.latest(application, "offer")
        assert ("cand-1", START) == (notification.to, notification.due_at)
        message = world.render(notification)
        assert "Our revised offer for Backend Engineer" == message.subject
        for line in (
            "Salary: $140,000",
            "Benefits: health, pension",
            "Start date: Monday, March 3, 2025",
            "Valid until: Thursday, January 16, 2025, 4:00\u202fPM (UTC-05:00)",
        ):
            assert line in message.text
        assert "<li>Benefits: health, pension</li>" in message.html

    def test_first_offer(self):
        """The first offer has its own subject."""
        world = World()
        application = world.application("offer")
        message = world.render(world.made(application, "offer")[0])
        assert "Our offer for Backend Engineer" == message.subject

    def test_rejection_with_feedback_and_open_roles(self):
        """A rejection gives the feedback and names other open roles the candidate may fit."""
        other = make_requisition(id="req-2", title="Data Engineer")
        filled = make_requisition(id="req-3", title="Filled Role", filled=1)
        world = World(
            notifier={
                "open_roles": roles_from_requisitions(
                    [other, filled], url=lambda r: f"https://jobs.example.com/{r.id}"
                )
            }
        )
        application = world.application("review")
        world.fire(application, "reject", reason="skills", feedback="Deeper SQL, please.")
        notification = world.latest(application, "rejection")
        assert ("cand-1", START) == (notification.to, notification.due_at)
        message = world.render(notification)
        assert "Your application for Backend Engineer" == message.subject
        assert "decided not to move forward" in message.text
        assert "Feedback from the team: Deeper SQL, please." in message.text
        assert "- Data Engineer: https://jobs.example.com/req-2" in message.text
        assert "Filled Role" not in message.text
        assert '<a href="https://jobs.example.com/req-2">Data Engineer</a>' in message.html

    def test_rejection_offers_feedback_on_request(self):
        """Without written feedback, the rejection offers it on request."""
        world = World()
        application = world.application("debrief")
        world.fire(application, "reject", reason="other_candidate", feedback_on_request=True)
        message = world.render(world.latest(application, "rejection"))
        assert "If you would like feedback, reply to this message" in message.text
        assert "As discussed, we have closed your application." in message.text
        assert "open roles" not in message.text

    def test_keep_warm(self):
        """Entering the talent pool tells the candidate until when they are kept in mind."""
        world = World()
        application = world.application("talent_pool")
        notification = world.latest(application, "keep_warm")
        assert ("cand-1", START) == (notification.to, notification.due_at)
        message = world.render(notification)
        assert "Staying in touch after Backend Engineer" == message.subject
        assert "keep you in mind for future roles until Tuesday, May 6, 2025" in message.text

    def test_inquiry_answer_carries_the_estimate(self):
        """A candidate's inquiry is answered at once with where things stand and the estimate."""
        world = World()
        application = world.application("review")
        world.pipeline.fire(application, "inquiry", actor="cand-1", text="Any news?")
        notification = world.latest(application, "inquiry_answer")
        assert ("candidate", "cand-1", START) == (
            notification.role,
            notification.to,
            notification.due_at,
        )
        message = world.render(notification)
        assert "Re: your application for Backend Engineer" == message.subject
        assert "Here is where things stand: We are comparing all candidates" in message.text
        assert ESTIMATE_TEXT in message.text

    @pytest.mark.parametrize(
        ("recruiter", "expected"), [(None, "maria"), ("rita", "rita")], ids=["manager", "recruiter"]
    )
    def test_candidate_message_reaches_the_recruiter(self, recruiter, expected):
        """A thank-you note from the candidate is passed on to the recruiter (or manager)."""
        world = World(recruiter=recruiter)
        application = world.application("debrief")
        world.pipeline.fire(application, "thank_you_received", actor="cand-1", text="Thanks!")
        notification = world.latest(application, "candidate_message")
        assert ("recruiter", expected, START) == (
            notification.role,
            notification.to,
            notification.due_at,
        )
        message = world.render(notification)
        assert "Candidate 1 sent a thank-you note" == message.subject
        assert "Their message:\nThanks!" in message.text

    def test_approval_reminder_goes_to_who_has_not_decided(self):
        """Overdue approval reminds only the approvers who have not decided."""
        world = World(approvers=["cfo", "cto"], notifier={"directory": {"cto": "cto@example.com"}})
        application = world.application("approval")
        world.pipeline.fire(
            application,
            "record_approval",
            actor="cfo",
            requisition=world.requisition,
            granted=True,
        )
        assert [] == world.notifier.sweep([application], None, ny(2025, 1, 9, 15))
        swept = world.notifier.sweep([application], None, ny(2025, 1, 10, 9))
        (notification,) = [n for n in swept if n.rule == "approval_reminder"]
        assert ("approvers", "cto", "cto@example.com") == (
            notification.role,
            notification.to,
            notification.address,
        )
        assert ny(2025, 1, 10, 9) == notification.due_at
        message = world.render(notification)
        assert "Reminder: approve or refuse an offer to Candidate 1" == message.subject
        assert "was due Thursday, January 9, 2025, 4:00\u202fPM (UTC-05:00)" in message.text

    def test_scorecard_reminder_goes_to_who_has_not_submitted(self):
        """Overdue scorecards remind only the interviewers who have not submitted."""
        world = World()
        application = world.application()
        world.pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="yes")
        swept = world.notifier.sweep([application], [world.requisition], ny(2025, 1, 8, 9))
        (notification,) = [n for n in swept if n.rule == "scorecard_reminder"]
        assert ("interviewers", "bob", None) == (
            notification.role,
            notification.to,
            notification.address,
        )
        message = world.render(notification)
        assert "Reminder: submit scorecards for round 1 of Candidate 1" == message.subject
        assert "Hello bob," in message.text

    def test_acted_for_you_tells_the_candidate_who_accepted_for_them(self):
        """A recruiter records the candidate's acceptance by phone: the candidate hears who."""
        world = World(recruiter="rita")
        application = world.application("offer")
        world.pipeline.fire(
            application,
            "accept",
            actor="rita",
            on_behalf_of="cand-1",
            requisition=world.requisition,
            text="accepted on the phone",
        )
        notification = world.latest(application, "acted_for_you")
        assert ("on_behalf_of", "cand-1", "candidate1@example.com") == (
            notification.role,
            notification.to,
            notification.address,
        )
        message = world.render(notification)
        assert "Recorded on your behalf: Backend Engineer" == message.subject
        assert (
            "rita recorded that you accepted our offer for your application for Backend "
            "Engineer on your behalf, on Monday, January 6, 2025, 4:00\u202fPM (UTC-05:00)."
        ) in message.text
        assert "rita recorded" in message.html

    def test_acted_for_you_tells_an_approver_who_recorded_their_decision(self):
        """Where the policy allows it, a recruiter records the CFO's approval; the CFO hears."""
        policy = POLICY.with_permissions("record_approval", on_behalf=["recruiter"])
        world = World(
            policy=policy, recruiter="rita", notifier={"directory": {"cfo": "cfo@example.com"}}
        )
        application = world.application("approval")
        world.pipeline.fire(
            application,
            "record_approval",
            actor="rita",
            on_behalf_of="cfo",
            requisition=world.requisition,
            granted=True,
        )
        (notification,) = world.made(application, "acted_for_you")
        assert ("cfo", "cfo@example.com") == (notification.to, notification.address)
        message = world.render(notification)
        assert "Recorded on your behalf: Backend Engineer, Candidate 1" == message.subject
        assert "rita recorded your approval decision about Candidate 1" in message.text

    def test_nobody_hears_of_acting_for_themselves(self):
        """The candidate accepting themselves gets no acted-for-you notice."""
        world = World()
        application = world.application("offer")
        world.pipeline.fire(application, "accept", actor="cand-1", requisition=world.requisition)
        assert [] == world.made(application, "acted_for_you")
