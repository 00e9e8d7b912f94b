"""Structured scorecards: what ratings and focus attributes add to a debrief, and calibration.

Run with ``.venv/bin/python benchmarks/scorecards.py``. Every figure is a ratio measured in
this one process against the plain debrief (three scorecards and ``complete_debrief`` under the
standard policy), so the machine's speed cancels out.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from _harness import interleaved, report, timed

from hirepipe import Pipeline, Policy, standard_policy
from hirepipe.policy import ScorecardScheme
from hirepipe.reports import calibration
from hirepipe.testing import FakeClock, make_candidate, make_requisition

APPLICATIONS = 200
PANEL = ("alice", "bob", "carol")
SCHEME = ScorecardScheme(
    attributes=[
        {"name": "python", "category": "skills"},
        {"name": "system_design", "category": "skills"},
        {"name": "degree", "category": "qualifications"},
        {"name": "communication", "category": "traits"},
    ],
    scale=[1, 2, 3, 4],
    focus={1: ["python", "communication"]},
)
PLAIN = standard_policy()
STRUCTURED = standard_policy(structured_scorecards=SCHEME)
RATINGS = {"python": 3, "system_design": 2, "degree": 4, "communication": 3}


def debriefs(policy: Policy, ratings: dict[str, int] | None) -> float:
    """Seconds to debrief APPLICATIONS candidates: three scorecards each, then the debrief."""
    requisition = make_requisition()

    def prepare() -> tuple[Pipeline, list[object]]:
        pipeline = Pipeline(policy, clock=FakeClock())
        applications = []
        for number in range(APPLICATIONS):
            application = pipeline.new_application(
                make_candidate(number), requisition, interviewers=PANEL
            )
            pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
            applications.append(application)
        return pipeline, applications

    def run(prepared: object) -> None:
        pipeline, applications = prepared  # type: ignore[misc]
        data = {"ratings": ratings} if ratings is not None else {}
        for application in applications:
            for person in PANEL:
                pipeline.fire(
                    application,
                    "submit_scorecard",
                    actor=person,
                    requisition=requisition,
                    recommendation="yes",
                    **data,
                )
            pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)

    return timed(prepare, run)


def main() -> None:
    pipeline = Pipeline(STRUCTURED, clock=FakeClock())
    requisition = make_requisition()
    rated = []
    for number in range(APPLICATIONS):
        application = pipeline.new_application(
            make_candidate(number), requisition, interviewers=PANEL
        )
        for person in PANEL:
            pipeline.fire(
                application,
                "submit_scorecard",
                actor=person,
                requisition=requisition,
                recommendation="yes",
                ratings=RATINGS,
            )
        rated.append(application)
    best = interleaved(
        {
            "plain": lambda: debriefs(PLAIN, None),
            "structured_unrated": lambda: debriefs(
                standard_policy(structured_scorecards=SCHEME.model_copy(update={"focus": {}})),
                None,
            ),
            "structured": lambda: debriefs(STRUCTURED, RATINGS),
            "calibration": lambda: timed(lambda: None, lambda _: calibration(rated, STRUCTURED)),
        }
    )
    report("structured_debrief_vs_plain", best["structured"] / best["plain"])
    report("structured_policy_no_ratings_vs_plain", best["structured_unrated"] / best["plain"])
    report("calibration_of_600_cards_vs_plain_debriefs", best["calibration"] / best["plain"])


if __name__ == "__main__":
    main()
