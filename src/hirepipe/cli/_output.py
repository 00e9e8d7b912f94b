"""What the ``hirepipe`` command line prints and draws: tables, a text histogram, a plot.

Imported by :mod:`hirepipe.cli` once typer and rich (the ``cli`` extra) are known to be there;
the plot needs matplotlib (the ``plot`` extra).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from hirepipe.simulate import SimulationResult, Summary
from hirepipe.timeline.estimate import Estimate

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["INSTALL_PLOT", "draw", "histogram", "report_estimate", "report_simulation"]

INSTALL_PLOT = "pip install 'hirepipe[plot]'"


def _cells(summary: Summary) -> list[str]:
    if summary.mean is None:
        return ["-", "-", "-", "-"]
    return [f"{value:.1f}" for value in (summary.mean, summary.p50, summary.p80, summary.p95)]


def _percent(share: float) -> str:
    return f"{100 * share:.1f}%"


def report_simulation(console: Console, result: SimulationResult, plot: Path | None) -> None:
    from rich.table import Table

    scenario = result.scenario
    hires = f"{scenario.headcount} hire{'s' if scenario.headcount > 1 else ''}"
    console.print(
        f"{result.runs:,} requisitions under {result.policy}: {scenario.industry}, "
        f"{scenario.company_size} company, {scenario.candidates} candidates, {hires}, "
        f"seed {result.seed}"
    )
    times = Table(title="Days from the interviews", title_justify="left")
    for column in ("", "", "mean", "P50", "P80", "P95", "runs"):
        times.add_column(column, justify="right" if column else "left")
    for label, durations in (
        ("first offer", result.time_to_offer),
        ("filled", result.time_to_fill),
    ):
        for unit, summary in (
            ("business days", durations.business_days),
            ("calendar days", durations.calendar_days),
        ):
            times.add_row(label if unit.startswith("b") else "", unit, *_cells(summary),
                          f"{summary.count:,}")  # fmt: skip
    console.print(times)
    notifications = result.notifications
    update = result.breaches["candidate_update"]
    console.print(
        f"Offers made in {_percent(result.offer_rate)} of runs, filled in "
        f"{_percent(result.fill_rate)}; the first choice fell through and a runner-up was "
        f"hired in {_percent(result.runner_up_hired)} of filled runs."
    )
    console.print(
        f"Notifications: {notifications.per_run.mean or 0:.1f} per run "
        f"(counted from {notifications.source}); candidates left without news past the "
        f"update cadence: {_percent(update.share)}."
    )
    stages = Table(title="Business days in each stage (every visit)", title_justify="left")
    for column in ("stage", "mean", "P50", "P80", "P95", "visits"):
        stages.add_column(column, justify="left" if column == "stage" else "right")
    for stage, summary in result.stages.items():
        stages.add_row(stage, *_cells(summary), f"{summary.count:,}")
    console.print(stages)
    breaches = Table(title="Service levels missed", title_justify="left")
    for column in ("deadline", "applications", "share", "runs"):
        breaches.add_column(column, justify="left" if column == "deadline" else "right")
    for kind, found in result.breaches.items():
        breaches.add_row(kind, f"{found.applications:,}", _percent(found.share), f"{found.runs:,}")
    console.print(breaches)
    values = [r.offer_business_days for r in result.records if r.offer_business_days is not None]
    console.print("First offer, business days after the interviews:")
    console.print(histogram(values), markup=False, highlight=False)
    if plot is not None:
        console.print(f"Plot written to {plot}")


def histogram(values: Sequence[float], *, bins: int = 12, width: int = 40) -> str:
    """Draw ``values`` as a text histogram: one line per bin, a bar and a count."""
    if not values:
        return "  (no values)"
    data = np.asarray(values, dtype=float)
    top = float(np.quantile(data, 0.99))
    step = _nice(max(top, 1.0) / bins)
    edges = np.arange(0.0, step * (math.ceil(float(data.max()) / step) + 1), step)
    counts, _ = np.histogram(np.minimum(data, edges[-1] - 1e-9), bins=edges)
    shown = counts[: bins + 1].tolist()
    hidden = int(counts[bins + 1 :].sum())
    if hidden:  # the long tail in one line
        shown[-1] += hidden
    most = max(shown) or 1
    labels = [
        f"{edges[n]:g}+" if n == len(shown) - 1 and hidden else f"{edges[n]:g}-{edges[n + 1]:g}"
        for n in range(len(shown))
    ]
    wide = max(len(label) for label in labels)
    lines = [
        f"  {label:>{wide}} │{'█' * round(width * count / most)} {count:,}"
        for label, count in zip(labels, shown, strict=True)
    ]
    return "\n".join(lines)


def _nice(raw: float) -> float:
    """The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least ``raw``."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(power * m for m in (1, 2, 2.5, 5, 10) if power * m >= raw)


def draw(result: SimulationResult, path: Path) -> None:
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"--plot needs matplotlib, the 'plot' extra: {INSTALL_PLOT}") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    offers = [r.offer_business_days for r in result.records if r.offer_business_days is not None]
    fills = [r.fill_business_days for r in result.records if r.fill_business_days is not None]
    figure, axes = plt.subplots(figsize=(8, 4.5))
    try:
        axes.hist([offers, fills], bins=40, label=["first offer", "filled"], alpha=0.75)
        for summary, style in ((result.time_to_offer, ":"), (result.time_to_fill, "--")):
            for value in (summary.business_days.p50, summary.business_days.p80):
                if value is not None:
                    axes.axvline(value, color="black", linestyle=style, linewidth=0.8)
        axes.set_xlabel("business days after the interviews (lines: P50, P80)")
        axes.set_ylabel("runs")
        axes.set_title(
            f"{result.runs:,} requisitions, {result.scenario.industry}, "
            f"{result.scenario.candidates} candidates (seed {result.seed})"
        )
        axes.legend()
        figure.tight_layout()
        figure.savefig(path, dpi=120)
    finally:
        plt.close(figure)


def report_estimate(console: Console, found: Estimate, interviewed: str) -> None:
    from rich.table import Table

    table = Table(title=f"Interviewed on {interviewed}, as of {found.as_of}", title_justify="left")
    for column in ("stage", "mean days", "ends by (P50)", "P80", "P95"):
        table.add_column(column, justify="left" if column == "stage" else "right")
    for stage in found.stages:
        dates = stage.finish.dates
        table.add_row(stage.stage, f"{stage.mean:.1f}", str(dates.p50), str(dates.p80),
                      str(dates.p95))  # fmt: skip
    console.print(table)
    for label, milestone in (
        ("next decision", found.next_decision),
        ("offer", found.offer),
        ("answer", found.answer),
    ):
        if milestone is not None:
            dates = milestone.dates
            console.print(
                f"{label}: by {dates.p50} (80%: {dates.p80}, 95%: {dates.p95}), "
                f"{milestone.mean:.1f} business days on average"
            )
