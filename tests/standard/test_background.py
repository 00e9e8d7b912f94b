"""Background checks under the FCRA's adverse-action rules, as hiring scenarios.

The requisition is in New York (US federal holidays); 2025-01-20 is Martin Luther King Jr. Day,
a Monday.
"""

from __future__ import annotations

import datetime as _dt
import json
import tomllib

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import (
    Application,
    GuardRejected,
    Pipeline,
    Policy,
    PolicyError,
    PolicySettings,
    standard_policy,
)
from hirepipe.models import ERASED, BackgroundResult, DisputeOutcome
from hirepipe.notify import Notifier, Outbox, no_estimate
from hirepipe.standard import waiting_period
from hirepipe.testing import FakeClock, make_application, make_requisition
from hirepipe.timeline import BusinessCalendar, ServiceLevels, TimelineEstimator

POLICY = standard_policy(background_check=True)
START = pendulum.datetime(2025, 1, 6, 9, tz="America/New_York")


def ny(*parts: int) -> pendulum.DateTime:
    return pendulum.datetime(*parts, tz="America/New_York")


class Hiring:
    """A pipeline under the policy with the option on, with a notifier and a fake clock."""

    def __init__(self, policy: Policy = POLICY) -> None:
        self.clock = FakeClock(START)
        self.outbox = Outbox()
        self.notifier = Notifier(self.outbox, policy, estimate=no_estimate)
        self.pipeline = Pipeline(policy, clock=self.clock, hooks=[self.notifier])
        self.requisition = make_requisition()

    def at(self, stage: str) -> Application:
        return make_application(self.pipeline, self.requisition, stage=stage)

    def fire(self, application: Application, event: str, actor: str = "maria", **data):
        return self.pipeline.fire(
            application, event, actor=actor, requisition=self.requisition, **data
        )

    def refused(self, application: Application, event: str, actor: str = "maria", **data):
        """The codes the event is refused with; the application is left as it was."""
        before = application.model_dump()
        with pytest.raises(GuardRejected) as caught:
            self.fire(application, event, actor, **data)
        assert before == application.model_dump()
        return caught.value.codes

    def sent(self, application: Application, rule: str) -> list[str]:
        """The rendered text of each notification of ``rule`` for the application."""
        return [
            self.notifier.render(n).text
            for n in self.outbox.for_application(application.id)
            if n.rule == rule
        ]


NOTICE = {"report_enclosed": True, "summary_of_rights_enclosed": True}
OFFER = {"salary": 135_000, "start_date": _dt.date(2025, 3, 3)}
ASSESSMENT = "A 2023 fraud conviction bears on the duties of a role handling payments."


@pytest.fixture
def hiring() -> Hiring:
    return Hiring()


class TestConsiderResultThroughAdverseAction:
    """The issue's scenario: consider, adjudication, pre-adverse notice, dispute, final."""

    def test_the_whole_sequence_respects_the_holiday(self, hiring):
        """A holiday in the window extends it; an early final action is refused; then it ends."""
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="consider", report="rpt-7")
        assert ("background_assessment_needed",) == hiring.refused(app, "extend_offer", **OFFER)
        assert ("adverse_action_required",) == hiring.refused(
            app, "reject", reason="stronger_candidate", feedback="Another candidate fit better."
        )
        hiring.fire(app, "start_adjudication")
        assert "adjudication" == app.stage
        assert ("background_decision_pending",) == hiring.refused(
            app, "send_pre_adverse_notice", **NOTICE
        )
        assert ("assessment_missing",) == hiring.refused(
            app, "record_adjudication", decision="adverse", assessment="  "
        )
        hiring.fire(app, "record_adjudication", decision="adverse", assessment=ASSESSMENT)

        hiring.clock.set(ny(2025, 1, 15, 14))  # a Wednesday
        assert ("pre_adverse_enclosures_missing",) == hiring.refused(
            app, "send_pre_adverse_notice", report_enclosed=True
        )
        fired = hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        assert "pre_adverse_action" == app.stage
        # Thu 16, Fri 17, (Mon 20 is the holiday), Tue 21, Wed 22, Thu 23: over at Fri 24 00:00
        assert ny(2025, 1, 24) == app.background_check.waiting_until
        assert ["2025-01-20 Martin Luther King Jr. Day"] == fired.record.data["holidays"]
        (notice,) = hiring.sent(app, "pre_adverse_notice")
        assert "Summary of Your Rights Under the Fair Credit Reporting Act" in notice
        assert "rpt-7" in notice
        assert "Example Screening Inc." in notice

        hiring.clock.set(ny(2025, 1, 16, 10))
        hiring.fire(app, "dispute_background_check", actor="cand-1", text="Not my record.")
        assert "background_dispute" == app.stage
        hiring.clock.set(ny(2025, 1, 21, 10))
        assert {"adverse_action_waiting", "background_dispute_open"} == set(
            hiring.refused(app, "final_adverse_action")
        )
        hiring.fire(app, "resolve_dispute", outcome="stands", text="The agency verified it.")

        hiring.clock.set(ny(2025, 1, 23, 17))  # five business days, were it not for the holiday
        with pytest.raises(GuardRejected) as caught:
            hiring.fire(app, "final_adverse_action")
        (blocker,) = caught.value.blockers
        assert "adverse_action_waiting" == blocker.code
        assert "2025-01-24T00:00:00-05:00" in blocker.message
        assert ("adverse_action_required",) == hiring.refused(
            app, "reject", reason="skills", feedback="Not a fit."
        )

        hiring.clock.set(ny(2025, 1, 24, 9))
        hiring.fire(app, "final_adverse_action")
        assert "rejected" == app.stage
        assert "background_check" == app.rejection.reason
        assert ny(2025, 1, 24, 9) == app.background_check.final_notice_at
        (final,) = hiring.sent(app, "final_adverse_notice")
        assert "Example Screening Inc." in final
        assert "1-800-555-0100" in final
        assert "did not make this decision" in final
        assert "within 60 days" in final
        assert [] == hiring.sent(app, "rejection")  # the final notice is the rejection
        told = [n.trigger for n in hiring.outbox.for_application(app.id) if n.role == "candidate"]
        for step in ("start_adjudication", "dispute_background_check", "resolve_dispute"):
            assert step in told

    def test_without_a_holiday_the_window_is_five_business_days(self, hiring):
        """The same notice three weeks later ends five business days on, at midnight."""
        hiring.clock.set(ny(2025, 2, 5, 14))  # a Wednesday; no holiday until Feb 17
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="failed", report="rpt-8")
        fired = hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        assert ny(2025, 2, 13) == app.background_check.waiting_until
        assert [] == fired.record.data["holidays"]

    def test_the_waiting_days_are_policy_data(self):
        """A company that waits ten business days is held to ten."""
        hiring = Hiring(POLICY.with_setting(adverse_action_waiting_days=10, adverse_action_days=15))
        hiring.clock.set(ny(2025, 2, 5, 14))
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="failed", report="rpt-9")
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        # Feb 6 .. Feb 20, Presidents' Day (Feb 17) skipped: the tenth is Thu Feb 20
        assert ny(2025, 2, 21) == app.background_check.waiting_until


class TestOtherPaths:
    def test_a_clear_result_goes_on_to_the_offer(self, hiring):
        """Clear: no adjudication, no notice; the offer goes out."""
        app = hiring.at("background_check")
        assert ("background_result_pending",) == hiring.refused(app, "extend_offer", **OFFER)
        hiring.fire(app, "record_background_result", result="clear", report="rpt-1")
        assert ("background_result_clear",) == hiring.refused(app, "start_adjudication")
        assert ("background_not_adverse",) == hiring.refused(
            app, "send_pre_adverse_notice", **NOTICE
        )
        hiring.fire(app, "extend_offer", **OFFER)
        assert "offer" == app.stage

    def test_a_proceed_decision_goes_on_to_the_offer(self, hiring):
        """An individualized assessment may decide for the candidate."""
        app = hiring.at("adjudication")
        hiring.fire(app, "record_adjudication", decision="proceed", assessment="Old and unrelated.")
        hiring.fire(app, "extend_offer", **OFFER)
        assert "offer" == app.stage

    def test_no_check_starts_without_authorization(self, hiring):
        """Disclosure, then the candidate's written authorization, then the check."""
        app = hiring.at("references")
        data = {"provider": "Example Screening Inc.", "provider_contact": "1-800-555-0100"}
        from hirepipe.testing import STANDARD_RECIPES

        STANDARD_RECIPES["approve"].prepare(hiring.pipeline, app, hiring.requisition)
        STANDARD_RECIPES["extend_offer"].prepare(hiring.pipeline, app, hiring.requisition)
        assert ("background_disclosure_missing",) == hiring.refused(
            app, "start_background_check", **data
        )
        assert ("background_disclosure_missing",) == hiring.refused(
            app, "authorize_background_check", actor="cand-1"
        )
        hiring.fire(app, "send_background_disclosure", document="disclosure-v3")
        assert ("background_authorization_missing",) == hiring.refused(
            app, "start_background_check", **data
        )
        # the recruiter may not authorize for the candidate without saying so
        assert ("not_permitted",) == hiring.refused(app, "authorize_background_check")
        hiring.clock.advance(hours=1)
        hiring.pipeline.fire(
            app,
            "authorize_background_check",
            actor="maria",
            on_behalf_of="cand-1",
            requisition=hiring.requisition,
            document="signed-form-1",
        )
        assert "cand-1" == app.history[-1].data["on_behalf_of"]
        hiring.clock.advance(hours=1)
        hiring.fire(app, "send_background_disclosure", document="disclosure-v4")
        assert ("background_authorization_stale",) == hiring.refused(
            app, "start_background_check", **data
        )
        hiring.clock.advance(hours=1)
        hiring.fire(app, "authorize_background_check", actor="cand-1")
        hiring.fire(app, "start_background_check", **data)
        assert "background_check" == app.stage
        assert "Example Screening Inc." == app.background_check.provider
        (disclosure, _) = hiring.sent(app, "background_disclosure")
        assert "authorize it in writing" in disclosure

    def test_a_successful_dispute_returns_to_the_offer_path(self, hiring):
        """The report was wrong: no final action; the offer goes out."""
        app = hiring.at("background_dispute")
        hiring.fire(app, "resolve_dispute", outcome="cleared", text="The agency removed it.")
        hiring.clock.advance(days=14)
        assert ("background_cleared",) == hiring.refused(app, "final_adverse_action")
        hiring.fire(app, "extend_offer", **OFFER)
        assert "offer" == app.stage
        assert DisputeOutcome.cleared is app.background_check.dispute_outcome

    def test_an_amended_report_needs_a_new_notice_and_a_new_wait(self, hiring):
        """An amended report that still counts against the candidate starts over."""
        app = hiring.at("background_dispute")
        assert ("amended_report_missing",) == hiring.refused(
            app, "resolve_dispute", outcome="amended"
        )
        hiring.fire(app, "resolve_dispute", outcome="amended", report="rpt-2")
        hiring.clock.advance(days=14)
        assert ("background_report_amended",) == hiring.refused(app, "final_adverse_action")
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        assert "pre_adverse_action" == app.stage
        assert "rpt-2" == app.background_check.report
        assert app.background_check.waiting_until > hiring.clock.now()
        assert ("adverse_action_waiting",) == hiring.refused(app, "final_adverse_action")

    def test_the_candidate_may_change_the_decision_in_the_window(self, hiring):
        """What the candidate tells us in the waiting period may lead to a decision to proceed."""
        app = hiring.at("pre_adverse_action")
        hiring.fire(
            app, "record_adjudication", decision="proceed", assessment="Rehabilitation shown."
        )
        hiring.fire(app, "extend_offer", **OFFER)
        assert "offer" == app.stage

    def test_no_rejection_slips_around_the_steps(self, hiring):
        """The background reason needs the final action; a hold does not open a side door."""
        app = hiring.at("pre_adverse_action")
        reject = {"feedback": "No."}
        assert ("adverse_action_required",) == hiring.refused(
            app, "reject", reason="background_check", **reject
        )
        hiring.fire(app, "hold", reason="budget freeze")
        assert ("adverse_action_required",) == hiring.refused(
            app, "reject", reason="budget", **reject
        )
        # the candidate's own reasons are theirs
        hiring.fire(app, "reject", reason="accepted_elsewhere", **reject)
        assert "rejected" == app.stage

    def test_the_candidate_disputes_for_themselves(self, hiring):
        """Nobody disputes in the candidate's name without saying so."""
        app = hiring.at("pre_adverse_action")
        assert ("not_permitted",) == hiring.refused(app, "dispute_background_check")


class TestDeadlinesAndEstimates:
    @pytest.mark.parametrize(
        ("stage", "days"),
        [
            ("background_check", 5),
            ("adjudication", 3),
            ("pre_adverse_action", 10),
            ("background_dispute", 21),
        ],
        ids=["check", "adjudication", "pre-adverse", "dispute"],
    )
    def test_each_step_has_a_deadline_the_sweep_sees(self, hiring, stage, days):
        """A check stuck waiting shows up in the overdue sweep, owed by the hiring manager."""
        app = hiring.at(stage)
        levels = ServiceLevels(POLICY)
        (own,) = [d for d in levels.deadlines(app, hiring.requisition) if d.kind == stage]
        calendar = levels.calendar(hiring.requisition)
        assert calendar.add_business_days(own.since, days) == own.due
        assert ("maria",) == own.owed_by
        assert [] == [
            d for d in levels.overdue([app], [hiring.requisition], own.due) if d.kind == stage
        ]
        late = levels.overdue([app], [hiring.requisition], own.due.add(minutes=1))
        assert stage in {d.kind for d in late}
        sent = hiring.notifier.sweep([app], [hiring.requisition], own.due.add(minutes=1))
        assert f"{stage}_reminder" in {n.rule for n in sent}

    def test_the_estimator_counts_the_check_before_the_offer(self, hiring):
        """From the references, the offer is later with the check than without it."""
        plain = Hiring(standard_policy())
        with_check = hiring.at("references")
        without = plain.at("references")
        now = hiring.clock.now()
        later = TimelineEstimator(policy=POLICY).estimate(with_check, hiring.requisition, now)
        sooner = TimelineEstimator().estimate(without, plain.requisition, now)
        assert "background_check" in [s.stage for s in later.stages]
        assert later.offer.mean > sooner.offer.mean

    def test_an_application_in_the_check_has_an_estimate(self, hiring):
        """The estimator times the stage from its duration."""
        app = hiring.at("adjudication")
        estimate = TimelineEstimator(policy=POLICY).estimate(
            app, hiring.requisition, hiring.clock.now()
        )
        assert estimate.pending
        assert "adjudication" == estimate.stage
        assert estimate.offer is not None


class TestWaitingPeriod:
    @settings(max_examples=60, deadline=None)
    @given(
        day=st.dates(min_value=_dt.date(2020, 1, 1), max_value=_dt.date(2030, 12, 31)),
        hour=st.integers(0, 23),
        days=st.integers(5, 20),
    )
    def test_it_is_the_business_days_after_the_notice_day(self, day, hour, days):
        """Exactly ``days`` business days lie between the notice's day and the end, a midnight."""
        calendar = BusinessCalendar("US", subdiv="NY", time_zone="America/New_York")
        sent = pendulum.datetime(day.year, day.month, day.day, hour, tz="America/New_York")
        until, holidays = waiting_period(calendar, sent, days)
        after = sent.date() + _dt.timedelta(days=1)
        assert days == calendar.business_days_between(after, until.date())
        assert (0, 0) == (until.hour, until.minute)
        assert calendar.is_business_day(until.date() - _dt.timedelta(days=1))
        assert all(after <= d < until.date() for d, _ in holidays)


class TestPolicyData:
    def test_the_option_is_off_by_default(self):
        """The standard policy is unchanged without the flag."""
        assert "background_check" not in standard_policy().stages
        assert standard_policy() == standard_policy(background_check=False)

    @pytest.mark.parametrize("form", ["toml", "json", "dict"])
    def test_the_policy_round_trips(self, form, tmp_path):
        """Written out and read back, the policy is equal and runs the same rules."""
        if form == "toml":
            path = tmp_path / "policy.toml"
            path.write_text(POLICY.to_toml(), encoding="utf-8")
            loaded = Policy.from_file(path)
            assert POLICY == Policy.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
        elif form == "json":
            path = tmp_path / "policy.json"
            path.write_text(json.dumps(POLICY.to_dict()), encoding="utf-8")
            loaded = Policy.from_file(path)
        else:
            loaded = Policy.from_dict(POLICY.to_dict())
        assert POLICY == loaded
        hiring = Hiring(loaded)
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="failed", report="rpt-3")
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        assert ("adverse_action_waiting",) == hiring.refused(app, "final_adverse_action")

    def test_the_diagram_shows_the_stages(self):
        """The mermaid diagram names every stage and the final adverse action."""
        diagram = POLICY.to_mermaid()
        for name in ("background_check", "adjudication", "pre_adverse_action"):
            assert name in diagram
        assert "final_adverse_action" in diagram

    @pytest.mark.parametrize(
        "settings",
        [
            {"adverse_action_waiting_days": 4},
            {"adverse_action_waiting_days": 8, "adverse_action_days": 8},
        ],
        ids=["under-five", "decision-inside-the-wait"],
    )
    def test_settings_refuse_a_shorter_wait(self, settings):
        """Fewer than five days, or a decision due inside the wait, is refused."""
        with pytest.raises(ValidationError):
            PolicySettings(**settings)
        with pytest.raises(PolicyError):
            POLICY.with_setting(**settings)

    def test_an_old_application_loads(self, hiring):
        """An application stored before the option existed has no background check."""
        app = hiring.at("references")
        document = app.model_dump(mode="json")
        document.pop("background_check")
        assert Application.model_validate(document).background_check is None

    def test_erasure_removes_the_assessment_and_the_dispute(self, hiring):
        """Free text about the candidate's record is personal; the result code stays."""
        app = hiring.at("adjudication")
        hiring.fire(app, "record_adjudication", decision="adverse", assessment=ASSESSMENT)
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        hiring.fire(app, "dispute_background_check", actor="cand-1", text="Not my record.")
        hiring.fire(app, "resolve_dispute", outcome="stands")
        hiring.clock.advance(days=14)
        hiring.fire(app, "final_adverse_action")
        assert ASSESSMENT == app.background_check.assessment
        hiring.pipeline.erase(
            app, actor="maria", requisition=hiring.requisition, reason="the candidate's request"
        )
        check = app.background_check
        assert ERASED == check.assessment
        assert ERASED == check.dispute
        assert BackgroundResult.consider is check.result
        assert not [r for r in app.history if "Not my record." in str(r.data)]


class TestTheCandidatesCalendar:
    def test_a_state_holiday_of_the_requisitions_subdivision_counts(self):
        """In California, Cesar Chavez Day (2025-03-31) extends the window by a day."""
        found = {}
        for subdivision in (None, "CA"):
            hiring = Hiring()
            hiring.requisition = make_requisition(
                subdivision=subdivision, time_zone="America/Los_Angeles"
            )
            app = hiring.at("background_check")
            hiring.clock.set(pendulum.datetime(2025, 3, 26, 10, tz="America/Los_Angeles"))
            hiring.fire(app, "record_background_result", result="failed", report="rpt-4")
            hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
            found[subdivision] = app.background_check.waiting_until
        la = "America/Los_Angeles"
        assert pendulum.datetime(2025, 4, 3, tz=la) == found[None]
        assert pendulum.datetime(2025, 4, 4, tz=la) == found["CA"]

    def test_the_day_of_the_notice_is_the_local_one(self, hiring):
        """Thursday 23:30 in New York is Friday in UTC; the count starts on the local Friday."""
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="failed", report="rpt-5")
        hiring.clock.set(pendulum.datetime(2025, 2, 7, 4, 30, tz="UTC"))  # Thu 23:30 in NY
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        # Fri 7, Mon 10, Tue 11, Wed 12, Thu 13
        assert ny(2025, 2, 14) == app.background_check.waiting_until


class TestHostileInput:
    def test_a_provider_contact_on_two_lines_is_refused(self, hiring):
        """The agency's contact goes into a notice: one line, nothing smuggled after it."""
        app = hiring.at("references")
        before = app.model_dump()
        with pytest.raises(ValidationError):
            hiring.fire(
                app,
                "start_background_check",
                provider="Example Screening Inc.",
                provider_contact="1-800-555-0100\nBcc: everyone@example.com",
            )
        assert before == app.model_dump()

    def test_a_result_outside_the_codes_is_refused(self, hiring):
        """Only clear, consider and failed are results."""
        app = hiring.at("background_check")
        with pytest.raises(ValidationError):
            hiring.fire(app, "record_background_result", result="fine", report="rpt-6")
        assert app.background_check.result is None

    def test_the_enclosures_are_booleans(self, hiring):
        """A string "yes" is no confirmation that the report went with the notice."""
        app = hiring.at("adjudication")
        hiring.fire(app, "record_adjudication", decision="adverse", assessment=ASSESSMENT)
        with pytest.raises(ValidationError):
            hiring.fire(
                app, "send_pre_adverse_notice", report_enclosed="yes", summary_of_rights_enclosed=1
            )
        assert "adjudication" == app.stage


class TestWithTheOtherOptions:
    def test_every_option_on_still_takes_the_steps(self, tmp_path):
        """With every other option on too, the check guards the offer and round-trips."""
        policy = standard_policy(
            background_check=True,
            offer_signatures=True,
            feedback_requests=True,
            keep_in_touch_from_rejection=True,
            next_round_scheduling=True,
        )
        path = tmp_path / "policy.toml"
        path.write_text(policy.to_toml(), encoding="utf-8")
        assert policy == Policy.from_file(path)
        hiring = Hiring(policy)
        app = hiring.at("background_check")
        hiring.fire(app, "record_background_result", result="failed", report="rpt-10")
        assert "background_assessment_needed" in hiring.refused(app, "extend_offer", **OFFER)
        hiring.fire(app, "send_pre_adverse_notice", **NOTICE)
        assert ("adverse_action_waiting",) == hiring.refused(app, "final_adverse_action")
