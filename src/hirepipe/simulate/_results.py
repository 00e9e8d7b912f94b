"""What simulations found: the result models, their summaries, and paired differences.

[`hirepipe.simulate`][hirepipe.simulate] is the public face and re-exports every model here.
Results are frozen Pydantic models, so their JSON is exact and the same input gives the same
bytes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict

from hirepipe.policy import Owner, Policy
from hirepipe.simulate._scenario import DAY, Scenario
from hirepipe.standard import standard_policy

if TYPE_CHECKING:
    import pandas  # type: ignore[import-untyped, unused-ignore]

__all__ = [
    "BREACH_KINDS",
    "METRICS",
    "Breaches",
    "Comparison",
    "Difference",
    "Durations",
    "Notifications",
    "Progress",
    "RunOutcome",
    "RunRecord",
    "SimulationResult",
    "Summary",
    "breach_kinds",
    "paired",
    "summarise",
]


def breach_kinds(policy: Policy) -> tuple[str, ...]:
    """The service-level deadlines a simulation of ``policy`` watches, by code.

    The thank-you and the candidate's updates, every stage's own deadline in stage order
    (those the candidate owes excepted: a lapsed offer is counted as ``offer_expiry``), then
    what events leave owed (``FollowUp``s: feedback asked for, the next round's scheduling
    steps, the candidate's answers among them), in event order.
    """
    stages = [
        spec.service.deadline or name
        for name, spec in policy.stages.items()
        if spec.service is not None and spec.service.owner is not Owner.candidate
    ]
    owed = [f.deadline or event for event, f in policy.follow_ups.items()]
    return (
        "thank_you", "candidate_update", *dict.fromkeys([*stages, *owed]), "offer_expiry",
    )  # fmt: skip


BREACH_KINDS = breach_kinds(standard_policy())
"""The deadlines a simulation of the standard policy watches."""

_FROZEN = ConfigDict(extra="forbid", frozen=True)

Progress = Callable[[int], object]
"""Told how many more runs have finished."""


class RunOutcome(NamedTuple):
    """What one run produced, in plain values (cheap to send between processes)."""

    run: int
    filled: bool
    first_offer: int | None  # business minute
    filled_at: int | None
    end: int
    first_offer_days: float | None  # calendar days
    filled_days: float | None
    counts: dict[str, int]  # offers, accepted, countered, declined, lapsed, ...
    first_choice: str | None
    hired: tuple[str, ...]
    runner_up_hired: bool
    notifications: dict[str, int]
    breaches: dict[str, int]  # deadline kind -> applications that passed one
    silences: tuple[int, ...]  # each candidate's longest wait for news, business minutes
    visits: dict[str, tuple[int, ...]]  # stage -> business minutes of each ended visit
    events: int


class Summary(BaseModel):
    """A distribution in a few numbers: how many values, their mean and percentiles.

    ``None`` everywhere when there were no values (no run made an offer, say).
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    count: int
    mean: float | None
    p50: float | None
    p80: float | None
    p95: float | None

    @classmethod
    def of(cls, values: Sequence[float] | np.ndarray[Any, Any]) -> Summary:
        """Summarise ``values`` (percentiles by linear interpolation); rounded to 4 places."""
        data = np.asarray(values, dtype=float)
        if not data.size:
            return cls(count=0, mean=None, p50=None, p80=None, p95=None)
        p50, p80, p95 = (round(float(q), 4) for q in np.quantile(data, (0.5, 0.8, 0.95)))
        return cls(count=int(data.size), mean=round(float(data.mean()), 4), p50=p50, p80=p80,
                   p95=p95)  # fmt: skip


class Durations(BaseModel):
    """How long something took, in business days and in calendar days."""

    model_config: ClassVar[ConfigDict] = _FROZEN

    business_days: Summary
    calendar_days: Summary


class Breaches(BaseModel):
    """How often one kind of service-level deadline passed while still owed.

    ``applications`` passed at least one such deadline (``share`` of all applications);
    ``runs`` had at least one application that did.
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    applications: int
    share: float
    runs: int


class Notifications(BaseModel):
    """Notifications per run, and by kind (mean per run).

    ``source`` is ``"outbox"`` when [`hirepipe.notify`][hirepipe.notify]'s Notifier counted them
    into an in-memory outbox (the policy has notification rules; kinds are rule names, plus
    ``periodic_update``), or ``"events"`` when the policy has none and the candidate-facing
    events were counted (``ServiceLevels.contact_events``; kinds are event names).
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    source: Literal["outbox", "events"]
    per_run: Summary
    by_kind: dict[str, float]


class RunRecord(BaseModel):
    """One run, for further analysis: what happened to its requisition.

    Times are from the interviews, in business and calendar days; ``None`` when the run never
    got there. ``outcomes`` counts offers and answers, withdrawals, failed references and more;
    ``breaches`` the applications that passed each kind of deadline.
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    run: int
    filled: bool
    offer_business_days: float | None
    offer_calendar_days: float | None
    fill_business_days: float | None
    fill_calendar_days: float | None
    end_business_days: float
    first_choice: str | None
    hired: tuple[str, ...]
    runner_up_hired: bool
    outcomes: dict[str, int]
    notifications: int
    breaches: dict[str, int]
    longest_silence_days: float
    events: int


class SimulationResult(BaseModel):
    """What a simulation found; ``to_json`` always, ``to_dataframe`` with pandas.

    ``time_to_offer`` runs to the first offer and ``time_to_fill`` to the acceptance that fills
    the requisition, both from the interviews, over the runs that got there (``offer_rate``,
    ``fill_rate``). ``stages`` is the business days of every ended visit to each stage.
    ``runner_up_hired`` is the share of filled runs in which someone other than the first choice
    was hired. ``silence`` is each candidate's longest wait for news while active, in business
    days. ``records`` holds one [`RunRecord`][hirepipe.simulate.RunRecord] per run, in run
    order.
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    policy: str
    scenario: Scenario
    runs: int
    seed: int
    offer_rate: float
    fill_rate: float
    time_to_offer: Durations
    time_to_fill: Durations
    stages: dict[str, Summary]
    runner_up_hired: float
    outcomes: dict[str, int]
    notifications: Notifications
    breaches: dict[str, Breaches]
    silence: Summary
    records: tuple[RunRecord, ...]

    def to_json(self, *, records: bool = True, indent: int | None = None) -> str:
        """Return the result as JSON; ``records=False`` leaves out the per-run records."""
        return self.model_dump_json(exclude=None if records else {"records"}, indent=indent)

    def to_dataframe(self) -> pandas.DataFrame:
        """Return the per-run records as a pandas DataFrame, one row per run.

        ``outcomes`` and ``breaches`` become ``outcome_<name>`` and ``breach_<kind>`` columns.
        Raises ImportError naming the package to install when pandas is missing.
        """
        try:
            import pandas  # type: ignore[import-untyped, unused-ignore]
        except ImportError:
            raise ImportError(
                "to_dataframe needs pandas: pip install pandas (to_json needs nothing)"
            ) from None
        rows = []
        for record in self.records:
            row = record.model_dump(exclude={"outcomes", "breaches"})
            row["hired"] = ",".join(record.hired)
            row.update({f"outcome_{k}": v for k, v in record.outcomes.items()})
            row.update({f"breach_{k}": record.breaches.get(k, 0) for k in self.breaches})
            rows.append(row)
        return pandas.DataFrame(rows)


class Difference(BaseModel):
    """One metric of two arms run on the same random numbers: ``b - a``, with its interval.

    ``pairs`` counts the runs where both arms have a value (both made an offer, say);
    ``low`` and ``high`` bound the mean paired difference at ``confidence`` (normal
    approximation; None with fewer than two pairs).
    """

    model_config: ClassVar[ConfigDict] = _FROZEN

    mean_a: float | None
    mean_b: float | None
    difference: float | None
    low: float | None
    high: float | None
    pairs: int
    confidence: float


class Comparison(BaseModel):
    """Two simulations on common random numbers and the paired differences of their runs."""

    model_config: ClassVar[ConfigDict] = _FROZEN

    a: SimulationResult
    b: SimulationResult
    differences: dict[str, Difference]

    def to_json(self, *, records: bool = False, indent: int | None = None) -> str:
        """Return the comparison as JSON (the arms' per-run records only if asked for)."""
        exclude: Any = None if records else {"a": {"records"}, "b": {"records"}}
        return self.model_dump_json(exclude=exclude, indent=indent)


def _days(minutes: int | None) -> float | None:
    return None if minutes is None else round(minutes / DAY, 4)


def _record(outcome: RunOutcome) -> RunRecord:
    return RunRecord.model_construct(
        run=outcome.run,
        filled=outcome.filled,
        offer_business_days=_days(outcome.first_offer),
        offer_calendar_days=_round(outcome.first_offer_days),
        fill_business_days=_days(outcome.filled_at),
        fill_calendar_days=_round(outcome.filled_days),
        end_business_days=round(outcome.end / DAY, 4),
        first_choice=outcome.first_choice,
        hired=outcome.hired,
        runner_up_hired=outcome.runner_up_hired,
        outcomes=outcome.counts,
        notifications=sum(outcome.notifications.values()),
        breaches=outcome.breaches,
        longest_silence_days=round(max(outcome.silences, default=0) / DAY, 4),
        events=outcome.events,
    )


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def summarise(
    policy: Policy,
    scenario: Scenario,
    seed: int,
    outcomes: Sequence[RunOutcome],
    source: Literal["outbox", "events"],
) -> SimulationResult:
    """Summarise the runs' outcomes, in run order, into a result (no randomness, no clock)."""
    runs = len(outcomes)
    records = tuple(_record(o) for o in outcomes)
    offered = [r for r in records if r.offer_business_days is not None]
    filled = [r for r in records if r.filled]
    visits: dict[str, list[int]] = {stage: [] for stage in policy.stages}
    for outcome in outcomes:
        for stage, minutes in outcome.visits.items():
            visits[stage].extend(minutes)
    totals: dict[str, int] = {}
    kinds: dict[str, int] = {}
    for outcome in outcomes:
        for name, count in outcome.counts.items():
            totals[name] = totals.get(name, 0) + count
        for name, count in outcome.notifications.items():
            kinds[name] = kinds.get(name, 0) + count
    applications = runs * scenario.candidates
    breaches = {}
    for kind in breach_kinds(policy):
        passed = [o.breaches.get(kind, 0) for o in outcomes]
        breaches[kind] = Breaches(
            applications=sum(passed),
            share=round(sum(passed) / applications, 6),
            runs=sum(1 for p in passed if p),
        )
    return SimulationResult(
        policy=policy.label,
        scenario=scenario,
        runs=runs,
        seed=seed,
        offer_rate=round(len(offered) / runs, 6),
        fill_rate=round(len(filled) / runs, 6),
        time_to_offer=_durations(
            [r.offer_business_days for r in offered], [r.offer_calendar_days for r in offered]
        ),
        time_to_fill=_durations(
            [r.fill_business_days for r in filled], [r.fill_calendar_days for r in filled]
        ),
        stages={
            stage: Summary.of(np.asarray(minutes, dtype=float) / DAY)
            for stage, minutes in visits.items()
            if minutes
        },
        runner_up_hired=round(sum(r.runner_up_hired for r in filled) / len(filled), 6)
        if filled
        else 0.0,
        outcomes=totals,
        notifications=Notifications(
            source=source,
            per_run=Summary.of([r.notifications for r in records]),
            by_kind={name: round(kinds[name] / runs, 4) for name in sorted(kinds)},
        ),
        breaches=breaches,
        silence=Summary.of(
            np.asarray([s for o in outcomes for s in o.silences], dtype=float) / DAY
        ),
        records=records,
    )


def _durations(business: Iterable[float | None], calendar: Iterable[float | None]) -> Durations:
    return Durations(
        business_days=Summary.of([v for v in business if v is not None]),
        calendar_days=Summary.of([v for v in calendar if v is not None]),
    )


METRICS: dict[str, Callable[[RunRecord], float | None]] = {  # what compare() pairs
    "offer_business_days": lambda r: r.offer_business_days,
    "offer_calendar_days": lambda r: r.offer_calendar_days,
    "fill_business_days": lambda r: r.fill_business_days,
    "fill_calendar_days": lambda r: r.fill_calendar_days,
    "filled": lambda r: float(r.filled),
    "runner_up_hired": lambda r: float(r.runner_up_hired),
    "notifications": lambda r: float(r.notifications),
    "candidates_past_cadence": lambda r: float(r.breaches.get("candidate_update", 0)),
    "longest_silence_days": lambda r: r.longest_silence_days,
}


def paired(
    a: Sequence[RunRecord],
    b: Sequence[RunRecord],
    metric: Callable[[RunRecord], float | None],
    z: float,
    confidence: float,
) -> Difference:
    """Compare ``metric`` over paired runs of two arms: means, mean difference, interval.

    ``z`` is the normal quantile of the two-sided ``confidence``.
    """
    values_a = [metric(r) for r in a]
    values_b = [metric(r) for r in b]
    pairs = [
        (x, y) for x, y in zip(values_a, values_b, strict=True) if x is not None and y is not None
    ]
    mean_a = _mean([x for x in values_a if x is not None])
    mean_b = _mean([y for y in values_b if y is not None])
    if not pairs:
        return Difference(mean_a=mean_a, mean_b=mean_b, difference=None, low=None, high=None,
                          pairs=0, confidence=confidence)  # fmt: skip
    diffs = np.asarray([y - x for x, y in pairs], dtype=float)
    mean = float(diffs.mean())
    low = high = None
    if diffs.size > 1:
        half = z * float(diffs.std(ddof=1)) / math.sqrt(diffs.size)
        low, high = round(mean - half, 4), round(mean + half, 4)
    return Difference(
        mean_a=mean_a, mean_b=mean_b, difference=round(mean, 4), low=low, high=high,
        pairs=int(diffs.size), confidence=confidence,
    )  # fmt: skip


def _mean(values: Sequence[float]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None
