"""The ``hirepipe`` command line: simulate, estimate, validate, draw and walk policies.

Needs the ``cli`` extra (``pip install 'hirepipe[cli]'``: typer and rich); ``--plot`` needs the
``plot`` extra (matplotlib). Without typer and rich, ``hirepipe`` says which extra to install.
Every command has ``--help``; every error prints one line on stderr and exits non-zero (1 for
a problem with the input, 2 for a command line that does not parse). What the commands print
is drawn by :mod:`hirepipe.cli._output`.
"""

# No ``from __future__ import annotations`` here: typer reads the commands' annotations at
# run time, and they name ``typer``, which is imported only inside build_app (the extra).
import math
import sys
from collections.abc import Callable, Sequence
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import pendulum
from pydantic import ValidationError

from hirepipe.cli._output import draw, report_estimate, report_simulation
from hirepipe.errors import HirepipeError, PolicyError
from hirepipe.models import Application, Band, Candidate, CompanySize, Interview, Requisition
from hirepipe.policy import Policy
from hirepipe.policy._paths import paths as policy_paths
from hirepipe.simulate import Scenario, SimulationResult, simulate
from hirepipe.timeline.estimate import Estimate, Priors, TimelineEstimator

if TYPE_CHECKING:
    import typer
    from rich.console import Console

__all__ = ["main"]

INSTALL_CLI = "pip install 'hirepipe[cli]'"


class DiagramFormat(StrEnum):
    """The diagram languages ``hirepipe diagram`` writes."""

    mermaid = "mermaid"
    dot = "dot"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit code."""
    try:
        app = build_app()
    except ImportError as exc:
        missing = exc.name or "typer"
        print(
            f"hirepipe: the command line needs the 'cli' extra ({missing} is not installed): "
            f"{INSTALL_CLI}",
            file=sys.stderr,
        )
        return 1
    return _run(app, list(sys.argv[1:] if argv is None else argv))


def _run(app: "typer.Typer", argv: list[str]) -> int:
    import typer

    command = typer.main.get_command(app)
    try:
        result = command.main(args=argv, prog_name="hirepipe", standalone_mode=False)
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


def _error(message: str) -> None:
    print(f"hirepipe: error: {' '.join(message.split())}", file=sys.stderr)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, PolicyError):
        count = len(exc.problems)
        listed = "; ".join(str(problem) for problem in exc.problems)
        return f"the policy has {count} problem{'s' if count != 1 else ''}: {listed}"
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'input'}: "
            + error["msg"].removeprefix("Value error, ")
            for error in exc.errors()
        )
    return str(exc)


def _guarded(work: Callable[[], None]) -> None:
    """Run a command's work; turn the errors users cause into one line and exit code 1."""
    import typer

    try:
        work()
    except (HirepipeError, ValidationError, OSError, ValueError) as exc:
        _error(_one_line(exc))
        raise typer.Exit(1) from None
    except ImportError as exc:
        _error(str(exc))
        raise typer.Exit(1) from None


def _policy(source: str, allow_imports: Sequence[str] = ()) -> Policy:
    """The policy in file ``source``; ``standard`` (with no such file) is the standard policy.

    ``allow_imports`` names packages whose guards and effects the file may name by dotted path
    (``acme.hiring.guards:assessment_passed``); the current directory is importable.
    """
    registry = None
    if allow_imports:
        from hirepipe.policy import Registry
        from hirepipe.standard import standard_registry

        # checked first, whatever the file: a bad --allow-imports is an error on its own
        registry = standard_registry().merged(Registry(allow_imports=allow_imports))
        if "" not in sys.path:
            sys.path.insert(0, "")  # a company's own package, run from its checkout
    if source == "standard" and not Path(source).exists():
        from hirepipe.standard import standard_policy

        return standard_policy()
    return Policy.from_file(source, registry=registry)


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{option} takes a date as YYYY-MM-DD, not {text!r}") from None


def _pairs(items: Sequence[str], option: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for item in items:
        stage, sep, value = item.partition("=")
        try:
            days = float(value)
        except ValueError:
            sep = ""
        if not sep or not stage.strip():
            raise ValueError(f"{option} takes stage=business-days, like approval=5; not {item!r}")
        if not math.isfinite(days):
            raise ValueError(f"{option} takes a finite number of business days: not {item!r}")
        found[stage.strip()] = days
    return found


def build_app() -> "typer.Typer":
    """Build the typer application (imports typer and rich: the ``cli`` extra)."""
    import typer
    from rich.console import Console

    app = typer.Typer(
        name="hirepipe",
        help="The rules of what happens after a job interview: simulate, estimate, check.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.command("simulate")
    def simulate_command(
        industry: Annotated[str, typer.Option(help="Industry of the priors.")] = "all_employers",
        company_size: Annotated[CompanySize, typer.Option(help="Company size.")] = (
            CompanySize.medium
        ),
        candidates: Annotated[int, typer.Option(help="Candidates interviewed.")] = 3,
        headcount: Annotated[int, typer.Option(help="People to hire.")] = 1,
        rounds: Annotated[int, typer.Option(help="Interview rounds before an offer.")] = 1,
        approvers: Annotated[int, typer.Option(help="Approvers of every offer.")] = 1,
        availability: Annotated[
            float, typer.Option(help="Chance an approver is at work when needed.")
        ] = 1.0,
        extra_days: Annotated[
            list[str] | None,
            typer.Option(help="Add business days to a stage: approval=5 (repeatable)."),
        ] = None,
        stage_days: Annotated[
            list[str] | None,
            typer.Option(help="Replace a stage's mean business days: review=4 (repeatable)."),
        ] = None,
        periodic_updates: Annotated[
            bool, typer.Option(help="Send a status update whenever one falls due.")
        ] = False,
        country: Annotated[str, typer.Option(help="Country of the business calendar.")] = "US",
        time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
        start: Annotated[
            str | None, typer.Option(help="Day of the interviews, YYYY-MM-DD.")
        ] = None,
        policy: Annotated[
            str, typer.Option(help="A policy file (TOML, YAML, JSON) or 'standard'.")
        ] = "standard",
        runs: Annotated[int, typer.Option(help="Requisitions to simulate.")] = 1_000,
        seed: Annotated[int, typer.Option(help="Seed: the same seed, the same result.")] = 0,
        workers: Annotated[int, typer.Option(help="Processes to run in.")] = 1,
        json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
        plot: Annotated[
            Path | None, typer.Option(help="Draw the distributions to this PNG (plot extra).")
        ] = None,
        progress: Annotated[
            bool | None,
            typer.Option(help="Show a progress bar (default: when stderr is a terminal)."),
        ] = None,
    ) -> None:
        """Simulate requisitions through the real rules; show when offers and hires happen."""

        def work() -> None:
            fields: dict[str, Any] = {
                "industry": industry,
                "company_size": company_size,
                "candidates": candidates,
                "headcount": headcount,
                "rounds": rounds,
                "approvers": approvers,
                "approver_availability": availability,
                "extra_days": _pairs(extra_days or [], "--extra-days"),
                "stage_days": _pairs(stage_days or [], "--stage-days"),
                "periodic_updates": periodic_updates,
                "country": country,
                "time_zone": time_zone,
            }
            if start is not None:
                fields["start"] = _date(start, "--start")
            scenario = Scenario(**fields)
            chosen = _policy(policy)
            errors = Console(stderr=True)
            show = (errors.is_terminal and not json) if progress is None else progress
            result = _simulate_with_progress(chosen, scenario, runs, seed, workers, show, errors)
            if plot is not None:
                draw(result, plot)
            if json:
                print(result.to_json(records=False, indent=2))
            else:
                report_simulation(Console(), result, plot)

        _guarded(work)

    @app.command("estimate")
    def estimate_command(
        interviewed: Annotated[str, typer.Option(help="Day of the interview, YYYY-MM-DD.")],
        industry: Annotated[str, typer.Option(help="Industry of the priors.")] = "all_employers",
        company_size: Annotated[CompanySize, typer.Option(help="Company size.")] = (
            CompanySize.medium
        ),
        candidates: Annotated[int | None, typer.Option(help="Candidates under review.")] = None,
        country: Annotated[str, typer.Option(help="Country of the business calendar.")] = "US",
        subdivision: Annotated[
            str | None, typer.Option(help="State or region whose holidays count too.")
        ] = None,
        time_zone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
        as_of: Annotated[
            str | None, typer.Option(help="Estimate as of this day (default: the interview).")
        ] = None,
        json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
    ) -> None:
        """Estimate when a candidate interviewed on a given day hears back and gets an offer."""

        def work() -> None:
            found = _estimate(
                interviewed, industry, company_size, candidates, country, subdivision, time_zone,
                as_of,
            )  # fmt: skip
            if json:
                print(found.to_json())
            else:
                report_estimate(Console(), found, interviewed)

        _guarded(work)

    @app.command("validate")
    def validate_command(
        path: Annotated[str, typer.Argument(help="A policy file: TOML, YAML or JSON.")],
        allow_imports: Annotated[
            list[str] | None,
            typer.Option(
                "--allow-imports",
                help="A package whose guards and effects the file names by dotted path "
                "(repeatable).",
            ),
        ] = None,
    ) -> None:
        """Check a policy file; list every problem it has."""

        def work() -> None:
            policy = _policy(path, allow_imports or ())
            events = sum(not e.is_activity for e in policy.events.values())
            print(
                f"{path}: valid, {policy.label}: {len(policy.stages)} stages, {events} events, "
                f"{len(policy.events) - events} activities, {len(policy.notifications)} "
                "notification rules"
            )

        _guarded(work)

    @app.command("diagram")
    def diagram_command(
        path: Annotated[str, typer.Argument(help="A policy file, or 'standard'.")],
        format: Annotated[
            DiagramFormat, typer.Option("--format", "-f", help="Diagram language.")
        ] = DiagramFormat.mermaid,
    ) -> None:
        """Draw a policy's lifecycle as Mermaid or Graphviz dot."""

        def work() -> None:
            policy = _policy(path)
            print(policy.to_mermaid() if format is DiagramFormat.mermaid else policy.to_dot())

        _guarded(work)

    @app.command("paths")
    def paths_command(
        path: Annotated[str, typer.Argument(help="A policy file, or 'standard'.")],
        to: Annotated[
            list[str] | None, typer.Option(help="Only paths ending in this stage (repeatable).")
        ] = None,
    ) -> None:
        """List every simple path through a policy, from the first stage to an end."""

        def work() -> None:
            found = policy_paths(_policy(path), to=to or None)
            for way in found:
                print(way)
            print(f"{len(found)} path{'s' if len(found) != 1 else ''}")

        _guarded(work)

    return app


# -- simulate ------------------------------------------------------------------------------------


def _simulate_with_progress(
    policy: Policy,
    scenario: Scenario,
    runs: int,
    seed: int,
    workers: int,
    show: bool,
    console: "Console",
) -> SimulationResult:
    if not show:
        return simulate(policy, scenario, runs, seed, workers=workers)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("simulating", total=runs)
        return simulate(
            policy, scenario, runs, seed, workers=workers,
            progress=lambda done: bar.advance(task, done),
        )  # fmt: skip


# -- estimate ------------------------------------------------------------------------------------


def _estimate(
    interviewed: str,
    industry: str,
    company_size: CompanySize,
    candidates: int | None,
    country: str,
    subdivision: str | None,
    time_zone: str,
    as_of: str | None,
) -> Estimate:
    held_on = _date(interviewed, "--interviewed")
    today = _date(as_of, "--as-of") if as_of is not None else held_on
    if today < held_on:
        raise ValueError(f"--as-of {today} is before the interview on {held_on}")
    Scenario(time_zone=time_zone)  # the scenario's checks say what is wrong with a zone
    estimator = TimelineEstimator()
    requisition = Requisition(
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
