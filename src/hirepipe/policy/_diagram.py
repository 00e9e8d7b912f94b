"""Render a policy as a Mermaid state diagram or a Graphviz graph.

Events that fire from a selector (every open stage, every active stage) are drawn once, from a
pseudo-state that names the selector, rather than once per stage; ``resume`` leads to a
pseudo-state "the stage it left". Activities change no stage and are left out.

Stage roles show: in Mermaid as classes (``classDef role_in_flight``...), in DOT as filled nodes
with the role under the name.

Names come from policy files, so they are escaped: whatever a name holds (quotes, newlines,
brackets, ``[*]``, a keyword), each stage is one node and each line one statement:

```python
standard_policy().with_stage('say "hi"', after="debrief").to_mermaid()
# ...    state "say #34;hi#34;" as stage ...    debrief --> stage: complete_debrief
```
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from hirepipe.policy._roles import StageRole
from hirepipe.policy._specs import ACTIVE, ANY, OPEN, PREVIOUS, EventSpec

if TYPE_CHECKING:
    from hirepipe.policy._policy import Policy

__all__ = ["to_dot", "to_mermaid"]

_PSEUDO = {
    OPEN: ("any_open_stage", "any open stage"),
    ACTIVE: ("any_active_stage", "any active stage"),
    ANY: ("any_stage", "any stage"),
    PREVIOUS: ("previous_stage", "the stage it left"),
}

_MERMAID_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MERMAID_KEYWORDS = frozenset(
    {
        "accdescr", "acctitle", "as", "choice", "class", "classdef", "click", "default",
        "direction", "end", "fork", "hide", "join", "left", "note", "of", "right", "scale",
        "state", "style",
    }
)  # fmt: skip
"""Words Mermaid's state diagrams read as syntax: a stage so named gets an id of its own."""


def _mermaid_text(text: str) -> str:
    """Escape text for a Mermaid label: all but letters, digits and a few marks as ``#N;``."""
    return "".join(c if c.isalnum() or c in " _.,()'" else f"#{ord(c)};" for c in text)


def _dot_text(text: str) -> str:
    """Escape text for a quoted DOT string: backslash, quote, ``&`` and control characters."""
    escaped = text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    return re.sub(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]", lambda m: f"&#{ord(m[0])};", escaped)


def _fresh(base: str, taken: set[str]) -> str:
    """Return ``base``, or ``base_2``, ``base_3``..., whichever is not taken yet; take it."""
    name, number = base, 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    taken.add(name)
    return name


def _node_ids(policy: Policy, plain: Callable[[str], bool], start: str | None) -> dict[str, str]:
    """Return an id for every stage, selector and (with ``start``) the start node.

    A stage whose name ``plain`` accepts keeps it; the others, the pseudo-states and the start
    node get ids no stage name has, so no two nodes ever merge.
    """
    ids = {name: name for name in policy.stages if plain(name)}
    taken = set(ids)
    for name in policy.stages:
        if name not in ids:
            ids[name] = _fresh("stage", taken)
    for selector, (key, _text) in _PSEUDO.items():
        ids[selector] = _fresh(key, taken)
    if start is not None:
        ids[""] = _fresh(start, taken)  # "" is never a stage name
    return ids


def _label(event: EventSpec, escape: Callable[[str], str]) -> str:
    guards = ", ".join(escape(g.name) for g in event.guards)
    return f"{escape(event.name)} [{guards}]" if guards else escape(event.name)


def _edges(
    policy: Policy, ids: Mapping[str, str], escape: Callable[[str], str]
) -> list[tuple[str, str, str]]:
    """Return (source id, destination id, label) for every transition, selectors kept whole."""
    edges = []
    for event in policy.events.values():
        if event.dest is None:
            continue
        for source in event.sources:
            edges.append((ids[source], ids[event.dest], _label(event, escape)))
    return edges


def _pseudo_states(
    edges: list[tuple[str, str, str]], ids: Mapping[str, str]
) -> list[tuple[str, str]]:
    used = {name for edge in edges for name in edge[:2]}
    return [(ids[key], text) for key, (_id, text) in _PSEUDO.items() if ids[key] in used]


def _mermaid_plain(name: str) -> bool:
    return bool(_MERMAID_ID.fullmatch(name)) and name.lower() not in _MERMAID_KEYWORDS


def to_mermaid(policy: Policy) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the policy, guards as edge labels."""
    ids = _node_ids(policy, _mermaid_plain, None)
    edges = _edges(policy, ids, _mermaid_text)
    lines = ["stateDiagram-v2", f"    [*] --> {ids[policy.initial]}"]
    lines += [
        f'    state "{_mermaid_text(name)}" as {ids[name]}'
        for name in policy.stages
        if ids[name] != name
    ]
    lines += [f'    state "{text}" as {key}' for key, text in _pseudo_states(edges, ids)]
    lines += [f"    {source} --> {dest}: {label}" for source, dest, label in edges]
    lines += [f"    {ids[name]} --> [*]" for name, spec in policy.stages.items() if spec.terminal]
    for role, members in _by_role(policy).items():
        lines.append(f"    classDef role_{role} {_MERMAID_STYLE[role]}")
        lines.append(f"    class {','.join(ids[name] for name in members)} role_{role}")
    return "\n".join(lines) + "\n"


_COLOURS = {
    StageRole.assessment: "#dbeafe",
    StageRole.review: "#ede9fe",
    StageRole.in_flight: "#fef3c7",
    StageRole.hired: "#dcfce7",
}
_MERMAID_STYLE = {role: f"fill:{colour},color:#111" for role, colour in _COLOURS.items()}


def _by_role(policy: Policy) -> dict[StageRole, list[str]]:
    """The stages of each role, roles in their enum order, stages in the policy's."""
    found: dict[StageRole, list[str]] = {}
    for role in StageRole:
        members = [name for name, spec in policy.stages.items() if spec.role is role]
        if members:
            found[role] = members
    return found


def to_dot(policy: Policy) -> str:
    """Return a Graphviz ``digraph`` of the policy; terminal stages are double circles."""
    ids = {key: _dot_text(value) for key, value in _node_ids(policy, bool, "start").items()}
    edges = _edges(policy, ids, _dot_text)
    lines = [
        f'digraph "{_dot_text(policy.label)}" {{',
        "    rankdir=LR;",
        f'    "{ids[""]}" [shape=point];',
    ]
    for name, spec in policy.stages.items():
        shape = "doublecircle" if spec.terminal else "ellipse"
        if spec.role is None:
            lines.append(f'    "{ids[name]}" [shape={shape}];')
            continue
        role = spec.role.value.replace("_", " ")
        lines.append(
            f'    "{ids[name]}" [shape={shape}, style=filled, fillcolor="{_COLOURS[spec.role]}", '
            f'label="{ids[name]}\\n({role})"];'
        )
    for key, text in _pseudo_states(edges, ids):
        lines.append(f'    "{key}" [shape=box, style=dashed, label="{text}"];')
    lines.append(f'    "{ids[""]}" -> "{ids[policy.initial]}";')
    lines += [f'    "{s}" -> "{d}" [label="{label}"];' for s, d, label in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
