"""A policy's events as a reference table: what ``hirepipe events`` prints and the docs show.

Built from the policy itself (nothing is written by hand, so it cannot drift):

```python
from hirepipe.cli._events import event_table, to_markdown

rows = event_table(standard_policy())
rows[0].name, rows[0].sources, rows[0].dest  # ('start_debrief', ('interviewed',), 'debrief')
print(to_markdown(rows))
```

Needs neither typer nor rich. The blocker codes of a guard are read from its source: the
string literals passed to [`Blocker`][hirepipe.errors.Blocker] in the guard and in the functions
it calls. A guard whose source is not available, or whose codes are computed, lists the codes
that could be read ("where known").
"""

from __future__ import annotations

import ast
import inspect
import json
import textwrap
import types
import typing
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from enum import Enum
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from hirepipe.errors import Blocker
from hirepipe.policy import ACTIVE, ANY, OPEN, PREVIOUS, EventSpec, Policy

__all__ = [
    "ENGINE_BLOCKERS",
    "DataField",
    "EventRow",
    "GuardRow",
    "NotificationRow",
    "blocker_codes",
    "event_table",
    "to_json",
    "to_markdown",
]

SELECTORS = {
    ANY: "any stage",
    OPEN: "any open stage",
    ACTIVE: "any active stage",
    PREVIOUS: "the stage it left",
}
"""How the source selectors and the ``resume`` destination read (as in the diagrams)."""

ENGINE_BLOCKERS: dict[str, str] = {
    "wrong_stage": "the event does not fire from the application's stage",
    "data_missing": "Pipeline.blockers was asked without a field the event requires",
    "requisition_required": "the event reads or changes the requisition (the roles of the "
    "people who may fire it included): pass requisition=...",
    "not_permitted": "the actor holds none of the roles that may fire the event",
    "acting_for_another": "the event's data names someone other than the actor",
    "on_behalf_not_allowed": "nobody may fire the event for someone else",
    "hold_origin_unknown": "resume found no record of the stage the hold began in",
}
"""Blocker codes the engine itself gives, for any event, besides its guards' codes."""

_MAX_DEPTH = 4  # guard -> helper -> helper...: deep enough for the standard guards


@dataclass(frozen=True, slots=True)
class DataField:
    """A field of an event's data: its keyword, its type, and its default (or required)."""

    name: str
    type: str
    required: bool
    default: str


@dataclass(frozen=True, slots=True)
class GuardRow:
    """A guard of an event: its name, what it checks, and the blocker codes it can give."""

    name: str
    description: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NotificationRow:
    """A notification rule an event triggers (by its name, or by the stage it leads to)."""

    name: str
    to: str
    template: str
    description: str


@dataclass(frozen=True, slots=True)
class EventRow:
    """One event of a policy, everything a caller of ``fire`` needs to know about it."""

    name: str
    activity: bool
    sources: tuple[str, ...]
    dest: str | None
    description: str
    fired_by: tuple[str, ...]
    on_behalf: tuple[str, ...]
    data_model: str
    data: tuple[DataField, ...]
    guards: tuple[GuardRow, ...]
    notifications: tuple[NotificationRow, ...]

    @property
    def source_text(self) -> str:
        """The stages it fires from, selectors in words."""
        return ", ".join(SELECTORS.get(s, s) for s in self.sources)

    @property
    def fired_by_text(self) -> str:
        """Who may fire it, by role, and who may fire it for them."""
        text = ", ".join(role.replace("_", " ") for role in self.fired_by)
        if self.on_behalf:
            others = ", ".join(role.replace("_", " ") for role in self.on_behalf)
            text += f" (for them: {others})"
        return text

    @property
    def dest_text(self) -> str:
        """Where it leads: a stage, "the stage it left", or "(no stage change)"."""
        if self.dest is None:
            return "(no stage change)"
        return SELECTORS.get(self.dest, self.dest)


def event_table(policy: Policy) -> list[EventRow]:
    """Return a row for every event of ``policy`` (activities included), in policy order."""
    return [_row(policy, spec) for spec in policy.events.values()]


def _row(policy: Policy, spec: EventSpec) -> EventRow:
    model = spec.data_model
    fields = tuple(_field(name, info) for name, info in model.model_fields.items())
    guards = tuple(GuardRow(g.name, g.description, blocker_codes(g.check)) for g in spec.guards)
    entered = set() if spec.dest is None else set(policy.destinations(spec.name))
    rules = [
        rule
        for rule in policy.notifications
        if spec.name in rule.events or (entered and entered & set(rule.stages))
    ]
    notifications = tuple(
        NotificationRow(rule.name, str(rule.to), rule.template, rule.description) for rule in rules
    )
    return EventRow(
        name=spec.name,
        activity=spec.is_activity,
        sources=spec.sources,
        dest=spec.dest,
        description=spec.description,
        fired_by=tuple(str(role) for role in spec.fired_by),
        on_behalf=tuple(str(role) for role in spec.on_behalf),
        data_model=model.__name__,
        data=fields,
        guards=guards,
        notifications=notifications,
    )


def _field(name: str, info: FieldInfo) -> DataField:
    if info.is_required():
        return DataField(name, type_name(info.annotation), True, "required")
    if info.default_factory is not None:
        factory = typing.cast(Callable[[], Any], info.default_factory)
        default = factory()
    else:
        default = info.default
    return DataField(name, type_name(info.annotation), False, _value(default))


def _value(value: Any) -> str:
    if value is None or value is PydanticUndefined:
        return "None"
    if isinstance(value, Enum):
        return repr(value.value)
    return repr(value)


def type_name(annotation: Any) -> str:
    """Name a field's type as a caller writes it: ``Decimal | None``, ``list[str]``."""
    if annotation is None or annotation is type(None):
        return "None"
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return type_name(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(arg) for arg in typing.get_args(annotation))
    if origin is typing.Literal:
        return " | ".join(repr(arg) for arg in typing.get_args(annotation))
    if origin is not None:
        args = ", ".join(type_name(arg) for arg in typing.get_args(annotation))
        return f"{getattr(origin, '__name__', str(origin))}[{args}]"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return f"{annotation.__name__} ({' | '.join(str(m.value) for m in annotation)})"
    if isinstance(annotation, type):
        # pendulum's DateTime is a datetime: callers pass any aware datetime
        return "datetime" if annotation.__name__ == "DateTime" else annotation.__name__
    return str(annotation)


# -- blocker codes, read from the guards' source ------------------------------------------------


def blocker_codes(check: Callable[..., Any]) -> tuple[str, ...]:
    """Return the blocker codes ``check`` can give, as far as its source shows them.

    Reads the first argument (or ``code=``) of every ``Blocker(...)`` call written as a string
    literal, in ``check`` and, four calls deep, in the plain functions it calls. Codes built
    at run time, and guards without source (a C function, a lambda typed at a prompt), are
    not found: the result is then incomplete, never wrong.
    """
    found: dict[str, None] = {}
    _scan(check, found, set(), 0)
    return tuple(found)


def _scan(
    function: Callable[..., Any], found: dict[str, None], seen: set[object], depth: int
) -> None:
    function = inspect.unwrap(function)
    code = getattr(function, "__code__", None)
    if code is None or code in seen or depth > _MAX_DEPTH:
        return
    seen.add(code)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):  # no source, or a lambda cut out of its line
        return
    names: dict[str, Any] = dict(getattr(function, "__globals__", {}))
    calls = sorted(
        (node for node in ast.walk(tree) if isinstance(node, ast.Call)),
        key=lambda node: (node.lineno, node.col_offset),
    )
    for call in calls:
        target = _callee(call.func, names)
        if target is Blocker:
            literal = call.args[0] if call.args else _keyword(call, "code")
            if isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                found[literal.value] = None
        elif inspect.isfunction(target):
            _scan(target, found, seen, depth + 1)


def _callee(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return getattr(names.get(node.value.id), node.attr, None)
    return None


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


# -- rendering ----------------------------------------------------------------------------------


def _code(text: str) -> str:
    return f"`{text}`"


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return text.replace("|", "\\|").replace("\n", " ")


def _sentence(row: EventRow) -> str:
    text = row.description.strip().rstrip(".")
    return f"{text[:1].upper()}{text[1:]}." if text else ""


def to_markdown(rows: Sequence[EventRow], *, heading: str = "##") -> str:
    """Return the table as Markdown: a summary table, then a section per event.

    Every section heading is the event's name, so a page can link to ``#extend_offer``.
    """
    lines = [
        "| event | from | to | fired by | guards |",
        "| --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        guards = ", ".join(_code(g.name) for g in row.guards) or "none"
        lines.append(
            f"| [{_code(row.name)}](#{row.name}) | {_cell(row.source_text)} | "
            f"{_cell(row.dest_text)} | {_cell(row.fired_by_text)} | {guards} |"
        )
    for row in rows:
        kind = "activity" if row.activity else "transition"
        lines += [
            "",
            f"{heading} {row.name}",
            "",
            f"*{kind}*: {_cell(row.source_text)} → {_cell(row.dest_text)}. {_sentence(row)}",
            "",
            f"Fired by: {_cell(row.fired_by_text)}.",
            "",
        ]
        if row.data:
            lines += [
                f"Data (`{row.data_model}`), keyword arguments of `fire`:",
                "",
                "| field | type | default |",
                "| --- | --- | --- |",
            ]
            for data in row.data:
                default = "**required**" if data.required else _code(data.default)
                lines.append(f"| `{data.name}` | {_cell(data.type)} | {default} |")
        else:
            lines.append("Data: none (`NoData`); only `actor`, `reason` and `requisition`.")
        lines.append("")
        if row.guards:
            lines.append("Guards:")
            lines.append("")
            for guard in row.guards:
                codes = ", ".join(_code(c) for c in guard.codes) or "none known"
                lines.append(f"- `{guard.name}`: {guard.description}. Blocker codes: {codes}.")
        else:
            lines.append("Guards: none.")
        lines.append("")
        if row.notifications:
            lines.append("Notifications:")
            lines.append("")
            lines += [
                f"- `{n.name}` to the {n.to.replace('_', ' ')} (template `{n.template}`): "
                f"{n.description}."
                for n in row.notifications
            ]
        else:
            lines.append("Notifications: none.")
    return "\n".join(lines) + "\n"


def to_json(rows: Sequence[EventRow]) -> str:
    """Return the table as JSON: a list of events, each with its data, guards and rules."""
    return json.dumps([asdict(row) for row in rows], indent=2)
