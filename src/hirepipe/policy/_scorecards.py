"""Structured scorecards as policy data: attributes in categories, a rating scale, focus rounds.

```python
scheme = ScorecardScheme(
    attributes=[
        ScorecardAttribute(name="python", category="skills"),
        ScorecardAttribute(name="communication", category="traits"),
    ],
    scale=(1, 2, 3, 4),
    focus={1: ("python",), 2: ("communication",)},
)
policy = standard_policy(structured_scorecards=scheme)
```

The scheme is part of [`PolicySettings`][hirepipe.policy.PolicySettings] (``scorecard``), so it
round-trips through TOML, YAML and JSON with the rest of the policy and is checked when the
policy is built or loaded: every attribute in a known category, every focus and ranking
attribute in the set, a scale of distinct levels. What a submitted scorecard may rate is checked
against it by the standard policy's guards (``hirepipe.standard``).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Final, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hirepipe.models import Identifier, Recommendation

__all__ = [
    "ATTRIBUTE_RANKING",
    "OVERALL",
    "Level",
    "ScorecardAttribute",
    "ScorecardScheme",
]

Level = StrictInt | Identifier
"""A level of a rating scale: a number (``3`` on a 1 to 4 scale) or a label (``"yes"``)."""

OVERALL: Final = "overall"
"""The name reports give the overall recommendation beside the attributes; no attribute takes it."""

ATTRIBUTE_RANKING: Final = "attributes"
"""The ``ranking`` setting that ranks a slate by the scheme's ``rank_by`` attributes first."""

MAX_ATTRIBUTES: Final = 200
"""The most attributes a scheme may hold: a scorecard is read by a person."""
MAX_LEVELS: Final = 101
"""The most levels a scale may have: 0 to 100."""

_RECOMMENDATION_SCALE: tuple[Level, ...] = tuple(str(r) for r in Recommendation)


class _Scheme(BaseModel):
    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)


class ScorecardAttribute(_Scheme):
    """One attribute interviewers rate: a name, the category it belongs to, what it means."""

    name: Identifier
    category: Identifier
    description: Annotated[str, Field(strict=True, max_length=2_000)] = ""


def _repeated(names: list[Level]) -> list[str]:
    seen: set[Level] = set()
    twice: dict[str, None] = {}
    for name in names:
        if name in seen:
            twice[str(name)] = None
        seen.add(name)
    return list(twice)


class ScorecardScheme(_Scheme):
    """What structured scorecards rate, on which scale, and what each round must rate.

    - ``categories``: the groups attributes belong to (default: Greenhouse's skills,
      qualifications and traits); a policy names its own.
    - ``attributes``: what interviewers rate, each in one of the categories.
    - ``scale``: the levels of a rating, lowest first: numbers (``[1, 2, 3, 4]``) or labels
      (default: ``strong_no`` to ``strong_yes``, the recommendation's own).
    - ``focus``: for an interview round, the attributes each of its interviewers must rate
      before the debrief completes (``{1: ["python"], 2: ["system_design"]}``); a round not
      named has no focus attributes.
    - ``rank_by``: the attributes the ``attributes`` ranking orders a slate by, first to last.

    A rating's score ([`score`][hirepipe.policy.ScorecardScheme.score]) is its number on a
    numeric scale, and its position centred on zero on a labelled one (``strong_no`` ..
    ``strong_yes`` score -2 .. 2, as
    [`Recommendation.score`][hirepipe.models.Recommendation.score]).
    """

    categories: tuple[Identifier, ...] = Field(
        default=("skills", "qualifications", "traits"), min_length=1, max_length=50
    )
    attributes: tuple[ScorecardAttribute, ...] = Field(min_length=1, max_length=MAX_ATTRIBUTES)
    scale: tuple[Level, ...] = Field(
        default=_RECOMMENDATION_SCALE, min_length=2, max_length=MAX_LEVELS
    )
    focus: dict[Annotated[int, Field(ge=1, le=20)], tuple[Identifier, ...]] = Field(
        default_factory=dict
    )
    rank_by: tuple[Identifier, ...] = ()

    _scores: dict[tuple[bool, Level], float] = PrivateAttr(default_factory=dict)

    @field_validator("scale")
    @classmethod
    def _one_kind_of_level(cls, scale: tuple[Level, ...]) -> tuple[Level, ...]:
        numbers = [level for level in scale if isinstance(level, int)]
        if numbers and len(numbers) != len(scale):
            raise PydanticCustomError(
                "scale_mixed",
                "the scale mixes numbers and labels ({scale}); use only numbers or only labels",
                {"scale": ", ".join(map(str, scale))},
            )
        twice = _repeated(list(scale))
        if twice:
            raise PydanticCustomError(
                "scale_repeated",
                "the scale lists {levels} more than once; list each level once",
                {"levels": ", ".join(twice)},
            )
        if numbers and sorted(numbers) != numbers:
            raise PydanticCustomError(
                "scale_order",
                "the scale's numbers are not in rising order ({scale}); list them lowest first",
                {"scale": ", ".join(map(str, scale))},
            )
        return scale

    @model_validator(mode="after")
    def _names_resolve(self) -> Self:
        twice = _repeated(list(self.categories))
        if twice:
            raise PydanticCustomError(
                "category_repeated",
                "categories lists {names} more than once; list each category once",
                {"names": ", ".join(twice)},
            )
        names = [attribute.name for attribute in self.attributes]
        twice = _repeated(list(names))
        if twice:
            raise PydanticCustomError(
                "attribute_repeated",
                "attributes defines {names} more than once; define each attribute once",
                {"names": ", ".join(twice)},
            )
        if OVERALL in names:
            raise PydanticCustomError(
                "attribute_reserved",
                "an attribute is named '{name}', the name reports give the overall "
                "recommendation; name it otherwise",
                {"name": OVERALL},
            )
        for attribute in self.attributes:
            if attribute.category not in self.categories:
                raise PydanticCustomError(
                    "unknown_category",
                    "attribute '{name}' is in category '{category}', which is not one of the "
                    "categories: {categories}; add the category or move the attribute",
                    {
                        "name": attribute.name,
                        "category": attribute.category,
                        "categories": ", ".join(self.categories),
                    },
                )
        known = set(names)
        for round_number, focus in sorted(self.focus.items()):
            self._check_names(f"focus of round {round_number}", focus, known)
        self._check_names("rank_by", self.rank_by, known)
        middle = (len(self.scale) - 1) / 2
        # derived from the fields once, so equal schemes hold equal tables
        self._scores = {
            _level_key(level): float(level) if isinstance(level, int) else position - middle
            for position, level in enumerate(self.scale)
        }
        return self

    def _check_names(self, where: str, wanted: tuple[str, ...], known: set[str]) -> None:
        unknown = [name for name in wanted if name not in known]
        if unknown:
            raise PydanticCustomError(
                "unknown_attribute",
                "the {where} names {unknown}, not in the attributes: {known}; define them or "
                "check the spelling",
                {
                    "where": where,
                    "unknown": ", ".join(unknown),
                    "known": ", ".join(a.name for a in self.attributes),
                },
            )
        twice = _repeated(list(wanted))
        if twice:
            raise PydanticCustomError(
                "attribute_repeated",
                "the {where} lists {names} more than once; list each attribute once",
                {"where": where, "names": ", ".join(twice)},
            )

    # -- reading the scheme ------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        """The attribute names, in definition order."""
        return tuple(attribute.name for attribute in self.attributes)

    def attribute(self, name: str) -> ScorecardAttribute | None:
        """Return the attribute called ``name``, or None when the scheme has none."""
        for attribute in self.attributes:
            if attribute.name == name:
                return attribute
        return None

    def focus_of(self, round_number: int) -> tuple[str, ...]:
        """Return the attributes each interviewer of round ``round_number`` must rate."""
        return self.focus.get(round_number, ())

    def score(self, rating: Level) -> float | None:
        """Return the score of ``rating``, or None when it is not a level of the scale.

        A number scores itself; a label its position, centred on zero (the middle of five
        labels scores 0, the lowest -2).
        """
        if isinstance(rating, bool):  # True equals 1 as a key; a bool is no level
            return None
        return self._scores.get(_level_key(rating))

    def describe_scale(self) -> str:
        """The scale as one line for messages: ``1, 2, 3, 4``."""
        return ", ".join(map(str, self.scale))


def _level_key(level: Level) -> tuple[bool, Level]:
    # the label "3" and the number 3 are different levels
    return (isinstance(level, str), level)
