"""A stored requisition's own lifecycle survives a restart, and only an open one takes offers."""

from __future__ import annotations

from datetime import date

import pytest

from hirepipe import ApprovalStep, GuardRejected, Pipeline, PolicySettings, standard_policy
from hirepipe.errors import NotStored, PositionError
from hirepipe.models import RequisitionStatus
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_application, make_requisition
from tests.conftest import START


def position_store(url: str, clock: FakeClock) -> Store:
    policy = standard_policy(PolicySettings(required_references=0), position_approval=True)
    store = Store(url, Pipeline(policy, clock=clock))
    store.upgrade()
    return store


def test_the_lifecycle_survives_a_restart(tmp_path):
    """Submitted, approved and opened in one process; read back and used in the next."""
    url = f"sqlite:///{tmp_path / 'hiring.db'}"
    clock = FakeClock(START)
    store = position_store(url, clock)
    requisition = make_requisition(
        status="draft",
        approvers=[],
        approval_chain=(ApprovalStep(name="finance", approvers=("cfo",)),),
    )
    store.add_requisition(requisition)
    store.fire_requisition(requisition.id, "submit", actor="maria")
    store.fire_requisition(requisition.id, "record_approval", actor="cfo", granted=True)
    with pytest.raises(PositionError) as caught:
        store.fire_requisition(requisition.id, "approve", actor="maria", expected_version=1)
    assert ("requisition_changed",) == caught.value.codes
    store.fire_requisition(requisition.id, "approve", actor="cfo", expected_version=2)
    store.engine.dispose()

    restarted = position_store(url, clock)
    stored = restarted.requisition(requisition.id)
    assert RequisitionStatus.open == stored.status
    assert ["submit", "record_approval", "approve"] == [r.event for r in stored.history]
    assert stored.budget == stored.approved_band

    application = make_application(restarted.pipeline, stored, stage="references")
    restarted.add(application)
    restarted.fire_requisition(stored.id, "hold", actor="maria", reason="budget freeze")
    offer = {"salary": 130_000, "start_date": date(2025, 3, 3)}
    with pytest.raises(GuardRejected) as refused:
        restarted.fire(application.id, "extend_offer", actor="maria", **offer)
    assert "position_not_open" in refused.value.codes
    restarted.fire_requisition(stored.id, "resume", actor="maria", reason="thawed")
    fired = restarted.fire(application.id, "extend_offer", actor="maria", **offer)
    assert "offer" == fired.record.to_stage
    with pytest.raises(NotStored):
        restarted.fire_requisition("req-unknown", "submit", actor="maria")
    restarted.engine.dispose()


def test_update_requisition_leaves_the_lifecycle_to_its_events(tmp_path):
    """Status, approvals, band and history of a kept lifecycle change only by its events."""
    from hirepipe.store import StoreError

    store = position_store(f"sqlite:///{tmp_path / 'hiring.db'}", FakeClock(START))
    store.add_requisition(make_requisition(id="req-draft", status="draft"))
    store.add_requisition(make_requisition(id="req-legacy"))
    for name, value in [("status", "open"), ("approved_band", None), ("version", 0)]:
        with pytest.raises(StoreError, match="fire_requisition"):
            store.update_requisition("req-draft", **{name: value})
    assert RequisitionStatus.draft == store.requisition("req-draft").status
    # a requisition without a lifecycle keeps the old way
    assert "on_hold" == store.update_requisition("req-legacy", status="on_hold").status
    store.engine.dispose()


def test_the_last_hire_through_the_stored_slate_fills_the_position(tmp_path):
    """The acceptance that meets the headcount fills the stored position, in one transaction.

    After a restart the stored requisition is filled, its history ending with the fill.
    """
    url = f"sqlite:///{tmp_path / 'hiring.db'}"
    clock = FakeClock(START)
    store = position_store(url, clock)
    requisition = make_requisition(
        status="draft",
        approvers=[],
        approval_chain=(ApprovalStep(name="finance", approvers=("cfo",)),),
    )
    store.add_requisition(requisition)
    store.fire_requisition(requisition.id, "submit", actor="maria")
    store.fire_requisition(requisition.id, "record_approval", actor="cfo", granted=True)
    store.fire_requisition(requisition.id, "approve", actor="cfo")
    opened = store.requisition(requisition.id)
    application = make_application(store.pipeline, opened, stage="offer")
    store.add(application)
    fired = store.slate_fire(application.id, "accept", actor=application.candidate.id)
    assert "hired" == fired[0].record.to_stage
    store.engine.dispose()

    stored = position_store(url, clock).requisition(requisition.id)
    assert (RequisitionStatus.filled, 1) == (stored.status, stored.filled)
    assert ["submit", "record_approval", "approve", "fill"] == [r.event for r in stored.history]
