"""The ``hirepipe`` command line: simulate, estimate, validate, draw and walk policies.

::

    hirepipe simulate --industry engineering --company-size large --runs 500 --seed 1
    hirepipe validate policy.toml --allow-imports acme.hiring

Needs the ``cli`` extra (typer and rich); ``--plot`` needs the ``plot`` extra (matplotlib).
"""

from hirepipe.cli._app import main as main

__all__ = ["main"]
