"""Properties that hold for every sequence of events: atomicity and the lifecycle invariants.

Random sequences of events, with good, missing or malformed data and random time steps, are
fired at applications of the standard policy. Every refused event must leave the application
(and the requisition) byte-identical; every applied one must keep the invariants.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import Application, HirepipeError, Pipeline, Policy, standard_policy
from hirepipe.policy import SYSTEM_ACTOR, Role, requisition_roles
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START

POLICY = standard_policy()
EVENTS = sorted(POLICY.events)
STAGES = ["interviewed", "debrief", "review", "approval", "references", "offer", "talent_pool"]
PEOPLE = ["alice", "bob", "carol", "cfo", "maria", "cand-1", "mallory", SYSTEM_ACTOR]


def plausible(event: str, variant: int, now: Any) -> tuple[dict[str, Any], str | None]:
    """Data for ``event``: 0 none, 1 what the happy path gives, 2 malformed, 3 other good data."""
    if variant == 0:
        return {}, None
    if variant == 2:
        return {"salary": "a lot", "round": "two", "bogus": object()}, ""
    good: dict[str, dict[str, Any]] = {
        "schedule_next_round": {"interviewers": ["carol"], "scheduled_at": now.add(days=2)},
        "round_held": {"held_at": now},
        "request_approval": {"salary": Decimal(130_000 + 10_000 * variant)},
        "approve": {"salary": Decimal(135_000)},
        "extend_offer": {"salary": Decimal(140_000), "start_date": date(2025, 6, 2)},
        "revise_offer": {"salary": Decimal(120_000 + 15_000 * variant)},
        "counter": {"salary": Decimal(160_000)},
        "reject": {"feedback": "not this time"},
        "keep_warm": {"warm_until": now.add(months=3), "consent": True},
        "submit_scorecard": {"recommendation": "yes" if variant == 1 else "strong_no"},
        "record_approval": {"granted": variant == 1},
        "add_reference": {"referee": f"ref-{variant}", "contact": "x@example.com", "consent": True},
        "contact_reference": {"referee": "ref-1"},
        "complete_reference": {"referee": "ref-1", "outcome": "satisfactory"},
        "note": {"text": "hello"},
    }
    reasons = {"reject": "skills", "hold": "freeze", "resume": "thaw", "reopen": "mistake"}
    return good.get(event, {}), reasons.get(event)


def check_invariants(application: Application, policy: Policy) -> None:
    """The stage is a policy stage, the history replays to it, and the version counts it."""
    assert application.stage in policy.stages
    assert application.version == len(application.history)
    assert [r.version for r in application.history] == list(range(1, application.version + 1))
    stage = application.history[0].from_stage if application.history else application.stage
    for record in application.history:
        assert record.from_stage == stage, "history does not chain"
        if record.kind == "activity":
            assert record.to_stage == record.from_stage
        elif policy.is_terminal(record.from_stage):
            assert (record.event, record.from_stage) in {
                ("reopen", "rejected"),
                ("keep_warm", "declined"),
            }
        stage = record.to_stage
    assert stage == application.stage


steps = st.lists(
    st.tuples(
        st.tuples(st.integers(0, 1_000), st.booleans()),
        st.integers(0, 3),
        st.sampled_from(PEOPLE),
        st.integers(0, 96),
        st.booleans(),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(start=st.sampled_from(STAGES), steps=steps)
def test_random_sequences_are_atomic_and_keep_invariants(start, steps):
    """Any event sequence: refusals change nothing, applied events keep the invariants."""
    clock = FakeClock(START)
    pipeline = Pipeline(POLICY, clock=clock)
    requisition = make_requisition(headcount=2, approvers=["cfo"])
    application = make_application(pipeline, requisition, stage=start, candidate=make_candidate(1))
    check_invariants(application, POLICY)
    for (pick, among_available), variant, actor, hours, with_requisition in steps:
        clock.advance(hours=hours)
        # half the steps pick from what can fire now, to get deep into the lifecycle
        pool = EVENTS
        if among_available:
            pool = pipeline.available(application, requisition=requisition, activities=True)
        event = pool[pick % len(pool)] if pool else EVENTS[pick % len(EVENTS)]
        data, reason = plausible(event, variant, clock.now())
        before = application.model_dump_json()
        req_before = requisition.model_dump_json()
        version = application.version
        try:
            record = pipeline.fire(
                application,
                event,
                actor=actor,
                requisition=requisition if with_requisition else None,
                reason=reason,
                **data,
            ).record
        except (HirepipeError, ValidationError):
            assert before == application.model_dump_json()
            assert req_before == requisition.model_dump_json()
            continue
        assert version + 1 == application.version
        assert record is application.history[-1]
        check_invariants(application, POLICY)
        check_who_acted(record, application, requisition)
    assert requisition.filled <= requisition.headcount


def check_who_acted(record: Any, application: Application, requisition: Any) -> None:
    """The actor holds a role the event is fired by, and a decision names nobody else."""
    spec = POLICY.events[record.event]
    held = set(requisition_roles(record.actor, application, requisition))
    if record.actor == SYSTEM_ACTOR:
        held.add(Role.system)
    assert held & set(spec.fired_by), f"{record.actor} fired {record.event} holding {held}"
    field = spec.data_model.person_field
    if field is not None:
        assert record.actor == record.data[field]


@settings(max_examples=200, deadline=None)
@given(start=st.sampled_from(STAGES))
def test_available_events_fire_with_their_data(start):
    """Every event available() lists for a person fires as them once its data is given."""
    clock = FakeClock(START)
    pipeline = Pipeline(POLICY, clock=clock)
    requisition = make_requisition(headcount=2)
    application = make_application(pipeline, requisition, stage=start)
    for actor in ("maria", "cand-1", "alice", "cfo", SYSTEM_ACTOR, "mallory"):
        mine = pipeline.available(application, requisition=requisition, actor=actor)
        assert set(mine) <= set(pipeline.available(application, requisition=requisition))
        for event in mine:
            trial = Application.model_validate_json(application.model_dump_json())
            data, reason = plausible(event, 1, clock.now())
            pipeline.fire(
                trial,
                event,
                actor=actor,
                requisition=requisition.model_copy(),
                reason=reason,
                **data,
            )
            assert trial.stage in POLICY.destinations(event)
