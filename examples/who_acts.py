"""Who acts is who is recorded: nobody fires an event in someone else's name.

An HR tool passes hirepipe the signed-in user as ``actor``. Each event names the roles that may
fire it, and an approval or a scorecard must be the actor's own: mallory cannot approve for the
CFO, nor can the hiring manager. Acting for someone is explicit (``on_behalf_of``), allowed
only where the policy says so; the record keeps both people, and the person acted for is told.
Run it with ``.venv/bin/python examples/who_acts.py``.
"""

from __future__ import annotations

from typing import Any

import pendulum

from hirepipe import (
    Application,
    Band,
    Candidate,
    GuardRejected,
    Pipeline,
    Requisition,
    standard_policy,
)
from hirepipe.notify import MemorySender, Notifier, Outbox, deliver
from hirepipe.policy import Role, requisition_roles
from hirepipe.testing import FakeClock, make_application

HR_OPERATIONS = {"hannah"}
"""The host's own group whose members act as recruiters on every requisition."""


def roles(actor: str, application: Application, requisition: Requisition | None) -> set[str]:
    """The host's users and groups, mapped to the policy's roles (one function)."""
    held = set(requisition_roles(actor, application, requisition))
    if actor in HR_OPERATIONS:
        held.add(Role.recruiter)
    return held


def attempt(pipeline: Pipeline, application: Application, event: str, **arguments: Any) -> None:
    """Fire an event, printing each reason when it is refused."""
    try:
        record = pipeline.fire(application, event, **arguments).record
    except GuardRejected as refused:
        for blocker in refused.blockers:
            print(f"  refused [{blocker.code}]: {blocker.message}")
    else:
        acted_for = record.data.get("on_behalf_of")
        suffix = f" on behalf of {acted_for}" if acted_for else ""
        print(f"  {record.event} by {record.actor}{suffix}: {record.to_stage}")


def main() -> None:
    clock = FakeClock(pendulum.datetime(2025, 1, 6, 16, tz="America/New_York"))
    outbox = Outbox()
    policy = standard_policy()
    pipeline = Pipeline(policy, clock=clock, hooks=[Notifier(outbox, policy)], roles=roles)
    requisition = Requisition(
        id="req-42",
        title="Backend Engineer",
        budget=Band(minimum=120_000, maximum=150_000, currency="USD"),
        hiring_manager="maria",
        recruiter="rita",
        approvers=["cfo"],
        time_zone="America/New_York",
    )
    ada = Candidate(id="cand-1", name="Ada Lovelace", email="ada@example.com")
    application = make_application(pipeline, requisition, stage="approval", candidate=ada)

    print("mallory, signed in, records the CFO's approval:")
    attempt(
        pipeline,
        application,
        "record_approval",
        actor="mallory",
        requisition=requisition,
        approver="cfo",
        granted=True,
    )
    print("maria, the hiring manager, tries too, with a band of her own:")
    attempt(
        pipeline,
        application,
        "record_approval",
        actor="maria",
        requisition=requisition,
        approver="cfo",
        granted=True,
        band={"minimum": 0, "maximum": 1_000_000, "currency": "USD"},
    )
    mine = pipeline.available(application, requisition=requisition, actor="cfo", activities=True)
    print(f"what the CFO may do now: {', '.join(mine)}")
    print("the CFO decides, as the CFO:")
    attempt(
        pipeline, application, "record_approval", actor="cfo", requisition=requisition, granted=True
    )
    print("hannah, of the host's HR operations group (a recruiter by its roles function):")
    attempt(pipeline, application, "approve", actor="hannah", requisition=requisition)

    application = make_application(
        pipeline,
        requisition,
        stage="offer",
        candidate=Candidate(id="cand-2", name="Grace Hopper", email="grace@example.com"),
    )
    print("Grace accepts by phone; rita, the recruiter, records it for her:")
    attempt(pipeline, application, "accept", actor="rita", requisition=requisition)
    attempt(
        pipeline,
        application,
        "accept",
        actor="rita",
        on_behalf_of="cand-2",
        requisition=requisition,
        text="accepted by phone",
    )
    sender = MemorySender()
    deliver(outbox, sender, clock.now())
    notice = sender.messages[-1]
    print(f"to {sender.sent[-1][0].address}: {notice.subject}")
    print(notice.text.splitlines()[2])


if __name__ == "__main__":
    main()
