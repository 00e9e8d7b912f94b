"""Offers: the terms an offer is made on, and the guards on its terms and its validity."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from hirepipe.errors import Blocker
from hirepipe.models import Counter, Offer, OfferStatus
from hirepipe.policy import Context
from hirepipe.standard._approvals import (
    approved_band,
    has_pay_steps,
    no_band_blocker,
    pay_outside_blocker,
    reopened_pay_steps,
)

__all__ = [
    "START_DATE_MARGIN_DAYS",
    "offer_not_expired",
    "offer_past_valid_until",
    "offer_terms",
    "offer_terms_valid",
    "term_blockers",
]


START_DATE_MARGIN_DAYS = 90
"""How many calendar days before the day of an offer its start date may lie.

An offer may confirm someone already at work (a contractor converted, paperwork after the
fact), so a start date somewhat in the past is allowed; one further back (year 1, 1900) is a
mistake and is refused (``start_date_too_early``).
"""


_TERMS: set[str] = {
    *("title", "salary", "currency", "benefits", "start_date"),
    *("level", "location", "bonus", "equity"),
}


_NOT_TERMS = frozenset({"note", "meet_counter"})


def offer_terms(ctx: Context) -> tuple[dict[str, Any], dict[str, Any]]:
    """Return the terms an offer starts from, and the ones the event's data gives.

    A first offer starts from the requisition's title and currency, a revision from the
    current offer's terms (with ``meet_counter``, from the terms its counter asked for); an
    empty benefits list in the data keeps the benefits as they were.
    """
    # the data's fields as validated (a dump would copy each): every field is a plain value
    given = {k: v for k, v in ctx.data.__dict__.items() if v is not None and k not in _NOT_TERMS}
    if not given.get("benefits"):
        given.pop("benefits", None)
    current = ctx.application.offer
    base: dict[str, Any] = {}
    if current is not None:
        base = current.model_dump(include=_TERMS, exclude_none=True)
        counter = _live_counter(current)
        if ctx.data.value("meet_counter") and counter is not None:
            base.update(counter.terms)
    elif ctx.requisition is not None:
        base = {"title": ctx.requisition.title, "currency": ctx.requisition.budget.currency}
    return base, given


def _live_counter(offer: Offer) -> Counter | None:
    """The counter on ``offer`` while it is live (an old, declined offer's counter is done)."""
    return offer.counter if offer.status is OfferStatus.extended else None


"""The terms a revision carries over from the version it replaces."""


def _counter_to_meet(ctx: Context) -> Iterator[Blocker]:
    """``meet_counter`` needs a counter that asked for terms, in the offer's currency."""
    if not ctx.data.value("meet_counter"):
        return
    current = ctx.application.offer
    counter = _live_counter(current) if current is not None else None
    if counter is None or not counter.terms:
        yield Blocker(
            "no_counter_to_meet",
            "meet_counter needs a counter that asked for terms (salary, bonus, equity, start "
            "date) on the current offer; give the terms instead",
            needs_input=True,
        )
    elif ctx.data.value("currency") not in (None, counter.currency):
        yield Blocker(
            "counter_currency",
            f"the counter asked for amounts in {counter.currency}, not "
            f"{ctx.data.value('currency')}; give the amounts in the new currency instead",
            {"counter_currency": counter.currency},
            needs_input=True,
        )


def offer_terms_valid(ctx: Context) -> Iterator[Blocker]:
    """Offer terms complete, inside the approved band, and valid until a future date.

    The start date lies no more than ``START_DATE_MARGIN_DAYS`` before the day of the offer.
    """
    meets = list(_counter_to_meet(ctx))
    if meets:
        yield from meets
        return
    base, given = offer_terms(ctx)
    terms = {**base, **given}
    found = list(term_blockers(ctx, terms))
    yield from found
    if not any(b.code == "offer_terms_missing" for b in found):
        yield from _inside_band(ctx, terms)


def term_blockers(ctx: Context, terms: dict[str, Any]) -> Iterator[Blocker]:
    """The offer's terms complete, its start date not too early, its validity in the future.

    An incomplete offer gives only the ``offer_terms_missing`` blocker.
    """
    missing = [k for k in ("title", "salary", "currency", "start_date") if k not in terms]
    if missing:
        yield Blocker(
            "offer_terms_missing",
            f"the offer needs {', '.join(missing)}",
            {"missing": missing},
            needs_input=True,
        )
        return
    start = terms["start_date"]
    # datetime's own date(): pendulum's builds a pendulum Date, 25 us
    today = datetime.date(ctx.now)
    earliest = today - timedelta(days=START_DATE_MARGIN_DAYS)
    if start < earliest:
        yield Blocker(
            "start_date_too_early",
            f"start_date {start.isoformat()} is more than {START_DATE_MARGIN_DAYS} days before "
            f"the offer ({today.isoformat()}); give the day the person starts",
            {"start_date": start.isoformat(), "earliest": earliest.isoformat()},
            needs_input=True,
        )
    valid_until = terms.get("valid_until")
    if valid_until is not None and valid_until <= ctx.now:
        yield Blocker(
            "offer_valid_until_past",
            f"valid_until {valid_until.isoformat()} is not in the future",
        )


def _inside_band(ctx: Context, terms: dict[str, Any]) -> Iterator[Blocker]:
    band = approved_band(ctx)
    if band is not None and band.contains(terms["salary"], terms["currency"]):
        return
    if band is None:
        yield no_band_blocker(ctx)
        return
    reopened = reopened_pay_steps(ctx, terms["salary"], terms["currency"])
    if reopened is not None and not reopened and has_pay_steps(ctx):
        return  # a revision outside the band, approved again by every pay step
    blocker = pay_outside_blocker(terms["salary"], terms["currency"], band)
    if reopened:
        names = [s.step.name for s in reopened]
        people = [p for s in reopened for p in s.pending]
        blocker = Blocker(
            blocker.code,
            f"{blocker.message}; the pay steps {', '.join(map(repr, names))} must approve it "
            f"again ({', '.join(people)})",
            {**blocker.data, "reopened_steps": names, "approvers": people},
        )
    yield blocker


def _live_offer(ctx: Context) -> Offer | None:
    offer = ctx.application.offer
    return offer if offer is not None and offer.status is OfferStatus.extended else None


def offer_not_expired(ctx: Context) -> Iterator[Blocker]:
    """There is a live offer and its valid-until date has not passed."""
    offer = _live_offer(ctx)
    if offer is None:
        yield Blocker("no_live_offer", "there is no extended offer to act on")
    elif ctx.now > offer.valid_until:
        yield Blocker(
            "offer_expired",
            f"offer version {offer.version} expired at {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat(), "version": offer.version},
        )


def offer_past_valid_until(ctx: Context) -> Iterator[Blocker]:
    """The offer's valid-until date has passed (the deadline sweep fires ``expire``)."""
    offer = _live_offer(ctx)
    if offer is not None and ctx.now <= offer.valid_until:
        yield Blocker(
            "offer_still_valid",
            f"offer version {offer.version} is valid until {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat()},
        )
