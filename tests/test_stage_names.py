"""No module outside the standard policy names a standard stage: the layers read stage roles."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import hirepipe
from hirepipe import standard_policy

SOURCE = Path(hirepipe.__file__).resolve().parent
STAGES = frozenset(standard_policy().stages).union(
    standard_policy(background_check=True).stages,
)
"""The standard stages, those of every option included."""

COINCIDENCES = {
    ("timeline/estimate.py", "offer"): "the offer milestone of an estimate",
    ("cli/_output.py", "offer"): "the label of the offer milestone",
    ("notify/_facts.py", "offer"): "the template variable holding the live offer",
    ("notify/_documents.py", "offer"): "the template variable holding the offer version",
    ("simulate/_results.py", "hired"): "the data-frame column of the hired applications",
    ("simulate/_runner.py", "declined"): "the count of offers declined",
    ("simulate/_options.py", "background_check"): "the option's name (STANDARD_OPTIONS)",
    ("simulate/_switches.py", "background_check"): "the option's name (STANDARD_OPTIONS)",
}
"""Words that are also standard stage names but mean something else where they appear."""


def _documentation(tree: ast.Module) -> set[int]:
    """The ids of string constants that document (docstrings) or are enum member codes."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            found.add(id(node.value))  # docstrings, of modules, classes, functions, attributes
        if isinstance(node, ast.ClassDef) and any(
            getattr(base, "id", "") in {"StrEnum", "Enum"} for base in node.bases
        ):
            found.update(
                id(statement.value)
                for statement in node.body
                if isinstance(statement, ast.Assign) and isinstance(statement.value, ast.Constant)
            )
    return found


def stage_names_in(path: Path) -> list[tuple[int, str]]:
    """The (line, name) of every string literal in ``path`` that is a standard stage's name."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    documentation = _documentation(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value in STAGES
        and id(node) not in documentation
    ]


MODULES = sorted(
    path for path in SOURCE.rglob("*.py") if path.relative_to(SOURCE).parts[0] != "standard"
)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(SOURCE)))
def test_no_module_outside_the_standard_policy_names_a_standard_stage(path):
    """Stage names live in hirepipe.standard; everything else reads roles from the policy."""
    where = str(path.relative_to(SOURCE))
    found = [
        f"{where}:{line}: {name!r}"
        for line, name in stage_names_in(path)
        if (where, name) not in COINCIDENCES
    ]
    assert [] == found


def test_the_scan_finds_a_stage_name(tmp_path):
    """The scan can fail: a stage name in code is found, in a docstring it is not."""
    module = tmp_path / "m.py"
    module.write_text('"""About the review."""\n\nX = {"review": 1}\n', encoding="utf-8")
    assert [(3, "review")] == stage_names_in(module)
