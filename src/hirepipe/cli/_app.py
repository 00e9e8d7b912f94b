"""The ``hirepipe`` typer application: one function per command.

Imported by ``hirepipe.cli.main`` once typer and rich (the ``cli`` extra) are known to be
installed. The options become hirepipe objects in ``hirepipe.cli._inputs``, what the
commands print is drawn by ``hirepipe.cli._output``; exit codes are described in
``hirepipe.cli``.
"""

# No ``from __future__ import annotations``: typer reads the commands' annotations at run time.
# Only what every command needs is imported here: `hirepipe --help` builds every command's
# options, so each command imports what it uses (the simulator, the estimator, numpy, the
# holidays data) in its own body, when it runs.
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperCommand, TyperGroup

from hirepipe._version import __version__

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from rich.console import Console

    from hirepipe.models import CompanySize as ModelCompanySize
    from hirepipe.policy import Policy
    from hirepipe.simulate import Scenario, SimulationResult
    from hirepipe.timeline import Estimate, TimelineEstimator

__all__ = ["app", "run"]


class DiagramFormat(StrEnum):
    """The diagram languages ``hirepipe diagram`` writes."""

    mermaid = "mermaid"
    dot = "dot"


class OptionName(StrEnum):
    """The standard policy's options ``--option`` turns on.

    ``STANDARD_OPTIONS`` and ``structured_scorecards``; a test keeps them in step (they are
    not imported here: ``hirepipe --help`` stays light).
    """

    position_approval = "position_approval"
    background_check = "background_check"
    offer_signatures = "offer_signatures"
    feedback_requests = "feedback_requests"
    keep_in_touch_from_rejection = "keep_in_touch_from_rejection"
    next_round_scheduling = "next_round_scheduling"
    structured_scorecards = "structured_scorecards"


StandardOptions = Annotated[
    list[OptionName] | None,
    typer.Option(
        "--option",
        help="Turn on an option of the standard policy (repeatable); structured_scorecards "
        "uses the example scheme of docs/scorecards.md.",
    ),
]
"""``--option``, as the commands that take the standard policy take it."""


def _option_names(options: list[OptionName] | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(o) for o in options or ()))


class ReportFormat(StrEnum):
    """How ``hirepipe report`` prints its tables."""

    table = "table"
    json = "json"
    csv = "csv"


class ReportTable(StrEnum):
    """The tables of ``hirepipe report`` (those of ``hirepipe.reports.FunnelReport``)."""

    conversions = "conversions"
    time_in_stage = "time_in_stage"
    rejections = "rejections"
    breaches = "breaches"
    calibration = "calibration"


class CompanySize(StrEnum):
    """The company sizes of ``--company-size``: those of hirepipe.models.CompanySize.

    Repeated here so that the help needs no Pydantic model (a test keeps the two equal).
    """

    small = "small"
    medium = "medium"
    large = "large"
    enterprise = "enterprise"


class TableFormat(StrEnum):
    """How ``hirepipe events`` prints the table."""

    table = "table"
    markdown = "markdown"
    json = "json"


# typer's click types are annotated as Any here: typer 0.2x vendors its own click, older
# releases use click itself, and hirepipe runs on both.


def _flags_without_types(params: list[Any]) -> list[Any]:
    # a flag takes no value: "--json <bool>" in the help would ask for one
    for param in params:
        if getattr(param, "is_flag", False):
            param.metavar = ""
    return params


_INDUSTRIES = "Industry of the published timelines."


class _Command(TyperCommand):
    def get_params(self, ctx: Any) -> list[Any]:
        params = _flags_without_types(super().get_params(ctx))
        for param in params:
            if getattr(param, "help", None) == _INDUSTRIES:  # its values, once asked for
                from hirepipe.cli._inputs import industries_help

                param.help = industries_help()
        return params


class _Group(TyperGroup):
    def get_params(self, ctx: Any) -> list[Any]:
        return _flags_without_types(super().get_params(ctx))


app = typer.Typer(
    name="hirepipe",
    cls=_Group,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _show_version(value: bool) -> None:
    if value:
        print(f"hirepipe {__version__}")
        raise typer.Exit()


@app.callback()
def hirepipe_command(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """The rules of what happens after a job interview: simulate, estimate, check.

    Exit codes: 0 done; 1 a problem with an input file or the run; 2 a command line that does
    not parse, or an option value hirepipe cannot use.
    """


def run(argv: list[str]) -> int:
    """Run the application on ``argv``; return the exit code (see ``hirepipe.cli``)."""
    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="hirepipe", standalone_mode=False)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's final flush
    except BrokenPipeError:
        return _reader_gone()
    except SystemExit as exc:
        # typer and click answer a closed pipe with sys.exit(1), inside their handler
        if isinstance(exc.__context__, BrokenPipeError):
            return _reader_gone()
        raise
    except Exception as exc:
        usage = getattr(exc, "format_message", None)
        code = getattr(exc, "exit_code", None)
        if usage is None or code is None:
            raise  # not a command line that failed to parse: a bug, shown with its traceback
        if type(exc).__name__ == "NoArgsIsHelpError":
            print(usage())  # no command: the help is the answer
            return 0
        _error(usage())
        return int(code)
    return result if isinstance(result, int) else 0


def _reader_gone() -> int:
    """The reader closed the pipe (``| head``): it has what it wanted; exit 0, quietly.

    Standard output is pointed at nothing, so the interpreter's final flush of what is still
    buffered cannot complain either.
    """
    try:
        descriptor = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (a test captured it)
        descriptor = -1
    if descriptor >= 0:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, descriptor)
        os.close(devnull)
    return 0


def _error(message: str) -> None:
    print(f"hirepipe: error: {' '.join(message.split())}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    from pydantic import ValidationError

    from hirepipe.cli._inputs import describe_policy_error, describe_validation
    from hirepipe.errors import PolicyError

    if isinstance(exc, PolicyError):
        return describe_policy_error(exc)
    if isinstance(exc, ValidationError):
        return describe_validation(exc, {})
    return str(exc)


@contextmanager
def _errors_exit() -> Iterator[None]:
    """Turn the errors users cause into one line: exit code 2 for an option, 1 for the rest."""
    from pydantic import ValidationError

    from hirepipe.cli._inputs import OptionError
    from hirepipe.errors import HirepipeError

    try:
        yield
    except BrokenPipeError:
        raise  # the reader went away: main exits quietly
    except OptionError as exc:
        _error(str(exc))
        raise typer.Exit(2) from None
    except (HirepipeError, ValidationError, OSError, ValueError, ImportError) as exc:
        _error(_one_line(exc))
        raise typer.Exit(1) from None


# -- simulate ------------------------------------------------------------------------------------


@app.command("simulate", cls=_Command)
def simulate_command(
    industry: Annotated[str, typer.Option(help=_INDUSTRIES)] = "all_employers",
    company_size: Annotated[CompanySize, typer.Option(help="Company size.")] = CompanySize.medium,
    candidates: Annotated[int, typer.Option(help="Candidates interviewed.")] = 3,
    headcount: Annotated[int, typer.Option(help="People to hire.")] = 1,
    rounds: Annotated[int, typer.Option(help="Interview rounds before an offer.")] = 1,
    approvers: Annotated[int, typer.Option(help="Approvers of every offer.")] = 1,
    availability: Annotated[
        float, typer.Option(help="Chance an approver is at work when needed, 0 to 1.")
    ] = 1.0,
    extra_days: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STAGE=DAYS", help="Add business days to a stage: approval=5 (repeatable)."
        ),
    ] = None,
    stage_days: Annotated[
        list[str] | None,
        typer.Option(
            metavar="STAGE=DAYS",
            help="Replace a stage's mean business days: review=4 (repeatable).",
        ),
    ] = None,
    periodic_updates: Annotated[
        bool, typer.Option(help="Send a status update whenever one falls due.")
    ] = False,
    country: Annotated[str, typer.Option(help="Country of the business calendar.")] = "US",
    time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    start: Annotated[
        str | None, typer.Option(metavar="YYYY-MM-DD", help="Day of the interviews.")
    ] = None,
    policy: Annotated[
        str, typer.Option(help="A policy file (TOML, YAML, JSON) or 'standard'.")
    ] = "standard",
    option: StandardOptions = None,
    runs: Annotated[int, typer.Option(min=1, help="Requisitions to simulate.")] = 1_000,
    seed: Annotated[int, typer.Option(min=0, help="Seed: the same seed, the same result.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Processes to run in.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Run on this Dask scheduler, such as tcp://10.0.0.5:8786 (the dask extra).",
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    plot: Annotated[
        Path | None, typer.Option(help="Draw the distributions to this PNG (plot extra).")
    ] = None,
    progress: Annotated[
        bool | None,
        typer.Option(help="Show a progress bar (default: when stderr is a terminal)."),
    ] = None,
) -> None:
    """Simulate requisitions through the real rules; show when offers and hires happen."""
    from hirepipe.cli._inputs import (
        check_calendar,
        check_industry,
        check_stages,
        load_policy,
        make_scenario,
        parse_day,
        parse_pairs,
    )
    from hirepipe.cli._output import draw, output_console, report_simulation

    with _errors_exit():
        check_industry(industry)
        fields: dict[str, Any] = {
            "industry": industry,
            "company_size": company_size.value,
            "candidates": candidates,
            "headcount": headcount,
            "rounds": rounds,
            "approvers": approvers,
            "approver_availability": availability,
            "extra_days": parse_pairs(extra_days or [], "--extra-days"),
            "stage_days": parse_pairs(stage_days or [], "--stage-days"),
            "periodic_updates": periodic_updates,
            "country": country,
            "time_zone": time_zone,
        }
        options = _option_names(option)
        if options:
            fields["options"] = options
        if start is not None:
            fields["start"] = parse_day(start, "--start")
        scenario = make_scenario(fields)
        check_calendar(scenario.country, scenario.subdivision, scenario.time_zone)
        chosen = load_policy(policy, options=options)
        check_stages(chosen, scenario.extra_days, "--extra-days")
        check_stages(chosen, scenario.stage_days, "--stage-days")
        errors = output_console(stderr=True)
        show = (errors.is_terminal and not json_output) if progress is None else progress
        with _on_scheduler(scheduler) as executor:
            result = _simulate_with_progress(
                chosen, scenario, runs, seed, workers, executor, show, errors
            )
        if plot is not None:
            draw(result, plot)
        if json_output:
            print(result.to_json(records=False, indent=2))
        else:
            report_simulation(output_console(), result, plot)


INSTALL_DASK = "pip install 'hirepipe[dask]'"
_CONNECT_SECONDS = 10


@contextmanager
def _on_scheduler(address: str | None) -> "Iterator[Executor | None]":
    """An executor on the Dask scheduler at ``address`` (None: none), closed afterwards."""
    if address is None:
        yield None
        return
    from hirepipe.errors import SimulationError

    try:
        from distributed import Client
        from distributed.comm.addressing import resolve_address
    except ImportError:
        raise SimulationError(
            f"--scheduler needs Dask's distributed, the 'dask' extra: {INSTALL_DASK}"
        ) from None
    try:  # a malformed address is refused before a client exists (one would linger at exit)
        resolve_address(address)
    except ValueError as exc:
        raise SimulationError(f"--scheduler {address!r}: {exc}; use tcp://HOST:PORT") from None
    try:  # distributed is not fully annotated
        client = Client(address, timeout=_CONNECT_SECONDS, set_as_default=False)  # type: ignore[no-untyped-call, unused-ignore]
    except (OSError, TimeoutError) as exc:
        raise SimulationError(f"--scheduler: no Dask scheduler at {address!r} ({exc})") from exc
    with client:
        yield client.get_executor()  # type: ignore[no-untyped-call, unused-ignore]


def _simulate_with_progress(
    policy: "Policy",
    scenario: "Scenario",
    runs: int,
    seed: int,
    workers: int,
    executor: "Executor | None",
    show: bool,
    errors: "Console",
) -> "SimulationResult":
    from hirepipe.simulate import simulate

    if not show:
        return simulate(policy, scenario, runs, seed, workers=workers, executor=executor)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=errors, transient=True) as bar:
        task = bar.add_task("simulating", total=runs)
        return simulate(
            policy, scenario, runs, seed, workers=workers, executor=executor,
            progress=lambda done: bar.advance(task, done),
        )  # fmt: skip


# -- estimate ------------------------------------------------------------------------------------


@app.command("estimate", cls=_Command)
def estimate_command(
    interviewed: Annotated[str, typer.Option(metavar="YYYY-MM-DD", help="Day of the interview.")],
    industry: Annotated[str, typer.Option(help=_INDUSTRIES)] = "all_employers",
    company_size: Annotated[CompanySize, typer.Option(help="Company size.")] = CompanySize.medium,
    candidates: Annotated[int | None, typer.Option(min=1, help="Candidates under review.")] = None,
    country: Annotated[str, typer.Option(help="Country of the business calendar.")] = "US",
    subdivision: Annotated[
        str | None, typer.Option(help="State or region whose holidays count too.")
    ] = None,
    time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    as_of: Annotated[
        str | None,
        typer.Option(
            metavar="YYYY-MM-DD", help="Estimate as of this day (default: the interview)."
        ),
    ] = None,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Estimate when a candidate interviewed on a given day hears back and gets an offer."""
    from hirepipe.cli._inputs import (
        OptionError,
        check_calendar,
        check_industry,
        make_scenario,
        parse_day,
    )
    from hirepipe.cli._output import estimate_json, output_console, report_estimate
    from hirepipe.models import CompanySize as ModelCompanySize
    from hirepipe.timeline import TimelineEstimator

    with _errors_exit():
        held_on = parse_day(interviewed, "--interviewed")
        today = parse_day(as_of, "--as-of") if as_of is not None else held_on
        if today < held_on:
            raise OptionError(f"--as-of {today} is before the interview on {held_on}")
        estimator = TimelineEstimator()
        key = check_industry(industry, estimator.priors)
        make_scenario({"time_zone": time_zone})  # its checks say what is wrong with a zone
        check_calendar(country, subdivision, time_zone)
        found = _estimate(
            estimator, held_on, today, key, ModelCompanySize(company_size.value), candidates,
            country, subdivision, time_zone,
        )  # fmt: skip
        if json_output:
            print(estimate_json(found))
        else:
            report_estimate(output_console(), found, interviewed)


def _estimate(
    estimator: "TimelineEstimator",
    held_on: Any,
    today: Any,
    industry: str,
    company_size: "ModelCompanySize",
    candidates: int | None,
    country: str,
    subdivision: str | None,
    time_zone: str,
) -> "Estimate":
    import pendulum

    from hirepipe.models import Application, Band, Candidate, Interview, Requisition
    from hirepipe.timeline import Priors

    requisition = Requisition(  # the options were checked: this cannot refuse them
        id="req",
        title="Role",
        budget=Band(minimum=0, maximum=0, currency="USD"),
        industry=Priors.industry(estimator.priors, industry),
        company_size=company_size,
        country=country,
        subdivision=subdivision,
        time_zone=time_zone,
        hiring_manager="hiring-manager",
    )
    held = pendulum.datetime(held_on.year, held_on.month, held_on.day, 12, tz=time_zone)
    application = Application(
        id="application",
        candidate=Candidate(id="candidate", name="Candidate", email="candidate@example.com"),
        requisition_id=requisition.id,
        stage=estimator.policy.initial,
        created_at=held,
        interviews=(Interview(round=1, interviewers=(), held_at=held),),
    )
    now = pendulum.datetime(today.year, today.month, today.day, 12, tz=time_zone)
    return estimator.estimate(application, requisition, now, candidates_under_review=candidates)


# -- policies ------------------------------------------------------------------------------------

AllowImports = Annotated[
    list[str] | None,
    typer.Option(
        "--allow-imports",
        metavar="PACKAGE",
        help="A package whose guards and effects the file names by dotted path (repeatable).",
    ),
]
"""``--allow-imports``, as the commands that load a policy file take it."""


@app.command("validate", cls=_Command)
def validate_command(
    path: Annotated[str, typer.Argument(help="A policy file: TOML, YAML or JSON.")],
    allow_imports: AllowImports = None,
) -> None:
    """Check a policy file; list every problem it has, its stages' durations included."""
    from hirepipe.cli._inputs import load_policy
    from hirepipe.timeline import TimelineEstimator

    with _errors_exit():
        policy = load_policy(path, allow_imports or ())
        TimelineEstimator(policy=policy)  # a stage the estimator cannot time is named now
        events = sum(not e.is_activity for e in policy.events.values())
        print(
            f"{path}: valid, {policy.label}: {len(policy.stages)} stages, {events} events, "
            f"{len(policy.events) - events} activities, {len(policy.notifications)} "
            "notification rules"
        )


@app.command("diagram", cls=_Command)
def diagram_command(
    path: Annotated[str, typer.Argument(help="A policy file, or 'standard'.")],
    format: Annotated[
        DiagramFormat, typer.Option("--format", "-f", help="Diagram language.")
    ] = DiagramFormat.mermaid,
    allow_imports: AllowImports = None,
    option: StandardOptions = None,
) -> None:
    """Draw a policy's lifecycle as Mermaid or Graphviz dot."""
    from hirepipe.cli._inputs import load_policy

    with _errors_exit():
        policy = load_policy(path, allow_imports or (), options=_option_names(option))
        print(policy.to_mermaid() if format is DiagramFormat.mermaid else policy.to_dot(), end="")


@app.command("paths", cls=_Command)
def paths_command(
    path: Annotated[str, typer.Argument(help="A policy file, or 'standard'.")],
    to: Annotated[
        list[str] | None,
        typer.Option(metavar="STAGE", help="Only paths ending in this stage (repeatable)."),
    ] = None,
    allow_imports: AllowImports = None,
    option: StandardOptions = None,
) -> None:
    """List every simple path through a policy, from the first stage to an end."""
    from hirepipe.cli._inputs import check_stages, load_policy
    from hirepipe.policy import paths as policy_paths

    with _errors_exit():
        policy = load_policy(path, allow_imports or (), options=_option_names(option))
        check_stages(policy, to or (), "--to")
        found = policy_paths(policy, to=to or None)
        for way in found:
            print(way)
        print(f"{len(found)} path{'s' if len(found) != 1 else ''}")


@app.command("events", cls=_Command)
def events_command(
    path: Annotated[
        str, typer.Argument(help="A policy file, or 'standard'.", show_default=True)
    ] = "standard",
    format: Annotated[
        TableFormat,
        typer.Option("--format", "-f", help="A table, the docs' Markdown, or JSON."),
    ] = TableFormat.table,
    allow_imports: AllowImports = None,
    option: StandardOptions = None,
) -> None:
    """List a policy's events: from, to, data fields, guards, blocker codes, notifications."""
    from hirepipe.cli import _events
    from hirepipe.cli._inputs import load_policy
    from hirepipe.cli._output import events_table, output_console

    with _errors_exit():
        policy = load_policy(path, allow_imports or (), options=_option_names(option))
        rows = _events.event_table(policy)
        if format is TableFormat.markdown:
            print(_events.to_markdown(rows), end="")
        elif format is TableFormat.json:
            print(_events.to_json(rows))
        else:
            output_console().print(events_table(rows))


@app.command("report", cls=_Command)
def report_command(
    source: Annotated[
        str,
        typer.Argument(
            help="A store's database URL (sqlite:///hiring.db) or a JSON export with the "
            "lists 'requisitions' and 'applications'."
        ),
    ],
    policy_source: Annotated[
        str, typer.Option("--policy", help="The policy the histories ran under: a file.")
    ] = "standard",
    table: Annotated[
        list[ReportTable] | None,
        typer.Option("--table", "-t", help="Only this table (repeatable); all by default."),
    ] = None,
    format: Annotated[
        ReportFormat, typer.Option("--format", "-f", help="Tables, JSON, or CSV (one table).")
    ] = ReportFormat.table,
    requisition: Annotated[
        str | None, typer.Option(metavar="ID", help="Only this requisition's applications.")
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="MOMENT",
            help="Judge running service levels at this moment (ISO 8601 with its offset); "
            "without it only ended stays count.",
        ),
    ] = None,
    plot: Annotated[
        Path | None, typer.Option(metavar="PNG", help="Also draw conversion and time in stage.")
    ] = None,
    allow_imports: AllowImports = None,
) -> None:
    """Report stored histories: conversion, time in stage, rejections, breaches, calibration."""
    from hirepipe.cli import _report
    from hirepipe.cli._inputs import OptionError, load_policy, parse_moment
    from hirepipe.cli._output import output_console
    from hirepipe.reports import calibration, funnel

    with _errors_exit():
        names = [str(t) for t in table] if table else list(_report.REPORT_TABLES)
        if format is ReportFormat.csv and len(names) != 1:
            raise OptionError("--format csv writes one table: name it with --table")
        now = parse_moment(as_of, "--as-of") if as_of is not None else None
        policy = load_policy(policy_source, allow_imports or ())
        applications, requisitions = _report.load_histories(source)
        if requisition is not None:
            applications = [a for a in applications if a.requisition_id == requisition]
        report = funnel(applications, requisitions, policy, now=now)
        calibrated = calibration(applications, policy) if "calibration" in names else None
        tables = {
            name: _report.table_rows(report, calibrated, name)
            for name in _report.REPORT_TABLES
            if name in names
        }
        if format is ReportFormat.json:
            print(_report.report_json(report, tables))
        elif format is ReportFormat.csv:
            ((name, rows),) = tables.items()
            print(_report.to_csv(name, rows), end="")
        else:
            console = output_console()
            console.print(f"{report.applications:,} applications under {report.policy}")
            for drawn in _report.report_tables(tables):
                console.print(drawn)
        if plot is not None:
            _report.draw_report(report, plot)
            print(f"plot written to {plot}", file=sys.stderr)
