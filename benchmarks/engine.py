"""Engine figures: fire against raw transitions and python-statemachine, scaling, memory.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/engine.py``). Every figure is a
ratio measured in this one process, so the machine's speed cancels out.
"""

from __future__ import annotations

import io
import logging
import sys
import tracemalloc
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

import pendulum
from statemachine import State, StateMachine
from transitions import Machine

sys.path.append(str(Path(__file__).parent))
from _harness import best_of, interleaved, report, timed

from hirepipe import (
    Application,
    Approval,
    Pipeline,
    Reference,
    Scorecard,
    standard_policy,
)
from hirepipe.testing import FakeClock, make_candidate, make_requisition

PATH = [
    "start_debrief",
    "complete_debrief",
    "request_approval",
    "approve",
    "extend_offer",
    "accept",
]
STAGES = ["interviewed", "debrief", "review", "approval", "references", "offer", "hired"]
N = 2_000
NOW = pendulum.datetime(2025, 1, 6, 9, tz="UTC")
DATA = {
    "request_approval": {"salary": Decimal(135_000)},
    "extend_offer": {"salary": Decimal(135_000), "start_date": date(2025, 3, 3)},
}


def ready_application(pipeline: Pipeline, requisition, number: int) -> Application:
    """An application in `interviewed` with every scorecard, approval and reference in place.

    The approval is dated at the pipeline's now, which is when `request_approval` will fire:
    approvals count from the start of their round.
    """
    now = pipeline.clock.now()
    application = pipeline.new_application(
        make_candidate(number), requisition, interviewers=["alice", "bob"]
    )
    application.scorecards = tuple(
        Scorecard(interviewer=p, round=1, recommendation="yes", submitted_at=now)
        for p in ("alice", "bob")
    )
    application.approvals = (Approval(approver="cfo", granted=True, decided_at=now),)
    application.reference_notice_at = now
    application.references = tuple(
        Reference(
            referee=f"ref-{n}",
            contact="x",
            consent=True,
            status="completed",
            outcome="satisfactory",
            contacted_at=now.add(hours=1),
        )
        for n in range(2)
    )
    return application


def fire_path() -> Callable[[], float]:
    """Pipeline.fire along the happy path, on applications prepared beforehand."""
    pipeline = Pipeline(standard_policy(), clock=FakeClock(NOW.add(days=1)))
    requisition = make_requisition(headcount=10**9)
    fire = pipeline.fire

    def run(applications: list[Application]) -> None:
        for application in applications:
            for event in PATH:
                fire(
                    application,
                    event,
                    actor=application.candidate.id if event == "accept" else "maria",
                    requisition=requisition,
                    **DATA.get(event, {}),
                )

    return lambda: timed(
        lambda: [ready_application(pipeline, requisition, n) for n in range(N)], run
    )


class Token:
    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = "interviewed"


def raw_transitions() -> Callable[[], float]:
    """Raw transitions: the same states and events, trivial conditions, fired on tokens."""
    machine = Machine(
        model=None,
        states=STAGES,
        initial="interviewed",
        auto_transitions=False,
        send_event=True,
    )
    for source, dest, event in zip(STAGES[:-1], STAGES[1:], PATH, strict=True):
        machine.add_transition(event, source, dest, conditions=[lambda event_data: True])
    triggers = [machine.events[e].trigger for e in PATH]

    def run(tokens: list[Token]) -> None:
        for token in tokens:
            for trigger in triggers:
                trigger(token)

    return lambda: timed(lambda: [Token() for _ in range(N)], run)


class HappyPath(StateMachine):
    interviewed = State(initial=True)
    debrief = State()
    review = State()
    approval = State()
    references = State()
    offer = State()
    hired = State(final=True)

    start_debrief = interviewed.to(debrief, cond="ok")
    complete_debrief = debrief.to(review, cond="ok")
    request_approval = review.to(approval, cond="ok")
    approve = approval.to(references, cond="ok")
    extend_offer = references.to(offer, cond="ok")
    accept = offer.to(hired, cond="ok")

    def ok(self) -> bool:
        return True


def python_statemachine() -> Callable[[], float]:
    """python-statemachine: one machine per application (created beforehand), sending events."""

    def run(machines: list[HappyPath]) -> None:
        for machine in machines:
            for event in PATH:
                machine.send(event)

    return lambda: timed(lambda: [HappyPath() for _ in range(N)], run)


def create_and_advance_seconds(count: int) -> float:
    pipeline = Pipeline(standard_policy(), clock=FakeClock(NOW))
    requisition = make_requisition()
    candidates = [make_candidate(n) for n in range(count)]

    def run() -> None:
        new, fire = pipeline.new_application, pipeline.fire
        for candidate in candidates:
            application = new(candidate, requisition, interviewers=["alice"])
            fire(application, "start_debrief", actor="maria", requisition=requisition)

    return best_of(run, repeat=3)


def bytes_per_application(count: int = 10_000) -> float:
    pipeline = Pipeline(standard_policy(), clock=FakeClock(NOW))
    requisition = make_requisition()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    kept = [
        pipeline.new_application(make_candidate(n), requisition, interviewers=["alice", "bob"])
        for n in range(count)
    ]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(stat.size_diff for stat in after.compare_to(before, "filename"))
    assert len(kept) == count
    return grown / count


def with_host_logging(level: int, contender: Callable[[], float]) -> Callable[[], float]:
    """``contender`` in a host whose root logger writes records at ``level`` to a stream.

    hirepipe leaves the ``transitions`` logger to the host: this is what a host logging at
    INFO or DEBUG pays for what ``transitions`` logs, and what the README's one-line setting
    (``logging.getLogger("transitions").setLevel(logging.WARNING)``) saves.
    """

    def run() -> float:
        root = logging.getLogger()
        handler = logging.StreamHandler(io.StringIO())
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        previous = root.level
        root.addHandler(handler)
        root.setLevel(level)
        try:
            return contender()
        finally:
            root.removeHandler(handler)
            root.setLevel(previous)

    return run


def main() -> None:
    best = interleaved(
        {"fire": fire_path(), "raw": raw_transitions(), "psm": python_statemachine()}
    )
    fire, raw, psm = best["fire"], best["raw"], best["psm"]
    per_event = fire / (N * len(PATH))
    report("fire_us_per_event", per_event * 1e6)
    report("raw_transitions_us_per_event", raw / (N * len(PATH)) * 1e6)
    report("python_statemachine_us_per_event", psm / (N * len(PATH)) * 1e6)
    report("fire_vs_raw_transitions", fire / raw)
    report("fire_vs_python_statemachine", psm / fire)
    small, large = create_and_advance_seconds(10_000), create_and_advance_seconds(100_000)
    report("create_scaling_100k_vs_10k", large / small)
    report("bytes_per_application", bytes_per_application(), digits=0)
    logged = interleaved(
        {
            "quiet": fire_path(),
            "info": with_host_logging(logging.INFO, fire_path()),
            "debug": with_host_logging(logging.DEBUG, fire_path()),
        }
    )
    report("fire_host_logging_info_vs_quiet", logged["info"] / logged["quiet"])
    report("fire_host_logging_debug_vs_quiet", logged["debug"] / logged["quiet"])


if __name__ == "__main__":
    main()
