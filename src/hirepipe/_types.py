"""The field types every model shares: aware instants, identifiers, amounts, places.

Re-exported by :mod:`hirepipe.models`, which is where to import them from.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import cache, lru_cache
from typing import Annotated

import pendulum
from pydantic import (
    AfterValidator,
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
    "Count",
    "CountryCode",
    "CurrencyCode",
    "Identifier",
    "Money",
    "Name",
    "RoundNumber",
    "Text",
    "TimeZoneName",
    "Timestamp",
    "as_instant",
    "check_minor_units",
    "check_subdivision",
    "minor_units",
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
Money = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=4, allow_inf_nan=False)]
"""A non-negative amount (an int, a Decimal or a numeric string), at most four decimals.

Four is the most any currency has (CLF, UYW); a model holding an amount with its currency
checks it against that currency's own minor units (:func:`check_minor_units`).
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
