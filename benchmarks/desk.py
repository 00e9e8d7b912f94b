"""Requisition figures: fill a 50-candidate requisition through the Slate, against fire alone.

- ``fill_requisition_50_candidates_ms``: 50 candidates from interview to debriefed, the best one
  approved, referenced, offered and hired; the fill then pools the runner-ups and rejects the
  rest. Everything fires through the Slate.
- ``desk_overhead_ratio``: the same divided by 50 single-candidate happy paths (interview to
  hired) fired straight through ``Pipeline.fire`` (target: at most 2).

Run with ``make bench`` (or ``.venv/bin/python benchmarks/desk.py``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from _harness import interleaved, report, timed

from hirepipe import Pipeline, standard_policy
from hirepipe.slate import Slate
from hirepipe.testing import FakeClock, advance, make_candidate, make_requisition

CANDIDATES = 50
START_DATE = date(2025, 3, 3)
POLICY = standard_policy()
HAPPY = [
    "start_debrief",
    "complete_debrief",
    "request_approval",
    "approve",
    "extend_offer",
    "accept",
]


def fill_slate() -> None:
    pipeline = Pipeline(POLICY, clock=FakeClock())
    requisition = make_requisition()
    slate = Slate(pipeline, requisition)
    ids = []
    for number in range(CANDIDATES):
        application = slate.new_application(make_candidate(number), interviewers=["alice", "bob"])
        slate.fire(application.id, "start_debrief", actor="maria")
        verdict = "strong_yes" if number == 0 else ("yes" if number % 3 else "no")
        for person in ("alice", "bob"):
            slate.fire(application.id, "submit_scorecard", actor=person, recommendation=verdict)
        slate.fire(application.id, "complete_debrief", actor="maria")
        ids.append(application.id)
    best = slate.ranking()[0].application.id
    slate.fire(best, "request_approval", actor="maria", salary=135_000)
    slate.fire(best, "record_approval", actor="cfo", granted=True)
    slate.fire(best, "approve", actor="maria")
    slate.fire(best, "send_reference_notice", actor="maria")
    for referee in ("r1", "r2"):
        slate.fire(best, "add_reference", actor="maria", referee=referee, contact="x", consent=True)
        slate.fire(best, "contact_reference", actor="maria", referee=referee)
        slate.fire(
            best, "complete_reference", actor="maria", referee=referee, outcome="satisfactory"
        )
    slate.fire(best, "extend_offer", actor="maria", salary=135_000, start_date=START_DATE)
    slate.fire(best, "accept", actor="cand-0")
    assert not [a for a in slate if a.stage not in {"hired", "talent_pool", "rejected"}]


def fifty_happy_paths() -> None:
    pipeline = Pipeline(POLICY, clock=FakeClock())
    for number in range(CANDIDATES):
        requisition = make_requisition(id=f"req-{number}")
        application = pipeline.new_application(
            make_candidate(number), requisition, interviewers=["alice", "bob"]
        )
        advance(pipeline, application, requisition, HAPPY)
        assert application.stage == "hired"


def main() -> None:
    best = interleaved(
        {
            "slate": lambda: timed(lambda: None, lambda _: fill_slate()),
            "fire": lambda: timed(lambda: None, lambda _: fifty_happy_paths()),
        },
        rounds=7,
    )
    report("fill_requisition_50_candidates_ms", best["slate"] * 1000)
    report("fifty_happy_paths_ms", best["fire"] * 1000)
    report("desk_overhead_ratio", best["slate"] / best["fire"])


if __name__ == "__main__":
    main()
