"""The documentation site: it builds strictly, its code runs, and it answers issue 14.

The site is built once per session with ``mkdocs build --strict`` (a broken link, a missing
page or an unresolved reference fails it), as ``make docs`` does; the questions a developer
could not answer from the README are then looked up in the built pages.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hirepipe import standard_policy
from hirepipe.cli._events import event_table

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.rglob("*.md"))
PYTHON_BLOCK = re.compile(r"^( *)```python\n(.*?)^\1```", flags=re.DOTALL | re.MULTILINE)


SPHINX_ROLE = re.compile(r":(?:py:)?(?:class|meth|func|attr|data|mod|exc|obj|const):`")


def test_docstrings_use_markdown_references():
    """No docstring uses a Sphinx role, which the site would print as it is, unlinked."""
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in sorted((ROOT / "src" / "hirepipe").rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if SPHINX_ROLE.search(line)
    ]
    assert [] == found


def python_blocks(page: Path) -> list[str]:
    """The page's ```python blocks, dedented; blocks included from files are left out."""
    found = []
    for indent, code in PYTHON_BLOCK.findall(page.read_text(encoding="utf-8")):
        code = "\n".join(line[len(indent) :] for line in code.splitlines())
        if not code.lstrip().startswith("--8<--"):  # a file's code, run by its own tests
            found.append(code)
    return found


RUNNABLE = [page for page in PAGES if python_blocks(page)]


def test_getting_started_is_the_readme_quickstart():
    """The Getting started page shows the README's quickstart, word for word."""
    readme = PYTHON_BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    assert readme[0][1].rstrip("\n") == python_blocks(DOCS / "getting-started.md")[0]


@pytest.mark.parametrize(
    "page",
    [pytest.param(p, marks=pytest.mark.slow) if p.name == "what-if.md" else p for p in RUNNABLE],
    ids=lambda p: str(p.relative_to(DOCS)),
)
def test_every_python_block_runs(page, capsys):
    """The ```python blocks of a page run, in order, in one namespace, as a reader would."""
    namespace: dict[str, object] = {"__name__": "docs"}
    for block in python_blocks(page):
        exec(compile(block, str(page), "exec"), namespace)
    capsys.readouterr()


def build(config: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """``mkdocs build --strict`` (never with ``--quiet``: it hides the warnings strict counts)."""
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(config), "-d", str(target)],
        cwd=ROOT,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(ROOT / "src")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built strictly into a temporary directory."""
    target = tmp_path_factory.mktemp("site")
    done = build(ROOT / "mkdocs.yml", target)
    assert 0 == done.returncode, done.stderr[-3000:]
    return target


@pytest.mark.slow
def test_strict_build_fails_on_a_broken_reference(tmp_path):
    """A reference to an object the API reference does not have fails the build, by name."""
    docs = tmp_path / "docs"
    (docs / "api").mkdir(parents=True)
    (docs / "index.md").write_text(
        "[the pipeline][hirepipe.pipeline.Pipeline], [gone][hirepipe.pipeline.Gone]\n"
    )
    (docs / "api" / "pipeline.md").write_text("::: hirepipe.pipeline\n")
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    config = config[: config.index("\nnav:")].replace("docs/_hooks.py", str(DOCS / "_hooks.py"))
    config = config.replace("paths: [src]", f"paths: [{ROOT / 'src'}]")
    (tmp_path / "mkdocs.yml").write_text(f"{config}\ndocs_dir: {docs}\n", encoding="utf-8")
    done = build(tmp_path / "mkdocs.yml", tmp_path / "site")
    assert 1 == done.returncode
    assert "Could not find cross-reference target 'hirepipe.pipeline.Gone'" in done.stderr
    assert "hirepipe.pipeline.Pipeline'" not in done.stderr


def text(site: Path, page: str) -> str:
    """A built page's article as plain text: highlighted code joined up, tags dropped."""
    document = (site / page / "index.html").read_text(encoding="utf-8")
    article = document[document.index("<article") : document.index("</article>")]
    article = re.sub(r"</?span[^>]*>", "", article)  # the highlighter's tokens
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", article)).split())


def anchors(site: Path, page: str) -> set[str]:
    document = (site / page / "index.html").read_text(encoding="utf-8")
    return set(re.findall(r'id="([^"]+)"', document))


@pytest.mark.slow
class TestQuestions:
    """Issue 14: what a developer could not answer after 30 minutes with the README."""

    @pytest.mark.parametrize(
        ("page", "needs"),
        [
            ("how-to/persist", ["model_dump_json", "model_validate_json", "ConcurrentUpdate",
                                "version", "Outbox"]),
            ("how-to/web-service", ["FastAPI", "slate_fire", "ConcurrentUpdate", "409", "422",
                                    "blockers", "data_model", "python -m examples.service"]),
            ("how-to/daily-sweep", ["cron", "OnCalendar", "beat_schedule", "Notifier.sweep",
                                    "deliver", "expire"]),
            ("how-to/company-policy", ["hirepipe_policy", "hirepipe_pipeline", "walk", "paths",
                                       "with_stage"]),
            ("how-to/what-if", ["simulate", "compare", "Scenario", "extra_days"]),
            ("how-to/webhooks", ["verify_signature", "webhook-signature", "webhook-id",
                                 "webhook_secret"]),
            ("how-to/translate-messages", ["Templates", "rejection.txt", "_wording.txt"]),
            ("concepts/events", ["data_model", "Blocker", "needs_input", "GuardRejected"]),
            ("estimator", ["NACE", "assumption", "Priors"]),
            ("business-days", ["BusinessCalendar", "ServiceLevels", "overdue"]),
            ("concepts/policies", ["Policy.from_dict", "Registry", "PolicySettings"]),
            ("getting-started", ["standard_policy", "Pipeline", "fire", "blockers"]),
        ],
        ids=[
            "persist-without-store", "web-framework", "daily-sweep", "company-policy",
            "what-if", "webhooks", "translations", "event-data", "estimator", "business-days",
            "policies", "quickstart",
        ],
    )  # fmt: skip
    def test_a_page_answers_with_the_api_it_needs(self, site, page, needs):
        """Each question has its page, and the page names the API that answers it."""
        found = text(site, page)
        assert [] == [name for name in needs if name not in found]

    def test_which_data_each_event_takes(self, site):
        """The events reference has a section per standard event with its data and codes."""
        found = text(site, "reference/events")
        ids = anchors(site, "reference/events")
        for row in event_table(standard_policy()):
            assert row.name in ids
            for field in row.data:
                assert field.name in found
            for guard in row.guards:
                assert all(code in found for code in guard.codes)

    def test_the_lifecycle_diagram_is_the_policys(self, site):
        """The concepts page shows the diagram the standard policy draws now."""
        document = html.unescape((site / "concepts/lifecycle/index.html").read_text())
        for line in standard_policy().to_mermaid().splitlines():
            assert line.strip() in document

    def test_an_api_reference(self, site):
        """The API reference documents the facade and the store, from their docstrings."""
        assert "hirepipe.pipeline.Pipeline.fire" in anchors(site, "reference/api/pipeline")
        assert "hirepipe.store.Store.fire" in anchors(site, "reference/api/store")
        assert "hirepipe.standard.OfferData" in anchors(site, "reference/api/standard")
        assert "Fire ``event``" not in text(site, "reference/api/pipeline")

    def test_docstring_references_are_links(self, site):
        """References in docstrings render as links to their objects, not as Sphinx roles."""
        pages = sorted((site / "reference" / "api").glob("*/index.html"))
        assert [] == [
            p.parent.name
            for p in pages
            if SPHINX_ROLE.search(text(site, str(p.parent.relative_to(site))))
        ]
        store = (site / "reference/api/store/index.html").read_text(encoding="utf-8")
        assert 'href="../pipeline/#hirepipe.pipeline.Pipeline.fire"' in store

    def test_the_command_line_reference_has_every_option(self, site):
        """Every option of every command is on the command line page."""
        import typer

        from hirepipe.cli._app import app

        found = text(site, "reference/cli")
        for name, command in typer.main.get_command(app).commands.items():
            assert f"hirepipe {name}" in found
            for param in command.params:
                shown = (
                    [o.upper() for o in param.opts]
                    if param.param_type_name == "argument"
                    else param.opts
                )
                assert [o for o in shown if o not in found] == [], name
        assert "Exit codes" in found


def test_the_company_policy_example_passes(pytester):
    """The company-policy page's test file passes with the installed pytest plugin."""
    shutil.copy(ROOT / "examples" / "acme_hiring.py", pytester.path)
    shutil.copy(DOCS / "examples" / "test_acme_hiring.py", pytester.path)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=4)
