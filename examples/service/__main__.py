"""``python -m examples.service serve|sweep``: run the service, or its daily job once.

::

    python -m examples.service serve --port 8000
    python -m examples.service sweep --database postgresql+psycopg://hr@db/hiring

The database comes from ``--database``, else ``HIREPIPE_DATABASE_URL``, else a SQLite file
``hiring.db`` in the current directory. Notifications go to the webhook named by
``HIREPIPE_WEBHOOK_URL`` (signed with ``HIREPIPE_WEBHOOK_SECRET``), or to the log.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence

from hirepipe import Clock

from .hiring import DEFAULT_DATABASE, HiringService, sender_from_environment


def main(argv: Sequence[str] | None = None, *, clock: Clock | None = None) -> int:
    """Run the command in ``argv`` (``clock``: the wall clock's stand-in); return the exit code."""
    parser = argparse.ArgumentParser(prog="python -m examples.service", description=__doc__)
    parser.add_argument(
        "--database",
        default=os.environ.get("HIREPIPE_DATABASE_URL", DEFAULT_DATABASE),
        help="SQLAlchemy URL: sqlite:///hiring.db or postgresql+psycopg://user@host/db",
    )
    parser.add_argument("--schema", help="the PostgreSQL schema of the tables (default: public)")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    commands.add_parser("sweep", help="run the daily job once and print what it did")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if arguments.command == "serve":
        import uvicorn

        from .app import create_app

        app = create_app(
            arguments.database, sender=sender_from_environment(), schema=arguments.schema
        )
        uvicorn.run(app, host=arguments.host, port=arguments.port)
        return 0
    service = HiringService.open(
        arguments.database, sender=sender_from_environment(), schema=arguments.schema, clock=clock
    )
    try:
        report = service.sweep()
    finally:
        service.close()
    print(json.dumps(dataclasses.asdict(report)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
