"""The run driver behind ``hirepipe.simulate``: one requisition at a time, event by event.

A ``Runner`` drives a requisition through a real [`Pipeline`][hirepipe.pipeline.Pipeline] and
[`Slate`][hirepipe.slate.Slate] on a [`ManualClock`][hirepipe.clock.ManualClock]. A queue of
timed actions fires events (an interviewer's scorecard, the end of a debrief, an approver's
decision, the candidate's answer); a hook watching every applied record schedules what each new
stage needs, whoever moved the application there (the runner, or the slate filling the
requisition or bringing a runner-up forward). Nothing is shortcut: every guard runs, and the
slate reviews, fills and falls through by its own rules.

Durations are the estimator's stage distributions, sampled by inverse CDF from one row of
uniforms per candidate and run, each number at a fixed place (``_scenario`` lays them out), so
two arms of a comparison draw the same number for the same purpose.
"""

from __future__ import annotations

import heapq
import math
from array import array
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np

from hirepipe.clock import ManualClock
from hirepipe.errors import HirepipeError
from hirepipe.models import Application, Requisition, RequisitionStatus, _copied
from hirepipe.pipeline import Fired, Hook, Pipeline
from hirepipe.policy import Owner, StageKind, StageRole, StageSpec
from hirepipe.simulate._results import RunOutcome
from hirepipe.simulate._scenario import (
    ABSENT,
    AT_REVIEW,
    COUNTER,
    DAY,
    DURATION,
    MANAGER,
    MAX_INTERVIEWERS,
    MAX_ROUNDS,
    MAX_STAGES,
    MAX_VISITS,
    OPTION_SLOTS,
    OUTCOME,
    RECOMMENDATIONS,
    REFERENCES_FAIL,
    SALARY,
    SCORED,
    SLOTS,
    VERDICT,
    WITHDRAW_AT,
    WITHDRAWS,
    Plan,
    SimulationError,
    interviewers,
    pick,
)
from hirepipe.simulate._switches import Switches
from hirepipe.simulate._tracking import SeatTracker, ServiceMinutes, notification_counter
from hirepipe.slate import Slate
from hirepipe.timeline.deadlines import ServiceLevels

__all__ = ["Runner"]


ACCEPTED, COUNTERED, DECLINED, LAPSED = range(4)
# enum members read on every action, kept as module constants: on Python 3.11 a member read
# from its class goes through EnumType.__getattr__'s slow path (20 times a global's cost)
_FILLED = RequisitionStatus.filled
_ACTIVE = StageKind.active
# action codes, indexes into Runner._loop's handlers
_THANK, _SCORE, _END, _REVIEWED, _GATE, _STEP, _REFERENCES, _CHECKED = range(8)
_ANSWER, _SWEEP, _WITHDRAW, _UPDATE = range(8, 12)


class _Candidate(SeatTracker):
    """One candidate's application in a run, and what the driver knows of it."""

    __slots__ = (
        "app", "authorized", "checked", "epoch", "extra", "final", "id", "index", "ready",
        "recommended", "row",
    )  # fmt: skip

    def __init__(self, index: int, app: Application, row: array[float], spec: StageSpec) -> None:
        super().__init__(spec, 0)
        self.index = index
        self.app = app
        self.id = app.id  # the application's id (fixed), read on every fire: a slot's read
        self.row = row
        self.extra: array[float] = row  # the options' numbers (``_scenario``'s second row)
        self.authorized = False  # a background check authorized by the candidate
        self.checked = False  # the references done, waiting for that authorization
        self.epoch = 0
        self.ready = False
        self.recommended = False
        self.final = False


class Runner:
    """Runs requisitions of one plan, one at a time, through one pipeline.

    ``hooks`` are called after the runner's own on every applied event (tests use them to
    check the runner against [`ServiceLevels`][hirepipe.timeline.ServiceLevels]).
    """

    def __init__(self, plan: Plan, *, seed: int, hooks: Iterable[Hook] = ()) -> None:
        self.plan = plan
        self.seed = seed
        self.policy = plan.policy
        self.settings = plan.policy.settings
        self.scenario = plan.scenario
        self.timeline = plan.timeline
        self.clock = ManualClock(self.timeline.origin)
        self.levels = ServiceLevels(plan.policy)
        # notifications are counted by rule and key, never rendered: one counter for every run,
        # told of each event after the runner and the caller's hooks
        self.notifier = notification_counter(plan.policy, self.levels)
        counter: list[Hook] = [self.notifier] if self.notifier is not None else []
        self.pipeline = Pipeline(plan.policy, clock=self.clock)
        # each candidate's application as new_application makes it at a run's start (the clock
        # stands at the origin): a run copies these, with its own ids and history, in a seventh
        # of the time of validating new ones, then tells the hooks as new_application would
        panel = interviewers(1, self.scenario.interviewers)
        self._templates = tuple(
            self.pipeline.new_application(
                candidate,
                plan.requisition,
                interviewers=panel,
                held_at=self.timeline.origin,
                application_id=f"template-{k + 1}",
            )
            for k, candidate in enumerate(plan.candidates)
        )
        hooks = tuple(hooks)
        told: list[Hook] = [self._on_fired, *hooks, *counter]
        # the caller's hooks told of a creation; the counter is told after them (_tell_created)
        self._created: list[Callable[[Application, Requisition], object]] = [
            created for hook in hooks if (created := getattr(hook, "created", None)) is not None
        ]
        # with no hooks of the caller's, _on_fired tells the counter itself: the same order,
        # one hook call a fire less (any failure stops the run either way)
        self._counter = None if hooks else self.notifier
        self.pipeline.hooks[:] = told if self._counter is None else [self._on_fired]
        policy = plan.policy
        self._kinds = {name: spec.kind for name, spec in policy.stages.items()}
        self._events = frozenset(policy.events)
        self._assessing = policy.stages_in(StageRole.assessment)
        self._reviewing = policy.stages_in(StageRole.review)
        self._in_flight = policy.stages_in(StageRole.in_flight)
        self._approving = frozenset(
            s for s, spec in policy.stages.items() if _owner(spec) is Owner.approvers
        )
        self._checking = frozenset(  # stages where referees are asked (the references)
            s for s in policy.stages if "contact_reference" in policy.events_from(s)
        )
        # where another round is waited for: the stage schedule_next_round leads to
        self._next_round = (
            policy.destinations("schedule_next_round")[0]
            if "schedule_next_round" in policy.events
            else None
        )
        self.rules = ServiceMinutes.of(policy, plan.contact_events, plan.timeline)
        # the standard policy's options the scenario turns on, driven by their own actions
        self.switches = Switches(self, _END) if plan.options else None
        self._periodic_updates = self.scenario.periodic_updates  # read on every record
        # what a round's start schedules, read once (the scenario's fields are pydantic's)
        self._initial = policy.initial
        self._thanks = "thank_you_sent" in self._events
        self._panel = (
            min(self.scenario.interviewers, MAX_INTERVIEWERS)
            if "submit_scorecard" in self._events
            else 0
        )
        self._durations = {
            stage: (dist.quantile, extra) for stage, (dist, extra) in plan.durations.items()
        }

    # -- one run -----------------------------------------------------------------------------

    def run(self, index: int) -> RunOutcome:
        """Drive requisition ``index`` from the interviews to its end; return what happened."""
        sequence = np.random.SeedSequence(self.seed, spawn_key=(index,))
        # what default_rng(sequence) makes, without its checks of the seed (10 us a run)
        self.rng = np.random.Generator(np.random.PCG64(sequence))
        # one row of uniforms per candidate, in C order: row k is numbers k*SLOTS onwards
        numbers = array("d", self.rng.random(len(self.plan.candidates) * SLOTS).tobytes())
        self.requisition = _copied(
            self.plan.requisition,
            id=f"req-{index}",
            approvers=list(self.plan.requisition.approvers),
        )
        switches = self.switches
        extra: array[float] | None = None
        if switches is not None:
            # the options' numbers from a generator of their own: the first row is unchanged
            options = np.random.Generator(
                np.random.PCG64(np.random.SeedSequence(self.seed, spawn_key=(index, 1)))
            )
            extra = array("d", options.random(len(self.plan.candidates) * OPTION_SLOTS).tobytes())
        self.clock.set(self.timeline.origin)
        self.slate = (
            switches.open_position(self.requisition)
            if switches is not None
            else Slate(self.pipeline, self.requisition)
        )
        self.queue: list[tuple[int, int, int, int, int, int]] = []
        self.sequence = 0
        self.now = self.last = 0
        self.clock.set(self.timeline.origin)
        self.in_flight = self.ready = self.events = 0
        self.changed = False  # whether the slate moved since the last dispatch
        self.first_review: int | None = None
        self.review_closes = 0
        self.first_offer: int | None = None
        self.filled_at: int | None = None
        self.dispatched: list[str] = []
        self.hired: list[str] = []
        self.counts = dict.fromkeys(
            ("offers", "accepted", "countered", "declined", "lapsed", "withdrawals",
             "references_failed", "rejected_at_review", "next_rounds", "substitutes",
             "status_updates"),
            0,
        )  # fmt: skip
        if switches is not None:
            self.counts.update(switches.counts())
        self.contacts: dict[str, int] = {}
        self.visits: dict[str, list[int]] = {}
        if self.notifier is not None:
            self.notifier.reset()
        self.seats: list[_Candidate] = []
        self.by_id: dict[str, _Candidate] = {}
        requisition = self.requisition
        for k, template in enumerate(self._templates):
            # its own history (a copy shares the template's list), not marked as given
            app = _copied(template, id=f"req-{index}-{k + 1}", requisition_id=requisition.id)
            app.__dict__["history"] = []
            self._tell_created(index, app, template)
            row = numbers[k * SLOTS : (k + 1) * SLOTS]
            seat = _Candidate(k, app, row, self.policy.stage(app.stage))
            if extra is not None:
                seat.extra = extra[k * OPTION_SLOTS : (k + 1) * OPTION_SLOTS]
            self.seats.append(seat)
            self.by_id[app.id] = seat
            self.slate.add(app)
            self._enter(seat, app.stage)
            if seat.row[WITHDRAWS] < self.scenario.withdrawal:
                at = math.floor(seat.row[WITHDRAW_AT] * self.plan.withdraw_window)
                self._at(at, _WITHDRAW, seat, -1)
        try:
            self._loop(index)
        except (HirepipeError, ValueError) as exc:
            if isinstance(exc, SimulationError):
                raise
            raise SimulationError(f"run {index} stopped: {exc}", run=index) from exc
        if self.pipeline.hook_failures:
            failure = self.pipeline.hook_failures[0]
            raise SimulationError(
                f"run {index}: a hook failed on {failure.fired.record.event}: {failure.error!r}",
                run=index,
            ) from failure.error
        return self._outcome(index)

    def _tell_created(self, index: int, app: Application, template: Application) -> None:
        """Tell the hooks of a new application, as ``Pipeline.new_application`` does.

        ``app`` is a copy of ``template`` with its own ids: the counter counts the template's
        recipients under the application's own keys.
        """
        try:
            for created in self._created:
                created(app, self.requisition)
            if self.notifier is not None:
                self.notifier.created_copy(app, template, self.requisition)
        except Exception as exc:
            raise SimulationError(
                f"run {index}: a hook failed on the creation of {app.id}: {exc!r}", run=index
            ) from exc

    def _loop(self, index: int) -> None:
        handlers: list[Callable[[_Candidate, int], None]] = [
            self._thank, self._score, self._end, self._reviewed, self._gate, self._step,
            self._references, self._checked, self._answer, self._sweep, self._withdraw,
            self._update,
        ]  # fmt: skip
        if self.switches is not None:
            handlers += self.switches.handlers()
        queue, seats, requisition = self.queue, self.seats, self.requisition
        limit = 50 * 260 * DAY  # fifty years: a scenario that never ends is a bug
        while queue:
            minute, _, code, k, epoch, arg = heapq.heappop(queue)
            seat = seats[k]
            if epoch >= 0 and seat.epoch != epoch:
                continue  # the application has moved on since this was scheduled
            if minute != self.now:
                if minute > limit:  # pragma: no cover - a safety net, not a path
                    raise SimulationError(f"run {index} did not end in fifty years", run=index)
                self.now = minute
                self.clock.set(self.timeline.instant(minute))
            handlers[code](seat, arg)
            if requisition.status is _FILLED:
                break
            if self.changed and self.ready:
                self._dispatch()

    def _outcome(self, index: int) -> RunOutcome:
        end = self.last
        breaches: dict[str, int] = {}
        silences = []
        for seat in self.seats:
            seat.finish(self.rules, end)
            for kind in seat.breached:
                breaches[kind] = breaches.get(kind, 0) + 1
            silences.append(seat.longest_silence)
        notifications = dict(self.notifier.counts if self.notifier else self.contacts)
        if self.counts["status_updates"] and self.notifier is not None:
            notifications["periodic_update"] = self.counts["status_updates"]
        first_choice = self.dispatched[: self.requisition.headcount]
        timeline = self.timeline
        return RunOutcome(
            run=index,
            filled=self.filled_at is not None,
            first_offer=self.first_offer,
            filled_at=self.filled_at,
            end=end,
            first_offer_days=(
                timeline.calendar_days(self.first_offer) if self.first_offer is not None else None
            ),
            filled_days=(
                timeline.calendar_days(self.filled_at) if self.filled_at is not None else None
            ),
            counts=dict(self.counts),
            first_choice=self.dispatched[0] if self.dispatched else None,
            hired=tuple(self.hired),
            runner_up_hired=any(h not in first_choice for h in self.hired),
            notifications=dict(sorted(notifications.items())),
            breaches=dict(sorted(breaches.items())),
            silences=tuple(silences),
            visits={stage: tuple(v) for stage, v in self.visits.items()},
            events=self.events,
        )

    # -- scheduling --------------------------------------------------------------------------

    def _at(self, minute: int, code: int, seat: _Candidate, epoch: int, arg: int = 0) -> None:
        self.sequence += 1
        heapq.heappush(self.queue, (minute, self.sequence, code, seat.index, epoch, arg))

    def _draw(self, seat: _Candidate, stage: str) -> int:
        """A duration of ``stage`` for this visit, in business minutes (inverse-CDF sampling)."""
        visit = seat.visit_count.get(stage, 0)
        slot = self.plan.slot[stage]
        if visit < MAX_VISITS and slot < MAX_STAGES:
            u = seat.row[DURATION + slot * MAX_VISITS + visit]
        else:
            u = float(self.rng.random())
        quantile, extra = self._durations[stage]
        return round(quantile(min(max(u, 1e-12), 1 - 1e-12)) * DAY) + extra

    def _fire(self, seat: _Candidate, event: str, *, actor: str = MANAGER, **data: Any) -> None:
        prepare = self.plan.prepare.get(event)
        if prepare is not None:  # the company's own activities its own guards look for
            prepare(self.pipeline, seat.app, self.requisition)
        self.slate.fire(seat.id, event, actor=actor, **data)

    def _enter(self, seat: _Candidate, stage: str) -> None:
        """Schedule what a stage needs: its activities, and the action that ends it."""
        seat.epoch += 1
        epoch, now = seat.epoch, self.now
        if self._kinds[stage] is not _ACTIVE:
            return
        if stage == self._initial:  # an interview round was held: scorecards follow
            if self._thanks:
                self._at(now, _THANK, seat, epoch)
            length = self._draw(seat, stage)
            if self._panel:
                first = SCORED + (min(seat.app.round, MAX_ROUNDS) - 1) * MAX_INTERVIEWERS
                row = seat.row
                for i in range(self._panel):
                    self._at(now + math.floor(row[first + i] * length), _SCORE, seat, epoch, i)
            self._at(now + length, _END, seat, epoch)
        elif stage in self._reviewing:
            if self.first_review is None:
                self.first_review = now
                self.review_closes = now + (self.policy.service_days(stage) or 0) * DAY
                self._at(self.review_closes, _GATE, seat, -1)
            self._at(now + self._draw(seat, stage), _REVIEWED, seat, epoch)
        elif stage in self._approving:
            if seat.id not in self.dispatched:
                self.dispatched.append(seat.id)
            self._plan_approval(seat, epoch, stage)
        elif stage in self._checking:
            self._at(now, _REFERENCES, seat, epoch)
            length = self._draw(seat, stage)
            if self.switches is not None:
                self.switches.references(seat, epoch, length)
            self._at(now + length, _CHECKED, seat, epoch)
        elif stage in self.plan.answering:
            self._plan_answer(seat, epoch, stage)
        elif self.switches is not None and self.switches.enter(seat, epoch, stage):
            pass  # an option's stage, or one an option drives in steps
        else:
            self._at(now + self._draw(seat, stage), _END, seat, epoch)
        seat.visit_count[stage] = seat.visit_count.get(stage, 0) + 1

    def _plan_approval(self, seat: _Candidate, epoch: int, stage: str) -> None:
        length = self._draw(seat, stage)
        if self.plan.approval_share != 1.0:  # position approval: only the offer steps are left
            length = round(length * self.plan.approval_share)
        steps = len(self.plan.chain)
        if not steps:
            self._at(self.now + length, _END, seat, epoch)
            return
        seat.step_times = [length * (i + 1) // steps - length * i // steps for i in range(steps)]
        self._at(self.now + self._step_delay(seat, 0), _STEP, seat, epoch, 0)

    def _step_delay(self, seat: _Candidate, step: int) -> int:
        absent = any(seat.row[ABSENT + p] >= self.scenario.approver_availability
                     for _, p in self._deciders(step))  # fmt: skip
        away = round(self.scenario.absence_days * DAY) if absent else 0
        return seat.step_times[step] + away

    def _deciders(self, step: int) -> list[tuple[str, int]]:
        before = sum(s.needed for s in self.plan.chain[:step])
        chosen = self.plan.chain[step]
        return [(name, before + n) for n, name in enumerate(chosen.approvers[: chosen.needed])]

    def _plan_answer(self, seat: _Candidate, epoch: int, stage: str) -> None:
        visit = seat.visit_count.get(stage, 0)
        answers = self.plan.first_answer if visit == 0 else self.plan.later_answer
        outcome = pick(answers, seat.row[OUTCOME + min(visit, MAX_VISITS - 1)])
        offer = seat.app.offer
        assert offer is not None
        expiry = self.timeline.minute_after(offer.valid_until)
        self._at(expiry, _SWEEP, seat, -1)  # the daily deadline sweep, at the right moment
        if outcome != LAPSED:
            answer = min(self.now + self._draw(seat, stage), expiry - 2)
            self._at(max(answer, self.now), _ANSWER, seat, epoch, outcome)
            if self.switches is not None:
                self.switches.offer_out(seat, epoch, max(answer, self.now), visit)
        elif self.switches is not None:
            self.switches.offer_out(seat, epoch, None, visit)

    # -- actions -----------------------------------------------------------------------------

    def _thank(self, seat: _Candidate, arg: int) -> None:
        self._fire(seat, "thank_you_sent", text="Thank you for your time today.")

    def _score(self, seat: _Candidate, interviewer: int) -> None:
        app = seat.app
        rnd = min(app.round, MAX_ROUNDS) - 1
        verdict = RECOMMENDATIONS[
            pick(self.plan.verdicts, seat.row[VERDICT + rnd * MAX_INTERVIEWERS + interviewer])
        ]
        interview = app.interview()
        assert interview is not None
        ratings = (
            self.switches.ratings(seat, interviewer, verdict) if self.switches is not None else {}
        )
        self._fire(
            seat, "submit_scorecard", actor=interview.interviewers[interviewer],
            recommendation=verdict, **ratings,
        )  # fmt: skip

    def _end(self, seat: _Candidate, arg: int) -> None:
        stage = self.policy.stage(seat.stage)
        event = self.plan.forward[seat.stage]
        if stage.exits:  # the stage's other ways out, by their chances (the run's own numbers)
            u, running = float(self.rng.random()), 0.0
            for name, chance in stage.exits:
                running += chance
                if u < running:
                    event = name
                    break
        self._fire(seat, event, **self._data(seat, event))

    def _data(self, seat: _Candidate, event: str) -> dict[str, Any]:
        if event in ("request_approval", "approve"):
            return {"salary": SALARY}
        if event == "extend_offer":
            # the standard library's date and addition: pendulum's take ten times as long
            start = datetime.date(self.clock.now()) + timedelta(days=30)
            return {"salary": seat.app.proposed_salary or SALARY, "start_date": start}
        if event == "revise_offer":
            return {"salary": seat.asked}
        if event == "reject":
            reason = self.plan.reasons.get(seat.stage, self.plan.reasons[AT_REVIEW])
            return {"reason": reason, **self._feedback("The checks did not support an offer.")}
        if event == "schedule_next_round":
            found: dict[str, Any] = {
                "interviewers": interviewers(seat.app.round + 1, self.scenario.interviewers),
                "scheduled_at": self.timeline.instant(self.now + seat.round_wait),
            }
            if self.switches is not None and self.switches.scheduling:
                del found["scheduled_at"]  # scheduled in steps: availability, slots, a choice
            return found
        if self.switches is not None:
            return self.switches.data(seat, event)
        return {}

    def _feedback(self, text: str) -> dict[str, Any]:
        """A rejection's feedback: given at once, or on request with feedback requests."""
        if self.switches is not None and self.switches.feedback:
            return {"feedback_on_request": True}
        return {"feedback": text}

    def _reviewed(self, seat: _Candidate, arg: int) -> None:
        if not seat.recommended:
            self.counts["rejected_at_review"] += 1
            self._fire(
                seat, "reject", reason=self.plan.reasons[AT_REVIEW],
                **self._feedback("The panel's debrief did not recommend an offer."),
            )  # fmt: skip
        elif not seat.final and self._next_round is not None:
            self.counts["next_rounds"] += 1
            # the next round's wait is drawn now: the invitation names the interview's date
            seat.round_wait = self._draw(seat, self._next_round)
            self._fire(seat, "schedule_next_round", **self._data(seat, "schedule_next_round"))
        else:
            seat.ready = True
            self.ready += 1
            self.changed = True

    def _gate(self, seat: _Candidate, arg: int) -> None:
        """The review deadline passed: the slate's review is closed whoever is still out."""
        self.changed = True

    def _dispatch(self) -> None:
        """Send the best-ranked finished candidates to approval, up to the open headcount."""
        # open_headcount read once (a property reading pydantic fields: about 3,000 instructions)
        slots = self.requisition.open_headcount - self.in_flight
        if slots <= 0:
            return  # nothing to send: what changed is looked at again once a seat frees up
        self.changed = False
        gate = self.first_review is not None and self.now >= self.review_closes
        if not gate and any(s.stage in self._assessing for s in self.seats):
            return  # the slate's review is open: asking the slate would only say so, slowly
        if self.slate.review_blockers():
            return
        eligible = [
            s.app for s in self.seats if s.stage in self._reviewing and s.recommended and s.final
        ]
        for ranked in self.slate.ranking(eligible)[:slots]:
            seat = self.by_id[ranked.application.id]
            if seat.ready:
                event = self.plan.forward[seat.stage]
                self._fire(seat, event, **self._data(seat, event))

    def _step(self, seat: _Candidate, step: int) -> None:
        name = self.plan.chain[step].name
        for approver, position in self._deciders(step):
            if seat.row[ABSENT + position] >= self.scenario.approver_availability:
                deputy = f"{approver}-deputy"
                self.counts["substitutes"] += 1
                self._fire(
                    seat, "replace_approver", absent=approver, substitute=deputy, step=name,
                    reason=f"{approver} is away; {deputy} decides",
                )  # fmt: skip
                approver = deputy
            self._fire(seat, "record_approval", actor=approver, granted=True)
        if step + 1 < len(self.plan.chain):
            self._at(self.now + self._step_delay(seat, step + 1), _STEP, seat, seat.epoch, step + 1)
        else:
            self._end(seat, 0)

    def _references(self, seat: _Candidate, arg: int) -> None:
        if "send_reference_notice" not in self._events:
            return
        self._fire(seat, "send_reference_notice")
        for n in range(1, self.settings.required_references + 1):
            referee = f"referee-{n}"
            self._fire(
                seat, "add_reference", referee=referee, contact=f"{referee}@example.com",
                consent=True,
            )  # fmt: skip
            self._fire(seat, "contact_reference", referee=referee)

    def _checked(self, seat: _Candidate, arg: int) -> None:
        failed = seat.row[REFERENCES_FAIL] < self.scenario.reference_failure
        if "complete_reference" in self._events:
            for n in range(1, self.settings.required_references + 1):
                outcome = "unsatisfactory" if failed and n == 1 else "satisfactory"
                self._fire(seat, "complete_reference", referee=f"referee-{n}", outcome=outcome)
        if failed:
            self.counts["references_failed"] += 1
            self._fire(
                seat, "reject", reason=self.plan.reasons[seat.stage],
                **self._feedback("The reference checks did not support an offer."),
            )  # fmt: skip
            # the slate falls through on a decline or a withdrawal; after a rejection of a
            # candidate in flight the company brings the next runner-up forward itself
            self.slate.fall_through(actor=MANAGER)
        elif self.switches is not None and not self.switches.checked(seat):
            return  # the background check waits for the candidate's authorization
        else:
            self._end(seat, 0)

    def _answer(self, seat: _Candidate, outcome: int) -> None:
        candidate = seat.app.candidate.id
        if outcome == ACCEPTED and self.switches is not None and self.switches.signing:
            self.switches.sign(seat)  # signed now; accepted once countersigned
        elif outcome == ACCEPTED:
            self._fire(seat, "accept", actor=candidate, text="I accept.")
        elif outcome == DECLINED:
            self._fire(seat, "decline", actor=candidate, text="I have accepted another offer.")
        else:
            visit = min(seat.visit_count.get(seat.stage, 1) - 1, MAX_VISITS - 1)
            raise_by = Decimal(300 + round(500 * seat.row[COUNTER + visit])) / 10_000
            seat.asked = (SALARY * (1 + raise_by)).quantize(Decimal(1))
            self._fire(seat, "counter", actor=candidate, salary=seat.asked)

    def _sweep(self, seat: _Candidate, arg: int) -> None:
        self.slate.sweep()  # as the system, like a daily job

    def _withdraw(self, seat: _Candidate, arg: int) -> None:
        if self._kinds[seat.stage] is StageKind.active:
            self._fire(seat, "withdraw", actor=seat.app.candidate.id, text="I am withdrawing.")

    def _update(self, seat: _Candidate, heard: int) -> None:
        if seat.heard == heard and seat.owes:
            self.counts["status_updates"] += 1
            self._fire(seat, "status_update", text="Where things stand.")

    # -- watching every applied event ----------------------------------------------------------

    def _on_fired(self, fired: Fired, /) -> None:
        record = fired.record
        application = fired.application
        seat = self.by_id[application.id]
        now = self.now
        self.events += 1
        self.last = now
        # the record's fields read once, from its field dict, and handed on: on Python 3.11 a
        # pydantic model's field is read through BaseModel.__getattr__'s slow path (the
        # interpreter does not specialize the read), about 450 instructions each; one read of
        # the dict and plain lookups cost about the same as one field
        fields = record.__dict__
        event = fields["event"]
        if event in self.plan.contact_events:
            self.contacts[event] = self.contacts.get(event, 0) + 1
        to_stage = fields["to_stage"]
        moved = fields["kind"] == "transition" and fields["from_stage"] != to_stage
        entered = to_stage if moved else None
        before = seat.stage
        if entered is not None:
            self.visits.setdefault(before, []).append(now - seat.entered)
        seat.observe(self.rules, record, event, entered, now, application, self.requisition)
        if entered is not None:
            self.changed = True
            if before in self._in_flight:
                self.in_flight -= 1
            if entered in self._in_flight:
                self.in_flight += 1
            if seat.ready:
                seat.ready = False
                self.ready -= 1
            self._enter(seat, entered)
            if self.switches is not None and fired.application.rejection is not None:
                self.switches.rejected(seat, entered)
        self._count(seat, event, now)
        if self.switches is not None:
            self.switches.count(event, record.kind)
        if self._periodic_updates and seat.wants_update():
            due = seat.heard + self.settings.update_cadence_days * DAY
            seat.update_for = seat.heard
            self._at(due, _UPDATE, seat, -1, seat.heard)
        if self._counter is not None:
            self._counter(fired)

    def _count(self, seat: _Candidate, event: str, now: int) -> None:
        counts = self.counts
        if event == "complete_debrief":
            app = seat.app
            cards = app.scorecards_for()
            mean = sum(c.recommendation.score for c in cards) / len(cards) if cards else -3.0
            seat.recommended = mean >= self.settings.hire_threshold
            seat.final = app.round >= self.scenario.rounds
        elif event in ("extend_offer", "revise_offer"):
            if event == "extend_offer":
                counts["offers"] += 1
            if self.first_offer is None:
                self.first_offer = now
        elif event == "accept":
            counts["accepted"] += 1
            self.hired.append(seat.id)
            # with position approval the requisition's own ``fill`` follows the acceptance
            requisition = self.requisition
            if requisition.filled >= requisition.headcount:
                self.filled_at = now
        elif event in ("decline", "counter"):
            counts["declined" if event == "decline" else "countered"] += 1
        elif event == "expire":
            counts["lapsed"] += 1
        elif event == "withdraw":
            counts["withdrawals"] += 1


def _owner(spec: StageSpec) -> Owner | None:
    return spec.service.owner if spec.service is not None else None
