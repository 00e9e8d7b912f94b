"""Reading stored documents back, replaying a log, and checking a whole store.

Nothing here trusts a row: a document that is not valid JSON, or not a valid model, a broken
hash chain, a changed personal value, becomes a [`Problem`][hirepipe.errors.Problem] naming its
application (and version, requisition or key). Reading one raises
[`CorruptData`][hirepipe.errors.CorruptData] with it; ``verify`` collects them all and never
raises.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Row, Select, select
from sqlalchemy.engine import Connection

from hirepipe._redact import error_summary, validation_summary
from hirepipe.errors import CorruptData, NotStored, Problem, StoreError
from hirepipe.models import Application, Requisition
from hirepipe.notify import Notification
from hirepipe.privacy import ERASE_EVENT
from hirepipe.store._chain import ChainHead, check_chain
from hirepipe.store._personal import check_digests, digests_in, parse_values
from hirepipe.store._replay import LogRow, check_application, fold
from hirepipe.store._schema import Tables

__all__ = [
    "check_log",
    "log_rows",
    "parse_application",
    "parse_requisition",
    "replay",
    "verify",
]


class _InTransaction(Protocol):
    connection: Connection


_Model = TypeVar("_Model", bound=BaseModel)

Reading = Callable[[], AbstractContextManager[_InTransaction]]
"""Opens a read transaction with one snapshot of the database."""


def parse_application(
    application_id: str, snapshot: str, *, version: int | None = None
) -> Application:
    """Read a stored application; ``version`` is its row's version column, to compare."""
    application = _read(Application, snapshot, "invalid_snapshot", application_id=application_id)
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
    return _read(Requisition, snapshot, "invalid_requisition", requisition_id=requisition_id)


def _read(
    model: type[_Model],
    text: str,
    code: str,
    *,
    application_id: str | None = None,
    requisition_id: str | None = None,
) -> _Model:
    """Validate a stored document; raise CorruptData saying why not, without its values."""
    try:
        return model.model_validate_json(text)
    except ValidationError as exc:
        message = validation_summary(exc)
    problem = Problem(code, message, application_id=application_id, requisition_id=requisition_id)
    # raised out of the ValidationError's chain: its text quotes the document's values
    raise CorruptData([problem])


def log_query(tables: Tables) -> Select[Any]:
    """Every column of the log, with the candidate's key, in version order."""
    log, apps, keys = tables.transitions, tables.applications, tables.personal_keys
    return (
        select(log, keys.c.key.label("personal_key"))
        .join(apps, apps.c.id == log.c.application_id)
        .outerjoin(keys, keys.c.candidate_id == apps.c.candidate_id)
        .order_by(log.c.application_id, log.c.version)
    )


def log_row(row: Row[Any]) -> LogRow:
    """A log row as read by ``log_query``."""
    return LogRow(
        row.version,
        row.kind,
        row.record,
        row.changes,
        row.requisition_changes,
        row.event,
        row.from_stage,
        row.to_stage,
        row.actor,
        row.at,
        row.hash,
        row.personal,
    )


def log_rows(
    connection: Connection, tables: Tables, application_id: str, *, upto: int | None = None
) -> tuple[list[LogRow], str | None]:
    """An application's log rows (up to version ``upto``) and its candidate's key."""
    log = tables.transitions
    query = log_query(tables).where(log.c.application_id == application_id)
    if upto is not None:
        query = query.where(log.c.version <= upto)
    found = connection.execute(query).all()
    return [log_row(row) for row in found], (found[0].personal_key if found else None)


def check_log(
    application_id: str,
    rows: Sequence[LogRow],
    *,
    key: str | None,
    head: str | None = None,
    complete: bool = True,
) -> list[Problem]:
    """Check the hash chain and the personal values of one application's log rows.

    ``head`` is the hash the application's row keeps of its latest log row, checked when
    ``rows`` is the ``complete`` log. Personal values may be gone only from rows before an
    erasure record, which the chain itself vouches for.
    """
    last, problems = check_chain(application_id, ((row.hashed, row.hash) for row in rows))
    if problems:
        return problems
    erased_before = max((row.version for row in rows if row.event == ERASE_EVENT), default=-1)
    if complete and rows and head != last:
        problems.append(
            Problem(
                "chain_head_mismatch",
                "the application's head is not the hash of its latest log row: "
                "the latest row was removed, or the head changed",
                application_id=application_id,
            )
        )
    for row in rows:
        try:
            values = parse_values(row.personal)
            wanted = [*_digests(row.record), *_digests(row.changes)]
        except ValueError:
            continue  # not JSON: the fold reports the row
        wrong = check_digests(key, wanted, values)
        if wrong is None or (wrong == "erased" and row.version < erased_before):
            continue
        if wrong == "erased":
            code, message = (
                "personal_data_missing",
                "the row's personal values are gone, yet the application was not erased",
            )
        else:
            code, message = "personal_data_altered", wrong
        problems.append(Problem(code, message, application_id=application_id, version=row.version))
    return problems


def _digests(text: str | None) -> list[str]:
    return digests_in(json.loads(text)) if text is not None else []


def replay(
    connection: Connection, tables: Tables, application_id: str, *, upto: int | None
) -> Application:
    """Rebuild an application from its log rows alone, up to version ``upto`` if given.

    The rows' hash chain and personal values are checked first: a broken chain is refused.
    """
    if upto is not None and (isinstance(upto, bool) or not isinstance(upto, int)):
        # "1" raised a bare TypeError from the comparison below; True and 1.5 were said
        # to be missing versions
        raise TypeError(
            f"version must be an int (a version in the application's log), not "
            f"{type(upto).__name__} {upto!r}"
        )
    rows, key = log_rows(connection, tables, application_id)
    if not rows:
        raise NotStored("application", application_id)
    if upto is not None and not rows[0].version <= upto <= rows[-1].version:
        raise StoreError(
            f"application {application_id!r} has no version {upto} in its log "
            f"(it starts at {rows[0].version} and ends at {rows[-1].version})"
        )
    # the whole log is read: an erasure after ``upto`` says why personal values are gone
    problems = [
        problem
        for problem in check_log(application_id, rows, key=key, complete=False)
        if upto is None or problem.version is None or problem.version <= upto
    ]
    if problems:
        raise CorruptData(problems)
    state, problems = fold(application_id, rows, upto=upto)
    if state is None or problems:
        raise CorruptData(problems)
    return _read(Application, json.dumps(state), "invalid_replay", application_id=application_id)


def verify(
    tables: Tables,
    reading: Reading,
    batch_size: int,
    *,
    stages: Collection[str],
    heads: Mapping[str, ChainHead],
) -> list[Problem]:
    """Check every application (in batches, each read at one instant), then the rest.

    ``stages`` are the policy's stages; ``heads`` the chain heads kept elsewhere, by
    application id.
    """
    problems: list[Problem] = []
    apps, log, keys = tables.applications, tables.transitions, tables.personal_keys
    seen: set[str] = set()
    last = ""
    while True:
        with reading() as tx:
            rows = tx.connection.execute(
                select(apps, keys.c.key.label("personal_key"))
                .outerjoin(keys, keys.c.candidate_id == apps.c.candidate_id)
                .where(apps.c.id > last)
                .order_by(apps.c.id)
                .limit(batch_size)
            ).all()
            if not rows:
                break
            last = rows[-1].id
            ids = [row.id for row in rows]
            entries: dict[str, list[LogRow]] = {identifier: [] for identifier in ids}
            for entry in tx.connection.execute(
                log_query(tables).where(log.c.application_id.in_(ids))
            ):
                entries[entry.application_id].append(log_row(entry))
        for row in rows:
            seen.add(row.id)
            problems += _checked(row, entries[row.id], stages, heads.get(row.id))
    with reading() as tx:
        problems += _documents(tx.connection, tables)
    problems += [
        Problem(
            "head_differs",
            "a head was kept for this application, and the store has no such application",
            application_id=head.application_id,
            version=head.version,
        )
        for identifier, head in heads.items()
        if identifier not in seen
    ]
    return problems


def _checked(
    row: Row[Any], entries: Sequence[LogRow], stages: Collection[str], head: ChainHead | None
) -> list[Problem]:
    columns = {"requisition_id": row.requisition_id, "stage": row.stage, "version": row.version}
    try:
        problems = check_log(row.id, entries, key=row.personal_key, head=row.head)
        problems += check_application(row.id, columns, row.snapshot, entries)
        if (row.erased_at is not None) != any(e.event == ERASE_EVENT for e in entries):
            problems.append(
                Problem(
                    "column_mismatch",
                    f"column erased_at is {row.erased_at}, and the log "
                    f"{'has no' if row.erased_at is not None else 'has an'} erasure record",
                    application_id=row.id,
                )
            )
        if row.stage not in stages:
            problems.append(
                Problem(
                    "unknown_stage",
                    f"stage {row.stage!r} is not a stage of the store's policy: no event can "
                    "fire on it",
                    application_id=row.id,
                )
            )
        if head is not None:
            problems += _kept_head(row.id, entries, head)
        return problems
    except Exception as exc:  # pragma: no cover - a last resort: verify never crashes
        return [Problem("unreadable", error_summary(exc), application_id=row.id)]


def _kept_head(application_id: str, entries: Sequence[LogRow], head: ChainHead) -> list[Problem]:
    """The log must still pass through a head kept elsewhere."""
    found = next((entry.hash for entry in entries if entry.version == head.version), None)
    if found == head.hash:
        return []
    return [
        Problem(
            "head_differs",
            f"the log's hash at version {head.version} is not the head kept elsewhere: "
            "the log was rewritten since",
            application_id=application_id,
            version=head.version,
        )
    ]


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
            message = f"the notification is not valid: {validation_summary(exc)}"
            problems.append(Problem("invalid_notification", message, **where))
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
