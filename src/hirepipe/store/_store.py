"""The Store: applications, requisitions, the transition log and the outbox in one database.

``Store.fire`` is one database transaction: read the snapshot, fire through the pipeline,
then write the requisition it changed (compare-and-set on its own version; first, in the
order ``slate_fire`` locks them), the new snapshot with compare-and-set on the version
(``UPDATE ... WHERE id = :id AND version = :read``), the log row (hashed onto the row before
it), and what the pipeline's hooks put into ``store.outbox``. Either all of it commits or
none of it does; a writer that lost the race gets
[`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate].
"""

from __future__ import annotations

import json
import weakref
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Engine, MetaData, exists, func, insert, select, update
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import StaticPool

from hirepipe._fork import renew_in_child
from hirepipe._types import whole_number_problem
from hirepipe.errors import (
    AlreadyStored,
    ConcurrentUpdate,
    NotStored,
    Problem,
    RequisitionMismatch,
    StoreError,
    TransactionConflict,
)
from hirepipe.models import (
    Application,
    Requisition,
    RequisitionStatus,
    TransitionRecord,
    identifier_problem,
)
from hirepipe.notify import Backoff, Notification
from hirepipe.pipeline import Fired, Pipeline, _check_expected_version
from hirepipe.policy import Policy
from hirepipe.positions import Positions
from hirepipe.privacy import DataModels, data_models_of, ended_at, retention_cutoff
from hirepipe.slate import Slate
from hirepipe.store import _schema
from hirepipe.store._chain import ChainHead, Hashed, canonical
from hirepipe.store._engine import (
    Held,
    Kept,
    begin,
    defer_begin,
    end_deferral,
    hold,
    listened,
    make_engine,
    prepare,
    run,
    scrub,
    turn,
    values_hidden,
)
from hirepipe.store._erase import erase_candidate
from hirepipe.store._firing import FireStatements
from hirepipe.store._outbox import StoreOutbox
from hirepipe.store._personal import candidate_key, stored_documents
from hirepipe.store._replay import ADDED, changed_fields
from hirepipe.store._slates import StoredPipeline
from hirepipe.store._support import (
    DEFAULT_CACHED_APPLICATIONS,
    ParsedRequisitions,
    Recent,
    Snapshot,
    Transaction,
    call_hooks,
    dump_snapshot,
)
from hirepipe.store._verify import parse_application, parse_requisition, replay, verify
from hirepipe.store._writes import (
    insert_ignore,
    insert_notifications,
    insert_requisition,
    log_values,
    requisition_row,
    version_of,
    write_requisition,
)

__all__ = ["Store"]


class Store:
    """Applications and their transition log, requisitions and an outbox, in SQL.

    ``url`` is a SQLAlchemy URL (``sqlite:///hiring.db``, ``postgresql+psycopg://user@host/db``)
    or an ``Engine`` of your own, used as it is: the store adds no listener and sets no pragma
    (on SQLite, choose WAL mode and foreign keys yourself). ``pipeline`` fires the events (the
    standard policy on the wall clock by default); its hooks are called by the store inside
    each event's transaction once the compare-and-set has succeeded, so what they add to
    [`outbox`][hirepipe.store.Store.outbox] commits with the event. A hook that raises never
    undoes the event: it is logged, recorded in the database, reported by
    [`verify`][hirepipe.store.Store.verify] and called again by
    [`retry_hooks`][hirepipe.store.Store.retry_hooks] (hooks must be idempotent, as the Notifier
    is). ``schema`` puts the tables in a PostgreSQL schema. ``backoff`` and ``lease`` configure
    [`outbox`][hirepipe.store.Store.outbox].

    ``cached_applications`` (4096 by default) is how many applications' latest states the
    store keeps in memory, the least recently fired dropped first: a fire on one of them
    skips parsing its JSON (the row is still read and compared). Each holds a whole
    application, a few KiB to some tens of KiB with a long history (4096 large ones: about
    230 MiB); lower it where memory is tight, or pass 0 to keep none. ``ValueError`` unless
    it is a whole number of 0 or more.

    Create or upgrade the tables once with [`upgrade`][hirepipe.store.Store.upgrade]. A Store is
    safe to share between threads; every process opens its own. On PostgreSQL, a store that
    made its engine from a URL keeps the connection of its last fire for the next one (one of
    its pool's connections, given back by [`close`][hirepipe.store.Store.close]).

    A statement the database refuses raises SQLAlchemy's error (``IntegrityError``,
    ``OperationalError``...) without the statement's values or the database's detail (they
    hold personal data): its statement, the driver's class of error and the first line of
    its message, as for your own statements inside
    [`transaction`][hirepipe.store.Store.transaction]. An engine the store creates never logs
    the values either (``hide_parameters``).
    """

    def __init__(
        self,
        url: str | URL | Engine,
        pipeline: Pipeline | None = None,
        *,
        schema: str | None = None,
        backoff: Backoff | None = None,
        lease: timedelta = timedelta(minutes=5),
        cached_applications: int = DEFAULT_CACHED_APPLICATIONS,
    ) -> None:
        recent = Recent(cached_applications)  # checked before an engine is made
        if isinstance(url, Engine):
            self.engine, self._owns_engine = url, False
        else:
            self.engine, self._owns_engine = make_engine(url), True
        if self.engine.dialect.name not in ("sqlite", "postgresql"):
            raise StoreError(
                f"hirepipe.store runs on SQLite and PostgreSQL, not {self.engine.dialect.name}"
            )
        prepare(self.engine)  # the engine's queues are shared by every store on it
        self.pipeline: Pipeline = pipeline if pipeline is not None else Pipeline()
        self.tables: _schema.Tables = _schema.define_tables(MetaData(schema=schema))
        self._slate_pipeline: StoredPipeline | None = None
        self._position_engine: Positions | None = None
        self._active: ContextVar[Transaction | None] = ContextVar(
            f"hirepipe_store_{id(self)}", default=None
        )
        # a fire of its own applying its event (``_fire_held``): a read meanwhile (a host's
        # guard asking the store) joins its connection rather than waiting for another
        self._holding: ContextVar[Held | None] = ContextVar(
            f"hirepipe_holding_{id(self)}", default=None
        )
        self._schema_checked = False
        self._recent = recent
        self.outbox: StoreOutbox = StoreOutbox(self, backoff=backoff, lease=lease)
        self._requisitions = ParsedRequisitions()
        # compiled once: the hot path only binds values
        self._statements = FireStatements(self.tables, self.engine.dialect)
        # an engine of its own: its fires keep their connection from one to the next
        self._kept: Kept | None = None
        # the policy's event data models for the personal values a fire stores, made once per
        # policy (immutable; the pipeline's may be replaced): every fire asked for them anew
        self._models: tuple[Policy, DataModels] | None = None
        if self._owns_engine:
            self._kept = Kept()
            weakref.finalize(self, self._kept.close)  # a store never closed gives it back
            renew_in_child(self)

    def _after_fork(self) -> None:
        """In a forked child: a pool of its own engine's made afresh, as SQLAlchemy advises.

        The parent's pooled connections are not the child's (two processes on one PostgreSQL
        socket), and a thread of the parent inside the pool (checking a connection out or in)
        left the pool's lock taken for good: the child's first call waited forever. In-memory
        SQLite keeps its one connection: it is the database.
        """
        if not isinstance(self.engine.pool, StaticPool):
            self.engine.dispose(close=False)  # the parent's connections left to the parent

    # -- schema and transactions ---------------------------------------------------------------

    def upgrade(self) -> int:
        """Create the tables, or upgrade them to this hirepipe's schema; return its version.

        Safe to run at every start-up and from several processes at once.
        """
        with values_hidden(), self._connect(write=True) as connection:
            version = _schema.upgrade(connection, self.tables)
        self._schema_checked = True
        return version

    def schema_version(self) -> int:
        """The database's schema version (0: no hirepipe tables yet)."""
        with values_hidden(), self._connect(write=False) as connection:
            return _schema.current_version(connection, self.tables)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Run several store calls, and statements of your own, in one database transaction.

        Yields the SQLAlchemy connection. Store calls inside join the transaction (each in a
        savepoint, so one that raises undoes only itself); an exception leaving the block
        rolls everything back. Use it to add an application and its creation notifications
        together:

        ```python
        with store.transaction():
            store.add(application, requisition)
            notifier.created(application, requisition)
        ```
        """
        with self._atomic(savepoint=True) as tx:
            yield tx.connection

    @contextmanager
    def _atomic(
        self,
        *,
        write: bool = True,
        savepoint: bool = True,
        consistent: bool = False,
        about: tuple[str, str] | None = None,
    ) -> Iterator[Transaction]:
        """The transaction of a store call: the caller's (in a savepoint), or one of its own.

        The database's aborting it for a conflict (PostgreSQL's deadlock or serialization
        failure) is raised as TransactionConflict, naming ``about`` (an application id and
        the event being stored) when given, at every level: a store call inside a
        transaction of the caller's raises it too.
        """
        try:
            with self._joined(write=write, savepoint=savepoint, consistent=consistent) as tx:
                yield tx
        except DBAPIError as exc:
            conflict = _conflict(exc, about)
            scrub(exc)  # no value of a statement leaves the store
            if conflict is None:
                raise
            raise conflict from exc

    @contextmanager
    def _joined(self, *, write: bool, savepoint: bool, consistent: bool) -> Iterator[Transaction]:
        current = self._active.get()
        if current is not None:
            inner: AbstractContextManager[object] = (
                current.connection.begin_nested() if write and savepoint else nullcontext()
            )
            with inner:
                yield current
            return
        held = self._holding.get()
        if held is not None and write:
            # the held fire has no transaction a write could join (its own write commits on
            # its own): written now, it would stay written when the event is refused
            raise StoreError(
                "a store write from a guard or an effect of Store.fire (here, on PostgreSQL, "
                "each fire commits on its own): it would not be undone if the event were "
                "refused; fire inside `with store.transaction():` to make the writes one "
                "transaction, or write after the fire returns"
            )
        if held is not None and not consistent:
            connection = held.connect()  # in autocommit: the read sees what is committed
            tx = Transaction(connection)
            token = self._active.set(tx)
            try:
                with connection.begin():
                    yield tx
            finally:
                self._active.reset(token)
            return
        with self._connect(write=write, consistent=consistent) as connection:
            if not self._schema_checked:
                _schema.check(connection, self.tables)
                self._schema_checked = True
            tx = Transaction(connection)
            token = self._active.set(tx)
            try:
                yield tx
            finally:
                self._active.reset(token)

    @contextmanager
    def _connect(self, *, write: bool, consistent: bool = False) -> Iterator[Connection]:
        """A connection in a transaction of the store's own, committed when the block ends.

        It holds the engine's turn (``turn``) until it closes.
        """
        with turn(self.engine, write=write), self.engine.connect() as connection:
            if consistent and connection.dialect.name == "postgresql":
                # several statements, one snapshot (SQLite's read transactions have one anyway)
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                begin(connection, write=write)
                yield connection

    # -- applications and requisitions ---------------------------------------------------------

    def add(self, application: Application, requisition: Requisition | None = None) -> None:
        """Store a new application, and its requisition if the store does not have it yet.

        The log starts with the application as given (its version and history included). Raises
        AlreadyStored for a known application id, NotStored when the requisition is neither
        given nor stored, and RequisitionMismatch for another requisition. What
        [`Application`][hirepipe.models.Application] refuses is refused here too (a
        ValidationError: the application is validated again, in case it was changed around its
        validation), and StoreError for a stage the store's policy does not define.
        """
        snapshot = application.model_dump_json()
        application = Application.model_validate_json(snapshot)  # refuses what lies
        policy = self.pipeline.policy
        if application.stage not in policy.stages:
            raise StoreError(
                f"application {application.id!r} is in stage {application.stage!r}, which "
                f"policy {policy.label!r} does not define: no event could fire on it; move "
                "it to a stage of the policy before adding it"
            )
        if requisition is not None and requisition.id != application.requisition_id:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given=requisition.id,
            )
        tables = self.tables
        with self._atomic() as tx:
            connection = tx.connection
            if requisition is not None:
                insert_requisition(connection, self.tables, requisition)
            elif not connection.execute(
                select(exists().where(tables.requisitions.c.id == application.requisition_id))
            ).scalar():
                raise NotStored("requisition", application.requisition_id)
            added = connection.execute(  # values as parameters: see _writes.insert_ignore
                insert_ignore(connection, tables.applications, "id").returning(
                    tables.applications.c.id
                ),
                {
                    "id": application.id,
                    "requisition_id": application.requisition_id,
                    "candidate_id": application.candidate.id,
                    "stage": application.stage,
                    "version": application.version,
                    "snapshot": snapshot,
                    "erased_at": application.erased_at,
                },
            )
            if added.first() is None:
                raise AlreadyStored("application", application.id)
            _, changes, personal = stored_documents(
                changes=application.model_dump(mode="json"),
                key=candidate_key(connection, tables, application.candidate.id),
                data_models=data_models_of(policy),
            )
            row = log_values(
                application.id,
                Hashed(
                    application.version,
                    ADDED,
                    None,
                    None,
                    None,
                    None,
                    application.created_at,
                    None,
                    changes,
                    None,
                ),
                personal,
                None,
            )
            connection.execute(insert(tables.transitions), row)
            connection.execute(
                update(tables.applications)
                .where(tables.applications.c.id == application.id)
                .values(head=row["hash"])
            )

    def load(self, application_id: str) -> Application:
        """Return the stored application (a fresh object). Raises NotStored."""
        _storable(application_id, "application")
        table = self.tables.applications
        with self._atomic(write=False) as tx:
            snapshot = tx.connection.execute(
                select(table.c.snapshot).where(table.c.id == application_id)
            ).scalar_one_or_none()
        if snapshot is None:
            raise NotStored("application", application_id)
        return parse_application(application_id, snapshot)

    def applications(
        self, *, requisition_id: str | None = None, stage: str | None = None
    ) -> list[Application]:
        """Return the stored applications, by id, of one requisition or in one stage if given."""
        if any(
            value is not None and not _is_identifier(value) for value in (requisition_id, stage)
        ):
            return []  # nothing stored has such an id or stage
        table = self.tables.applications
        query = select(table.c.id, table.c.snapshot).order_by(table.c.id)
        if requisition_id is not None:
            query = query.where(table.c.requisition_id == requisition_id)
        if stage is not None:
            query = query.where(table.c.stage == stage)
        with self._atomic(write=False) as tx:
            rows = tx.connection.execute(query).all()
        return [parse_application(row.id, row.snapshot) for row in rows]

    def add_requisition(self, requisition: Requisition) -> None:
        """Store a new requisition. Raises AlreadyStored for a known id."""
        with self._atomic() as tx:
            if not insert_requisition(tx.connection, self.tables, requisition):
                raise AlreadyStored("requisition", requisition.id)

    def requisition(self, requisition_id: str) -> Requisition:
        """Return the stored requisition. Raises NotStored."""
        _storable(requisition_id, "requisition")
        table = self.tables.requisitions
        with self._atomic(write=False) as tx:
            snapshot = tx.connection.execute(
                select(table.c.snapshot).where(table.c.id == requisition_id)
            ).scalar_one_or_none()
        if snapshot is None:
            raise NotStored("requisition", requisition_id)
        return parse_requisition(requisition_id, snapshot)

    def requisitions(self) -> list[Requisition]:
        """Return every stored requisition, by id."""
        table = self.tables.requisitions
        with self._atomic(write=False) as tx:
            rows = tx.connection.execute(
                select(table.c.id, table.c.snapshot).order_by(table.c.id)
            ).all()
        return [parse_requisition(row.id, row.snapshot) for row in rows]

    def update_requisition(self, requisition_id: str, **changes: Any) -> Requisition:
        """Change fields of a stored requisition (validated); return it as now stored.

        The row is locked while it changes, so concurrent updates and fires queue instead of
        losing each other's work. Raises NotStored, and ValidationError for bad values.
        """
        if "id" in changes:
            raise StoreError("a requisition's id cannot change; add a new requisition")
        owned = sorted(_LIFECYCLE_OWNS.intersection(changes))
        if owned:
            raise StoreError(
                f"{', '.join(owned)} belong to the requisition's own lifecycle: fire its events "
                "with fire_requisition (approvals, the approved band and the history are "
                "written by them)"
            )
        with self._atomic() as tx:
            updated = self._locked_requisition(tx.connection, requisition_id).model_copy()
            if "status" in changes and (
                updated.history or _AWAITING.intersection({updated.status, changes["status"]})
            ):
                raise StoreError(
                    f"requisition {requisition_id!r} keeps a lifecycle of its own (status "
                    f"{updated.status.value}): change its status with fire_requisition"
                )
            for name, value in changes.items():
                setattr(updated, name, value)  # validate_assignment checks every value
            self._write_requisition(tx.connection, updated)
        return updated

    def fire_requisition(
        self,
        requisition_id: str,
        event: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> TransitionRecord:
        """Fire an event of the stored requisition's own lifecycle, durably; return its record.

        [`Positions.fire`][hirepipe.positions.Positions.fire] with the store's pipeline, on the
        requisition's row locked for the transaction: its status, approvals, band and history
        are in its stored JSON, so the lifecycle survives a restart. ``expected_version`` is the
        requisition's own (``len(history)``). Raises what ``Positions.fire`` raises (nothing is
        written then) and NotStored for an unknown id.
        """
        _storable(requisition_id, "requisition")
        with self._atomic() as tx:
            requisition = self._locked_requisition(tx.connection, requisition_id)
            record = self._positions().fire(
                requisition,
                event,
                actor=actor,
                reason=reason,
                expected_version=expected_version,
                **data,
            )
            self._write_requisition(tx.connection, requisition)
        return record

    def _locked_requisition(self, connection: Connection, requisition_id: str) -> Requisition:
        """The stored requisition, its row locked until the transaction ends; NotStored if none."""
        table = self.tables.requisitions
        snapshot = connection.execute(
            select(table.c.snapshot).where(table.c.id == requisition_id).with_for_update()
        ).scalar_one_or_none()
        if snapshot is None:
            raise NotStored("requisition", requisition_id)
        return parse_requisition(requisition_id, snapshot)

    def _write_requisition(self, connection: Connection, requisition: Requisition) -> None:
        """Store ``requisition`` over its locked row: its snapshot, status and a new version."""
        table = self.tables.requisitions
        connection.execute(
            update(table)
            .where(table.c.id == requisition.id)
            .values(
                version=table.c.version + 1,
                status=requisition.status.value,
                snapshot=requisition.model_dump_json(),
            )
        )

    def _positions(self) -> Positions:
        if self._position_engine is None:  # compiled once: its machine is shared by every call
            self._position_engine = Positions(self.pipeline)
        return self._position_engine

    # -- firing --------------------------------------------------------------------------------

    def fire(
        self,
        application_id: str,
        event: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> Fired:
        """Fire ``event`` on a stored application and store the result in one transaction.

        Arguments as for [`Pipeline.fire`][hirepipe.pipeline.Pipeline.fire]; the application's
        requisition comes from the store (a ``reactivate`` or ``reopen`` with
        ``requisition_id=`` uses that one). Returns the [`Fired`][hirepipe.pipeline.Fired] the
        hooks got.

        Raises what ``Pipeline.fire`` raises (nothing is written then),
        [`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate] when another writer changed the
        application (or, as
        [`ConcurrentRequisitionUpdate`][hirepipe.errors.ConcurrentRequisitionUpdate], its
        requisition) since it was read or since ``expected_version``, or (as
        [`TransactionConflict`][hirepipe.errors.TransactionConflict]) when PostgreSQL aborted
        the transaction for a deadlock or a serialization failure: reload and try again.
        NotStored for an unknown id.

        A guard or effect may read the store while the event fires. On PostgreSQL a fire of
        its own commits its write on its own, so a store write from a guard or effect raises
        [`StoreError`][hirepipe.errors.StoreError] there: fire inside
        [`transaction`][hirepipe.store.Store.transaction] to make such writes part of the
        event's transaction (undone with it when the event is refused).
        """
        _storable(application_id, "application")
        # inside another fire's guard or effect (``_holding``) a fire is not one of its own
        top_level = self._active.get() is None and self._holding.get() is None
        if top_level and self._schema_checked and not self._retargets(event, data):
            kept = self._kept
            held = hold(self.engine) if kept is None else kept.take(self.engine)
            if held is not None:
                return self._fire_held(
                    held, application_id, event, actor, reason, expected_version, data
                )
        with self._atomic(about=(application_id, event)) as tx:
            connection = tx.connection
            # a fire of its own on PostgreSQL reads before its transaction begins: the
            # compare-and-set makes it safe, and the read needs no BEGIN round trip
            deferred = top_level and defer_begin(connection)
            try:
                applied = self._applied(
                    self._statements.read(connection, application_id),
                    application_id,
                    event,
                    actor,
                    reason,
                    expected_version,
                    data,
                    connection,
                )
                written = self._write(tx, applied, event, deferred)
            finally:
                if deferred:
                    end_deferral(connection)
        application = applied.fired.application
        if top_level:  # committed: the next event on it need not parse its JSON again
            self._recent.put(
                application_id, application.version, application, written, applied.ticket
            )
        return applied.fired

    def _retargets(self, event: str, data: dict[str, Any]) -> bool:
        """Whether the event may move the application to the requisition ``data`` names."""
        spec = self.pipeline.policy.events.get(event)
        return spec is not None and spec.retarget and isinstance(data.get("requisition_id"), str)

    def _fire_held(
        self,
        held: Held,
        application_id: str,
        event: str,
        actor: str,
        reason: str | None,
        expected_version: int | None,
        data: dict[str, Any],
    ) -> Fired:
        """``fire`` on a pool connection of its own (``_engine.hold``), in autocommit.

        The read and, when the event writes its application and log row only, the write run
        on the driver's cursor: two statements, each committing on its own, and no SQLAlchemy
        connection made (that took a third of the store's own time in a fire). An event that
        writes more (its requisition, a key, what hooks add) gets SQLAlchemy's connection over
        the same one for the rest, as ``fire`` has it.
        """
        ended = False  # cleanly: the connection can serve the next fire (``Kept``)
        try:
            holding = self._holding.set(held)
            try:
                applied = self._applied(
                    self._statements.read_held(held, application_id),
                    application_id,
                    event,
                    actor,
                    reason,
                    expected_version,
                    data,
                    None,
                )
            finally:
                self._holding.reset(holding)
            if (
                held.connection is None
                and applied.key is not None
                and applied.requisition_changes is None
                and not self.pipeline.hooks
            ):
                log, written = self._log_row(applied, applied.key)
                if not self._statements.write_held(held, log):
                    connection = held.connect()
                    raise self._lost(connection, applied, event)
            else:
                connection = held.connect()
                with connection.begin():
                    tx = Transaction(connection)
                    token = self._active.set(tx)
                    try:
                        written = self._write(tx, applied, event, True)
                    finally:
                        self._active.reset(token)
            ended = True
        except DBAPIError as exc:
            conflict = _conflict(exc, (application_id, event))
            scrub(exc)  # no value of a statement leaves the store
            if conflict is None:
                raise
            raise conflict from exc
        finally:
            made = held.connection
            if made is None and ended and self._kept is not None:
                self._kept.give(held)  # for the next fire: no checkout, no switch
            elif made is None:
                held.release()
            else:
                end_deferral(made)  # what an error left open is rolled back
                made.close()
        application = applied.fired.application
        self._recent.put(application_id, application.version, application, written, applied.ticket)
        return applied.fired

    def _applied(
        self,
        row: tuple[Any, ...] | None,
        application_id: str,
        event: str,
        actor: str,
        reason: str | None,
        expected_version: int | None,
        data: dict[str, Any],
        connection: Connection | None,
    ) -> _Applied:
        """Apply the event to what ``row`` (``FireStatements.read``) holds; nothing written.

        ``connection`` reads another requisition the event moves the application to (none
        is needed for an event that cannot: ``_retargets``).
        """
        if row is None:
            raise NotStored("application", application_id)
        snapshot, version, head, requisition_snapshot, requisition_version, key = row
        cached = self._recent.get_written(application_id, version, snapshot)
        if cached is None:
            application = parse_application(application_id, snapshot, version=version)
            previous = None
        else:
            application, previous = cached
        last = application.history[-1] if application.history else None
        _check_expected_version(expected_version)  # the pipeline's rule, before it is compared
        if expected_version is not None and expected_version != version:
            # before the pipeline looks at the stage: a stale caller learns it is stale,
            # not that its event does not fit a stage it has not seen yet
            raise ConcurrentUpdate(
                application_id=application_id,
                stage=application.stage,
                event=event,
                expected=expected_version,
                actual=version,
            )
        requisition = self._requisitions.parse(application.requisition_id, requisition_snapshot)
        target = data.get("requisition_id")
        if isinstance(target, str) and target != requisition.id and self._retargets(event, data):
            assert connection is not None, "_fire_held takes no event that retargets"
            requisition, requisition_version = requisition_row(connection, self.tables, target)
        before = dict(application.__dict__)
        requisition_before = dict(requisition.__dict__)
        fired = self.pipeline.apply(
            application,
            event,
            actor=actor,
            requisition=requisition,
            reason=reason,
            expected_version=expected_version,
            **data,
        )
        requisition_changes = None
        if requisition.__dict__ != requisition_before:
            requisition_changes = changed_fields(requisition_before, requisition)
        return _Applied(
            fired,
            version,
            head,
            key,
            before,
            previous,
            last,
            requisition_version,
            requisition_changes,
            self._recent.ticket(),  # before the commit: an erasure after it voids the put
        )

    def _log_row(self, applied: _Applied, key: str) -> tuple[dict[str, Any], Snapshot]:
        """The write's values (``FireStatements.write``) and the snapshot the store writes."""
        fired = applied.fired
        application, record = fired.application, fired.record
        record_text, changes_text, personal = stored_documents(
            changes=changed_fields(applied.before, application),
            record=record.model_dump(mode="json"),
            key=key,
            data_models=self._data_models(fired.policy),
        )
        requisition_changes = applied.requisition_changes
        log = log_values(
            application.id,
            Hashed.of_record(
                record,
                record_text,
                changes_text,
                canonical(requisition_changes) if requisition_changes is not None else None,
            ),
            personal,
            applied.head,
        )
        written = dump_snapshot(application, applied.previous, applied.last)
        log.update(
            b_id=application.id,
            b_read=applied.version,
            b_stage=application.stage,
            b_requisition_id=application.requisition_id,
            b_snapshot=written.text,
        )
        return log, written

    def _data_models(self, policy: Policy) -> DataModels:
        """``data_models_of`` the policy the event fired by, remembered while it is the same one.

        The fire's own policy, not the pipeline's of the moment: one replaced between the apply
        and the write would have had the record's personal values stored in it, unerasable.
        """
        found = self._models
        if found is None or found[0] is not policy:
            found = self._models = (policy, data_models_of(policy))
        return found[1]

    def _lost(self, connection: Connection, applied: _Applied, event: str) -> ConcurrentUpdate:
        """The error of a write whose compare-and-set found another version."""
        application_id = applied.fired.application.id
        return ConcurrentUpdate(
            application_id=application_id,
            stage=applied.fired.record.from_stage,
            event=event,
            expected=applied.version,
            actual=version_of(connection, self.tables.applications, application_id),
        )

    def _write(self, tx: Transaction, applied: _Applied, event: str, deferred: bool) -> Snapshot:
        """Write what ``_applied`` applied and call the hooks; return the snapshot written.

        ``deferred``: statements run in autocommit until ``end_deferral`` (``defer_begin``);
        the write then commits on its own when it is one statement. When the event writes
        more (its requisition, a key, what hooks add), it sends ``BEGIN`` and ``COMMIT``
        itself, the first with its first statement, the second with the outbox's rows; the
        caller's ``end_deferral`` rolls back what an error left open.
        """
        tables, connection = self.tables, tx.connection
        fired, key, requisition_changes = applied.fired, applied.key, applied.requisition_changes
        application, record, requisition = fired.application, fired.record, fired.requisition
        application_id = application.id
        hooks = list(self.pipeline.hooks)
        # More than one statement to write: one transaction. Begun by hand with the write and
        # committed with what the hooks add (a round trip each), unless someone listens to
        # the engine: then the driver begins it, as for any statement.
        by_hand = False
        if deferred and (key is None or requisition_changes is not None or hooks):
            if listened(connection):
                end_deferral(connection)
            else:
                by_hand = True
        begin_with_write = by_hand
        if by_hand and (key is None or requisition_changes is not None):
            run(connection, "BEGIN")  # statements of their own come before the write
            begin_with_write = False
        if key is None:  # made on first use: a store upgraded, a key row lost
            key = candidate_key(connection, tables, application.candidate.id)
        log, written = self._log_row(applied, key)
        if requisition_changes is not None:
            assert requisition is not None  # the store always passes it
            # the requisition before the application, as slate_fire locks them: the
            # other order deadlocks against a slate firing on this application
            write_requisition(
                connection,
                self.tables,
                requisition,
                applied.requisition_version,
                application_id=application_id,
                event=event,
                stage=record.from_stage,
            )
        if not self._statements.write(connection, log, begin=begin_with_write):
            raise self._lost(connection, applied, event)
        collected: list[Notification] = []
        if hooks:
            errors, collected = call_hooks(hooks, tx, fired, fresh=True)
            if errors:
                connection.execute(  # a hook's error may quote anything: a parameter
                    insert(tables.hook_failures),
                    {
                        "application_id": application_id,
                        "version": record.version,
                        "errors": json.dumps(errors),
                    },
                )
            if collected and not by_hand:
                self._statements.add_notifications(connection, collected)
        if by_hand:  # the outbox rows ride with the COMMIT: all of the event, or none of it
            self._statements.commit(connection, collected)
        return written

    # -- the requisition's rules ----------------------------------------------------------------

    def slate_fire(
        self,
        application_id: str,
        event: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> list[Fired]:
        """Fire ``event`` through the slate of the application's requisition, durably.

        The requisition's row is locked, its slate loaded, and
        [`hirepipe.Slate.fire`][hirepipe.slate.Slate.fire] applies the event and the
        requisition's rules (a fill, a fall-through) with every event a stored fire, compared
        and set, in this one transaction: all of them commit or none does. Returns a
        [`Fired`][hirepipe.pipeline.Fired] per event, the event's first. Ties in the slate's
        ranking keep the order of application ids.

        ``expected_version`` is the application's version the caller read (a form, an API
        request's ``If-Match``): when the application has changed since, nothing fires and
        [`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate] says so, with both versions.
        It is checked once the requisition is locked, on the event's application only: the
        events the rules add fire on what the slate read. Without it the event fires on the
        application as it is now.

        Raises what ``Slate.fire`` and [`fire`][hirepipe.store.Store.fire] raise (nothing is
        written then); NotStored for an unknown id.
        """
        if expected_version is not None:
            data["expected_version"] = expected_version  # to StoredPipeline.fire, this event only
        with self._atomic(about=(application_id, event)) as tx:
            slate = self._slate(tx.connection, self._requisition_of(tx.connection, application_id))
            kept = len(slate.requisition.history)
            fired = slate.fire(application_id, event, actor=actor, reason=reason, **data)
            self._keep_lifecycle(tx.connection, slate.requisition, kept)
            return fired

    def slate_sweep(self, requisition_id: str, *, actor: str | None = None) -> list[Fired]:
        """Expire the requisition's lapsed offers and fall through, durably, in one transaction.

        The daily job's requisition-level step
        ([`hirepipe.Slate.sweep`][hirepipe.slate.Slate.sweep] on the store), as ``actor``, by
        default the pipeline's ``system_actor``.
        """
        with self._atomic() as tx:
            slate = self._slate(tx.connection, requisition_id)
            kept = len(slate.requisition.history)
            fired = slate.sweep(actor=actor)
            self._keep_lifecycle(tx.connection, slate.requisition, kept)
            return fired

    def slate(self, requisition_id: str) -> Slate:
        """Return the requisition's slate as stored: for reading (ranking, review blockers).

        Its events would not be stored: fire with [`slate_fire`][hirepipe.store.Store.slate_fire].
        """
        with self._atomic(write=False, consistent=True) as tx:
            return self._slate(tx.connection, requisition_id, pipeline=self.pipeline)

    def _requisition_of(self, connection: Connection, application_id: str) -> str:
        table = self.tables.applications
        found = connection.execute(
            select(table.c.requisition_id).where(table.c.id == application_id)
        ).scalar_one_or_none()
        if found is None:
            raise NotStored("application", application_id)
        return str(found)

    def _slate(
        self, connection: Connection, requisition_id: str, *, pipeline: Pipeline | None = None
    ) -> Slate:
        """Load a slate; with no ``pipeline``, lock the requisition and fire through the store."""
        requisitions, applications = self.tables.requisitions, self.tables.applications
        query = select(requisitions.c.snapshot).where(requisitions.c.id == requisition_id)
        if pipeline is None:
            query = query.with_for_update()  # one slate writer per requisition at a time
        snapshot = connection.execute(query).scalar_one_or_none()
        if snapshot is None:
            raise NotStored("requisition", requisition_id)
        rows = connection.execute(
            select(applications.c.id, applications.c.snapshot)
            .where(applications.c.requisition_id == requisition_id)
            .order_by(applications.c.id)
        ).all()
        requisition = parse_requisition(requisition_id, snapshot)
        return Slate(
            pipeline if pipeline is not None else self._stored_pipeline(),
            requisition,
            [parse_application(row.id, row.snapshot) for row in rows],
            # a requisition keeping its own lifecycle records its fill there, as in memory
            positions=self._positions() if requisition.history else None,
        )

    def _keep_lifecycle(self, connection: Connection, requisition: Requisition, kept: int) -> None:
        """Write the requisition when the slate fired its lifecycle (the fill) past ``kept``."""
        if len(requisition.history) > kept:
            self._write_requisition(connection, requisition)

    def _stored_pipeline(self) -> StoredPipeline:
        found = self._slate_pipeline
        if found is None or found.policy is not self.pipeline.policy:
            found = self._slate_pipeline = StoredPipeline(self)
        found.clock = self.pipeline.clock  # the store's pipeline of the moment keeps time
        return found

    def retry_hooks(self) -> int:
        """Call the hooks again for every event where one failed; return how many still fail.

        Each event is rebuilt from the log as the hooks first saw it (its requisition as it
        stands now) and retried in its own transaction.
        """
        table = self.tables.hook_failures
        with self._atomic(write=False) as tx:
            failures = tx.connection.execute(
                select(table.c.application_id, table.c.version).order_by(
                    table.c.application_id, table.c.version
                )
            ).all()
        still = 0
        for application_id, version in failures:
            with self._atomic() as tx:
                key = (table.c.application_id == application_id) & (table.c.version == version)
                if (
                    tx.connection.execute(
                        select(table.c.errors).where(key).with_for_update()
                    ).first()
                    is None
                ):
                    continue  # another process retried it meanwhile
                application = replay(tx.connection, self.tables, application_id, upto=version)
                requisition, _ = requisition_row(
                    tx.connection, self.tables, application.requisition_id
                )
                record = application.history[-1]
                fired = Fired(record, application, requisition, self.pipeline.policy)
                errors, collected = call_hooks(self.pipeline.hooks, tx, fired)
                if collected:
                    insert_notifications(tx.connection, self.tables, collected)
                if errors:
                    still += 1
                    tx.connection.execute(update(table).where(key), {"errors": json.dumps(errors)})
                else:
                    tx.connection.execute(table.delete().where(key))
        return still

    # -- the outbox sweep (this store's own outbox) ---------------------------------------------

    def due(self, now: datetime, *, limit: int | None = None) -> list[Notification]:
        """Claim and return the notifications to send at ``now`` (``StoreOutbox.due``)."""
        return self.outbox.due(now, limit=limit)

    def mark_sent(self, key: str, now: datetime) -> Notification:
        """Record a notification sent (``StoreOutbox.mark_sent``)."""
        return self.outbox.mark_sent(key, now)

    def mark_failed(self, key: str, now: datetime, error: str | BaseException) -> Notification:
        """Record a failed attempt, to retry with backoff (``StoreOutbox.mark_failed``)."""
        return self.outbox.mark_failed(key, now, error)

    # -- the log -------------------------------------------------------------------------------

    def replay(self, application_id: str, *, version: int | None = None) -> Application:
        """Rebuild the application from its log alone (up to ``version``, default all of it).

        Equals [`load`][hirepipe.store.Store.load] for a sound store. The log's hash chain is
        checked on the way: a row changed since it was written is refused, even one a later row
        overwrites. Raises NotStored, and CorruptData (``chain_broken``...) when the log cannot
        be read back.
        """
        _storable(application_id, "application")
        with self._atomic(write=False) as tx:
            return replay(tx.connection, self.tables, application_id, upto=version)

    def head(self, application_id: str) -> ChainHead:
        """Return the head of the application's log: its latest version and that row's hash.

        The hash chain proves the log unchanged only against a head kept where whoever can
        write to the database cannot: keep it elsewhere (after each event, or daily) and pass
        it to [`verify`][hirepipe.store.Store.verify]. Raises NotStored.
        """
        _storable(application_id, "application")
        table = self.tables.applications
        with self._atomic(write=False) as tx:
            row = tx.connection.execute(
                select(table.c.version, table.c.head).where(table.c.id == application_id)
            ).one_or_none()
        if row is None:
            raise NotStored("application", application_id)
        return ChainHead(application_id, row.version, row.head)

    def verify(self, *, batch_size: int = 500, heads: Iterable[ChainHead] = ()) -> list[Problem]:
        """Check every application, requisition and notification; return what is wrong.

        Every application's log is checked link by link (``chain_broken`` names the first row
        whose hash does not match), its personal values against their digests, and it is
        replayed and compared with its snapshot and columns; a row that is not valid JSON (or
        not a valid model) is reported with its id, never raised; so is an application in a
        stage the policy does not define (``unknown_stage``). ``heads`` kept elsewhere
        ([`head`][hirepipe.store.Store.head]) are checked too: a log rewritten whole, every hash
        recomputed, no longer passes through them (``head_differs``). An empty list means the
        store is sound. Events whose hooks failed are reported too (``hook_failed``: run
        [`retry_hooks`][hirepipe.store.Store.retry_hooks]). ``batch_size`` (1 to 2**63 - 1) is
        how many applications are read at once; ``ValueError`` otherwise.
        """
        # 0 read no application at all: a forged store was said to be sound; one beyond the
        # database's integers was the driver's overflow
        problem = whole_number_problem(batch_size, 1)
        if problem is not None:
            raise ValueError(f"batch_size must be {problem}")
        return verify(
            self.tables,
            lambda: self._atomic(write=False, consistent=True),
            batch_size,
            stages=frozenset(self.pipeline.policy.stages),
            heads={head.application_id: head for head in heads},
        )

    # -- erasure and retention -------------------------------------------------------------

    def erase(self, candidate_id: str, *, actor: str, reason: str | None = None) -> list[str]:
        """Erase a candidate's personal data everywhere the store keeps it; return what changed.

        Every application of the candidate that is not erased yet is erased in one
        transaction, as [`Pipeline.erase`][hirepipe.pipeline.Pipeline.erase] does in memory:
        its personal values are removed from the snapshot and from every log row (the
        hash chain stays verifiable: the log holds their digests only), an ``@erase``
        record by ``actor`` is appended, the notifications about it lose their facts and
        addresses (pending ones fail, never to be sent), its failed hooks are dropped, and
        the candidate's key is deleted. Returns the ids of the applications erased now (none
        for an unknown or already erased candidate).

        Raises GuardRejected (``not_ended``) when an application has not ended: end it first;
        and (``not_permitted``) when ``actor`` may not erase, by the rule of
        [`Pipeline.erase`][hirepipe.pipeline.Pipeline.erase] (the policy's
        [`erased_by`][hirepipe.policy.PolicySettings.erased_by]), each application's stored
        requisition telling their role. Nothing is erased unless every application can be.
        """
        if not _is_identifier(candidate_id):
            return []
        with self._atomic() as tx:
            erased = erase_candidate(
                tx.connection,
                self.tables,
                candidate_id,
                pipeline=self.pipeline,
                actor=actor,
                reason=reason,
            )
            # what this store remembers of them goes too: their states before held the data
            for application_id, _ in erased:
                self._recent.forget(application_id)
        return [application_id for application_id, _ in erased]

    def retention_due(self, now: datetime, *, months: int) -> list[Application]:
        """Return the applications that ended more than ``months`` months before ``now``.

        Erased ones are left out. As
        [`hirepipe.privacy.retention_due`][hirepipe.privacy.retention_due], over the store.
        """
        policy = self.pipeline.policy
        cutoff = retention_cutoff(now, months)
        apps, log = self.tables.applications, self.tables.transitions
        terminal = [name for name, stage in policy.stages.items() if stage.terminal]
        moved = (
            select(log.c.application_id, func.max(log.c.at).label("moved"))
            .where(log.c.kind.in_([ADDED, "transition"]))
            .group_by(log.c.application_id)
            .subquery()
        )
        query = (
            select(apps.c.id, apps.c.snapshot)
            .join(moved, moved.c.application_id == apps.c.id)
            .where(apps.c.stage.in_(terminal), apps.c.erased_at.is_(None), moved.c.moved < cutoff)
            .order_by(apps.c.id)
        )
        with self._atomic(write=False) as tx:
            rows = tx.connection.execute(query).all()
        found = []
        for row in rows:  # the query narrows; the application's own history decides
            application = parse_application(row.id, row.snapshot)
            ended = ended_at(application, policy)
            if ended is not None and ended < cutoff:
                found.append(application)
        return found

    # -- helpers -------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the store's connections (an engine given to the store is left open)."""
        if self._kept is not None:
            self._kept.close()
        if self._owns_engine:
            self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        url = self.engine.url.render_as_string(hide_password=True)
        return f"Store({url!r}, {self.pipeline.policy!r})"


class _Applied(NamedTuple):
    """An event applied by a fire, not written yet (``Store._applied``)."""

    fired: Fired
    version: int  # the application's, as read
    head: str | None  # its log's hash, as read
    key: str | None  # the candidate's key, if it has one
    before: dict[str, Any]  # the application's fields before the event
    previous: Snapshot | None  # its snapshot as this store wrote it, if remembered
    last: TransitionRecord | None  # the record that ended its history as read
    requisition_version: int
    requisition_changes: dict[str, Any] | None
    ticket: int  # what the store's memory of states said before the commit (``Recent``)


_CONFLICTS = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def _conflict(exc: DBAPIError, about: tuple[str, str] | None) -> TransactionConflict | None:
    """``exc`` as TransactionConflict (about an application id and event), or None."""
    sqlstate = _sqlstate(exc)
    if sqlstate is None or sqlstate not in _CONFLICTS:
        return None
    application_id, event = about if about is not None else ("", "")
    return TransactionConflict(sqlstate=sqlstate, application_id=application_id, event=event)


def _sqlstate(exc: DBAPIError) -> str | None:
    """The SQLSTATE of a driver's error (psycopg 3 and psycopg2 name it differently)."""
    found = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return found if isinstance(found, str) else None


def _is_identifier(value: object) -> bool:
    return isinstance(value, str) and identifier_problem(value) is None


_LIFECYCLE_OWNS = frozenset({"approvals", "approved_band", "version", "history"})
_AWAITING = frozenset({RequisitionStatus.draft, RequisitionStatus.pending_approval})


def _storable(identifier: object, kind: str) -> None:
    """Raise NotStored for an id no row can have: the same answer on every database."""
    if not _is_identifier(identifier):
        raise NotStored(kind, repr(identifier) if not isinstance(identifier, str) else identifier)
