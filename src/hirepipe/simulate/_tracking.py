"""What a simulated application went through: silences, service-level breaches, notifications.

A deadline is *breached* when it was overdue (``due < now``) at some moment while it was open,
exactly as :class:`~hirepipe.timeline.ServiceLevels` would have reported it at that moment.
Deriving the deadlines with ``ServiceLevels.deadlines`` after every event costs about 100 us a
call, more than the event itself, so :class:`SeatTracker` keeps them up to date from the
records as they are written, following the same rules (``tests/test_simulate.py`` checks the
two agree on simulated requisitions):

- ``candidate_update``: while the stage is active or paused, due ``update_cadence_days`` after
  the candidate last heard from us: a contact event (``ServiceLevels.contact_events``), an
  interview held, or the application's creation;
- ``thank_you``: every interview held, until a contact at or after it;
- ``scorecards``: in ``interviewed`` and ``debrief``, until every interviewer of the round
  submitted; ``review``, ``references``: from entering the stage; ``approval``: the open
  step's, from when it opened (:func:`hirepipe.standard._approvals.chain_state`), then the approval
  itself; ``offer_expiry``: while an offer is out.

Overdue is monotone in time and deadlines change only when the application does, so checking
the open ones at each record about the application, and at the run's end, finds every breach.
Times are business minutes (see :mod:`hirepipe.simulate._scenario`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import pendulum

from hirepipe.models import Application, OfferStatus, Requisition, TransitionRecord
from hirepipe.pipeline import Hook
from hirepipe.policy import Policy, StageKind
from hirepipe.standard._approvals import chain_state, current_step
from hirepipe.timeline.deadlines import ServiceLevels

__all__ = ["CADENCE_KINDS", "IN_FLIGHT", "OutboxFactory", "Rules", "RunNotifier", "SeatTracker"]

CADENCE_KINDS = frozenset({StageKind.active, StageKind.paused})
"""Stage kinds in which a candidate is owed regular updates."""
IN_FLIGHT = frozenset({"approval", "references", "offer", "negotiation"})
"""Stages of a candidate chosen for the open headcount (the slate's own set)."""

_MINUTES = 480
_SCORECARD_STAGES = frozenset({"interviewed", "debrief"})
_STAGE_DEADLINES = ("scorecards", "review", "approval", "references")
_OFFER_EVENTS = frozenset({"extend_offer", "revise_offer"})
_APPROVAL_EVENTS = frozenset({"record_approval", "replace_approver"})


class _Timeline(Protocol):
    def instant(self, minute: int) -> pendulum.DateTime: ...

    def minute_after(self, when: Any) -> int: ...


@dataclass(frozen=True, slots=True)
class Rules:
    """The policy's service levels, in business minutes, and what the tracker needs to read."""

    policy: Policy
    kinds: Mapping[str, StageKind]
    contact_events: frozenset[str]
    timeline: _Timeline
    cadence: int
    thank_you: int
    scorecards: int
    review: int
    references: int
    approval_days: int

    @classmethod
    def of(cls, policy: Policy, contact_events: frozenset[str], timeline: _Timeline) -> Rules:
        """The rules of ``policy`` on ``timeline``."""
        settings = policy.settings
        return cls(
            policy=policy,
            kinds={name: spec.kind for name, spec in policy.stages.items()},
            contact_events=contact_events,
            timeline=timeline,
            cadence=settings.update_cadence_days * _MINUTES,
            thank_you=settings.thank_you_days * _MINUTES,
            scorecards=settings.scorecard_days * _MINUTES,
            review=settings.review_days * _MINUTES,
            references=settings.reference_check_days * _MINUTES,
            approval_days=settings.approval_days,
        )


class SeatTracker:
    """One application's stage, last news, open deadlines and breaches, kept from its records."""

    __slots__ = (
        "asked",
        "breached",
        "entered",
        "grants",
        "heard",
        "held",
        "kind",
        "longest_silence",
        "next_round",
        "open",
        "stage",
        "step_times",
        "thanks",
        "update_for",
        "visit_count",
    )

    def __init__(self, stage: str, kind: StageKind, entered: int) -> None:
        self.stage = stage
        self.kind = kind
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
        self.next_round = 0
        self.update_for = -1

    def _overdue(self, rules: Rules, now: int) -> None:
        for kind, due in self.open.items():
            if now > due:
                self.breached.add(kind)
        if self.thanks and now > self.thanks[0] + rules.thank_you:
            self.breached.add("thank_you")
        if self.kind in CADENCE_KINDS and now - self.heard > self.longest_silence:
            self.longest_silence = now - self.heard

    def observe(
        self,
        rules: Rules,
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
            self.kind = rules.kinds[self.stage]
            self.entered = now
        if self.kind is StageKind.terminal:
            self.open.clear()
            self.thanks.clear()
            return
        found = self.open
        if self.kind in CADENCE_KINDS:
            found["candidate_update"] = self.heard + rules.cadence
        else:
            found.pop("candidate_update", None)
        stage = self.stage
        if moved:
            for kind in _STAGE_DEADLINES:
                found.pop(kind, None)
            if stage == "review":
                found["review"] = now + rules.review
            elif stage == "references":
                found["references"] = now + rules.references
        if stage in _SCORECARD_STAGES and (moved or event in ("submit_scorecard", "round_held")):
            self._scorecards(rules, app)
        elif stage == "approval" and (moved or event in _APPROVAL_EVENTS):
            if event == "record_approval" and record.data.get("granted"):
                approver = record.data.get("approver") or record.actor
                self.grants[str(approver)] = now
            found["approval"] = self._approval_due(rules, app, requisition)
        if event in _OFFER_EVENTS:
            offer = app.offer
            if offer is not None and offer.status is OfferStatus.extended:
                found["offer_expiry"] = rules.timeline.minute_after(offer.valid_until) - 1

    def _scorecards(self, rules: Rules, app: Application) -> None:
        interview = app.interview()
        if interview is None or interview.held_at is None:
            self.open.pop("scorecards", None)
            return
        submitted = {card.interviewer for card in app.scorecards_for(interview.round)}
        if any(person not in submitted for person in interview.interviewers):
            self.open["scorecards"] = self.held + rules.scorecards
        else:
            self.open.pop("scorecards", None)

    def _approval_due(self, rules: Rules, app: Application, requisition: Requisition) -> int:
        """When the open approval step is due (ServiceLevels' rule), in business minutes."""
        entered = rules.timeline.instant(self.entered)
        settings = rules.policy.settings
        states = chain_state(app, requisition, settings, since=entered)
        current = current_step(states)
        if current is None:  # every step granted: the hiring manager owes ``approve``
            return self.entered + rules.approval_days * _MINUTES
        earlier = {p for s in states[: states.index(current)] for p in s.approvers}
        grants = [m for person, m in self.grants.items() if person in earlier]
        opened = max([self.entered, *(m for m in grants if m >= self.entered)])
        return opened + (current.step.due_days or rules.approval_days) * _MINUTES

    def finish(self, rules: Rules, end: int) -> None:
        """The run ended at business minute ``end``: what was still open and overdue then."""
        if self.kind is not StageKind.terminal:
            self._overdue(rules, end)

    def wants_update(self) -> bool:
        """Whether a periodic update should be scheduled for the latest news."""
        return self.kind in CADENCE_KINDS and self.update_for != self.heard


# -- notifications ----------------------------------------------------------------------------


class RunNotifier:
    """One run's notifications through :mod:`hirepipe.notify`: a Notifier and an Outbox."""

    def __init__(self, hook: Hook, created: Callable[..., object], outbox: Any) -> None:
        self.hook = hook
        self.created = created
        self.outbox = outbox

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for notification in self.outbox:
            found[notification.rule] = found.get(notification.rule, 0) + 1
        return found


class OutboxFactory:
    """Builds a Notifier and an in-memory Outbox per run, when the notify layer can."""

    def __init__(self, policy: Policy, levels: ServiceLevels, module: Any) -> None:
        self.policy = policy
        self.levels = levels
        self.module = module
        self.templates = module.Templates()

    @classmethod
    def for_policy(cls, policy: Policy, levels: ServiceLevels) -> OutboxFactory | None:
        """A factory if ``hirepipe.notify`` imports and the policy has notification rules."""
        if not policy.notifications:
            return None
        try:
            import hirepipe.notify as notify
        except ImportError:  # pragma: no cover - the notify layer ships with hirepipe
            return None
        return cls(policy, levels, notify)

    def start(self, requisition: Requisition) -> RunNotifier:
        notify = self.module
        outbox = notify.Outbox()
        notifier = notify.Notifier(
            outbox,
            self.policy,
            templates=self.templates,
            levels=self.levels,
            estimate=notify.no_estimate,  # counted, never read: estimates would cost time
            requisitions=[requisition],
        )
        return RunNotifier(notifier, notifier.created, outbox)
