"""The store's tables, its schema version and the migrations that create or upgrade them.

Every document (an application, a requisition, a transition record, a notification) is kept
as JSON text, exactly as the model wrote it: JSON round trips are exact, and a value edited by
hand into invalid JSON can be found and reported instead of being refused by the database.
The other columns are copies for queries and for compare-and-set.

``hirepipe_schema`` holds one row per applied migration. ``upgrade`` applies the missing ones in
order, in one transaction, under a lock (PostgreSQL: an advisory lock; SQLite: the write lock),
so two processes upgrading at once apply each migration once. A migration, once released, never
changes: a new schema is a new migration appended to [`MIGRATIONS`][hirepipe.store.MIGRATIONS],
and ``define_tables`` is updated to what it makes (a test compares the two).
"""

from __future__ import annotations

import datetime as _dt
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Connection
from sqlalchemy.types import TypeDecorator

from hirepipe.errors import SchemaError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Migration", "Tables", "define_tables", "upgrade"]

_UTC = _dt.UTC
_ID = 200  # an Identifier's maximum length


class UtcDateTime(TypeDecorator[_dt.datetime]):
    """An aware datetime kept in UTC: ``timestamptz`` on PostgreSQL, sortable text on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: _dt.datetime | None, dialect: Dialect) -> Any:
        """Convert to UTC; SQLite stores it without an offset, which sorts as text."""
        if value is None:
            return None
        # in UTC with the datetime's own methods: pendulum's astimezone is Python, and slower
        offset = _dt.datetime.utcoffset(value) if value.tzinfo is not None else None
        if offset is None:
            raise ValueError(f"naive datetime {value.isoformat()}: pass an aware one")
        plain = _dt.datetime(
            value.year,
            value.month,
            value.day,
            value.hour,
            value.minute,
            value.second,
            value.microsecond,
        )
        if offset:
            plain -= offset
        return plain if dialect.name == "sqlite" else plain.replace(tzinfo=_UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> _dt.datetime | None:
        """Read back as an aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, _dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=_UTC)
        return value.astimezone(_UTC)


@dataclass(frozen=True, slots=True)
class Tables:
    """The store's SQLAlchemy Core tables, for queries of your own (read them, never write)."""

    metadata: MetaData
    schema_versions: Table
    requisitions: Table
    applications: Table
    transitions: Table
    hook_failures: Table
    outbox: Table
    personal_keys: Table


def _tables_v1(metadata: MetaData) -> dict[str, Table]:
    """Version 1's tables, exactly as released: migration 1 creates these."""
    requisitions = Table(
        "hirepipe_requisitions",
        metadata,
        Column("id", String(_ID), primary_key=True),
        Column("version", Integer, nullable=False),  # compare-and-set: +1 per write
        Column("status", String(40), nullable=False),
        Column("snapshot", Text, nullable=False),  # Requisition JSON
    )
    applications = Table(
        "hirepipe_applications",
        metadata,
        Column("id", String(_ID), primary_key=True),
        Column(
            "requisition_id",
            String(_ID),
            ForeignKey(requisitions.c.id, name="hirepipe_applications_requisition"),
            nullable=False,
            index=True,
        ),
        Column("candidate_id", String(_ID), nullable=False, index=True),
        Column("stage", String(_ID), nullable=False, index=True),
        Column("version", Integer, nullable=False),  # Application.version, compare-and-set
        Column("snapshot", Text, nullable=False),  # Application JSON, history included
    )
    transitions = Table(
        "hirepipe_transitions",
        metadata,
        Column(
            "application_id",
            String(_ID),
            ForeignKey(applications.c.id, name="hirepipe_transitions_application"),
            primary_key=True,
        ),
        Column("version", Integer, primary_key=True, autoincrement=False),
        # "added": the application as store.add received it (``changes`` is the snapshot);
        # "transition" or "activity": one TransitionRecord and the fields it changed
        Column("kind", String(20), nullable=False),
        Column("event", String(_ID)),
        Column("from_stage", String(_ID)),
        Column("to_stage", String(_ID)),
        Column("actor", String(_ID)),
        Column("at", UtcDateTime),
        Column("record", Text),  # TransitionRecord JSON (NULL for "added")
        Column("changes", Text, nullable=False),  # JSON object: field -> new value
        Column("requisition_changes", Text),  # JSON object, when the event changed it
    )
    hook_failures = Table(
        "hirepipe_hook_failures",
        metadata,
        Column("application_id", String(_ID), primary_key=True),
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("errors", Text, nullable=False),  # JSON list of "hook: error" strings
    )
    outbox = Table(
        "hirepipe_outbox",
        metadata,
        Column(
            "seq",
            BigInteger().with_variant(Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        Column("key", Text, nullable=False, unique=True),  # the idempotency key
        Column("application_id", String(_ID), nullable=False),
        Column("recipient", String(_ID), nullable=False),
        Column("status", String(20), nullable=False),
        Column("next_attempt_at", UtcDateTime, nullable=False),
        Column("sent_at", UtcDateTime),
        Column("claimed_by", String(64)),  # the StoreOutbox whose lease it is under
        Column("claimed_until", UtcDateTime),
        Column("notification", Text, nullable=False),  # Notification JSON
    )
    Index("hirepipe_outbox_due", outbox.c.status, outbox.c.next_attempt_at)
    Index("hirepipe_outbox_recipient", outbox.c.application_id, outbox.c.recipient)
    return {
        "requisitions": requisitions,
        "applications": applications,
        "transitions": transitions,
        "hook_failures": hook_failures,
        "outbox": outbox,
    }


def _added_in_v2() -> dict[str, list[Column[Any]]]:
    """Version 2's new columns, by table: the hash chain and personal data held apart."""
    return {
        "applications": [
            Column("head", String(64)),  # the hash of the latest log row
            Column("erased_at", UtcDateTime()),  # when the candidate's data was erased
        ],
        "transitions": [
            Column("hash", String(64)),  # SHA-256 of this row and the previous row's hash
            Column("personal", Text),  # JSON: digest -> personal value; NULL once erased
        ],
    }


def _personal_keys(metadata: MetaData) -> Table:
    return Table(
        "hirepipe_personal_keys",
        metadata,
        Column("candidate_id", String(_ID), primary_key=True),
        Column("key", String(64), nullable=False),  # hex HMAC key; deleted on erasure
    )


def define_tables(metadata: MetaData) -> Tables:
    """Describe the current schema (``SCHEMA_VERSION``) in ``metadata``."""
    schema_versions = Table(
        "hirepipe_schema",
        metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("description", Text, nullable=False),
    )
    tables = _tables_v1(metadata)
    for name, columns in _added_in_v2().items():
        for column in columns:
            tables[name].append_column(column)
    return Tables(metadata, schema_versions, **tables, personal_keys=_personal_keys(metadata))


@dataclass(frozen=True, slots=True)
class Migration:
    """One step of the schema: ``apply`` runs inside the upgrade's transaction."""

    version: int
    description: str
    apply: Callable[[Connection, Tables], None]


def _create_tables_v1(connection: Connection, tables: Tables) -> None:
    # Version 1 as released, in a metadata of its own: later migrations change it
    metadata = MetaData(schema=tables.metadata.schema)
    metadata.create_all(connection, tables=list(_tables_v1(metadata).values()))


def _chain_v2(connection: Connection, tables: Tables) -> None:
    # Version 2: add the columns and the key table, then hash every existing log row (and
    # hold its personal values apart) as the store now writes them
    from hirepipe.store._backfill import backfill_chain

    preparer = connection.dialect.identifier_preparer
    for name, columns in _added_in_v2().items():
        table = getattr(tables, name)
        for column in columns:
            connection.exec_driver_sql(
                f"ALTER TABLE {preparer.format_table(table)} ADD COLUMN "
                f"{preparer.quote(column.name)} {column.type.compile(dialect=connection.dialect)}"
            )
    tables.personal_keys.create(connection)
    backfill_chain(connection, tables)


MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "requisitions, applications, the transition log, hook failures and the outbox",
        _create_tables_v1,
    ),
    Migration(
        2,
        "a hash chain over each application's log, personal data held apart for erasure",
        _chain_v2,
    ),
)
"""Every migration, oldest first; the last one's version is ``SCHEMA_VERSION``."""

SCHEMA_VERSION = MIGRATIONS[-1].version
"""The schema version this hirepipe reads and writes."""


def current_version(connection: Connection, tables: Tables) -> int:
    """Return the database's schema version: 0 when it has no hirepipe tables."""
    table = tables.schema_versions
    if not inspect(connection).has_table(table.name, schema=table.schema):
        return 0
    found = connection.execute(select(func.max(table.c.version))).scalar()
    return int(found or 0)


def check(connection: Connection, tables: Tables) -> None:
    """Raise SchemaError unless the database is at ``SCHEMA_VERSION``."""
    found = current_version(connection, tables)
    if found == SCHEMA_VERSION:
        return
    if found < SCHEMA_VERSION:
        raise SchemaError(
            f"the database's hirepipe tables are at schema version {found}, this hirepipe "
            f"needs {SCHEMA_VERSION}: run store.upgrade() once (it creates or upgrades them)",
            found=found,
            expected=SCHEMA_VERSION,
        )
    raise SchemaError(
        f"the database's hirepipe tables are at schema version {found}, newer than this "
        f"hirepipe knows ({SCHEMA_VERSION}): upgrade hirepipe",
        found=found,
        expected=SCHEMA_VERSION,
    )


def upgrade(
    connection: Connection, tables: Tables, migrations: tuple[Migration, ...] = MIGRATIONS
) -> int:
    """Apply the migrations the database lacks, in order; return its version afterwards.

    Runs in the caller's transaction: a migration that fails leaves the schema as it was.
    """
    latest = migrations[-1].version if migrations else 0
    schema = tables.schema_versions.schema
    if connection.dialect.name == "postgresql":
        name = f"{schema or ''}.{tables.schema_versions.name}"
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": zlib.crc32(name.encode())}
        )
        if schema is not None:
            quoted = connection.dialect.identifier_preparer.quote_schema(schema)
            connection.exec_driver_sql(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    tables.schema_versions.create(connection, checkfirst=True)
    found = current_version(connection, tables)
    if found > latest:
        raise SchemaError(
            f"the database's hirepipe tables are at schema version {found}, newer than this "
            f"hirepipe knows ({latest}): upgrade hirepipe",
            found=found,
            expected=latest,
        )
    for migration in migrations:
        if migration.version > found:
            migration.apply(connection, tables)
            connection.execute(
                tables.schema_versions.insert().values(
                    version=migration.version, description=migration.description
                )
            )
    return max(found, latest)
