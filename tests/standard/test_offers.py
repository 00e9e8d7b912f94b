"""Offers that get signed, and counter-offers with terms: hiring scenarios (issue 16).

Each refusal checks atomicity: the application's JSON is byte-identical before and after.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pendulum
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import GuardRejected, Pipeline, Policy, PolicySettings, standard_policy
from hirepipe.errors import PolicyError
from hirepipe.models import ERASED, Application, Offer, SignatureState
from hirepipe.privacy import erased
from hirepipe.reports import counter_offers
from hirepipe.standard import STANDARD_EFFECTS, STANDARD_GUARDS, standard_registry
from hirepipe.standard._signatures import with_offer_signatures
from hirepipe.testing import (
    STANDARD_RECIPES,
    FakeClock,
    Recipe,
    advance,
    make_application,
    make_candidate,
    make_requisition,
)

START = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")
CANDIDATE, MANAGER, SYSTEM = "cand-1", "maria", "hirepipe"


@pytest.fixture(scope="module", params=["code", "toml", "yaml", "json"])
def signed_policy(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The standard policy with offer signatures, built in code and loaded back from each file."""
    built = standard_policy(offer_signatures=True)
    if request.param == "code":
        return built
    path = tmp_path_factory.mktemp("policy") / f"signed.{request.param}"
    if request.param == "toml":
        path.write_text(built.to_toml(), encoding="utf-8")
    elif request.param == "yaml":
        path.write_text(yaml.safe_dump(built.to_dict()), encoding="utf-8")
    else:
        path.write_text(json.dumps(built.to_dict()), encoding="utf-8")
    return Policy.from_file(path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def pipeline(signed_policy: Policy, clock: FakeClock) -> Pipeline:
    return Pipeline(signed_policy, clock=clock)


@pytest.fixture
def requisition():
    return make_requisition()


@pytest.fixture
def application(pipeline, requisition) -> Application:
    return make_application(pipeline, requisition, stage="offer")


def refused(pipeline, application, event, requisition, *, actor, **data) -> list[str]:
    """Fire an event that must be refused; return the blocker codes, check nothing changed."""
    before = application.model_dump_json()
    with pytest.raises(GuardRejected) as caught:
        pipeline.fire(application, event, actor=actor, requisition=requisition, **data)
    assert before == application.model_dump_json()
    return list(caught.value.codes)


def sign_through(pipeline, application, requisition, *, countersign: bool = True) -> None:
    """Send the live version, the candidate views and signs it, the company countersigns."""
    version = application.offer.version
    pipeline.fire(
        application, "send_offer", actor=MANAGER, requisition=requisition, version=version
    )
    pipeline.fire(application, "offer_viewed", actor=CANDIDATE, version=version)
    pipeline.fire(application, "sign_offer", actor=CANDIDATE, version=version)
    if countersign:
        pipeline.fire(
            application,
            "countersign_offer",
            actor=MANAGER,
            requisition=requisition,
            version=version,
        )


class TestSignedOffer:
    def test_sent_viewed_signed_countersigned_accepted(
        self, pipeline, clock, application, requisition
    ):
        """The whole way: each state stamped on version 1 when it happened, then hired."""
        states = [application.offer.signature]
        for event, actor in (
            ("send_offer", MANAGER),
            ("offer_viewed", CANDIDATE),
            ("sign_offer", CANDIDATE),
            ("countersign_offer", MANAGER),
        ):
            clock.advance(hours=2)
            record = pipeline.fire(
                application, event, actor=actor, requisition=requisition, version=1
            ).record
            assert ("activity", "offer", actor, 1) == (
                record.kind,
                record.to_stage,
                record.actor,
                record.data["version"],
            )
            states.append(application.offer.signature)
        assert [
            SignatureState.unsent,
            SignatureState.sent,
            SignatureState.viewed,
            SignatureState.signed,
            SignatureState.countersigned,
        ] == states
        signing = application.offer.signing
        assert [START.add(hours=h) for h in (2, 4, 6, 8)] == [
            signing.sent_at,
            signing.viewed_at,
            signing.signed_at,
            signing.countersigned_at,
        ]
        assert (CANDIDATE, MANAGER) == (signing.signed_by, signing.countersigned_by)
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert ("hired", "accepted") == (application.stage, application.offer.status)
        assert 1 == requisition.filled

    def test_acceptance_refused_before_countersignature(self, pipeline, application, requisition):
        """Unsigned: refused; signed by the candidate only: refused, the blocker says why."""
        assert ["offer_not_signed"] == refused(
            pipeline, application, "accept", requisition, actor=CANDIDATE
        )
        sign_through(pipeline, application, requisition, countersign=False)
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        (blocker,) = caught.value.blockers
        assert ("offer_not_countersigned", {"version": 1, "signed_by": CANDIDATE}) == (
            blocker.code,
            dict(blocker.data),
        )
        assert "countersign_offer" in blocker.message
        assert "offer" == application.stage

    def test_signature_on_superseded_version_refused(self, pipeline, application, requisition):
        """Version 1 signed, then countered and revised: the old signature counts for nothing."""
        sign_through(pipeline, application, requisition, countersign=False)
        pipeline.fire(application, "counter", actor=CANDIDATE, salary=145_000)
        pipeline.fire(application, "revise_offer", actor=MANAGER, requisition=requisition)
        assert (2, SignatureState.unsent) == (
            application.offer.version,
            application.offer.signature,
        )
        assert SignatureState.signed == application.offers[0].signature  # history kept
        # a late webhook about version 1, for each step: refused, nothing stamped on version 2
        for event, actor in (
            ("send_offer", MANAGER),
            ("offer_viewed", CANDIDATE),
            ("sign_offer", CANDIDATE),
            ("countersign_offer", MANAGER),
        ):
            codes = refused(pipeline, application, event, requisition, actor=actor, version=1)
            assert "offer_version_superseded" == codes[0]
        assert ["offer_not_signed"] == refused(
            pipeline, application, "accept", requisition, actor=CANDIDATE
        )
        assert ["offer_version_unknown"] == refused(
            pipeline, application, "send_offer", requisition, actor=MANAGER, version=3
        )
        sign_through(pipeline, application, requisition)
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == application.stage

    def test_steps_in_order_and_once(self, pipeline, application, requisition):
        """No signature before the document went out, no countersignature before it, none twice."""
        assert ["offer_not_sent"] == refused(
            pipeline, application, "sign_offer", requisition, actor=CANDIDATE, version=1
        )
        assert ["offer_not_sent"] == refused(
            pipeline, application, "offer_viewed", requisition, actor=CANDIDATE, version=1
        )
        pipeline.fire(application, "send_offer", actor=MANAGER, requisition=requisition, version=1)
        assert ["offer_not_signed"] == refused(
            pipeline, application, "countersign_offer", requisition, actor=MANAGER, version=1
        )
        sign_through(pipeline, application, requisition)
        assert ["offer_already_signed"] == refused(
            pipeline, application, "sign_offer", requisition, actor=CANDIDATE, version=1
        )
        assert ["offer_already_countersigned"] == refused(
            pipeline, application, "countersign_offer", requisition, actor=MANAGER, version=1
        )

    def test_resend_keeps_first_stamp(self, pipeline, clock, application, requisition):
        """A document sent again (or opened again) is recorded; the first time stays stamped."""
        pipeline.fire(application, "send_offer", actor=MANAGER, requisition=requisition, version=1)
        clock.advance(days=1)
        record = pipeline.fire(
            application, "send_offer", actor=MANAGER, requisition=requisition, version=1
        ).record
        assert {"version": 1, "again": True} == record.data
        assert START == application.offer.signing.sent_at

    def test_version_is_required(self, pipeline, application, requisition):
        """A signature that names no version is refused before any guard: it could be any."""
        before = application.model_dump_json()
        with pytest.raises(ValidationError):
            pipeline.fire(application, "sign_offer", actor=CANDIDATE)
        assert before == application.model_dump_json()


class TestWhoSigns:
    def test_webhook_signs_for_the_candidate(self, pipeline, application, requisition):
        """The provider's webhook fires as the system on behalf of the candidate: both kept."""
        pipeline.fire(application, "send_offer", actor=SYSTEM, version=1)
        pipeline.fire(application, "offer_viewed", actor=SYSTEM, version=1)
        record = pipeline.fire(
            application, "sign_offer", actor=SYSTEM, on_behalf_of=CANDIDATE, version=1
        ).record
        assert (SYSTEM, CANDIDATE, CANDIDATE) == (
            record.actor,
            record.data["on_behalf_of"],
            application.offer.signing.signed_by,
        )
        pipeline.fire(
            application,
            "countersign_offer",
            actor=SYSTEM,
            on_behalf_of=MANAGER,
            requisition=requisition,
            version=1,
        )
        assert MANAGER == application.offer.signing.countersigned_by
        pipeline.fire(
            application, "accept", actor=SYSTEM, on_behalf_of=CANDIDATE, requisition=requisition
        )
        assert "hired" == application.stage

    @pytest.mark.parametrize(
        ("event", "actor", "extra", "code"),
        [
            ("sign_offer", SYSTEM, {}, "not_permitted"),  # the system signs for nobody
            ("sign_offer", MANAGER, {}, "not_permitted"),  # the company does not sign for them
            ("sign_offer", CANDIDATE, {"signer": "cand-2"}, "acting_for_another"),
            ("countersign_offer", CANDIDATE, {}, "not_permitted"),  # no countersigning oneself
            ("countersign_offer", "cfo", {}, "not_permitted"),
            ("offer_viewed", MANAGER, {}, "not_permitted"),
        ],
        ids=["system-alone", "manager", "named-other", "candidate-countersigns", "cfo", "view"],
    )
    def test_nobody_signs_in_another_name(
        self, pipeline, application, requisition, event, actor, extra, code
    ):
        """A signature is its signer's: nobody else records one as theirs."""
        pipeline.fire(application, "send_offer", actor=MANAGER, requisition=requisition, version=1)
        if event == "countersign_offer":
            pipeline.fire(application, "sign_offer", actor=CANDIDATE, version=1)
        codes = refused(pipeline, application, event, requisition, actor=actor, version=1, **extra)
        assert code in codes


class TestValidity:
    def test_signed_in_time_does_not_lapse(self, pipeline, clock, application, requisition):
        """Signed before valid-until, countersigned after: no expiry, and the hire completes."""
        sign_through(pipeline, application, requisition, countersign=False)
        clock.set(application.offer.valid_until.add(days=2))
        assert ["offer_signed_in_time"] == refused(
            pipeline, application, "expire", requisition, actor=SYSTEM
        )
        pipeline.fire(
            application, "countersign_offer", actor=MANAGER, requisition=requisition, version=1
        )
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == application.stage

    def test_unsigned_offer_lapses_and_cannot_be_signed(
        self, pipeline, clock, application, requisition
    ):
        """Past valid-until without a signature: signing is refused, and the sweep expires it."""
        pipeline.fire(application, "send_offer", actor=MANAGER, requisition=requisition, version=1)
        clock.set(application.offer.valid_until.add(minutes=1))
        assert ["offer_expired"] == refused(
            pipeline, application, "sign_offer", requisition, actor=CANDIDATE, version=1
        )
        pipeline.fire(application, "expire", actor=SYSTEM, requisition=requisition)
        assert ("declined", "expired") == (application.stage, application.offer.status)

    def test_countersignature_not_required(self, clock, requisition):
        """With the setting off, the candidate's signature completes the acceptance."""
        policy = standard_policy(
            PolicySettings(countersignature_required=False), offer_signatures=True
        )
        pipeline = Pipeline(policy, clock=clock)
        application = make_application(pipeline, requisition, stage="offer")
        assert ["offer_not_signed"] == refused(
            pipeline, application, "accept", requisition, actor=CANDIDATE
        )
        sign_through(pipeline, application, requisition, countersign=False)
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == application.stage


class TestCounter:
    def test_structured_counter_then_a_revision_that_meets_it(
        self, pipeline, clock, application, requisition
    ):
        """The counter's terms are kept on the version it answers; the revision meets them."""
        deadline = START.add(days=5)
        pipeline.fire(
            application,
            "counter",
            actor=CANDIDATE,
            salary=148_000,
            bonus="15000",
            equity=40_000,
            start_date=date(2025, 3, 17),
            competing_deadline=deadline,
            note="Another company offers more; I can start two weeks later.",
        )
        counter = application.offer.counter
        assert (Decimal(148_000), Decimal(15_000), Decimal(40_000), date(2025, 3, 17)) == (
            counter.salary,
            counter.bonus,
            counter.equity,
            counter.start_date,
        )
        assert ("USD", deadline, 1) == (
            counter.currency,
            counter.competing_deadline,
            application.history[-1].data["version"],
        )
        clock.advance(days=1)
        record = pipeline.fire(
            application,
            "revise_offer",
            actor=MANAGER,
            requisition=requisition,
            meet_counter=True,
        ).record
        revised = application.offer
        assert (2, Decimal(148_000), Decimal(15_000), Decimal(40_000), date(2025, 3, 17)) == (
            revised.version,
            revised.salary,
            revised.bonus,
            revised.equity,
            revised.start_date,
        )
        assert () == counter.unmet(revised)
        assert {
            "version": 1,
            "met": ["salary", "bonus", "equity", "start_date"],
            "unmet": [],
            "before_competing_deadline": True,
        } == record.data["answers_counter"]
        (row,) = counter_offers([application])
        assert ("revise_offer", ("salary", "bonus", "equity", "start_date"), (), True) == (
            row.answer,
            row.met,
            row.unmet,
            row.before_competing_deadline,
        )
        assert {"salary": "148000", "bonus": "15000", "equity": "40000"} == {
            k: row.row()[f"asked_{k}"] for k in ("salary", "bonus", "equity")
        }
        assert "note" not in json.dumps(row.row(), default=str)  # free text stays out
        sign_through(pipeline, application, requisition)
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == application.stage

    def test_revision_that_meets_part(self, pipeline, application, requisition):
        """Given terms win over the counter's; what was not met is recorded and reported."""
        pipeline.fire(application, "counter", actor=CANDIDATE, salary=149_000, bonus=10_000)
        record = pipeline.fire(
            application,
            "revise_offer",
            actor=MANAGER,
            requisition=requisition,
            meet_counter=True,
            salary=142_000,
        ).record
        assert (["bonus"], ["salary"]) == (
            record.data["answers_counter"]["met"],
            record.data["answers_counter"]["unmet"],
        )
        assert ("salary",) == counter_offers([application])[0].unmet

    def test_note_only_counter_still_works(self, pipeline, application, requisition):
        """A counter with only a note, as before, is accepted; there is no term to meet."""
        pipeline.fire(application, "counter", actor=CANDIDATE, note="Can you do better?")
        assert ({}, "Can you do better?") == (
            application.offer.counter.terms,
            application.offer.counter.note,
        )
        assert ["no_counter_to_meet"] == refused(
            pipeline,
            application,
            "revise_offer",
            requisition,
            actor=MANAGER,
            meet_counter=True,
        )
        record = pipeline.fire(
            application, "revise_offer", actor=MANAGER, requisition=requisition, salary=140_000
        ).record
        assert "answers_counter" not in record.data
        (row,) = counter_offers([application])
        assert ({}, "revise_offer", ()) == (row.asked, row.answer, row.met)

    def test_counter_amount_finer_than_currency_refused(self, clock):
        """A yen counter with sen is refused whole; nothing changes."""
        requisition = make_requisition(
            budget={"minimum": 12_000_000, "maximum": 15_000_000, "currency": "JPY"}
        )
        pipeline = Pipeline(standard_policy(), clock=clock)
        recipes = {
            "request_approval": _recipe("request_approval", salary=13_000_000),
            "extend_offer": _recipe("extend_offer", salary=13_500_000, start_date=date(2025, 3, 3)),
        }
        application = make_application(pipeline, requisition, stage="offer", recipes=recipes)
        before = application.model_dump_json()
        with pytest.raises(ValidationError):
            pipeline.fire(application, "counter", actor=CANDIDATE, salary="14000000.5")
        assert before == application.model_dump_json()

    def test_counter_in_the_standard_policy(self, clock, requisition):
        """Without offer signatures the counter's terms work the same, and accept needs none."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        application = make_application(pipeline, requisition, stage="offer")
        pipeline.fire(application, "counter", actor=CANDIDATE, salary=145_000, bonus=5_000)
        pipeline.fire(
            application, "revise_offer", actor=MANAGER, requisition=requisition, meet_counter=True
        )
        assert (Decimal(145_000), Decimal(5_000)) == (
            application.offer.salary,
            application.offer.bonus,
        )
        pipeline.fire(application, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == application.stage

    @given(
        asked=st.decimals(min_value=0, max_value=10**6, places=2),
        offered=st.decimals(min_value=0, max_value=10**6, places=2),
    )
    def test_amount_met_by_same_or_more(self, asked, offered):
        """For every amount: an offer meets a counter's salary exactly when it pays as much."""
        counter = _counter(salary=asked)
        offer = _offer(salary=offered)
        assert (offered < asked) == ("salary" in counter.unmet(offer))


def _recipe(event, **data):
    """The standard recipe of ``event`` with other data (its preparation kept)."""
    return Recipe(lambda app: dict(data), STANDARD_RECIPES[event].prepare)


def _counter(**terms):
    from hirepipe.models import Counter

    return Counter(currency="USD", countered_at=START, **terms)


def _offer(**terms):
    return Offer(
        title="Engineer",
        salary=terms.pop("salary", 100_000),
        currency="USD",
        start_date=date(2025, 3, 3),
        valid_until=START.add(days=21),
        extended_at=START,
        **terms,
    )


class TestPolicy:
    def test_off_by_default(self):
        """The standard policy has none of it: no signature events, accept guarded as before."""
        policy = standard_policy()
        assert not {"send_offer", "offer_viewed", "sign_offer", "countersign_offer"} & set(
            policy.events
        )
        assert ["offer_not_expired", "requisition_open"] == [
            g.name for g in policy.events["accept"].guards
        ]

    def test_round_trips_through_files(self, signed_policy):
        """Loaded back from TOML, YAML and JSON, the policy is the one built in code."""
        assert standard_policy(offer_signatures=True) == signed_policy
        assert standard_policy(offer_signatures=True).to_dict() == signed_policy.to_dict()

    def test_registered(self):
        """Every guard and effect of the feature is in the standard registry."""
        policy = standard_policy(offer_signatures=True)
        registry = standard_registry()
        for event in policy.events.values():
            for guard in event.guards:
                assert STANDARD_GUARDS[guard.name] is registry.resolve_guard(guard.name)
            if event.effect is not None:
                assert STANDARD_EFFECTS[event.effect.name] is registry.resolve_effect(
                    event.effect.name
                )

    def test_diagram_shows_the_acceptance_rule(self):
        """The diagram's accept edge carries the signature guard; expiry the signed-in-time one."""
        diagram = standard_policy(offer_signatures=True).to_mermaid()
        assert (
            "offer --> hired: accept [offer_answered_in_time, requisition_open, "
            "offer_signatures_complete]" in diagram
        )
        assert "offer --> declined: expire [offer_unanswered_past_valid_until]" in diagram

    def test_advance_signs_before_accepting(self, clock, requisition):
        """The test kit's recipes take a signed policy's application all the way to hired."""
        pipeline = Pipeline(standard_policy(offer_signatures=True), clock=clock)
        application = make_application(pipeline, requisition, stage="offer")
        advance(pipeline, application, requisition, ["accept"])
        assert ("hired", SignatureState.countersigned) == (
            application.stage,
            application.offer.signature,
        )


class TestPersonalData:
    def test_counter_note_erased_terms_kept(self, pipeline, application, signed_policy):
        """Erasure clears the candidate's words in the counter, keeps the terms for reports."""
        pipeline.fire(application, "counter", actor=CANDIDATE, salary=140_000, note="my words")
        cleared = erased(application, signed_policy)
        assert (ERASED, Decimal(140_000)) == (
            cleared.offer.counter.note,
            cleared.offer.counter.salary,
        )
        assert {"salary": "140000", "note": ERASED, "version": 1} == cleared.history[-1].data


def test_policy_without_expire_refused():
    """Offer signatures need an acceptance and an expiry to guard: a clear error without."""
    with pytest.raises(PolicyError, match="no 'expire' event"):
        with_offer_signatures(standard_policy().without_event("expire"))


class TestOldData:
    def test_old_offer_and_counter_records_load(self, clock, requisition):
        """An application stored before these fields existed loads, and goes on signed."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        application = make_application(
            pipeline, requisition, stage="offer", candidate=make_candidate()
        )
        pipeline.fire(application, "counter", actor=CANDIDATE, salary=145_000, note="more?")
        document = json.loads(application.model_dump_json())
        for offer in document["offers"]:
            for field in ("bonus", "equity", "counter", "signing"):
                del offer[field]
        document["history"][-1]["data"] = {"salary": "145000", "note": "more?"}  # as written then
        old = Application.model_validate_json(json.dumps(document))
        assert (None, None, SignatureState.unsent) == (
            old.offer.counter,
            old.offer.bonus,
            old.offer.signature,
        )
        (row,) = counter_offers([old])
        assert (None, {"salary": "145000"}, None) == (row.version, row.asked, row.answer)
        signed = Pipeline(standard_policy(offer_signatures=True), clock=clock)
        signed.fire(old, "revise_offer", actor=MANAGER, requisition=requisition, salary=146_000)
        sign_through(signed, old, requisition)
        signed.fire(old, "accept", actor=CANDIDATE, requisition=requisition)
        assert "hired" == old.stage
