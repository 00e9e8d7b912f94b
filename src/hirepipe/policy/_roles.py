"""What a stage means to the layers above the engine: its role, service level and duration.

```python
StageSpec(
    "background_check",
    role=StageRole.in_flight,
    service=ServiceLevel(days=5, owner=Owner.outside),
    duration=Duration(mean_days=4, cv=0.5),
)
```

The slate, the deadlines, the estimator, the notifier and the simulator read these, never a
stage's name, so a company's own stage works in every layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

__all__ = [
    "RULE_DEADLINES",
    "Duration",
    "FollowUp",
    "Owner",
    "ServiceLevel",
    "StageRole",
    "member",
]

_Enum = TypeVar("_Enum", bound=StrEnum)

RULE_DEADLINES = frozenset({"thank_you", "candidate_update", "offer_expiry", "warm_until"})
"""Deadline codes the service levels give by their own rules, whatever the stage; a stage's
deadline takes another (the notifier and the update cadence match deadlines by code)."""


def member(kind: type[_Enum], value: Any) -> _Enum | Any:
    """``value`` as a member of ``kind`` when it is one's string (``"in_flight"``), else as is.

    The layers compare members by identity; what is no member is left for the checks to name.
    """
    if isinstance(value, str) and not isinstance(value, kind):
        try:
            return kind(value)
        except ValueError:
            return value
    return value


class StageRole(StrEnum):
    """Where a stage sits in a requisition's decision; the slate reads it.

    ``assessment``: before the slate's decision (interviews, debriefs, an assessment); the
    slate's review waits for every candidate still here. ``review``: the slate's decision,
    where candidates are compared and runner-ups wait. ``in_flight``: chosen for the open
    headcount (approval, checks, the offer); the slate counts it against the headcount and
    brings the next runner-up forward when it ends in a terminal stage. ``hired``: a terminal
    stage that fills a headcount; every other terminal stage means the application fell
    through.
    """

    assessment = "assessment"
    review = "review"
    in_flight = "in_flight"
    hired = "hired"


class Owner(StrEnum):
    """Who owes the next step of a stage.

    ``approvers`` are those of the open approval step (the step's own days apply);
    ``interviewers`` those of the current round; ``candidate`` the candidate (an answer to an
    offer: the estimator's offer milestone is the end of the stage before it); ``outside`` a
    third party (a background-check provider), chased by the hiring manager.
    """

    hiring_manager = "hiring_manager"
    recruiter = "recruiter"
    approvers = "approvers"
    interviewers = "interviewers"
    candidate = "candidate"
    outside = "outside"


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """How long a stage may take and who owes it: a deadline from entering the stage.

    ``days`` is business days, or the name of an integer policy setting holding them
    (``"review_days"``), so ``with_setting`` changes the deadline. ``deadline`` is the
    deadline's kind code (default: the stage's name); ``owes`` says what is owed, with
    ``{name}`` for the candidate's name.
    """

    days: int | str
    owner: Owner = Owner.hiring_manager
    deadline: str | None = None
    owes: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "owner", member(Owner, self.owner))


@dataclass(frozen=True, slots=True)
class FollowUp(ServiceLevel):
    """What an event leaves owed: a deadline counted from its record, until another event.

    ```python
    FollowUp(
        "feedback_days",
        Owner.recruiter,
        "feedback",
        "send {name} the feedback they asked for",
        closed_by=("send_feedback",),
    )
    ```

    Set on an [`EventSpec`][hirepipe.policy.EventSpec] (``follow_up=``): once the event is
    recorded, ``owner`` owes the next step within ``days`` business days of the record (a
    number, or the name of an integer policy setting), whatever the stage, terminal ones
    included. The deadline is closed by a later record of any event in ``closed_by`` (the
    step done, or made moot); firing the opening event again while it is open keeps the
    first deadline, unless the event closes its own. With ``stages``, it is open only while
    the application is in one of them (a hold hides it, a resume shows it again). ``unless``
    names a field of the event's data that, when given, means nothing is owed (a round
    scheduled at once, ``scheduled_at``). ``deadline`` is required: it is the deadline's
    kind code, which notification rules and reports match on. The owner ``candidate`` owes
    an answer (their availability); ``recruiter`` is the requisition's recruiter, or its
    hiring manager when it has none.
    """

    closed_by: tuple[str, ...] = ()
    stages: tuple[str, ...] = ()
    unless: str | None = None

    def __post_init__(self) -> None:
        ServiceLevel.__post_init__(self)
        for name in ("closed_by", "stages"):
            value: Any = getattr(self, name)
            if isinstance(value, list):
                object.__setattr__(self, name, tuple(value))


@dataclass(frozen=True, slots=True)
class Duration:
    """How long a stage is expected to take, for the estimator and the simulator.

    ``mean_days`` (business days) and ``cv`` (the spread: standard deviation over mean) give a
    lognormal. Without ``mean_days`` the estimator takes the priors' figure of the stage named
    ``prior`` (default: this stage), as the standard stages do; ``cv`` defaults to the
    priors' spread. A company's fitted history replaces either (``TimelineEstimator.fit``).
    """

    mean_days: float | None = None
    cv: float | None = None
    prior: str | None = None

    def problems(self) -> list[str]:
        """What is wrong with the figures, for the policy's checks."""
        found = []
        for label, value in (("mean_days", self.mean_days), ("cv", self.cv)):
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
                or value > 1_000
            ):
                found.append(f"{label} must be a positive number of at most 1000, not {value!r}")
        return found
