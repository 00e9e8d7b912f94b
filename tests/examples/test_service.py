"""The example service, over HTTP, on a real database: SQLite and PostgreSQL.

Every test runs on a SQLite file and on a PostgreSQL schema, through FastAPI's TestClient.
Most share one service per database (each test with applications of its own); the tests
that look at the whole database (the sweep, the outbox) get a fresh one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pendulum
import pytest
from examples.service.__main__ import main as service_main
from examples.service.app import create_app
from fastapi.testclient import TestClient

from hirepipe import Application, Requisition, TimelineEstimator, standard_policy
from hirepipe.notify import MemorySender
from hirepipe.standard import OfferData
from hirepipe.testing import FakeClock
from tests.store import helpers as store_helpers
from tests.store.helpers import ROOT, Database

database = store_helpers.database  # the fixture: a SQLite file, a PostgreSQL schema

START = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")
REQUISITION = {
    "id": "req-42",
    "title": "Backend Engineer",
    "budget": {"minimum": 120_000, "maximum": 150_000, "currency": "USD"},
    "hiring_manager": "maria",
    "approvers": ["cfo"],
    "time_zone": "America/New_York",
}
ADA = {"id": "cand-1", "name": "Ada Lovelace", "email": "ada@example.com"}


def candidate_of(application_id: str) -> str:
    """The candidate of an application made by ``Service.application`` (who may accept)."""
    return f"cand-{application_id.removeprefix('app-')}"


class Service:
    """A client of the service, its clock and what its sender sent."""

    def __init__(self, client: TestClient, clock: FakeClock, sender: MemorySender) -> None:
        self.client, self.clock, self.sender = client, clock, sender

    @property
    def store(self) -> Any:
        return self.client.app.state.service.store

    def fire(self, application_id: str, event: str, **body: Any) -> httpx.Response:
        return self.client.post(f"/applications/{application_id}/events/{event}", json=body)

    def ok(self, application_id: str, event: str, **body: Any) -> dict[str, Any]:
        answer = self.fire(application_id, event, **body)
        assert 200 == answer.status_code, answer.json()
        return answer.json()

    def version(self, application_id: str) -> int:
        return self.client.get(f"/applications/{application_id}").json()["version"]

    def requisition(self) -> str:
        """Open a requisition of its own for a test (one headcount); return its id."""
        requisition_id = f"req-{uuid.uuid4().hex[:8]}"
        answer = self.client.post("/requisitions", json={**REQUISITION, "id": requisition_id})
        assert 201 == answer.status_code, answer.json()
        return requisition_id

    def application(self, requisition_id: str | None = None) -> str:
        """Add an application of a new candidate, interviewed by alice and bob; return its id.

        Without ``requisition_id`` the application gets a requisition of its own, so the
        requisition's rules (a fill, a fall-through) touch no other test's applications.
        """
        requisition_id = requisition_id or self.requisition()
        key = uuid.uuid4().hex[:8]
        candidate = {**ADA, "id": f"cand-{key}"}
        answer = self.client.post(
            f"/requisitions/{requisition_id}/applications",
            json={"candidate": candidate, "interviewers": ["alice", "bob"], "id": f"app-{key}"},
        )
        assert 201 == answer.status_code, answer.json()
        return answer.json()["id"]

    def debrief(self, application_id: str, verdict: str = "yes") -> None:
        """Both interviewers' scorecards in, the debrief done: the application is in review."""
        self.ok(application_id, "start_debrief", actor="maria")
        for person in ("alice", "bob"):
            self.ok(application_id, "submit_scorecard", actor=person,
                    data={"recommendation": verdict})  # fmt: skip
        self.ok(application_id, "complete_debrief", actor="maria")

    def offer(self, application_id: str) -> dict[str, Any]:
        """From the review to an extended offer, over HTTP; return the offer's answer."""
        self.ok(application_id, "request_approval", actor="maria", data={"salary": 135_000})
        self.ok(application_id, "record_approval", actor="cfo", data={"granted": True})
        self.ok(application_id, "approve", actor="maria")
        self.ok(application_id, "send_reference_notice", actor="maria")
        for referee in ("grace", "alan"):
            person = {"referee": referee}
            contact = {"contact": f"{referee}@example.com", "consent": True}
            self.ok(application_id, "add_reference", actor="maria", data={**person, **contact})
            self.ok(application_id, "contact_reference", actor="maria", data=person)
            self.ok(application_id, "complete_reference", actor="maria",
                    data={**person, "outcome": "satisfactory"})  # fmt: skip
        return self.ok(application_id, "extend_offer", actor="maria",
                       data={"salary": 135_000, "start_date": "2025-03-03",
                             "valid_until": START.add(days=14).isoformat()})  # fmt: skip

    def to_offer(self, application_id: str) -> None:
        """The quickstart's journey to an extended offer, over HTTP."""
        self.debrief(application_id)
        self.offer(application_id)


@contextmanager
def serving(found: Database) -> Iterator[Service]:
    clock, sender = FakeClock(START), MemorySender()
    app = create_app(found.url, clock=clock, sender=sender, schema=found.schema)
    with TestClient(app) as client:
        assert 201 == client.post("/requisitions", json=REQUISITION).status_code
        yield Service(client, clock, sender)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """One service per database for the module (building the app takes most of a second)."""
    backend = (
        store_helpers._sqlite(tmp_path_factory.mktemp("service"))
        if request.param == "sqlite"
        else store_helpers._postgres()
    )
    with backend as found, serving(found) as running:
        yield running


@pytest.fixture
def service(shared: Service) -> Service:
    """The shared service, its clock back at the start and its sender emptied."""
    shared.clock.set(START)
    shared.sender.sent.clear()
    return shared


@pytest.fixture
def fresh(database: Database) -> Iterator[Service]:
    """A service on an empty database of its own."""
    with serving(database) as running:
        yield running


class TestJourney:
    def test_interview_to_hire(self, service):
        """A candidate goes from the interview to hired over HTTP; the store stays sound."""
        application_id = service.application()
        service.to_offer(application_id)
        accepted = service.ok(application_id, "accept", actor=candidate_of(application_id))
        requisition_id = accepted["application"]["requisition_id"]
        requisition = service.client.get(f"/requisitions/{requisition_id}").json()
        stored = Application.model_validate_json(
            service.client.get(f"/applications/{application_id}").text
        )
        assert ("offer", "hired") == (
            accepted["record"]["from_stage"],
            accepted["application"]["stage"],
        )
        assert (1, "hired", len(stored.history)) == (
            requisition["filled"],
            stored.stage,
            stored.version,
        )
        assert [] == service.store.verify()

    def test_the_requisitions_rules_apply_through_the_routes(self, service):
        """A first choice who declines brings the runner-up forward, in the same answer."""
        requisition_id = service.requisition()
        best, runner_up = (service.application(requisition_id) for _ in range(2))
        service.debrief(best, "strong_yes")
        service.debrief(runner_up, "yes")
        service.offer(best)
        declined = service.ok(best, "decline", actor=candidate_of(best))
        moved = service.client.get(f"/applications/{runner_up}").json()
        assert [(runner_up, "request_approval")] == [
            (c["application_id"], c["record"]["event"]) for c in declined["consequences"]
        ]
        assert ("declined", "approval") == (declined["application"]["stage"], moved["stage"])

    def test_notifications_commit_with_events_and_deliver(self, fresh):
        """Events leave notifications in the outbox; delivering sends them and counts them."""
        application_id = fresh.application()
        fresh.ok(application_id, "hold", actor="maria", reason="budget freeze")
        before = fresh.client.get("/outbox").json()
        report = fresh.client.post("/outbox/deliver").json()
        after = fresh.client.get("/outbox").json()
        kept = fresh.client.get(f"/applications/{application_id}/notifications").json()
        assert ["application_received", "interview_thank_you", "status_update"] == [
            n["rule"] for n in kept
        ]
        assert (3, 0) == (before["pending"], before["sent"])
        assert 3 == len(report["sent"])
        assert {"pending": 0, "sent": 3, "failed": 0, "failures": []} == after
        assert [["ada@example.com"]] * 3 == [[n.address] for n, _ in fresh.sender.sent]


class TestErrors:
    def test_refused_event_is_422_with_its_blockers(self, service):
        """A transition the guards refuse answers 422 with every blocker; nothing changes."""
        application_id = service.application()
        service.ok(application_id, "start_debrief", actor="maria")
        answer = service.fire(application_id, "complete_debrief", actor="maria")
        body = answer.json()
        assert (422, "guard_rejected") == (answer.status_code, body["error"])
        assert [
            ("scorecards_missing", {"missing": ["alice", "bob"], "expected": 2, "round": 1})
        ] == [(b["code"], b["data"]) for b in body["blockers"]]
        assert 1 == service.version(application_id)

    def test_event_from_the_wrong_stage_is_422_with_the_allowed_events(self, service):
        """An event the stage does not allow answers 422 naming the events that it does."""
        application_id = service.application()
        answer = service.fire(application_id, "accept", actor=candidate_of(application_id))
        body = answer.json()
        assert (422, "transition_not_allowed") == (answer.status_code, body["error"])
        assert "start_debrief" in body["allowed"]

    def test_a_stale_writer_gets_409(self, service):
        """Firing on a version another writer moved past answers 409 with both versions."""
        application_id = service.application()
        service.ok(application_id, "start_debrief", actor="maria")
        answer = service.fire(application_id, "hold", actor="maria", reason="x", expected_version=0)
        body = answer.json()
        assert (409, "concurrent_update", 0, 1) == (
            answer.status_code,
            body["error"],
            body["expected"],
            body["actual"],
        )
        assert "debrief" == service.client.get(f"/applications/{application_id}").json()["stage"]

    def test_racing_writers_one_wins_one_gets_409(self, service):
        """Two requests at once on the same version: one applies, the other answers 409."""
        application_id = service.application()
        barrier = threading.Barrier(2)
        answers: list[int] = []

        def write(text: str) -> None:
            client = TestClient(service.client.app)  # a client per thread, one app
            barrier.wait(timeout=30)
            body = {"actor": "maria", "expected_version": 0, "data": {"text": text}}
            answer = client.post(f"/applications/{application_id}/events/note", json=body)
            answers.append(answer.status_code)

        threads = [threading.Thread(target=write, args=(text,)) for text in ("a", "b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert ([200, 409], 1) == (sorted(answers), service.version(application_id))

    def test_unknown_ids_are_404(self, service):
        """An unknown application or requisition answers 404, saying which."""
        answers = [
            service.client.get("/applications/nobody"),
            service.client.get("/applications/nobody/deadlines"),
            service.fire("nobody", "start_debrief", actor="maria"),
            service.client.get("/requisitions/none"),
            service.client.get("/requisitions/none/applications"),
            service.client.post("/requisitions/none/applications", json={"candidate": ADA}),
        ]
        assert [404] * 6 == [a.status_code for a in answers]
        assert {"not_found"} == {a.json()["error"] for a in answers}

    def test_a_duplicate_is_409(self, service):
        """A requisition or application id that exists answers 409."""
        application_id = service.application()
        again = service.client.post(
            "/requisitions/req-42/applications", json={"candidate": ADA, "id": application_id}
        )
        twice = service.client.post("/requisitions", json=REQUISITION)
        assert [(409, "already_stored")] * 2 == [
            (a.status_code, a.json()["error"]) for a in (again, twice)
        ]

    @pytest.mark.parametrize(
        ("event", "body", "location"),
        [
            ("keep_warm", {"actor": "m", "data": {"warm_until": "2025-06-01T10:00:00"}},
             ["body", "data", "warm_until"]),
            ("submit_scorecard", {"actor": "alice", "data": {"recommendation": "maybe"}},
             ["body", "data", "recommendation"]),
            ("note", {"actor": "m", "data": {"text": "x", "colour": "red"}},
             ["body", "data", "colour"]),
            ("note", {"data": {}}, ["body", "actor"]),
        ],
        ids=["naive-time", "enum", "unknown-field", "no-actor"],
    )  # fmt: skip
    def test_bad_data_is_422_naming_the_field(self, service, event, body, location):
        """Data the event's model refuses answers 422 with the field's location; nothing runs."""
        application_id = service.application()
        answer = service.fire(application_id, event, **body)
        assert (422, "invalid_data") == (answer.status_code, answer.json()["error"])
        assert location in [e["loc"] for e in answer.json()["errors"]]
        assert 0 == service.version(application_id)


class TestQuestions:
    def test_available_events_and_blockers(self, service):
        """What can fire now, and why the rest cannot, in one answer."""
        application_id = service.application()
        service.ok(application_id, "start_debrief", actor="maria")
        now = service.client.get(f"/applications/{application_id}/events").json()
        assert ("debrief", 1) == (now["stage"], now["version"])
        assert "complete_debrief" not in now["available"]
        assert ["scorecards_missing"] == [b["code"] for b in now["blocked"]["complete_debrief"]]
        assert "withdraw" in now["available"]

    def test_blockers_of_an_event_with_data(self, service):
        """An event's blockers route checks it with the data given, firing nothing."""
        application_id = service.application()
        check = service.client.post(
            f"/applications/{application_id}/events/reject/blockers",
            json={"actor": "maria", "reason": "skills", "data": {}},
        ).json()
        clear = service.client.post(
            f"/applications/{application_id}/events/reject/blockers",
            json={"actor": "maria", "reason": "skills", "data": {"feedback_on_request": True}},
        ).json()
        assert (["feedback_missing"], []) == ([b["code"] for b in check], clear)
        assert 0 == service.version(application_id)

    def test_deadlines_in_business_days(self, service):
        """Deadlines come as hirepipe computes them: the scorecards due the next business day."""
        application_id = service.application()
        deadlines = service.client.get(f"/applications/{application_id}/deadlines").json()
        kinds = {d["kind"]: d["due"] for d in deadlines}
        assert "2025-01-07T16:00:00-05:00" == kinds["scorecards"]
        assert "2025-01-13T16:00:00-05:00" == kinds["candidate_update"]

    def test_estimate_is_the_estimators(self, service):
        """The estimate is TimelineEstimator's for the stored application, as of the clock."""
        application_id = service.application()
        answer = service.client.get(f"/applications/{application_id}/estimate").json()
        stored = service.store.load(application_id)
        expected = TimelineEstimator().estimate(
            stored, service.store.requisition(stored.requisition_id), service.clock.now()
        )
        assert json.loads(expected.to_json()) == answer


class TestSweep:
    def test_expires_lapsed_offers_and_notifies_once(self, fresh):
        """The sweep expires an offer past its date, tells the candidate, and is idempotent."""
        application_id = fresh.application()
        fresh.to_offer(application_id)
        fresh.client.post("/outbox/deliver")
        fresh.clock.set(START.add(days=15))
        first = fresh.client.post("/sweep").json()
        second = fresh.client.post("/sweep").json()
        stored = fresh.client.get(f"/applications/{application_id}").json()
        assert ([application_id], "declined") == (first["expired"], stored["stage"])
        moves = [r["event"] for r in stored["history"] if r["kind"] == "transition"]
        assert ["extend_offer", "expire"] == moves[-2:]
        assert 0 < first["sent"]
        assert ([], 0, 0) == (second["expired"], second["notified"], second["sent"])

    def test_the_daily_command(self, fresh, capsys):
        """`python -m examples.service sweep` runs the same job and prints what it did."""
        application_id = fresh.application()
        store = fresh.store
        url = store.engine.url.render_as_string(hide_password=False)
        schema = store.tables.applications.schema
        options = ["--database", url, *(["--schema", schema] if schema else [])]
        assert 0 == service_main([*options, "sweep"], clock=FakeClock(START))
        report = json.loads(capsys.readouterr().out)
        assert {"expired": [], "skipped": {}, "notified": 0, "sent": 2, "retrying": 0,
                "failed": 0} == report  # fmt: skip
        assert {"sent"} == {n.status for n in fresh.store.outbox.for_application(application_id)}


@pytest.mark.slow
def test_the_documented_command_serves(tmp_path):
    """`python -m examples.service serve` starts the service on its database."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [sys.executable, "-m", "examples.service", "--database",
         f"sqlite:///{tmp_path / 'hiring.db'}", "serve", "--port", str(port)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, "the service exited"
            assert time.monotonic() < deadline, "the service did not answer"
            try:
                answer = httpx.get(f"{url}/requisitions", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        assert (200, []) == (answer.status_code, answer.json())
        assert (tmp_path / "hiring.db").exists()
    finally:
        process.terminate()
        process.wait(timeout=60)


class TestOpenApi:
    def test_event_bodies_are_hirepipes_data_models(self, service):
        """Each event's route takes the event's own data model, documented in the schema."""
        schema = service.client.get("/openapi.json").json()
        components = schema["components"]["schemas"]
        fire = schema["paths"]["/applications/{application_id}/events/extend_offer"]["post"]
        body = fire["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        request = components[body.rsplit("/", 1)[1]]
        assert "#/components/schemas/OfferData" == request["properties"]["data"]["$ref"]
        assert list(OfferData.model_fields) == list(components["OfferData"]["properties"])
        for event in standard_policy().events:
            assert f"/applications/{{application_id}}/events/{event}" in schema["paths"]

    def test_answers_are_hirepipes_models(self, service):
        """Applications, requisitions, deadlines and estimates are hirepipe's own schemas."""
        schema = service.client.get("/openapi.json").json()
        components = schema["components"]["schemas"]
        assert set(Application.model_fields) == set(components["Application"]["properties"])
        assert set(Requisition.model_fields) == set(components["Requisition-Output"]["properties"])
        for name in ("Deadline", "Estimate", "Blocker", "TransitionRecord", "Notification"):
            assert name in components


class TestRequisitionLifecycle:
    def lifecycle(self, service, requisition_id: str, event: str, **body: Any) -> httpx.Response:
        return service.client.post(f"/requisitions/{requisition_id}/lifecycle/{event}", json=body)

    def test_a_draft_is_approved_over_http_and_refusals_say_why(self, service):
        """Submit, approve and open a position; wrong status is 422, a stale writer 409."""
        requisition_id = f"req-{uuid.uuid4().hex[:8]}"
        draft = {**REQUISITION, "id": requisition_id, "status": "draft"}
        assert 201 == service.client.post("/requisitions", json=draft).status_code
        refused = self.lifecycle(service, requisition_id, "approve", actor="maria")
        assert (422, "wrong_status") == (
            refused.status_code,
            refused.json()["blockers"][0]["code"],
        )
        assert 200 == self.lifecycle(service, requisition_id, "submit", actor="maria").status_code
        stale = self.lifecycle(
            service, requisition_id, "record_approval", actor="cfo", expected_version=0
        )
        assert (409, "concurrent_update") == (stale.status_code, stale.json()["error"])
        self.lifecycle(
            service, requisition_id, "record_approval", actor="cfo", data={"granted": True}
        )
        opened = self.lifecycle(service, requisition_id, "approve", actor="cfo").json()
        stored = service.client.get(f"/requisitions/{requisition_id}").json()
        assert ("open", "open", 3) == (
            opened["requisition"]["status"],
            stored["status"],
            len(stored["history"]),
        )
