"""What the review's checks look at: a module's tree, what it imports, its constants.

`Source` is one module of the learner's package, `Package` all of them; the helpers below
answer the questions the checks ask of a call or a node.
"""

from __future__ import annotations

import ast
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Source:
    """One module of the package: its name (`workit/views.py`), its tree and what it imports."""

    name: str
    tree: ast.Module
    imports: dict[str, str] = field(default_factory=dict)  # local name -> dotted name
    constants: dict[str, Any] = field(default_factory=dict)  # module-level NAME = literal

    @classmethod
    def parse(cls, name: str, text: str) -> Source:
        tree = ast.parse(text, filename=name)
        source = cls(name, tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    source.imports[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    source.imports[alias.asname or alias.name] = f"{node.module}.{alias.name}"
        for node in tree.body:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                with contextlib.suppress(ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    source.constants[node.targets[0].id] = ast.literal_eval(node.value)
        return source

    @property
    def module(self) -> str:
        return Path(self.name).stem

    def qualified(self, node: ast.AST) -> str:
        """`requests.get`, `time.sleep`, `smtplib.SMTP`: a name as imported, or ''."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name):
            return ""
        parts.append(self.imports.get(node.id, node.id))
        return ".".join(reversed(parts))

    def number(self, node: ast.AST) -> float | None:
        """The value of a numeric constant expression (`600`, `2 * 3600`, `BACKOFF_MAX`), or None."""
        if isinstance(node, ast.Name):
            value = self.constants.get(node.id)
            return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
        if isinstance(node, ast.Constant):
            return float(node.value) if isinstance(node.value, (int, float)) and not isinstance(node.value, bool) else None
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mult, ast.Sub)):
            left, right = self.number(node.left), self.number(node.right)
            if left is None or right is None:
                return None
            return left + right if isinstance(node.op, ast.Add) else left * right if isinstance(node.op, ast.Mult) else left - right
        return None

    def calls(self) -> Iterator[tuple[ast.Call, str]]:
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Call):
                yield node, self.qualified(node.func)

    def tasks(self) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.expr]]:
        """Celery tasks: functions under @shared_task or @<app>.task, with their decorator."""
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    name = self.qualified(target)
                    if name.endswith("shared_task") or (isinstance(target, ast.Attribute) and target.attr == "task"):
                        yield node, decorator


@dataclass
class Package:
    sources: list[Source]

    def module(self, stem: str) -> Source | None:
        return next((source for source in self.sources if source.module == stem), None)


def keywords(call: ast.expr) -> dict[str, ast.expr]:
    return {kw.arg: kw.value for kw in call.keywords if kw.arg} if isinstance(call, ast.Call) else {}


def has_splat(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords) or any(isinstance(arg, ast.Starred) for arg in call.args)


def enqueues(node: ast.AST) -> ast.Call | None:
    """The `x.delay(...)` or `x.apply_async(...)` call in `node`, if there is one."""
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr in ("delay", "apply_async"):
            return child
    return None


def short(node: ast.AST, width: int = 50) -> str:
    text = ast.unparse(node)
    return text if len(text) <= width else text[: width - 3] + "..."


Finding = tuple[Source, int, dict[str, Any]]  # where (the module, a line) and the params


def own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, without those of functions or classes inside it."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            stack.extend(ast.iter_child_nodes(node))
