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
from hirepipe.policy import Owner, Policy, StageKind, StageSpec
from hirepipe.standard._position import application_approval_state
from hirepipe.timeline.deadlines import DeadlineKind, ServiceLevels, open_approval_step

if TYPE_CHECKING:
    from hirepipe.notify import Templates
    from hirepipe.notify._notifier import CountingNotifier

__all__ = ["SeatTracker", "ServiceMinutes", "notification_counter"]

_MINUTES = 480
_OFFER_EVENTS = frozenset({"extend_offer", "revise_offer"})
_APPROVAL_EVENTS = frozenset({"record_approval", "replace_approver"})
# enum members read on every record, kept as module constants: on Python 3.11 a member read
# from its class goes through EnumType.__getattr__'s slow path (about 0.2 us, 20 times a
# global's cost; 200 such reads a run)
_INTERVIEWERS, _APPROVERS = Owner.interviewers, Owner.approvers
_POOL = StageKind.pool
_EXTENDED = OfferStatus.extended


class _Timeline(Protocol):
    def instant(self, minute: int) -> pendulum.DateTime: ...

    def minute_after(self, when: Any) -> int: ...


@dataclass(frozen=True, slots=True)
class Owed:
    """What an event leaves owed (its ``FollowUp``), in business minutes."""

    minutes: int
    code: str
    stages: frozenset[str]  # open only in these (any stage when empty)
    closed_by: frozenset[str]
    unless: str | None


@dataclass(frozen=True, slots=True)
class ServiceMinutes:
    """A policy's service levels in business minutes, and what the tracker needs to read."""

    policy: Policy
    stages: Mapping[str, tuple[StageSpec, bool, bool]]  # stage -> spec, owes updates, ended
    contact_events: frozenset[str]
    timeline: _Timeline
    cadence: int
    thank_you: int
    allowed: Mapping[str, int]  # stage -> its service level's minutes
    codes: frozenset[str]  # every stage deadline's code
    follow_ups: Mapping[str, Owed]  # event -> what it leaves owed

    @classmethod
    def of(
        cls, policy: Policy, contact_events: frozenset[str], timeline: _Timeline
    ) -> ServiceMinutes:
        """The service levels of ``policy`` on ``timeline``."""
        settings = policy.settings
        served = {name: spec for name, spec in policy.stages.items() if spec.service}
        return cls(
            policy=policy,
            stages={
                name: (spec, spec.owes_updates, spec.terminal)
                for name, spec in policy.stages.items()
            },
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
            follow_ups={
                event: Owed(
                    minutes=int(getattr(settings, f.days) if isinstance(f.days, str) else f.days)
                    * _MINUTES,
                    code=f.deadline or event,
                    stages=frozenset(f.stages),
                    closed_by=frozenset(f.closed_by),
                    unless=f.unless,
                )
                for event, f in policy.follow_ups.items()
            },
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
        "owed",
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
        self.spec, self.owes, self.ended = spec, spec.owes_updates, spec.terminal
        self.entered = entered
        self.heard = entered  # created, and the first interview held, at the start
        self.held = entered
        self.thanks: list[int] = [entered]
        self.open: dict[str, int] = {}
        self.owed: dict[str, int] = {}  # event -> when what it left owed was opened
        self.breached: set[str] = set()
        self.longest_silence = 0
        self.grants: dict[str, int] = {}
        self.visit_count: dict[str, int] = {}
        self.step_times: list[int] = []
        self.asked: Any = None
        self.round_wait = 0
        self.update_for = -1

    def _owed_overdue(self, rules: ServiceMinutes, now: int) -> None:
        for event, opened in self.owed.items():
            owed = rules.follow_ups[event]
            if (not owed.stages or self.stage in owed.stages) and now > opened + owed.minutes:
                self.breached.add(owed.code)

    def _follow_ups(self, rules: ServiceMinutes, record: TransitionRecord, now: int) -> None:
        """What the record closes of what earlier events left owed, and what it leaves owed."""
        event, owed = record.event, self.owed
        if owed:
            for name in [n for n in owed if event in rules.follow_ups[n].closed_by]:
                del owed[name]
        opens = rules.follow_ups.get(event)
        if (
            opens is not None
            and event not in owed
            and (opens.unless is None or record.data.get(opens.unless) is None)
        ):
            owed[event] = now

    def _overdue(self, rules: ServiceMinutes, now: int) -> None:
        if self.owed:
            self._owed_overdue(rules, now)
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
        event: str,
        entered: str | None,
        now: int,
        app: Application,
        requisition: Requisition,
    ) -> None:
        """Take in one record about the application, written at business minute ``now``.

        ``event`` is the record's event and ``entered`` the stage it moved the application
        into (``None`` when it stayed), as the caller read them from the record.
        """
        self._overdue(rules, now)
        moved = entered is not None
        if self.owed or event in rules.follow_ups:
            self._follow_ups(rules, record, now)
        if event == "round_held":  # the new round's interview is held now
            self.held = now
            self.heard = max(self.heard, now)
            self.thanks.append(now)
        if event in rules.contact_events:
            self.heard = now
            self.thanks.clear()
        if entered is not None:
            self.stage = entered
            self.spec, self.owes, self.ended = rules.stages[self.stage]  # its roles
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
            found.pop(_WARM_UNTIL, None)
            if spec.kind is _POOL and app.warm_until is not None:
                found[_WARM_UNTIL] = rules.timeline.minute_after(app.warm_until) - 1
        if owner is _INTERVIEWERS and (moved or event in ("submit_scorecard", "round_held")):
            assert service is not None
            self._scorecards(rules, app, service.deadline or self.stage)
        elif owner is _APPROVERS and (moved or event in _APPROVAL_EVENTS):
            assert service is not None
            if event == "record_approval" and record.data.get("granted"):
                approver = record.data.get("approver") or record.actor
                self.grants[str(approver)] = now
            found[service.deadline or self.stage] = self._approval_due(rules, app, requisition)
        if event in _OFFER_EVENTS:
            offer = app.offer
            if offer is not None and offer.status is _EXTENDED:
                found["offer_expiry"] = rules.timeline.minute_after(offer.valid_until) - 1

    def _scorecards(self, rules: ServiceMinutes, app: Application, code: str) -> None:
        interview = app.interview()
        # the interview's fields read from its dict (pydantic's slow path skipped, as observe's
        # caller does for the record)
        fields = interview.__dict__ if interview is not None else None
        if fields is None or fields["held_at"] is None:
            self.open.pop(code, None)
            return
        held = fields["round"]  # who submitted a scorecard for it (Application.scorecards_for)
        submitted = {card.interviewer for card in app.scorecards if card.round == held}
        if not submitted.issuperset(fields["interviewers"]):
            self.open[code] = self.held + rules.allowed[self.stage]
        else:
            self.open.pop(code, None)

    def _approval_due(
        self, rules: ServiceMinutes, app: Application, requisition: Requisition
    ) -> int:
        """When the open approval step is due (ServiceLevels' rule), in business minutes."""
        entered = rules.timeline.instant(self.entered)
        # the steps the application's own approval waits on, as the policy says (with position
        # approval only the offer steps), as ServiceLevels reads them
        states = application_approval_state(app, requisition, rules.policy, since=entered)
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
        elif self.owed:  # an ended application owes only what its events left owed
            self._owed_overdue(rules, end)

    def wants_update(self) -> bool:
        """Whether a periodic update should be scheduled for the latest news."""
        return self.owes and self.update_for != self.heard


_WARM_UNTIL = DeadlineKind.warm_until.value  # a talent-pool stay's end
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
