"""Who may fire an event: roles, resolved from the requisition and the application.

```python
def roles(actor, application, requisition):
    held = set(requisition_roles(actor, application, requisition))
    if actor in directory.group("talent-acquisition"):
        held.add(Role.recruiter)  # every recruiter may act on every requisition
    return held

pipeline = Pipeline(standard_policy(), roles=roles)
```

An event names the roles that may fire it
([`EventSpec.fired_by`][hirepipe.policy.EventSpec.fired_by]) and the roles that may fire it for
someone else ([`EventSpec.on_behalf`][hirepipe.policy.EventSpec.on_behalf], empty: nobody). A
[`RoleResolver`][hirepipe.policy.RoleResolver] says which roles a person holds on one
application; the default, [`requisition_roles`][hirepipe.policy.requisition_roles], reads the
requisition's and the application's fields. Refusals are blockers with stable codes:

- ``not_permitted``: the actor holds none of the roles that may fire the event;
- ``requisition_required`` (``needs_input``): the roles read from the requisition
  (hiring manager, recruiter, approver) cannot be checked without it: pass it;
- ``acting_for_another``: the event's data names someone other than the person acting
  ([`EventData.person_field`][hirepipe.policy.EventData.person_field]: the approver of an
  approval, the author of a scorecard);
- ``on_behalf_not_allowed``: nobody may fire the event for someone else.

Design decision 10: who acts is who is recorded. Acting for someone is explicit
(``fire(..., on_behalf_of="cand-1")``), allowed only where the policy says so, and the record
keeps both people (the actor, and ``on_behalf_of`` in its data).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Final, Protocol

from hirepipe.errors import Blocker
from hirepipe.models import Application, Requisition

if TYPE_CHECKING:
    from hirepipe.policy._specs import EventData, EventSpec

__all__ = [
    "SYSTEM_ACTOR",
    "Role",
    "RoleResolver",
    "erasure_blockers",
    "permission_blockers",
    "requisition_roles",
]


class Role(StrEnum):
    """The roles a policy grants events to; a host may add its own names."""

    hiring_manager = "hiring_manager"
    """The requisition's ``hiring_manager``."""
    recruiter = "recruiter"
    """The requisition's ``recruiter``."""
    approver = "approver"
    """An approver of the requisition's chain, or a substitute for one on this application
    (the guards check that their step is open)."""
    interviewer = "interviewer"
    """An interviewer of a round of this application (the guards check which round)."""
    candidate = "candidate"
    """The application's candidate (``application.candidate.id``)."""
    system = "system"
    """The pipeline's own actor (``SYSTEM_ACTOR``): sweeps, fills and fall-throughs."""
    anyone = "anyone"
    """Every actor: an event open to all."""


SYSTEM_ACTOR: Final = "hirepipe"
"""The actor the pipeline, the slate and their sweeps fire as, unless the Pipeline names another.

It holds [`Role.system`][hirepipe.policy.Role.system]. Choose a name none of your users can
have: hirepipe trusts the actor it is given, so a user called ``hirepipe`` would act as the
system.
"""

_HIRING_MANAGER, _RECRUITER, _APPROVER = Role.hiring_manager, Role.recruiter, Role.approver
_INTERVIEWER, _CANDIDATE, _ANYONE = Role.interviewer, Role.candidate, Role.anyone
_FROM_REQUISITION: Final = frozenset({Role.hiring_manager, Role.recruiter, Role.approver})
"""The roles only the requisition can tell: without it they cannot be checked."""


class RoleResolver(Protocol):
    """Which roles ``actor`` holds on ``application`` (whose requisition is ``requisition``).

    A plain function will do. ``requisition`` is ``None`` when the event was fired without one;
    a host that can look it up itself may do so. Return role names:
    [`Role`][hirepipe.policy.Role] members, or names of the host's own that its policy grants
    events to.
    """

    def __call__(
        self, actor: str, application: Application, requisition: Requisition | None, /
    ) -> Collection[str]:
        """Return the roles ``actor`` holds on ``application``."""
        ...


def requisition_roles(
    actor: str, application: Application, requisition: Requisition | None, /
) -> frozenset[str]:
    """The default ``RoleResolver``: the roles the requisition's and application's fields give.

    Hiring manager, recruiter and approver come from the requisition (its ``approval_chain``,
    or else its ``approvers``), so they are not held when it is ``None``; candidate,
    interviewer and a substitute approver come from the application.
    """
    return frozenset(
        role for role in _FIELD_ROLES if holds_role(actor, role, application, requisition)
    )


_FIELD_ROLES: Final = (_CANDIDATE, _INTERVIEWER, _APPROVER, _HIRING_MANAGER, _RECRUITER)
"""The roles ``requisition_roles`` reads from the fields, in the order it lists them."""


def holds_role(
    actor: str, role: str, application: Application, requisition: Requisition | None
) -> bool:
    """Whether ``actor`` holds ``role`` by the requisition's and the application's fields.

    The one rule of [`requisition_roles`][hirepipe.policy.requisition_roles], asked for one
    role: the engine asks only for the roles an event is fired by, cheapest first, and stops
    at the first held (on every event: plain loops, no generators).
    """
    if role == _HIRING_MANAGER:
        return requisition is not None and actor == requisition.hiring_manager
    if role == _RECRUITER:
        return requisition is not None and actor == requisition.recruiter
    if role == _CANDIDATE:
        return actor == application.candidate.id
    if role == _INTERVIEWER:
        for interview in application.interviews:  # noqa: SIM110 - a loop: no generator to build
            if actor in interview.interviewers:
                return True
        return False
    if role == _APPROVER:
        for substitution in application.substitutions:
            if actor == substitution.substitute:
                return True
        if requisition is None:
            return False
        chain = requisition.approval_chain
        if chain:
            for step in chain:  # noqa: SIM110 - a loop: no generator to build
                if actor in step.approvers:
                    return True
            return False
        return actor in requisition.approvers
    return False  # system, anyone and a host's own names: not in the fields


def _names_another(data: EventData, actor: str) -> bool:
    """Whether the data names someone other than ``actor`` as the person deciding."""
    field = type(data).person_field
    if field is None:
        return False
    named = data.__dict__.get(field)
    return named is not None and named != actor


def permitted_by_fields(
    spec: EventSpec,
    data: EventData,
    actor: str,
    application: Application,
    requisition: Requisition | None,
    system_actor: str,
) -> bool:
    """``permitted_as_themselves`` with the default resolver, asked only for ``fired_by``.

    The same answer as ``permitted_as_themselves`` given the roles
    [`requisition_roles`][hirepipe.policy.requisition_roles] finds (and ``system`` for the
    pipeline's ``system_actor``), without building the set of every role the actor holds.
    """
    if type(data).person_field is not None and _names_another(data, actor):  # no call if none
        return False
    fired_by = spec.fired_by
    if _ANYONE in fired_by or (actor == system_actor and Role.system in fired_by):
        return True
    for role in fired_by:  # noqa: SIM110 - a loop: no generator to build
        if holds_role(actor, role, application, requisition):
            return True
    return False


def permission_blockers(
    spec: EventSpec,
    data: EventData,
    *,
    actor: str,
    on_behalf_of: str | None,
    roles_of: Callable[[str], Collection[str]],
    requisition: Requisition | None,
) -> list[Blocker]:
    """Return why ``actor`` may not fire ``spec`` with ``data``: empty when they may.

    ``on_behalf_of`` names the person acted for (``None``: the actor acts for themselves);
    ``roles_of`` returns the roles a person holds on the application.
    """
    event = spec.name
    person = actor if on_behalf_of is None else on_behalf_of
    found: list[Blocker] = []
    field = type(data).person_field
    named = data.value(field) if field is not None else None
    if named is not None and named != person:
        found.append(_acting_for_another(event, field or "", named, actor, on_behalf_of))
    if on_behalf_of is None:
        if _ANYONE not in spec.fired_by:
            found += _role_blockers(event, actor, spec.fired_by, roles_of(actor), requisition)
        return found
    if not spec.on_behalf:
        found.append(
            Blocker(
                "on_behalf_not_allowed",
                f"the policy lets nobody fire {event!r} for someone else: "
                f"{on_behalf_of!r} fires it themselves",
                {"event": event, "actor": actor, "on_behalf_of": on_behalf_of},
            )
        )
        return found
    if _ANYONE not in spec.on_behalf:
        found += _role_blockers(
            event, actor, spec.on_behalf, roles_of(actor), requisition, for_whom=on_behalf_of
        )
    if _ANYONE not in spec.fired_by:
        found += _role_blockers(
            event, on_behalf_of, spec.fired_by, roles_of(on_behalf_of), requisition
        )
    return found


def permitted_as_themselves(
    spec: EventSpec, data: EventData, actor: str, roles_of: Callable[[str], Collection[str]]
) -> bool:
    """Whether ``permission_blockers`` finds nothing for ``actor`` acting for themselves.

    The common case, answered without building the explanation. True when the data names
    nobody else as the person deciding and the actor holds a role the event is fired by
    (``roles_of``, asked only then), or anyone may fire it; False means: ask
    ``permission_blockers`` why.
    """
    if type(data).person_field is not None and _names_another(data, actor):  # no call if none
        return False
    fired_by = spec.fired_by
    if _ANYONE in fired_by:
        return True
    held = roles_of(actor)
    if held.__class__ is frozenset or held.__class__ is set:
        return not held.isdisjoint(fired_by)
    return any(role in held for role in fired_by)


def _acting_for_another(
    event: str, field: str, named: str, actor: str, on_behalf_of: str | None
) -> Blocker:
    if on_behalf_of is None:
        message = (
            f"{actor!r} may not record the decision of {named!r} ({field}={named!r}): "
            f"{named!r} fires {event!r} themselves, or someone the policy lets act for them "
            f"fires it with on_behalf_of={named!r}"
        )
    else:
        message = (
            f"{actor!r} acts for {on_behalf_of!r} but the data names {named!r} "
            f"({field}={named!r}): name the person acted for"
        )
    return Blocker(
        "acting_for_another",
        message,
        {
            "event": event,
            "actor": actor,
            "on_behalf_of": on_behalf_of,
            "field": field,
            "named": named,
        },
    )


def erasure_blockers(
    erased_by: Sequence[str],
    *,
    event: str,
    application_id: str,
    actor: str,
    roles_of: Callable[[str], Collection[str]],
    requisition: Requisition | None,
) -> list[Blocker]:
    """Return why ``actor`` may not erase an application's personal data; empty when they may.

    The one rule of who erases, for [`Pipeline.erase`][hirepipe.pipeline.Pipeline.erase] and
    the store's erasure alike: ``actor`` holds one of the roles ``erased_by`` names
    ([`PolicySettings.erased_by`][hirepipe.policy.PolicySettings.erased_by]). Refused with
    ``not_permitted``, or ``requisition_required`` when only the requisition (not given) can
    tell the role; ``event`` is the erasure's record name.
    """
    if _ANYONE in erased_by:
        return []
    doing = f"erase the candidate's data from application {application_id!r}"
    return _role_blockers(
        event,
        actor,
        erased_by,
        roles_of(actor),
        requisition,
        doing=doing,
        setting="erased_by",
    )


def _role_blockers(
    event: str,
    person: str,
    allowed: Sequence[str],
    held: Collection[str],
    requisition: Requisition | None,
    *,
    for_whom: str | None = None,
    doing: str | None = None,
    setting: str | None = None,
) -> list[Blocker]:
    for role in allowed:
        if role in held:
            return []
    if doing is None:
        how = f"{event!r} for {for_whom!r}" if for_whom is not None else repr(event)
        doing = f"fire {how}"
    whose = f" (the policy's {setting})" if setting is not None else ""
    needs = " or the ".join(allowed)
    facts = {
        "event": event,
        "actor": person,
        "roles": list(allowed),
        "held": sorted(held),
        "on_behalf_of": for_whom,
    }
    if requisition is None and any(role in _FROM_REQUISITION for role in allowed):
        return [
            Blocker(
                "requisition_required",
                f"pass the requisition (requisition=...) to check whether {person!r} may "
                f"{doing}: only the {needs} may{whose}",
                facts,
                needs_input=True,
            )
        ]
    what = f"is the {' and the '.join(sorted(held))}" if held else "holds no role"
    where = f" on requisition {requisition.id!r}" if requisition is not None else ""
    return [
        Blocker(
            "not_permitted",
            f"{person!r} may not {doing}: only the {needs} may{whose}, and {person!r} "
            f"{what}{where}",
            facts,
        )
    ]
