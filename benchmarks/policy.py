"""Policy figures: load and compile the standard policy from TOML; enumerate its paths.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/policy.py``).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from _harness import report

from hirepipe import Pipeline, Policy, standard_policy
from hirepipe.policy import paths


def best_ms(run, repeat: int = 20) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings) * 1000


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "standard.toml"
        path.write_text(standard_policy().to_toml(), encoding="utf-8")
        # load, validate and compile into the transitions machine a Pipeline fires through
        compile_ms = best_ms(lambda: Pipeline(Policy.from_file(path)))
    policy = standard_policy()
    report("compile_policy_ms", compile_ms)
    report("paths_standard_policy_ms", best_ms(lambda: paths(policy)), digits=3)
    report("paths_standard_policy_count", len(paths(policy)), digits=0)


if __name__ == "__main__":
    main()
