"""Notification figures: the cost of the Notifier hook on fire, and rendering speed.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/notify.py``). Prints
``name: value`` lines, each measured in this one process:

- ``fire_with_notifications_vs_fire``: the happy path fired with the standard notification
  rules, a Notifier (default estimate provider: the timeline estimator) and an in-memory
  outbox, divided by the same path fired with no hooks. Target: at most 2.
- ``notifications_per_event``: notifications the standard rules made per event on that path.
- ``render_per_second``: notifications rendered (subject, text and HTML) per second from the
  default templates, every template in turn. Target: at least 10,000.
- ``deliver_per_second``: notifications rendered and handed to an in-memory sender per second
  by ``deliver``, bookkeeping included.
- ``sweep_us_per_application``: one sweep (deadlines, cadence, reminders) per application.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pendulum

sys.path.append(str(Path(__file__).parent))
from _harness import best_of, interleaved, report, timed
from engine import DATA, PATH, ready_application

from hirepipe import Application, Pipeline, standard_policy
from hirepipe.notify import (
    MemorySender,
    Notification,
    NotificationStatus,
    Notifier,
    Outbox,
    Templates,
    deliver,
)
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition

N = 2_000
NOW = pendulum.datetime(2025, 1, 6, 9, tz="America/New_York")
BASE = standard_policy()
POLICY = BASE
TEMPLATES = Templates()
PENDING = NotificationStatus.pending


def fire_path(with_notifier: bool, made: list[int]) -> Callable[[], float]:
    """Fire the happy path on N prepared applications, with or without a fresh Notifier."""
    requisition = make_requisition(headcount=10**9)
    clock = FakeClock(NOW.add(days=1))

    def prepare() -> tuple[Pipeline, Outbox, list[Application]]:
        outbox = Outbox()
        hooks = [Notifier(outbox, POLICY, templates=TEMPLATES)] if with_notifier else []
        pipeline = Pipeline(POLICY, clock=clock, hooks=hooks)
        return pipeline, outbox, [ready_application(pipeline, requisition, n) for n in range(N)]

    def run(prepared: tuple[Pipeline, Outbox, list[Application]]) -> None:
        pipeline, outbox, applications = prepared
        fire = pipeline.fire
        for application in applications:
            for event in PATH:
                fire(
                    application,
                    event,
                    actor=application.candidate.id if event == "accept" else "maria",
                    requisition=requisition,
                    **DATA.get(event, {}),
                )
        if pipeline.hook_failures:
            raise RuntimeError(f"hooks failed: {pipeline.hook_failures[0].error!r}")
        made.append(len(outbox))

    return lambda: timed(prepare, run)


def sample_notifications() -> list[Notification]:
    """One notification of every standard rule, from real events, sweeps and creations."""
    outbox = Outbox()
    clock = FakeClock(NOW)
    notifier = Notifier(outbox, POLICY, templates=TEMPLATES)
    pipeline = Pipeline(POLICY, clock=clock, hooks=[notifier])
    requisition = make_requisition(approvers=["cfo", "cto"])
    stages = ["interviewed", "offer", "talent_pool", "rejected", "approval", "on_hold", "review"]
    applications = []
    for number, stage in enumerate(stages):
        application = make_application(
            pipeline, requisition, stage=stage, candidate=make_candidate(number)
        )
        notifier.created(application, requisition)
        pipeline.fire(
            application,
            "inquiry",
            actor=application.candidate.id,
            requisition=requisition,
            text="news?",
        )
        applications.append(application)
    pipeline.fire(
        applications[-1],
        "schedule_next_round",
        actor="maria",
        requisition=requisition,
        interviewers=["carol"],
    )
    deliver(outbox, MemorySender(), NOW, templates=TEMPLATES)
    notifier.sweep(applications, [requisition], NOW.add(days=20))
    kept: dict[str, Notification] = {}
    for notification in outbox:
        kept.setdefault(notification.rule, notification)
    missing = {rule.name for rule in POLICY.notifications} - set(kept)
    if missing:
        raise RuntimeError(f"no sample of {sorted(missing)}")
    return list(kept.values())


def render_per_second(samples: list[Notification], rounds: int = 100) -> float:
    """Renders per second, every sample in turn, best of five runs."""
    render = TEMPLATES.render
    for notification in samples:  # compile and build the facts outside the measurement
        render(notification.template, notification.facts)

    def run() -> None:
        for _ in range(rounds):
            for notification in samples:
                render(notification.template, notification.facts)

    return rounds * len(samples) / best_of(run)


def deliver_per_second(samples: list[Notification], copies: int = 400) -> float:
    """Notifications delivered per second to an in-memory sender."""

    def prepare() -> Outbox:
        outbox = Outbox()
        for copy in range(copies):
            for notification in samples:
                outbox.add(replace(notification, key=f"{notification.key}#{copy}", status=PENDING))
        return outbox

    def run(outbox: object) -> None:
        assert isinstance(outbox, Outbox)
        report = deliver(outbox, MemorySender(), NOW.add(days=30), templates=TEMPLATES)
        if len(report.sent) != copies * len(samples):
            raise RuntimeError(f"only {len(report.sent)} sent")

    seconds = min(timed(prepare, run) for _ in range(3))
    return copies * len(samples) / seconds


def sweep_us_per_application(count: int = 500) -> float:
    """One sweep over ``count`` applications in review, in microseconds per application."""
    clock = FakeClock(NOW)
    notifier = Notifier(Outbox(), POLICY, templates=TEMPLATES)
    pipeline = Pipeline(POLICY, clock=clock, hooks=[notifier])
    requisition = make_requisition()
    applications = [
        make_application(pipeline, requisition, stage="review", candidate=make_candidate(n))
        for n in range(count)
    ]
    later = NOW.add(days=14)
    start = time.perf_counter()
    notifier.sweep(applications, [requisition], later)
    return (time.perf_counter() - start) / count * 1e6


def main() -> None:
    made: list[int] = []
    best = interleaved({"plain": fire_path(False, []), "notified": fire_path(True, made)}, rounds=7)
    report("fire_with_notifications_vs_fire", best["notified"] / best["plain"])
    report("fire_us_per_event", best["plain"] / (N * len(PATH)) * 1e6)
    report("fire_with_notifications_us_per_event", best["notified"] / (N * len(PATH)) * 1e6)
    report("notifications_per_event", made[-1] / (N * len(PATH)))
    samples = sample_notifications()
    report("render_per_second", render_per_second(samples), digits=0)
    report("deliver_per_second", deliver_per_second(samples), digits=0)
    report("sweep_us_per_application", sweep_us_per_application(), digits=1)


if __name__ == "__main__":
    main()
