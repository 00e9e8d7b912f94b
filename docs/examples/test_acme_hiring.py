"""Acme proves its hiring policy with hirepipe's pytest plugin (installed with hirepipe).

The policy is ``acme_hiring.py`` (``examples/acme_hiring.py`` in hirepipe's repository). The
plugin's fixtures are ready in every test: ``hirepipe_pipeline`` runs ``hirepipe_policy``
(overridden below with Acme's) on ``hirepipe_clock``, a fake clock in business days.
"""

from __future__ import annotations

import pytest
from acme_hiring import RECIPES, acme_policy

from hirepipe import GuardRejected
from hirepipe.policy import paths
from hirepipe.testing import make_application, make_requisition, walk
from hirepipe.timeline import ServiceLevels


@pytest.fixture
def hirepipe_policy():
    """Every hirepipe fixture of this module runs Acme's policy."""
    return acme_policy()


def test_every_path_is_reachable(hirepipe_pipeline):
    """Every way through Acme's policy can be walked, and ends where it says."""
    for path in paths(hirepipe_pipeline.policy):
        requisition = make_requisition()  # one per path: a hire fills its requisition
        application = walk(hirepipe_pipeline, requisition, path, recipes=RECIPES)
        assert path.end == application.stage


def test_no_review_without_a_passed_assessment(hirepipe_pipeline, hirepipe_requisition):
    """A candidate leaves the assessment only once it is graded 60 or more."""
    application = make_application(
        hirepipe_pipeline, hirepipe_requisition, stage="assessment", recipes=RECIPES
    )
    with pytest.raises(GuardRejected) as refused:
        hirepipe_pipeline.fire(
            application, "complete_debrief", actor="maria", requisition=hirepipe_requisition
        )
    assert ("assessment_not_graded",) == refused.value.codes
    hirepipe_pipeline.fire(
        application, "grade_assessment", actor="maria", requisition=hirepipe_requisition, score=40
    )
    blockers = hirepipe_pipeline.blockers(
        application, "complete_debrief", actor="maria", requisition=hirepipe_requisition
    )
    assert ["assessment_failed"] == [b.code for b in blockers]


def test_the_assessment_is_graded_within_five_business_days(
    hirepipe_pipeline, hirepipe_requisition
):
    """Acme's service level: the hiring manager grades the assessment in five business days."""
    application = make_application(
        hirepipe_pipeline, hirepipe_requisition, stage="assessment", recipes=RECIPES
    )
    levels = ServiceLevels(hirepipe_pipeline.policy)
    (grading,) = [
        d
        for d in levels.deadlines(application, hirepipe_requisition)
        if d.stage == "assessment" and d.kind == "assessment"
    ]
    calendar = hirepipe_pipeline.clock.calendar
    assert 5 == calendar.business_days_between(grading.since, grading.due)
    assert ("maria",) == grading.owed_by  # the hiring manager


def test_the_events_acme_adds(hirepipe_recorder, hirepipe_pipeline, hirepipe_requisition):
    """The recorder hook sees Acme's own events like any other."""
    application = make_application(
        hirepipe_pipeline, hirepipe_requisition, stage="assessment", recipes=RECIPES
    )
    hirepipe_pipeline.fire(
        application, "grade_assessment", actor="maria", requisition=hirepipe_requisition, score=90
    )
    hirepipe_pipeline.fire(
        application, "complete_debrief", actor="maria", requisition=hirepipe_requisition
    )
    assert ["grade_assessment", "complete_debrief"] == hirepipe_recorder.events[-2:]
    assert "review" == application.stage
