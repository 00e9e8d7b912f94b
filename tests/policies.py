"""Example policies the tests share, and the guards and effects they name by dotted path.

Guards and effects here are named ``tests.policies:...``, so policy files naming them load
with ``Registry(allow_imports=["tests.policies"])``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from hirepipe import (
    Application,
    Blocker,
    Change,
    Context,
    EventData,
    Pipeline,
    Policy,
    Requisition,
    standard_policy,
)
from hirepipe.policy import (
    Duration,
    EffectSpec,
    EventSpec,
    GuardSpec,
    Owner,
    ServiceLevel,
    StageRole,
    StageSpec,
)
from hirepipe.testing import STANDARD_RECIPES, Recipe


def always_passes(ctx: Context) -> Iterator[Blocker]:
    """Never blocks."""
    yield from ()


def stamp(ctx: Context) -> Change:
    """Changes nothing; the record keeps the event."""
    return Change()


STAMP = EffectSpec("tests.policies:STAMP", stamp)


# -- companies' lifecycles, run through every layer by tests/test_custom_policies.py ----------


class BackgroundResultData(EventData):
    """``record_background_result``: what the provider reported."""

    result: Literal["clear", "consider", "failed"]


class AdjudicationData(EventData):
    """``adjudicate``: the company's decision on a "consider" result."""

    decision: Literal["proceed", "adverse"]


def background_cleared(ctx: Context) -> Iterator[Blocker]:
    """The background check came back clear, or a "consider" result was adjudicated to go on."""
    found = [r for r in ctx.application.history if r.event in BACKGROUND_EVENTS]
    if not found:
        yield Blocker("background_pending", "the background check has not come back yet")
        return
    last = found[-1].data
    if last.get("result") == "consider":
        yield Blocker("adjudication_pending", "a 'consider' result waits for adjudication")
    elif last.get("result") == "failed" or last.get("decision") == "adverse":
        yield Blocker("background_failed", "the background check does not allow an offer")


BACKGROUND_EVENTS = frozenset({"record_background_result", "adjudicate"})
BACKGROUND_CLEARED = GuardSpec.of(
    background_cleared, name="tests.policies:BACKGROUND_CLEARED", checks="background_check"
)
RECORD_RESULT = EffectSpec("tests.policies:RECORD_RESULT", stamp, BackgroundResultData)
ADJUDICATE = EffectSpec("tests.policies:ADJUDICATE", stamp, AdjudicationData)

BACKGROUND_CHECK = StageSpec(
    "background_check",
    description="a background check by an outside provider",
    service=ServiceLevel(5, Owner.outside, owes="chase the background check of {name}"),
    duration=Duration(mean_days=4, cv=0.5),
    exits=(("reject", 0.05),),
)


def background_check_policy() -> Policy:
    """(a) A background check after the references; the offer waits for it to clear."""
    return (
        standard_policy()
        .named("background-check", "1")
        .with_stage(BACKGROUND_CHECK, after="references", event="start_background_check")
        .with_event(
            EventSpec("record_background_result", ("background_check",), None, effect=RECORD_RESULT)
        )
        .with_event(EventSpec("adjudicate", ("background_check",), None, effect=ADJUDICATE))
        .with_guard("extend_offer", BACKGROUND_CLEARED)
    )


def clear_background(
    pipeline: Pipeline, application: Application, requisition: Requisition
) -> None:
    """What the provider does before the offer: report a clear result (recipe and simulation)."""
    if application.stage == "background_check" and not any(
        r.event in BACKGROUND_EVENTS for r in application.history
    ):
        pipeline.fire(
            application,
            "record_background_result",
            actor="provider",
            requisition=requisition,
            result="clear",
        )


def intern_policy() -> Policy:
    """(b) Interns: no reference checks."""
    return standard_policy().without_stage("references").named("interns", "1")


def small_company_policy() -> Policy:
    """(d) A small company: no approval stage at all."""
    return standard_policy().without_stage("approval").named("small-company", "1")


FINAL_REVIEW = StageSpec(
    "final_review",
    description="the shortlist is reviewed again by the department head",
    role=StageRole.review,
    service=ServiceLevel(3, Owner.hiring_manager, owes="decide on the shortlisted {name}"),
    duration=Duration(mean_days=3, cv=0.6),
)


def final_review_policy() -> Policy:
    """(e) A two-step final review: the slate's review, then a shortlist's."""
    return (
        standard_policy()
        .named("two-step-review", "1")
        .with_stage(FINAL_REVIEW, after="review", event="shortlist")
    )


def background_recipes() -> dict[str, Recipe]:
    """How the test kit passes the background-check policy's guards."""
    return {
        # the references' checks now guard the way into the background check
        "start_background_check": Recipe(prepare=STANDARD_RECIPES["extend_offer"].prepare),
        "extend_offer": Recipe(STANDARD_RECIPES["extend_offer"].data, clear_background),
    }
