r"""The field types every model shares: aware instants, identifiers, text, amounts, places.

Re-exported by [`hirepipe.models`][hirepipe.models], which is where to import them from. The
character rules live here, once, for the models and the policy checks alike:

```python
identifier_problem("maria")          # None: a valid identifier
identifier_problem("ma\x00ria")      # "a control or invisible character (U+0000); ..."
```

Identifiers (ids, actors, stage and event names) are printable text (``str.isprintable``: no
control, format or surrogate characters, no space but the ASCII one), 1 to 200 characters,
spaces at either end stripped. Names and reasons are one line: no control characters, no line
breaks. Free text ([`Text`][hirepipe.models.Text]) may hold line breaks and tabs, and no other
control character. The same values are then accepted by SQLite and PostgreSQL alike (PostgreSQL
refuses NUL).

Fields marked [`PERSONAL`][hirepipe.models.PERSONAL] hold a person's data:
[`hirepipe.privacy`][hirepipe.privacy] erases them.
"""

from __future__ import annotations

import collections
import collections.abc
import dataclasses
import re
import types
import typing
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    Final,
    Generic,
    Self,
    TypeAlias,
    TypeVar,
    Union,
    cast,
    overload,
)

import pendulum
from pydantic import (
    AfterValidator,
    BaseModel,
    Field,
    GetPydanticSchema,
    PlainSerializer,
    Strict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

from hirepipe.errors import CalendarError

__all__ = [
    "ERASED",
    "HOLDERS",
    "IDENTIFIER_LENGTH",
    "LARGEST_COUNT",
    "NO_AMOUNT",
    "PERSONAL",
    "Contact",
    "Count",
    "CountryCode",
    "CurrencyCode",
    "Email",
    "Identifier",
    "LocaleName",
    "Money",
    "Name",
    "OptionalMoney",
    "Personal",
    "Reason",
    "RoundNumber",
    "Text",
    "TimeZoneName",
    "Timestamp",
    "as_instant",
    "check_minor_units",
    "check_subdivision",
    "identifier_problem",
    "minor_units",
    "personal_fields",
    "whole_number_problem",
    "withheld_repr",
    "withhold_personal",
]


def _aware(value: datetime) -> pendulum.DateTime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError(
            "naive_datetime",
            "naive datetime {value} has no time zone; pass an aware one, "
            "e.g. pendulum.datetime(2025, 1, 6, 9, tz='America/New_York')",
            {"value": value.isoformat()},
        )
    return as_instant(value)


_FIXED_ZONES: dict[timedelta, pendulum.FixedTimezone] = {}
_FIRST_YEAR, _LAST_YEAR = 2, 9998
"""The years an instant may fall in: a day inside the calendar's ends, so that showing it in
any time zone (a notice in the candidate's, a deadline in the requisition's) stays a date."""


def as_instant(value: datetime) -> pendulum.DateTime:
    """Return an aware ``value`` as a pendulum DateTime at its fixed UTC offset.

    Timestamps are held at the offset they had, not in a named zone: a zone name does not
    survive JSON, and an ambiguous wall-clock time (the repeated hour when clocks go back)
    would not compare equal to itself after a round trip. Business days are counted in the
    requisition's own zone whatever the offset.
    """
    last = _LAST_INSTANT
    if last[0] is value:  # a clock that stands still hands back the same object
        return last[1]
    offset = value.utcoffset()
    if offset is None:
        raise CalendarError(
            f"naive datetime {value.isoformat()} has no time zone; "
            "a clock or caller must give time-zone-aware datetimes"
        )
    if not _FIRST_YEAR <= value.year <= _LAST_YEAR:
        raise CalendarError(
            f"{value.isoformat()}: hirepipe takes instants in the years {_FIRST_YEAR} to "
            f"{_LAST_YEAR} (nearer the calendar's ends, another time zone would leave it)"
        )
    zone = _FIXED_ZONES.get(offset)
    if zone is None:
        zone = _FIXED_ZONES.setdefault(offset, pendulum.FixedTimezone(int(offset.total_seconds())))
    if value.tzinfo is zone and isinstance(value, pendulum.DateTime):
        # an instant already; kept too, so that a clock standing still is answered at once
        globals()["_LAST_INSTANT"] = (value, value)
        return value
    if isinstance(value, pendulum.DateTime):
        # datetime.replace (not pendulum's) keeps the class and is three times faster
        result = datetime.replace(value, tzinfo=zone, fold=0)
    else:
        # the same fields on a pendulum DateTime: what pendulum.instance gives, in a fifth of
        # its time (it re-reads the zone); offers' validity dates are computed this way
        result = datetime.replace(
            _PENDULUM_EPOCH,
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
            tzinfo=zone,
            fold=0,
        )
    globals()["_LAST_INSTANT"] = (value, result)
    return result


_PENDULUM_EPOCH = pendulum.DateTime(2000, 1, 1)
_LAST_INSTANT: tuple[object, pendulum.DateTime] = (object(), _PENDULUM_EPOCH)


def _iso(value: datetime) -> str:
    """``value.isoformat()``, remembered for the datetime object it was written for.

    Writing an aware datetime calls its zone's ``utcoffset`` (pendulum's, in Python): about
    7,500 instructions, and a stored fire writes the same few objects again and again (an
    application's creation time and interview times in every snapshot, the new record's
    time twice). Remembered by identity, so nothing but that very object (immutable) can
    get its text; the entry holds the object, so its id is not reused while remembered.
    """
    found = _ISO_TEXTS.get(id(value))
    if found is not None and found[0] is value:
        return found[1]
    text = value.isoformat()
    if len(_ISO_TEXTS) >= _ISO_TEXTS_KEPT:
        _ISO_TEXTS.clear()  # the few in use come back at once; no order to keep
    _ISO_TEXTS[id(value)] = (value, text)
    return text


_ISO_TEXTS: dict[int, tuple[datetime, str]] = {}
_ISO_TEXTS_KEPT = 1024


_TIMESTAMP_SCHEMA = core_schema.no_info_after_validator_function(
    _aware,
    core_schema.json_or_python_schema(
        json_schema=core_schema.datetime_schema(strict=True),
        # a plain dict from JSON (json.loads, a web framework) holds ISO strings: read them as
        # JSON mode does, and still refuse numbers, booleans and everything else
        python_schema=core_schema.union_schema(
            [
                core_schema.datetime_schema(strict=True),
                core_schema.chain_schema(
                    [core_schema.str_schema(strict=True), core_schema.datetime_schema()]
                ),
            ],
            custom_error_type="timestamp_type",
            custom_error_message=(
                "Input should be a time-zone-aware datetime or an ISO 8601 string with an "
                "offset, e.g. '2025-01-06T09:00:00-05:00'"
            ),
        ),
    ),
)

Timestamp = Annotated[
    pendulum.DateTime,
    GetPydanticSchema(lambda _source, _handler: _TIMESTAMP_SCHEMA),
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A time-zone-aware instant, held as a ``pendulum.DateTime``.

Pass a ``datetime`` (pendulum's or the standard library's) with a time zone, or an ISO 8601
string with an offset (as JSON, or the plain data ``json.loads`` gives, holds it).
"""


def _time_zone(value: str) -> str:
    if not _known_time_zone(value):
        raise PydanticCustomError(
            "unknown_time_zone",
            "unknown time zone '{value}'; use an IANA name such as 'Europe/Berlin'",
            {"value": value},
        )
    return value


@lru_cache(maxsize=1024)
def _known_time_zone(value: str) -> bool:
    """Whether ``value`` names a time zone: read from its file once, not on every validation."""
    try:
        pendulum.timezone(value)
    except Exception:  # pendulum raises its own NotFound, a KeyError subclass
        return False
    return True


IDENTIFIER_LENGTH = 200
"""The longest identifier (and the width of the store's identifier columns)."""


def identifier_problem(value: str) -> str | None:
    """Return what makes ``value`` no identifier, or None when it is one.

    The one rule for ids, actors, and a policy's stage and event names: 1 to 200 printable
    characters (``str.isprintable``: no control, format or surrogate character, and no
    space but the ASCII one), with no space at either end.
    """
    if not value:
        return "empty; an identifier has at least one character"
    if len(value) > IDENTIFIER_LENGTH:
        return f"{len(value)} characters; an identifier has at most {IDENTIFIER_LENGTH}"
    if not value.isprintable():
        bad = next(character for character in value if not character.isprintable())
        return (
            f"a control or invisible character (U+{ord(bad):04X}); an identifier is printable text"
        )
    if value[0] == " " or value[-1] == " ":
        return "spaces at either end; remove them"
    return None


LARGEST_COUNT = 2**63 - 1
"""The largest whole number SQLite's and PostgreSQL's ``bigint`` hold: a limit or a batch size."""


def whole_number_problem(value: object, least: int, most: int = LARGEST_COUNT) -> str | None:
    """Return what makes ``value`` no whole number from ``least`` to ``most``, or None.

    ``True`` and ``1.5`` are no whole numbers (one was taken as 1, the other as a float the
    database rounds); one past ``most`` overflowed in the driver (an ``OverflowError`` on
    SQLite, ``bigint out of range`` on PostgreSQL), after the caller had been told nothing.
    """
    if isinstance(value, bool) or not isinstance(value, int):
        return f"a whole number from {least} to {most}, not {type(value).__name__} {value!r}"
    if not least <= value <= most:
        # a number too long to print (str refuses beyond 4,300 digits) is said by its sign
        shown = str(value) if value.bit_length() <= 256 else "one of hundreds of digits"
        return f"a whole number from {least} to {most}, not {shown}"
    return None


def _identifier(value: str) -> str:
    # surrounding spaces are stripped, as before; any other problem is refused
    if value[:1] == " " or value[-1:] == " ":
        value = value.strip(" ")
    problem = identifier_problem(value)
    if problem is not None:
        raise PydanticCustomError(
            "identifier", "not an identifier: {problem}", {"problem": problem}
        )
    return value


# Cc (C0, DEL, C1), the Unicode line and paragraph separators, and lone surrogates (which no
# database can store): refused in one-line text
_NOT_IN_A_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
# multi-line text keeps tabs and line breaks
_NOT_IN_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def _line(value: str) -> str:
    found = _NOT_IN_A_LINE.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "a control character or line break (U+{code}) at position {position}; "
            "this is one line of text",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        )
    return value


def _text(value: str) -> str:
    found = _NOT_IN_TEXT.search(value)
    if found is not None:
        raise PydanticCustomError(
            "control_character",
            "a control character (U+{code}) at position {position}; text may hold line "
            "breaks and tabs, and no other control character",
            {"code": f"{ord(found.group()):04X}", "position": found.start()},
        )
    return value


@dataclass(frozen=True, slots=True)
class Personal:
    """Marks a field (``Annotated[str, PERSONAL]``) as a person's data, erased on request.

    Erasure ([`hirepipe.Pipeline.erase`][hirepipe.pipeline.Pipeline.erase]) replaces every
    non-empty personal value with [`ERASED`][hirepipe.models.ERASED] and keeps every other
    field: the lifecycle facts stay for reporting. Mark the fields of your own event data models
    the same way (free text is [`Text`][hirepipe.models.Text], which is marked already).
    """


PERSONAL = Personal()
"""The marker of personal fields; see [`Personal`][hirepipe.models.Personal]."""

ERASED = "[erased]"
"""What an erased personal value reads as (an e-mail address included)."""


class _Withheld:
    """What a personal value reads as in a repr: logs and error trackers keep reprs."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<personal>"


WITHHELD: Final = _Withheld()


def withheld_repr(instance: Any, personal: frozenset[str]) -> str:
    """A dataclass's repr with its ``personal`` fields' non-empty values read ``<personal>``."""
    parts = []
    for item in dataclasses.fields(instance):
        if item.repr:
            value = getattr(instance, item.name)
            shown = WITHHELD if item.name in personal and not _empty(value) else value
            parts.append(f"{item.name}={shown!r}")
    return f"{type(instance).__qualname__}({', '.join(parts)})"


@dataclass(frozen=True, slots=True)
class ByEvent:
    """Marks a history record's ``data``: its personal fields are its event's data model's."""


BY_EVENT: Final = ByEvent()
"""The marker of a record's event data; see ``ByEvent``."""


# -- where personal values are: the one walk of annotations, for reprs and erasure alike --------


@dataclass(frozen=True, slots=True)
class Leaf:
    """A personal value: every string in it, at any depth, is personal."""


@dataclass(frozen=True, slots=True)
class Nested:
    """A model (one of ``models``, for a union of them) whose own fields say what is personal."""

    models: tuple[type[BaseModel], ...]


@dataclass(frozen=True, slots=True)
class Items:
    """A list, tuple, set or sequence (a JSON array): each item as ``item`` says."""

    item: Spec


@dataclass(frozen=True, slots=True)
class Values:
    """A dict or mapping (a JSON object): each value as ``value`` says; the keys are kept."""

    value: Spec


@dataclass(frozen=True, slots=True)
class Either:
    """A union of a collection and a model or mapping: told apart by the JSON value's kind."""

    array: Spec
    mapping: Spec


@dataclass(frozen=True, slots=True)
class RecordData:
    """A history record's ``data``: personal fields by the record's event's data model."""


Spec: TypeAlias = "Leaf | Nested | Items | Values | Either | RecordData"
LEAF: Final = Leaf()
RECORD_DATA: Final = RecordData()

_ARRAYS: Final = (
    list,
    tuple,
    set,
    frozenset,
    collections.deque,
    collections.abc.Sequence,
    collections.abc.MutableSequence,
    collections.abc.Set,  # typing.AbstractSet too
    collections.abc.MutableSet,
)
_MAPPINGS: Final = (
    dict,
    collections.OrderedDict,
    collections.defaultdict,
    collections.abc.Mapping,
    collections.abc.MutableMapping,
)
_UNIONS: Final = (Union, types.UnionType)

HOLDERS: Final = (*_UNIONS, *_ARRAYS, *_MAPPINGS)
"""What an annotation may wrap a personal value (or a model with personal fields) in: a
repr withholds, and erasure (``hirepipe.privacy``) erases, what these hold, by one walk
(``personal_specs``). A personal value inside any other generic is refused by a policy."""


@dataclass(frozen=True, slots=True)
class _ModelSpec:
    """What the walk found in a model: its fields' specs, and what it cannot erase."""

    fields: typing.Mapping[str, Spec]
    withheld: frozenset[str]
    problems: tuple[str, ...]


# by class, weakly: a model class made on the fly (a policy's data model) is not kept for good
_MODEL_SPECS: weakref.WeakKeyDictionary[type[BaseModel], _ModelSpec] = weakref.WeakKeyDictionary()


def _model_spec(model: type[BaseModel], walking: tuple[type[BaseModel], ...] = ()) -> _ModelSpec:
    found = _MODEL_SPECS.get(model)
    if found is not None:
        return found
    fields: dict[str, Spec] = {}
    problems: list[str] = []
    for name, field in model.model_fields.items():
        if any(isinstance(item, Personal) for item in field.metadata):
            spec: Spec | None = LEAF
        elif any(isinstance(item, ByEvent) for item in field.metadata):
            spec = RECORD_DATA
        else:
            spec, said = _walk(field.annotation, (*walking, model))
            problems += [f"{model.__name__}.{name}: {problem}" for problem in said]
        if spec is not None:
            fields[name] = spec
    found = _ModelSpec(
        types.MappingProxyType(fields),
        frozenset(name for name, spec in fields.items() if _withheld(spec)),
        tuple(dict.fromkeys(problems)),
    )
    if not walking:  # a model met again inside itself is remembered once its walk ends
        _MODEL_SPECS[model] = found
    return found


def _withheld(spec: Spec) -> bool:
    """Whether a repr withholds a field of ``spec``: it holds a personal value of its own.

    A field holding only models (with personal fields) shows them: each withholds its own.
    """
    if isinstance(spec, Items):
        return _withheld(spec.item)
    if isinstance(spec, Values):
        return _withheld(spec.value)
    if isinstance(spec, Either):
        return _withheld(spec.array) or _withheld(spec.mapping)
    return isinstance(spec, Leaf)


def _walk(annotation: Any, walking: tuple[type[BaseModel], ...]) -> tuple[Spec | None, list[str]]:
    """What ``annotation`` holds (None: nothing personal), and what about it cannot be erased."""
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        inner, *metadata = typing.get_args(annotation)
        if any(isinstance(item, Personal) for item in metadata):
            return LEAF, []
        return _walk(inner, walking)
    args = [arg for arg in typing.get_args(annotation) if arg is not Ellipsis]
    if origin in _UNIONS:
        found = [_walk(arg, walking) for arg in args]
        spec, problem = union_of([spec for spec, _ in found if spec is not None])
        problems = [said for _, many in found for said in many]
        return spec, problems + ([problem] if problem else [])
    if origin in _ARRAYS:
        found = [_walk(arg, walking) for arg in args]
        item, problem = union_of([spec for spec, _ in found if spec is not None])
        problems = [said for _, many in found for said in many]
        return (Items(item) if item is not None else None), problems + (
            [problem] if problem else []
        )
    if origin in _MAPPINGS and len(args) == 2:
        key, said_of_key = _walk(args[0], walking)
        value, problems = _walk(args[1], walking)
        if key is not None:
            # erasure replaces values, and a token cannot be a key: every key would collide
            return LEAF, [
                f"{_shown(annotation)} has personal keys, which an erasure would keep (it "
                "replaces values, and erased keys would collide); key it by an id and hold the "
                "personal value in the value"
            ]
        return (Values(value) if value is not None else None), problems + said_of_key
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in walking:  # a model holding itself: its own walk says the rest
            return Nested((annotation,)), []
        model = _model_spec(annotation, walking)
        return (Nested((annotation,)) if model.fields else None), list(model.problems)
    if args and any(_walk(arg, walking)[0] is not None for arg in args):
        # a generic hirepipe does not know (a class of the host's, an iterable): it cannot
        # tell where in its JSON the personal values are
        return LEAF, [
            f"{_shown(annotation)} holds a personal value in {_shown(origin)}, which hirepipe "
            "cannot walk (an erasure would keep it); use a list, tuple, set, sequence, dict or "
            "mapping, a Pydantic model, or mark the whole field PERSONAL"
        ]
    return None, []


def _shown(annotation: Any) -> str:
    """An annotation as its source reads: ``list[str]``, ``Box``."""
    if isinstance(annotation, type) and typing.get_origin(annotation) is None:
        return annotation.__qualname__
    return repr(annotation).replace("typing.", "").replace("collections.abc.", "")


def union_of(specs: list[Spec]) -> tuple[Spec | None, str | None]:
    """One spec for a value that may be any of ``specs``, and what makes it ambiguous.

    A personal value among them makes the whole one (a string or a model alike: every string
    is erased). Otherwise a collection and a model or mapping are told apart by their JSON;
    two models read as one with the fields of both; a model and a mapping (both JSON objects)
    cannot be told apart, and are erased whole.
    """
    if not specs:
        return None, None
    if any(isinstance(spec, Leaf) for spec in specs):
        return LEAF, None
    if len(specs) == 1:
        return specs[0], None
    arrays: list[Spec] = []
    mappings: list[Spec] = []
    for spec in specs:
        if isinstance(spec, Either):
            arrays.append(spec.array)
            mappings.append(spec.mapping)
        else:
            (arrays if isinstance(spec, Items) else mappings).append(spec)
    array: Spec | None = None
    if arrays:
        item, problem = union_of([spec.item for spec in arrays if isinstance(spec, Items)])
        if problem is not None:
            return LEAF, problem
        array = Items(item) if item is not None else None
    mapping, problem = _union_of_mappings(mappings)
    if problem is not None:
        return LEAF, problem
    if array is None or mapping is None:
        return array if array is not None else mapping, None
    return Either(array, mapping), None


def _union_of_mappings(specs: list[Spec]) -> tuple[Spec | None, str | None]:
    if not specs:
        return None, None
    if all(isinstance(spec, Nested) for spec in specs):
        models = tuple(
            dict.fromkeys(
                model for spec in specs if isinstance(spec, Nested) for model in spec.models
            )
        )
        return Nested(models), None
    if all(isinstance(spec, Values) for spec in specs):
        value, problem = union_of([spec.value for spec in specs if isinstance(spec, Values)])
        return (Values(value) if value is not None else None), problem
    if len(set(specs)) == 1:
        return specs[0], None
    return LEAF, (
        "a union of a model and a mapping that hold personal values: both are JSON objects, "
        "so an erasure cannot tell which a value is; use one of them, or mark the whole field "
        "PERSONAL"
    )


def personal_specs(model: type[BaseModel]) -> typing.Mapping[str, Spec]:
    """What each of ``model``'s fields that hold personal data holds: the one walk.

    Reprs withhold by it (``personal_fields``) and erasure erases by it
    (``hirepipe.privacy.map_personal``), so a holder one knows the other does.
    """
    return _model_spec(model).fields


def personal_problems(model: type[BaseModel]) -> tuple[str, ...]:
    """What in ``model`` (or a model it holds) holds a personal value erasure cannot reach.

    A policy refuses a data model with any: a personal value inside a generic hirepipe does
    not know, a personal dict key, a union it cannot tell apart. Meanwhile such a value is
    withheld from reprs and erased whole (every string in it).
    """
    return _model_spec(model).problems


def personal_fields(model: type[BaseModel]) -> frozenset[str]:
    """The names of ``model``'s own fields that hold personal values (not nested models')."""
    return _model_spec(model).withheld


def withhold_personal(
    model: type[BaseModel], args: Iterable[tuple[str | None, Any]]
) -> Iterator[tuple[str | None, Any]]:
    """A model's ``__repr_args__`` with each non-empty personal value read as ``<personal>``.

    A repr ends up in logs, tracebacks and error trackers, which no erasure reaches; ids,
    stages, events and times stay, to say which object it is. Nested models hide their own.
    """
    hidden = personal_fields(model)
    for name, value in args:
        yield name, (WITHHELD if name in hidden and not _empty(value) else _nested(value))


def _empty(value: object) -> bool:
    """Whether a personal value is None or an empty string or collection, shown as it is.

    Asked of the value's type, not its truth: a notification's lazy facts, asked their length,
    were built (its estimate run) by a repr, which raised when building failed.
    """
    return value is None or (type(value) in _SIZED and not value)


_SIZED: Final = (str, list, tuple, dict, set, frozenset)


class _Plain:
    """A plain Pydantic model in a withholding one, its personal fields withheld too.

    A policy's own data model may hold one; privacy erases its personal fields.
    """

    __slots__ = ("model",)

    def __init__(self, model: BaseModel) -> None:
        self.model = model

    def __repr__(self) -> str:
        args = withhold_personal(type(self.model), self.model.__repr_args__())
        shown = ", ".join(f"{name}={value!r}" if name else repr(value) for name, value in args)
        return f"{type(self.model).__name__}({shown})"  # as Pydantic names it


# a field's most frequent values (asked first, before a model class's isinstance), and the
# holders ``_nested`` rebuilds
_PLAIN_VALUES: Final = frozenset({str, int, bool, float, type(None)})
_COLLECTIONS: Final = (list, tuple, set, frozenset, collections.deque)


def _nested(value: Any) -> Any:
    """``value``, with a plain model in it (or in a collection or mapping of them) withholding.

    Whatever holder the walk knows may hold a model (``HOLDERS``): a list, tuple, set or
    dict's values, at any depth. Each is rebuilt only when a model is in it.
    """
    kind = type(value)
    if kind in _PLAIN_VALUES:  # most fields: asked first, without a model class's isinstance
        return value
    if kind is dict:
        if any(_holds_a_model(item) for item in value.values()):
            return {key: _nested(item) for key, item in value.items()}
    elif kind in _COLLECTIONS:
        if any(_holds_a_model(item) for item in value):
            shown = [_nested(item) for item in value]
            # a set of shown models would hash them: listed as a set reads, in braces
            return _Shown(kind, shown) if kind in (set, frozenset) else kind(shown)
    elif isinstance(value, BaseModel):
        # hirepipe's models withhold by themselves; a plain one would show everything
        plain = kind.__repr_args__ is BaseModel.__repr_args__
        return _Plain(value) if plain else value
    return value


def _holds_a_model(value: Any) -> bool:
    kind = type(value)
    if kind in _PLAIN_VALUES:
        return False
    if kind is dict:
        return any(_holds_a_model(item) for item in value.values())
    if kind in _COLLECTIONS:
        return any(_holds_a_model(item) for item in value)
    return isinstance(value, BaseModel)


class _Shown:
    """A set or frozenset of models in a repr, each withholding: as the set's repr reads."""

    __slots__ = ("items", "kind")

    def __init__(self, kind: type, items: list[Any]) -> None:
        self.kind, self.items = kind, items

    def __repr__(self) -> str:
        inner = "{" + ", ".join(repr(item) for item in self.items) + "}"
        return inner if self.kind is set else f"{self.kind.__name__}({inner})"


def _locale(value: str) -> str:
    from babel import Locale, UnknownLocaleError  # only when a locale is given

    try:
        return str(Locale.parse(value, sep="-" if "-" in value else "_"))
    except (UnknownLocaleError, ValueError, TypeError) as exc:
        raise PydanticCustomError(
            "unknown_locale",
            "unknown locale '{value}'; use a CLDR locale such as 'de', 'de_DE' or 'pt-BR'",
            {"value": value},
        ) from exc


Identifier = Annotated[
    str,
    StringConstraints(strict=True),
    AfterValidator(_identifier),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": IDENTIFIER_LENGTH}),
]
"""An identifier: candidate, requisition, application, person, stage, event.

1 to 200 printable characters (see [`identifier_problem`][hirepipe.models.identifier_problem]);
surrounding spaces are stripped.
"""

TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
LocaleName = Annotated[str, StringConstraints(strict=True, max_length=50), AfterValidator(_locale)]
"""A CLDR locale (``"de"``, ``"de_DE"``, ``"pt-BR"``), kept in Babel's form (``"pt_BR"``)."""
Text = Annotated[
    str, StringConstraints(strict=True, max_length=20_000), AfterValidator(_text), PERSONAL
]
"""Free text (notes, feedback): line breaks and tabs allowed, no other control character.

Personal: what someone wrote about a candidate is erased with the candidate's data.
"""
Reason = Annotated[str, StringConstraints(strict=True, max_length=2_000), AfterValidator(_line)]
"""Why something happened, on one line (a hold, a reopening, a substitution); kept on erasure."""
Name = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200), AfterValidator(_line)
]
"""A name or title on one line: no control character, no line break."""
Email = Annotated[
    str,
    StringConstraints(
        strict=True,
        max_length=320,
        pattern=r"^(?:[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+\.[^@\s\x00-\x1f\x7f]+|\[erased\])$",
    ),
    AfterValidator(_line),
    PERSONAL,
]
"""An e-mail address (``local@domain.tld``), or ``ERASED`` once erased. Personal."""
Contact = Annotated[
    str,
    StringConstraints(strict=True, min_length=1, max_length=320),
    AfterValidator(_line),
    PERSONAL,
]
"""How to reach someone (an e-mail address, a phone number), on one line. Personal."""


@cache
def _minor_units() -> dict[str, int]:
    # imported on first use: the table is parsed from ISO's XML (about 30 ms)
    import iso4217

    return {c.code: c.exponent for c in iso4217.Currency if c.exponent is not None}


def minor_units(currency: str) -> int:
    """Return the ISO 4217 minor units of ``currency``: 2 for USD, 0 for JPY, 3 for KWD.

    Raises ``KeyError`` for a code that is not a currency with minor units in ISO 4217.
    """
    return _minor_units()[currency]


def _currency(code: str) -> str:
    if code not in _minor_units():
        raise PydanticCustomError(
            "currency_code",
            "'{code}' is not an ISO 4217 code of a currency (with minor units); use one such "
            "as 'USD', 'EUR' or 'JPY'",
            {"code": code},
        )
    return code


def check_minor_units(amount: Decimal, currency: str, field: str) -> None:
    """Refuse ``amount`` if it is finer than ``currency``'s minor units (JPY 100.50).

    Trailing zeros are no precision: JPY ``100.00`` is 100 yen. Raises a Pydantic custom
    error, so model validators turn it into a ValidationError naming ``field``.
    """
    units = minor_units(currency)
    if amount.scaleb(units) % 1:
        raise PydanticCustomError(
            "minor_units",
            "{currency} has {units} decimal places (its ISO 4217 minor units), so {field} "
            "{amount} is not an amount of it; round it to {units} places",
            {"currency": currency, "units": units, "field": field, "amount": str(amount)},
        )


CurrencyCode = Annotated[
    str,
    Strict(),
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{3}$"}),
]
"""An ISO 4217 currency code with minor units (``"USD"``, ``"JPY"``, ``"KWD"``).

Codes ISO lists without minor units (``"XXX"`` no currency, ``"XTS"`` testing, ``"XAU"`` gold)
are refused: a salary is paid in none of them. The table is the ``iso4217`` package's.
"""
if TYPE_CHECKING:
    _Read = TypeVar("_Read")
    _Write = TypeVar("_Write")

    class MoneyField(Generic[_Read, _Write]):
        """How type checkers see a money field: set from ``_Write``, read as ``_Read``.

        Pydantic converts an int or a numeric string to a Decimal; a checker without
        Pydantic's plugin (pyright, mypy) would otherwise expect a Decimal in the model's
        constructor, and ``Band(minimum=120_000, ...)`` would be an error for it. The same
        descriptor form as SQLAlchemy's ``Mapped``; at run time the field is a Decimal.
        """

        @overload
        def __get__(self, instance: None, owner: type[Any]) -> Self: ...
        @overload
        def __get__(self, instance: object, owner: type[Any]) -> _Read: ...
        def __get__(self, instance: object | None, owner: type[Any]) -> _Read | Self: ...
        def __set__(self, instance: object, value: _Write) -> None: ...

    Money: TypeAlias = MoneyField[Decimal, Decimal | int | str]
    OptionalMoney: TypeAlias = MoneyField[Decimal | None, Decimal | int | str | None]
else:
    Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4, allow_inf_nan=False)]
    OptionalMoney = Money | None
"""A non-negative amount, at most four decimals: a model field's type.

Set from an int, a Decimal or a numeric string, read as a Decimal. Four is the most any
currency has (CLF, UYW); a model holding an amount with its currency checks it against that
currency's own minor units (``check_minor_units``). ``OptionalMoney`` is the same or
``None`` (write it so, not ``Money | None``, which type checkers would not read as a field
type), with ``NO_AMOUNT`` as its default. For a function's parameter, annotate
``Decimal | int | str``.
"""

NO_AMOUNT = cast("OptionalMoney", None)
"""``None``, as the default of an ``OptionalMoney`` field: ``salary: OptionalMoney = NO_AMOUNT``.

A type checker would refuse a bare ``None`` as the default of a field it reads as a descriptor.
"""


@cache
def _places() -> dict[str, list[str]]:
    # imported on first use: only a requisition's place needs the holiday data
    import holidays

    return dict(holidays.list_supported_countries())


def _country(code: str) -> str:
    if code not in _places():
        raise PydanticCustomError(
            "unknown_country",
            "unknown country '{code}': use a code the holiday data knows, e.g. 'US', 'GB', "
            "'DE' (holidays.list_supported_countries() lists them)",
            {"code": code},
        )
    return code


@lru_cache(maxsize=256)
def _subdivision_known(country: str, subdivision: str) -> bool:
    import holidays

    try:  # the calendar's own test: holidays accepts codes and their aliases ('Bayern')
        holidays.country_holidays(country, subdiv=subdivision, years=())
    except (NotImplementedError, TypeError, ValueError, AttributeError, KeyError):
        return False
    return True


def check_subdivision(country: str, subdivision: str) -> None:
    """Refuse a subdivision the holiday data does not know for ``country``, listing its own."""
    if not _subdivision_known(country, subdivision):
        valid = ", ".join(_places().get(country, ())) or "none"
        raise PydanticCustomError(
            "unknown_subdivision",
            "unknown subdivision '{subdivision}' of '{country}'; valid subdivisions: {valid}",
            {"subdivision": subdivision, "country": country, "valid": valid},
        )


CountryCode = Annotated[
    str,
    Strict(),
    AfterValidator(_country),
    WithJsonSchema({"type": "string", "pattern": "^[A-Z]{2}$"}),
]
"""A country whose public holidays the ``holidays`` package knows (``"US"``, ``"DE"``)."""
Count = Annotated[int, Field(strict=True, ge=0)]
RoundNumber = Annotated[int, Field(strict=True, ge=1)]
