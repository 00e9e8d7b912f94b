"""What the ``hirepipe`` command line prints and draws: tables, a text histogram, a plot.

Imported by ``hirepipe.cli`` once typer and rich (the ``cli`` extra) are known to be there;
the plot needs matplotlib (the ``plot`` extra). Piped output is never wrapped:

```python
report_simulation(console(), result, plot=None)
```
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hirepipe.cli._events import EventRow
from hirepipe.simulate import Scenario, SimulationResult, Summary
from hirepipe.timeline.estimate import Estimate

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.console import Console
    from rich.table import Table

__all__ = [
    "INSTALL_PLOT",
    "draw",
    "estimate_json",
    "events_table",
    "figure",
    "histogram",
    "output_console",
    "report_estimate",
    "report_simulation",
    "scenario_changes",
]

INSTALL_PLOT = "pip install 'hirepipe[plot]'"

_PIPED_WIDTH = 1_000
"""Columns of a console that is not a terminal: wide enough that nothing wraps."""


def output_console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr); not a terminal, it never wraps a line.

    Rich assumes 80 columns when output is piped, which would wrap and squeeze what a script
    or a file receives; the terminal's own width is kept.
    """
    from rich.console import Console

    found = Console(stderr=stderr)
    if found.is_terminal:
        return found
    return Console(stderr=stderr, width=_PIPED_WIDTH, soft_wrap=True)


def scenario_changes(scenario: Scenario) -> str:
    """The scenario's settings that differ from the defaults: ``approvers=2, approval +5 days``.

    Empty for the default scenario.
    """
    changed = scenario.model_dump(mode="json", exclude_defaults=True)
    parts = [f"{stage} +{days:g} days" for stage, days in changed.pop("extra_days", {}).items()]
    parts += [f"{stage} {days:g} days" for stage, days in changed.pop("stage_days", {}).items()]
    parts += [f"{name}={_plain(value)}" for name, value in changed.items()]
    return ", ".join(parts)


def _plain(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    return f"{value:g}" if isinstance(value, float) else str(value)


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
    if changes := scenario_changes(scenario):
        console.print(f"Scenario: {changes}", markup=False, highlight=False)
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


def figure(result: SimulationResult) -> Figure:
    """Draw ``result``'s distributions: a histogram per series, its P50 and P80 as lines.

    Every line is labelled in the legend with its series and its value; the title names the
    scenario's changes from the defaults. Raises ImportError naming the ``plot`` extra.
    """
    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"--plot needs matplotlib, the 'plot' extra: {INSTALL_PLOT}") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    series = (
        ("first offer", result.time_to_offer, "tab:blue"),
        ("filled", result.time_to_fill, "tab:orange"),
    )
    offers = [r.offer_business_days for r in result.records if r.offer_business_days is not None]
    fills = [r.fill_business_days for r in result.records if r.fill_business_days is not None]
    drawn, axes = plt.subplots(figsize=(8, 4.8))
    axes.hist(
        [offers, fills],
        bins=40,
        label=[label for label, _, _ in series],
        color=[colour for _, _, colour in series],
        alpha=0.75,
    )
    for label, durations, colour in series:
        for name, value, style in (
            ("P50", durations.business_days.p50, "--"),
            ("P80", durations.business_days.p80, ":"),
        ):
            if value is not None:
                axes.axvline(
                    value,
                    color=colour,
                    linestyle=style,
                    linewidth=1.2,
                    label=f"{label} {name}: {value:.1f}",
                )
    axes.set_xlabel("business days after the interviews")
    axes.set_ylabel("runs")
    scenario = result.scenario
    title = (
        f"{result.runs:,} requisitions under {result.policy}: {scenario.industry}, "
        f"{scenario.candidates} candidates, seed {result.seed}"
    )
    changes = scenario_changes(scenario)
    axes.set_title(f"{title}\n{changes}" if changes else title, fontsize=10)
    axes.legend(fontsize=8)
    drawn.tight_layout()
    return drawn


def draw(result: SimulationResult, path: Path) -> None:
    """Write ``figure`` of ``result`` to the PNG file ``path``."""
    drawn = figure(result)  # first: it says which extra to install when matplotlib is missing
    import matplotlib.pyplot as plt

    try:
        drawn.savefig(path, dpi=120)
    finally:
        plt.close(drawn)


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


def estimate_json(found: Estimate) -> str:
    """The estimate as JSON for ``hirepipe estimate --json``.

    The Estimate's own JSON without ``application_id`` (there is no application, only an
    interview day) and with business days rounded to two decimals.
    """
    document = json.loads(found.to_json())
    document.pop("application_id", None)
    return json.dumps(_rounded(document), indent=2)


def _rounded(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {key: _rounded(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_rounded(item) for item in value]
    return value


def events_table(rows: Sequence[EventRow]) -> Table:
    """The event table for the terminal: one row per event, every cell in a few lines."""
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=True, title="Events", title_justify="left")
    for column in (
        "event",
        "from",
        "to",
        "fired by",
        "data",
        "guards (blocker codes)",
        "notifications",
    ):
        table.add_column(column)
    for row in rows:
        data = "\n".join(
            f"{f.name}: {f.type}" + (" (required)" if f.required else f" = {f.default}")
            for f in row.data
        )
        guards = "\n".join(
            f"{g.name}: {g.description}" + (f" ({', '.join(g.codes)})" if g.codes else "")
            for g in row.guards
        )
        notifications = "\n".join(f"{n.name} to {n.to}" for n in row.notifications)
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    row.name,
                    row.source_text,
                    row.dest_text,
                    row.fired_by_text,
                    data or "-",
                    guards or "-",
                    notifications or "-",
                )
            )
        )
    return table
