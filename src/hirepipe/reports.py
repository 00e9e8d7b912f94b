"""What histories show: the funnel, time in stage, rejections, missed service levels, calibration.

```python
report = funnel(applications, requisitions, policy)
report.conversions["review"].rate   # the share of those reviewed who went on
pandas.DataFrame(report.rows("time_in_stage"))
pandas.DataFrame(calibration(applications, policy).rows())  # who rates harsher than the panel
```

Everything comes from the applications alone, their histories and scorecards (in memory, or
``store.applications()``), so a report can be rebuilt at any time. Business days are counted
in each requisition's calendar. Service levels are judged per visit from the stage's own
``ServiceLevel`` (time in the stage against its days, owed by its owner), the thank-you
(interview to the next contact), the update cadence (the longest wait between contacts in a
stage that owes updates) and what events left owed (a [`FollowUp`][hirepipe.policy.FollowUp]:
a feedback request until the feedback is sent, a scheduling step until the next).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from hirepipe.errors import RequisitionMismatch
from hirepipe.models import Application, Requisition, Scorecard, TransitionRecord
from hirepipe.policy import OVERALL, Owner, Policy, StageKind
from hirepipe.timeline.calendar import BusinessCalendar, calendar_for
from hirepipe.timeline.deadlines import CANDIDATE_CONTACT_EVENTS, DeadlineKind

__all__ = [
    "TABLES",
    "Breaches",
    "Calibration",
    "CalibrationReport",
    "Conversion",
    "CounterOffer",
    "FunnelReport",
    "Rejections",
    "StageTime",
    "Table",
    "blind",
    "calibration",
    "counter_offers",
    "funnel",
]

Table = Literal["conversions", "time_in_stage", "rejections", "breaches"]
"""The name of one of a [`FunnelReport`][hirepipe.reports.FunnelReport]'s tables."""

TABLES: tuple[Table, ...] = ("conversions", "time_in_stage", "rejections", "breaches")
"""Every table of a funnel report, in the order the command line prints them."""


@dataclass(frozen=True, slots=True)
class Conversion:
    """Where the applications that entered ``stage`` went next, and how many went forward.

    ``rate`` is ``forward / left``: of those that left the stage, the share that took its
    forward event (None when nobody left it yet).
    """

    stage: str
    entered: int
    left: int
    forward: int
    rate: float | None
    to: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StageTime:
    """Business days spent in one stage per ended visit: how many visits, P50 and P90."""

    stage: str
    visits: int
    p50: float | None
    p90: float | None
    mean: float | None


@dataclass(frozen=True, slots=True)
class Rejections:
    """How many applications were rejected from ``stage`` for ``reason`` (and on which side)."""

    stage: str
    reason: str
    side: str
    count: int


@dataclass(frozen=True, slots=True)
class Breaches:
    """How often a service level was missed in ``stage``, by its kind and who owed it."""

    stage: str
    kind: str
    owner: str
    missed: int
    owed: int


@dataclass(frozen=True, slots=True)
class FunnelReport:
    """The funnel of a set of applications; ``rows(table)`` gives plain rows for a DataFrame."""

    policy: str
    applications: int
    conversions: dict[str, Conversion]
    time_in_stage: dict[str, StageTime]
    rejections: tuple[Rejections, ...]
    breaches: tuple[Breaches, ...]

    def rows(self, table: Table) -> list[dict[str, Any]]:
        """Return one table as plain rows (``pandas.DataFrame(report.rows("breaches"))``)."""
        if table == "conversions":
            return [
                {k: v for k, v in asdict(c).items() if k != "to"} for c in self.conversions.values()
            ]
        if table == "time_in_stage":
            return [asdict(t) for t in self.time_in_stage.values()]
        if table == "rejections":
            return [asdict(r) for r in self.rejections]
        if table == "breaches":
            return [asdict(b) for b in self.breaches]
        raise ValueError(
            f"no table {table!r}; choose conversions, time_in_stage, rejections or breaches"
        )


def funnel(
    applications: Iterable[Application],
    requisitions: Mapping[str, Requisition] | Iterable[Requisition],
    policy: Policy,
    *,
    now: datetime | None = None,
) -> FunnelReport:
    """Build the funnel report of ``applications`` (run under ``policy``) from their histories.

    ``requisitions`` maps ids to the applications' requisitions (or lists them): their
    calendars count business days. ``now`` (aware) judges the service levels still running;
    without it only ended visits count. Raises RequisitionMismatch for an application whose
    requisition is not given.
    """
    by_id = (
        requisitions
        if isinstance(requisitions, Mapping)
        else {requisition.id: requisition for requisition in requisitions}
    )
    counter = _Counter(policy, now)
    count = 0
    for application in applications:
        requisition = by_id.get(application.requisition_id)
        if requisition is None:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given="<not passed>",
            )
        counter.take(application, calendar_for(requisition))
        count += 1
    return counter.report(count)


class _Counter:
    """Tallies what histories show, stage by stage."""

    def __init__(self, policy: Policy, now: datetime | None) -> None:
        self.policy = policy
        self.now = now
        self.entered: dict[str, int] = dict.fromkeys(policy.stages, 0)
        self.moves: dict[str, dict[str, int]] = {stage: {} for stage in policy.stages}
        self.forward: dict[str, int] = dict.fromkeys(policy.stages, 0)
        self.days: dict[str, list[int]] = {stage: [] for stage in policy.stages}
        self.rejected: dict[tuple[str, str], int] = {}
        self.missed: dict[tuple[str, str, str], list[int]] = {}
        self.contact = CANDIDATE_CONTACT_EVENTS
        settings = policy.settings
        self.thank_you_days = settings.thank_you_days
        self.cadence = settings.update_cadence_days

    def _judge(self, stage: str, kind: str, owner: str, missed: bool) -> None:
        tally = self.missed.setdefault((stage, kind, owner), [0, 0])
        tally[0] += int(missed)
        tally[1] += 1

    def take(self, application: Application, calendar: BusinessCalendar) -> None:
        policy = self.policy
        transitions = [
            r for r in application.history if r.kind == "transition" and r.from_stage != r.to_stage
        ]
        stage, since = policy.initial, application.created_at
        self.entered[stage] += 1
        contacts = [r.at for r in application.history if r.event in self.contact]
        held = [i.held_at for i in application.interviews if i.held_at is not None]
        for held_at in held:  # the thank-you: a contact within its days of each interview
            due = calendar.add_business_days(held_at, self.thank_you_days)
            answered = any(held_at <= at <= due for at in contacts)
            if (
                answered
                or (self.now is not None and self.now > due)
                or any(at > due for at in contacts)
            ):
                self._judge(stage, DeadlineKind.thank_you, Owner.hiring_manager, not answered)
        for record in transitions:
            left, to = record.from_stage, record.to_stage
            if left in self.moves:
                self.moves[left][to] = self.moves[left].get(to, 0) + 1
                if policy.forward(left) == record.event:
                    self.forward[left] += 1
                self._visit(application, left, since, record.at, calendar, contacts)
            reason = record.reason
            if (
                reason is not None
                and reason in policy.rejection_reasons
                and to in policy.stages
                and policy.fell_through(to)
            ):
                key = (left, reason)
                self.rejected[key] = self.rejected.get(key, 0) + 1
            if to in self.entered:
                self.entered[to] += 1
            stage, since = to, record.at
        if self.now is not None and stage in policy.stages and not policy.is_terminal(stage):
            self._visit(application, stage, since, self.now, calendar, contacts, ended=False)
        if policy.follow_ups:
            self._follow_ups(application, calendar)

    def _follow_ups(self, application: Application, calendar: BusinessCalendar) -> None:
        """Judge what the application's events left owed (a feedback request, a scheduling step).

        Opened and closed as the overdue sweep does: a record closes the open follow-ups that
        name its event, then opens its own event's unless one is open (the first stands). A
        closed one is judged by when it closed; one still open, by ``now`` once past due (and
        only while the application is in its ``stages``, if it names some).
        """
        follow_ups = self.policy.follow_ups
        opened: dict[str, TransitionRecord] = {}
        for record in application.history:
            for name in [n for n in opened if record.event in follow_ups[n].closed_by]:
                self._follow_up(name, opened.pop(name), record.at, calendar)
            follow_up = follow_ups.get(record.event)
            if (
                follow_up is not None
                and record.event not in opened
                and (follow_up.unless is None or record.data.get(follow_up.unless) is None)
            ):
                opened[record.event] = record
        for name, record in opened.items():
            stages = follow_ups[name].stages
            if not stages or application.stage in stages:
                self._follow_up(name, record, None, calendar)

    def _follow_up(
        self,
        event: str,
        record: TransitionRecord,
        closed: datetime | None,
        calendar: BusinessCalendar,
    ) -> None:
        follow_up = self.policy.follow_ups[event]
        days = follow_up.days
        allowed = int(getattr(self.policy.settings, days) if isinstance(days, str) else days)
        due = calendar.add_business_days(record.at, allowed)
        stop = closed if closed is not None else self.now
        if stop is not None and (closed is not None or stop > due):
            self._judge(record.to_stage, follow_up.deadline or event, follow_up.owner, stop > due)

    def _visit(
        self,
        application: Application,
        stage: str,
        start: datetime,
        stop: datetime,
        calendar: BusinessCalendar,
        contacts: Sequence[datetime],
        *,
        ended: bool = True,
    ) -> None:
        spec = self.policy.stage(stage)
        days = calendar.business_days_between(calendar.local_date(start), calendar.local_date(stop))
        if ended and spec.kind is not StageKind.terminal:
            self.days[stage].append(days)
        service = spec.service
        allowed = self.policy.service_days(stage)
        if (
            service is not None
            and allowed is not None
            and service.owner
            not in (
                Owner.candidate,
                Owner.interviewers,
                Owner.approvers,
            )
        ):
            due = calendar.add_business_days(start, allowed)
            if ended or stop > due:
                self._judge(stage, service.deadline or stage, service.owner, stop > due)
        if spec.owes_updates:
            heard = [start, *(at for at in contacts if start <= at <= stop), stop]
            longest = max(
                calendar.business_days_between(calendar.local_date(a), calendar.local_date(b))
                for a, b in itertools.pairwise(heard)
            )
            if ended or longest > self.cadence:
                missed = longest > self.cadence
                self._judge(stage, DeadlineKind.candidate_update, Owner.hiring_manager, missed)

    def report(self, count: int) -> FunnelReport:
        policy = self.policy
        conversions = {}
        for stage in policy.stages:
            left = sum(self.moves[stage].values())
            forward = self.forward[stage]
            conversions[stage] = Conversion(
                stage=stage,
                entered=self.entered[stage],
                left=left,
                forward=forward,
                rate=round(forward / left, 6) if left else None,
                to=dict(sorted(self.moves[stage].items())),
            )
        times = {}
        for stage, spans in self.days.items():
            if policy.stage(stage).kind is StageKind.terminal:
                continue
            values = np.asarray(spans, dtype=float)
            times[stage] = StageTime(
                stage=stage,
                visits=len(spans),
                p50=float(np.percentile(values, 50)) if spans else None,
                p90=float(np.percentile(values, 90)) if spans else None,
                mean=round(float(values.mean()), 6) if spans else None,
            )
        rejections = tuple(
            Rejections(
                stage=stage,
                reason=reason,
                side=str(policy.rejection_reasons.get(reason, "unknown")),
                count=n,
            )
            for (stage, reason), n in sorted(self.rejected.items())
        )
        breaches = tuple(
            Breaches(stage=stage, kind=str(kind), owner=str(owner), missed=m, owed=o)
            for (stage, kind, owner), (m, o) in sorted(self.missed.items())
        )
        return FunnelReport(policy.label, count, conversions, times, rejections, breaches)


def blind(applications: Iterable[Application]) -> list[dict[str, Any]]:
    """A blind review view of a slate: stages, rounds and scores, no names, e-mails or free text.

    Each row has an anonymous ``candidate`` number (in the order given), the stage, the
    interview rounds, and each scorecard's recommendation by round, with no interviewer
    names either: a panel can compare the slate without who is who.
    """
    rows = []
    for number, application in enumerate(applications, start=1):
        rows.append(
            {
                "candidate": f"candidate {number}",
                "stage": application.stage,
                "rounds": application.round,
                "recommendations": [
                    _blind_card(card)
                    for card in sorted(application.scorecards, key=lambda c: c.round)
                ],
            }
        )
    return rows


def _blind_card(card: Scorecard) -> dict[str, Any]:
    """A scorecard's round, recommendation and attribute ratings; no notes, no interviewer."""
    row: dict[str, Any] = {"round": card.round, "recommendation": str(card.recommendation)}
    if card.ratings:  # structured: the ratings, never their notes
        row["ratings"] = {rating.attribute: rating.rating for rating in card.ratings}
    return row


# -- interviewer calibration ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Calibration:
    """One interviewer's ratings of an attribute (or the overall recommendation) beside the panel's.

    ``attribute`` is an attribute of the policy's scorecard scheme, or
    [`OVERALL`][hirepipe.policy.OVERALL] for the overall recommendation (scored -2 .. 2).
    ``count`` and ``mean`` are the interviewer's ratings; ``panel_count`` and ``panel_mean``
    every interviewer's (theirs included) over the same applications; ``difference`` is
    ``mean - panel_mean``: below zero, harsher than the panel. ``peer_difference`` compares
    like with like: over the scorecards where someone else of the same round rated the same
    candidate on it, the mean of (their rating - the others' mean); None when they never shared a
    candidate with another rater.
    """

    interviewer: str
    attribute: str
    count: int
    mean: float
    panel_count: int
    panel_mean: float
    difference: float
    peer_difference: float | None


@dataclass(frozen=True, slots=True)
class CalibrationReport:
    """Each interviewer's ratings against the panel's; ``rows()`` gives rows for a DataFrame."""

    policy: str
    scorecards: int
    calibrations: tuple[Calibration, ...]

    def rows(self) -> list[dict[str, Any]]:
        """Return the calibrations as plain rows (``pandas.DataFrame(report.rows())``)."""
        return [asdict(c) for c in self.calibrations]

    def of(self, interviewer: str, attribute: str = OVERALL) -> Calibration | None:
        """Return ``interviewer``'s calibration on ``attribute`` (default: overall), if any."""
        for calibration in self.calibrations:
            if calibration.interviewer == interviewer and calibration.attribute == attribute:
                return calibration
        return None


def calibration(applications: Iterable[Application], policy: Policy) -> CalibrationReport:
    """Build the interviewer calibration report of ``applications`` (run under ``policy``).

    The latest scorecard of each interviewer for each application and round counts. Overall
    recommendations are scored -2 (strong_no) .. 2 (strong_yes); attribute ratings on the
    scale of the policy's scorecard scheme (none without one). A rating of an attribute the
    scheme no longer defines, or off its scale, is left out.
    """
    scheme = policy.settings.scorecard
    attributes = [OVERALL, *(scheme.names if scheme is not None else ())]
    # (application, round) -> attribute -> interviewer -> score
    panels: dict[tuple[str, int], dict[str, dict[str, float]]] = {}
    cards = 0
    for application in applications:
        latest: dict[tuple[int, str], Scorecard] = {}
        for card in application.scorecards:
            latest[(card.round, card.interviewer)] = card
        cards += len(latest)
        for (round_number, interviewer), card in latest.items():
            panel = panels.setdefault((application.id, round_number), {})
            panel.setdefault(OVERALL, {})[interviewer] = float(card.recommendation.score)
            if scheme is None:
                continue
            for rating in card.ratings:
                score = scheme.score(rating.rating)
                if score is not None and scheme.attribute(rating.attribute) is not None:
                    panel.setdefault(rating.attribute, {})[interviewer] = score
    own: dict[tuple[str, str], list[float]] = {}
    against_peers: dict[tuple[str, str], list[float]] = {}
    everyone: dict[str, list[float]] = {}
    for panel in panels.values():
        for attribute, scores in panel.items():
            everyone.setdefault(attribute, []).extend(scores.values())
            total = sum(scores.values())
            for interviewer, score in scores.items():
                own.setdefault((interviewer, attribute), []).append(score)
                if len(scores) > 1:
                    others = (total - score) / (len(scores) - 1)
                    against_peers.setdefault((interviewer, attribute), []).append(score - others)
    order = {name: position for position, name in enumerate(attributes)}
    rows = []
    for interviewer, attribute in sorted(own, key=lambda key: (key[0], order[key[1]])):
        mine, panel_scores = own[(interviewer, attribute)], everyone[attribute]
        mean, panel_mean = _mean(mine), _mean(panel_scores)
        peers = against_peers.get((interviewer, attribute))
        rows.append(
            Calibration(
                interviewer=interviewer,
                attribute=attribute,
                count=len(mine),
                mean=mean,
                panel_count=len(panel_scores),
                panel_mean=panel_mean,
                difference=round(mean - panel_mean, 6),
                peer_difference=_mean(peers) if peers else None,
            )
        )
    return CalibrationReport(policy.label, cards, tuple(rows))


def _mean(values: Sequence[float]) -> float:
    return round(math.fsum(values) / len(values), 6)


@dataclass(frozen=True, slots=True)
class CounterOffer:
    """One counter-offer as the history shows it: what was asked, and what answered it.

    ``asked`` holds the terms asked for (``salary``, ``bonus``, ``equity`` as decimal strings,
    ``start_date`` ISO 8601), without the candidate's note (free text stays out of reports).
    ``answer`` is the event that next moved the application (a revision, a decline, an
    expiry...), None while the negotiation is open; ``met`` and ``unmet`` the terms the
    revision met and did not (empty for other answers, and for counters written before
    counters had terms); ``before_competing_deadline`` whether it went out in time.
    """

    application: str
    version: int | None
    at: datetime
    asked: dict[str, str]
    competing_deadline: str | None
    answer: str | None
    met: tuple[str, ...]
    unmet: tuple[str, ...]
    before_competing_deadline: bool | None

    def row(self) -> dict[str, Any]:
        """The counter-offer as one flat row, each asked term a column (``asked_salary``)."""
        flat = {k: v for k, v in asdict(self).items() if k != "asked"}
        flat.update({f"asked_{term}": self.asked.get(term) for term in _ASKED})
        flat["met"], flat["unmet"] = ", ".join(self.met), ", ".join(self.unmet)
        return flat


_ASKED = ("salary", "bonus", "equity", "start_date")


def counter_offers(
    applications: Iterable[Application], *, event: str = "counter"
) -> list[CounterOffer]:
    """Every counter-offer in the histories of ``applications``, oldest first per application.

    ``event`` names the counter-offer event (``counter`` in the standard policy). The revision
    that answers a counter records what it met (``answers_counter``); this reads it back.
    """
    found = []
    for application in applications:
        history = application.history
        for index, record in enumerate(history):
            if record.event != event:
                continue
            data = record.data
            answer = next((r for r in history[index + 1 :] if r.kind == "transition"), None)
            answered = answer.data.get("answers_counter") if answer is not None else None
            verdict = answered if isinstance(answered, dict) else {}
            version, deadline = data.get("version"), data.get("competing_deadline")
            in_time = verdict.get("before_competing_deadline")
            found.append(
                CounterOffer(
                    application=application.id,
                    version=version if isinstance(version, int) else None,
                    at=record.at,
                    asked={t: str(data[t]) for t in _ASKED if data.get(t) is not None},
                    competing_deadline=deadline if isinstance(deadline, str) else None,
                    answer=answer.event if answer is not None else None,
                    met=tuple(str(t) for t in _list(verdict.get("met"))),
                    unmet=tuple(str(t) for t in _list(verdict.get("unmet"))),
                    before_competing_deadline=in_time if isinstance(in_time, bool) else None,
                )
            )
    return found


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
