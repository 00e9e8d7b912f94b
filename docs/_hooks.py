"""MkDocs hooks: the parts of the docs generated from hirepipe itself, so they cannot drift.

A page asks for a part with a marker on a line of its own, ``<!-- hirepipe:events -->``; the
build replaces it with what the code says now. An unknown marker fails the build.

- ``diagram``: the standard lifecycle, ``standard_policy().to_mermaid()``
- ``diagram-options``: the standard lifecycle with every option of ``STANDARD_OPTIONS`` on
- ``stages``: the standard policy's stages, their kinds and the events from each
- ``events``: every event of the standard policy (``hirepipe events standard -f markdown``)
- ``engine-blockers``: the blocker codes the engine gives for any event
- ``rejection-reasons``: the standard rejection taxonomy
- ``priors``: the estimator's published figures and their sources
- ``cli``: every command of the ``hirepipe`` command line, its options and their defaults
- ``top-level``: the names ``import hirepipe`` offers, linked to their reference
- ``background-diagram``: the standard lifecycle with the background check on
- ``background-events``: the events the background-check option adds or changes
"""

from __future__ import annotations

import enum
import re
import types
import typing
from collections.abc import Callable
from typing import Any

from hirepipe import standard
from hirepipe.cli._events import ENGINE_BLOCKERS, event_table, to_markdown
from hirepipe.standard import STANDARD_OPTIONS, STANDARD_REJECTION_REASONS, standard_policy

MARKER = re.compile(r"^<!-- hirepipe:([a-z-]+) -->$", re.MULTILINE)

REFERENCE_MODULES = (
    "hirepipe.pipeline",
    "hirepipe.models",
    "hirepipe.errors",
    "hirepipe.policy",
    "hirepipe.standard",
    "hirepipe.slate",
    "hirepipe.positions",
    "hirepipe.timeline",
    "hirepipe.notify",
    "hirepipe.store",
    "hirepipe.simulate",
    "hirepipe.reports",
    "hirepipe.privacy",
    "hirepipe.testing",
    "hirepipe.clock",
)
"""The modules the API reference documents, each on a page of its own."""


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Replace every marker of the page with the part it names."""

    def part(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in PARTS:
            raise ValueError(f"unknown docs marker hirepipe:{name}; known: {', '.join(PARTS)}")
        return PARTS[name]().rstrip("\n")

    return MARKER.sub(part, markdown)


def diagram() -> str:
    return f"```mermaid\n{standard_policy().to_mermaid()}```"


def diagram_options() -> str:
    """The standard lifecycle with every option of ``STANDARD_OPTIONS`` on."""
    everything = standard_policy(**dict.fromkeys(STANDARD_OPTIONS, True))
    return f"```mermaid\n{everything.to_mermaid()}```"


def stages() -> str:
    policy = standard_policy()
    lines = ["| stage | kind | meaning | events from it |", "| --- | --- | --- | --- |"]
    for name, spec in policy.stages.items():
        events = ", ".join(
            f"[`{e}`](../reference/events.md#{e})"
            for e in policy.events_from(name)
            if not policy.events[e].is_activity
        )
        lines.append(f"| `{name}` | {spec.kind} | {spec.description} | {events or '-'} |")
    return "\n".join(lines)


def events() -> str:
    text = to_markdown(event_table(standard_policy()))
    for name in standard.__all__:  # the data models link to their reference
        if name.endswith("Data"):
            text = text.replace(f"(`{name}`)", f"([`{name}`][hirepipe.standard.{name}])")
    return text


def background_diagram() -> str:
    return f"```mermaid\n{standard_policy(background_check=True).to_mermaid()}```"


def background_events() -> str:
    policy = standard_policy(background_check=True)
    plain = standard_policy()
    changed = [
        row
        for row in event_table(policy)
        if row.name not in plain.events or policy.events[row.name] != plain.events[row.name]
    ]
    text = to_markdown(changed, heading="###")
    for name in standard.__all__:
        if name.endswith("Data"):
            text = text.replace(f"(`{name}`)", f"([`{name}`][hirepipe.standard.{name}])")
    return text


def engine_blockers() -> str:
    lines = ["| code | when |", "| --- | --- |"]
    lines += [f"| `{code}` | {when} |" for code, when in ENGINE_BLOCKERS.items()]
    return "\n".join(lines)


def rejection_reasons() -> str:
    lines = ["| reason | side |", "| --- | --- |"]
    lines += [f"| `{r}` | {side} |" for r, side in STANDARD_REJECTION_REASONS.items()]
    return "\n".join(lines)


def priors() -> str:
    from hirepipe.timeline import Priors

    found = Priors.load()
    lines = [
        "| industry | mean business days, interview to offer | also accepted as |",
        "| --- | --- | --- |",
    ]
    for industry, mean in found.industries.items():
        aliases = ", ".join(f"`{a}`" for a, key in found.aliases.items() if key == industry)
        lines.append(f"| `{industry}` | {mean:g} | {aliases or '-'} |")
    lines += [
        "",
        f"The offer decision window (offer to answer) is {found.offer_decision:g} business days.",
        "",
        "| figure | source | year | unit | measures | assumption | note |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, source in found.sources.items():
        lines.append(
            f"| `{name}` | {source.source or '-'} | {source.year or '-'} | {source.unit} | "
            f"{source.measures or '-'} | {'yes' if source.assumption else 'no'} | "
            f"{source.note or '-'} |"
        )
    return "\n".join(lines)


def cli() -> str:
    """Read the commands from the typer app's functions: their options, types and help."""
    import inspect
    import typing

    from typer.models import ArgumentInfo, OptionInfo

    from hirepipe.cli._app import app

    lines: list[str] = []
    for command in app.registered_commands:
        function = command.callback
        hints = typing.get_type_hints(function, include_extras=True)
        lines += [f"## hirepipe {command.name}", "", inspect.getdoc(function) or "", ""]
        lines += ["| argument or option | value | default | meaning |", "| --- | --- | --- | --- |"]
        for name, parameter in inspect.signature(function).parameters.items():
            base, *extras = typing.get_args(hints[name])
            info = next(e for e in extras if isinstance(e, OptionInfo | ArgumentInfo))
            flag = base is bool or base == bool | None
            declared = tuple(info.param_decls or ())
            if isinstance(info.default, str) and info.default.startswith("-"):
                declared = (info.default, *declared)  # Annotated[..., typer.Option("--json")]
            if isinstance(info, ArgumentInfo):
                names = f"`{name.upper()}`"
            elif declared:
                names = " / ".join(f"`{d}`" for d in declared)
            else:
                option = f"--{name.replace('_', '-')}"
                names = f"`{option}` / `--no-{option[2:]}`" if flag else f"`{option}`"
            default = parameter.default
            empty = default is None or default is False or default is parameter.empty
            shown = "" if empty else f"`{_plain(default)}`"
            meaning = (info.help or "").replace("|", "\\|")
            lines.append(f"| {names} | {_kind(base, info, flag)} | {shown} | {meaning} |")
        lines.append("")
    return "\n".join(lines)


def _unoptional(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    return args[0] if typing.get_origin(annotation) in (typing.Union, types.UnionType) else annotation


def _kind(annotation: Any, info: Any, flag: bool) -> str:
    if flag:
        return "flag"
    if info.metavar:
        return f"`{info.metavar}`"
    base = _unoptional(annotation)
    if typing.get_origin(base) is list:
        base = typing.get_args(base)[0]
    if isinstance(base, type) and issubclass(base, enum.Enum):
        return " \\| ".join(f"`{m.value}`" for m in base)
    return f"`{getattr(base, '__name__', base)}`"


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else value


def top_level() -> str:
    import importlib

    import hirepipe

    homes = {}
    for module_name in REFERENCE_MODULES:
        module = importlib.import_module(module_name)
        for name in getattr(module, "__all__", ()):
            homes.setdefault(id(getattr(module, name)), f"{module_name}.{name}")
    lines = ["| name | documented in |", "| --- | --- |"]
    for name in hirepipe.__all__:
        if name.startswith("_"):
            continue
        home = homes.get(id(getattr(hirepipe, name)))
        if home is None:
            raise ValueError(f"hirepipe.{name} is documented on no reference page")
        lines.append(f"| [`{name}`][{home}] | `{home.rpartition('.')[0]}` |")
    return "\n".join(lines)


PARTS: dict[str, Callable[[], str]] = {
    "diagram": diagram,
    "diagram-options": diagram_options,
    "stages": stages,
    "events": events,
    "engine-blockers": engine_blockers,
    "rejection-reasons": rejection_reasons,
    "priors": priors,
    "cli": cli,
    "top-level": top_level,
    "background-diagram": background_diagram,
    "background-events": background_events,
}
