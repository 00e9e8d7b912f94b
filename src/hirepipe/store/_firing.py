"""The statements of a fire: compiled once per store, run on the driver's own cursor.

A fire runs the same two or three statements thousands of times a second, and SQLAlchemy's
work around each one (the cache key, the execution context, the result object: about 30 us a
statement) cost more than SQLite takes to run some of them. So the store compiles them once
for its engine's dialect (the SQL text, the order of the parameters, the columns' bind
processors, such as the UTC conversion of a timestamp) and runs them on the DBAPI cursor of
the connection its transaction holds. When the engine has event listeners (a host's logging,
tracing or error handling), they run through ``Connection.exec_driver_sql`` instead, so the
listeners see every statement as before. Either way a driver error is raised as SQLAlchemy's
``DBAPIError``, as every other statement's is.

The write is the compare-and-set on the application's version and the new log row, which
must happen together or not at all. On PostgreSQL it is one statement, one round trip:

```sql
WITH cas AS (
    UPDATE hirepipe_applications SET version = :new, ..., head = :hash
    WHERE id = :id AND version = :read RETURNING id
)
INSERT INTO hirepipe_transitions (application_id, version, ...) SELECT cas.id, :new, ... FROM cas
```

The log row is inserted only when the compare-and-set matched (the statement inserts one row,
or none when another writer won). SQLite cannot put an UPDATE in a WITH; there the UPDATE and
the INSERT run one after the other, in the same transaction, on a local file.

A fire of its own with nothing else to write (no hook, its requisition unchanged) sends that
statement alone, in autocommit (``_engine.defer_begin``): with its read, two round trips where
it took five (``BEGIN``, ``SELECT``, ``UPDATE``, ``INSERT``, ``COMMIT``). One whose hooks add
notifications (a Notifier's) sends ``BEGIN`` with that statement and its outbox rows with
``COMMIT`` (``_engine.run_together``): three round trips, all of it committed or none.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Dialect, bindparam, exists, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

from hirepipe.notify import Notification
from hirepipe.store._engine import Held, run, run_many, run_together
from hirepipe.store._schema import Tables
from hirepipe.store._writes import row_values

__all__ = ["LOG_COLUMNS", "FireStatements"]

LOG_COLUMNS = (
    "version",
    "kind",
    "event",
    "from_stage",
    "to_stage",
    "actor",
    "at",
    "record",
    "changes",
    "requisition_changes",
    "hash",
    "personal",
)
"""The log row's columns a fire binds (``application_id`` comes from the compare-and-set)."""

_BEGIN, _COMMIT = "BEGIN", "COMMIT"


@dataclass(frozen=True, slots=True)
class _Compiled:
    """One statement compiled for a dialect: its text and how to bind its parameters."""

    sql: str
    order: tuple[str, ...] | None  # the parameters' order for a positional paramstyle
    processors: tuple[tuple[str, Callable[[Any], Any]], ...]

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect) -> _Compiled:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)  # a statement, not DDL
        processors = []
        for name, bind in compiled.binds.items():
            process = bind.type.bind_processor(dialect)
            if process is not None:
                processors.append((name, process))
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        return cls(compiled.string, order, tuple(processors))

    def parameters(self, values: Mapping[str, Any]) -> Any:
        """The driver's parameters for ``values`` (by bind name), processed and in order."""
        if self.processors:
            values = dict(values)
            for name, process in self.processors:
                values[name] = process(values[name])
        if self.order is None:
            return values
        return tuple(values[name] for name in self.order)


class FireStatements:
    """The statements of a fire, compiled for one dialect: its read, its write, the outbox's.

    The outbox's two (a new notification's row, kept first by key; whether a key is known)
    run in a fire whose hooks notify, a Notifier's every event.
    """

    def __init__(
        self, tables: Tables, dialect: Dialect, *, one_statement: bool | None = None
    ) -> None:
        """``one_statement``: write with the CTE (default: on PostgreSQL, which has it)."""
        applications, requisitions = tables.applications, tables.requisitions
        keys, log = tables.personal_keys, tables.transitions
        self._read = _Compiled.of(
            select(
                applications.c.snapshot,
                applications.c.version,
                applications.c.head,
                requisitions.c.snapshot,
                requisitions.c.version,
                keys.c.key,
            )
            .join(requisitions, requisitions.c.id == applications.c.requisition_id)
            .outerjoin(keys, keys.c.candidate_id == applications.c.candidate_id)
            .where(applications.c.id == bindparam("id", type_=applications.c.id.type)),
            dialect,
        )
        compare_and_set = (
            update(applications)
            .where(
                applications.c.id == bindparam("b_id", type_=applications.c.id.type),
                applications.c.version == bindparam("b_read", type_=applications.c.version.type),
            )
            .values(
                version=bindparam("version", type_=applications.c.version.type),
                stage=bindparam("b_stage", type_=applications.c.stage.type),
                requisition_id=bindparam(
                    "b_requisition_id", type_=applications.c.requisition_id.type
                ),
                snapshot=bindparam("b_snapshot", type_=applications.c.snapshot.type),
                head=bindparam("hash", type_=applications.c.head.type),
            )
        )
        self.one_statement = (
            dialect.name == "postgresql" if one_statement is None else one_statement
        )
        if self.one_statement:
            matched = compare_and_set.returning(applications.c.id).cte("cas")
            logged = select(
                matched.c.id, *(bindparam(name, type_=log.c[name].type) for name in LOG_COLUMNS)
            )
            self._writes: tuple[_Compiled, ...] = (
                _Compiled.of(
                    insert(log).from_select(["application_id", *LOG_COLUMNS], logged), dialect
                ),
            )
        else:
            self._writes = (
                _Compiled.of(compare_and_set, dialect),
                _Compiled.of(
                    insert(log).values(
                        application_id=bindparam("b_id", type_=log.c.application_id.type),
                        **{name: bindparam(name, type_=log.c[name].type) for name in LOG_COLUMNS},
                    ),
                    dialect,
                ),
            )

        outbox = tables.outbox
        dialect_insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        columns = [column.name for column in outbox.columns if column.name != "seq"]  # row_values
        self._add = _Compiled.of(
            dialect_insert(outbox)
            .values({name: bindparam(name, type_=outbox.c[name].type) for name in columns})
            .on_conflict_do_nothing(index_elements=["key"]),
            dialect,
        )
        self._known = _Compiled.of(
            select(exists().where(outbox.c.key == bindparam("key", type_=outbox.c.key.type))),
            dialect,
        )

    def read(self, connection: Connection, application_id: str) -> tuple[Any, ...] | None:
        """Read what a fire needs of an application; None for an unknown one.

        Its snapshot, version and head, its requisition's snapshot and version, and the
        candidate's key.
        """
        found: tuple[Any, ...] | None = _run(
            connection, self._read, {"id": application_id}, rows=True
        )
        return found

    def read_held(self, held: Held, application_id: str) -> tuple[Any, ...] | None:
        """``read`` on a held connection (``_engine.hold``)."""
        statement = self._read
        found: tuple[Any, ...] | None = held.run(
            statement.sql, statement.parameters({"id": application_id}), rows=True
        )
        return found

    def write_held(self, held: Held, values: Mapping[str, Any]) -> bool:
        """``write`` on a held connection in autocommit: one statement, committed on its own.

        PostgreSQL only (``one_statement``): the compare-and-set and the log row together.
        """
        (statement,) = self._writes
        return bool(held.run(statement.sql, statement.parameters(values)) == 1)

    def write(
        self, connection: Connection, values: Mapping[str, Any], *, begin: bool = False
    ) -> bool:
        """Compare and set the application and append its log row; False if it lost the race.

        False: another writer changed the application since the version read; nothing is
        written then.

        ``values``: ``b_id``, ``b_read`` (the version read), ``b_stage``,
        ``b_requisition_id``, ``b_snapshot`` and the log row's columns (``LOG_COLUMNS``).
        ``begin``: send ``BEGIN`` with it, in the same round trip (the driver in autocommit,
        ``_engine.defer_begin``); the transaction is then open, to end with ``commit``.
        """
        first, *rest = self._writes
        if begin and not rest:
            return (
                run_together(connection, [(_BEGIN, ()), (first.sql, first.parameters(values))]) == 1
            )
        if begin:
            run(connection, _BEGIN)
        if _run(connection, first, values, rows=False) != 1:
            return False
        for statement in rest:
            _run(connection, statement, values, rows=False)
        return True

    def commit(self, connection: Connection, notifications: list[Notification]) -> None:
        """Insert the new notifications and send ``COMMIT``, in one round trip.

        For a transaction begun by ``write(begin=True)``: an insert that fails skips the
        ``COMMIT``, and the error is raised (roll back: nothing of the event is kept).
        """
        statement = self._add
        rows = [(statement.sql, statement.parameters(row_values(n))) for n in notifications]
        run_together(connection, [*rows, (_COMMIT, ())])

    def add_notifications(self, connection: Connection, notifications: list[Notification]) -> None:
        """Insert the notifications whose keys are new (the outbox keeps the first)."""
        statement = self._add
        if len(notifications) == 1:
            _run(connection, statement, row_values(notifications[0]), rows=False)
        else:
            rows = [statement.parameters(row_values(n)) for n in notifications]
            run_many(connection, statement.sql, rows)

    def known(self, connection: Connection, key: str) -> bool:
        """Whether the outbox holds a notification with ``key``."""
        found = _run(connection, self._known, {"key": key}, rows=True)
        return bool(found[0]) if found is not None else False


def _run(
    connection: Connection, statement: _Compiled, values: Mapping[str, Any], *, rows: bool
) -> Any:
    return run(connection, statement.sql, statement.parameters(values), rows=rows)
