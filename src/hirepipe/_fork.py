"""Locks a forked child makes afresh: its copy of a lock another thread held stays taken.

A child process has only the thread that forked; a lock another thread of the parent held at
that moment is copied held, and nobody in the child will ever release it. Objects holding such
locks register here (``renew_in_child``) and get a fresh start in every forked child.

A lock that guards a commit (a few plain writes to an application, a requisition or an
outbox's records, never a wait) is also taken around the fork itself (``held``): a child
forked in the middle of one would otherwise start from a half-written state (a stage moved
without its history record, a notification neither pending nor sent).
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Protocol

__all__ = ["Renewable", "renew_in_child"]


class Renewable(Protocol):
    """An object whose locks (and what they guard) a forked child makes afresh."""

    def _after_fork(self) -> None: ...


# One hook for every object: a hook per object would stay registered after it is gone.
_RENEWED: weakref.WeakSet[Renewable] = weakref.WeakSet()
# owner -> the name of its commit lock, taken while the process forks
_HELD: weakref.WeakKeyDictionary[Renewable, str] = weakref.WeakKeyDictionary()
_TAKEN: list[threading.Lock | threading.RLock] = []


def renew_in_child(owner: Renewable, *, held: str | None = None) -> None:
    """Call ``owner._after_fork()`` in every child forked from now on, while it lives.

    ``held`` names ``owner``'s lock guarding a commit: every fork waits for it, holding it
    while the process forks, so that no child sees a commit half done.
    """
    _RENEWED.add(owner)
    if held is not None:
        _HELD[owner] = held


def _before() -> None:
    for owner, name in list(_HELD.items()):
        lock = getattr(owner, name)
        lock.acquire()
        _TAKEN.append(lock)


def _in_parent() -> None:
    while _TAKEN:
        _TAKEN.pop().release()


def _in_child() -> None:
    _TAKEN.clear()  # the child's copies: each owner makes its locks afresh just below
    failed: BaseException | None = None
    for owner in list(_RENEWED):
        try:
            owner._after_fork()
        except BaseException as exc:  # the others still get their fresh locks
            failed = failed or exc
    if failed is not None:
        raise failed  # os.register_at_fork reports it (sys.unraisablehook)


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(before=_before, after_in_parent=_in_parent, after_in_child=_in_child)
