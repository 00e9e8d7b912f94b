"""Reliability of the store: writers at once, processes killed mid-event, rows edited by hand.

On SQLite and on PostgreSQL alike:

- 8 threads, then 2 processes, fire 1,000 events at 50 applications while deliverers send;
  afterwards every log replays to its snapshot, versions have no gaps, every write that did
  not happen was a ConcurrentUpdate its caller saw, and every notification went out once;
- a process killed (SIGKILL) at any point inside ``store.fire`` leaves the old state or the
  new one, never a mix;
- a snapshot, a log row, a requisition or a notification edited into invalid JSON is reported
  by ``verify()`` with the row's ids, not raised.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections import Counter

import pytest

from hirepipe.notify import MemorySender, NotificationError, deliver
from hirepipe.store import CorruptData
from tests.leaks import leaked, logged, said
from tests.store import helpers as store_helpers
from tests.store.helpers import (
    LATER,
    PAUSES,
    Database,
    Outcome,
    World,
    child,
    rehash,
    workload,
)

database = store_helpers.database  # the fixture: SQLite and PostgreSQL
any_database = store_helpers.any_database  # the same and sqlite:// in memory

NOTIFYING = frozenset({"hold", "resume"})  # the events the tests' rule notifies of
EVENTS = 1_000
APPLICATIONS = 50


def populated(database: Database, count: int = APPLICATIONS) -> tuple[World, list[str]]:
    """A world with ``count`` applications, interviewed."""
    world = World(database)
    for number in range(1, count + 1):
        world.application(number)
    return world, [f"app-{number}" for number in range(1, count + 1)]


def check_outcome(world: World, ids: list[str], outcome: Outcome, events: int = EVENTS) -> None:
    """Everything the concurrency tests promise, checked against the database itself."""
    store = world.store
    assert [] == outcome.errors
    assert events == len(outcome.applied)
    # every version was handed to exactly one writer, with no gaps, and nothing else happened
    assert len(outcome.applied) == len(set(outcome.applied))
    applied = Counter(application for application, _ in outcome.applied)
    versions = {application.id: application.version for application in store.applications()}
    assert {i: applied.get(i, 0) for i in ids} == versions
    for application in ids:
        mine = sorted(v for a, v in outcome.applied if a == application)
        assert list(range(1, versions[application] + 1)) == mine
    # every refusal told its caller of a newer version than the one it read
    assert all(actual > expected for _, expected, actual in outcome.refused)
    rows = world.database.execute(
        f"SELECT application_id, version, event FROM {world.database.table('hirepipe_transitions')}"
        " ORDER BY application_id, version"
    )
    logged: dict[str, list[int]] = {}
    for row in rows:
        logged.setdefault(row.application_id, []).append(row.version)
    assert {i: list(range(versions[i] + 1)) for i in ids} == logged
    assert [] == store.verify()  # every log replays to its snapshot
    # one notification per notifying event, each sent exactly once
    expected = {
        f"{row.application_id}/{row.version}/status/cand-{row.application_id[4:]}"
        for row in rows
        if row.event in NOTIFYING
    }
    sent = Counter(outcome.sent)
    assert expected == {n.key for n in store.outbox}
    assert (expected, {1}) == (set(sent), set(sent.values()))
    assert [] == store.outbox.pending()


@pytest.mark.slow
class TestConcurrency:
    def test_eight_threads(self, database):
        """8 writers and 2 deliverers at once: nothing lost, nothing doubled, no gaps."""
        world, ids = populated(database)
        outcome = workload(world.store, ids, events=EVENTS, writers=8, deliverers=2, seed=1)
        check_outcome(world, ids, outcome)

    def test_writers_and_readers_share_one_store(self, any_database):
        """4 writers, 4 readers and a deliverer share one Store, sqlite:// in memory included.

        No error, nothing lost or applied twice, every read was a committed state, and every
        log verifies (in memory this raised "cannot start a transaction within a
        transaction", "not an error" after a commit, and crashed the process now and then).
        """
        world, ids = populated(any_database, 20)
        outcome = workload(world.store, ids, events=400, writers=4, readers=4, deliverers=1, seed=3)
        check_outcome(world, ids, outcome, events=400)
        assert outcome.reads > 0

    def test_two_processes(self, database):
        """2 processes of 4 writers and a deliverer each: the same guarantees across processes."""
        world, ids = populated(database)
        options = {**database.child_options(), "ids": ids, "writers": 4, "deliverers": 1}
        children = [
            child("workload", {**options, "events": EVENTS // 2, "seed": seed}) for seed in (1, 2)
        ]
        outcome = Outcome()
        for process in children:
            out, err = process.communicate(timeout=120)
            assert 0 == process.returncode, err
            outcome.merge(Outcome.from_json(out.strip().splitlines()[-1]))
        check_outcome(world, ids, outcome)


@pytest.mark.slow
class TestCrashes:
    def test_a_process_killed_inside_fire_leaves_old_or_new(self, database):
        """SIGKILL at each point of store.fire: before COMMIT the old state, after it the new."""
        world, ids = populated(database, len(PAUSES))
        pauses = dict(zip(ids, PAUSES, strict=True))
        outcomes: dict[str, str] = {}

        def run(application_id: str, pause: str) -> None:
            process = child(
                "crash",
                {
                    **database.child_options(),
                    "application_id": application_id,
                    "event": "hold",
                    "data": {"reason": "budget freeze"},
                    "pause": pause,
                },
            )
            assert process.stdout is not None
            line = process.stdout.readline().strip()
            process.send_signal(signal.SIGKILL)
            _, err = process.communicate(timeout=60)
            outcomes[application_id] = line if line else f"no pause: {err}"

        threads = [threading.Thread(target=run, args=item) for item in pauses.items()]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert {i: f"paused {p}" for i, p in pauses.items()} == outcomes
        keys = {n.key for n in world.store.outbox}
        for application_id, pause in pauses.items():
            committed = pause == "after_fire"
            stored = world.store.load(application_id)
            assert (pause, 1 if committed else 0) == (pause, stored.version)
            assert (pause, committed) == (
                pause,
                f"{application_id}/1/status/cand-{application_id[4:]}" in keys,
            )
        assert [] == world.store.verify()
        for application_id in ids:  # no lock or half-written row is left behind
            world.store.fire(application_id, "note", actor="maria", text="after the crash")
        assert [] == world.store.verify()


class TestBadInput:
    def edit(self, world: World, table: str, column: str, value: str, where: str) -> None:
        world.database.execute(
            f"UPDATE {world.database.table(table)} SET {column} = :value WHERE {where}",
            value=value,
        )

    def test_rows_edited_into_invalid_json_are_reported(self, database):
        """verify() names every bad row's application (and version, key) and never raises."""
        world, _ = populated(database, 6)
        for application_id in ("app-3", "app-4", "app-5"):
            world.store.fire(application_id, "hold", actor="maria", reason="freeze")
            world.store.fire(application_id, "resume", actor="maria", reason="back")
        table = "hirepipe_applications"
        self.edit(world, table, "snapshot", '{"id": "app-1", ', "id = 'app-1'")
        self.edit(world, table, "snapshot", "[]", "id = 'app-2'")
        log = "hirepipe_transitions"
        self.edit(world, log, "record", "not json", "application_id = 'app-3' AND version = 1")
        self.edit(
            world, log, "changes", '{"stage": "hired"}', "application_id = 'app-4' AND version = 2"
        )
        world.database.execute(
            f"DELETE FROM {database.table(log)} WHERE application_id = 'app-5' AND version = 1"
        )
        self.edit(world, "hirepipe_requisitions", "snapshot", "{", "id = 'req-1'")
        self.edit(world, "hirepipe_outbox", "notification", "{", "key = 'app-3/1/status/cand-3'")
        found = {
            (p.code, p.application_id, p.version, p.requisition_id, p.key)
            for p in world.store.verify()
        }
        assert {
            ("invalid_snapshot", "app-1", None, None, None),
            ("invalid_snapshot", "app-2", None, None, None),
            ("chain_broken", "app-3", 1, None, None),
            ("invalid_log_row", "app-3", 1, None, None),
            ("chain_broken", "app-4", 2, None, None),
            ("replay_differs", "app-4", None, None, None),
            ("chain_broken", "app-5", 2, None, None),  # its previous row is gone
            ("log_gap", "app-5", 2, None, None),
            ("invalid_requisition", None, None, "req-1", None),
            ("invalid_notification", "app-3", None, None, "app-3/1/status/cand-3"),
        } == found
        problems = world.store.verify()
        assert all(p.application_id in str(p) for p in problems if p.application_id)

    def test_reading_a_bad_row_raises_corrupt_data(self, database):
        """load, fire and replay refuse a bad row with CorruptData naming the application."""
        world, _ = populated(database, 2)
        world.store.fire("app-2", "hold", actor="maria", reason="freeze")
        self.edit(world, "hirepipe_applications", "snapshot", "{", "id = 'app-1'")
        self.edit(
            world, "hirepipe_transitions", "record", "{", "application_id = 'app-2' AND version = 1"
        )
        with pytest.raises(CorruptData, match="app-1"):
            world.store.load("app-1")
        with pytest.raises(CorruptData, match="app-1"):
            world.store.fire("app-1", "note", actor="maria")
        with pytest.raises(CorruptData, match="app-2") as refused:
            world.store.replay("app-2")
        assert ["chain_broken"] == [p.code for p in refused.value.problems]
        rehash(database, world.store, "app-2")  # behind a rewritten chain, the fold finds it
        with pytest.raises(CorruptData, match="app-2") as refused:
            world.store.replay("app-2")
        assert ["invalid_log_row"] == [p.code for p in refused.value.problems]
        self.edit(world, "hirepipe_applications", "version", "7", "id = 'app-2'")
        with pytest.raises(CorruptData, match="column version is 7"):
            world.store.fire("app-2", "note", actor="maria")
        self.edit(
            world,
            "hirepipe_transitions",
            "record",
            '{"version": 1}',
            "application_id = 'app-2' AND version = 1",
        )
        rehash(database, world.store, "app-2")
        with pytest.raises(CorruptData, match="invalid_replay") as refused:
            world.store.replay("app-2")  # valid JSON, but no TransitionRecord
        assert "app-2" == refused.value.problems[0].application_id

    def test_an_outbox_status_column_that_disagrees(self, database):
        """A status column edited apart from its notification is reported, with the key."""
        world, _ = populated(database, 1)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        self.edit(world, "hirepipe_outbox", "status", "sent", "application_id = 'app-1'")
        (problem,) = world.store.verify()
        assert ("column_mismatch", "app-1", "app-1/1/status/cand-1") == (
            problem.code,
            problem.application_id,
            problem.key,
        )
        self.edit(world, "hirepipe_outbox", "notification", "{", "application_id = 'app-1'")
        with pytest.raises(NotificationError, match="cannot be read back"):
            world.store.outbox.mark_sent("app-1/1/status/cand-1", LATER)

    def test_a_bad_notification_is_skipped_not_sent_half_read(self, database, caplog):
        """Delivery goes on around a notification edited into invalid JSON, and logs it."""
        world, _ = populated(database, 2)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        world.store.fire("app-2", "hold", actor="maria", reason="freeze")
        self.edit(world, "hirepipe_outbox", "notification", "{", "key = 'app-1/1/status/cand-1'")
        with caplog.at_level(logging.ERROR, logger="hirepipe.store"):
            report = deliver(world.store.outbox, MemorySender(), LATER)
        assert ["app-2/1/status/cand-2"] == [n.key for n in report.sent]
        assert "outbox row 'app-1/1/status/cand-1' cannot be read" in caplog.text


PERSONAL = ("Candidate 1", "candidate1@example.com")
"""What app-1's rows say of its candidate."""


class TestBadRowsSayNoValues:
    """A row edited by hand is reported by where and what, never by the values it holds.

    Pydantic's text of a ValidationError quotes the input (``input_value=...``): the row's
    personal data, which would reach logs and errors that erasure never reaches.
    """

    def rewrite(self, world: World, table: str, column: str, key: str, change) -> None:
        name = world.database.table(table)
        where = "id" if table == "hirepipe_applications" else "key"
        (row,) = world.database.execute(f"SELECT {column} FROM {name} WHERE {where} = :k", k=key)
        document = json.loads(row[0])
        change(document)
        world.database.execute(
            f"UPDATE {name} SET {column} = :value WHERE {where} = :k",
            value=json.dumps(document),
            k=key,
        )

    def test_a_bad_snapshot(self, database):
        """verify() and load say which field is wrong and why, without the candidate."""
        world, _ = populated(database, 1)

        def mangle(document):
            document["candidate"]["email"] = "Candidate 1 <candidate1@example.com>"

        self.rewrite(world, "hirepipe_applications", "snapshot", "app-1", mangle)
        problems = [p for p in world.store.verify() if p.code == "invalid_snapshot"]
        assert problems
        assert all("candidate.email: String should match pattern" in p.message for p in problems)
        assert [] == leaked("\n".join(map(str, problems)), PERSONAL)
        with pytest.raises(CorruptData, match=r"candidate\.email") as raised:
            world.store.load("app-1")
        assert [] == leaked(said(raised.value), PERSONAL)

    def test_a_bad_notification(self, database, caplog):
        """verify(), reading the outbox (logged) and marking it sent (raised) name no value."""
        world, _ = populated(database, 1)
        world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        (notification,) = world.store.outbox.for_application("app-1")

        def mangle(document):
            document["address"] = [document["address"]]

        self.rewrite(world, "hirepipe_outbox", "notification", notification.key, mangle)
        (problem,) = [p for p in world.store.verify() if p.code == "invalid_notification"]
        assert "address: Input should be a valid string [string_type]" in problem.message
        with caplog.at_level(logging.ERROR, logger="hirepipe.store"):
            assert [] == world.store.outbox.pending()
        assert "address: Input should be a valid string" in caplog.text
        with pytest.raises(NotificationError, match="repair the row") as raised:
            world.store.outbox.mark_sent(notification.key, LATER)
        everything = "\n".join([str(problem), logged(caplog), said(raised.value)])
        assert [] == leaked(everything, PERSONAL)

    def test_a_failing_hook(self, database, caplog):
        """The log, the failures kept and verify() name the hook and its error's class only."""
        world, _ = populated(database, 1)

        class SMTPRecipientsRefused(Exception):
            pass

        def send(fired) -> None:
            raise SMTPRecipientsRefused(f"{fired.application.candidate.email}: 550 unknown")

        world.pipeline.hooks.append(send)
        with caplog.at_level(logging.DEBUG, logger="hirepipe"):
            world.store.fire("app-1", "hold", actor="maria", reason="freeze")
        (problem,) = [p for p in world.store.verify() if p.code == "hook_failed"]
        assert "SMTPRecipientsRefused" in str(problem)
        assert "send" in str(problem)
        assert "SMTPRecipientsRefused" in caplog.text
        kept = world.database.execute(
            f"SELECT errors FROM {database.table('hirepipe_hook_failures')}"
        )
        everything = "\n".join([str(problem), logged(caplog), repr(kept)])
        assert [] == leaked(everything, PERSONAL)
