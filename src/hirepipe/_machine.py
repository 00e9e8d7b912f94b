"""Compiles a Policy into one ``transitions`` Machine; the only module importing ``transitions``.

Following the design's decisions 1 and 2: one ``Machine(model=None, auto_transitions=False)``
per policy, never attached to a model; each event fires on a small private token; conditions
and callbacks are callables, never names.

An event is driven through its ``transitions`` ``Event`` object: ``Event._process`` with an
``EventData`` that already names the token's state, which is what ``Event.trigger`` ends up
calling. ``transitions`` still picks the transition from the stage, evaluates its conditions
(the guards) and moves the token's state; what is skipped is only the machinery around it that
hirepipe does not use (the event queue's ``partial``, looking the state up again, the source
check the pipeline made already, the empty ``finalize_event`` callbacks). Measured on the
quickstart's events: 3.0 us per event against 5.1 us through ``Event.trigger``. Conditions are
called as the callables they are (``transitions``' ``condition_cls`` hook), without resolving
them by name first, an event's guards are one ``Condition`` that checks them itself
(``_GuardCondition``), and a transition is executed without calling its empty callback lists
(``_Transition``). ``tests/test_machine.py`` checks that all give the same answer for every
event and stage, against a machine with ``transitions``' own transitions and conditions.

The ``transitions`` logger belongs to the host: hirepipe never sets its level, and its states
have no enter or exit callbacks to run, so ``transitions`` has nothing to log at INFO.

A requisition's own lifecycle (draft, pending approval, open...) compiles here too
(``CompiledLifecycle``): ``transitions`` decides those
transitions as well.

The token carries the stage and the guard context; ``transitions`` evaluates the guards and
moves the token's state. The application itself is only touched by the pipeline, once the
whole change is known.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from transitions import Machine, MachineError, State, Transition
from transitions.core import Condition, Event, EventData, listify

from hirepipe.errors import Blocker
from hirepipe.policy import PREVIOUS, Context, GuardSpec, Policy

__all__ = ["CompiledLifecycle", "CompiledPolicy", "evaluate"]

_TRANSITIONS_LOG = logging.getLogger("transitions.core")


class _State(State):
    """A stage for ``transitions``: hirepipe gives stages no enter or exit callbacks.

    ``State.enter`` and ``exit`` would only run those (none) and log that they did, at INFO,
    twice per event: a host logging at INFO paid 2.4 times the cost of an event for it.
    """

    # plain attributes over State's properties: ``Event._process`` reads the name and
    # ``Machine.set_state`` the value on every event (a Python call each); taken once from
    # State's own properties: a stage named by a StrEnum member is known by the member's name
    name: Any = ""
    value: Any = ""

    def __init__(self, name: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(name, *args, **kwargs)
        self.name = State.name.fget(self)  # type: ignore[attr-defined]
        self.value = State.value.fget(self)  # type: ignore[attr-defined]

    def enter(self, event_data: Any) -> None:
        """Nothing to run on entering a stage."""

    def exit(self, event_data: Any) -> None:
        """Nothing to run on leaving a stage."""


class _Token:
    """What ``transitions`` fires on: a stage, the context, and what the callbacks found."""

    __slots__ = ("blockers", "context", "state")

    def __init__(self, state: str, context: Any) -> None:  # a Context, or a lifecycle's
        self.state = state
        self.context = context
        self.blockers: Sequence[Blocker] = ()  # until a guard condition runs: no list to make


def evaluate(guards: Sequence[GuardSpec], context: Context) -> list[Blocker]:
    """Return every blocker the guards raise for ``context``, in guard order."""
    return [blocker for guard in guards for blocker in guard.check(context)]


class _GuardCondition(Condition):
    """A transition's condition for ``transitions``: its event's guards, blockers kept on the token.

    A ``transitions`` ``Condition`` whose own ``check`` runs the guards (``_Transition`` takes
    it as it is): a callable wrapped in a ``Condition`` cost four Python calls an event (the
    condition's check, the callable, ``evaluate`` and its comprehension), one here; 142.8k
    instructions an event to 140.3k on the quickstart's mix. ``transitions`` still evaluates
    it, in order with the transition's other conditions. Called, it checks as well: a machine
    with ``transitions``' own conditions wraps it as a callable.
    """

    def __init__(self, guards: Sequence[GuardSpec]) -> None:
        super().__init__(self)  # what transitions names in its DEBUG line when it fails
        self.guards = tuple(guards)

    def check(self, event_data: Any) -> bool:
        """Whether no guard blocks: every blocker they raise, in guard order, on the token."""
        token: _Token = event_data.model
        context = token.context
        found: list[Blocker] = []
        for guard in self.guards:  # evaluate's rule, as a loop: no call, no comprehension
            found.extend(guard.check(context))
        token.blockers = found
        return not found

    __call__ = check

    def __repr__(self) -> str:
        return f"<guards ({', '.join(guard.name for guard in self.guards) or 'none'})>"


class _ResumesTo:
    """Selects the ``resume`` transition that leads back to where the hold began."""

    __slots__ = ("stage",)

    def __init__(self, stage: str) -> None:
        self.stage = stage

    def __call__(self, event_data: Any) -> bool:
        token: _Token = event_data.model
        return bool(token.context.application.held_from == self.stage)


class _Condition(Condition):
    """A condition that is a callable given the event data, as all of hirepipe's are.

    ``Condition.check`` first resolves a condition given by name (a model's method, a dotted
    path) and reads the machine's ``send_event``; hirepipe gives callables only, on machines
    that send the event data, so the callable is called as it is. ``transitions`` still
    evaluates every condition of a transition, in order, and stops at the first that fails.
    """

    def check(self, event_data: Any) -> bool:
        """Whether the condition gives its target."""
        return bool(self.func(event_data) == self.target)  # type: ignore[operator]  # callables only


def _condition(func: Any, target: bool = True) -> Condition:
    """A transition's condition: hirepipe's guard condition as it is, any other callable wrapped."""
    if target is True and isinstance(func, _GuardCondition):
        return func
    return _Condition(func, target)


class _Transition(Transition):
    """A transition as ``transitions`` executes it, without the steps hirepipe leaves empty.

    ``Transition.execute`` calls the machine's callbacks four times (prepare, before, after and
    the machine's own around a change of state) and logs four DEBUG lines, on every event;
    hirepipe's transitions, stages and machines have no callbacks. A transition of a complete
    machine that has none (``_Machine.seal``) has its conditions evaluated by ``transitions``' own
    ``_eval_conditions`` (all of them, in order, stopping at the first that fails) and its state
    set by the machine's ``set_state``, as in ``Transition.execute``; what is left out are only
    the calls to empty lists and the log calls. Measured on the quickstart's events: 189k
    instructions per event to 167k. A transition with callbacks (its own or its machine's) or
    a final stage, and any transition while a host logs ``transitions`` at DEBUG, is executed
    by ``Transition.execute`` itself, and the host sees every line it logs.
    """

    # a factory, not a class: transitions only calls it, once per condition given
    condition_cls = staticmethod(_condition)  # type: ignore[assignment]
    # the stage a sealed transition without callbacks leads to; None: Transition.execute
    plain_dest: State | None = None
    plain = False

    def execute(self, event_data: Any) -> bool:
        """Execute the transition: whether its conditions let it through."""
        if not self.plain or _TRANSITIONS_LOG.isEnabledFor(logging.DEBUG):
            return bool(super().execute(event_data))
        if not self._eval_conditions(event_data):
            return False
        state = self.plain_dest
        if state is not None:  # an internal transition (an activity) has none: the stage stays
            event_data.machine.set_state(state, event_data.model)
            event_data.state = state
        return True


class _Machine(Machine):
    state_cls = _State
    transition_cls = _Transition
    # a plain attribute over Machine's property: ``Event._process`` reads it on every event
    # (a Python call); set as a list by the constructor below, as the property's setter would
    prepare_event: Any = ()  # shadowed by the instance's own list

    def __init__(self, *args: Any, prepare_event: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prepare_event = listify(prepare_event)

    def seal(self) -> None:
        """Mark the transitions without callbacks, once every transition is added.

        hirepipe adds no callbacks to a machine afterwards (its machines are private), so what
        ``_Transition.execute`` may skip is known from then on, not asked on every event.
        """
        machine_callbacks = self.before_state_change or self.after_state_change
        for event in self.events.values():
            for transitions_ in event.transitions.values():
                for transition in transitions_:
                    if not isinstance(transition, _Transition):
                        continue  # another transition class: executed as it is
                    state = self.states[transition.dest] if transition.dest else None
                    transition.plain = not (
                        machine_callbacks
                        or transition.prepare
                        or transition.before
                        or transition.after
                        or (state is not None and state.final)
                    )
                    transition.plain_dest = state


class CompiledPolicy:
    """A policy compiled into a ``transitions`` Machine, shared by every application."""

    __slots__ = ("_events", "_machine", "_states", "policy")

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        machine = _Machine(
            model=None,
            states=list(policy.stages),
            initial=policy.initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for spec in policy.events.values():
            guard = _GuardCondition(spec.guards)
            for source in policy.sources(spec.name):
                if spec.dest == PREVIOUS:
                    for target in policy.destinations(spec.name):
                        machine.add_transition(
                            spec.name,
                            source,
                            target,
                            conditions=[_ResumesTo(target), guard],
                        )
                else:
                    machine.add_transition(spec.name, source, spec.dest, conditions=[guard])
        machine.seal()
        self._machine = machine
        self._events: dict[str, Event] = {name: machine.events[name] for name in policy.events}
        self._states: dict[str, State] = dict(machine.states)

    def run(self, context: Context, stage: str) -> tuple[bool, str, Sequence[Blocker]]:
        """Fire ``context.event`` from ``stage`` on a token.

        ``stage`` is the application's stage as the caller read it and checked the event
        against: read again here, another thread's commit could have moved it since.
        Return whether the guards let it through, the stage it leads to and the blockers
        found. Nothing is changed: the caller computes the effect and commits.
        """
        event = self._events[context.event]
        if stage not in event.transitions:  # pragma: no cover - the pipeline checks sources first
            raise RuntimeError(f"policy and machine disagree: {context.event!r} from {stage!r}")
        token = _Token(stage, context)
        event_data = EventData(self._states[stage], event, self._machine, token, (), {})
        event._process(event_data)
        return event_data.result is True, token.state, token.blockers

    def trigger(self, context: Context, stage: str) -> tuple[bool, str, Sequence[Blocker]]:
        """``run`` through the public ``Event.trigger``.

        The reference the tests hold ``run`` to.
        """
        token = _Token(stage, context)
        applied = self._events[context.event].trigger(token)
        return applied, token.state, token.blockers


Check = Callable[[Any], list[Blocker]]
"""A lifecycle's guard: the blockers it finds in a context (empty: the way is clear)."""


class _CheckCondition:
    """A boolean condition for ``transitions`` over a lifecycle's check."""

    __slots__ = ("check",)

    def __init__(self, check: Check) -> None:
        self.check = check

    def __call__(self, event_data: Any) -> bool:
        token: _Token = event_data.model
        token.blockers = self.check(token.context)
        return not token.blockers


class CompiledLifecycle:
    """A small lifecycle (a requisition's) compiled into its own ``transitions`` Machine.

    ``transitions_`` are ``(event, sources, dest, check)``: ``dest`` ``None`` for an activity
    (recorded, no state change), ``check`` returns the blockers for a context. One machine
    serves every object of the lifecycle; nothing is attached to them.
    """

    __slots__ = ("_triggers", "states")

    def __init__(
        self,
        states: Sequence[str],
        initial: str,
        transitions_: Sequence[tuple[str, Sequence[str], str | None, Check]],
    ) -> None:
        self.states = tuple(states)
        machine = _Machine(
            model=None,
            states=list(states),
            initial=initial,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for event, sources, dest, check in transitions_:
            condition = _CheckCondition(check)
            for source in sources:
                # an activity is an internal transition: guarded, and the state stays
                machine.add_transition(event, source, dest, conditions=[condition])
        machine.seal()
        self._triggers: dict[str, Callable[[_Token], bool]] = {
            name: event.trigger for name, event in machine.events.items()
        }

    def run(self, event: str, state: str, context: Any) -> tuple[bool, str, Sequence[Blocker]]:
        """Fire ``event`` from ``state`` with ``context``; change nothing.

        Return whether the checks let it through, the state it leads to and the blockers.
        Raises ``KeyError`` for an event the lifecycle does not define and ``ValueError`` for
        one that does not leave ``state``: the caller checks both first.
        """
        token = _Token(state, context)
        try:
            applied = self._triggers[event](token)
        except MachineError as exc:
            raise ValueError(f"{event!r} does not leave {state!r}: {exc}") from exc
        return applied, token.state, token.blockers
