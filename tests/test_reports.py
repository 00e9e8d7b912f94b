"""The funnel, time in stage, rejections and missed service levels, from histories alone."""

from __future__ import annotations

import json

import pandas
import pytest

from hirepipe import Pipeline, standard_policy
from hirepipe.reports import blind, funnel
from hirepipe.testing import FakeClock, advance, make_application, make_candidate, make_requisition
from hirepipe.timeline.calendar import calendar_for
from tests import policies
from tests.conftest import START

POLICY = standard_policy()


def slate_of_three():
    """Three candidates of one requisition: hired, rejected at review, withdrawn in debrief."""
    requisition = make_requisition()
    clock = FakeClock(START, calendar=calendar_for(requisition))
    pipeline = Pipeline(POLICY, clock=clock)
    hired = make_application(
        pipeline, requisition, stage="hired", candidate=make_candidate(1), hours_between=24
    )
    rejected = make_application(
        pipeline, requisition, stage="review", candidate=make_candidate(2), hours_between=24
    )
    clock.advance_business_days(12)  # past the review's ten business days
    advance(pipeline, rejected, requisition, ["reject"])
    withdrawn = make_application(
        pipeline, requisition, stage="debrief", candidate=make_candidate(3)
    )
    pipeline.fire(withdrawn, "withdraw", actor="cand-3")
    return [hired, rejected, withdrawn], requisition, clock


class TestFunnel:
    def test_conversions_follow_the_forward_events(self):
        """Of those who left the review, the share that went forward by its forward event."""
        applications, requisition, _ = slate_of_three()
        report = funnel(applications, [requisition], POLICY)
        review = report.conversions["review"]
        assert (2, 2, 1, 0.5) == (review.entered, review.left, review.forward, review.rate)
        assert {"approval": 1, "rejected": 1} == review.to
        assert 3 == report.conversions["interviewed"].entered
        assert (3, report.conversions["offer"].forward) == (report.applications, 0)

    def test_rejections_by_stage_reason_and_side(self):
        """Each rejection is counted where it happened, with its reason's side."""
        applications, requisition, _ = slate_of_three()
        rows = funnel(applications, [requisition], POLICY).rows("rejections")
        assert [{"stage": "review", "reason": "skills", "side": "company", "count": 1}] == rows

    def test_time_in_stage_in_business_days(self):
        """Each ended visit counts its business days; the review that waited twelve shows it."""
        applications, requisition, _ = slate_of_three()
        times = funnel(applications, [requisition], POLICY).time_in_stage
        review = times["review"]  # one day for the hired, twelve for the rejected
        assert (2, 6.5, 10.9) == (review.visits, review.p50, review.p90)

    def test_a_review_past_its_days_is_a_missed_service_level(self):
        """The rejected candidate's review took longer than its ten days: missed, by the manager."""
        applications, requisition, _ = slate_of_three()
        rows = funnel(applications, [requisition], POLICY).rows("breaches")
        (review,) = [r for r in rows if r["stage"] == "review" and r["kind"] == "review"]
        assert ("hiring_manager", 1, 2) == (review["owner"], review["missed"], review["owed"])

    def test_running_visits_are_judged_with_now(self):
        """With ``now``, a stage still running past its days counts as missed already."""
        requisition = make_requisition()
        clock = FakeClock(START, calendar=calendar_for(requisition))
        pipeline = Pipeline(POLICY, clock=clock)
        waiting = make_application(pipeline, requisition, stage="review")
        later = clock.advance_business_days(15)
        without = funnel([waiting], [requisition], POLICY).rows("breaches")
        with_now = funnel([waiting], [requisition], POLICY, now=later).rows("breaches")
        assert [] == [r for r in without if r["kind"] == "review"]
        assert [1] == [r["missed"] for r in with_now if r["kind"] == "review"]

    def test_a_companys_own_stage_is_in_the_report(self):
        """A background check shows in conversions, time in stage and its service level."""
        policy = policies.background_check_policy()
        requisition = make_requisition()
        clock = FakeClock(START, calendar=calendar_for(requisition))
        pipeline = Pipeline(policy, clock=clock)
        application = make_application(
            pipeline, requisition, stage="background_check", recipes=policies.background_recipes()
        )
        clock.advance_business_days(7)
        policies.clear_background(pipeline, application, requisition)
        advance(pipeline, application, requisition, ["extend_offer"])
        report = funnel([application], [requisition], policy)
        assert 1 == report.conversions["background_check"].forward
        assert 7 == report.time_in_stage["background_check"].p50
        (own,) = [r for r in report.rows("breaches") if r["kind"] == "background_check"]
        assert ("outside", 1) == (own["owner"], own["missed"])

    def test_the_tables_make_data_frames(self):
        """Each table's rows make a DataFrame; an unknown table is refused by name."""
        applications, requisition, _ = slate_of_three()
        report = funnel(applications, {requisition.id: requisition}, POLICY)
        frame = pandas.DataFrame(report.rows("time_in_stage"))
        assert {"stage", "visits", "p50", "p90", "mean"} == set(frame.columns)
        with pytest.raises(ValueError, match="no table 'funnels'"):
            report.rows("funnels")  # type: ignore[arg-type]

    def test_an_application_without_its_requisition_is_refused(self):
        """Business days need the requisition's calendar: a missing one is named."""
        applications, _, _ = slate_of_three()
        with pytest.raises(Exception, match="req-1"):
            funnel(applications, [], POLICY)


class TestBlind:
    def test_no_names_emails_or_free_text(self):
        """The blind view keeps stages and recommendations and drops everything personal."""
        applications, _, _ = slate_of_three()
        text = json.dumps(blind(applications))
        for application in applications:
            assert application.candidate.name not in text
            assert application.candidate.email not in text
        for word in ("alice", "bob", "deeper database"):  # interviewers, feedback
            assert word not in text
        rows = blind(applications)
        assert ["candidate 1", "candidate 2", "candidate 3"] == [r["candidate"] for r in rows]
        assert {"yes"} == {c["recommendation"] for r in rows for c in r["recommendations"]}


class TestFollowUps:
    """What events leave owed (a feedback request) is judged as a missed service level too."""

    POLICY = standard_policy(feedback_requests=True)

    def rejected_and_asking(self):
        requisition = make_requisition(recruiter="rita")
        clock = FakeClock(START, calendar=calendar_for(requisition))
        pipeline = Pipeline(self.POLICY, clock=clock)
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application,
            "reject",
            actor="maria",
            requisition=requisition,
            reason="skills",
            feedback_on_request=True,
        )
        pipeline.fire(application, "request_feedback", actor=application.candidate.id)
        return pipeline, clock, application, requisition

    def feedback_rows(self, applications, requisition, **kwargs):
        rows = funnel(applications, [requisition], self.POLICY, **kwargs).rows("breaches")
        return [r for r in rows if r["kind"] == "feedback"]

    def test_feedback_sent_late_is_missed_by_the_recruiter(self):
        """Sent eight business days after the request (five allowed): missed, by the owner."""
        pipeline, clock, application, requisition = self.rejected_and_asking()
        clock.advance_business_days(8)
        pipeline.fire(
            application, "send_feedback", actor="rita", requisition=requisition, feedback="..."
        )
        assert [
            {"stage": "rejected", "kind": "feedback", "owner": "recruiter", "missed": 1, "owed": 1}
        ] == self.feedback_rows([application], requisition)

    def test_feedback_sent_in_time_is_owed_and_met(self):
        """Sent in two business days: counted as owed, not missed."""
        pipeline, clock, application, requisition = self.rejected_and_asking()
        clock.advance_business_days(2)
        pipeline.fire(
            application, "send_feedback", actor="rita", requisition=requisition, feedback="..."
        )
        (row,) = self.feedback_rows([application], requisition)
        assert (0, 1) == (row["missed"], row["owed"])

    def test_a_request_still_open_is_judged_with_now(self):
        """Unanswered: not judged without ``now``; past due at ``now``, missed."""
        _, clock, application, requisition = self.rejected_and_asking()
        later = clock.advance_business_days(9)
        assert [] == self.feedback_rows([application], requisition)
        (row,) = self.feedback_rows([application], requisition, now=later)
        assert (1, 1) == (row["missed"], row["owed"])
