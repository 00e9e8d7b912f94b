"""A child forked while a thread of its parent held a lock of hirepipe's still works.

The child's copy of such a lock stays taken for good (the thread holding it does not exist in
the child): before, its first use waited until its alarm killed it (exit code -14). Each object
registers with ``hirepipe._fork`` and makes its locks afresh in the child.

A lock guarding a commit (the pipeline's, ``Positions``', the in-memory outbox's) is taken
around the fork too: a child forked mid-commit started from the commit half done (a stage
moved without its history record), exit code 1 (``child_status_mid_commit``).
"""

from __future__ import annotations

from hirepipe import Pipeline, standard_policy
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
