"""Start-up figures: ``import hirepipe``, ``hirepipe --help`` and pytest with the plugin.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/startup.py``). Every figure is
taken in fresh child processes of the interpreter running this script, interleaved, the
median of several rounds. Import times are ``-X importtime``'s own count of what hirepipe
imports; process figures are the child's CPU time (user and system, from ``wait4``), which
a busy shared machine disturbs far less than wall-clock time, and its peak resident set.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.append(str(Path(__file__).parent))
from _harness import report

ROUNDS = 9
PYTHON = sys.executable


def run_child(arguments: list[str], *, cwd: str | None = None) -> tuple[float, float, str]:
    """Run the interpreter with ``arguments``; return its CPU seconds, peak MB and stderr."""
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
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"{arguments} failed ({child.returncode}):\n{stderr}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, stderr


def import_ms(statement: str) -> float:
    """Milliseconds ``statement`` spends importing hirepipe and what hirepipe imports.

    The sum of ``-X importtime``'s top-level entries named ``hirepipe...``: names loaded on
    first use are imported after the package itself, each at the top level.
    """
    _, _, stderr = run_child(["-X", "importtime", "-c", statement])
    total = 0
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (hirepipe\S*)$", line)
        if match:
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
    with tempfile.TemporaryDirectory() as suite:
        Path(suite, "test_nothing.py").write_text("def test_nothing():\n    assert True\n")
        pytest_arguments = ["-m", "pytest", "-q", "-p", "no:cacheprovider", "--co", suite]
        figures = medians(
            {
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
    report("import_hirepipe_ms", figures["import"][0], digits=1)
    report("import_pipeline_ms", figures["pipeline"][0], digits=1)
    report("cli_help_ms", figures["help"][0] * 1000, digits=0)  # CPU time of the child
    with_plugin, without_plugin = figures["pytest_with"], figures["pytest_without"]
    report("pytest_startup_cpu_ms_with_plugin", with_plugin[0] * 1000, digits=0)
    report("pytest_startup_cpu_ms_without_plugin", without_plugin[0] * 1000, digits=0)
    report("pytest_plugin_cost_ms", (with_plugin[0] - without_plugin[0]) * 1000, digits=0)
    report("pytest_peak_mb_with_plugin", with_plugin[1], digits=1)
    report("pytest_peak_mb_without_plugin", without_plugin[1], digits=1)


if __name__ == "__main__":
    main()
