"""Every exception hirepipe raises, in one shallow tree.

```text
HirepipeError
├── PolicyError              a policy definition that cannot work (lists every problem)
├── TransitionError          an event on an application could not happen
│   ├── TransitionNotAllowed     the event does not exist from the current stage
│   ├── GuardRejected            the event exists, but guards block it (carries the blockers)
│   └── ConcurrentUpdate         another writer changed the application first
├── PositionError            an event on a requisition's own lifecycle could not happen
├── RequisitionMismatch      the application belongs to another requisition
├── SlateError               a requisition-level request that cannot be met
├── NotificationError        a notification could not be made or delivered
│   ├── TemplateError            a template is missing, broken, or broke the sandbox
│   ├── DeliveryError            a sender failed; the outbox retries it with backoff
│   └── ClaimLost                a deliverer's claim ran out and another holds it now
├── SimulationError          a scenario the simulator cannot run, or a run its rules refused
├── CalendarError            bad input to the business-day calendar
├── EstimateError            bad input to the timeline estimator
└── StoreError               the durable store could not do what was asked
    ├── SchemaError              the tables are missing, older or newer than expected
    ├── NotStored                no application or requisition with that id
    ├── AlreadyStored            an application or requisition with that id exists
    └── CorruptData              stored rows cannot be read back (lists the problems)

ConcurrentUpdate
├── ConcurrentRequisitionUpdate  another writer changed the requisition first (store)
└── TransactionConflict          the database aborted a transaction in a conflict (store)
```

Input that fails a model's validation raises Pydantic's ``ValidationError`` instead, and an
argument of the wrong type (a dict where a Requisition belongs) ``TypeError``; nothing else
escapes the library. Every exception carries the data that explains it as attributes, and
its message says what to do next. A refused operation never changes any object.

This module imports nothing from hirepipe, so every layer can use it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

__all__ = [
    "AlreadyStored",
    "Blocker",
    "CalendarError",
    "ClaimLost",
    "ConcurrentRequisitionUpdate",
    "ConcurrentUpdate",
    "CorruptData",
    "DeliveryError",
    "EstimateError",
    "GuardRejected",
    "HirepipeError",
    "NotStored",
    "NotificationError",
    "PolicyError",
    "PolicyProblem",
    "PositionError",
    "Problem",
    "RequisitionMismatch",
    "SchemaError",
    "SimulationError",
    "SlateError",
    "StoreError",
    "TemplateError",
    "TransactionConflict",
    "TransitionError",
    "TransitionNotAllowed",
]


class _Facts(dict[str, Any]):
    """A read-only dict: the facts behind a blocker.

    A dict (not a ``MappingProxyType``) so that whatever serialises dicts serialises it:
    Pydantic, ``json``, ``dataclasses.asdict`` and FastAPI; every way to change it raises
    ``TypeError``. Copies and pickles are ``_Facts`` again.
    """

    __slots__ = ()

    def __new__(cls, *args: Any, **kwargs: Any) -> _Facts:
        facts = super().__new__(cls)
        dict.update(facts, *args, **kwargs)
        return facts

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Filled by ``__new__``: ``dict.__init__`` would fill it again, a change."""

    def _read_only(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("a blocker's data is read-only: build a new Blocker instead")

    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[type[_Facts], tuple[dict[str, Any]]]:
        return _Facts, (dict(self),)

    def __copy__(self) -> _Facts:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Facts:
        return _Facts(copy.deepcopy(dict(self), memo))


_EMPTY: Mapping[str, Any] = _Facts()


@dataclass(frozen=True, slots=True)
class Blocker:
    """One reason an event cannot fire now.

    ``code`` is stable (match on it in code and tests); ``message`` is for people
    ("2 of 4 scorecards missing: alice, bob"); ``data`` holds the facts behind the message,
    read-only (a copy of the mapping given). ``needs_input`` is true when the caller can clear
    the blocker by passing data to ``fire`` (a rejection reason, the offer terms) rather than
    by changing the application's state.

    Pydantic and FastAPI serialise a blocker as they serialise a dataclass (``data`` as a JSON
    object), and validate one from that form: ``TypeAdapter(Blocker).dump_python(blocker,
    mode="json")``, or a field ``blockers: list[Blocker]`` of a response model.
    """

    code: str
    message: str
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    needs_input: bool = False

    def __post_init__(self) -> None:
        if type(self.data) is not _Facts:
            object.__setattr__(self, "data", _Facts(self.data) if self.data else _EMPTY)

    def to_dict(self) -> dict[str, Any]:
        """Return the blocker as plain, JSON-ready data."""
        return {
            "code": self.code,
            "message": self.message,
            "data": dict(self.data),
            "needs_input": self.needs_input,
        }


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    """One problem in a policy definition: where it is and what to do about it."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def _refusal_schema(
    cls: type[Exception],
    handler: GetCoreSchemaHandler,
    fields: Mapping[str, Any],
    facts: Callable[[Any], dict[str, Any]],
) -> CoreSchema:
    """A Pydantic schema for an error that carries blockers: its message and its facts.

    ``fields`` are the constructor's keyword arguments and their types; ``facts`` gives them
    from an instance. Serialised as an object, ``message`` first; validated from that object
    (the message is made again from the facts), or as an instance.
    """
    from pydantic_core import core_schema

    def field_schemas() -> dict[str, core_schema.TypedDictField]:
        return {
            name: core_schema.typed_dict_field(handler.generate_schema(kind))
            for name, kind in fields.items()
        }

    arguments = core_schema.typed_dict_schema(field_schemas())
    built = core_schema.no_info_after_validator_function(lambda given: cls(**given), arguments)
    written = core_schema.typed_dict_schema(
        {"message": core_schema.typed_dict_field(core_schema.str_schema()), **field_schemas()}
    )
    return core_schema.json_or_python_schema(
        json_schema=built,
        python_schema=core_schema.union_schema([core_schema.is_instance_schema(cls), built]),
        serialization=core_schema.plain_serializer_function_ser_schema(
            lambda error: {"message": str(error), **facts(error)}, return_schema=written
        ),
    )


def _rebuilt(cls: type[HirepipeError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An error made again from its arguments and attributes, without calling ``__init__``."""
    error = cls.__new__(cls, *args)
    error.__dict__.update(state)
    return error


class HirepipeError(Exception):
    """The root of every error hirepipe raises on purpose.

    Every hirepipe error pickles and copies with its message and attributes (the blockers, the
    application's id, ...), whatever its constructor's arguments: an error raised in a worker
    process (a process pool's, a Dask worker's) reaches the caller as it was raised.
    """

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own way calls cls(*self.args): the message alone, which the keyword-only
        # constructors below refuse (and a positional one would take as its first field)
        return _rebuilt, (type(self), self.args, self.__dict__)


class PolicyError(HirepipeError):
    """A policy definition that cannot work; ``problems`` lists every problem found at once."""

    def __init__(self, problems: Sequence[PolicyProblem | str]) -> None:
        self.problems: tuple[PolicyProblem, ...] = tuple(
            p if isinstance(p, PolicyProblem) else PolicyProblem("policy", p) for p in problems
        )
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"the policy has {count} {noun}; fix each and load it again:\n{lines}")


class TransitionError(HirepipeError):
    """An event could not happen to an application; the application is unchanged."""

    def __init__(self, message: str, *, application_id: str, stage: str, event: str) -> None:
        self.application_id = application_id
        self.stage = stage
        self.event = event
        super().__init__(message)


class TransitionNotAllowed(TransitionError):
    """The event does not exist from the application's current stage (or at all).

    ``allowed`` names the events the policy defines from this stage. ``policy`` is set (to the
    policy's label) when the stage itself is not one the policy defines, and ``erased`` when
    the application's personal data was erased: no event fires on it then.
    """

    def __init__(
        self,
        *,
        application_id: str,
        stage: str,
        event: str,
        allowed: Sequence[str],
        known: bool,
        policy: str | None = None,
        erased: bool = False,
    ) -> None:
        self.allowed: tuple[str, ...] = tuple(allowed)
        self.known = known
        self.policy = policy
        self.erased = erased
        options = ", ".join(self.allowed) if self.allowed else "none: the stage is final"
        if erased:
            message = (
                f"application {application_id!r} was erased (its candidate's personal data "
                f"removed); it takes no more events, {event!r} included"
            )
        elif policy is not None:
            message = (
                f"application {application_id!r} is in stage {stage!r}, which policy "
                f"{policy!r} does not define, so no event fires on it ({event!r} included); "
                "use the policy that defines the stage"
            )
        elif known:
            message = (
                f"cannot {event!r} application {application_id!r} from stage {stage!r}; "
                f"events from {stage!r}: {options}"
            )
        else:
            message = (
                f"the policy has no event {event!r} (application {application_id!r}); "
                f"events from {stage!r}: {options}"
            )
        super().__init__(message, application_id=application_id, stage=stage, event=event)


class GuardRejected(TransitionError):
    """The event exists from this stage, but guards block it; ``blockers`` say why."""

    def __init__(
        self, *, application_id: str, stage: str, event: str, blockers: Sequence[Blocker]
    ) -> None:
        self.blockers: tuple[Blocker, ...] = tuple(blockers)
        reasons = "; ".join(f"{b.message} [{b.code}]" for b in self.blockers)
        super().__init__(
            f"cannot {event!r} application {application_id!r} in stage {stage!r}: {reasons}",
            application_id=application_id,
            stage=stage,
            event=event,
        )

    @property
    def codes(self) -> tuple[str, ...]:
        """The blockers' codes, in order."""
        return tuple(b.code for b in self.blockers)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Pydantic serialises the error as its message and facts, blockers included.

        ``{"message": ..., "application_id": ..., "stage": ..., "event": ..., "blockers":
        [...]}``; a field of this type in a response model shows the refusal as it is.
        """
        return _refusal_schema(
            cls,
            handler,
            {"application_id": str, "stage": str, "event": str, "blockers": tuple[Blocker, ...]},
            lambda error: {
                "application_id": error.application_id,
                "stage": error.stage,
                "event": error.event,
                "blockers": error.blockers,
            },
        )


class ConcurrentUpdate(TransitionError):
    """Another writer changed the application first (compare-and-set on its version failed).

    Reload the application and try again; ``expected`` is the version this writer read,
    ``actual`` the version it found.
    """

    def __init__(
        self, *, application_id: str, stage: str, event: str, expected: int, actual: int
    ) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"application {application_id!r} changed while {event!r} was being applied "
            f"(read version {expected}, found {actual}); reload it and try again",
            application_id=application_id,
            stage=stage,
            event=event,
        )


class PositionError(HirepipeError):
    """An event on a requisition's lifecycle could not happen; the requisition is unchanged.

    ``blockers`` say why, with stable codes: ``wrong_status`` (the event does not leave the
    requisition's status: ``allowed`` names those that do), ``unknown_event``,
    ``requisition_changed`` (another writer changed it first: reload it and try again), the
    permission codes (``not_permitted``, ``acting_for_another``) and each guard's own.
    """

    def __init__(
        self,
        *,
        requisition_id: str,
        status: str,
        event: str,
        blockers: Sequence[Blocker],
        allowed: Sequence[str] = (),
    ) -> None:
        self.requisition_id = requisition_id
        self.status = status
        self.event = event
        self.blockers: tuple[Blocker, ...] = tuple(blockers)
        self.allowed: tuple[str, ...] = tuple(allowed)
        reasons = "; ".join(f"{b.message} [{b.code}]" for b in self.blockers)
        super().__init__(f"cannot {event!r} requisition {requisition_id!r} ({status}): {reasons}")

    @property
    def codes(self) -> tuple[str, ...]:
        """The blockers' codes, in order."""
        return tuple(b.code for b in self.blockers)

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        """Pydantic serialises the error as its message and facts, blockers included."""
        return _refusal_schema(
            cls,
            handler,
            {
                "requisition_id": str,
                "status": str,
                "event": str,
                "blockers": tuple[Blocker, ...],
                "allowed": tuple[str, ...],
            },
            lambda error: {
                "requisition_id": error.requisition_id,
                "status": error.status,
                "event": error.event,
                "blockers": error.blockers,
                "allowed": error.allowed,
            },
        )


class RequisitionMismatch(HirepipeError):
    """The requisition passed with an application is not the one it belongs to."""

    def __init__(self, *, application_id: str, expected: str, given: str) -> None:
        self.application_id = application_id
        self.expected = expected
        self.given = given
        super().__init__(
            f"application {application_id!r} belongs to requisition {expected!r}, "
            f"not {given!r}; pass its own requisition"
        )


class SlateError(HirepipeError):
    """A requisition-level request that cannot be met: an unknown or duplicate application.

    ``requisition_id`` and ``application_id`` say which.
    """

    def __init__(self, message: str, *, requisition_id: str, application_id: str) -> None:
        self.requisition_id = requisition_id
        self.application_id = application_id
        super().__init__(message)


class NotificationError(HirepipeError):
    """A notification could not be made or delivered; the message says what to fix."""


class TemplateError(NotificationError):
    """A template is missing, broken, or tried what the sandbox forbids.

    ``template`` names the file; a template can read the facts it is given and nothing else.
    """

    def __init__(self, template: str, message: str) -> None:
        self.template = template
        super().__init__(f"template {template!r}: {message}")


class DeliveryError(NotificationError):
    """A sender could not deliver a notification; the outbox retries it with backoff.

    ``key`` is the notification's idempotency key; ``status`` the remote status code, if any.
    ``permanent`` says retrying cannot help (HTTP 400, 404, 410, 422; an SMTP 5xx refusing
    the message): the outbox fails the notification for good at once, with this reason.
    ``retry_after`` is how long the receiver asked to be left alone (HTTP ``Retry-After``);
    the outbox waits at least that long, up to its backoff's cap.
    """

    def __init__(
        self,
        key: str,
        message: str,
        *,
        status: int | None = None,
        permanent: bool = False,
        retry_after: timedelta | None = None,
    ) -> None:
        self.key = key
        self.status = status
        self.permanent = permanent
        self.retry_after = retry_after
        suffix = " (permanent: not retried)" if permanent else ""
        super().__init__(f"notification {key!r} not delivered: {message}{suffix}")


class ClaimLost(NotificationError):
    """A deliverer's claim on a notification no longer holds, so it may not record an outcome.

    Its lease ran out and another deliverer claimed the notification, or the notification
    was marked by hand meanwhile. Whoever holds it now records what happens; ``key`` names it.
    """

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(
            f"the claim on notification {key!r} no longer holds: its lease ran out and another "
            "deliverer claimed it, or it was marked by hand; leave it to whoever holds it now "
            "(a lease longer than a send avoids this)"
        )


class SimulationError(HirepipeError, ValueError):
    """A scenario the simulator cannot run with a policy, or a run the rules refused.

    ``run`` is the run's index when one run failed (None for a problem found up front).
    """

    def __init__(self, message: str, *, run: int | None = None) -> None:
        super().__init__(message)
        self.run = run


class CalendarError(HirepipeError, ValueError):
    """Bad input to the business-day calendar (unknown country, naive datetime, empty weekmask)."""


class EstimateError(HirepipeError, ValueError):
    """Bad input to the timeline estimator (unknown industry, impossible quantiles)."""


# -- the durable store (hirepipe.store) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing [`verify`][hirepipe.store.Store.verify] found wrong, and where.

    ``code`` is stable (``invalid_snapshot``, ``invalid_log_row``, ``log_gap``,
    ``replay_differs``, ``column_mismatch``, ``invalid_requisition``, ``invalid_notification``,
    ``hook_failed``...); ``message`` says what is wrong for people. ``application_id``,
    ``requisition_id``, ``key`` (a notification) and ``version`` (a log row) say where.
    """

    code: str
    message: str
    application_id: str | None = None
    requisition_id: str | None = None
    key: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        where = ", ".join(
            f"{name} {value!r}"
            for name, value in (
                ("application", self.application_id),
                ("requisition", self.requisition_id),
                ("notification", self.key),
                ("version", self.version),
            )
            if value is not None
        )
        return f"{self.code} ({where}): {self.message}" if where else f"{self.code}: {self.message}"


class StoreError(HirepipeError):
    """The durable store could not do what was asked; the message says what to do."""


class SchemaError(StoreError):
    """The database's tables are missing, older or newer than this hirepipe expects.

    ``found`` is the database's schema version (0: no hirepipe tables), ``expected`` this
    hirepipe's.
    """

    def __init__(self, message: str, *, found: int, expected: int) -> None:
        self.found = found
        self.expected = expected
        super().__init__(message)


class NotStored(StoreError, LookupError):
    """No application or requisition with this id in the store; ``kind`` says which."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        hint = (
            "store.add(application, requisition)"
            if kind == "application"
            else ("store.add_requisition(requisition), or pass it to store.add")
        )
        super().__init__(f"no {kind} {identifier!r} in the store; add it first with {hint}")


class AlreadyStored(StoreError):
    """An application or requisition with this id is in the store already."""

    def __init__(self, kind: str, identifier: str) -> None:
        self.kind = kind
        self.identifier = identifier
        what = "fire events on it" if kind == "application" else "update_requisition it"
        super().__init__(f"{kind} {identifier!r} is in the store already; load it and {what}")


class CorruptData(StoreError):
    """Stored rows cannot be read back (edited by hand, or written by a bug).

    ``problems`` lists what was found; [`verify`][hirepipe.store.Store.verify] reports the same
    for every application at once.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"stored data cannot be read back; repair or restore it:\n{lines}")


class ConcurrentRequisitionUpdate(ConcurrentUpdate):
    """Another writer changed the requisition first (two acceptances of its last headcount).

    A [`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate]: reload and try again. ``expected``
    and ``actual`` are the requisition's versions; ``requisition_id`` names it.
    """

    def __init__(
        self,
        *,
        application_id: str,
        requisition_id: str,
        stage: str,
        event: str,
        expected: int,
        actual: int,
    ) -> None:
        super().__init__(
            application_id=application_id,
            stage=stage,
            event=event,
            expected=expected,
            actual=actual,
        )
        self.requisition_id = requisition_id
        self.args: tuple[Any, ...] = (
            f"requisition {requisition_id!r} changed while {event!r} was being applied to "
            f"application {application_id!r} (read version {expected}, found {actual}); "
            "reload and try again",
        )


class TransactionConflict(ConcurrentUpdate):
    """The database aborted the transaction to end a conflict with another one; run it again.

    A deadlock (SQLSTATE ``40P01``) or a serialization failure (``40001``, under
    ``REPEATABLE READ`` or ``SERIALIZABLE``) on PostgreSQL: nothing the transaction did was
    written. A [`ConcurrentUpdate`][hirepipe.errors.ConcurrentUpdate], so a caller that
    retries on a lost race retries on this too. ``sqlstate`` says which conflict;
    ``application_id`` and ``event`` name the event the store was writing, and are empty when
    it wrote none (a requisition's update, a transaction of your own); no version was compared,
    so ``expected`` and ``actual`` are -1.
    """

    def __init__(self, *, sqlstate: str, application_id: str = "", event: str = "") -> None:
        super().__init__(
            application_id=application_id, stage="", event=event, expected=-1, actual=-1
        )
        self.sqlstate = sqlstate
        what = "deadlock" if sqlstate == "40P01" else "serialization failure"
        during = f" while storing {event!r} on application {application_id!r}" if event else ""
        self.args: tuple[Any, ...] = (
            f"the database aborted the transaction{during}: a {what} with another "
            f"transaction (SQLSTATE {sqlstate}); nothing was written: run it again",
        )
