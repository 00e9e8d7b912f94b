"""A requisition's own lifecycle: its position approved once, then opened, held, filled.

```python
positions = Positions(pipeline)
requisition = Requisition(..., status="draft", approval_chain=(finance,))
positions.fire(requisition, "submit", actor="maria")          # draft -> pending_approval
positions.fire(requisition, "record_approval", actor="cfo", granted=True)
positions.fire(requisition, "approve", actor="cfo")           # pending_approval -> open
```

The events, their guards, effects and who may fire them are the standard lifecycle's
(``hirepipe.standard._position.REQUISITION_LIFECYCLE``); a ``transitions`` machine decides
every transition (``hirepipe._machine.CompiledLifecycle``), as for applications. A transition
is atomic: it applies in full (status, the requisition's history record, version + 1, the
event's changes) or raises [`PositionError`][hirepipe.errors.PositionError] (or a Pydantic
``ValidationError`` for bad data) and leaves the requisition exactly as it was.

Who may fire what: the roles come from the requisition (its hiring manager, recruiter and
approvers; the pipeline's ``system_actor`` holds ``system``), or from the ``roles`` function
given. Nobody records another's approval (``acting_for_another``).

Applications see the lifecycle through the requisition they are fired with: with
``standard_policy(position_approval=True)``, only an open requisition takes offers, and its
approved band decides which offers need the position's approval again.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any

from pydantic import TypeAdapter, ValidationError

from hirepipe._fork import renew_in_child
from hirepipe._machine import CompiledLifecycle
from hirepipe.errors import Blocker, PositionError
from hirepipe.models import (
    Identifier,
    Reason,
    Requisition,
    RequisitionStatus,
    TransitionRecord,
    as_instant,
)
from hirepipe.pipeline import Pipeline
from hirepipe.policy import EventData, EventSpec, Role
from hirepipe.policy._permissions import permission_blockers
from hirepipe.standard._position import REQUISITION_LIFECYCLE, PositionContext, PositionEvent

__all__ = ["PositionRoles", "Positions", "position_roles"]

_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_REASON: TypeAdapter[str | None] = TypeAdapter(Reason | None)
_ENGINE_OWNS = frozenset({"id", "status", "version", "history"})

PositionRoles = Callable[[str, Requisition], Collection[str]]
"""Which roles a person holds on a requisition (``Role`` members or a host's own names)."""


def position_roles(actor: str, requisition: Requisition, /) -> frozenset[str]:
    """The default ``PositionRoles``: hiring manager, recruiter and approver, from its fields.

    An approver is anyone in the requisition's approval chain (its ``approval_chain``, else
    its ``approvers``).
    """
    held: set[str] = set()
    if actor == requisition.hiring_manager:
        held.add(Role.hiring_manager)
    if actor == requisition.recruiter:
        held.add(Role.recruiter)
    chain = requisition.approval_chain
    if any(actor in step.approvers for step in chain) or (
        not chain and actor in requisition.approvers
    ):
        held.add(Role.approver)
    return frozenset(held)


class Positions:
    """Fires the requisition lifecycle's events, with the pipeline's clock, settings and actor.

    ``roles`` says which roles a person holds on a requisition (default:
    [`position_roles`][hirepipe.positions.position_roles]).
    """

    def __init__(self, pipeline: Pipeline, *, roles: PositionRoles | None = None) -> None:
        self.pipeline = pipeline
        self.roles: PositionRoles = roles if roles is not None else position_roles
        self.events: Mapping[str, PositionEvent] = {e.name: e for e in REQUISITION_LIFECYCLE}
        self._permissions = {
            e.name: EventSpec(e.name, tuple(e.sources), e.dest, fired_by=e.fired_by)
            for e in REQUISITION_LIFECYCLE
        }
        self._machine = CompiledLifecycle(
            list(RequisitionStatus),
            RequisitionStatus.draft,
            [(e.name, list(e.sources), e.dest, _checks(e)) for e in REQUISITION_LIFECYCLE],
        )
        self._lock = threading.Lock()
        renew_in_child(self, held="_lock")  # a child sees no commit half done

    def _after_fork(self) -> None:
        # a forked child's copy may be held for good by a thread of its parent
        self._lock = threading.Lock()

    # -- asking ------------------------------------------------------------------------------

    def allowed(self, requisition: Requisition) -> tuple[str, ...]:
        """The events that leave the requisition's status (whatever their guards say)."""
        return tuple(e.name for e in REQUISITION_LIFECYCLE if requisition.status in e.sources)

    def blockers(
        self,
        requisition: Requisition,
        event: str,
        *,
        actor: str | None = None,
        reason: str | None = None,
        **data: Any,
    ) -> list[Blocker]:
        """Why ``event`` cannot fire on the requisition now (for ``actor``, if given)."""
        spec = self._spec(requisition, event, raising=False)
        if isinstance(spec, Blocker):
            return [spec]
        person = actor if actor is not None else self.pipeline.system_actor
        if spec.data.person_field is not None and data.get(spec.data.person_field) is None:
            data[spec.data.person_field] = person
        event_data, found = _partial(spec, data)
        if actor is not None:
            found += self._refusals(spec, event_data, requisition, actor)
        context = self._context(requisition, event, event_data, person, reason)
        return found + _checks(spec)(context)

    def available(self, requisition: Requisition, *, actor: str | None = None) -> list[str]:
        """The events that can fire now (activities included), for ``actor`` if given.

        Blockers cleared by giving data (a reason) do not count.
        """
        return [
            name
            for name in self.allowed(requisition)
            if all(
                b.needs_input
                for b in self.blockers(
                    requisition,
                    name,
                    actor=actor,
                    **_DECIDING.get(name, {}),
                )
            )
        ]

    # -- firing ------------------------------------------------------------------------------

    def fire(
        self,
        requisition: Requisition,
        event: str,
        *,
        actor: str,
        reason: str | None = None,
        expected_version: int | None = None,
        **data: Any,
    ) -> TransitionRecord:
        """Apply ``event`` to ``requisition``; return the record added to its history.

        ``data`` is validated by the event's data model (``ValidationError``). Raises
        [`PositionError`][hirepipe.errors.PositionError] when the event does not leave the
        requisition's status, the actor may not fire it, a guard refuses it, or the version
        moved from ``expected_version``; ``TypeError`` for a requisition of another type.
        Any error leaves the requisition unchanged.
        """
        if not isinstance(requisition, Requisition):
            raise TypeError(f"requisition must be a Requisition, not {type(requisition).__name__}")
        version, status = requisition.version, requisition.status
        if expected_version is not None and expected_version != version:
            raise self._changed(requisition, event, expected_version, version)
        spec = self._spec(requisition, event, raising=True)
        assert isinstance(spec, PositionEvent)
        actor = _IDENTIFIER.validate_python(actor)
        _REASON.validate_python(reason)
        field = spec.data.person_field
        if field is not None and data.get(field) is None:
            data[field] = actor
        event_data = spec.data.model_validate(data)
        refused = self._refusals(spec, event_data, requisition, actor)
        if refused:
            raise self._refused(requisition, event, refused)
        context = self._context(requisition, event, event_data, actor, reason)
        applied, dest, blockers = self._machine.run(event, status, context)
        if not applied:
            raise self._refused(requisition, event, blockers)
        updates: dict[str, Any] = {}
        record_data = event_data.model_dump(mode="json", exclude_defaults=True)
        if spec.effect is not None:
            change = spec.effect(context)
            if not _ENGINE_OWNS.isdisjoint(change.requisition):
                raise ValueError(f"the effect of {event!r} changes what only the engine writes")
            trial = requisition.model_copy()
            for name, value in change.requisition.items():
                setattr(trial, name, value)  # validated: a bad value raises, nothing changed
            updates = {name: trial.__dict__[name] for name in change.requisition}
            record_data.update(change.record_data)
        record = TransitionRecord(
            event=event,
            kind="activity" if spec.dest is None else "transition",
            from_stage=status.value,
            to_stage=dest,
            actor=actor,
            at=context.now,
            reason=reason,
            data=record_data,
            version=version + 1,
            policy=self.pipeline.policy.label,
        )
        with self._lock:
            if requisition.version != version or requisition.status is not status:
                raise self._changed(requisition, event, version, requisition.version)
            fields = requisition.__dict__
            fields.update(updates)
            fields["status"] = RequisitionStatus(dest)
            fields["version"] = version + 1
            fields["history"] = [*requisition.history, record]
            requisition.__pydantic_fields_set__.update({*updates, "status", "version", "history"})
        return record

    # -- helpers -----------------------------------------------------------------------------

    def _spec(
        self, requisition: Requisition, event: str, *, raising: bool
    ) -> PositionEvent | Blocker:
        spec = self.events.get(event) if isinstance(event, str) else None
        if spec is None:
            blocker = Blocker(
                "unknown_event",
                f"{event!r} is no event of a requisition's lifecycle: {', '.join(self.events)}",
                {"event": event},
            )
        elif requisition.status not in spec.sources:
            allowed = self.allowed(requisition)
            blocker = Blocker(
                "wrong_status",
                f"{event!r} cannot fire on a requisition that is {requisition.status.value}; "
                f"events from there: {', '.join(allowed) or 'none'}",
                {"status": requisition.status.value, "allowed": list(allowed)},
            )
        else:
            return spec
        if raising:
            raise PositionError(
                requisition_id=requisition.id,
                status=requisition.status.value,
                event=str(event),
                blockers=[blocker],
                allowed=self.allowed(requisition),
            )
        return blocker

    def _context(
        self,
        requisition: Requisition,
        event: str,
        data: EventData,
        actor: str,
        reason: str | None,
    ) -> PositionContext:
        return PositionContext(
            requisition,
            event,
            data,
            actor,
            reason,
            as_instant(self.pipeline.clock.now()),
            self.pipeline.policy.settings,
        )

    def _refusals(
        self, spec: PositionEvent, data: EventData, requisition: Requisition, actor: str
    ) -> list[Blocker]:
        def roles_of(person: str) -> Collection[str]:
            held = self.roles(person, requisition)
            if isinstance(held, str):
                raise TypeError(
                    f"the roles function returned the string {held!r} for {person!r}; "
                    "return a collection of role names"
                )
            return {*held, Role.system} if person == self.pipeline.system_actor else held

        return permission_blockers(
            self._permissions[spec.name],
            data,
            actor=actor,
            on_behalf_of=None,
            roles_of=roles_of,
            requisition=requisition,
        )

    def _refused(
        self, requisition: Requisition, event: str, blockers: Sequence[Blocker]
    ) -> PositionError:
        return PositionError(
            requisition_id=requisition.id,
            status=requisition.status.value,
            event=event,
            blockers=blockers,
            allowed=self.allowed(requisition),
        )

    def _changed(
        self, requisition: Requisition, event: str, expected: int, actual: int
    ) -> PositionError:
        return self._refused(
            requisition,
            event,
            [
                Blocker(
                    "requisition_changed",
                    f"requisition {requisition.id!r} changed while {event!r} was being applied "
                    f"(read version {expected}, found {actual}); reload it and try again",
                    {"expected": expected, "actual": actual},
                )
            ],
        )

    def __repr__(self) -> str:
        return f"Positions({self.pipeline.policy.label!r})"


def _partial(spec: PositionEvent, data: dict[str, Any]) -> tuple[EventData, list[Blocker]]:
    """Validate data for a query: required fields not given yet become blockers."""
    try:
        return spec.data.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors()
        if any(error["type"] != "missing" for error in errors):
            raise
    blockers = [
        Blocker(
            "data_missing",
            f"{spec.name!r} needs {error['loc'][0]}=...",
            {"field": str(error["loc"][0])},
            needs_input=True,
        )
        for error in errors
    ]
    return spec.data.model_construct(**data), blockers


_DECIDING: dict[str, dict[str, Any]] = {"record_approval": {"granted": True}}
"""The data asking whether an activity is available takes: an approval may be recorded."""


def _checks(event: PositionEvent) -> Callable[[PositionContext], list[Blocker]]:
    """The event's guards as one check: every blocker, in guard order."""
    guards = event.guards

    def check(context: PositionContext) -> list[Blocker]:
        return [blocker for guard in guards for blocker in guard(context)]

    return check
