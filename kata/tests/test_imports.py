"""The kata's modules import one another without a circle, and none is over 600 lines (issue 29).

Every import counts, at the top of a module or inside a function: a circle that an import
inside a function hides still ties modules that should stand apart (the record of a run, the
runner, the grade) into one knot.
"""

from __future__ import annotations

import ast
from pathlib import Path

KATA = Path(__file__).resolve().parents[1]


MAX_LINES = 600


def _module_name(path: Path, package: Path = KATA) -> str:
    """`kata.cli` for kata/cli.py, `kata.review` for kata/review/__init__.py."""
    parts = ["kata", *path.relative_to(package).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(package: Path = KATA) -> dict[str, Path]:
    """Every module of kata/ and its subpackages, not its tests."""
    found = sorted(path for path in package.rglob("*.py") if "tests" not in path.relative_to(package).parts[:-1])
    return {_module_name(path, package): path for path in found}


def _imported(node: ast.AST, module: str, known: set[str] | dict[str, Path] = frozenset()) -> set[str]:
    """The kata modules one import statement names (a package's parents, which Python imports
    first, do not count: a package imports its modules to re-export them)."""
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
    # `from kata.review import checks` names a module; `from kata.review import RULES`, the package
    return {f"{target}.{alias.name}" if f"{target}.{alias.name}" in known else target for alias in node.names}


def import_graph(package: Path = KATA) -> dict[str, set[str]]:
    """Each module of kata/ (not its tests) and the kata modules it imports, anywhere in it."""
    found = modules(package)
    graph: dict[str, set[str]] = {}
    for name, path in found.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        imported: set[str] = set()
        for node in ast.walk(tree):
            imported |= _imported(node, name, found)
        graph[name] = {target for target in imported if target in found and target != name}
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


def test_no_module_of_kata_is_over_600_lines() -> None:
    found = modules()
    assert "kata.cli" in found and "kata.review" in found, sorted(found)
    long = {name: count for name, path in found.items() if (count := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"over {MAX_LINES} lines (split them, as kata/review/ is): {long}"


def test_the_graph_reads_a_subpackage(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "review").mkdir()
    (tmp_path / "review" / "__init__.py").write_text("from kata.review.rules import RULES\n")
    (tmp_path / "review" / "rules.py").write_text("from kata.review import checks\n")
    (tmp_path / "review" / "checks.py").write_text("from kata.layout import PACKAGE\n")
    (tmp_path / "layout.py").write_text("")
    graph = import_graph(tmp_path)
    assert graph["kata.review"] == {"kata.review.rules"}
    assert graph["kata.review.rules"] == {"kata.review.checks"}
    assert graph["kata.review.checks"] == {"kata.layout"}
