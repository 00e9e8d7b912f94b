"""Tests of the shared field types' helpers (``hirepipe._types``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import pendulum
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict

from hirepipe import EventData
from hirepipe._types import (
    ERASED,
    PERSONAL,
    Items,
    Leaf,
    Nested,
    Values,
    _iso,
    personal_fields,
    personal_specs,
)
from hirepipe.privacy import map_personal

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])


@given(st.datetimes(timezones=st.just(dt.UTC)), ZONES)
def test_a_timestamp_is_written_as_its_own_isoformat(moment, zone):
    """Remembered or not, each object gets its own ``isoformat``: never an equal one's."""
    here = pendulum.instance(moment).in_timezone(zone)
    there = pendulum.instance(moment).in_timezone("Pacific/Auckland")  # the same instant
    for _ in range(2):  # written, then remembered
        assert (here.isoformat(), there.isoformat()) == (_iso(here), _iso(there))


# -- the one walk of where personal values are (reprs and erasure alike) -----------------------

Secret = Annotated[str, PERSONAL]


class Guest(BaseModel):
    model_config = ConfigDict(frozen=True)

    badge: str
    name: Secret


class Host(BaseModel):
    badge: str
    phone: Secret


def erase(model: type[BaseModel], document: dict[str, Any]) -> dict[str, Any]:
    return map_personal(document, model, lambda _: ERASED, data_models=lambda _: None)


def test_a_union_of_a_model_and_a_list_of_it_is_told_apart_by_its_json():
    """``Guest | list[Guest]``: a guest's name erased either way, its badge kept."""

    class Visit(BaseModel):
        guests: Guest | list[Guest]

    one = {"guests": {"badge": "b-1", "name": "Ada"}}
    several = {"guests": [{"badge": "b-1", "name": "Ada"}]}
    assert {"guests": {"badge": "b-1", "name": ERASED}} == erase(Visit, one)
    assert {"guests": [{"badge": "b-1", "name": ERASED}]} == erase(Visit, several)


def test_a_union_of_two_models_erases_the_personal_fields_of_either():
    """``Guest | Host``: before, only the first model's personal fields were erased."""

    class Visit(BaseModel):
        who: Guest | Host

    assert {"who": {"badge": "b-1", "phone": ERASED}} == erase(
        Visit, {"who": {"badge": "b-1", "phone": "+1 555 0100"}}
    )
    assert {"who": {"badge": "b-1", "name": ERASED}} == erase(
        Visit, {"who": {"badge": "b-1", "name": "Ada"}}
    )


def test_the_walk_says_what_each_field_holds():
    """The holders, as the walk reads them: the specs both reprs and erasure use."""

    class Visit(BaseModel):
        names: Sequence[Secret]
        tags: Mapping[str, frozenset[Secret]]
        guests: dict[str, Guest] | None
        plain: Mapping[str, list[int]]

    assert {
        "names": Items(Leaf()),
        "tags": Values(Items(Leaf())),
        "guests": Values(Nested((Guest,))),
    } == dict(personal_specs(Visit))
    assert {"names", "tags"} == personal_fields(Visit)  # guests show, each withholding


def test_a_set_or_a_dict_of_plain_models_withholds_in_a_repr():
    """A host's plain model in a set or a dict's values reads withheld, as in a list."""

    class Visit(EventData):
        guests: frozenset[Guest]
        by_badge: dict[str, Guest]

    guest = Guest(badge="b-1", name="Ada")
    shown = repr(Visit(guests=frozenset({guest}), by_badge={"b-1": guest}))
    assert (
        "Visit(guests=frozenset({Guest(badge='b-1', name=<personal>)}), "
        "by_badge={'b-1': Guest(badge='b-1', name=<personal>)})"
    ) == shown
