"""Structured scorecards in the standard policy: attribute ratings, and each round's focus.

Turned on with ``standard_policy(structured_scorecards=scheme)`` (or a
``PolicySettings(scorecard=scheme)``), which
[`with_structured_scorecards`][hirepipe.standard.with_structured_scorecards] applies:

- ``submit_scorecard`` accepts ``ratings`` beside the recommendation
  ([`StructuredScorecardData`][hirepipe.standard.StructuredScorecardData]), refused by
  ``ratings_on_scale`` when an attribute is not in the scheme or a rating is not on its scale;
- ``complete_debrief`` is blocked by ``focus_attributes_rated`` until each interviewer's
  scorecard of the round rates every focus attribute of the round, naming who left out what.

Without a scheme nothing changes: scorecards are a recommendation and notes, as before.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from pydantic import Field, field_validator

from hirepipe.errors import Blocker, PolicyError, PolicyProblem
from hirepipe.models import AttributeRating, Scorecard
from hirepipe.policy import Change, Context, EffectSpec, GuardSpec, Policy, ScorecardScheme
from hirepipe.policy._scorecards import MAX_ATTRIBUTES
from hirepipe.standard._data import ScorecardData

__all__ = [
    "SCORECARD_EFFECTS",
    "SCORECARD_GUARDS",
    "StructuredScorecardData",
    "with_structured_scorecards",
]

SUBMIT = "submit_scorecard"
DEBRIEF = "complete_debrief"


class StructuredScorecardData(ScorecardData):
    """``submit_scorecard`` with structured scorecards: the verdict and the attributes rated.

    ``ratings`` lists [`AttributeRating`][hirepipe.models.AttributeRating]s, or maps each
    attribute to its rating (``{"python": 3}``) or to a rating with notes
    (``{"python": {"rating": 3, "notes": "..."}}``). Each attribute is rated once.
    """

    ratings: tuple[AttributeRating, ...] = Field(default=(), max_length=MAX_ATTRIBUTES)

    @field_validator("ratings", mode="before")
    @classmethod
    def _from_mapping(cls, value: Any) -> Any:
        if not isinstance(value, Mapping):
            return value
        ratings = []
        for name, given in value.items():
            if not isinstance(given, Mapping):
                given = {"rating": given}
            elif given.get("attribute", name) != name:
                raise ValueError(
                    f"the rating under {name!r} names attribute {given['attribute']!r}; "
                    "give each rating under its own attribute"
                )
            ratings.append({**given, "attribute": name})
        return ratings

    @field_validator("ratings")
    @classmethod
    def _each_once(cls, ratings: tuple[AttributeRating, ...]) -> tuple[AttributeRating, ...]:
        # the scorecard refuses it too; said here, it is refused before any guard runs
        seen: set[str] = set()
        twice: dict[str, None] = {}
        for rating in ratings:
            if rating.attribute in seen:
                twice[rating.attribute] = None
            seen.add(rating.attribute)
        if twice:
            raise ValueError(f"rates {', '.join(twice)} more than once; rate each attribute once")
        return ratings


def add_structured_scorecard(ctx: Context) -> Change:
    """Add an interviewer's scorecard, with the attributes rated."""
    data = ctx.data
    assert isinstance(data, StructuredScorecardData), f"{ctx.event} got {type(data).__name__}"
    card = Scorecard(
        interviewer=data.interviewer or ctx.actor or "",
        round=data.round or ctx.application.round,
        recommendation=data.recommendation,
        notes=data.notes,
        submitted_at=ctx.now,
        ratings=data.ratings,
    )
    return Change({"scorecards": (*ctx.application.scorecards, card)})


def ratings_on_scale(ctx: Context) -> Iterator[Blocker]:
    """Every attribute rated is in the policy's scorecard scheme, each rating on its scale."""
    ratings: tuple[AttributeRating, ...] = ctx.data.value("ratings", ())
    if not ratings:
        return
    scheme = ctx.settings.scorecard
    if scheme is None:
        yield Blocker(
            "no_scorecard_scheme",
            "the policy rates no attributes (its settings name no scorecard scheme); "
            "leave ratings out, or give the policy a scheme",
            needs_input=True,
        )
        return
    unknown = [r.attribute for r in ratings if scheme.attribute(r.attribute) is None]
    if unknown:
        yield Blocker(
            "unknown_attribute",
            f"the scorecard rates {', '.join(unknown)}, not among the policy's attributes: "
            f"{', '.join(scheme.names)}",
            {"unknown": unknown, "attributes": list(scheme.names)},
            needs_input=True,
        )
    off = [r for r in ratings if r.attribute not in unknown and scheme.score(r.rating) is None]
    if off:
        given = ", ".join(f"{r.attribute}={r.rating!r}" for r in off)
        yield Blocker(
            "rating_off_scale",
            f"{given}: not on the scale {scheme.describe_scale()}; rate with one of its levels",
            {
                "ratings": {r.attribute: r.rating for r in off},
                "scale": list(scheme.scale),
            },
            needs_input=True,
        )


def focus_attributes_rated(ctx: Context) -> Iterator[Blocker]:
    """Each interviewer's scorecard of the round rates every focus attribute of the round."""
    scheme = ctx.settings.scorecard
    if scheme is None:
        return
    app = ctx.application
    focus = scheme.focus_of(app.round)
    if not focus:
        return
    for card in app.scorecards_for():
        missing = [
            name
            for name in focus
            if (rating := card.rating_of(name)) is None or scheme.score(rating.rating) is None
        ]
        if missing:
            yield Blocker(
                "focus_attributes_unrated",
                f"{card.interviewer}'s round {app.round} scorecard does not rate "
                f"{', '.join(missing)}: the round's focus attributes are "
                f"{', '.join(focus)}; {card.interviewer} submits the scorecard again with them",
                {
                    "interviewer": card.interviewer,
                    "missing": missing,
                    "focus": list(focus),
                    "round": app.round,
                },
            )


SCORECARD_GUARDS: dict[str, GuardSpec] = {
    spec.name: spec
    for spec in (
        GuardSpec(
            "ratings_on_scale",
            ratings_on_scale,
            "the attributes rated are the policy's, on its scale",
        ),
        GuardSpec(
            "focus_attributes_rated",
            focus_attributes_rated,
            "every scorecard rates the round's focus attributes",
            checks="debrief",
        ),
    )
}
"""The structured scorecards' guards, part of the standard registry."""

SCORECARD_EFFECTS: dict[str, EffectSpec] = {
    "add_structured_scorecard": EffectSpec(
        "add_structured_scorecard",
        add_structured_scorecard,
        StructuredScorecardData,
        trusted=True,
    )
}
"""The structured scorecards' effects, part of the standard registry."""


def with_structured_scorecards(policy: Policy, scheme: ScorecardScheme | None = None) -> Policy:
    """Return ``policy`` with structured scorecards: ``scheme`` (or its own) and their guards.

    ``submit_scorecard`` takes ratings (and checks them: ``ratings_on_scale``);
    ``complete_debrief`` waits for each round's focus attributes (``focus_attributes_rated``).
    ``scheme`` replaces the policy's ``scorecard`` setting; without it the policy must have one.
    Applying it twice changes nothing more. Raises
    [`PolicyError`][hirepipe.errors.PolicyError] when there is no scheme, or no such events.
    """
    if scheme is not None and scheme != policy.settings.scorecard:
        policy = policy.with_setting(scorecard=scheme)
    if policy.settings.scorecard is None:
        raise PolicyError(
            [
                PolicyProblem(
                    "settings.scorecard",
                    "structured scorecards need a scorecard scheme: pass one, or set "
                    "settings.scorecard",
                )
            ]
        )
    for event in (SUBMIT, DEBRIEF):
        if event not in policy.events:
            raise PolicyError(
                [
                    PolicyProblem(
                        f"events.{event}",
                        f"structured scorecards need the event {event!r}, which the policy lacks",
                    )
                ]
            )
    submit = policy.events[SUBMIT]
    guards = submit.guards
    if "ratings_on_scale" not in {g.name for g in guards}:
        guards = (*guards, SCORECARD_GUARDS["ratings_on_scale"])
    policy = policy.with_event(
        replace(submit, guards=guards, effect=SCORECARD_EFFECTS["add_structured_scorecard"])
    )
    if "focus_attributes_rated" not in {g.name for g in policy.events[DEBRIEF].guards}:
        policy = policy.with_guard(DEBRIEF, SCORECARD_GUARDS["focus_attributes_rated"])
    return policy
