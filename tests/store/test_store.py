"""Tests of hirepipe.store: the schema, adding and loading, firing, hooks, the log and replay.

Every test runs on SQLite and on PostgreSQL (``database``); a few race writers on PostgreSQL
only (``postgres``), where writers really run at once.
"""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from sqlalchemy import Column, Integer, create_engine, event, inspect, text
from sqlalchemy.dialects.sqlite import dialect as sqlite_dialect
from sqlalchemy.exc import OperationalError

from hirepipe import (
    ConcurrentUpdate,
    Fired,
    GuardRejected,
    Pipeline,
    RequisitionMismatch,
    RequisitionStatus,
    TransitionNotAllowed,
)
from hirepipe.notify import Notification
from hirepipe.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    AlreadyStored,
    ConcurrentRequisitionUpdate,
    Migration,
    NotStored,
    SchemaError,
    Store,
    StoreError,
    _schema,
)
from hirepipe.store._engine import _QUEUE, make_engine
from hirepipe.store._replay import LogRow, check_application, fold
from hirepipe.store._schema import UtcDateTime
from hirepipe.store._support import Recent
from hirepipe.testing import FakeClock, RecordingHook, make_candidate, make_requisition
from tests.forgeries import forgeries
from tests.forks import child_status
from tests.store import helpers as store_helpers
from tests.store.helpers import POLICY, START, Database, World

database = store_helpers.database  # the fixtures: SQLite and PostgreSQL, PostgreSQL only
postgres = store_helpers.postgres


def happy_path(store: Store, application_id: str) -> None:
    """Fire the README's path, interview to accepted offer, through the store."""
    fire = store.fire
    fire(application_id, "start_debrief", actor="maria")
    for person in ("alice", "bob"):
        fire(application_id, "submit_scorecard", actor=person, recommendation="strong_yes")
    fire(application_id, "complete_debrief", actor="maria")
    fire(application_id, "request_approval", actor="maria", salary=Decimal(135_000))
    fire(application_id, "record_approval", actor="cfo", granted=True)
    fire(application_id, "approve", actor="maria")
    fire(application_id, "send_reference_notice", actor="maria")
    for referee in ("grace", "alan"):
        fire(
            application_id,
            "add_reference",
            actor="maria",
            referee=referee,
            contact=f"{referee}@example.com",
            consent=True,
        )
        fire(application_id, "contact_reference", actor="maria", referee=referee)
        fire(
            application_id,
            "complete_reference",
            actor="maria",
            referee=referee,
            outcome="satisfactory",
        )
    fire(
        application_id,
        "extend_offer",
        actor="maria",
        salary=Decimal(135_000),
        start_date=date(2025, 3, 3),
    )
    fire(application_id, "counter", actor="cand-1", salary=Decimal(145_000))
    fire(
        application_id,
        "revise_offer",
        actor="maria",
        salary=Decimal(140_000),
        start_date=date(2025, 3, 3),
    )
    fire(application_id, "accept", actor="cand-1")


def log_versions(database: Database, application_id: str) -> list[int]:
    rows = database.execute(
        f"SELECT version FROM {database.table('hirepipe_transitions')} "
        "WHERE application_id = :id ORDER BY version",
        id=application_id,
    )
    return [row.version for row in rows]


class TestSchema:
    def test_using_tables_not_created_says_to_upgrade(self, database):
        """A store on a database without its tables says to run upgrade(), and changes nothing."""
        store = database.store(upgrade=False)
        assert 0 == store.schema_version()
        with pytest.raises(SchemaError, match=r"run store\.upgrade\(\) once") as refused:
            store.load("app-1")
        assert (0, SCHEMA_VERSION) == (refused.value.found, refused.value.expected)

    def test_upgrade_creates_the_tables_once(self, database):
        """upgrade() creates the tables and records the version; again, it changes nothing."""
        store = database.store(upgrade=False)
        assert (SCHEMA_VERSION, SCHEMA_VERSION) == (store.upgrade(), store.upgrade())
        assert SCHEMA_VERSION == store.schema_version()
        rows = database.execute(f"SELECT version FROM {database.table('hirepipe_schema')}")
        assert [m.version for m in MIGRATIONS] == [row.version for row in rows]

    def test_the_migrations_make_the_tables_the_store_uses(self, database):
        """The database the migrations made has the columns and indexes the store describes."""
        store = database.store()
        with store.engine.connect() as connection:
            found = inspect(connection)
            for table in store.tables.metadata.sorted_tables:
                columns = {c["name"] for c in found.get_columns(table.name, schema=table.schema)}
                indexes = {i["name"] for i in found.get_indexes(table.name, schema=table.schema)}
                assert set(table.columns.keys()) == columns, table.name
                assert {i.name for i in table.indexes} <= indexes, table.name

    def test_a_newer_schema_is_refused(self, database):
        """A database upgraded by a newer hirepipe is refused, by upgrade() too."""
        database.store()
        database.execute(
            f"INSERT INTO {database.table('hirepipe_schema')} VALUES (99, 'from the future')"
        )
        newer = database.store(upgrade=False)
        with pytest.raises(SchemaError, match="newer than this hirepipe knows"):
            newer.load("app-1")
        with pytest.raises(SchemaError, match="upgrade hirepipe"):
            newer.upgrade()

    def test_later_migrations_apply_in_order_once(self, database):
        """An upgrade applies only the migrations the database lacks, in order."""
        store = database.store()
        applied = []
        following = SCHEMA_VERSION + 1

        def add_column(connection, tables):
            applied.append(following)
            column = Column("score", Integer)
            table = tables.applications
            name = f'"{table.schema}".{table.name}' if table.schema else table.name
            connection.execute(text(f"ALTER TABLE {name} ADD COLUMN {column.name} INTEGER"))

        later = (*MIGRATIONS, Migration(following, "a score column", add_column))
        for _ in range(2):
            with store.engine.begin() as connection:
                assert following == _schema.upgrade(connection, store.tables, later)
        assert [following] == applied
        with store.engine.connect() as connection:
            columns = inspect(connection).get_columns(
                "hirepipe_applications", schema=store.tables.applications.schema
            )
        assert "score" in {c["name"] for c in columns}

    def test_upgrades_at_once_apply_each_migration_once(self, database):
        """Four processes' stores upgrading at the same moment create the tables once."""
        stores = [database.store(upgrade=False) for _ in range(4)]
        barrier = threading.Barrier(4)
        results, errors = [], []

        def upgrade(store: Store) -> None:
            barrier.wait()
            try:
                results.append(store.upgrade())
            except Exception as exc:
                errors.append(exc)

        threads = [threading.Thread(target=upgrade, args=(s,)) for s in stores]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ([], [SCHEMA_VERSION] * 4) == (errors, results)
        rows = database.execute(f"SELECT version FROM {database.table('hirepipe_schema')}")
        assert len(MIGRATIONS) == len(rows)

    def test_a_store_on_an_engine_of_your_own(self, database):
        """A store takes an Engine, and leaves it open when closed."""
        store = database.store()
        mine = Store(store.engine, schema=database.schema)
        mine.close()
        assert SCHEMA_VERSION == mine.schema_version()
        assert repr(mine).startswith("Store(")


class TestOpening:
    def test_sqlite_in_memory_as_a_context_manager(self):
        """sqlite:// keeps one in-memory database for the store's life; `with` closes it."""
        with Store("sqlite://", Pipeline(POLICY, clock=FakeClock(START))) as store:
            store.upgrade()
            application = store.pipeline.new_application(make_candidate(), make_requisition())
            store.add(application, make_requisition())
            store.fire(application.id, "hold", actor="maria", reason="freeze")
            assert ("on_hold", []) == (store.load(application.id).stage, store.verify())

    def test_other_databases_are_refused(self):
        """Only SQLite and PostgreSQL are supported, and said so at once."""
        engine = create_engine("sqlite://")
        engine.dialect.name = "oracle"
        with pytest.raises(StoreError, match="SQLite and PostgreSQL, not oracle"):
            Store(engine)
        engine.dispose()

    def test_timestamps_are_kept_in_utc(self):
        """Timestamps go in as UTC (naive ones refused) and come back aware, in UTC."""
        column, dialect = UtcDateTime(), sqlite_dialect()
        with pytest.raises(ValueError, match="naive datetime"):
            column.process_bind_param(datetime(2025, 1, 6), dialect)
        stored = column.process_bind_param(START, dialect)
        assert datetime(2025, 1, 6, 14) == stored
        assert (START, None) == (
            column.process_result_value(stored, dialect),
            column.process_result_value(None, dialect),
        )


class TestSharedEngine:
    """Stores sharing one engine take turns on it, and a thread never waits for itself."""

    def test_in_memory_a_second_store_inside_a_transaction_is_refused_at_once(self):
        """sqlite:// has one connection: a nested call through another store raises StoreError.

        Waiting would deadlock, and running would nest a transaction on the connection the
        first store is using; the first store's transaction is left whole and commits.
        """
        engine = make_engine("sqlite://")
        first = Store(engine, Pipeline(POLICY, clock=FakeClock(START)))
        first.upgrade()
        second = Store(engine)
        with first.transaction():
            first.add_requisition(make_requisition())
            with pytest.raises(StoreError, match="already has a transaction open"):
                second.requisitions()
            first.add_requisition(make_requisition(id="req-2"))
        assert ["req-1", "req-2"] == [r.id for r in second.requisitions()]
        engine.dispose()

    def test_on_a_file_a_second_store_may_read_but_not_write_inside_a_transaction(self, tmp_path):
        """A SQLite file: another store reads beside a write transaction; its write is refused.

        Its write would wait for the first store's lock, held by the same thread.
        """
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        first, second = Store(engine), Store(engine)
        first.upgrade()
        with first.transaction():
            first.add_requisition(make_requisition())
            assert [] == second.requisitions()  # not committed yet
            with pytest.raises(StoreError, match="already has a write transaction open"):
                second.add_requisition(make_requisition(id="req-2"))
        assert ["req-1"] == [r.id for r in second.requisitions()]
        engine.dispose()


class TestRecent:
    def test_recent_states_are_private_bounded_and_by_version(self):
        """The store remembers a few latest states, hands out copies, and forgets the oldest."""
        builder = Pipeline(POLICY, clock=FakeClock(START))
        recent = Recent(size=2)
        made = {}
        for number in (1, 2, 3):
            made[number] = builder.new_application(
                make_candidate(number), make_requisition(), application_id=f"app-{number}"
            )
            recent.put(f"app-{number}", 0, made[number], None, recent.ticket())
        assert (None, None) == (recent.get("app-1", 0), recent.get("app-2", 1))
        copy = recent.get("app-2", 0)
        assert made[2] == copy
        assert copy is not made[2]
        builder.fire(copy, "note", actor="maria", requisition=make_requisition())
        assert 0 == len(recent.get("app-2", 0).history)


class TestCachedApplications:
    """``Store(cached_applications=...)``: how many latest states a store keeps in memory.

    Before, 4,096 and fixed: some 230 MiB of large applications, with no way to lower it.
    """

    def test_at_most_that_many_are_remembered_the_least_recent_dropped(self, database):
        world = World(database, cached_applications=2)
        for number in (1, 2, 3, 4):
            world.application(number)
            world.store.fire(f"app-{number}", "hold", actor="maria", reason="freeze")
            assert len(world.store._recent._entries) <= 2
        assert ["app-3", "app-4"] == list(world.store._recent._entries)
        world.store.fire("app-1", "resume", actor="maria", reason="thawed")
        assert ["app-4", "app-1"] == list(world.store._recent._entries)
        assert [] == world.store.verify()

    def test_zero_keeps_none_and_every_fire_still_works(self, database):
        world = World(database, cached_applications=0)
        for number in (1, 2):
            world.application(number)
            world.store.fire(f"app-{number}", "hold", actor="maria", reason="freeze")
            world.store.fire(f"app-{number}", "resume", actor="maria", reason="thawed")
        assert 0 == len(world.store._recent._entries)
        assert ["interviewed", "interviewed"] == [a.stage for a in world.store.applications()]
        assert 2 == world.store.load("app-2").version
        assert [] == world.store.verify()

    def test_the_default_is_4096(self, database):
        assert 4096 == database.store()._recent.size

    @pytest.mark.parametrize("size", [-1, 1.5, "10", True, None], ids=repr)
    def test_a_size_that_is_no_count_is_refused(self, tmp_path, size):
        """A ValueError naming the keyword, before the store makes its engine."""
        with pytest.raises(ValueError, match="cached_applications must be a whole number from 0"):
            Store(f"sqlite:///{tmp_path / 'store.db'}", cached_applications=size)
        assert not (tmp_path / "store.db").exists()


class TestFork:
    """A child forked while a thread of its parent held a cache's lock fires all the same.

    The child's copy of the lock stays taken for good (the thread holding it does not exist
    in the child): before, its first fire waited forever on the store's memory of recent
    states (``Recent``) or of parsed requisitions, as ``Kept``'s did before 3006869.
    """

    @pytest.mark.parametrize("cache", ["_recent", "_requisitions"])
    def test_a_child_forked_while_a_caches_lock_was_held_still_fires(self, tmp_path, cache):
        store = Store(f"sqlite:///{tmp_path / 'store.db'}", Pipeline(POLICY))
        store.upgrade()
        requisition = make_requisition()
        application = store.pipeline.new_application(make_candidate(), requisition)
        store.add(application, requisition)
        store.fire(application.id, "hold", actor="maria", reason="freeze")  # both caches fill

        def fire() -> None:
            store.engine.dispose(close=False)  # the parent's connections stay its own
            store.fire(application.id, "resume", actor="maria", reason="thawed")
            assert "interviewed" == store.load(application.id).stage

        assert 0 == child_status(getattr(store, cache)._lock, fire)  # -14 before: SIGALRM
        assert (2, "interviewed") == (
            store.load(application.id).version,
            store.load(application.id).stage,
        )
        store.fire(application.id, "hold", actor="maria", reason="again")  # the parent's too
        store.close()

    def test_a_child_forked_while_the_pool_was_in_use_fires_on_its_own_connections(self, database):
        """A store's own engine: the child makes its pool afresh (no dispose of its own).

        Before, a thread of the parent inside the pool (its lock taken) left the child waiting
        forever at its first fire, and the child took the parent's pooled connections.
        """
        if database.engine is not None:
            pytest.skip("in memory: one shared connection, the database itself")
        store = database.store(Pipeline(POLICY))
        requisition = make_requisition()
        application = store.pipeline.new_application(make_candidate(), requisition)
        store.add(application, requisition)
        parents = store.engine.pool

        def fire() -> None:
            store.fire(application.id, "hold", actor="maria", reason="freeze")
            assert store.engine.pool is not parents

        assert 0 == child_status(parents._pool.mutex, fire)  # type: ignore[attr-defined]
        assert "on_hold" == store.load(application.id).stage
        store.fire(application.id, "resume", actor="maria", reason="thawed")  # the parent's too

    def test_a_child_forked_while_the_outbox_delivered_delivers(self, tmp_path):
        """``delivering`` holds the outbox's lock for a whole send."""
        store = Store(f"sqlite:///{tmp_path / 'store.db'}", Pipeline(POLICY))

        def deliver_in_child() -> None:
            with store.outbox.delivering():
                pass

        assert 0 == child_status(store.outbox._delivery, deliver_in_child)
        store.close()

    def test_a_child_forked_inside_a_write_on_a_shared_engine_writes(self, tmp_path):
        """The engine's write queue (SQLite: one writer at a time) is the parent's, not its."""
        engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
        store = Store(engine)
        store.upgrade()
        _, write_queue = getattr(engine, _QUEUE)  # (every transaction, writes): SQLite's

        def write() -> None:
            engine.dispose(close=False)
            store.add_requisition(make_requisition(id="req-child"))

        assert 0 == child_status(write_queue._lock, write)
        engine.dispose()


class TestFold:
    """The log's fold, on rows made by hand: every way a log can be broken is named."""

    ADDED = json.dumps({"id": "a", "version": 0, "history": []})
    RECORD = json.dumps({"version": 1})

    @pytest.mark.parametrize(
        ("rows", "code", "message"),
        [
            ([], "log_missing", "no log rows"),
            ([LogRow(1, "transition", RECORD, "{}")], "log_order", "does not start"),
            (
                [LogRow(0, "added", None, ADDED), LogRow(1, "added", None, ADDED)],
                "log_order",
                "second",
            ),
            ([LogRow(0, "added", None, "[1]")], "invalid_log_row", "not an object"),
            ([LogRow(0, "added", None, "{")], "invalid_log_row", "not valid JSON"),
            ([LogRow(0, "added", None, '{"version": 0}')], "invalid_log_row", "history list"),
            (
                [LogRow(0, "added", None, ADDED), LogRow(1, "transition", None, "{}")],
                "invalid_log_row",
                "record is missing",
            ),
            (
                [LogRow(0, "added", None, ADDED), LogRow(1, "activity", '{"version": 3}', "{}")],
                "invalid_log_row",
                "says version 3",
            ),
            (
                [LogRow(0, "added", None, ADDED), LogRow(1, "activity", RECORD, '{"history": 1}')],
                "invalid_log_row",
                "name history or version",
            ),
            (
                [LogRow(0, "added", None, ADDED), LogRow(2, "activity", RECORD, "{}")],
                "log_gap",
                "expected version 1, found 2",
            ),
        ],
        ids=[
            "empty",
            "no-start",
            "two-starts",
            "start-not-object",
            "start-not-json",
            "start-without-history",
            "record-missing",
            "record-version",
            "derived-field",
            "gap",
        ],
    )
    def test_broken_logs(self, rows, code, message):
        """A log that cannot be folded gives no state and one problem saying why."""
        state, problems = fold("a", rows)
        (problem,) = problems
        assert (None, code, "a") == (state, problem.code, problem.application_id)
        assert message in problem.message

    def test_a_fold_stops_at_a_version(self):
        """A fold with upto stops after that version."""
        rows = [LogRow(0, "added", None, self.ADDED), LogRow(1, "activity", self.RECORD, "{}")]
        state, problems = fold("a", rows, upto=0)
        assert ({"id": "a", "version": 0, "history": []}, []) == (state, problems)

    def test_a_snapshot_that_is_not_an_application(self):
        """Valid JSON that is no Application, and columns that disagree, are both reported."""
        rows = [LogRow(0, "added", None, self.ADDED)]
        problems = check_application("a", {"stage": "review"}, self.ADDED, rows)
        assert ["invalid_snapshot", "column_mismatch"] == [p.code for p in problems]


class TestApplications:
    def test_add_then_load(self, database):
        """An added application loads back equal, with its requisition."""
        world = World(database)
        application = world.application(1, stage="review")
        assert application == world.store.load("app-1")
        assert world.requisition == world.store.requisition("req-1")
        assert [application.version] == log_versions(database, "app-1")  # the log starts here

    def test_add_refusals(self, database):
        """A known id, an unknown requisition and another requisition's are refused."""
        world = World(database)
        application = world.application(1)
        with pytest.raises(AlreadyStored, match="'app-1' is in the store already"):
            world.store.add(application)
        stray = world.builder.new_application(
            make_candidate(2), make_requisition(id="req-2"), application_id="app-2"
        )
        with pytest.raises(NotStored, match="no requisition 'req-2'"):
            world.store.add(stray)
        with pytest.raises(RequisitionMismatch):
            world.store.add(stray, world.requisition)
        with pytest.raises(NotStored, match="no application 'nope'"):
            world.store.load("nope")
        assert [application] == world.store.applications()

    def test_listing_applications(self, database):
        """Applications come back by id, filtered by requisition or stage."""
        world = World(database)
        other = make_requisition(id="req-2")
        world.application(1)
        world.application(2, stage="debrief")
        world.application(3, requisition=other)
        assert ["app-1", "app-2", "app-3"] == [a.id for a in world.store.applications()]
        assert ["app-3"] == [a.id for a in world.store.applications(requisition_id="req-2")]
        assert ["app-2"] == [a.id for a in world.store.applications(stage="debrief")]

    def test_requisitions(self, database):
        """Requisitions are added once, listed, and updated with validation under a lock."""
        store = database.store()
        store.add_requisition(make_requisition())
        with pytest.raises(AlreadyStored, match="requisition 'req-1'"):
            store.add_requisition(make_requisition())
        held = store.update_requisition("req-1", status=RequisitionStatus.on_hold)
        assert (RequisitionStatus.on_hold, held) == (held.status, store.requisition("req-1"))
        assert [held] == store.requisitions()
        with pytest.raises(ValidationError):
            store.update_requisition("req-1", headcount=0)
        with pytest.raises(StoreError, match="id cannot change"):
            store.update_requisition("req-1", id="req-9")
        with pytest.raises(NotStored):
            store.update_requisition("req-9", headcount=2)
        with pytest.raises(NotStored):
            store.requisition("req-9")


class TestFire:
    def test_fire_writes_snapshot_and_log(self, database):
        """A fired event is stored: stage, version, the log row; replay gives the snapshot."""
        world = World(database)
        world.application(1)
        fired = world.store.fire("app-1", "hold", actor="maria", reason="budget freeze")
        assert isinstance(fired, Fired)
        loaded = world.store.load("app-1")
        assert ("on_hold", 1, "interviewed") == (loaded.stage, loaded.version, loaded.held_from)
        assert fired.application == loaded
        assert [0, 1] == log_versions(database, "app-1")
        assert loaded == world.store.replay("app-1")
        assert [] == world.store.verify()

    def test_the_whole_lifecycle_replays(self, database):
        """Every kind of change (scorecards, approvals, references, offers) replays exactly."""
        world = World(database)
        world.application(1)
        happy_path(world.store, "app-1")
        loaded = world.store.load("app-1")
        assert ("hired", 18) == (loaded.stage, loaded.version)
        assert loaded == world.store.replay("app-1")
        assert 1 == world.store.requisition("req-1").filled
        assert [] == world.store.verify()

    def test_replay_to_any_version(self, database):
        """replay(version=n) rebuilds the application as it was after its n-th record."""
        world = World(database)
        world.application(1)
        seen = [world.store.load("app-1")]
        for name, data in [("hold", {"reason": "x"}), ("note", {"text": "y"}), ("resume", {})]:
            world.store.fire("app-1", name, actor="maria", reason=data.pop("reason", "z"), **data)
            seen.append(world.store.load("app-1"))
        assert seen == [world.store.replay("app-1", version=n) for n in range(4)]
        with pytest.raises(StoreError, match="no version 9"):
            world.store.replay("app-1", version=9)
        with pytest.raises(NotStored):
            world.store.replay("nope")

    def test_a_refused_event_writes_nothing(self, database):
        """A guard's refusal leaves the snapshot, the log and the outbox as they were."""
        world = World(database)
        world.application(1)
        recorder = RecordingHook()
        world.pipeline.hooks.append(recorder)
        with pytest.raises(GuardRejected):
            world.store.fire("app-1", "hold", actor="maria")  # a hold needs a reason
        assert (0, [0], 0, []) == (
            world.store.load("app-1").version,
            log_versions(database, "app-1"),
            len(world.store.outbox),
            recorder.calls,
        )

    def test_a_stale_version_is_a_concurrent_update(self, database):
        """Firing with a version read earlier and changed since raises ConcurrentUpdate."""
        world = World(database)
        world.application(1)
        read = world.store.load("app-1")
        world.store.fire("app-1", "note", actor="maria", text="first")
        with pytest.raises(ConcurrentUpdate) as refused:
            world.store.fire("app-1", "note", actor="bob", expected_version=read.version)
        assert (0, 1) == (refused.value.expected, refused.value.actual)
        assert [0, 1] == log_versions(database, "app-1")
        fired = world.store.fire("app-1", "note", actor="bob", expected_version=1)
        assert 2 == fired.record.version

    @pytest.mark.parametrize("given", [True, 1.0, "1"])
    def test_a_version_that_is_not_an_int_is_refused_as_the_pipeline_refuses_it(
        self, database, given
    ):
        """``True`` was compared as 1 and called stale: a TypeError, nothing written."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="first")
        world.store.fire("app-1", "note", actor="maria", text="second")
        with pytest.raises(TypeError, match="expected_version must be an int"):
            world.store.fire("app-1", "note", actor="bob", expected_version=given)
        assert [0, 1, 2] == log_versions(database, "app-1")

    def test_accepting_fills_the_requisition_in_the_same_transaction(self, database):
        """Accepting writes the requisition's new headcount with the event, and logs the change."""
        world = World(database)
        world.application(1, stage="offer")
        world.application(2, stage="offer")
        world.store.fire("app-1", "accept", actor="cand-1")
        stored = world.store.requisition("req-1")
        assert (1, RequisitionStatus.filled) == (stored.filled, stored.status)
        changes = database.execute(
            f"SELECT requisition_changes FROM {database.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' AND event = 'accept'"
        )
        assert {"filled": 1, "status": "filled"} == json.loads(changes[0].requisition_changes)
        with pytest.raises(GuardRejected, match="no open headcount"):
            world.store.fire("app-2", "accept", actor="cand-2")

    def test_acting_for_the_candidate_is_stored_with_both_people(self, database):
        """The store keeps the actor and the person acted for; a stranger's event writes nothing."""
        world = World(database)
        world.application(1, stage="offer")
        logged = log_versions(database, "app-1")
        with pytest.raises(GuardRejected) as refused:
            world.store.fire("app-1", "accept", actor="mallory", on_behalf_of="cand-1")
        assert ("not_permitted",) == refused.value.codes
        assert logged == log_versions(database, "app-1")
        fired = world.store.fire("app-1", "accept", actor="maria", on_behalf_of="cand-1")
        stored = world.store.load("app-1")
        assert ("maria", "cand-1") == (
            stored.history[-1].actor,
            stored.history[-1].data["on_behalf_of"],
        )
        assert fired.record == stored.history[-1]
        assert stored == world.store.replay("app-1")
        assert [] == world.store.verify()

    def test_reactivating_for_another_requisition(self, database):
        """Reactivating with requisition_id moves the application, and its requisition column."""
        world = World(database)
        other = make_requisition(id="req-2")
        world.store.add_requisition(other)
        world.application(1, stage="talent_pool")
        world.application(2, stage="talent_pool")
        world.store.fire("app-1", "reactivate", actor="maria", requisition_id="req-2")
        assert ["app-1"] == [a.id for a in world.store.applications(requisition_id="req-2")]
        assert "req-2" == world.store.load("app-1").requisition_id
        with pytest.raises(NotStored, match="req-9"):
            world.store.fire("app-2", "reactivate", actor="maria", requisition_id="req-9")
        assert [] == world.store.verify()

    def test_the_pipeline_policy_of_the_moment_is_used(self, database):
        """A policy the pipeline is given later is the one the store fires with."""
        world = World(database)
        world.application(1)
        world.pipeline.policy = POLICY.without_stage("debrief")
        with pytest.raises(TransitionNotAllowed, match="no event 'start_debrief'"):
            world.store.fire("app-1", "start_debrief", actor="maria")

    def test_an_event_rolled_back_is_never_remembered(self, database):
        """A fire undone with its transaction leaves no trace the next fire could build on."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="kept")

        def undone() -> None:
            with world.store.transaction():
                world.store.fire("app-1", "hold", actor="maria", reason="undone")
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            undone()
        rival = database.store(Pipeline(POLICY), upgrade=False)
        rival.fire("app-1", "inquiry", actor="cand-1", text="news?")  # version 2, elsewhere
        fired = world.store.fire("app-1", "note", actor="maria", text="after")
        assert ["note", "inquiry", "note"] == [r.event for r in fired.application.history]
        assert ("interviewed", []) == (fired.application.stage, world.store.verify())

    def test_unknown_application(self, database):
        """Firing on an unknown application raises NotStored."""
        store = database.store()
        with pytest.raises(NotStored):
            store.fire("nope", "note", actor="maria")


class TestRaces:
    """Writers racing between the read and the write: only PostgreSQL runs them at once."""

    def race(self, store: Store, statement: str, competitor: Any) -> None:
        """Run ``competitor`` once, just before ``store`` sends a statement containing this."""
        ran = []

        @event.listens_for(store.engine, "before_cursor_execute")
        def _before(conn, cursor, sql, *args):
            if statement in sql and not ran:
                ran.append(True)
                competitor()

    def test_a_writer_that_lost_the_race_gets_concurrent_update(self, postgres):
        """Another writer commits between our read and our write: ours is refused, whole."""
        world = World(postgres)
        world.application(1)
        rival = World(postgres, store=postgres.store(upgrade=False))
        self.race(
            world.store,
            # the compare-and-set: on PostgreSQL inside the statement that writes the log row
            f"UPDATE {postgres.schema}.hirepipe_applications SET",
            lambda: rival.store.fire("app-1", "hold", actor="cfo", reason="first"),
        )
        with pytest.raises(ConcurrentUpdate) as refused:
            world.store.fire("app-1", "hold", actor="maria", reason="second")
        assert (0, 1) == (refused.value.expected, refused.value.actual)
        assert "changed while 'hold' was being applied" in str(refused.value)
        stored = world.store.load("app-1")
        assert ("on_hold", 1, "cfo") == (stored.stage, stored.version, stored.history[-1].actor)
        (kept,) = world.store.outbox  # the rival's: the loser's hook was never called
        assert "app-1/1/status/cand-1" == kept.key
        assert [] == world.store.verify()

    def test_two_acceptances_of_the_last_headcount(self, postgres):
        """Two candidates accept the last headcount at once: one is hired, one must retry."""
        world = World(postgres)
        world.application(1, stage="offer")
        world.application(2, stage="offer")
        rival = World(postgres, store=postgres.store(upgrade=False))
        self.race(
            world.store,
            f"UPDATE {postgres.schema}.hirepipe_requisitions",
            lambda: rival.store.fire("app-2", "accept", actor="cand-2"),
        )
        with pytest.raises(ConcurrentRequisitionUpdate) as refused:
            world.store.fire("app-1", "accept", actor="cand-1")
        assert ("req-1", 1, 2) == (
            refused.value.requisition_id,
            refused.value.expected,
            refused.value.actual,
        )
        assert isinstance(refused.value, ConcurrentUpdate)
        assert "requisition 'req-1' changed" in str(refused.value)
        assert ("offer", "hired") == (
            world.store.load("app-1").stage,
            world.store.load("app-2").stage,
        )
        with pytest.raises(GuardRejected):  # the retry sees the filled requisition
            world.store.fire("app-1", "accept", actor="cand-1")
        assert 1 == world.store.requisition("req-1").filled
        assert [] == world.store.verify()


class TestHooks:
    def test_notifications_commit_with_the_event(self, database):
        """The Notifier's notifications are in the outbox as soon as fire returns."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        world.store.fire("app-1", "inquiry", actor="cand-1", text="news?")  # no rule: no message
        (made,) = world.store.outbox
        assert ("app-1/1/status/cand-1", "status_update") == (made.key, made.template)
        assert made == world.store.outbox.get(made.key)

    def test_hooks_see_only_events_that_won_their_compare_and_set(self, database):
        """A refused event calls no hook, so nothing is told of what did not happen."""
        world = World(database)
        world.application(1)
        recorder = RecordingHook()
        world.pipeline.hooks.append(recorder)
        world.store.fire("app-1", "note", actor="maria")
        with pytest.raises(ConcurrentUpdate):
            world.store.fire("app-1", "note", actor="maria", expected_version=0)
        assert ["note"] == recorder.events

    def test_a_failing_hook_is_recorded_and_retried(self, database):
        """A hook that raises never undoes the event; it is reported and retried until it works."""
        world = World(database)
        world.application(1)
        broken = [True]

        def flaky(fired: Fired) -> None:
            if broken[0]:
                raise RuntimeError("mail directory down")
            world.notifier(fired)

        world.pipeline.hooks[:] = [flaky]
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        assert (1, 0) == (world.store.load("app-1").version, len(world.store.outbox))
        (problem,) = world.store.verify()
        assert ("hook_failed", "app-1", 1) == (
            problem.code,
            problem.application_id,
            problem.version,
        )
        assert ".flaky: RuntimeError (its message is left out" in problem.message  # may be personal
        assert 1 == world.store.retry_hooks()
        broken[0] = False
        assert 0 == world.store.retry_hooks()
        assert (["app-1/1/status/cand-1"], []) == (
            [n.key for n in world.store.outbox],
            world.store.verify(),
        )
        assert 0 == world.store.retry_hooks()

    def test_what_a_hook_adds_is_visible_to_it_before_it_commits(self, database):
        """Inside the event, the outbox answers from the notifications added so far."""
        world = World(database)
        world.application(1)
        world.store.outbox.add(_notification("app-1"))
        seen = []

        def adds_twice(fired: Fired) -> None:
            outbox = world.store.outbox
            first = replace(_notification("app-1"), key="app-1/1/extra/cand-1")
            second = replace(first, key="app-1/1/other/cand-1")
            seen.append(
                (
                    outbox.add(first),
                    outbox.add(first),
                    first.key in outbox,
                    outbox.get(first.key) == first,
                    outbox.add(_notification("app-1")),  # committed earlier
                    outbox.add(second),
                )
            )

        world.pipeline.hooks[:] = [adds_twice]
        world.store.fire("app-1", "note", actor="maria")
        assert [(True, False, True, True, False, True)] == seen
        assert 3 == len(world.store.outbox)

    def test_workers_retrying_at_once_call_each_hook_once(self, database):
        """A failure retried by another worker meanwhile is left to it."""
        world = World(database)
        world.application(1)
        calls = []
        world.pipeline.hooks[:] = [lambda fired: (_ for _ in ()).throw(RuntimeError("down"))]
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        world.pipeline.hooks[:] = [lambda fired: calls.append(fired.record.version)]
        other = database.store(world.pipeline, upgrade=False)

        @event.listens_for(world.store.engine, "after_cursor_execute")
        def _listed(conn, cursor, sql, *args):
            if "hirepipe_hook_failures" in sql and "ORDER BY" in sql and not calls:
                assert 0 == other.retry_hooks()

        assert 0 == world.store.retry_hooks()
        assert ([1], []) == (calls, world.store.verify())

    def test_a_database_error_in_a_hook_fails_the_event(self, database):
        """A hook that hits a database error fails the whole event: nothing is half written."""
        world = World(database)
        world.application(1)

        def broken(fired: Fired) -> None:
            raise OperationalError("SELECT", {}, Exception("connection lost"))

        world.pipeline.hooks.insert(0, broken)
        with pytest.raises(OperationalError):
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        assert (0, 0, []) == (
            world.store.load("app-1").version,
            len(world.store.outbox),
            world.store.verify(),
        )

    def test_a_hook_may_fire_another_event(self, database):
        """A hook firing through the store joins the event's transaction."""
        world = World(database)
        world.application(1)
        world.application(2)

        def cascade(fired: Fired) -> None:
            if fired.application.id == "app-1" and fired.record.event == "hold":
                world.store.fire("app-2", "hold", actor="maria", reason="slate frozen")

        world.pipeline.hooks.append(cascade)
        world.store.fire("app-1", "hold", actor="maria", reason="budget freeze")
        assert ["on_hold", "on_hold"] == [a.stage for a in world.store.applications()]
        assert {"app-1/1/status/cand-1", "app-2/1/status/cand-2"} == {
            n.key for n in world.store.outbox
        }

    def test_a_transaction_adds_and_notifies_together(self, database):
        """store.transaction() commits an application with its creation notifications, or none."""
        world = World(database)
        application = world.builder.new_application(
            make_candidate(1), world.requisition, application_id="app-1"
        )

        def add_then_fail() -> None:
            with world.store.transaction():
                world.store.add(application, world.requisition)
                world.store.outbox.add(_notification(application.id))
                raise RuntimeError("the caller changed its mind")

        with pytest.raises(RuntimeError):
            add_then_fail()
        assert ([], 0) == (world.store.applications(), len(world.store.outbox))
        with world.store.transaction() as connection:
            world.store.add(application, world.requisition)
            assert world.store.outbox.add(_notification(application.id))
            assert not world.store.outbox.add(_notification(application.id))
            with pytest.raises(GuardRejected):  # undoes only itself
                world.store.fire("app-1", "hold", actor="maria")
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
            assert 1 == connection.execute(text("SELECT 1")).scalar()
        assert (1, 2) == (world.store.load("app-1").version, len(world.store.outbox))
        assert [] == world.store.verify()


def _notification(application_id: str) -> Notification:
    """A creation notification for the candidate."""
    return Notification(
        key=f"{application_id}/0/received/cand-1",
        rule="received",
        template="application_received",
        application_id=application_id,
        requisition_id="req-1",
        trigger="created",
        role="candidate",
        to="cand-1",
        address="candidate1@example.com",
        created_at=START,
        due_at=START,
        next_attempt_at=START,
    )


EVENTS = st.lists(
    st.sampled_from(["hold", "resume", "note", "inquiry", "start_debrief", "withdraw"]),
    max_size=12,
)


class TestProperties:
    @settings(
        max_examples=15,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(events=EVENTS)
    def test_any_sequence_replays_to_its_snapshot(self, database, events):
        """For any events fired (refused ones included), every log replays to its snapshot."""
        store = _property_store(database)
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition() if not store.requisitions() else None)
        applied = 0
        for name in events:
            try:
                store.fire(application.id, name, actor="maria", reason="because")
                applied += 1
            except (GuardRejected, TransitionNotAllowed):
                pass
        loaded = store.load(application.id)
        assert (applied, loaded) == (loaded.version, store.replay(application.id))


_STORES: dict[str, Store] = {}


def _property_store(database: Database) -> Store:
    """One store per database for all of a property test's examples."""
    key = f"{database.url}/{database.schema}"
    if key not in _STORES or _STORES[key] not in database.stores:
        _STORES[key] = database.store(Pipeline(POLICY))
    return _STORES[key]


def test_the_public_names_are_exported():
    """hirepipe.store's __all__ lists exactly its public names."""
    import hirepipe.store

    public = {
        name
        for name, value in vars(hirepipe.store).items()
        if not name.startswith("_") and not isinstance(value, type(hirepipe.store))
    }
    assert public == set(hirepipe.store.__all__)


class TestStateCannotLie:
    """The store refuses what Application refuses, and verify reports it (issue 18, measured)."""

    def test_add_refuses_a_version_and_stage_its_history_contradicts(self, database):
        """stage='hired', version=77 with no history is refused; nothing is stored."""
        world = World(database)
        application = world.builder.new_application(
            make_candidate(), world.requisition, application_id="app-1"
        )
        forged = application.model_copy(update={"stage": "hired", "version": 77, "history": []})
        with pytest.raises(ValidationError, match="version 77 but the history has 0 records"):
            world.store.add(forged, world.requisition)
        with pytest.raises(NotStored):
            world.store.load("app-1")

    def test_add_refuses_a_stage_the_policy_lacks(self, database):
        """An application in a stage the store's policy does not define is refused."""
        world = World(database)
        application = world.builder.new_application(
            make_candidate(), world.requisition, application_id="app-1"
        )
        application.stage = "lost"
        with pytest.raises(StoreError, match="stage 'lost', which policy 'standard@1'"):
            world.store.add(application, world.requisition)
        assert [] == world.store.applications()

    def test_verify_reports_rows_that_lie(self, database):
        """Rows written around the store (a contradicting version, unknown stage) are reported."""
        world = World(database)
        world.application(1)
        world.application(2)
        for number, edit in [(1, {"version": 77}), (2, {"stage": "lost"})]:
            snapshot = json.loads(world.store.load(f"app-{number}").model_dump_json())
            snapshot.update(edit)
            for table, column, key in [
                ("hirepipe_applications", "snapshot", "id"),
                ("hirepipe_transitions", "changes", "application_id"),
            ]:
                database.execute(
                    f"UPDATE {database.table(table)} SET {column} = :value WHERE {key} = :id",
                    value=json.dumps(snapshot),
                    id=f"app-{number}",
                )
            database.execute(
                f"UPDATE {database.table('hirepipe_applications')} "
                "SET version = :version, stage = :stage WHERE id = :id",
                version=snapshot["version"],
                stage=snapshot["stage"],
                id=f"app-{number}",
            )
        found = {(p.code, p.application_id) for p in world.store.verify()}
        assert ("invalid_snapshot", "app-1") in found
        assert ("unknown_stage", "app-2") in found

    @pytest.mark.parametrize(
        "identifier", ["app\x00-1", "app-1\r\n", "app\u202e-1"], ids=["nul", "crlf", "bidi"]
    )
    def test_ids_with_control_characters_are_never_stored(self, database, identifier):
        """The same answer on SQLite and PostgreSQL: NotStored for lookups, never a DataError."""
        world = World(database)
        world.application(1)
        with pytest.raises(NotStored):
            world.store.load(identifier)
        with pytest.raises(NotStored):
            world.store.fire(identifier, "note", actor="maria")
        with pytest.raises(NotStored):
            world.store.requisition(identifier)
        assert [] == world.store.applications(requisition_id=identifier)
        assert [] == world.store.applications(stage=identifier)

    def test_actors_with_control_characters_are_refused_on_both(self, database):
        """A NUL in an actor is a ValidationError on both databases, and nothing is written."""
        world = World(database)
        world.application(1)
        with pytest.raises(ValidationError, match="control or invisible character"):
            world.store.fire("app-1", "note", actor="ma\x00ria", text="hi")
        assert [0] == log_versions(database, "app-1")


class TestForgedApplications:
    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(forgery=forgeries())
    def test_store_add_refuses_every_forgery(self, database, forgery):
        """Store.add refuses every forged or inconsistent application, and stores nothing."""
        store = _property_store(database)
        expected = StoreError if forgery.kind == "store" else ValidationError
        with pytest.raises(expected):
            store.add(forgery.application, make_requisition())
        with pytest.raises(NotStored):
            store.load(forgery.application.id)
