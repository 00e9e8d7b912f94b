"""Start-up figures: ``import hirepipe``, ``hirepipe --help`` and pytest with the plugin.

Run with ``make bench`` (or ``.venv/bin/python -P benchmarks/startup.py``). Every figure is
taken in fresh child processes of the interpreter running this script, interleaved, the
median of several rounds (a cold start is noisy on a shared machine; the median is steadier
than the best of a few). Memory is the child's peak resident set, from ``wait4``.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).parent))  # after the stdlib: calendar.py is ours
from _harness import report

ROUNDS = 9
PYTHON = sys.executable


def run_child(arguments: list[str], *, cwd: str | None = None) -> tuple[float, float, str]:
    """Run the interpreter with ``arguments``; return seconds, peak MB and stderr."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [PYTHON, *arguments],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stderr is not None
    stderr = child.stderr.read()
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{arguments} failed ({child.returncode}):\n{stderr}")
    return elapsed, usage.ru_maxrss / 1024, stderr


def import_ms(statement: str) -> float:
    """Milliseconds ``statement`` spends importing, by ``-X importtime``: the top-level total."""
    _, _, stderr = run_child(["-X", "importtime", "-c", statement])
    total = 0
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S.*)$", line)
        if match and not match.group(2).startswith(" "):
            total += int(match.group(1))
    return total / 1000


def medians(contenders: dict[str, Callable[[], tuple[float, ...]]]) -> dict[str, list[float]]:
    """Run each contender once per round, in turn; return the median of each of its figures."""
    seen: dict[str, list[tuple[float, ...]]] = {name: [] for name in contenders}
    for _ in range(ROUNDS):
        for name, contender in contenders.items():
            seen[name].append(contender())
    return {
        name: [statistics.median(column) for column in zip(*rows, strict=True)]
        for name, rows in seen.items()
    }


def main() -> None:
    """Print the start-up figures."""
    # Only imports that hirepipe itself starts are counted: the interpreter's own start-up
    # (site, encodings) is the same with or without hirepipe.
    baseline = "import sys"
    with tempfile.TemporaryDirectory() as suite:
        Path(suite, "test_nothing.py").write_text("def test_nothing():\n    assert True\n")
        pytest_arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--co", suite]
        figures = medians(
            {
                "bare": lambda: (import_ms(baseline),),
                "import": lambda: (import_ms("import hirepipe"),),
                "pipeline": lambda: (
                    import_ms("from hirepipe import Pipeline, Requisition, standard_policy"),
                ),
                "help": lambda: run_child(["-m", "hirepipe", "--help"])[:2],
                "pytest_with": lambda: run_child(pytest_arguments, cwd=suite)[:2],
                "pytest_without": lambda: run_child(
                    [*pytest_arguments, "-p", "no:hirepipe"], cwd=suite
                )[:2],
            }
        )
    bare = figures["bare"][0]
    report("import_hirepipe_ms", figures["import"][0] - bare, digits=1)
    report("import_pipeline_ms", figures["pipeline"][0] - bare, digits=1)
    report("cli_help_ms", figures["help"][0] * 1000, digits=0)
    with_plugin, without_plugin = figures["pytest_with"], figures["pytest_without"]
    report("pytest_startup_with_plugin_ms", with_plugin[0] * 1000, digits=0)
    report("pytest_startup_without_plugin_ms", without_plugin[0] * 1000, digits=0)
    report("pytest_plugin_cost_ms", (with_plugin[0] - without_plugin[0]) * 1000, digits=0)
    report("pytest_peak_mb_with_plugin", with_plugin[1], digits=1)
    report("pytest_peak_mb_without_plugin", without_plugin[1], digits=1)


if __name__ == "__main__":
    main()
