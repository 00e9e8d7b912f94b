"""Tests of hirepipe.notify's templates: the sandbox, escaping, overrides, strictness, filters."""

from __future__ import annotations

import datetime as _dt
from dataclasses import replace
from decimal import Decimal

import pendulum
import pytest

from hirepipe import Band, HirepipeError
from hirepipe.notify import NotificationError, Person, Scene, TemplateError, Templates
from hirepipe.notify._facts import locale_of
from hirepipe.notify._templates import format_date, format_datetime, money
from hirepipe.testing import make_application, make_candidate
from tests.conftest import START
from tests.forks import child_status
from tests.notify.world import POLICY, TEMPLATES, World

FACTS = {
    "candidate": {"id": "cand-1", "name": "Ada", "email": "ada@example.com"},
    "job": {"title": "Backend Engineer", "requisition_id": "req-1", "hiring_manager": "maria"},
    "application": {"id": "a", "stage": "review", "previous_stage": None, "round": 1},
    "signature": "The hiring team",
    "cadence_days": 5,
    "estimate": None,
}

ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ candidate.__class__ }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ lipsum.__globals__['os'] }}",
    "{{ self._TemplateReference__context }}",
    "{{ candidate|attr('__class__') }}",
    "{{ 'a{0.__class__}'.format(candidate) }}",
    "{{ candidate.update({'name': 'x'}) }}",
    "{{ job.pop('title') }}",
    "{% for x in range(10**9) %}{% endfor %}",
]


def company(tmp_path, **files: str) -> Templates:
    """Templates with a company directory holding ``files`` (dots written as __)."""
    for name, text in files.items():
        (tmp_path / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return Templates(tmp_path)


class TestSandbox:
    @pytest.mark.parametrize("source", ESCAPES, ids=range(len(ESCAPES)))
    def test_templates_cannot_reach_python_internals(self, tmp_path, source):
        """Reaching interpreter internals or changing the facts fails with TemplateError."""
        templates = company(tmp_path, application_received__txt=source)
        with pytest.raises(TemplateError) as caught:
            templates.render("application_received", FACTS)
        assert "application_received.txt" == caught.value.template
        assert isinstance(caught.value, NotificationError)
        assert isinstance(caught.value, HirepipeError)

    def test_the_message_says_what_the_sandbox_refused(self, tmp_path):
        """The error names the template and the refused access."""
        templates = company(tmp_path, offer__subject__txt="{{ ''.__class__.__mro__ }}")
        with pytest.raises(TemplateError, match=r"'offer\.subject\.txt'.*sandbox refused") as c:
            templates.render("offer", FACTS)
        assert "'__class__' of 'str' object is unsafe" in str(c.value)

    def test_facts_are_not_changed_by_a_refused_template(self, tmp_path):
        """A template that tries to change a fact leaves it as it was."""
        templates = company(tmp_path, application_received__txt="{{ candidate.clear() }}")
        with pytest.raises(TemplateError):
            templates.render("application_received", FACTS)
        assert "Ada" == FACTS["candidate"]["name"]


class TestEscaping:
    def test_html_is_escaped_and_text_is_not(self):
        """Markup in a fact is escaped in HTML and kept as written in plain text."""
        facts = {**FACTS, "candidate": {**FACTS["candidate"], "name": "<script>x</script>"}}
        message = TEMPLATES.render("application_received", facts)
        assert "<p>Dear &lt;script&gt;x&lt;/script&gt;,</p>" in message.html
        assert "<script>" not in message.html
        assert "Dear <script>x</script>," in message.text

    def test_subject_is_one_line(self):
        """Line breaks in a fact never reach the subject (no header injection)."""
        facts = {**FACTS, "job": {**FACTS["job"], "title": "Engineer\r\nBcc: all@example.com"}}
        message = TEMPLATES.render("application_received", facts)
        assert "Your application for Engineer Bcc: all@example.com" == message.subject

    def test_left_out_parts_leave_no_gaps(self):
        """An optional part left out leaves one blank line between paragraphs, not several."""
        message = TEMPLATES.render("status_update", {**FACTS, "event": {"name": "hold"}})
        assert "\n\n\n" not in message.text
        assert message.text.endswith("the next step.\n\nThe hiring team\n")


class TestOverrides:
    def test_a_company_file_replaces_only_itself(self, tmp_path):
        """A company's subject replaces the default; the text and HTML stay hirepipe's."""
        templates = company(
            tmp_path, application_received__subject__txt="Welcome, {{ candidate.name }}!"
        )
        message = templates.render("application_received", FACTS)
        assert "Welcome, Ada!" == message.subject
        assert message.text == TEMPLATES.render("application_received", FACTS).text

    def test_the_shared_wording_can_be_overridden(self, tmp_path):
        """Overriding the shared wording changes every message that uses it."""
        default = (TEMPLATES.environment.loader.get_source(TEMPLATES.environment, "_wording.txt"))[
            0
        ]
        changed = default.replace(
            "We are comparing all candidates for the role and will then decide on the next step.",
            "We are reviewing the shortlist.",
        )
        templates = company(tmp_path, _wording__txt=changed)
        message = templates.render("status_update", {**FACTS, "event": {"name": "x"}})
        assert "Next steps: We are reviewing the shortlist." in message.text

    def test_directories_are_searched_in_order(self, tmp_path):
        """With several directories the first holding a file wins."""
        first, second = tmp_path / "first", tmp_path / "second"
        first.mkdir()
        second.mkdir()
        (first / "offer.subject.txt").write_text("first")
        (second / "offer.subject.txt").write_text("second")
        (second / "keep_warm.subject.txt").write_text("second")
        templates = Templates([first, second])
        facts = {**FACTS, "offer": {"title": "x"}, "warm_until": None}
        assert ("first", "second") == (
            templates.render("offer", {**facts, "offer": {**_OFFER}}).subject,
            templates.render("keep_warm", facts).subject,
        )
        assert "Templates(directories=" in repr(templates)


_OFFER = {
    "version": 1,
    "title": "Backend Engineer",
    "salary": "135000",
    "currency": "USD",
    "benefits": [],
    "start_date": "2025-03-03",
    "valid_until": "2025-01-27T16:00:00-05:00",
}


class TestStrictness:
    def test_a_missing_fact_fails_loudly(self):
        """A template reading a fact it was not given raises, naming the part."""
        facts = {key: value for key, value in FACTS.items() if key != "cadence_days"}
        with pytest.raises(TemplateError, match="'cadence_days' is undefined"):
            TEMPLATES.render("application_received", facts)

    def test_lenient_templates_render_nothing_for_it(self, tmp_path):
        """With strict=False a missing fact renders as nothing."""
        templates = Templates(strict=False)
        facts = {key: value for key, value in FACTS.items() if key != "cadence_days"}
        assert (
            "at least every  business days" in templates.render("application_received", facts).text
        )

    def test_the_shared_wording_is_there_for_company_templates(self, tmp_path):
        """A company's template can use the shared wording without importing it."""
        templates = company(tmp_path, reference_notice__txt="{{ step(application.stage) }}")
        assert "We are comparing all candidates" in templates.render("reference_notice", FACTS).text
        assert "step" not in templates.needs("reference_notice")

    def test_imports_are_not_facts(self, tmp_path):
        """Names a template imports are not facts it needs."""
        templates = company(
            tmp_path,
            keep_warm__txt=(
                '{% import "_wording.txt" as w %}{% include "_extra.txt" %}{{ w.step("x") }}'
            ),
            _extra__txt="{{ perks }}",
        )
        assert {"perks", "job", "candidate", "signature", "warm_until"} <= templates.needs(
            "keep_warm"
        )
        assert "w" not in templates.needs("keep_warm")

    def test_a_missing_template_is_named(self):
        """Asking for a template that does not exist says where it was looked for."""
        with pytest.raises(TemplateError, match=r"not found in hirepipe/notify/templates"):
            TEMPLATES.render("nothing_here", FACTS)

    def test_a_syntax_error_is_named(self, tmp_path):
        """A template that does not parse is refused with the line."""
        templates = company(tmp_path, offer__txt="line one\n{% if %}")
        with pytest.raises(TemplateError, match="syntax error on line 2"):
            templates.check(["offer"])
        with pytest.raises(TemplateError, match="syntax error on line 2"):
            templates.needs("offer")

    def test_needs_names_only_what_a_template_reads(self):
        """The facts a template reads include its shared parts, and no more."""
        assert {"candidate", "job", "signature", "application", "cadence_days"} == set(
            TEMPLATES.needs("application_received")
        )
        assert "estimate" in TEMPLATES.needs("status_update")
        assert "estimate" not in TEMPLATES.needs("reference_notice")

    def test_filter_errors_are_template_errors(self):
        """A fact of the wrong shape for its filter fails as the template's error."""
        with pytest.raises(TemplateError, match="expected an amount"):
            TEMPLATES.render("offer", {**FACTS, "offer": {**_OFFER, "salary": "lots"}})


class TestFilters:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2025-01-13", "Monday, January 13, 2025"),
            ("2025-12-31T23:30:00-08:00", "Wednesday, December 31, 2025"),
            (_dt.date(2024, 2, 29), "Thursday, February 29, 2024"),
        ],
        ids=["iso-date", "iso-datetime", "date"],
    )
    def test_date(self, value, expected):
        """Dates read in English by default, on their own local date."""
        assert expected == format_date(value)

    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            ("2025-01-13T10:00:00-05:00", "Monday, January 13, 2025, 10:00\u202fAM (UTC-05:00)"),
            (
                pendulum.datetime(2025, 7, 1, 9, 5, tz="Asia/Kolkata"),
                "Tuesday, July 1, 2025, 9:05\u202fAM (UTC+05:30)",
            ),
            (_dt.datetime(2025, 7, 1, 9, 5), "Tuesday, July 1, 2025, 9:05\u202fAM"),
            ("2025-07-01", "Tuesday, July 1, 2025"),
        ],
        ids=["iso", "aware", "naive", "date-only"],
    )
    def test_datetime(self, value, expected):
        """Times read as local wall-clock time with their UTC offset."""
        assert expected == format_datetime(value)

    @pytest.mark.parametrize(
        ("value", "currency", "expected"),
        [
            ("135000", "USD", "$135,000"),
            (Decimal("99500.50"), "EUR", "€99,500.50"),
            (1200, "", "1,200"),
        ],
        ids=["whole", "cents", "no-currency"],
    )
    def test_money(self, value, currency, expected):
        """Amounts are grouped by thousands; cents appear only when there are some."""
        assert expected == money(value, currency)

    def test_datetime_in_a_zone(self):
        """An instant shows in the zone it is asked for, from a string or a datetime."""
        moment = pendulum.datetime(2025, 1, 13, 15, tz="UTC")
        for value in (moment, moment.isoformat()):
            assert "Monday, January 13, 2025, 10:00\u202fAM (UTC-05:00)" == format_datetime(
                value, "America/New_York"
            )
        assert "Sunday, January 12, 2025" == format_date(
            "2025-01-13T03:00:00+00:00", "America/Chicago"
        )

    def test_not_a_date(self):
        """A value that is no date is refused."""
        with pytest.raises(ValueError, match="expected a date"):
            format_date("next week")


class TestDefaults:
    def test_every_default_template_renders_in_a_real_scene(self):
        """Every default template renders with the facts of a real scene (HTML and text)."""
        world = World()
        application = world.application("offer")
        world.pipeline.fire(application, "inquiry", actor="cand-1", text="hi")
        templates = {n.template: n for n in world.outbox}
        for notification in templates.values():
            message = world.render(notification)
            assert message.subject
            assert "\n" not in message.subject
            assert message.text.startswith(("Dear Candidate 1,", "Hello "))
            assert message.html.startswith("<!doctype html>")
            assert message.text.endswith("The hiring team\n")


class TestLocales:
    """Candidate-facing amounts and dates follow the reader's locale (Babel, CLDR data)."""

    @pytest.mark.parametrize(
        ("value", "currency", "locale", "expected"),
        [
            ("1234567.50", "EUR", "de_DE", "1.234.567,50\xa0€"),
            ("1234567.50", "EUR", "en", "€1,234,567.50"),
            ("135000", "USD", "en", "$135,000"),
            ("135000", "USD", "de", "135.000\xa0$"),
            ("1234567.50", "EUR", "fr", "1\u202f234\u202f567,50\xa0€"),
            ("99500.50", "CHF", "de_CH", "CHF\xa099'500.50"),
            ("135000", "JPY", "ja", "￥135,000"),
            (1200, "", "de", "1.200"),
        ],
        ids=["german", "english", "whole", "german-dollars", "french", "swiss", "yen", "bare"],
    )
    def test_money(self, value, currency, locale, expected):
        """An amount takes the locale's separators and symbol; cents only when there are some."""
        assert expected == money(value, currency, locale=locale)

    @pytest.mark.parametrize(
        ("locale", "expected"),
        [
            ("en", "Monday, January 13, 2025"),
            ("de_DE", "Montag, 13. Januar 2025"),
            ("fr", "lundi 13 janvier 2025"),
        ],
        ids=["english", "german", "french"],
    )
    def test_date(self, locale, expected):
        """A date is written the locale's full way."""
        assert expected == format_date("2025-01-13", locale=locale)

    def test_datetime(self):
        """A time is the locale's short time, with the UTC offset it is shown in."""
        moment = "2025-01-13T15:00:00+00:00"
        assert "Montag, 13. Januar 2025, 10:00 (UTC-05:00)" == format_datetime(
            moment, "America/New_York", locale="de"
        )
        assert "Monday, January 13, 2025, 10:00\u202fAM (UTC-05:00)" == format_datetime(
            moment, "America/New_York"
        )

    def test_an_offer_to_a_german_candidate(self):
        """The candidate's locale formats the offer's salary and dates; the wording stays."""
        world = World(budget=Band(minimum=100_000, maximum=2_000_000, currency="EUR"))
        candidate = make_candidate(1, locale="de-DE")
        application = make_application(
            world.pipeline, world.requisition, stage="negotiation", candidate=candidate
        )
        world.fire(application, "revise_offer", salary=Decimal("1234567.50"))
        message = world.render(world.latest(application, "offer"))
        for line in (
            "Salary: 1.234.567,50\xa0€",
            "Start date: Montag, 3. März 2025",
            "Valid until: Donnerstag, 16. Januar 2025, 16:00 (UTC-05:00)",
        ):
            assert line in message.text
        assert "Salary: 1.234.567,50\xa0€" in message.html

    def test_the_requisitions_locale_when_the_candidate_has_none(self):
        """Without a locale of the candidate's own, the requisition's locale is the reader's."""
        world = World(locale="fr_FR")
        application = world.application("negotiation")
        world.fire(application, "revise_offer", salary=140_000)
        message = world.render(world.latest(application, "offer"))
        assert "Salary: 140\u202f000\xa0$US" in message.text

    def test_english_by_default(self):
        """With no locale anywhere, amounts and dates are written in English."""
        world = World()
        application = world.application("negotiation")
        world.fire(application, "revise_offer", salary=140_000)
        message = world.render(world.latest(application, "offer"))
        assert "Salary: $140,000" in message.text
        assert "Start date: Monday, March 3, 2025" in message.text

    def test_people_at_the_company_read_the_requisitions_locale(self):
        """A message to the hiring manager follows the requisition, not the candidate."""
        world = World(locale="de_DE")
        candidate = make_candidate(1, locale="ja")
        application = make_application(world.pipeline, world.requisition, candidate=candidate)
        reader = Person("candidate", candidate.id, candidate.name, candidate.email)
        scene = Scene(application, world.requisition, POLICY, "note", START, "review", reader)
        manager = replace(scene, recipient=Person("hiring_manager", "maria", "Maria", None))
        assert ("ja", "de_DE") == (locale_of(scene), locale_of(manager))


def test_a_child_forked_while_a_template_compiled_renders():
    """A child forked while a thread of its parent compiled a template still compiles.

    Its copy of the lock was held for good: it waited at its first compile, until its alarm
    killed it.
    """
    templates = Templates()

    def render() -> None:
        templates.check(["application_received"])

    assert 0 == child_status(templates._lock, render)
