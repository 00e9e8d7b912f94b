"""Offer documents rendered from templates, and the notifications of offer signatures."""

from __future__ import annotations

from datetime import date

import pytest

from hirepipe import Pipeline, TemplateError, standard_policy
from hirepipe.notify import OfferDocument, Templates, offer_document
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START
from tests.notify.world import World

HOSTILE = '<script>alert("x")</script> & <b>Bob</b>'


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def requisition():
    return make_requisition()


def offered(clock, requisition, *, policy=None, **candidate):
    """An application with an offer out, the candidate made with ``candidate``'s fields."""
    pipeline = Pipeline(policy or standard_policy(), clock=clock)
    application = make_application(
        pipeline, requisition, stage="offer", candidate=make_candidate(**candidate)
    )
    return pipeline, application


class TestOfferDocument:
    def test_text_and_html_with_hostile_names_escaped(self, clock, requisition):
        """The terms in both forms; a hostile name is shown as text in HTML, never as markup."""
        _, application = offered(clock, requisition, name=HOSTILE)
        document = offer_document(application, requisition, company="Acme <i>Corp</i>")
        assert isinstance(document, OfferDocument)
        assert (1, "Offer of employment: Backend Engineer, version 1") == (
            document.version,
            document.title,
        )
        for part in (document.text, document.html):
            assert "$135,000" in part
            assert "Monday, March 3, 2025" in part  # the start date, in the candidate's English
        assert f"Dear {HOSTILE}," in document.text  # plain text: as written
        assert "<script>" not in document.html
        assert "<b>Bob</b>" not in document.html
        assert "<i>Corp</i>" not in document.html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt;" in (
            document.html
        )
        assert "Acme &lt;i&gt;Corp&lt;/i&gt;" in document.html

    def test_bonus_and_equity_in_the_readers_locale(self, clock):
        """A German reader reads euros and dates the German way; bonus and equity are shown."""
        requisition = make_requisition(
            budget={"minimum": 120_000, "maximum": 150_000, "currency": "EUR"},
            time_zone="Europe/Berlin",
            country="DE",
        )
        pipeline, application = offered(clock, requisition, locale="de_DE")
        pipeline.fire(application, "counter", actor="cand-1", salary=145_000, bonus="7500.50")
        pipeline.fire(
            application,
            "revise_offer",
            actor="maria",
            requisition=requisition,
            meet_counter=True,
            equity=20_000,
            start_date=date(2025, 4, 1),
        )
        document = offer_document(application, requisition, company="Acme GmbH")
        assert ("de_DE", 2) == (document.locale, document.version)
        for expected in ("145.000", "7.500,50", "20.000", "Dienstag, 1. April 2025"):
            assert expected in document.text
            assert expected in document.html
        first = offer_document(application, requisition, company="Acme GmbH", version=1)
        assert "Bonus" not in first.text  # version 1 had none

    def test_company_templates_from_a_mapping(self, clock, requisition):
        """A company's own document, given as a mapping; its HTML still autoescapes."""
        _, application = offered(clock, requisition, name=HOSTILE)
        templates = Templates(
            sources={
                "offer_document.subject.txt": "Contract {{ offer.version }}",
                "offer_document.txt": "{{ candidate.name }}: "
                "{{ offer.salary | money(offer.currency) }} at {{ office }}",
                "offer_document.html": "<p>{{ candidate.name }} at {{ office }}</p>",
            }
        )
        document = offer_document(
            application,
            requisition,
            company="Acme",
            templates=templates,
            facts={"office": "<Berlin>"},
        )
        assert "Contract 1" == document.title
        assert f"{HOSTILE}: $135,000 at <Berlin>\n" == document.text
        assert (
            "<p>&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Bob&lt;/b&gt; at "
            "&lt;Berlin&gt;</p>\n" == document.html
        )

    def test_company_templates_from_a_folder(self, clock, requisition, tmp_path):
        """A folder overrides one part; the others come from hirepipe's defaults."""
        (tmp_path / "offer_document.subject.txt").write_text("Acme offer for {{ offer.title }}")
        _, application = offered(clock, requisition)
        document = offer_document(
            application, requisition, company="Acme", templates=Templates(tmp_path)
        )
        assert "Acme offer for Backend Engineer" == document.title
        assert "$135,000" in document.text

    def test_hostile_template_is_refused(self, clock, requisition):
        """A template that reaches for Python internals fails in the sandbox."""
        _, application = offered(clock, requisition)
        templates = Templates(
            sources={
                "offer_document.subject.txt": "x",
                "offer_document.txt": "{{ offer.__class__.__mro__ }}",
                "offer_document.html": "x",
            }
        )
        with pytest.raises(TemplateError):
            offer_document(application, requisition, company="Acme", templates=templates)

    def test_no_such_version(self, clock, requisition):
        """Asking for a version the application never had names the ones it has."""
        pipeline = Pipeline(standard_policy(), clock=clock)
        application = make_application(pipeline, requisition, stage="references")
        with pytest.raises(ValueError, match="no offer"):
            offer_document(application, requisition, company="Acme")
        _, application = offered(clock, requisition)
        with pytest.raises(ValueError, match="its versions are 1"):
            offer_document(application, requisition, company="Acme", version=2)


class TestSignatureNotifications:
    def test_hiring_manager_asked_to_countersign(self):
        """The candidate's signature tells the hiring manager to countersign that version."""
        world = World(policy=standard_policy(offer_signatures=True))
        application = world.application("offer")
        world.fire(application, "send_offer", version=1)
        world.pipeline.fire(application, "sign_offer", actor="cand-1", version=1)
        notification = world.latest(application, "offer_signed")
        assert ("hiring_manager", "maria") == (notification.role, notification.to)
        message = world.render(notification)
        assert "Candidate 1 signed the offer for Backend Engineer: please countersign" == (
            message.subject
        )
        assert "version 1" in message.text

    def test_candidate_told_of_a_signature_recorded_for_them(self):
        """A signature the system recorded for the candidate is one they hear of."""
        world = World(policy=standard_policy(offer_signatures=True))
        application = world.application("offer")
        world.fire(application, "send_offer", version=1)
        world.pipeline.fire(
            application, "sign_offer", actor="hirepipe", on_behalf_of="cand-1", version=1
        )
        notification = world.latest(application, "acted_for_you")
        assert "cand-1" == notification.to
        assert "your signature on our offer" in world.render(notification).text
