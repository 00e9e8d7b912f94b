"""Reading stored documents back, replaying a log, and checking a whole store.

Nothing here trusts a row: a document that is not valid JSON, or not a valid model, becomes a
:class:`~hirepipe.store.Problem` naming its application (and version, requisition or key).
Reading one raises :class:`~hirepipe.store.CorruptData` with it; :func:`verify` collects them
all and never raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from pydantic import ValidationError
from sqlalchemy import Row, select
from sqlalchemy.engine import Connection

from hirepipe.errors import CorruptData, NotStored, Problem, StoreError
from hirepipe.models import Application, Requisition
from hirepipe.notify import Notification
from hirepipe.store._replay import LogRow, check_application, fold
from hirepipe.store._schema import Tables

__all__ = ["parse_application", "parse_requisition", "replay", "verify"]


class _InTransaction(Protocol):
    connection: Connection


Reading = Callable[[], AbstractContextManager[_InTransaction]]
"""Opens a read transaction with one snapshot of the database."""


def parse_application(
    application_id: str, snapshot: str, *, version: int | None = None
) -> Application:
    """Read a stored application; ``version`` is its row's version column, to compare."""
    try:
        application = Application.model_validate_json(snapshot)
    except ValidationError as exc:
        raise CorruptData(
            [Problem("invalid_snapshot", str(exc), application_id=application_id)]
        ) from None
    if version is not None and application.version != version:
        raise CorruptData(
            [
                Problem(
                    "column_mismatch",
                    f"column version is {version}, the snapshot says {application.version}",
                    application_id=application_id,
                )
            ]
        )
    return application


def parse_requisition(requisition_id: str, snapshot: str) -> Requisition:
    """Read a stored requisition."""
    try:
        return Requisition.model_validate_json(snapshot)
    except ValidationError as exc:
        raise CorruptData(
            [Problem("invalid_requisition", str(exc), requisition_id=requisition_id)]
        ) from None


def replay(
    connection: Connection, tables: Tables, application_id: str, *, upto: int | None
) -> Application:
    """Rebuild an application from its log rows alone, up to version ``upto`` if given."""
    log = tables.transitions
    query = (
        select(log.c.version, log.c.kind, log.c.record, log.c.changes)
        .where(log.c.application_id == application_id)
        .order_by(log.c.version)
    )
    if upto is not None:
        query = query.where(log.c.version <= upto)
    rows = [LogRow(r.version, r.kind, r.record, r.changes) for r in connection.execute(query)]
    if not rows:
        raise NotStored("application", application_id)
    state, problems = fold(application_id, rows, upto=upto)
    if state is None or problems:
        raise CorruptData(problems)
    if upto is not None and state.get("version") != upto:
        raise StoreError(
            f"application {application_id!r} has no version {upto} in its log "
            f"(it starts at {rows[0].version} and ends at {rows[-1].version})"
        )
    try:
        return Application.model_validate_json(json.dumps(state))
    except ValidationError as exc:
        raise CorruptData(
            [Problem("invalid_replay", str(exc), application_id=application_id)]
        ) from None


def verify(tables: Tables, reading: Reading, batch_size: int) -> list[Problem]:
    """Check every application (in batches, each read at one instant), then the rest."""
    problems: list[Problem] = []
    apps, log = tables.applications, tables.transitions
    last = ""
    while True:
        with reading() as tx:
            rows = tx.connection.execute(
                select(apps).where(apps.c.id > last).order_by(apps.c.id).limit(batch_size)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            ids = [row.id for row in rows]
            entries: dict[str, list[LogRow]] = {identifier: [] for identifier in ids}
            for entry in tx.connection.execute(
                select(log.c.application_id, log.c.version, log.c.kind, log.c.record, log.c.changes)
                .where(log.c.application_id.in_(ids))
                .order_by(log.c.application_id, log.c.version)
            ):
                entries[entry.application_id].append(
                    LogRow(entry.version, entry.kind, entry.record, entry.changes)
                )
        for row in rows:
            problems += _checked(row, entries[row.id])
    with reading() as tx:
        problems += _documents(tx.connection, tables)
    return problems


def _checked(row: Row[Any], entries: Iterable[LogRow]) -> list[Problem]:
    columns = {"requisition_id": row.requisition_id, "stage": row.stage, "version": row.version}
    try:
        return check_application(row.id, columns, row.snapshot, entries)
    except Exception as exc:  # pragma: no cover - a last resort: verify never crashes
        return [Problem("unreadable", f"{type(exc).__name__}: {exc}", application_id=row.id)]


def _documents(connection: Connection, tables: Tables) -> list[Problem]:
    """Requisitions, notifications and failed hooks."""
    problems: list[Problem] = []
    requisitions = tables.requisitions
    for requisition in connection.execute(select(requisitions.c.id, requisitions.c.snapshot)):
        try:
            parse_requisition(requisition.id, requisition.snapshot)
        except CorruptData as exc:
            problems += exc.problems
    outbox = tables.outbox
    for row in connection.execute(
        select(outbox.c.key, outbox.c.application_id, outbox.c.status, outbox.c.notification)
    ):
        where = {"application_id": row.application_id, "key": row.key}
        try:
            status = Notification.from_json(row.notification).status.value
        except ValidationError as exc:
            problems.append(
                Problem("invalid_notification", f"the notification is not valid: {exc}", **where)
            )
            continue
        if status != row.status:
            message = f"column status is {row.status!r}, the notification says {status!r}"
            problems.append(Problem("column_mismatch", message, **where))
    failures = tables.hook_failures
    for failure in connection.execute(
        select(failures).order_by(failures.c.application_id, failures.c.version)
    ):
        problems.append(
            Problem(
                "hook_failed",
                f"hooks failed ({failure.errors}); run store.retry_hooks()",
                application_id=failure.application_id,
                version=failure.version,
            )
        )
    return problems
