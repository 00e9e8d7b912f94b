"""Acme's hiring policy: the standard lifecycle with a graded take-home assessment.

A company keeps this in its own package (``acme/hiring.py``) and proves it in its own test
suite with hirepipe's pytest plugin (``test_acme_hiring.py``, next to this file).
"""

from __future__ import annotations

from collections.abc import Iterator

from pydantic import Field

from hirepipe import Blocker, Change, Context, EventData, Policy, standard_policy
from hirepipe.policy import EffectSpec, EventSpec, GuardSpec


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
        yield Blocker("assessment_not_graded", "grade the assessment first (grade_assessment)")
    elif int(grades[-1]) < 60:  # type: ignore[arg-type]
        yield Blocker("assessment_failed", f"the assessment scored {grades[-1]} of 100")


def acme_policy() -> Policy:
    """The standard lifecycle, an assessment after the debrief, updates every 3 business days."""
    return (
        standard_policy()
        .named("acme", "2025.1")
        .with_stage(
            "assessment",
            after="debrief",
            event="pass_assessment",
            guards=[GuardSpec.of(assessment_passed, checks="assessment")],
            description="a take-home assessment",
        )
        .with_event(
            EventSpec(
                "grade_assessment",
                ("assessment",),
                None,
                effect=EffectSpec("record_grade", record_grade, GradeData),
                description="the assessment was graded",
            )
        )
        .with_setting(update_cadence_days=3)
    )
