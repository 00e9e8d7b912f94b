"""The update cadence: who has heard nothing from us for longer than the policy allows.

**Contact**, the one rule: the candidate last heard from us at the latest of

- a history record whose event means contact (``ServiceLevels.contact_events``, by default
  ``CANDIDATE_CONTACT_EVENTS``: a rejection, an offer, a status update recorded by hand...), an
  interview held, or the application's creation, exactly as
  [`ServiceLevels`][hirepipe.timeline.ServiceLevels] counts for its ``candidate_update``
  deadline; and
- a notification about the application that the outbox *sent* to the candidate.

A notification still pending is not contact: the candidate has not heard it. It is reported
(``queued``) so that a daily job does not write to them twice. Only applications that owe
updates (active or on hold, as the service levels say) are considered.

"Longer than the cadence" is the service levels' "overdue": ``update_cadence_days`` business
days after the last contact, in the requisition's calendar, lies before ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

import pendulum

from hirepipe._types import withheld_repr
from hirepipe.errors import CalendarError, RequisitionMismatch
from hirepipe.models import Application, Requisition, as_instant
from hirepipe.notify._outbox import Outbox
from hirepipe.policy import Policy
from hirepipe.timeline.deadlines import Deadline, DeadlineKind, ServiceLevels

__all__ = ["UpdateDue", "who_needs_an_update"]


@dataclass(frozen=True, slots=True)
class UpdateDue:
    """An active candidate owed an update: since when they have waited, in business days.

    ``last_contact`` and ``due`` read as the requisition's local time; ``queued`` says a
    message to the candidate already waits in the outbox.
    """

    application_id: str
    requisition_id: str
    candidate_id: str
    candidate_name: str
    stage: str
    last_contact: pendulum.DateTime
    due: pendulum.DateTime
    business_days_since: int
    queued: bool

    def __repr__(self) -> str:
        return withheld_repr(self, _CANDIDATE_NAME)  # no name in logs


_CANDIDATE_NAME = frozenset({"candidate_name"})


def who_needs_an_update(
    applications: Iterable[Application],
    requisitions: Mapping[str, Requisition] | Iterable[Requisition],
    now: datetime,
    *,
    policy: Policy | None = None,
    outbox: Outbox | None = None,
    levels: ServiceLevels | None = None,
) -> list[UpdateDue]:
    """List every active candidate who has heard nothing for longer than the cadence.

    The longest silence comes first. ``levels`` (or ``policy``, default the standard policy)
    gives the cadence, the contact events and the calendars; ``outbox`` adds the notifications
    sent. Raises RequisitionMismatch if an application's requisition is not given, and
    CalendarError for a naive ``now``.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise CalendarError(f"naive now {now.isoformat()}: pass an aware datetime")
    if levels is None:
        if policy is None:
            from hirepipe.standard import standard_policy

            policy = standard_policy()
        levels = ServiceLevels(policy)
    by_id = _by_id(requisitions)
    found = []
    for application in applications:
        requisition = by_id.get(application.requisition_id)
        if requisition is None:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given="<not passed>",
            )
        waiting = update_due(application, requisition, now, levels=levels, outbox=outbox)
        if waiting is not None:
            found.append(waiting[0])
    found.sort(key=lambda u: (-u.business_days_since, u.last_contact, u.application_id))
    return found


def update_due(
    application: Application,
    requisition: Requisition,
    now: datetime,
    *,
    levels: ServiceLevels,
    outbox: Outbox | None,
    deadlines: list[Deadline] | None = None,
) -> tuple[UpdateDue, Deadline] | None:
    """Return the update one application is owed at ``now`` and its deadline, or None."""
    if deadlines is None:
        deadlines = levels.deadlines(application, requisition)
    deadline = next((d for d in deadlines if d.kind == DeadlineKind.candidate_update), None)
    if deadline is None:
        return None
    calendar = levels.calendar(requisition)
    last, due = deadline.since, deadline.due
    candidate = application.candidate
    sent = outbox.last_sent_to(application.id, candidate.id) if outbox is not None else None
    if sent is not None and sent > last:
        last = as_instant(pendulum.instance(sent).in_timezone(requisition.time_zone))
        cadence = levels.policy.settings.update_cadence_days
        due = as_instant(calendar.add_business_days(last, cadence))
    if not due < now:
        return None
    waiting = UpdateDue(
        application_id=application.id,
        requisition_id=requisition.id,
        candidate_id=candidate.id,
        candidate_name=candidate.name,
        stage=application.stage,
        last_contact=last,
        due=due,
        business_days_since=calendar.business_days_between(last, now),
        queued=outbox is not None and outbox.has_pending_for(application.id, candidate.id),
    )
    return waiting, deadline


def _by_id(
    requisitions: Mapping[str, Requisition] | Iterable[Requisition],
) -> Mapping[str, Requisition]:
    if isinstance(requisitions, Mapping):
        return requisitions
    return {requisition.id: requisition for requisition in requisitions}
