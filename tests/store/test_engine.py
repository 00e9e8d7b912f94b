"""Engines: the store sets up the engines it creates and leaves a host's engine as it was."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from hirepipe import Pipeline
from hirepipe.errors import TransactionConflict
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_candidate, make_requisition
from tests.leaks import said
from tests.store import helpers as store_helpers
from tests.store.helpers import POLICY, START, Database, World

database = store_helpers.database
postgres = store_helpers.postgres


def listeners(engine: Engine) -> dict[str, int]:
    """How many listeners the engine (and its pool) has for the events a store could use."""
    pool = engine.pool.dispatch
    return {
        "begin": len(engine.dispatch.begin),
        "before_cursor_execute": len(engine.dispatch.before_cursor_execute),
        "engine_connect": len(engine.dispatch.engine_connect),
        "connect": len(pool.connect),
        "first_connect": len(pool.first_connect),
        "checkout": len(pool.checkout),
    }


@pytest.fixture
def host(tmp_path: Path) -> Iterator[Engine]:
    """A host's engine on a SQLite file, as the host configured it; waits 0.2 s for a lock."""
    engine = create_engine(f"sqlite:///{tmp_path / 'host.db'}", connect_args={"timeout": 0.2})
    yield engine
    engine.dispose()


def use(url: str | Engine) -> tuple[Store, str]:
    """A store on ``url``, its tables created and one application put on hold through it."""
    store = Store(url, Pipeline(POLICY, clock=FakeClock(START)))
    store.upgrade()
    requisition = make_requisition()
    application = store.pipeline.new_application(make_candidate(), requisition)
    store.add(application, requisition)
    store.fire(application.id, "hold", actor="maria", reason="budget freeze")
    assert "on_hold" == store.load(application.id).stage
    return store, application.id


def statements(engine: Engine) -> list[str]:
    """A list the engine's statements are appended to from now on."""
    seen: list[str] = []

    @event.listens_for(engine, "before_cursor_execute")
    def record(_connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    return seen


class TestAHostsEngine:
    def test_no_listener_is_added(self, host):
        """A store given an engine adds no event listener to it or to its pool."""
        with host.connect() as connection:  # the host has used its engine before
            connection.execute(text("SELECT 1"))
        before = listeners(host)
        use(host)[0].close()
        assert before == listeners(host)

    def test_the_hosts_reads_do_not_take_the_write_lock(self, host, tmp_path):
        """While another process writes, the host still reads through its own engine.

        A store that made every transaction on the engine begin with ``BEGIN IMMEDIATE``
        made the host's read wait for the writer's lock, then fail.
        """
        use(host)[0].close()
        writer = sqlite3.connect(tmp_path / "host.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            with host.connect() as connection:
                count = connection.execute(text("SELECT count(*) FROM hirepipe_applications"))
                assert 1 == count.scalar()
        finally:
            writer.execute("ROLLBACK")
            writer.close()

    def test_the_hosts_connections_keep_their_settings(self, host):
        """The host's connections keep pysqlite's transaction handling and SQLite's pragmas."""
        use(host)[0].close()
        with host.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            assert "" == raw.isolation_level
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        assert ("delete", 0) == (journal, foreign_keys)

    def test_the_store_still_writes_with_the_lock_taken_first(self, host):
        """The store begins its own writes with BEGIN IMMEDIATE and its reads with BEGIN."""
        store, application_id = use(host)
        seen = statements(host)
        store.fire(application_id, "resume", actor="maria", reason="budget back")
        store.load(application_id)
        store.close()
        assert ["BEGIN IMMEDIATE", "BEGIN"] == [s for s in seen if s.startswith("BEGIN")]

    def test_a_host_that_begins_its_own_transactions(self, host):
        """An engine whose connections already begin transactions works; the store adds none."""

        @event.listens_for(host, "connect")
        def autocommit_driver(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None

        @event.listens_for(host, "begin")
        def begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN")

        seen = statements(host)
        use(host)[0].close()
        assert {"BEGIN"} == {s for s in seen if s.startswith("BEGIN")}

    def test_a_host_engine_locked_by_a_writer_says_so(self, host, tmp_path):
        """A store write that waited past the host's timeout raises SQLAlchemy's error."""
        store, application_id = use(host)
        writer = sqlite3.connect(tmp_path / "host.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")
        try:
            with pytest.raises(OperationalError, match="database is locked"):
                store.fire(application_id, "resume", actor="maria", reason="back")
        finally:
            writer.execute("ROLLBACK")
            writer.close()
            store.close()


class TestAnEngineTheStoreCreates:
    def test_sqlite_files_run_in_wal_with_foreign_keys(self, tmp_path):
        """The store's own SQLite engine runs in WAL mode with foreign keys enforced."""
        store, _ = use(f"sqlite:///{tmp_path / 'own.db'}")
        with store.engine.connect() as connection:
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        store.close()
        assert ("wal", 1) == (journal, foreign_keys)


PERSONAL = ("Candidate 1", "candidate1@example.com")
"""What the snapshot of app-1 (``World.application``) says of its candidate."""


def refuse_writes(database: Database, table: str) -> None:
    """Make the database refuse every row written to ``table`` from now on.

    PostgreSQL's refusal repeats the row in its detail (``Failing row contains ...``).
    """
    name = database.table(table)
    if database.backend == "postgresql":
        database.execute(f"ALTER TABLE {name} ADD CONSTRAINT refused CHECK (false) NOT VALID")
        return
    for when in ("INSERT", "UPDATE"):
        database.execute(
            f"CREATE TRIGGER refused_{when.lower()} BEFORE {when} ON {table} "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )


ENGINES: dict[str, Callable[[Database], Any]] = {
    "own": lambda database: database.url,
    "host": lambda database: create_engine(database.url),
    "host-hiding": lambda database: create_engine(database.url, hide_parameters=True),
}


class TestDriverErrorsSayNoValues:
    """A driver's error leaving the store says nothing of the snapshot it was writing."""

    @pytest.mark.parametrize("engine", sorted(ENGINES), ids=str)
    @pytest.mark.parametrize(
        "write",
        ["add", "fire-alone", "fire-hooked"],
        ids=str,
    )
    def test_a_refused_write_keeps_the_candidate_out_of_the_error(self, database, engine, write):
        """Nor its values, nor the database's detail, anywhere in the chain; the class stays.

        ``fire-alone`` is PostgreSQL's lone write on a held connection (no hooks),
        ``fire-hooked`` the write in a transaction, ``add`` SQLAlchemy's own statements.
        """
        where = ENGINES[engine](database)
        world = World(database, store=Store(where, schema=database.schema))
        database.stores.append(world.store)
        world.store.upgrade()
        if write == "fire-alone":
            world.pipeline.hooks.clear()
        if write == "add":
            refuse_writes(database, "hirepipe_applications")
            with pytest.raises(IntegrityError) as raised:
                world.application(1)
        else:
            world.application(1)
            refuse_writes(database, "hirepipe_applications")
            with pytest.raises(IntegrityError, match="refused") as raised:
                world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        text = said(raised.value)
        assert "hirepipe_applications" in text  # the statement is still said
        assert [] == [value for value in PERSONAL if value in text]
        if not isinstance(where, str):
            where.dispose()

    def test_a_conflict_keeps_the_values_out_of_its_chain(self, database):
        """A TransactionConflict's cause is the driver's error, bare of its values."""

        class SerializationFailure(Exception):
            sqlstate = "40001"

        world = World(database)
        with pytest.raises(TransactionConflict) as raised, world.store.transaction():
            raise OperationalError(
                "UPDATE hirepipe_applications SET snapshot = %s",
                ('{"name": "Candidate 1"}',),
                SerializationFailure("could not serialize\nDETAIL: Candidate 1"),
            )
        assert isinstance(raised.value.__cause__, DBAPIError)
        assert "could not serialize" in said(raised.value)
        assert [] == [value for value in PERSONAL if value in said(raised.value)]

    @pytest.mark.parametrize("code", ["HP001", "40001", "23514"], ids=str)
    def test_the_sqlstate_is_kept_when_psycopg_has_no_class_for_it(self, postgres, code):
        """A SQLSTATE of the host's own (a trigger's, a statement's) stays on the bare error.

        psycopg raises an error of a code it has no class for as its class's base
        (``OperationalError``), the code on the instance: the bare one of that class knew
        nothing of it. A conflict's code is still raised as TransactionConflict.
        """
        world = World(postgres)
        refuse = postgres.table("refuse")
        postgres.execute(
            f"CREATE FUNCTION {refuse}(detail text) RETURNS void LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{code}', DETAIL = detail; END $$"
        )
        expected = TransactionConflict if code == "40001" else DBAPIError
        with pytest.raises(expected) as raised, world.store.transaction() as connection:
            connection.execute(text(f"SELECT {refuse}(:detail)"), {"detail": PERSONAL[0]})
        error = raised.value if code != "40001" else raised.value.__cause__
        assert isinstance(error, DBAPIError)
        assert getattr(error.orig, "sqlstate", None) == code
        assert [] == [value for value in PERSONAL if value in said(raised.value)]

    def test_the_stores_own_engine_logs_no_values(self, database, caplog):
        """SQLAlchemy's log of the statements shows no snapshot (``hide_parameters``)."""
        caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        assert "hirepipe_applications" in caplog.text
        assert [] == [value for value in PERSONAL if value in caplog.text]
