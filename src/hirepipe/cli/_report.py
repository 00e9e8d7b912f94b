"""``hirepipe report``: the funnel of stored histories, as tables, JSON, CSV or a plot.

The histories come from a store (a SQLAlchemy URL: ``sqlite:///hiring.db``) or from a JSON
export, an object with two lists, ``requisitions`` and ``applications``, each item the
model's JSON (``Requisition.model_dump(mode="json")``, ``Application.model_dump(mode="json")``):

```python
applications, requisitions = load_histories("export.json")
report = funnel(applications, requisitions, standard_policy())
print(to_csv("conversions", report.rows("conversions")))
```

Imported by the command only: it needs rich (the ``cli`` extra) for tables and matplotlib (the
``plot`` extra) for the plot, and reading a store needs the ``store`` extra.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from pydantic import TypeAdapter, ValidationError

from hirepipe.models import Application, Requisition
from hirepipe.reports import (
    TABLES,
    Breaches,
    Calibration,
    CalibrationReport,
    Conversion,
    FunnelReport,
    Rejections,
    StageTime,
    Table,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from rich.table import Table as RichTable

__all__ = [
    "REPORT_TABLES",
    "columns_of",
    "draw_report",
    "load_histories",
    "report_figure",
    "report_json",
    "report_tables",
    "table_rows",
    "to_csv",
]

_T = TypeVar("_T")

_APPLICATIONS = TypeAdapter(list[Application])
_REQUISITIONS = TypeAdapter(list[Requisition])

_TITLES: dict[str, str] = {
    "calibration": "Interviewers against their panels",
    "conversions": "Conversion from each stage",
    "time_in_stage": "Time in stage (business days)",
    "rejections": "Rejections by stage and reason",
    "breaches": "Service levels missed, by stage and owner",
}


def load_histories(source: str) -> tuple[list[Application], list[Requisition]]:
    """The applications and requisitions of a store URL (``scheme://...``) or a JSON export.

    Raises ``ValueError`` saying what is wrong with an export, ``OSError`` for a file that
    cannot be read, and what [`Store`][hirepipe.store.Store] raises for a database.
    """
    if "://" in source:
        return _from_store(source)
    path = Path(source)
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{source}: not JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(loaded, dict) or not {"applications", "requisitions"} <= loaded.keys():
        raise ValueError(
            f"{source}: an export is a JSON object with the lists 'requisitions' and "
            "'applications' (each item a model's JSON dump)"
        )
    requisitions = _validated(source, "requisitions", _REQUISITIONS, loaded["requisitions"])
    applications = _validated(source, "applications", _APPLICATIONS, loaded["applications"])
    return applications, requisitions


def _validated(source: str, key: str, adapter: TypeAdapter[list[_T]], items: Any) -> list[_T]:
    """``items`` validated, or a ValueError naming the list, the item and the first problem."""
    try:
        return adapter.validate_python(items)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ValueError(
            f"{source}: {key}[{where}]: {first['msg']} ({exc.error_count()} problem(s) in all)"
        ) from None


def _from_store(url: str) -> tuple[list[Application], list[Requisition]]:
    try:
        from hirepipe.store import Store
    except ImportError:
        raise ImportError(
            "reading a store needs the 'store' extra: pip install 'hirepipe[store]'"
        ) from None
    store = Store(url)
    try:
        return store.applications(), store.requisitions()
    finally:
        store.close()


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else f"{value:.0f}"
    return str(value)


REPORT_TABLES: tuple[str, ...] = (*TABLES, "calibration")
"""The tables ``hirepipe report`` prints: the funnel's, then the interviewers' calibration."""


def table_rows(
    report: FunnelReport, calibrated: CalibrationReport | None, name: str
) -> list[dict[str, Any]]:
    """The rows of table ``name``: a funnel table, or ``calibration`` from ``calibrated``."""
    if name == "calibration":
        return calibrated.rows() if calibrated is not None else []
    return report.rows(cast(Table, name))


def report_tables(tables: Mapping[str, list[dict[str, Any]]]) -> list[RichTable]:
    """One titled rich table per entry of ``tables`` (name to rows), columns from the rows."""
    from rich.table import Table as RichTable

    drawn = []
    for name, rows in tables.items():
        table = RichTable(title=_TITLES[name], title_justify="left")
        columns = columns_of(name, rows)
        for column in columns:
            table.add_column(
                column.replace("_", " "), justify="left" if column in _TEXT else "right"
            )
        for row in rows:
            table.add_row(*(_cell(row[c]) for c in columns))
        drawn.append(table)
    return drawn


_TEXT = frozenset({"stage", "reason", "side", "kind", "owner", "interviewer", "attribute"})


def columns_of(name: str, rows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The columns of table ``name``: its rows' keys, or its dataclass's fields when empty."""
    if rows:
        return list(rows[0])
    kind = {
        "conversions": Conversion,
        "time_in_stage": StageTime,
        "rejections": Rejections,
        "breaches": Breaches,
        "calibration": Calibration,
    }[name]
    return [f.name for f in fields(kind) if f.name != "to"]


def report_json(report: FunnelReport, tables: Mapping[str, list[dict[str, Any]]]) -> str:
    """The tables as one JSON object: the policy, the count, then a list of rows per table."""
    body: dict[str, Any] = {"policy": report.policy, "applications": report.applications}
    body.update(tables)
    return json.dumps(body, indent=2)


def to_csv(name: str, rows: Sequence[Mapping[str, Any]]) -> str:
    """Table ``name`` as CSV, its header first (the header alone when it has no rows)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns_of(name, rows))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def report_figure(report: FunnelReport) -> Figure:
    """Two panels: each stage's conversion rate, and its time in stage (P50 bar, P90 mark).

    Raises ImportError naming the ``plot`` extra.
    """
    from hirepipe.cli._output import INSTALL_PLOT

    try:
        import matplotlib
    except ImportError:
        raise ImportError(f"--plot needs matplotlib, the 'plot' extra: {INSTALL_PLOT}") from None
    matplotlib.use("Agg")  # files only: no display needed
    import matplotlib.pyplot as plt

    rated = [c for c in report.conversions.values() if c.rate is not None]
    timed = [t for t in report.time_in_stage.values() if t.p50 is not None]
    drawn, (left, right) = plt.subplots(1, 2, figsize=(11, 4.8))
    left.barh([c.stage for c in rated], [c.rate or 0.0 for c in rated], color="tab:blue")
    left.set_xlim(0, 1)
    left.set_xlabel("share that went forward")
    left.set_title("conversion")
    left.invert_yaxis()
    stages = [t.stage for t in timed]
    right.barh(stages, [t.p50 or 0.0 for t in timed], color="tab:orange", label="P50")
    right.scatter([t.p90 or 0.0 for t in timed], stages, color="black", marker="|", label="P90")
    right.set_xlabel("business days")
    right.set_title("time in stage")
    right.invert_yaxis()
    right.legend(fontsize=8)
    drawn.suptitle(f"{report.applications:,} applications under {report.policy}", fontsize=10)
    drawn.tight_layout()
    return drawn


def draw_report(report: FunnelReport, path: Path) -> None:
    """Write [`report_figure`][hirepipe.cli._report.report_figure] to the PNG file ``path``."""
    drawn = report_figure(report)
    import matplotlib.pyplot as plt

    try:
        drawn.savefig(path, dpi=120)
    finally:
        plt.close(drawn)
