"""The first choice declines the offer; the runner-up is brought forward and hired.

Three candidates interview for one backend role. The strongest gets the offer and turns it
down; the Slate brings the runner-up forward to approval on its own, and when the runner-up
accepts, the requisition is filled: the remaining candidate is told the role was filled.
Run it with ``.venv/bin/python examples/first_choice_declines.py``.
"""

from __future__ import annotations

from datetime import date

import pendulum

from hirepipe import Band, Candidate, Fired, Pipeline, Requisition, Slate, standard_policy
from hirepipe.testing import FakeClock

VERDICTS = {"Ada": "strong_yes", "Grace": "yes", "Linus": "no"}


def offer(slate: Slate, application_id: str, clock: FakeClock) -> None:
    """Approval, references and the offer, a few days apart."""
    slate.fire(application_id, "record_approval", actor="cfo", granted=True)
    slate.fire(application_id, "approve", actor="maria")
    slate.fire(application_id, "send_reference_notice", actor="maria")
    for referee in ("former-manager", "peer"):
        slate.fire(
            application_id,
            "add_reference",
            actor="maria",
            referee=referee,
            contact=f"{referee}@example.com",
            consent=True,
        )
        slate.fire(application_id, "contact_reference", actor="maria", referee=referee)
        slate.fire(
            application_id,
            "complete_reference",
            actor="maria",
            referee=referee,
            outcome="satisfactory",
        )
    clock.advance(days=3)
    slate.fire(
        application_id,
        "extend_offer",
        actor="maria",
        salary=140_000,
        start_date=date(2025, 3, 3),
        benefits=["health", "pension"],
    )


def show(fired: Fired) -> None:
    """Print whose record it is, the event, who fired it and where it led."""
    record = fired.record
    name = fired.application.candidate.name
    print(f"{name}: {record.event} by {record.actor}: {record.from_stage} -> {record.to_stage}")


def main() -> None:
    clock = FakeClock(pendulum.datetime(2025, 1, 6, 16, tz="America/New_York"))
    pipeline = Pipeline(standard_policy(), clock=clock)
    requisition = Requisition(
        id="req-7",
        title="Backend Engineer",
        budget=Band(minimum=120_000, maximum=150_000, currency="USD"),
        hiring_manager="maria",
        approvers=["cfo"],
        time_zone="America/New_York",
    )
    slate = Slate(pipeline, requisition)
    ids: dict[str, str] = {}
    for name, verdict in VERDICTS.items():
        candidate = Candidate(
            id=name.lower(), name=name, email=f"{name.lower()}@example.com", consent_to_contact=True
        )
        application = slate.new_application(candidate, interviewers=["alice", "bob"])
        slate.fire(application.id, "start_debrief", actor="maria")
        for interviewer in ("alice", "bob"):
            slate.fire(
                application.id, "submit_scorecard", actor=interviewer, recommendation=verdict
            )
        slate.fire(application.id, "complete_debrief", actor="maria")
        ids[name] = application.id

    ranking = [r.application.candidate.name for r in slate.ranking()]
    print(f"the slate, best first: {', '.join(ranking)}")
    first = ids[ranking[0]]
    slate.fire(first, "request_approval", actor="maria", salary=140_000)
    offer(slate, first, clock)
    clock.advance(days=2)
    # the candidates answer for themselves; what follows from it (the runner-up brought
    # forward, the others rejected once the role is filled) is the system's doing
    declining = slate.get(first).candidate.id
    for fired in slate.fire(first, "decline", actor=declining, text="accepted another offer"):
        show(fired)

    runner_up = ids[ranking[1]]
    offer(slate, runner_up, clock)
    clock.advance(days=1)
    for fired in slate.fire(runner_up, "accept", actor=slate.get(runner_up).candidate.id):
        show(fired)
    for application in slate:
        print(f"{application.candidate.name}: {application.stage}")
    print(
        f"{requisition.id}: {requisition.status}, {requisition.filled} of {requisition.headcount}"
    )


if __name__ == "__main__":
    main()
