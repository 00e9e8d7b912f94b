"""``python -m hirepipe``: the command line (needs the ``cli`` extra)."""

from hirepipe.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
