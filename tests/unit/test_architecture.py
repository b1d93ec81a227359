"""The layers a reader relies on: edges read the environment and argparse, targets know
nothing of images, static layouts, tags or CI context, and no module imports itself back."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "alba_action"
EDGES = {"alba_action.cli", "alba_action.action", "alba_action.settings", "alba_action.publish_command",
         "alba_action.__main__"}


def modules() -> dict[str, ast.Module]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = ast.parse(path.read_text())
    return out


def _module_level(tree: ast.Module):
    """Every node outside function bodies: what runs (or type-checks) when the module loads."""
    pending = list(tree.body)
    while pending:
        node = pending.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            pending.extend(ast.iter_child_nodes(node))


def imports(name: str, tree: ast.Module, top_level_only: bool = False) -> set[str]:
    found = set()
    nodes = _module_level(tree) if top_level_only else ast.walk(tree)
    package = name if name in PACKAGES else name.rpartition(".")[0]
    for node in nodes:
        if isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return {m for m in found if m.startswith("alba_action")} if top_level_only else found


MODULES = modules()
PACKAGES = {n for n in MODULES if (PACKAGE.parent / n.replace(".", "/") / "__init__.py").exists()}


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n.startswith("alba_action.targets")))
def test_targets_import_no_higher_layer(name):
    bad = [m for m in imports(name, MODULES[name])
           if m.startswith(("alba_action.images", "alba_action.static", "alba_action.tags", "alba_action.context",
                            "alba_action.containers", "alba_action.pipeline"))]
    assert not bad, f"{name} imports {bad}"


@pytest.mark.parametrize("name", sorted(set(MODULES) - EDGES))
def test_only_the_edges_read_the_environment_or_argparse(name):
    tree = MODULES[name]
    assert "argparse" not in imports(name, tree), name
    reads = [n for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv")
             and isinstance(n.value, ast.Name) and n.value.id == "os"]
    assert not reads, f"{name} reads os.environ (line {reads[0].lineno}): take it as a parameter"


def test_no_import_cycles():
    graph = {}
    for name, tree in MODULES.items():
        graph[name] = {m for m in imports(name, tree, top_level_only=True) if m in MODULES and m != name}
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1 and nxt not in PACKAGES and node not in PACKAGES:
                raise AssertionError("import cycle: " + " → ".join(path[path.index(nxt):] + [nxt]))
            if not state.get(nxt):
                visit(nxt, path + [nxt])
        state[node] = 2

    for name in sorted(graph):
        if not state.get(name):
            visit(name, [name])


def test_module_sizes_stay_readable():
    big = {n: len((PACKAGE.parent / (n.replace(".", "/") + ".py")).read_text().splitlines())
           for n in MODULES if n not in PACKAGES}
    assert max(big.values()) <= 400, {n: s for n, s in big.items() if s > 400}
