"""Locks a forked child makes afresh: its copy of a lock another thread held stays taken.

A child process has only the thread that forked; a lock another thread of the parent held at
that moment is copied held, and nobody in the child will ever release it. Objects holding such
locks register here (``renew_in_child``) and get a fresh start in every forked child.
"""

from __future__ import annotations

import os
import weakref
from typing import Protocol

__all__ = ["Renewable", "renew_in_child"]


class Renewable(Protocol):
    """An object whose locks (and what they guard) a forked child makes afresh."""

    def _after_fork(self) -> None: ...


# One hook for every object: a hook per object would stay registered after it is gone.
_RENEWED: weakref.WeakSet[Renewable] = weakref.WeakSet()


def renew_in_child(owner: Renewable) -> None:
    """Call ``owner._after_fork()`` in every child forked from now on, while it lives."""
    _RENEWED.add(owner)


def _in_child() -> None:
    for owner in list(_RENEWED):
        owner._after_fork()


if hasattr(os, "register_at_fork"):  # not on Windows, which has no fork
    os.register_at_fork(after_in_child=_in_child)
