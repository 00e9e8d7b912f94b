"""The tamper-evident log: each row's SHA-256, over a canonical JSON form, chained per application.

A log row's hash covers its columns (application, version, kind, event, stages, actor, time,
the record, the changed fields, the requisition's changes) and the hash of the row before it
(the application's previous version), as one canonical JSON object: keys sorted, no spaces,
ASCII only. The application's row keeps the latest hash (its *head*).

What it proves: a row changed, removed or inserted after it was written breaks the chain at
that row, so [`verify`][hirepipe.store.Store.verify] names the first bad row and
[`replay`][hirepipe.store.Store.replay] refuses it, even when a later row overwrites what was
forged. Personal values are covered through their digests (``hirepipe.store._personal``),
so they can be erased without breaking the chain.

What it does not prove: someone who can write to the database can also rewrite a whole chain,
every hash recomputed, and it verifies. Keep each application's head
([`head`][hirepipe.store.Store.head]) where that someone cannot write (another system, a
write-once log, a signed receipt) and pass the heads to ``verify(heads=...)``: a rewritten
chain no longer ends at, or passes through, the head kept. The chain says nothing about rows
never written (an event fired and rolled back) and nothing about the snapshot, which verify
compares with the replayed log instead.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hirepipe.errors import Problem

__all__ = ["ChainHead", "canonical", "check_chain", "row_hash"]


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The hash of an application's log at one version: keep it where the database is not.

    ``Store.verify(heads=[...])`` checks that the log still passes through every head kept.
    """

    application_id: str
    version: int
    hash: str


@dataclass(frozen=True, slots=True)
class Hashed:
    """The columns of one log row that its hash covers."""

    version: int
    kind: str
    event: str | None
    from_stage: str | None
    to_stage: str | None
    actor: str | None
    at: _dt.datetime | None
    record: str | None
    changes: str
    requisition_changes: str | None


def canonical(value: Any) -> str:
    """``value`` as canonical JSON: keys sorted, no spaces, ASCII only, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )


def _instant(moment: _dt.datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(_dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def row_hash(application_id: str, row: Hashed, previous: str | None) -> str:
    """The SHA-256 (hex) of a log row, chained onto ``previous`` (None for the first row).

    The documents are hashed as the exact text stored (the store writes them canonically).
    """
    envelope = {
        "application_id": application_id,
        "version": row.version,
        "kind": row.kind,
        "event": row.event,
        "from_stage": row.from_stage,
        "to_stage": row.to_stage,
        "actor": row.actor,
        "at": _instant(row.at),
        "record": row.record,
        "changes": row.changes,
        "requisition_changes": row.requisition_changes,
        "previous": previous or "",
    }
    return hashlib.sha256(canonical(envelope).encode("ascii")).hexdigest()


def check_chain(
    application_id: str, rows: Iterable[tuple[Hashed, str | None]]
) -> tuple[str | None, list[Problem]]:
    """Recompute the chain over ``(row, stored hash)`` pairs in version order.

    Return the last good hash and a problem naming the first row whose stored hash is not
    the one its content and the row before give (none when every row is good).
    """
    previous: str | None = None
    for row, stored in rows:
        expected = row_hash(application_id, row, previous)
        if stored != expected:
            why = (
                "has no hash"
                if stored is None
                else "does not hash to its stored hash: it, or a row before it, was changed "
                "after it was written"
            )
            problem = Problem(
                "chain_broken",
                f"log row {row.version} {why}",
                application_id=application_id,
                version=row.version,
            )
            return previous, [problem]
        previous = expected
    return previous, []
