"""The engine module: ``transitions`` decides, and hirepipe leaves its logger to the host."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import subprocess
import sys
from enum import StrEnum
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from transitions import State, Transition
from transitions.core import Condition

from hirepipe import Blocker, Context, HirepipeError, Pipeline, standard_policy
from hirepipe._machine import CompiledPolicy, _GuardCondition, _Machine, _State, evaluate
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from tests.conftest import START
from tests.policies import FINAL_REVIEW
from tests.test_properties import EVENTS, PEOPLE, POLICY, STAGES, plausible


def test_import_leaves_the_transitions_logger_alone():
    """A host's level for the ``transitions`` logger survives hirepipe's engine import."""
    code = (
        "import logging\nlogging.getLogger('transitions').setLevel(logging.DEBUG)\n"
        "from hirepipe import Pipeline, standard_policy\nPipeline(standard_policy())\n"
        "print(logging.getLevelName(logging.getLogger('transitions').level))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": ":".join(sys.path)},
    )
    assert "DEBUG" == result.stdout.strip()


def test_events_fire_with_the_transitions_logger_at_debug(caplog):
    """A host logging ``transitions`` at DEBUG sees its messages, and events still apply."""
    pipeline, requisition = Pipeline(standard_policy()), make_requisition()
    application = make_application(pipeline, requisition)
    with caplog.at_level(logging.DEBUG, logger="transitions"):
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
    assert "debrief" == application.stage
    # the transition's own lines too: it is executed by Transition.execute for such a host
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("transitions")]
    assert any("transition from state interviewed to state debrief" in m for m in messages)
    assert any("Executed callback after transition" in m for m in messages)


def test_a_transition_with_callbacks_runs_them():
    """A transition, or a machine, given callbacks is executed by ``Transition.execute``.

    hirepipe's machines have none; the shortcut past the empty lists must not skip any that a
    machine of this class is given, sealed or not.
    """
    called: list[str] = []

    class Token:
        state = "a"

    machine = _Machine(
        model=None,
        states=["a", "b", "c"],
        initial="a",
        auto_transitions=False,
        send_event=True,
        after_state_change=[lambda event_data: called.append("machine after")],
    )
    machine.add_transition(
        "go",
        "a",
        "b",
        prepare=[lambda event_data: called.append("prepare")],
        before=[lambda event_data: called.append("before")],
        after=[lambda event_data: called.append("after")],
    )
    machine.add_transition("on", "b", "c")
    machine.seal()  # as hirepipe's machines are, once complete
    token = Token()
    assert machine.events["go"].trigger(token)
    assert ("b", ["prepare", "before", "after", "machine after"]) == (token.state, called)
    assert machine.events["on"].trigger(token)
    assert ("c", ["prepare", "before", "after", "machine after", "machine after"]) == (
        token.state,
        called,
    )


def test_a_host_logging_at_info_gets_no_record_per_event(caplog):
    """Stages have no enter or exit callbacks, so ``transitions`` logs nothing at INFO."""
    pipeline, requisition = Pipeline(standard_policy()), make_requisition()
    application = make_application(pipeline, requisition)
    with caplog.at_level(logging.INFO, logger="transitions"):
        pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
        pipeline.fire(application, "withdraw", actor="cand-1", requisition=requisition)
    assert ("withdrawn", []) == (application.stage, caplog.records)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.sampled_from([*STAGES, "on_hold"]),
    steps=st.lists(
        st.tuples(st.integers(0, 1_000), st.integers(0, 3), st.sampled_from(PEOPLE)),
        max_size=25,
    ),
)
def test_the_engine_decides_as_event_trigger_does(start, steps):
    """Driving an event through ``Event._process`` gives what the public ``trigger`` gives.

    Every event the pipeline fires is decided both ways (guards are pure), from every stage:
    whether it applies, the stage it leads to, and the blockers; and the same again by a
    machine with ``transitions``' own conditions (which resolve each callable, then call it),
    the guards run by ``evaluate`` there (not by ``_GuardCondition.check``, which it checks).
    """
    decided: list[tuple[bool, str, list[Blocker]]] = []
    fast = CompiledPolicy.run

    def evaluated(self: _GuardCondition, event_data: Any) -> bool:
        token = event_data.model
        token.blockers = evaluate(self.guards, token.context)
        return not token.blockers

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_Machine, "transition_cls", Transition)
        stock = CompiledPolicy(POLICY)
    assert all(
        type(transition) is Transition and type(condition) is Condition
        for event in stock._events.values()
        for transitions_ in event.transitions.values()
        for transition in transitions_
        for condition in transition.conditions
    )

    def both(self: CompiledPolicy, context: Context, stage: str) -> tuple[bool, str, list[Any]]:
        reference = self.trigger(context, stage)
        answer = fast(self, context, stage)
        assert reference == answer
        assert stock.trigger(context, stage) == answer
        decided.append(answer)
        return answer

    clock = FakeClock(START)
    pipeline = Pipeline(POLICY, clock=clock)
    requisition = make_requisition(headcount=2, approvers=["cfo"])
    application = make_application(pipeline, requisition, stage=start, candidate=make_candidate(1))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(CompiledPolicy, "run", both)
        # what transitions' own Condition calls (hirepipe's transitions call ``check``)
        patch.setattr(_GuardCondition, "__call__", evaluated)
        for pick, variant, actor in steps:
            clock.advance(hours=7)
            pool = pipeline.available(application, requisition=requisition, activities=True)
            event = pool[pick % len(pool)] if pool and pick % 2 else EVENTS[pick % len(EVENTS)]
            data, reason = plausible(event, variant, clock.now())
            with contextlib.suppress(HirepipeError, ValidationError):
                pipeline.fire(
                    application, event, actor=actor, requisition=requisition, reason=reason, **data
                )
    assert all(isinstance(applied, bool) for applied, _, _ in decided)


def test_resume_is_decided_by_the_transition_back_to_where_the_hold_began():
    """``resume`` has one transition per stage it may return to; the engine picks the right one."""
    pipeline, requisition = Pipeline(standard_policy()), make_requisition()
    application = make_application(pipeline, requisition, stage="review")
    pipeline.fire(application, "hold", actor="maria", requisition=requisition, reason="freeze")
    pipeline.fire(application, "resume", actor="maria", requisition=requisition, reason="thaw")
    assert ("review", None) == (application.stage, application.held_from)


def test_guard_conditions_are_evaluated_by_transitions_as_they_are():
    """Each transition holds its event's guard condition itself, and ``transitions`` checks it.

    Not wrapped in another ``Condition``: its own ``check`` runs the guards. A failing one is
    named by its guards in ``transitions``' DEBUG line.
    """
    compiled = CompiledPolicy(standard_policy())
    event = compiled._events["complete_debrief"]
    (transition,) = event.transitions["debrief"]
    (condition,) = transition.conditions
    assert isinstance(condition, _GuardCondition)
    assert ["scorecards_complete"] == [guard.name for guard in condition.guards]
    assert "<guards (scorecards_complete)>" == repr(condition)
    resume = compiled._events["resume"].transitions["on_hold"][0]
    assert [False, True] == [isinstance(c, _GuardCondition) for c in resume.conditions]


def test_a_stage_named_by_a_str_enum_member_compiles_as_transitions_names_it() -> None:
    """The stages' plain name and value are transitions' own: an enum member's name, itself.

    A company naming its stages by a StrEnum built a pipeline before the stages' name became
    a plain attribute; taking the member as the name gave transitions' dests, which it knows
    by the member's name, no stage to find (a bare KeyError when compiling).
    """

    class Stage(StrEnum):
        FINAL = "final_review"

    for name in ("screen", Stage.FINAL):
        assert (_State(name).name, _State(name).value) == (State(name).name, State(name).value)
    spec = dataclasses.replace(FINAL_REVIEW, name=Stage.FINAL)
    policy = standard_policy().named("enum", "1")
    policy = policy.with_stage(spec, after="review", event="shortlist")
    Pipeline(policy)
