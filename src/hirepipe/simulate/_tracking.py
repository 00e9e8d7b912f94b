"""What a simulated application went through: silences, service-level breaches, notifications.

A deadline is *breached* when it was overdue (``due < now``) at some moment while it was open,
exactly as [`ServiceLevels`][hirepipe.timeline.ServiceLevels] would have reported it at that moment.
Deriving the deadlines with ``ServiceLevels.deadlines`` after every event costs about 100 us a
call, more than the event itself, so ``SeatTracker`` keeps them up to date from the
records as they are written, reading the same stage roles (``StageSpec.service``,
``owes_updates``) in business minutes; ``tests/simulate/test_simulate.py`` checks the two agree
on simulated requisitions of the standard and of custom policies. Times are business minutes
(see ``hirepipe.simulate._scenario``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

import pendulum

from hirepipe.models import Application, OfferStatus, Requisition, TransitionRecord
from hirepipe.policy import Owner, Policy, StageSpec
from hirepipe.standard._approvals import chain_state
from hirepipe.timeline.deadlines import ServiceLevels, open_approval_step

if TYPE_CHECKING:
    from hirepipe.notify import Templates
    from hirepipe.notify._notifier import CountingNotifier

__all__ = ["SeatTracker", "ServiceMinutes", "notification_counter"]

_MINUTES = 480
_OFFER_EVENTS = frozenset({"extend_offer", "revise_offer"})
_APPROVAL_EVENTS = frozenset({"record_approval", "replace_approver"})


class _Timeline(Protocol):
    def instant(self, minute: int) -> pendulum.DateTime: ...

    def minute_after(self, when: Any) -> int: ...


@dataclass(frozen=True, slots=True)
class ServiceMinutes:
    """A policy's service levels in business minutes, and what the tracker needs to read."""

    policy: Policy
    stages: Mapping[str, StageSpec]
    contact_events: frozenset[str]
    timeline: _Timeline
    cadence: int
    thank_you: int
    allowed: Mapping[str, int]  # stage -> its service level's minutes
    codes: frozenset[str]  # every stage deadline's code

    @classmethod
    def of(
        cls, policy: Policy, contact_events: frozenset[str], timeline: _Timeline
    ) -> ServiceMinutes:
        """The service levels of ``policy`` on ``timeline``."""
        settings = policy.settings
        served = {name: spec for name, spec in policy.stages.items() if spec.service}
        return cls(
            policy=policy,
            stages=dict(policy.stages),
            contact_events=contact_events,
            timeline=timeline,
            cadence=settings.update_cadence_days * _MINUTES,
            thank_you=settings.thank_you_days * _MINUTES,
            allowed={name: (policy.service_days(name) or 0) * _MINUTES for name in served},
            codes=frozenset(
                spec.service.deadline or name
                for name, spec in served.items()
                if spec.service is not None and spec.service.owner is not Owner.candidate
            ),
        )


class SeatTracker:
    """One application's stage, last news, open deadlines and breaches, kept from its records."""

    __slots__ = (
        "asked",
        "breached",
        "ended",
        "entered",
        "grants",
        "heard",
        "held",
        "longest_silence",
        "open",
        "owes",
        "round_wait",
        "spec",
        "stage",
        "step_times",
        "thanks",
        "update_for",
        "visit_count",
    )

    def __init__(self, spec: StageSpec, entered: int) -> None:
        self.stage = spec.name
        self._stage_is(spec)
        self.entered = entered
        self.heard = entered  # created, and the first interview held, at the start
        self.held = entered
        self.thanks: list[int] = [entered]
        self.open: dict[str, int] = {}
        self.breached: set[str] = set()
        self.longest_silence = 0
        self.grants: dict[str, int] = {}
        self.visit_count: dict[str, int] = {}
        self.step_times: list[int] = []
        self.asked: Any = None
        self.round_wait = 0
        self.update_for = -1

    def _stage_is(self, spec: StageSpec) -> None:
        """The application is in ``spec``'s stage now; its roles, read once per stage."""
        self.spec = spec
        self.owes = spec.owes_updates
        self.ended = spec.terminal

    def _overdue(self, rules: ServiceMinutes, now: int) -> None:
        for kind, due in self.open.items():
            if now > due:
                self.breached.add(kind)
        if self.thanks and now > self.thanks[0] + rules.thank_you:
            self.breached.add("thank_you")
        if self.owes and now - self.heard > self.longest_silence:
            self.longest_silence = now - self.heard

    def observe(
        self,
        rules: ServiceMinutes,
        record: TransitionRecord,
        now: int,
        moved: bool,
        app: Application,
        requisition: Requisition,
    ) -> None:
        """Take in one record about the application, written at business minute ``now``."""
        self._overdue(rules, now)
        event = record.event
        if event == "round_held":  # the new round's interview is held now
            self.held = now
            self.heard = max(self.heard, now)
            self.thanks.append(now)
        if event in rules.contact_events:
            self.heard = now
            self.thanks.clear()
        if moved:
            self.stage = record.to_stage
            self._stage_is(rules.stages[self.stage])
            self.entered = now
        spec = self.spec
        if self.ended:
            self.open.clear()
            self.thanks.clear()
            return
        found = self.open
        if self.owes:
            found["candidate_update"] = self.heard + rules.cadence
        else:
            found.pop("candidate_update", None)
        service = spec.service
        owner = service.owner if service is not None else None
        if moved:
            for code in rules.codes:
                found.pop(code, None)
            if service is not None and owner in _FROM_ENTRY:
                found[service.deadline or self.stage] = now + rules.allowed[self.stage]
        if owner is Owner.interviewers and (moved or event in ("submit_scorecard", "round_held")):
            assert service is not None
            self._scorecards(rules, app, service.deadline or self.stage)
        elif owner is Owner.approvers and (moved or event in _APPROVAL_EVENTS):
            assert service is not None
            if event == "record_approval" and record.data.get("granted"):
                approver = record.data.get("approver") or record.actor
                self.grants[str(approver)] = now
            found[service.deadline or self.stage] = self._approval_due(rules, app, requisition)
        if event in _OFFER_EVENTS:
            offer = app.offer
            if offer is not None and offer.status is OfferStatus.extended:
                found["offer_expiry"] = rules.timeline.minute_after(offer.valid_until) - 1

    def _scorecards(self, rules: ServiceMinutes, app: Application, code: str) -> None:
        interview = app.interview()
        if interview is None or interview.held_at is None:
            self.open.pop(code, None)
            return
        submitted = {card.interviewer for card in app.scorecards_for(interview.round)}
        if any(person not in submitted for person in interview.interviewers):
            self.open[code] = self.held + rules.allowed[self.stage]
        else:
            self.open.pop(code, None)

    def _approval_due(
        self, rules: ServiceMinutes, app: Application, requisition: Requisition
    ) -> int:
        """When the open approval step is due (ServiceLevels' rule), in business minutes."""
        entered = rules.timeline.instant(self.entered)
        states = chain_state(app, requisition, rules.policy.settings, since=entered)
        allowed = rules.allowed[self.stage]
        step = open_approval_step(states, self.entered, self.grants.items(), since=self.entered)
        if step is None:  # every step granted: the hiring manager owes the approval itself
            return self.entered + allowed
        opened, days, _ = step
        return opened + (days * _MINUTES if days else allowed)

    def finish(self, rules: ServiceMinutes, end: int) -> None:
        """The run ended at business minute ``end``: what was still open and overdue then."""
        if not self.ended:
            self._overdue(rules, end)

    def wants_update(self) -> bool:
        """Whether a periodic update should be scheduled for the latest news."""
        return self.owes and self.update_for != self.heard


_FROM_ENTRY = frozenset({Owner.hiring_manager, Owner.recruiter, Owner.outside})
"""Owners whose deadline counts from entering the stage (the others have their own rules)."""


# -- notifications ----------------------------------------------------------------------------


def notification_counter(policy: Policy, levels: ServiceLevels) -> CountingNotifier | None:
    """A counter of the notifications ``policy``'s rules call for, built once per runner.

    ``None`` when the policy has no notification rules (the runner then counts the
    candidate-facing events). The counter finds the same rules, recipients and keys as the
    [`Notifier`][hirepipe.notify.Notifier] and keeps nothing but the keys and a tally.
    """
    if not policy.notifications:
        return None
    from hirepipe.notify import Notifier, Outbox, no_estimate
    from hirepipe.notify._notifier import CountingNotifier

    # estimates are never rendered: the default provider would only cost time
    notifier = Notifier(
        Outbox(), policy, templates=_templates(), levels=levels, estimate=no_estimate
    )
    return CountingNotifier(notifier)


@cache
def _templates() -> Templates:
    """The default templates, compiled once per process (a Notifier checks its rules' ones)."""
    from hirepipe.notify import Templates

    return Templates()
