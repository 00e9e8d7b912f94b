"""Engines: the store's own SQLite engines set up for one writer at a time; a host's left alone.

SQLite takes its write lock when a write transaction begins (``BEGIN IMMEDIATE``), so two
writers queue on the lock (waiting up to the busy timeout) instead of both reading and then
one failing to upgrade its lock; read-only transactions begin with a plain ``BEGIN``. The store
issues these itself, on its own connections (``begin``), never through a listener: an
engine a host gives the store keeps its listeners, its pragmas and its driver's transaction
handling, so the host's own transactions behave as before. An engine the store creates from a
URL (``make_engine``) runs in WAL mode, so readers never wait for the writer, with foreign
keys enforced.

The statements a fire runs thousands of times a second go to the driver's cursor directly
(``run``, ``run_many``), unless someone listens to the engine (``listened``); a fire of its own
on PostgreSQL reads and writes in autocommit when its write is one statement
(``defer_begin``, ``end_deferral``), saving the ``BEGIN`` and ``COMMIT`` round trips. When it
writes more, its ``BEGIN`` rides with its first write and its ``COMMIT`` with its last
(``run_together``: psycopg's pipeline mode, one round trip for several statements).

An engine whose pool hands every thread the same connection (``StaticPool``, which
``sqlite://`` in memory needs: one database for every thread) runs one transaction at a time,
whole: ``turn`` is that queue. Example:

```python
engine = make_engine("sqlite://")
prepare(engine)
with turn(engine, write=False), engine.connect() as connection, connection.begin():
    begin(connection, write=False)
    ...
```
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.pool import PoolProxiedConnection, StaticPool

from hirepipe._fork import renew_in_child
from hirepipe.errors import StoreError

__all__ = [
    "Held",
    "Kept",
    "begin",
    "defer_begin",
    "end_deferral",
    "hold",
    "listened",
    "make_engine",
    "prepare",
    "run",
    "run_many",
    "run_together",
    "scrub",
    "turn",
    "values_hidden",
]

_BUSY_TIMEOUT_SECONDS = 30.0
_PREPARED = "hirepipe_prepared"
_QUEUE = "hirepipe_queue"


class _Preparing:
    """The lock under which an engine is set up once; a forked child makes it afresh.

    A child forked while a thread of its parent prepared an engine has a copy taken for good.
    """

    __slots__ = ("__weakref__", "lock")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        renew_in_child(self)

    def _after_fork(self) -> None:
        self.lock = threading.Lock()


_PREPARING = _Preparing()


class _Queue:
    """A lock that a thread asking for it twice hears about at once, instead of deadlocking.

    A thread that already holds it is inside a transaction on this engine through another
    Store (a Store's own calls join its open transaction and never ask again); waiting
    would wait for itself.
    """

    __slots__ = ("__weakref__", "_lock", "_owner", "what")

    def __init__(self, what: str) -> None:
        self.what = what
        self._lock = threading.Lock()
        self._owner: int | None = None
        renew_in_child(self)

    def _after_fork(self) -> None:
        # the parent's transaction is not the child's: its copy of the lock may never free
        self._lock = threading.Lock()
        self._owner = None

    def __enter__(self) -> None:
        me = threading.get_ident()
        if self._owner == me:  # only this thread ever sets it to its own id
            raise StoreError(
                f"this thread already has {self.what} open on this database through another "
                "Store; finish it first, or do both through one Store (its calls nest)"
            )
        self._lock.acquire()
        self._owner = me

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._owner = None
        self._lock.release()


def make_engine(url: str | URL) -> Engine:
    """Create the store's own engine for ``url``; SQLite in memory is one shared connection.

    A SQLite engine's connections enforce foreign keys, wait up to 30 s for a lock and run in
    WAL mode; the store begins their transactions itself (``begin``). ``prepare`` it before
    use (threads take turns on a shared connection: ``turn``). Its statements' values (the
    snapshots, with personal data) are never logged nor put into an error
    (``hide_parameters``).
    """
    parsed = make_url(url)
    options: dict[str, Any] = {}
    sqlite = parsed.get_backend_name() == "sqlite"
    if sqlite:
        database = parsed.database or ""
        connect_args: dict[str, Any] = {"timeout": _BUSY_TIMEOUT_SECONDS}
        if database in ("", ":memory:") or database.startswith("file::memory:"):
            # one in-memory database for every thread, not one per thread; turn() serialises
            options["poolclass"] = StaticPool
            connect_args["check_same_thread"] = False
        options["connect_args"] = connect_args
    engine = create_engine(parsed, hide_parameters=True, **options)
    if sqlite:
        event.listen(engine, "connect", _set_up_sqlite)
    return engine


def turn(engine: Engine, *, write: bool) -> contextlib.AbstractContextManager[None]:
    """What a transaction on a prepared ``engine`` holds from connecting until it closes.

    One connection shared by every thread: the whole transaction, reads too (two threads'
    statements interleaved on one SQLite connection nest transactions, commit each other's
    work or crash the process). SQLite otherwise: a write transaction, so this process's
    writers queue in order rather than in SQLite's busy handler (it sleeps in steps of up to
    100 ms). Anything else: nothing. Raises StoreError, rather than waiting forever, when the
    thread already holds it.
    """
    queues: tuple[_Queue | None, _Queue | None] = getattr(engine, _QUEUE)
    every, writers = queues
    if every is not None:
        return every
    if write and writers is not None:
        return writers
    return contextlib.nullcontext()


def prepare(engine: Engine) -> None:
    """Set an engine up for the store (once): its queues, which every store on it shares.

    Nothing else: no listener, no pragma, so an engine of the host's behaves as it did.
    """
    with _PREPARING.lock:  # two stores opened at once on one engine set it up once
        if getattr(engine, _PREPARED, False):
            return
        setattr(engine, _PREPARED, True)
    shared = isinstance(engine.pool, StaticPool)
    sqlite = engine.dialect.name == "sqlite"
    setattr(
        engine,
        _QUEUE,
        (
            _Queue("a transaction") if shared else None,
            _Queue("a write transaction") if sqlite and not shared else None,
        ),
    )


def _set_up_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # pysqlite would begin transactions itself, lazily and deferred; the store begins them
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute(f"PRAGMA busy_timeout = {int(_BUSY_TIMEOUT_SECONDS * 1000)}")
        # Another connection creating the file at this moment may hold the lock this
        # needs; it sets WAL itself (a property of the database, not of a connection).
        with contextlib.suppress(sqlite3.OperationalError):
            cursor.execute("PRAGMA journal_mode = WAL")
    finally:
        cursor.close()


def begin(connection: Connection, *, write: bool) -> None:
    """Begin the store's SQLite transaction on ``connection``, inside ``connection.begin()``.

    ``BEGIN IMMEDIATE`` when the transaction will write, ``BEGIN`` when it only reads. When
    the driver or a host's own listener has begun a transaction already, it is used as it is.
    Other databases need nothing: their drivers begin transactions.
    """
    if connection.dialect.name != "sqlite":
        return
    driver = connection.connection.driver_connection
    if driver is not None and not driver.in_transaction:
        run(connection, "BEGIN IMMEDIATE" if write else "BEGIN")


def run(connection: Connection, sql: str, parameters: Any = (), *, rows: bool = False) -> Any:
    """Run one statement in the driver's paramstyle; return its first row, or its row count.

    On the driver's own cursor: SQLAlchemy's work around a statement (about 30 us) costs more
    than SQLite takes to run the store's most frequent ones. Through
    ``Connection.exec_driver_sql`` when someone listens (``listened``), so a host's listeners
    still see every statement. A driver's error is raised as SQLAlchemy's ``DBAPIError``
    either way (the connection invalidated when it is gone), as every other statement's is.
    """
    if listened(connection):
        result = connection.exec_driver_sql(sql, parameters)
        if rows:
            found = result.first()
            return None if found is None else tuple(found)
        return result.rowcount
    cursor = connection.connection.cursor()
    try:
        return _execute(cursor, sql, parameters, rows)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(connection, cursor, sql, parameters, exc) from exc
    finally:
        cursor.close()


def _execute(cursor: Any, sql: str, parameters: Any, rows: bool) -> Any:
    cursor.execute(sql, parameters)
    if rows:
        found = cursor.fetchone()
        return None if found is None else tuple(found)
    return cursor.rowcount


class Held:
    """A pool connection held for one fire of its own: no SQLAlchemy ``Connection`` around it.

    A fire that reads and writes one statement each needs none of SQLAlchemy's connection,
    transaction or result objects (making, committing and closing them cost more than both
    statements' Python in psycopg). Its statements run in autocommit on one driver cursor
    (``run``), as ``run`` runs them on a connection: a driver's error raised as SQLAlchemy's
    ``DBAPIError``, the connection invalidated when it is gone. ``connect`` wraps it in a
    ``Connection`` when the fire turns out to need more; ``release`` puts it back.
    """

    __slots__ = ("_cursor", "_engine", "connection", "pooled")

    def __init__(self, engine: Engine, pooled: PoolProxiedConnection) -> None:
        self._engine = engine
        self.pooled = pooled
        self._cursor: Any = None
        self.connection: Connection | None = None  # once ``connect`` made it

    def run(self, sql: str, parameters: Any, *, rows: bool = False) -> Any:
        """Run one statement on the held cursor; return its first row, or its row count."""
        cursor = self._cursor
        if cursor is None:
            cursor = self._cursor = self.pooled.driver_connection.cursor()  # type: ignore[union-attr]
        dialect = self._engine.dialect
        try:
            return _execute(cursor, sql, parameters, rows)
        except dialect.loaded_dbapi.Error as exc:
            pooled = self.pooled
            gone = dialect.is_disconnect(exc, pooled.dbapi_connection, cursor)
            if gone:
                pooled.invalidate(exc)
            raise _statement_error(self._engine, sql, parameters, exc, gone) from exc

    def connect(self) -> Connection:
        """SQLAlchemy's connection over the held one, which it then owns (and closes).

        Made once: a second call returns the same one.
        """
        if self.connection is None:
            self.close_cursor()
            self.connection = Connection(self._engine, self.pooled)
        return self.connection

    def release(self) -> None:
        """Put the connection back into the pool, out of autocommit (``end_deferral``)."""
        pooled = self.pooled
        try:
            self.close_cursor()
            if pooled.is_valid:
                _out_of_autocommit(
                    pooled.driver_connection, pooled.invalidate, self._engine.dialect
                )
        finally:
            pooled.close()

    def ready(self) -> bool:
        """Whether it can serve another fire: valid, in autocommit, no transaction open."""
        pooled = self.pooled
        driver = pooled.driver_connection
        return bool(
            self.connection is None
            and pooled.is_valid
            and driver is not None
            and driver.autocommit
            and driver.pgconn.transaction_status == _IDLE
        )

    def close_cursor(self) -> None:
        """Close and drop the cursor: it keeps the last statement's values otherwise."""
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            cursor.close()


def hold(engine: Engine) -> Held | None:
    """A pool connection for a fire of its own, its driver in autocommit; None where it cannot.

    psycopg only, on an engine whose statements nobody listens to (``listened``), with no
    execution options and no queue (``turn``), and a connection in the pool's usual state
    (not a host's autocommit one, no transaction open). A connection that cannot be had is
    None too: SQLAlchemy's own ``connect`` raises its error as it always does.
    """
    if not _holdable(engine):
        return None
    try:
        pooled = engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error:
        return None
    driver = pooled.driver_connection
    try:
        if driver is None or driver.autocommit or driver.pgconn.transaction_status != _IDLE:
            pooled.close()
            return None
        driver.autocommit = True
    except BaseException:
        pooled.close()
        raise
    return Held(engine, pooled)


def _holdable(engine: Engine) -> bool:
    """Whether a fire may hold a connection of ``engine`` (``hold``): nobody would miss it."""
    return not (
        engine.dialect.driver != "psycopg"
        or getattr(engine, _QUEUE) != (None, None)
        or Connection._has_events
        or engine._has_events
        or engine.dialect.dispatch.handle_error
        or engine.get_execution_options()
    )


class Kept:
    """The held connection a store keeps from one fire to the next, on an engine of its own.

    Taking a connection from the pool, switching its driver into autocommit, and back out and
    into the pool after the fire, cost about 72,000 instructions a fire on PostgreSQL (a
    stored fire's client side was 945,000), measured alone. A store that made its engine
    (from a URL: nobody else's pool) keeps the connection of its last fire instead, still in
    autocommit, and its next fire takes it (``take``): one connection at most, out of the
    pool's fifteen; a fire meanwhile in another thread holds one from the pool as before.
    The connection kept is one a fire ended cleanly (``give``): no cursor (it would keep the
    last statement's values, personal data among them), no transaction open. ``close`` puts
    it back into the pool, as a fire would have (``Held.release``), and keeps none from then
    on (a fire still under way in another thread gives its connection back); the store
    closes it with itself, or when it is collected.
    """

    __slots__ = ("_closed", "_held", "_lock", "_pid")

    def __init__(self) -> None:
        self._held: Held | None = None
        self._closed = False
        self._pid = os.getpid()  # a forked child must not share its parent's connection
        self._lock = threading.Lock()

    def take(self, engine: Engine) -> Held | None:
        """The connection kept, if it can still serve a fire; else one held anew (``hold``)."""
        if self._pid != os.getpid():
            # a forked child: the connection is its parent's (closing it, even returning it
            # to the pool, would touch the parent's session); left alone, and none kept
            return hold(engine)
        with self._lock:
            held, self._held = self._held, None
        if held is not None:
            if _holdable(engine) and held.ready():
                return held
            held.release()
        return hold(engine)

    def give(self, held: Held) -> None:
        """Keep ``held`` (its fire ended cleanly) for the next fire, or release it."""
        held.close_cursor()
        if self._pid == os.getpid():  # asked first: a forked child's copy of the lock may
            with self._lock:  # have been taken by a thread of its parent, never to be freed
                if self._held is None and not self._closed:
                    self._held = held
                    return
        held.release()

    def close(self) -> None:
        """Put the connection kept back into the pool, and keep none after (``give``)."""
        if self._pid != os.getpid():
            return  # a forked child's: its parent's connection (``take``)
        with self._lock:
            self._closed = True
            held, self._held = self._held, None
        if held is not None:
            held.release()


def defer_begin(connection: Connection) -> bool:
    """Let the transaction's first statements run on their own, until ``end_deferral``.

    psycopg only, before anything ran in the transaction: the driver's autocommit is switched
    on, so a read sends no ``BEGIN`` first, and a write that is one statement commits on its
    own (one round trip instead of three: ``BEGIN``, the statement, ``COMMIT``). Returns
    whether it did. Then either call ``end_deferral`` before a second write (the driver
    begins the transaction), or send ``BEGIN`` and ``COMMIT`` yourself (``run_together``);
    in any case call ``end_deferral`` at the end.
    """
    if connection.dialect.driver != "psycopg":
        return False
    driver = connection.connection.driver_connection
    if driver is None or driver.autocommit or driver.pgconn.transaction_status != _IDLE:
        return False  # a host's autocommit engine, or a transaction begun already
    driver.autocommit = True
    return True


def end_deferral(connection: Connection) -> None:
    """Make the next statement begin the transaction again (after ``defer_begin``).

    A transaction begun by hand (``BEGIN`` sent in autocommit) and still open is rolled back
    first: only an error leaves one open, and the driver cannot leave autocommit inside it.
    A connection that cannot be put back so is invalidated (the pool makes a new one), never
    handed to the next user in autocommit.
    """
    if connection.invalidated:
        return  # the driver's connection is gone; the pool makes a new one
    _out_of_autocommit(
        connection.connection.driver_connection, connection.invalidate, connection.dialect
    )


def _out_of_autocommit(driver: Any, invalidate: Any, dialect: Any) -> None:
    if driver is None or not driver.autocommit:
        return
    try:
        if driver.pgconn.transaction_status != _IDLE:
            driver.rollback()
        driver.autocommit = False
    except dialect.loaded_dbapi.Error as exc:
        invalidate(exc)


_IDLE = 0  # libpq's PQTRANS_IDLE: no transaction open


def run_together(connection: Connection, statements: list[tuple[str, Any]]) -> int:
    """Run statements one after the other, sent together; return the last one's row count.

    On psycopg, unless someone listens (``listened``), they go in one round trip (pipeline
    mode, on one cursor): the first error stops the rest, the server skipping them (a
    ``COMMIT`` among them is not run), and is raised as ``run`` raises it. Elsewhere, or for
    one statement, they run one by one (``run``).
    """
    driver = connection.connection.driver_connection
    if (
        len(statements) == 1
        or connection.dialect.driver != "psycopg"
        or driver is None
        or listened(connection)
    ):
        return int([run(connection, sql, parameters) for sql, parameters in statements][-1])
    cursor = driver.cursor()
    try:
        with driver.pipeline():
            for sql, parameters in statements:
                cursor.execute(sql, parameters)
        return int(cursor.rowcount)
    except connection.dialect.loaded_dbapi.Error as exc:
        sql = "; ".join(sql for sql, _ in statements)
        raise _driver_error(connection, cursor, sql, [p for _, p in statements], exc) from exc
    finally:
        cursor.close()


def run_many(connection: Connection, sql: str, rows: list[Any]) -> None:
    """Run one statement once for each of ``rows`` (``executemany``), as ``run`` runs one.

    psycopg sends them all before it reads an answer (one round trip).
    """
    if listened(connection):
        connection.exec_driver_sql(sql, rows)
        return
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(sql, rows)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _driver_error(connection, cursor, sql, rows, exc) from exc
    finally:
        cursor.close()


def _driver_error(
    connection: Connection, cursor: Any, sql: str, parameters: Any, exc: Any
) -> StatementError:
    """The driver's error as SQLAlchemy raises it; a connection found gone is invalidated."""
    dialect = connection.dialect
    gone = dialect.is_disconnect(exc, connection.connection.dbapi_connection, cursor)
    if gone:
        connection.invalidate(exc)
    return _statement_error(connection.engine, sql, parameters, exc, gone)


def _statement_error(
    engine: Engine, sql: str, parameters: Any, exc: Any, gone: bool
) -> StatementError:
    """SQLAlchemy's error for the driver's, its values hidden when the engine hides them."""
    dialect = engine.dialect
    error: StatementError = DBAPIError.instance(
        sql,
        parameters,
        exc,
        dialect.loaded_dbapi.Error,
        hide_parameters=engine.hide_parameters,
        connection_invalidated=gone,
        dialect=dialect,
    )
    return error


def scrub(error: DBAPIError) -> DBAPIError:
    """Take every value out of a driver's error leaving the store (in place); return it.

    The store's statements carry snapshots, full of personal data, and the database's own
    message may repeat a refused row (PostgreSQL's ``DETAIL: Failing row contains ...``).
    What is left: SQLAlchemy's class of error, the statement (its values are parameters),
    the driver's class of error (which names its SQLSTATE) with the first line of its
    message, and whether the connection was lost. The driver's error is replaced by a bare
    one of its class, and the chain ends there: nothing else of it can be reached.
    """
    orig = error.orig
    try:
        message = str(orig).split("\n", 1)[0]
    except Exception:  # a driver's error that cannot say what it is: say nothing of it
        message = ""
    bare = _bare(orig, message)
    error.orig = bare
    error.params = None
    error.hide_parameters = True
    error.detail = []
    error.args = (f"({type(bare).__module__}.{type(bare).__name__}) {message}",)
    error.__cause__ = bare
    error.__context__ = None
    error.__suppress_context__ = True
    return error


def _bare(orig: BaseException | None, message: str) -> Exception:
    """A new error of ``orig``'s class carrying ``message`` alone (no detail, no result)."""
    if not isinstance(orig, Exception):
        return Exception(message)
    try:
        bare = type(orig)(message)
    except Exception:  # a class that needs more to be made: the message alone
        return Exception(f"{type(orig).__module__}.{type(orig).__name__}: {message}")
    # codes and names, no values; psycopg's SQLSTATE too: an error of a code it has no class
    # for (a host's trigger's own) is its class's base, the code on the instance alone
    for name in ("sqlite_errorcode", "sqlite_errorname", "sqlstate"):
        found = getattr(orig, name, None)
        if found is not None and getattr(bare, name, None) != found:
            with contextlib.suppress(AttributeError, TypeError):  # a read-only attribute
                setattr(bare, name, found)
    return bare


@contextlib.contextmanager
def values_hidden() -> Iterator[None]:
    """Let a driver's error raised inside out of it only without its values (``scrub``)."""
    try:
        yield
    except DBAPIError as exc:
        scrub(exc)
        raise


def listened(connection: Connection) -> bool:
    """Whether someone listens to this connection's statements or errors (a host's logging).

    The store runs its most frequent statements on the driver's cursor, skipping SQLAlchemy's
    work around them, only when nobody would miss them: this is SQLAlchemy's own test before
    each statement (its flags are internal, set when a listener is added).
    """
    return bool(
        connection._has_events
        or connection.engine._has_events
        or connection.dialect.dispatch.handle_error
    )
