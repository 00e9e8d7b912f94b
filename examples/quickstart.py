"""Walk one candidate from the interview to an accepted offer with the standard policy.

Run it with ``make demo``. Time is injected (a FakeClock), so the run is the same every time.
"""

from __future__ import annotations

from datetime import date

import pendulum

from hirepipe import Band, Candidate, GuardRejected, Pipeline, Requisition, standard_policy
from hirepipe.testing import FakeClock


def main() -> None:
    clock = FakeClock(pendulum.datetime(2025, 1, 6, 16, tz="America/New_York"))
    pipeline = Pipeline(standard_policy(), clock=clock)
    requisition = Requisition(
        id="req-42",
        title="Backend Engineer",
        budget=Band(minimum=120_000, maximum=150_000, currency="USD"),
        hiring_manager="maria",
        approvers=["cfo"],
        time_zone="America/New_York",
    )
    ada = Candidate(id="cand-1", name="Ada Lovelace", email="ada@example.com")
    application = pipeline.new_application(ada, requisition, interviewers=["alice", "bob"])

    # each event is fired by the person who may fire it, with the requisition that says who
    # that is: maria manages the hiring, alice and bob interviewed, the CFO approves
    pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="strong_yes")
    try:
        pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)
    except GuardRejected as refused:
        print(f"not yet: {refused.blockers[0].message}")  # 1 of 2 scorecards missing: bob
    pipeline.fire(application, "submit_scorecard", actor="bob", recommendation="yes")
    pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)

    clock.advance(days=1)
    pipeline.fire(
        application, "request_approval", actor="maria", requisition=requisition, salary=135_000
    )
    pipeline.fire(
        application, "record_approval", actor="cfo", requisition=requisition, granted=True
    )
    pipeline.fire(application, "approve", actor="maria", requisition=requisition)

    pipeline.fire(application, "send_reference_notice", actor="maria", requisition=requisition)
    for referee in ("grace", "alan"):
        pipeline.fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            referee=referee,
            contact=f"{referee}@example.com",
            consent=True,
        )
        pipeline.fire(
            application,
            "contact_reference",
            actor="maria",
            requisition=requisition,
            referee=referee,
        )
        pipeline.fire(
            application,
            "complete_reference",
            actor="maria",
            requisition=requisition,
            referee=referee,
            outcome="satisfactory",
        )

    clock.advance(days=2)
    pipeline.fire(
        application,
        "extend_offer",
        actor="maria",
        requisition=requisition,
        salary=135_000,
        start_date=date(2025, 3, 3),
        benefits=["health", "pension"],
    )
    clock.advance(days=4)  # Thursday's offer, accepted the next Monday (not on a Sunday)
    pipeline.fire(application, "accept", actor=ada.id, requisition=requisition)  # the candidate

    print(f"{application.candidate.name}: {application.stage} (version {application.version})")
    print(f"requisition {requisition.id}: {requisition.filled} of {requisition.headcount} filled")
    for record in application.history:
        if record.kind == "transition":
            print(f"  {record.at.to_date_string()}  {record.from_stage} -> {record.to_stage}")


if __name__ == "__main__":
    main()
