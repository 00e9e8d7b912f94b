"""The public API: __all__ lists exactly what the package exports, sorted."""

from __future__ import annotations

import importlib

import pytest

import hirepipe

MODULES = [
    "hirepipe",
    "hirepipe.errors",
    "hirepipe.models",
    "hirepipe.notify",
    "hirepipe.pipeline",
    "hirepipe.policy",
    "hirepipe.privacy",
    "hirepipe.simulate",
    "hirepipe.slate",
    "hirepipe.store",
]


@pytest.mark.parametrize("name", MODULES, ids=str)
def test_all_names_only_what_exists(name):
    """__all__ names only objects the module has (ruff's RUF022 keeps it sorted)."""
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(set(exported)) == len(exported)
    for item in exported:
        assert hasattr(module, item), f"{name}.{item} is in __all__ but missing"


def test_top_level_names_match_all():
    """Every public name at the top level is in __all__, and nothing else is."""
    public = {
        n
        for n, v in vars(hirepipe).items()
        if not n.startswith("_") and not isinstance(v, type(hirepipe))
    }
    assert public == set(hirepipe.__all__) - {"__version__"}


def test_version_is_a_string():
    """The package carries its version."""
    assert isinstance(hirepipe.__version__, str)
    assert hirepipe.__version__
