"""Erasing a candidate from the store: snapshots, log rows, the outbox and the key, at once.

The log rows keep their documents (personal values are only tokens there) and lose their
``personal`` column, so the hash chain still verifies; an ``@erase`` row is chained on; the
snapshot is rebuilt from the log, so it is exactly what a replay gives. Notifications keep
their keys, times and status and lose their facts and addresses (pending ones fail, never to
be sent); failed hooks are dropped (a retry would notify with erased facts); the candidate's
key is deleted, so the digests left in the log can no longer be matched against guesses.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from hirepipe.errors import ConcurrentUpdate, GuardRejected
from hirepipe.models import Application, Requisition, TransitionRecord
from hirepipe.pipeline import Pipeline
from hirepipe.privacy import ERASE_EVENT, data_models_of
from hirepipe.store._chain import Hashed
from hirepipe.store._outbox import erase_notifications
from hirepipe.store._personal import stored_documents
from hirepipe.store._schema import Tables
from hirepipe.store._verify import parse_application, parse_requisition, replay
from hirepipe.store._writes import log_values

__all__ = ["erase_candidate"]


def erase_candidate(
    connection: Connection,
    tables: Tables,
    candidate_id: str,
    *,
    pipeline: Pipeline,
    actor: str,
    reason: str | None,
) -> list[tuple[str, int]]:
    """Erase every application of the candidate not erased yet; return their ids and versions.

    Each id with the version its erasure wrote.
    """
    apps = tables.applications
    rows = connection.execute(
        select(apps.c.id, apps.c.snapshot, apps.c.version, apps.c.head)
        .where(apps.c.candidate_id == candidate_id, apps.c.erased_at.is_(None))
        .order_by(apps.c.id)
        .with_for_update()
    ).all()
    found = [(row, parse_application(row.id, row.snapshot, version=row.version)) for row in rows]
    requisitions = _requisitions(connection, tables, {app.requisition_id for _, app in found})
    records: list[TransitionRecord] = []
    refused: list[GuardRejected] = []
    for _, application in found:
        try:  # who may erase is Pipeline.erasure's rule, with each application's requisition
            records.append(
                pipeline.erasure(
                    application,
                    actor=actor,
                    reason=reason,
                    requisition=requisitions.get(application.requisition_id),
                )
            )
        except GuardRejected as exc:
            refused.append(exc)
    if refused:  # nothing is erased unless everything can be
        first = refused[0]
        raise GuardRejected(
            application_id=first.application_id,
            stage=first.stage,
            event=ERASE_EVENT,
            blockers=[blocker for exc in refused for blocker in exc.blockers],
        )
    for (row, application), record in zip(found, records, strict=True):
        _erase_application(connection, tables, row, application, record, pipeline)
    connection.execute(
        delete(tables.personal_keys).where(tables.personal_keys.c.candidate_id == candidate_id)
    )
    return [
        (application.id, record.version)
        for (_, application), record in zip(found, records, strict=True)
    ]


def _requisitions(
    connection: Connection, tables: Tables, requisition_ids: set[str]
) -> dict[str, Requisition]:
    """The stored requisitions of these ids, by id (a requisition never stored is left out)."""
    table = tables.requisitions
    rows = connection.execute(
        select(table.c.id, table.c.snapshot).where(table.c.id.in_(sorted(requisition_ids)))
    ).all()
    return {row.id: parse_requisition(row.id, row.snapshot) for row in rows}


def _erase_application(
    connection: Connection,
    tables: Tables,
    row: Any,
    application: Application,
    record: TransitionRecord,
    pipeline: Pipeline,
) -> None:
    apps, log = tables.applications, tables.transitions
    document = record.model_dump(mode="json")
    record_text, changes_text, personal = stored_documents(
        changes={"erased_at": document["at"]},
        record=document,
        key="",  # an erasure record holds nothing personal
        data_models=data_models_of(pipeline.policy),
    )
    assert personal is None, "an erasure record holds nothing personal"
    values = log_values(
        application.id,
        Hashed.of_record(record, record_text, changes_text),
        None,
        row.head,
    )
    connection.execute(
        update(log).where(log.c.application_id == application.id).values(personal=None)
    )
    connection.execute(log.insert().values(**values))
    written = connection.execute(
        update(apps)
        .where(apps.c.id == application.id, apps.c.version == row.version)
        .values(erased_at=record.at)
    )
    if written.rowcount != 1:  # pragma: no cover - the row is locked for update
        raise ConcurrentUpdate(
            application_id=application.id,
            stage=application.stage,
            event=ERASE_EVENT,
            expected=row.version,
            actual=-1,
        )
    cleared = replay(connection, tables, application.id, upto=None)
    connection.execute(
        update(apps)
        .where(apps.c.id == application.id)
        .values(snapshot=cleared.model_dump_json(), version=record.version, head=values["hash"])
    )
    erase_notifications(connection, tables.outbox, application.id)
    failures = tables.hook_failures
    connection.execute(delete(failures).where(failures.c.application_id == application.id))
