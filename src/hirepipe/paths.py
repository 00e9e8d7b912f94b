"""The old home of names that now live in [`hirepipe.policy`][hirepipe.policy].

Kept so that existing imports keep working; new code imports from the new home.
"""

from hirepipe.policy import Path as Path
from hirepipe.policy import paths as paths

__all__ = [
    "Path",
    "paths",
]
