"""Simulation figures: runs per second, where the time goes, two workers, scaling.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/simulate.py``). Figures:

- ``requisition_runs_per_second``: ``simulate()`` of an 8-candidate requisition in one process,
  notifications counted by rule and key with the standard policy's rules (what the Notifier
  would put into an outbox); ``..._without_notify`` counts candidate-facing events instead.
- ``requisition_runs_per_cpu_second``: the same runs over this process's CPU time, the
  figure for one core that other load on a shared machine disturbs least.
- ``events_per_run``: events fired through ``Pipeline.fire`` per requisition.
- ``*_share``: from cProfile on a sample of runs: inside ``transitions`` (its outermost
  entry, the guards it calls included, then excluded), inside ``Pipeline.fire`` (hooks
  excluded), inside the notification counter, and in the simulator's own code.
- ``parallel_speedup_2_workers``: wall time of 2,000 runs in one process over two
  (``workers=2``; forked workers), the two measured in turn, best of two each.
- ``dask_speedup_2_workers``: wall time of 2,000 runs in one process over the same runs on a
  local Dask cluster of two worker processes (``executor=client.get_executor()``), the
  cluster started and warmed (each worker has built its runner) before the clock starts, the
  two measured in turn, best of two each. Needs the ``dask`` extra.
- ``simulation_scaling_10k_vs_1k``: CPU time of 10,000 runs over 1,000, one process (CPU
  time, since other load on the machine is not the simulator's). Set
  ``HIREPIPE_BENCH_FULL=1`` for ``simulation_scaling_100k_vs_10k`` (about ten minutes).
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from _harness import best_of, interleaved, report

from hirepipe import Policy, TimelineEstimator, standard_policy
from hirepipe.simulate import Scenario, simulate
from hirepipe.simulate._runner import Runner
from hirepipe.simulate._scenario import make_plan

SCENARIO = Scenario(industry="engineering", company_size="large", candidates=8)


def without_notifications() -> Policy:
    document = standard_policy().to_dict()
    document.pop("notifications", None)
    return Policy.from_dict(document)


def runs_per_second(policy: Policy, runs: int = 600) -> float:
    simulate(policy, SCENARIO, runs=20, seed=1)  # warm caches: holidays, templates
    return runs / best_of(lambda: simulate(policy, SCENARIO, runs=runs, seed=1), repeat=3)


def runs_per_cpu_second(policy: Policy, runs: int = 600) -> float:
    simulate(policy, SCENARIO, runs=20, seed=1)
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        simulate(policy, SCENARIO, runs=runs, seed=1)
        best = min(best, time.process_time() - start)
    return runs / best


def _cumulative(stats: pstats.Stats, file_part: str, function: str) -> float:
    return sum(
        row[3]
        for (path, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
        if file_part in path and name == function
    )


def profile_shares(runs: int = 200) -> dict[str, float]:
    plan = make_plan(standard_policy(), SCENARIO, TimelineEstimator())
    runner = Runner(plan, seed=1)
    for index in range(20):
        runner.run(index)
    profiler = cProfile.Profile()
    profiler.enable()
    events = sum(runner.run(index).events for index in range(runs))
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = _cumulative(stats, "simulate/_runner", "run")
    # the engine drives an Event's _process (Event.trigger's last step): the outermost entry
    # into transitions, whichever of the two a version of the engine calls
    trigger = max(
        _cumulative(stats, "transitions/core", "trigger"),
        *(
            row[3]
            for (path, _, name), row in stats.stats.items()  # type: ignore[attr-defined]
            if "transitions/core" in path and name == "_process"
        ),
    )
    guards = _cumulative(stats, "hirepipe/_machine", "__call__")
    fire = _cumulative(stats, "hirepipe/pipeline", "fire")
    hooks = _cumulative(stats, "hirepipe/pipeline", "_call_hooks")
    notify = _cumulative(stats, "notify/_notifier", "__call__")
    notify += _cumulative(stats, "notify/_notifier", "created")  # the counter's methods
    own = sum(
        row[2]  # time in the simulator's own functions, not in what they call
        for (path, _, _), row in stats.stats.items()  # type: ignore[attr-defined]
        if "hirepipe/simulate/" in path
    )
    return {
        "events_per_run": events / runs,
        "transitions_share": trigger / total,
        "transitions_without_guards_share": (trigger - guards) / total,
        "pipeline_fire_share": (fire - hooks) / total,
        "notify_share": notify / total,
        "simulator_own_code_share": own / total,
    }


def seconds(runs: int, workers: int, *, clock=time.perf_counter, executor=None) -> float:
    start = clock()
    simulate(standard_policy(), SCENARIO, runs=runs, seed=1, workers=workers, executor=executor)
    return clock() - start


def dask_speedup(runs: int = 2_000) -> float:
    """One process against a local Dask cluster of two worker processes, warm."""
    import distributed

    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        executor = client.get_executor()
        seconds(200, 2, executor=executor)  # each worker builds its runner and warms its caches
        best = interleaved(
            {"one": lambda: seconds(runs, 1), "dask": lambda: seconds(runs, 2, executor=executor)},
            rounds=2,
        )
    return best["one"] / best["dask"]


def main() -> None:
    report("requisition_runs_per_second", runs_per_second(standard_policy()), digits=0)
    report("requisition_runs_per_cpu_second", runs_per_cpu_second(standard_policy()), digits=0)
    report(
        "requisition_runs_per_second_without_notify",
        runs_per_second(without_notifications()),
        digits=0,
    )
    for name, value in profile_shares().items():
        report(name, value, digits=1 if name == "events_per_run" else 2)
    report("cpu_count", os.cpu_count() or 1, digits=0)
    # wall time, each contender twice in turn: a busy spell of the machine hits both
    best = interleaved(
        {"one": lambda: seconds(2_000, 1), "two": lambda: seconds(2_000, 2)}, rounds=2
    )
    report("parallel_speedup_2_workers", best["one"] / best["two"])
    report("dask_speedup_2_workers", dask_speedup())
    # scaling is about the algorithm: this process's CPU time, not the machine's other load
    small, large = (1_000, 10_000)
    name = "simulation_scaling_10k_vs_1k"
    if os.environ.get("HIREPIPE_BENCH_FULL"):
        small, large, name = 10_000, 100_000, "simulation_scaling_100k_vs_10k"
    cpu = time.process_time
    before = seconds(small, 1, clock=cpu)
    big = seconds(large, 1, clock=cpu)
    after = seconds(small, 1, clock=cpu)  # the small run on either side of the large one
    report(name, big / ((before + after) / 2))


if __name__ == "__main__":
    main()
