"""The requisition level: a slate of candidates reviewed together, filled, and kept warm.

```python
slate = Slate(pipeline, requisition)
fired = slate.fire(application.id, "withdraw", actor=candidate.id)  # the runner-up moves up
```

A hiring decision is never about one candidate. A [`Slate`][hirepipe.slate.Slate] holds a
requisition and its applications and fires every event through the
[`Pipeline`][hirepipe.pipeline.Pipeline]. It knows stages only by their roles
(``StageSpec.role``), so a company's own stages work here too:

- the review (the ``review`` stages) closes when no candidate is left in an ``assessment``
  stage, or at the review's service-level deadline; until then the events that take a
  candidate from the review into the headcount are blocked with ``review_open``;
- filling the last headcount (entering a ``hired`` stage) keeps the best runner-ups warm in the
  talent pool (up to the policy's ``runner_ups``) and rejects everyone else still open
  (``role_filled``), so nobody is left in limbo;
- when a candidate ``in_flight`` ends in any other terminal stage (declined, withdrew, let an
  offer lapse, was rejected late), the next runner-up is brought forward along the review's
  forward events, from the review or back from the talent pool;
- a budget freeze holds the whole slate and a thaw resumes it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pendulum

from hirepipe.errors import (
    Blocker,
    GuardRejected,
    PolicyError,
    PolicyProblem,
    PositionError,
    RequisitionMismatch,
    SlateError,
)
from hirepipe.models import (
    Application,
    Candidate,
    Recommendation,
    Requisition,
    RequisitionStatus,
    TransitionRecord,
    as_instant,
)
from hirepipe.pipeline import Fired, Pipeline
from hirepipe.policy import (
    ATTRIBUTE_RANKING,
    Policy,
    PolicySettings,
    ScorecardScheme,
    StageKind,
    StageRole,
)
from hirepipe.positions import Positions
from hirepipe.timeline.calendar import calendar_for

__all__ = [
    "RANKINGS",
    "Ranked",
    "Ranking",
    "Slate",
    "by_attributes",
    "mean_recommendation",
    "ranking_of",
]

POOL = StageKind.pool

Ranking = Callable[[Application], tuple[float, ...]]
"""A sort key for an application: higher ranks first."""

_STRONG_YES = Recommendation.strong_yes
_NO_SCORE = -3.0  # below strong_no: candidates without scorecards rank last
_UNRATED = -math.inf  # below any level of any scale: candidates not rated on it rank last


def mean_recommendation(application: Application) -> tuple[float, ...]:
    """Rank by mean recommendation (latest scorecard per interviewer and round), then strong_yes."""
    latest = {(c.interviewer, c.round): c.recommendation for c in application.scorecards}
    if not latest:
        return (_NO_SCORE, 0.0)
    total = strong = 0
    for recommendation in latest.values():
        total += recommendation.score
        strong += recommendation is _STRONG_YES
    return (total / len(latest), float(strong))


RANKINGS: dict[str, Ranking] = {"mean_recommendation": mean_recommendation}
"""Rankings a policy names in its ``ranking`` setting; add your own by name.

The setting ``"attributes"`` ([`ATTRIBUTE_RANKING`][hirepipe.policy.ATTRIBUTE_RANKING]) needs
no entry here: it ranks by the policy's scorecard scheme
([`by_attributes`][hirepipe.slate.by_attributes]).
"""


def by_attributes(scheme: ScorecardScheme, *attributes: str) -> Ranking:
    """Return a ranking by named attributes in turn, then by the overall recommendation.

    Each attribute ranks by its mean score (the latest scorecard per interviewer and round
    that rates it, scored on ``scheme``'s scale); a candidate nobody rated on it ranks below
    every rated one. ``attributes`` default to the scheme's ``rank_by``. Ties on every
    attribute fall back to [`mean_recommendation`][hirepipe.slate.mean_recommendation].
    Raises [`PolicyError`][hirepipe.errors.PolicyError] for a name the scheme does not define,
    or when no attribute is named.
    """
    names = attributes or scheme.rank_by
    unknown = [name for name in names if scheme.attribute(name) is None]
    if unknown or not names:
        message = (
            f"no attribute {', '.join(unknown)} in the scorecard scheme: {', '.join(scheme.names)}"
            if unknown
            else "name the attributes to rank by (or the scheme's rank_by)"
        )
        raise PolicyError([PolicyProblem("by_attributes", message)])

    def attribute_ranking(application: Application) -> tuple[float, ...]:
        latest = {(c.interviewer, c.round): c for c in application.scorecards}.values()
        key: list[float] = []
        for name in names:
            scores = [
                score
                for card in latest
                if (rating := card.rating_of(name)) is not None
                and (score := scheme.score(rating.rating)) is not None
            ]
            key.append(sum(scores) / len(scores) if scores else _UNRATED)
        return (*key, *mean_recommendation(application))

    attribute_ranking.__name__ = f"by_attributes({', '.join(names)})"
    return attribute_ranking


def ranking_of(settings: PolicySettings) -> Ranking | None:
    """Return the ranking a policy's settings name, or None when RANKINGS has no such name."""
    if settings.ranking in RANKINGS:
        return RANKINGS[settings.ranking]
    if settings.ranking == ATTRIBUTE_RANKING and settings.scorecard is not None:
        return by_attributes(settings.scorecard)
    return None


@dataclass(frozen=True, slots=True)
class Ranked:
    """An application's place on the slate."""

    application: Application
    key: tuple[float, ...]

    @property
    def score(self) -> float:
        """The first part of the ranking key (the mean recommendation by default)."""
        return self.key[0]


@dataclass(frozen=True, slots=True)
class _Roles:
    """What a slate reads of its policy's stages and events, worked out once per policy."""

    assessing: frozenset[str]
    reviewing: frozenset[str]
    in_flight: frozenset[str]
    hired: frozenset[str]  # entering one fills a headcount
    fell_through: frozenset[str]  # ending an application without (Policy.fell_through)
    choosing: frozenset[str]  # events that take an application into the headcount
    open: frozenset[str]  # stages of applications still open (active or paused)


_ROLES: dict[int, tuple[Policy, _Roles]] = {}
_ROLES_KEPT = 64


def _roles_of(policy: Policy) -> _Roles:
    """The slate's reading of ``policy`` (immutable), kept for the last policies asked about."""
    found = _ROLES.get(id(policy))
    if found is not None and found[0] is policy:
        return found[1]
    in_flight = policy.stages_in(StageRole.in_flight)
    roles = _Roles(
        assessing=policy.stages_in(StageRole.assessment),
        reviewing=policy.stages_in(StageRole.review),
        in_flight=in_flight,
        hired=policy.stages_in(StageRole.hired),
        fell_through=frozenset(s for s in policy.stages if policy.fell_through(s)),
        choosing=frozenset(n for n, spec in policy.events.items() if spec.dest in in_flight),
        open=frozenset(
            name
            for name, spec in policy.stages.items()
            if spec.kind in (StageKind.active, StageKind.paused)
        ),
    )
    if len(_ROLES) >= _ROLES_KEPT:
        _ROLES.clear()
    _ROLES[id(policy)] = (policy, roles)
    return roles


class Slate:
    """A requisition and its applications, run through one pipeline.

    ``ranking`` overrides the policy's ``ranking`` setting. Every method that changes anything
    fires events through the pipeline and returns their records; errors leave everything as it
    was (a fill or a fall-through stops at the first refusal it cannot route around).

    ``positions``, when the requisition's own lifecycle is kept
    ([`Positions`][hirepipe.positions.Positions]), fires its changes: the last hire fires the
    requisition's ``fill``, and a freeze and a thaw its ``hold`` and ``resume``, instead of
    setting its status.
    """

    def __init__(
        self,
        pipeline: Pipeline,
        requisition: Requisition,
        applications: Iterable[Application] = (),
        *,
        ranking: Ranking | None = None,
        positions: Positions | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.requisition = requisition
        self.positions = positions
        settings = pipeline.policy.settings
        if ranking is None:
            ranking = ranking_of(settings)
            if ranking is None:
                raise SlateError(
                    f"the policy ranks by {settings.ranking!r}, which is not in RANKINGS: "
                    f"{', '.join(RANKINGS)} (or {ATTRIBUTE_RANKING!r}, with a scorecard scheme)",
                    requisition_id=requisition.id,
                    application_id="",
                )
        self._ranking = ranking
        roles = _roles_of(pipeline.policy)
        self._assessing = roles.assessing
        self._reviewing = roles.reviewing
        self._in_flight = roles.in_flight
        self._hired = roles.hired
        self._fell_through = roles.fell_through
        self._choosing = roles.choosing
        self._open_stages = roles.open
        self._applications: dict[str, Application] = {}
        # the review's first entry, kept up to date from the records not read yet (see
        # _first_review), and the deadline last derived from it
        self._first_entry: tuple[pendulum.DateTime, str] | None = None
        self._read: dict[str, tuple[list[TransitionRecord], int]] = {}
        self._closes: tuple[object, pendulum.DateTime | None] | None = None
        for application in applications:
            self.add(application)

    # -- membership --------------------------------------------------------------------------

    def add(self, application: Application) -> Application:
        """Put an application of this requisition on the slate and return it."""
        if application.requisition_id != self.requisition.id:
            raise RequisitionMismatch(
                application_id=application.id,
                expected=application.requisition_id,
                given=self.requisition.id,
            )
        if application.id in self._applications:
            raise SlateError(
                f"application {application.id!r} is already on the slate of "
                f"{self.requisition.id!r}",
                requisition_id=self.requisition.id,
                application_id=application.id,
            )
        self._applications[application.id] = application
        return application

    def new_application(
        self,
        candidate: Candidate,
        *,
        interviewers: Iterable[str] = (),
        held_at: pendulum.DateTime | None = None,
        application_id: str | None = None,
    ) -> Application:
        """Create an application for ``candidate`` after their first interview, on the slate.

        ``application_id`` defaults to a random one; pass your own for repeatable runs.
        """
        return self.add(
            self.pipeline.new_application(
                candidate,
                self.requisition,
                interviewers=tuple(interviewers),
                held_at=held_at,
                application_id=application_id,
            )
        )

    def get(self, application_id: str) -> Application:
        """Return the application ``application_id``; raise SlateError if it is not here."""
        found = self._applications.get(application_id)
        if found is None:
            raise SlateError(
                f"no application {application_id!r} on the slate of {self.requisition.id!r}",
                requisition_id=self.requisition.id,
                application_id=application_id,
            )
        return found

    def __iter__(self) -> Iterator[Application]:
        return iter(list(self._applications.values()))

    def __len__(self) -> int:
        return len(self._applications)

    def _open(self) -> list[Application]:
        """Applications still open for this requisition (not ended, not pooled)."""
        stages = self._open_stages
        return [a for a in self._applications.values() if a.stage in stages]

    # -- review ------------------------------------------------------------------------------

    def ranking(self, applications: Iterable[Application] | None = None) -> list[Ranked]:
        """Return the open applications (or those given), best first; ties keep slate order."""
        pool = self._open() if applications is None else list(applications)
        ranked = [Ranked(a, self._ranking(a)) for a in pool]
        return sorted(ranked, key=lambda r: r.key, reverse=True)

    def review_deadline(self) -> pendulum.DateTime | None:
        """When the review closes at the latest: its service level's days after the first entry.

        The review is the stages whose role is ``review``; ``None`` before anyone entered one,
        or when none has a service level.
        """
        entry = self._first_review()
        if entry is None:
            return None
        first, stage = entry
        days = self.pipeline.policy.service_days(stage)
        if days is None:
            return None
        calendar = calendar_for(self.requisition)
        key = (first, days, calendar)
        if self._closes is None or self._closes[0] != key:
            closes = as_instant(calendar.add_business_days(first, days))
            self._closes = (key, closes)
        return self._closes[1]

    def _first_review(self) -> tuple[pendulum.DateTime, str] | None:
        """The earliest entry into a review stage of any application on the slate.

        Histories only grow, so only the records not read yet are read; an application that
        left the slate, or a history replaced or shortened (an erasure), starts it over.
        """
        read, applications = self._read, self._applications
        if not read.keys() <= applications.keys():
            read.clear()
        first = self._first_entry if read else None
        reviewing = self._reviewing
        for app_id, application in applications.items():
            history = application.history
            done = read.get(app_id)
            start = 0
            if done is not None:
                if done[0] is not history or done[1] > len(history):
                    read.clear()
                    return self._first_review()
                start = done[1]
            for record in history[start:]:
                if record.to_stage in reviewing and record.kind == "transition":
                    entry = (record.at, record.to_stage)
                    if first is None or entry < first:
                        first = entry
            read[app_id] = (history, len(history))
        self._first_entry = first
        return first

    def review_blockers(self, now: pendulum.DateTime | None = None) -> list[Blocker]:
        """Why the slate's review is still open; empty once it has closed."""
        waiting = [a for a in self._open() if a.stage in self._assessing]
        if not waiting:
            return []
        deadline = self.review_deadline()
        moment = now or self.pipeline.clock.now()
        if deadline is not None and moment >= deadline:
            return []
        # by id: a blocker's message travels in GuardRejected, into logs and error trackers
        names = ", ".join(a.id for a in waiting)
        closes = f"; it closes at {deadline.isoformat()} at the latest" if deadline else ""
        return [
            Blocker(
                "review_open",
                f"the slate's review is open: {len(waiting)} applications not yet debriefed "
                f"({names}){closes}",
                {
                    "waiting": [a.id for a in waiting],
                    "deadline": deadline.isoformat() if deadline else None,
                },
            )
        ]

    # -- firing ------------------------------------------------------------------------------

    def blockers(self, application_id: str, event: str, **data: Any) -> list[Blocker]:
        """Why ``event`` cannot fire now on the application, requisition-level rules included."""
        application = self.get(application_id)
        found = self.pipeline.blockers(application, event, requisition=self.requisition, **data)
        if self._chooses(application, event):
            found = self.review_blockers() + found
        return found

    def _chooses(self, application: Application, event: str) -> bool:
        """Whether ``event`` takes the application from the review into the open headcount."""
        return event in self._choosing and application.stage in self._reviewing

    def fire(
        self,
        application_id: str,
        event: str,
        *,
        actor: str,
        reason: str | None = None,
        **data: Any,
    ) -> list[Fired]:
        """Fire ``event`` on an application of the slate, then apply the requisition's rules.

        Returns a [`Fired`][hirepipe.pipeline.Fired] for every event applied: the event's first,
        then those of a fill (runner-ups pooled, the rest rejected) or a fall-through (the next
        runner-up brought forward); each names its application. The fill and the fall-through
        fire as the pipeline's ``system_actor``: the candidate who accepted rejects nobody.
        """
        application = self._applications.get(application_id)
        if application is None:
            application = self.get(application_id)  # raises
        before = application.stage
        if event in self._choosing and before in self._reviewing:  # _chooses
            blockers = self.review_blockers()
            if blockers:
                raise GuardRejected(
                    application_id=application.id,
                    stage=before,
                    event=event,
                    blockers=blockers,
                )
        pipeline = self.pipeline
        now = pipeline.clock.now()  # the fill keeps runner-ups warm from this moment
        fired = pipeline.fire(
            application, event, actor=actor, requisition=self.requisition, reason=reason, **data
        )
        records = [fired]
        after = fired.record.to_stage
        if (
            after in self._hired
            and before not in self._hired  # entered: an activity is no fill
            and self.requisition.open_headcount == 0
        ):
            records += self._close(pipeline.system_actor, self._warm_until(now))
            self._fill()
        elif after in self._fell_through and before in self._in_flight:
            records += self.fall_through()
        return records

    def _fill(self) -> None:
        """The requisition's own lifecycle, if kept, records that its headcount is filled."""
        requisition, positions = self.requisition, self.positions
        if (
            positions is not None
            and requisition.status is RequisitionStatus.open
            and requisition.filled >= requisition.headcount
        ):
            positions.fire(requisition, "fill", actor=self.pipeline.system_actor)

    def _warm_until(self, now: pendulum.DateTime) -> pendulum.DateTime:
        """The runner-ups' ``warm_until``: the policy's limit, in the requisition's zone."""
        return self.pipeline.policy.settings.warm_limit(now, self.requisition.time_zone)

    def sweep(self, *, actor: str | None = None) -> list[Fired]:
        """Expire every offer past its valid-until date (and fall through); return the records.

        The sweep fires as ``actor``, by default the pipeline's ``system_actor``.
        """
        actor = actor if actor is not None else self.pipeline.system_actor
        records: list[Fired] = []
        for application in self._open():
            if "expire" in self.pipeline.policy.events_from(
                application.stage
            ) and not self.pipeline.blockers(application, "expire"):
                records += self.fire(application.id, "expire", actor=actor)
        return records

    # -- filling and falling through -----------------------------------------------------------

    def _close(self, actor: str, warm_until: pendulum.DateTime) -> list[Fired]:
        """The requisition is filled: keep the best runner-ups warm, reject everyone else."""
        settings = self.pipeline.policy.settings
        records: list[Fired] = []
        kept = 0
        for ranked in self.ranking():
            application = ranked.application
            if kept < settings.runner_ups and self._can_keep_warm(application, warm_until):
                records.append(
                    self.pipeline.fire(
                        application,
                        "keep_warm",
                        actor=actor,
                        requisition=self.requisition,
                        warm_until=warm_until,
                    )
                )
                kept += 1
            else:
                records.append(
                    self.pipeline.fire(
                        application,
                        "reject",
                        actor=actor,
                        requisition=self.requisition,
                        reason="role_filled",
                        feedback_on_request=True,
                    )
                )
        return records

    def _can_keep_warm(self, application: Application, warm_until: pendulum.DateTime) -> bool:
        """A runner-up: the debrief recommended hiring, and the pool takes them until then."""
        threshold = self.pipeline.policy.settings.hire_threshold
        return mean_recommendation(application)[0] >= threshold and not self.pipeline.blockers(
            application,
            "keep_warm",
            requisition=self.requisition,
            warm_until=warm_until,
        )

    def fall_through(self, *, actor: str | None = None) -> list[Fired]:
        """Bring runner-ups forward until the open headcount is in flight or none is left.

        A runner-up in review goes forward (the review stage's forward event); one in the
        talent pool is brought back into review first (the pool's event back into it).
        Candidates the guards refuse (a debrief that does not recommend hiring) are passed over,
        and so are those kept in touch after a rejection. The events fire as ``actor``, by
        default the pipeline's ``system_actor``.
        """
        actor = actor if actor is not None else self.pipeline.system_actor
        policy = self.pipeline.policy
        records: list[Fired] = []
        salary = self._last_offered_salary()
        in_flight = sum(a.stage in self._in_flight for a in self)
        # a candidate kept in touch after a rejection is no runner-up of the role they were
        # rejected for: only a new requisition takes them back (reactivate, transfer)
        candidates = [
            a
            for a in self
            if a.stage in self._reviewing
            or (policy.stage(a.stage).kind is POOL and a.rejection is None)
        ]
        for ranked in self.ranking(candidates):
            if in_flight >= self.requisition.open_headcount:
                break
            application = ranked.application
            if policy.stage(application.stage).kind is POOL:
                back = self._event_into(application.stage, self._reviewing)
                if back is None or self.pipeline.blockers(
                    application, back, requisition=self.requisition
                ):
                    continue
                records.append(
                    self.pipeline.fire(application, back, actor=actor, requisition=self.requisition)
                )
            moved = self._forward_to_flight(application, actor, salary)
            if moved is None:
                continue  # the guards keep it in review: try the next
            records += moved
            if application.stage in self._in_flight:
                in_flight += 1
        return records

    def _forward_to_flight(
        self, application: Application, actor: str, salary: Any
    ) -> list[Fired] | None:
        """Move a runner-up on through the review stages by their forward events.

        Stops at an in-flight stage, or where a guard says no; ``None`` when the first step
        is refused (nothing changed).
        """
        policy = self.pipeline.policy
        records: list[Fired] = []
        while application.stage in self._reviewing:
            forward = policy.forward(application.stage)
            if forward is None:
                break
            fields = policy.events[forward].data_model.model_fields
            data = {"salary": salary} if salary is not None and "salary" in fields else {}
            if self.review_blockers() or self.pipeline.blockers(
                application, forward, requisition=self.requisition, **data
            ):
                break
            records.append(
                self.pipeline.fire(
                    application, forward, actor=actor, requisition=self.requisition, **data
                )
            )
        return records or None

    def _event_into(self, stage: str, targets: frozenset[str]) -> str | None:
        """The first event from ``stage`` that leads into one of ``targets``."""
        policy = self.pipeline.policy
        for name in policy.events_from(stage):
            if policy.events[name].dest in targets:
                return name
        return None

    def _last_offered_salary(self) -> Any:
        offers = [o for a in self for o in a.offers]
        return max(offers, key=lambda o: o.extended_at).salary if offers else None

    # -- the whole slate -----------------------------------------------------------------------

    def hold_all(self, *, actor: str, reason: str) -> list[Fired]:
        """A budget freeze: put the requisition on hold and every active application with it."""
        if self.positions is not None:
            self._check_position("hold", actor, reason)
        records = [
            self.pipeline.fire(a, "hold", actor=actor, requisition=self.requisition, reason=reason)
            for a in self._open()
            if self.pipeline.policy.stage(a.stage).kind is StageKind.active
        ]
        if self.positions is not None:
            self.positions.fire(self.requisition, "hold", actor=actor, reason=reason)
        else:
            self.requisition.status = RequisitionStatus.on_hold
        return records

    def _check_position(self, event: str, actor: str, reason: str) -> None:
        """Raise, changing nothing, when the requisition's own ``event`` would be refused."""
        assert self.positions is not None
        blockers = self.positions.blockers(self.requisition, event, actor=actor, reason=reason)
        if blockers:
            raise PositionError(
                requisition_id=self.requisition.id,
                status=self.requisition.status.value,
                event=event,
                blockers=blockers,
                allowed=self.positions.allowed(self.requisition),
            )

    def resume_all(self, *, actor: str, reason: str) -> list[Fired]:
        """The freeze is over: reopen the requisition and resume every held application.

        Raises GuardRejected, changing nothing, when a held application could not resume
        (a blank reason, say): the requisition is reopened only once each of them can.
        """
        held = [a for a in self if self.pipeline.policy.stage(a.stage).kind is StageKind.paused]
        if self.positions is not None:
            self._check_position("resume", actor, reason)
        reopened = self.requisition.model_copy(update={"status": RequisitionStatus.open})
        for application in held:
            blockers = self.pipeline.blockers(
                application, "resume", requisition=reopened, reason=reason, actor=actor
            )
            if blockers:
                raise GuardRejected(
                    application_id=application.id,
                    stage=application.stage,
                    event="resume",
                    blockers=blockers,
                )
        if self.positions is not None:
            self.positions.fire(self.requisition, "resume", actor=actor, reason=reason)
        else:
            self.requisition.status = RequisitionStatus.open
        return [
            self.pipeline.fire(
                a, "resume", actor=actor, requisition=self.requisition, reason=reason
            )
            for a in held
        ]

    def transfer(self, application_id: str, to: Slate, *, actor: str, reason: str) -> Fired:
        """Route a rejected or pooled candidate to another open requisition, history and all.

        Fires the event that moves the application to another requisition from its stage
        (``reopen`` from a rejection, ``reactivate`` from the talent pool). Checks first: an
        application already on ``to``, or a stage with no such event, changes nothing.
        """
        application = self.get(application_id)
        if application.id in to._applications:
            raise SlateError(
                f"application {application.id!r} is already on the slate of {to.requisition.id!r}",
                requisition_id=to.requisition.id,
                application_id=application.id,
            )
        policy = self.pipeline.policy
        moves = [e for e in policy.events_from(application.stage) if policy.events[e].retarget]
        if not moves:
            raise SlateError(
                f"application {application.id!r} in stage {application.stage!r} cannot move to "
                "another requisition from there",
                requisition_id=self.requisition.id,
                application_id=application.id,
            )
        event = moves[0]
        fired = self.pipeline.fire(
            application, event, actor=actor, requisition=to.requisition, reason=reason
        )
        del self._applications[application.id]
        to.add(application)
        return fired

    def lapsing(
        self, *, within: timedelta, now: pendulum.DateTime | None = None
    ) -> list[Application]:
        """Talent-pool candidates whose warm-until date falls within ``within`` of now."""
        moment = now or self.pipeline.clock.now()
        return [
            a
            for a in self
            if self.pipeline.policy.stage(a.stage).kind is POOL
            and a.warm_until is not None
            and a.warm_until <= moment + within
        ]

    def __repr__(self) -> str:
        return f"Slate({self.requisition.id!r}, {len(self)} applications)"
