"""The README and the examples run as tests, so they cannot rot."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

from hirepipe import Role, standard_policy

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.DOTALL)


def test_readme_python_blocks_run_in_order():
    """Every Python block of the README runs, in order, in one namespace."""
    namespace: dict[str, object] = {}
    code = blocks("python")
    assert len(code) >= 2
    for block in code:
        exec(compile(block, "README.md", "exec"), namespace)
    assert "hired" == namespace["application"].stage  # type: ignore[attr-defined]


def test_readme_diagram_matches_the_code():
    """The README's lifecycle diagram is what standard_policy().to_mermaid() draws."""
    (diagram,) = blocks("mermaid")
    assert standard_policy().to_mermaid() == diagram


def permissions_table() -> str:
    """The standard policy's events grouped by who fires them, as the README's table."""
    order = list(Role)

    def roles(names: tuple[str, ...]) -> str:
        ranked = sorted(names, key=lambda r: order.index(r) if r in order else len(order))
        return ", ".join(ranked) or "-"

    groups: dict[tuple[str, str], list[str]] = {}
    for spec in standard_policy().events.values():
        key = (roles(spec.fired_by), roles(spec.on_behalf))
        groups.setdefault(key, []).append(f"`{spec.name}`")
    lines = ["| fired by | or for them, by | events |", "| --- | --- | --- |"]
    lines += [
        f"| {by} | {for_them} | {', '.join(events)} |" for (by, for_them), events in groups.items()
    ]
    return "\n".join(lines) + "\n"


def test_readme_permissions_match_the_code():
    """The README's table of who fires what is the standard policy's fired_by and on_behalf."""
    assert permissions_table() in README


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_run(path, capsys, monkeypatch):
    """Every example script runs to the end and prints what it shows."""
    monkeypatch.syspath_prepend(str(path.parent))  # as `python examples/x.py` would
    runpy.run_path(str(path), run_name="__main__")
    assert capsys.readouterr().out.strip()


def test_quickstart_reaches_hired(capsys):
    """The quickstart walks its candidate to hired."""
    runpy.run_path(str(ROOT / "examples" / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "not yet: 1 of 2 scorecards missing: bob" in out
    assert "Ada Lovelace: hired" in out


def test_who_acts_refuses_acting_in_anothers_name(capsys):
    """The example shows the CFO's approval refused to mallory and to the hiring manager."""
    runpy.run_path(str(ROOT / "examples" / "who_acts.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert 2 == out.count("refused [acting_for_another]: ")
    assert "record_approval by cfo: approval" in out
    assert "accept by rita on behalf of cand-2: hired" in out
    assert "rita recorded that you accepted our offer" in out
