"""simulate() and compare(): seeded runs of whole requisitions through the real engine.

How a run works, what it draws and what is assumed: ``docs/simulation.md``.
"""

from __future__ import annotations

import hashlib
import math
import pickle
import sys
import threading
from collections import OrderedDict
from collections.abc import Mapping
from concurrent.futures import (
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    as_completed,
)
from multiprocessing import get_context
from multiprocessing.context import BaseContext
from statistics import NormalDist
from typing import Literal

from hirepipe.policy import Policy
from hirepipe.simulate._options import options_policy
from hirepipe.simulate._results import (
    METRICS,
    Comparison,
    Progress,
    RunOutcome,
    SimulationResult,
    paired,
    summarise,
)
from hirepipe.simulate._runner import Runner
from hirepipe.simulate._scenario import Plan, Prepare, Scenario, SimulationError, make_plan
from hirepipe.timeline.estimate import TimelineEstimator

__all__ = ["compare", "simulate"]


def simulate(
    policy: Policy | None = None,
    scenario: Scenario | None = None,
    runs: int = 1_000,
    seed: int = 0,
    *,
    workers: int = 1,
    executor: Executor | None = None,
    estimator: TimelineEstimator | None = None,
    progress: Progress | None = None,
    prepare: Mapping[str, Prepare] | None = None,
) -> SimulationResult:
    """Run ``runs`` seeded requisitions of ``scenario`` under ``policy``; return the findings.

    ``policy`` defaults to the standard one with the options the scenario turns on
    (``Scenario(options=...)``), ``scenario`` to ``Scenario()``, ``estimator`` to the
    published priors. ``workers`` above 1 splits the runs over that many processes of a
    pool started for the call; ``executor`` runs them on any `concurrent.futures.Executor`
    instead (a process pool, a Dask ``distributed`` client's ``client.get_executor()``,
    loky's), and ``workers`` then only says how many workers it has, to split the runs into
    chunks for them. The result is byte for byte the same whatever runs where. Runs in other
    processes need the policy's guards and effects (and ``prepare``) as importable functions,
    and a script must call ``simulate`` under ``if __name__ == "__main__":`` (a spawned
    process imports the script again, as ``multiprocessing`` does). ``progress`` is called
    with the number of runs just finished. ``prepare`` maps an event to a callable
    ``(pipeline, application, requisition)`` that fires what a company's own guards look for
    before the simulated company fires the event (a background check's result before
    ``extend_offer``). Raises [`SimulationError`][hirepipe.errors.SimulationError] for a
    scenario the policy cannot run (or a run its rules refused, or workers that stopped),
    [`EstimateError`][hirepipe.errors.EstimateError] for an unknown industry, and
    [`CalendarError`][hirepipe.errors.CalendarError] for a country the holidays data does not
    know.
    """
    policy, scenario, estimator = _defaults(policy, scenario, estimator)
    for name, value, least in (("runs", runs, 1), ("seed", seed, 0), ("workers", workers, 1)):
        if isinstance(value, bool) or not isinstance(value, int) or value < least:
            raise SimulationError(
                f"{name} must be a whole number of at least {least}, not {value!r}"
            )
    if executor is not None and not callable(getattr(executor, "submit", None)):
        raise SimulationError(
            "executor must be a concurrent.futures.Executor (something with a submit method), "
            f"not {type(executor).__name__}"
        )
    plan = make_plan(policy, scenario, estimator, prepare)
    if executor is None and (workers == 1 or runs == 1):
        outcomes = _run_here(plan, seed, runs, progress)
    else:
        payload = _payload(policy, scenario, estimator, dict(prepare or {}), workers, executor)
        chunks = _chunks(runs, _workers_of(executor) if workers == 1 else workers)
        if executor is not None:
            outcomes = _run_on(executor, payload, seed, chunks, progress)
        else:
            outcomes = _run_in_processes(payload, seed, chunks, workers, progress)
    return summarise(policy, scenario, seed, outcomes, _notifications_source(policy))


def _notifications_source(policy: Policy) -> Literal["outbox", "events"]:
    """Where a simulation of ``policy`` counts notifications (see ``Notifications``)."""
    return "outbox" if policy.notifications else "events"


def _defaults(
    policy: Policy | None, scenario: Scenario | None, estimator: TimelineEstimator | None
) -> tuple[Policy, Scenario, TimelineEstimator]:
    scenario = scenario or Scenario()
    if policy is None:
        policy = options_policy(scenario.options, scenario.scheme)
    return policy, scenario, estimator or TimelineEstimator()


_PROGRESS_EVERY = 50


def _run_here(plan: Plan, seed: int, runs: int, progress: Progress | None) -> list[RunOutcome]:
    runner = Runner(plan, seed=seed)
    outcomes = []
    for index in range(runs):
        outcomes.append(runner.run(index))
        if progress is not None and (index + 1) % _PROGRESS_EVERY == 0:
            progress(_PROGRESS_EVERY)
    if progress is not None and runs % _PROGRESS_EVERY:
        progress(runs % _PROGRESS_EVERY)
    return outcomes


# -- other processes and machines ---------------------------------------------------------------


def _payload(
    policy: Policy,
    scenario: Scenario,
    estimator: TimelineEstimator,
    prepare: dict[str, Prepare],
    workers: int,
    executor: Executor | None,
) -> bytes:
    """What a worker needs to build the plan, pickled once for every chunk."""
    try:
        return pickle.dumps((policy.to_dict(), policy.registry(), scenario, estimator, prepare))
    except (pickle.PicklingError, TypeError, AttributeError) as exc:
        where = "the executor" if executor is not None else f"workers={workers}"
        raise SimulationError(
            f"{where} sends the policy to other processes, and it cannot be pickled "
            f"({exc}); define its guards and effects (and prepare) as module-level functions, "
            "or run in this process"
        ) from exc


def _workers_of(executor: Executor | None) -> int:
    """How many workers an executor has, as far as it tells (only the chunk size depends on it)."""
    found = getattr(executor, "_max_workers", None)  # concurrent.futures' pools, loky's
    if isinstance(found, int) and found > 0:
        return found
    client = getattr(executor, "_client", None)  # a Dask distributed client's executor
    try:
        threads = sum(client.nthreads().values()) if client is not None else 0
    except Exception:  # a client that cannot tell gets the default split
        threads = 0
    return threads if threads > 0 else 4


def _chunks(runs: int, workers: int) -> list[tuple[int, int]]:
    """The runs split into about eight chunks per worker: late chunks balance the load."""
    size = max(1, min(500, math.ceil(runs / (workers * 8))))
    return [(start, min(start + size, runs)) for start in range(0, runs, size)]


_LOCAL = threading.local()  # each worker thread's runners, by the digest of their payload
_KEPT = 4


def _runner_for(payload: bytes) -> Runner:
    """The runner of ``payload`` in this thread: built on its first chunk, then reused."""
    kept: OrderedDict[bytes, Runner] | None = getattr(_LOCAL, "runners", None)
    if kept is None:
        kept = _LOCAL.runners = OrderedDict()
    digest = hashlib.sha256(payload).digest()
    runner = kept.get(digest)
    if runner is None:
        document, registry, scenario, estimator, prepare = pickle.loads(payload)
        policy = Policy.from_dict(document, registry=registry)
        runner = kept[digest] = Runner(make_plan(policy, scenario, estimator, prepare), seed=0)
        while len(kept) > _KEPT:
            kept.popitem(last=False)
    kept.move_to_end(digest)
    return runner


def _run_chunk(payload: bytes, seed: int, start: int, stop: int) -> list[RunOutcome]:
    """Runs ``start`` to ``stop`` of a simulation; a task for any executor's workers."""
    runner = _runner_for(payload)
    runner.seed = seed
    return [runner.run(index) for index in range(start, stop)]


def _run_on(
    executor: Executor,
    payload: bytes,
    seed: int,
    chunks: list[tuple[int, int]],
    progress: Progress | None,
) -> list[RunOutcome]:
    """Run the chunks on ``executor``; put the outcomes back in run order."""
    futures: dict[Future[list[RunOutcome]], int] = {}
    done: list[list[RunOutcome]] = [[] for _ in chunks]
    try:
        for n, (a, b) in enumerate(chunks):
            futures[executor.submit(_run_chunk, payload, seed, a, b)] = n
        for future in as_completed(futures):
            n = futures[future]
            done[n] = future.result()
            if progress is not None:
                progress(len(done[n]))
    except BrokenExecutor as exc:
        raise SimulationError(
            f"a worker process stopped ({exc}); from a script, start the simulation under "
            "`if __name__ == '__main__':`, since a spawned worker imports the script again"
        ) from exc
    except RuntimeError as exc:
        if futures or "shutdown" not in str(exc):
            raise
        raise SimulationError(f"the executor takes no more work: {exc}") from exc
    finally:
        for future in futures:
            future.cancel()  # after a failure, nothing more to wait for; a no-op once done
    return [outcome for chunk in done for outcome in chunk]


def _process_context() -> BaseContext:
    """Fork on Linux when this process runs no other thread; otherwise spawn.

    A forked worker starts in milliseconds with everything imported and warm, where a spawned
    one imports hirepipe again (about a second). A fork of a process running other threads (a
    progress bar's) may deadlock, and only Linux forks safely with every system library.
    """
    if sys.platform.startswith("linux") and threading.active_count() == 1:
        return get_context("fork")
    return get_context("spawn")


def _run_in_processes(
    payload: bytes,
    seed: int,
    chunks: list[tuple[int, int]],
    workers: int,
    progress: Progress | None,
) -> list[RunOutcome]:
    with ProcessPoolExecutor(workers, mp_context=_process_context()) as pool:
        return _run_on(pool, payload, seed, chunks, progress)


# -- comparing ----------------------------------------------------------------------------------

Arm = Policy | Scenario | tuple[Policy, Scenario]
"""One side of a comparison: a policy (run on the shared scenario), a scenario (run under the
shared policy), or both."""


def compare(
    a: Arm,
    b: Arm,
    runs: int = 1_000,
    seed: int = 0,
    *,
    policy: Policy | None = None,
    scenario: Scenario | None = None,
    confidence: float = 0.95,
    workers: int = 1,
    executor: Executor | None = None,
    estimator: TimelineEstimator | None = None,
) -> Comparison:
    """Simulate two arms on the same seeds and return their paired differences (``b - a``).

    Each arm is a [`Policy`][hirepipe.policy.Policy], a [`Scenario`][hirepipe.simulate.Scenario]
    or a ``(policy, scenario)`` pair; the missing half is ``policy`` (default: the standard
    policy, with the options a scenario arm names) or ``scenario`` (default: ``Scenario()``).
    Run ``i`` of both arms draws the same
    numbers for the same purposes, so the differences of paired runs carry little noise: a small
    difference can be told from none. ``differences`` holds, per metric of
    [`RunRecord`][hirepipe.simulate.RunRecord] (times, fills, notifications, candidates past the
    update cadence...), the mean of each arm, the mean paired difference and its ``confidence``
    interval. ``workers`` and ``executor`` are [`simulate`][hirepipe.simulate.simulate]'s.
    """
    if not 0 < confidence < 1:
        raise SimulationError(f"confidence must lie strictly between 0 and 1, not {confidence}")
    shared = _defaults(policy, scenario, estimator)
    arms = [_arm(arm, policy, shared[0], shared[1]) for arm in (a, b)]
    first, second = (
        simulate(p, s, runs, seed, workers=workers, executor=executor, estimator=shared[2])
        for p, s in arms
    )
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    differences = {
        name: paired(first.records, second.records, metric, z, confidence)
        for name, metric in METRICS.items()
    }
    return Comparison(a=first, b=second, differences=differences)


def _arm(
    arm: Arm, given: Policy | None, policy: Policy, scenario: Scenario
) -> tuple[Policy, Scenario]:
    if isinstance(arm, Policy):
        return arm, scenario
    if isinstance(arm, Scenario):
        # a scenario's options build its own standard policy, unless a policy was given
        return (given if given is not None else options_policy(arm.options, arm.scheme)), arm
    if (
        isinstance(arm, tuple)
        and len(arm) == 2
        and isinstance(arm[0], Policy)
        and isinstance(arm[1], Scenario)
    ):
        return arm
    raise SimulationError(
        f"an arm is a Policy, a Scenario or a (Policy, Scenario) pair, not {type(arm).__name__}"
    )
