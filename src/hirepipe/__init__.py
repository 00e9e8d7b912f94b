"""hirepipe: the rules of what happens after a job interview."""

from hirepipe._version import __version__

__all__ = ["__version__"]
