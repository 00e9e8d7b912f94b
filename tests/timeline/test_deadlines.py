"""Tests of hirepipe.timeline.deadlines: service-level deadlines derived from application data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from hirepipe import (
    Application,
    ApprovalStep,
    CalendarError,
    Interview,
    Pipeline,
    PolicyError,
    PolicySettings,
    Requisition,
    RequisitionMismatch,
    standard_policy,
)
from hirepipe.policy import Owner, Policy, ServiceLevel
from hirepipe.testing import (
    FakeClock,
    advance,
    make_application,
    make_candidate,
    make_requisition,
)
from hirepipe.timeline.calendar import BusinessCalendar
from hirepipe.timeline.deadlines import (
    CANDIDATE_CONTACT_EVENTS,
    Deadline,
    DeadlineKind,
    ServiceLevels,
)

NY = "America/New_York"
LA = "America/Los_Angeles"
MONDAY = pendulum.datetime(2025, 1, 6, 16, tz=NY)


def ny(*parts: int) -> pendulum.DateTime:
    """An instant given as New York wall-clock time."""
    return pendulum.datetime(*parts, tz=NY)


PINNED = PolicySettings(review_days=5, approval_days=3, reference_check_days=5)
"""The service levels these tests count with, whatever the defaults become."""


class World:
    """A pipeline on a fake clock, one requisition, and the service levels of the policy."""

    def __init__(
        self, start: pendulum.DateTime, *, policy: Policy | None = None, **requisition: object
    ) -> None:
        self.clock = FakeClock(start)
        self.pipeline = Pipeline(policy or standard_policy(PINNED), clock=self.clock)
        self.requisition = make_requisition(**requisition)
        self.levels = ServiceLevels(self.pipeline.policy)

    def application(self, stage: str = "interviewed", number: int = 1) -> Application:
        """An application brought to ``stage`` by real events at the clock's time."""
        return make_application(
            self.pipeline, self.requisition, stage=stage, candidate=make_candidate(number)
        )

    def fire(self, application: Application, *events: str) -> None:
        """Fire ``events`` with the data the standard guards need."""
        advance(self.pipeline, application, self.requisition, events)

    def open(self, application: Application, kind: DeadlineKind) -> list[Deadline]:
        """The open deadlines of ``kind``."""
        found = self.levels.deadlines(application, self.requisition)
        return [d for d in found if d.kind == kind]

    def due_of(self, application: Application, kind: DeadlineKind) -> pendulum.DateTime:
        """The due time of the one open deadline of ``kind``."""
        (deadline,) = self.open(application, kind)
        return deadline.due


class TestThankYou:
    @pytest.mark.parametrize(
        ("held_at", "time_zone", "expected"),
        [
            (ny(2025, 1, 7, 9, 30), NY, ny(2025, 1, 8, 9, 30)),
            (ny(2025, 1, 10, 16), NY, ny(2025, 1, 13, 16)),
            (ny(2025, 1, 17, 16), NY, ny(2025, 1, 21, 16)),
            (ny(2025, 7, 3, 11), NY, ny(2025, 7, 7, 11)),
            (ny(2025, 1, 11, 10), NY, ny(2025, 1, 14, 10)),
            (ny(2025, 3, 7, 16), NY, ny(2025, 3, 10, 16)),
            (
                pendulum.datetime(2025, 1, 10, 7, 30, tz="UTC"),
                LA,
                pendulum.datetime(2025, 1, 10, 23, 30, tz=LA),
            ),
            (
                pendulum.datetime(2025, 1, 11, 7, 30, tz="UTC"),
                LA,
                pendulum.datetime(2025, 1, 13, 23, 30, tz=LA),
            ),
        ],
        ids=[
            "tuesday-to-wednesday",
            "friday-16h-to-monday-16h",
            "skips-martin-luther-king-day",
            "skips-independence-day",
            "saturday-rolls-forward-to-tuesday",
            "same-wall-clock-across-dst-start",
            "la-thursday-23h30-counts-on-la-date",
            "la-friday-23h30-counts-on-la-date",
        ],
    )
    def test_due_one_business_day_later_same_wall_clock(self, held_at, time_zone, expected):
        """A thank-you is due one business day after the interview, at the same local time."""
        world = World(held_at, time_zone=time_zone)
        application = world.application()

        actual = world.due_of(application, DeadlineKind.thank_you)

        assert expected.isoformat() == actual.isoformat()

    def test_thank_you_days_come_from_the_policy(self):
        """``thank_you_days`` of the policy's settings sets the service level."""
        world = World(ny(2025, 1, 10, 16), policy=standard_policy(PolicySettings(thank_you_days=2)))

        actual = world.due_of(world.application(), DeadlineKind.thank_you)

        assert ny(2025, 1, 14, 16) == actual

    def test_met_by_a_thank_you_sent_record(self):
        """A ``thank_you_sent`` record after the interview meets the thank-you."""
        world = World(MONDAY)
        application = world.application()
        world.clock.advance(hours=2)
        world.pipeline.fire(
            application, "thank_you_sent", actor="maria", requisition=world.requisition
        )

        assert [] == world.open(application, DeadlineKind.thank_you)

    def test_contact_before_a_round_does_not_meet_its_thank_you(self):
        """Inviting to round 2 thanks for round 1, but round 2 still needs its own thank-you."""
        world = World(MONDAY)
        application = world.application("review")
        world.clock.advance(days=1)
        world.fire(application, "schedule_next_round")
        world.clock.advance(days=2)
        world.pipeline.fire(application, "round_held", actor="maria", requisition=world.requisition)

        actual = world.open(application, DeadlineKind.thank_you)

        assert [ny(2025, 1, 10, 16)] == [d.due for d in actual]
        assert ["thank Candidate 1 for the round 2 interview"] == [d.description for d in actual]

    @pytest.mark.parametrize(
        ("contact_events", "expected"),
        [(CANDIDATE_CONTACT_EVENTS, 1), ({"note"}, 0)],
        ids=["note-is-internal-by-default", "note-counts-when-configured"],
    )
    def test_contact_events_are_configurable(self, contact_events, expected):
        """``contact_events`` decides which history events count as contact."""
        world = World(MONDAY)
        application = world.application()
        world.pipeline.fire(
            application,
            "note",
            actor="maria",
            requisition=world.requisition,
            text="called to say thanks",
        )
        levels = ServiceLevels(world.pipeline.policy, contact_events=contact_events)

        found = levels.deadlines(application, world.requisition)

        assert expected == sum(d.kind == DeadlineKind.thank_you for d in found)

    def test_owed_by_the_hiring_manager(self):
        """The hiring manager owes the thank-you."""
        world = World(MONDAY)

        (actual,) = world.open(world.application(), DeadlineKind.thank_you)

        assert ("maria",) == actual.owed_by

    def test_interview_not_held_owes_no_thank_you_nor_scorecards(self):
        """A round that is only scheduled owes neither a thank-you nor scorecards yet."""
        world = World(MONDAY)
        application = world.application()
        scheduled = Interview(round=1, interviewers=["alice"], scheduled_at=ny(2025, 1, 8, 10))
        application = application.model_copy(update={"interviews": (scheduled,)})

        actual = world.levels.deadlines(application, world.requisition)

        assert [DeadlineKind.candidate_update] == [d.kind for d in actual]


class TestCandidateUpdate:
    def test_due_a_cadence_after_the_interview(self):
        """Without contact, an update is due ``update_cadence_days`` after the interview."""
        world = World(MONDAY)

        actual = world.due_of(world.application(), DeadlineKind.candidate_update)

        assert ny(2025, 1, 13, 16) == actual

    def test_latest_contact_restarts_the_cadence(self):
        """A contact record restarts the cadence from its own time."""
        world = World(MONDAY)
        application = world.application("review")
        world.clock.set(ny(2025, 1, 8, 10))
        world.fire(application, "schedule_next_round")

        actual = world.due_of(application, DeadlineKind.candidate_update)

        assert ny(2025, 1, 15, 10) == actual

    @pytest.mark.parametrize(
        "stage", ["hired", "declined", "rejected", "withdrawn"], ids=lambda s: s
    )
    def test_terminal_applications_owe_nothing(self, stage):
        """A terminal application has no deadlines at all, the cadence included."""
        world = World(MONDAY)

        actual = world.levels.deadlines(world.application(stage), world.requisition)

        assert [] == actual

    @pytest.mark.parametrize(
        ("stage", "expected"),
        [("on_hold", 1), ("talent_pool", 0), ("offer", 1)],
        ids=["on-hold-still-updated", "talent-pool-not", "offer-out-still-updated"],
    )
    def test_cadence_runs_in_active_and_paused_stages(self, stage, expected):
        """Active and paused applications are owed updates; the talent pool is not."""
        world = World(MONDAY)

        actual = world.open(world.application(stage), DeadlineKind.candidate_update)

        assert expected == len(actual)


class TestStageDeadlines:
    @pytest.mark.parametrize(
        ("stage", "kind", "expected"),
        [
            ("review", DeadlineKind.review, ny(2025, 1, 14, 11)),
            ("approval", DeadlineKind.approval, ny(2025, 1, 10, 11)),
            ("references", DeadlineKind.references, ny(2025, 1, 14, 11)),
        ],
        ids=["review-5-days", "approval-3-days", "references-5-days"],
    )
    def test_due_after_entering_the_stage(self, stage, kind, expected):
        """Review, approval and reference deadlines count from entering the stage."""
        world = World(MONDAY)
        application = world.application("debrief")
        world.clock.set(ny(2025, 1, 7, 11))
        steps = {
            "review": ("complete_debrief",),
            "approval": ("complete_debrief", "request_approval"),
            "references": ("complete_debrief", "request_approval", "approve"),
        }[stage]
        world.fire(application, *steps)

        actual = world.due_of(application, kind)

        assert expected == actual

    def test_stage_without_an_entry_counts_from_creation(self):
        """An application that never transitioned into its stage counts from its creation."""
        world = World(MONDAY)
        application = world.application().model_copy(update={"stage": "review"})

        actual = world.due_of(application, DeadlineKind.review)

        assert ny(2025, 1, 13, 16) == actual

    def test_scorecards_owed_by_interviewers_who_have_not_submitted(self):
        """Scorecards are due from the interviewers still missing one, a day after the round."""
        world = World(MONDAY)
        application = world.application("debrief")
        world.pipeline.fire(application, "submit_scorecard", actor="alice", recommendation="yes")

        (actual,) = world.open(application, DeadlineKind.scorecards)

        assert (("bob",), ny(2025, 1, 7, 16)) == (actual.owed_by, actual.due)

    def test_a_stage_of_interviewers_without_a_code_owes_under_its_name(self):
        """Scorecards of a stage with no deadline code carry the stage's name, as documented.

        The simulator's tracking counts them under that code too, so both name the breach alike.
        """
        service = ServiceLevel("scorecard_days", Owner.interviewers)
        policy = standard_policy(PINNED).replace_stage("debrief", service=service)
        world = World(MONDAY, policy=policy)
        application = world.application("debrief")

        found = world.levels.deadlines(application, world.requisition)

        assert ["debrief"] == [d.kind for d in found if d.owed_by == ("alice", "bob")]

    def test_scorecards_met_once_all_are_in(self):
        """No scorecard deadline remains once every interviewer submitted."""
        world = World(MONDAY)
        application = world.application("debrief")
        for person in ("alice", "bob"):
            world.pipeline.fire(application, "submit_scorecard", actor=person, recommendation="yes")

        assert [] == world.open(application, DeadlineKind.scorecards)

    def test_approval_owed_by_approvers_still_to_decide(self):
        """Approvers owe the approval until they decide; then the hiring manager does."""
        world = World(MONDAY, approvers=["cfo", "vp"])
        application = world.application("approval")
        before = world.open(application, DeadlineKind.approval)[0].owed_by
        world.pipeline.fire(
            application, "record_approval", actor="cfo", requisition=world.requisition, granted=True
        )
        middle = world.open(application, DeadlineKind.approval)[0].owed_by
        world.pipeline.fire(
            application, "record_approval", actor="vp", requisition=world.requisition, granted=True
        )
        after = world.open(application, DeadlineKind.approval)[0].owed_by

        assert [("cfo", "vp"), ("vp",), ("maria",)] == [before, middle, after]

    def test_resume_restarts_the_stage_clock(self):
        """After a hold, the stage's deadline counts from the resume."""
        world = World(MONDAY)
        application = world.application("review")
        world.pipeline.fire(
            application,
            "hold",
            actor="maria",
            requisition=world.requisition,
            reason="budget freeze",
        )
        world.clock.set(ny(2025, 1, 22, 9))
        world.pipeline.fire(
            application,
            "resume",
            actor="maria",
            requisition=world.requisition,
            reason="budget back",
        )

        actual = world.due_of(application, DeadlineKind.review)

        assert ny(2025, 1, 29, 9) == actual


class TestOfferAndPool:
    def test_offer_expiry_is_the_offers_valid_until(self):
        """The offer-expiry deadline is the live offer's ``valid_until``, owed by the candidate."""
        world = World(MONDAY)
        application = world.application("offer")
        offer = application.offer
        assert offer is not None

        (actual,) = world.open(application, DeadlineKind.offer_expiry)

        assert (offer.valid_until, ("cand-1",)) == (actual.due, actual.owed_by)

    def test_offer_expiry_reads_in_the_requisitions_zone(self):
        """A ``valid_until`` given in UTC is due at the same instant, read in New York time."""
        world = World(MONDAY)
        application = world.application("negotiation")
        valid_until = pendulum.datetime(2025, 1, 20, 22, tz="UTC")
        world.pipeline.fire(
            application,
            "revise_offer",
            actor="maria",
            requisition=world.requisition,
            salary=140_000,
            valid_until=valid_until,
        )

        actual = world.due_of(application, DeadlineKind.offer_expiry)

        assert "2025-01-20T17:00:00-05:00" == actual.isoformat()

    def test_negotiation_owes_a_revision_before_expiry(self):
        """After a counter, the hiring manager owes a revision before the offer lapses."""
        world = World(MONDAY)

        (actual,) = world.open(world.application("negotiation"), DeadlineKind.offer_expiry)

        assert ("maria",) == actual.owed_by

    def test_talent_pool_owes_its_warm_until(self):
        """A pooled application's only deadline is its warm-until date."""
        world = World(MONDAY)
        application = world.application("talent_pool")

        actual = world.levels.deadlines(application, world.requisition)

        assert [(DeadlineKind.warm_until, application.warm_until)] == [
            (d.kind, d.due) for d in actual
        ]


class TestSweep:
    @pytest.fixture
    def three(self):
        """Applications interviewed Monday, Tuesday and Wednesday at 16:00 in New York."""
        world = World(MONDAY)
        applications = []
        for number in (1, 2, 3):
            applications.append(world.application(number=number))
            world.clock.advance(days=1)
        return world, applications

    def test_overdue_sorted_by_due_and_strict(self, three):
        """Only deadlines due strictly before now are overdue, soonest first."""
        world, applications = three

        actual = world.levels.overdue(
            reversed(applications), [world.requisition], ny(2025, 1, 8, 16)
        )

        assert [
            (ny(2025, 1, 7, 16), applications[0].id, DeadlineKind.scorecards),
            (ny(2025, 1, 7, 16), applications[0].id, DeadlineKind.thank_you),
        ] == [(d.due, d.application_id, d.kind) for d in actual]

    @pytest.mark.parametrize(
        "as_mapping", [True, False], ids=["requisitions-by-id", "requisitions-listed"]
    )
    def test_due_looks_ahead(self, three, as_mapping):
        """``due(within=...)`` adds the deadlines coming up inside the window."""
        world, applications = three
        requisitions = (
            {world.requisition.id: world.requisition} if as_mapping else [world.requisition]
        )

        actual = world.levels.due(
            applications, requisitions, ny(2025, 1, 8, 16), within=timedelta(hours=1)
        )

        assert [applications[0].id] * 2 + [applications[1].id] * 2 == [
            d.application_id for d in actual
        ]

    def test_missing_requisition_is_refused(self, three):
        """An application whose requisition was not passed raises RequisitionMismatch."""
        world, applications = three

        with pytest.raises(RequisitionMismatch) as caught:
            world.levels.overdue(applications, {}, ny(2025, 1, 8, 16))

        assert "req-1" == caught.value.expected

    def test_standard_library_now_is_accepted(self, three):
        """``now`` may be any aware datetime, not only pendulum's."""
        world, applications = three
        now = datetime(2025, 1, 8, 21, tzinfo=UTC)

        actual = world.levels.overdue(applications, [world.requisition], now)

        assert 2 == len(actual)

    def test_naive_now_is_refused(self, three):
        """A naive ``now`` raises CalendarError rather than comparing wrongly."""
        world, applications = three

        with pytest.raises(CalendarError):
            world.levels.overdue(applications, [world.requisition], pendulum.naive(2025, 1, 8))

    def test_a_look_ahead_past_the_calendars_end_is_refused(self, three):
        """``within=timedelta.max`` ("everything to come") raised a bare OverflowError."""
        world, applications = three
        now = datetime(2025, 1, 8, 21, tzinfo=UTC)

        with pytest.raises(CalendarError, match=r"within=.* leaves the calendar"):
            world.levels.due(applications, [world.requisition], now, within=timedelta.max)

    def test_a_deadlines_repr_withholds_its_description(self):
        """The description names the candidate; a repr ends up in logs and error trackers."""
        world = World(MONDAY)
        application = world.application()
        found = world.levels.deadlines(application, world.requisition)
        assert found
        for deadline in found:
            assert application.candidate.name in deadline.description  # still there to read
            assert application.candidate.name not in repr(deadline) + str(deadline)
            assert "description=<personal>" in repr(deadline)
            assert repr(deadline.application_id) in repr(deadline)

    def test_wrong_requisition_is_refused(self):
        """``deadlines`` with another requisition raises RequisitionMismatch."""
        world = World(MONDAY)
        other = make_requisition(id="req-2")

        with pytest.raises(RequisitionMismatch):
            world.levels.deadlines(world.application(), other)

    def test_stage_unknown_to_the_policy_is_refused(self):
        """An application in a stage the policy lacks raises PolicyError."""
        world = World(MONDAY)
        application = world.application().model_copy(update={"stage": "limbo"})

        with pytest.raises(PolicyError):
            world.levels.deadlines(application, world.requisition)


class TestDeadline:
    def test_json_round_trip(self):
        """A deadline survives JSON exactly, as a sweep that stores them needs."""
        world = World(MONDAY)
        for deadline in world.levels.deadlines(world.application("offer"), world.requisition):
            assert deadline == Deadline.model_validate_json(deadline.model_dump_json())

    @pytest.mark.parametrize(
        ("now", "expected"),
        [
            (ny(2025, 1, 7, 15, 59), False),
            (ny(2025, 1, 7, 16), False),
            (ny(2025, 1, 7, 16, 1), True),
        ],
        ids=["before", "at-due", "after"],
    )
    def test_is_overdue_strictly_after_due(self, now, expected):
        """A deadline is overdue only once ``now`` is past its due time."""
        world = World(MONDAY)
        (deadline,) = world.open(world.application(), DeadlineKind.thank_you)

        assert expected == deadline.is_overdue(now)


class TestServiceLevels:
    def test_default_calendar_shared_per_country_and_zone(self):
        """One calendar per (country, zone), built once."""
        levels = ServiceLevels(standard_policy())
        first = levels.calendar(make_requisition())
        second = levels.calendar(make_requisition(id="req-2"))
        other = levels.calendar(make_requisition(time_zone=LA))

        assert (True, False) == (first is second, first is other)

    def test_custom_calendar_is_used(self):
        """A ``calendars`` callable supplies the business days (a company shutdown here)."""
        shutdown = BusinessCalendar("US", time_zone=NY, shutdown_days=[date(2025, 1, 13)])
        world = World(ny(2025, 1, 10, 16))
        levels = ServiceLevels(world.pipeline.policy, calendars=lambda requisition: shutdown)
        application = world.application()

        (actual,) = [
            d
            for d in levels.deadlines(application, world.requisition)
            if d.kind == DeadlineKind.thank_you
        ]

        assert ny(2025, 1, 14, 16) == actual.due

    def test_repr_names_the_policy(self):
        """The repr shows the policy."""
        actual = repr(ServiceLevels(standard_policy()))

        assert actual.startswith("ServiceLevels(Policy('standard@1'")

    def test_negative_scorecard_days_refused(self):
        """The policy refuses a negative number of business days for scorecards."""
        with pytest.raises(ValidationError):
            PolicySettings(scorecard_days=-1)


_ZONES = [
    ("US", NY),
    ("US", LA),
    ("DE", "Europe/Berlin"),
    ("IN", "Asia/Kolkata"),
    ("NZ", "Pacific/Auckland"),
    ("GB", "UTC"),
]
_PATH = ("start_debrief", "complete_debrief", "request_approval", "approve", "extend_offer")
_POLICY = standard_policy()
_LEVELS = ServiceLevels(_POLICY)


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(
        start=st.datetimes(
            min_value=pendulum.naive(2024, 1, 1), max_value=pendulum.naive(2027, 12, 31)
        ),
        place=st.sampled_from(_ZONES),
        gaps=st.lists(st.integers(min_value=0, max_value=24 * 9), max_size=len(_PATH)),
    )
    def test_every_deadline_follows_its_event_in_the_requisitions_zone(self, start, place, gaps):
        """Deadlines are never due before what they count from, and read in local time."""
        country, zone = place
        clock = FakeClock(pendulum.instance(start, tz="UTC"))
        pipeline = Pipeline(_POLICY, clock=clock)
        requisition: Requisition = make_requisition(country=country, time_zone=zone)
        application = make_application(pipeline, requisition)
        for event, hours in zip(_PATH, gaps, strict=False):
            clock.advance(hours=hours)
            advance(pipeline, application, requisition, [event])
        calendar = _LEVELS.calendar(requisition)

        found = _LEVELS.deadlines(application, requisition)

        assert found
        for deadline in found:
            assert deadline.since <= deadline.due
            for moment in (deadline.due, deadline.since):
                assert moment.in_timezone(zone).isoformat() == moment.isoformat()
            if deadline.kind == DeadlineKind.thank_you:
                assert 1 == calendar.business_days_between(deadline.since, deadline.due)


class TestApprovalChainDeadlines:
    def test_each_step_owes_its_own_deadline(self):
        """The open step's approvers owe it, due from when the step before it was granted."""
        chain = (
            ApprovalStep(name="finance", approvers=("cfo",)),
            ApprovalStep(name="exec", approvers=("ceo", "coo"), required=1, due_days=2),
        )
        world = World(MONDAY, approvers=[], approval_chain=chain)
        application = world.application("approval")
        first = world.open(application, DeadlineKind.approval)[0]
        assert ("cfo",) == first.owed_by
        world.clock.set(ny(2025, 1, 8, 10))
        world.pipeline.fire(
            application, "record_approval", actor="cfo", requisition=world.requisition, granted=True
        )
        (second,) = world.open(application, DeadlineKind.approval)
        assert (("ceo", "coo"), ny(2025, 1, 8, 10), ny(2025, 1, 10, 10)) == (
            second.owed_by,
            second.since,
            second.due,
        )
