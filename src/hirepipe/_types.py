"""The field types every model shares: aware instants, identifiers, amounts.

Re-exported by :mod:`hirepipe.models`, which is where to import them from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated

import pendulum
from pydantic import (
    AfterValidator,
    Field,
    GetPydanticSchema,
    PlainSerializer,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError, core_schema

from hirepipe.errors import CalendarError

__all__ = [
    "Count",
    "CurrencyCode",
    "Identifier",
    "Money",
    "Name",
    "RoundNumber",
    "Text",
    "TimeZoneName",
    "Timestamp",
    "as_instant",
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
    zone = _FIXED_ZONES.get(offset)
    if zone is None:
        zone = _FIXED_ZONES.setdefault(offset, pendulum.FixedTimezone(int(offset.total_seconds())))
    if value.tzinfo is zone and isinstance(value, pendulum.DateTime):
        return value
    # datetime.replace (not pendulum's) keeps the class and is three times faster
    result = datetime.replace(value, tzinfo=zone, fold=0)
    if not isinstance(result, pendulum.DateTime):
        result = pendulum.instance(result)
    globals()["_LAST_INSTANT"] = (value, result)
    return result


_LAST_INSTANT: tuple[object, pendulum.DateTime] = (object(), pendulum.DateTime(2000, 1, 1))


def _iso(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    pendulum.DateTime,
    GetPydanticSchema(
        lambda _source, _handler: core_schema.no_info_after_validator_function(
            _aware, core_schema.datetime_schema(strict=True)
        )
    ),
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A time-zone-aware instant, held as a :class:`pendulum.DateTime`.

In Python, pass a ``datetime`` (pendulum's or the standard library's) with a time zone; in JSON,
an ISO 8601 string with an offset.
"""


def _time_zone(value: str) -> str:
    try:
        pendulum.timezone(value)
    except Exception as exc:  # pendulum raises its own NotFound, a KeyError subclass
        raise PydanticCustomError(
            "unknown_time_zone",
            "unknown time zone '{value}'; use an IANA name such as 'Europe/Berlin'",
            {"value": value},
        ) from exc
    return value


Identifier = Annotated[
    str, StringConstraints(strict=True, min_length=1, max_length=200, strip_whitespace=True)
]
"""A non-empty identifier: candidate, requisition, application, person."""

TimeZoneName = Annotated[str, AfterValidator(_time_zone)]
Text = Annotated[str, StringConstraints(strict=True, max_length=20_000)]
Name = Annotated[str, StringConstraints(strict=True, min_length=1, max_length=200)]
CurrencyCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{3}$")]
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2, allow_inf_nan=False)]
"""A non-negative amount with at most two decimal places (an int, a Decimal or a numeric string)."""
Count = Annotated[int, Field(strict=True, ge=0)]
RoundNumber = Annotated[int, Field(strict=True, ge=1)]
