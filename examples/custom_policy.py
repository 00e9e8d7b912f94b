"""A company's own policy, derived from the standard one and proved with the test kit.

Acme adds a take-home assessment after the debrief, skips reference checks for interns and
updates waiting candidates every five business days. The same policy lives in
``examples/policy.toml``; this script checks the two agree, then walks every path of both.

Run it with ``.venv/bin/python examples/custom_policy.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import Field

from hirepipe import (
    Blocker,
    Change,
    Context,
    EventData,
    Pipeline,
    Policy,
    standard_policy,
    standard_registry,
)
from hirepipe.paths import paths
from hirepipe.policy import EffectSpec, EventSpec
from hirepipe.testing import FakeClock, Recipe, make_requisition, walk

HERE = Path(__file__).parent
registry = standard_registry()


class GradeData(EventData):
    """``grade_assessment``: the assessment's score out of 100."""

    score: int = Field(ge=0, le=100, strict=True)


def record_grade(ctx: Context) -> Change:
    """The grade is kept in the history record; nothing else changes."""
    return Change()


registry.add_effect(EffectSpec("record_grade", record_grade, GradeData))


@registry.guard(checks="assessment")
def assessment_passed(ctx: Context) -> Iterator[Blocker]:
    """The latest grade of the take-home assessment is 60 or more."""
    grades = [r.data["score"] for r in ctx.application.history if r.event == "grade_assessment"]
    if not grades:
        yield Blocker("assessment_not_graded", "the assessment has not been graded yet")
    elif int(grades[-1]) < 60:  # type: ignore[arg-type]
        yield Blocker("assessment_failed", f"the assessment scored {grades[-1]} of 100")


def acme_policy() -> Policy:
    """The standard lifecycle with an assessment after the debrief and weekly updates."""
    return (
        standard_policy()
        .named("acme", "2025.1")
        .with_stage(
            "assessment",
            after="debrief",
            event="pass_assessment",
            guards=[registry.guards["assessment_passed"]],
            description="a take-home assessment",
        )
        .with_event(
            EventSpec(
                "grade_assessment",
                ("assessment",),
                None,
                effect=registry.effects["record_grade"],
                description="the assessment was graded",
            )
        )
        .with_setting(update_cadence_days=5)
    )


def intern_policy() -> Policy:
    """Acme's policy for interns: no reference checks."""
    return acme_policy().without_stage("references").named("acme-interns", "2025.1")


RECIPES = {
    "pass_assessment": Recipe(
        prepare=lambda p, app, req: p.fire(app, "grade_assessment", actor="maria", score=75)
    )
}
"""How the kit passes Acme's own guard: grade the assessment before passing it."""


def main() -> None:
    policy = acme_policy()
    from_file = Policy.from_file(HERE / "policy.toml", registry=registry)
    assert policy == from_file, "examples/policy.toml no longer matches acme_policy()"
    for variant in (policy, intern_policy()):
        ends: dict[str, int] = {}
        for path in paths(variant):
            pipeline = Pipeline(variant, clock=FakeClock())
            application = walk(pipeline, make_requisition(), path, recipes=RECIPES)
            assert application.stage == path.end, f"{path} ended in {application.stage}"
            ends[path.end] = ends.get(path.end, 0) + 1
        print(f"{variant.label}: {sum(ends.values())} paths walked, ending {ends}")
    hired = paths(intern_policy(), to="hired")[0]
    print(f"an intern is hired by: {' -> '.join(hired.events)}")


if __name__ == "__main__":
    main()
