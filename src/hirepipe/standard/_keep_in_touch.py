"""Keeping in touch after a rejection: with the candidate's consent, until a bounded date.

```python
policy = standard_policy(keep_in_touch_from_rejection=True)
pipeline.fire(application, "keep_warm", actor="rita", warm_until=until, consent=True)
```

``keep_warm`` leads from ``rejected`` to the talent pool too (the rejection stays on record
until a ``reactivate``; back into the requisition that rejected them, that needs a reason,
as a ``reopen`` does), and, from every stage it fires from, as does ``renew_consent``:

- the candidate's consent is needed, as always (``consent=True`` in the event's data, or
  ``Candidate.consent_to_contact``); an explicit ``consent=False`` is a refusal, whatever
  the candidate's profile says, with this part or without it (``consent_given``);
- ``warm_until`` is at most ``warm_days`` calendar days away (the policy's limit on keeping
  a candidate's data for later roles: GDPR Art. 5(1)(e), storage limitation);
- the history record says where the consent came from (``consent_basis``).

When ``warm_until`` passes, [`hirepipe.privacy.consent_expired`][hirepipe.privacy.consent_expired]
lists the application: renew the consent, or end the application and erase it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from hirepipe.errors import Blocker
from hirepipe.policy import Change, Context, EffectSpec, GuardSpec, Policy
from hirepipe.policy._derive import rebuild
from hirepipe.standard._data import KeepWarmData

__all__ = [
    "KEEP_IN_TOUCH_EFFECTS",
    "KEEP_IN_TOUCH_GUARDS",
    "consent_given",
    "warm_until_set",
    "with_keep_in_touch_from_rejection",
]

_CONSENTED = ("keep_warm", "renew_consent")
"""The events that rest on the candidate's consent to stay in touch."""


def consent_given(ctx: Context) -> Iterator[Blocker]:
    """The candidate's consent to stay in touch: in the event's data, or else on their profile.

    The one rule of consent, for every event that keeps a candidate in touch (the standard
    ``warm_until_set`` guard asks it): ``consent=True`` in the event consents; no ``consent``
    falls back to ``Candidate.consent_to_contact``; an explicit ``consent=False`` is a refusal
    that always wins, whatever the profile says (``consent_refused``).
    """
    consent = ctx.data.value("consent")
    profile = ctx.application.candidate.consent_to_contact
    if consent is False and profile:
        yield Blocker(
            "consent_refused",
            "the event says the candidate did not consent to stay in touch (consent=False), "
            "although their profile does: ask them, and record their answer",
        )
    elif not (consent or profile):
        yield Blocker(
            "consent_missing",
            "the candidate has not consented to stay in touch (consent=True once they have)",
            needs_input=True,
        )


def warm_until_set(ctx: Context) -> Iterator[Blocker]:
    """A future warm-until date and the candidate's consent to stay in touch."""
    warm_until = ctx.data.value("warm_until")
    if warm_until is None:
        yield Blocker(
            "warm_until_missing", "give a warm-until date (warm_until=...)", needs_input=True
        )
    elif warm_until <= ctx.now:
        yield Blocker(
            "warm_until_past", f"warm_until {warm_until.isoformat()} is not in the future"
        )
    yield from consent_given(ctx)  # an explicit consent=False always refuses


def consent_not_refused(ctx: Context) -> Iterator[Blocker]:
    """The event does not say the candidate refused, whatever their profile says.

    The refusal half of ``consent_given``, which ``warm_until_set`` asks on every
    ``keep_warm`` and ``renew_consent``, with this part or without it: this part no longer adds
    it, and it stays registered for the policies saved naming it. Those name it next to the
    standard ``warm_until_set``, which refuses already: there it says nothing, so the refusal
    is said once (next to a company's own guard of that name, it refuses).
    """
    spec = ctx.policy.events.get(ctx.event)
    # the standard guard itself, not its name: a company's own guard of that name may not ask
    if spec is not None and any(guard.check is warm_until_set for guard in spec.guards):
        return
    for blocker in consent_given(ctx):
        if blocker.code == "consent_refused":
            yield blocker


def warm_until_within_warm_days(ctx: Context) -> Iterator[Blocker]:
    """``warm_until`` is at most the policy's ``warm_days`` calendar days away.

    Counted at the same wall-clock time in the requisition's zone when it is passed.
    """
    warm_until = ctx.data.value("warm_until")
    days = ctx.settings.warm_days
    zone = ctx.requisition.time_zone if ctx.requisition is not None else None
    limit = ctx.settings.warm_limit(ctx.now, zone)
    if warm_until is not None and warm_until > limit:
        yield Blocker(
            "warm_until_too_late",
            f"warm_until {warm_until.isoformat()} is more than {days} days away (warm_days); "
            f"keep in touch until {limit.isoformat()} at the latest, and renew the consent then",
            {"warm_until": warm_until.isoformat(), "latest": limit.isoformat(), "warm_days": days},
        )


def rejection_undone_with_reason(ctx: Context) -> Iterator[Blocker]:
    """Back into the requisition that rejected them, a candidate needs a reason, as a reopen."""
    app = ctx.application
    target = ctx.requisition.id if ctx.requisition is not None else app.requisition_id
    same = target == app.requisition_id
    if app.rejection is not None and same and not (ctx.reason and ctx.reason.strip()):
        yield Blocker(
            "reason_missing",
            f"requisition {target!r} rejected the candidate ({app.rejection.reason}); undoing "
            "that is audited: say why (reason='...'), or reactivate them for another requisition",
            {"requisition": target, "rejection": app.rejection.reason},
            needs_input=True,
        )


def warm_with_consent(ctx: Context) -> Change:
    """Keep the candidate warm until a date, and say where their consent came from."""
    assert isinstance(ctx.data, KeepWarmData)
    basis = "event" if ctx.data.consent else "candidate_profile"
    return Change({"warm_until": ctx.data.warm_until}, {"consent_basis": basis})


KEEP_IN_TOUCH_GUARDS: tuple[GuardSpec, ...] = (
    GuardSpec("consent_not_refused", consent_not_refused, "the candidate did not refuse"),
    GuardSpec(
        "warm_until_within_warm_days",
        warm_until_within_warm_days,
        "warm_until at most warm_days away",
    ),
    GuardSpec(
        "rejection_undone_with_reason",
        rejection_undone_with_reason,
        "a reason to take a rejected candidate back into the same requisition",
    ),
)
"""The guards of keeping in touch after a rejection, registered with the standard ones."""

KEEP_IN_TOUCH_EFFECTS: tuple[EffectSpec, ...] = (
    EffectSpec("warm_with_consent", warm_with_consent, KeepWarmData, trusted=True),
)
"""The effects of keeping in touch after a rejection, registered with the standard ones."""


def with_keep_in_touch_from_rejection(policy: Policy) -> Policy:
    """Return ``policy`` whose ``keep_warm`` also leads from ``rejected``, consent bounded.

    ``keep_warm`` and ``renew_consent`` gain the guards of this module and record the basis
    of the consent; a policy without them is returned as it is.
    """
    # consent_not_refused is not added: warm_until_set refuses a consent=False already
    bounded, undone = KEEP_IN_TOUCH_GUARDS[1], KEEP_IN_TOUCH_GUARDS[2]
    effect = KEEP_IN_TOUCH_EFFECTS[0]
    events = []
    for event in policy.events.values():
        if event.name in _CONSENTED:
            sources = event.sources
            if event.name == "keep_warm" and "rejected" not in sources:
                sources = (*sources, "rejected")
            event = replace(
                event,
                sources=sources,
                guards=event.guards if bounded in event.guards else (*event.guards, bounded),
                effect=effect,
            )
        elif event.name == "reactivate":
            # a rejected candidate back into the same requisition is a reopening: audited
            event = replace(event, guards=(*event.guards, undone))
        events.append(event)
    return rebuild(policy, events=events)
