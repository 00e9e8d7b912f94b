"""The package's import graph, read from the source: no cycles, and no import up the layers."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

import hirepipe

SOURCE = Path(hirepipe.__file__).resolve().parent

LAYERS: tuple[tuple[str, ...], ...] = (
    ("hirepipe._version", "hirepipe._lazy", "hirepipe._fork", "hirepipe.errors"),
    # the business-day calendar depends on nothing above the errors: guards count business
    # days with it (the standard policy's adverse-action waiting period)
    (
        "hirepipe.clock",
        "hirepipe._types",
        "hirepipe._redact",
        "hirepipe.timeline.calendar",
        "hirepipe.timeline._weekends",
    ),
    ("hirepipe.models",),
    ("hirepipe.policy",),
    ("hirepipe.privacy",),
    ("hirepipe.standard",),
    ("hirepipe._machine",),
    ("hirepipe.pipeline", "hirepipe.positions"),
    ("hirepipe.timeline",),
    ("hirepipe.reports",),
    ("hirepipe.slate",),
    ("hirepipe.notify",),
    ("hirepipe.simulate",),
    ("hirepipe.store",),
    ("hirepipe.cli",),
    ("hirepipe.testing", "hirepipe.pytest_plugin"),
    (
        "hirepipe",
        "hirepipe.__main__",
        # the old homes of moved modules, kept as aliases
        "hirepipe.calendar",
        "hirepipe.deadlines",
        "hirepipe.estimate",
        "hirepipe.paths",
        "hirepipe.registry",
    ),
)
"""The layers, lowest first: a module imports its own layer and those below, never above.

The same order is written in the package docstring of ``hirepipe``.
"""


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(SOURCE.rglob("*.py"))}


def layer_of(module: str) -> int:
    """The index of the layer whose longest prefix names ``module``; -1 for none."""
    best, found = -1, -1
    for index, layer in enumerate(LAYERS):
        for prefix in layer:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    return found


TYPE_CHECKING = ("TYPE_CHECKING", "typing.TYPE_CHECKING")


def _runtime_nodes(tree: ast.Module) -> Iterator[ast.AST]:
    """Every node except those under ``if TYPE_CHECKING:`` (imports for annotations only)."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and ast.unparse(node.test) in TYPE_CHECKING:
            stack.extend(node.orelse)
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


def imports_of(module: str) -> set[str]:
    """The hirepipe modules ``module`` imports at run time, lazy imports included."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                found.add(submodule if submodule in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: imports_of(module) for module in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_is_in_a_layer():
    """A new module must be placed in the layer order before it can be imported anywhere."""
    assert [] == [m for m in MODULES if layer_of(m) < 0]


def test_no_import_cycles():
    """No modules import each other in a ring, lazily or not."""
    assert [] == cycles(GRAPH)


@pytest.mark.parametrize("module", sorted(MODULES), ids=str)
def test_imports_go_down_the_layers(module):
    """A module imports only its own layer and the layers below it."""
    mine = layer_of(module)
    upward = sorted(target for target in GRAPH[module] if layer_of(target) > mine)
    assert [] == upward


def test_the_package_docstring_names_the_layers_in_order():
    """The prose in hirepipe's docstring and the order tested here are the same order."""
    text = hirepipe.__doc__ or ""
    positions = []
    for layer in LAYERS[:-1]:
        name = layer[0].removeprefix("hirepipe.")
        assert f"``{name}``" in text, f"{name} missing from the package docstring"
        positions.append(text.index(f"``{name}``"))
    assert sorted(positions) == positions


def test_the_checker_sees_a_cycle_and_an_upward_import():
    """The checks can fail: a made-up ring and a made-up upward import are both caught."""
    assert [["a", "b"]] == cycles({"a": {"b"}, "b": {"a"}, "c": set()})
    assert layer_of("hirepipe.models") < layer_of("hirepipe.pipeline")
