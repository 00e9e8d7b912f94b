"""Tests of the Notifier hook: idempotency, delays, creation, sweeps, cadence, facts."""

from __future__ import annotations

import datetime as _dt
from collections import Counter
from dataclasses import dataclass
from datetime import date
from typing import Any

import pendulum
import pytest

from hirepipe import (
    Application,
    ApprovalStep,
    CalendarError,
    EstimateError,
    Fired,
    Pipeline,
    Requisition,
    standard_policy,
)
from hirepipe.models import Reference
from hirepipe.notify import (
    CREATED,
    Notification,
    NotificationError,
    Notifier,
    OpenRole,
    Outbox,
    Outlook,
    Templates,
    as_outlook,
    deliver,
    no_estimate,
)
from hirepipe.notify._notifier import CountingNotifier
from hirepipe.policy import NotificationRule, Recipient
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START
from tests.notify.world import (
    ESTIMATE_TEXT,
    LATEST,
    LIKELY,
    POLICY,
    TEMPLATES,
    World,
    business_days,
    notify_policy,
    ny,
)

# -- the hook -------------------------------------------------------------------------------------


class TestHook:
    def test_calling_again_adds_nothing(self):
        """The same applied event, handed over twice, notifies once."""
        world = World()
        application = world.application("debrief")
        recorder: list[Fired] = []
        world.pipeline.hooks.append(recorder.append)
        world.fire(application, "complete_debrief")
        before = len(world.outbox)
        world.notifier(recorder[-1])
        world.notifier(recorder[-1])
        assert before == len(world.outbox)

    def test_a_failing_hook_is_retried_without_duplicates(self):
        """A notifier that crashed adds its notifications on retry, each once."""
        lookups = {"n": 0}

        def directory(person: str) -> str:
            lookups["n"] += 1
            if lookups["n"] == 2:
                raise RuntimeError("directory down")
            return f"{person}@example.com"

        rules = tuple(
            NotificationRule(name, "candidate_message", Recipient.recruiter, ("inquiry",))
            for name in ("one", "two")
        )
        world = World(policy=notify_policy(notifications=rules), notifier={"directory": directory})
        application = world.pipeline.new_application(make_candidate(), world.requisition)
        world.pipeline.fire(application, "inquiry", actor="cand-1", requisition=world.requisition)
        assert 1 == len(world.pipeline.hook_failures)
        assert "inquiry" == application.history[-1].event  # the activity stands
        assert 0 == world.pipeline.retry_failed_hooks()
        assert 0 == world.pipeline.retry_failed_hooks()
        made = world.outbox.for_application(application.id)
        assert [("one", "maria@example.com"), ("two", "maria@example.com")] == [
            (n.rule, n.address) for n in made
        ]

    def test_unknown_requisition_is_kept_for_retry(self):
        """Without a way to find the requisition the hook fails, and succeeds once it can."""
        outbox = Outbox()
        known: dict[str, Requisition] = {}
        notifier = Notifier(outbox, POLICY, templates=TEMPLATES, requisitions=known.get)
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[notifier])
        requisition = make_requisition()
        # made elsewhere: the notifier was never told of it, nor of its requisition
        application = Pipeline(POLICY, clock=FakeClock(START)).new_application(
            make_candidate(), requisition
        )
        pipeline.fire(application, "inquiry", actor="cand-1")
        (failure,) = pipeline.hook_failures
        assert isinstance(failure.error, NotificationError)
        assert "no requisition 'req-1'" in str(failure.error)
        known["req-1"] = requisition
        assert 0 == pipeline.retry_failed_hooks()
        assert {"inquiry_answer", "candidate_message"} == {n.rule for n in outbox}

    def test_a_failed_creation_hook_is_kept_for_retry(self):
        """Told of a new application it cannot place, the notifier fails; a retry catches up."""
        outbox = Outbox()
        notifier = Notifier(outbox, POLICY, templates=TEMPLATES)

        class Relay:
            """The notifier behind a relay that is down at first."""

            down = True

            def __call__(self, fired):
                notifier(fired)

            def created(self, application, requisition):
                if self.down:
                    raise NotificationError("the mail relay is down")
                notifier.created(application, requisition)

        relay = Relay()
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[relay])
        application = pipeline.new_application(make_candidate(), make_requisition())
        (creation,) = pipeline.creation_failures
        assert (application.id, "the mail relay is down") == (
            creation.application.id,
            str(creation.error),
        )
        relay.down = False
        assert 0 == pipeline.retry_failed_hooks()
        assert {"application_received", "interview_thank_you"} == {n.rule for n in outbox}

    def test_requisitions_given_as_a_collection(self):
        """A collection of requisitions is enough to fire without passing one."""
        requisition = make_requisition()
        outbox = Outbox()
        notifier = Notifier(
            outbox, POLICY, templates=TEMPLATES, requisitions=[requisition], estimate=no_estimate
        )
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[notifier])
        application = pipeline.new_application(make_candidate(), requisition)
        pipeline.fire(application, "inquiry", actor="cand-1")
        assert ((), ()) == (pipeline.hook_failures, pipeline.creation_failures)
        assert 2 == len([n for n in outbox if n.trigger == "inquiry"])

    def test_requisitions_given_as_a_mapping(self):
        """A mapping of requisitions by id is looked up, and what it finds remembered."""
        requisition = make_requisition()
        outbox = Outbox()
        notifier = Notifier(
            outbox,
            POLICY,
            templates=TEMPLATES,
            requisitions={"req-1": requisition},
            estimate=no_estimate,
        )
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[notifier])
        application = pipeline.new_application(make_candidate(), requisition)  # tells the notifier
        assert (2, []) == (len(outbox), notifier.created(application))  # only once
        pipeline.fire(application, "inquiry", actor="cand-1")
        assert 4 == len(outbox)
        assert "We expect" not in notifier.render(outbox.pending()[2]).text

    def test_times_show_in_the_requisitions_zone(self):
        """A time given in UTC is shown to the candidate in the requisition's local time."""
        world = World(pendulum.datetime(2025, 1, 6, 21, tz="UTC"))
        application = world.application("review")
        world.fire(
            application,
            "schedule_next_round",
            interviewers=["carol"],
            scheduled_at=pendulum.datetime(2025, 1, 13, 15, tz="UTC"),
        )
        notification = world.latest(application, "next_round_invitation")
        assert notification.facts["interview"]["scheduled_at"].endswith("+00:00")
        text = world.render(notification).text
        assert "on Monday, January 13, 2025, 10:00\u202fAM (UTC-05:00)." in text

    def test_delay_in_business_days(self):
        """A rule's delay counts business days in the requisition's calendar (MLK Day off)."""
        rule = NotificationRule(
            "late", "keep_warm", Recipient.candidate, stages=("talent_pool",), delay_days=2
        )
        world = World(ny(2025, 1, 17, 11), policy=notify_policy(notifications=(rule,)))
        application = world.application("talent_pool")
        (notification,) = world.made(application, "late")
        assert ny(2025, 1, 22, 11) == notification.due_at  # Friday + 2: Tuesday the 21st is 1
        assert 2 == business_days(application.history[-1].at, notification.due_at)
        assert [] == world.outbox.due(ny(2025, 1, 22, 10))

    def test_stage_rules_fire_on_entering_only(self):
        """A rule on a stage fires on every transition into it, and not on activities there."""
        rule = NotificationRule(
            "reviewing", "status_update", Recipient.candidate, stages=("review",)
        )
        world = World(policy=notify_policy(notifications=(rule,)))
        application = world.application("review")
        world.pipeline.fire(
            application, "note", actor="maria", requisition=world.requisition, text="looks good"
        )
        world.fire(application, "reject", reason="skills", feedback="no")
        world.fire(application, "reopen", reason="a mistake")
        assert ["complete_debrief", "reopen"] == [
            n.trigger for n in world.made(application, "reviewing")
        ]

    def test_people_are_resolved_by_role(self):
        """Roles resolve to people: approvers, interviewers, referees, with known addresses."""
        rules = tuple(NotificationRule(role, "reminder", role, ("note",)) for role in Recipient)
        world = World(
            policy=notify_policy(notifications=rules),
            approvers=["cfo", "ceo@example.com"],
            notifier={"directory": lambda person: {"alice": "alice@example.com"}.get(person)},
        )
        application = world.application("offer")
        world.pipeline.fire(application, "note", actor="maria", requisition=world.requisition)
        made = {
            (n.role, n.to, n.address)
            for n in world.outbox.for_application(application.id)
            if n.trigger == "note"
        }
        assert {
            ("candidate", "cand-1", "candidate1@example.com"),
            ("hiring_manager", "maria", None),
            ("recruiter", "maria", None),
            ("approvers", "cfo", None),
            ("approvers", "ceo@example.com", "ceo@example.com"),
            ("interviewers", "alice", "alice@example.com"),
            ("interviewers", "bob", None),
            ("referees", "referee-1", "referee-1@example.com"),
            ("referees", "referee-2", "referee-2@example.com"),
        } == made

    def test_referees_without_an_address_are_looked_up(self):
        """A referee's contact is their address when it is one; else the directory's, if any."""
        rule = NotificationRule("referees", "reminder", Recipient.referees, ("note",))
        world = World(
            policy=notify_policy(notifications=(rule,)),
            notifier={"directory": lambda person: {"ref-b": "b@example.com"}.get(person)},
        )
        application = world.application("references")
        fire = world.pipeline.fire
        fire(application, "send_reference_notice", actor="maria", requisition=world.requisition)
        for referee, contact in (
            ("ref-a", "+1 555 0100"),
            ("ref-b", "+1 555 0101"),
            ("ref-c", "c@example.com"),
        ):
            fire(
                application, "add_reference", actor="maria", requisition=world.requisition,
                referee=referee, contact=contact, consent=True,
            )  # fmt: skip
        fire(application, "note", actor="maria", requisition=world.requisition)
        made = [(n.to, n.address) for n in world.made(application, "referees")]
        assert [("ref-a", None), ("ref-b", "b@example.com"), ("ref-c", "c@example.com")] == sorted(
            made
        )

    def test_a_referee_on_record_twice_is_addressed_as_first_recorded(self):
        """Two references by one referee make one notification, addressed as the first says.

        The first reference's contact is no address: the directory's, as before ids were
        resolved to people one key at a time (not the later reference's address).
        """
        rule = NotificationRule("referees", "reminder", Recipient.referees, ("note",))
        world = World(
            policy=notify_policy(notifications=(rule,)),
            notifier={"directory": lambda person: {"ref-a": "dir@example.com"}.get(person)},
        )
        references = (
            Reference(referee="ref-a", contact="+1 555 0100", consent=True),
            Reference(referee="ref-a", contact="later@example.com", consent=True),
        )
        application = world.application("references").model_copy(update={"references": references})
        world.pipeline.fire(application, "note", actor="maria", requisition=world.requisition)
        made = [(n.to, n.address) for n in world.made(application, "referees")]
        assert [("ref-a", "dir@example.com")] == made

    def test_another_policy_uses_its_own_rules(self):
        """An event applied under a policy other than the notifier's uses that policy's rules."""
        world = World()
        other = notify_policy(notifications=())
        pipeline = Pipeline(other, clock=world.clock, hooks=[world.notifier])
        application = pipeline.new_application(make_candidate(), world.requisition)
        pipeline.fire(application, "inquiry", actor="cand-1", requisition=world.requisition)
        assert [] == [
            n for n in world.outbox.for_application(application.id) if n.trigger == "inquiry"
        ]

    def test_a_missing_template_fails_at_construction(self):
        """A rule naming a template that does not exist is refused before any event."""
        rule = NotificationRule("bad", "no_such_template", Recipient.candidate, ("note",))
        with pytest.raises(NotificationError, match=r"no_such_template\.subject\.txt"):
            Notifier(Outbox(), notify_policy(notifications=(rule,)), templates=TEMPLATES)

    def test_an_unknown_deadline_fails_at_construction(self):
        """A rule naming a deadline kind that does not exist is refused before any sweep."""
        rule = NotificationRule("bad", "reminder", Recipient.approvers, deadline="aproval")
        with pytest.raises(NotificationError, match=r"bad: 'aproval'.*approval, candidate_update"):
            Notifier(Outbox(), notify_policy(notifications=(rule,)), templates=TEMPLATES)

    def test_default_policy_is_the_standard_one(self):
        """Without a policy the notifier uses the standard policy."""
        notifier = Notifier(Outbox(), templates=TEMPLATES)
        assert "standard@1" == notifier.policy.label
        assert "Notifier(Policy('standard@1'" in repr(notifier)


# -- creation and the sweep -----------------------------------------------------------------------


class TestCountingNotifier:
    """The simulator's counter: the Notifier's rules, recipients and keys, nothing kept."""

    def world(self) -> tuple[World, CountingNotifier, list[Fired]]:
        rules = tuple(NotificationRule(role, "reminder", role, ("note",)) for role in Recipient)
        policy = notify_policy(notifications=(*POLICY.notifications, *rules))
        world = World(policy=policy, approvers=["cfo", "ceo@example.com"])
        counter = CountingNotifier(Notifier(Outbox(), policy, templates=TEMPLATES))
        recorder: list[Fired] = []
        world.pipeline.hooks += [counter, recorder.append]
        return world, counter, recorder

    def test_counts_what_the_notifier_keeps(self):
        """Per rule and key, the counter has what the Notifier put into its outbox."""
        world, counter, _ = self.world()
        application = world.application("offer")
        world.pipeline.fire(application, "note", actor="maria", requisition=world.requisition)
        world.fire(application, "accept")
        kept = list(world.outbox)
        assert {n.key for n in kept} == counter.keys
        assert Counter(n.rule for n in kept) == counter.counts
        assert {"candidate", "approvers", "referees", "interviewers"} <= set(counter.counts)

    def test_each_key_once(self):
        """An event or a creation handed over again is not counted again."""
        world, counter, recorder = self.world()
        application = world.application("debrief")
        before = dict(counter.counts)
        counter(recorder[-1])
        counter.created(application, world.requisition)
        assert before == counter.counts

    def test_a_copy_counts_as_its_own_creation(self):
        """A copy of a template under its own ids counts what created() counts for it."""
        world, counter, _ = self.world()
        template = world.pipeline.new_application(make_candidate(2), world.requisition)
        requisition = world.requisition.model_copy(update={"id": "req-copy"})
        expected = CountingNotifier(counter.notifier)
        for number in (1, 2):  # the second copy reads what the first one found
            copy = template.model_copy(
                update={"id": f"copy-{number}", "requisition_id": "req-copy"}
            )
            counter.reset()
            expected.reset()
            counter.created_copy(copy, template, requisition)
            expected.created(copy, requisition)
            assert (expected.counts, expected.keys) == (counter.counts, counter.keys)
            assert counter.keys
            assert all(key.startswith(f"copy-{number}/0/") for key in counter.keys)

    def test_another_template_under_the_same_id_counts_its_own_recipients(self):
        """What was found for one template is not used for another that shares its id."""
        world, counter, _ = self.world()
        first = world.pipeline.new_application(make_candidate(2), world.requisition)
        second = first.model_copy(update={"candidate": make_candidate(3)})
        expected = CountingNotifier(counter.notifier)
        for template in (first, second):
            copy = template.model_copy(update={"id": "copy-1"})
            counter.reset()
            expected.reset()
            counter.created_copy(copy, template, world.requisition)
            expected.created(copy, world.requisition)
            assert (expected.counts, expected.keys) == (counter.counts, counter.keys)
        assert any(make_candidate(3).id in key for key in counter.keys)

    def test_reset_forgets_counts_and_requisitions(self):
        """After a reset nothing is counted and an unknown requisition is an error again."""
        world, counter, recorder = self.world()
        application = world.application("debrief")
        world.pipeline.fire(application, "note", actor="maria", requisition=world.requisition)
        counter.reset()
        assert ({}, set()) == (counter.counts, counter.keys)
        fired = recorder[-1]
        assert "note" == fired.record.event
        with pytest.raises(NotificationError, match="no requisition"):
            counter(Fired(fired.record, fired.application, None, fired.policy))


class TestKeys:
    def test_ids_with_slashes_never_collide(self):
        """Two candidates whose ids would run together in a key both get their message.

        Issue 17: keys joined the ids with unescaped '/', so application ``a`` of candidate
        ``x/0/application_received/y`` and application ``a/0/application_received/x`` of
        candidate ``y`` made one key, and the second message was dropped as a duplicate.
        """
        world = World()
        pairs = [("a", "x/0/application_received/y"), ("a/0/application_received/x", "y")]
        for number, (application_id, candidate_id) in enumerate(pairs, start=1):
            application = world.pipeline.new_application(
                make_candidate(number, id=candidate_id),
                world.requisition,
                application_id=application_id,
            )
            world.notifier.created(application, world.requisition)
        world.deliver()
        received = {
            (notification.application_id, notification.to)
            for notification, _ in world.sender.sent
            if notification.rule == "application_received"
        }
        assert set(pairs) == received

    def test_plain_ids_keep_their_keys(self):
        """Ids without '/' or '%' make the same keys as before, so nothing is sent again."""
        world = World()
        application = world.application()
        assert {f"{application.id}/0/application_received/cand-1"} <= {
            n.key for n in world.outbox.for_application(application.id)
        }


class TestCreatedAndSweep:
    def test_created_twice_adds_nothing(self):
        """Telling the notifier of a creation again adds nothing."""
        world = World()
        application = world.application()
        assert [] == world.notifier.created(application)

    def test_sweep_catches_a_forgotten_creation(self):
        """An application nothing happened to, whose creation was never told, is caught."""
        world = World()
        application = world.quiet.new_application(make_candidate(), world.requisition)
        swept = world.notifier.sweep([application], [world.requisition], START.add(hours=1))
        assert {"application_received", "interview_thank_you"} == {n.rule for n in swept}

    def test_sweep_needs_an_aware_now(self):
        """A naive now is refused."""
        world = World()
        with pytest.raises(CalendarError, match="naive now"):
            world.notifier.sweep([], None, _dt.datetime(2025, 1, 6))

    def test_sweep_reminds_once_per_deadline(self):
        """A reminder already made for a deadline is not made again by a later sweep."""
        world = World()
        application = world.application()
        first = world.notifier.sweep([application], None, ny(2025, 1, 8, 9))
        assert {"alice", "bob"} == {n.to for n in first if n.rule == "scorecard_reminder"}
        again = world.notifier.sweep([application], None, ny(2025, 1, 9, 9))
        assert [] == [n for n in again if n.rule == "scorecard_reminder"]

    def test_sweep_without_deadline_rules(self):
        """A policy without deadline rules sweeps creations only."""
        rule = NotificationRule(
            "hello", "application_received", Recipient.candidate, deadline=CREATED
        )
        world = World(policy=notify_policy(notifications=(rule,)))
        application = world.quiet.new_application(make_candidate(), world.requisition)
        swept = world.notifier.sweep([application], [world.requisition], ny(2025, 2, 1, 9))
        assert ["hello"] == [n.rule for n in swept]

    def test_sweep_facts_name_the_deadline(self):
        """A deadline's notification knows its kind, due time and who owes it."""
        world = World()
        application = world.application()
        swept = world.notifier.sweep([application], None, ny(2025, 1, 8, 9))
        reminder = next(n for n in swept if n.rule == "scorecard_reminder")
        deadline = reminder.facts["deadline"]
        assert ("scorecards", ["alice", "bob"]) == (deadline["kind"], deadline["owed_by"])
        assert (
            "scorecards"
            == world.notifier._facts.builders["event"](world.notifier_scene(application, reminder))[
                "name"
            ]
        )

    def test_sweep_skips_candidates_with_a_message_on_its_way(self):
        """A candidate with a pending message gets no periodic update on top of it."""
        world = World()
        application = world.application("review")
        swept = world.notifier.sweep([application], None, ny(2025, 1, 20, 9))
        assert "periodic_update" not in {n.rule for n in swept}


# -- who needs an update --------------------------------------------------------------------------


class TestWhoNeedsAnUpdate:
    def test_lists_silent_active_candidates_longest_first(self):
        """Active candidates silent for longer than the cadence, with business days since."""
        world = World()
        quiet = world.application("review", number=1)
        world.clock.set(ny(2025, 1, 8, 10))
        quieter = world.application("debrief", number=2)
        pooled = world.application("talent_pool", number=3)
        ended = world.application("rejected", number=4)
        found = world.notifier.who_needs_an_update(
            [quieter, quiet, pooled, ended], None, ny(2025, 1, 21, 12)
        )
        assert [(quiet.id, 10, START), (quieter.id, 8, ny(2025, 1, 8, 10))] == [
            (u.application_id, u.business_days_since, u.last_contact) for u in found
        ]
        assert all(u.queued for u in found)  # nothing was delivered yet

    def test_sent_notifications_count_as_contact(self):
        """A message the outbox sent resets the silence; one still pending does not."""
        world = World()
        application = world.application("review")
        world.clock.set(ny(2025, 1, 9, 9))
        world.pipeline.fire(application, "inquiry", actor="cand-1")
        world.deliver()  # everything, the inquiry answer last, on Thursday the 9th
        who = world.notifier.who_needs_an_update
        assert [] == who([application], None, ny(2025, 1, 16, 9))
        (update,) = who([application], None, ny(2025, 1, 17, 9))
        assert (ny(2025, 1, 9, 9), 6, False) == (
            update.last_contact,
            update.business_days_since,
            update.queued,
        )

    def test_contact_events_in_history_count(self):
        """A status update recorded by hand counts as contact, as the service levels say."""
        world = World()
        application = world.application("review")
        world.clock.set(ny(2025, 1, 10, 9))
        world.pipeline.fire(
            application,
            "status_update",
            actor="maria",
            requisition=world.requisition,
            text="called her",
        )
        assert [] == world.notifier.who_needs_an_update([application], None, ny(2025, 1, 16, 9))

    def test_module_function_with_the_standard_policy(self):
        """The function works without a notifier, with the standard policy by default."""
        from hirepipe.notify import who_needs_an_update

        world = World()
        application = world.application("review")
        (update,) = who_needs_an_update([application], [world.requisition], ny(2025, 1, 21, 12))
        assert ("cand-1", "Candidate 1", "review") == (
            update.candidate_id,
            update.candidate_name,
            update.stage,
        )

    def test_naive_now_is_refused(self):
        """A naive now is refused."""
        from hirepipe.notify import who_needs_an_update

        with pytest.raises(CalendarError, match="naive now"):
            who_needs_an_update([], [], _dt.datetime(2025, 1, 6), policy=POLICY)

    def test_requisition_must_be_known(self):
        """An application whose requisition is not given is refused."""
        from hirepipe import RequisitionMismatch
        from hirepipe.notify import who_needs_an_update

        world = World()
        application = world.application()
        with pytest.raises(RequisitionMismatch):
            who_needs_an_update([application], [], ny(2025, 1, 21, 12), policy=POLICY)


# -- estimates and facts --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Dates:
    p50: _dt.date
    p80: _dt.date


@dataclass(frozen=True)
class _Decision:
    dates: _Dates


@dataclass(frozen=True)
class _EstimateLike:
    pending: bool
    note: str
    next_decision: _Decision | None


class TestEstimates:
    def test_default_provider_is_the_timeline_estimator(self):
        """Without a provider, the inquiry answer carries the timeline estimator's dates."""
        outbox = Outbox()
        notifier = Notifier(outbox, POLICY, templates=TEMPLATES)
        pipeline = Pipeline(POLICY, clock=FakeClock(START), hooks=[notifier])
        requisition = make_requisition()
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(application, "inquiry", actor="cand-1", requisition=requisition)
        (answer,) = [n for n in outbox if n.rule == "inquiry_answer"]
        assert answer.facts["estimate"]["pending"]
        assert "We expect the next decision by" in notifier.render(answer).text

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (None, None),
            (_dt.date(2025, 2, 3), Outlook(likely=_dt.date(2025, 2, 3))),
            (
                pendulum.datetime(2025, 2, 3, 9),
                Outlook(likely=_dt.date(2025, 2, 3)),
            ),
            (
                _EstimateLike(True, "", _Decision(_Dates(_dt.date(2025, 2, 3), LATEST))),
                Outlook(likely=_dt.date(2025, 2, 3), latest=LATEST),
            ),
            (
                _EstimateLike(False, "on hold", None),
                Outlook(likely=None, pending=False, note="on hold"),
            ),
            (Outlook(likely=LIKELY), Outlook(likely=LIKELY)),
        ],
        ids=["none", "date", "datetime", "estimate", "idle-estimate", "outlook"],
    )
    def test_provider_answers_are_read(self, value, expected):
        """An Outlook, a date, an Estimate-shaped object or None are all understood."""
        assert expected == as_outlook(value)

    def test_no_estimate(self):
        """The provider that never estimates gives nothing."""
        world = World()
        application = world.application()
        assert no_estimate(application, world.requisition, START) is None

    def test_facts_not_built_until_used(self):
        """Facts are built at first use; before that they say so."""
        world = World()
        application = world.application()
        (notification,) = world.made(application, "application_received")
        assert "LazyFacts(<not built yet>)" == repr(notification.facts)
        expected = {"application", "cadence_days", "candidate", "job", "locale", "signature"}
        assert expected == set(notification.facts)
        # built, they show which facts, not their values (the candidate's name among them)
        assert f"LazyFacts({sorted(expected)!r})" == repr(notification.facts)
        assert application.candidate.name not in repr(notification.facts)

    def test_facts_of_what_is_not_there_yet(self):
        """Facts about an offer, a rejection or an interview not there yet are None."""
        world = World()
        application = world.quiet.new_application(
            make_candidate(), world.requisition, interviewers=[]
        )
        application.interviews = ()
        (notification,) = world.notifier.created(application, world.requisition)[:1]
        scene = world.notifier_scene(application, notification)
        builders = world.notifier._facts.builders
        assert [None, None, None, None] == [
            builders[name](scene) for name in ("offer", "rejection", "interview", "deadline")
        ]

    def test_an_unreadable_answer_is_an_error(self):
        """Anything else is refused with what to return instead."""
        with pytest.raises(NotificationError, match="return an Outlook, a date"):
            as_outlook("soon")

    def test_estimate_errors_leave_the_estimate_out(self):
        """An estimator that cannot estimate does not stop the message."""

        def failing(application: Application, requisition: Requisition, now: Any) -> None:
            raise EstimateError("no priors for this industry")

        world = World(estimate=failing)
        application = world.application("review")
        world.pipeline.fire(application, "inquiry", actor="cand-1")
        notification = world.latest(application, "inquiry_answer")
        assert notification.facts["estimate"] is None
        assert "We expect" not in world.render(notification).text

    def test_estimates_on_first_use_and_only_where_shown(self):
        """The estimate is made when a message showing one is first rendered, not before."""
        asked: list[str] = []

        def counting(application: Application, requisition: Requisition, now: Any) -> Outlook:
            asked.append(application.stage)
            return Outlook(likely=LIKELY)

        world = World(estimate=counting)
        application = world.application("references")
        world.fire(application, "send_reference_notice")
        world.pipeline.fire(application, "inquiry", actor="cand-1")
        asked.clear()
        world.render(world.latest(application, "inquiry_answer"))
        assert ["references"] == asked
        world.render(world.made(application, "reference_notice")[0])
        world.render(world.latest(application, "inquiry_answer"))
        assert ["references"] == asked  # built once

    def test_facts_are_the_application_as_it_was(self):
        """Rendered later, a notification shows the application as it was at the event."""
        seen: list[tuple[str, int]] = []

        def stage_seen(application: Application, requisition: Requisition, now: Any) -> None:
            seen.append((application.stage, len(application.history)))

        world = World(estimate=stage_seen)
        application = world.application("offer")
        first_offer = world.made(application, "offer")[0]
        world.fire(application, "counter")
        world.pipeline.fire(application, "inquiry", actor="cand-1")
        inquiry_answer = world.latest(application, "inquiry_answer")
        world.fire(application, "revise_offer", salary=140_000)
        world.fire(application, "accept")
        world.requisition.title = "Renamed Role"
        assert "Salary: $135,000" in world.render(first_offer).text
        assert "Backend Engineer" in world.render(inquiry_answer).subject
        assert [("negotiation", len(application.history) - 2)] == seen

    def test_a_provider_failing_at_delivery_is_retried(self):
        """A provider that raises when the facts are built fails the attempt, not the message."""
        calls = {"n": 0}

        def flaky(application: Application, requisition: Requisition, now: Any) -> Outlook:
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("estimator down")
            return Outlook(likely=LIKELY)

        world = World(estimate=flaky)
        world.application("review")
        report = deliver(world.outbox, world.sender, world.clock.now(), templates=TEMPLATES)
        (retrying,) = report.retrying
        assert "RuntimeError: estimator down" == retrying.last_error
        later = deliver(world.outbox, world.sender, world.clock.now().add(hours=1))
        assert [retrying.key] == [n.key for n in later.sent]
        assert ESTIMATE_TEXT.split(",")[0] in world.sender.messages[-1].text
        assert [] == world.outbox.pending()

    def test_facts_survive_json(self):
        """A notification round-trips through JSON and renders the same afterwards."""
        world = World()
        application = world.application("offer")
        (notification,) = world.made(application, "offer")
        again = Notification.from_json(notification.to_json())
        assert notification.facts == again.facts
        assert world.render(notification) == world.render(again)

    def test_extra_facts_for_company_templates(self, tmp_path):
        """A company's template can use a fact the company adds."""
        (tmp_path / "keep_warm.subject.txt").write_text("{{ perks }} at {{ job.title }}")
        world = World(
            notifier={
                "templates": Templates(tmp_path),
                "facts": {"perks": lambda scene: "Free lunch"},
            }
        )
        world.notifier.templates.check(["keep_warm"])
        application = world.application("talent_pool")
        notification = world.latest(application, "keep_warm")
        assert "Free lunch at Backend Engineer" == world.render(notification).subject

    def test_open_roles_provider_gets_the_application(self):
        """The open-roles provider is asked with the application and its requisition."""
        seen: list[tuple[str, str]] = []

        def roles(application: Application, requisition: Requisition) -> list[OpenRole]:
            seen.append((application.id, requisition.id))
            return [OpenRole("Platform Engineer")]

        world = World(notifier={"open_roles": roles})
        application = world.application("review")
        world.fire(application, "reject", reason="skills", feedback="no")
        text = world.render(world.latest(application, "rejection")).text
        assert [(application.id, "req-1")] == seen
        assert "- Platform Engineer\n" in text


def test_approval_reminders_reach_chain_approvers():
    """An overdue step of an approval chain reminds its own approvers."""
    from hirepipe.notify import Notifier, Outbox

    clock = FakeClock(START)
    pipeline = Pipeline(standard_policy(), clock=clock)
    chain = (ApprovalStep(name="finance", approvers=("cfo@example.com",)),)
    requisition = make_requisition(approvers=[], approval_chain=chain)
    application = make_application(pipeline, requisition, stage="approval")
    clock.advance(days=30)
    notifier = Notifier(Outbox(), pipeline.policy)
    made = notifier.sweep([application], [requisition], clock.now())
    reminders = [n for n in made if n.rule == "approval_reminder"]
    assert ["cfo@example.com"] == [n.to for n in reminders]
    assert date(2025, 1, 6) == START.date()
    assert pendulum.DateTime is type(clock.now())
