"""Helpers for testing code built on hirepipe: a clock, a recording hook, factories.

Nothing here reads the wall clock; every test decides what time it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import pendulum

from hirepipe.models import Application, Band, Candidate, Requisition
from hirepipe.pipeline import Fired, Pipeline

__all__ = [
    "FakeClock",
    "RecordingHook",
    "advance",
    "make_application",
    "make_candidate",
    "make_requisition",
]


class FakeClock:
    """A clock that stands still until told to move.

    ``FakeClock(pendulum.datetime(2025, 1, 6, 9, tz="America/New_York"))``; then ``set`` it or
    ``advance`` it by any pendulum duration (``advance(days=2, hours=3)``).
    """

    __slots__ = ("_now",)

    def __init__(self, start: pendulum.DateTime | None = None) -> None:
        self._now = start if start is not None else pendulum.datetime(2025, 1, 6, 9, tz="UTC")
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a time-zone-aware start")

    def now(self) -> pendulum.DateTime:
        """Return the clock's current instant."""
        return self._now

    def set(self, when: pendulum.DateTime) -> None:
        """Jump to ``when`` (time-zone aware)."""
        if when.tzinfo is None:
            raise ValueError("FakeClock.set needs a time-zone-aware datetime")
        self._now = when

    def advance(self, **duration: float) -> pendulum.DateTime:
        """Move forward by a pendulum duration (``days=1``, ``hours=2``...); return the new now."""
        self._now = self._now.add(**duration)  # type: ignore[arg-type]
        return self._now

    def __repr__(self) -> str:
        return f"FakeClock({self._now.isoformat()})"


class RecordingHook:
    """A hook that keeps every :class:`~hirepipe.pipeline.Fired` it is given, in order."""

    def __init__(self) -> None:
        self.calls: list[Fired] = []

    def __call__(self, fired: Fired, /) -> None:
        """Keep ``fired``."""
        self.calls.append(fired)

    @property
    def events(self) -> list[str]:
        """The names of the events seen, in order."""
        return [fired.record.event for fired in self.calls]


# -- factories for the standard policy ---------------------------------------------------------

_PATHS: dict[str, tuple[str, ...]] = {
    "interviewed": (),
    "debrief": ("start_debrief",),
    "review": ("start_debrief", "complete_debrief"),
    "next_round": ("start_debrief", "complete_debrief", "schedule_next_round"),
    "approval": ("start_debrief", "complete_debrief", "request_approval"),
    "references": ("start_debrief", "complete_debrief", "request_approval", "approve"),
    "offer": (
        "start_debrief",
        "complete_debrief",
        "request_approval",
        "approve",
        "extend_offer",
    ),
}
_PATHS["negotiation"] = (*_PATHS["offer"], "counter")
_PATHS["hired"] = (*_PATHS["offer"], "accept")
_PATHS["declined"] = (*_PATHS["offer"], "decline")
_PATHS["rejected"] = (*_PATHS["review"], "reject")
_PATHS["withdrawn"] = (*_PATHS["debrief"], "withdraw")
_PATHS["talent_pool"] = (*_PATHS["review"], "keep_warm")
_PATHS["on_hold"] = (*_PATHS["review"], "hold")


def make_requisition(**overrides: Any) -> Requisition:
    """Return a requisition: one headcount, a 120,000-150,000 USD band, one approver (cfo)."""
    fields: dict[str, Any] = {
        "id": "req-1",
        "title": "Backend Engineer",
        "budget": Band(minimum=Decimal(120_000), maximum=Decimal(150_000), currency="USD"),
        "hiring_manager": "maria",
        "approvers": ["cfo"],
        "time_zone": "America/New_York",
    }
    fields.update(overrides)
    return Requisition(**fields)


def make_candidate(number: int = 1, **overrides: Any) -> Candidate:
    """Return candidate ``cand-<number>`` with a name and an e-mail address."""
    fields: dict[str, Any] = {
        "id": f"cand-{number}",
        "name": f"Candidate {number}",
        "email": f"candidate{number}@example.com",
        "consent_to_contact": True,
    }
    fields.update(overrides)
    return Candidate(**fields)


def _data_for(event: str, application: Application) -> dict[str, Any]:
    """The data the standard policy's guards need for ``event`` on the happy path."""
    table: dict[str, dict[str, Any]] = {
        "schedule_next_round": {"interviewers": ["carol"]},
        "request_approval": {"salary": Decimal(135_000)},
        "extend_offer": {"salary": Decimal(135_000), "start_date": date(2025, 3, 3)},
        "counter": {"salary": Decimal(145_000)},
        "reject": {"reason": "skills", "feedback": "We need deeper database experience."},
        "keep_warm": {"warm_until": application.created_at.add(months=6), "consent": True},
        "hold": {"reason": "budget freeze"},
    }
    return dict(table.get(event, {}))


def _prepare(pipeline: Pipeline, application: Application, event: str, req: Requisition) -> None:
    """Record the activities the next event's guards look for."""
    if event == "complete_debrief":
        interview = application.interview()
        for person in interview.interviewers if interview else ():
            pipeline.fire(application, "submit_scorecard", actor=person, recommendation="yes")
    elif event == "approve":
        for approver in req.approvers:
            pipeline.fire(
                application, "record_approval", actor=approver, requisition=req, granted=True
            )
    elif event == "extend_offer":
        pipeline.fire(application, "send_reference_notice", actor="maria")
        for number in range(pipeline.policy.settings.required_references):
            referee = f"referee-{number + 1}"
            pipeline.fire(
                application,
                "add_reference",
                actor="maria",
                referee=referee,
                contact=f"{referee}@example.com",
                consent=True,
            )
            pipeline.fire(application, "contact_reference", actor="maria", referee=referee)
            pipeline.fire(
                application,
                "complete_reference",
                actor="maria",
                referee=referee,
                outcome="satisfactory",
            )


def advance(
    pipeline: Pipeline,
    application: Application,
    requisition: Requisition,
    events: Sequence[str],
    *,
    actor: str = "maria",
) -> Application:
    """Fire ``events`` in order with the data and activities the standard guards need."""
    for event in events:
        _prepare(pipeline, application, event, requisition)
        data = _data_for(event, application)
        reason = data.pop("reason", None)
        pipeline.fire(
            application, event, actor=actor, requisition=requisition, reason=reason, **data
        )
    return application


def make_application(
    pipeline: Pipeline,
    requisition: Requisition,
    *,
    stage: str = "interviewed",
    candidate: Candidate | None = None,
    interviewers: Sequence[str] = ("alice", "bob"),
) -> Application:
    """Return an application brought to ``stage`` of the standard policy by real events.

    Its history is consistent: every record was written by ``pipeline.fire``.
    """
    if stage not in _PATHS:
        raise ValueError(f"no standard path to {stage!r}; choose one of {', '.join(_PATHS)}")
    application = pipeline.new_application(
        candidate or make_candidate(), requisition, interviewers=interviewers
    )
    return advance(pipeline, application, requisition, _PATHS[stage])
