"""The standard policy's options in a run: the events each one adds, fired when people would.

``Switches`` is the runner's part for the options a scenario turns on
([`Scenario.options`][hirepipe.simulate.Scenario.options]). Like the rest of the runner it
schedules timed actions and fires every event through the real
[`Slate`][hirepipe.slate.Slate] and [`Pipeline`][hirepipe.pipeline.Pipeline] (and the
requisition's own lifecycle through [`Positions`][hirepipe.positions.Positions]), so every
guard runs: nothing is shortcut. Its random numbers come from each candidate's second row
(``_scenario``'s ``OPTION_SLOTS``), each at a fixed place.

What each option adds to a run:

- ``position_approval``: the requisition is a draft; before the interviews it is submitted,
  each approver of its chain grants, and it opens. An application's approval then waits only
  for the offer steps (none by default), so a runner-up brought forward needs no approver.
- ``background_check``: the disclosure when the references start, the candidate's
  authorization, the check ordered when both are in, a result (clear, consider, failed), an
  individualized assessment of a "consider", the pre-adverse action notice, the waiting
  period, sometimes a dispute, then the final adverse action notice or the offer.
- ``offer_signatures``: the document sent with each offer and opened before any answer; the
  candidate signs when they would have accepted, the company countersigns, then ``accept``.
- ``feedback_requests``: rejections offer feedback on request; some candidates ask, and the
  recruiter sends it.
- ``keep_in_touch_from_rejection``: some rejected candidates consent to stay in touch and
  are kept in the talent pool.
- ``next_round_scheduling``: the next round is scheduled in four steps before it is held.
- ``structured_scorecards``: each scorecard rates the round's focus attributes, a rating in
  line with the interviewer's recommendation.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hirepipe.models import Recommendation, RequisitionStatus
from hirepipe.positions import Positions
from hirepipe.simulate._options import SCORECARDS
from hirepipe.simulate._scenario import (
    AUTHORIZE_AT,
    BG_ADVERSE,
    BG_DISPUTE_AT,
    BG_DISPUTE_CLEARED,
    BG_DISPUTES,
    BG_RESULT,
    COUNTERSIGNED_AT,
    DAY,
    FEEDBACK_ASK_AT,
    FEEDBACK_ASKS,
    FEEDBACK_SENT_AT,
    KEEPS,
    KEPT_AT,
    MANAGER,
    MAX_FOCUS,
    MAX_INTERVIEWERS,
    MAX_ROUNDS,
    MAX_VISITS,
    RATING,
    SCHEDULING,
    SCHEDULING_STEPS,
    VIEWED_AT,
)
from hirepipe.slate import Slate
from hirepipe.standard._background import BACKGROUND_STAGES
from hirepipe.timeline.estimate import StageDistribution

if TYPE_CHECKING:
    from hirepipe.models import Requisition
    from hirepipe.simulate._runner import Runner, _Candidate

__all__ = ["Switches"]

_CHECK, _ADJUDICATION, _PRE_ADVERSE, _DISPUTE = BACKGROUND_STAGES
# action codes after the runner's twelve, in the order of ``Switches.handlers``
_AUTHORIZE, _RESULT, _ADJUDICATE, _DISPUTES, _FINAL, _RESOLVE = range(12, 18)
_ASK, _SEND_FEEDBACK, _KEEP, _SCHEDULE, _SEND_OFFER, _VIEW, _COUNTERSIGN = range(18, 25)
_SPREAD = 0.5  # the coefficient of variation of the options' waits (lognormal, like stages)
_WARM_DAYS = 90  # calendar days a rejected candidate is kept in touch for (under warm_days)
_PROVIDER = {"provider": "Example Screening Inc.", "provider_contact": "1-800-555-0100"}


class Switches:
    """Drives the options of ``runner``'s plan; the runner calls it where an option acts."""

    def __init__(self, runner: Runner, end: int) -> None:
        self.runner = runner
        self._end_code = end  # the runner's action that ends a stage by its forward event
        options = runner.plan.options
        scenario = runner.scenario
        self.positions = Positions(runner.pipeline) if "position_approval" in options else None
        self.background = "background_check" in options
        self.signing = "offer_signatures" in options
        self.feedback = "feedback_requests" in options
        self.keeping = "keep_in_touch_from_rejection" in options
        self.scheduling = "next_round_scheduling" in options
        self.scheme = runner.policy.settings.scorecard if SCORECARDS in options else None
        self._waits: dict[float, Callable[[float], float]] = {}
        self._authorize = self._wait(scenario.authorization_days)
        self._ask = self._wait(scenario.feedback_request_days)
        self._send = self._wait(scenario.feedback_send_days)
        self._countersign = self._wait(scenario.countersign_days)
        self._steps = [self._wait(days) for days in scenario.scheduling_days]
        self.granted = 0  # the position's approvals in this run
        policy = runner.policy
        # where a rejected candidate may be kept in touch from (the option adds ``rejected``)
        self._keep_from = frozenset(
            s for s in policy.sources("keep_warm") if policy.stage(s).terminal
        )

    def _wait(self, mean: float) -> Callable[[float], float]:
        found = self._waits.get(mean)
        if found is None:
            found = self._waits[mean] = StageDistribution("option", mean, _SPREAD).quantile
        return found

    def _minutes(self, wait: Callable[[float], float], u: float) -> int:
        """A wait in business minutes, at least one (inverse-CDF sampling, like a stage)."""
        return max(1, round(wait(min(max(u, 1e-12), 1 - 1e-12)) * DAY))

    def handlers(self) -> list[Callable[[_Candidate, int], None]]:
        """The actions of the options, in the order of their codes."""
        return [
            self._authorized, self._result, self._adjudicate, self._dispute, self._final,
            self._resolve, self._ask_feedback, self._send_feedback, self._keep,
            self._schedule, self._send_offer, self._view, self._countersigned,
        ]  # fmt: skip

    def counts(self) -> dict[str, int]:
        """The outcomes the options add to a run's counts (the position's approvals granted)."""
        names = ["approvals"]
        found = {}
        if self.positions is not None:
            found["position_approvals"] = self.granted
        if self.background:
            names += ["background_checks", "background_consider", "background_failed",
                      "adverse_actions", "disputes"]  # fmt: skip
        if self.signing:
            names += ["offers_signed", "offers_countersigned"]
        if self.feedback:
            names += ["feedback_requests", "feedback_sent"]
        if self.keeping:
            names.append("kept_in_touch")
        if self.scheduling:
            names.append("scheduling_steps")
        return {**dict.fromkeys(names, 0), **found}

    def count(self, event: str, kind: str) -> None:
        """Count an applied event of an option (the runner counts its own)."""
        name = _COUNTED.get(event)
        if name is not None:
            counts = self.runner.counts
            if name in counts:
                counts[name] += 1

    # -- the requisition ---------------------------------------------------------------------

    def open_position(self, requisition: Requisition) -> Slate:
        """The run's slate; with position approval, the position approved and opened first."""
        runner = self.runner
        positions = self.positions
        if positions is None:
            return Slate(runner.pipeline, requisition)
        positions.fire(requisition, "submit", actor=MANAGER)
        self.granted = 0
        for step in runner.plan.position_chain:
            for approver in step.approvers[: step.needed]:
                positions.fire(requisition, "record_approval", actor=approver, granted=True)
                self.granted += 1
        positions.fire(requisition, "approve", actor=MANAGER)
        assert requisition.status is RequisitionStatus.open
        return Slate(runner.pipeline, requisition, positions=positions)

    # -- entering stages -----------------------------------------------------------------------

    def enter(self, seat: _Candidate, epoch: int, stage: str) -> bool:
        """Schedule an option's stage (or one it drives in steps); False when it is not one."""
        runner = self.runner
        now = runner.now
        if self.background and stage in BACKGROUND_STAGES:
            length = runner._draw(seat, stage)
            if stage == _CHECK:
                runner._at(now + length, _RESULT, seat, epoch)
            elif stage == _ADJUDICATION:
                runner._at(now + length, _ADJUDICATE, seat, epoch)
            elif stage == _PRE_ADVERSE:
                waited = self._waited(seat)
                visit = seat.visit_count.get(stage, 0)
                if visit == 0 and seat.extra[BG_DISPUTES] < runner.scenario.background_dispute:
                    # within the waiting period, before it ends
                    at = now + math.floor(seat.extra[BG_DISPUTE_AT] * max(waited - now - 1, 0))
                    runner._at(at, _DISPUTES, seat, epoch)
                else:
                    runner._at(max(now + length, waited), _FINAL, seat, epoch)
            else:  # the dispute: reinvestigated, then resolved
                runner._at(now + length, _RESOLVE, seat, epoch)
            return True
        if self.scheduling and stage == runner._next_round:
            runner._at(now, _SCHEDULE, seat, epoch, 0)
            return True
        return False

    def references(self, seat: _Candidate, epoch: int, length: int) -> None:
        """The references start: the background check's disclosure, then the authorization."""
        if not self.background:
            return
        seat.authorized = seat.checked = False
        runner = self.runner
        runner._fire(seat, "send_background_disclosure")
        wait = self._minutes(self._authorize, seat.extra[AUTHORIZE_AT])
        runner._at(runner.now + wait, _AUTHORIZE, seat, epoch)

    def checked(self, seat: _Candidate) -> bool:
        """The references are done: whether the background check can be ordered now."""
        if not self.background or seat.authorized:
            return True
        seat.checked = True  # ordered once the candidate's authorization is in
        return False

    def _authorized(self, seat: _Candidate, arg: int) -> None:
        self.runner._fire(seat, "authorize_background_check", actor=seat.app.candidate.id)
        seat.authorized = True
        if seat.checked:
            self.runner._end(seat, 0)

    # -- the background check ------------------------------------------------------------------

    def _result(self, seat: _Candidate, arg: int) -> None:
        runner, scenario = self.runner, self.runner.scenario
        u = seat.extra[BG_RESULT]
        if u < scenario.background_failed:
            result = "failed"
        elif u < scenario.background_failed + scenario.background_consider:
            result = "consider"
        else:
            result = "clear"
        runner._fire(seat, "record_background_result", result=result, report=f"{seat.app.id}-r")
        if result == "failed":
            runner.counts["background_failed"] += 1
        if result == "clear":
            runner._end(seat, 0)  # on to the offer
        elif result == "consider":
            runner._fire(seat, "start_adjudication")
        else:
            self._pre_adverse(seat)

    def _adjudicate(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        adverse = seat.extra[BG_ADVERSE] < runner.scenario.adverse_decision
        runner._fire(
            seat, "record_adjudication", decision="adverse" if adverse else "proceed",
            assessment="The finding, the time since it and its bearing on the job, assessed.",
        )  # fmt: skip
        if adverse:
            self._pre_adverse(seat)
        else:
            runner._end(seat, 0)

    def _pre_adverse(self, seat: _Candidate) -> None:
        self.runner._fire(
            seat, "send_pre_adverse_notice", report_enclosed=True, summary_of_rights_enclosed=True
        )

    def _dispute(self, seat: _Candidate, arg: int) -> None:
        self.runner._fire(
            seat, "dispute_background_check", actor=seat.app.candidate.id,
            text="The record is not mine.",
        )  # fmt: skip

    def _final(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        runner._fire(seat, "final_adverse_action")
        # as after failed references: the company brings the next runner-up forward itself
        runner.slate.fall_through(actor=MANAGER)

    def _resolve(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        cleared = seat.extra[BG_DISPUTE_CLEARED] < runner.scenario.dispute_cleared
        runner._fire(seat, "resolve_dispute", outcome="cleared" if cleared else "stands")
        if cleared:
            runner._end(seat, 0)
            return
        waited = self._waited(seat)
        runner._at(max(runner.now, waited), _FINAL, seat, seat.epoch)

    def _waited(self, seat: _Candidate) -> int:
        """The first business minute after the waiting period of the pre-adverse notice."""
        check = seat.app.background_check
        until = check.waiting_until if check is not None else None
        assert until is not None, "the notice was sent: its waiting period is on record"
        return self.runner.timeline.minute_at_or_after(until)

    # -- rejections: feedback on request, keeping in touch ---------------------------------------

    def rejected(self, seat: _Candidate, stage: str) -> None:
        """An application moved while rejected: into the rejection, or out of it."""
        if not self.runner.policy.stage(stage).terminal:
            return
        runner, scenario, now = self.runner, self.runner.scenario, self.runner.now
        if self.feedback and seat.extra[FEEDBACK_ASKS] < scenario.feedback_requested:
            runner._at(now + self._minutes(self._ask, seat.extra[FEEDBACK_ASK_AT]), _ASK, seat, -1)
        if self.keeping and stage in self._keep_from and seat.extra[KEEPS] < scenario.stay_in_touch:
            runner._at(now + self._minutes(self._ask, seat.extra[KEPT_AT]), _KEEP, seat, -1)

    def _ask_feedback(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        if "request_feedback" not in runner.policy.events_from(seat.stage):
            return  # back in the process (not in a run of the simulator, but never shortcut)
        runner._fire(seat, "request_feedback", actor=seat.app.candidate.id, text="Why not me?")
        wait = self._minutes(self._send, seat.extra[FEEDBACK_SENT_AT])
        runner._at(runner.now + wait, _SEND_FEEDBACK, seat, -1)

    def _send_feedback(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        if "send_feedback" in runner.policy.events_from(seat.stage):
            runner._fire(seat, "send_feedback", feedback="What the panel saw, and what it missed.")

    def _keep(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        if seat.stage not in self._keep_from:
            return
        until = runner.clock.now().add(days=_WARM_DAYS)
        runner._fire(seat, "keep_warm", warm_until=until, consent=True)
        runner.counts["kept_in_touch"] += 1

    # -- the next round, scheduled in steps ------------------------------------------------------

    def _schedule(self, seat: _Candidate, step: int) -> None:
        runner = self.runner
        rnd = min(seat.app.round, MAX_ROUNDS) - 1
        candidate = seat.app.candidate.id
        base = SCHEDULING + rnd * 4
        if step == 0:  # the round was scheduled: the recruiter asks for availability
            wait = self._minutes(self._steps[0], seat.extra[base])
            runner._at(runner.now + wait, _SCHEDULE, seat, seat.epoch, 1)
            return
        event = SCHEDULING_STEPS[step - 1]
        if event == "request_availability":
            runner._fire(seat, event, text="When could you interview next?")
        elif event == "give_availability":
            runner._fire(seat, event, actor=candidate, text="Tuesday or Wednesday afternoon.")
        elif event == "propose_slots":
            # the interview when the prior's wait says, or a day after the slot is chosen
            choose = self._minutes(self._steps[3], seat.extra[base + 3])
            held = max(seat.entered + seat.round_wait, runner.now + choose + DAY)
            seat.step_times = [held]
            slots = [runner.timeline.instant(held), runner.timeline.instant(held + DAY)]
            runner._fire(seat, event, slots=slots)
            runner._at(runner.now + choose, _SCHEDULE, seat, seat.epoch, 4)
            return
        else:  # the candidate chooses the first slot; the round is held then
            held = seat.step_times[0]
            runner._fire(seat, event, actor=candidate, scheduled_at=runner.timeline.instant(held))
            runner._at(held, self._end_code, seat, seat.epoch)  # round_held, by its forward
            return
        wait = self._minutes(self._steps[step], seat.extra[base + step])
        runner._at(runner.now + wait, _SCHEDULE, seat, seat.epoch, step + 1)

    # -- offers that get signed ------------------------------------------------------------------

    def offer_out(self, seat: _Candidate, epoch: int, answer: int | None, visit: int) -> None:
        """An offer is out: its document goes now, and is opened before any answer."""
        if not self.signing:
            return
        runner = self.runner
        now = runner.now
        runner._at(now, _SEND_OFFER, seat, epoch)
        if answer is not None:
            u = seat.extra[VIEWED_AT + min(visit, MAX_VISITS - 1)]
            runner._at(now + math.floor(u * (answer - now)), _VIEW, seat, epoch)

    def _version(self, seat: _Candidate) -> int:
        offer = seat.app.offer
        assert offer is not None
        return offer.version

    def _send_offer(self, seat: _Candidate, arg: int) -> None:
        self.runner._fire(seat, "send_offer", version=self._version(seat))

    def _view(self, seat: _Candidate, arg: int) -> None:
        self.runner._fire(
            seat, "offer_viewed", actor=seat.app.candidate.id, version=self._version(seat)
        )

    def sign(self, seat: _Candidate) -> None:
        """The candidate signs the live version (their acceptance); the company countersigns."""
        runner = self.runner
        runner._fire(seat, "sign_offer", actor=seat.app.candidate.id, version=self._version(seat))
        visit = min(seat.visit_count.get(seat.stage, 1) - 1, MAX_VISITS - 1)
        wait = self._minutes(self._countersign, seat.extra[COUNTERSIGNED_AT + visit])
        runner._at(runner.now + wait, _COUNTERSIGN, seat, seat.epoch)

    def _countersigned(self, seat: _Candidate, arg: int) -> None:
        runner = self.runner
        runner._fire(seat, "countersign_offer", version=self._version(seat))
        runner._fire(seat, "accept", actor=seat.app.candidate.id, text="I accept.")

    # -- scorecards ------------------------------------------------------------------------------

    def ratings(
        self, seat: _Candidate, interviewer: int, verdict: Recommendation
    ) -> dict[str, Any]:
        """The round's focus attributes rated in line with the recommendation, give or take one."""
        scheme = self.scheme
        if scheme is None:
            return {}
        focus = scheme.focus_of(seat.app.round)[:MAX_FOCUS]
        if not focus:
            return {}
        scale = scheme.scale
        top = len(scale) - 1
        middle = (verdict.score + 2) / 4 * top  # strong_no at the bottom, strong_yes at the top
        rnd = min(seat.app.round, MAX_ROUNDS) - 1
        base = RATING + (rnd * MAX_INTERVIEWERS + interviewer) * MAX_FOCUS
        rated = {}
        for n, name in enumerate(focus):
            u = seat.extra[base + n]
            shift = -1 if u < 0.2 else 1 if u >= 0.8 else 0
            rated[name] = scale[min(max(round(middle) + shift, 0), top)]
        return {"ratings": rated}

    # -- event data ----------------------------------------------------------------------------

    def data(self, seat: _Candidate, event: str) -> dict[str, Any]:
        """The data of an option's event the runner fires as a stage's way on."""
        if event == "start_background_check":
            return dict(_PROVIDER)
        return {}


_COUNTED = {
    "record_approval": "approvals",
    "start_background_check": "background_checks",
    "start_adjudication": "background_consider",
    "final_adverse_action": "adverse_actions",
    "dispute_background_check": "disputes",
    "sign_offer": "offers_signed",
    "countersign_offer": "offers_countersigned",
    "request_feedback": "feedback_requests",
    "send_feedback": "feedback_sent",
    **dict.fromkeys(SCHEDULING_STEPS, "scheduling_steps"),
}
