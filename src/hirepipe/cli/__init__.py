"""The ``hirepipe`` command line: simulate, estimate, validate, draw and walk policies.

```console
hirepipe simulate --industry engineering --company-size large --runs 500 --seed 1
hirepipe events standard
hirepipe validate policy.toml --allow-imports acme.hiring
```

Needs the ``cli`` extra (typer and rich); ``--plot`` needs the ``plot`` extra (matplotlib).
Without typer and rich, ``hirepipe`` says which extra to install.

Exit codes: 0 when the command did its work (output cut short by a closed pipe, as in
``hirepipe paths standard | head``, included); 1 for a problem with the input files or the
run (a policy file that does not load, a plot that cannot be written); 2 for a command line
that does not parse or an option whose value hirepipe cannot use (an unknown option or
industry, a malformed date, a stage the policy does not have). Every error is one line on
stderr, starting ``hirepipe: error:``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["INSTALL_CLI", "main"]

INSTALL_CLI = "pip install 'hirepipe[cli]'"

_EXTRA = frozenset({"typer", "rich", "click"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        import rich.console  # noqa: F401  (the extra, checked before the app imports it)
        import typer  # noqa: F401

        from hirepipe.cli._app import run
    except ImportError as exc:
        missing = (exc.name or "").partition(".")[0]
        if missing not in _EXTRA:
            raise  # not the extra: a bug, shown with its traceback
        print(
            f"hirepipe: the command line needs the 'cli' extra ({missing} is not installed): "
            f"{INSTALL_CLI}",
            file=sys.stderr,
        )
        return 1
    return run(list(sys.argv[1:] if argv is None else argv))
