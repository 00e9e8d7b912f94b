"""The facade: fire events on applications, ask what blocks them, and tell hooks.

```python
pipeline = Pipeline(standard_policy())
fired = pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
fired.record.to_stage  # "debrief"
pipeline.available(application, requisition=requisition, actor="cand-1")  # ["withdraw"]
```

The actor is the person acting; each event names the roles that may fire it, and the pipeline's
``roles`` resolver says who holds which (the requisition's hiring manager, its approvers, the
application's candidate...).

A transition is atomic: it applies in full (stage, history record, version + 1, the event's
changes) or raises and leaves the application, and the requisition, exactly as they were.
Hooks run after it applied; a hook that raises never undoes it, and the failure is kept for
[`Pipeline.retry_failed_hooks`][hirepipe.pipeline.Pipeline.retry_failed_hooks].
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol

import pendulum
from pydantic import BaseModel, TypeAdapter, ValidationError

from hirepipe._fork import renew_in_child
from hirepipe._machine import CompiledPolicy, evaluate
from hirepipe._redact import error_summary, name_of
from hirepipe.clock import Clock, SystemClock
from hirepipe.errors import (
    Blocker,
    ConcurrentUpdate,
    GuardRejected,
    PolicyError,
    PolicyProblem,
    RequisitionMismatch,
    TransitionNotAllowed,
)
from hirepipe.models import (
    IDENTIFIER_LENGTH,
    Application,
    Candidate,
    Identifier,
    Interview,
    Reason,
    Requisition,
    TransitionRecord,
    as_instant,
)
from hirepipe.policy import (
    PREVIOUS,
    SYSTEM_ACTOR,
    Context,
    EventData,
    EventSpec,
    Policy,
    Role,
    RoleResolver,
    requisition_roles,
)
from hirepipe.policy._permissions import (
    erasure_blockers,
    permission_blockers,
    permitted_as_themselves,
    permitted_by_fields,
)
from hirepipe.privacy import ERASE_EVENT, erased

__all__ = ["CreationFailure", "Fired", "Hook", "HookFailure", "Pipeline"]

_log = logging.getLogger("hirepipe")
_IDENTIFIER: TypeAdapter[str] = TypeAdapter(Identifier)
_REASON: TypeAdapter[str | None] = TypeAdapter(Reason | None)
# what only the engine writes: an effect that returns a change to one of these is refused
_ENGINE_OWNS = frozenset({"id", "history", "version", "stage", "created_at", "erased_at"})
_RECORD_DATA: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])
_ANYONE, _SYSTEM = Role.anyone, Role.system


class _Plan:
    """What ``apply`` needs of one event, looked up once per pipeline instead of per fire."""

    __slots__ = (
        "effect",
        "kind",
        "model",
        "open_to_all",
        "person_field",
        "serializer",
        "sources",
        "spec",
        "validator",
    )

    def __init__(self, spec: EventSpec, sources: frozenset[str]) -> None:
        self.spec = spec
        self.sources = sources
        self.model = model = spec.data_model
        # the model's own validator and serializer: what model_validate and model_dump call
        self.validator = model.__pydantic_validator__
        self.serializer = model.__pydantic_serializer__
        self.person_field = model.person_field
        self.open_to_all = _ANYONE in spec.fired_by and model.person_field is None
        self.effect = spec.effect
        self.kind: Literal["activity", "transition"] = (
            "activity" if spec.dest is None else "transition"
        )


class _Bound(NamedTuple):
    """A pipeline's policy with its compiled machine and its per-event table."""

    policy: Policy
    compiled: CompiledPolicy
    plans: dict[str, _Plan]


@dataclass(frozen=True, slots=True, init=False)
class Fired:
    """What a hook receives once an event applied: the record, and what it applied to."""

    record: TransitionRecord
    application: Application
    requisition: Requisition | None
    policy: Policy

    def __init__(
        self,
        record: TransitionRecord,
        application: Application,
        requisition: Requisition | None,
        policy: Policy,
    ) -> None:
        # written out: each slot set by its own descriptor, as object.__setattr__ (what the
        # frozen dataclass's own calls) checks its arguments each time, on every event
        _set_record(self, record)
        _set_application(self, application)
        _set_requisition(self, requisition)
        _set_policy(self, policy)

    def __repr__(self) -> str:
        # which event on which application: a repr ends up in logs and error trackers, and
        # the application's and the record's values may be personal
        record, requisition = self.record, self.requisition
        return (
            f"Fired(application={self.application.id!r}, event={record.event!r}, "
            f"version={record.version}, stage={record.to_stage!r}, "
            f"requisition={requisition.id if requisition is not None else None!r})"
        )


_set_record, _set_application, _set_requisition, _set_policy = (
    Fired.__dict__[name].__set__ for name in ("record", "application", "requisition", "policy")
)


class Hook(Protocol):
    """Any callable taking a [`Fired`][hirepipe.pipeline.Fired]; a class is never required.

    A hook that also has a ``created(application, requisition)`` method (the notifier has one)
    is told of every application
    [`Pipeline.new_application`][hirepipe.pipeline.Pipeline.new_application] makes.
    """

    def __call__(self, fired: Fired, /) -> None:
        """React to an applied event."""
        ...


@dataclass(frozen=True, slots=True)
class HookFailure:
    """A hook that raised, with the event it was given, kept until a retry succeeds."""

    hook: Hook
    fired: Fired
    error: BaseException

    def __repr__(self) -> str:
        # the hook by name and its error by class: their reprs may hold personal values
        return f"HookFailure({name_of(self.hook)}, {self.fired!r}, {error_summary(self.error)})"


@dataclass(frozen=True, slots=True)
class CreationFailure:
    """A hook's ``created`` that raised, with the new application, kept until a retry succeeds."""

    hook: Hook
    application: Application
    requisition: Requisition
    error: BaseException

    def __repr__(self) -> str:
        return (
            f"CreationFailure({name_of(self.hook)}, application={self.application.id!r}, "
            f"{error_summary(self.error)})"
        )


class Pipeline:
    """Fires a policy's events on applications.

    ``clock`` supplies every timestamp (the wall clock in UTC by default); ``hooks`` are called,
    in order, with a [`Fired`][hirepipe.pipeline.Fired] after every applied event.

    ``roles`` says which roles an actor holds on an application: a
    [`RoleResolver`][hirepipe.policy.RoleResolver] mapping the host's users and groups to the roles
    events are granted to (default: [`requisition_roles`][hirepipe.policy.requisition_roles], the
    requisition's and the application's fields). ``system_actor`` is the name the slate's
    fills, fall-throughs and sweeps fire as; it holds the ``system`` role, whatever ``roles``
    says. Choose a name none of your users can have.
    """

    def __init__(
        self,
        policy: Policy | None = None,
        *,
        clock: Clock | None = None,
        hooks: Iterable[Hook] = (),
        roles: RoleResolver | None = None,
        system_actor: str = SYSTEM_ACTOR,
    ) -> None:
        if policy is None:
            from hirepipe.standard import standard_policy

            policy = standard_policy()
        self.policy = policy  # compiles it
        self.clock: Clock = clock if clock is not None else SystemClock()
        self.hooks: list[Hook] = list(hooks)
        self.roles: RoleResolver = roles if roles is not None else requisition_roles
        self.system_actor: str = _IDENTIFIER.validate_python(system_actor)
        self._empty: dict[type[EventData], EventData] = {}
        self._failures: list[HookFailure] = []
        self._creation_failures: list[CreationFailure] = []
        self._commit_lock = threading.Lock()
        renew_in_child(self, held="_commit_lock")  # a child sees no commit half done

    def _after_fork(self) -> None:
        # a forked child's copy may be held for good by a thread of its parent mid-commit
        self._commit_lock = threading.Lock()

    @property
    def policy(self) -> Policy:
        """The policy events fire by; a policy given later is compiled and used from then on."""
        return self._bound.policy

    @policy.setter
    def policy(self, policy: Policy) -> None:
        compiled = CompiledPolicy(policy)
        plans = {
            name: _Plan(spec, frozenset(policy.sources(name)))
            for name, spec in policy.events.items()
        }
        # each event's lookups, made once per policy instead of once per fire
        # one attribute: a fire reads the policy, its machine and its table together
        self._bound = _Bound(policy, compiled, plans)

    # -- creating ----------------------------------------------------------------------------

    def new_application(
        self,
        candidate: Candidate,
        requisition: Requisition,
        *,
        interviewers: Sequence[str] = (),
        held_at: pendulum.DateTime | None = None,
        application_id: str | None = None,
    ) -> Application:
        """Return a new application in the policy's initial stage, round 1; tell the hooks.

        ``interviewers`` and ``held_at`` (default: now) describe the round 1 interview. Every
        hook with a ``created`` method is called with the application and requisition (the
        notifier queues the confirmation and round 1's thank-you); one that raises never undoes
        the creation and is kept for
        [`retry_failed_hooks`][hirepipe.pipeline.Pipeline.retry_failed_hooks].
        """
        application = Application(
            id=application_id or uuid.uuid4().hex,
            candidate=candidate,
            requisition_id=requisition.id,
            stage=self.policy.initial,
            created_at=self.clock.now(),
            interviews=(
                Interview(
                    round=1, interviewers=list(interviewers), held_at=held_at or self.clock.now()
                ),
            ),
        )
        for hook in self.hooks:
            self._call_created(hook, application, requisition)
        return application

    # -- firing ------------------------------------------------------------------------------

    def fire(
        self,
        application: Application,
        event: str,
        *,
        actor: str,
        requisition: Requisition | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
        on_behalf_of: str | None = None,
        **data: Any,
    ) -> Fired:
        """Apply ``event`` to ``application``, then tell the hooks; return what was applied.

        [`apply`][hirepipe.pipeline.Pipeline.apply] with the same arguments, then every hook in
        order with the returned [`Fired`][hirepipe.pipeline.Fired] (``fired.record`` is the
        record appended to the history). A hook that raises never undoes the event: the failure
        is kept for [`retry_failed_hooks`][hirepipe.pipeline.Pipeline.retry_failed_hooks].
        """
        if getattr(self.apply, "__func__", None) is _APPLY:
            # the arguments as they are: passing them on as keywords costs 0.5 us a fire
            # (not `"apply" in self.__dict__`: reading __dict__ slows every self.attribute)
            fired = self._apply(
                application, event, actor, requisition, reason, expected_version, on_behalf_of, data
            )
        else:  # a subclass's own apply, or one set on this pipeline
            fired = self.apply(
                application,
                event,
                actor=actor,
                requisition=requisition,
                reason=reason,
                expected_version=expected_version,
                on_behalf_of=on_behalf_of,
                **data,
            )
        if self.hooks:
            self._call_hooks(fired)
        return fired

    def apply(
        self,
        application: Application,
        event: str,
        *,
        actor: str,
        requisition: Requisition | None = None,
        reason: str | None = None,
        expected_version: int | None = None,
        on_behalf_of: str | None = None,
        **data: Any,
    ) -> Fired:
        """Apply ``event`` to ``application`` without calling hooks; return what was applied.

        The returned [`Fired`][hirepipe.pipeline.Fired] holds the record appended to the
        history, the application and requisition it applied to, and the policy. A caller that
        commits elsewhere first (the store, in its transaction) calls the hooks itself.

        ``data`` is validated by the event's data model (a Pydantic ``ValidationError`` when it
        does not fit). Pass ``requisition`` for events whose guards look at it (headcount,
        approvers, the budget) and whenever ``actor`` acts as its hiring manager, recruiter or
        approver; ``reason`` for rejections, holds and reopenings; and ``expected_version`` to
        compare-and-set on the version read earlier.

        ``actor`` is the person acting, and must hold a role the event is fired by
        (``EventSpec.fired_by``). ``on_behalf_of`` names the person the actor acts for, where
        the policy allows it (``EventSpec.on_behalf``); the record keeps both, the person as
        ``record.data["on_behalf_of"]``.

        Raises [`TransitionNotAllowed`][hirepipe.errors.TransitionNotAllowed] if the event does
        not exist from the stage, [`GuardRejected`][hirepipe.errors.GuardRejected] with every
        blocker if guards refuse it or the actor may not fire it (``not_permitted``,
        ``acting_for_another``, ...), [`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate] if
        the version moved, and [`RequisitionMismatch`][hirepipe.errors.RequisitionMismatch] for
        another requisition's application; ``TypeError`` for an ``application`` or a
        ``requisition`` of another type (a dict) or an ``expected_version`` that is not an int.
        Any error leaves everything unchanged.
        """
        return self._apply(
            application, event, actor, requisition, reason, expected_version, on_behalf_of, data
        )

    def _apply(
        self,
        application: Application,
        event: str,
        actor: str,
        requisition: Requisition | None,
        reason: str | None,
        expected_version: int | None,
        on_behalf_of: str | None,
        data: dict[str, Any],
    ) -> Fired:
        """[`apply`][hirepipe.pipeline.Pipeline.apply] with its arguments as they came."""
        if not isinstance(application, Application):
            raise TypeError(
                f"application must be an Application, not {type(application).__name__}; "
                "build one with Pipeline.new_application or Application.model_validate(data)"
            )
        # the fields read from the model's dict: on Python 3.11 each attribute read of a
        # pydantic model takes the slow path (BaseModel has __getattr__), a dict index does not
        fields = application.__dict__
        try:
            stage_before = fields["stage"]
            version = fields["version"]
            erased_at = fields["erased_at"]
            requisition_id = fields["requisition_id"]
        except KeyError as missing:  # built by model_construct without its fields
            raise TypeError(
                f"application has no {missing.args[0]!r}: it was built without validation "
                "(model_construct); build it with Application.model_validate(data)"
            ) from None
        if requisition is not None and not isinstance(requisition, Requisition):
            raise _not_a_requisition(requisition)
        if expected_version is not None:
            _check_expected_version(expected_version)
            if expected_version != version:
                # a stale writer hears that first, not that its event no longer fits the stage
                raise ConcurrentUpdate(
                    application_id=application.id,
                    stage=stage_before,
                    event=event,
                    expected=expected_version,
                    actual=version,
                )
        if erased_at is not None:
            self._check_open(application, event)
        bound = self._bound
        plan = bound.plans.get(event) if event.__class__ is str else None
        if plan is None or stage_before not in plan.sources:
            self._spec(application, event)  # raises with the allowed events
            # it fits the stage another thread's commit moved the application to meanwhile
            self._unmoved(application, version, event, stage_before)
            raise AssertionError("a stage changed without its version")  # pragma: no cover
        spec = plan.spec
        if requisition is not None and requisition.__dict__["id"] != requisition_id:
            self._check_requisition(application, requisition, spec)
        if not (
            actor.__class__ is str
            and 0 < len(actor) <= IDENTIFIER_LENGTH
            and actor.isprintable()
            and actor[0] != " "
            and actor[-1] != " "
        ):
            actor = _IDENTIFIER.validate_python(actor)  # raises, or returns it stripped
        if reason is not None:
            _REASON.validate_python(reason)
        if on_behalf_of is not None:
            on_behalf_of = self._on_behalf(actor, on_behalf_of)
        field = plan.person_field
        if field is not None and data.get(field) is None:
            data[field] = actor if on_behalf_of is None else on_behalf_of
        event_data = plan.validator.validate_python(data) if data else self._data(spec, data)
        if plan.open_to_all and on_behalf_of is None:
            refused: list[Blocker] = []  # open to all: nobody's roles need resolving
        else:
            refused = self._refusals(
                spec, event_data, application, requisition, actor, on_behalf_of
            )
        if refused:
            self._unmoved(application, version, event, stage_before)
            raise GuardRejected(
                application_id=application.id,
                stage=stage_before,
                event=event,
                blockers=refused,
            )
        # the requisition as the guards will see it: committed only if nobody changed it since;
        # read after the roles function, which may assign it (its own bookkeeping)
        seen = dict(requisition.__dict__) if requisition is not None else None
        context = Context(
            application,
            requisition,
            event,
            event_data,
            actor,
            reason,
            as_instant(self.clock.now()),
            bound.policy,
        )
        # the stage as read and checked above: another thread may commit meanwhile
        applied, stage, blockers = bound.compiled.run(context, stage_before)
        if not applied:
            self._unmoved(application, version, event, stage_before)
            raise GuardRejected(
                application_id=application.id,
                stage=stage_before,
                event=event,
                blockers=blockers or [self._resume_blocker(application)],
            )
        effect = plan.effect
        record_data = (
            plan.serializer.to_python(event_data, mode="json", exclude_defaults=True)
            if data
            else {}
        )
        app_updates: Mapping[str, Any] = {}
        req_updates: Mapping[str, Any] = {}
        if effect is not None:
            try:
                change = effect.apply(context)
            except Exception:
                self._unmoved(application, version, event, stage_before)
                raise
            app_updates, req_updates = change.application, change.requisition
            if not _ENGINE_OWNS.isdisjoint(app_updates) or (req_updates and "id" in req_updates):
                raise _forged(event, effect.name, app_updates, req_updates)
            if req_updates and requisition is None:
                raise GuardRejected(
                    application_id=application.id,
                    stage=stage_before,
                    event=event,
                    blockers=[
                        Blocker(
                            "requisition_required",
                            f"{event!r} changes the requisition: pass it (requisition=...)",
                            needs_input=True,
                        )
                    ],
                )
            if not effect.trusted:
                app_updates = _validated(application, app_updates)
                req_updates = _validated(requisition, req_updates) if requisition else {}
            if change.record_data:
                derived = change.record_data
                if not effect.trusted:
                    derived = _RECORD_DATA.dump_python(dict(derived), mode="json")
                record_data.update(derived)
        if on_behalf_of is not None:
            record_data["on_behalf_of"] = on_behalf_of  # last: no effect can rewrite who
        record = TransitionRecord.trusted(
            event,
            plan.kind,
            stage_before,
            stage,
            actor,
            context.now,
            reason,
            record_data,
            version + 1,
            bound.policy.label,
        )
        with self._commit_lock:
            # read again: an assignment (validated) gives the model a new dict
            fields = application.__dict__
            if fields["version"] != version:
                raise ConcurrentUpdate(
                    application_id=application.id,
                    stage=stage_before,
                    event=event,
                    expected=version,
                    actual=fields["version"],
                )
            if req_updates and requisition is not None and requisition.__dict__ != seen:
                # another event changed the requisition (filled it, say) under our guards
                raise ConcurrentUpdate(
                    application_id=application.id,
                    stage=stage_before,
                    event=event,
                    expected=version,
                    actual=application.version,
                )
            # plain writes of validated values: nothing below can fail half-way
            if app_updates:
                _commit(application, app_updates, fields)
            fields["stage"] = stage
            fields["version"] = version + 1
            fields["history"].append(record)
            if req_updates and requisition is not None:
                _commit(requisition, req_updates)
        return Fired(record, application, requisition, bound.policy)

    def erase(
        self,
        application: Application,
        *,
        actor: str,
        reason: str | None = None,
        requisition: Requisition | None = None,
    ) -> TransitionRecord:
        """Erase the candidate's personal data from an ended application; return the record.

        Every personal value ([`hirepipe.privacy`][hirepipe.privacy]) in the application and its
        history is replaced by [`ERASED`][hirepipe.models.ERASED]; the lifecycle facts stay. An
        activity record (event ``@erase``, by ``actor``, with ``reason``) says when and by whom,
        and ``erased_at`` is set: no event fires on the application afterwards. No hook is
        called; the failed hook calls kept for it
        ([`hook_failures`][hirepipe.pipeline.Pipeline.hook_failures],
        [`creation_failures`][hirepipe.pipeline.Pipeline.creation_failures]) are dropped. Erase
        the notifications about it too (``outbox.erase(application.id)``).

        Only the roles the policy's
        [`erased_by`][hirepipe.policy.PolicySettings.erased_by] names may erase (by default
        the requisition's recruiter and hiring manager, and the system actor): pass the
        application's ``requisition`` so that their roles can be told.

        Raises what [`erasure`][hirepipe.pipeline.Pipeline.erasure] raises; any error leaves the
        application unchanged.
        """
        record = self.erasure(application, actor=actor, reason=reason, requisition=requisition)
        cleared = erased(application, self.policy)
        values = {
            **cleared.__dict__,
            "erased_at": record.at,
            "version": record.version,
            "history": [*cleared.history, record],
        }
        with self._commit_lock:
            if application.version != record.version - 1:
                raise ConcurrentUpdate(
                    application_id=application.id,
                    stage=record.from_stage,
                    event=ERASE_EVENT,
                    expected=record.version - 1,
                    actual=application.version,
                )
            _commit(application, values)
            # a failed hook kept for a retry holds the application as it was, and its error
            # may quote it: a retry would send what was just erased
            self._failures = [f for f in self._failures if f.fired.application.id != application.id]
            self._creation_failures = [
                f for f in self._creation_failures if f.application.id != application.id
            ]
        return record

    def erasure(
        self,
        application: Application,
        *,
        actor: str,
        reason: str | None = None,
        requisition: Requisition | None = None,
    ) -> TransitionRecord:
        """Return the record erasing ``application`` now would append; change nothing.

        Raises [`GuardRejected`][hirepipe.errors.GuardRejected] when ``actor`` may not erase
        (``not_permitted``; ``requisition_required`` when their role is read from a requisition
        not given: see [`PolicySettings.erased_by`][hirepipe.policy.PolicySettings.erased_by]),
        and (``not_ended``) unless its stage is terminal: end the application first (withdraw
        or reject it). Raises [`TransitionNotAllowed`][hirepipe.errors.TransitionNotAllowed] for
        an application erased already or in a stage the policy lacks,
        [`RequisitionMismatch`][hirepipe.errors.RequisitionMismatch] for another application's
        requisition, and a ValidationError for a bad ``actor`` or ``reason``.
        """
        actor = _IDENTIFIER.validate_python(actor)
        if reason is not None:
            _REASON.validate_python(reason)
        self._check_open(application, ERASE_EVENT)
        stage = application.stage
        if requisition is not None:
            if not isinstance(requisition, Requisition):
                raise _not_a_requisition(requisition)
            if requisition.id != application.requisition_id:
                raise RequisitionMismatch(
                    application_id=application.id,
                    expected=application.requisition_id,
                    given=requisition.id,
                )

        refused = erasure_blockers(
            self.policy.settings.erased_by,
            event=ERASE_EVENT,
            application_id=application.id,
            actor=actor,
            roles_of=self._roles_of(application, requisition),
            requisition=requisition,
        )
        if refused:
            raise GuardRejected(
                application_id=application.id, stage=stage, event=ERASE_EVENT, blockers=refused
            )
        if not self.policy.is_terminal(stage):
            raise GuardRejected(
                application_id=application.id,
                stage=stage,
                event=ERASE_EVENT,
                blockers=[
                    Blocker(
                        "not_ended",
                        f"application {application.id!r} is in stage {stage!r}, which has not "
                        "ended: end it first (withdraw or reject it), then erase it",
                        {"stage": stage},
                    )
                ],
            )
        return TransitionRecord.trusted(
            event=ERASE_EVENT,
            kind="activity",
            from_stage=stage,
            to_stage=stage,
            actor=actor,
            at=as_instant(self.clock.now()),
            reason=reason,
            data={},
            version=application.version + 1,
            policy=self.policy.label,
        )

    def blockers(
        self,
        application: Application,
        event: str,
        *,
        requisition: Requisition | None = None,
        reason: str | None = None,
        actor: str | None = None,
        on_behalf_of: str | None = None,
        **data: Any,
    ) -> list[Blocker]:
        """Return why ``event`` cannot fire now with this data; empty when it can.

        Required data not given yet, and an ``actor`` that a guard needs, come back as blockers
        with ``needs_input`` set. With ``actor`` (and ``on_behalf_of``), the answer is for that
        person, as [`fire`][hirepipe.pipeline.Pipeline.fire] would give it: when they may not
        fire the event, only the reasons why (``not_permitted``, or ``requisition_required``
        when their role is read from a requisition not given); without, for whoever may fire it.

        An event that exists but not from the current stage gives one ``wrong_stage`` blocker;
        an event the policy does not define raises
        [`TransitionNotAllowed`][hirepipe.errors.TransitionNotAllowed].
        """
        self._check_open(application, event)
        spec = self._known(application, event)
        if requisition is not None and not isinstance(requisition, Requisition):
            raise _not_a_requisition(requisition)
        if application.stage not in self.policy.sources(event):
            allowed = self._allowed(application.stage)
            return [
                Blocker(
                    "wrong_stage",
                    f"{event!r} cannot fire from stage {application.stage!r}; "
                    f"events from there: {', '.join(allowed) or 'none'}",
                    {"stage": application.stage, "allowed": list(allowed)},
                )
            ]
        if requisition is not None and not spec.retarget:
            self._check_requisition(application, requisition, spec)
        if actor is not None:
            actor = _IDENTIFIER.validate_python(actor)
            if on_behalf_of is not None:
                on_behalf_of = self._on_behalf(actor, on_behalf_of)
            field = spec.data_model.person_field
            if field is not None and data.get(field) is None:
                data[field] = actor if on_behalf_of is None else on_behalf_of
        event_data, missing = self._partial_data(spec, data)
        if actor is not None:
            refused = self._refusals(
                spec, event_data, application, requisition, actor, on_behalf_of
            )
            if refused:
                return refused  # as fire says it; the guards are for those who may fire
        context = Context(
            application=application,
            requisition=requisition,
            event=event,
            data=event_data,
            actor=actor,
            reason=reason,
            now=as_instant(self.clock.now()),
            policy=self.policy,
        )
        found = missing + evaluate(spec.guards, context)
        if spec.dest == PREVIOUS and application.held_from is None:
            found.insert(0, self._resume_blocker(application))
        return found

    def available(
        self,
        application: Application,
        *,
        requisition: Requisition | None = None,
        activities: bool = False,
        actor: str | None = None,
    ) -> list[str]:
        """Return the events that can fire now, given the data each needs.

        Blockers that the caller clears by passing data (``needs_input``) do not count.
        Activities are left out unless ``activities`` is true. With ``actor``, only the events
        that person may fire (as themselves) are listed. Raises
        [`TransitionNotAllowed`][hirepipe.errors.TransitionNotAllowed] for an application in a
        stage the policy does not define or an erased one: no event fires on those.
        """
        self._check_open(application, "")
        names = []
        for name in self._allowed(application.stage):
            spec = self.policy.events[name]
            if spec.is_activity and not activities:
                continue
            blockers = self.blockers(application, name, requisition=requisition, actor=actor)
            if all(b.needs_input for b in blockers):
                names.append(name)
        return names

    # -- hooks -------------------------------------------------------------------------------

    @property
    def hook_failures(self) -> tuple[HookFailure, ...]:
        """Hook calls that raised and have not succeeded on a retry yet."""
        return tuple(self._failures)

    @property
    def creation_failures(self) -> tuple[CreationFailure, ...]:
        """Hooks told of a new application that raised and have not succeeded on a retry yet."""
        return tuple(self._creation_failures)

    def retry_failed_hooks(self) -> int:
        """Call every failed hook again (events and creations); return how many still fail."""
        with self._commit_lock:
            pending, self._failures = self._failures, []
            creations, self._creation_failures = self._creation_failures, []
        for failure in pending:
            self._call_hook(failure.hook, failure.fired)
        for creation in creations:
            self._call_created(creation.hook, creation.application, creation.requisition)
        return len(self._failures) + len(self._creation_failures)

    def _call_created(self, hook: Hook, application: Application, requisition: Requisition) -> None:
        created = getattr(hook, "created", None)
        if created is None:
            return
        try:
            created(application, requisition)
        except Exception as exc:  # a hook never undoes a creation
            # no traceback: its last line is the error's message, which may quote personal
            # data; the error itself is kept where the host asks for it
            _log.error(
                "hook %s failed on the creation of application %s (%s); kept for retry "
                "(pipeline.creation_failures holds the error)",
                name_of(hook),
                application.id,
                error_summary(exc),
            )
            with self._commit_lock:
                self._creation_failures.append(
                    CreationFailure(
                        hook,
                        application.model_copy(deep=True),
                        requisition.model_copy(deep=True),
                        exc,
                    )
                )

    def _call_hooks(self, fired: Fired) -> None:
        for hook in self.hooks:
            self._call_hook(hook, fired)

    def _call_hook(self, hook: Hook, fired: Fired) -> None:
        try:
            hook(fired)
        except Exception as exc:  # a hook never undoes an applied event
            # no traceback: its last line is the error's message, which may quote personal
            # data (an SMTP error repeats the address); the error is in hook_failures
            _log.error(
                "hook %s failed on %s of application %s (%s); kept for retry "
                "(pipeline.hook_failures holds the error)",
                name_of(hook),
                fired.record.event,
                fired.application.id,
                error_summary(exc),
            )
            # a retry must see the application as the event left it, not as it is by then
            kept = Fired(
                fired.record,
                fired.application.model_copy(deep=True),
                fired.requisition.model_copy(deep=True) if fired.requisition else None,
                fired.policy,
            )
            with self._commit_lock:
                self._failures.append(HookFailure(hook, kept, exc))

    # -- helpers -----------------------------------------------------------------------------

    def _unmoved(self, application: Application, version: int, event: str, stage: str) -> None:
        """Raise ConcurrentUpdate if another event committed since ``version`` was read.

        A refusal reached on an application that changed meanwhile judged a state the caller
        never read (guards may even have seen a commit half-way): the caller must reload. The
        lock is held through every commit, so what is seen here is before or after one.
        """
        with self._commit_lock:
            actual = application.version
        if actual != version:
            raise ConcurrentUpdate(
                application_id=application.id,
                stage=stage,
                event=event,
                expected=version,
                actual=actual,
            )

    def _on_behalf(self, actor: str, on_behalf_of: str) -> str | None:
        """The person acted for, validated; ``None`` when the actor names themselves."""
        person = _IDENTIFIER.validate_python(on_behalf_of)
        return None if person == actor else person

    def _refusals(
        self,
        spec: EventSpec,
        data: EventData,
        application: Application,
        requisition: Requisition | None,
        actor: str,
        on_behalf_of: str | None,
    ) -> list[Blocker]:
        """Why ``actor`` (for ``on_behalf_of``) may not fire ``spec``; empty when they may."""
        if on_behalf_of is None:
            if data.person_field is None and _ANYONE in spec.fired_by:
                return []  # open to all: nobody's roles need resolving
            if self.roles is requisition_roles and permitted_by_fields(
                spec, data, actor, application, requisition, self.system_actor
            ):
                return []  # the common case: asked only for the roles the event is fired by

        roles_of = self._roles_of(application, requisition)
        if on_behalf_of is None and permitted_as_themselves(spec, data, actor, roles_of):
            return []  # the common case, without building the explanation
        return permission_blockers(
            spec,
            data,
            actor=actor,
            on_behalf_of=on_behalf_of,
            roles_of=roles_of,
            requisition=requisition,
        )

    def _roles_of(
        self, application: Application, requisition: Requisition | None
    ) -> Callable[[str], Collection[str]]:
        """The roles each person holds on ``application``, asked of the roles function once.

        With ``system`` for the pipeline's system actor; a string returned is refused.
        """
        known: dict[str, Collection[str]] = {}

        def roles_of(person: str) -> Collection[str]:
            held = known.get(person)
            if held is not None:
                return held
            held = self.roles(person, application, requisition)
            if isinstance(held, str):  # "recruiter" would hold every role it contains
                raise TypeError(
                    f"the roles function returned the string {held!r} for {person!r}; "
                    "return a collection of role names, such as {'recruiter'}"
                )
            held = known[person] = {*held, _SYSTEM} if person == self.system_actor else held
            return held

        return roles_of

    def _allowed(self, stage: str) -> tuple[str, ...]:
        return self.policy.events_from(stage)

    def _known(self, application: Application, event: str) -> EventSpec:
        spec = self.policy.events.get(event) if isinstance(event, str) else None
        if spec is None:
            raise TransitionNotAllowed(
                application_id=application.id,
                stage=application.stage,
                event=event,
                allowed=self._allowed(application.stage),
                known=False,
            )
        return spec

    def _check_open(self, application: Application, event: str) -> None:
        """Raise unless events may fire on the application: a stage of the policy, not erased."""
        erased = application.erased_at is not None
        if erased or application.stage not in self.policy.stages:
            raise TransitionNotAllowed(
                application_id=application.id,
                stage=application.stage,
                event=event,
                allowed=(),
                known=event in self.policy.events,
                policy=None if erased else self.policy.label,
                erased=erased,
            )

    def _spec(self, application: Application, event: str) -> EventSpec:
        self._check_open(application, event)
        spec = self._known(application, event)
        if event not in self._allowed(application.stage):
            raise TransitionNotAllowed(
                application_id=application.id,
                stage=application.stage,
                event=event,
                allowed=self._allowed(application.stage),
                known=True,
            )
        return spec

    @staticmethod
    def _check_requisition(
        application: Application, requisition: Requisition | None, spec: EventSpec
    ) -> None:
        if (
            requisition is not None
            and not spec.retarget
            and requisition.id != application.requisition_id
        ):
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given=requisition.id,
            )

    def _data(self, spec: EventSpec, data: dict[str, Any]) -> EventData:
        model = spec.data_model
        if data:
            return model.model_validate(data)
        empty = self._empty.get(model)
        if empty is None:
            empty = model.model_validate({})
            self._empty[model] = empty
        return empty

    def _partial_data(
        self, spec: EventSpec, data: dict[str, Any]
    ) -> tuple[EventData, list[Blocker]]:
        """Validate data for a query: required fields not given yet become blockers."""
        try:
            return self._data(spec, data), []
        except ValidationError as exc:
            errors = exc.errors()
            if any(error["type"] != "missing" for error in errors):
                raise
        fields = [str(error["loc"][0]) for error in errors]
        blockers = [
            Blocker(
                "data_missing",
                f"{spec.name!r} needs {name}=...",
                {"field": name},
                needs_input=True,
            )
            for name in fields
        ]
        return spec.data_model.model_construct(**data), blockers

    @staticmethod
    def _resume_blocker(application: Application) -> Blocker:
        return Blocker(
            "hold_origin_unknown",
            f"application {application.id!r} has no record of the stage it was held from",
            {"held_from": application.held_from},
        )

    def __repr__(self) -> str:
        return f"Pipeline({self.policy!r}, clock={self.clock!r}, hooks={len(self.hooks)})"


_APPLY = Pipeline.apply


def _check_expected_version(expected_version: object) -> None:
    """Raise TypeError unless ``expected_version`` is None or an int (``True`` is no version)."""
    if expected_version is not None and expected_version.__class__ is not int:
        raise TypeError(
            "expected_version must be an int (the version read earlier), not "
            f"{type(expected_version).__name__} {expected_version!r}"
        )


def _not_a_requisition(given: object) -> TypeError:
    return TypeError(
        f"requisition must be a Requisition, not {type(given).__name__}; build one with "
        "Requisition(...) or Requisition.model_validate(data) and keep it: events change it"
    )


def _forged(
    event: str, effect: str, app_updates: Mapping[str, Any], req_updates: Mapping[str, Any]
) -> PolicyError:
    """The error for an effect that tried to change what only the engine writes."""
    owned = sorted(_ENGINE_OWNS.intersection(app_updates))
    what = (
        f"changes {', '.join(owned)}; only the engine writes "
        "id, history, version, stage, created_at and erased_at"
        if owned
        else "changes the requisition's id; a requisition keeps its id"
    )
    return PolicyError(
        [
            PolicyProblem(
                f"events.{event}.effect",
                f"effect {effect!r} of event {event!r} {what}: return a Change without them "
                "(nothing was applied)",
            )
        ]
    )


def _validated(model: BaseModel, updates: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``updates`` against ``model``'s fields on a copy; return the validated values."""
    if not updates:
        return {}
    trial = model.model_copy()
    for name, value in updates.items():
        setattr(trial, name, value)
    return {name: trial.__dict__[name] for name in updates}


def _commit(
    model: BaseModel, values: Mapping[str, Any], fields: dict[str, Any] | None = None
) -> None:
    """Write already-validated values in one step; nothing here can fail half-way.

    ``fields`` is the model's ``__dict__`` when the caller holds it already (a read less).
    """
    (model.__dict__ if fields is None else fields).update(values)
    model.__pydantic_fields_set__.update(values.keys())
