"""The package layout: layers point one way and no module imports itself back (issue: layout).

The import graph is read from the source with `ast`, every import statement counted wherever it
stands (top level, inside a function, under `if TYPE_CHECKING:`): a lazy import is still a
dependency a reader has to follow, and a cycle through one is still a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "initify"

# The layers below the commands: they never import `initify.commands` or `initify.cli`.
LOWER_LAYERS = ("dockerfile", "kubernetes", "compose", "knowledge", "image", "editor")
TOP_LEVEL_LIMIT = 12  # modules directly in initify/, `__init__.py` not counted


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(root: Path = PACKAGE) -> Dict[str, Path]:
    return {module_name(path, root): path for path in sorted(root.rglob("*.py"))}


def imports_of(path: Path, modules: Set[str], root: Path = PACKAGE) -> Set[str]:
    """initify modules that `path` imports (`from initify.x import y` counts as initify.x.y when
    y is a module, else as initify.x)."""
    this = module_name(path, root)
    package = this if path.name == "__init__.py" else this.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        else:
            continue
        for name in names:
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != this:
                found.add(name)
    return found


def import_graph(root: Path = PACKAGE) -> Dict[str, Set[str]]:
    modules = all_modules(root)
    return {name: imports_of(path, set(modules), root) for name, path in modules.items()}


def find_cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Every strongly connected component of more than one module (Tarjan), as a sorted list."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_no_import_cycle() -> None:
    assert find_cycles(import_graph()) == []


def test_lower_layers_never_import_commands_or_cli() -> None:
    wrong = []
    for module, targets in import_graph().items():
        layer = module.split(".")[1] if module.count(".") >= 1 else ""
        if layer not in LOWER_LAYERS + ("checks",):
            continue
        for target in targets:
            if target.startswith("initify.commands") or target == "initify.cli":
                wrong.append(f"{module} -> {target}")
    assert wrong == []


def test_commands_are_imported_only_by_the_command_line_and_each_other() -> None:
    allowed = ("initify.cli", "initify.commands")
    wrong = [
        f"{module} -> {target}"
        for module, targets in import_graph().items()
        for target in targets
        if target.startswith("initify.commands") and not module.startswith(allowed)
    ]
    assert wrong == []


def test_top_level_holds_at_most_twelve_modules() -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py")
    assert len(top) <= TOP_LEVEL_LIMIT, top


def test_every_subpackage_says_what_lives_there() -> None:
    for init in sorted(PACKAGE.rglob("__init__.py")):
        if init.parent == PACKAGE:
            continue
        docstring = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert docstring, f"{init} has no docstring"
        assert docstring.splitlines()[0].strip(), init


# The checker itself must catch what it is meant to catch: a cycle and a wrong-way import
# written into a throw-away package with the same shape.


def _write(root: Path, files: Dict[str, str]) -> None:
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("how", ["top level", "inside a function", "type checking only", "relative"])
def test_the_checker_finds_a_cycle(tmp_path: Path, how: str) -> None:
    statement = {
        "top level": "from initify.commands import fix\n",
        "inside a function": "def f():\n    from initify.commands import fix\n",
        "type checking only": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from initify.commands.fix import Plan\n",
        "relative": "from ..commands import fix\n",
    }[how]
    root = tmp_path / "initify"
    _write(root, {
        "__init__.py": "",
        "commands/__init__.py": '"""c"""\n',
        "commands/fix.py": "from initify.kubernetes import yaml_edit\n",
        "kubernetes/__init__.py": '"""k"""\n',
        "kubernetes/yaml_edit.py": statement,
    })
    graph = import_graph(root)
    assert graph["initify.kubernetes.yaml_edit"] == {"initify.commands.fix"}
    assert find_cycles(graph) == [["initify.commands.fix", "initify.kubernetes.yaml_edit"]]


def test_the_checker_reads_the_real_package() -> None:
    graph = import_graph()
    assert {"initify.engine", "initify.options", "initify.dockerfile.facts"} <= graph["initify.commands.fix"]
    assert "initify.commands.lint" in graph["initify.cli"]  # a lazy import inside a click command
    assert "initify.dockerfile.model" in graph["initify.engine"]
