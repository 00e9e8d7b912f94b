"""The hiring service's core, without HTTP: a store, its pipeline, the notifier and the sweep.

The web application (:mod:`examples.service.app`) and the daily command
(``python -m examples.service sweep``) share it::

    service = HiringService.open("sqlite:///hiring.db")
    service.store.add(application, requisition)
    service.store.slate_fire(application.id, "start_debrief", actor="maria")  # the rules apply
    report = service.sweep()  # expire lapsed offers, notify, deliver
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from hirepipe import Application, Clock, HirepipeError, Pipeline, Policy, SystemClock
from hirepipe.notify import (
    LoggingSender,
    Notifier,
    Sender,
    WebhookSender,
    deliver,
)
from hirepipe.standard import standard_policy
from hirepipe.store import Store
from hirepipe.timeline import ServiceLevels, TimelineEstimator

__all__ = ["DEFAULT_DATABASE", "HiringService", "SweepReport", "sender_from_environment"]

DEFAULT_DATABASE = "sqlite:///hiring.db"
"""The database when neither ``--database`` nor ``HIREPIPE_DATABASE_URL`` names one."""

_log = logging.getLogger("examples.service")


def sender_from_environment() -> Sender:
    """A webhook sender when ``HIREPIPE_WEBHOOK_URL`` and ``..._SECRET`` are set, else a log."""
    url = os.environ.get("HIREPIPE_WEBHOOK_URL")
    if url:
        return WebhookSender(url, os.environ.get("HIREPIPE_WEBHOOK_SECRET", ""))
    return LoggingSender()


@dataclass(frozen=True)
class SweepReport:
    """What one daily sweep did."""

    expired: list[str] = field(default_factory=list)
    """Applications whose lapsed offer the sweep expired."""
    skipped: dict[str, str] = field(default_factory=dict)
    """Requisitions the sweep could not go through (changed meanwhile), and why."""
    notified: int = 0
    """Notifications the deadlines called for (updates owed, reminders)."""
    sent: int = 0
    """Notifications delivered."""
    retrying: int = 0
    """Notifications whose delivery failed this time; the outbox retries them with backoff."""
    failed: int = 0
    """Notifications that failed their last attempt (see the outbox's failures)."""


class HiringService:
    """A store with a pipeline whose notifier writes to the store's outbox.

    Every event the store fires commits its notifications in the same transaction;
    :meth:`sweep` is the daily job.
    """

    def __init__(
        self,
        store: Store,
        *,
        sender: Sender | None = None,
        estimator: TimelineEstimator | None = None,
    ) -> None:
        self.store = store
        self.pipeline = store.pipeline
        self.policy = self.pipeline.policy
        self.clock = self.pipeline.clock
        self.notifier = Notifier(store.outbox, self.policy, requisitions=self._requisition)
        self.pipeline.hooks.append(self.notifier)
        self.sender = sender if sender is not None else LoggingSender()
        self.levels = ServiceLevels(self.policy)
        self.estimator = estimator if estimator is not None else TimelineEstimator()

    @classmethod
    def open(
        cls,
        url: str = DEFAULT_DATABASE,
        *,
        policy: Policy | None = None,
        clock: Clock | None = None,
        sender: Sender | None = None,
        schema: str | None = None,
    ) -> HiringService:
        """Open the service on the database at ``url``, creating or upgrading its tables."""
        pipeline = Pipeline(policy or standard_policy(), clock=clock or SystemClock())
        store = Store(url, pipeline, schema=schema)
        store.upgrade()
        return cls(store, sender=sender)

    def _requisition(self, requisition_id: str) -> Any:
        return self.store.requisition(requisition_id)

    # --8<-- [start:new_application]
    def new_application(self, application: Application) -> Application:
        """Store a new application and its creation notifications, in one transaction."""
        requisition = self.store.requisition(application.requisition_id)
        with self.store.transaction():
            self.store.add(application)
            self.notifier.created(application, requisition)
        return application

    # --8<-- [end:new_application]
    # --8<-- [start:sweep]
    def sweep(self) -> SweepReport:
        """The daily job: expire lapsed offers, notify what deadlines call for, deliver.

        Each requisition's lapsed offers expire through its slate, so the next runner-up is
        brought forward in the same transaction. Safe to run twice, or from two machines at
        once: an expired offer is not expired again, every deadline notifies once, and the
        outbox leases what it delivers.
        """
        now = self.clock.now()
        requisitions = {r.id: r for r in self.store.requisitions()}
        expired, skipped = [], {}
        for requisition_id in requisitions:
            try:
                fired = self.store.slate_sweep(requisition_id)  # as the system actor
            except HirepipeError as exc:  # changed by another writer meanwhile: next run
                skipped[requisition_id] = str(exc)
                continue
            expired += [f.application.id for f in fired if f.record.event == "expire"]
        applications = [
            a for a in self.store.applications() if not self.policy.is_terminal(a.stage)
        ]
        notified = self.notifier.sweep(applications, requisitions, now)
        delivery = deliver(self.store.outbox, self.sender, now, templates=self.notifier.templates)
        _log.info(
            "sweep: %d expired, %d notified, %d sent, %d retrying, %d failed",
            len(expired),
            len(notified),
            len(delivery.sent),
            len(delivery.retrying),
            len(delivery.failed),
        )
        return SweepReport(
            expired,
            skipped,
            len(notified),
            len(delivery.sent),
            len(delivery.retrying),
            len(delivery.failed),
        )

    # --8<-- [end:sweep]
    def close(self) -> None:
        """Close the database connections."""
        self.store.close()
