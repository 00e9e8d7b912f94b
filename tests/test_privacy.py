"""Personal data: erasure in memory (Pipeline.erase, Outbox.erase), retention and consent."""

from __future__ import annotations

import collections
import collections.abc
import dataclasses
import gc
import json
import pickle
import typing
import weakref
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Annotated, Any, Generic, TypeVar, get_args

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic_core import core_schema

import hirepipe.models
from hirepipe import (
    Application,
    Change,
    EventData,
    EventSpec,
    Fired,
    GuardRejected,
    Pipeline,
    Policy,
    PolicyError,
    RequisitionMismatch,
    StageKind,
    StageSpec,
    TransitionNotAllowed,
    standard_policy,
)
from hirepipe.models import ERASED, PERSONAL, Candidate, Reference, Text
from hirepipe.notify import (
    Claim,
    DeliveryReport,
    MemorySender,
    Notification,
    NotificationStatus,
    Notifier,
    OfferDocument,
    Outbox,
    Person,
    Templates,
    UpdateDue,
    deliver,
    no_estimate,
)
from hirepipe.policy import SYSTEM_ACTOR, EffectSpec, requisition_roles
from hirepipe.privacy import (
    ERASE_EVENT,
    _fields,
    consent_expired,
    data_models_of,
    ended_at,
    erased,
    map_personal,
    retention_due,
)
from hirepipe.testing import (
    FakeClock,
    RecordingHook,
    make_application,
    make_candidate,
    make_requisition,
)
from tests.conftest import START

T = TypeVar("T")
SECRETS = ("Candidate 1", "candidate1@example.com", "+1 555 0100", "grace@example.com")


def rejected_with_everything(pipeline: Pipeline, requisition) -> Application:
    """An application that collected every kind of personal data, then was rejected."""
    application = make_application(
        pipeline, requisition, stage="approval", candidate=make_candidate(1, phone="+1 555 0100")
    )
    fire = pipeline.fire
    fire(
        application,
        "note",
        actor="maria",
        requisition=requisition,
        text="Said she is moving to Lyon.\nCall after 5.",
    )
    fire(
        application,
        "add_reference",
        actor="maria",
        requisition=requisition,
        referee="grace",
        contact="grace@example.com",
        relationship="former manager at Acme",
        consent=True,
    )
    fire(
        application,
        "record_approval",
        actor="cfo",
        requisition=requisition,
        granted=False,
        note="too senior for the band",
    )
    fire(
        application,
        "reject",
        actor="maria",
        requisition=requisition,
        reason="skills",
        feedback="We went with someone with more Go experience.",
    )
    return application


def texts(application: Application) -> str:
    return application.model_dump_json()


class TestWhichFieldsArePersonal:
    def test_the_models_mark_names_addresses_contacts_and_free_text(self, pipeline, requisition):
        """Erasing replaces the name, e-mail, phone, referee contact and every free text."""
        application = rejected_with_everything(pipeline, requisition)
        cleared = erased(application, pipeline.policy)
        dumped = texts(cleared)
        for secret in (
            *SECRETS,
            "moving to Lyon",
            "former manager",
            "too senior",
            "Go experience",
        ):
            assert secret in texts(application)
            assert secret not in dumped, secret
        assert (ERASED, ERASED, ERASED) == (
            cleared.candidate.name,
            cleared.candidate.email,
            cleared.candidate.phone,
        )
        assert ERASED == cleared.references[0].contact == cleared.rejection.feedback

    def test_erasing_drops_the_failed_hooks_kept_for_the_application(self, requisition):
        """A failed hook kept for a retry holds the candidate's data: a retry would resend it."""
        calls: list[str] = []

        class Hook:
            def __call__(self, fired: object) -> None:
                calls.append("fired")
                raise ConnectionError("down")

            def created(self, application: Application, requisition: object) -> None:
                raise ConnectionError("down")

        pipeline = Pipeline(standard_policy(), clock=FakeClock(START), hooks=[Hook()])
        application = rejected_with_everything(pipeline, requisition)
        other = make_application(pipeline, requisition, candidate=make_candidate(2))
        pipeline.fire(other, "start_debrief", actor="maria", requisition=requisition)
        assert {application.id, other.id} <= {
            f.fired.application.id for f in pipeline.hook_failures
        }
        pipeline.erase(application, actor="maria", requisition=requisition)
        kept = [f.fired.application.id for f in pipeline.hook_failures]
        created = [f.application.id for f in pipeline.creation_failures]
        assert application.id not in kept
        assert application.id not in created
        assert other.id in kept
        assert other.id in created
        calls.clear()
        pipeline.retry_failed_hooks()
        assert len(kept) == len(calls)

    def test_the_candidates_locale_is_personal(self, pipeline, requisition):
        """The locale says where someone lives and reads: erased with the rest, not kept."""
        candidate = make_candidate(locale="de_AT")
        application = make_application(pipeline, requisition, stage="rejected", candidate=candidate)
        assert "de_AT" in texts(application)
        found: list[str] = []
        map_personal(
            application.model_dump(mode="json"),
            Application,
            lambda value: found.append(value),
            data_models=data_models_of(pipeline.policy),
        )
        assert "de_AT" in found  # what an export of the personal values collects
        pipeline.erase(application, actor="maria", requisition=requisition)
        assert (ERASED, "de_AT") == (application.candidate.locale, candidate.locale)
        assert "de_AT" not in texts(application)
        assert application == Application.model_validate_json(texts(application))

    def test_every_candidate_and_reference_field_is_personal_or_kept_on_purpose(self):
        """The fields of a candidate and a referee: each one personal, or a fact kept by design."""
        personal = {model.__name__: sorted(_fields(model)) for model in (Candidate, Reference)}
        assert {
            "Candidate": ["email", "locale", "name", "phone"],
            "Reference": ["contact", "notes", "relationship"],
        } == personal
        kept = {
            "Candidate": {"id", "consent_to_contact"},
            "Reference": {
                "referee",
                "consent",
                "status",
                "outcome",
                "contacted_at",
                "completed_at",
            },
        }
        for model in (Candidate, Reference):
            assert set(model.model_fields) == kept[model.__name__] | set(personal[model.__name__])

    def test_the_lifecycle_facts_stay(self, pipeline, requisition):
        """Ids, stages, events, actors, times, reasons, outcomes and amounts are kept."""
        application = rejected_with_everything(pipeline, requisition)
        cleared = erased(application, pipeline.policy)

        def facts(app):
            return [
                (r.event, r.from_stage, r.to_stage, r.actor, r.at, r.reason, r.version)
                for r in app.history
            ]

        assert facts(application) == facts(cleared)
        assert (application.id, application.candidate.id, application.stage) == (
            cleared.id,
            cleared.candidate.id,
            cleared.stage,
        )
        assert "skills" == cleared.rejection.reason
        assert [("grace", True)] == [(r.referee, r.consent) for r in cleared.references]
        assert application.scorecards == cleared.scorecards  # empty notes stay empty

    def test_empty_text_stays_empty(self, pipeline, requisition):
        """Only what was written is marked erased: an empty note stays empty."""
        application = make_application(pipeline, requisition, stage="debrief")
        pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="yes")
        cleared = erased(application, pipeline.policy)
        assert "" == cleared.scorecards[-1].notes

    def test_a_policys_own_data_model_marks_its_own_fields(self, clock, requisition):
        """A custom event's data: fields typed Text or marked PERSONAL are erased, others kept."""

        class Feedback(EventData):
            summary: Text = ""
            source: str = Field(default="", json_schema_extra={"x": 1})
            private: str = ""

        class Marked(Feedback):
            private: Annotated[str, PERSONAL] = ""

        def keep(ctx):
            return Change()

        policy = Policy(
            name="p",
            version="1",
            initial="a",
            stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
            events=[
                EventSpec("feedback", ("a",), None, effect=EffectSpec("keep", keep, Marked)),
                EventSpec("end", ("a",), "b"),
            ],
        )
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), requisition)
        pipeline.fire(
            application,
            "feedback",
            actor="m",
            requisition=requisition,
            summary="hm",
            source="web",
            private="secret",
        )
        data = erased(application, policy).history[0].data
        assert {"summary": ERASED, "source": "web", "private": ERASED} == data

    def test_an_event_the_policy_lacks_has_every_string_erased(self):
        """A record whose event the data models do not know: every string of its data goes."""
        record = {
            "event": "gone",
            "data": {"a": "x", "b": ["y", 1], "c": {"d": "z"}, "e": ""},
            "reason": "kept",
        }
        found = map_personal(
            {"history": [record]},
            Application,
            lambda value: ERASED,
            data_models=lambda event: None,
        )
        assert {"a": ERASED, "b": [ERASED, 1], "c": {"d": ERASED}, "e": ""} == found["history"][0][
            "data"
        ]
        assert "kept" == found["history"][0]["reason"]


class TestPipelineErase:
    def test_erase_records_who_when_and_why(self, pipeline, requisition, clock):
        """An @erase activity by the actor, with the reason; erased_at set; the version moves on."""
        application = rejected_with_everything(pipeline, requisition)
        version = application.version
        clock.advance(days=3)
        record = pipeline.erase(
            application, actor="maria", requisition=requisition, reason="candidate's request"
        )
        assert (ERASE_EVENT, "activity", "maria", "candidate's request", version + 1) == (
            record.event,
            record.kind,
            record.actor,
            record.reason,
            record.version,
        )
        assert (record, clock.now(), version + 1) == (
            application.history[-1],
            application.erased_at,
            application.version,
        )
        assert not any(secret in texts(application) for secret in SECRETS)
        assert application == Application.model_validate(json.loads(texts(application)))

    def test_no_event_fires_on_an_erased_application(self, pipeline, requisition):
        """Erased is final: reopening, notes and a second erasure are all refused."""
        application = rejected_with_everything(pipeline, requisition)
        pipeline.erase(application, actor="maria", requisition=requisition)
        before = texts(application)
        for attempt in (
            lambda: pipeline.fire(
                application, "reopen", actor="maria", requisition=requisition, reason="mistake"
            ),
            lambda: pipeline.fire(
                application, "note", actor="maria", requisition=requisition, text="hi"
            ),
            lambda: pipeline.erase(application, actor="maria", requisition=requisition),
            lambda: pipeline.available(application),
        ):
            with pytest.raises(TransitionNotAllowed, match="was erased") as refused:
                attempt()
            assert refused.value.erased
        assert before == texts(application)

    @pytest.mark.parametrize("stage", ["review", "offer", "talent_pool", "on_hold"], ids=str)
    def test_an_application_that_has_not_ended_is_not_erased(self, pipeline, requisition, stage):
        """Erasure needs an ended application: a not_ended blocker says to end it first."""
        application = make_application(pipeline, requisition, stage=stage)
        before = texts(application)
        with pytest.raises(GuardRejected, match="withdraw or reject it") as refused:
            pipeline.erase(application, actor="maria", requisition=requisition)
        assert ("not_ended",) == refused.value.codes
        assert before == texts(application)

    def test_the_actor_and_reason_follow_the_rules(self, pipeline, requisition):
        """A bad actor or a multi-line reason is refused before anything changes."""
        application = rejected_with_everything(pipeline, requisition)
        before = texts(application)
        for kwargs in ({"actor": "d\x00po"}, {"actor": "dpo", "reason": "a\nb"}):
            with pytest.raises(ValidationError):
                pipeline.erase(application, **kwargs)
        assert before == texts(application)


class TestWhoMayErase:
    @pytest.mark.parametrize(
        ("actor", "requisition_fields"),
        [
            ("maria", {}),  # the hiring manager
            ("rita", {"recruiter": "rita"}),
            (SYSTEM_ACTOR, {}),
        ],
        ids=["hiring_manager", "recruiter", "system"],
    )
    def test_the_recruiter_the_hiring_manager_and_the_system_may(
        self, pipeline, actor, requisition_fields
    ):
        """The default erased_by: the requisition's recruiter and hiring manager, the system."""
        requisition = make_requisition(**requisition_fields)
        application = rejected_with_everything(pipeline, requisition)
        assert actor == pipeline.erase(application, actor=actor, requisition=requisition).actor

    @pytest.mark.parametrize("actor", ["bob", "cfo", "cand-1"], ids=str)
    def test_anyone_else_is_refused_and_nothing_changes(self, pipeline, requisition, actor):
        """An approver, the candidate, a stranger: not_permitted, saying who may."""
        application = rejected_with_everything(pipeline, requisition)
        before = texts(application)
        with pytest.raises(GuardRejected, match="only the recruiter or the hiring_manager") as no:
            pipeline.erase(application, actor=actor, requisition=requisition)
        assert (("not_permitted",), ERASE_EVENT) == (no.value.codes, no.value.event)
        assert "erased_by" in str(no.value)
        assert before == texts(application)

    def test_without_the_requisition_the_role_cannot_be_told(self, pipeline, requisition):
        """Naming yourself is not enough: without the requisition, requisition_required."""
        application = rejected_with_everything(pipeline, requisition)
        before = texts(application)
        with pytest.raises(GuardRejected) as refused:
            pipeline.erase(application, actor="maria")
        assert ("requisition_required",) == refused.value.codes
        assert refused.value.blockers[0].needs_input
        with pytest.raises(RequisitionMismatch):
            pipeline.erase(application, actor="maria", requisition=make_requisition(id="req-9"))
        assert before == texts(application)

    def test_the_policy_says_who_and_the_roles_function_grants_it(self, clock, requisition):
        """A data protection officer erases once erased_by names a role the host gives them."""
        policy = standard_policy().with_setting(
            erased_by=("recruiter", "hiring_manager", "system", "privacy_officer")
        )

        def roles(actor, application, requisition):
            held = set(requisition_roles(actor, application, requisition))
            return held | {"privacy_officer"} if actor == "dpo" else held

        pipeline = Pipeline(policy, clock=clock, roles=roles)
        application = rejected_with_everything(pipeline, requisition)
        assert "dpo" == pipeline.erase(application, actor="dpo").actor  # no requisition needed
        with pytest.raises(PolicyError, match=r"settings\.erased_by: nobody may erase"):
            standard_policy().with_setting(erased_by=())


class TestOutboxErase:
    def test_notifications_keep_their_facts_of_life_and_lose_the_rest(self, clock, requisition):
        """Sent ones keep key, times and status; pending ones fail for good; none is sent."""
        outbox = Outbox()
        policy = standard_policy()
        pipeline = Pipeline(policy, clock=clock)
        pipeline.hooks.append(Notifier(outbox, policy, estimate=no_estimate))
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application,
            "reject",
            actor="maria",
            requisition=requisition,
            reason="skills",
            feedback="No Go.",
        )
        sender = MemorySender()
        clock.advance(days=2)
        deliver(outbox, sender, clock.now(), limit=1)
        sent = {n.key for n in outbox.sent()}
        assert sent
        assert outbox.pending()
        pipeline.erase(application, actor="maria", requisition=requisition)
        assert len(outbox.for_application(application.id)) == outbox.erase(application.id)
        for notification in outbox.for_application(application.id):
            assert ({}, None) == (dict(notification.facts), notification.address)
            expected = NotificationStatus.sent if notification.key in sent else "failed"
            assert expected == notification.status
        assert [] == outbox.pending()
        assert [] == outbox.due(clock.now().add(years=1))
        failed = outbox.failed()[0]
        with pytest.raises(Exception, match="nothing left to send"):
            outbox.requeue(failed.key, clock.now())


class TestRetention:
    def test_ended_at_is_when_the_terminal_stage_was_entered(self, pipeline, requisition, clock):
        """The record into the terminal stage sets it; later activities do not move it."""
        application = make_application(pipeline, requisition, stage="review")
        assert ended_at(application, pipeline.policy) is None
        pipeline.fire(application, "withdraw", actor="cand-1")
        ended = clock.now()
        clock.advance(days=10)
        pipeline.fire(application, "note", actor="maria", requisition=requisition, text="filed")
        assert ended == ended_at(application, pipeline.policy)

    def test_retention_due_lists_what_ended_more_than_n_months_ago(self, requisition):
        """Ended before the cut-off, not erased: due. Open, recent or erased ones: not."""
        clock = FakeClock(START)
        pipeline = Pipeline(standard_policy(), clock=clock)
        old = make_application(pipeline, requisition, stage="rejected")
        gone = make_application(pipeline, requisition, stage="withdrawn")
        pipeline.erase(gone, actor="maria", requisition=requisition)
        clock.advance(months=5)
        recent = make_application(pipeline, requisition, stage="declined")
        open_ = make_application(pipeline, requisition, stage="review")
        clock.advance(months=2)
        found = retention_due([old, gone, recent, open_], pipeline.policy, clock.now(), months=6)
        assert [old.id] == [a.id for a in found]
        assert [] == retention_due([old], pipeline.policy, clock.now(), months=7)
        with pytest.raises(ValueError, match="months must be a whole number from 0 to"):
            retention_due([old], pipeline.policy, clock.now(), months=-1)

    @pytest.mark.parametrize("months", [10**9, 10**30, 24_288, 1.5, "6", True], ids=str)
    def test_retention_months_that_leave_the_calendar_are_refused_by_name(
        self, requisition, months
    ):
        """Months the calendar cannot go back are refused, naming ``months`` and its bounds.

        Before: pendulum's "year -83331309 is out of range" (10**9), an OverflowError (10**30),
        a bare TypeError ("6", 1.5) or True taken as one month. From 2025-01-06 the calendar's
        first year is 24,287 months back (to February of year 1: the cut-off is converted to
        UTC, a day either way): that one still works.
        """
        clock = FakeClock(START)
        pipeline = Pipeline(standard_policy(), clock=clock)
        old = make_application(pipeline, requisition, stage="rejected")
        now = pendulum.datetime(2025, 1, 6, 9, tz="Asia/Tokyo")
        with pytest.raises(ValueError, match=r"months must be a whole number from 0 to 24287"):
            retention_due([old], pipeline.policy, now, months=months)
        assert [] == retention_due([old], pipeline.policy, now, months=24_287)


class TestConsent:
    def test_consent_lapses_at_warm_until_and_a_renewal_moves_it_on(self, pipeline, requisition):
        """In the pool past warm_until: expired. renew_consent, with consent, moves the date."""
        clock = pipeline.clock
        application = make_application(pipeline, requisition, stage="talent_pool")
        until = application.warm_until
        assert [] == consent_expired([application], pipeline.policy, until.subtract(days=1))
        assert [application] == consent_expired([application], pipeline.policy, until)
        clock.set(until.subtract(days=1))
        renewed = clock.now().add(months=12)
        record = pipeline.fire(
            application, "renew_consent", actor="cand-1", warm_until=renewed, consent=True
        ).record
        assert ("activity", "talent_pool", renewed) == (
            record.kind,
            application.stage,
            application.warm_until,
        )
        assert [] == consent_expired([application], pipeline.policy, until.add(days=1))

    def test_a_renewal_needs_a_future_date_and_consent(self, clock, requisition):
        """Renewing into the past, or without consent, is refused with the guard's blockers."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        application = make_application(
            pipeline,
            requisition,
            stage="talent_pool",
            candidate=make_candidate(consent_to_contact=False),
        )
        with pytest.raises(GuardRejected) as refused:
            pipeline.fire(
                application,
                "renew_consent",
                actor="cand-1",
                warm_until=clock.now().subtract(days=1),
            )
        assert ("warm_until_past", "consent_missing") == refused.value.codes

    def test_only_the_pool_is_asked_about(self, pipeline, requisition):
        """Applications outside a pool stage never have an expired consent."""
        application = make_application(pipeline, requisition, stage="review")
        far = pipeline.clock.now().add(years=5)
        assert [] == consent_expired([application], pipeline.policy, far)


def test_data_models_of_names_each_events_model(policy):
    """The data model of each event, None for an event the policy lacks."""
    models = data_models_of(policy)
    assert (
        policy.events["reject"].data_model,
        None,
    ) == (models("reject"), models("no-such-event"))


def test_amounts_and_outcomes_are_not_personal(pipeline, requisition):
    """Offers, approvals' decisions and recommendations stay: they are lifecycle facts."""
    application = make_application(pipeline, requisition, stage="hired")
    pipeline.fire(
        application, "note", actor="maria", requisition=requisition, text="start date agreed"
    )
    cleared = erased(application, pipeline.policy)
    assert application.offers == cleared.offers
    assert Decimal(135_000) == cleared.offer.salary
    assert [a.granted for a in application.approvals] == [a.granted for a in cleared.approvals]


def test_reports_read_the_same_after_erasure(requisition):
    """The funnel, time in stage and rejections are the same before and after erasure."""
    from hirepipe.reports import funnel

    pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
    applications = [
        make_application(pipeline, requisition, stage=stage, candidate=make_candidate(number))
        for number, stage in enumerate(["rejected", "withdrawn", "hired", "review"], 1)
    ]
    before = funnel(applications, [requisition], pipeline.policy)
    for application in applications[:2]:
        pipeline.erase(application, actor="maria", requisition=requisition)
    after = funnel(applications, [requisition], pipeline.policy)
    for table in ("conversions", "time_in_stage", "rejections", "breaches"):
        assert before.rows(table) == after.rows(table), table


def test_a_deliverer_holding_a_claim_loses_it_on_erasure(clock, requisition):
    """A notification claimed for sending, then erased: its claim no longer holds."""
    from hirepipe.notify import ClaimLost

    outbox = Outbox()
    policy = standard_policy()
    pipeline = Pipeline(policy, clock=clock)
    pipeline.hooks.append(Notifier(outbox, policy, estimate=no_estimate))
    application = make_application(pipeline, requisition, stage="review")
    pipeline.fire(
        application,
        "reject",
        actor="maria",
        requisition=requisition,
        reason="skills",
        feedback="No Go.",
    )
    later = clock.now().add(days=2)
    claim = outbox.claim(outbox.due(later)[0].key, later)
    assert claim is not None
    pipeline.erase(application, actor="maria", requisition=requisition)
    outbox.erase(application.id)
    with pytest.raises(ClaimLost):
        outbox.mark_sent(claim.key, later, claim=claim)
    assert NotificationStatus.failed == outbox.get(claim.key).status


@pytest.mark.parametrize("empty", [None, "", [], {}], ids=["none", "blank", "list", "object"])
def test_a_document_with_nothing_personal_is_copied_as_it_is(empty):
    """Personal fields absent or empty: the same copy as walking the document gives."""
    from hirepipe.models import TransitionRecord
    from hirepipe.privacy import _map_model

    document = {"event": "hold", "actor": "maria", "data": empty, "version": 3}
    policy = standard_policy()
    found = map_personal(document, TransitionRecord, str.upper, data_models=data_models_of(policy))
    walked = _map_model(document, _fields(TransitionRecord), str.upper, data_models_of(policy))
    assert (walked, False) == (found, found is document)


class TestReprs:
    """A repr or str ends up in logs, tracebacks and error trackers: none shows personal data.

    Before, ``Notification``, ``Claim`` and ``Fired`` (and the models, messages, people and
    failures they hold) showed the candidate's name, e-mail, phone, free text and the facts a
    message renders.
    """

    PERSONAL_VALUES = (
        *SECRETS,
        "moving to Lyon",
        "former manager",
        "too senior",
        "Go experience",
        "Fenwick",  # the hook's error message
    )

    @staticmethod
    def shown(*objects: object) -> str:
        return "\n".join(f"{item!r}\n{item!s}" for item in objects)

    def world(self, clock, requisition):
        outbox = Outbox()
        policy = standard_policy()
        pipeline = Pipeline(policy, clock=clock)
        recording = RecordingHook()

        def failing(fired: Fired) -> None:
            raise RuntimeError("could not reach Candidate 1 (candidate1@example.com) at Fenwick")

        pipeline.hooks += [Notifier(outbox, policy, estimate=no_estimate), recording, failing]
        application = rejected_with_everything(pipeline, requisition)
        return pipeline, outbox, recording, application

    def test_no_repr_or_str_shows_a_personal_value(self, clock, requisition):
        pipeline, outbox, recording, application = self.world(clock, requisition)
        notifications = outbox.pending()
        assert notifications
        claim = outbox.claim(notifications[0].key, clock.now().add(days=30))
        assert claim is not None
        facts = notifications[0].facts
        message = Templates().render(notifications[0].template, facts)
        failed = outbox.mark_failed(claim.key, clock.now(), "mailbox of Candidate 1 is full")
        person = Person("candidate", "cand-1", "Candidate 1", "candidate1@example.com")
        objects = [
            application,
            application.candidate,
            *application.history,
            *application.references,
            application.rejection,
            *recording.calls,
            *pipeline.hook_failures,
            *notifications,
            claim,
            failed,
            message,
            facts,
            person,
            DeliveryReport(sent=tuple(notifications)),
            UpdateDue(
                application.id, "req-1", "cand-1", "Candidate 1", "review", START, START, 3, False
            ),
            OfferDocument(application.id, 1, "Offer for Candidate 1", "Dear Candidate 1", "", "en"),
        ]
        text = self.shown(*objects)
        assert [] == [value for value in self.PERSONAL_VALUES if value in text]
        # what says which object it is stays: ids, keys, template, status, event, version
        for shown in (
            application.id,
            "cand-1",
            notifications[0].key,
            notifications[0].template,
            "'reject'",
            f"version={application.version}",
            "status=<NotificationStatus.pending: 'pending'>, attempts=1",
        ):
            assert shown in text, shown
        assert "email=<personal>" in repr(application.candidate)
        assert "address=<personal>" in repr(notifications[0])
        (note,) = [record for record in application.history if record.event == "note"]
        assert "data={'text': <personal>}" in repr(note)

    def test_a_policys_own_data_model_hides_its_personal_fields(self):
        """An event's data model (EventData) shows its fields marked personal as withheld."""

        class Interviewed(EventData):
            room: str
            remarks: Text
            contact: Annotated[str, PERSONAL] | None = None

        shown = repr(Interviewed(room="B-12", remarks="nervous, spoke of Fenwick", contact="x@y"))
        assert "Interviewed(room='B-12', remarks=<personal>, contact=<personal>)" == shown

    def test_a_plain_model_nested_in_a_policys_data_model_hides_its_personal_fields(self):
        """A company's own Pydantic model inside its event data: erased, so withheld too.

        Before, ``Visit(room='B-12', guest=Guest(name='Ada Lovelace'))``: erasure erased the
        guest's name, the repr (and so every log of it) showed it.
        """

        class Guest(BaseModel):
            badge: str
            name: Annotated[str, PERSONAL]

        class Visit(EventData):
            room: str
            guest: Guest
            others: tuple[Guest, ...] = ()

        visit = Visit(
            room="B-12",
            guest=Guest(badge="b-1", name="Ada Lovelace"),
            others=(Guest(badge="b-2", name="Grace Hopper"),),
        )
        shown = self.shown(visit)
        assert ("Ada" not in shown, "Grace" not in shown) == (True, True), shown
        assert "guest=Guest(badge='b-1', name=<personal>)" in repr(visit)
        assert "others=(Guest(badge='b-2', name=<personal>),)" in repr(visit)
        erased_data = map_personal(
            visit.model_dump(mode="json"), Visit, lambda _: ERASED, data_models=lambda _: None
        )
        assert (ERASED, ERASED) == (erased_data["guest"]["name"], erased_data["others"][0]["name"])
        # the company's own repr of its own model is its own
        assert "Guest(badge='b-1', name='Ada Lovelace')" == repr(visit.guest)

    def test_a_personal_dicts_values_are_withheld_and_erased_alike(self):
        """A personal dict's values: its repr withheld them, erasure kept them.

        One list of what holds a personal value now serves both (``hirepipe._types.HOLDERS``).
        """

        class Tagged(EventData):
            labels: dict[str, Annotated[str, PERSONAL]] = {}  # noqa: RUF012 (a field)

        tagged = Tagged(labels={"home": "5 Fenwick Street"})
        assert "Tagged(labels=<personal>)" == repr(tagged)
        document = tagged.model_dump(mode="json")
        cleared = map_personal(document, Tagged, lambda _: ERASED, data_models=lambda _: None)
        assert {"labels": {"home": ERASED}} == cleared

    def test_a_repr_builds_no_lazy_facts(self, clock, requisition):
        """A notification's facts are built on first use: a repr is none.

        Before, asking whether its facts were empty built them (the estimate run): when that
        failed, the repr raised (inside a log call, or a traceback being written).
        """
        outbox, policy, asked = Outbox(), standard_policy(), []

        def estimate(application, requisition, now):
            asked.append(application.id)
            raise RuntimeError("the estimates are down")

        pipeline = Pipeline(policy, clock=clock)
        pipeline.hooks.append(Notifier(outbox, policy, estimate=estimate))
        application = make_application(pipeline, requisition, stage="interviewed")
        fire = pipeline.fire
        fire(
            application,
            "reject",
            actor="maria",
            requisition=requisition,
            reason="skills",
            feedback_on_request=True,
        )
        notifications = outbox.pending()
        assert len(notifications) > 1
        assert all("facts=<personal>" in repr(item) for item in notifications)
        assert [] == asked

    def test_a_validation_error_quotes_no_value_given(self, pipeline, requisition):
        """Errors end up in logs too: a ValidationError says where and what, not the value.

        Before, ``input_value='moving to Lyon ...'`` (a note too long), the mistyped address
        of a candidate, and a policy's own data model's refused value.
        """

        class Interviewed(EventData):
            remarks: Text

        application = make_application(pipeline, requisition, stage="approval")
        errors = []
        for refused in (
            lambda: pipeline.fire(
                application,
                "note",
                actor="maria",
                requisition=requisition,
                text="moving to Lyon " * 2000,
            ),
            lambda: Candidate(id="cand-9", name="Ada", email="ada.lovelace@example"),
            lambda: Interviewed(remarks="Fenwick\x00"),
        ):
            with pytest.raises(ValidationError) as raised:
                refused()
            errors.append(raised.value)
        shown = self.shown(*errors)
        assert [] == [value for value in ("Lyon", "ada.lovelace", "Fenwick") if value in shown]
        for code in ("string_too_long", "string_pattern_mismatch", "control_character"):
            assert code in shown, code  # what was wrong, and where, stays

    def test_equality_and_pickling_are_unchanged(self, clock, requisition):
        """Only the reprs changed: equal objects stay equal, and pickle round-trips."""
        _pipeline, outbox, _recording, application = self.world(clock, requisition)
        # facts built (as read from a durable outbox): lazy ones hold a closure, as before
        notification = Notification.from_json(outbox.pending()[0].to_json())
        claim = Claim(notification, "worker-1", clock.now())
        for item in (application, application.candidate, notification, claim):
            assert item == pickle.loads(pickle.dumps(item))
        copy = dataclasses.replace(notification)
        assert copy == notification
        assert copy != dataclasses.replace(notification, address="other@example.com")
        assert repr(copy) == repr(dataclasses.replace(notification, address="other@example.com"))

    def test_a_repr_withholds_exactly_what_erasure_erases(self):
        """One rule: the fields a repr withholds are the ones privacy marks personal.

        One walk (``_types.personal_specs``) serves both; no model of hirepipe's holds a
        personal value it cannot reach.
        """
        from hirepipe._types import personal_fields, personal_problems, personal_specs
        from hirepipe.privacy import _fields

        models = [
            value
            for value in vars(hirepipe.models).values()
            if isinstance(value, type) and issubclass(value, BaseModel)
        ]
        models += [
            spec.data_model
            for spec in standard_policy(background_check=True).events.values()
            if spec.data_model is not None
        ]
        assert len(models) > 20
        for model in models:
            assert personal_specs(model) == _fields(model), model
            assert personal_fields(model) <= set(_fields(model)), model
            assert () == personal_problems(model), model


def test_a_model_class_made_on_the_fly_is_not_kept_by_its_repr():
    """What a repr withholds is remembered per class, weakly.

    A data model made on the fly (a policy loaded again and again) was kept for good once
    one of its instances had been shown.
    """

    class Visitor(EventData):
        name: Annotated[str, PERSONAL]

    assert "Visitor(name=<personal>)" == repr(Visitor(name="Ada Lovelace"))
    kept = weakref.ref(Visitor)
    del Visitor
    gc.collect()
    assert kept() is None


# -- every holder of a personal value: withheld from reprs, erased ----------------------------

SECRET = "Ada Lovelace"
Secret = Annotated[str, PERSONAL]


class Guest(BaseModel):
    """A host's own plain model (frozen: a set may hold it), its guest's name personal."""

    model_config = ConfigDict(frozen=True)

    badge: str
    name: Secret


GUEST = Guest(badge="badge-1", name=SECRET)

HOLDING: dict[str, tuple[Any, Any]] = {
    # kind: (the annotation of a host's event data field, a value of it holding SECRET)
    "sequence": (Sequence[Secret], [SECRET]),
    "set": (set[Secret], {SECRET}),
    "frozenset": (frozenset[Secret], frozenset({SECRET})),
    "abstract_set": (typing.AbstractSet[Secret], frozenset({SECRET})),
    "abc_set": (collections.abc.Set[Secret], frozenset({SECRET})),
    "mapping": (Mapping[str, Secret], {"home": SECRET}),
    "dict_of_models": (dict[str, Guest], {"b-1": GUEST}),
    "mapping_of_models": (Mapping[str, Guest], {"b-1": GUEST}),
    "sequence_of_models": (Sequence[Guest], [GUEST]),
    "set_of_models": (frozenset[Guest], frozenset({GUEST})),
    "list_of_dicts_of_models": (list[dict[str, Guest | None]], [{"b-1": GUEST}]),
}


def holding_policy(annotation: Any) -> tuple[Policy, type[EventData]]:
    """A host's policy whose ``visit`` event's data holds ``annotation``; ``end`` ends it."""

    def keep(ctx):
        return Change()

    model = create_model("Visit", __base__=EventData, held=(annotation, ...))
    policy = Policy(
        name="p",
        version="1",
        initial="a",
        stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
        events=[
            EventSpec("visit", ("a",), None, effect=EffectSpec("keep", keep, model)),
            EventSpec("end", ("a",), "b"),
        ],
    )
    return policy, model


class TestEveryHolder:
    """Each holder a host may write: the value never in a repr, gone after erasure.

    Before, a personal value in a sequence, set, mapping or dict of models was shown by a
    repr and kept by erasure: the holders walked were only unions, lists, tuples and dicts.
    """

    @pytest.mark.parametrize("kind", HOLDING)
    def test_a_personal_value_held_so_is_withheld_and_erased(self, clock, requisition, kind):
        annotation, value = HOLDING[kind]
        policy, model = holding_policy(annotation)
        data = model(held=value)
        assert SECRET not in f"{data!r} {data!s}"
        pipeline = Pipeline(policy, clock=clock)
        application = pipeline.new_application(make_candidate(), requisition)
        pipeline.fire(application, "visit", actor="m", requisition=requisition, held=value)
        assert SECRET in texts(application)
        cleared = erased(application, policy)
        assert SECRET not in texts(cleared)
        (record,) = [record for record in cleared.history if record.event == "visit"]
        kept = model.model_validate(record.data)  # still its model's data: badges stay
        assert ("badge-1" in texts(application)) == ("badge-1" in repr(kept) + texts(cleared))
        assert ERASED in texts(cleared)

    def test_any_marked_personal_has_every_string_erased(self):
        """``Annotated[Any, PERSONAL]``: whatever it holds, every string in it is personal."""

        class Loose(EventData):
            held: Annotated[Any, PERSONAL]
            other: Any = None  # not marked: not personal, as any field

        data = Loose(held={"a": [SECRET, 1], "b": {"c": SECRET}}, other="kept")
        assert "Loose(held=<personal>, other='kept')" == repr(data)
        cleared = map_personal(
            data.model_dump(mode="json"), Loose, lambda _: ERASED, data_models=lambda _: None
        )
        assert {"held": {"a": [ERASED, 1], "b": {"c": ERASED}}, "other": "kept"} == cleared


class Box(Generic[T]):
    """A host's own generic, which hirepipe cannot see into."""

    def __init__(self, item: T) -> None:
        self.item = item

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: Any) -> Any:
        (item,) = get_args(source)
        return core_schema.no_info_after_validator_function(
            cls,
            handler.generate_schema(item),
            serialization=core_schema.plain_serializer_function_ser_schema(lambda box: box.item),
        )


class TestWhatCannotBeErasedIsRefused:
    """A personal value where erasure cannot find it is refused when the policy is built.

    Before, it was silently kept by every erasure (and shown by reprs).
    """

    @pytest.mark.parametrize(
        ("annotation", "said"),
        [
            (Box[Secret], "cannot walk"),
            (list[Box[Guest]], "cannot walk"),
            (collections.Counter[Secret], "cannot walk"),
            (Iterable[Secret], "cannot walk"),
            (dict[Secret, int], "personal keys"),
            (Mapping[str, dict[Secret, str]], "personal keys"),
            (dict[str, Secret] | Guest, "cannot tell which"),
        ],
        ids=["generic", "generic_of_models", "counter", "iterable", "keys", "nested_keys", "union"],
    )
    def test_the_policy_refuses_it_naming_the_field(self, annotation, said):
        with pytest.raises(PolicyError, match=rf"events\.visit\.data: Visit\.held: .*{said}"):
            holding_policy(annotation)

    def test_meanwhile_a_model_holding_one_withholds_and_erases_it_whole(self):
        """Outside a policy (or before it was checked) the value is not shown, and erased."""
        model = create_model("Visit", __base__=EventData, held=(Box[Secret], ...))
        data = model(held=SECRET)  # validated as its item, then boxed
        assert "Visit(held=<personal>)" == repr(data)
        cleared = map_personal(
            data.model_dump(mode="json"), model, lambda _: ERASED, data_models=lambda _: None
        )
        assert {"held": ERASED} == cleared

    def test_a_host_model_holding_itself_is_walked(self):
        """A model that holds itself (a tree) is walked to every depth, without looping."""

        class Node(BaseModel):
            name: Secret
            children: list[Node] = []

        class Tree(EventData):
            root: Node

        tree = Tree(root=Node(name=SECRET, children=[Node(name=SECRET + "2")]))
        assert SECRET not in repr(tree)
        cleared = map_personal(
            tree.model_dump(mode="json"), Tree, lambda _: ERASED, data_models=lambda _: None
        )
        assert SECRET not in json.dumps(cleared)


def _holding(children: st.SearchStrategy[tuple[Any, st.SearchStrategy[Any], bool]]):
    """One holder around each child: (annotation, values, hashable)."""

    def wrap(child: tuple[Any, st.SearchStrategy[Any], bool]):
        inner, values, hashable = child
        several = st.lists(values, min_size=1, max_size=3)
        keyed = st.dictionaries(st.sampled_from(["a", "b", "c"]), values, min_size=1, max_size=3)
        options = [
            (list[inner], several, False),
            (tuple[inner, ...], several.map(tuple), hashable),
            (Sequence[inner], several, False),
            (dict[str, inner], keyed, False),
            (Mapping[str, inner], keyed, False),
            (inner | None, values, hashable),
        ]
        if hashable:
            unique = st.frozensets(values, min_size=1, max_size=3)
            options += [
                (set[inner], unique.map(set), False),
                (frozenset[inner], unique, True),
                (typing.AbstractSet[inner], unique, False),
            ]
        return st.sampled_from(options)

    return children.flatmap(wrap)


_SECRETS = st.text("xyz", max_size=3).map(lambda tail: SECRET + tail)
_GUESTS = st.builds(Guest, badge=st.sampled_from(["badge-1", "badge-2"]), name=_SECRETS)
_HELD = st.recursive(
    st.sampled_from([(Secret, _SECRETS, True), (Text, _SECRETS, True), (Guest, _GUESTS, True)]),
    _holding,
    max_leaves=4,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_HELD.flatmap(lambda held: st.tuples(st.just(held[0]), held[1])))
def test_any_nesting_of_holders_withholds_and_erases_every_personal_string(held):
    """For any nesting of the holders walked: never in a repr, gone after erasure, still valid."""
    annotation, value = held
    model = create_model("Visit", __base__=EventData, held=(annotation, ...))
    from hirepipe._types import personal_problems

    assert () == personal_problems(model)
    data = model(held=value)
    assert SECRET not in f"{data!r} {data!s}"
    cleared = map_personal(
        data.model_dump(mode="json"), model, lambda _: ERASED, data_models=lambda _: None
    )
    assert SECRET not in json.dumps(cleared)
    model.model_validate(cleared)
