"""The standard effects build models without validating them again: exactly what validation gives.

Scorecards, approvals and references are built with ``from_validated`` from the event's
validated data; reference checks, held rounds and settled offers are updated with ``replaced``.
Each built or updated model must equal, field for field and type for type, the model that
validating its values gives, with the same fields set.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hirepipe import Band, Pipeline, standard_policy
from hirepipe.models import Offer, Recommendation, ReferenceOutcome, ReferenceStatus
from hirepipe.testing import FakeClock, advance, make_application, make_requisition
from tests.conftest import START

TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=20)
NAMES = st.sampled_from(["ref-1", "Grace Hopper", "élodie"])


def assert_as_validated(model: BaseModel) -> None:
    """``model`` equals its values validated: same fields, same types, same JSON, same set."""
    validated = type(model).model_validate(model.model_dump(exclude_unset=True))
    assert validated == model
    assert {k: type(v) for k, v in validated.__dict__.items()} == {
        k: type(v) for k, v in model.__dict__.items()
    }
    assert validated.model_dump_json() == model.model_dump_json()
    assert validated.model_fields_set == model.model_fields_set


def fired(stage: str) -> tuple[Pipeline, Any, Any]:
    pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
    requisition = make_requisition(approvers=["cfo"])
    return pipeline, requisition, make_application(pipeline, requisition, stage=stage)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    recommendation=st.sampled_from(list(Recommendation)),
    notes=TEXT,
    by=st.sampled_from(["alice", "bob"]),
)
def test_a_scorecard_is_what_validation_gives(recommendation, notes, by):
    """``submit_scorecard`` builds the scorecard validation would."""
    pipeline, _, application = fired("debrief")
    pipeline.fire(
        application, "submit_scorecard", actor=by, recommendation=recommendation.value, notes=notes
    )
    assert_as_validated(application.scorecards[-1])
    assert (by, recommendation) == (
        application.scorecards[-1].interviewer,
        application.scorecards[-1].recommendation,
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(granted=st.booleans(), note=TEXT, band=st.booleans())
def test_an_approval_is_what_validation_gives(granted, note, band):
    """``record_approval`` builds the approval validation would, its band included."""
    pipeline, requisition, application = fired("approval")
    given_band = {"band": Band(minimum=120_000, maximum=140_000, currency="USD")} if band else {}
    pipeline.fire(
        application,
        "record_approval",
        actor="cfo",
        requisition=requisition,
        granted=granted,
        note=note,
        **given_band,
    )
    assert_as_validated(application.approvals[-1])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    referee=NAMES,
    relationship=TEXT,
    consent=st.booleans(),
    outcome=st.sampled_from(list(ReferenceOutcome)),
    status=st.sampled_from([ReferenceStatus.completed, ReferenceStatus.declined]),
)
def test_references_are_what_validation_gives(referee, relationship, consent, outcome, status):
    """``add_reference``, ``contact_reference`` and ``complete_reference`` as validation gives."""
    pipeline, requisition, application = fired("references")
    fire = pipeline.fire
    fire(application, "send_reference_notice", actor="maria", requisition=requisition)
    added = {"contact": "x@example.com", "relationship": relationship, "consent": consent}
    added["referee"] = referee
    fire(application, "add_reference", actor="maria", requisition=requisition, **added)
    assert_as_validated(application.references[-1])
    if consent:
        named = {"referee": referee}
        fire(application, "contact_reference", actor="maria", requisition=requisition, **named)
        assert_as_validated(application.references[-1])
        fire(
            application,
            "complete_reference",
            actor="maria",
            requisition=requisition,
            referee=referee,
            status=status.value,
            outcome=outcome.value,
        )
        assert_as_validated(application.references[-1])
        assert (status, outcome) == (
            application.references[-1].status,
            application.references[-1].outcome,
        )


def test_offers_settled_and_superseded_are_what_validation_gives():
    """A superseded offer and an accepted one equal their values validated."""
    pipeline, requisition, application = fired("offer")
    fire = pipeline.fire
    fire(application, "counter", actor="cand-1", requisition=requisition, salary=Decimal(150_000))
    fire(
        application,
        "revise_offer",
        actor="maria",
        requisition=requisition,
        salary=Decimal(140_000),
        start_date=date(2025, 4, 1),
    )
    fire(application, "accept", actor="cand-1", requisition=requisition)
    assert ["superseded", "accepted"] == [o.status for o in application.offers[-2:]]
    for offer in application.offers:
        assert_as_validated(offer)


def test_a_held_round_is_what_validation_gives():
    """``round_held`` marks the round's interview as validation would."""
    pipeline, requisition, application = fired("review")
    advance(pipeline, application, requisition, ["schedule_next_round"])
    pipeline.fire(application, "round_held", actor="maria", requisition=requisition)
    assert all(i.held_at is not None for i in application.interviews)
    for interview in application.interviews:
        assert_as_validated(interview)


def checked(pipeline: Pipeline, requisition: Any, application: Any) -> None:
    """The candidate told, two referees contacted and satisfied: ready for an offer."""
    fire = pipeline.fire
    fire(application, "send_reference_notice", actor="maria", requisition=requisition)
    for referee in ("grace", "alan"):
        named = {"referee": referee}
        fire(
            application,
            "add_reference",
            actor="maria",
            requisition=requisition,
            **named,
            contact="x@example.com",
            consent=True,
        )
        fire(application, "contact_reference", actor="maria", requisition=requisition, **named)
        fire(
            application,
            "complete_reference",
            actor="maria",
            requisition=requisition,
            **named,
            outcome="satisfactory",
        )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    salary=st.decimals(min_value=120_000, max_value=150_000, places=2),
    benefits=st.lists(st.sampled_from(["health", "pension", "gym"]), max_size=3),
    title=st.none() | st.sampled_from(["Staff Engineer", "Ingénieure"]),
)
def test_an_offer_is_what_validation_gives(salary, benefits, title):
    """``extend_offer`` builds the offer validation would, its list apart from the data's."""
    pipeline, requisition, application = fired("references")
    checked(pipeline, requisition, application)
    extra = {"title": title} if title is not None else {}
    pipeline.fire(
        application,
        "extend_offer",
        actor="maria",
        requisition=requisition,
        salary=salary,
        start_date=date(2025, 6, 2),
        benefits=benefits,
        **extra,
    )
    offer = application.offers[-1]
    assert_as_validated(offer)
    assert (salary, benefits) == (offer.salary, offer.benefits)
    assert offer.benefits is not application.history[-1].data.get("benefits")
    # a revision answering a counter: terms carried over from the first version, some given
    pipeline.clock.advance(hours=2)
    pipeline.fire(
        application,
        "counter",
        actor=application.candidate.id,
        requisition=requisition,
        salary=salary + 1,
    )
    pipeline.fire(
        application,
        "revise_offer",
        actor="maria",
        requisition=requisition,
        start_date=date(2025, 6, 9),
        benefits=[*benefits, "bonus days"],
    )
    first, revised = application.offers
    assert_as_validated(revised)
    assert_as_validated(first)
    assert (2, salary, offer.title, date(2025, 6, 9)) == (
        revised.version,
        revised.salary,
        revised.title,
        revised.start_date,
    )
    assert revised.benefits is not first.benefits


def test_an_offer_finer_than_its_currency_is_refused_as_validation_refuses():
    """A salary in cents for a currency without them raises the model's ValidationError."""
    pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
    requisition = make_requisition(
        approvers=["cfo"], budget=Band(minimum=100, maximum=900_000, currency="JPY")
    )
    application = make_application(pipeline, requisition, stage="references")
    checked(pipeline, requisition, application)
    before = application.model_dump_json()
    for amounts in ({"salary": Decimal("135000.50")}, {"salary": 135_000, "bonus": "0.5"}):
        with pytest.raises(ValidationError, match="minor units"):
            pipeline.fire(
                application,
                "extend_offer",
                actor="maria",
                requisition=requisition,
                start_date=date(2025, 6, 2),
                **amounts,
            )
        assert before == application.model_dump_json()


def test_an_offer_built_from_terms_missing_one_is_refused_as_validation_refuses():
    """``Offer.from_validated`` without a required term raises validation's error, not TypeError."""
    with pytest.raises(ValidationError, match="start_date"):
        Offer.from_validated(
            title="Engineer",
            salary=Decimal(100_000),
            currency="USD",
            valid_until=START,
            extended_at=START,
        )
