"""Offer documents: an offer version's terms, rendered from templates as plain text and HTML.

```python
document = offer_document(application, requisition, company="Acme Corp")
document.text, document.html          # what the candidate signs, version document.version
offer_document(application, requisition, company="Acme Corp",
               templates=Templates(sources={"offer_document.html": company_html}))
```

The document is the notification templates' machinery, not a second one: the same sandboxed
Jinja2 ([`Templates`][hirepipe.notify.Templates]), HTML autoescaped (a candidate named
``<script>`` is shown, never run), the same ``money``, ``date`` and ``datetime`` filters in the
candidate's locale (Babel), the same facts (``candidate``, ``job``, ``offer``, ``locale``). A
company supplies its own ``offer_document`` (``.subject.txt`` is the title, ``.txt`` and
``.html`` the bodies) in a directory or a mapping; the rest comes from hirepipe's defaults.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from hirepipe._types import withheld_repr
from hirepipe.models import Application, Offer, Requisition
from hirepipe.notify._facts import candidate_fact, candidate_locale, job_fact, offer_fact
from hirepipe.notify._templates import Templates

__all__ = ["OFFER_DOCUMENT", "OfferDocument", "offer_document"]

OFFER_DOCUMENT = "offer_document"
"""The template an offer document is rendered from (``offer_document.subject.txt``, ``.txt``,
``.html``)."""


@cache
def _default_templates() -> Templates:
    """The templates hirepipe ships, compiled once (thread-safe: Templates locks its compiling)."""
    return Templates()


@dataclass(frozen=True, slots=True)
class OfferDocument:
    """One offer version's document: its title, plain text and HTML, in ``locale``."""

    application_id: str
    version: int
    title: str
    text: str
    html: str
    locale: str

    def __repr__(self) -> str:
        return withheld_repr(self, _LETTER)  # the letter is the candidate's: not in logs


_LETTER = frozenset({"title", "text", "html"})


def offer_document(
    application: Application,
    requisition: Requisition,
    *,
    company: str,
    version: int | None = None,
    templates: Templates | None = None,
    facts: Mapping[str, Any] | None = None,
) -> OfferDocument:
    """Render the document of one of ``application``'s offer versions (default: the latest).

    ``company`` is the employer's name, as the document states it (the ``company`` fact);
    ``facts`` add facts a company's own template reads (an address, a legal clause), or
    replace built-in ones. Raises ValueError when the application has no such offer version,
    [`TemplateError`][hirepipe.errors.TemplateError] when a template cannot be rendered.
    """
    offer = _version(application, version)
    locale = candidate_locale(application, requisition)
    built: dict[str, Any] = {
        "candidate": candidate_fact(application.candidate),
        "job": job_fact(requisition),
        "offer": offer_fact(offer),
        "company": company,
        "locale": locale,
        **(facts or {}),
    }
    message = (templates or _default_templates()).render(OFFER_DOCUMENT, built)
    return OfferDocument(
        application_id=application.id,
        version=offer.version,
        title=message.subject,
        text=message.text,
        html=message.html,
        locale=locale,
    )


def _version(application: Application, version: int | None) -> Offer:
    if not application.offers:
        raise ValueError(f"application {application.id!r} has no offer to render a document of")
    if version is None:
        return application.offers[-1]
    for offer in application.offers:
        if offer.version == version:
            return offer
    raise ValueError(
        f"application {application.id!r} has no offer version {version!r}; its versions are "
        f"{', '.join(str(o.version) for o in application.offers)}"
    )
