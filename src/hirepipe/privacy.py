"""Personal data: which fields hold it, erasing it, and how long applications are kept.

GDPR Article 17 (the right to erasure) and Article 5(1)(e) (storage limitation):

```python
pipeline.erase(application, actor="maria", requisition=requisition, reason="candidate's request")
retention_due(applications, policy, now, months=6)   # ended more than 6 months ago
consent_expired(applications, policy, now)           # in the talent pool, consent lapsed
```

A field is personal when its type carries [`PERSONAL`][hirepipe.models.PERSONAL]: the
candidate's name, e-mail address, phone and locale, a referee's contact details and
relationship, and every free text ([`Text`][hirepipe.models.Text]: notes, feedback, messages,
a background check's assessment and dispute), in the application, in its history records'
event data and in a policy's own event data models. A personal value (or a model with personal
fields) may be held, at any depth, in a list, tuple, set, frozenset, ``Sequence`` or ``Set``, a
dict's or ``Mapping``'s values, or a union (``hirepipe._types.HOLDERS``): reprs withhold it and
erasure erases it, by one walk of the annotations. A policy whose data model holds one where
erasure cannot find it (a generic of the host's own, an ``Iterable``, a dict's keys) is refused
with a [`PolicyError`][hirepipe.errors.PolicyError] naming the field; mark the whole field
personal instead. A field typed ``Any`` is personal only when marked (every string in it then
is). Erasing replaces each non-empty personal
value with [`ERASED`][hirepipe.models.ERASED] and keeps everything else: ids, stages, events,
times, reasons, outcomes and amounts stay for reporting. An erased application takes no more
events. The durable store erases a candidate's log and outbox too
([`hirepipe.store.Store.erase`][hirepipe.store.Store.erase]), and keeps its log's hash chain
verifiable. The same fields are the ones the store holds apart from its hashed log, and the
ones an export of a candidate's personal data gathers (``map_personal`` with a ``replace``
that collects each value it is given).

Who may erase is the policy's
[`erased_by`][hirepipe.policy.PolicySettings.erased_by]: by default the requisition's recruiter
and hiring manager, and the system actor. Anyone else is refused with
[`GuardRejected`][hirepipe.errors.GuardRejected] (``not_permitted``), in memory and in the
store alike; pass the ``requisition`` to ``Pipeline.erase`` so that the recruiter's and the
hiring manager's roles can be told (``requisition_required`` otherwise). Give another role,
a data protection officer's, the right with ``policy.with_setting(erased_by=(...,
"privacy_officer"))`` and a [`RoleResolver`][hirepipe.policy.RoleResolver] that grants it.

What is kept, and why: ``Candidate.id`` and ``consent_to_contact`` (the record of consent),
``Reference.referee``, every actor and ``Signing.signed_by`` (ids), a record's ``reason``
(one line, [`Reason`][hirepipe.models.Reason]: why something happened, for the audit; write no
personal detail there), a background check's ``provider``, ``provider_contact`` and
``report`` (the agency's, not the candidate's), offer terms and amounts.

Candidate ids, referee ids and the ids of employees are kept: use opaque ids, not e-mail
addresses, where people are named by id.

A store written by an earlier release, before the locale was personal, holds it
inside the hashed log rows, where erasure cannot replace it without breaking the chain: it
stays in those rows (and in snapshots rebuilt from them) after an erasure. Events and
applications written since hold it apart from the hashed text, as every other personal value.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, Final

import pendulum
from pydantic import BaseModel

from hirepipe._types import (
    Either,
    Items,
    Leaf,
    Nested,
    Spec,
    Values,
    personal_specs,
    union_of,
    whole_number_problem,
)
from hirepipe.models import ERASED, Application
from hirepipe.policy import EventData, Policy, StageKind

__all__ = [
    "ERASED",
    "ERASE_EVENT",
    "DataModels",
    "consent_expired",
    "data_models_of",
    "ended_at",
    "erased",
    "map_personal",
    "retention_due",
]

ERASE_EVENT: Final = "@erase"
"""The event name of the record an erasure appends (``@`` names are hirepipe's own)."""

DataModels = Callable[[str], type[EventData] | None]
"""Gives the data model of an event by name, or None when it is not known.

When it is not known (an event no longer in the policy, a log written before the store
hashed it), every string in the record's data is treated as personal.
"""

Replace = Callable[[str], Any]
"""Gives what a personal value becomes: ``ERASED``, a token, a digest."""


# -- which fields are personal -----------------------------------------------------------------


@cache
def _fields(model: type[BaseModel]) -> Mapping[str, Spec]:
    """The fields of ``model`` that hold personal data, directly or nested.

    The one walk a repr withholds by too (``hirepipe._types.personal_specs``), remembered
    here in a plain cache as a plain dict: a stored fire asks it of each document it writes,
    and a read-only proxy's ``get`` costs a method call each time.
    """
    return dict(personal_specs(model))


@cache
def _fields_of(models: tuple[type[BaseModel], ...]) -> Mapping[str, Spec]:
    """The personal fields of a value that may be any of ``models``: each one's, merged."""
    if len(models) == 1:
        return _fields(models[0])
    merged: dict[str, list[Spec]] = {}
    for model in models:
        for name, spec in _fields(model).items():
            merged.setdefault(name, []).append(spec)
    found: dict[str, Spec] = {}
    for name, specs in merged.items():
        one, _ambiguous = union_of(specs)  # ambiguous: the whole value (policies refuse it)
        if one is not None:
            found[name] = one
    return found


def map_personal(
    document: Mapping[str, Any],
    model: type[BaseModel],
    replace: Replace,
    *,
    data_models: DataModels,
) -> dict[str, Any]:
    """Return a copy of ``document`` (``model``'s JSON data) with personal values replaced.

    Each non-empty personal string becomes ``replace(value)``, visited in a fixed order (the
    document's own); empty strings, None and every other field are kept. Works on any part of
    a document too: the fields an event changed, a history record. ``data_models`` gives each
    record's event data model.
    """
    fields = _fields(model)
    if not any(document.get(name) for name in fields):
        # no personal field holds anything (absent, None, "", an empty list or object: what
        # mapping keeps as it is): the copy, without walking it; a stored event's record
        # with no data and the fields it changed (a stage) are mostly so
        return dict(document)
    return _map_model(document, fields, replace, data_models)


def _map_model(
    document: Mapping[str, Any],
    fields: Mapping[str, Spec],
    replace: Replace,
    data_models: DataModels,
) -> dict[str, Any]:
    result = dict(document)
    for name, value in document.items():
        spec = fields.get(name)
        if spec is not None:
            result[name] = _map(value, spec, replace, data_models, document)
    return result


def _map(
    value: Any,
    spec: Spec,
    replace: Replace,
    data_models: DataModels,
    owner: Mapping[str, Any],
) -> Any:
    if isinstance(spec, Leaf):
        return _all_strings(value, replace)
    if isinstance(spec, Either):  # a union of an array and a model or mapping: by the value
        spec = spec.array if isinstance(value, list) else spec.mapping
    if isinstance(spec, Nested) and isinstance(value, dict):  # the most frequent: a model, a record
        return _map_model(value, _fields_of(spec.models), replace, data_models)
    if isinstance(value, list):
        # an array's items; a list where a model was expected too (as before): each one
        item = spec.item if isinstance(spec, Items) else spec
        return [_map(each, item, replace, data_models, owner) for each in value]
    if isinstance(spec, Items) or not isinstance(value, dict):
        return value
    if isinstance(spec, Values):
        inner = spec.value
        return {key: _map(each, inner, replace, data_models, owner) for key, each in value.items()}
    event = owner.get("event")
    data_model = data_models(event) if isinstance(event, str) else None
    if data_model is None:
        return _all_strings(value, replace)
    return _map_model(value, _fields(data_model), replace, data_models)


def _all_strings(value: Any, replace: Replace) -> Any:
    if isinstance(value, str):
        return replace(value) if value else value
    if isinstance(value, list):
        return [_all_strings(item, replace) for item in value]
    if isinstance(value, dict):
        return {key: _all_strings(item, replace) for key, item in value.items()}
    return value


def data_models_of(policy: Policy) -> DataModels:
    """The ``data_models`` argument for a policy: each event's data model, by name."""
    events = policy.events

    def data_model(event: str) -> type[EventData] | None:
        spec = events.get(event)
        return spec.data_model if spec is not None else None

    return data_model


# -- erasing -----------------------------------------------------------------------------------


def erased(application: Application, policy: Policy) -> Application:
    """Return a copy of ``application`` with every personal value replaced by ERASED.

    Nothing else changes (no record is added, ``erased_at`` is not set): this is the content of
    an erasure; [`hirepipe.Pipeline.erase`][hirepipe.pipeline.Pipeline.erase] applies it and
    records it.
    """
    document = application.model_dump(mode="json")
    cleared = map_personal(
        document, Application, lambda _value: ERASED, data_models=data_models_of(policy)
    )
    return Application.model_validate(cleared)


# -- retention and consent ---------------------------------------------------------------------


def ended_at(application: Application, policy: Policy) -> pendulum.DateTime | None:
    """When the application ended: the time of the record that led into its terminal stage.

    None while its stage is not terminal (or not a stage of the policy). An application
    created in a terminal stage ended when it was created.
    """
    stage = policy.stages.get(application.stage)
    if stage is None or not stage.terminal:
        return None
    for record in reversed(application.history):
        if record.kind == "transition":
            return record.at
    return application.created_at


def retention_cutoff(now: datetime, months: int) -> pendulum.DateTime:
    """``months`` months before ``now``: an application that ended before it is due.

    Raises ValueError unless ``months`` is a whole number from 0 to the months back to the
    calendar's first year (pendulum's "year is out of range" said nothing of ``months``).
    """
    start = pendulum.instance(now)
    # to February of year 1 at the earliest: the cutoff is converted to UTC for the store,
    # and a day's offset from 1 January would leave the calendar
    most = (start.year - 1) * 12 + start.month - 2
    problem = whole_number_problem(months, 0, max(most, 0))
    if problem is not None:
        raise ValueError(
            f"months must be {problem} (back to the calendar's first year from "
            f"{start.date().isoformat()})"
        )
    try:
        cutoff = start.subtract(months=months)  # pendulum goes through UTC
        cutoff.in_timezone("UTC")  # as a store compares it
    except OverflowError:
        # 23:00 on 31 December 9999 at UTC-5 is in year 10000 in UTC: the store's driver
        # raised a bare "date value out of range"
        raise ValueError(
            f"now ({start.isoformat()}) is past the calendar's last day (9999-12-31) in UTC; "
            "pass the current time"
        ) from None
    return cutoff


def retention_due(
    applications: Iterable[Application], policy: Policy, now: datetime, *, months: int
) -> list[Application]:
    """Return the applications that ended more than ``months`` months before ``now``.

    Erased applications are left out: nothing personal is left to erase. Storage limitation
    (GDPR Art. 5(1)(e)): erase these, or say why they are kept.
    """
    cutoff = retention_cutoff(now, months)
    found = []
    for application in applications:
        if application.erased_at is not None:
            continue
        ended = ended_at(application, policy)
        if ended is not None and ended < cutoff:
            found.append(application)
    return found


def consent_expired(
    applications: Iterable[Application], policy: Policy, now: datetime
) -> list[Application]:
    """Return the applications kept in a talent pool whose consent has lapsed at ``now``.

    Consent to stay in touch lasts until ``warm_until`` (set when kept warm, moved on by
    ``renew_consent``). Renew it, or end the application and erase it.
    """
    return [
        application
        for application in applications
        if application.erased_at is None
        and application.stage in policy.stages
        and policy.stage(application.stage).kind is StageKind.pool
        and (application.warm_until is None or application.warm_until <= now)
    ]
