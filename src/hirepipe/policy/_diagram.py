"""Render a policy as a Mermaid state diagram or a Graphviz graph.

Events that fire from a selector (every open stage, every active stage) are drawn once, from a
pseudo-state that names the selector, rather than once per stage; ``resume`` leads to a
pseudo-state "the stage it left". Activities change no stage and are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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


def _label(event: EventSpec) -> str:
    guards = ", ".join(g.name for g in event.guards)
    return f"{event.name} [{guards}]" if guards else event.name


def _edges(policy: Policy) -> list[tuple[str, str, str]]:
    """Return (source, destination, label) for every transition, selectors kept whole."""
    edges = []
    for event in policy.events.values():
        if event.dest is None:
            continue
        dest = _PSEUDO[PREVIOUS][0] if event.dest == PREVIOUS else event.dest
        for source in event.sources:
            origin = _PSEUDO[source][0] if source in _PSEUDO else source
            edges.append((origin, dest, _label(event)))
    return edges


def _pseudo_states(edges: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    used = {name for edge in edges for name in edge[:2]}
    return [(key, text) for key, text in _PSEUDO.values() if key in used]


def to_mermaid(policy: Policy) -> str:
    """Return a Mermaid ``stateDiagram-v2`` of the policy, guards as edge labels."""
    edges = _edges(policy)
    lines = ["stateDiagram-v2", f"    [*] --> {policy.initial}"]
    lines += [f'    state "{text}" as {key}' for key, text in _pseudo_states(edges)]
    lines += [f"    {source} --> {dest}: {label}" for source, dest, label in edges]
    lines += [f"    {name} --> [*]" for name, spec in policy.stages.items() if spec.terminal]
    return "\n".join(lines) + "\n"


def to_dot(policy: Policy) -> str:
    """Return a Graphviz ``digraph`` of the policy; terminal stages are double circles."""
    edges = _edges(policy)
    lines = [f'digraph "{policy.label}" {{', "    rankdir=LR;", "    start [shape=point];"]
    for name, spec in policy.stages.items():
        shape = "doublecircle" if spec.terminal else "ellipse"
        lines.append(f'    "{name}" [shape={shape}];')
    for key, text in _pseudo_states(edges):
        lines.append(f'    "{key}" [shape=box, style=dashed, label="{text}"];')
    lines.append(f'    start -> "{policy.initial}";')
    lines += [f'    "{s}" -> "{d}" [label="{label}"];' for s, d, label in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
