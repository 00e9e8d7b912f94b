"""Acme proves its hiring policy with hirepipe's pytest plugin (installed with hirepipe).

The plugin's fixtures are ready in every test: ``hirepipe_pipeline`` runs ``hirepipe_policy``
(overridden below with Acme's) on ``hirepipe_clock``, a fake clock in business days.
"""

from __future__ import annotations

import pytest
from acme_hiring import acme_policy

from hirepipe import GuardRejected
from hirepipe.policy import paths
from hirepipe.testing import Recipe, make_application, make_requisition, walk

# how the kit passes Acme's own guard on its walks: grade the assessment first
RECIPES = {
    "pass_assessment": Recipe(
        prepare=lambda pipeline, application, requisition: pipeline.fire(
            application, "grade_assessment", actor="maria", score=75
        )
    )
}


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


def test_no_hire_without_the_assessment(hirepipe_pipeline, hirepipe_requisition):
    """A candidate cannot leave the assessment before it is graded 60 or more."""
    application = make_application(hirepipe_pipeline, hirepipe_requisition, stage="review")
    assert "assessment" == application.stage  # Acme's stage comes after the debrief
    with pytest.raises(GuardRejected) as refused:
        hirepipe_pipeline.fire(application, "pass_assessment", actor="maria")
    assert ("assessment_not_graded",) == refused.value.codes
    hirepipe_pipeline.fire(application, "grade_assessment", actor="maria", score=40)
    assert ["assessment_failed"] == [
        b.code for b in hirepipe_pipeline.blockers(application, "pass_assessment")
    ]


def test_waiting_candidates_hear_every_three_days(hirepipe_pipeline, hirepipe_requisition):
    """Acme's cadence: a waiting candidate's update is due three business days on."""
    from hirepipe.timeline import ServiceLevels

    application = make_application(hirepipe_pipeline, hirepipe_requisition)
    (update,) = [
        d
        for d in ServiceLevels(hirepipe_pipeline.policy).deadlines(
            application, hirepipe_requisition
        )
        if d.kind == "candidate_update"
    ]
    assert 3 == hirepipe_pipeline.clock.calendar.business_days_between(update.since, update.due)


def test_the_events_acme_adds(hirepipe_recorder, hirepipe_pipeline, hirepipe_requisition):
    """The recorder hook sees Acme's own events like any other."""
    application = make_application(hirepipe_pipeline, hirepipe_requisition, stage="review")
    hirepipe_pipeline.fire(application, "grade_assessment", actor="maria", score=90)
    hirepipe_pipeline.fire(application, "pass_assessment", actor="maria")
    assert ["grade_assessment", "pass_assessment"] == hirepipe_recorder.events[-2:]
