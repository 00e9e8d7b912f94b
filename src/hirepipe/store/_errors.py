"""The store's errors and its verification findings.

They belong in :mod:`hirepipe.errors` (the one exception tree) once the store settles; they
subclass its classes, so ``except HirepipeError`` and ``except ConcurrentUpdate`` catch them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hirepipe.errors import ConcurrentUpdate, HirepipeError

__all__ = [
    "AlreadyStored",
    "ConcurrentRequisitionUpdate",
    "CorruptData",
    "NotStored",
    "Problem",
    "SchemaError",
    "StoreError",
]


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing :meth:`~hirepipe.store.Store.verify` found wrong, and where.

    ``code`` is stable (``invalid_snapshot``, ``invalid_log_row``, ``log_gap``,
    ``replay_differs``, ``column_mismatch``, ``invalid_requisition``, ``invalid_notification``,
    ``hook_failed``...); ``message`` says what is wrong for people. ``application_id``,
    ``requisition_id``, ``key`` (a notification) and ``version`` (a log row) say where.
    """

    code: str
    message: str
    application_id: str | None = None
    requisition_id: str | None = None
    key: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        where = ", ".join(
            f"{name} {value!r}"
            for name, value in (
                ("application", self.application_id),
                ("requisition", self.requisition_id),
                ("notification", self.key),
                ("version", self.version),
            )
            if value is not None
        )
        return f"{self.code} ({where}): {self.message}" if where else f"{self.code}: {self.message}"


class StoreError(HirepipeError):
    """The durable store could not do what was asked; the message says what to do."""


class SchemaError(StoreError):
    """The database's tables are missing, older or newer than this hirepipe expects.

    ``found`` is the database's schema version (0: no hirepipe tables), ``expected`` this
    hirepipe's.
    """

    def __init__(self, message: str, *, found: int, expected: int) -> None:
        self.found = found
        self.expected = expected
        super().__init__(message)


class NotStored(StoreError, LookupError):
    """No application or requisition with this id in the store; ``kind`` says which."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        hint = (
            "store.add(application, requisition)"
            if kind == "application"
            else ("store.add_requisition(requisition), or pass it to store.add")
        )
        super().__init__(f"no {kind} {identifier!r} in the store; add it first with {hint}")


class AlreadyStored(StoreError):
    """An application or requisition with this id is in the store already."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        what = "fire events on it" if kind == "application" else "update_requisition it"
        super().__init__(f"{kind} {identifier!r} is in the store already; load it and {what}")


class CorruptData(StoreError):
    """Stored rows cannot be read back (edited by hand, or written by a bug).

    ``problems`` lists what was found; :meth:`~hirepipe.store.Store.verify` reports the same
    for every application at once.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"stored data cannot be read back; repair or restore it:\n{lines}")


class ConcurrentRequisitionUpdate(ConcurrentUpdate):
    """Another writer changed the requisition first (two acceptances of its last headcount).

    A :class:`~hirepipe.ConcurrentUpdate`: reload and try again. ``expected`` and ``actual``
    are the requisition's versions; ``requisition_id`` names it.
    """

    def __init__(
        self,
        *,
        application_id: str,
        requisition_id: str,
        stage: str,
        event: str,
        expected: int,
        actual: int,
    ) -> None:
        super().__init__(
            application_id=application_id,
            stage=stage,
            event=event,
            expected=expected,
            actual=actual,
        )
        self.requisition_id = requisition_id
        self.args = (
            f"requisition {requisition_id!r} changed while {event!r} was being applied to "
            f"application {application_id!r} (read version {expected}, found {actual}); "
            "reload and try again",
        )
