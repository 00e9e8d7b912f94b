"""Tests of the shared field types' helpers (``hirepipe._types``)."""

from __future__ import annotations

import datetime as dt

import pendulum
from hypothesis import given
from hypothesis import strategies as st

from hirepipe._types import _iso

ZONES = st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata"])


@given(st.datetimes(timezones=st.just(dt.UTC)), ZONES)
def test_a_timestamp_is_written_as_its_own_isoformat(moment, zone):
    """Remembered or not, each object gets its own ``isoformat``: never an equal one's."""
    here = pendulum.instance(moment).in_timezone(zone)
    there = pendulum.instance(moment).in_timezone("Pacific/Auckland")  # the same instant
    for _ in range(2):  # written, then remembered
        assert (here.isoformat(), there.isoformat()) == (_iso(here), _iso(there))
