"""The notify tests' shared world: a pinned policy, a pipeline with a notifier, a stub estimate."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable
from typing import Any

import pendulum

from hirepipe import (
    Application,
    Pipeline,
    Policy,
    PolicySettings,
    Requisition,
    standard_policy,
)
from hirepipe.notify import (
    MemorySender,
    Message,
    Notification,
    Notifier,
    Outbox,
    Outlook,
    Templates,
    deliver,
)
from hirepipe.standard._notifications import STANDARD_NOTIFICATIONS
from hirepipe.testing import (
    FakeClock,
    actor_for,
    advance,
    make_application,
    make_candidate,
    make_requisition,
)
from hirepipe.timeline.calendar import BusinessCalendar
from tests.conftest import START

NY = "America/New_York"
CALENDAR = BusinessCalendar("US", time_zone=NY)
TEMPLATES = Templates()  # compiled once for every test
LIKELY, LATEST = _dt.date(2025, 1, 15), _dt.date(2025, 1, 20)
ESTIMATE_TEXT = (
    "We expect the next decision by Wednesday, January 15, 2025, "
    "and at the latest by Monday, January 20, 2025."
)
IDLE = frozenset({"on_hold", "talent_pool", "hired", "declined", "rejected", "withdrawn"})


def ny(*parts: int) -> pendulum.DateTime:
    """An instant given as New York wall-clock time."""
    return pendulum.datetime(*parts, tz=NY)


PINNED = PolicySettings(
    thank_you_days=1,
    scorecard_days=1,
    update_cadence_days=5,
    approval_days=3,
    offer_validity_days=10,
)
"""The service levels these tests count with, whatever the defaults become."""


def notify_policy(settings: PolicySettings = PINNED, **changes: Any) -> Policy:
    """The standard policy with the standard notification rules (or ``notifications=``)."""
    base = standard_policy(settings)
    rules = changes.pop("notifications", base.notifications or STANDARD_NOTIFICATIONS)
    return Policy(
        name=base.name,
        version=base.version,
        stages=list(base.stages.values()),
        initial=base.initial,
        events=list(base.events.values()),
        settings=base.settings,
        rejection_reasons=base.rejection_reasons,
        notifications=rules,
    )


POLICY = notify_policy()


def stub_estimate(application: Application, requisition: Requisition, now: Any) -> Outlook:
    """A fixed estimate while a decision is pending; none once nothing is pending."""
    if application.stage in IDLE:
        return Outlook(likely=None, pending=False, note="no decision is pending")
    return Outlook(likely=LIKELY, latest=LATEST)


class World:
    """A pipeline with a Notifier on a fake clock, one requisition and an in-memory sender."""

    def __init__(
        self,
        start: pendulum.DateTime = START,
        *,
        policy: Policy = POLICY,
        estimate: Callable[..., Any] = stub_estimate,
        notifier: dict[str, Any] | None = None,
        **requisition: Any,
    ) -> None:
        self.clock = FakeClock(start)
        self.outbox = Outbox()
        self.requisition = make_requisition(**requisition)
        options: dict[str, Any] = {"templates": TEMPLATES, "estimate": estimate, **(notifier or {})}
        self.notifier = Notifier(self.outbox, policy, **options)
        self.pipeline = Pipeline(policy, clock=self.clock, hooks=[self.notifier])
        self.quiet = Pipeline(policy, clock=self.clock)  # makes applications nobody is told of
        self.sender = MemorySender()

    def application(self, stage: str = "interviewed", number: int = 1) -> Application:
        """An application brought to ``stage`` by real events, its creation notified."""
        return make_application(
            self.pipeline, self.requisition, stage=stage, candidate=make_candidate(number)
        )

    def fire(self, application: Application, event: str, **data: Any) -> None:
        """Fire ``event`` as who may: with the happy path's data and activities, or ``data``."""
        if data:
            actor = actor_for(self.pipeline, application, self.requisition, event)
            self.pipeline.fire(
                application, event, actor=actor, requisition=self.requisition, **data
            )
        else:
            advance(self.pipeline, application, self.requisition, [event])

    def made(self, application: Application, rule: str) -> list[Notification]:
        """The notifications of ``rule`` about ``application``, oldest first."""
        return [n for n in self.outbox.for_application(application.id) if n.rule == rule]

    def latest(self, application: Application, rule: str) -> Notification:
        """The one notification of ``rule`` made by the application's latest record."""
        version = application.history[-1].version
        (found,) = [n for n in self.made(application, rule) if f"/{version}/" in n.key]
        return found

    def render(self, notification: Notification) -> Message:
        """Render with the shared templates."""
        return self.notifier.render(notification)

    def notifier_scene(self, application: Application, notification: Notification) -> Any:
        """A scene like the notifier's, for calling fact builders directly."""
        from hirepipe.notify import Person, Scene

        person = Person(notification.role, notification.to, notification.to, None)
        return Scene(
            application,
            self.requisition,
            self.notifier.policy,
            notification.trigger,
            self.clock.now(),
            application.stage,
            person,
        )

    def deliver(self) -> None:
        """Send everything due now."""
        deliver(self.outbox, self.sender, self.clock.now(), templates=TEMPLATES)


def business_days(start: _dt.datetime, stop: _dt.datetime) -> int:
    """Business days from ``start`` to ``stop`` in the requisition's calendar."""
    return CALENDAR.business_days_between(start, stop)
