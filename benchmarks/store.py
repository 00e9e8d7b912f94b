"""Durable store figures: events fired through ``Store.fire`` per second, and writers scaling.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/store.py``). Prints
``name: value`` lines:

- ``memory_fire_per_second``: the same events through an in-memory ``Pipeline.fire``.
- ``store_fire_per_second_sqlite`` and ``store_fire_per_second_postgres``: one writer firing
  holds and resumes, round robin over 100 applications, each ``Store.fire`` its own
  transaction (read, fire, compare-and-set the snapshot, append the log row, commit). SQLite
  is a file in a temporary directory; PostgreSQL comes from ``HIREPIPE_BENCH_POSTGRES_URL``
  (default: the local server), in a schema dropped afterwards.
- ``store_fire_slowdown_sqlite`` and ``store_fire_slowdown_postgres``: the in-memory rate
  divided by the store's: what durability costs per event.
- ``store_fire_vs_bare_commit_postgres`` and ``store_fire_vs_bare_commit_sqlite``: the
  store's fires per second divided by the bare driver's (psycopg, sqlite3) running the same
  SQL a fire sends, one writer, in one run. The anchor is the store's own statements,
  compiled by the store, with parameters made beforehand (a snapshot of the same size, a
  fixed hash), timed in paired rounds (the median ratio): on PostgreSQL the read and the one
  write statement (compare-and-set and log row), each in autocommit as the store sends them
  (two round trips, the write's commit flushed to disk); on SQLite ``BEGIN IMMEDIATE``, the
  read, the ``UPDATE``, the ``INSERT``, ``COMMIT``. So the ratio is the share of a fire's
  time that is the database's; the rest is hirepipe's and SQLAlchemy's Python (parsing, the
  engine, hashing, the connection pool). Targets: at least 0.8 and 0.4. Three runs on fresh
  applications: the median is printed, with the runs' ``_lowest`` and ``_highest``.
- ``store_fire_extra_us_vs_bare_commit_postgres`` and ``..._sqlite``: the median extra time of
  a store's fire over the bare driver's, in microseconds, from the same rounds. The ratio
  moves with the disk (a slow flush hides the Python); this moves far less.
- ``store_fire_vs_bare_transaction_postgres``: the store against the bare driver sending
  what a fire used to, one transaction of five round trips (``BEGIN``, ``SELECT``,
  ``UPDATE``, ``INSERT``, ``COMMIT``), for scale: above 1 means the store beats it.
- ``store_fire_with_notifier_per_second_postgres``: one writer with a Notifier hook putting a
  status update for the candidate into the outbox in each event's transaction (three round
  trips: the read, ``BEGIN`` with the write, the outbox row with ``COMMIT``).
- ``store_fire_scaling_4_writers_postgres``: events per second with 4 writer processes on
  distinct applications divided by the same with 1 writer process. Target: at least 2.
  Processes, not threads: each event parses and validates the application's JSON, Python
  work that one interpreter runs on one core at a time (``store_fire_scaling_4_threads_postgres``
  shows the threads' figure).
- ``postgres_commit_scaling_4_writers``: the same ratio for the database alone (psycopg, one
  ``UPDATE``, one ``INSERT`` and a ``COMMIT`` per event): the ceiling this machine sets.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import os
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.append(str(Path(__file__).parent))  # appended: benchmarks/business_days.py is no stdlib
from _harness import best_of, report
from sqlalchemy import create_engine, make_url, text

from hirepipe import NotificationRule, Pipeline, Policy, Recipient, standard_policy
from hirepipe.notify import Notifier, no_estimate
from hirepipe.store import Store
from hirepipe.store._firing import FireStatements
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition

POSTGRES_URL = os.environ.get(
    "HIREPIPE_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
APPLICATIONS = 100
PER_WRITER = 50  # applications each scaling writer owns
FIRES_PER_WRITER = 400
PAIRED_ROUNDS = 31  # store against bare driver: rounds of one fire per application each
RUNS = 3  # of the paired rounds, each on new applications: the median run is reported
_RUN = itertools.count()  # numbers each run's applications apart


POLICY = Policy.from_dict({**standard_policy().to_dict(), "notifications": []})
NOTIFYING = POLICY.with_notifications(
    NotificationRule(
        name="status",
        template="status_update",
        to=Recipient.candidate,
        events=("hold", "resume"),
    )
)


def new_store(url: str, schema: str | None, *, notify: bool = False) -> Store:
    pipeline = Pipeline(NOTIFYING if notify else POLICY, clock=FakeClock())
    store = Store(url, pipeline, schema=schema)
    if notify:
        pipeline.hooks.append(Notifier(store.outbox, pipeline.policy, estimate=no_estimate))
    return store


def populate(store: Store, first: int, count: int) -> list[str]:
    """Add ``count`` interviewed applications numbered from ``first``; return their ids."""
    requisition = make_requisition()
    builder = Pipeline(POLICY, clock=store.pipeline.clock)
    ids = []
    for number in range(first, first + count):
        application = make_application(builder, requisition, candidate=make_candidate(number))
        application.id = f"app-{number}"
        store.add(application, requisition)
        ids.append(application.id)
    return ids


def fire_round(fire: Any, ids: list[str], fires: int, state: dict[str, bool]) -> None:
    """Fire ``fires`` events round robin: a hold, then the resume, for each application."""
    for n in range(fires):
        target = ids[n % len(ids)]
        if state.get(target):
            fire(target, "resume", actor="maria", reason="budget back")
        else:
            fire(target, "hold", actor="maria", reason="budget freeze")
        state[target] = not state.get(target)


def memory_rate() -> float:
    pipeline = Pipeline(POLICY, clock=FakeClock())
    requisition = make_requisition()
    apps = {
        f"app-{n}": make_application(pipeline, requisition, candidate=make_candidate(n))
        for n in range(APPLICATIONS)
    }
    state: dict[str, bool] = {}

    def fire(target: str, event: str, **data: Any) -> None:
        pipeline.fire(apps[target], event, requisition=requisition, **data)

    fires = 20_000
    seconds = best_of(lambda: fire_round(fire, list(apps), fires, state))
    return fires / seconds


def store_rate(url: str, schema: str | None, *, notify: bool = False) -> float:
    store = new_store(url, schema, notify=notify)
    store.upgrade()
    ids = populate(store, 100_000 if notify else 0, APPLICATIONS)
    state: dict[str, bool] = {}
    fires = 600
    seconds = best_of(lambda: fire_round(store.fire, ids, fires, state), repeat=3)
    store.close()
    return fires / seconds


# -- the bare driver, same statements -------------------------------------------------------


def store_fires(store: Store, ids: list[str], fires: int) -> Any:
    state: dict[str, bool] = {}
    fire_round(store.fire, ids, 2 * len(ids), state)  # warm: connections, caches
    return lambda: fire_round(store.fire, ids, fires, state)


def bare_fires(store: Store, ids: list[str], fires: int, *, transaction: bool = False) -> Any:
    """The SQL ``store`` sends for ``fires`` fires, on the bare driver, as a callable.

    Parameters are made beforehand from a real log row, so the bare driver binds values of
    the sizes the store binds; the snapshot written is the one read and a record more, so it
    grows as the store's do (the history grows by a record an event). ``transaction``:
    PostgreSQL only, the read, an ``UPDATE`` and an ``INSERT`` in one transaction (five round
    trips) instead of the store's statements.
    """
    statements = FireStatements(store.tables, store.engine.dialect)
    read, writes = statements._read, statements._writes
    log = store.tables.transitions
    with store.engine.connect() as connection:
        sample = connection.execute(log.select().where(log.c.version == 1).limit(1)).one()
    values = {
        name: getattr(sample, name)
        for name in ("kind", "event", "from_stage", "to_stage", "actor", "record", "changes")
    }
    values |= {"requisition_changes": None, "hash": "0" * 64, "personal": sample.personal}
    values["at"] = dt.datetime(2025, 1, 6, 9, tzinfo=dt.UTC)
    url = store.engine.url
    postgres = store.engine.dialect.name == "postgresql"
    if postgres:
        import psycopg

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        driver: Any = psycopg.connect(dsn, autocommit=not transaction)
    else:
        driver = sqlite3.connect(url.database, isolation_level=None)
        driver.execute("PRAGMA foreign_keys = ON")
        driver.execute("PRAGMA journal_mode = WAL")
    if transaction:  # the compare-and-set and the log row as two statements, as on SQLite
        writes = FireStatements(store.tables, store.engine.dialect, one_statement=False)._writes

    def run(fires: int = fires) -> None:
        cursor = driver.cursor()
        for n in range(fires):
            target = ids[n % len(ids)]
            if not postgres:
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(read.sql, read.parameters({"id": target}))
            snapshot, version = cursor.fetchone()[:2]
            bound = values | {
                "b_id": target,
                "b_read": version,
                "version": version + 1,
                "b_stage": ("on_hold", "interviewed")[version % 2],  # as hold, resume
                "b_requisition_id": "req-1",
                "b_snapshot": snapshot + values["record"],
            }
            for statement in writes:
                cursor.execute(statement.sql, statement.parameters(bound))
            if not postgres or transaction:
                driver.commit() if postgres else cursor.execute("COMMIT")

    run(2 * len(ids))  # warm, as store_fires: connections, prepared statements, sizes
    return run


def versus_bare(url: str, schema: str | None, *, transaction: bool = False) -> tuple[float, float]:
    """The store against the bare driver: (fires per second over the driver's, the difference).

    Each round times one fire per application through the store and the same through the bare
    driver, one after the other (in turn first), so both meet the same machine: a burst of
    another process's disk writes lands on a pair, and the median leaves it out. The first is
    the median ratio of the rounds; the second the median extra time of a store's fire over
    the driver's, in microseconds: the Python around the driver, which the disk's speed of the
    moment moves far less than the ratio.
    """
    store = new_store(url, schema)
    store.upgrade()
    first = 200_000 + next(_RUN) * APPLICATIONS * 2
    mine = populate(store, first, APPLICATIONS)
    bare = populate(store, first + APPLICATIONS, APPLICATIONS)
    contenders = [
        store_fires(store, mine, APPLICATIONS),
        bare_fires(store, bare, APPLICATIONS, transaction=transaction),
    ]
    ratios, extra = [], []
    for round_number in range(PAIRED_ROUNDS):
        order = contenders if round_number % 2 == 0 else contenders[::-1]
        seconds = {id(run): best_of(run, repeat=1) for run in order}
        mine_seconds, bare_seconds = seconds[id(contenders[0])], seconds[id(contenders[1])]
        ratios.append(bare_seconds / mine_seconds)
        extra.append((mine_seconds - bare_seconds) / APPLICATIONS * 1e6)
    store.close()
    return statistics.median(ratios), statistics.median(extra)


def versus_bare_runs(url: str, schema: str | None, *, transaction: bool = False) -> list[float]:
    """``versus_bare`` ``RUNS`` times: the median ratio, lowest, highest, and the median extra."""
    runs = [versus_bare(url, schema, transaction=transaction) for _ in range(RUNS)]
    ratios = sorted(ratio for ratio, _ in runs)
    return [statistics.median(ratios), ratios[0], ratios[-1], statistics.median(e for _, e in runs)]


def report_versus(name: str, found: list[float]) -> None:
    """Print a ``versus_bare_runs`` figure: the ratio, its spread, the extra microseconds."""
    ratio, low, high, extra = found
    report(name, ratio)
    report(f"{name}_lowest", low)
    report(f"{name}_highest", high)
    report(name.replace("_vs_", "_extra_us_vs_"), extra, digits=0)


# -- scaling -------------------------------------------------------------------------------------


def _writer(url: str, schema: str | None, ids: list[str], ready: Any, go: Any) -> None:
    store = new_store(url, schema)
    state: dict[str, bool] = {}
    fire_round(store.fire, ids, 2 * len(ids), state)  # warm: connections, caches
    ready.release()
    go.wait()
    fire_round(store.fire, ids, FIRES_PER_WRITER, state)
    store.close()


def processes_rate(url: str, schema: str | None, groups: list[list[str]]) -> float:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    workers = [
        context.Process(target=_writer, args=(url, schema, ids, ready, go)) for ids in groups
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for worker in workers:
        worker.join()
        if worker.exitcode != 0:
            raise RuntimeError(f"a writer process failed (exit code {worker.exitcode})")
    return FIRES_PER_WRITER * len(groups) / (time.perf_counter() - start)


def threads_rate(url: str, schema: str | None, groups: list[list[str]]) -> float:
    store = new_store(url, schema)
    barrier = threading.Barrier(len(groups) + 1)

    def write(ids: list[str]) -> None:
        state: dict[str, bool] = {}
        fire_round(store.fire, ids, 2 * len(ids), state)
        barrier.wait()
        fire_round(store.fire, ids, FIRES_PER_WRITER, state)

    threads = [threading.Thread(target=write, args=(ids,)) for ids in groups]
    for thread in threads:
        thread.start()
    barrier.wait()
    start = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    store.close()
    return FIRES_PER_WRITER * len(groups) / seconds


def _raw_writer(dsn: str, schema: str, key: int, ready: Any, go: Any) -> None:
    import psycopg

    with psycopg.connect(dsn) as connection:
        connection.execute(f'SET search_path TO "{schema}"')
        connection.commit()
        ready.release()
        go.wait()
        for number in range(FIRES_PER_WRITER):
            connection.execute("UPDATE raw_rows SET v = v + 1 WHERE id = %s", (key,))
            connection.execute("INSERT INTO raw_log (id, v) VALUES (%s, %s)", (key, number))
            connection.commit()


def raw_rate(dsn: str, schema: str, writers: int) -> float:
    context = multiprocessing.get_context("spawn")
    ready, go = context.Semaphore(0), context.Event()
    workers = [
        context.Process(target=_raw_writer, args=(dsn, schema, key, ready, go))
        for key in range(writers)
    ]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    start = time.perf_counter()
    go.set()
    for worker in workers:
        worker.join()
    return FIRES_PER_WRITER * writers / (time.perf_counter() - start)


def raw_scaling(url: str, schema: str) -> float:
    """4 writers' commits per second over 1 writer's, with nothing but psycopg."""
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    admin = create_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE TABLE "{schema}".raw_rows (id int PRIMARY KEY, v int)'))
        connection.execute(text(f'CREATE TABLE "{schema}".raw_log (id int, v int)'))
        connection.execute(
            text(f'INSERT INTO "{schema}".raw_rows SELECT g, 0 FROM generate_series(0, 3) g')
        )
    admin.dispose()
    one = four = 0.0
    for _ in range(3):
        one = max(one, raw_rate(dsn, schema, 1))
        four = max(four, raw_rate(dsn, schema, 4))
    return four / one


def scaling(url: str, schema: str | None) -> tuple[float, float]:
    """Return (processes, threads): 4 writers' rate over 1 writer's, best of 3 rounds each."""
    store = new_store(url, schema)
    groups = [populate(store, 1_000 * (n + 1), PER_WRITER) for n in range(4)]
    store.close()
    best = {"p1": 0.0, "p4": 0.0, "t1": 0.0, "t4": 0.0}
    for _ in range(3):  # interleaved, so a slow spell of the machine hits every figure alike
        best["p1"] = max(best["p1"], processes_rate(url, schema, groups[:1]))
        best["p4"] = max(best["p4"], processes_rate(url, schema, groups))
        best["t1"] = max(best["t1"], threads_rate(url, schema, groups[:1]))
        best["t4"] = max(best["t4"], threads_rate(url, schema, groups))
    return best["p4"] / best["p1"], best["t4"] / best["t1"]


def main() -> None:
    memory = memory_rate()
    report("memory_fire_per_second", memory, digits=0)
    with tempfile.TemporaryDirectory() as folder:
        sqlite = store_rate(f"sqlite:///{folder}/bench.db", None)
    report("store_fire_per_second_sqlite", sqlite, digits=0)
    report("store_fire_slowdown_sqlite", memory / sqlite, digits=1)
    with tempfile.TemporaryDirectory() as folder:
        found = versus_bare_runs(f"sqlite:///{folder}/b.db", None)
    report_versus("store_fire_vs_bare_commit_sqlite", found)
    schema = f"hp_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        postgres = store_rate(POSTGRES_URL, schema)
        report("store_fire_per_second_postgres", postgres, digits=0)
        report("store_fire_slowdown_postgres", memory / postgres, digits=1)
        report_versus("store_fire_vs_bare_commit_postgres", versus_bare_runs(POSTGRES_URL, schema))
        ratio, _ = versus_bare(POSTGRES_URL, schema, transaction=True)
        report("store_fire_vs_bare_transaction_postgres", ratio)
        notified = store_rate(POSTGRES_URL, schema, notify=True)
        report("store_fire_with_notifier_per_second_postgres", notified, digits=0)
        processes, threads = scaling(POSTGRES_URL, schema)
        report("store_fire_scaling_4_writers_postgres", processes)
        report("store_fire_scaling_4_threads_postgres", threads)
        report("postgres_commit_scaling_4_writers", raw_scaling(POSTGRES_URL, schema))
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
