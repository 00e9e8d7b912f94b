"""Example guards the policy tests name by dotted path (``tests.policies:always_passes``)."""

from __future__ import annotations

from collections.abc import Iterator

from hirepipe import Blocker, Context


def always_passes(ctx: Context) -> Iterator[Blocker]:
    """Never blocks."""
    yield from ()
