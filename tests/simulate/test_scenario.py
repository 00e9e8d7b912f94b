"""Scenarios: every number has documented bounds, checked when the scenario is built."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from hirepipe.simulate import Scenario

INF, NAN = float("inf"), float("nan")


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"extra_days": {"approval": INF}}, "extra_days.approval"),
        ({"extra_days": {"approval": 261}}, "extra_days.approval"),
        ({"stage_days": {"review": INF}}, "stage_days.review"),
        ({"stage_days": {"review": NAN}}, "stage_days.review"),
        ({"stage_days": {"review": 1e300}}, "stage_days.review"),
        ({"absence_days": INF}, "absence_days"),
        ({"absence_days": 261}, "absence_days"),
        ({"recommendations": {"yes": INF}}, "recommendations.yes"),
        ({"headcount": 501, "candidates": 500}, "headcount"),
        ({"start": date(1, 1, 1)}, "start"),
        ({"start": date(9999, 1, 1)}, "start"),
        ({"country": "ZZ"}, "country"),
    ],
    ids=[
        "extra-infinite", "extra-past-a-year", "stage-infinite", "stage-nan", "stage-huge",
        "absence-infinite", "absence-past-a-year", "weight-infinite", "headcount",
        "start-year-1", "start-year-9999", "country",
    ],
)  # fmt: skip
def test_out_of_bounds_refused_by_name(fields, where):
    """Infinite, huge or impossible values are refused when the scenario is built."""
    with pytest.raises(ValidationError) as caught:
        Scenario(**fields)
    assert [where] == [".".join(map(str, e["loc"])) for e in caught.value.errors()]


def test_the_bounds_themselves_are_accepted():
    """The largest documented values make a valid scenario."""
    scenario = Scenario(
        extra_days={"approval": 260},
        stage_days={"review": 260},
        absence_days=260,
        start=date(2150, 12, 31),
        candidates=500,
        headcount=500,
    )
    assert (260, 500) == (scenario.extra_days["approval"], scenario.headcount)
    assert date(1950, 1, 1) == Scenario(start=date(1950, 1, 1)).start
