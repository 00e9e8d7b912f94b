"""What each standard event accepts: the data models of ``hirepipe.Pipeline.fire``'s keywords.

``standard_policy().events["extend_offer"].data_model`` is
[`OfferData`][hirepipe.standard.OfferData]; unknown keys are refused, and every field is
validated before any guard runs.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from pydantic import Field, StrictBool

from hirepipe.models import (
    NO_AMOUNT,
    Band,
    Contact,
    CurrencyCode,
    Identifier,
    OptionalMoney,
    Recommendation,
    ReferenceOutcome,
    ReferenceStatus,
    RoundNumber,
    Text,
    Timestamp,
)
from hirepipe.policy import EventData

__all__ = [
    "ApprovalData",
    "ApproveData",
    "CounterData",
    "HeldData",
    "KeepWarmData",
    "NextRoundData",
    "NoteData",
    "OfferData",
    "OfferVersionData",
    "RefereeData",
    "ReferenceData",
    "ReferenceResultData",
    "RejectData",
    "RetargetData",
    "SalaryData",
    "ScorecardData",
    "SignatureData",
    "SubstitutionData",
]


class NextRoundData(EventData):
    """``schedule_next_round``: who interviews in the next round, and when."""

    interviewers: list[Identifier] = Field(default_factory=list)
    scheduled_at: Timestamp | None = None


class HeldData(EventData):
    """``round_held``: when the round's interview was held (default: now)."""

    held_at: Timestamp | None = None


class SalaryData(EventData):
    """``request_approval``: the salary proposed for approval."""

    salary: OptionalMoney = NO_AMOUNT


class ApproveData(EventData):
    """``approve``: the salary approved (default: the proposed one) and the band it covers."""

    salary: OptionalMoney = NO_AMOUNT
    band: Band | None = None


class OfferData(EventData):
    """``extend_offer`` and ``revise_offer``: the terms (a revision keeps what it omits).

    ``bonus`` and ``equity`` are amounts in the offer's currency (equity as the grant's
    value). ``meet_counter`` makes a revision start from the terms the candidate's counter
    asked for (salary, bonus, equity, start date); the terms given here still win.
    """

    title: Identifier | None = None
    salary: OptionalMoney = NO_AMOUNT
    currency: CurrencyCode | None = None
    bonus: OptionalMoney = NO_AMOUNT
    equity: OptionalMoney = NO_AMOUNT
    benefits: list[Identifier] = Field(default_factory=list)
    start_date: date | None = None
    valid_until: Timestamp | None = None
    meet_counter: StrictBool = False
    note: Text = ""


class CounterData(EventData):
    """``counter``: what the candidate asked for, as terms, and in their own words.

    Amounts are in the currency of the offer countered (equity as the grant's value);
    ``competing_deadline`` is when a competing offer the candidate holds lapses. A counter
    with a note only, as before these terms existed, is still accepted.
    """

    salary: OptionalMoney = NO_AMOUNT
    bonus: OptionalMoney = NO_AMOUNT
    equity: OptionalMoney = NO_AMOUNT
    start_date: date | None = None
    competing_deadline: Timestamp | None = None
    note: Text = ""


class OfferVersionData(EventData):
    """``send_offer`` and ``offer_viewed``: the offer version whose document it was.

    The version is required: an e-signature provider's report about version 1 that arrives
    after version 2 went out must not count for version 2.
    """

    version: RoundNumber


class SignatureData(EventData):
    """``sign_offer`` and ``countersign_offer``: the version signed, and whose signature it is.

    ``signer`` is the person acting, or the one acted for (``on_behalf_of``), filled in by the
    engine; naming anyone else is refused (``acting_for_another``).
    """

    person_field: ClassVar[str | None] = "signer"

    version: RoundNumber
    signer: Identifier | None = None


class NoteData(EventData):
    """``accept``, ``decline``, ``note`` and the candidate's messages: free text."""

    text: Text = ""


class RejectData(EventData):
    """``reject``: feedback, or an explicit offer of feedback on request."""

    feedback: Text | None = None
    feedback_on_request: StrictBool = False


class KeepWarmData(EventData):
    """``keep_warm``: until when to stay in touch, and the candidate's consent."""

    warm_until: Timestamp | None = None
    consent: StrictBool | None = None


class RetargetData(EventData):
    """``reactivate``: the requisition the application moves to (filled in by the engine)."""

    requisition_id: Identifier | None = None


class ScorecardData(EventData):
    """``submit_scorecard``: the author (who acts, or whom they act for) and their verdict."""

    person_field: ClassVar[str | None] = "interviewer"

    recommendation: Recommendation
    notes: Text = ""
    interviewer: Identifier | None = None
    round: RoundNumber | None = None


class ApprovalData(EventData):
    """``record_approval``: the approver (who acts, or whom they act for) and their decision."""

    person_field: ClassVar[str | None] = "approver"

    granted: StrictBool
    approver: Identifier | None = None
    band: Band | None = None
    note: Text = ""


class ReferenceData(EventData):
    """``add_reference``: a referee and their consent to be contacted."""

    referee: Identifier
    contact: Contact
    relationship: Text = ""
    consent: StrictBool = False


class RefereeData(EventData):
    """``contact_reference``: which referee."""

    referee: Identifier


class ReferenceResultData(EventData):
    """``complete_reference``: how the check ended."""

    referee: Identifier
    status: ReferenceStatus = ReferenceStatus.completed
    outcome: ReferenceOutcome | None = None
    notes: Text = ""


# -- effects ---------------------------------------------------------------------------------


class SubstitutionData(EventData):
    """``replace_approver``: who is away, who decides instead, in which step (default: all)."""

    absent: Identifier
    substitute: Identifier
    step: Identifier | None = None
