"""A stage's test files read as source, without importing them.

A test file that does not import (often: the learner's code does not) still stands for its
tests: the grade gives each of them an error (kata.grading), and a run stopped before pytest
had collected anything reports each of them as not run (kata.runner).
"""

from __future__ import annotations

import ast
from pathlib import Path


def _literal_length(node: ast.expr, constants: dict[str, ast.expr]) -> int:
    if isinstance(node, ast.Name) and node.id in constants:
        node = constants[node.id]
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return max(1, len(node.elts))
    return 1


def static_tests(path: Path) -> list[tuple[str, int]]:
    """(name, line) of each test a file defines, parametrised cases counted, read without
    importing it: a file that does not import still stands for its tests in the grade."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    constants = {
        target.id: node.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found = []
    for node in tree.body:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not node.name.startswith("test"):
            continue
        cases = 1
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "attr", "") == "parametrize" and len(decorator.args) >= 2:
                cases *= _literal_length(decorator.args[1], constants)
        found += [(node.name if cases == 1 else f"{node.name}[#{n}]", node.lineno) for n in range(1, cases + 1)]
    return found
