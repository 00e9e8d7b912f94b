"""The old home of names that now live in [`hirepipe.policy`][hirepipe.policy].

Kept so that existing imports keep working; new code imports from the new home.
"""

from hirepipe.policy import Registry as Registry
from hirepipe.standard import standard_registry as standard_registry

__all__ = [
    "Registry",
    "standard_registry",
]
