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


def child_status_mid_commit(lock: Any, in_child: Callable[[], object]) -> int:
    """Fork (from a thread of its own) while another thread is in a commit under ``lock``.

    The fork waits for the commit to end: the child finds it ended, and runs ``in_child``;
    the exit codes as ``child_status`` (1 too when the child found the commit half done).
    The parent lets the commit end once the fork has happened or has waited for a while: a
    fork that waits for it has not happened by then.
    """
    held, release, forked = threading.Event(), threading.Event(), threading.Event()
    ended: list[bool] = []
    pids: list[int] = []

    def commit() -> None:
        with lock:
            held.set()
            release.wait()
            ended.append(True)

    def fork() -> None:
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                signal.alarm(30)
                if ended:  # else the child starts from a commit half done
                    in_child()
                    code = 0
            finally:
                os._exit(code)
        pids.append(pid)
        forked.set()

    committer = threading.Thread(target=commit, daemon=True)
    committer.start()
    held.wait()
    forker = threading.Thread(target=fork, daemon=True)
    forker.start()
    forked.wait(1.0)  # not a measure: a fork that waits for the commit waits as long
    release.set()
    committer.join()
    forker.join()
    _, status = os.waitpid(pids[0], 0)
    return os.waitstatus_to_exitcode(status)
