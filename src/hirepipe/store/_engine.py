"""Engines: SQLite set up for one writer at a time, PostgreSQL as it comes.

SQLite takes its write lock when a write transaction begins (``BEGIN IMMEDIATE``), so two
writers queue on the lock (waiting up to ``busy_timeout``) instead of both reading and then
one failing to upgrade its lock. The database runs in WAL mode, so readers never wait for the
writer, with foreign keys enforced. Read-only transactions begin with a plain ``BEGIN``.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.pool import StaticPool

__all__ = ["WRITE", "make_engine", "prepare"]

WRITE = "hirepipe_write"
"""The execution option a store sets on a connection whose transaction will write."""

_BUSY_TIMEOUT_SECONDS = 30.0
_PREPARED = "hirepipe_prepared"


def make_engine(url: str | URL) -> Engine:
    """Create an engine for ``url``; SQLite in memory shares one connection (one thread).

    :func:`prepare` it before use.
    """
    parsed = make_url(url)
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        connect_args: dict[str, Any] = {"timeout": _BUSY_TIMEOUT_SECONDS}
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            # one in-memory database for every thread, not one per thread
            options["poolclass"] = StaticPool
            connect_args["check_same_thread"] = False
        options["connect_args"] = connect_args
    return create_engine(parsed, **options)


def prepare(engine: Engine) -> None:
    """Set an engine up for the store (once): SQLite's locking, WAL and foreign keys."""
    if engine.dialect.name != "sqlite" or getattr(engine, _PREPARED, False):
        return
    setattr(engine, _PREPARED, True)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite would begin transactions itself, lazily and deferred; the store begins them
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_SECONDS * 1000)}")
            # Another connection creating the file at this moment may hold the lock this
            # needs; it sets WAL itself (a property of the database, not of a connection).
            with contextlib.suppress(sqlite3.OperationalError):
                cursor.execute("PRAGMA journal_mode = WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE, True)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
