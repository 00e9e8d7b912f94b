"""The hirepipe command line, end to end: what it prints, and how it fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import hirepipe
from hirepipe import standard_policy
from hirepipe.cli import main
from hirepipe.cli._events import event_table, to_markdown
from hirepipe.policy import paths
from hirepipe.simulate import Scenario, SimulationResult, simulate
from hirepipe.timeline import Estimate, Priors

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--runs", "30", "--candidates", "4", "--seed", "1"]
COMMANDS = ["simulate", "estimate", "validate", "diagram", "paths", "events", "report"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _floats(value):
    if isinstance(value, float):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _floats(item)
    elif isinstance(value, list):
        for item in value:
            yield from _floats(item)


class TestSimulate:
    def test_table_and_histogram(self, capsys):
        """A simulation prints the times table, the rates, the stages and a histogram."""
        code, out, err = run(
            capsys, "simulate", "--industry", "engineering", "--company-size", "large", *SMALL
        )
        assert (0, "") == (code, err)
        assert "30 requisitions under standard@1: engineering, large company, 4 candidates" in out
        for text in ("first offer", "business days", "calendar days", "P80", "filled"):
            assert text in out
        assert "review" in out
        assert "candidate_update" in out
        assert "First offer, business days after the interviews:" in out
        assert "│█" in out

    def test_json_is_the_library_result(self, capsys):
        """--json prints the result of simulate() for the same arguments, without records."""
        code, out, _ = run(capsys, "simulate", "--json", *SMALL)
        assert 0 == code
        expected = simulate(None, Scenario(candidates=4), runs=30, seed=1)
        assert expected.to_json(records=False, indent=2) + "\n" == out
        assert "records" not in json.loads(out)

    def test_options_reach_the_scenario(self, capsys):
        """Stage overrides, dates and switches end up in the scenario the run used."""
        code, out, _ = run(
            capsys, "simulate", "--json", *SMALL, "--extra-days", "approval=5",
            "--stage-days", "review=4", "--periodic-updates", "--start", "2025-03-03",
            "--approvers", "2", "--availability", "0.5", "--headcount", "2", "--rounds", "2",
        )  # fmt: skip
        assert 0 == code
        scenario = SimulationResult.model_validate_json(
            json.dumps({**json.loads(out), "records": []})
        ).scenario
        assert ({"approval": 5.0}, {"review": 4.0}, True) == (
            scenario.extra_days,
            scenario.stage_days,
            scenario.periodic_updates,
        )
        assert ("2025-03-03", 2, 0.5, 2, 2) == (
            scenario.start.isoformat(),
            scenario.approvers,
            scenario.approver_availability,
            scenario.headcount,
            scenario.rounds,
        )

    def test_plot(self, capsys, tmp_path):
        """--plot draws the distributions to a PNG file."""
        import matplotlib  # noqa: F401  (the dev extra installs the plot extra: no skipping)

        target = tmp_path / "out.png"
        code, out, _ = run(capsys, "simulate", *SMALL, "--plot", str(target))
        assert 0 == code
        assert target.read_bytes().startswith(b"\x89PNG")
        assert f"Plot written to {target}" in out

    def test_plot_without_matplotlib(self, capsys, monkeypatch, tmp_path):
        """Without matplotlib, --plot says which extra to install, in one line."""
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        code, _, err = run(capsys, "simulate", *SMALL, "--plot", str(tmp_path / "x.png"))
        assert 1 == code
        assert ["hirepipe: error: --plot needs matplotlib, the 'plot' extra: "
                "pip install 'hirepipe[plot]'"] == err.splitlines()  # fmt: skip

    def test_progress_bar(self, capsys):
        """--progress shows a bar on stderr while it runs, and the same result after."""
        code, out, _ = run(capsys, "simulate", *SMALL, "--progress", "--workers", "1")
        assert 0 == code
        assert "first offer" in out

    def test_a_policy_file(self, capsys, tmp_path):
        """--policy runs a policy loaded from a file."""
        path = tmp_path / "fast.toml"
        fast = standard_policy().with_setting(review_days=3).named("fast", "2")
        path.write_text(fast.to_toml(), encoding="utf-8")
        code, out, _ = run(capsys, "simulate", *SMALL, "--policy", str(path))
        assert 0 == code
        assert "requisitions under fast@2" in out


class TestScheduler:
    @pytest.mark.slow
    def test_on_a_dask_scheduler(self, capsys, dask_cluster):
        """--scheduler runs on an existing Dask scheduler: the JSON of a run in this process."""
        code, here, _ = run(capsys, "simulate", "--json", *SMALL)
        assert 0 == code
        code, there, err = run(
            capsys, "simulate", "--json", *SMALL, "--scheduler", dask_cluster.scheduler_address
        )
        assert (0, "") == (code, err)
        assert here == there

    @pytest.mark.parametrize("address", ["nonsense", "tcp://127.0.0.1"], ids=str)
    def test_a_malformed_address(self, capsys, address):
        """An address without a port is one line naming the form to use, at once."""
        code, _, err = run(capsys, "simulate", *SMALL, "--scheduler", address)
        assert 1 == code
        (line,) = err.splitlines()
        assert line.startswith(f"hirepipe: error: --scheduler {address!r}: missing port number")
        assert line.endswith("use tcp://HOST:PORT")

    def test_without_dask(self, capsys, monkeypatch):
        """Without Dask, --scheduler says which extra to install, in one line."""
        monkeypatch.setitem(sys.modules, "distributed", None)
        code, _, err = run(capsys, "simulate", *SMALL, "--scheduler", "tcp://127.0.0.1:8786")
        assert 1 == code
        assert ["hirepipe: error: --scheduler needs Dask's distributed, the 'dask' extra: "
                "pip install 'hirepipe[dask]'"] == err.splitlines()  # fmt: skip


class TestStartUp:
    def test_help_loads_no_simulator(self):
        """`hirepipe --help` imports neither the simulator, numpy, holidays nor Pydantic."""
        code = (
            "import sys\n"
            "from hirepipe.cli import main\n"
            "main(['--help'])\n"
            "heavy = ('numpy', 'holidays', 'pydantic', 'hirepipe.simulate', 'hirepipe.timeline')\n"
            "print(sorted(set(heavy) & set(sys.modules)), file=sys.stderr)\n"
        )
        found = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
        )
        assert "Usage: hirepipe" in found.stdout
        assert "[]" == found.stderr.strip()

    def test_company_sizes_are_the_models(self):
        """The --company-size values are those of hirepipe.models.CompanySize."""
        from hirepipe.cli._app import CompanySize
        from hirepipe.models import CompanySize as Model

        assert [size.value for size in Model] == [size.value for size in CompanySize]


class TestEstimate:
    def test_dates_for_an_interview(self, capsys):
        """The estimate prints each stage's end and when the offer and the answer come."""
        code, out, err = run(
            capsys, "estimate", "--interviewed", "2025-03-03", "--industry", "engineering",
            "--country", "US", "--time-zone", "America/New_York",
        )  # fmt: skip
        assert (0, "") == (code, err)
        assert "Interviewed on 2025-03-03, as of 2025-03-03" in out
        assert "references" in out
        assert "offer: by 2025-04-" in out
        assert "answer: by" in out

    def test_json(self, capsys):
        """--json prints the Estimate (no application id), which reads back once given one."""
        code, out, _ = run(
            capsys, "estimate", "--interviewed", "2025-03-03", "--as-of", "2025-03-10",
            "--candidates", "6", "--json",
        )  # fmt: skip
        assert 0 == code
        estimate = Estimate.from_json(json.dumps({"application_id": "a-1", **json.loads(out)}))
        assert ("interviewed", "2025-03-10") == (estimate.stage, estimate.as_of.isoformat())
        assert 5 == estimate.elapsed

    def test_json_has_no_placeholder_id_and_rounds_days(self, capsys):
        """--json names no made-up application and gives business days to two decimals."""
        code, out, _ = run(capsys, "estimate", "--interviewed", "2025-03-03", "--json")
        assert 0 == code
        document = json.loads(out)
        floats = list(_floats(document))
        assert "application_id" not in document
        assert floats
        assert [round(value, 2) for value in floats] == floats

    def test_as_of_before_the_interview(self, capsys):
        """An estimate before the interview is an error, in one line."""
        code, _, err = run(
            capsys, "estimate", "--interviewed", "2025-03-03", "--as-of", "2025-03-01"
        )
        assert 2 == code
        assert ["hirepipe: error: --as-of 2025-03-01 is before the interview on 2025-03-03"] == (
            err.splitlines()
        )


class TestPipes:
    def test_piped_output_is_not_wrapped(self, capsys):
        """Output that is not a terminal keeps every sentence on one line, whatever its length."""
        code, out, _ = run(capsys, "simulate", *SMALL, "--extra-days", "approval=5")
        lines = out.splitlines()
        assert 0 == code
        offers = next(line for line in lines if line.startswith("Offers made in"))
        assert offers.endswith("of filled runs.")
        assert len(offers) > 80
        assert "Scenario: approval +5 days, candidates=4" in lines

    @pytest.mark.parametrize(
        "argv",
        [["paths", "standard"], ["events"], ["diagram", "standard"], ["--help"], ["--version"]],
        ids=["paths", "events", "diagram", "help", "version"],
    )
    def test_a_reader_gone_mid_write_is_not_an_error(self, capsys, monkeypatch, argv):
        """Writing to a pipe whose reader left ends the command quietly, with exit code 0."""
        read, write = os.pipe()
        os.close(read)
        with os.fdopen(write, "w", buffering=1) as stream:  # each line written at once
            monkeypatch.setattr(sys, "stdout", stream)
            code = main(argv)
            monkeypatch.undo()
        assert (0, "") == (code, capsys.readouterr().err)

    def test_a_closed_pipe_found_at_the_final_flush(self, capsys, monkeypatch):
        """Output buffered for a pipe already closed ends quietly too, the pipe pointed away."""
        read, write = os.pipe()
        os.close(read)
        with os.fdopen(write, "w") as stream:
            monkeypatch.setattr(sys, "stdout", stream)
            code = main(["paths", "standard"])
            monkeypatch.undo()
        assert (0, "") == (code, capsys.readouterr().err)

    @pytest.mark.slow
    @pytest.mark.parametrize(
        "argv",
        [["paths", "standard"], ["events"], ["simulate", "--runs", "3"], ["--help"]],
        ids=["paths", "events", "simulate", "help"],
    )
    def test_a_closed_pipe_ends_quietly(self, argv):
        """A reader that goes away (`| head`) ends the command with exit code 0 and no message."""
        process = subprocess.Popen(
            [sys.executable, "-m", "hirepipe", *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        process.stdout.close()  # gone before anything is written
        _, err = process.communicate(timeout=120)
        assert (0, b"") == (process.returncode, err)


class TestEvents:
    def test_markdown_is_the_docs_table(self, capsys):
        """`events --format markdown` prints the table the docs' reference page is built from."""
        code, out, _ = run(capsys, "events", "standard", "--format", "markdown")
        assert (0, to_markdown(event_table(standard_policy()))) == (code, out)

    def test_json(self, capsys):
        """`events --format json` lists every event with its data, guards and notifications."""
        code, out, _ = run(capsys, "events", "--format", "json")
        events = json.loads(out)
        assert 0 == code
        assert list(standard_policy().events) == [e["name"] for e in events]
        offer = next(e for e in events if e["name"] == "extend_offer")
        assert ["references_ready", "offer_terms_valid"] == [g["name"] for g in offer["guards"]]
        assert ["offer"] == [n["name"] for n in offer["notifications"]]

    def test_table(self, capsys):
        """The default table shows every event, its data fields, guards and blocker codes."""
        code, out, _ = run(capsys, "events")
        assert 0 == code
        for name in standard_policy().events:
            assert f"│ {name} " in out
        assert "salary: Decimal | None = None" in out
        assert "scorecards_complete: every interviewer submitted a scorecard" in out
        assert "(scorecards_missing)" in out
        assert "next_round_invitation to candidate" in out

    def test_a_policy_file(self, capsys, tmp_path):
        """A company's policy file gets its own table: its new stage's event is listed."""
        path = tmp_path / "acme.toml"
        acme = standard_policy().with_stage("assessment", after="debrief").named("acme", "1")
        path.write_text(acme.to_toml(), encoding="utf-8")
        code, out, _ = run(capsys, "events", str(path), "-f", "json")
        assert 0 == code
        assert "start_assessment" in [e["name"] for e in json.loads(out)]


class TestPolicies:
    def test_validate_a_good_file(self, capsys, tmp_path):
        """Validating a good file says it is valid and what it holds."""
        path = tmp_path / "standard.toml"
        path.write_text(standard_policy().to_toml(), encoding="utf-8")
        code, out, _ = run(capsys, "validate", str(path))
        assert 0 == code
        assert out.startswith(f"{path}: valid, standard@1: 14 stages, ")

    def test_validate_a_bad_file(self, capsys, tmp_path):
        """Every problem of a bad file, on one line; exit code 1."""
        bad = tmp_path / "bad.toml"
        bad.write_text('name = "x"\nversion = "1"\ninitial = "nowhere"\n', encoding="utf-8")
        code, out, err = run(capsys, "validate", str(bad))
        assert (1, "") == (code, out)
        (line,) = err.splitlines()
        assert line.startswith("hirepipe: error: the policy has ")

    def test_diagram_mermaid_and_dot(self, capsys):
        """A diagram is what the policy draws, in either language."""
        code, out, _ = run(capsys, "diagram", "standard")
        assert (0, standard_policy().to_mermaid()) == (code, out)
        code, out, _ = run(capsys, "diagram", "standard", "--format", "dot")
        assert (0, standard_policy().to_dot()) == (code, out)

    def test_paths(self, capsys):
        """Every simple path to the stages asked for is listed, then their count."""
        code, out, _ = run(capsys, "paths", "standard", "--to", "hired", "--to", "declined")
        lines = out.splitlines()
        expected = paths(standard_policy(), to=["hired", "declined"])
        assert 0 == code
        assert [str(p) for p in expected] == lines[:-1]
        assert f"{len(expected)} paths" == lines[-1]
        assert lines[0].startswith("interviewed -start_debrief-> debrief")


class TestErrors:
    @pytest.mark.parametrize(
        ("argv", "code", "start"),
        [
            (["simulate", "--industry", "astrology", "--runs", "2"], 2,
             "--industry: unknown industry 'astrology'"),
            (["simulate", "--company-size", "huge"], 2, "Invalid value for '--company-size'"),
            (["simulate", "--bogus"], 2, "No such option: --bogus"),
            (["simulate", "--runs", "0"], 2, "Invalid value for '--runs'"),
            (["simulate", "--workers", "0"], 2, "Invalid value for '--workers'"),
            (["simulate", "--candidates", "0"], 2, "--candidates: Input should be greater"),
            (["simulate", "--availability", "2"], 2, "--availability: Input should be less"),
            (["simulate", "--extra-days", "approval"], 2, "--extra-days takes stage="),
            (["simulate", "--extra-days", "aproval=3"], 2, "--extra-days: unknown stage"),
            (["simulate", "--stage-days", "review=-1"], 2, "--stage-days review: Input should"),
            (["simulate", "--runs", "2", "--country", "XX"], 2, "--country: unknown country"),
            (["simulate", "--time-zone", "Mars/Base"], 2, "--time-zone: unknown time zone"),
            (["simulate", "--start", "soon"], 2, "--start takes a date as YYYY-MM-DD"),
            (["simulate", "--policy", "missing.toml"], 1, "the policy has 1 problem: missing"),
            (["diagram", "missing.toml"], 1, "the policy has 1 problem: missing.toml"),
            (["estimate", "--interviewed", "someday"], 2, "--interviewed takes a date as"),
            (["estimate", "--interviewed", "2025-03-03", "--country", "XX"], 2, "--country:"),
            (["estimate", "--interviewed", "2025-03-03", "--industry", "x"], 2, "--industry:"),
            (["estimate", "--interviewed", "2025-03-03", "--subdivision", "ZZ"], 2,
             "--subdivision: unknown subdivision 'ZZ' of 'US'"),
            (["simulate", "--runs", "2", "--country", "us"], 2, "--country: unknown country 'us'"),
            (["estimate"], 2, "Missing option '--interviewed'"),
            (["paths", "standard", "--to", "hird"], 2, "--to: unknown stage 'hird'"),
            (["events", "missing.toml"], 1, "the policy has 1 problem: missing.toml"),
            (["nothing"], 2, "No such command 'nothing'"),
        ],
        ids=[
            "industry", "size", "option", "runs", "workers", "candidates", "availability",
            "pairs", "pair-stage", "pair-value", "country", "zone", "start", "policy-file",
            "diagram-file", "date", "estimate-country", "estimate-industry", "subdivision",
            "country-case", "missing",
            "paths-stage", "events-file", "command",
        ],
    )  # fmt: skip
    def test_one_line_and_the_documented_exit_code(self, capsys, argv, code, start):
        """One line on stderr, nothing on stdout; exit 2 for options, 1 for files and runs."""
        found, out, err = run(capsys, *argv)
        assert (code, "") == (found, out)
        (line,) = err.splitlines()
        assert line.startswith(f"hirepipe: error: {start}")

    @pytest.mark.parametrize(
        ("argv", "message"),
        [
            (["simulate", "--extra-days", "approval=inf"],
             "--extra-days takes a finite number of business days: not 'approval=inf'"),
            (["simulate", "--stage-days", "review=nan"],
             "--stage-days takes a finite number of business days: not 'review=nan'"),
            (["validate", "standard", "--allow-imports", ""],
             "--allow-imports: '' is not a package name; give dotted names such as 'acme.hiring'"),
        ],
        ids=["infinite-days", "nan-days", "empty-import"],
    )  # fmt: skip
    def test_option_values_that_are_no_numbers_or_names(self, capsys, argv, message):
        """Days that are no finite number, an import that is no package: option errors, 2."""
        code, out, err = run(capsys, *argv)
        assert (2, "", [f"hirepipe: error: {message}"]) == (code, out, err.splitlines())

    @pytest.mark.parametrize(
        ("argv", "option", "field"),
        [
            (["simulate", "--availability", "0"], "--availability", "approver_availability"),
            (["simulate", "--candidates", "0"], "--candidates", "error: candidates"),
            (["simulate", "--stage-days", "review=-2"], "--stage-days review", "stage_days"),
            (["simulate", "--extra-days", "approval=-2"], "--extra-days approval", "extra_days"),
        ],
        ids=["availability", "candidates", "stage-days", "extra-days"],
    )
    def test_errors_name_options_not_fields(self, capsys, argv, option, field):
        """An option's bad value is reported under the option's name, not the model field's."""
        code, _, err = run(capsys, *argv)
        assert 2 == code
        assert err.startswith(f"hirepipe: error: {option}: ")
        assert field not in err

    def test_unknown_stage_lists_the_stages(self, capsys):
        """`paths --to` with a typo says the stage is unknown and lists the policy's stages."""
        code, out, err = run(capsys, "paths", "standard", "--to", "hird")
        stages = ", ".join(standard_policy().stages)
        assert (2, "") == (code, out)
        assert [
            f"hirepipe: error: --to: unknown stage 'hird'; the stages of standard@1 are: {stages}"
        ] == err.splitlines()

    @pytest.mark.parametrize("command", COMMANDS, ids=str)
    def test_help_everywhere(self, capsys, command):
        """Every command explains itself with --help."""
        code, out, _ = run(capsys, command, "--help")
        assert 0 == code
        assert "Usage: hirepipe" in out
        assert "--help" in out

    @pytest.mark.parametrize("command", [None, *COMMANDS], ids=str)
    def test_flags_show_no_value_type(self, capsys, command):
        """A flag takes no value, so the help shows no <bool> after it (--help, --json...)."""
        code, out, _ = run(capsys, *([command] if command else []), "--help")
        assert 0 == code
        assert "--help" in out
        assert "<bool>" not in out

    @pytest.mark.parametrize("command", ["simulate", "estimate"], ids=str)
    def test_industry_help_lists_the_industries(self, capsys, monkeypatch, command):
        """--industry's help lists every industry the priors know."""
        monkeypatch.setenv("COLUMNS", "400")  # one line per option: nothing cut short
        code, out, _ = run(capsys, command, "--help")
        assert 0 == code
        line = next(line for line in out.splitlines() if "--industry" in line)
        for industry in Priors.load().industries:
            assert industry in line

    def test_version(self, capsys):
        """--version prints hirepipe's version."""
        code, out, _ = run(capsys, "--version")
        assert (0, f"hirepipe {hirepipe.__version__}\n") == (code, out)

    def test_no_command_shows_help(self, capsys):
        """The bare command lists the commands."""
        code, out, _ = run(capsys)
        assert 0 == code
        for command in COMMANDS:
            assert command in out

    def test_without_the_extra(self, capsys, monkeypatch):
        """Without typer, hirepipe says which extra to install."""
        monkeypatch.setitem(sys.modules, "typer", None)
        code, out, err = run(capsys, "simulate")
        assert (1, "") == (code, out)
        assert [
            "hirepipe: the command line needs the 'cli' extra (typer is not installed): "
            "pip install 'hirepipe[cli]'"
        ] == err.splitlines()

    def test_invalid_data_found_in_a_run_is_exit_code_1(self, capsys, monkeypatch):
        """Data a model refuses during the run (not an option) is one line and exit code 1."""

        def refused(*args, **kwargs):
            return Scenario(candidates=0)

        monkeypatch.setattr("hirepipe.policy.paths", refused)
        code, out, err = run(capsys, "paths", "standard")
        assert (1, "") == (code, out)
        assert err.startswith("hirepipe: error: candidates: Input should be greater than")

    def test_a_bug_is_not_hidden(self, capsys, monkeypatch):
        """An error that is not the user's keeps its traceback: it is a bug to report."""

        def broken(*args, **kwargs):
            raise RuntimeError("a bug")

        monkeypatch.setattr("hirepipe.policy.paths", broken)
        with pytest.raises(RuntimeError, match="a bug"):
            main(["paths", "standard"])

    def test_module_entry_point(self, capsys, monkeypatch):
        """hirepipe/__main__.py runs the command line and exits with its code."""
        import runpy

        monkeypatch.setattr(sys, "argv", ["hirepipe", "diagram", "standard", "-f", "dot"])
        entry = Path(hirepipe.__file__).with_name("__main__.py")
        with pytest.raises(SystemExit) as exited:
            runpy.run_path(str(entry), run_name="__main__")
        assert 0 == exited.value.code
        assert capsys.readouterr().out.startswith("digraph")

    def test_python_dash_m(self):
        """The module runs the command line: python -m hirepipe."""
        done = subprocess.run(
            [sys.executable, "-m", "hirepipe", "paths", "standard", "--to", "withdrawn"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert 0 == done.returncode
        assert done.stdout.splitlines()[-1].endswith("paths")


def test_python_dash_m_runs_the_command_line(capsys, monkeypatch):
    """``python -m hirepipe`` is the same command line, exiting with its status."""
    import runpy
    from pathlib import Path

    import hirepipe

    monkeypatch.setattr("sys.argv", ["hirepipe", "paths", "standard", "--to", "hired"])
    with pytest.raises(SystemExit) as caught:
        runpy.run_path(str(Path(hirepipe.__file__).parent / "__main__.py"), run_name="__main__")
    assert 0 == caught.value.code
    assert "accept" in capsys.readouterr().out


def test_validate_allows_a_companys_own_guards(capsys, tmp_path):
    """Guards named by dotted path load once their package is allowed, and not before."""
    document = standard_policy().with_guard("accept", _named_guard()).to_dict()
    document["events"] = [
        {
            **e,
            "guards": [g if g != "always" else "tests.policies:always_passes" for g in e["guards"]],
        }
        for e in document["events"]
    ]
    import tomli_w

    path = tmp_path / "acme.toml"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    assert 1 == main(["validate", str(path)])
    assert "no guard named 'tests.policies:always_passes'" in capsys.readouterr().err
    assert 0 == main(["validate", str(path), "--allow-imports", "tests.policies"])
    assert "valid, standard@1" in capsys.readouterr().out


def _named_guard():
    def always(ctx):
        yield from ()

    return always


def test_validate_a_guard_module_that_raises_on_import(capsys, tmp_path):
    """A guard package that raises while it imports is one line on stderr, no traceback."""
    document = standard_policy().to_dict()
    document["events"][0]["guards"] = ["tests.raises_on_import:passed"]
    path = tmp_path / "acme.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    code, out, err = run(capsys, "validate", str(path), "--allow-imports", "tests")
    assert (1, "") == (code, out)
    (line,) = err.splitlines()
    assert line.startswith("hirepipe: error: the policy has 1 problem: ")
    assert "importing 'tests.raises_on_import' raised RuntimeError" in line


def test_validate_dev_zero_checks_before_reading():
    """``hirepipe validate /dev/zero`` answers at once: a file type it cannot read."""
    from tests.bounded import run_bounded

    done = run_bounded(
        "from hirepipe.cli import main; raise SystemExit(main(['validate', '/dev/zero']))"
    )
    assert (1, "") == (done.returncode, done.stdout)
    assert (
        "hirepipe: error: the policy has 1 problem: /dev/zero: unknown file type ''; use "
        ".toml, .yaml, .yml or .json\n"
    ) == done.stderr


class TestCompanyPolicies:
    """The example company's policy from the command line, its guards imported by dotted path."""

    @pytest.mark.parametrize("command", ["validate", "diagram", "paths", "events"], ids=str)
    def test_every_policy_command_imports_the_companys_guards(self, capsys, monkeypatch, command):
        """From examples/, each command reads policy.toml with --allow-imports acme_hiring."""
        monkeypatch.chdir(ROOT / "examples")
        monkeypatch.syspath_prepend(str(ROOT / "examples"))
        code, out, err = run(capsys, command, "policy.toml", "--allow-imports", "acme_hiring")
        assert (0, "") == (code, err)
        assert "assessment" in out or "valid" in out

    def test_validate_names_a_stage_the_estimator_cannot_time(self, capsys, tmp_path):
        """A stage without a duration is a problem found by validate, not at estimate time."""
        path = tmp_path / "untimed.toml"
        path.write_text(
            standard_policy().with_stage("vetting", after="references").to_toml(),
            encoding="utf-8",
        )
        code, _, err = run(capsys, "validate", str(path))
        assert 1 == code
        assert "no expected duration for vetting" in err


class TestStandardOptions:
    def test_option_names_are_the_simulators(self):
        """--option takes exactly the options a scenario may turn on (STANDARD_OPTIONS and more)."""
        from hirepipe.cli._app import OptionName
        from hirepipe.simulate._options import OPTIONS

        assert list(OPTIONS) == [name.value for name in OptionName]

    def test_simulate_with_options_is_the_library_result(self, capsys):
        """--option turns options on: the result is simulate() of a scenario naming them."""
        code, out, _ = run(
            capsys, "simulate", "--json", "--option", "background_check",
            "--option", "position_approval", "--option", "background_check", *SMALL,
        )  # fmt: skip
        assert 0 == code
        scenario = Scenario(candidates=4, options={"background_check", "position_approval"})
        expected = simulate(None, scenario, runs=30, seed=1)
        assert expected.to_json(records=False, indent=2) + "\n" == out
        assert "adjudication" in json.loads(out)["breaches"]

    def test_help_lists_the_options(self, capsys, monkeypatch):
        """`simulate --help` names every option."""
        from hirepipe.standard import STANDARD_OPTIONS

        monkeypatch.setenv("COLUMNS", "400")  # one line per option: nothing wrapped
        code, out, _ = run(capsys, "simulate", "--help")
        assert 0 == code
        for name in (*STANDARD_OPTIONS, "structured_scorecards"):
            assert name in out

    @pytest.mark.parametrize("command", ["diagram", "paths", "events"], ids=str)
    def test_the_standard_policy_with_options(self, capsys, command):
        """diagram, paths and events show the option's stages and events."""
        code, plain, _ = run(capsys, command, "standard")
        code_on, out, _ = run(capsys, command, "standard", "--option", "background_check")
        assert (0, 0) == (code, code_on)
        assert "adjudication" not in plain
        assert "adjudication" in out

    def test_an_option_with_a_policy_file_is_refused(self, capsys, tmp_path):
        """A policy file says itself which options it has: --option with one is an error."""
        path = tmp_path / "policy.toml"
        path.write_text(standard_policy().to_toml(), encoding="utf-8")
        code, _, err = run(capsys, "diagram", str(path), "--option", "offer_signatures")
        assert 2 == code
        assert "--option turns on options of the standard policy" in err

    def test_an_unknown_option_is_refused(self, capsys):
        """A misspelt option is a usage error naming the choices."""
        code, _, err = run(capsys, "paths", "standard", "--option", "background")
        assert 2 == code
        assert "position_approval" in err
