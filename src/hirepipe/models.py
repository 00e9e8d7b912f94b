"""The data hirepipe works on: plain, strictly validated Pydantic v2 models.

Every timestamp is a time-zone-aware ``pendulum.DateTime``; a naive datetime is refused.
Every model round-trips through JSON exactly (``Model.model_validate_json(m.model_dump_json())
== m``) and exports a JSON Schema (``Model.model_json_schema()``).

Models hold data only: the rules live in [`hirepipe.policy`][hirepipe.policy] and the engine in
[`hirepipe.pipeline`][hirepipe.pipeline], which never attaches anything to a model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Final, Literal, Self, TypeVar, cast

import pendulum
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StrictBool,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from hirepipe._redact import assign_hiding_input
from hirepipe._types import (
    BY_EVENT,
    ERASED,
    IDENTIFIER_LENGTH,
    NO_AMOUNT,
    PERSONAL,
    WITHHELD,
    Contact,
    Count,
    CountryCode,
    CurrencyCode,
    Email,
    Identifier,
    LocaleName,
    Money,
    Name,
    OptionalMoney,
    Personal,
    Reason,
    RoundNumber,
    Text,
    Timestamp,
    TimeZoneName,
    as_instant,
    check_minor_units,
    check_subdivision,
    identifier_problem,
    withhold_personal,
)

__all__ = [
    "ERASED",
    "IDENTIFIER_LENGTH",
    "NO_AMOUNT",
    "PAY_FIELDS",
    "PERSONAL",
    "AdjudicationDecision",
    "Application",
    "Approval",
    "ApprovalStep",
    "AttributeRating",
    "BackgroundCheck",
    "BackgroundResult",
    "Band",
    "Candidate",
    "CompanySize",
    "Contact",
    "Count",
    "Counter",
    "CountryCode",
    "CurrencyCode",
    "DisputeOutcome",
    "Email",
    "Identifier",
    "Interview",
    "LocaleName",
    "Money",
    "Name",
    "Offer",
    "OfferField",
    "OfferStatus",
    "OptionalMoney",
    "Personal",
    "Reason",
    "Recommendation",
    "Reference",
    "ReferenceOutcome",
    "ReferenceStatus",
    "Rejection",
    "Requisition",
    "RequisitionStatus",
    "RoundNumber",
    "Scorecard",
    "SignatureState",
    "Signing",
    "Substitution",
    "Text",
    "TimeZoneName",
    "Timestamp",
    "TransitionRecord",
    "as_instant",
    "identifier_problem",
]


class _Model(BaseModel):
    """Shared configuration: unknown fields refused, assignment validated.

    Strings, integers, booleans and timestamps are strict (no ``"3"`` for 3, no ``1`` for
    true); amounts accept an int, a Decimal or a numeric string; enums accept their values.
    """

    # an error says where and what, never the value given: it may be personal (a long
    # note, a mistyped address) and errors end up in logs and error trackers
    model_config: ClassVar[ConfigDict] = ConfigDict(
        extra="forbid", validate_assignment=True, hide_input_in_errors=True
    )

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # personal values never in a repr (logs, tracebacks, error trackers): ``<personal>``
        return withhold_personal(type(self), super().__repr_args__())

    def __setattr__(self, name: str, value: Any) -> None:
        # a frozen model's or field's error never quotes the value either (Pydantic's would)
        assign_hiding_input(self, name, value)

    def model_post_init(self, context: Any, /) -> None:
        """Compact the set of explicitly given fields.

        Pydantic grows that set one field at a time, which leaves a 32-slot table for five or
        more fields; a copy is sized to fit and saves about 250 bytes per model.
        """
        object.__setattr__(self, "__pydantic_fields_set__", set(self.__pydantic_fields_set__))


_SHARED_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class _Frozen(_Model):
    model_config: ClassVar[ConfigDict] = ConfigDict(frozen=True)

    def model_post_init(self, context: Any, /) -> None:
        """Share one set of explicitly given fields among frozen models that gave the same.

        A frozen model never changes its set (``model_copy`` copies it before updating), so
        sharing is safe, and it saves a set per candidate, interview and scorecard.
        """
        given = self.__pydantic_fields_set__
        key = frozenset(given)
        shared = _SHARED_FIELD_SETS.get(key)
        if shared is None:
            shared = _SHARED_FIELD_SETS.setdefault(key, set(given))
        object.__setattr__(self, "__pydantic_fields_set__", shared)

    @classmethod
    def from_validated(cls, **values: Any) -> Self:
        """Build from values that fields of the same types validated already; skip validation.

        For the engine's effects, which build a scorecard or an approval from the event's
        validated data, the actor and the clock's instant: validating them again would cost
        more than the rest of the event. Defaults fill the fields not given, as validation
        would; a missing required field or an unknown one raises ``TypeError``. Model
        validators do not run: build normally whenever a value was not validated as the
        field's type, or the model checks values against each other.
        """
        recipe = _RECIPES.get(cls) or _recipe(cls)
        fields = recipe.template.copy()
        fields.update(values)
        if len(fields) != len(recipe.template) or not recipe.required <= values.keys():
            raise TypeError(
                f"{cls.__name__}.from_validated needs {', '.join(sorted(recipe.required))} "
                f"and takes only its fields, not {', '.join(sorted(values))}"
            )
        for name, factory in recipe.factories:
            if name not in values:
                fields[name] = factory()
        key = frozenset(values)
        shared = _SHARED_FIELD_SETS.get(key)
        if shared is None:
            shared = _SHARED_FIELD_SETS.setdefault(key, set(key))
        return _unvalidated(cls, fields, shared)

    def replaced(self, **update: Any) -> Self:
        """A copy with ``update``'s fields replaced, unvalidated as ``model_copy(update=...)``.

        The same result as ``model_copy(update=update)`` in a third of its time, for the
        engine's effects that move a referee's status or settle an offer with values of the
        fields' types.
        """
        fields = self.__dict__.copy()
        fields.update(update)
        given = self.__pydantic_fields_set__
        if not given.issuperset(update):
            given = given.union(update)  # a set of its own, as model_copy's
        return _unvalidated(self.__class__, fields, given)


_M = TypeVar("_M", bound=BaseModel)


def _copied(model: _M, **update: Any) -> _M:
    """``model.model_copy(update=update)`` for values of the fields' types, without its machinery.

    A fifth of its time: the store copies the states it keeps, and the simulator its runs'
    templates. The copy has a set of given fields of its own (a mutable model's grows as the
    engine commits); a model holding extra or private values is copied by pydantic.
    """
    if model.__pydantic_extra__ is not None or model.__pydantic_private__ is not None:
        return model.model_copy(update=update)
    fields = model.__dict__.copy()
    fields.update(update)
    return _unvalidated(type(model), fields, model.__pydantic_fields_set__.union(update))


def _unvalidated(cls: type[_M], fields: dict[str, Any], given: set[str]) -> _M:
    """A ``cls`` holding ``fields`` as they are, ``given`` its set of fields given: no validation.

    What ``model_construct`` does without its per-field work: for values the caller knows are
    valid (the engine's records, ``from_validated``, ``replaced``).
    """
    model = _new(cls)
    _set_dict(model, fields)
    _set_fields_set(model, given)
    _set_extra(model, None)
    _set_private(model, None)
    return model


# BaseModel's own slots, set by their descriptors: object.__setattr__ checks and slices its
# arguments on every call, and costs twice as much (four calls a model, on every event)
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


@dataclass(frozen=True, slots=True)
class _Recipe:
    """What ``from_validated`` fills in: the defaults in field order, and what must be given."""

    template: dict[str, Any]
    required: frozenset[str]
    factories: tuple[tuple[str, Callable[[], Any]], ...]


_RECIPES: dict[type[BaseModel], _Recipe] = {}


def _recipe(cls: type[BaseModel]) -> _Recipe:
    template: dict[str, Any] = {}
    required, factories = [], []
    for name, info in cls.model_fields.items():
        template[name] = info.default  # PydanticUndefined for required and factory fields
        if info.default_factory is not None:
            factories.append((name, cast("Callable[[], Any]", info.default_factory)))
        elif info.is_required():
            required.append(name)
    recipe = _Recipe(template, frozenset(required), tuple(factories))
    return _RECIPES.setdefault(cls, recipe)


class CompanySize(StrEnum):
    """Company size bands; larger companies approve more slowly."""

    small = "small"  # under 100 people
    medium = "medium"  # 100 to 999
    large = "large"  # 1,000 to 9,999
    enterprise = "enterprise"  # 10,000 and more


class RequisitionStatus(StrEnum):
    """Where a requisition stands in its own lifecycle; only an ``open`` one takes offers.

    ``draft`` (being written) and ``pending_approval`` (its approval chain is deciding the
    position and its band) come before ``open``; the lifecycle's events are
    [`hirepipe.positions`][hirepipe.positions]'s. A requisition built without a status is open,
    as before the lifecycle existed.
    """

    draft = "draft"
    pending_approval = "pending_approval"
    open = "open"
    on_hold = "on_hold"
    filled = "filled"
    cancelled = "cancelled"


class Recommendation(StrEnum):
    """An interviewer's recommendation, from strong_no to strong_yes."""

    strong_no = "strong_no"
    no = "no"
    mixed = "mixed"
    yes = "yes"
    strong_yes = "strong_yes"

    @property
    def score(self) -> int:
        """The recommendation on a -2..2 scale (strong_no is -2, mixed is 0)."""
        return _SCORES[self]


_SCORES = {
    Recommendation.strong_no: -2,
    Recommendation.no: -1,
    Recommendation.mixed: 0,
    Recommendation.yes: 1,
    Recommendation.strong_yes: 2,
}


class ReferenceStatus(StrEnum):
    """Where a reference check stands."""

    requested = "requested"
    contacted = "contacted"
    completed = "completed"
    declined = "declined"
    unreachable = "unreachable"


class ReferenceOutcome(StrEnum):
    """What a completed reference said."""

    satisfactory = "satisfactory"
    unsatisfactory = "unsatisfactory"


class OfferStatus(StrEnum):
    """An offer version's state; only the latest version can be ``extended``."""

    extended = "extended"
    superseded = "superseded"
    accepted = "accepted"
    declined = "declined"
    expired = "expired"


class BackgroundResult(StrEnum):
    """What a background check's provider reported: the result codes providers commonly use."""

    clear = "clear"  # nothing to consider: on to the offer
    consider = "consider"  # something the company must assess before deciding
    failed = "failed"  # the report does not meet the position's stated criteria


class AdjudicationDecision(StrEnum):
    """The company's decision after an individualized assessment of a background report."""

    proceed = "proceed"  # go on to the offer
    adverse = "adverse"  # intend to withdraw: the pre-adverse action notice follows


class DisputeOutcome(StrEnum):
    """How a candidate's dispute of a background report was resolved."""

    cleared = "cleared"  # the report was wrong, or the company reconsidered: on to the offer
    stands = "stands"  # the report stands: the final adverse action notice may follow
    amended = "amended"  # an amended report still holds something adverse: a new notice


class Band(_Frozen):
    """A compensation band: ``minimum`` to ``maximum`` inclusive, in one currency."""

    minimum: Money
    maximum: Money
    currency: CurrencyCode

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        check_minor_units(self.minimum, self.currency, "minimum")
        check_minor_units(self.maximum, self.currency, "maximum")
        if self.minimum > self.maximum:
            raise PydanticCustomError(
                "band_order",
                "band minimum {minimum} is above its maximum {maximum}; swap them",
                {"minimum": str(self.minimum), "maximum": str(self.maximum)},
            )
        return self

    def contains(self, amount: Decimal, currency: str) -> bool:
        """Return whether ``amount`` in ``currency`` lies inside the band."""
        return currency == self.currency and self.minimum <= amount <= self.maximum

    def intersect(self, other: Band) -> Band | None:
        """Return the overlap of two bands in the same currency, or ``None``."""
        if other.currency != self.currency:
            return None
        low, high = max(self.minimum, other.minimum), min(self.maximum, other.maximum)
        if low > high:
            return None
        return Band(minimum=low, maximum=high, currency=self.currency)


def _erased_or_locale(value: object, handler: ValidatorFunctionWrapHandler) -> object:
    """ERASED, as an erased locale reads (as an erased e-mail address does), or a locale."""
    return value if value == ERASED else handler(value)


class Candidate(_Frozen):
    """A person being considered; ``consent_to_contact`` covers talent-pool updates.

    ``name``, ``email``, ``phone`` and ``locale`` are personal: erasure replaces them with
    [`ERASED`][hirepipe.models.ERASED] and keeps the ``id`` and ``consent_to_contact``.
    ``locale`` is how they read amounts and dates (``"de_DE"``: "1.234.567,50 €"); without one
    (or once erased), the requisition's locale, else English.
    """

    id: Identifier
    name: Annotated[Name, PERSONAL]
    email: Email
    phone: Annotated[Name, PERSONAL] | None = None
    consent_to_contact: StrictBool = False
    locale: Annotated[LocaleName, WrapValidator(_erased_or_locale), PERSONAL] | None = None


class OfferField(StrEnum):
    """An offer term an approval step can cover (``ApprovalStep.covers``)."""

    title = "title"  # type: ignore[assignment]  # the offer's title, not str.title
    level = "level"
    location = "location"
    start_date = "start_date"
    salary = "salary"
    bonus = "bonus"
    equity = "equity"


PAY_FIELDS: frozenset[OfferField] = frozenset(
    {OfferField.salary, OfferField.bonus, OfferField.equity}
)
"""The offer terms that are pay: what a step with ``covers_pay=True`` covers."""

_FIELD_ORDER = {field: index for index, field in enumerate(OfferField)}


class ApprovalStep(_Frozen):
    """One group of an approval chain: ``required`` of its ``approvers`` must grant it.

    Steps run in sequence: a step's approvers decide once every earlier step is granted.
    ``covers`` names the offer terms the step approves (default: the pay, ``salary``,
    ``bonus`` and ``equity``): a revised offer reopens only the steps covering what it changed.
    ``due_days`` is the business days the step may take (default: the policy's
    ``approval_days``).

    ``covers_pay`` is the older way to say it, still accepted on input: ``True`` is the pay
    terms, ``False`` none. It is never written out (``covers`` is), and reads as whether the
    step covers any pay term.
    """

    name: Identifier
    approvers: tuple[Identifier, ...] = Field(min_length=1)
    required: Annotated[int, Field(strict=True, ge=1)] | None = None
    covers: tuple[OfferField, ...] = tuple(sorted(PAY_FIELDS, key=_FIELD_ORDER.__getitem__))
    covers_pay: StrictBool | None = Field(default=None, exclude=True)
    due_days: Annotated[int, Field(strict=True, ge=1)] | None = None

    @model_validator(mode="after")
    def _covered_terms(self) -> Self:
        covers = frozenset(self.covers)
        if self.covers_pay is not None and "covers" in self.model_fields_set:
            if self.covers_pay != bool(covers & PAY_FIELDS):
                raise PydanticCustomError(
                    "covers_contradicts",
                    "step {name!r} says covers_pay={covers_pay} but covers {covers}; give "
                    "covers alone (covers_pay is the older form)",
                    {
                        "name": self.name,
                        "covers_pay": self.covers_pay,
                        "covers": ", ".join(covers) or "nothing",
                    },
                )
        elif self.covers_pay is not None:
            covers = PAY_FIELDS if self.covers_pay else frozenset()
        # one order whatever was given: equal steps dump equal JSON
        _set = object.__setattr__
        _set(self, "covers", tuple(sorted(covers, key=_FIELD_ORDER.__getitem__)))
        _set(self, "covers_pay", bool(covers & PAY_FIELDS))
        return self

    @model_validator(mode="after")
    def _enough_approvers(self) -> Self:
        twice = _repeated(self.approvers)
        if twice:
            # one person's grant would count once per listing
            raise PydanticCustomError(
                "approver_repeated",
                "step {name!r} lists {people} more than once; list each approver once",
                {"name": self.name, "people": ", ".join(twice)},
            )
        if self.required is not None and self.required > len(self.approvers):
            raise PydanticCustomError(
                "step_required",
                "step {name!r} requires {required} approvals but names {count} approvers",
                {"name": self.name, "required": self.required, "count": len(self.approvers)},
            )
        return self

    @property
    def needed(self) -> int:
        """How many grants the step needs (all approvers unless ``required`` says fewer)."""
        return self.required if self.required is not None else len(self.approvers)


def _repeated(people: Sequence[str]) -> list[str]:
    """The names listed more than once, each once, in order."""
    seen: set[str] = set()
    twice: dict[str, None] = {}
    for person in people:
        if person in seen:
            twice[person] = None
        seen.add(person)
    return list(twice)


class Substitution(_Frozen):
    """An approver replaced in one step (out of office); audited, the chain not restarted."""

    step: Identifier
    absent: Identifier
    substitute: Identifier
    reason: Reason
    at: Timestamp


_OPEN: Final = RequisitionStatus.open


class Requisition(_Model):
    """An approved opening: headcount, budget band and the people who decide.

    ``approvers`` are the people whose approval an offer needs: with no ``approval_chain``,
    the policy groups them into sequential steps by company size. ``recruiter`` (or else the
    hiring manager) owes the candidate their updates; ``time_zone`` and ``country`` are where
    business days are counted; ``locale`` is how its people, and candidates without a locale
    of their own, read amounts and dates (English when unset).
    """

    id: Identifier
    title: Name
    headcount: RoundNumber = 1
    filled: Count = 0
    budget: Band
    industry: Identifier = "all_employers"
    company_size: CompanySize = CompanySize.medium
    country: CountryCode = "US"
    """Where business days are counted: a country the ``holidays`` package knows."""
    subdivision: Annotated[str, StringConstraints(strict=True, max_length=10)] | None = None
    """A state or region whose holidays count too (``"CA"``, ``"BY"``), as ``holidays`` names it."""
    time_zone: TimeZoneName = "UTC"
    locale: LocaleName | None = None
    hiring_manager: Identifier
    recruiter: Identifier | None = None
    approvers: list[Identifier] = Field(default_factory=list)
    approval_chain: tuple[ApprovalStep, ...] = ()
    status: RequisitionStatus = RequisitionStatus.open
    approvals: tuple[Approval, ...] = ()
    """The approval chain's decisions on the position and its band (position approval)."""
    approved_band: Band | None = None
    """The band the position's approval fixed: offers inside it need no budget approval."""
    version: Count = 0
    """The number of records in ``history``: writers compare-and-set on it."""
    history: list[TransitionRecord] = Field(default_factory=list)
    """The requisition's own lifecycle records ([`hirepipe.positions`][hirepipe.positions])."""

    @model_validator(mode="after")
    def _history_counted(self) -> Self:
        if self.version != len(self.history):
            raise PydanticCustomError(
                "version_mismatch",
                "version {version} but the history has {count} records; the version counts "
                "the records",
                {"version": self.version, "count": len(self.history)},
            )
        return self

    @model_validator(mode="after")
    def _known_subdivision(self) -> Self:
        if self.subdivision is not None:
            check_subdivision(self.country, self.subdivision)
        return self

    @model_validator(mode="after")
    def _approvers_once(self) -> Self:
        twice = _repeated(self.approvers)
        if twice:
            raise PydanticCustomError(
                "approver_repeated",
                "approvers lists {people} more than once; list each approver once",
                {"people": ", ".join(twice)},
            )
        # one grant counts in every step that lists its approver, so two steps would be one
        twice = _repeated([person for step in self.approval_chain for person in step.approvers])
        if twice:
            raise PydanticCustomError(
                "approver_repeated",
                "approval_chain lists {people} in more than one step, where one grant would "
                "satisfy each; give each step its own approvers",
                {"people": ", ".join(twice)},
            )
        return self

    @property
    def open_headcount(self) -> int:
        """Headcount still to fill; zero unless the requisition is open."""
        # one read of the fields and the member a constant: on Python 3.11 each pydantic field
        # read and each member read from its enum class takes the slow path (about 3,000
        # instructions in all before; the simulator and the slate ask on every dispatch)
        fields = self.__dict__
        if fields["status"] is not _OPEN:
            return 0
        left: int = fields["headcount"] - fields["filled"]
        return max(left, 0)


class Interview(_Frozen):
    """One interview round: who interviews, when it is scheduled and when it was held."""

    round: RoundNumber
    interviewers: tuple[Identifier, ...]
    scheduled_at: Timestamp | None = None
    held_at: Timestamp | None = None


def _each_attribute_once(ratings: tuple[AttributeRating, ...]) -> tuple[AttributeRating, ...]:
    twice = _repeated([rating.attribute for rating in ratings])
    if twice:
        raise PydanticCustomError(
            "attribute_repeated",
            "the scorecard rates {attributes} more than once; rate each attribute once",
            {"attributes": ", ".join(twice)},
        )
    return ratings


class AttributeRating(_Frozen):
    """One attribute rated on a scorecard: its name, the rating, and what the interviewer saw.

    ``rating`` is a level of the policy's scale (a number such as ``3`` on a 1 to 4 scale, or a
    label such as ``"yes"``); the policy's
    [`ScorecardScheme`][hirepipe.policy.ScorecardScheme] says which attributes and levels exist,
    and the event's guard checks the rating against it. ``notes`` is free text, personal like
    every [`Text`][hirepipe.models.Text].
    """

    attribute: Identifier
    rating: StrictInt | Identifier
    notes: Text = ""


class Scorecard(_Frozen):
    """One interviewer's verdict on one round: the overall recommendation, and attribute ratings.

    ``ratings`` is empty for a plain scorecard (a recommendation and notes only); a structured
    one rates the attributes of the policy's scorecard scheme, each attribute once.
    """

    interviewer: Identifier
    round: RoundNumber
    recommendation: Recommendation
    notes: Text = ""
    submitted_at: Timestamp
    # checked only when given: a plain scorecard pays nothing for it
    ratings: Annotated[tuple[AttributeRating, ...], AfterValidator(_each_attribute_once)] = ()

    def rating_of(self, attribute: str) -> AttributeRating | None:
        """Return the rating of ``attribute`` on this scorecard, or None when it is not rated."""
        for rating in self.ratings:
            if rating.attribute == attribute:
                return rating
        return None


class Reference(_Frozen):
    """A referee and the state of the check; nobody is contacted without ``consent``.

    ``contact``, ``relationship`` and ``notes`` are personal (the referee's and the
    candidate's); erasure keeps the ``referee`` id, the status, the outcome and the times.
    """

    referee: Identifier
    contact: Contact
    relationship: Text = ""
    consent: StrictBool = False
    status: ReferenceStatus = ReferenceStatus.requested
    outcome: ReferenceOutcome | None = None
    contacted_at: Timestamp | None = None
    completed_at: Timestamp | None = None
    notes: Text = ""


class Approval(_Frozen):
    """One approver's decision on an offer; ``band`` narrows what they approve, if given."""

    approver: Identifier
    granted: StrictBool
    band: Band | None = None
    note: Text = ""
    decided_at: Timestamp


class SignatureState(StrEnum):
    """How far an offer version's document has gone through signing, in order."""

    unsent = "unsent"
    sent = "sent"
    viewed = "viewed"
    signed = "signed"
    countersigned = "countersigned"


class Signing(_Frozen):
    """The signature states of one offer version's document, each stamped when it happened.

    ``signed_by`` is the candidate who signed, ``countersigned_by`` the person who signed for
    the company; each is the person whose signature it is, also when someone (an e-signature
    provider's webhook, as the system) recorded it for them. A revision starts a new version
    with no signing of its own: a signature on version 1 never counts for version 2.
    """

    sent_at: Timestamp | None = None
    viewed_at: Timestamp | None = None
    signed_at: Timestamp | None = None
    signed_by: Identifier | None = None
    countersigned_at: Timestamp | None = None
    countersigned_by: Identifier | None = None

    @property
    def state(self) -> SignatureState:
        """The furthest state reached."""
        if self.countersigned_at is not None:
            return SignatureState.countersigned
        if self.signed_at is not None:
            return SignatureState.signed
        if self.viewed_at is not None:
            return SignatureState.viewed
        if self.sent_at is not None:
            return SignatureState.sent
        return SignatureState.unsent


_COUNTER_TERMS = ("salary", "bonus", "equity", "start_date")


class Counter(_Frozen):
    """What a candidate asked for in answer to one offer version (a counter-offer).

    Amounts are in ``currency``, the offer's. ``competing_deadline`` is when the
    candidate's competing offer lapses, if they named one; ``note`` is their own words.
    Every term is optional: a counter with only a note is still a counter.
    """

    currency: CurrencyCode
    salary: OptionalMoney = NO_AMOUNT
    bonus: OptionalMoney = NO_AMOUNT
    equity: OptionalMoney = NO_AMOUNT
    start_date: date | None = None
    competing_deadline: Timestamp | None = None
    note: Text = ""
    countered_at: Timestamp

    @model_validator(mode="after")
    def _amounts_in_minor_units(self) -> Self:
        for name in ("salary", "bonus", "equity"):
            amount = getattr(self, name)
            if amount is not None:
                check_minor_units(amount, self.currency, name)
        return self

    @property
    def terms(self) -> dict[str, Any]:
        """The terms asked for (salary, bonus, equity, start date), those given only."""
        values = self.__dict__
        return {name: values[name] for name in _COUNTER_TERMS if values[name] is not None}

    def unmet(self, offer: Offer) -> tuple[str, ...]:
        """Return the terms ``offer`` does not meet, in the order salary, bonus, equity, start.

        An amount is met by the same or more; a start date by that very date.
        """
        missed = []
        for name, asked in self.terms.items():
            given = getattr(offer, name)
            if name == "start_date":
                if given != asked:
                    missed.append(name)
            elif given is None or given < asked:
                missed.append(name)
        return tuple(missed)


class Offer(_Frozen):
    """One version of an offer. A counter-offer makes a new version and supersedes this one.

    ``bonus`` and ``equity`` are amounts in ``currency`` (equity as the grant's value), when
    the offer has them; ``level`` and ``location`` are optional terms (absent in offers made
    before they existed). ``counter`` is what the candidate asked for in answer to this
    version; ``signing`` where its document stands in signing (with offer signatures on).
    """

    version: RoundNumber = 1
    title: Name
    salary: Money
    currency: CurrencyCode
    bonus: OptionalMoney = NO_AMOUNT
    equity: OptionalMoney = NO_AMOUNT
    benefits: list[Name] = Field(default_factory=list)
    start_date: date
    valid_until: Timestamp
    extended_at: Timestamp
    status: OfferStatus = OfferStatus.extended
    level: Name | None = None
    location: Name | None = None
    counter: Counter | None = None
    signing: Signing | None = None

    @classmethod
    def from_validated(cls, **values: Any) -> Self:
        """Build from values fields of the same types validated already, checking the amounts.

        As every frozen model's ``from_validated``, and the model's own check runs: an amount
        finer than the currency's minor units, or a term missing, raises the
        ``ValidationError`` validating the values raises (they are validated then).
        """
        try:
            offer = super().from_validated(**values)
            offer._check_amounts()
        except (PydanticCustomError, TypeError):
            return cls(**values)  # refused as validation refuses
        return offer

    @model_validator(mode="after")
    def _salary_in_minor_units(self) -> Self:
        self._check_amounts()
        return self

    def _check_amounts(self) -> None:
        """Refuse an amount finer than the currency's minor units (a PydanticCustomError)."""
        values = self.__dict__  # one read: each of a pydantic model's attributes is a slow one
        currency = values["currency"]
        check_minor_units(values["salary"], currency, "salary")
        for name in ("bonus", "equity"):
            amount = values[name]
            if amount is not None:
                check_minor_units(amount, currency, name)

    @property
    def signature(self) -> SignatureState:
        """How far this version's document has gone through signing."""
        return SignatureState.unsent if self.signing is None else self.signing.state


class Rejection(_Frozen):
    """Why the company (or the candidate) said no, and the feedback offered.

    ``reason`` is a name from the policy's rejection taxonomy, which says whether it is a
    company-side or a candidate-side reason. Either ``feedback`` is given or
    ``feedback_on_request`` is true. ``feedback_requested_at`` is when the candidate asked
    for feedback, ``feedback_sent_at`` when it was sent after the rejection (its text is then
    ``feedback``): the standard policy's ``request_feedback`` and ``send_feedback``.
    """

    reason: Identifier
    feedback: Text | None = None
    feedback_on_request: StrictBool = False
    rejected_at: Timestamp
    feedback_requested_at: Timestamp | None = None
    feedback_sent_at: Timestamp | None = None


class BackgroundCheck(_Frozen):
    """A background check (a U.S. consumer report) and each step of the adverse-action rules.

    The steps in order, each stamped when it happened: the standalone disclosure given
    (``disclosed_at``), the candidate's written authorization (``authorized_at``), the check
    ordered from the consumer reporting agency (``provider``, ``provider_contact``,
    ``ordered_at``), its result (``result``, ``report``, ``reported_at``), the individualized
    assessment (``decision``, ``assessment``, ``assessed_at``), the pre-adverse action notice
    (``pre_adverse_at``; the final adverse action may not come before ``waiting_until``), a
    dispute (``disputed_at``, ``dispute``, ``dispute_outcome``, ``resolved_at``) and the final
    adverse action notice (``final_notice_at``). The rules and their sources:
    ``docs/background-checks.md``. ``assessment`` and ``dispute`` are free text, personal;
    erasure keeps the result codes and the times, as it keeps a reference's outcome.
    """

    disclosed_at: Timestamp | None = None
    authorized_at: Timestamp | None = None
    provider: Name | None = None
    provider_contact: Reason | None = None
    ordered_at: Timestamp | None = None
    result: BackgroundResult | None = None
    report: Identifier | None = None
    reported_at: Timestamp | None = None
    decision: AdjudicationDecision | None = None
    assessment: Text = ""
    assessed_at: Timestamp | None = None
    pre_adverse_at: Timestamp | None = None
    waiting_until: Timestamp | None = None
    disputed_at: Timestamp | None = None
    dispute: Text = ""
    dispute_outcome: DisputeOutcome | None = None
    resolved_at: Timestamp | None = None
    final_notice_at: Timestamp | None = None


class TransitionRecord(_Frozen):
    """One entry of an application's history: a transition, or an activity.

    An activity (a note, a scorecard, an approval) changes no stage, so ``from_stage`` equals
    ``to_stage``. ``data`` is the validated event data as JSON; ``version`` is the
    application's version after this record; ``policy`` names the policy and its version.
    """

    event: Identifier
    kind: Literal["transition", "activity"] = "transition"
    from_stage: Identifier
    to_stage: Identifier
    actor: Identifier
    at: Timestamp
    reason: Reason | None = None
    data: Annotated[dict[str, JsonValue], BY_EVENT] = Field(default_factory=dict)
    version: RoundNumber
    policy: Identifier

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # which data the event had, not its values: any of them may be personal (its event's
        # data model says which, and a record does not know its policy)
        for name, value in super().__repr_args__():
            yield name, (dict.fromkeys(value, WITHHELD) if name == "data" and value else value)

    @model_validator(mode="after")
    def _activity_stays(self) -> Self:
        if self.kind == "activity" and self.from_stage != self.to_stage:
            raise PydanticCustomError(
                "activity_moved",
                "record {version} ({event}) is an activity from '{from_stage}' to '{to_stage}'; "
                "an activity changes no stage",
                {
                    "version": self.version,
                    "event": self.event,
                    "from_stage": self.from_stage,
                    "to_stage": self.to_stage,
                },
            )
        return self

    @classmethod
    def trusted(
        cls,
        event: str,
        kind: Literal["transition", "activity"],
        from_stage: str,
        to_stage: str,
        actor: str,
        at: pendulum.DateTime,
        reason: str | None,
        data: dict[str, JsonValue],
        version: int,
        policy: str,
    ) -> TransitionRecord:
        """Build a record from values the engine already validated, skipping validation.

        The engine writes one record per event; validating values it produced itself would
        double the cost of ``fire``. Everything else should construct records normally. (The
        engine passes the values by position: binding ten keywords is a fifth of the call.)
        """
        fields = {
            "event": event,
            "kind": kind,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "actor": actor,
            "at": at,
            "reason": reason,
            "data": data,
            "version": version,
            "policy": policy,
        }
        # _unvalidated's steps written out (one call less, on every event); the set of given
        # fields shared: records are frozen
        record = _new(cls)
        _set_dict(record, fields)
        _set_fields_set(record, _RECORD_FIELDS)
        _set_extra(record, None)
        _set_private(record, None)
        return record


_RECORD_FIELDS: set[str] = set(TransitionRecord.model_fields)


class Application(_Model):
    """One candidate's application to one requisition, and everything that happened to it.

    ``stage`` is a stage name of the policy; ``version`` equals ``len(history)`` and rises by
    one with every record (writers compare-and-set on it). The collections other than
    ``history`` are tuples: the engine replaces them whole, which keeps every change atomic.
    Build new applications with
    [`hirepipe.Pipeline.new_application`][hirepipe.pipeline.Pipeline.new_application], which
    sets the initial stage and the round 1 interview.

    The state cannot contradict itself: the records are numbered 1 to ``version`` in order, each
    leaves the stage the one before led to (the first leaves the stage the application was
    created in), and the last leads to ``stage``. With no records, ``stage`` is the stage it was
    created in. Anything else is refused, on construction and on assignment alike. ``erased_at``
    is when the candidate's personal data was erased ([`hirepipe.privacy`][hirepipe.privacy]);
    an erased application takes no more events. ``background_check`` is the state of a
    background check ([`BackgroundCheck`][hirepipe.models.BackgroundCheck]), under a policy
    that has one (``standard_policy(background_check=True)``).
    """

    id: Identifier
    candidate: Candidate
    requisition_id: Identifier
    stage: Identifier
    round: RoundNumber = 1
    version: Count = 0
    created_at: Timestamp
    interviews: tuple[Interview, ...] = ()
    scorecards: tuple[Scorecard, ...] = ()
    references: tuple[Reference, ...] = ()
    reference_notice_at: Timestamp | None = None
    approvals: tuple[Approval, ...] = ()
    substitutions: tuple[Substitution, ...] = ()
    proposed_salary: OptionalMoney = NO_AMOUNT
    approved_band: Band | None = None
    offers: tuple[Offer, ...] = ()
    rejection: Rejection | None = None
    held_from: Identifier | None = None
    warm_until: Timestamp | None = None
    background_check: BackgroundCheck | None = None
    erased_at: Timestamp | None = None
    history: list[TransitionRecord] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        history = self.history
        if self.version != len(history):
            raise PydanticCustomError(
                "version_mismatch",
                "version {version} but the history has {count} records; the version counts "
                "the records",
                {"version": self.version, "count": len(history)},
            )
        previous: TransitionRecord | None = None
        for number, record in enumerate(history, 1):
            if record.version != number:
                raise PydanticCustomError(
                    "history_order",
                    "record {number} says version {version}; records are numbered 1 to n in order",
                    {"number": number, "version": record.version},
                )
            if previous is not None and record.from_stage != previous.to_stage:
                raise PydanticCustomError(
                    "history_gap",
                    "record {number} leaves stage '{from_stage}' but record {before} led to "
                    "'{to_stage}'",
                    {
                        "number": number,
                        "from_stage": record.from_stage,
                        "before": number - 1,
                        "to_stage": previous.to_stage,
                    },
                )
            previous = record
        if previous is not None and previous.to_stage != self.stage:
            raise PydanticCustomError(
                "stage_mismatch",
                "stage '{stage}' but its last record led to '{to_stage}'",
                {"stage": self.stage, "to_stage": previous.to_stage},
            )
        return self

    def __setattr__(self, name: str, value: Any) -> None:
        """Assign with validation; a refused assignment leaves the application as it was.

        Pydantic replaces the whole field dict before the consistency check runs, so the
        dict from before is put back when the check refuses.
        """
        fields, given = self.__dict__, set(self.__pydantic_fields_set__)
        try:
            super().__setattr__(name, value)
        except ValidationError:
            object.__setattr__(self, "__dict__", fields)
            object.__setattr__(self, "__pydantic_fields_set__", given)
            raise

    def interview(self, round: int | None = None) -> Interview | None:
        """Return the interview of ``round`` (default: the current round), if scheduled."""
        wanted = self.round if round is None else round
        for interview in reversed(self.interviews):
            if interview.round == wanted:
                return interview
        return None

    def scorecards_for(self, round: int | None = None) -> list[Scorecard]:
        """Return the latest scorecard of each interviewer for ``round`` (default: current)."""
        wanted = self.round if round is None else round
        latest: dict[str, Scorecard] = {}
        for card in self.scorecards:
            if card.round == wanted:
                latest[card.interviewer] = card
        return list(latest.values())

    @property
    def offer(self) -> Offer | None:
        """The latest offer version, if any."""
        return self.offers[-1] if self.offers else None

    def stages_visited(self) -> Sequence[str]:
        """Return the stages the application passed through, oldest first, without repeats."""
        seen: list[str] = []
        for record in self.history:
            if record.from_stage not in seen:
                seen.append(record.from_stage)
        if self.stage not in seen:
            seen.append(self.stage)
        return seen


Requisition.model_rebuild()  # its approvals and history are defined after it
