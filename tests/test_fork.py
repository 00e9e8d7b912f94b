"""A child forked while a thread of its parent held a lock of hirepipe's still works.

The child's copy of such a lock stays taken for good (the thread holding it does not exist in
the child): before, its first use waited until its alarm killed it (exit code -14). Each object
registers with ``hirepipe._fork`` and makes its locks afresh in the child.

A lock guarding a commit (the pipeline's, ``Positions``', the in-memory outbox's) is taken
around the fork too: a child forked mid-commit started from the commit half done (a stage
moved without its history record), exit code 1 (``child_status_mid_commit``).
"""

from __future__ import annotations

import threading

from hirepipe import Pipeline, standard_policy
from hirepipe._fork import renew_in_child
from hirepipe.notify import Outbox
from hirepipe.positions import Positions
from hirepipe.testing import FakeClock, make_application, make_requisition
from tests.conftest import START
from tests.forks import child_status, child_status_mid_commit
from tests.notify.test_outbox import NOW, note
from tests.standard.test_position import draft, position_pipeline


def test_the_pipeline_fires_in_a_child_forked_mid_commit():
    pipeline = Pipeline(standard_policy(), clock=FakeClock(START))
    requisition = make_requisition()
    application = make_application(pipeline, requisition, stage="interviewed")

    def fire() -> None:
        pipeline.fire(application, "hold", actor="maria", requisition=requisition, reason="x")
        assert "on_hold" == application.stage

    assert 0 == child_status_mid_commit(pipeline._commit_lock, fire)


def test_the_in_memory_outbox_works_in_a_child_forked_mid_call():
    outbox = Outbox()
    outbox.add(note("a/1"))

    def due_and_deliver() -> None:
        assert ["a/1"] == [n.key for n in outbox.due(NOW)]
        with outbox.delivering():
            pass

    assert 0 == child_status_mid_commit(outbox._lock, due_and_deliver)
    assert 0 == child_status(outbox._delivery, due_and_deliver)


def test_positions_fire_in_a_child_forked_mid_event():
    positions = Positions(position_pipeline(FakeClock(START)))
    requisition = draft()

    def submit() -> None:
        positions.fire(requisition, "submit", actor="maria")

    assert 0 == child_status_mid_commit(positions._lock, submit)


def test_every_owner_is_renewed_in_a_child_when_one_fails():
    """One owner's ``_after_fork`` that raises does not leave the others' locks unrenewed.

    Before, the loop stopped at the first failure: every owner after it kept its copied locks
    (held for good when a parent's thread held them). The failure is still reported.
    """

    class Failing:
        def _after_fork(self) -> None:
            raise RuntimeError("cannot renew")

    class Counting:
        renewed = 0

        def _after_fork(self) -> None:
            self.renewed += 1

    owners = [Failing(), Counting(), Failing(), Counting()]
    for owner in owners:
        renew_in_child(owner)
    counting = [owner for owner in owners if isinstance(owner, Counting)]

    def check() -> None:
        assert [1, 1] == [owner.renewed for owner in counting]

    assert 0 == child_status(threading.Lock(), check)
    assert [0, 0] == [owner.renewed for owner in counting]  # the parent's stay as they were
