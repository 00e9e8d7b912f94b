"""The event reference table: built from the policy, blocker codes read from the guards."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Annotated, Literal

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from pydantic import Field

from hirepipe import Blocker, HirepipeError, Pipeline, Recommendation, standard_policy
from hirepipe import errors as error_module
from hirepipe.cli._events import (
    ENGINE_BLOCKERS,
    blocker_codes,
    event_table,
    to_json,
    to_markdown,
    type_name,
)
from hirepipe.policy import EventData, EventSpec, GuardSpec
from hirepipe.standard._approvals import pay_inside_band
from hirepipe.testing import FakeClock, advance, event_sequences, make_candidate, make_requisition

STANDARD = standard_policy()
DOCUMENTED = {
    row.name: {code for guard in row.guards for code in guard.codes} | set(ENGINE_BLOCKERS)
    for row in event_table(STANDARD)
}


def literal_code(ctx):
    yield Blocker("plain", "a literal code")


def keyword_code(ctx):
    yield Blocker(code="by_keyword", message="a keyword code")


def qualified_code(ctx):
    yield error_module.Blocker("qualified", "through the module")


def computed_code(ctx):
    yield Blocker(f"computed_{ctx.event}", "built at run time")


def helper():
    return Blocker("from_helper", "a helper's code")


def calls_a_helper(ctx):
    yield helper()
    yield Blocker("own", "its own code")


def recursive(ctx, depth=0):
    if depth < 2:
        yield from recursive(ctx, depth + 1)
    yield Blocker("deep", "found once")


class TestBlockerCodes:
    @pytest.mark.parametrize(
        ("guard", "expected"),
        [
            (literal_code, ("plain",)),
            (keyword_code, ("by_keyword",)),
            (qualified_code, ("qualified",)),
            (computed_code, ()),
            (calls_a_helper, ("from_helper", "own")),
            (recursive, ("deep",)),
            (len, ()),
            (lambda ctx: iter(()), ()),
        ],
        ids=[
            "literal", "keyword", "qualified", "computed", "helper", "recursive", "builtin",
            "lambda",
        ],
    )  # fmt: skip
    def test_codes_read_from_the_source(self, guard, expected):
        """Literal codes are found, through helpers, in source order; others are left out."""
        assert expected == blocker_codes(guard)

    def test_helpers_of_the_standard_guards(self):
        """pay_inside_band's codes include those its helper functions build."""
        codes = blocker_codes(pay_inside_band)
        assert {"salary_missing", "band_unknown", "approval_bands_disjoint"} <= set(codes)
        assert {"band_outside_budget", "pay_outside_band"} <= set(codes)

    @settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(event_sequences(STANDARD, max_size=12))
    def test_every_blocker_the_engine_gives_is_documented(self, events):
        """Along any walk, every blocker of every standard event has a code the table lists."""
        clock = FakeClock(pendulum.datetime(2025, 1, 6, 9, tz="America/New_York"))
        pipeline = Pipeline(STANDARD, clock=clock)
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition, interviewers=["a"])
        for event in [*events, None]:
            for name in STANDARD.events:
                for actor, passed in (("maria", requisition), ("cand-1", requisition), ("x", None)):
                    found = pipeline.blockers(application, name, requisition=passed, actor=actor)
                    assert {b.code for b in found} <= DOCUMENTED[name], (name, actor)
            if event is None:
                break
            try:
                advance(pipeline, application, requisition, [event])
            except HirepipeError:
                break


class Kind(EventData):
    """A test model with every kind of field."""

    required: Recommendation
    amount: Annotated[Decimal, Field(ge=0)] | None = None
    choice: Literal["a", "b"] = "a"
    items: list[str] = Field(default_factory=list)
    when: dt.date | None = None


class TestTable:
    def test_types_as_a_caller_writes_them(self):
        """Field types read as Python: unions, lists, literals and enums with their values."""
        fields = Kind.model_fields
        assert [
            "Recommendation (strong_no | no | mixed | yes | strong_yes)",
            "Decimal | None",
            "'a' | 'b'",
            "list[str]",
            "date | None",
        ] == [type_name(fields[name].annotation) for name in fields]

    def test_a_row_holds_data_guards_and_notifications(self):
        """A row lists the data fields with defaults, the guards and the rules it triggers."""
        policy = STANDARD.with_event(
            EventSpec(
                "grade",
                ("debrief",),
                None,
                (GuardSpec.of(literal_code, description="graded"),),
                description="grade",
            )
        )
        rows = {row.name: row for row in event_table(policy)}
        assert ("any stage", "(no stage change)") == (
            rows["note"].source_text,
            rows["note"].dest_text,
        )
        assert ("on_hold", "the stage it left") == (
            rows["resume"].source_text,
            rows["resume"].dest_text,
        )
        assert [("literal_code", "graded", ("plain",))] == [
            (g.name, g.description, g.codes) for g in rows["grade"].guards
        ]
        recommendation = rows["submit_scorecard"].data[0]
        assert ("recommendation", True, "required") == (
            recommendation.name,
            recommendation.required,
            recommendation.default,
        )
        assert "`recommendation` | Recommendation" in to_markdown(list(rows.values()))
        assert ["status_update"] == [n.name for n in rows["complete_debrief"].notifications]
        assert (("candidate",), ("hiring_manager", "recruiter")) == (
            rows["accept"].fired_by,
            rows["accept"].on_behalf,
        )
        assert "candidate (for them: hiring manager, recruiter)" == rows["accept"].fired_by_text

    def test_markdown_has_a_section_per_event(self):
        """The Markdown has a summary row and a section, with an anchor, for every event."""
        text = to_markdown(event_table(STANDARD))
        for name in STANDARD.events:
            assert f"\n## {name}\n" in text
            assert f"| [`{name}`](#{name}) |" in text
        assert "| `salary` | Decimal \\| None | `None` |" in text

    def test_json_round_trips(self):
        """The JSON is plain data: every event's name, guards and codes."""
        rows = event_table(STANDARD)
        document = json.loads(to_json(rows))
        assert [row.name for row in rows] == [event["name"] for event in document]
        assert ["scorecards_missing"] == document[1]["guards"][0]["codes"]
