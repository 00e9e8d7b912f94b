"""Migration 2 on a database written by schema 1: every log hashed, personal values held apart."""

from __future__ import annotations

import json

from sqlalchemy import insert

from hirepipe.models import ERASED, Application
from hirepipe.store import MIGRATIONS, SCHEMA_VERSION, Store, _schema
from hirepipe.store._replay import ADDED, changed_fields
from hirepipe.testing import actor_for
from tests.store import helpers as store_helpers
from tests.store.helpers import Database, World

database = store_helpers.database


def write_as_version_1(world: World, number: int, events: list[tuple[str, dict]]) -> None:
    """Add app-<number> and fire ``events`` on it in memory, writing rows as schema 1 did."""
    application = world.builder.new_application(
        store_helpers.make_candidate(number),
        world.requisition,
        interviewers=["alice"],
        application_id=f"app-{number}",
    )
    tables = world.store.tables
    with world.store.engine.begin() as connection:
        if number == 1:
            connection.execute(
                insert(tables.requisitions).values(
                    id=world.requisition.id,
                    version=1,
                    status="open",
                    snapshot=world.requisition.model_dump_json(),
                )
            )
        snapshot = application.model_dump_json()
        connection.execute(
            insert(tables.applications).values(
                id=application.id,
                requisition_id=application.requisition_id,
                candidate_id=application.candidate.id,
                stage=application.stage,
                version=0,
                snapshot=snapshot,
            )
        )
        connection.execute(
            insert(tables.transitions).values(
                application_id=application.id,
                version=0,
                kind=ADDED,
                at=application.created_at,
                changes=snapshot,
            )
        )
        for event, data in events:
            before = dict(application.__dict__)
            actor = actor_for(world.builder, application, world.requisition, event)
            record = world.builder.fire(
                application, event, actor=actor, requisition=world.requisition, **data
            ).record
            connection.execute(
                insert(tables.transitions).values(
                    application_id=application.id,
                    version=record.version,
                    kind=record.kind,
                    event=record.event,
                    from_stage=record.from_stage,
                    to_stage=record.to_stage,
                    actor=record.actor,
                    at=record.at,
                    record=record.model_dump_json(),
                    changes=json.dumps(changed_fields(before, application)),
                )
            )
        connection.execute(
            tables.applications.update()
            .where(tables.applications.c.id == application.id)
            .values(
                stage=application.stage,
                version=application.version,
                snapshot=application.model_dump_json(),
            )
        )


def version_1_store(database: Database) -> World:
    """A database at schema 1 holding two applications' logs, as schema 1 wrote them."""
    store = database.store(upgrade=False)
    with store.engine.begin() as connection:
        assert 1 == _schema.upgrade(connection, store.tables, MIGRATIONS[:1])
    world = World(database, store=store)
    write_as_version_1(
        world,
        1,
        [
            ("note", {"text": "Asked about remote work."}),
            ("start_debrief", {}),
            ("submit_scorecard", {"recommendation": "yes", "notes": "Clear thinker."}),
        ],
    )
    write_as_version_1(world, 2, [("withdraw", {})])
    return world


def test_upgrading_hashes_every_log_and_keeps_it_replayable(database):
    """After migration 2, verify is clean, replays equal the snapshots, events chain on."""
    world = version_1_store(database)
    before = {
        row.id: Application.model_validate_json(row.snapshot)
        for row in database.execute(
            f"SELECT id, snapshot FROM {database.table('hirepipe_applications')}"
        )
    }
    assert SCHEMA_VERSION == world.store.upgrade()
    assert [] == world.store.verify()
    for identifier, application in before.items():
        assert application == world.store.load(identifier) == world.store.replay(identifier)
    world.store.fire("app-1", "note", actor="maria", text="after the upgrade")
    assert [] == world.store.verify()
    rows = database.execute(
        f"SELECT record, changes, hash FROM {database.table('hirepipe_transitions')}"
    )
    assert all(row.hash is not None for row in rows)
    assert not any("Clear thinker." in (row.record or "") + row.changes for row in rows)


def test_an_upgraded_log_can_be_erased(database):
    """Rows from schema 1 hold every string of their event data apart: all of it is erased."""
    world = version_1_store(database)
    world.store.upgrade()
    assert ["app-2"] == world.store.erase("cand-2", actor="maria")
    assert [] == world.store.verify()
    erased = world.store.load("app-2")
    assert (ERASED, "withdrawn") == (erased.candidate.name, erased.stage)
    assert erased == world.store.replay("app-2")


def test_a_row_schema_1_could_not_read_is_hashed_as_it_is_and_still_reported(database):
    """A row edited into invalid JSON before the upgrade stays reported, not blessed."""
    world = version_1_store(database)
    database.execute(
        f"UPDATE {database.table('hirepipe_transitions')} SET record = '{{' "
        "WHERE application_id = 'app-1' AND version = 1"
    )
    world.store.upgrade()
    assert [("invalid_log_row", "app-1", 1)] == [
        (p.code, p.application_id, p.version) for p in world.store.verify()
    ]


def test_a_fresh_store_reads_an_upgraded_one(database):
    """Another process's store, opened after the upgrade, sees the same sound logs."""
    world = version_1_store(database)
    world.store.upgrade()
    other = Store(database.url, world.pipeline, schema=database.schema)
    database.stores.append(other)
    assert ([], 3) == (other.verify(), other.load("app-1").version)
