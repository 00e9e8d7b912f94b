"""The errors' payloads: blockers and the errors that carry them, read-only and serialisable."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from hirepipe import Blocker, GuardRejected, PositionError

BLOCKERS = [
    Blocker("scorecards_missing", "2 of 4 scorecards missing", {"missing": ["alice", "bob"]}),
    Blocker("reason_missing", "give a reason", needs_input=True),  # the default, empty data
]
REFUSED = GuardRejected(application_id="app-1", stage="review", event="advance", blockers=BLOCKERS)
POSITION_REFUSED = PositionError(
    requisition_id="req-1",
    status="draft",
    event="open",
    blockers=BLOCKERS[:1],
    allowed=["submit"],
)
AS_JSON = [
    {
        "code": "scorecards_missing",
        "message": "2 of 4 scorecards missing",
        "data": {"missing": ["alice", "bob"]},
        "needs_input": False,
    },
    {"code": "reason_missing", "message": "give a reason", "data": {}, "needs_input": True},
]


class Refusal(BaseModel):
    """A response model with a refusal and its blockers, as a web service would answer."""

    error: GuardRejected
    blockers: list[Blocker]


class TestBlockerData:
    @pytest.mark.parametrize(
        "change",
        [
            lambda data: data.__setitem__("x", 1),
            lambda data: data.update(x=1),
            lambda data: data.pop("missing"),
            lambda data: data.clear(),
            lambda data: data.setdefault("x", 1),
        ],
        ids=["set", "update", "pop", "clear", "setdefault"],
    )
    def test_data_is_read_only(self, change):
        """Every way to change a blocker's data raises, and the blocker stays as it was."""
        for blocker in (*BLOCKERS, TypeAdapter(Blocker).validate_python(AS_JSON[0])):
            before = blocker.to_dict()
            with pytest.raises(TypeError, match="read-only"):
                change(blocker.data)
            assert before == blocker.to_dict()

    def test_data_cannot_be_filled_again(self):
        """Calling the data's ``__init__`` again changes nothing, not even the shared empty data."""
        blocker = Blocker("wrong_stage", "not from here", {"stage": "review"})
        empty = Blocker("reason_missing", "give a reason")
        for data in (blocker.data, empty.data):
            data.__init__({"stage": "offer"}, x=1)  # type: ignore[misc]
        assert {"stage": "review"} == blocker.data
        assert {} == empty.data
        assert {} == Blocker("other", "another").data

    def test_data_is_a_copy_of_what_was_given(self):
        """Changing the dict a blocker was built from does not change the blocker."""
        given: dict[str, Any] = {"stage": "review"}
        blocker = Blocker("wrong_stage", "not from here", given)
        given["stage"] = "offer"
        assert {"stage": "review"} == blocker.data

    def test_copies_and_pickles_are_equal_and_read_only(self):
        """copy, deepcopy, pickle and dataclasses.asdict all work, as on a plain dataclass."""
        for blocker in BLOCKERS:
            for again in (
                copy.copy(blocker),
                copy.deepcopy(blocker),
                pickle.loads(pickle.dumps(blocker)),
            ):
                assert blocker == again
                with pytest.raises(TypeError):
                    again.data["x"] = 1  # type: ignore[index]
        assert AS_JSON == [dataclasses.asdict(b) for b in BLOCKERS]


class TestPydantic:
    def test_a_blocker_dumps_as_json_data(self):
        """TypeAdapter(Blocker) dumps the data as an object, the default empty one included."""
        adapter = TypeAdapter(list[Blocker])
        assert AS_JSON == adapter.dump_python(BLOCKERS, mode="json")
        assert AS_JSON == json.loads(adapter.dump_json(BLOCKERS))
        assert BLOCKERS == adapter.validate_json(adapter.dump_json(BLOCKERS))

    def test_a_blocker_is_a_field_of_a_model(self):
        """A response model with blockers dumps them; its JSON schema describes them."""

        class Answer(BaseModel):
            blockers: list[Blocker]

        assert {"blockers": AS_JSON} == Answer(blockers=BLOCKERS).model_dump(mode="json")
        schema = Answer.model_json_schema(mode="serialization")
        assert {"code", "message", "data", "needs_input"} == set(
            schema["$defs"]["Blocker"]["properties"]
        )

    @pytest.mark.parametrize(
        ("error", "facts"),
        [
            (
                REFUSED,
                {"application_id": "app-1", "stage": "review", "event": "advance"},
            ),
            (
                POSITION_REFUSED,
                {
                    "requisition_id": "req-1",
                    "status": "draft",
                    "event": "open",
                    "allowed": ["submit"],
                },
            ),
        ],
        ids=["guard_rejected", "position_error"],
    )
    def test_an_error_dumps_its_message_and_facts_and_reads_back(self, error, facts):
        """GuardRejected and PositionError dump as their message, facts and blockers."""
        adapter: TypeAdapter[Any] = TypeAdapter(type(error))
        dumped = adapter.dump_python(error, mode="json")
        assert {"message": str(error), **facts, "blockers": AS_JSON[: len(error.blockers)]} == (
            dumped
        )
        again = adapter.validate_json(json.dumps(dumped))
        assert (str(error), error.blockers) == (str(again), again.blockers)
        assert adapter.validate_python(error) is error


def test_fastapi_answers_with_blockers_and_refusals():
    """A FastAPI route returns blockers and a refusal as they are, no to_dict() needed."""
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    app = fastapi.FastAPI()

    @app.get("/blockers")
    def blockers() -> list[Blocker]:
        return BLOCKERS

    @app.get("/refusal")
    def refusal() -> Refusal:
        return Refusal(error=REFUSED, blockers=list(REFUSED.blockers))

    client = TestClient(app)
    assert AS_JSON == client.get("/blockers").json()
    body = client.get("/refusal").json()
    assert (AS_JSON, AS_JSON, str(REFUSED)) == (
        body["blockers"],
        body["error"]["blockers"],
        body["error"]["message"],
    )
    assert "Blocker" in json.dumps(client.get("/openapi.json").json()["components"])
