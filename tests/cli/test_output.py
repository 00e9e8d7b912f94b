"""What the command line draws: reports, histograms, plots, JSON, consoles."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from rich.console import Console

from hirepipe.cli._output import (
    estimate_json,
    figure,
    histogram,
    output_console,
    report_simulation,
    scenario_changes,
)
from hirepipe.simulate import Scenario, simulate
from hirepipe.timeline import Estimate


def test_report_without_offers():
    """A simulation in which nobody got an offer shows dashes, not numbers."""
    result = simulate(None, Scenario(candidates=2, recommendations={"no": 1.0}), runs=3, seed=1)
    console = Console(file=StringIO(), width=100)
    report_simulation(console, result, None)
    text = console.file.getvalue()
    assert "│ first offer │ business days │    - │   - │   - │   - │    0 │" in text
    assert "  (no values)" in text


def test_histogram_bins_and_tail():
    """The text histogram has nice bins, bars scaled to the largest and the tail in one line."""
    values = [1.0] * 100 + [12.0] * 50 + [25.0] * 49 + [400.0]
    drawn = histogram(values, bins=5, width=10).splitlines()
    assert "    0-5 │" + "█" * 10 + " 100" == drawn[0]
    assert "    25+ │" + "█" * 5 + " 50" == drawn[-1]
    assert sum(int(line.rsplit(" ", 1)[1]) for line in drawn) == len(values)
    assert "  (no values)" == histogram([])


@pytest.fixture(scope="module")
def result():
    slower = Scenario(candidates=4, extra_days={"approval": 5}, approvers=2)
    return simulate(None, slower, runs=40, seed=3)


class TestPlot:
    def test_every_line_is_labelled_with_its_series(self, result):
        """The legend names each series and each of its P50 and P80 lines, with the value."""
        import matplotlib.pyplot as plt

        drawn = figure(result)
        try:
            _, labels = drawn.axes[0].get_legend_handles_labels()
        finally:
            plt.close(drawn)
        offer, fill = result.time_to_offer.business_days, result.time_to_fill.business_days
        assert [
            "first offer",
            "filled",
            f"first offer P50: {offer.p50:.1f}",
            f"first offer P80: {offer.p80:.1f}",
            f"filled P50: {fill.p50:.1f}",
            f"filled P80: {fill.p80:.1f}",
        ] == labels

    def test_title_names_the_scenario_changes(self, result):
        """The title says what the scenario changed from the defaults."""
        import matplotlib.pyplot as plt

        drawn = figure(result)
        try:
            title = drawn.axes[0].get_title()
        finally:
            plt.close(drawn)
        assert "40 requisitions under standard@1" in title
        assert title.endswith("\napproval +5 days, candidates=4, approvers=2")


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        (Scenario(), ""),
        (Scenario(extra_days={"approval": 5}), "approval +5 days"),
        (Scenario(stage_days={"review": 4.5}, candidates=8), "review 4.5 days, candidates=8"),
        (Scenario(approver_availability=0.5), "approver_availability=0.5"),
    ],
    ids=["defaults", "extra", "stage", "field"],
)
def test_scenario_changes(scenario, expected):
    """The changes from the default scenario read as a short list; none for the defaults."""
    assert expected == scenario_changes(scenario)


def test_estimate_json_rounds_and_drops_the_id():
    """The command line's estimate JSON has no application id and two-decimal floats."""
    estimate = Estimate.from_json(
        json.dumps(
            {
                "application_id": "application",
                "stage": "review",
                "as_of": "2025-03-03",
                "pending": True,
                "note": "",
                "entered": "2025-03-03",
                "elapsed": 0,
                "stages": [],
                "next_decision": {
                    "mean": 3.629999999,
                    "business_days": {"p50": 2.83455, "p80": 5.1234, "p95": 9.0140683},
                    "dates": {"p50": "2025-03-06", "p80": "2025-03-10", "p95": "2025-03-14"},
                },
                "offer": None,
                "answer": None,
            }
        )
    )
    document = json.loads(estimate_json(estimate))
    assert "application_id" not in document
    assert {"mean": 3.63, "business_days": {"p50": 2.83, "p80": 5.12, "p95": 9.01}} == {
        key: document["next_decision"][key] for key in ("mean", "business_days")
    }


def test_a_piped_console_does_not_wrap(capsys):
    """A console on a pipe prints a long line whole; rich would cut it at 80 columns."""
    console = output_console()
    console.print("word " * 60)
    assert ["word " * 59 + "word"] == [
        line.rstrip() for line in capsys.readouterr().out.splitlines()
    ]
