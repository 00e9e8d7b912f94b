"""Migration 2's data step: hash every log row written before the chain existed.

Each application's rows are rewritten as the store now writes them, in version order: their
personal values held apart under the candidate's key, their documents canonical JSON, each row
hashed onto the one before; the application keeps the latest hash as its head. A version 1
row does not say which event data was personal, so every string in its record's data is held
apart (an erasure removes all of them). A row that is not JSON is hashed as it is, and
``verify`` goes on reporting it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from hirepipe.store._chain import Hashed, canonical, row_hash
from hirepipe.store._personal import candidate_key, stored_documents

if TYPE_CHECKING:
    from hirepipe.store._schema import Tables

__all__ = ["backfill_chain"]

_BATCH = 200


def _unknown(_event: str) -> None:
    return None


def backfill_chain(connection: Connection, tables: Tables) -> None:
    """Hash and split every application's log; set every head."""
    apps, log = tables.applications, tables.transitions
    last = ""
    while True:
        batch = connection.execute(
            select(apps.c.id, apps.c.candidate_id)
            .where(apps.c.id > last)
            .order_by(apps.c.id)
            .limit(_BATCH)
        ).all()
        if not batch:
            return
        last = batch[-1].id
        for application_id, candidate_id in batch:
            key = candidate_key(connection, tables, candidate_id)
            previous: str | None = None
            rows = connection.execute(
                select(log).where(log.c.application_id == application_id).order_by(log.c.version)
            ).all()
            for row in rows:
                values = _rewritten(application_id, row, key, previous)
                connection.execute(  # values as parameters: see _writes.insert_ignore
                    update(log).where(
                        log.c.application_id == application_id, log.c.version == row.version
                    ),
                    values,
                )
                previous = values["hash"]
            connection.execute(
                update(apps).where(apps.c.id == application_id).values(head=previous)
            )


def _rewritten(application_id: str, row: Any, key: str, previous: str | None) -> dict[str, Any]:
    try:
        record = json.loads(row.record) if row.record is not None else None
        changes = json.loads(row.changes)
        requisition = (
            json.loads(row.requisition_changes) if row.requisition_changes is not None else None
        )
        if not isinstance(changes, dict) or not isinstance(record, dict | None):
            raise ValueError("not a JSON object")
    except ValueError:
        texts = (row.record, row.changes, row.requisition_changes)
        personal = None
    else:
        record_text, changes_text, personal = stored_documents(
            changes=changes, record=record, key=key, data_models=_unknown
        )
        texts = (
            record_text,
            changes_text,
            canonical(requisition) if requisition is not None else None,
        )
    hashed = Hashed(
        row.version, row.kind, row.event, row.from_stage, row.to_stage, row.actor, row.at, *texts
    )
    return {
        "record": hashed.record,
        "changes": hashed.changes,
        "requisition_changes": hashed.requisition_changes,
        "hash": row_hash(application_id, hashed, previous),
        "personal": personal,
    }
