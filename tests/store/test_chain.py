"""The tamper-evident log: every row hashed onto the one before it, checked by verify and replay."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Annotated, Any

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hirepipe import Change, EventData, EventSpec, Pipeline, Policy, StageKind, StageSpec
from hirepipe.models import PERSONAL
from hirepipe.policy import EffectSpec
from hirepipe.store import ChainHead, CorruptData, NotStored
from hirepipe.store._chain import Hashed, canonical, envelope, row_hash
from hirepipe.store._personal import digest
from hirepipe.testing import FakeClock, make_candidate, make_requisition
from tests.store import helpers as store_helpers
from tests.store.helpers import Database, World, rehash

database = store_helpers.database


def edit_log(database: Database, application_id: str, version: int, **columns: str) -> None:
    """Overwrite columns of one log row by hand, as someone with write access could."""
    assignments = ", ".join(f"{name} = :{name}" for name in columns)
    database.execute(
        f"UPDATE {database.table('hirepipe_transitions')} SET {assignments} "
        "WHERE application_id = :id AND version = :version",
        id=application_id,
        version=version,
        **columns,
    )


def log_row(database: Database, application_id: str, version: int) -> dict[str, str]:
    (row,) = database.execute(
        f"SELECT record, changes FROM {database.table('hirepipe_transitions')} "
        "WHERE application_id = :id AND version = :version",
        id=application_id,
        version=version,
    )
    return {"record": row.record, "changes": row.changes}


def stored_hash(database: Database, application_id: str, version: int) -> str:
    (row,) = database.execute(
        f"SELECT hash FROM {database.table('hirepipe_transitions')} "
        "WHERE application_id = :id AND version = :version",
        id=application_id,
        version=version,
    )
    return row.hash


def held_and_resumed(database: Database) -> World:
    """app-1: held (version 1), resumed (2), debriefed (3)."""
    world = World(database)
    world.application(1)
    world.store.fire("app-1", "hold", actor="maria", reason="budget freeze")
    world.store.fire("app-1", "resume", actor="maria", reason="budget back")
    world.store.fire("app-1", "start_debrief", actor="maria")
    return world


class TestForgedRows:
    """Issue 18, measured: a forged row that a later row overwrites passed verify and replay."""

    def test_a_forged_stage_a_later_row_overwrites_is_found(self, database):
        """A row whose changes say 'hired', overwritten by the next row, fails verify and replay."""
        world = held_and_resumed(database)
        changes = json.loads(log_row(database, "app-1", 1)["changes"])
        edit_log(database, "app-1", 1, changes=json.dumps({**changes, "stage": "hired"}))
        problems = world.store.verify()
        assert [("chain_broken", "app-1", 1)] == [
            (p.code, p.application_id, p.version) for p in problems
        ]
        with pytest.raises(CorruptData, match="chain_broken") as refused:
            world.store.replay("app-1", version=1)
        assert 1 == refused.value.problems[0].version

    def test_a_forged_field_no_validator_can_see_is_found(self, database):
        """A forged held_from (a valid value, overwritten later) is found by the chain alone."""
        world = held_and_resumed(database)
        changes = json.loads(log_row(database, "app-1", 1)["changes"])
        edit_log(database, "app-1", 1, changes=json.dumps({**changes, "held_from": "offer"}))
        assert [("chain_broken", 1)] == [(p.code, p.version) for p in world.store.verify()]
        with pytest.raises(CorruptData):
            world.store.replay("app-1", version=2)
        assert "interviewed" == world.store.load("app-1").history[0].from_stage

    @pytest.mark.parametrize("batch_size", [0, -1, 2**63, 10**30, 1.5, True], ids=str)
    def test_a_batch_size_that_reads_nothing_is_refused(self, database, batch_size):
        """verify(batch_size=0) read no application and said the forged store was sound.

        (On SQLite -1 read them all; on PostgreSQL it raised the driver's error.)
        """
        world = held_and_resumed(database)
        changes = json.loads(log_row(database, "app-1", 1)["changes"])
        edit_log(database, "app-1", 1, changes=json.dumps({**changes, "stage": "hired"}))
        with pytest.raises(ValueError, match="batch_size"):
            world.store.verify(batch_size=batch_size)
        assert ["chain_broken"] == [p.code for p in world.store.verify(batch_size=1)]


class TestChain:
    def test_a_sound_log_verifies_and_replays_at_every_version(self, database):
        """Every row links onto the one before; replay checks the links up to its version."""
        world = held_and_resumed(database)
        assert [] == world.store.verify()
        loaded = world.store.load("app-1")
        for version in range(loaded.version + 1):
            assert version == world.store.replay("app-1", version=version).version

    def test_the_head_is_the_latest_rows_hash(self, database):
        """head() names the latest version and its hash; each event moves it on."""
        world = held_and_resumed(database)
        head = world.store.head("app-1")
        assert ChainHead("app-1", 3, stored_hash(database, "app-1", 3)) == head
        assert 64 == len(head.hash)
        world.store.fire("app-1", "note", actor="maria", text="hi")
        assert (4, True) == (
            world.store.head("app-1").version,
            world.store.head("app-1").hash != head.hash,
        )
        with pytest.raises(NotStored):
            world.store.head("nope")

    def test_a_rewritten_chain_is_caught_only_by_a_head_kept_elsewhere(self, database):
        """Forge a row and recompute every hash: the chain verifies, the kept head does not."""
        world = held_and_resumed(database)
        kept = world.store.head("app-1")
        changes = json.loads(log_row(database, "app-1", 1)["changes"])
        edit_log(database, "app-1", 1, changes=json.dumps({**changes, "held_from": "offer"}))
        rehash(database, world.store, "app-1")
        assert [] == world.store.verify()  # what the chain alone cannot prove
        assert [("head_differs", "app-1", 3)] == [
            (p.code, p.application_id, p.version) for p in world.store.verify(heads=[kept])
        ]
        assert [] == world.store.verify(heads=[world.store.head("app-1")])

    def test_an_older_head_kept_still_checks_the_log_it_passed_through(self, database):
        """A head kept at version 1 checks rows 0-1 after later events too."""
        world = held_and_resumed(database)
        kept = ChainHead("app-1", 1, stored_hash(database, "app-1", 1))
        world.store.fire("app-1", "note", actor="maria", text="later")
        assert [] == world.store.verify(heads=[kept])
        gone = ChainHead("app-9", 1, "0" * 64)
        assert [("head_differs", "app-9")] == [
            (p.code, p.application_id) for p in world.store.verify(heads=[gone])
        ]

    def test_removing_the_latest_row_is_caught_by_the_head(self, database):
        """The application's own head no longer matches when its latest row is deleted."""
        world = held_and_resumed(database)
        database.execute(
            f"DELETE FROM {database.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' AND version = 3"
        )
        codes = {p.code for p in world.store.verify()}
        assert "chain_head_mismatch" in codes

    def test_swapping_two_rows_breaks_the_chain_at_the_first(self, database):
        """Rows exchanged between versions no longer hash onto their neighbours."""
        world = held_and_resumed(database)
        one, two = log_row(database, "app-1", 1), log_row(database, "app-1", 2)
        edit_log(database, "app-1", 1, **two)
        edit_log(database, "app-1", 2, **one)
        assert ("chain_broken", 1) == next(
            (p.code, p.version) for p in world.store.verify() if p.code == "chain_broken"
        )

    def test_a_changed_personal_value_is_caught_by_its_digest(self, database):
        """Personal values sit outside the hash; their digests inside it still catch a change."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="Prefers mornings.")
        (row,) = database.execute(
            f"SELECT personal FROM {database.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' AND version = 1"
        )
        values = json.loads(row.personal)
        assert ["Prefers mornings."] == list(values.values())
        forged = dict.fromkeys(values, "Prefers evenings.")
        edit_log(database, "app-1", 1, personal=json.dumps(forged))
        assert [("personal_data_altered", 1), ("replay_differs", None)] == [
            (p.code, p.version) for p in world.store.verify()
        ]
        with pytest.raises(CorruptData, match="personal_data_altered"):
            world.store.replay("app-1")

    def test_personal_values_gone_without_an_erasure_are_reported(self, database):
        """Emptying the personal column by hand is not an erasure: verify says so."""
        world = World(database)
        world.application(1)
        edit_log(database, "app-1", 0, personal=None)
        assert [("personal_data_missing", 0), ("replay_differs", None)] == [
            (p.code, p.version) for p in world.store.verify()
        ]

    def test_the_log_holds_personal_values_only_in_their_column(self, database):
        """The hashed documents carry digests, never a name, an address or a note."""
        world = World(database)
        world.application(1)
        world.store.fire("app-1", "note", actor="maria", text="Prefers mornings.")
        for row in database.execute(
            f"SELECT record, changes, personal FROM {database.table('hirepipe_transitions')}"
        ):
            for secret in ("Candidate 1", "candidate1@example.com", "Prefers mornings."):
                assert secret not in (row.record or "") + row.changes
        assert world.store.load("app-1") == world.store.replay("app-1")

    @pytest.mark.parametrize("version", ["1", 1.5, True], ids=repr)
    def test_a_version_that_is_no_int_is_refused_as_such(self, database, version):
        """replay(version=...) takes an int: anything else is a TypeError saying so.

        Before: "1" raised a bare TypeError from a comparison; True and 1.5 were reported as
        versions missing from the log (StoreError).
        """
        world = held_and_resumed(database)
        with pytest.raises(TypeError, match="version must be an int"):
            world.store.replay("app-1", version=version)
        assert 1 == world.store.replay("app-1", version=1).version

    def test_replay_reads_the_intact_versions_before_a_forged_row(self, database):
        """A forged row refuses replays at and after it; the versions before it still read."""
        world = held_and_resumed(database)
        edit_log(database, "app-1", 2, changes=json.dumps({"stage": "hired"}))
        assert 1 == world.store.replay("app-1", version=1).version
        for version in (2, 3, None):
            with pytest.raises(CorruptData, match="chain_broken"):
                world.store.replay("app-1", version=version)

    def test_an_erased_at_column_the_log_does_not_back_is_reported(self, database):
        """Marking an application erased by hand is no erasure: verify says the column lies."""
        world = World(database)
        world.application(1)
        database.execute(
            f"UPDATE {database.table('hirepipe_applications')} "
            "SET erased_at = '2025-01-06 14:00:00'"
        )
        assert ["column_mismatch"] == [p.code for p in world.store.verify()]


TEXT = st.one_of(st.none(), st.text())
EARLY, LATE = dt.datetime(2, 1, 1), dt.datetime(9998, 12, 31)  # UTC is a day away at most


@settings(max_examples=200, deadline=None)
@given(
    application_id=st.text(min_size=1),
    version=st.integers(min_value=0, max_value=2**40),
    kind=st.text(),
    names=st.tuples(TEXT, TEXT, TEXT, TEXT),
    documents=st.tuples(TEXT, st.text(), TEXT),
    at=st.one_of(
        st.none(), st.datetimes(EARLY, LATE), st.datetimes(EARLY, LATE, timezones=st.timezones())
    ),
    previous=TEXT,
)
def test_the_envelope_is_the_canonical_json_of_the_row(
    application_id, version, kind, names, documents, at, previous
):
    """Written out field by field, the hashed text is exactly ``canonical`` of the row's object."""
    event, from_stage, to_stage, actor = names
    record, changes, requisition_changes = documents
    row = Hashed(
        version, kind, event, from_stage, to_stage, actor, at, record, changes, requisition_changes
    )
    expected = {
        "application_id": application_id,
        "version": version,
        "kind": kind,
        "event": event,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "actor": actor,
        "at": at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if at else None,
        "record": record,
        "changes": changes,
        "requisition_changes": requisition_changes,
        "previous": previous or "",
    }
    assert canonical(expected) == envelope(application_id, row, previous)


def test_a_rows_hash_is_the_one_it_always_was():
    """Hashes written by earlier versions still verify: the same row, the same hash."""
    row = Hashed(
        7,
        "transition",
        "hold",
        "interviewed",
        "on_hold",
        "maria",
        pendulum.datetime(2025, 1, 6, 9, 30, 12, 345, tz="Europe/Berlin"),
        '{"a":"\\u00e9"}',
        '{"stage":"on_hold"}',
        None,
    )
    first = Hashed(0, "added", None, None, None, None, None, None, "{}", None)
    assert (
        "36e91dab91063ae3a2dffcf7c931e06d08745338fa56ea54564cf82a52027780",
        "351928d9f66f471062f7626ba3c60ffb0b954921d6a9ae8f3d2d5fe652cb3e45",
    ) == (row_hash("app-1", row, "ab" * 32), row_hash("app-1", first, None))


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)


@given(JSON)
def test_canonical_is_json_dumps_with_its_options(value):
    """Its encoder made once writes what ``json.dumps`` writes, byte for byte."""
    expected = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False
    )
    assert expected == canonical(value)


@pytest.mark.parametrize("value", [float("nan"), {"a": float("inf")}], ids=["nan", "inf"])
def test_canonical_refuses_what_json_dumps_refuses(value):
    """No NaN or infinity: the same ValueError as ``json.dumps`` with ``allow_nan=False``."""
    with pytest.raises(ValueError, match="Out of range float values are not JSON compliant"):
        canonical(value)


class _Feedback(EventData):
    summary: str = ""


class _MarkedFeedback(EventData):
    summary: Annotated[str, PERSONAL] = ""


def _feedback_policy(data: type[EventData]) -> Policy:
    def keep(ctx: Any) -> Change:
        return Change()

    return Policy(
        name="p",
        version="1",
        initial="a",
        stages=[StageSpec("a"), StageSpec("b", StageKind.terminal)],
        events=[
            EventSpec("feedback", ("a",), None, effect=EffectSpec("keep", keep, data)),
            EventSpec("end", ("a",), "b"),
        ],
    )


class TestPolicyReplaced:
    def test_a_fire_takes_personal_values_out_by_the_pipelines_policy_of_the_moment(self, database):
        """The store remembers a policy's data models; a new policy brings its own."""
        plain, marked = _feedback_policy(_Feedback), _feedback_policy(_MarkedFeedback)
        pipeline = Pipeline(plain, clock=FakeClock(pendulum.datetime(2025, 1, 6, 9)))
        store = database.store(pipeline)
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition)
        application.id = "app-1"
        store.add(application, requisition)
        store.fire("app-1", "feedback", actor="m", summary="kept in the record")
        pipeline.policy = marked
        store.fire("app-1", "feedback", actor="m", summary="held apart")
        pipeline.policy = plain
        store.fire("app-1", "feedback", actor="m", summary="in the record again")
        rows = database.execute(
            f"SELECT record, personal FROM {database.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' AND version > 0 ORDER BY version"
        )
        assert [
            ("kept in the record", None),
            (None, ["held apart"]),
            ("in the record again", None),
        ] == [
            (
                json.loads(row.record)["data"]["summary"] if row.personal is None else None,
                list(json.loads(row.personal).values()) if row.personal is not None else None,
            )
            for row in rows
        ]

    def test_a_policy_replaced_during_a_fire_leaves_its_personal_values_apart(self, database):
        """The fire's own policy says what is personal, not the one replacing it meanwhile.

        Another thread (here the event's effect) may give the pipeline a new policy between
        the event's apply and its write: the record was made and validated by the old one,
        whose data model marks the summary personal. Before, the write asked the pipeline's
        policy of that moment and stored the summary in the record, where no erasure reaches.
        """
        plain = _feedback_policy(_Feedback)
        pipeline = Pipeline(plain, clock=FakeClock(pendulum.datetime(2025, 1, 6, 9)))

        def replace(ctx: Any) -> Change:
            pipeline.policy = plain
            return Change()

        spec = EventSpec("feedback", ("a",), None, effect=EffectSpec("r", replace, _MarkedFeedback))
        marked = _feedback_policy(_MarkedFeedback).with_event(spec)
        pipeline.policy = marked
        store = database.store(pipeline)
        requisition = make_requisition()
        application = pipeline.new_application(make_candidate(), requisition)
        application.id = "app-1"
        store.add(application, requisition)
        store.fire("app-1", "feedback", actor="m", summary="held apart")
        assert pipeline.policy is plain
        rows = database.execute(
            f"SELECT record, personal FROM {database.table('hirepipe_transitions')} "
            "WHERE application_id = 'app-1' AND version > 0"
        )
        [row] = list(rows)
        assert "held apart" not in row.record
        assert ["held apart"] == list(json.loads(row.personal).values())


@given(st.binary(min_size=32, max_size=32), st.text())
def test_a_digest_is_the_hmac_sha256_of_the_value_under_the_key(key, value):
    """One call into OpenSSL gives what the HMAC object gives, for every key and value."""
    expected = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()
    assert expected == digest(key.hex(), value)
