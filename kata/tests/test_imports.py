"""The kata's modules import one another without a circle (issue 29).

Every import counts, at the top of a module or inside a function: a circle that an import
inside a function hides still ties modules that should stand apart (the record of a run, the
runner, the grade) into one knot.
"""

from __future__ import annotations

import ast
from pathlib import Path

KATA = Path(__file__).resolve().parents[1]


def _module_name(path: Path) -> str:
    return "kata" if path.stem == "__init__" else f"kata.{path.stem}"


def _imported(node: ast.AST, module: str) -> set[str]:
    """The kata modules one import statement names."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level:  # a relative import, from within the kata package
        base = module.rsplit(".", node.level)[0] if module != "kata" else "kata"
        target = f"{base}.{node.module}" if node.module else base
    else:
        target = node.module or ""
    if target == "kata":  # `from kata import cache`: the names are modules
        return {f"kata.{alias.name}" for alias in node.names}
    return {target}


def import_graph(package: Path = KATA) -> dict[str, set[str]]:
    """Each module of kata/ (not its tests) and the kata modules it imports, anywhere in it."""
    modules = {_module_name(path): path for path in sorted(package.glob("*.py"))}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found: set[str] = set()
        for node in ast.walk(tree):
            found |= _imported(node, name)
        graph[name] = {target for target in found if target in modules and target != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One circle of imports (its modules, the first repeated at the end), or []."""
    done: set[str] = set()
    path: list[str] = []

    def visit(module: str) -> list[str]:
        if module in path:
            return [*path[path.index(module) :], module]
        if module in done:
            return []
        path.append(module)
        for target in sorted(graph.get(module, ())):
            if cycle := visit(target):
                return cycle
        path.pop()
        done.add(module)
        return []

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return []


def test_no_import_circle_inside_kata() -> None:
    graph = import_graph()
    assert "kata.runner" in graph and "kata.reports" in graph["kata.runner"], graph
    cycle = find_cycle(graph)
    assert not cycle, "kata/ imports in a circle: " + " -> ".join(cycle)


def test_the_check_finds_a_circle_an_import_inside_a_function_makes(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "grading.py").write_text("from kata.runner import TestRun\n")
    (tmp_path / "runner.py").write_text("def tests():\n    from kata.grading import static_tests\n")
    (tmp_path / "layout.py").write_text("from kata import runner\n")
    graph = import_graph(tmp_path)
    assert graph["kata.layout"] == {"kata.runner"}
    assert find_cycle(graph) == ["kata.grading", "kata.runner", "kata.grading"]
