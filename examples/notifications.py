"""Candidate communications: a Notifier hook, an outbox, delivery, and the update cadence.

Every transition the candidate should hear of becomes a notification in the outbox; ``deliver``
sends what is due (here to an in-memory sender; ``SmtpSender`` and ``WebhookSender`` work the
same way) and a daily job sweeps for candidates who have waited too long.
"""

from __future__ import annotations

import pendulum

from hirepipe import Band, Candidate, Pipeline, Requisition, standard_policy
from hirepipe.notify import MemorySender, Notifier, Outbox, deliver
from hirepipe.testing import FakeClock


def main() -> None:
    clock = FakeClock(pendulum.datetime(2025, 1, 6, 16, tz="America/New_York"))
    policy = standard_policy()  # its notification rules are hirepipe.notify.STANDARD_NOTIFICATIONS
    outbox = Outbox()
    notifier = Notifier(outbox, policy)  # the rules: policy.notifications
    pipeline = Pipeline(policy, clock=clock, hooks=[notifier])
    requisition = Requisition(
        id="req-42",
        title="Backend Engineer",
        budget=Band(minimum=120_000, maximum=150_000, currency="USD"),
        hiring_manager="maria",
        time_zone="America/New_York",
    )
    ada = Candidate(id="cand-1", name="Ada Lovelace", email="ada@example.com")
    application = pipeline.new_application(ada, requisition, interviewers=["alice", "bob"])
    notifier.created(application, requisition)  # no event marks a creation: say so

    pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    for interviewer in ("alice", "bob"):
        pipeline.fire(application, "submit_scorecard", actor=interviewer, recommendation="yes")
    pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)

    sender = MemorySender()
    deliver(outbox, sender, clock.now())
    for notification, message in sender.sent:
        print(f"to {notification.address}: {message.subject}")
    print()
    print(sender.messages[-1].text)

    clock.advance(days=8)  # then nothing happens for a week: the daily job notices
    for waiting in notifier.who_needs_an_update([application], [requisition], clock.now()):
        print(f"{waiting.candidate_name} has waited {waiting.business_days_since} business days")
    notifier.sweep([application], [requisition], clock.now())
    deliver(outbox, sender, clock.now())
    print(f"to {sender.sent[-1][0].address}: {sender.messages[-1].subject}")
    print(f"outbox: {outbox!r}")


if __name__ == "__main__":
    main()
