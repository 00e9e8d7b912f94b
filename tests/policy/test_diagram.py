"""Diagrams of a hostile policy: names from a file can neither break nor inject output."""

from __future__ import annotations

import html
import itertools
import re

import pytest

from hirepipe import EventSpec, GuardSpec, Policy, StageKind, StageSpec, standard_policy
from hirepipe.policy import OPEN, PREVIOUS


def passes(ctx):
    yield from ()


HOSTILE_STAGES = (
    'say "hi"',
    "line;break; [*] --> owned",
    "[*]",
    "start",
    "any_open_stage",
    "note",
    "back\\",
    'x"]; evil [label="owned',
    "Prüfung #35; %%{init}%%",
)


def hostile_policy() -> Policy:
    """Every stage name, event name and guard name is text a hostile file could hold.

    Line breaks and other control characters are refused in stage and event names (the
    identifier rules), so only a guard name carries them.
    """
    first, *others = HOSTILE_STAGES
    stages = [StageSpec(first), *(StageSpec(name) for name in others)]
    stages += [StageSpec("done}", StageKind.terminal), StageSpec("wait", StageKind.paused)]
    chain = [first, *others]
    guard = GuardSpec('ok"\n}', passes)
    events = [
        EventSpec(f'to "{dest}"', (source,), dest, (guard,))
        for source, dest in itertools.pairwise(chain)
    ]
    events += [
        EventSpec("end]", (chain[-1],), "done}"),
        EventSpec("drop;--", (OPEN,), "done}"),
        EventSpec("hold", (chain[0],), "wait"),
        EventSpec("resume", ("wait",), PREVIOUS),
    ]
    return Policy(name='evil"}', version="1", initial=first, stages=stages, events=events)


MERMAID_ID = r"[A-Za-z_][A-Za-z0-9_]*"
MERMAID_TEXT = r"[^\"\n\r\[\];:#%{}<>\\]*(?:#\d+;[^\"\n\r\[\];:#%{}<>\\]*)*"


def mermaid_text(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


class TestMermaid:
    def test_every_line_is_one_statement(self):
        """Each line is a statement of the diagram; names come back from their labels."""
        policy = hostile_policy()
        lines = policy.to_mermaid().splitlines()
        assert "stateDiagram-v2" == lines[0]
        labels: dict[str, str] = {}
        edges = []
        for line in lines[1:]:
            if match := re.fullmatch(rf'    state "({MERMAID_TEXT})" as ({MERMAID_ID})', line):
                labels[match.group(2)] = mermaid_text(match.group(1))
            elif match := re.fullmatch(
                rf"    ({MERMAID_ID}|\[\*\]) --> ({MERMAID_ID}|\[\*\])(?:: (.*))?", line
            ):
                edges.append(match.groups())
            else:
                pytest.fail(f"not one statement: {line!r}")
        ids = {node for edge in edges for node in edge[:2]} - {"[*]"}
        named = {labels.get(node, node) for node in ids}
        assert set(policy.stages) <= named
        stage_ids = [key for key, text in labels.items() if text in policy.stages]
        assert len(set(stage_ids)) == len(stage_ids)

    def test_edge_labels_are_escaped(self):
        """Event and guard names with quotes and newlines read back from the edge labels."""
        policy = hostile_policy()
        found = re.findall(r"^    \S+ --> \S+: (.*)$", policy.to_mermaid(), re.MULTILINE)
        expected = {
            f"{e.name} [{', '.join(g.name for g in e.guards)}]" if e.guards else e.name
            for e in policy.events.values()
            if e.dest is not None
        }
        assert expected == {mermaid_text(label) for label in found}
        assert all(re.fullmatch(rf"{MERMAID_TEXT}(?: \[{MERMAID_TEXT}\])?", f) for f in found)

    def test_plain_names_stay_as_they_are(self):
        """The standard lifecycle draws as before: plain names need no escaping."""
        mermaid = standard_policy().to_mermaid()
        assert "    review --> approval: request_approval [requisition_open, " in mermaid
        drawn = mermaid.split("    classDef", 1)[0]  # the role classes carry colours
        assert "#" not in drawn

    def test_roles_are_classes(self):
        """Each stage role is a class of its stages, so the picture shows where stages sit."""
        mermaid = standard_policy().to_mermaid()
        assert "    class approval,references,offer,negotiation role_in_flight\n" in mermaid
        assert "    class interviewed,debrief,next_round role_assessment\n" in mermaid


DOT_STRING = r'"(?:[^"\\]|\\.)*"'


def dot_strings(line: str) -> tuple[list[str], str]:
    """Return the quoted strings of a DOT line, and the line with each replaced by Q."""
    found = re.findall(DOT_STRING, line)
    return found, re.sub(DOT_STRING, "Q", line)


def dot_text(quoted: str) -> str:
    r"""Undo the escapes: \" and \\ as DOT reads them, then HTML entities."""
    body = re.sub(r"\\(.)", lambda m: m.group(1), quoted[1:-1])
    return html.unescape(body)


class TestDot:
    def test_every_line_is_one_statement(self):
        """Each line is a statement; quoted names come back whole and nodes stay apart."""
        policy = hostile_policy()
        lines = policy.to_dot().splitlines()
        shapes = {
            "Q [shape=ellipse];",
            "Q [shape=doublecircle];",
            "Q [shape=box, style=dashed, label=Q];",
            "Q -> Q [label=Q];",
            "Q -> Q;",
            "Q [shape=point];",
        }
        nodes = []
        for line in lines[1:-1]:
            strings, shape = dot_strings(line.strip())
            assert shape in shapes | {"rankdir=LR;"}, line
            if shape in {"Q [shape=ellipse];", "Q [shape=doublecircle];"}:
                nodes.append(dot_text(strings[0]))
        assert "}" == lines[-1]
        assert dot_strings(lines[0])[1] == "digraph Q {"
        assert 'evil"}@1' == dot_text(dot_strings(lines[0])[0][0])
        assert list(policy.stages) == nodes

    def test_start_and_pseudo_states_never_merge_with_stages(self):
        """A stage named 'start' or 'any_open_stage' is its own node."""
        dot = hostile_policy().to_dot()
        ids = [dot_text(s) for s in re.findall(rf"^    ({DOT_STRING}) \[", dot, re.MULTILINE)]
        assert len(set(ids)) == len(ids)

    def test_plain_names_stay_as_they_are(self):
        """The standard lifecycle draws as before."""
        dot = standard_policy().to_dot()
        assert '    "any_open_stage" -> "rejected" [label="reject [rejection_explained]"];' in dot
        approval = 'fillcolor="#fef3c7", label="approval\\n(in flight)"];'
        assert approval in dot
