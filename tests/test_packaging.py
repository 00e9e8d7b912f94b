"""The distribution: a wheel built as a user would build it installs and runs on its own.

hirepipe is on no package index: a project installs it from a path, a git URL or a wheel
built with ``python -m build`` (README, "Install"). These tests take the wheel route into a
fresh virtual environment with no extras, as another project would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# a tiny lifecycle through the installed package, and which optional packages came with it
LIFECYCLE = """
import importlib.util
from hirepipe import Pipeline, standard_policy
from hirepipe.testing import FakeClock, make_application, make_requisition

pipeline = Pipeline(standard_policy(), clock=FakeClock())
requisition = make_requisition()
application = make_application(pipeline, requisition, stage="hired")
print(application.stage, requisition.filled)
optional = ("sqlalchemy", "psycopg", "typer", "rich", "matplotlib", "yaml", "pytest", "mypy",
            "distributed")
print(sorted(name for name in optional if importlib.util.find_spec(name)))
"""


def without_this_checkout() -> dict[str, str]:
    """The environment, minus the PYTHONPATH that would put this checkout's source first."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel ``python -m build`` makes of this checkout."""
    dist = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        env=without_this_checkout(),
    )
    (built,) = dist.glob("hirepipe-*.whl")
    return built


@pytest.mark.slow
def test_the_wheels_metadata(wheel):
    """The wheel says MIT and ships the LICENSE, links the project, and publishes no dev extra.

    The store extra asks for plain psycopg (a library leaves the binary build to the
    application), and the pytest plugin is registered.
    """
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
        entry_points = archive.read(metadata_name.replace("METADATA", "entry_points.txt"))
    assert "MIT" == metadata["License-Expression"]
    assert ["LICENSE"] == metadata.get_all("License-File")
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert {"Homepage", "Repository", "Issues", "Changelog"} <= set(urls)
    assert ["cli", "dask", "plot", "store", "yaml"] == sorted(metadata.get_all("Provides-Extra"))
    store = [r for r in metadata.get_all("Requires-Dist") if "extra == 'store'" in r]
    assert ["psycopg>=3.1; extra == 'store'", "sqlalchemy>=2.0; extra == 'store'"] == store
    assert "hirepipe = hirepipe.pytest_plugin" in entry_points.decode()
    assert {"hirepipe/py.typed", "hirepipe/notify/templates/offer.txt"} <= set(names)


@pytest.mark.slow
def test_the_wheel_installs_alone_and_runs_a_lifecycle(wheel, tmp_path):
    """In a fresh venv, the wheel with no extras installs and takes a candidate to hired.

    pip fetches the runtime dependencies; nothing optional comes with them.
    """
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=True)
    python = environment / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel],
        check=True,
        capture_output=True,
        env=without_this_checkout(),
    )
    # -I: only the venv's own packages, never this checkout or the user's site
    result = subprocess.run(
        [python, "-I", "-c", LIFECYCLE],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ["hired 1", "[]"] == result.stdout.splitlines()


def test_the_project_urls_name_one_repository_and_its_own_files():
    """Every Project-URL is the repository the README installs from, or a file in this checkout.

    The repository's address is written in three places (pyproject.toml, mkdocs.yml's
    ``repo_url``, the README's ``git+`` installs); a link into it (``/blob/main/...``,
    ``/tree/main/...``) names a file or folder that exists here, so none points nowhere.
    """
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    urls = project["urls"]
    repository = urls["Repository"]
    mkdocs = (ROOT / "mkdocs.yml").read_text()
    assert f"repo_url: {repository}\n" in mkdocs
    readme = (ROOT / "README.md").read_text()
    assert f"git+{repository}@main" in readme
    assert {"Homepage", "Documentation", "Repository", "Issues", "Changelog"} == set(urls)
    for name, url in urls.items():
        assert url == repository or url.startswith(f"{repository}/"), name
        assert "#" not in url, f"{name}: link to a file, not an anchor"
        path = url.removeprefix(repository).lstrip("/")
        if path.startswith(("blob/main/", "tree/main/")):
            assert (ROOT / path.split("/", 2)[2]).exists(), name
        else:
            assert path in ("", "issues"), name
    assert urls["Documentation"].endswith("/tree/main/docs")
