"""The options of the standard policy: each named once, each changing the policy, all together."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from hirepipe.standard import STANDARD_OPTIONS, standard_policy

LIFECYCLE_PAGE = Path(__file__).resolve().parents[2] / "docs" / "concepts" / "lifecycle.md"


def test_every_switch_of_standard_policy_is_listed():
    """The keywords that take True are exactly STANDARD_OPTIONS (the scheme one aside)."""
    keywords = set(inspect.signature(standard_policy).parameters) - {
        "settings",
        "structured_scorecards",
    }
    assert keywords == set(STANDARD_OPTIONS)


@pytest.mark.parametrize("option", sorted(STANDARD_OPTIONS))
def test_each_option_changes_the_policy(option):
    """An option adds events (or stages): the policy with it is not the policy without it."""
    plain, optioned = standard_policy(), standard_policy(**{option: True})
    added = (set(optioned.events) - set(plain.events)) | (set(optioned.stages) - set(plain.stages))
    changed = {e for e in plain.events if plain.events[e] != optioned.events.get(e)}
    assert added | changed


def test_every_option_together_builds_one_policy():
    """All options at once: one valid policy holding every option's events and stages."""
    everything = standard_policy(**dict.fromkeys(STANDARD_OPTIONS, True))
    for option in STANDARD_OPTIONS:
        alone = standard_policy(**{option: True})
        assert set(alone.events) <= set(everything.events), option
        assert set(alone.stages) <= set(everything.stages), option
    assert "background_check" in everything.to_mermaid()


def test_the_lifecycle_page_lists_every_option():
    """The docs' table of options names each option, as code."""
    page = LIFECYCLE_PAGE.read_text(encoding="utf-8")
    for option in STANDARD_OPTIONS:
        assert f"| `{option}` |" in page
