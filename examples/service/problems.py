"""hirepipe's errors as HTTP answers: a status, and a body that says what to do.

::

    404  NotStored: no application or requisition with that id
    409  ConcurrentUpdate: another writer changed the application first (retry), AlreadyStored
    422  GuardRejected: the policy refuses the event now (the blockers say why),
         TransitionNotAllowed: not from this stage (the events that are), invalid data
    400  any other hirepipe error (the message says what to fix)
"""

from __future__ import annotations

import json
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from hirepipe import (
    Blocker,
    ConcurrentUpdate,
    GuardRejected,
    HirepipeError,
    PositionError,
    RequisitionMismatch,
    TransitionNotAllowed,
)
from hirepipe.store import AlreadyStored, NotStored

__all__ = ["PROBLEM_RESPONSES", "Problem", "invalid_request_response", "problem_response"]


class Problem(BaseModel):
    """Why a request failed: a stable ``error`` code, a message for people, and the facts.

    ``blockers`` (422, ``guard_rejected``) say why the policy refuses the event;
    ``allowed`` (``transition_not_allowed``) names the events that can fire from the stage;
    ``expected`` and ``actual`` (409, ``concurrent_update``) are the versions read and found.
    """

    error: str
    message: str
    application_id: str | None = None
    event: str | None = None
    stage: str | None = None
    blockers: list[Blocker] | None = None
    allowed: list[str] | None = None
    expected: int | None = None
    actual: int | None = None
    errors: list[dict[str, Any]] | None = None


PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"model": Problem, "description": "No such application, requisition or event."},
    409: {"model": Problem, "description": "Changed by another writer first, or exists."},
    422: {"model": Problem, "description": "Refused by the policy (blockers), or bad data."},
}


def problem_response(exc: HirepipeError | ValidationError) -> JSONResponse:
    """The HTTP answer to ``exc``."""
    status, problem = _problem(exc)
    return JSONResponse(problem.model_dump(mode="json", exclude_none=True), status_code=status)


def invalid_request_response(exc: RequestValidationError) -> JSONResponse:
    """The HTTP answer to a request body, path or query that does not match its schema."""
    errors = jsonable_encoder(exc.errors())
    problem = Problem(
        error="invalid_data",
        message="; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors),
        errors=errors,
    )
    return JSONResponse(problem.model_dump(mode="json", exclude_none=True), status_code=422)


# --8<-- [start:problem]
def _problem(exc: HirepipeError | ValidationError) -> tuple[int, Problem]:
    if isinstance(exc, ValidationError):
        errors = json.loads(exc.json(include_url=False))
        return 422, Problem(error="invalid_data", message=str(exc), errors=errors)
    message = str(exc)
    if isinstance(exc, NotStored):
        return 404, Problem(error="not_found", message=message)
    if isinstance(exc, ConcurrentUpdate):
        return 409, Problem(
            error="concurrent_update",
            message=message,
            application_id=exc.application_id,
            event=exc.event,
            stage=exc.stage,
            expected=exc.expected,
            actual=exc.actual,
        )
    if isinstance(exc, AlreadyStored):
        return 409, Problem(error="already_stored", message=message)
    if isinstance(exc, GuardRejected):
        return 422, Problem(
            error="guard_rejected",
            message=message,
            application_id=exc.application_id,
            event=exc.event,
            stage=exc.stage,
            blockers=list(exc.blockers),
        )
    if isinstance(exc, TransitionNotAllowed):
        return 422, Problem(
            error="transition_not_allowed",
            message=message,
            application_id=exc.application_id,
            event=exc.event,
            stage=exc.stage,
            allowed=list(exc.allowed),
        )
    if isinstance(exc, PositionError):  # a requisition's own lifecycle refused the event
        changed = "requisition_changed" in exc.codes
        return 409 if changed else 422, Problem(
            error="concurrent_update" if changed else "position_refused",
            message=message,
            event=exc.event,
            stage=exc.status,
            blockers=list(exc.blockers),
            allowed=list(exc.allowed),
        )
    if isinstance(exc, RequisitionMismatch):
        return 422, Problem(error="requisition_mismatch", message=message)
    return 400, Problem(error=type(exc).__name__, message=message)


# --8<-- [end:problem]
