"""A real fork while another thread of the parent holds a lock, for tests of what a child does."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from typing import Any


def child_status(lock: Any, in_child: Callable[[], object]) -> int:
    """Fork while another thread holds ``lock``; run ``in_child`` there; return its exit code.

    0: ``in_child`` returned; 1: it raised; -14 (SIGALRM): it waited for good on its copy of
    the lock (the thread holding it does not exist in the child), and its alarm killed it.
    """
    held, release = threading.Event(), threading.Event()

    def hold() -> None:
        with lock:
            held.set()
            release.wait()

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    held.wait()
    pid = os.fork()
    if pid == 0:  # the child ends by os._exit, never back into pytest
        code = 1
        try:
            signal.alarm(30)
            in_child()
            code = 0
        finally:
            os._exit(code)
    release.set()
    holder.join()
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)
