"""Engine figures: fire against raw transitions and python-statemachine, scaling, memory.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/engine.py``). Every figure is a
ratio measured in one process, so the machine's speed cancels out.

The quickstart's sixteen events (``examples/quickstart.py``: the debrief with two scorecards,
the approval, two references checked, the offer, its acceptance) are the mix of
``fire_vs_raw_transitions``. Its anchor is what a program using ``transitions`` directly
would run for the same lifecycle: a Machine with the policy's stages and transitions, each
transition's conditions the policy's own guards, fired with ``Event.trigger`` on a token
carrying the same context ``fire`` gave the guards (prepared beforehand: the guards do the
same work, nothing else is done). ``fire_vs_bare_transitions`` is the same with conditions
that only return True.

python-statemachine 2.x and 3.x are compared side by side: each is installed with
``pip install --target`` into ``benchmarks/.cache/`` (ignored by git) the first time, and a
child process loads one of them and measures it against ``fire`` on the same mix, the same
guards deciding (``fire_vs_python_statemachine_2x`` and ``_3x``: python-statemachine's time
over fire's, more is better for fire).
"""

from __future__ import annotations

import sys

if "--python-statemachine" in sys.argv:  # a child measuring the version installed there
    sys.path.insert(0, sys.argv[sys.argv.index("--python-statemachine") + 1])

import io
import logging
import subprocess
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pendulum
from transitions import Machine

sys.path.append(str(Path(__file__).parent))
from _harness import best_of, interleaved, report, timed
from statemachine import State, StateMachine

from hirepipe import (
    Application,
    Approval,
    Band,
    Candidate,
    Context,
    Pipeline,
    Reference,
    Requisition,
    Scorecard,
    standard_policy,
)
from hirepipe.models import as_instant
from hirepipe.policy import PREVIOUS, GuardSpec
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


# -- the quickstart's mix ------------------------------------------------------------------

QUICKSTART_START = pendulum.datetime(2025, 1, 6, 16, tz="America/New_York")
CANDIDATE = "@candidate"  # the application's own candidate fires it
QUICKSTART: list[tuple[str, str, dict[str, Any]]] = [
    ("start_debrief", "maria", {}),
    ("submit_scorecard", "alice", {"recommendation": "strong_yes"}),
    ("submit_scorecard", "bob", {"recommendation": "yes"}),
    ("complete_debrief", "maria", {}),
    ("request_approval", "maria", {"salary": 135_000}),
    ("record_approval", "cfo", {"granted": True}),
    ("approve", "maria", {}),
    ("send_reference_notice", "maria", {}),
    *(
        step
        for referee in ("grace", "alan")
        for step in (
            (
                "add_reference",
                "maria",
                {"referee": referee, "contact": f"{referee}@example.com", "consent": True},
            ),
            ("contact_reference", "maria", {"referee": referee}),
            ("complete_reference", "maria", {"referee": referee, "outcome": "satisfactory"}),
        )
    ),
    (
        "extend_offer",
        "maria",
        {"salary": 135_000, "start_date": date(2025, 3, 3), "benefits": ["health", "pension"]},
    ),
    ("accept", CANDIDATE, {}),
]
MIX = 1_000  # applications per timed run


def quickstart(count: int) -> tuple[Pipeline, Requisition, list[Application]]:
    """The quickstart's pipeline and requisition, and ``count`` applications in `interviewed`."""
    pipeline = Pipeline(standard_policy(), clock=FakeClock(QUICKSTART_START))
    requisition = Requisition(
        id="req-42",
        title="Backend Engineer",
        budget=Band(minimum=120_000, maximum=150_000, currency="USD"),
        hiring_manager="maria",
        approvers=["cfo"],
        time_zone="America/New_York",
        headcount=10**9,
    )
    applications = [
        pipeline.new_application(
            Candidate(id=f"cand-{n}", name="Ada Lovelace", email="ada@example.com"),
            requisition,
            interviewers=["alice", "bob"],
        )
        for n in range(count)
    ]
    return pipeline, requisition, applications


def actor_of(actor: str, application: Application) -> str:
    return application.candidate.id if actor == CANDIDATE else actor


def fire_mix(per_event: dict[str, float] | None = None) -> Callable[[], float]:
    """Pipeline.fire on the quickstart's events; with ``per_event``, each call timed alone."""

    def run(prepared: tuple[Pipeline, Requisition, list[Application]]) -> None:
        pipeline, requisition, applications = prepared
        fire, clock = pipeline.fire, time.perf_counter
        for application in applications:
            for event, actor, data in QUICKSTART:
                started = clock()
                fire(
                    application,
                    event,
                    actor=actor_of(actor, application),
                    requisition=requisition,
                    **data,
                )
                if per_event is not None:
                    per_event[event] = per_event.get(event, 0.0) + clock() - started

    return lambda: timed(lambda: quickstart(MIX), run)


def contexts(count: int) -> list[list[tuple[str, str, Context]]]:
    """For each of ``count`` applications, each event's stage and the context fire's guards saw.

    Taken while the events fire for real, from copies: the guards of the anchors then do the
    same work on the same facts as in ``fire``.
    """
    pipeline, requisition, applications = quickstart(count)
    taken = []
    for application in applications:
        steps = []
        for event, actor, data in QUICKSTART:
            spec, person = pipeline.policy.events[event], actor_of(actor, application)
            given = dict(data)
            field = spec.data_model.person_field
            if field is not None:
                given.setdefault(field, person)
            context = Context(
                application.model_copy(update={"history": list(application.history)}),
                requisition.model_copy(),
                event,
                spec.data_model.model_validate(given),
                person,
                None,
                as_instant(pipeline.clock.now()),
                pipeline.policy,
            )
            steps.append((event, application.stage, context))
            pipeline.fire(application, event, actor=person, requisition=requisition, **data)
        taken.append(steps)
    return taken


class Passes:
    """A ``transitions`` condition: one of the policy's guards finds nothing in the way."""

    __slots__ = ("guard",)

    def __init__(self, guard: GuardSpec) -> None:
        self.guard = guard

    def __call__(self, event_data: Any) -> bool:
        return not any(True for _ in self.guard.check(event_data.model.context))


def always(event_data: Any) -> bool:
    return True


class ContextToken:
    __slots__ = ("context", "state")

    def __init__(self, state: str, context: Context) -> None:
        self.state = state
        self.context = context


def policy_machine(*, guards: bool) -> Machine:
    """The standard policy's stages and transitions; conditions its guards, or always true."""
    policy = standard_policy()
    machine = Machine(
        model=None,
        states=list(policy.stages),
        initial=policy.initial,
        auto_transitions=False,
        send_event=True,
    )
    for spec in policy.events.values():
        conditions = [Passes(g) for g in spec.guards] if guards else [always]
        for source in policy.sources(spec.name):
            targets = policy.destinations(spec.name) if spec.dest == PREVIOUS else [spec.dest]
            for target in targets:
                machine.add_transition(spec.name, source, target, conditions=conditions)
    return machine


def raw_mix(*, guards: bool, per_event: dict[str, float] | None = None) -> Callable[[], float]:
    """``Event.trigger`` on tokens carrying the contexts ``fire`` gave the guards."""
    machine = policy_machine(guards=guards)
    triggers = {name: event.trigger for name, event in machine.events.items()}
    taken = contexts(MIX)

    def run(steps: list[list[tuple[str, str, Context]]]) -> None:
        clock = time.perf_counter
        for application in steps:
            for event, stage, context in application:
                started = clock()
                moved = triggers[event](ContextToken(stage, context))
                if per_event is not None:
                    per_event[event] = per_event.get(event, 0.0) + clock() - started
                assert moved, event

    return lambda: timed(lambda: taken, run)


class Lifecycle:
    """What a python-statemachine machine runs on: the context of the event it is sent."""

    __slots__ = ("context", "state")

    def __init__(self) -> None:
        self.context: Context | None = None
        self.state: str | None = None


def statemachine_class() -> type[StateMachine]:
    """The standard lifecycle as a python-statemachine class, conditions the policy's guards."""
    policy = standard_policy()
    states = {name: State(initial=name == policy.initial) for name in policy.stages}
    attributes: dict[str, Any] = dict(states)
    for spec in policy.events.values():
        if spec.dest == PREVIOUS:
            continue  # resume: not in the mix
        guards = [_psm_condition(g) for g in spec.guards]
        combined = None
        for source in policy.sources(spec.name):
            origin = states[source]
            transition = (
                origin.to.itself(internal=True, cond=guards)
                if spec.dest is None
                else origin.to(states[spec.dest], cond=guards)
            )
            combined = transition if combined is None else combined | transition
        attributes[spec.name] = combined
    return type("StandardLifecycle", (StateMachine,), attributes)


def _psm_condition(guard: GuardSpec) -> Callable[..., bool]:
    def passes(machine: Any) -> bool:
        return not any(True for _ in guard.check(machine.model.context))

    passes.__name__ = f"passes_{guard.name}"
    return passes


def statemachine_mix() -> Callable[[], float]:
    """python-statemachine: a machine per application (made beforehand), sent each event."""
    lifecycle = statemachine_class()
    taken = contexts(MIX)

    def prepare() -> list[tuple[Any, list[tuple[str, str, Context]]]]:
        return [(lifecycle(model=Lifecycle()), steps) for steps in taken]

    def run(machines: list[tuple[Any, list[tuple[str, str, Context]]]]) -> None:
        for machine, steps in machines:
            model = machine.model
            for event, _, context in steps:
                model.context = context
                machine.send(event)
            assert model.state == "hired", model.state

    return lambda: timed(prepare, run)


def statemachine_child(path: str) -> None:
    """In a child process: python-statemachine's time over fire's on the mix, and its version."""
    import statemachine

    version = getattr(statemachine, "__version__", "?")
    best = interleaved({"fire": fire_mix(), "psm": statemachine_mix()})
    print(f"{version} {best['psm'] / best['fire']:.4f} {best['psm'] / MIX / len(QUICKSTART):.9f}")


STATEMACHINE_VERSIONS = {"2x": "python-statemachine>=2.5,<3", "3x": "python-statemachine>=3,<4"}
CACHE = Path(__file__).parent / ".cache"


def statemachine_side_by_side() -> None:
    """Each major version of python-statemachine, installed apart, in a child process of its own."""
    for label, requirement in STATEMACHINE_VERSIONS.items():
        target = CACHE / f"python-statemachine-{label}"
        if not (target / "statemachine").is_dir():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    str(target),
                    requirement,
                ],
                check=True,
            )
        answer = subprocess.run(
            [sys.executable, __file__, "--python-statemachine", str(target)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        version, ratio, seconds = answer[0], float(answer[1]), float(answer[2])
        report(f"python_statemachine_{label}_us_per_event", seconds * 1e6)
        report(f"fire_vs_python_statemachine_{label}", ratio)
        print(f"# python-statemachine {version} for {label}")


def quickstart_figures() -> None:
    best = interleaved(
        {
            "fire": fire_mix(),
            "raw": raw_mix(guards=True),
            "bare": raw_mix(guards=False),
        }
    )
    events = MIX * len(QUICKSTART)
    report("fire_mix_us_per_event", best["fire"] / events * 1e6)
    report("raw_transitions_mix_us_per_event", best["raw"] / events * 1e6)
    report("bare_transitions_mix_us_per_event", best["bare"] / events * 1e6)
    report("fire_vs_raw_transitions", best["fire"] / best["raw"])
    report("fire_vs_bare_transitions", best["fire"] / best["bare"])
    fire_each: dict[str, float] = {}
    raw_each: dict[str, float] = {}
    interleaved(
        {"fire": fire_mix(fire_each), "raw": raw_mix(guards=True, per_event=raw_each)}, rounds=1
    )
    counts = {event: sum(e == event for e, _, _ in QUICKSTART) * MIX for event in fire_each}
    print("# per event, us: fire / raw transitions with the same guards (one timed round)")
    for event, seconds in fire_each.items():
        fire_us = seconds / counts[event] * 1e6
        raw_us = raw_each[event] / counts[event] * 1e6
        print(f"#   {event:22s} {fire_us:7.1f} / {raw_us:5.1f} = {fire_us / raw_us:4.2f}")


def main() -> None:
    best = interleaved(
        {"fire": fire_path(), "raw": raw_transitions(), "psm": python_statemachine()}
    )
    fire, raw, psm = best["fire"], best["raw"], best["psm"]
    quickstart_figures()
    statemachine_side_by_side()
    per_event = fire / (N * len(PATH))
    report("fire_us_per_event", per_event * 1e6)
    report("raw_transitions_us_per_event", raw / (N * len(PATH)) * 1e6)
    report("python_statemachine_us_per_event", psm / (N * len(PATH)) * 1e6)
    # the happy path's six events against bare conditions (the figure before the quickstart's mix)
    report("fire_vs_raw_transitions_happy_path", fire / raw)
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
    if "--python-statemachine" in sys.argv:
        statemachine_child(sys.argv[sys.argv.index("--python-statemachine") + 1])
    else:
        main()
