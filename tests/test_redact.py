"""What an error may say where personal data must not go (hirepipe._redact)."""

from __future__ import annotations

import functools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import GuardRejected, standard_policy
from hirepipe._redact import error_summary, name_of, validation_summary
from hirepipe.errors import Blocker
from hirepipe.models import Candidate
from hirepipe.notify import Notification
from hirepipe.testing import make_requisition

ALAN = {"id": "cand-9", "name": "Alan Turing", "email": "alan@example.com"}


def refusal(**fields: object) -> ValidationError:
    with pytest.raises(ValidationError) as raised:
        Candidate.model_validate({**ALAN, **fields})
    return raised.value


class TestValidationSummary:
    def test_says_where_what_and_which_type_without_the_values(self):
        """Each error's location, message and type; the input values are left out."""
        error = refusal(name=["Alan Turing"], email="Alan Turing <alan@example.com>")
        assert "Alan Turing" not in str(error)  # hirepipe's models hide them (it quoted them)
        summary = validation_summary(error)
        assert summary.startswith("2 validation errors for Candidate: name: Input should be")
        assert "[string_type]" in summary
        assert "email: String should match pattern" in summary
        assert [] == [value for value in ("Alan Turing", "alan@example.com") if value in summary]

    def test_a_message_quoting_its_input_has_it_hidden(self):
        """A validator's message that repeats the value (an unknown locale) keeps its advice."""
        summary = validation_summary(refusal(locale="alan@example.com"))
        assert "locale: unknown locale '<value>'; use a CLDR locale such as 'de'" in summary
        assert "alan@example.com" not in summary

    @given(st.from_regex(r"[a-z]{3,12}@[a-z]{3,12}\.com", fullmatch=True))
    def test_no_quoted_input_is_said(self, address):
        """Whatever personal value a field refuses, the summary never repeats it."""
        assert address not in validation_summary(refusal(locale=address, name=[address]))

    def test_a_missing_field_does_not_show_the_document(self):
        """The input of a missing field's error is the whole document: never said."""
        document = Notification.from_json(_notification()).to_json().replace('"key"', '"kez"')
        with pytest.raises(ValidationError) as raised:
            Notification.from_json(document)
        assert "alan@example.com" == raised.value.errors()[0]["input"]["address"]
        summary = validation_summary(raised.value)
        assert "key: Field required [missing]" in summary
        assert "alan@example.com" not in summary

    def test_many_errors_are_counted(self):
        """Five errors are said one by one, the rest counted."""
        with pytest.raises(ValidationError) as raised:
            Notification.from_json("{}")
        summary = validation_summary(raised.value)
        count = raised.value.error_count()
        assert summary.startswith(f"{count} validation errors for Notification")
        assert summary.endswith(f"and {count - 5} more")


class TestErrorSummary:
    def test_an_exception_is_its_class(self):
        """The message (an SMTP reply repeating the address) is left out; the class stays."""

        class Refused(Exception):
            pass

        summary = error_summary(Refused("<alan@example.com>: mailbox unavailable"))
        assert summary.startswith(f"{__name__}.TestErrorSummary.")
        assert "Refused (its message is left out" in summary
        assert "alan@example.com" not in summary
        assert "ConnectionError (its message" in error_summary(ConnectionError("x"))

    def test_a_validation_error_is_summarised(self):
        """A ValidationError says where and what, without the values."""
        summary = error_summary(refusal(name=["Alan Turing"]))
        assert summary.startswith("pydantic_core._pydantic_core.ValidationError: 1 validation")
        assert "Alan Turing" not in summary

    def test_a_refusal_says_its_codes(self):
        """A GuardRejected says its blockers' codes, not their messages."""
        error = GuardRejected(
            application_id="app-1",
            stage="offer",
            event="accept",
            blockers=[Blocker("offer_expired", "Alan Turing's offer expired")],
        )
        summary = error_summary(error)
        assert summary == "hirepipe.errors.GuardRejected: blocked by offer_expired"


class TestNameOf:
    def test_a_hook_is_named_not_shown(self):
        """A function by its qualified name; an object, a partial, by its class, not its repr."""

        def notify(fired: object) -> None:
            pass

        partial = functools.partial(print, "alan@example.com")
        assert f"{__name__}.TestNameOf.test_a_hook_is_named_not_shown.<locals>.notify" == name_of(
            notify
        )
        assert "functools.partial(print)" == name_of(partial)
        assert "print" == name_of(print)


def _notification() -> str:
    import pendulum

    now = pendulum.datetime(2025, 1, 6, 9, tz="UTC")
    return Notification(
        key="app-1/1/r/cand-9",
        rule="r",
        template="keep_warm",
        application_id="app-1",
        requisition_id="req-1",
        trigger="keep_warm",
        role="candidate",
        to="cand-9",
        address="alan@example.com",
        created_at=now,
        due_at=now,
        next_attempt_at=now,
    ).to_json()


class TestAssignmentToFrozen:
    @given(value=st.text(min_size=3, alphabet=st.characters(codec="ascii", categories=["L"])))
    def test_the_error_never_quotes_the_value_given(self, value):
        """Pydantic's frozen error quoted the value (``input_value='...'``); hirepipe's hides it."""
        for model in (
            Candidate.model_validate(ALAN),
            standard_policy().events["withdraw"].data_model.model_validate({"text": "private"}),
        ):
            before = model.model_dump()
            for name in type(model).model_fields:
                with pytest.raises(ValidationError) as raised:
                    setattr(model, name, value)
                assert [("frozen_instance", (name,))] == [
                    (e["type"], e["loc"]) for e in raised.value.errors()
                ]
                # The text is the same whatever the value: nothing of it is quoted. (A bare
                # "value not in text" fails by chance when the value is part of the model's name.)
                with pytest.raises(ValidationError) as marked:
                    setattr(model, name, "zz-SENTINEL-zz")
                assert "zz-SENTINEL-zz" not in str(marked.value)
                assert str(raised.value) == str(marked.value)
            assert before == model.model_dump()  # nothing changed

    def test_a_frozen_field_of_a_mutable_model_hides_it_too(self):
        """``Field(frozen=True)`` on a model that is not frozen: the same error, hidden."""
        from pydantic import ConfigDict, Field

        from hirepipe.models import _Model

        class Note(_Model):
            model_config = ConfigDict(frozen=False)
            text: str = Field(frozen=True)

        note = Note(text="first")
        with pytest.raises(ValidationError) as raised:
            note.text = "Alan Turing"
        assert "frozen_field" == raised.value.errors()[0]["type"]
        assert "Alan Turing" not in str(raised.value)
        assert "first" == note.text

    def test_other_assignment_errors_are_unchanged(self):
        """A value refused by validation is the validator's error, already hidden."""
        requisition = make_requisition()
        with pytest.raises(ValidationError) as raised:
            requisition.headcount = "Alan Turing"
        assert "int_type" == raised.value.errors()[0]["type"]
        assert "Alan Turing" not in str(raised.value)
