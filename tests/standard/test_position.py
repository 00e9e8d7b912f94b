"""Position approval, once per requisition: hiring scenarios with the feature on."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import (
    ApprovalStep,
    GuardRejected,
    Pipeline,
    PolicySettings,
    Requisition,
    RequisitionStatus,
    Slate,
    standard_policy,
)
from hirepipe.errors import PositionError
from hirepipe.models import OfferField
from hirepipe.notify import Notifier, Outbox
from hirepipe.policy import Policy
from hirepipe.positions import Positions
from hirepipe.standard import standard_registry
from hirepipe.testing import FakeClock, make_application, make_candidate, make_requisition
from hirepipe.timeline import ServiceLevels
from tests.conftest import START

FINANCE = ApprovalStep(name="finance", approvers=("cfo",))  # covers the pay, by default
PEOPLE = ApprovalStep(name="people", approvers=("hr",), covers=("title", "level", "start_date"))
LEGAL = ApprovalStep(name="legal", approvers=("counsel",), covers=("location",))
BAND = {"minimum": 125_000, "maximum": 145_000, "currency": "USD"}


def position_pipeline(clock: FakeClock, *fields: str) -> Pipeline:
    """The standard policy with position approval, offer approval for ``fields``."""
    policy = standard_policy(
        PolicySettings(required_references=0, offer_approval_fields=fields),
        position_approval=True,
    )
    return Pipeline(policy, clock=clock)


def draft(**overrides: object) -> Requisition:
    fields: dict[str, object] = {
        "status": "draft",
        "approvers": [],
        "approval_chain": (FINANCE, PEOPLE),
    }
    fields.update(overrides)
    return make_requisition(**fields)


def open_position(positions: Positions, requisition: Requisition, clock: FakeClock) -> None:
    """Submit, have every step grant (the CFO narrows the band), and open the position."""
    positions.fire(requisition, "submit", actor="maria")
    clock.advance(hours=1)
    for step in requisition.approval_chain:
        band = BAND if step.name == "finance" else None
        for approver in step.approvers:
            positions.fire(requisition, "record_approval", actor=approver, granted=True, band=band)
    positions.fire(requisition, "approve", actor="maria")


def cfo_approvals(*applications: object) -> int:
    return sum(a.approver == "cfo" for app in applications for a in app.approvals)  # type: ignore[attr-defined]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


class TestRunnerUp:
    def test_runner_up_hired_within_band_without_a_second_cfo_approval(self, clock):
        """Decline, the runner-up brought forward, offer, accept: the CFO approved once."""
        pipeline = position_pipeline(clock, "start_date")
        positions = Positions(pipeline)
        requisition = draft()
        open_position(positions, requisition, clock)
        assert RequisitionStatus.open == requisition.status
        first = make_application(pipeline, requisition, stage="review", candidate=make_candidate(1))
        second = make_application(
            pipeline, requisition, stage="review", candidate=make_candidate(2)
        )
        slate = Slate(pipeline, requisition, [first, second], positions=positions)

        slate.fire(first.id, "request_approval", actor="maria", salary=140_000)
        pipeline.fire(first, "record_approval", actor="hr", requisition=requisition, granted=True)
        slate.fire(first.id, "approve", actor="maria")
        slate.fire(
            first.id, "extend_offer", actor="maria", salary=140_000, start_date=date(2025, 3, 3)
        )
        fired = slate.fire(first.id, "decline", actor="cand-1")

        assert [("decline", first.id), ("request_approval", second.id)] == [
            (f.record.event, f.application.id) for f in fired
        ]
        # only the offer step covering the start date is asked: people, not finance
        blockers = pipeline.blockers(second, "approve", requisition=requisition)
        assert [("approvals_missing", ["hr"])] == [(b.code, b.data["missing"]) for b in blockers]
        pipeline.fire(second, "record_approval", actor="hr", requisition=requisition, granted=True)
        slate.fire(second.id, "approve", actor="maria")
        slate.fire(
            second.id, "extend_offer", actor="maria", salary=140_000, start_date=date(2025, 3, 10)
        )
        slate.fire(second.id, "accept", actor="cand-2")

        assert "hired" == second.stage
        assert 0 == cfo_approvals(first, second)
        assert 1 == sum(a.approver == "cfo" for a in requisition.approvals)
        assert RequisitionStatus.filled == requisition.status
        assert ["submit", "record_approval", "record_approval", "approve", "fill"] == [
            r.event for r in requisition.history
        ]

    def test_no_offer_fields_named_means_no_offer_approval(self, clock):
        """With no offer term named, an offer inside the approved band needs no approval."""
        pipeline = position_pipeline(clock)
        positions = Positions(pipeline)
        requisition = draft()
        open_position(positions, requisition, clock)
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application, "request_approval", actor="maria", requisition=requisition, salary=130_000
        )
        fired = pipeline.fire(application, "approve", actor="maria", requisition=requisition)
        assert "references" == fired.record.to_stage
        assert () == application.approvals
        assert requisition.approved_band == application.approved_band


class TestRevisions:
    def test_revised_start_date_reapproved_by_exactly_the_steps_covering_it(self, clock):
        """A new start date re-opens the people step only; finance and legal stay approved."""
        pipeline = position_pipeline(clock, "start_date", "location", "salary")
        positions = Positions(pipeline)
        requisition = draft(approval_chain=(FINANCE, PEOPLE, LEGAL))
        open_position(positions, requisition, clock)
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application, "request_approval", actor="maria", requisition=requisition, salary=140_000
        )
        for approver in ("cfo", "hr", "counsel"):  # every offer step approves the first offer
            pipeline.fire(
                application,
                "record_approval",
                actor=approver,
                requisition=requisition,
                granted=True,
            )
        pipeline.fire(application, "approve", actor="maria", requisition=requisition)
        clock.advance(hours=1)  # decisions count from the offer they judge on
        pipeline.fire(
            application,
            "extend_offer",
            actor="maria",
            requisition=requisition,
            salary=140_000,
            start_date=date(2025, 3, 3),
            location="Boston",
        )
        clock.advance(days=1)
        pipeline.fire(application, "counter", actor="cand-1", salary=150_000)
        clock.advance(hours=1)

        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "revise_offer",
                actor="maria",
                requisition=requisition,
                start_date=date(2025, 4, 1),
            )
        (blocker,) = caught.value.blockers
        assert "offer_reapproval_missing" == blocker.code
        assert (["people"], ["hr"], ["start_date"]) == (
            blocker.data["steps"],
            blocker.data["approvers"],
            blocker.data["changed"],
        )
        assert 1 == len(application.offers)  # refused: nothing changed

        pipeline.fire(
            application, "record_approval", actor="hr", requisition=requisition, granted=True
        )
        fired = pipeline.fire(
            application,
            "revise_offer",
            actor="maria",
            requisition=requisition,
            start_date=date(2025, 4, 1),
        )
        assert {"terms": ["start_date"], "steps": ["people"]} == fired.record.data["reapproved"]
        assert date(2025, 4, 1) == application.offer.start_date
        assert "Boston" == application.offer.location  # carried over

    def test_revision_of_an_unnamed_term_needs_no_reapproval(self, clock):
        """A changed term the policy does not name re-opens no step."""
        pipeline = position_pipeline(clock, "location")
        positions = Positions(pipeline)
        requisition = draft(approval_chain=(FINANCE, PEOPLE, LEGAL))
        open_position(positions, requisition, clock)
        application = at_offer(pipeline, requisition, approvers=("counsel",))
        pipeline.fire(application, "counter", actor="cand-1")
        fired = pipeline.fire(
            application,
            "revise_offer",
            actor="maria",
            requisition=requisition,
            start_date=date(2025, 5, 1),
            salary=145_000,
        )
        assert "reapproved" not in fired.record.data


def at_offer(
    pipeline: Pipeline, requisition: Requisition, *, approvers: tuple[str, ...] = ()
) -> object:
    application = make_application(pipeline, requisition, stage="review")
    pipeline.fire(
        application, "request_approval", actor="maria", requisition=requisition, salary=140_000
    )
    for approver in approvers:
        pipeline.fire(
            application, "record_approval", actor=approver, requisition=requisition, granted=True
        )
    pipeline.fire(application, "approve", actor="maria", requisition=requisition)
    pipeline.clock.advance(hours=1)  # type: ignore[attr-defined]
    pipeline.fire(
        application,
        "extend_offer",
        actor="maria",
        requisition=requisition,
        salary=140_000,
        start_date=date(2025, 3, 3),
    )
    return application


class TestApprovalOwed:
    """The application's approval deadline is owed by who can act on it, never the position's."""

    @pytest.mark.parametrize(
        ("fields", "owed_by"),
        [((), ("maria",)), (("start_date",), ("hr",))],
        ids=["no-offer-steps", "start-date-step"],
    )
    def test_overdue_approval_is_owed_by_the_offer_steps_or_the_manager(
        self, clock, fields, owed_by
    ):
        """Overdue in ``approval``: the offer step's approver, or the hiring manager, owes it.

        The sweep and the reminder read the whole chain: the CFO, who approved the position
        and may not record an application's approval (``not_an_offer_approver``), was named
        and reminded.
        """
        pipeline = position_pipeline(clock, *fields)
        outbox = Outbox()
        notifier = Notifier(outbox, pipeline.policy)
        requisition = draft()
        open_position(Positions(pipeline), requisition, clock)
        application = make_application(pipeline, requisition, stage="approval")
        clock.advance(days=3 * pipeline.policy.settings.approval_days)

        overdue = ServiceLevels(pipeline.policy).overdue([application], [requisition], clock.now())
        notifier.sweep([application], [requisition], clock.now())

        assert [owed_by] == [d.owed_by for d in overdue if d.kind == "approval"]
        reminded = [n.to for n in outbox.pending() if n.rule == "approval_reminder"]
        assert [p for p in owed_by if p != "maria"] == reminded


class TestOutsideTheBand:
    def test_offer_outside_the_band_reopens_the_positions_budget_approval(self, clock):
        """Refused with a pointer to the requisition; the chain approves a new band once."""
        pipeline = position_pipeline(clock)
        positions = Positions(pipeline)
        requisition = draft()
        open_position(positions, requisition, clock)
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application, "request_approval", actor="maria", requisition=requisition, salary=140_000
        )
        pipeline.fire(application, "approve", actor="maria", requisition=requisition)
        offer = {"salary": 160_000, "start_date": date(2025, 3, 3)}

        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application, "extend_offer", actor="maria", requisition=requisition, **offer
            )
        assert ("outside_position_band",) == caught.value.codes
        assert "revise_band" in caught.value.blockers[0].message

        wider = {"minimum": 125_000, "maximum": 170_000, "currency": "USD"}
        clock.advance(hours=1)
        positions.fire(
            requisition, "revise_band", actor="maria", reason="the finalist asks 160k", band=wider
        )
        assert RequisitionStatus.pending_approval == requisition.status
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application, "extend_offer", actor="maria", requisition=requisition, **offer
            )
        assert "position_not_open" in caught.value.codes
        # the earlier round's grants do not count: the chain approves the new band
        assert ["approvals_missing"] == [
            b.code for b in positions.blockers(requisition, "approve", actor="maria")
        ]
        clock.advance(hours=1)
        positions.fire(requisition, "record_approval", actor="cfo", granted=True)
        positions.fire(requisition, "record_approval", actor="hr", granted=True)
        positions.fire(requisition, "approve", actor="cfo")

        fired = pipeline.fire(
            application, "extend_offer", actor="maria", requisition=requisition, **offer
        )
        assert "offer" == fired.record.to_stage
        assert 170_000 == requisition.approved_band.maximum
        assert () == application.approvals  # the position was approved, not the candidate


class TestOnlyAnOpenPositionTakesOffers:
    @pytest.mark.parametrize(
        ("events", "status"),
        [
            ((("hold", "budget freeze"),), "on_hold"),
            ((("cancel", "reorganisation"),), "cancelled"),
            ((("revise_band", "market moved"),), "pending_approval"),
        ],
        ids=["on_hold", "cancelled", "pending_approval"],
    )
    def test_a_requisition_that_is_not_open_refuses_offers(self, clock, events, status):
        """Held, cancelled or waiting for approval, the requisition takes no offer."""
        pipeline = position_pipeline(clock)
        positions = Positions(pipeline)
        requisition = draft()
        open_position(positions, requisition, clock)
        application = make_application(pipeline, requisition, stage="review")
        pipeline.fire(
            application, "request_approval", actor="maria", requisition=requisition, salary=140_000
        )
        pipeline.fire(application, "approve", actor="maria", requisition=requisition)
        for event, reason in events:
            data = {"band": BAND} if event == "revise_band" else {}
            positions.fire(requisition, event, actor="maria", reason=reason, **data)
        before = application.model_dump()
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "extend_offer",
                actor="maria",
                requisition=requisition,
                salary=140_000,
                start_date=date(2025, 3, 3),
            )
        assert ("position_not_open",) == caught.value.codes
        assert status == caught.value.blockers[0].data["status"]
        assert before == application.model_dump()

    def test_a_draft_requisition_takes_no_candidate_into_approval(self, clock):
        """Before its position is approved, nobody is sent for an offer's approval."""
        pipeline = position_pipeline(clock)
        requisition = draft()
        application = make_application(pipeline, requisition, stage="review")
        with pytest.raises(GuardRejected) as caught:
            pipeline.fire(
                application,
                "request_approval",
                actor="maria",
                requisition=requisition,
                salary=130_000,
            )
        assert "position_not_open" in caught.value.codes


class TestLifecycle:
    def test_who_may_open_approve_hold_and_cancel(self, clock):
        """Permissions: staff submit and cancel, approvers decide, and only for themselves."""
        positions = Positions(position_pipeline(clock))
        requisition = draft(recruiter="rita")
        for actor in ("cand-1", "cfo"):
            with pytest.raises(PositionError) as caught:
                positions.fire(requisition, "submit", actor=actor)
            assert ("not_permitted",) == caught.value.codes
        positions.fire(requisition, "submit", actor="rita")
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "record_approval", actor="maria", granted=True)
        assert ("not_permitted",) == caught.value.codes
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "record_approval", actor="hr", approver="cfo", granted=True)
        assert "acting_for_another" in caught.value.codes
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "record_approval", actor="hr", granted=True)
        assert ("approval_out_of_order",) == caught.value.codes
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "cancel", actor="cfo", reason="no budget")
        assert ("not_permitted",) == caught.value.codes

    def test_a_denial_blocks_opening_and_sends_back_to_draft(self, clock):
        """A denied step cannot open the position; the position goes back to draft."""
        positions = Positions(position_pipeline(clock))
        requisition = draft()
        positions.fire(requisition, "submit", actor="maria")
        positions.fire(requisition, "record_approval", actor="cfo", granted=False, note="no")
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "approve", actor="maria")
        assert ("approval_denied",) == caught.value.codes
        positions.fire(requisition, "send_back", actor="cfo", reason="halve the band")
        assert RequisitionStatus.draft == requisition.status

    def test_refused_events_leave_the_requisition_as_it_was(self, clock):
        """Wrong status, a blank reason, a stale version: every field unchanged."""
        positions = Positions(position_pipeline(clock))
        requisition = draft()
        before = requisition.model_dump()
        attempts = [
            ({"event": "approve", "actor": "maria"}, "wrong_status"),
            ({"event": "cancel", "actor": "maria", "reason": "  "}, "reason_missing"),
            ({"event": "submit", "actor": "maria", "expected_version": 3}, "requisition_changed"),
            ({"event": "reopen", "actor": "maria"}, "unknown_event"),
        ]
        for kwargs, code in attempts:
            with pytest.raises(PositionError) as caught:
                positions.fire(requisition, **kwargs)
            assert (code,) == caught.value.codes
        with pytest.raises(ValidationError):
            positions.fire(requisition, "submit", actor="maria", band={"minimum": 1})
        assert before == requisition.model_dump()

    def test_fill_needs_every_headcount(self, clock):
        """A requisition is filled only when its last headcount accepted."""
        positions = Positions(position_pipeline(clock))
        requisition = draft()
        open_position(positions, requisition, clock)
        with pytest.raises(PositionError) as caught:
            positions.fire(requisition, "fill", actor="maria")
        assert ("headcount_open",) == caught.value.codes

    def test_a_lifecycle_survives_json(self, clock):
        """The requisition's history, approvals and band load back exactly (a restart)."""
        positions = Positions(position_pipeline(clock))
        requisition = draft()
        open_position(positions, requisition, clock)
        loaded = Requisition.model_validate_json(requisition.model_dump_json())
        assert requisition == loaded
        assert ["cancel", "hold", "revise_band"] == sorted(
            positions.available(loaded, actor="maria")
        )

    def test_slate_freeze_goes_through_the_lifecycle(self, clock):
        """hold_all and resume_all fire the requisition's hold and resume, recorded."""
        pipeline = position_pipeline(clock)
        positions = Positions(pipeline)
        requisition = draft()
        open_position(positions, requisition, clock)
        slate = Slate(pipeline, requisition, positions=positions)
        with pytest.raises(PositionError):
            slate.hold_all(actor="maria", reason=" ")
        assert RequisitionStatus.open == requisition.status
        slate.hold_all(actor="maria", reason="budget freeze")
        slate.resume_all(actor="maria", reason="thawed")
        assert ["hold", "resume"] == [r.event for r in requisition.history[-2:]]


EVENTS = ["submit", "record_approval", "approve", "send_back", "revise_band", "hold", "resume"]
EVENTS += ["fill", "cancel"]
ACTORS = ["maria", "cfo", "hr", "cand-1"]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(
        st.tuples(st.sampled_from(EVENTS), st.sampled_from(ACTORS), st.booleans()), max_size=25
    )
)
def test_any_sequence_keeps_the_requisition_consistent(steps):
    """Whatever is fired, the status is its last record's and a refusal changes nothing."""
    clock = FakeClock(START)
    positions = Positions(position_pipeline(clock))
    requisition = draft()
    for event, actor, granted in steps:
        clock.advance(minutes=5)
        before = requisition.model_dump()
        data = {"granted": granted} if event == "record_approval" else {}
        if event == "revise_band":
            data = {"band": BAND}
        try:
            positions.fire(requisition, event, actor=actor, reason="why", **data)
        except PositionError:
            assert before == requisition.model_dump()
        assert requisition.version == len(requisition.history)
        if requisition.history:
            assert requisition.status == requisition.history[-1].to_stage
        Requisition.model_validate(requisition.model_dump())


class TestPolicyData:
    def test_round_trips_through_toml(self, tmp_path):
        """The policy with position approval loads back equal, its guards checked at load."""
        policy = standard_policy(
            PolicySettings(offer_approval_fields=("start_date", "salary")),
            position_approval=True,
        )
        path = tmp_path / "position.toml"
        path.write_text(policy.to_toml(), encoding="utf-8")
        loaded = Policy.from_file(path, registry=standard_registry())
        assert policy == loaded
        assert (OfferField.start_date, OfferField.salary) == loaded.settings.offer_approval_fields

    def test_off_by_default(self):
        """Without the flag the standard policy keeps its own approval guards."""
        assert ["approvals_granted", "pay_inside_band"] == [
            g.name for g in standard_policy().events["approve"].guards
        ]


class TestCoversPay:
    def test_old_covers_pay_maps_to_the_pay_terms(self):
        """covers_pay=True is salary, bonus and equity; False covers nothing; never written."""
        old = ApprovalStep.model_validate_json(
            '{"name": "exec", "approvers": ["ceo"], "covers_pay": false}'
        )
        assert () == old.covers
        assert old.covers_pay is False
        pay = ApprovalStep.model_validate({"name": "fin", "approvers": ["cfo"], "covers_pay": True})
        assert ("salary", "bonus", "equity") == pay.covers
        assert "covers_pay" not in pay.model_dump()
        assert pay == ApprovalStep.model_validate_json(pay.model_dump_json())

    def test_contradiction_refused(self):
        """covers_pay and covers saying different things is refused, not guessed."""
        with pytest.raises(ValidationError, match="covers_contradicts"):
            ApprovalStep(name="x", approvers=("a",), covers=("title",), covers_pay=True)

    def test_covers_in_one_order(self):
        """The same terms in any order make equal steps (and equal JSON)."""
        one = ApprovalStep(name="x", approvers=("a",), covers=("start_date", "title"))
        other = ApprovalStep(name="x", approvers=("a",), covers=("title", "start_date", "title"))
        assert one.model_dump_json() == other.model_dump_json()

    def test_old_requisition_json_loads(self):
        """A requisition stored before the lifecycle loads, open, with no history."""
        old = make_requisition().model_dump(mode="json")
        for name in ("approvals", "approved_band", "version", "history"):
            old.pop(name)
        loaded = Requisition.model_validate(old)
        assert (RequisitionStatus.open, 0) == (loaded.status, loaded.version)


def test_the_documented_diagram_is_the_lifecycle():
    """The diagram on the position-approval page draws exactly the lifecycle's transitions."""
    import re
    from pathlib import Path

    from hirepipe.standard._position import REQUISITION_LIFECYCLE

    page = Path(__file__).resolve().parents[2] / "docs" / "position-approval.md"
    (diagram,) = re.findall(r"```mermaid\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
    drawn = set(re.findall(r"(\w+) --> (\w+): (\w+)", diagram))
    expected = {
        (str(source), str(event.dest or source), event.name)
        for event in REQUISITION_LIFECYCLE
        for source in event.sources
    }
    assert expected == drawn
