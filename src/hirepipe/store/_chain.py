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
from json.encoder import c_make_encoder as _c_make_encoder  # type: ignore[attr-defined]
from json.encoder import encode_basestring_ascii as _string  # what json.dumps uses for str
from typing import TYPE_CHECKING, Any, NamedTuple

from hirepipe.errors import Problem

if TYPE_CHECKING:
    from hirepipe.models import TransitionRecord

__all__ = ["ChainHead", "canonical", "check_chain", "envelope", "row_hash"]


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The hash of an application's log at one version: keep it where the database is not.

    ``Store.verify(heads=[...])`` checks that the log still passes through every head kept.
    """

    application_id: str
    version: int
    hash: str


class Hashed(NamedTuple):
    """The columns of one log row that its hash covers.

    A named tuple, not a frozen dataclass: every stored event makes one, and a frozen
    dataclass sets its ten fields one ``object.__setattr__`` call at a time (four times the
    cost of making the tuple).
    """

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

    @classmethod
    def of_record(
        cls,
        record: TransitionRecord,
        record_text: str | None,
        changes: str,
        requisition_changes: str | None = None,
    ) -> Hashed:
        """The hashed columns of the log row of ``record``, with its texts as stored."""
        return cls(
            record.version,
            record.kind,
            record.event,
            record.from_stage,
            record.to_stage,
            record.actor,
            record.at,
            record_text,
            changes,
            requisition_changes,
        )


_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
)
# json's C encoder with the options above, made once: ``JSONEncoder.encode`` makes one a call,
# half of the time of writing a small document (a stored event writes two). No circular
# check (markers None): the documents are JSON data, never circular.
_ENCODE = (
    None
    if _c_make_encoder is None  # an interpreter without json's C speedups
    else _c_make_encoder(None, _CANONICAL.default, _string, None, ":", ",", True, False, False)
)


def canonical(value: Any) -> str:
    """``value`` as canonical JSON: keys sorted, no spaces, ASCII only, no NaN.

    ``json.dumps`` with these options, with one encoder made once rather than one a call.
    """
    if _ENCODE is None:
        return _CANONICAL.encode(value)
    return "".join(_ENCODE(value, 0))


_INSTANT = "%Y-%m-%dT%H:%M:%S.%fZ"


def _instant(moment: _dt.datetime | None) -> str | None:
    """``moment`` in UTC as ``_INSTANT`` writes it.

    With the datetime's own methods (pendulum's are slower), written out: a record's time is
    mostly in UTC already.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:  # local time, as astimezone takes it
        moment = moment.astimezone(_dt.UTC)
    elif _dt.datetime.utcoffset(moment):
        moment = _dt.datetime.astimezone(moment, _dt.UTC)
    if moment.year < 1000:  # strftime writes such a year unpadded
        return _dt.datetime.strftime(moment, _INSTANT)
    return (
        f"{moment.year}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
        f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}Z"
    )


def envelope(application_id: str, row: Hashed, previous: str | None) -> str:
    """What a log row's hash covers: its columns and ``previous``, as canonical JSON.

    The documents are there as the exact text stored (the store writes them canonically). It
    equals ``canonical`` of the object ``{"actor": ..., "application_id": ..., ...}`` (keys
    sorted), written out field by field: every event hashes one.
    """
    return (
        f'{{"actor":{_value(row.actor)},"application_id":{_value(application_id)},'
        f'"at":{_value(_instant(row.at))},"changes":{_value(row.changes)},'
        f'"event":{_value(row.event)},"from_stage":{_value(row.from_stage)},'
        f'"kind":{_value(row.kind)},"previous":{_value(previous or "")},'
        f'"record":{_value(row.record)},"requisition_changes":{_value(row.requisition_changes)},'
        f'"to_stage":{_value(row.to_stage)},"version":{_value(row.version)}}}'
    )


def _value(value: str | int | None) -> str:
    """One value of the envelope as ``canonical`` writes it."""
    if value is None:
        return "null"
    if type(value) is str:
        return _string(value)
    if type(value) is int:
        return int.__repr__(value)  # as json.dumps writes it
    return canonical(value)


def row_hash(application_id: str, row: Hashed, previous: str | None) -> str:
    """The SHA-256 (hex) of a log row, chained onto ``previous`` (None for the first row)."""
    text = envelope(application_id, row, previous)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


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
