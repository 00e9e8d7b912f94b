"""The errors' payloads: blockers and the errors that carry them, read-only and serialisable."""

from __future__ import annotations

import copy
import dataclasses
import json
import pickle
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from pydantic import BaseModel, TypeAdapter

from hirepipe import Blocker, GuardRejected, PositionError, errors

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


def _refused_in_a_worker() -> None:
    """Fire an event the guards refuse, in whatever process runs this."""
    from hirepipe import Band, Candidate, Pipeline, Requisition, standard_policy

    pipeline = Pipeline(standard_policy())
    requisition = Requisition(
        id="req-9",
        title="Engineer",
        budget=Band(minimum=100_000, maximum=120_000, currency="USD"),
        hiring_manager="maria",
        approvers=["cfo"],
    )
    candidate = Candidate(id="cand-9", name="Ada", email="ada@example.com")
    application = pipeline.new_application(candidate, requisition, interviewers=["alice"])
    pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    pipeline.fire(application, "complete_debrief", actor="maria", requisition=requisition)


def _every_error() -> list[errors.HirepipeError]:
    """One instance of every error class hirepipe exports, each with all its facts set."""
    blocker = BLOCKERS[0]
    return [
        errors.AlreadyStored("application", "app-1"),
        errors.CalendarError("no business day in range"),
        errors.ClaimLost("note-1"),
        errors.ConcurrentRequisitionUpdate(
            application_id="app-1",
            requisition_id="req-1",
            stage="review",
            event="advance",
            expected=1,
            actual=2,
        ),
        errors.ConcurrentUpdate(
            application_id="app-1", stage="review", event="advance", expected=1, actual=2
        ),
        errors.CorruptData([errors.Problem("log_gap", "version 3 missing", "app-1")]),
        errors.DeliveryError(
            "note-1", "503", status=503, permanent=False, retry_after=timedelta(seconds=30)
        ),
        errors.EstimateError("no stages"),
        errors.GuardRejected(
            application_id="app-1", stage="review", event="advance", blockers=BLOCKERS
        ),
        errors.HirepipeError("any"),
        errors.NotStored("requisition", "req-1"),
        errors.NotificationError("no sender"),
        errors.PolicyError([errors.PolicyProblem("stages", "none"), "also this"]),
        errors.PositionError(
            requisition_id="req-1",
            status="draft",
            event="open",
            blockers=[blocker],
            allowed=["submit"],
        ),
        errors.RequisitionMismatch(application_id="app-1", expected="req-1", given="req-2"),
        errors.SchemaError("too old", found=1, expected=2),
        errors.SimulationError("refused", run=7),
        errors.SlateError("full", requisition_id="req-1", application_id="app-1"),
        errors.StoreError("closed"),
        errors.TemplateError("offer.txt", "undefined name"),
        errors.TransactionConflict(sqlstate="40001", application_id="app-1", event="advance"),
        errors.TransitionError("no", application_id="app-1", stage="review", event="advance"),
        errors.TransitionNotAllowed(
            application_id="app-1",
            stage="review",
            event="hire",
            allowed=["advance"],
            known=True,
            policy="standard",
            erased=False,
        ),
    ]


class TestAcrossProcesses:
    """Errors pickle and copy whole: a worker process's error reaches its caller as raised."""

    def test_the_samples_cover_every_error(self):
        """A new error class needs a sample here (and so a check that it pickles)."""
        exported = {
            name
            for name in errors.__all__
            if isinstance(getattr(errors, name), type)
            and issubclass(getattr(errors, name), errors.HirepipeError)
        }
        assert exported == {type(error).__name__ for error in _every_error()}

    @pytest.mark.parametrize("error", _every_error(), ids=lambda error: type(error).__name__)
    def test_pickles_and_copies_keep_the_message_and_the_facts(self, error):
        """Keyword-only constructors included: the attributes come back, __init__ is not asked."""
        error.add_note("a note a caller added")
        for again in (
            pickle.loads(pickle.dumps(error)),
            copy.copy(error),
            copy.deepcopy(error),
        ):
            assert type(again) is type(error)
            assert str(again) == str(error)
            assert again.args == error.args
            assert vars(again) == vars(error)

    def test_a_refusal_in_a_process_pool_reaches_the_caller(self):
        """The real thing: GuardRejected from a fire in another process, blockers and all."""
        with ProcessPoolExecutor(max_workers=1) as pool:
            future = pool.submit(_refused_in_a_worker)
            with pytest.raises(errors.GuardRejected) as raised:
                future.result(timeout=60)
        refused = raised.value
        assert refused.application_id
        assert refused.application_id in str(refused)
        assert (refused.stage, refused.event) == ("debrief", "complete_debrief")
        assert [b.code for b in refused.blockers] == ["scorecards_missing"]
        assert refused.blockers[0].data["missing"] == ["alice"]
