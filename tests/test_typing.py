"""The package's types, as a user's type checker sees them.

pyright's ``--verifytypes`` scores how completely the public API is typed; the README and the
examples must pass pyright and mypy in strict mode, mypy without Pydantic's plugin (a user's
project may not use it). Money fields take an int, a Decimal or a numeric string there, as
Pydantic does at run time, and refuse a float.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MONEY_OK = """
from decimal import Decimal

from hirepipe import Band, Requisition
from hirepipe.standard import SalaryData

band = Band(minimum=120_000, maximum="150000.50", currency="USD")
lowest: Decimal = band.minimum
requisition = Requisition(
    id="r", title="Engineer", hiring_manager="maria", budget=band, approvers=["cfo"]
)
proposed: Decimal | None = SalaryData(salary=Decimal("135000")).salary
nothing: Decimal | None = SalaryData().salary
"""
MONEY_BAD = """
from hirepipe import Band

Band(minimum=1.5, maximum=2, currency="EUR")  # a float is not money
text: str = Band(minimum=1, maximum=2, currency="EUR").minimum  # read back as a Decimal
"""


def checker_environment() -> dict[str, str]:
    """The environment with this checkout's source first, for both checkers."""
    source = str(ROOT / "src")
    return {**os.environ, "PYTHONPATH": source, "MYPYPATH": source}


@pytest.fixture(scope="module")
def checked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory of the README's Python blocks (one module, in order) and the examples."""
    directory = tmp_path_factory.mktemp("typed")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.DOTALL)
    (directory / "readme.py").write_text("\n".join(blocks), encoding="utf-8")
    for example in (ROOT / "examples").glob("*.py"):
        shutil.copy(example, directory / example.name)
    (directory / "money_ok.py").write_text(MONEY_OK, encoding="utf-8")
    (directory / "money_bad.py").write_text(MONEY_BAD, encoding="utf-8")
    return directory


def pyright(*arguments: str, cwd: Path) -> dict[str, object]:
    """Run pyright (from PyPI) with this interpreter's packages; return its JSON report."""
    result = subprocess.run(
        [sys.executable, "-m", "pyright", "--outputjson", "--pythonpath", sys.executable,
         *arguments],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=checker_environment(),
        check=False,
    )  # fmt: skip
    report: dict[str, object] = json.loads(result.stdout)
    return report


@pytest.mark.slow
def test_verifytypes_scores_at_least_98_percent(tmp_path):
    """``pyright --verifytypes hirepipe --ignoreexternal`` finds at most 2% ambiguous symbols."""
    report = pyright("--verifytypes", "hirepipe", "--ignoreexternal", cwd=tmp_path)
    completeness = report["typeCompleteness"]
    assert isinstance(completeness, dict)
    ambiguous = [
        symbol["name"]
        for symbol in completeness["symbols"]
        if symbol["isExported"] and not symbol["isTypeKnown"]
    ]
    assert completeness["completenessScore"] >= 0.98, ambiguous


@pytest.mark.slow
def test_readme_and_examples_pass_pyright_strict(checked):
    """In strict mode, pyright finds no error but the two planted in ``money_bad.py``."""
    (checked / "pyrightconfig.json").write_text('{"typeCheckingMode": "strict"}')
    report = pyright(cwd=checked)
    diagnostics = report["generalDiagnostics"]
    assert isinstance(diagnostics, list)
    errors = sorted(
        (Path(d["file"]).name, d["range"]["start"]["line"] + 1)
        for d in diagnostics
        if d["severity"] == "error"
    )
    assert [("money_bad.py", 4), ("money_bad.py", 5)] == errors, diagnostics


@pytest.mark.slow
def test_readme_and_examples_pass_mypy_strict_without_pydantic_plugin(checked):
    """Strict and with no configuration (no Pydantic plugin), mypy sees only the planted errors."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--follow-imports=silent", "--no-incremental",
         *sorted(p.name for p in checked.glob("*.py"))],
        capture_output=True,
        text=True,
        cwd=checked,
        env=checker_environment(),
        check=False,
    )  # fmt: skip
    errors = sorted(
        line.split(": error:")[0] for line in result.stdout.splitlines() if ": error:" in line
    )
    assert ["money_bad.py:4", "money_bad.py:5"] == errors, result.stdout
