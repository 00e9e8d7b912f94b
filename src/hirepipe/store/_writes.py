"""Writes that several store operations share.

Inserts that keep the first row with a key (``ON CONFLICT DO NOTHING``, on SQLite and
PostgreSQL alike), the requisition's compare-and-set, and a new log row, its hash chained onto
the row before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.dml import Insert

from hirepipe.errors import ConcurrentRequisitionUpdate, NotStored
from hirepipe.models import Requisition
from hirepipe.notify import Notification
from hirepipe.store._chain import Hashed, row_hash
from hirepipe.store._schema import Tables
from hirepipe.store._verify import parse_requisition

__all__ = [
    "insert_ignore",
    "insert_notifications",
    "insert_requisition",
    "log_values",
    "requisition_row",
    "row_values",
    "version_of",
    "write_requisition",
]


def row_values(notification: Notification) -> dict[str, Any]:
    """The outbox row of ``notification``, unclaimed."""
    return {
        "key": notification.key,
        "application_id": notification.application_id,
        "recipient": notification.to,
        "status": notification.status.value,
        "next_attempt_at": notification.next_attempt_at,
        "sent_at": notification.sent_at,
        "claimed_by": None,
        "claimed_until": None,
        "notification": notification.to_json(),
    }


def insert_ignore(connection: Connection, table: Table, key: str) -> Insert:
    """An INSERT that does nothing when a row with the same ``key`` exists (no error).

    Pass personal values to ``execute`` as parameters, never in the statement
    (``.values(...)``): SQLAlchemy's statement cache keeps the first statement of each shape,
    values and all, long after an erasure (or a key's deletion) removed them from the database.
    """
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=[key])
    return sqlite.insert(table).on_conflict_do_nothing(index_elements=[key])


def insert_notifications(
    connection: Connection, tables: Tables, notifications: Sequence[Notification]
) -> bool:
    """Insert the notifications with new keys; with one notification, return whether it was."""
    outbox = tables.outbox
    statement = insert_ignore(connection, outbox, "key")
    if len(notifications) == 1:
        added = connection.execute(statement.returning(outbox.c.seq), row_values(notifications[0]))
        return added.first() is not None
    connection.execute(statement, [row_values(n) for n in notifications])
    return True


def insert_requisition(connection: Connection, tables: Tables, requisition: Requisition) -> bool:
    """Insert a requisition at version 1; return False if its id is stored already."""
    table = tables.requisitions
    inserted = connection.execute(
        insert_ignore(connection, table, "id")
        .returning(table.c.id)
        .values(
            id=requisition.id,
            version=1,
            status=requisition.status.value,
            snapshot=requisition.model_dump_json(),
        )
    )
    return inserted.first() is not None


def requisition_row(
    connection: Connection, tables: Tables, requisition_id: str
) -> tuple[Requisition, int]:
    """Return a stored requisition and its row's version. Raises NotStored."""
    table = tables.requisitions
    row = connection.execute(
        select(table.c.snapshot, table.c.version).where(table.c.id == requisition_id)
    ).one_or_none()
    if row is None:
        raise NotStored("requisition", requisition_id)
    return parse_requisition(requisition_id, row.snapshot), row.version


def write_requisition(
    connection: Connection,
    tables: Tables,
    requisition: Requisition,
    version: int,
    *,
    application_id: str,
    event: str,
    stage: str,
) -> None:
    """Write a requisition an event changed, compare-and-set on the version read."""
    table = tables.requisitions
    written = connection.execute(
        update(table)
        .where(table.c.id == requisition.id, table.c.version == version)
        .values(
            version=version + 1,
            status=requisition.status.value,
            snapshot=requisition.model_dump_json(),
        )
    )
    if written.rowcount != 1:
        raise ConcurrentRequisitionUpdate(
            application_id=application_id,
            requisition_id=requisition.id,
            stage=stage,
            event=event,
            expected=version,
            actual=version_of(connection, table, requisition.id),
        )


def version_of(connection: Connection, table: Any, identifier: str) -> int:
    """The version column of a row (-1 if it is gone)."""
    found = connection.execute(select(table.c.version).where(table.c.id == identifier)).scalar()
    return int(found) if found is not None else -1


def log_values(
    application_id: str, row: Hashed, personal: str | None, previous: str | None
) -> dict[str, Any]:
    """The columns of a new log row, its hash chained onto ``previous``."""
    return {
        "application_id": application_id,
        "version": row.version,
        "kind": row.kind,
        "event": row.event,
        "from_stage": row.from_stage,
        "to_stage": row.to_stage,
        "actor": row.actor,
        "at": row.at,
        "record": row.record,
        "changes": row.changes,
        "requisition_changes": row.requisition_changes,
        "hash": row_hash(application_id, row, previous),
        "personal": personal,
    }
