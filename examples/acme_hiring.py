"""Acme's own hiring policy: a module a company ships, naming its guards by dotted path.

Acme adds a take-home assessment after the debrief, skips reference checks for interns and
updates waiting candidates every five business days. ``examples/policy.toml`` is the same
policy as a file; it names Acme's guard and effect as ``acme_hiring:...``, so the command line
checks and draws it with this module importable::

    cd examples
    hirepipe validate policy.toml --allow-imports acme_hiring
    hirepipe diagram policy.toml --allow-imports acme_hiring

``examples/custom_policy.py`` proves the policy with the test kit, as a company's suite would.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from hirepipe import Blocker, Change, Context, EventData, Policy, standard_policy
from hirepipe.policy import (
    Duration,
    EffectSpec,
    EventSpec,
    GuardSpec,
    Owner,
    Registry,
    Role,
    ServiceLevel,
    StageSpec,
)
from hirepipe.standard import standard_registry
from hirepipe.testing import STANDARD_RECIPES, Recipe

__all__ = ["RECIPES", "acme_policy", "intern_policy", "registry"]


class GradeData(EventData):
    """``grade_assessment``: the assessment's score out of 100."""

    score: int = Field(ge=0, le=100, strict=True)


def record_grade(ctx: Context) -> Change:
    """The grade is kept in the history record; nothing else changes."""
    return Change()


def assessment_passed(ctx: Context) -> Iterator[Blocker]:
    """The latest grade of the take-home assessment is 60 or more."""
    grades = [r.data["score"] for r in ctx.application.history if r.event == "grade_assessment"]
    if not grades:
        yield Blocker("assessment_not_graded", "the assessment has not been graded yet")
    elif int(grades[-1]) < 60:  # type: ignore[arg-type]
        yield Blocker("assessment_failed", f"the assessment scored {grades[-1]} of 100")


ASSESSMENT_PASSED = GuardSpec.of(
    assessment_passed, name="acme_hiring:ASSESSMENT_PASSED", checks="assessment"
)
RECORD_GRADE = EffectSpec("acme_hiring:RECORD_GRADE", record_grade, GradeData)

registry: Registry = standard_registry().merged(
    Registry(guards=[ASSESSMENT_PASSED], effects=[RECORD_GRADE])
)
"""The standard guards and effects and Acme's: load ``policy.toml`` with it."""

ASSESSMENT = StageSpec(
    "assessment",
    description="a take-home assessment",
    service=ServiceLevel(5, Owner.hiring_manager, owes="grade {name}'s assessment"),
    duration=Duration(mean_days=4, cv=0.6),
)


def acme_policy() -> Policy:
    """The standard lifecycle with an assessment after the debrief and weekly updates."""
    return (
        standard_policy()
        .named("acme", "2025.1")
        .with_stage(ASSESSMENT, after="debrief", event="start_assessment")
        .with_guard("complete_debrief", ASSESSMENT_PASSED)
        .with_event(
            EventSpec(
                "grade_assessment",
                ("assessment",),
                None,
                effect=RECORD_GRADE,
                description="the assessment was graded",
                fired_by=(Role.hiring_manager, Role.recruiter),  # not the candidate
            )
        )
        .with_setting(update_cadence_days=5)
    )


def intern_policy() -> Policy:
    """Acme's policy for interns: no reference checks."""
    return acme_policy().without_stage("references").named("acme-interns", "2025.1")


RECIPES = {
    "start_assessment": STANDARD_RECIPES["complete_debrief"],  # the debrief's scorecards first
    "complete_debrief": Recipe(
        prepare=lambda p, app, req: p.fire(
            app, "grade_assessment", actor=req.hiring_manager, requisition=req, score=75
        )
    ),
}
"""How the test kit passes Acme's own guards: scorecards in, then the assessment graded."""


if __name__ == "__main__":
    for policy in (acme_policy(), intern_policy()):
        print(f"{policy.label}: {' -> '.join(policy.main_path(policy.initial))}")
