"""Offers that get signed: the signature states of an offer version, as activities.

```python
policy = standard_policy(offer_signatures=True)
pipeline.fire(app, "send_offer", actor="maria", version=1, requisition=req)
pipeline.fire(app, "offer_viewed", actor="cand-1", version=1)
pipeline.fire(app, "sign_offer", actor="hirepipe", on_behalf_of="cand-1", version=1)  # webhook
pipeline.fire(app, "countersign_offer", actor="maria", version=1, requisition=req)
pipeline.fire(app, "accept", actor="cand-1", requisition=req)
```

Four activities (``send_offer``, ``offer_viewed``, ``sign_offer``, ``countersign_offer``)
stamp the offer version they name ([`Signing`][hirepipe.models.Signing] on
[`Offer.signing`][hirepipe.models.Offer.signing]); a version that is no longer the live one
is refused (``offer_version_superseded``), so a signature on version 1 never counts for
version 2. ``accept`` then needs the current version signed by the candidate and, with the
``countersignature_required`` setting (on by default), countersigned
(``offer_not_signed``, ``offer_not_countersigned``).

Who fires them, and why:

- ``send_offer``: the hiring manager, the recruiter or the system (the host, or an
  e-signature provider's webhook, once the envelope went out).
- ``offer_viewed``: the candidate (opening it in the host's portal) or the system (the
  provider reports the opening). Seeing a document is no decision, so the system records it
  as itself.
- ``sign_offer``: the candidate, for themself. A signature is the candidate's decision
  (design decision 10): a provider's webhook fires it as the system *on behalf of* the
  candidate, and so may the hiring manager or recruiter who received a signed paper copy;
  the record keeps both the actor and ``on_behalf_of``, and ``signed_by`` names the
  candidate.
- ``countersign_offer``: the hiring manager or the recruiter who signs for the company, or
  the system on behalf of the one who signed at the provider.
- ``accept``: as in the standard policy, and also the system on behalf of the candidate,
  whose signed document is their acceptance: the provider's "completed" webhook closes it.

Acceptance waits for the countersignature as a guard on ``accept`` rather than as a stage
between the offer and ``hired``: ``hired`` keeps meaning one thing (a contract both sides
signed), the slate, the estimator and the simulator need no new stage, and
[`Pipeline.blockers`][hirepipe.pipeline.Pipeline.blockers] says what is missing. A candidate
who signed before the offer's valid-until date answered in time: the offer no longer lapses
(``expire`` is refused with ``offer_signed_in_time``), and ``accept`` is allowed after that
date once the company countersigned.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from hirepipe.errors import Blocker, PolicyError, PolicyProblem
from hirepipe.models import Offer, OfferStatus, Signing
from hirepipe.policy import (
    Change,
    Context,
    EffectSpec,
    EventSpec,
    GuardSpec,
    NotificationRule,
    Policy,
    Recipient,
    Role,
)
from hirepipe.standard._data import OfferVersionData, SignatureData

__all__ = [
    "SIGNATURE_EFFECTS",
    "SIGNATURE_EVENTS",
    "SIGNATURE_GUARDS",
    "with_offer_signatures",
]

SIGNATURE_EVENTS = ("send_offer", "offer_viewed", "sign_offer", "countersign_offer")
"""The activities that stamp an offer version's signature states, in their order."""


def _live(ctx: Context) -> Offer | None:
    offer = ctx.application.offer
    return offer if offer is not None and offer.status is OfferStatus.extended else None


def _stamped(ctx: Context) -> Offer | None:
    """The live offer, if it is the version the event's data names."""
    offer = _live(ctx)
    return offer if offer is not None and offer.version == ctx.data.value("version") else None


# -- guards ------------------------------------------------------------------------------------


def offer_version_current(ctx: Context) -> Iterator[Blocker]:
    """The event names the live offer's version: an older one's signature never counts."""
    offer = _live(ctx)
    version = ctx.data.value("version")
    if offer is None:
        yield Blocker("no_live_offer", "there is no extended offer to act on")
    elif version != offer.version:
        older = isinstance(version, int) and version < offer.version
        yield Blocker(
            "offer_version_superseded" if older else "offer_version_unknown",
            f"offer version {version} is {'superseded by' if older else 'not'} the live "
            f"version {offer.version}"
            + ("; send the live version for signing" if older else "; name the live version"),
            {"version": version, "current": offer.version},
        )


def offer_sent(ctx: Context) -> Iterator[Blocker]:
    """The version's document was sent to the candidate (``send_offer``)."""
    offer = _stamped(ctx)
    if offer is not None and (offer.signing is None or offer.signing.sent_at is None):
        yield Blocker(
            "offer_not_sent",
            f"offer version {offer.version} was not sent for signing; send_offer first",
            {"version": offer.version},
        )


def offer_not_signed_yet(ctx: Context) -> Iterator[Blocker]:
    """The candidate has not signed the version already (a repeated webhook, say)."""
    offer = _stamped(ctx)
    signing = offer.signing if offer is not None else None
    if offer is not None and signing is not None and signing.signed_at is not None:
        yield Blocker(
            "offer_already_signed",
            f"offer version {offer.version} was signed by {signing.signed_by} at "
            f"{signing.signed_at.isoformat()}",
            {"version": offer.version, "signed_at": signing.signed_at.isoformat()},
        )


def offer_signed_by_candidate(ctx: Context) -> Iterator[Blocker]:
    """The candidate signed the version before the company countersigns it."""
    offer = _stamped(ctx)
    if offer is not None and (offer.signing is None or offer.signing.signed_at is None):
        yield _not_signed(offer)


def offer_not_countersigned_yet(ctx: Context) -> Iterator[Blocker]:
    """Nobody countersigned the version already."""
    offer = _stamped(ctx)
    signing = offer.signing if offer is not None else None
    if offer is not None and signing is not None and signing.countersigned_at is not None:
        yield Blocker(
            "offer_already_countersigned",
            f"offer version {offer.version} was countersigned by {signing.countersigned_by} "
            f"at {signing.countersigned_at.isoformat()}",
            {"version": offer.version, "countersigned_at": signing.countersigned_at.isoformat()},
        )


def offer_signatures_complete(ctx: Context) -> Iterator[Blocker]:
    """The live version is signed by the candidate, and countersigned if the policy says so."""
    offer = _live(ctx)
    if offer is None:
        return  # offer_answered_in_time says so
    signing = offer.signing
    if signing is None or signing.signed_at is None:
        yield _not_signed(offer)
    elif signing.countersigned_at is None and ctx.settings.countersignature_required:
        yield Blocker(
            "offer_not_countersigned",
            f"offer version {offer.version} is signed by {signing.signed_by} but not "
            "countersigned; the acceptance is complete once the company countersigns it "
            "(countersign_offer)",
            {"version": offer.version, "signed_by": signing.signed_by},
        )


def _not_signed(offer: Offer) -> Blocker:
    return Blocker(
        "offer_not_signed",
        f"the candidate has not signed offer version {offer.version} (sign_offer)",
        {"version": offer.version},
    )


def _signed_in_time(offer: Offer) -> bool:
    """Whether the candidate signed ``offer``: ``sign_offer`` is refused once it expired."""
    signing = offer.signing
    return signing is not None and signing.signed_at is not None


def offer_answered_in_time(ctx: Context) -> Iterator[Blocker]:
    """A live offer, not expired, or signed by the candidate before it would have."""
    offer = _live(ctx)
    if offer is None:
        yield Blocker("no_live_offer", "there is no extended offer to act on")
    elif ctx.now > offer.valid_until and not _signed_in_time(offer):
        yield Blocker(
            "offer_expired",
            f"offer version {offer.version} expired at {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat(), "version": offer.version},
        )


def offer_unanswered_past_valid_until(ctx: Context) -> Iterator[Blocker]:
    """The offer's date has passed and the candidate did not sign it in time."""
    offer = _live(ctx)
    if offer is None:
        return
    if ctx.now <= offer.valid_until:
        yield Blocker(
            "offer_still_valid",
            f"offer version {offer.version} is valid until {offer.valid_until.isoformat()}",
            {"valid_until": offer.valid_until.isoformat()},
        )
    elif _signed_in_time(offer):
        yield Blocker(
            "offer_signed_in_time",
            f"the candidate signed offer version {offer.version} before it lapsed; "
            "countersign it, or end it with decline or withdraw",
            {"version": offer.version},
        )


# -- effects -----------------------------------------------------------------------------------


def _stamp(ctx: Context, **stamps: Any) -> Change:
    """Stamp the live version's signing with what is not stamped yet; the record says what."""
    offer = _stamped(ctx)
    assert offer is not None, "the guards let through only the live version"
    signing = offer.signing or Signing()
    fresh = {k: v for k, v in stamps.items() if getattr(signing, k) is None}
    if not fresh:
        return Change(record_data={"again": True})  # a second report of the same fact
    stamped = offer.model_copy(update={"signing": signing.model_copy(update=fresh)})
    return Change({"offers": (*ctx.application.offers[:-1], stamped)})


def send_offer_document(ctx: Context) -> Change:
    """Stamp when the version's document went out (the first time; a resend is recorded)."""
    return _stamp(ctx, sent_at=ctx.now)


def view_offer_document(ctx: Context) -> Change:
    """Stamp when the candidate first opened the version's document."""
    return _stamp(ctx, viewed_at=ctx.now)


def sign_offer_document(ctx: Context) -> Change:
    """Stamp the candidate's signature on the version."""
    signer = ctx.data.value("signer")
    return _stamp(ctx, signed_at=ctx.now, signed_by=signer)


def countersign_offer_document(ctx: Context) -> Change:
    """Stamp the company's countersignature on the version."""
    signer = ctx.data.value("signer")
    return _stamp(ctx, countersigned_at=ctx.now, countersigned_by=signer)


# -- the tables --------------------------------------------------------------------------------

SIGNATURE_GUARDS: dict[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        GuardSpec(
            "offer_version_current", offer_version_current, "the live offer version is named"
        ),
        GuardSpec("offer_sent", offer_sent, "the version was sent for signing"),
        GuardSpec("offer_not_signed_yet", offer_not_signed_yet, "not signed already"),
        GuardSpec(
            "offer_signed_by_candidate", offer_signed_by_candidate, "the candidate signed it"
        ),
        GuardSpec(
            "offer_not_countersigned_yet", offer_not_countersigned_yet, "not countersigned already"
        ),
        GuardSpec(
            "offer_signatures_complete",
            offer_signatures_complete,
            "the live version signed (and countersigned, if required)",
        ),
        GuardSpec(
            "offer_answered_in_time",
            offer_answered_in_time,
            "the offer has not expired, or was signed in time",
        ),
        GuardSpec(
            "offer_unanswered_past_valid_until",
            offer_unanswered_past_valid_until,
            "the offer's date has passed unsigned",
        ),
    )
}
"""The guards of offer signatures, registered with the standard ones."""

SIGNATURE_EFFECTS: dict[str, EffectSpec] = {
    spec.name: spec
    for spec in (
        EffectSpec("send_offer_document", send_offer_document, OfferVersionData, trusted=True),
        EffectSpec("view_offer_document", view_offer_document, OfferVersionData, trusted=True),
        EffectSpec("sign_offer_document", sign_offer_document, SignatureData, trusted=True),
        EffectSpec(
            "countersign_offer_document", countersign_offer_document, SignatureData, trusted=True
        ),
    )
}
"""The effects of offer signatures, registered with the standard ones."""

_HM, _RECRUITER, _CANDIDATE, _SYSTEM = (
    Role.hiring_manager,
    Role.recruiter,
    Role.candidate,
    Role.system,
)

# name, guards, effect, fired_by, on_behalf, description
_EVENTS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...], tuple[str, ...], str], ...] = (
    (
        "send_offer",
        ("offer_version_current",),
        "send_offer_document",
        (_HM, _RECRUITER, _SYSTEM),
        (),
        "the offer document went out for signing",
    ),
    (
        "offer_viewed",
        ("offer_version_current", "offer_sent"),
        "view_offer_document",
        (_CANDIDATE, _SYSTEM),
        (),
        "the candidate opened the offer document",
    ),
    (
        "sign_offer",
        ("offer_version_current", "offer_answered_in_time", "offer_sent", "offer_not_signed_yet"),
        "sign_offer_document",
        (_CANDIDATE,),
        (_SYSTEM, _HM, _RECRUITER),
        "the candidate signed the offer document",
    ),
    (
        "countersign_offer",
        ("offer_version_current", "offer_signed_by_candidate", "offer_not_countersigned_yet"),
        "countersign_offer_document",
        (_HM, _RECRUITER),
        (_SYSTEM,),
        "the company countersigned the offer document",
    ),
)

_RULES = (
    NotificationRule(
        name="offer_signed",
        template="offer_signed",
        to=Recipient.hiring_manager,
        events=("sign_offer",),
        description="the candidate signed: countersign the offer",
    ),
)


def with_offer_signatures(policy: Policy) -> Policy:
    """Return ``policy`` with offer signatures: the four activities, and acceptance after them.

    ``accept`` is guarded by ``offer_answered_in_time`` (instead of ``offer_not_expired``) and
    ``offer_signatures_complete``, and may be fired by the system for the candidate; ``expire``
    by ``offer_unanswered_past_valid_until`` (instead of ``offer_past_valid_until``). The
    candidate hears of what is recorded for them (``acted_for_you``), the hiring manager of
    each signature to countersign (``offer_signed``). Raises
    [`PolicyError`][hirepipe.errors.PolicyError] for a policy without ``accept`` or ``expire``.
    """
    missing = [name for name in ("accept", "expire") if name not in policy.events]
    if missing:
        raise PolicyError(
            [
                PolicyProblem(
                    "with_offer_signatures",
                    f"the policy has no {' or '.join(map(repr, missing))} event; offer "
                    "signatures guard the acceptance and the expiry of an offer",
                )
            ]
        )
    replaced = {
        "offer_not_expired": SIGNATURE_GUARDS["offer_answered_in_time"],
        "offer_past_valid_until": SIGNATURE_GUARDS["offer_unanswered_past_valid_until"],
    }
    for name in ("accept", "expire"):
        spec = policy.events[name]
        guards = tuple(replaced.get(g.name, g) for g in spec.guards)
        if name == "accept":
            guards = (*guards, SIGNATURE_GUARDS["offer_signatures_complete"])
            spec = replace(spec, on_behalf=tuple(dict.fromkeys((*spec.on_behalf, _SYSTEM))))
        policy = policy.with_event(replace(spec, guards=guards))
    sources = policy.events["accept"].sources
    for name, checks, effect, fired_by, on_behalf, description in _EVENTS:
        policy = policy.with_event(
            EventSpec(
                name=name,
                sources=sources,
                dest=None,
                guards=tuple(SIGNATURE_GUARDS[g] for g in checks),
                effect=SIGNATURE_EFFECTS[effect],
                description=description,
                fired_by=fired_by,
                on_behalf=on_behalf,
            )
        )
    rules = [
        replace(r, events=(*r.events, "sign_offer", "countersign_offer"))
        for r in policy.notifications
        if r.name == "acted_for_you"
    ]
    return policy.with_notifications(*rules, *_RULES)
