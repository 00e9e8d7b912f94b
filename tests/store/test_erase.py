"""Store.erase: a candidate's personal data leaves the snapshot, the log and the outbox at once."""

from __future__ import annotations

import gc
import threading
import types
from typing import Any

import pendulum
import pytest

from hirepipe import GuardRejected, Pipeline, TransitionNotAllowed
from hirepipe.models import ERASED
from hirepipe.notify import NotificationStatus
from hirepipe.privacy import ERASE_EVENT
from hirepipe.store._support import Recent
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.helpers import LATER, POLICY, World
from tests.test_privacy import HOLDING, SECRET, holding_policy

database = store_helpers.database

SECRETS = (
    "Candidate 1",
    "candidate1@example.com",
    "Asked about remote work.",
    "grace@example.com",
    "Worked with her at Acme.",
    "Not enough Go.",
)


def everything_said(world: World) -> None:
    """app-1: notes, a referee, an approval note, then rejected with feedback; notified."""
    world.application(1, stage="approval")
    fire = world.store.fire
    fire("app-1", "note", actor="maria", text="Asked about remote work.")
    fire(
        "app-1",
        "add_reference",
        actor="maria",
        referee="grace",
        contact="grace@example.com",
        relationship="Worked with her at Acme.",
        consent=True,
    )
    fire("app-1", "hold", actor="maria", reason="budget freeze")  # notifies the candidate
    fire("app-1", "resume", actor="maria", reason="budget back")
    fire("app-1", "reject", actor="maria", reason="skills", feedback="Not enough Go.")


def every_text(world: World) -> str:
    """Every text column the store keeps about applications, joined."""
    database = world.database
    parts = []
    for table, columns in [
        ("hirepipe_applications", "snapshot"),
        ("hirepipe_transitions", "record, changes, personal"),
        ("hirepipe_outbox", "notification"),
    ]:
        for row in database.execute(f"SELECT {columns} FROM {database.table(table)}"):
            parts += [value for value in row if isinstance(value, str)]
    return "\n".join(parts)


class TestStoreErase:
    def test_nothing_personal_is_left_anywhere(self, database):
        """After erase, no column of the snapshot, the log or the outbox holds a secret."""
        world = World(database)
        everything_said(world)
        before = every_text(world)
        assert all(secret in before for secret in SECRETS)
        assert ["app-1"] == world.store.erase("cand-1", actor="maria", reason="Art. 17 request")
        after = every_text(world)
        assert [] == [secret for secret in SECRETS if secret in after]

    def test_the_log_still_verifies_and_replays(self, database):
        """The chain holds through the erasure; every version replays, erased."""
        world = World(database)
        everything_said(world)
        kept = world.store.head("app-1")
        world.store.erase("cand-1", actor="maria")
        assert [] == world.store.verify(heads=[kept])
        loaded = world.store.load("app-1")
        assert loaded == world.store.replay("app-1")
        (note,) = [r.version for r in loaded.history if r.event == "note"]
        assert ERASED == world.store.replay("app-1", version=note).history[-1].data["text"]

    def test_the_lifecycle_facts_stay(self, database):
        """Stages, events, actors, times and reasons are as they were; an @erase record follows."""
        world = World(database)
        everything_said(world)
        before = world.store.load("app-1")
        world.store.erase("cand-1", actor="maria", reason="Art. 17 request")
        after = world.store.load("app-1")

        def facts(application):
            return [
                (r.event, r.from_stage, r.to_stage, r.actor, r.at, r.reason)
                for r in application.history
            ]

        assert facts(before) == facts(after)[:-1]
        assert (ERASE_EVENT, "maria", "Art. 17 request", world.clock.now()) == (
            after.history[-1].event,
            after.history[-1].actor,
            after.history[-1].reason,
            after.erased_at,
        )
        assert ("rejected", "skills", "cand-1") == (
            after.stage,
            after.rejection.reason,
            after.candidate.id,
        )

    def test_the_store_erases_as_the_pipeline_does(self, database):
        """The stored result equals Pipeline.erase on the same application at the same time."""
        world = World(database)
        everything_said(world)
        in_memory = world.store.load("app-1")
        Pipeline(POLICY, clock=world.clock).erase(
            in_memory, actor="maria", requisition=world.store.requisition(in_memory.requisition_id)
        )
        world.store.erase("cand-1", actor="maria")
        assert in_memory == world.store.load("app-1")

    def test_notifications_lose_their_facts_and_pending_ones_fail(self, database):
        """Each notification keeps its key and status; its facts and address are gone."""
        world = World(database)
        everything_said(world)
        keys = [n.key for n in world.store.outbox.for_application("app-1")]
        assert keys
        assert world.store.outbox.due(LATER)
        world.store.erase("cand-1", actor="maria")
        erased = world.store.outbox.for_application("app-1")
        assert keys == [n.key for n in erased]
        assert all(({}, None) == (dict(n.facts), n.address) for n in erased)
        assert {NotificationStatus.failed} == {n.status for n in erased}
        assert [] == world.store.outbox.due(LATER)

    def test_no_event_fires_afterwards(self, database):
        """An erased application is final: reopening it is refused and writes nothing."""
        world = World(database)
        everything_said(world)
        world.store.erase("cand-1", actor="maria")
        version = world.store.load("app-1").version
        with pytest.raises(TransitionNotAllowed, match="was erased"):
            world.store.fire("app-1", "reopen", actor="maria", reason="mistake")
        assert version == world.store.load("app-1").version

    def test_every_application_of_the_candidate_or_none(self, database):
        """One open application refuses the whole erasure: nothing changes, not even the ended."""
        world = World(database)
        everything_said(world)
        world.store.add(
            world.builder.new_application(
                store_helpers.make_candidate(1),
                store_helpers.make_requisition(id="req-2"),
                application_id="app-2",
            ),
            store_helpers.make_requisition(id="req-2"),
        )
        before = every_text(world)
        with pytest.raises(GuardRejected, match="app-2") as refused:
            world.store.erase("cand-1", actor="maria")
        assert ("not_ended",) == refused.value.codes
        assert before == every_text(world)
        world.store.fire("app-2", "withdraw", actor="cand-1")
        assert ["app-1", "app-2"] == world.store.erase("cand-1", actor="maria")
        assert [] == world.store.verify()

    def test_erasing_again_or_an_unknown_candidate_does_nothing(self, database):
        """Erase is idempotent: a second call, or an unknown or malformed id, erases nothing."""
        world = World(database)
        everything_said(world)
        world.store.erase("cand-1", actor="maria")
        head = world.store.head("app-1")
        assert [] == world.store.erase("cand-1", actor="maria")
        assert [] == world.store.erase("cand-9", actor="maria")
        assert [] == world.store.erase("cand\x00-1", actor="maria")
        assert head == world.store.head("app-1")

    def test_the_key_goes_and_other_candidates_keep_theirs(self, database):
        """The erased candidate's key is deleted; another candidate's data is untouched."""
        world = World(database)
        everything_said(world)
        world.application(2)
        world.store.fire("app-2", "note", actor="maria", text="Second candidate's note.")
        world.store.erase("cand-1", actor="maria")
        keys = world.database.execute(
            f"SELECT candidate_id FROM {world.database.table('hirepipe_personal_keys')}"
        )
        assert ["cand-2"] == [row.candidate_id for row in keys]
        assert "Second candidate's note." == world.store.load("app-2").history[-1].data["text"]
        assert [] == world.store.verify()

    def test_failed_hooks_of_the_application_are_dropped(self, database):
        """A retry after erasure would notify with erased facts: the failures go with the data."""
        world = World(database)
        world.application(1, stage="review")

        def broken(fired):
            raise RuntimeError("down")

        world.pipeline.hooks.append(broken)
        world.store.fire("app-1", "reject", actor="maria", reason="skills", feedback="No.")
        world.pipeline.hooks.remove(broken)
        assert ["hook_failed"] == [p.code for p in world.store.verify()]
        world.store.erase("cand-1", actor="maria")
        assert ([], 0) == (world.store.verify(), world.store.retry_hooks())


class TestWhoMayEraseInTheStore:
    def test_the_store_asks_the_pipelines_rule(self, database):
        """Someone erased_by does not name is refused as in memory; nothing is written."""
        world = World(database)
        everything_said(world)
        before = every_text(world)
        with pytest.raises(GuardRejected, match="erased_by") as refused:
            world.store.erase("cand-1", actor="bob")
        assert ("not_permitted",) == refused.value.codes
        assert before == every_text(world)
        in_memory = world.store.load("app-1")
        with pytest.raises(GuardRejected) as also:
            Pipeline(POLICY, clock=world.clock).erase(
                in_memory, actor="bob", requisition=world.store.requisition("req-1")
            )
        assert [b.message for b in refused.value.blockers] == [
            b.message for b in also.value.blockers
        ]

    def test_each_application_is_judged_with_its_own_requisition(self, database):
        """The hiring manager of one requisition may not erase the other one's application."""
        world = World(database)
        everything_said(world)
        other = store_helpers.make_requisition(id="req-2", hiring_manager="hal")
        world.application(2, stage="rejected", requisition=other)  # cand-2 at req-2
        with pytest.raises(GuardRejected) as refused:
            world.store.erase("cand-2", actor="maria")
        assert ("not_permitted",) == refused.value.codes
        assert ["app-2"] == world.store.erase("cand-2", actor="hal")
        assert ["app-1"] == world.store.erase("cand-1", actor=world.pipeline.system_actor)


class TestTheLocale:
    def test_the_locale_is_held_apart_and_erased(self, database):
        """A candidate's locale is personal: outside the hashed log, and gone after erasure."""
        world = World(database)
        requisition = world.requisition
        candidate = store_helpers.make_candidate(1, locale="pt_BR")
        application = make_application(
            world.builder, requisition, stage="rejected", candidate=candidate
        )
        application.id = "app-1"
        world.store.add(application, requisition)
        for row in database.execute(
            f"SELECT record, changes FROM {database.table('hirepipe_transitions')}"
        ):
            assert "pt_BR" not in (row.record or "") + row.changes
        assert "pt_BR" == world.store.load("app-1").candidate.locale
        world.store.erase("cand-1", actor="maria")
        assert "pt_BR" not in every_text(world)
        assert ERASED == world.store.load("app-1").candidate.locale
        assert [] == world.store.verify()


class TestRetention:
    def test_retention_due_in_the_store_matches_the_one_in_memory(self, database):
        """Ended before the cut-off and not erased: due, from the store as from memory."""
        from hirepipe.privacy import retention_due

        world = World(database)
        world.application(1, stage="rejected")
        world.application(2, stage="withdrawn")
        world.store.erase("cand-2", actor="maria")
        world.clock.advance(months=5)
        world.application(3, stage="declined")
        world.application(4, stage="review")
        world.store.fire("app-1", "note", actor="maria", text="a later note moves nothing")
        world.clock.advance(months=2)
        now = world.clock.now()
        stored = world.store.retention_due(now, months=6)
        assert ["app-1"] == [a.id for a in stored]
        in_memory = retention_due(world.store.applications(), POLICY, now, months=6)
        assert stored == in_memory
        assert [] == world.store.retention_due(now, months=8)
        with pytest.raises(ValueError, match="months"):
            world.store.retention_due(now, months=-1)

    @pytest.mark.parametrize("months", [10**9, 10**30, "6"], ids=str)
    def test_retention_months_that_leave_the_calendar_are_refused_by_name(self, database, months):
        """Before: pendulum's "year ... is out of range", an OverflowError, a bare TypeError.

        The longest one (back to year 1, converted to UTC for the query) still runs.
        """
        world = World(database)
        world.application(1, stage="rejected")
        now = pendulum.datetime(2025, 1, 6, 9, tz="Asia/Tokyo")
        with pytest.raises(ValueError, match=r"months must be a whole number from 0 to 24287"):
            world.store.retention_due(now, months=months)
        assert [] == world.store.retention_due(now, months=24_287)

    def test_a_now_past_the_calendars_end_in_utc_is_refused_by_name(self, database):
        """23:00 on 31 December 9999 at UTC-5 is in year 10000 in UTC, where the query runs.

        Before: the driver's bare "date value out of range" (an OverflowError).
        """
        world = World(database)
        world.application(1, stage="rejected")
        zone = pendulum.fixed_timezone(-5 * 3600)
        now = pendulum.datetime(9999, 12, 31, 23, tz=zone)
        with pytest.raises(ValueError, match=r"past the calendar's last day \(9999-12-31\) in UTC"):
            world.store.retention_due(now, months=0)
        last = pendulum.datetime(9999, 12, 31, 18, tz=zone)  # 23:00 UTC: still runs
        assert [1] == [len(world.store.retention_due(last, months=0))]


def test_a_deliverer_holding_a_claim_loses_it_on_erasure(database):
    """A notification claimed by a worker, then erased with its candidate: the claim is lost."""
    from hirepipe.notify import ClaimLost

    world = World(database)
    everything_said(world)
    (due, *_) = world.store.outbox.due(LATER)
    claim = world.store.outbox.claim(due.key, LATER)
    assert claim is not None
    world.store.erase("cand-1", actor="maria")
    with pytest.raises(ClaimLost):
        world.store.outbox.mark_sent(claim.key, LATER, claim=claim)
    assert NotificationStatus.failed == world.store.outbox.get(claim.key).status


def reachable_strings(root: object) -> set[str]:
    """Every string reachable from ``root`` through objects' references.

    Modules, classes and functions are not followed: they are the program, not its data.
    """
    seen: set[int] = set()
    found: set[str] = set()
    todo = [root]
    while todo:
        item = todo.pop()
        if id(item) in seen or isinstance(item, (type, types.ModuleType, types.FunctionType)):
            continue
        seen.add(id(item))
        if isinstance(item, str):
            found.add(item)
            continue
        todo.extend(gc.get_referents(item))
    return found


def test_the_store_forgets_what_it_remembered_of_an_erased_candidate(database):
    """The states a store keeps in memory to fire faster go with the erasure.

    Nothing reachable from the store still holds a personal value of the candidate: not the
    state it last fired (its snapshot and its copy), nor one a fire committed before the
    erasure remembers after it.
    """
    world = World(database)
    everything_said(world)
    world.pipeline.hooks.clear()  # the test's notifier is the test's, not the store's
    strings = reachable_strings(world.store)
    assert [] != [secret for secret in SECRETS if any(secret in s for s in strings)]
    before = world.store.load("app-1")
    keys = database.table("hirepipe_personal_keys")
    (key,) = database.execute(f"SELECT key FROM {keys} WHERE candidate_id = 'cand-1'")
    ticket = world.store._recent.ticket()
    world.store.erase("cand-1", actor="maria")
    # a fire that committed before the erasure, remembering its state after it
    world.store._recent.put("app-1", before.version, before, None, ticket)
    strings = reachable_strings(world.store)
    assert [] == [secret for secret in (*SECRETS, key.key) if any(secret in s for s in strings)]


class _Paused(Recent):
    """The store's memory of states, where a put of app-1 waits until the test says go."""

    __slots__ = ("go", "pausing", "waiting")

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.pausing = True
        self.waiting, self.go = threading.Event(), threading.Event()

    def put(self, application_id: str, *args: Any) -> None:
        if application_id == "app-1" and self.pausing:
            self.pausing = False
            self.waiting.set()
            assert self.go.wait(timeout=30)
        super().put(application_id, *args)


def test_a_fire_committed_before_an_erasure_never_remembers_its_state_after_it(database):
    """However late the fire's thread comes back, and whatever the store remembered meanwhile.

    The fire that ends app-1 commits, then waits before remembering its state; the candidate
    is erased, and another application fired (the store remembers one state only: the
    erasure's trace is pushed out). Then the fire remembers: nothing of the candidate stays.
    """
    world = World(database)
    world.pipeline.hooks.clear()  # the test's notifier is the test's, not the store's
    world.application(1)
    world.application(2)
    paused = world.store._recent = _Paused(size=1)
    ending = threading.Thread(
        target=world.store.fire, args=("app-1", "withdraw"), kwargs={"actor": "cand-1"}
    )
    ending.start()
    try:
        assert paused.waiting.wait(timeout=30)  # committed, not remembered yet
        assert ["app-1"] == world.store.erase("cand-1", actor="maria")
        world.store.fire("app-2", "hold", actor="maria", reason="freeze")
    finally:
        paused.go.set()
        ending.join(timeout=30)
    assert "withdrawn" == world.store.load("app-1").stage
    strings = reachable_strings(world.store)
    assert [] == [secret for secret in SECRETS[:2] if any(secret in s for s in strings)]


class TestEveryHolder:
    """A host's event data holding a personal value in any holder: apart, then erased.

    Before, a personal value in a sequence, set, mapping or dict of models was written into
    the hashed log's record, which no erasure reaches.
    """

    @pytest.mark.parametrize("kind", HOLDING)
    def test_the_value_is_held_apart_and_erased(self, database, kind):
        annotation, value = HOLDING[kind]
        policy, _model = holding_policy(annotation)
        pipeline = Pipeline(policy, clock=FakeClock(pendulum.datetime(2025, 1, 6, 9)))
        store = database.store(pipeline)
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition)
        application.id = "app-1"
        store.add(application, requisition)
        store.fire("app-1", "visit", actor="m", held=value)
        store.fire("app-1", "end", actor="m")
        log = database.table("hirepipe_transitions")
        records = [row.record for row in database.execute(f"SELECT record FROM {log}")]
        assert [] == [record for record in records if SECRET in (record or "")]
        assert SECRET in str(store.load("app-1").history[-2].data)
        assert ["app-1"] == store.erase(application.candidate.id, actor=pipeline.system_actor)
        kept = database.execute(
            f"SELECT a.snapshot, t.record, t.changes, t.personal "
            f"FROM {database.table('hirepipe_applications')} a JOIN {log} t "
            "ON t.application_id = a.id"
        )
        assert len(kept) == 4  # created, visit, end, @erase
        assert [] == [row for row in kept if SECRET in str(tuple(row))]
        assert SECRET not in str(store.load("app-1").history)
        assert [] == store.verify()
