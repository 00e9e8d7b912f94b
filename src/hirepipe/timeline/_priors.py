"""The estimator's model: priors, stage distributions, sums of stages, observed stage times.

The defaults live in ``timeline/data/priors.toml`` with each figure's source, unit and year;
``hirepipe.timeline.estimate`` documents the model and is the public face of everything here.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from pathlib import Path
from statistics import NormalDist
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, model_validator

from hirepipe.errors import EstimateError
from hirepipe.models import Application, CompanySize, TransitionRecord
from hirepipe.timeline.calendar import EPOCH, BusinessCalendar

LEVELS = (0.5, 0.8, 0.95)
"""The quantile levels every estimate reports."""

_NORMAL = NormalDist()
_Z = tuple(_NORMAL.inv_cdf(p) for p in LEVELS)
_SQRT2 = math.sqrt(2.0)
_SOURCED = ("interview_to_offer", "offer_decision")
_A_MAX = 37.0  # beyond this many standard deviations the normal tail underflows a double


class Source(BaseModel):
    """Where a figure comes from, what it measures and in which unit; or that it is assumed."""

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)

    source: str = "assumption"
    year: int | None = None
    unit: str = "business days"
    measures: str = ""
    note: str = ""
    assumption: bool = False


class Priors(BaseModel):
    """Stage-duration priors in business days; every field documented in ``priors.toml``.

    ``industries`` maps an industry key to its mean interview-to-offer total (NACE 2012);
    ``split`` divides a total into the stages before the offer (an assumption; fractions sum
    to 1); ``offer_decision`` is the mean offer window (NACE 2012) of the stage
    ``offer_stage``; ``other_stages`` holds assumed means of stages off that path; ``cv`` is
    each stage's coefficient of variation (``stage_cv`` overrides it per stage);
    ``company_size`` multiplies the mean of ``size_stage``; the mean of ``slate_stage`` is
    multiplied by ``(candidates / reference_candidates) ** candidate_elasticity``. The stage
    names are the priors' own keys (the standard stages', in the packaged file). Invalid values
    raise Pydantic's ``ValidationError``.
    """

    model_config: ClassVar[ConfigDict] = ConfigDict(extra="forbid", frozen=True)

    industries: dict[str, PositiveFloat]
    aliases: dict[str, str] = Field(default_factory=dict)
    offer_decision: PositiveFloat
    offer_stage: str
    split: dict[str, PositiveFloat]
    other_stages: dict[str, PositiveFloat]
    cv: PositiveFloat
    stage_cv: dict[str, PositiveFloat] = Field(default_factory=dict)
    company_size: dict[CompanySize, PositiveFloat]
    size_stage: str
    slate_stage: str
    reference_candidates: int = Field(ge=1, strict=True)
    candidate_elasticity: float = Field(ge=0)
    sources: dict[str, Source] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.split:
            raise ValueError("split must name the stages the interview-to-offer total divides into")
        if not math.isclose(sum(self.split.values()), 1.0, abs_tol=1e-6):
            raise ValueError(f"split fractions must sum to 1, not {sum(self.split.values()):g}")
        if both := (set(self.split) | {self.offer_stage}) & set(self.other_stages):
            raise ValueError(f"other_stages repeats {', '.join(sorted(both))}")
        if self.offer_stage in self.split:
            raise ValueError(f"offer_stage {self.offer_stage!r} is also in the split")
        for label, name in (("size_stage", self.size_stage), ("slate_stage", self.slate_stage)):
            if name not in self.stages:
                raise ValueError(f"{label} {name!r} is not a stage of the priors")
        if missing := set(CompanySize) - set(self.company_size):
            raise ValueError(f"company_size lacks {', '.join(sorted(missing))}")
        if unknown := {a: k for a, k in self.aliases.items() if k not in self.industries}:
            raise ValueError(f"aliases point to unknown industries: {unknown}")
        if unknown_cv := set(self.stage_cv) - set(self.stages):
            raise ValueError(f"stage_cv names unknown stages: {', '.join(sorted(unknown_cv))}")
        return self

    @property
    def stages(self) -> tuple[str, ...]:
        """Every stage the priors give a duration for."""
        return (*self.split, self.offer_stage, *self.other_stages)

    @classmethod
    def load(cls, path: str | Path | None = None) -> Priors:
        """Read priors from a TOML file laid out like the packaged one (``None``: the defaults)."""
        if path is None:
            return _default()
        with Path(path).open("rb") as handle:
            return cls.from_toml(tomllib.load(handle))

    @classmethod
    def from_toml(cls, data: Mapping[str, Any]) -> Priors:
        """Build priors from parsed TOML laid out like ``hirepipe/timeline/data/priors.toml``."""
        try:
            total, window = data["interview_to_offer"], data["offer_decision"]
            split, other = data["stage_split"], data["other_stages"]
            spread, size, slate = data["dispersion"], data["company_size"], data["candidates"]
        except KeyError as exc:
            raise EstimateError(f"priors TOML lacks the table {exc.args[0]!r}") from None
        meta = {"assumption", "note", "source", "year", "unit", "measures", "distribution", "stage"}

        def source(table: Mapping[str, Any]) -> Source:
            return Source(
                **{k: v for k, v in table.items() if k in meta - {"distribution", "stage"}}
            )

        tables = {"split": "stage_split", "cv": "dispersion"}
        return cls(
            industries=total.get("means", {}),
            aliases=total.get("aliases", {}),
            offer_decision=window.get("mean", 0),
            offer_stage=window.get("stage", ""),
            split={k: v for k, v in split.items() if k not in meta},
            other_stages={k: v for k, v in other.items() if k not in meta},
            cv=spread.get("cv", 0),
            stage_cv=spread.get("stage_cv", {}),
            company_size={k: v for k, v in size.items() if k not in meta},
            size_stage=size.get("stage", ""),
            slate_stage=slate.get("stage", ""),
            reference_candidates=slate.get("reference", 0),
            candidate_elasticity=slate.get("elasticity", -1),
            sources={
                name: source(data[tables.get(name, name)])
                for name in (*_SOURCED, "split", "other_stages", "cv", "company_size", "candidates")
            },
        )

    def replace(self, **changes: Any) -> Priors:
        """Return a copy with ``changes`` applied and validated (``cv=0.5``, ``split={...}``)."""
        return type(self).model_validate({**self.model_dump(), **changes})

    def industry(self, name: str) -> str:
        """Return the industry key ``name`` means (case, spaces and aliases forgiven).

        Raises [`EstimateError`][hirepipe.errors.EstimateError] naming the known industries.
        """
        key = name.strip().lower().replace("-", "_").replace(" ", "_").replace("&", "and")
        key = self.aliases.get(key, key)
        if key not in self.industries:
            known = ", ".join(sorted(self.industries))
            raise EstimateError(
                f"unknown industry {name!r}; known industries: {known} "
                f"(aliases: {', '.join(sorted(self.aliases))})"
            )
        return key

    def stage_mean(
        self, stage: str, industry: str, size: CompanySize, candidates: int | None
    ) -> float:
        """Return the prior mean of ``stage`` in business days, adjustments applied."""
        if stage in self.split:
            mean = self.industries[self.industry(industry)] * self.split[stage]
        elif stage == self.offer_stage:
            mean = self.offer_decision
        else:
            mean = self.other_stages[stage]
        if stage == self.size_stage:
            mean *= self.company_size[size]
        if stage == self.slate_stage:
            mean *= self.candidate_factor(candidates)
        return mean

    def candidate_factor(self, candidates: int | None) -> float:
        """Return the review stage's multiplier for a slate of ``candidates`` (None: 1)."""
        if candidates is None:
            return 1.0
        return float((candidates / self.reference_candidates) ** self.candidate_elasticity)


@cache
def _default() -> Priors:
    text = resources.files("hirepipe.timeline").joinpath("data/priors.toml").read_text("utf-8")
    return Priors.from_toml(tomllib.loads(text))


def _tail(a: float) -> float:
    """Return P(Z > a) for a standard normal Z, accurate far into the tail."""
    return 0.5 * math.erfc(a / _SQRT2)


class StageDistribution:
    """A stage's duration in business days: lognormal with the given mean and CV.

    ``elapsed`` (business days the stage has lasted so far) conditions every method: the
    duration is then the *remaining* time ``D - elapsed`` given ``D > elapsed``, a truncated
    lognormal. Quantiles use its inverse CDF, moments its closed form; no sampling.
    """

    __slots__ = ("cv", "mean", "mu", "sigma", "stage")

    def __init__(self, stage: str, mean: float, cv: float) -> None:
        if not (mean > 0 and cv > 0 and math.isfinite(mean) and math.isfinite(cv)):
            raise EstimateError(f"stage {stage!r} needs a positive mean and CV: {mean}, {cv}")
        self.stage: str = stage
        self.mean: float = mean
        self.cv: float = cv
        variance_log = math.log1p(cv * cv)
        self.sigma: float = math.sqrt(variance_log)
        self.mu: float = math.log(mean) - variance_log / 2

    def __repr__(self) -> str:
        return f"StageDistribution({self.stage!r}, mean={self.mean:.3g}, cv={self.cv:.3g})"

    def _standard(self, elapsed: float) -> float:
        if elapsed < 0:
            raise EstimateError(f"elapsed must be 0 or more business days, not {elapsed}")
        if elapsed == 0:
            return -math.inf
        return min((math.log(elapsed) - self.mu) / self.sigma, _A_MAX)

    def quantile(self, p: float, elapsed: float = 0) -> float:
        """Return the ``p`` quantile of the remaining duration, ``0 < p < 1``."""
        if not 0 < p < 1:
            raise EstimateError(f"a quantile level must lie strictly between 0 and 1, not {p}")
        # from the start (the simulator's every draw) nothing is conditioned: P(D > 0) is 1
        survive = _tail(self._standard(elapsed)) if elapsed else 1.0
        z = -_NORMAL.inv_cdf(max((1 - p) * survive, 1e-300))
        return max(math.exp(self.mu + self.sigma * z) - elapsed, 0.0)

    def cdf(self, x: float, elapsed: float = 0) -> float:
        """Return P(remaining duration <= ``x``)."""
        a = self._standard(elapsed)
        total = x + elapsed
        if total <= 0:
            return 0.0
        b = (math.log(total) - self.mu) / self.sigma
        return max(0.0, 1 - _tail(b) / _tail(a))

    def moments(self, elapsed: float = 0) -> tuple[float, float]:
        """Return the mean and variance of the remaining duration."""
        a = self._standard(elapsed)
        survive = _tail(a)
        mu, s = self.mu, self.sigma
        first = math.exp(mu + s * s / 2) * _tail(a - s) / survive
        second = math.exp(2 * mu + 2 * s * s) * _tail(a - 2 * s) / survive
        return first - elapsed, max(second - first * first, 1e-12)

    def capped_mean(self, cap: float, elapsed: float = 0) -> float:
        """Return the mean of ``min(remaining duration, cap)`` (closed form)."""
        if cap <= 0:
            return 0.0
        a, s = self._standard(elapsed), self.sigma
        b = (math.log(elapsed + cap) - self.mu) / s
        below = math.exp(self.mu + s * s / 2) * (_tail(a - s) - _tail(b - s))
        return (below - elapsed * (_tail(a) - _tail(b)) + cap * _tail(b)) / _tail(a)

    def sample(
        self, rng: np.random.Generator, size: int, elapsed: float = 0
    ) -> npt.NDArray[np.float64]:
        """Draw ``size`` remaining durations (inverse-CDF sampling when ``elapsed > 0``)."""
        if elapsed <= 0:
            self._standard(elapsed)
            return rng.lognormal(self.mu, self.sigma, size)
        survive = _tail(self._standard(elapsed))
        uniform = 1.0 - rng.random(size)  # in (0, 1]
        inv = _NORMAL.inv_cdf
        z = np.array([-inv(max(u * survive, 1e-300)) for u in uniform.tolist()])
        remaining: npt.NDArray[np.float64] = np.exp(self.mu + self.sigma * z) - elapsed
        return np.maximum(remaining, 0.0)


# -- sums of stages ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RouteModel:
    """The business-day figures of one route and elapsed time; no dates yet."""

    means: tuple[float, ...]
    durations: tuple[tuple[float, float, float], ...]
    finish_means: tuple[float, ...]
    finishes: tuple[tuple[float, float, float], ...]


@lru_cache(maxsize=4096)
def route_model(stages: tuple[tuple[str, float, float], ...], elapsed: int) -> RouteModel:
    means, durations, finish_means, finishes = [], [], [], []
    total_mean = total_var = 0.0
    previous = (0.0, 0.0, 0.0)
    for k, (stage, mean, cv) in enumerate(stages):
        dist = StageDistribution(stage, mean, cv)
        t = elapsed if k == 0 else 0
        own_mean, own_var = dist.moments(t)
        own = (dist.quantile(0.5, t), dist.quantile(0.8, t), dist.quantile(0.95, t))
        total_mean += own_mean
        total_var += own_var
        if k == 0:
            finish = own
        else:  # Fenton-Wilkinson: a lognormal with the sum's mean and variance
            s2 = math.log1p(total_var / (total_mean * total_mean))
            mu, s = math.log(total_mean) - s2 / 2, math.sqrt(s2)
            q = [math.exp(mu + s * z) for z in _Z]
            finish = (max(q[0], previous[0]), max(q[1], previous[1]), max(q[2], previous[2]))
        means.append(own_mean)
        durations.append(own)
        finish_means.append(total_mean)
        finishes.append(finish)
        previous = finish
    return RouteModel(tuple(means), tuple(durations), tuple(finish_means), tuple(finishes))


def extend(start: float, need: float, absent: Sequence[tuple[int, int]]) -> float:
    """Return when work of ``need`` days begun at ``start`` ends, no progress on ``absent``."""
    pos = start
    for a, b in absent:
        if b <= pos:
            continue
        if a > pos:
            if a - pos >= need:
                break
            need -= a - pos
        pos = b
    return pos + need


def extend_array(
    start: npt.NDArray[np.float64], need: npt.NDArray[np.float64], absent: Sequence[tuple[int, int]]
) -> npt.NDArray[np.float64]:
    pos, need, done = start.copy(), need.copy(), np.zeros(start.shape, dtype=bool)
    for a, b in absent:
        active = ~done & (b > pos)
        gap = a - pos
        finished = active & (gap >= need)
        done |= finished
        moving = active & ~finished
        need = np.where(moving & (gap > 0), need - gap, need)
        pos = np.where(moving, float(b), pos)
    return pos + need


# -- what a history shows ---------------------------------------------------------------------


def current_visit(
    application: Application, stage: str, paused: frozenset[str]
) -> list[tuple[datetime, datetime | None]]:
    """The stretches of the current visit to ``stage``, newest first; ``paused`` stages cut them."""
    segments: list[tuple[datetime, datetime | None]] = []
    end: datetime | None = None
    want_entry = True
    for record in reversed(application.history):
        if record.kind != "transition" or record.from_stage == record.to_stage:
            continue
        if want_entry and record.to_stage == stage:
            segments.append((record.at, end))
            if record.from_stage not in paused:
                return segments
            want_entry = False
        elif not want_entry and record.to_stage in paused and record.from_stage == stage:
            end, want_entry = record.at, True
        elif not want_entry:
            return segments
    if want_entry:
        segments.append((application.created_at, end))
    return segments


def visits(
    item: Application | Sequence[TransitionRecord], paused: frozenset[str]
) -> Iterable[tuple[str, list[tuple[datetime, datetime]]]]:
    """Yield (stage, stretches) for every visit to a stage that ended; holds cut stretches.

    ``paused`` names the stages of a hold, whose time is left out.
    """
    if isinstance(item, Application):
        records: Sequence[TransitionRecord] = item.history
        since: datetime | None = item.created_at
    else:
        records, since = item, None
    stretches: list[tuple[datetime, datetime]] = []
    known, held = since is not None, None
    for record in records:
        if not isinstance(record, TransitionRecord):
            raise EstimateError(
                f"fit takes Applications or sequences of TransitionRecords, not {record!r}"
            )
        source, target, at = record.from_stage, record.to_stage, record.at
        if record.kind != "transition" or source == target:
            continue
        if source in paused:  # time on hold is left out; a resumed stage goes on counting
            if target != held:
                stretches, known = [], True
            since, held = at, None
            continue
        if known and since is not None:
            stretches.append((since, at))
        if target in paused:
            held = source
        else:
            if known:
                yield source, stretches
            stretches, known = [], True
        since = at


@dataclass(frozen=True, slots=True)
class StageFit:
    """What ``TimelineEstimator.fit`` learnt about one stage (business days)."""

    stage: str
    observations: int
    mean: float | None
    cv: float | None
    fitted: bool


@dataclass(frozen=True, slots=True)
class FitReport:
    """Observations per stage, and which stages use their fit and which fall back to the prior."""

    min_observations: int
    stages: tuple[StageFit, ...]

    @property
    def fallbacks(self) -> tuple[str, ...]:
        """Stages with too few observations, which keep their prior."""
        return tuple(s.stage for s in self.stages if not s.fitted)

    def __str__(self) -> str:
        return "\n".join(
            f"{s.stage}: {s.observations} observations, mean {s.mean:.2f}"
            if s.fitted
            else f"{s.stage}: {s.observations} observations < {self.min_observations}, prior used"
            for s in self.stages
        )


def learn(
    histories: Iterable[Application | Sequence[TransitionRecord]],
    cal: BusinessCalendar,
    stages: Sequence[str],
    min_observations: int,
    paused: frozenset[str],
) -> FitReport:
    """Measure every ended visit to each of ``stages`` in business days; see ``fit``."""
    names: list[str] = []
    visit: list[int] = []
    starts: list[int] = []
    stops: list[int] = []
    local = cal.local_date
    for item in histories:
        for stage, stretches in visits(item, paused):
            for start, stop in stretches:
                visit.append(len(names))
                starts.append(local(start).toordinal() - EPOCH)
                stops.append(local(stop).toordinal() - EPOCH)
            names.append(stage)
    spans = cal.business_days_between_array(
        np.array(starts, dtype=np.int64).astype("datetime64[D]"),
        np.array(stops, dtype=np.int64).astype("datetime64[D]"),
    )
    if (spans < 0).any():
        raise EstimateError("a history is not in time order; pass its records oldest first")
    totals = np.bincount(np.array(visit, dtype=np.int64), spans, minlength=len(names))
    by_stage: dict[str, list[float]] = {s: [] for s in stages}
    for stage, span in zip(names, totals.tolist(), strict=True):
        if stage in by_stage:
            by_stage[stage].append(span)
    fits = []
    for stage, spans_of in by_stage.items():
        n = len(spans_of)
        if n == 0:
            fits.append(StageFit(stage, 0, None, None, False))
            continue
        values = np.asarray(spans_of, dtype=float)
        mean = max(float(values.mean()), 0.1)  # a lognormal needs a positive mean
        cv = float(values.std(ddof=1)) / mean if n > 1 else None
        cv = min(max(cv, 0.05), 3.0) if cv is not None else None
        fits.append(StageFit(stage, n, mean, cv, n >= min_observations))
    return FitReport(min_observations, tuple(fits))


def draw(
    stages: Sequence[tuple[str, float, float]],
    elapsed: int,
    cap: float | None,
    absent: Sequence[tuple[int, int]],
    rng: np.random.Generator,
    size: int,
    approval: int | None,
) -> tuple[list[npt.NDArray[np.float64]], bool]:
    """Sample business days to the end of each stage, and whether an absence held one up."""
    total, ends, extended = np.zeros(size), [], False
    for k, (stage, mean, cv) in enumerate(stages):
        draws = StageDistribution(stage, mean, cv).sample(rng, size, 0 if k else elapsed)
        if k == 0 and cap is not None:
            draws = np.minimum(draws, cap)
        if k == approval and absent:
            longer = extend_array(total, draws, absent) - total
            extended = bool((longer > draws).any())
            draws = longer
        total = total + draws
        ends.append(total)
    return ends, extended
