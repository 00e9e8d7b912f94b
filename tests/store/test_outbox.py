"""Tests of the durable outbox: the outbox contract on SQLite and PostgreSQL, and claims.

:class:`TestStoreOutbox` runs :class:`~tests.notify.test_outbox.OutboxContract`, the suite every
outbox keeps, on the store's outbox; the rest is what only a database shows: claims made by
``due`` that keep other workers (connections, processes) off until their lease runs out.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from hirepipe import Blocker, Fired, Pipeline, standard_policy
from hirepipe.notify import (
    MemorySender,
    NotificationError,
    NotificationStatus,
    Notifier,
    Outbox,
    deliver,
    no_estimate,
)
from hirepipe.store import StoreOutbox
from hirepipe.testing import FakeClock, make_application, make_requisition
from tests.leaks import leaked, logged
from tests.notify.test_outbox import NOW, OutboxContract, Outboxes, note
from tests.store import helpers as store_helpers
from tests.store.helpers import LATER, START, Database, World

database = store_helpers.database  # the fixture: SQLite and PostgreSQL
postgres = store_helpers.postgres  # writers racing: PostgreSQL only


class StoreOutboxes:
    """Outboxes of a store on one database; another worker is another StoreOutbox on it."""

    def __init__(self, database: Database) -> None:
        self.database = database

    def __call__(self, **options: Any) -> Outbox:
        return self.database.store(**options).outbox

    def another_worker(self, outbox: Outbox) -> Outbox:
        assert isinstance(outbox, StoreOutbox)
        return StoreOutbox(outbox._store, backoff=outbox.backoff, lease=outbox.lease)


class TestStoreOutbox(OutboxContract):
    """The contract, on the store's outbox (SQLite and PostgreSQL)."""

    @pytest.fixture
    def outboxes(self, database) -> Outboxes:
        return StoreOutboxes(database)


def test_every_outbox_method_is_the_stores_own():
    """StoreOutbox overrides every public method of Outbox: none falls back to memory."""
    methods = {
        name
        for name, member in vars(Outbox).items()
        if inspect.isfunction(member)
        and name != "__init__"
        and (not name.startswith("_") or name.endswith("__"))
    }
    assert {"add", "due", "mark_sent", "__contains__", "delivering"} <= methods
    assert set() == methods - set(vars(StoreOutbox))


def test_a_lease_must_be_positive(database):
    """A claim that lasts no time at all is refused."""
    store = database.store()
    with pytest.raises(NotificationError, match="lease must be positive"):
        StoreOutbox(store, lease=timedelta(0))


class TestClaims:
    def test_a_claim_keeps_other_workers_off_until_its_lease_ends(self, database):
        """What one worker was handed, another is not, until the first one's lease runs out."""
        store = database.store(lease=timedelta(minutes=5))
        first, second = store.outbox, StoreOutbox(store, lease=timedelta(minutes=5))
        first.add(note("a/1"))
        first.add(note("a/2"))
        assert (["a/1", "a/2"], []) == (
            [n.key for n in first.due(NOW)],
            second.due(NOW),
        )
        first.mark_sent("a/1", NOW)  # a/2: the first worker died before sending it
        assert [] == second.due(NOW.add(minutes=4))
        assert ["a/2"] == [n.key for n in second.due(NOW.add(minutes=5))]
        assert [] == first.due(NOW.add(minutes=6))  # the second worker has it now

    def test_the_store_sweeps_its_own_outbox(self, database):
        """store.due, mark_sent and mark_failed are its outbox's."""
        store = database.store()
        store.outbox.add(note("a/1"))
        store.outbox.add(note("a/2"))
        assert ["a/1", "a/2"] == [n.key for n in store.due(NOW, limit=5)]
        assert NotificationStatus.sent == store.mark_sent("a/1", NOW).status
        assert 1 == store.mark_failed("a/2", NOW, "down").attempts

    def test_a_failed_attempt_releases_the_claim(self, database):
        """After a failed send, whichever worker is free retries it when it is due."""
        store = database.store()
        first, second = store.outbox, StoreOutbox(store)
        first.add(note())
        (claimed,) = first.due(NOW)
        retry = first.mark_failed(claimed.key, NOW, "down").next_attempt_at
        assert [claimed.key] == [n.key for n in second.due(retry)]


def test_the_notifier_and_deliver_run_on_the_store(database):
    """Events fired through the store are delivered from it, rendered, once."""
    world = World(database)
    world.application(1)
    world.store.fire("app-1", "hold", actor="maria", reason="budget freeze")
    world.store.fire("app-1", "resume", actor="maria", reason="budget back")
    sender = MemorySender()
    report = deliver(world.store.outbox, sender, LATER)
    assert ["app-1/1/status/cand-1", "app-1/2/status/cand-1"] == [n.key for n in report.sent]
    assert all(message.subject for message in sender.messages)
    assert [] == world.store.outbox.pending()
    assert () == deliver(world.store.outbox, sender, LATER).sent


def test_delivering_inside_a_store_transaction_is_refused(database):
    """A send never holds a transaction open: deliver inside store.transaction() is refused.

    The claim's renewal runs on a connection of its own and would wait for that transaction,
    which waits for the send: the refusal says so instead of hanging.
    """
    store = database.store()
    store.outbox.add(note())
    with (
        pytest.raises(NotificationError, match="outside a store transaction"),
        store.transaction(),
    ):
        deliver(store.outbox, MemorySender(), NOW)
    assert [note()] == store.outbox.pending()


def test_a_sent_notification_is_recorded_while_a_writer_changes_its_application(postgres):
    """mark_sent records the activity even when another writer commits on the application first.

    The record's fire read the application before the writer committed, and its
    compare-and-set then found a newer version: the ConcurrentUpdate was logged and the
    activity dropped, leaving the deadline it answers open (found by the chaos test).
    """
    policy = standard_policy()
    pipeline = Pipeline(policy, clock=FakeClock(START))
    store = postgres.store(pipeline)
    pipeline.hooks.append(Notifier(store.outbox, policy, estimate=no_estimate))
    requisition = make_requisition()
    application = make_application(Pipeline(policy, clock=FakeClock(START)), requisition)
    store.add(application, requisition)
    store.fire(application.id, "hold", actor="maria", reason="budget freeze")
    (notification,) = store.outbox.pending()
    assert "status_update" == notification.records
    holding, release = threading.Event(), threading.Event()

    def hold_open(fired: Fired) -> None:
        if fired.record.event == "note":  # the writer's transaction, after its update
            holding.set()
            release.wait(timeout=30)

    pipeline.hooks.append(hold_open)
    writer = threading.Thread(
        target=store.fire, args=(application.id, "note"), kwargs={"actor": "maria", "text": "hi"}
    )
    writer.start()
    assert holding.wait(timeout=30)
    marking = threading.Thread(target=store.outbox.mark_sent, args=(notification.key, LATER))
    marking.start()
    waiting = (
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        f"AND query LIKE '%{postgres.schema}%'"
    )
    deadline = time.monotonic() + 30
    while not postgres.execute(waiting)[0][0] and time.monotonic() < deadline:
        pass  # until mark_sent waits for the writer's row: it has read what it read
    release.set()
    writer.join(timeout=30)
    marking.join(timeout=30)
    history = store.load(application.id).history
    assert ["hold", "note", "status_update"] == [r.event for r in history[-3:]]
    assert notification.key in str(history[-1].data["text"])
    assert [] == store.verify()


def test_a_record_refused_is_logged_without_the_refusals_text(database, caplog):
    """A refused record is logged with its blockers' codes, not their messages.

    A host's guard may say anything of the candidate (here the address); the log is never
    erased.
    """

    def reachable(ctx):
        """Refuses with a message quoting the candidate's address."""
        yield Blocker("unreachable", f"{ctx.application.candidate.email} bounced")

    policy = standard_policy().with_guard("status_update", reachable)
    pipeline = Pipeline(policy, clock=FakeClock(START))
    store = database.store(pipeline)
    pipeline.hooks.append(Notifier(store.outbox, policy, estimate=no_estimate))
    requisition = make_requisition()
    application = make_application(Pipeline(policy, clock=FakeClock(START)), requisition)
    store.add(application, requisition)
    store.fire(application.id, "hold", actor="maria", reason="budget freeze")
    (notification,) = store.outbox.pending()
    with caplog.at_level(logging.WARNING, logger="hirepipe.store"):
        store.outbox.mark_sent(notification.key, LATER)
    assert "blocked by unreachable" in caplog.text
    assert [] == leaked(logged(caplog), [application.candidate.email])
