"""Shared timing helpers for the benchmark scripts: best-of-N, one process, no warm caches lost."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable


def best_of(run: Callable[[], object], *, repeat: int = 5) -> float:
    """Return the fastest of ``repeat`` runs of ``run``, in seconds, with the collector paused."""
    timings = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            start = time.perf_counter()
            run()
            timings.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return min(timings)


def timed(prepare: Callable[[], object], run: Callable[[object], object]) -> float:
    """Return the seconds ``run(prepare())`` takes, preparation not counted, collector paused."""
    prepared = prepare()
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        run(prepared)
        return time.perf_counter() - start
    finally:
        gc.enable()


def interleaved(contenders: dict[str, Callable[[], float]], *, rounds: int = 5) -> dict[str, float]:
    """Run each contender once per round, in turn, and keep each one's best time.

    Alternating keeps a slow spell of the machine from landing on one contender only.
    """
    best = dict.fromkeys(contenders, float("inf"))
    for _ in range(rounds):
        for name, contender in contenders.items():
            best[name] = min(best[name], contender())
    return best


def report(name: str, value: float, *, digits: int = 2) -> None:
    """Print one figure as ``name: value``."""
    print(f"{name}: {value:.{digits}f}")
