"""Feedback on request: a rejected candidate asks, the recruiter owes it, sending closes it."""

from __future__ import annotations

import json

import pytest
import yaml

from hirepipe import GuardRejected, Pipeline, Policy, standard_policy
from hirepipe.models import ERASED
from hirepipe.notify import Notifier, Outbox, Templates
from hirepipe.privacy import erased
from hirepipe.standard import standard_registry
from hirepipe.testing import FakeClock, make_application, make_requisition
from hirepipe.timeline import BusinessCalendar, ServiceLevels
from tests.conftest import START

POLICY = standard_policy(feedback_requests=True)


@pytest.fixture(params=["code", "toml"])
def policy(request: pytest.FixtureRequest, tmp_path) -> Policy:
    """The policy with feedback requests, built in code and loaded back from its TOML."""
    if request.param == "code":
        return POLICY
    path = tmp_path / "feedback.toml"
    path.write_text(POLICY.to_toml(), encoding="utf-8")
    return Policy.from_file(path, registry=standard_registry())


@pytest.fixture
def world(policy):
    """A pipeline that tells a notifier, with a requisition that has a recruiter."""
    clock = FakeClock(START, calendar=BusinessCalendar("US", time_zone="America/New_York"))
    outbox = Outbox()
    notifier = Notifier(outbox, policy, templates=Templates())
    pipeline = Pipeline(policy, clock=clock, hooks=[notifier])
    requisition = make_requisition(recruiter="rita")
    return pipeline, clock, outbox, notifier, requisition


def rejected(pipeline, requisition, **data):
    """An application rejected after its review, feedback offered on request by default."""
    application = make_application(pipeline, requisition, stage="review")
    data = data or {"feedback_on_request": True}
    pipeline.fire(
        application, "reject", actor="maria", requisition=requisition, reason="skills", **data
    )
    return application


class TestFeedbackRequest:
    def test_overdue_request_is_swept_with_its_owner_and_closed_by_sending(self, world):
        """Asked for feedback, the recruiter owes it in 5 business days; sending it closes it."""
        pipeline, clock, outbox, notifier, requisition = world
        application = rejected(pipeline, requisition)
        levels = ServiceLevels(pipeline.policy)
        assert [] == levels.deadlines(application, requisition)

        asked = pipeline.fire(application, "request_feedback", actor="cand-1", text="Why?").record
        (deadline,) = levels.deadlines(application, requisition)
        assert ("feedback", ("rita",), "rejected") == (
            deadline.kind,
            deadline.owed_by,
            deadline.stage,
        )
        assert asked.at == deadline.since
        assert clock.now() == application.rejection.feedback_requested_at

        clock.advance_business_days(5)
        assert [] == levels.overdue([application], [requisition], clock.now())
        clock.advance(hours=1)
        assert [deadline] == levels.overdue([application], [requisition], clock.now())

        reminders = list(notifier.sweep([application], [requisition], clock.now()))
        assert [("feedback_reminder", "rita")] == [(n.rule, n.to) for n in reminders]
        assert [] == notifier.sweep([application], [requisition], clock.now())  # once only

        sent = pipeline.fire(
            application,
            "send_feedback",
            actor="rita",
            requisition=requisition,
            feedback="Go deeper on SQL.",
        ).record
        assert [] == levels.overdue([application], [requisition], clock.now())
        assert "Go deeper on SQL." == application.rejection.feedback
        assert sent.at == application.rejection.feedback_sent_at
        assert {"feedback": "Go deeper on SQL."} == sent.data
        (letter,) = [n for n in outbox.for_application(application.id) if n.rule == "feedback"]
        message = Templates().render(letter.template, letter.facts)
        assert ("cand-1", True) == (letter.to, "Go deeper on SQL." in message.text)

    def test_recruiter_passes_request_on_and_hiring_manager_owes_without_recruiter(self, world):
        """The recruiter hears of the request; without a recruiter, the hiring manager owes it."""
        pipeline, _clock, outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(application, "request_feedback", actor="cand-1", text="What went wrong?")
        told = [n for n in outbox.for_application(application.id) if n.rule == "feedback_requested"]
        assert ["rita"] == [n.to for n in told]
        text = Templates().render(told[0].template, told[0].facts).text
        assert "asked for feedback" in text
        assert "What went wrong?" in text

        alone = make_requisition(id="req-2")
        other = rejected(pipeline, alone)
        pipeline.fire(other, "request_feedback", actor="cand-1")
        (deadline,) = ServiceLevels(pipeline.policy).deadlines(other, alone)
        assert ("maria",) == deadline.owed_by

    def test_request_recorded_for_the_candidate_names_both(self, world):
        """A request by phone is recorded by the recruiter for the candidate, who is told."""
        pipeline, _clock, outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        record = pipeline.fire(
            application,
            "request_feedback",
            actor="rita",
            requisition=requisition,
            on_behalf_of="cand-1",
        ).record
        assert ("rita", "cand-1") == (record.actor, record.data["on_behalf_of"])
        assert "acted_for_you" in {n.rule for n in outbox.for_application(application.id)}

    @pytest.mark.parametrize(
        ("actor", "event", "data"),
        [
            ("rita", "request_feedback", {}),
            ("cand-1", "send_feedback", {"feedback": "Mine"}),
            ("alice", "send_feedback", {"feedback": "An interviewer's"}),
        ],
        ids=["recruiter-asks-in-own-name", "candidate-sends", "interviewer-sends"],
    )
    def test_nobody_acts_in_anothers_name(self, world, actor, event, data):
        """Only the candidate asks (or is recorded asking); only the company's staff send."""
        pipeline, _clock, _outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        if event == "send_feedback":
            pipeline.fire(application, "request_feedback", actor="cand-1")
        before = application.model_dump_json()
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
        assert "not_permitted" in caught.value.codes
        assert before == application.model_dump_json()

    def test_refusals_leave_the_application_as_it_was(self, world):
        """Asking twice, asking with feedback given, or sending blank feedback is refused."""
        pipeline, _clock, _outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(application, "request_feedback", actor="cand-1")
        cases = [
            ("cand-1", "request_feedback", {}, "feedback_already_requested"),
            ("rita", "send_feedback", {"feedback": "  \n"}, "feedback_missing"),
        ]
        given = rejected(pipeline, requisition, feedback="Strong, but SQL was thin.")
        for actor, event, data, code in cases:
            before = application.model_dump_json()
            with pytest.raises(GuardRejected) as caught:
                pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
            assert [code] == list(caught.value.codes)
            assert before == application.model_dump_json()
        for event, actor, data in (
            ("request_feedback", "cand-1", {}),
            ("send_feedback", "rita", {"feedback": "More"}),
        ):
            with pytest.raises(GuardRejected) as caught:
                pipeline.fire(given, event, actor=actor, requisition=requisition, **data)
            assert ["feedback_already_given"] == list(caught.value.codes)

    def test_feedback_is_asked_for_on_a_rejection_only(self, world):
        """An application that was never rejected has no feedback to ask for."""
        pipeline, _clock, _outbox, _notifier, requisition = world
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(application, "withdraw", actor="cand-1", requisition=requisition)
        assert "request_feedback" not in pipeline.available(
            application, actor="cand-1", requisition=requisition
        )

    def test_reopening_the_rejection_closes_the_request(self, world):
        """Undoing the rejection makes the request moot: the deadline closes."""
        pipeline, clock, _outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(application, "request_feedback", actor="cand-1")
        pipeline.fire(
            application, "reopen", actor="maria", requisition=requisition, reason="a mistake"
        )
        clock.advance_business_days(20)
        kinds = {d.kind for d in ServiceLevels(pipeline.policy).deadlines(application, requisition)}
        assert "feedback" not in kinds

    def test_erasure_removes_the_feedback_text(self, world):
        """The feedback is personal free text: erasure removes it everywhere, keeps the times."""
        pipeline, _clock, _outbox, _notifier, requisition = world
        application = rejected(pipeline, requisition)
        pipeline.fire(application, "request_feedback", actor="cand-1", text="Why not me?")
        pipeline.fire(
            application,
            "send_feedback",
            actor="rita",
            requisition=requisition,
            feedback="SQL was thin.",
        )
        pipeline.erase(
            application, actor="maria", requisition=requisition, reason="the candidate asked"
        )
        assert ERASED == application.rejection.feedback
        assert application.rejection.feedback_sent_at is not None
        texts = [r.data.get("feedback") or r.data.get("text") for r in application.history]
        assert {ERASED} == {t for t in texts if t}
        assert "SQL" not in application.model_dump_json()
        assert erased(application, pipeline.policy) == application


class TestOptional:
    def test_off_by_default(self):
        """The standard policy has neither event nor any follow-up unless asked."""
        policy = standard_policy()
        assert not {"request_feedback", "send_feedback"} & set(policy.events)
        assert {} == dict(policy.follow_ups)

    def test_policy_round_trips_through_every_format(self, tmp_path):
        """TOML, YAML and JSON give back an equal policy, follow-up included."""
        for path in dump_everywhere(POLICY, tmp_path):
            loaded = Policy.from_file(path)
            assert POLICY == loaded
            assert POLICY.follow_ups["request_feedback"] == loaded.follow_ups["request_feedback"]


def dump_everywhere(policy: Policy, folder) -> list:
    """Write ``policy`` as TOML, YAML and JSON into ``folder``; return the paths."""
    document = policy.to_dict()
    paths = [folder / "policy.toml", folder / "policy.yaml", folder / "policy.json"]
    paths[0].write_text(policy.to_toml(), encoding="utf-8")
    paths[1].write_text(yaml.safe_dump(document), encoding="utf-8")
    paths[2].write_text(json.dumps(document), encoding="utf-8")
    return paths
