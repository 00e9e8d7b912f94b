"""The facts a template renders: JSON-ready data captured from one scene, built on demand.

A [`Scene`][hirepipe.notify.Scene] is what a notification is about: the application, its
requisition, the record or deadline that triggered it, the recipient, and the time. Each fact
(``candidate``, ``job``, ``offer``, ``estimate``...) is built by one small function from the
scene, and only when the template names it
([`hirepipe.notify.Templates.needs`][hirepipe.notify.Templates.needs]).

Facts are built lazily (``LazyFacts``): the notifier keeps a snapshot of the application
and the requisition as they were at the event (two shallow copies, a few microseconds), and the
facts, the estimate included, are built from it when the notification is first rendered or
written as JSON. The result is the one an eager build would give, so long as the providers
answer from the data they are given.

Instants are ISO 8601 strings with their UTC offset (the ``date`` and ``datetime`` filters show
them in the requisition's zone, ``job.time_zone``), amounts decimal strings, so the facts survive
JSON and render the same later. The ``locale`` fact, always built, is the reader's
(``locale_of``): the filters write amounts and dates the way it reads them.
"""

from __future__ import annotations

import datetime as _dt
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pendulum

from hirepipe._types import withheld_repr
from hirepipe.errors import HirepipeError
from hirepipe.models import ERASED, Application, Candidate, Offer, Requisition, TransitionRecord
from hirepipe.notify._model import NotificationError, OpenRole, Outlook
from hirepipe.policy import Policy
from hirepipe.timeline.deadlines import Deadline

__all__ = [
    "EstimateProvider",
    "FactBuilder",
    "LazyFacts",
    "OpenRolesProvider",
    "Person",
    "Scene",
    "as_outlook",
    "candidate_fact",
    "candidate_locale",
    "default_estimate",
    "job_fact",
    "locale_of",
    "no_estimate",
    "offer_fact",
    "roles_from_requisitions",
]

_log = logging.getLogger("hirepipe.notify")

EstimateProvider = Callable[[Application, Requisition, _dt.datetime], object]
"""``(application, requisition, now)`` to an ``Outlook``, a date, an estimate with
``next_decision.dates.p50``/``p80`` (a [`Estimate`][hirepipe.timeline.Estimate]), or None."""

OpenRolesProvider = Callable[[Application, Requisition], Iterable[OpenRole]]
"""``(application, requisition)`` to the other open roles a rejected candidate may fit."""


@dataclass(frozen=True, slots=True)
class Person:
    """A resolved recipient: role, id, display name and e-mail address (if known)."""

    role: str
    id: str
    name: str
    address: str | None

    def __repr__(self) -> str:
        return withheld_repr(self, _PERSON_PERSONAL)  # no name nor address in logs


_PERSON_PERSONAL = frozenset({"name", "address"})


@dataclass(frozen=True, slots=True)
class Scene:
    """What one notification is about. ``record`` is None for a deadline or a creation.

    ``at`` is when it happened (the record's time, the creation, the sweep's now); ``stage``
    the application's stage then.
    """

    application: Application
    requisition: Requisition
    policy: Policy
    trigger: str
    at: pendulum.DateTime
    stage: str
    recipient: Person
    record: TransitionRecord | None = None
    deadline: Deadline | None = None
    last_contact: pendulum.DateTime | None = None
    business_days_since: int | None = None


FactBuilder = Callable[[Scene], Any]
"""Builds one JSON-ready fact from a scene."""

DEFAULT_LOCALE = "en"
_ALWAYS = frozenset({"locale"})  # the filters read it, though no template names it


def locale_of(scene: Scene) -> str:
    """The locale the recipient reads amounts and dates in.

    The candidate's own locale, else the requisition's, else English; people at the company
    (a hiring manager, an interviewer) read the requisition's.
    """
    if scene.recipient.role == "candidate":
        return candidate_locale(scene.application, scene.requisition)
    return scene.requisition.locale or DEFAULT_LOCALE


def candidate_locale(application: Application, requisition: Requisition) -> str:
    """The locale the candidate reads: their own, else the requisition's, else English."""
    own = application.candidate.locale
    return (own if own != ERASED else None) or requisition.locale or DEFAULT_LOCALE


def snapshot(application: Application, requisition: Requisition) -> tuple[Application, Requisition]:
    """Return copies of ``application`` and ``requisition`` that stay as they are now.

    The engine replaces an application's fields whole (its tuples, its frozen models) and only
    appends to ``history``, so a shallow copy with its own history list keeps this moment.
    """
    copy = application.model_copy()
    copy.__dict__["history"] = list(application.history)
    return copy, requisition.model_copy()


class LazyFacts(Mapping[str, Any]):
    """Facts built on first use (render, JSON, comparison) from a snapshot of the scene.

    Building them can call the estimate and open-roles providers, which cost more than the
    event itself; made lazily, the hook stays cheap. Built once; a build that raises is tried
    again at the next use.
    """

    __slots__ = ("_build", "_facts")

    def __init__(self, build: Callable[[], dict[str, Any]]) -> None:
        self._build: Callable[[], dict[str, Any]] | None = build
        self._facts: dict[str, Any] | None = None

    def built(self) -> dict[str, Any]:
        """Return the facts, building them now if they are not yet."""
        facts = self._facts
        if facts is None:
            assert self._build is not None
            facts = self._facts = self._build()
            self._build = None  # let the snapshot go
        return facts

    def __getitem__(self, name: str) -> Any:
        return self.built()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.built())

    def __len__(self) -> int:
        return len(self.built())

    def __repr__(self) -> str:
        # which facts, not their values: the candidate's name and the job's details
        if self._facts is None:
            return "LazyFacts(<not built yet>)"
        return f"LazyFacts({sorted(self._facts)!r})"


def no_estimate(application: Application, requisition: Requisition, now: _dt.datetime) -> None:
    """An estimate provider that never gives an estimate."""
    return


def default_estimate() -> EstimateProvider:
    """Return the default estimate provider: ``hirepipe.timeline.estimate.TimelineEstimator``.

    The estimator (and its priors) is built at the first call; without the estimate module
    the provider gives no estimate.
    """
    try:
        from hirepipe.timeline.estimate import TimelineEstimator
    except ImportError:  # pragma: no cover - the estimator ships with hirepipe
        return no_estimate
    made: list[TimelineEstimator] = []

    def estimate(application: Application, requisition: Requisition, now: _dt.datetime) -> object:
        if not made:
            made.append(TimelineEstimator())
        return made[0].estimate(application, requisition, now)

    return estimate


def as_outlook(value: object) -> Outlook | None:
    """Read an estimate provider's answer as an [`Outlook`][hirepipe.notify.Outlook].

    Accepts an Outlook, a date (the likely date), anything shaped like
    [`Estimate`][hirepipe.timeline.Estimate] (``pending``, ``note``, ``next_decision.dates.p50`` and
    ``p80``), or None. Raises NotificationError for anything else.
    """
    if value is None or isinstance(value, Outlook):
        return value
    if isinstance(value, _dt.date):
        return Outlook(likely=_plain_date(value))
    decision: Any = getattr(value, "next_decision", _MISSING)
    if decision is not _MISSING:
        pending = bool(getattr(value, "pending", decision is not None))
        note = str(getattr(value, "note", ""))
        if decision is None:
            return Outlook(likely=None, pending=pending, note=note)
        dates = decision.dates
        return Outlook(
            likely=_plain_date(dates.p50), latest=_plain_date(dates.p80), pending=pending, note=note
        )
    raise NotificationError(
        f"the estimate provider returned a {type(value).__name__}; return an Outlook, a date, "
        "an Estimate or None"
    )


_MISSING = object()


def _plain_date(value: _dt.date) -> _dt.date:
    if isinstance(value, _dt.datetime):
        return value.date()
    return value


def roles_from_requisitions(
    requisitions: Iterable[Requisition] | Callable[[], Iterable[Requisition]],
    *,
    url: Callable[[Requisition], str | None] | None = None,
) -> OpenRolesProvider:
    """Return an open-roles provider naming every other requisition with open headcount.

    ``requisitions`` is a collection or a callable returning the current ones; ``url`` gives
    where to apply for each. A company that matches candidates to roles passes its own
    provider instead.
    """

    def open_roles(application: Application, requisition: Requisition) -> list[OpenRole]:
        current = requisitions() if callable(requisitions) else requisitions
        return [
            OpenRole(title=r.title, url=url(r) if url is not None else None)
            for r in current
            if r.id != requisition.id and r.open_headcount > 0
        ]

    return open_roles


# -- building facts ----------------------------------------------------------------------------


def instant(moment: _dt.datetime | None) -> str | None:
    """``moment`` as ISO 8601 with its UTC offset, or None.

    Converting to the requisition's zone is left to the template filters, at render time:
    pendulum's zone conversion costs microseconds on every event.
    """
    return None if moment is None else moment.isoformat()


class Facts:
    """Builds the facts a template needs from a scene.

    ``estimate`` and ``open_roles`` are the pluggable providers; ``signature`` closes every
    message; ``extra`` adds facts (or replaces built-in ones) by name.
    """

    def __init__(
        self,
        *,
        estimate: EstimateProvider,
        open_roles: OpenRolesProvider | None,
        signature: str,
        extra: Mapping[str, FactBuilder],
    ) -> None:
        self._estimate = estimate
        self._open_roles = open_roles
        self._signature = signature
        self.builders: dict[str, FactBuilder] = {
            "application": _application,
            "background": _background,
            "cadence_days": lambda scene: scene.policy.settings.update_cadence_days,
            "candidate": _candidate,
            "deadline": _deadline,
            "estimate": self._outlook,
            "event": _event,
            "interview": _interview,
            "job": _job,
            "locale": locale_of,
            "offer": _offer,
            "open_roles": self._roles,
            "recipient": _recipient,
            "rejection": _rejection,
            "signature": lambda scene: self._signature,
            "warm_until": lambda s: instant(s.application.warm_until),
            **extra,
        }

    def build(self, names: frozenset[str], scene: Scene) -> dict[str, Any]:
        """Return the facts in ``names`` that a builder knows (the template fails on others)."""
        builders = self.builders
        return {name: builders[name](scene) for name in names | _ALWAYS if name in builders}

    def lazy(self, names: frozenset[str], scene: Scene) -> LazyFacts:
        """Return the facts in ``names``, to be built from ``scene`` (a snapshot) on first use."""
        return LazyFacts(lambda: self.build(names, scene))

    def _outlook(self, scene: Scene) -> dict[str, Any] | None:
        try:
            outlook = as_outlook(self._estimate(scene.application, scene.requisition, scene.at))
        except HirepipeError as exc:
            # no estimate is better than no message: the candidate still hears from us
            _log.warning("no estimate for application %s: %s", scene.application.id, exc)
            return None
        if outlook is None:
            return None
        return {
            "pending": outlook.pending,
            "likely": outlook.likely.isoformat() if outlook.likely else None,
            "latest": outlook.latest.isoformat() if outlook.latest else None,
            "note": outlook.note,
        }

    def _roles(self, scene: Scene) -> list[dict[str, Any]]:
        if self._open_roles is None:
            return []
        return [
            {"title": role.title, "url": role.url}
            for role in self._open_roles(scene.application, scene.requisition)
        ]


def _candidate(scene: Scene) -> dict[str, Any]:
    return candidate_fact(scene.application.candidate)


def candidate_fact(candidate: Candidate) -> dict[str, Any]:
    """The ``candidate`` fact: id, name and e-mail address."""
    return {"id": candidate.id, "name": candidate.name, "email": candidate.email}


def _job(scene: Scene) -> dict[str, Any]:
    return job_fact(scene.requisition)


def job_fact(requisition: Requisition) -> dict[str, Any]:
    """The ``job`` fact: the requisition's title, id, time zone and hiring manager."""
    return {
        "title": requisition.title,
        "requisition_id": requisition.id,
        "time_zone": requisition.time_zone,
        "hiring_manager": requisition.hiring_manager,
    }


def _recipient(scene: Scene) -> dict[str, Any]:
    person = scene.recipient
    return {"role": person.role, "id": person.id, "name": person.name}


def _application(scene: Scene) -> dict[str, Any]:
    app, record = scene.application, scene.record
    return {
        "id": app.id,
        "stage": scene.stage,
        "previous_stage": record.from_stage if record is not None else None,
        "round": app.round,
        "terminal": scene.policy.is_terminal(scene.stage),
    }


def _event(scene: Scene) -> dict[str, Any]:
    record = scene.record
    if record is None:
        return {
            "name": scene.trigger,
            "actor": None,
            "on_behalf_of": None,
            "at": instant(scene.at),
            "reason": None,
            "text": "",
            "slots": [],
        }
    text = record.data.get("text", "")
    slots = record.data.get("slots", [])
    return {
        "name": record.event,
        "actor": record.actor,
        "on_behalf_of": record.data.get("on_behalf_of"),
        "at": instant(record.at),
        "reason": record.reason,
        "text": text if isinstance(text, str) else "",
        # interview times offered (``propose_slots``), as the record keeps them
        "slots": [slot for slot in slots if isinstance(slot, str)]
        if isinstance(slots, list)
        else [],
    }


def _interview(scene: Scene) -> dict[str, Any] | None:
    interview = scene.application.interview()
    if interview is None:
        return None
    return {
        "round": interview.round,
        "scheduled_at": instant(interview.scheduled_at),
        "held_at": instant(interview.held_at),
        "interviewers": len(interview.interviewers),
    }


def _offer(scene: Scene) -> dict[str, Any] | None:
    offer = scene.application.offer
    return None if offer is None else offer_fact(offer)


def offer_fact(offer: Offer) -> dict[str, Any]:
    """The ``offer`` fact: one version's terms, status, signature state and counter.

    Amounts are decimal strings (``bonus`` and ``equity`` None when the offer has none),
    dates and instants ISO 8601; ``signature`` is the
    [`SignatureState`][hirepipe.models.SignatureState]'s value, ``counter`` the terms the
    candidate asked for in answer to this version (not their note), or None.
    """
    counter = offer.counter
    return {
        "version": offer.version,
        "title": offer.title,
        "salary": str(offer.salary),
        "currency": offer.currency,
        "bonus": _amount(offer.bonus),
        "equity": _amount(offer.equity),
        "benefits": list(offer.benefits),
        "start_date": offer.start_date.isoformat(),
        "valid_until": instant(offer.valid_until),
        "extended_at": instant(offer.extended_at),
        "status": offer.status.value,
        "signature": offer.signature.value,
        "counter": None
        if counter is None
        else {
            "salary": _amount(counter.salary),
            "bonus": _amount(counter.bonus),
            "equity": _amount(counter.equity),
            "start_date": counter.start_date.isoformat() if counter.start_date else None,
            "competing_deadline": instant(counter.competing_deadline),
        },
    }


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _rejection(scene: Scene) -> dict[str, Any] | None:
    rejection = scene.application.rejection
    if rejection is None:
        return None
    side = scene.policy.rejection_reasons.get(rejection.reason)
    return {
        "reason": rejection.reason,
        "side": side.value if side is not None else None,
        "feedback": rejection.feedback,
        "feedback_on_request": rejection.feedback_on_request,
    }


def _background(scene: Scene) -> dict[str, Any] | None:
    check = scene.application.background_check
    if check is None:
        return None
    return {
        "provider": check.provider,
        "provider_contact": check.provider_contact,
        "report": check.report,
        "result": check.result.value if check.result is not None else None,
        "pre_adverse_at": instant(check.pre_adverse_at),
        "waiting_until": instant(check.waiting_until),
        "dispute_outcome": (
            check.dispute_outcome.value if check.dispute_outcome is not None else None
        ),
    }


def _deadline(scene: Scene) -> dict[str, Any] | None:
    deadline = scene.deadline
    if deadline is None:
        return None
    since = scene.last_contact or deadline.since
    return {
        "kind": deadline.kind,
        "due": instant(deadline.due),
        "since": instant(since),
        "description": deadline.description,
        "owed_by": list(deadline.owed_by),
        "business_days_since": scene.business_days_since,
    }
