"""What the store's tests share: the databases, a world with a notifier, workloads, children.

The store's tests run against SQLite and PostgreSQL alike (the ``database`` fixture). The
PostgreSQL server comes from ``HIREPIPE_TEST_POSTGRES_URL`` (default: the local server with
trust authentication); each test gets a schema of its own, dropped afterwards. A server that
does not answer fails the tests, with how to start one: they never skip.

Run as ``python -m tests.store.helpers workload|crash '<json>'``, this module is the child
process of the multi-process and crash tests.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pendulum
import pytest
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from hirepipe import (
    Application,
    ConcurrentUpdate,
    Pipeline,
    Policy,
    Requisition,
    standard_policy,
)
from hirepipe.notify import MemorySender, Notifier, deliver, no_estimate
from hirepipe.policy import NotificationRule, Recipient
from hirepipe.store import Store, StoreOutbox
from hirepipe.store._engine import make_engine
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition

ROOT = Path(__file__).resolve().parents[2]
POSTGRES_URL = os.environ.get(
    "HIREPIPE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# The standard lifecycle with one notification rule of the tests' own (the keys are known).
START = pendulum.datetime(2025, 1, 6, 9, tz="America/New_York")
LATER = START.add(days=1)  # every notification the tests make is due by then
_STANDARD = standard_policy().to_dict()
POLICY = Policy.from_dict({**_STANDARD, "notifications": []}).with_notifications(
    NotificationRule(
        name="status",
        template="status_update",
        to=Recipient.candidate,
        events=("hold", "resume", "accept"),
    )
)
HOW_TO_START = (
    "start one (on Debian: `apt-get install postgresql` then `pg_ctlcluster 15 main start`; "
    "trust authentication for 127.0.0.1, database `test`), or point "
    "HIREPIPE_TEST_POSTGRES_URL at one, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


# -- databases ---------------------------------------------------------------------------------


@dataclass
class Database:
    """One test's database: its URL, its PostgreSQL schema, and the stores opened on it."""

    backend: str
    url: str
    schema: str | None = None
    stores: list[Store] = field(default_factory=list)
    engine: Engine | None = None  # in memory: the one engine every store of the test shares

    def store(
        self, pipeline: Pipeline | None = None, *, upgrade: bool = True, **options: Any
    ) -> Store:
        """Open a store on this database (closed after the test), its tables created."""
        where: str | Engine = self.engine if self.engine is not None else self.url
        store = Store(where, pipeline, schema=self.schema, **options)
        self.stores.append(store)
        if upgrade:
            store.upgrade()
        return store

    def table(self, name: str) -> str:
        """The table's name as raw SQL needs it."""
        return f'"{self.schema}".{name}' if self.schema else name

    def execute(self, sql: str, **params: Any) -> list[Any]:
        """Run raw SQL in its own transaction, on a connection of its own; return the rows.

        In memory there is only the shared connection: call it when no thread is using it.
        """
        engine = self.engine if self.engine is not None else create_engine(self.url)
        try:
            with engine.begin() as connection:
                result = connection.execute(text(sql), params)
                return list(result) if result.returns_rows else []
        finally:
            if engine is not self.engine:
                engine.dispose()

    def child_options(self) -> dict[str, Any]:
        """What a child process needs to open this database."""
        return {"url": self.url, "schema": self.schema}


_ANSWERS: dict[str, str | None] = {}


def postgres_admin() -> Engine:
    """An engine on the test server; fails the test, saying how to start one, if none answers."""
    if POSTGRES_URL not in _ANSWERS:
        engine = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            _ANSWERS[POSTGRES_URL] = None
        except OperationalError as exc:
            _ANSWERS[POSTGRES_URL] = str(exc).splitlines()[0]
        finally:
            engine.dispose()
    problem = _ANSWERS[POSTGRES_URL]
    if problem is not None:
        pytest.fail(
            f"no PostgreSQL server answers at {POSTGRES_URL} ({problem}); the store's tests "
            f"need one: {HOW_TO_START}",
            pytrace=False,
        )
    return create_engine(POSTGRES_URL)


@contextmanager
def _sqlite(path: Path) -> Iterator[Database]:
    found = Database("sqlite", f"sqlite:///{path / 'store.db'}")
    try:
        yield found
    finally:
        for store in found.stores:
            store.close()


@contextmanager
def _postgres() -> Iterator[Database]:
    admin = postgres_admin()
    schema = f"hp_test_{uuid.uuid4().hex[:12]}"
    found = Database("postgresql", POSTGRES_URL, schema)
    try:
        yield found
    finally:
        for store in found.stores:
            store.close()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def _memory() -> Iterator[Database]:
    found = Database("memory", "sqlite://", engine=make_engine("sqlite://"))
    try:
        yield found
    finally:
        for store in found.stores:
            store.close()
        assert found.engine is not None
        found.engine.dispose()


@pytest.fixture(params=["memory", "sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database: ``sqlite://`` in memory, a SQLite file or a PostgreSQL schema.

    In memory every store of the test shares one engine, as several stores in one program
    would share theirs.
    """
    opened = {"memory": _memory, "sqlite": lambda: _sqlite(tmp_path), "postgresql": _postgres}
    with opened[request.param]() as found:
        yield found


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""
    with _sqlite(tmp_path) if request.param == "sqlite" else _postgres() as found:
        yield found


@pytest.fixture
def postgres() -> Iterator[Database]:
    """A fresh PostgreSQL schema, for behaviour only PostgreSQL shows (writers racing)."""
    with _postgres() as found:
        yield found


class RoundTrips:
    """The messages a store's PostgreSQL connection exchanged, from libpq's trace."""

    def __init__(self) -> None:
        self.trace = ""

    @property
    def count(self) -> int:
        """Round trips: each time the client sent something, then waited for an answer."""
        found, last = 0, ""
        for line in self.trace.splitlines():
            direction = line.split("\t", 1)[0]
            if direction == "B" and last == "F":
                found += 1
            if direction in ("F", "B"):
                last = direction
        return found


def give_back_kept(store: Store) -> None:
    """Put the connection the store keeps between its fires (``_engine.Kept``) into the pool."""
    if store._kept is not None:
        store._kept.close()


@contextmanager
def round_trips(store: Store) -> Iterator[RoundTrips]:
    """Count the round trips of what ``store`` does inside, on its one pooled connection.

    The store's engine must hold one idle connection (the store used it once); what runs
    inside takes that one (the pool hands out the most recent first).
    """
    import psycopg  # the PostgreSQL driver: only tests on PostgreSQL need it

    found = RoundTrips()
    flags = psycopg.pq.Trace.SUPPRESS_TIMESTAMPS | psycopg.pq.Trace.REGRESS_MODE
    give_back_kept(store)
    assert 1 == store.engine.pool.checkedin(), "the store must hold one idle connection"
    with tempfile.TemporaryFile() as log:
        pooled = store.engine.raw_connection()
        driver = pooled.driver_connection
        driver.pgconn.trace(log.fileno())
        driver.pgconn.set_trace_flags(flags)
        pooled.close()
        try:
            yield found
        finally:
            give_back_kept(store)
            pooled = store.engine.raw_connection()
            assert pooled.driver_connection is driver, "the store used another connection"
            driver.pgconn.untrace()
            pooled.close()
            log.seek(0)
            found.trace = log.read().decode()


# -- a world: a store with a notifier ------------------------------------------------------------


class World:
    """A store on ``database`` whose pipeline tells the candidate of holds, resumes, hires."""

    def __init__(self, database: Database, *, store: Store | None = None, **options: Any) -> None:
        self.database = database
        self.clock = FakeClock(START)
        self.pipeline = Pipeline(POLICY, clock=self.clock)
        self.builder = Pipeline(POLICY, clock=self.clock)  # no hooks: builds applications
        self.store = store if store is not None else database.store(self.pipeline, **options)
        self.store.pipeline = self.pipeline
        self.notifier = Notifier(self.store.outbox, POLICY, estimate=no_estimate)
        self.pipeline.hooks.append(self.notifier)
        self.requisition = make_requisition()

    def application(
        self, number: int = 1, stage: str = "interviewed", requisition: Requisition | None = None
    ) -> Application:
        """Add application ``app-<number>`` brought to ``stage`` by real events."""
        requisition = requisition or self.requisition
        application = make_application(
            self.builder, requisition, stage=stage, candidate=make_candidate(number)
        )
        application.id = f"app-{number}"
        self.store.add(application, requisition)
        return application


def next_event(application: Application, rng: random.Random) -> tuple[str, dict[str, Any]]:
    """An event that can fire on an application of the workload, with its data."""
    roll = rng.random()
    if application.stage == "on_hold":
        return ("resume", {"reason": "budget back"}) if roll < 0.6 else ("note", {"text": "..."})
    if roll < 0.4:
        return "hold", {"reason": "budget freeze"}
    if roll < 0.8:
        return "note", {"text": f"note {rng.randrange(1000)}"}
    return "inquiry", {"text": "any news?"}


@dataclass
class Outcome:
    """What a workload saw: events applied, refusals, anything else raised, keys sent, reads."""

    applied: list[tuple[str, int]] = field(default_factory=list)
    refused: list[tuple[str, int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    reads: int = 0

    def merge(self, other: Outcome) -> None:
        self.applied += other.applied
        self.refused += other.refused
        self.errors += other.errors
        self.sent += other.sent
        self.reads += other.reads

    def to_json(self) -> str:
        return json.dumps(
            {
                "applied": self.applied,
                "refused": self.refused,
                "errors": self.errors,
                "sent": self.sent,
                "reads": self.reads,
            }
        )

    @classmethod
    def from_json(cls, document: str) -> Outcome:
        data = json.loads(document)
        return cls(
            [(a, v) for a, v in data["applied"]],
            [(a, e, v) for a, e, v in data["refused"]],
            data["errors"],
            data["sent"],
            data["reads"],
        )


def workload(
    store: Store,
    ids: list[str],
    *,
    events: int,
    writers: int,
    deliverers: int,
    seed: int,
    readers: int = 0,
) -> Outcome:
    """Fire ``events`` events from ``writers`` threads while ``deliverers`` threads deliver.

    Each writer loads an application, picks an event and fires it with ``expected_version``;
    a ConcurrentUpdate is counted and the writer moves on. A fifth of the picks go to five
    hot applications, so writers collide. Deliverers (each its own StoreOutbox) keep delivering
    until the writers are done and nothing is due. ``readers`` threads read until the writers
    are done, checking that what they read was committed: an application loaded at version
    ``v`` equals its log replayed up to ``v``.
    """
    outcome = Outcome()
    lock = threading.Lock()
    done = threading.Event()
    quotas = [events // writers + (1 if n < events % writers else 0) for n in range(writers)]

    def write(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        mine = Outcome()
        try:
            while len(mine.applied) < quotas[number]:
                target = rng.choice(ids[:5] if rng.random() < 0.2 else ids)
                application = store.load(target)
                name, data = next_event(application, rng)
                try:
                    fired = store.fire(
                        target, name, actor="maria", expected_version=application.version, **data
                    )
                except ConcurrentUpdate as exc:
                    mine.refused.append((target, exc.expected, exc.actual))
                    continue
                mine.applied.append((target, fired.record.version))
        except Exception as exc:  # anything but a ConcurrentUpdate fails the test
            mine.errors.append(f"{type(exc).__name__}: {exc}")
        with lock:
            outcome.merge(mine)

    def read(number: int) -> None:
        rng = random.Random(seed * 1000 + 500 + number)
        reads = 0
        try:
            while not done.is_set():
                target = rng.choice(ids[:5] if rng.random() < 0.5 else ids)
                roll = rng.random()
                if roll < 0.6:
                    loaded = store.load(target)
                    replayed = store.replay(target, version=loaded.version)
                    if loaded != replayed or loaded.version != len(loaded.history):
                        raise AssertionError(f"{target} v{loaded.version} is not its log")
                elif roll < 0.8:
                    store.applications(stage="on_hold")
                else:
                    store.outbox.pending()
                reads += 1
        except Exception as exc:  # anything raised fails the test
            with lock:
                outcome.errors.append(f"reader: {type(exc).__name__}: {exc}")
        with lock:
            outcome.reads += reads

    def send() -> None:
        outbox = StoreOutbox(store)
        sender = MemorySender()
        try:
            while True:
                finished = done.is_set()
                report = deliver(outbox, sender, LATER, limit=20)
                if finished and not report.sent and not report.retrying:
                    break
                if not report.sent:
                    done.wait(0.005)  # nothing due yet: let the writers write
        except Exception as exc:  # anything raised fails the test
            with lock:
                outcome.errors.append(f"deliverer: {type(exc).__name__}: {exc}")
        with lock:
            outcome.sent += [notification.key for notification, _ in sender.sent]

    writing = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    sending = [threading.Thread(target=send) for _ in range(deliverers)]
    reading = [threading.Thread(target=read, args=(n,)) for n in range(readers)]
    for thread in writing + sending + reading:
        thread.start()
    for thread in writing:
        thread.join()
    done.set()
    for thread in sending + reading:
        thread.join()
    return outcome


# -- child processes -----------------------------------------------------------------------------


def child(mode: str, options: dict[str, Any]) -> subprocess.Popen[str]:
    """Start ``python -m tests.store.helpers <mode> <options>`` from the repository's root."""
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.helpers", mode, json.dumps(options)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _open(options: dict[str, Any]) -> World:
    database = Database("child", options["url"], options["schema"])
    store = Store(database.url, schema=database.schema)
    return World(database, store=store)


def _child_workload(options: dict[str, Any]) -> None:
    world = _open(options)
    outcome = workload(
        world.store,
        options["ids"],
        events=options["events"],
        writers=options["writers"],
        deliverers=options["deliverers"],
        seed=options["seed"],
    )
    world.store.close()
    print(outcome.to_json(), flush=True)


PAUSES = {
    "in_hook": "a hook, after the compare-and-set",
    "after_snapshot": "the snapshot written, not the log (PostgreSQL: both, one statement)",
    "after_log": "the log row written, not the outbox",
    "after_outbox": "every row written, not committed",
    "at_commit": "COMMIT about to be sent",
    "after_fire": "store.fire returned",
}


def _child_crash(options: dict[str, Any]) -> None:
    """Fire one event and stop at ``options['pause']``, telling the parent, until killed."""
    world = _open(options)
    pause = options["pause"]

    def stop() -> None:
        print(f"paused {pause}", flush=True)
        sys.stdin.readline()  # the parent kills this process; it never writes
        os.kill(os.getpid(), signal.SIGKILL)

    markers = {
        "after_snapshot": "UPDATE {}hirepipe_applications",
        "after_log": "INSERT INTO {}hirepipe_transitions",
        "after_outbox": "INSERT INTO {}hirepipe_outbox",
    }
    prefix = f"{options['schema']}." if options["schema"] else ""
    if pause in markers:
        marker = markers[pause].format(prefix)

        @event.listens_for(world.store.engine, "after_cursor_execute")
        def _after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            if marker in statement:  # PostgreSQL's write is one statement: WITH ... INSERT
                stop()

    elif pause == "at_commit":

        @event.listens_for(world.store.engine, "commit")
        def _commit(conn: Any) -> None:
            stop()

    elif pause == "in_hook":
        world.pipeline.hooks.append(lambda fired: stop())
    world.store.fire(options["application_id"], options["event"], actor="maria", **options["data"])
    if pause == "after_fire":
        stop()
    print("finished", flush=True)


def main(arguments: list[str]) -> None:
    mode, options = arguments[0], json.loads(arguments[1])
    runners: dict[str, Callable[[dict[str, Any]], None]] = {
        "workload": _child_workload,
        "crash": _child_crash,
    }
    runners[mode](options)


if __name__ == "__main__":
    main(sys.argv[1:])


def rehash(database: Database, store: Store, application_id: str) -> None:
    """Recompute an application's whole hash chain and head, as someone with write access can.

    What the chain alone cannot catch: only a head kept elsewhere does.
    """
    from hirepipe.store._chain import row_hash
    from hirepipe.store._verify import log_rows

    with store.engine.connect() as connection:
        rows, _ = log_rows(connection, store.tables, application_id)
    previous = None
    for row in rows:
        previous = row_hash(application_id, row.hashed, previous)
        database.execute(
            f"UPDATE {database.table('hirepipe_transitions')} SET hash = :hash "
            "WHERE application_id = :id AND version = :version",
            hash=previous,
            id=application_id,
            version=row.version,
        )
    database.execute(
        f"UPDATE {database.table('hirepipe_applications')} SET head = :head WHERE id = :id",
        head=previous,
        id=application_id,
    )
