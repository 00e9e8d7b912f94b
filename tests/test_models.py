"""The models: strict validation, aware timestamps, exact JSON round trips, JSON Schema."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hirepipe import (
    Application,
    Approval,
    ApprovalStep,
    Band,
    Candidate,
    Interview,
    Offer,
    Recommendation,
    Reference,
    Rejection,
    Requisition,
    RequisitionStatus,
    Scorecard,
    TransitionRecord,
)
from hirepipe.testing import make_application
from tests.forgeries import forgeries

NOW = pendulum.datetime(2025, 1, 6, 9, tz="Europe/Paris")
USD = Band(minimum=Decimal(100), maximum=Decimal(200), currency="USD")

EXAMPLES: list[BaseModel] = [
    Candidate(id="c", name="Ada", email="ada@example.com"),
    Requisition(id="r", title="Engineer", budget=USD, hiring_manager="hm", time_zone="Asia/Tokyo"),
    Interview(round=1, interviewers=["alice"], scheduled_at=NOW, held_at=NOW.add(hours=1)),
    Scorecard(interviewer="alice", round=1, recommendation="yes", submitted_at=NOW),
    Reference(referee="grace", contact="grace@example.com", consent=True, contacted_at=NOW),
    Approval(approver="cfo", granted=True, band=USD, decided_at=NOW),
    Offer(
        title="Engineer",
        salary=Decimal("150.50"),
        currency="USD",
        start_date=dt.date(2025, 3, 3),
        valid_until=NOW.add(days=10),
        extended_at=NOW,
    ),
    Rejection(reason="skills", feedback_on_request=True, rejected_at=NOW),
    TransitionRecord(
        event="start_debrief",
        from_stage="interviewed",
        to_stage="debrief",
        actor="hm",
        at=NOW,
        data={"x": [1, "two", None]},
        version=1,
        policy="standard@1",
    ),
]


class TestRoundTrip:
    @pytest.mark.parametrize("model", EXAMPLES, ids=lambda m: type(m).__name__)
    def test_json_round_trip_is_exact(self, model):
        """Every model validates back from its own JSON to an equal object, byte for byte."""
        dumped = model.model_dump_json()
        again = type(model).model_validate_json(dumped)
        assert model == again
        assert dumped == again.model_dump_json()

    def test_application_with_history_round_trips(self, pipeline, requisition):
        """A real application, history and all, survives the JSON round trip exactly."""
        application = make_application(pipeline, requisition, stage="hired")
        dumped = application.model_dump_json()
        assert application == Application.model_validate_json(dumped)
        assert dumped == Application.model_validate_json(dumped).model_dump_json()

    @pytest.mark.parametrize("model", EXAMPLES, ids=lambda m: type(m).__name__)
    def test_json_schema_exports(self, model):
        """Every model exports a JSON Schema that names its fields."""
        schema = type(model).model_json_schema()
        assert set(type(model).model_fields) == set(schema["properties"])
        json.dumps(schema)


class TestTimestamps:
    def test_naive_datetime_refused_with_clear_message(self):
        """A naive datetime is refused, and the message says how to fix it."""
        with pytest.raises(ValidationError) as caught:
            Scorecard(
                interviewer="a", round=1, recommendation="yes", submitted_at=dt.datetime(2025, 1, 1)
            )
        assert "naive_datetime" == caught.value.errors()[0]["type"]
        assert "has no time zone" in str(caught.value)

    @pytest.mark.parametrize(
        "moment",
        ["9999-12-31T23:00:00+00:00", "9999-01-01T00:00:00-05:00", "0001-01-01T12:00:00+00:00"],
    )
    def test_an_instant_at_the_calendars_ends_is_refused(self, moment):
        """Year 9999 or 1 would leave the calendar once shown in another zone: refused."""
        with pytest.raises(ValidationError, match="years 2 to 9998"):
            Scorecard.model_validate(
                {"interviewer": "a", "round": 1, "recommendation": "yes", "submitted_at": moment}
            )

    def test_a_round_scheduled_in_year_9999_is_refused_and_nothing_changes(
        self, pipeline, requisition
    ):
        """schedule_next_round at 9999-12-31 (its notice would not render east of UTC): refused."""
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump()
        with pytest.raises(ValidationError, match="years 2 to 9998"):
            pipeline.fire(
                application,
                "schedule_next_round",
                actor=requisition.hiring_manager,
                requisition=requisition,
                interviewers=["bob"],
                scheduled_at="9999-12-31T23:00:00+00:00",
            )
        assert before == application.model_dump()

    def test_naive_iso_string_refused_in_json(self):
        """An ISO string without an offset is refused in JSON too."""
        payload = (
            '{"interviewer":"a","round":1,"recommendation":"yes",'
            '"submitted_at":"2025-01-01T09:00:00"}'
        )
        with pytest.raises(ValidationError, match="has no time zone"):
            Scorecard.model_validate_json(payload)

    def test_standard_library_datetime_becomes_pendulum(self):
        """An aware standard-library datetime is held as a pendulum DateTime, same instant."""
        aware = dt.datetime(2025, 1, 1, 9, tzinfo=dt.UTC)
        card = Scorecard(interviewer="a", round=1, recommendation="yes", submitted_at=aware)
        assert isinstance(card.submitted_at, pendulum.DateTime)
        assert aware == card.submitted_at

    def test_unix_timestamp_refused(self):
        """An integer is not silently read as a Unix timestamp."""
        with pytest.raises(ValidationError):
            Scorecard(interviewer="a", round=1, recommendation="yes", submitted_at=1_700_000_000)

    @given(
        st.datetimes(
            min_value=dt.datetime(1990, 1, 1),
            max_value=dt.datetime(2090, 1, 1),
            timezones=st.sampled_from(
                [pendulum.timezone(z) for z in ("UTC", "America/Los_Angeles", "Asia/Kolkata")]
            ),
        )
    )
    def test_any_aware_instant_round_trips(self, when):
        """Any aware instant, even in a repeated hour, round-trips to an equal model."""
        card = Scorecard(interviewer="a", round=1, recommendation="no", submitted_at=when)
        again = Scorecard.model_validate_json(card.model_dump_json())
        assert card == again
        assert when.timestamp() == again.submitted_at.timestamp()
        assert when.utcoffset() == again.submitted_at.utcoffset()


class TestStrictness:
    def test_unknown_field_refused(self):
        """A misspelt field is an error, not silently dropped."""
        with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
            Candidate(id="c", name="Ada", email="ada@example.com", emial="x")

    def test_string_number_refused_for_round(self):
        """A string is not coerced into a round number."""
        with pytest.raises(ValidationError):
            Interview(round="2", interviewers=["a"])

    def test_amounts_accept_int_and_numeric_string(self):
        """Amounts take an int, a Decimal or a numeric string, and keep them exact."""
        band = Band(minimum=100, maximum="200.25", currency="USD")
        assert (Decimal(100), Decimal("200.25")) == (band.minimum, band.maximum)

    def test_band_order_checked(self):
        """A band whose minimum is above its maximum is refused with the fix in the message."""
        with pytest.raises(ValidationError, match="swap them"):
            Band(minimum=300, maximum=200, currency="USD")

    def test_bad_currency_refused(self):
        """Currencies are ISO 4217 codes."""
        with pytest.raises(ValidationError):
            Band(minimum=1, maximum=2, currency="usd")

    @pytest.mark.parametrize("zone", ["Mars/Base", "America", "europe/berlin "], ids=str)
    def test_unknown_time_zone_refused(self, zone):
        """A requisition's time zone must be an IANA name, however often it is asked."""
        for _ in range(2):  # the second answer comes from what the first one learned
            with pytest.raises(ValidationError, match="unknown time zone"):
                Requisition(id="r", title="t", budget=USD, hiring_manager="hm", time_zone=zone)

    def test_assignment_is_validated(self):
        """Assigning a wrong type to a field is refused and leaves the model unchanged."""
        requisition = Requisition(id="r", title="t", budget=USD, hiring_manager="hm")
        with pytest.raises(ValidationError):
            requisition.headcount = 0
        assert 1 == requisition.headcount

    def test_record_is_frozen(self):
        """History records cannot be edited."""
        record = EXAMPLES[-1]
        with pytest.raises(ValidationError):
            record.actor = "someone else"  # type: ignore[misc]


class TestFieldsSet:
    def test_copy_with_update_leaves_shared_set_alone(self):
        """Frozen models share their set of given fields; copying with an update does not leak."""
        first = Interview(round=1, interviewers=["a"])
        second = Interview(round=2, interviewers=["b"])
        changed = first.model_copy(update={"held_at": NOW})
        assert {"round", "interviewers"} == first.model_fields_set == second.model_fields_set
        assert {"round", "interviewers", "held_at"} == changed.model_fields_set

    def test_assignment_marks_field_on_that_model_only(self, pipeline, requisition):
        """Mutable models keep their own set: assigning marks the field on that model only."""
        one, two = (make_application(pipeline, requisition) for _ in range(2))
        one.proposed_salary = Decimal(1)
        assert "proposed_salary" in one.model_fields_set
        assert "proposed_salary" not in two.model_fields_set

    def test_engine_records_equal_validated_ones(self, pipeline, requisition):
        """The records the engine builds unvalidated are the records validation builds."""
        application = make_application(pipeline, requisition, stage="review")
        for record in application.history:
            validated = TransitionRecord.model_validate(record.model_dump())
            assert validated == record
            assert validated.model_dump_json() == record.model_dump_json()
            assert (None, None) == (record.__pydantic_extra__, record.__pydantic_private__)
            assert record.model_copy(update={"reason": "r"}).reason == "r"

    def test_engine_records_exclude_nothing_when_unset_excluded(self, pipeline, requisition):
        """Records the engine writes dump the same with and without exclude_unset."""
        application = make_application(pipeline, requisition, stage="debrief")
        record = application.history[-1]
        assert record.model_dump() == record.model_dump(exclude_unset=True)


class TestBehaviour:
    @pytest.mark.parametrize(
        ("recommendation", "score"),
        [("strong_no", -2), ("no", -1), ("mixed", 0), ("yes", 1), ("strong_yes", 2)],
        ids=str,
    )
    def test_recommendation_scores(self, recommendation, score):
        """Recommendations score from -2 (strong_no) to 2 (strong_yes)."""
        assert score == Recommendation(recommendation).score

    def test_band_contains_and_intersect(self):
        """A band contains amounts in its currency and range; overlaps intersect."""
        other = Band(minimum=150, maximum=300, currency="USD")
        assert USD.contains(Decimal(150), "USD")
        assert not USD.contains(Decimal(150), "EUR")
        assert Band(minimum=150, maximum=200, currency="USD") == USD.intersect(other)
        assert USD.intersect(Band(minimum=201, maximum=300, currency="USD")) is None
        assert USD.intersect(Band(minimum=1, maximum=300, currency="EUR")) is None

    @pytest.mark.parametrize(
        ("status", "filled", "expected"),
        [("open", 0, 2), ("open", 2, 0), ("on_hold", 0, 0), ("filled", 2, 0)],
        ids=["open", "full", "on-hold", "filled"],
    )
    def test_open_headcount(self, status, filled, expected):
        """Open headcount is what is left to fill, and zero unless the requisition is open."""
        requisition = Requisition(
            id="r",
            title="t",
            budget=USD,
            hiring_manager="hm",
            headcount=2,
            filled=filled,
            status=RequisitionStatus(status),
        )
        assert expected == requisition.open_headcount

    def test_latest_scorecard_per_interviewer_counts(self, pipeline, requisition):
        """A resubmitted scorecard replaces the interviewer's earlier one for the round."""
        application = make_application(pipeline, requisition, stage="debrief")
        pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="no")
        pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="yes")
        cards = application.scorecards_for()
        assert [("alice", Recommendation.yes)] == [(c.interviewer, c.recommendation) for c in cards]
        assert [] == application.scorecards_for(round=2)
        assert application.interview(round=2) is None


class TestInstants:
    def test_as_instant_refuses_naive(self):
        """as_instant needs an aware datetime."""
        from hirepipe.models import as_instant

        with pytest.raises(ValueError, match="has no time zone"):
            as_instant(dt.datetime(2025, 1, 1))

    def test_stages_visited_in_order(self, pipeline, requisition):
        """stages_visited lists each stage once, oldest first."""
        application = make_application(pipeline, requisition, stage="on_hold")
        assert ["interviewed", "debrief", "review", "on_hold"] == list(application.stages_visited())


class TestMoney:
    """Currencies are ISO 4217 codes; amounts have no more decimals than the currency's."""

    @pytest.mark.parametrize(
        "code",
        ["ABC", "XXX", "XTS", "XAU", "usd", "US", "EURO"],
        ids=["unknown", "no-currency", "testing", "gold", "lower-case", "short", "long"],
    )
    def test_codes_outside_iso_4217_refused(self, code):
        """A code ISO 4217 does not list for money with minor units is refused, with a hint."""
        with pytest.raises(ValidationError, match="ISO 4217"):
            Band(minimum=1, maximum=2, currency=code)

    @pytest.mark.parametrize(
        ("currency", "amount"),
        [("JPY", "100.50"), ("JPY", "0.1"), ("USD", "1.005"), ("KWD", "1000.1255")],
        ids=["yen-cents", "yen-tenth", "dollar-mills", "dinar-four-places"],
    )
    def test_more_decimals_than_minor_units_refused(self, currency, amount):
        """JPY has no minor unit, USD two, KWD three: finer amounts are refused."""
        with pytest.raises(ValidationError, match=f"{currency} has"):
            Band(minimum=0, maximum=amount, currency=currency)
        with pytest.raises(ValidationError, match=f"{currency} has"):
            Offer(
                title="t",
                salary=amount,
                currency=currency,
                start_date=dt.date(2025, 3, 3),
                valid_until=NOW,
                extended_at=NOW,
            )

    @pytest.mark.parametrize(
        ("currency", "amount"),
        [("JPY", "100"), ("JPY", "100.00"), ("KWD", "1000.125"), ("CLF", "12.3456")],
        ids=["yen", "yen-trailing-zeros", "dinar-fils", "unidad-de-fomento"],
    )
    def test_amounts_within_minor_units_accepted(self, currency, amount):
        """Amounts at the currency's minor units (trailing zeros aside) are kept exactly."""
        band = Band(minimum=0, maximum=amount, currency=currency)
        assert Decimal(amount) == band.maximum


class TestCountries:
    """A requisition's country and subdivision are ones the holiday data knows."""

    def test_unknown_country_refused_with_a_hint(self):
        """'ZZ' is refused when the requisition is built, naming where the codes are listed."""
        with pytest.raises(ValidationError, match=r"unknown country 'ZZ'.*list_supported"):
            Requisition(id="r", title="t", budget=USD, hiring_manager="hm", country="ZZ")

    def test_unknown_subdivision_refused_with_the_valid_ones(self):
        """A subdivision the country does not have is refused, listing the ones it has."""
        with pytest.raises(ValidationError, match=r"unknown subdivision 'ZZ' of 'US'.*\bCA\b"):
            Requisition(
                id="r", title="t", budget=USD, hiring_manager="hm", country="US", subdivision="ZZ"
            )

    @pytest.mark.parametrize(
        ("country", "subdivision"),
        [("US", None), ("US", "CA"), ("DE", "BY"), ("GB", None), ("AE", None)],
        ids=["us", "california", "bavaria", "britain", "emirates"],
    )
    def test_known_places_accepted(self, country, subdivision):
        """Countries and subdivisions holidays knows are kept as given."""
        requisition = Requisition(
            id="r",
            title="t",
            budget=USD,
            hiring_manager="hm",
            country=country,
            subdivision=subdivision,
        )
        assert (country, subdivision) == (requisition.country, requisition.subdivision)


def application_json(pipeline, requisition, stage: str = "review") -> dict:
    """A real application brought to ``stage``, as the plain dict a web framework hands back."""
    return json.loads(make_application(pipeline, requisition, stage=stage).model_dump_json())


class TestStateCannotLie:
    """An Application refuses state that contradicts itself (issue 18, measured)."""

    def test_version_must_equal_the_number_of_records(self, pipeline, requisition):
        """version=99 over 4 records is refused: the version counts the records."""
        document = application_json(pipeline, requisition)
        document["version"] = 99
        count = len(document["history"])
        with pytest.raises(
            ValidationError, match=f"version 99 but the history has {count} records"
        ):
            Application.model_validate(document)

    def test_an_emptied_history_is_refused(self, pipeline, requisition):
        """A history emptied under its version is refused."""
        document = application_json(pipeline, requisition)
        version = document["version"]
        document["history"] = []
        with pytest.raises(
            ValidationError, match=f"version {version} but the history has 0 records"
        ):
            Application.model_validate(document)

    def test_history_versions_run_one_to_n(self, pipeline, requisition):
        """Records numbered out of order are refused, naming the record."""
        document = application_json(pipeline, requisition)
        document["history"][0]["version"] = 2
        with pytest.raises(ValidationError, match="record 1 says version 2"):
            Application.model_validate(document)

    def test_the_last_record_leads_to_the_stage(self, pipeline, requisition):
        """A stage that is not where the last record led is refused."""
        document = application_json(pipeline, requisition)
        document["stage"] = "hired"
        with pytest.raises(ValidationError, match="stage 'hired' but its last record led to"):
            Application.model_validate(document)

    def test_each_record_leaves_the_stage_the_one_before_led_to(self, pipeline, requisition):
        """A record that starts from another stage than the previous one ended in is refused."""
        document = application_json(pipeline, requisition)
        last = document["history"][-1]  # complete_debrief: debrief to review
        last["from_stage"] = "offer"
        with pytest.raises(
            ValidationError,
            match=f"record {last['version']} leaves stage 'offer' but record "
            f"{last['version'] - 1} led to 'debrief'",
        ):
            Application.model_validate(document)

    def test_assignment_cannot_make_it_lie(self, pipeline, requisition):
        """Assigning a version, a stage or a history that contradicts the rest is refused."""
        application = make_application(pipeline, requisition, stage="review")
        before = application.model_dump_json()
        for name, value in [("version", 99), ("stage", "hired"), ("history", [])]:
            with pytest.raises(ValidationError):
                setattr(application, name, value)
        assert before == application.model_dump_json()

    def test_a_new_application_with_no_history_may_start_anywhere(self, clock):
        """With no records yet, the stage is the one it was created in; version 0."""
        application = Application(
            id="a", candidate=EXAMPLES[0], requisition_id="r", stage="offer", created_at=NOW
        )
        assert (0, "offer") == (application.version, application.stage)
        with pytest.raises(ValidationError, match="version 1 but the history has 0"):
            Application(
                id="a",
                candidate=EXAMPLES[0],
                requisition_id="r",
                stage="offer",
                created_at=NOW,
                version=1,
            )

    def test_an_activity_changes_no_stage(self):
        """An activity record that moves between stages is refused."""
        with pytest.raises(ValidationError, match="an activity changes no stage"):
            TransitionRecord(
                event="note",
                kind="activity",
                from_stage="review",
                to_stage="offer",
                actor="hm",
                at=NOW,
                version=1,
                policy="p@1",
            )


class TestPlainDictRoundTrip:
    """``model_validate(json.loads(m.model_dump_json()))`` works: web frameworks hand back dicts."""

    @pytest.mark.parametrize("model", EXAMPLES, ids=lambda m: type(m).__name__)
    def test_every_model_validates_back_from_plain_json_data(self, model):
        """Every model reads back from the plain data its JSON parses to, equal."""
        plain = json.loads(model.model_dump_json())
        assert model == type(model).model_validate(plain)

    def test_an_application_with_history_validates_back(self, pipeline, requisition):
        """A hired application, eight timestamps and all, reads back from plain data."""
        application = make_application(pipeline, requisition, stage="hired")
        plain = json.loads(application.model_dump_json())
        assert application == Application.model_validate(plain)

    @pytest.mark.parametrize(
        "value",
        [1_700_000_000, 1.5, True, b"2025-01-06T09:00:00+00:00", [2025, 1, 6]],
        ids=["int", "float", "bool", "bytes", "list"],
    )
    def test_other_types_are_still_refused(self, value):
        """Strings are read as ISO 8601; numbers, booleans, bytes and lists are still refused."""
        with pytest.raises(ValidationError, match="time-zone-aware datetime or an ISO 8601"):
            Scorecard(interviewer="a", round=1, recommendation="yes", submitted_at=value)

    def test_an_iso_string_without_offset_is_refused_in_python_too(self):
        """A string with no offset is naive, in Python as in JSON."""
        with pytest.raises(ValidationError, match="has no time zone"):
            Scorecard(
                interviewer="a", round=1, recommendation="yes", submitted_at="2025-01-06T09:00:00"
            )


class TestCharacters:
    """Identifiers, names and free text refuse NUL and control characters (issue 18)."""

    @pytest.mark.parametrize(
        "value",
        ["a\x00b", "a\nb", "a\rb", "a\tb", "a\x1bb", "a\x7fb", "a\x85b", "a\u202eb", "a\ud800b"],
        ids=["nul", "lf", "cr", "tab", "escape", "del", "nel", "bidi-override", "surrogate"],
    )
    def test_identifiers_refuse_control_characters(self, value):
        """An id with a control, format or surrogate character is refused, naming it."""
        with pytest.raises(ValidationError, match="control or invisible character"):
            Candidate(id=value, name="Ada", email="ada@example.com")

    @pytest.mark.parametrize(
        "value",
        ["a\x00b", "a\nb", "a\r\nb", "a\x1bb", "a\u2028b"],
        ids=["nul", "lf", "crlf", "escape", "line-separator"],
    )
    def test_names_refuse_control_characters_and_line_breaks(self, value):
        """A name is one line of text without control characters."""
        with pytest.raises(ValidationError, match="control character or line break"):
            Candidate(id="c", name=value, email="ada@example.com")

    @pytest.mark.parametrize("field", ["id", "name", "email"], ids=str)
    def test_lone_surrogates_are_refused(self, field):
        """A lone surrogate, which no database can store, is refused in every kind of string."""
        fields = {"id": "c", "name": "Ada", "email": "ada@example.com", field: "a\ud800@b.c"}
        with pytest.raises(ValidationError):
            Candidate(**fields)

    def test_email_refuses_control_characters(self):
        """An e-mail address with a NUL in it is refused."""
        with pytest.raises(ValidationError):
            Candidate(id="c", name="Ada", email="ada\x00@example.com")

    def test_free_text_keeps_line_breaks_and_tabs(self):
        """Multi-line text keeps its line breaks and tabs, and refuses other control characters."""
        notes = "Strong on design.\r\n\tWeak on tests.\nHire."
        card = Scorecard(
            interviewer="a", round=1, recommendation="yes", notes=notes, submitted_at=NOW
        )
        assert notes == card.notes
        with pytest.raises(ValidationError, match="control character"):
            Scorecard(
                interviewer="a", round=1, recommendation="yes", notes="a\x00b", submitted_at=NOW
            )

    def test_reasons_are_one_line(self):
        """A record's reason is one line: a line break is refused."""
        with pytest.raises(ValidationError, match="control character or line break"):
            TransitionRecord(
                event="hold",
                from_stage="review",
                to_stage="on_hold",
                actor="hm",
                at=NOW,
                reason="budget\nfreeze",
                version=1,
                policy="p@1",
            )

    def test_ordinary_unicode_is_kept(self):
        """Accents, scripts, emoji and spaces inside are ordinary text."""
        candidate = Candidate(id="cand 7", name="Zoë Ødegård 山田 👩‍💻", email="zoe@example.com")
        assert ("cand 7", "Zoë Ødegård 山田 👩‍💻") == (candidate.id, candidate.name)


class TestForgedDocuments:
    @settings(max_examples=300, deadline=None)
    @given(forgery=forgeries())
    def test_a_forged_document_is_refused_at_load(self, forgery):
        """Every forgery that contradicts itself is refused as JSON and as plain data."""
        document = forgery.application.model_dump_json()
        if forgery.kind == "store":  # a valid Application: the store's policy refuses it
            assert forgery.application == Application.model_validate_json(document)
            return
        with pytest.raises(ValidationError):
            Application.model_validate_json(document)
        with pytest.raises(ValidationError):
            Application.model_validate(json.loads(document))


class TestApprovers:
    def test_a_step_refuses_the_same_approver_twice(self):
        """approvers=("cfo", "cfo") with required=2 would let one approval count twice."""
        with pytest.raises(ValidationError, match="cfo"):
            ApprovalStep(name="budget", approvers=("cfo", "cfo"), required=2)

    def test_a_requisition_refuses_the_same_approver_twice(self):
        """Approvers split into steps by size: a name listed twice is refused."""
        with pytest.raises(ValidationError, match="cfo"):
            Requisition(
                id="r", title="Engineer", budget=USD, hiring_manager="hm", approvers=["cfo", "cfo"]
            )

    def test_a_chain_refuses_one_person_in_two_steps(self):
        """One grant by a person in two steps would satisfy both: refused at construction."""
        with pytest.raises(ValidationError, match="vp"):
            Requisition(
                id="r",
                title="Engineer",
                budget=USD,
                hiring_manager="hm",
                approval_chain=(
                    ApprovalStep(name="finance", approvers=("cfo", "vp"), required=1),
                    ApprovalStep(name="board", approvers=("vp", "ceo")),
                ),
            )


class TestLocales:
    @pytest.mark.parametrize(
        ("given", "kept"),
        [("de", "de"), ("de_DE", "de_DE"), ("pt-BR", "pt_BR"), ("zh-Hant-TW", "zh_Hant_TW")],
        ids=["language", "territory", "bcp47", "script"],
    )
    def test_a_locale_is_kept_in_babels_form(self, given, kept):
        """A candidate's or requisition's locale is a CLDR locale, in Babel's spelling."""
        candidate = Candidate(id="c", name="Ada", email="ada@example.com", locale=given)
        requisition = Requisition(
            id="r", title="Engineer", budget=USD, hiring_manager="hm", locale=given
        )
        assert (kept, kept) == (candidate.locale, requisition.locale)

    @pytest.mark.parametrize("given", ["xx_YY", "", "de DE", "../../etc"], ids=repr)
    def test_an_unknown_locale_is_refused(self, given):
        """A locale Babel does not know is refused, with an example of one it does."""
        with pytest.raises(ValidationError, match=r"unknown locale .*such as 'de'"):
            Candidate(id="c", name="Ada", email="ada@example.com", locale=given)

    def test_no_locale_by_default(self):
        """Without a locale, the readers' locale is decided where messages are written."""
        assert (None, None) == (EXAMPLES[0].locale, EXAMPLES[1].locale)  # type: ignore[attr-defined]


class TestCopied:
    """``models._copied``: what ``model_copy(update=...)`` gives, a set of given fields its own."""

    def test_equals_model_copy_and_owns_its_fields_set(self, pipeline, requisition):
        from hirepipe.models import _copied

        application = make_application(pipeline, requisition, stage="review")
        given = set(application.model_fields_set)
        copy = _copied(application, id="app-copy", history=[])
        expected = application.model_copy(update={"id": "app-copy", "history": []})
        assert copy == expected
        assert copy.model_fields_set == expected.model_fields_set
        assert copy.__pydantic_fields_set__ is not application.__pydantic_fields_set__
        copy.__pydantic_fields_set__.add("round")  # the engine adds what it commits
        assert application.model_fields_set == given
        assert (copy.stage, copy.history) == ("review", [])
        assert application.history  # the original keeps its own
        assert application.id != "app-copy"

    def test_a_model_with_private_values_is_copied_by_pydantic(self):
        from pydantic import PrivateAttr

        from hirepipe.models import _copied

        class Noted(BaseModel):
            name: str
            _note: str = PrivateAttr(default="kept")

        noted = Noted(name="a")
        noted._note = "changed"
        copy = _copied(noted, name="b")
        assert (copy.name, copy._note) == ("b", "changed")
        assert copy.__pydantic_private__ is not noted.__pydantic_private__
