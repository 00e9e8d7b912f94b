"""Golden results: the JSON of a few seeded simulations, pinned byte for byte.

The simulator, the engine under it and the notify layer are made faster over time; none of
that may change what a seed produces. Each case below is stored under ``data/`` as the JSON
the code produced when the case was pinned (indented, so that a change shows as a readable
diff). A change of a result that is *meant* (a new rule, a fixed bug) is pinned again on
purpose, with the reason in the commit message:

    PYTHONPATH=src python -m tests.simulate.test_golden
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hirepipe import ApprovalStep, Policy, standard_policy
from hirepipe.simulate import Scenario, compare, simulate
from tests import policies

DATA = Path(__file__).parent / "data"


def _silent() -> Policy:
    document = standard_policy().to_dict()
    document.pop("notifications", None)
    return Policy.from_dict(document)


BENCHMARK = Scenario(industry="engineering", company_size="large", candidates=8)
BUSY = Scenario(
    candidates=5,
    headcount=2,
    rounds=2,
    approval_chain=(
        ApprovalStep(name="finance", approvers=("cfo", "controller"), required=1),
        ApprovalStep(name="exec", approvers=("ceo",), due_days=2),
    ),
    approver_availability=0.5,
    periodic_updates=True,
    offer_countered=0.3,
    offer_accepted=0.41,
    offer_lapsed=0.12,
    offer_declined=0.17,
    withdrawal=0.2,
    country="DE",
    subdivision="BY",
    time_zone="Europe/Berlin",
    start="2025-12-15",
)

CASES: dict[str, Callable[[], str]] = {
    "standard-benchmark": lambda: simulate(None, BENCHMARK, runs=40, seed=1).to_json(indent=1),
    "standard-busy": lambda: simulate(None, BUSY, runs=40, seed=7).to_json(indent=1),
    "standard-without-notifications": lambda: simulate(
        _silent(), Scenario(candidates=4, periodic_updates=True), runs=30, seed=3
    ).to_json(indent=1),
    "background-check": lambda: simulate(
        policies.background_check_policy(),
        Scenario(candidates=4, periodic_updates=True, reference_failure=0.2),
        runs=30,
        seed=5,
        prepare={"extend_offer": policies.clear_background},
    ).to_json(indent=1),
    "final-review-compare": lambda: compare(
        standard_policy(),
        policies.final_review_policy(),
        runs=30,
        seed=9,
        scenario=Scenario(candidates=4, extra_days={"approval": 2}),
    ).to_json(records=True, indent=1),
}


@pytest.mark.parametrize("name", list(CASES), ids=str)
def test_results_are_what_they_were_for_the_seed(name: str) -> None:
    """A seeded simulation's JSON is the stored one, byte for byte."""
    expected = (DATA / f"{name}.json").read_text(encoding="utf-8")
    assert expected == CASES[name]()


def _pin() -> None:
    """Store the current results as the golden ones (run as a module; see the docstring)."""
    DATA.mkdir(exist_ok=True)
    for name, make in CASES.items():
        (DATA / f"{name}.json").write_text(make(), encoding="utf-8")
        print(f"pinned {name}")


if __name__ == "__main__":
    _pin()
