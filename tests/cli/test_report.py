"""``hirepipe report``: the funnel of stored histories, from a store or a JSON export."""

from __future__ import annotations

import csv
import io
import json
import sys

import pytest

from hirepipe import Pipeline, standard_policy
from hirepipe.cli import main
from hirepipe.reports import TABLES, calibration, funnel
from hirepipe.store import Store
from hirepipe.testing import FakeClock, make_application, make_requisition
from hirepipe.timeline.calendar import calendar_for
from tests.conftest import START
from tests.test_reports import slate_of_three

POLICY = standard_policy()


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def export(tmp_path):
    """A JSON export of three histories: hired, rejected at review, withdrawn in debrief."""
    applications, requisition, _ = slate_of_three()
    path = tmp_path / "export.json"
    path.write_text(
        json.dumps(
            {
                "requisitions": [requisition.model_dump(mode="json")],
                "applications": [a.model_dump(mode="json") for a in applications],
            }
        )
    )
    return path, funnel(applications, [requisition], POLICY)


@pytest.fixture
def stored(tmp_path):
    """The same three histories in a SQLite store."""
    applications, requisition, _ = slate_of_three()
    url = f"sqlite:///{tmp_path / 'hiring.db'}"
    store = Store(url)
    store.upgrade()
    store.add_requisition(requisition)
    for application in applications:
        store.add(application)
    store.close()
    return url, funnel(applications, [requisition], POLICY)


class TestSources:
    def test_json_export_gives_the_library_report(self, capsys, export):
        """--format json prints exactly the rows of reports.funnel for the same histories."""
        path, expected = export
        code, out, err = run(capsys, "report", str(path), "--format", "json")
        assert (0, "") == (code, err)
        printed = json.loads(out)
        assert (expected.policy, 3) == (printed["policy"], printed["applications"])
        for table in TABLES:
            assert json.loads(json.dumps(expected.rows(table))) == printed[table]

    def test_store_gives_the_same_report(self, capsys, stored):
        """A store URL reads the stored histories: the same report as in memory."""
        url, expected = stored
        code, out, err = run(capsys, "report", url, "--format", "json", "--table", "rejections")
        assert (0, "") == (code, err)
        assert {"policy", "applications", "rejections"} == set(json.loads(out))
        assert expected.rows("rejections") == json.loads(out)["rejections"]

    def test_calibration_is_the_librarys(self, capsys, tmp_path):
        """--table calibration prints reports.calibration's rows: each interviewer and the panel."""
        applications, requisition, _ = slate_of_three()
        path = tmp_path / "export.json"
        path.write_text(
            json.dumps(
                {
                    "requisitions": [requisition.model_dump(mode="json")],
                    "applications": [a.model_dump(mode="json") for a in applications],
                }
            )
        )
        code, out, _ = run(capsys, "report", str(path), "-f", "json", "-t", "calibration")
        expected = calibration(applications, POLICY).rows()
        assert 0 == code
        assert expected  # the debriefs were scored: there is something to compare
        assert json.loads(json.dumps(expected)) == json.loads(out)["calibration"]

    def test_one_requisition(self, capsys, export):
        """--requisition keeps that requisition's applications only; another gives none."""
        path, _ = export
        code, out, _ = run(capsys, "report", str(path), "-f", "json", "--requisition", "nope")
        assert (0, 0) == (code, json.loads(out)["applications"])


class TestFormats:
    def test_tables_in_the_terminal(self, capsys, export):
        """The default prints a titled table per report table, with the stages in rows."""
        path, _ = export
        code, out, err = run(capsys, "report", str(path))
        assert (0, "") == (code, err)
        assert "3 applications under standard@1" in out
        for title in (
            "Conversion from each stage",
            "Time in stage",
            "Rejections by stage",
            "Interviewers against their panels",
        ):
            assert title in out
        assert "skills" in out
        assert "review" in out

    def test_csv_of_one_table(self, capsys, export):
        """--format csv writes one table, header first, that csv reads back."""
        path, expected = export
        code, out, _ = run(capsys, "report", str(path), "-f", "csv", "-t", "time_in_stage")
        assert 0 == code
        rows = list(csv.DictReader(io.StringIO(out)))
        assert [r["stage"] for r in rows] == [r["stage"] for r in expected.rows("time_in_stage")]
        review = next(r for r in rows if r["stage"] == "review")
        assert ("2", "6.5") == (review["visits"], review["p50"])

    def test_csv_of_an_empty_table_has_its_header(self, capsys, tmp_path):
        """No applications: the header alone, not an empty output."""
        path = tmp_path / "empty.json"
        path.write_text('{"requisitions": [], "applications": []}')
        code, out, _ = run(capsys, "report", str(path), "-f", "csv", "-t", "breaches")
        assert (0, ["stage,kind,owner,missed,owed"]) == (code, out.splitlines())
        code, out, _ = run(capsys, "report", str(path), "-f", "csv", "-t", "calibration")
        assert 0 == code
        assert out.startswith("interviewer,attribute,count,mean,")

    def test_csv_needs_one_table(self, capsys, export):
        """CSV of every table at once is refused, naming the option to use (exit code 2)."""
        path, _ = export
        code, out, err = run(capsys, "report", str(path), "-f", "csv")
        assert (2, "") == (code, out)
        assert "--format csv writes one table: name it with --table" in err

    def test_as_of_judges_running_stays(self, capsys, tmp_path):
        """--as-of counts a review still running past its days; without it, it is not judged."""
        requisition = make_requisition()
        clock = FakeClock(START, calendar=calendar_for(requisition))
        waiting = make_application(Pipeline(POLICY, clock=clock), requisition, stage="review")
        later = clock.advance_business_days(15)
        path = tmp_path / "waiting.json"
        path.write_text(
            json.dumps(
                {
                    "requisitions": [requisition.model_dump(mode="json")],
                    "applications": [waiting.model_dump(mode="json")],
                }
            )
        )
        argv = ["report", str(path), "-f", "json", "-t", "breaches"]
        _, before, _ = run(capsys, *argv)
        code, after, _ = run(capsys, *argv, "--as-of", later.isoformat())
        assert 0 == code
        assert [] == [r for r in json.loads(before)["breaches"] if r["kind"] == "review"]
        (review,) = [r for r in json.loads(after)["breaches"] if r["kind"] == "review"]
        assert (1, 1) == (review["missed"], review["owed"])

    def test_plot(self, capsys, export, tmp_path):
        """--plot draws a PNG beside the tables."""
        import matplotlib  # noqa: F401  (the dev install has the plot extra: no skipping)

        path, _ = export
        target = tmp_path / "funnel.png"
        code, _, err = run(capsys, "report", str(path), "--plot", str(target))
        assert 0 == code
        assert f"plot written to {target}" in err
        assert target.read_bytes().startswith(b"\x89PNG")

    def test_plot_without_matplotlib(self, capsys, export, monkeypatch, tmp_path):
        """Without matplotlib, --plot says which extra to install."""
        monkeypatch.setitem(sys.modules, "matplotlib", None)
        path, _ = export
        code, _, err = run(capsys, "report", str(path), "--plot", str(tmp_path / "x.png"))
        assert 1 == code
        assert "--plot needs matplotlib, the 'plot' extra" in err


class TestBadInput:
    @pytest.mark.parametrize(
        ("content", "message"),
        [
            ("{not json", "not JSON"),
            ('{"applications": []}', "a JSON object with the lists 'requisitions'"),
            ("[1, 2]", "a JSON object with the lists"),
            ('{"requisitions": [{"id": 5}], "applications": []}', "requisitions[0.id]: Input"),
        ],
    )
    def test_a_bad_export_is_one_line(self, capsys, tmp_path, content, message):
        """A broken export names the file and what is wrong, exit code 1, no traceback."""
        path = tmp_path / "bad.json"
        path.write_text(content)
        code, out, err = run(capsys, "report", str(path))
        assert (1, "") == (code, out)
        assert err.startswith(f"hirepipe: error: {path}")
        assert message in err
        assert 1 == len(err.splitlines())

    def test_a_missing_file(self, capsys, tmp_path):
        """A file that is not there: exit code 1, saying so."""
        code, _, err = run(capsys, "report", str(tmp_path / "absent.json"))
        assert 1 == code
        assert "No such file" in err

    def test_as_of_without_offset(self, capsys, export):
        """A moment without its offset is ambiguous: refused, naming the option."""
        path, _ = export
        code, _, err = run(capsys, "report", str(path), "--as-of", "2026-11-30T12:00:00")
        assert 2 == code
        assert "--as-of takes a moment as ISO 8601 with its offset" in err

    def test_an_unknown_table(self, capsys, export):
        """A table that does not exist is refused by the option's choices."""
        path, _ = export
        code, _, err = run(capsys, "report", str(path), "--table", "salaries")
        assert 2 == code
        assert "salaries" in err
