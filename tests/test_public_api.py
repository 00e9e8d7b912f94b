"""The public API: __all__ lists exactly what the package exports, sorted."""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

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
        name
        for name in dir(hirepipe)
        if not name.startswith("_") and not isinstance(getattr(hirepipe, name), type(hirepipe))
    }
    assert public == set(hirepipe.__all__) - {"__version__"}


def test_lazy_names_and_the_imports_type_checkers_read_agree():
    """The names loaded on first use are the names imported for type checkers, from one home."""
    tree = ast.parse(Path(hirepipe.__file__).read_text(encoding="utf-8"))
    (checking,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and "TYPE_CHECKING" == ast.unparse(node.test)
    ]
    imported = {
        alias.asname: node.module
        for node in checking.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    homes = {name: module for module, names in hirepipe._HOMES.items() for name in names}
    assert imported == homes
    for name, home in sorted(imported.items()):
        assert getattr(importlib.import_module(home), name) is getattr(hirepipe, name)


def test_version_is_a_string():
    """The package carries its version."""
    assert isinstance(hirepipe.__version__, str)
    assert hirepipe.__version__


def run_python(code: str, *arguments: str) -> str:
    """Run ``code`` in a fresh interpreter (this one's path) and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-c", code, *arguments],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )
    assert 0 == result.returncode, result.stderr
    return result.stdout.strip()


HEAVY = ("numpy", "holidays", "jinja2", "babel")


class TestImportCost:
    """``import hirepipe`` loads what is used, when it is used."""

    def test_import_leaves_the_heavy_dependencies_unloaded(self):
        """``import hirepipe`` loads none of numpy, holidays, Jinja2 and Babel."""
        code = f"import sys, hirepipe; print(sorted(set({HEAVY!r}) & set(sys.modules)))"
        assert "[]" == run_python(code)

    def test_a_lifecycle_without_business_days_loads_none_of_them(self):
        """Firing events of the standard policy needs no calendar, templates or locales."""
        code = f"""
import sys
from hirepipe import Band, Candidate, Pipeline, Requisition, standard_policy
pipeline = Pipeline(standard_policy())
requisition = Requisition(
    id="r", title="Engineer", hiring_manager="maria", approvers=["cfo"],
    budget=Band(minimum=1, maximum=2, currency="EUR"),
)
application = pipeline.new_application(
    Candidate(id="c", name="Ada", email="ada@example.com"), requisition, interviewers=["alice"]
)
pipeline.fire(application, "start_debrief", actor="maria", requisition=requisition)
pipeline.fire(application, "withdraw", actor="c", requisition=requisition)
print(application.stage, sorted(set({HEAVY!r}) & set(sys.modules)))
"""
        assert "withdrawn []" == run_python(code)

    def test_names_load_on_first_use(self):
        """A name of the package is imported from its module when first asked for."""
        code = "import hirepipe; print(hirepipe.BusinessCalendar.__module__)"
        assert "hirepipe.timeline.calendar" == run_python(code)

    def test_subpackages_load_as_attributes_too(self):
        """``hirepipe.timeline`` works after a bare ``import hirepipe``, as it always did."""
        code = "import hirepipe; print(hirepipe.timeline.calendar.BusinessCalendar.__name__)"
        assert "BusinessCalendar" == run_python(code)

    def test_an_unknown_name_is_an_attribute_error(self):
        """Asking for a name the package does not have raises AttributeError, naming it."""
        with pytest.raises(AttributeError, match="has no attribute 'Pipeline2'"):
            hirepipe.Pipeline2  # noqa: B018
        assert not hasattr(hirepipe, "no_such_module")

    def test_a_policy_file_naming_standard_guards_loads_in_a_fresh_process(self, tmp_path):
        """``Policy.from_file`` resolves the standard guards though nothing imported them yet."""
        path = tmp_path / "standard.toml"
        path.write_text(hirepipe.standard_policy().to_toml(), encoding="utf-8")
        code = (
            "import sys\nfrom hirepipe.policy import Policy\n"
            "policy = Policy.from_file(sys.argv[1])\nprint(policy.label, len(policy.events))"
        )
        expected = f"{hirepipe.standard_policy().label} {len(hirepipe.standard_policy().events)}"
        assert expected == run_python(code, str(path))
