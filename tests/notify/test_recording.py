"""Loops that close: a sent notification is recorded, a creation is told, a deadline is met."""

from __future__ import annotations

import pytest

from hirepipe import Pipeline, PolicyError, ServiceLevels, standard_policy
from hirepipe.notify import SYSTEM_ACTOR, MemorySender, Notifier, Outbox, deliver, record_sent
from hirepipe.policy import NotificationRule, Recipient
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_candidate, make_requisition
from tests.conftest import START

POLICY = standard_policy()


def thank_you_owed(application, requisition) -> bool:
    return any(
        d.kind == "thank_you" for d in ServiceLevels(POLICY).deadlines(application, requisition)
    )


class TestInMemory:
    def test_creating_tells_the_notifier_and_sending_closes_the_thank_you(self):
        """No call to remember: the thank-you is queued at creation, and its sending recorded."""
        requisition = make_requisition()
        applications = {}
        outbox = Outbox()
        pipeline = Pipeline(POLICY, clock=FakeClock(START))
        outbox.on_sent = record_sent(pipeline, applications)
        pipeline.hooks.append(Notifier(outbox, POLICY))
        application = pipeline.new_application(make_candidate(), requisition)
        applications[application.id] = application
        assert {"application_received", "interview_thank_you"} == {n.rule for n in outbox}
        assert thank_you_owed(application, requisition)
        report = deliver(outbox, MemorySender(), START.add(minutes=5))
        assert 2 == len(report.sent)
        (record,) = [r for r in application.history if r.event == "thank_you_sent"]
        assert SYSTEM_ACTOR == record.actor
        assert not thank_you_owed(application, requisition)

    def test_the_record_is_the_pipelines_system_actors(self):
        """A pipeline naming its own system actor records the sent thank-you as it."""
        requisition = make_requisition()
        applications = {}
        outbox = Outbox()
        pipeline = Pipeline(POLICY, clock=FakeClock(START), system_actor="ats-bot")
        outbox.on_sent = record_sent(pipeline, applications)
        pipeline.hooks.append(Notifier(outbox, POLICY))
        application = pipeline.new_application(make_candidate(), requisition)
        applications[application.id] = application
        deliver(outbox, MemorySender(), START.add(minutes=5))
        (record,) = [r for r in application.history if r.event == "thank_you_sent"]
        assert "ats-bot" == record.actor

    def test_a_record_that_cannot_be_written_is_reported_not_resent(self):
        """An application the recorder cannot find: the notification stays sent, reported."""
        outbox = Outbox()
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[Notifier(outbox, POLICY)])
        outbox.on_sent = record_sent(pipeline, {})
        pipeline.new_application(make_candidate(), make_requisition())
        report = deliver(outbox, MemorySender(), START.add(minutes=5))
        assert ["interview_thank_you"] == [n.rule for n in report.unrecorded]
        assert {"sent"} == {n.status for n in outbox}

    def test_a_rule_records_only_an_activity_from_any_stage(self):
        """A rule that would record a transition, or an unknown event, is refused at load."""
        for records in ("accept", "no_such_event"):
            rule = NotificationRule(
                "odd", "thank_you", Recipient.candidate, events=("note",), records=records
            )
            with pytest.raises(PolicyError, match="is not an activity that fires from any"):
                POLICY.with_notifications(rule)

    def test_records_round_trip_through_the_policy_file(self):
        """The standard rules' records survive TOML."""
        document = POLICY.to_dict()
        thank_you = next(r for r in document["notifications"] if r["name"] == "interview_thank_you")
        assert "thank_you_sent" == thank_you["records"]


class TestStore:
    def test_the_store_records_the_sent_notification_in_the_same_transaction(self, tmp_path):
        """Delivered from the store's outbox, the thank-you is in the stored history at once."""
        pipeline = Pipeline(POLICY, clock=FakeClock(START))
        with Store(f"sqlite:///{tmp_path / 'hiring.db'}", pipeline) as store:
            store.upgrade()
            pipeline.hooks.append(Notifier(store.outbox, POLICY))
            requisition = make_requisition()
            application = pipeline.new_application(make_candidate(), requisition)
            store.add(application, requisition)
            report = deliver(store.outbox, MemorySender(), START.add(minutes=5))
            assert 2 == len(report.sent)
            stored = store.load(application.id)
            assert ["thank_you_sent"] == [r.event for r in stored.history]
            assert not thank_you_owed(stored, requisition)
            assert [] == store.verify()


class TestSweep:
    def test_the_sweep_queues_a_thank_you_owed_and_missing(self):
        """Made without the notifier and already moved on: the sweep queues round 1's thank-you."""
        requisition = make_requisition()
        outbox = Outbox()
        notifier = Notifier(outbox, POLICY)
        quiet = Pipeline(POLICY, clock=FakeClock(START))  # the host forgot the notifier
        application = quiet.new_application(make_candidate(), requisition)
        quiet.fire(application, "start_debrief", actor="maria", requisition=requisition)
        made = notifier.sweep([application], [requisition], START.add(hours=1))
        assert {"interview_thank_you"} <= {n.rule for n in made}
        assert [] == notifier.sweep([application], [requisition], START.add(hours=2))  # once
