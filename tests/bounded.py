"""Run Python in a child process with bounded memory and time, for input that has no end.

A regression that reads ``/dev/zero`` to the end must fail that child, not exhaust the
machine the whole suite shares.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MEMORY = 1 << 30  # a Python importing hirepipe peaks near 200 MB of address space


def _limit() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def run_bounded(code: str, *, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Run ``code`` with ``python -c`` under a 1 GiB address-space limit and ``timeout``."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)])}
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
        preexec_fn=_limit,
        cwd=ROOT,
    )
