"""The transition log as data: what a record changed, folding the log, and checking it.

A log row keeps, besides its [`TransitionRecord`][hirepipe.models.TransitionRecord], the
application fields the record changed (their new JSON values). The first row of an application
(kind ``added``) holds the whole application as it was added. Replaying folds the rows in
version order: put the personal values back (``hirepipe.store._personal``), set the changed
fields, append the record to ``history``, take its version. The result must equal the stored
snapshot, field for field, as JSON. Each row is also a link of the application's hash chain
(``hirepipe.store._chain``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ValidationError

from hirepipe._redact import validation_summary
from hirepipe.errors import Problem
from hirepipe.models import Application
from hirepipe.store._chain import Hashed
from hirepipe.store._personal import parse_values, reveal

__all__ = ["ADDED", "LogRow", "changed_fields", "check_application", "fold"]

ADDED = "added"
_DERIVED = frozenset({"history", "version"})  # the fold sets these from the records


@dataclass(frozen=True, slots=True)
class LogRow:
    """The columns of one log row: what replay folds, and what the chain hashes."""

    version: int
    kind: str
    record: str | None
    changes: str
    requisition_changes: str | None = None
    event: str | None = None
    from_stage: str | None = None
    to_stage: str | None = None
    actor: str | None = None
    at: datetime | None = None
    hash: str | None = None
    personal: str | None = None

    @property
    def hashed(self) -> Hashed:
        """The columns the row's hash covers."""
        return Hashed(
            self.version,
            self.kind,
            self.event,
            self.from_stage,
            self.to_stage,
            self.actor,
            self.at,
            self.record,
            self.changes,
            self.requisition_changes,
        )


def changed_fields(before: Mapping[str, Any], model: BaseModel) -> dict[str, Any]:
    """Return the fields of ``model`` that differ from ``before``, as JSON values.

    ``before`` is a copy of the model's ``__dict__`` taken before the event. The engine
    replaces fields whole (tuples, frozen models), so an unchanged field is the same object.
    ``history`` and ``version`` are left out: the fold derives them from the records.
    """
    after = model.__dict__
    names = {
        name
        for name, value in after.items()
        if name not in _DERIVED and before.get(name) is not value and before.get(name) != value
    }
    if not names:
        return {}
    plain = _plain_fields(type(model))
    if all(name in plain and type(after[name]) in _SCALARS for name in names):
        # their JSON values are themselves (the engine's most frequent change: a stage)
        return {name: value for name, value in after.items() if name in names}
    return model.model_dump(mode="json", include=names)


_SCALARS = frozenset({str, int, bool, type(None)})
_PLAIN: dict[type[BaseModel], frozenset[str]] = {}


def _plain_fields(model: type[BaseModel]) -> frozenset[str]:
    """The fields of ``model`` that pydantic dumps as they are (``_dumped_as_is``)."""
    found = _PLAIN.get(model)
    if found is None:
        found = _PLAIN[model] = _fields_dumped_as_is(model.__pydantic_core_schema__)
    return found


def _fields_dumped_as_is(schema: Mapping[str, Any]) -> frozenset[str]:
    """The names of the model's fields whose schema dumps a plain value as it is.

    Read from the core schema pydantic serializes with, so a serializer anywhere counts: a
    field's own, one inside ``Optional``, a union or ``Annotated``, a ``field_serializer``
    (``"*"`` too), the model's own. Whatever it does not know is taken as a serializer: the
    caller then asks pydantic.
    """
    while schema.get("type") in _PASSING and "serialization" not in schema:
        schema = schema["schema"]  # the model's validators: they serialize as the model
    if schema.get("type") != "model" or "serialization" in schema:
        return frozenset()
    fields = schema["schema"]
    if fields.get("type") != "model-fields" or "serialization" in fields:
        return frozenset()
    return frozenset(
        name
        for name, field in fields["fields"].items()
        if field.keys() <= _PLAIN_FIELD_KEYS and _dumped_as_is(field["schema"])
    )


def _dumped_as_is(schema: Mapping[str, Any]) -> bool:
    """Whether pydantic dumps a str, int, bool or None under ``schema`` as it is."""
    if "serialization" in schema:
        return False
    kind = schema.get("type")
    if kind in _PLAIN_KINDS:
        return True
    if kind in _WRAPPING:
        return _dumped_as_is(schema["schema"])
    if kind == "union":
        return all(
            _dumped_as_is(choice[0] if isinstance(choice, tuple) else choice)
            for choice in schema["choices"]
        )
    return False  # anything else (a reference, a custom type...) may serialize its own way


_PLAIN_KINDS = frozenset({"str", "int", "bool", "none", "literal", "any"})
# serialized as the schema they wrap, unless they carry a serializer of their own
_WRAPPING = frozenset({"default", "nullable", "function-after", "function-before"})
_PASSING = frozenset({"definitions", "function-after", "function-before"})
# a model field's keys that change nothing in its dump (an alias or an exclusion would)
_PLAIN_FIELD_KEYS = frozenset({"type", "schema", "metadata", "frozen", "validation_alias"})


def _object(text: str | None, what: str) -> dict[str, Any]:
    if text is None:
        raise ValueError(f"{what} is missing")
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"{what} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ValueError(f"{what} is JSON but not an object")
    return value


def fold(
    application_id: str, rows: Iterable[LogRow], *, upto: int | None = None
) -> tuple[dict[str, Any] | None, list[Problem]]:
    """Fold log rows (in version order) into the application's JSON; return it and problems.

    ``upto`` stops after that version. The state is None when the log cannot be folded.
    """
    state: dict[str, Any] | None = None
    problems: list[Problem] = []

    def problem(code: str, message: str, version: int) -> None:
        problems.append(Problem(code, message, application_id=application_id, version=version))

    for row in rows:
        if upto is not None and row.version > upto:
            break
        try:
            values = parse_values(row.personal)
            if row.kind == ADDED:
                if state is not None:
                    problem("log_order", "a second 'added' row in the log", row.version)
                    return None, problems
                state = reveal(_object(row.changes, "the added application"), values)
                history = state.get("history")
                if not isinstance(history, list) or state.get("version") != row.version:
                    problem(
                        "invalid_log_row",
                        "the added application has no history list or another version",
                        row.version,
                    )
                    return None, problems
                continue
            if state is None:
                problem(
                    "log_order", "the log does not start with the added application", row.version
                )
                return None, problems
            expected = state["version"] + 1
            if row.version != expected:
                problem("log_gap", f"expected version {expected}, found {row.version}", row.version)
                return None, problems
            record = reveal(_object(row.record, "the transition record"), values)
            if record.get("version") != row.version:
                problem(
                    "invalid_log_row",
                    f"the record says version {record.get('version')!r}",
                    row.version,
                )
                return None, problems
            changes = reveal(_object(row.changes, "the changed fields"), values)
            if changes.keys() & _DERIVED:
                problem(
                    "invalid_log_row", "the changed fields name history or version", row.version
                )
                return None, problems
            state.update(changes)
            state["history"].append(record)
            state["version"] = row.version
        except ValueError as exc:
            problem("invalid_log_row", str(exc), row.version)
            return None, problems
    if state is None and not problems:
        problems.append(
            Problem("log_missing", "no log rows for the application", application_id=application_id)
        )
    return state, problems


def check_application(
    application_id: str,
    columns: Mapping[str, Any],
    snapshot: str,
    rows: Iterable[LogRow],
) -> list[Problem]:
    """Check one application: its snapshot, its columns, and its log replayed against both."""
    problems: list[Problem] = []

    def problem(code: str, message: str) -> None:
        problems.append(Problem(code, message, application_id=application_id))

    try:
        stored = _object(snapshot, "the snapshot")
    except ValueError as exc:
        problem("invalid_snapshot", str(exc))
        stored = None
    if stored is not None:
        try:
            Application.model_validate_json(snapshot)
        except ValidationError as exc:
            problem("invalid_snapshot", f"the snapshot is not valid: {validation_summary(exc)}")
        for name, value in columns.items():
            if stored.get(name) != value:
                problem(
                    "column_mismatch",
                    f"column {name} is {value!r} but the snapshot says {stored.get(name)!r}",
                )
    replayed, found = fold(application_id, rows)
    problems += found
    if replayed is None or stored is None:
        return problems
    differing = sorted(
        name for name in stored.keys() | replayed.keys() if stored.get(name) != replayed.get(name)
    )
    if differing:
        problem(
            "replay_differs",
            f"replaying the log does not give the snapshot; fields differ: {', '.join(differing)}",
        )
    return problems
