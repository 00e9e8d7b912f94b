"""Tests of a fire's hot path: compiled statements, the snapshot written, the lone write, conflicts.

Each runs on SQLite and PostgreSQL (``database``), or on PostgreSQL only (``postgres``) where
the behaviour is PostgreSQL's: round trips saved, deadlocks and serialization failures.
"""

from __future__ import annotations

import contextlib
import os
import re
import threading
from typing import Annotated, Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WrapSerializer, field_serializer
from sqlalchemy import create_engine, event
from sqlalchemy.exc import IntegrityError

from hirepipe import ConcurrentUpdate, GuardRejected, Pipeline, TransitionNotAllowed
from hirepipe.errors import Blocker, CorruptData, StoreError, TransactionConflict
from hirepipe.models import Application
from hirepipe.store import Store
from hirepipe.store._replay import changed_fields
from hirepipe.testing import RecordingHook, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.helpers import POLICY, Database, World, give_back_kept, round_trips

database = store_helpers.database
postgres = store_helpers.postgres

EVENTS = st.lists(
    st.sampled_from(["hold", "resume", "note", "inquiry", "start_debrief", "withdraw"]),
    max_size=10,
)


def stored_snapshot(database: Database, application_id: str) -> str:
    (row,) = database.execute(
        f"SELECT snapshot FROM {database.table('hirepipe_applications')} WHERE id = :id",
        id=application_id,
    )
    return str(row.snapshot)


def fire_all(store: Store, application_id: str, events: list[str]) -> None:
    for name in events:
        data = {"text": "a note"} if name in ("note", "inquiry") else {"reason": "because"}
        with contextlib.suppress(GuardRejected, TransitionNotAllowed):
            store.fire(application_id, name, actor="maria", **data)


_STORES: dict[str, tuple[Store, Store]] = {}


class TestSnapshot:
    @settings(
        max_examples=12,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture],
    )
    @given(first=EVENTS, then=EVENTS)
    def test_every_snapshot_written_is_the_models_own_json(self, database, first, then):
        """The snapshot the store writes (its history reused as text) is the model's JSON.

        Whether the store wrote the state before, or another store did.
        """
        key = f"{database.url}/{database.schema}"
        if key not in _STORES or _STORES[key][0] not in database.stores:
            _STORES[key] = (database.store(Pipeline(POLICY)), database.store(Pipeline(POLICY)))
        one, other = _STORES[key]
        application = one.pipeline.new_application(make_candidate(), make_requisition())
        one.add(application, make_requisition() if not one.requisitions() else None)
        fire_all(one, application.id, first)
        fire_all(other, application.id, then)  # it has never seen the state: it parses it
        fire_all(one, application.id, then)  # it wrote an older state: it parses it
        text = stored_snapshot(database, application.id)
        assert Application.model_validate_json(text).model_dump_json() == text

    def test_a_row_edited_by_hand_is_read_as_edited(self, database):
        """What the store remembers never hides a row changed behind its back."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        requisitions = database.table("hirepipe_requisitions")
        (row,) = database.execute(f"SELECT snapshot FROM {requisitions}")
        database.execute(
            f"UPDATE {requisitions} SET snapshot = :text",
            text=re.sub(r'"time_zone":"[^"]*"', '"time_zone":"Europe/Berlin"', row.snapshot),
        )
        fired = world.store.fire("app-1", "resume", actor="maria", reason="back")
        assert fired.requisition is not None
        assert "Europe/Berlin" == fired.requisition.time_zone
        database.execute(
            f"UPDATE {database.table('hirepipe_applications')} SET snapshot = 'not json'"
        )
        with pytest.raises(CorruptData):
            world.store.fire("app-1", "hold", actor="maria", reason="again")

    @settings(max_examples=25, deadline=None)
    @given(events=EVENTS)
    def test_the_fields_an_event_changed_are_kept_as_their_json(self, events):
        """A log row's changes are each changed field's JSON, as pydantic dumps it, in order."""
        pipeline = Pipeline(POLICY)
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition)
        for name in events:
            data = {"text": "a note"} if name in ("note", "inquiry") else {"reason": "because"}
            before = dict(application.__dict__)
            with contextlib.suppress(GuardRejected, TransitionNotAllowed):
                pipeline.fire(application, name, actor="maria", requisition=requisition, **data)
            found = changed_fields(before, application)
            moved = {
                field
                for field, value in application.__dict__.items()
                if field not in ("history", "version") and before[field] != value
            }
            expected = application.model_dump(mode="json", include=moved) if moved else {}
            assert list(expected.items()) == list(found.items())


_UPPER = PlainSerializer(lambda value: value.upper(), return_type=str)
_SHOUT = WrapSerializer(lambda value, dump: f"{dump(value)}!", return_type=str)


class _Nested(BaseModel):
    """Fields whose serializer is not the field's own, but inside its type."""

    optional: Annotated[str, _UPPER] | None = None
    optional_typing: Optional[Annotated[str, _SHOUT]] = None  # noqa: UP045 - the spelling tested
    union: int | Annotated[str, _UPPER] = 0
    annotated: Annotated[Annotated[str, _UPPER] | None, Field(description="twice over")] = None
    plain: str | None = None


class _Starred(BaseModel):
    """A field serializer for every field."""

    name: str = ""

    @field_serializer("*")
    def _upper(self, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value


class _Left(BaseModel):
    """Fields dumped under another name, or not at all."""

    model_config = ConfigDict(serialize_by_alias=True)

    aliased: str = Field("", serialization_alias="full_name")
    excluded: str = Field("", exclude=True)


TEXTS = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


class TestChangedFields:
    @settings(max_examples=25, deadline=None)
    @given(value=TEXTS)
    @pytest.mark.parametrize(
        ("model", "field"),
        [
            (_Nested, "optional"),
            (_Nested, "optional_typing"),
            (_Nested, "union"),
            (_Nested, "annotated"),
            (_Nested, "plain"),
            (_Starred, "name"),
            (_Left, "aliased"),
            (_Left, "excluded"),
        ],
        ids=lambda item: item if isinstance(item, str) else item.__name__,
    )
    def test_a_changed_field_is_what_pydantic_dumps(self, model, field, value):
        """However its serializer is attached: inside Optional, a union, Annotated, or '*'."""
        instance = model()
        before = dict(instance.__dict__)
        setattr(instance, field, value)
        changed = before[field] != value
        expected = instance.model_dump(mode="json", include={field}) if changed else {}
        assert expected == changed_fields(before, instance)


class TestStatements:
    @pytest.mark.parametrize("hooked", [True, False], ids=["hooks", "no-hooks"])
    def test_a_driver_error_is_sqlalchemys_and_writes_nothing(self, database, hooked):
        """A statement the database refuses raises SQLAlchemy's error; nothing is written.

        With hooks the write is a transaction; without, on PostgreSQL, one statement alone.
        """
        world = World(database)
        if not hooked:
            world.pipeline.hooks.clear()
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="the key is made")
        log = database.table("hirepipe_transitions")
        database.execute(  # a log row in the way of the next event's
            f"INSERT INTO {log} (application_id, version, kind, changes) "
            "VALUES ('app-1', 2, 'transition', '{}')"
        )
        with pytest.raises(IntegrityError):
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        loaded = world.store.load("app-1")
        assert ("interviewed", 1) == (loaded.stage, loaded.version)
        assert [] == list(world.store.outbox)

    def test_listeners_on_the_engine_see_every_statement_of_a_fire(self, database):
        """A host's listener sees a fire's read and write (the fast path steps aside)."""
        engine = create_engine(database.url)
        seen: list[str] = []
        event.listen(engine, "before_cursor_execute", lambda *args: seen.append(args[2]))
        store = Store(engine, Pipeline(POLICY), schema=database.schema)
        try:
            store.upgrade()
            application = store.pipeline.new_application(make_candidate(), make_requisition())
            store.add(application, make_requisition())
            seen.clear()
            store.fire(application.id, "hold", actor="maria", reason="freeze")
            sent = list(seen)
            assert 1 == store.load(application.id).version
        finally:
            store.close()
            engine.dispose()
        reads = [sql for sql in sent if sql.lstrip().startswith("SELECT")]
        logged = [sql for sql in sent if "INSERT INTO" in sql and "hirepipe_transitions" in sql]
        assert (1, 1) == (len(reads), len(logged))


def transaction_states(store: Store) -> list[tuple[str, str]]:
    """Record, for each statement ``store`` sends, its first word and the driver's state."""
    states: list[tuple[str, str]] = []

    @event.listens_for(store.engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
        status = conn.connection.driver_connection.info.transaction_status.name
        states.append((sql.split()[0], status))

    return states


class TestRoundTrips:
    def test_a_fire_with_nothing_else_to_write_sends_no_begin(self, postgres):
        """With no hook, the read and the one write statement run on their own, no BEGIN."""
        store = postgres.store(Pipeline(POLICY))
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        store.fire(application.id, "note", actor="maria", text="first")  # the key is made
        states = transaction_states(store)
        store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert [("SELECT", "IDLE"), ("WITH", "IDLE")] == states
        assert ("on_hold", 2) == (
            store.load(application.id).stage,
            store.load(application.id).version,
        )
        assert [] == store.verify()

    def test_a_fire_whose_hooks_write_is_one_transaction(self, postgres):
        """With hooks, the write and what they add commit together, after the read."""
        world = World(postgres)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="first")
        states = transaction_states(world.store)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        assert ("SELECT", "IDLE") == states[0]
        assert ("WITH", "IDLE") == states[1]  # the transaction begins with it
        assert all(status == "INTRANS" for _, status in states[2:])
        assert 1 == len(list(world.store.outbox))

    def test_a_fire_counts_its_round_trips(self, postgres):
        """Two round trips without hooks; three with a Notifier adding to the outbox.

        The read; then the write with its BEGIN; then the outbox's row with the COMMIT.
        """
        world = World(postgres)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="first")  # the key is made
        with round_trips(world.store) as notified:
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        world.pipeline.hooks.clear()
        with round_trips(world.store) as alone:
            world.store.fire("app-1", "resume", actor="maria", reason="thaw")
        assert (3, 2) == (notified.count, alone.count)
        assert ["app-1/2/status/cand-1"] == [n.key for n in world.store.outbox]
        assert ("interviewed", 3) == (
            world.store.load("app-1").stage,
            world.store.load("app-1").version,
        )
        assert [] == world.store.verify()

    def test_a_notification_that_cannot_be_stored_undoes_its_event(self, postgres):
        """The event and its outbox row commit together: an insert refused keeps neither.

        The connection goes back to the pool as it came (in a transaction's hands, not in
        autocommit), and the next event commits whole.
        """
        world = World(postgres)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="first")
        outbox = postgres.table("hirepipe_outbox")
        postgres.execute(f"ALTER TABLE {outbox} ADD CONSTRAINT refused CHECK (false) NOT VALID")
        with pytest.raises(IntegrityError, match="refused"):
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        loaded = world.store.load("app-1")
        assert ("interviewed", 1) == (loaded.stage, loaded.version)
        logged = postgres.execute(
            f"SELECT version FROM {postgres.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' ORDER BY version"
        )
        assert [0, 1] == [row.version for row in logged]
        assert [] == list(world.store.outbox)
        pooled = world.store.engine.raw_connection()
        try:
            assert False is pooled.driver_connection.autocommit
        finally:
            pooled.close()
        postgres.execute(f"ALTER TABLE {outbox} DROP CONSTRAINT refused")
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        assert ["app-1/2/status/cand-1"] == [n.key for n in world.store.outbox]
        assert [] == world.store.verify()

    def test_a_write_begun_by_hand_that_lost_the_race_writes_nothing(self, postgres, monkeypatch):
        """With a Notifier, a rival's event between the read and the write: refused whole.

        No log row, no notification, and the connection back in the pool out of autocommit.
        """
        world = World(postgres)
        rival = postgres.store(Pipeline(POLICY), upgrade=False)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="first")
        write = world.store._statements.write

        def rival_first(*args: Any, **kwargs: Any) -> bool:
            rival.fire("app-1", "hold", actor="cfo", reason="first")
            return write(*args, **kwargs)

        monkeypatch.setattr(world.store._statements, "write", rival_first)
        with round_trips(world.store) as sent, pytest.raises(ConcurrentUpdate) as refused:
            world.store.fire("app-1", "note", actor="maria", text="second")
        monkeypatch.undo()
        assert (1, 2) == (refused.value.expected, refused.value.actual)
        assert 4 == sent.count  # the read; BEGIN with the write; the version now; ROLLBACK
        loaded = world.store.load("app-1")
        assert ("on_hold", 2, "cfo") == (loaded.stage, loaded.version, loaded.history[-1].actor)
        assert [] == list(world.store.outbox)
        pooled = world.store.engine.raw_connection()
        try:
            assert False is pooled.driver_connection.autocommit
        finally:
            pooled.close()
        world.store.fire("app-1", "resume", actor="maria", reason="thaw")
        assert ["app-1/3/status/cand-1"] == [n.key for n in world.store.outbox]
        assert [] == world.store.verify()

    def test_a_lone_write_that_lost_the_race_writes_nothing(self, postgres):
        """The one-statement write refuses a stale version whole: no log row, no snapshot."""
        store = postgres.store(Pipeline(POLICY))
        rival = postgres.store(Pipeline(POLICY), upgrade=False)
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        store.fire(application.id, "note", actor="maria", text="first")
        ran: list[bool] = []

        @event.listens_for(store.engine, "before_cursor_execute")
        def _before(conn: Any, cursor: Any, sql: str, *args: Any) -> None:
            if sql.startswith("WITH") and not ran:
                ran.append(True)
                rival.fire(application.id, "hold", actor="cfo", reason="first")

        with pytest.raises(ConcurrentUpdate) as refused:
            store.fire(application.id, "note", actor="maria", text="second")
        assert (1, 2) == (refused.value.expected, refused.value.actual)
        loaded = store.load(application.id)
        assert ("on_hold", 2, "cfo") == (loaded.stage, loaded.version, loaded.history[-1].actor)
        assert [] == store.verify()

    def test_a_held_write_that_lost_the_race_writes_nothing(self, postgres, monkeypatch):
        """A fire on a connection of its own (no listener, no hook) refuses a stale version.

        A rival's event between the read and the write: ConcurrentUpdate with both
        versions, nothing of it written, and the connection back in the pool as it came.
        """
        store = postgres.store(Pipeline(POLICY))
        rival = postgres.store(Pipeline(POLICY), upgrade=False)
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        store.fire(application.id, "note", actor="maria", text="first")
        write = store._statements.write_held

        def rival_first(*args: Any, **kwargs: Any) -> bool:
            rival.fire(application.id, "hold", actor="cfo", reason="first")
            return write(*args, **kwargs)

        monkeypatch.setattr(store._statements, "write_held", rival_first)
        with pytest.raises(ConcurrentUpdate) as refused:
            store.fire(application.id, "note", actor="maria", text="second")
        monkeypatch.undo()
        assert (1, 2) == (refused.value.expected, refused.value.actual)
        loaded = store.load(application.id)
        assert ("on_hold", 2, "cfo") == (loaded.stage, loaded.version, loaded.history[-1].actor)
        assert_pooled_as_it_came(store)
        store.fire(application.id, "resume", actor="maria", reason="thaw")
        assert [] == store.verify()

    @pytest.mark.parametrize("failing", [False, True], ids=["fired", "refused"])
    def test_a_fire_leaves_its_connection_as_it_came(self, postgres, failing):
        """Out of autocommit, no transaction open, whether the fire wrote or raised."""
        store = postgres.store(Pipeline(POLICY))
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        store.fire(application.id, "note", actor="maria", text="first")
        if failing:
            with pytest.raises(TransitionNotAllowed):
                store.fire(application.id, "resume", actor="maria", reason="not held")
        else:
            store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert_pooled_as_it_came(store)

    def test_a_fire_that_makes_the_candidates_key_writes_it_with_the_event(self, postgres):
        """A key row gone (a store upgraded): the fire makes one, and writes the event."""
        store = postgres.store(Pipeline(POLICY))
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        keys = postgres.table("hirepipe_personal_keys")
        postgres.execute(f"DELETE FROM {keys}")
        store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert 1 == len(postgres.execute(f"SELECT * FROM {keys}"))
        loaded = store.load(application.id)
        assert ("on_hold", 1) == (loaded.stage, loaded.version)
        assert_pooled_as_it_came(store)

    def test_a_guard_that_reads_the_store_needs_no_second_connection(self, postgres):
        """A guard of the host's may read the store while its event fires, on a pool of one.

        Its read joins the fire's connection, as it did before a fire held a connection of
        its own; otherwise every fire waits for a second one (a pool's worth of concurrent
        fires then wait on each other until the pool times out).
        """
        engine = create_engine(postgres.url, pool_size=1, max_overflow=0, pool_timeout=2)
        found: list[str] = []

        def other_is_stored(context: Any) -> Any:
            found.append(store.load(other.id).stage)  # a host's guard asking the store
            return iter(())

        try:
            store = Store(
                engine, Pipeline(POLICY.with_guard("hold", other_is_stored)), schema=postgres.schema
            )
            store.upgrade()
            requisition = make_requisition()
            application = store.pipeline.new_application(make_candidate(), requisition)
            other = store.pipeline.new_application(make_candidate(2), requisition)
            store.add(application, requisition)
            store.add(other)
            store.fire(application.id, "note", actor="maria", text="first")
            store.fire(application.id, "hold", actor="maria", reason="freeze")
            assert ["interviewed"] == found
            loaded = store.load(application.id)
            assert ("on_hold", 2, []) == (loaded.stage, loaded.version, store.verify())
            assert_pooled_as_it_came(store)
        finally:
            engine.dispose()

    def test_a_guards_store_write_goes_with_a_refused_event(self, postgres):
        """A host's guard that fires on another application: refused event, nothing written.

        A fire of its own on PostgreSQL commits its write on its own, so a guard's write has
        no transaction to join: it is refused with a StoreError saying what to do (before, it
        raised a driver error: a SAVEPOINT outside a transaction block). Inside the host's
        transaction, as on SQLite, the guard's fire joins it and the refusal undoes both.
        """
        stored: dict[str, Any] = {}

        def fires_on_another(context: Any) -> Any:
            stored["store"].fire(stored["other"], "note", actor="maria", text="by a guard")
            return iter(())

        def refuses(context: Any) -> Any:
            yield Blocker("refused", "not now")

        policy = POLICY.with_guard("hold", fires_on_another).with_guard(
            "hold", refuses, name="refuses"
        )
        store = stored["store"] = postgres.store(Pipeline(policy))
        requisition = make_requisition()
        application = store.pipeline.new_application(make_candidate(), requisition)
        other = store.pipeline.new_application(make_candidate(2), requisition)
        store.add(application, requisition)
        store.add(other)
        stored["other"] = other.id
        with pytest.raises(StoreError, match=r"store\.transaction\(\)"):
            store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert (0, 0) == (store.load(application.id).version, store.load(other.id).version)
        assert_pooled_as_it_came(store)
        with pytest.raises(GuardRejected), store.transaction():
            store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert (0, 0) == (store.load(application.id).version, store.load(other.id).version)
        # the guard's own write is what the refusal undid: without the refusing guard, both
        store.pipeline.policy = POLICY.with_guard("hold", fires_on_another)
        with store.transaction():
            store.fire(application.id, "hold", actor="maria", reason="freeze")
        assert (1, 1) == (store.load(application.id).version, store.load(other.id).version)


def assert_pooled_as_it_came(store: Store) -> None:
    """The store's pooled connection is out of autocommit, with no transaction open.

    The one it keeps between fires (``Kept``) is given back first, as closing the store does.
    """
    give_back_kept(store)
    pooled = store.engine.raw_connection()
    try:
        driver = pooled.driver_connection
        assert (False, "IDLE") == (driver.autocommit, driver.info.transaction_status.name)
    finally:
        pooled.close()


class TestKept:
    """A store that made its engine keeps its fire's connection for the next fire."""

    @staticmethod
    def kept_driver(store: Store) -> Any:
        assert store._kept is not None
        held = store._kept._held
        return None if held is None else held.pooled.driver_connection

    @staticmethod
    def fired_store(postgres: Database) -> tuple[Store, str]:
        store = Store(postgres.url, Pipeline(POLICY), schema=postgres.schema)
        postgres.stores.append(store)
        store.upgrade()
        application = store.pipeline.new_application(make_candidate(), make_requisition())
        store.add(application, make_requisition())
        store.fire(application.id, "note", actor="maria", text="first")
        return store, application.id

    def test_the_next_fire_takes_the_connection_kept(self, postgres):
        """One connection out of the pool between fires, in autocommit, and the same again."""
        store, application_id = self.fired_store(postgres)
        driver = self.kept_driver(store)
        assert (True, "IDLE") == (driver.autocommit, driver.info.transaction_status.name)
        assert 1 == store.engine.pool.checkedout()
        store.fire(application_id, "hold", actor="maria", reason="freeze")
        assert driver is self.kept_driver(store)
        assert 1 == store.engine.pool.checkedout()
        assert ("on_hold", []) == (store.load(application_id).stage, store.verify())

    def test_a_fire_that_raised_gives_its_connection_back(self, postgres):
        """An error may leave anything behind: the connection goes back to the pool."""
        store, application_id = self.fired_store(postgres)
        with pytest.raises(TransitionNotAllowed):
            store.fire(application_id, "resume", actor="maria", reason="not held")
        assert (None, 0) == (self.kept_driver(store), store.engine.pool.checkedout())
        assert_pooled_as_it_came(store)

    def test_closing_the_store_gives_it_back(self, postgres):
        """Given back as a fire would have: out of autocommit, no transaction open."""
        store, _ = self.fired_store(postgres)
        driver = self.kept_driver(store)
        assert_pooled_as_it_came(store)  # gives it back first
        assert (None, 0) == (self.kept_driver(store), store.engine.pool.checkedout())
        pooled = store.engine.raw_connection()
        assert driver is pooled.driver_connection
        pooled.close()

    def test_a_fire_under_way_when_the_store_closes_gives_its_connection_back(self, postgres):
        """Closing keeps nothing from then on: a fire of another thread ending later neither."""
        store, application_id = self.fired_store(postgres)
        assert store._kept is not None
        under_way = store._kept.take(store.engine)  # as another thread's fire, mid-way
        assert under_way is not None
        store._kept.close()  # what Store.close does first (then it disposes of its engine)
        store._kept.give(under_way)  # that fire ends cleanly after the close
        assert (None, 0) == (self.kept_driver(store), store.engine.pool.checkedout())
        store.fire(application_id, "hold", actor="maria", reason="freeze")  # still fires
        assert (None, 0) == (self.kept_driver(store), store.engine.pool.checkedout())
        assert "on_hold" == store.load(application_id).stage

    def test_a_forked_child_leaves_its_parents_connection_alone(self, postgres):
        """A child process (here, as a child sees it) holds a connection of its own."""
        store, application_id = self.fired_store(postgres)
        assert store._kept is not None
        parents = self.kept_driver(store)
        store._kept._pid = -1  # as in a child forked after the parent's fire
        store.fire(application_id, "hold", actor="maria", reason="freeze")
        store._kept.close()
        assert parents is self.kept_driver(store)
        assert (False, True) == (parents.closed, parents.autocommit)  # neither closed nor used
        assert "on_hold" == store.load(application_id).stage
        store._kept._pid = os.getpid()  # the parent again: it gives its connection back
        store._kept.close()
        assert None is self.kept_driver(store)

    def test_a_child_forked_while_another_thread_held_the_lock_still_fires(self, postgres):
        """The child's copy of the lock stays taken forever: the child must not wait for it.

        ``give`` took the lock before asking whose process it was: a child forked while a
        thread of its parent was inside ``take`` or ``give`` hung at its first fire's end.
        """
        store, application_id = self.fired_store(postgres)
        assert store._kept is not None
        store._kept._pid = -1  # as in a child forked ...
        store._kept._lock.acquire()  # ... while a thread of its parent held the lock
        try:
            firing = threading.Thread(
                target=store.fire,
                args=(application_id, "hold"),
                kwargs={"actor": "maria", "reason": "freeze"},
                daemon=True,
            )
            firing.start()
            firing.join(timeout=20)
            assert not firing.is_alive()
        finally:
            store._kept._lock.release()
            store._kept._pid = os.getpid()
        assert "on_hold" == store.load(application_id).stage

    def test_a_store_on_a_hosts_engine_keeps_none(self, postgres):
        """The host's pool is the host's: each fire takes a connection and gives it back."""
        engine = create_engine(postgres.url)
        try:
            store = Store(engine, Pipeline(POLICY), schema=postgres.schema)
            store.upgrade()
            application = store.pipeline.new_application(make_candidate(), make_requisition())
            store.add(application, make_requisition())
            store.fire(application.id, "hold", actor="maria", reason="freeze")
            assert (None, 0) == (store._kept, engine.pool.checkedout())
        finally:
            engine.dispose()


class TestConflicts:
    def test_a_deadlock_is_a_transaction_conflict(self, postgres):
        """A deadlock raises TransactionConflict (a ConcurrentUpdate), nothing of it written.

        Two transactions lock two requisitions in opposite orders; PostgreSQL aborts one.
        """
        store = postgres.store(Pipeline(POLICY))
        for name in ("req-a", "req-b"):
            store.add_requisition(make_requisition().model_copy(update={"id": name}))
        both_locked = threading.Barrier(2)
        outcomes: dict[str, BaseException | None] = {}

        def lock(first: str, second: str) -> None:
            try:
                with store.transaction():
                    store.update_requisition(first, title=f"by {first}")
                    both_locked.wait(timeout=10)
                    store.update_requisition(second, title=f"by {first}")
                outcomes[first] = None
            except BaseException as exc:  # the test reports what each saw
                outcomes[first] = exc

        threads = [
            threading.Thread(target=lock, args=pair)
            for pair in (("req-a", "req-b"), ("req-b", "req-a"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        failed = [exc for exc in outcomes.values() if exc is not None]
        assert 1 == len(failed), outcomes
        (conflict,) = failed
        assert isinstance(conflict, TransactionConflict)
        assert isinstance(conflict, ConcurrentUpdate)
        assert "40P01" == conflict.sqlstate
        assert "deadlock" in str(conflict)
        (winner,) = [name for name, exc in outcomes.items() if exc is None]
        titles = {store.requisition(name).title for name in ("req-a", "req-b")}
        assert {f"by {winner}"} == titles  # the loser's first update was rolled back too

    def test_a_serialization_failure_is_a_transaction_conflict(self, postgres):
        """A serialization failure raises TransactionConflict, naming the application and event.

        Under REPEATABLE READ, PostgreSQL aborts a fire on a row changed since the
        transaction's snapshot was taken.
        """
        engine = create_engine(postgres.url, isolation_level="REPEATABLE READ")
        store = Store(engine, Pipeline(POLICY), schema=postgres.schema)
        rival = postgres.store(Pipeline(POLICY))
        try:
            application = store.pipeline.new_application(make_candidate(), make_requisition())
            store.add(application, make_requisition())
            with store.transaction():
                store.load(application.id)  # the transaction's snapshot is taken here
                rival.fire(application.id, "hold", actor="cfo", reason="first")
                with pytest.raises(TransactionConflict) as refused:
                    store.fire(application.id, "note", actor="maria", text="second")
            assert ("40001", application.id, "note") == (
                refused.value.sqlstate,
                refused.value.application_id,
                refused.value.event,
            )
            assert "serialization failure" in str(refused.value)
        finally:
            store.close()
            engine.dispose()
        assert ("on_hold", 1) == (
            rival.load(application.id).stage,
            rival.load(application.id).version,
        )
        assert [] == rival.verify()


def test_hooks_are_called_once_per_event_written(database):
    """A recording hook sees each event the fast path wrote, once."""
    store = database.store(Pipeline(POLICY))
    hook = RecordingHook()
    store.pipeline.hooks.append(hook)
    application = store.pipeline.new_application(make_candidate(), make_requisition())
    store.add(application, make_requisition())
    for name in ("hold", "resume", "hold"):
        store.fire(application.id, name, actor="maria", reason="r")
    assert ["hold", "resume", "hold"] == [fired.record.event for fired in hook.calls]


def test_threads_racing_without_hooks_lose_nothing(database):
    """Threads firing on shared applications through the lone write: each event applied once.

    Every fire either applied (its version logged, in order) or was refused as a
    ConcurrentUpdate; nothing half-written, every log verifies.
    """
    store = database.store(Pipeline(POLICY))
    ids = []
    for number in range(6):
        application = store.pipeline.new_application(
            make_candidate(number), make_requisition(), application_id=f"app-{number}"
        )
        store.add(application, None if ids else make_requisition())
        ids.append(application.id)
    applied: list[tuple[str, int]] = []
    refused: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def write(seed: int) -> None:
        for n in range(25):
            target = ids[(seed + n) % len(ids)]
            try:
                loaded = store.load(target)
                name = "resume" if loaded.stage == "on_hold" else "hold"
                fired = store.fire(
                    target, name, actor="maria", reason="r", expected_version=loaded.version
                )
                with lock:
                    applied.append((target, fired.record.version))
            except ConcurrentUpdate:
                with lock:
                    refused.append(target)
            except BaseException as exc:  # the test reports anything else
                with lock:
                    errors.append(exc)

    threads = [threading.Thread(target=write, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [] == errors
    assert 100 == len(applied) + len(refused)
    for target in ids:
        versions = sorted(v for a, v in applied if a == target)
        assert list(range(1, store.load(target).version + 1)) == versions
    assert [] == store.verify()
