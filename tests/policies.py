"""Example guards the policy tests name by dotted path (``tests.policies:always_passes``)."""

from __future__ import annotations

from collections.abc import Iterator

from hirepipe import Blocker, Change, Context
from hirepipe.policy import EffectSpec


def always_passes(ctx: Context) -> Iterator[Blocker]:
    """Never blocks."""
    yield from ()


def stamp(ctx: Context) -> Change:
    """Changes nothing; the record keeps the event."""
    return Change()


STAMP = EffectSpec("tests.policies:STAMP", stamp)
