"""Durable requisitions: a stored slate's fill and fall-through commit whole, or not at all."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

import pytest
from sqlalchemy import event

from hirepipe import (
    Blocker,
    ConcurrentUpdate,
    GuardRejected,
    HirepipeError,
    Pipeline,
    Requisition,
    standard_policy,
)
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.helpers import ROOT, START, Database

database = store_helpers.database  # the fixture: a SQLite file and PostgreSQL
any_database = store_helpers.any_database  # and sqlite:// in memory
postgres = store_helpers.postgres  # writers racing: PostgreSQL only


def slate_of(
    database: Database, stages: dict[str, str], *, policy=None, verdicts=None, **pipeline_options
) -> tuple[Store, Requisition]:
    """A stored requisition (one headcount) with candidates brought to ``stages`` by id.

    Candidates are ``cand-1``... in order; ``verdicts`` gives each one's recommendation
    (default ``yes``), so the runner-ups rank as listed. ``pipeline_options`` go to the
    store's Pipeline (``roles``, ``system_actor``).
    """
    pipeline = Pipeline(policy or standard_policy(), clock=FakeClock(START), **pipeline_options)
    requisition = make_requisition()
    store = database.store(pipeline)
    store.add_requisition(requisition)
    for number, (key, stage) in enumerate(stages.items(), start=1):
        application = make_application(
            pipeline,
            requisition.model_copy(),
            stage=stage,
            candidate=make_candidate(number),
            interviewers=("alice",),
        )
        application.__dict__["id"] = key  # a readable id, before anything refers to it
        store.add(application)
    return store, requisition


def stages(store: Store) -> dict[str, str]:
    return {a.id: a.stage for a in store.applications()}


class TestExpectedVersion:
    def test_a_stale_version_fires_nothing_and_a_current_one_fires_with_the_rules(
        self, any_database
    ):
        """``expected_version`` guards the event's application; the rules' events follow."""
        store, _ = slate_of(any_database, {"a": "offer", "b": "review", "c": "review"})
        read = store.load("a").version
        store.fire("a", "note", actor="maria", text="called the candidate")
        with pytest.raises(ConcurrentUpdate) as refused:
            store.slate_fire("a", "decline", actor="cand-1", expected_version=read)
        assert (read, read + 1) == (refused.value.expected, refused.value.actual)
        assert {"a": "offer", "b": "review", "c": "review"} == stages(store)
        fired = store.slate_fire("a", "decline", actor="cand-1", expected_version=read + 1)
        assert [("a", "decline"), ("b", "request_approval")] == [
            (f.application.id, f.record.event) for f in fired
        ]
        assert [] == store.verify()


class TestFallThrough:
    def test_a_decline_brings_the_runner_up_forward_in_the_same_transaction(self, any_database):
        """The decline and the runner-up's request for approval are stored together."""
        store, _ = slate_of(any_database, {"a": "offer", "b": "review", "c": "review"})
        fired = store.slate_fire("a", "decline", actor="cand-1")
        assert [("a", "decline"), ("b", "request_approval")] == [
            (f.application.id, f.record.event) for f in fired
        ]
        assert {"a": "declined", "b": "approval", "c": "review"} == stages(store)
        assert [] == store.verify()
        assert store.load("b") == store.replay("b")

    def test_the_fill_pools_and_rejects_the_others_durably(self, any_database):
        """Accepting the last headcount stores the hire, the pooled and the rejected at once."""
        store, _ = slate_of(any_database, {"a": "offer", "b": "review", "c": "debrief"})
        store.slate_fire("a", "accept", actor="cand-1")
        assert {"a": "hired", "b": "talent_pool", "c": "rejected"} == stages(store)
        assert (1, "filled") == (
            store.requisition("req-1").filled,
            store.requisition("req-1").status,
        )

    def test_the_fill_is_the_store_pipelines_system_actors(self, any_database):
        """The stored fill fires as the store pipeline's system actor, not the candidate."""
        store, _ = slate_of(
            any_database, {"a": "offer", "b": "review", "c": "debrief"}, system_actor="ats-bot"
        )
        fired = store.slate_fire("a", "accept", actor="cand-1")
        assert [("cand-1", "accept"), ("ats-bot", "keep_warm"), ("ats-bot", "reject")] == [
            (f.record.actor, f.record.event) for f in fired
        ]

    def test_the_sweep_is_the_store_pipelines_system_actors(self, any_database):
        """The stored sweep expires the lapsed offer and falls through, as the system actor."""
        store, _ = slate_of(any_database, {"a": "offer", "b": "review"}, system_actor="ats-bot")
        store.pipeline.clock.advance(days=60)
        fired = store.slate_sweep("req-1")
        assert [("ats-bot", "expire"), ("ats-bot", "request_approval")] == [
            (f.record.actor, f.record.event) for f in fired
        ]

    def test_a_fill_that_fails_half_way_stores_nothing(self, any_database):
        """A refusal in the middle of a fill undoes the accept too: the requisition is as it was."""

        def not_cand_3(ctx):
            """Candidate 3 cannot be rejected (a company rule, to break a fill)."""
            if ctx.application.candidate.id == "cand-3":
                yield Blocker("protected", "candidate 3 cannot be rejected")

        policy = standard_policy().with_guard("reject", not_cand_3)
        store, _ = slate_of(
            any_database, {"a": "offer", "b": "review", "c": "debrief"}, policy=policy
        )
        with pytest.raises(GuardRejected, match="candidate 3 cannot be rejected"):
            store.slate_fire("a", "accept", actor="cand-1")
        assert {"a": "offer", "b": "review", "c": "debrief"} == stages(store)
        assert 0 == store.requisition("req-1").filled
        assert [] == store.verify()


class TestConcurrency:
    @pytest.mark.parametrize("trial", range(3), ids=str)
    def test_two_accepts_for_the_last_headcount_hire_one(self, database, trial):
        """Two threads accept at once: one is hired, the other refused; nothing half-done."""
        store, _ = slate_of(database, {"a": "offer", "b": "offer"})
        barrier = threading.Barrier(2)
        results: dict[str, str] = {}

        def accept(key: str, actor: str) -> None:
            barrier.wait()
            try:
                store.slate_fire(key, "accept", actor=actor)
                results[key] = "hired"
            except HirepipeError as exc:
                results[key] = type(exc).__name__

        threads = [
            threading.Thread(target=accept, args=args)
            for args in (("a", "cand-1"), ("b", "cand-2"))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert ["hired"] == [r for r in results.values() if r == "hired"]
        assert 1 == sorted(stages(store).values()).count("hired")
        assert 1 == store.requisition("req-1").filled
        assert [] == store.verify()

    def test_a_decline_and_a_withdrawal_at_once_bring_one_runner_up(self, database):
        """The chosen candidate declines while the first runner-up withdraws: one comes forward."""
        store, _ = slate_of(database, {"a": "offer", "b": "review", "c": "review"})
        barrier = threading.Barrier(2)
        errors: list[BaseException] = []

        def act(key: str, event: str, actor: str) -> None:
            barrier.wait()
            try:
                store.slate_fire(key, event, actor=actor)
            except (ConcurrentUpdate, GuardRejected) as exc:  # lost the race: retry once
                errors.append(exc)
                store.slate_fire(key, event, actor=actor)

        threads = [
            threading.Thread(target=act, args=("a", "decline", "cand-1")),
            threading.Thread(target=act, args=("b", "withdraw", "cand-2")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        found = stages(store)
        assert ("declined", "withdrawn", "approval") == (found["a"], found["b"], found["c"])
        assert [] == store.verify()

    def test_a_plain_accept_and_a_slate_decline_at_once_never_deadlock(self, postgres):
        """Store.fire and Store.slate_fire on one application at once: a loser, never a deadlock.

        The plain accept wrote its application, then its requisition; the slate locked the
        requisition, then wrote the application: PostgreSQL broke the cycle by aborting one
        with a raw ``DeadlockDetected`` instead of the store's ConcurrentUpdate (found by the
        chaos test). Both now take the requisition first.
        """
        store, _ = slate_of(postgres, {"a": "offer", "b": "review"})
        paused, release = threading.Event(), threading.Event()
        holding: list[threading.Thread] = []  # the accept's thread, until its first write
        outcomes: dict[str, str] = {}

        @event.listens_for(store.engine, "after_cursor_execute")
        def pause(conn, cursor, statement, *args) -> None:
            """Hold the accept's transaction open after its first write (its first lock)."""
            if (
                holding
                and threading.current_thread() is holding[0]
                and statement.startswith("UPDATE")
            ):
                holding.clear()
                paused.set()
                release.wait(timeout=30)

        def run(name: str, call) -> None:
            try:
                call()
                outcomes[name] = "done"
            except HirepipeError as exc:  # a clean refusal: the race was lost
                outcomes[name] = type(exc).__name__
            except Exception as exc:  # a raw database error: the bug
                outcomes[name] = f"raw {type(exc).__name__}: {str(exc).splitlines()[0]}"

        accept = threading.Thread(
            target=run, args=("accept", lambda: store.fire("a", "accept", actor="cand-1"))
        )
        holding.append(accept)
        accept.start()
        assert paused.wait(timeout=30)
        decline = threading.Thread(
            target=run, args=("decline", lambda: store.slate_fire("a", "decline", actor="cand-1"))
        )
        decline.start()
        waiting = (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            f"AND query LIKE '%{postgres.schema}%'"
        )
        deadline = time.monotonic() + 30
        while not postgres.execute(waiting)[0][0] and time.monotonic() < deadline:
            pass  # until the slate waits for a lock the accept holds
        release.set()
        accept.join(timeout=60)
        decline.join(timeout=60)
        assert [] == [o for o in outcomes.values() if o.startswith("raw")], outcomes
        hired = stages(store)["a"] == "hired"
        assert (1 if hired else 0) == store.requisition("req-1").filled
        assert stages(store)["a"] in ("hired", "declined")
        assert [] == store.verify()


def child(options: dict[str, object]) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.store.slate_child", json.dumps(options)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
class TestProcesses:
    def test_two_processes_accepting_hire_one(self, database):
        """Two processes accept the last headcount at once: exactly one hire is stored."""
        store, _ = slate_of(database, {"a": "offer", "b": "offer"})
        options = database.child_options()
        children = [
            child({**options, "application": key, "event": "accept", "actor": actor})
            for key, actor in (("a", "cand-1"), ("b", "cand-2"))
        ]
        said = []
        for process in children:
            out, err = process.communicate(timeout=60)
            assert 0 == process.returncode, err
            said.append(out.strip())
        assert 1 == sum(line.startswith("fired accept") for line in said), said
        assert 1 == sorted(stages(store).values()).count("hired")
        assert [] == store.verify()

    @pytest.mark.parametrize("pause_at", [2, 3], ids=["after-the-hire", "mid-fill"])
    def test_a_process_killed_mid_fill_leaves_the_slate_as_it_was(self, database, pause_at):
        """SIGKILL after the hire's hook, or between the fill's events: nothing of it stays."""
        store, _ = slate_of(database, {"a": "offer", "b": "review", "c": "debrief"})
        process = child(
            {
                **database.child_options(),
                "application": "a",
                "event": "accept",
                "actor": "cand-1",
                "pause_at": pause_at,
            }
        )
        assert process.stdout is not None
        assert "paused" == process.stdout.readline().strip()
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=30)
        assert {"a": "offer", "b": "review", "c": "debrief"} == stages(store)
        assert 0 == store.requisition("req-1").filled
        assert [] == store.verify()
        fired = store.slate_fire("a", "accept", actor="cand-1")  # the slate still works
        assert ["accept", "keep_warm", "reject"] == [f.record.event for f in fired]
