"""The HTTP face of the hiring service: requisitions, applications and events, on FastAPI.

Every event of the policy gets its own route, whose request body is the event's own data
model (``policy.events[name].data_model``), so the OpenAPI schema documents what each event
takes. Run it with ``python -m examples.service serve``; in a test::

    client = TestClient(create_app("sqlite:///test.db", clock=FakeClock(start)))
    client.post("/requisitions", json={...})
"""

# No ``from __future__ import annotations``: FastAPI reads the routes' annotations at run time.
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, create_model

from hirepipe import (
    Application,
    Blocker,
    Candidate,
    Clock,
    Deadline,
    Estimate,
    EventSpec,
    HirepipeError,
    Policy,
    Requisition,
    TransitionRecord,
)
from hirepipe.notify import DeliveryReport, Notification, Sender, deliver

from .hiring import DEFAULT_DATABASE, HiringService, SweepReport
from .problems import PROBLEM_RESPONSES, invalid_request_response, problem_response

__all__ = ["create_app", "json_mode"]


# --8<-- [start:json_mode]
def json_mode(model: type[BaseModel]) -> Any:
    """``model`` as a request body validated as JSON, not as Python objects.

    hirepipe's timestamps are strict: in Python they must be aware ``datetime`` objects, in
    JSON they are ISO 8601 strings. FastAPI validates a body in Python mode after parsing it,
    which would refuse every timestamp; this validates it in JSON mode instead, and keeps the
    model's schema (and its errors, with their locations) for OpenAPI and the 422 answer.
    """

    def from_json(value: Any) -> Any:
        return model.model_validate_json(json.dumps(value)) if isinstance(value, dict) else value

    return Annotated[model, BeforeValidator(from_json)]


# --8<-- [end:json_mode]
# -- what the routes answer with, beside hirepipe's own models -----------------------------------


class NewApplication(BaseModel):
    """A candidate interviewed for a requisition: a new application in the first stage."""

    model_config = ConfigDict(extra="forbid")

    candidate: Candidate
    interviewers: list[str] = Field(default_factory=list)
    """Who interviewed in round 1 (each owes a scorecard)."""
    id: str | None = None
    """The application's id (default: a new random one)."""


class Consequence(BaseModel):
    """An event the requisition's rules applied to another application (a fill, a fall-through)."""

    application_id: str
    record: TransitionRecord


class Applied(BaseModel):
    """An event applied: the record it wrote, the application as it is now, and what followed.

    ``consequences`` are the events the requisition's rules applied in the same transaction:
    filling the last headcount keeps the runner-ups warm and rejects the rest; an offer that
    falls through brings the next runner-up forward.
    """

    record: TransitionRecord
    application: Application
    consequences: list[Consequence]


class EventsNow(BaseModel):
    """What can happen to an application now: the events that may fire, and why others not.

    Events that need data report a ``data_missing`` blocker (``needs_input``) until it is given.
    """

    stage: str
    version: int
    available: list[str]
    blocked: dict[str, list[Blocker]]


class LifecycleRequest(BaseModel):
    """An event of a requisition's own lifecycle: who acts, why, and the event's data.

    The data is validated by the event's own model (``record_approval`` takes ``granted``,
    ``band`` and ``note``; ``submit`` and ``revise_band`` a ``band``).
    """

    model_config = ConfigDict(extra="forbid")

    actor: str
    reason: str | None = None
    expected_version: int | None = None
    """Fire only if the requisition's history still has this many records."""
    data: dict[str, Any] = Field(default_factory=dict)


class LifecycleApplied(BaseModel):
    """A requisition event applied: its record, and the requisition as it is now."""

    record: TransitionRecord
    requisition: Requisition


class OutboxState(BaseModel):
    """The outbox: how many notifications wait, were sent, or failed for good; the failures."""

    pending: int
    sent: int
    failed: int
    failures: list[Notification]


# -- the application ---------------------------------------------------------------------------


def create_app(
    database: str = DEFAULT_DATABASE,
    *,
    policy: Policy | None = None,
    clock: Clock | None = None,
    sender: Sender | None = None,
    schema: str | None = None,
) -> FastAPI:
    """Return the service on the database at ``database`` (SQLite or PostgreSQL URL).

    ``policy`` defaults to the standard one, ``clock`` to the wall clock, ``sender`` to a log
    of every message; ``schema`` puts the tables in a PostgreSQL schema. The tables are
    created or upgraded at start-up.
    """
    service = HiringService.open(database, policy=policy, clock=clock, sender=sender, schema=schema)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        service.close()

    app = FastAPI(
        title="hiring service (hirepipe example)",
        summary="Requisitions, applications and the events of their lifecycle.",
        version=service.policy.label,
        lifespan=lifespan,
        responses=PROBLEM_RESPONSES,
    )
    app.state.service = service

    @app.exception_handler(HirepipeError)
    async def hirepipe_error(request: Request, exc: HirepipeError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(ValidationError)
    async def invalid_data(request: Request, exc: ValidationError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_request_response(exc)

    app.include_router(_requisitions(service), tags=["requisitions"])
    app.include_router(_applications(service), tags=["applications"])
    app.include_router(_events(service), tags=["events"])
    app.include_router(_operations(service), tags=["operations"])
    return app


def _requisitions(service: HiringService) -> APIRouter:
    router = APIRouter()
    store = service.store

    @router.post("/requisitions", status_code=201)
    def add_requisition(requisition: json_mode(Requisition)) -> Requisition:  # type: ignore[valid-type]
        """Open a requisition: headcount, budget band, hiring manager and approvers."""
        store.add_requisition(requisition)
        return requisition

    @router.get("/requisitions")
    def requisitions() -> list[Requisition]:
        """Every requisition, by id."""
        return store.requisitions()

    @router.get("/requisitions/{requisition_id}")
    def requisition(requisition_id: str) -> Requisition:
        """One requisition, with the headcount it has filled."""
        return store.requisition(requisition_id)

    @router.post("/requisitions/{requisition_id}/lifecycle/{event}")
    def lifecycle(requisition_id: str, event: str, body: LifecycleRequest) -> LifecycleApplied:
        """Fire an event of the requisition's own lifecycle, durably, kept in its history.

        The events: submit, record_approval, approve, send_back, revise_band, hold, resume,
        fill, cancel. 409 when another writer changed it first; 422 with the blockers when refused.
        """
        record = store.fire_requisition(
            requisition_id,
            event,
            actor=body.actor,
            reason=body.reason,
            expected_version=body.expected_version,
            **body.data,
        )
        return LifecycleApplied(record=record, requisition=store.requisition(requisition_id))

    @router.get("/requisitions/{requisition_id}/applications")
    def applications(requisition_id: str) -> list[Application]:
        """The requisition's applications, by id."""
        store.requisition(requisition_id)  # 404 for an unknown requisition, not an empty list
        return store.applications(requisition_id=requisition_id)

    @router.post("/requisitions/{requisition_id}/applications", status_code=201)
    def new_application(requisition_id: str, body: json_mode(NewApplication)) -> Application:  # type: ignore[valid-type]
        """Add an interviewed candidate; the candidate is told the application is in."""
        requisition = store.requisition(requisition_id)
        application = service.pipeline.new_application(
            body.candidate,
            requisition,
            interviewers=body.interviewers,
            application_id=body.id,
        )
        return service.new_application(application)

    return router


def _applications(service: HiringService) -> APIRouter:
    router = APIRouter()
    store, pipeline = service.store, service.pipeline

    @router.get("/applications/{application_id}")
    def application(application_id: str) -> Application:
        """The application: stage, version and its whole history."""
        return store.load(application_id)

    @router.get("/applications/{application_id}/events")
    def events_now(application_id: str) -> EventsNow:
        """The events that can fire now, and the blockers of the others from this stage."""
        found = store.load(application_id)
        requisition = store.requisition(found.requisition_id)
        blocked = {}
        for event in service.policy.events_from(found.stage):
            blockers = pipeline.blockers(found, event, requisition=requisition)
            if blockers:
                blocked[event] = blockers
        available = [e for e in service.policy.events_from(found.stage) if e not in blocked]
        return EventsNow(
            stage=found.stage, version=found.version, available=available, blocked=blocked
        )

    @router.get("/applications/{application_id}/deadlines")
    def deadlines(application_id: str) -> list[Deadline]:
        """What is owed on the application, by whom and by when (business days), soonest first."""
        found = store.load(application_id)
        return service.levels.deadlines(found, store.requisition(found.requisition_id))

    @router.get("/applications/{application_id}/estimate")
    def estimate(application_id: str) -> Estimate:
        """When the candidate will likely hear back, get an offer and answer it."""
        found = store.load(application_id)
        requisition = store.requisition(found.requisition_id)
        under_review = sum(
            1 for a in store.applications(requisition_id=requisition.id) if a.stage == "review"
        )
        return service.estimator.estimate(
            found,
            requisition,
            service.clock.now(),
            candidates_under_review=under_review or None,
        )

    @router.get("/applications/{application_id}/notifications")
    def notifications(application_id: str) -> list[Notification]:
        """The application's notifications and their delivery state."""
        store.load(application_id)
        return store.outbox.for_application(application_id)

    return router


def _events(service: HiringService) -> APIRouter:
    router = APIRouter()
    for spec in service.policy.events.values():
        _event_routes(router, service, spec)
    return router


# --8<-- [start:event_routes]
def _request_model(spec: EventSpec, *, check: bool) -> type[BaseModel]:
    """The request body of an event's routes: who acts, why, and the event's own data."""
    data = spec.data_model
    needs_data = any(field.is_required() for field in data.model_fields.values())
    fields: dict[str, Any] = {
        "actor": (str, Field(description="Who acts: the person whose decision this is.")),
        "reason": (str | None, Field(None, description="Why (holds, rejections, reopenings).")),
        "data": (data, Field(... if needs_data else data(), description=data.__doc__)),
    }
    if not check:
        fields["expected_version"] = (
            int | None,
            Field(None, description="Fire only if the application is still at this version."),
        )
    name = "".join(part.title() for part in spec.name.split("_"))
    model: type[BaseModel] = create_model(
        f"{name}{'Check' if check else 'Request'}",
        __config__=ConfigDict(extra="forbid"),
        **fields,
    )
    return model


def _event_routes(router: APIRouter, service: HiringService, spec: EventSpec) -> None:
    store, pipeline, name = service.store, service.pipeline, spec.name
    fire_body = json_mode(_request_model(spec, check=False))
    check_body = json_mode(_request_model(spec, check=True))
    moves = f"{', '.join(spec.sources)} -> {spec.dest}" if spec.dest else "no stage change"
    summary = f"{name}: {spec.description} ({moves})"

    def fire(application_id: str, body: fire_body) -> Applied:  # type: ignore[valid-type]
        first, *rest = store.slate_fire(  # the event, and the requisition's rules, durably
            application_id,
            name,
            actor=body.actor,
            reason=body.reason,
            expected_version=body.expected_version,
            **body.data.model_dump(exclude_unset=True),
        )
        return Applied(
            record=first.record,
            application=first.application,
            consequences=[
                Consequence(application_id=f.application.id, record=f.record) for f in rest
            ],
        )

    def check(application_id: str, body: check_body) -> list[Blocker]:  # type: ignore[valid-type]
        found = store.load(application_id)
        return pipeline.blockers(
            found,
            name,
            requisition=store.requisition(found.requisition_id),
            actor=body.actor,
            reason=body.reason,
            **body.data.model_dump(exclude_unset=True),
        )

    fire.__doc__ = (
        f"Fire `{name}` through the requisition's slate, and store it with what the "
        "requisition's rules did (a fill, a fall-through) and every notification, in one "
        "transaction.\n\n"
        "409 when another writer changed the application first (retry on the new version); "
        "422 with the blockers when the policy refuses it."
    )
    check.__doc__ = f"Why `{name}` cannot fire now with this data; empty when it can."
    router.add_api_route(
        f"/applications/{{application_id}}/events/{name}",
        fire,
        methods=["POST"],
        summary=summary,
        operation_id=f"fire_{name}",
    )
    router.add_api_route(
        f"/applications/{{application_id}}/events/{name}/blockers",
        check,
        methods=["POST"],
        summary=f"blockers of {name}",
        operation_id=f"blockers_{name}",
    )


# --8<-- [end:event_routes]
def _operations(service: HiringService) -> APIRouter:
    router = APIRouter()
    outbox = service.store.outbox

    @router.get("/outbox")
    def outbox_state() -> OutboxState:
        """How many notifications wait, were sent or failed for good; the failed ones."""
        failures, pending = outbox.failed(), len(outbox.pending())
        return OutboxState(
            pending=pending,
            sent=len(outbox) - pending - len(failures),
            failed=len(failures),
            failures=failures,
        )

    @router.post("/outbox/deliver")
    def deliver_due() -> DeliveryReport:
        """Send every notification that is due now (safe from several workers at once)."""
        return deliver(
            outbox, service.sender, service.clock.now(), templates=service.notifier.templates
        )

    @router.post("/sweep")
    def sweep() -> SweepReport:
        """The daily job: expire lapsed offers, notify what deadlines call for, deliver."""
        return service.sweep()

    return router
