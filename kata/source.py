"""One source for every stage's `workit`: `source/workit/` is written once, the trees are made from it.

Each stage has two trees, the skeleton a learner edits (`stages/NN_x/workit`) and the reference
(`solutions/NN_x/workit`). In time order they form a chain, 01's skeleton, 01's solution, 02's
skeleton, ... A source file is plain Python (or Jinja, or ini) whose marker lines say which trees
a block of lines belongs to; every line outside a block belongs to every tree the file is in.

    #> file 06-             the file exists from stage 06 on (first line; else in every stage)
    #> 04-                 a block: from stage 04 on (also `-03`, `04-06`, `05`)
    #> or 02-03            ... an alternative: the same place in other stages
    #> task 04.1           what the learner writes in stage 04's task 1: from 04's solution on
    #> extra 04            what 04's reference adds beyond the tasks (tests marked `reference`)
    #> stub                ... what 04's skeleton shows instead (`stub -04:stage`: kept from before)
    #> stub 04.1           the same, on its own: what task 04.1 replaces (`stub 04.1 02-04:stage`)
    #> todo 04             a note only 04's skeleton shows
    #> end                 closes the block (and its alternatives)

Clauses joined by ` & ` take the trees they have in common. `#> task 04.1 & stub 04.5` is in no
tree: it is what a learner has once task 1 is done and until task 5 replaces it, and only the
partial skeletons of `python -m kata taskorder` (write_partial) show it. So does `#> task 06.6
-06:stage`, the learner's form of a line that the reference's `extra` replaces.

A range's ends name a stage (`04`, both its trees) or one tree (`04:stage`, `04:solution`). Blocks
nest; a line belongs to the trees of every block around it. In Jinja templates the marker is
`{#> 04- #}`. `python -m kata generate` writes the trees; `make test` fails when a committed tree
differs from what the source makes.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from kata.layout import PACKAGE, all_stages

SOURCE_DIR = Path("source") / PACKAGE
GENERATE_COMMAND = "python -m kata generate"
SKELETON, SOLUTION = "stages", "solutions"

MARKER = re.compile(r"^\s*(?:#>|\{#>)\s*(?P<expr>.*?)\s*(?:#\})?\s*$")
ENDPOINT = r"(\d\d)(?::(stage|solution))?"
RANGE = re.compile(rf"^(?:{ENDPOINT})?(-)?(?:{ENDPOINT})?$")
TASK = re.compile(r"^task (\d\d)\.(\d+)(?: (\S+))?$")
STUB = re.compile(r"^stub (\d\d)\.(\d+)(?: (\S+))?$")


class SourceError(ValueError):
    """A marker the generator cannot read, with the file and line that hold it."""


@dataclass(frozen=True)
class Chain:
    """The trees in time order: index 2k is stage k's skeleton, 2k + 1 its solution."""

    stages: tuple[str, ...]

    def __len__(self) -> int:
        return 2 * len(self.stages)

    def index(self, number: str, tree: str) -> int:
        for position, name in enumerate(self.stages):
            if name[:2] == number:
                return 2 * position + (tree == SOLUTION)
        raise KeyError(number)

    def tree(self, index: int) -> tuple[str, str]:
        """(target, stage name) of a chain index: ("stages", "04_enqueue")."""
        return (SKELETON, SOLUTION)[index % 2], self.stages[index // 2]

    def parse_range(self, text: str) -> frozenset[int]:
        match = RANGE.match(text)
        if not match or not text:
            raise ValueError(f"not a range: {text!r} (try 04-, -03, 04-06, 05, 05:stage)")
        first, first_tree, dash, last, last_tree = match.groups()
        if not dash:
            if first is None or last is not None:
                raise ValueError(f"not a range: {text!r}")
            if first_tree:
                return frozenset({self.index(first, SKELETON if first_tree == "stage" else SOLUTION)})
            last = first
        start = 0 if first is None else self.index(first, SOLUTION if first_tree == "solution" else SKELETON)
        end = len(self) - 1 if last is None else self.index(last, SKELETON if last_tree == "stage" else SOLUTION)
        if start > end:
            raise ValueError(f"an empty range: {text!r}")
        return frozenset(range(start, end + 1))

    def name_range(self, trees: frozenset[int]) -> str:
        """The shortest range text for a contiguous set of trees (the inverse of parse_range)."""
        start, end = min(trees), max(trees)
        assert trees == frozenset(range(start, end + 1)), trees
        first = "" if start == 0 else self.stages[start // 2][:2] + ("" if start % 2 == 0 else ":solution")
        last = "" if end == len(self) - 1 else self.stages[end // 2][:2] + ("" if end % 2 == 1 else ":stage")
        if first and first.split(":")[0] == last.split(":")[0] and start // 2 == end // 2:
            number = first[:2]
            if start % 2 == 0 and end % 2 == 1:
                return number
            return f"{number}:{'stage' if start % 2 == 0 else 'solution'}"
        return f"{first}-{last}"


@dataclass(frozen=True)
class Task:
    stage: str  # "04"
    number: int


@dataclass
class Line:
    text: str
    trees: frozenset[int]
    task: Task | None = None  # the learner's task whose solution this line is
    stub_of: Task | None = None  # the learner's task that replaces this line (a stub, old code)
    extra: bool = False  # in an `extra` block, or in what one replaces
    number: int = 0  # its line in the source file


@dataclass
class SourceFile:
    path: Path  # relative to the source directory
    trees: frozenset[int]
    lines: list[Line] = field(default_factory=list)

    def text_for(self, tree: int, done: frozenset[Task] | None = None) -> str:
        """The file as tree `tree` holds it; with `done`, a skeleton whose tasks in `done` are solved."""
        out = []
        for line in self.lines:
            if done is not None and line.stub_of in done:
                keep = False
            elif done is not None and line.task in done:
                # a finished task shows its solution, or the code it has until a later task
                keep = tree + 1 in line.trees or not line.trees
            else:
                keep = tree in line.trees
            if keep:
                out.append(line.text)
        return "".join(out)


@dataclass
class _Block:
    trees: frozenset[int]
    task: Task | None = None
    stub_of: Task | None = None
    extra: bool = False
    kind: str = "range"  # "range", "task", "stub", "extra", "todo"
    line: int = 0


def parse(path: Path, text: str, chain: Chain, relative: Path) -> SourceFile:
    everything = frozenset(range(len(chain)))
    lines = text.splitlines(keepends=True)
    file_trees = everything
    stack: list[_Block] = []
    result = SourceFile(relative, everything)

    def fail(number: int, message: str) -> SourceError:
        return SourceError(f"{path}:{number}: {message}")

    def bounded(stage: str, bound: str | None) -> frozenset[int]:
        trees = chain.parse_range(f"{stage}:solution-")
        return trees & chain.parse_range(bound) if bound else trees

    def clause(expr: str, number: int, alternative_of: _Block | None) -> _Block:
        if match := TASK.match(expr):
            stage, task_number, bound = match.groups()
            return _Block(bounded(stage, bound), Task(stage, int(task_number)), kind="task", line=number)
        if expr.startswith("task "):
            raise ValueError(f"not a task: {expr!r} (write: task 04.1)")
        if expr.startswith("extra "):
            stage, _, bound = expr[6:].strip().partition(" ")
            return _Block(bounded(stage, bound or None), extra=True, kind="extra", line=number)
        if match := STUB.match(expr):
            stage, task_number, bound = match.groups()
            trees = chain.parse_range(bound or f"{stage}:stage")
            if max(trees) != chain.index(stage, SKELETON):
                raise ValueError(f"the stub of task {stage}.{task_number} must end at {stage}:stage")
            return _Block(trees, stub_of=Task(stage, int(task_number)), kind="stub", line=number)
        if expr == "stub" or expr.startswith("stub "):
            if alternative_of is None or alternative_of.kind not in ("task", "extra"):
                raise ValueError("`stub` follows a `task` or `extra` block")
            stage = chain.tree(min(alternative_of.trees))[1][:2]
            trees = chain.parse_range(expr[5:].strip() or f"{stage}:stage")
            if max(trees) != chain.index(stage, SKELETON):
                raise ValueError(f"the stub of a region of stage {stage} must end at {stage}:stage")
            return _Block(trees, stub_of=alternative_of.task, extra=alternative_of.extra, kind="stub", line=number)
        if expr.startswith("todo "):
            return _Block(chain.parse_range(expr[5:].strip() + ":stage"), kind="todo", line=number)
        return _Block(chain.parse_range(expr), line=number)

    def block_for(expr: str, number: int, alternative_of: _Block | None) -> _Block:
        """A marker's block: one clause, or several joined by ` & ` (their trees in common)."""
        try:
            parts = [clause(part.strip(), number, alternative_of) for part in expr.split(" & ")]
        except (ValueError, KeyError) as error:
            raise fail(number, f"{error}") from None
        block = parts[0]
        for part in parts[1:]:
            block = _Block(
                block.trees & part.trees,
                block.task or part.task,
                block.stub_of or part.stub_of,
                block.extra or part.extra,
                block.kind if block.kind != "range" else part.kind,
                number,
            )
        return block

    for number, raw in enumerate(lines, start=1):
        match = MARKER.match(raw)
        if not match:
            line = Line(raw, file_trees, number=number)
            for block in stack:
                line.trees &= block.trees
                line.task = block.task or line.task
                line.stub_of = block.stub_of or line.stub_of
                line.extra = block.extra or line.extra
            result.lines.append(line)
            continue
        expr = match["expr"]
        if expr.startswith("file "):
            if number != 1:
                raise fail(number, "`#> file RANGE` belongs on the first line")
            try:
                file_trees = chain.parse_range(expr[5:].strip())
            except (ValueError, KeyError) as error:
                raise fail(number, str(error)) from None
            result.trees = file_trees
        elif expr == "end":
            if not stack:
                raise fail(number, "`end` with no block open")
            stack.pop()
        elif expr.startswith("or ") or expr == "stub" or (expr.startswith("stub ") and not STUB.match(expr)):
            if not stack:
                raise fail(number, f"`{expr}` with no block open")
            previous = stack.pop()
            stack.append(block_for(expr.removeprefix("or "), number, previous))
        else:
            stack.append(block_for(expr, number, None))
    if stack:
        raise fail(stack[-1].line, "a block that no `#> end` closes")
    return result


def stage_names(root: Path) -> tuple[str, ...]:
    return tuple(stage.name for stage in all_stages(root))


def read_source(root: Path) -> tuple[Chain, list[SourceFile]]:
    chain = Chain(stage_names(root))
    source = root / SOURCE_DIR
    files = []
    for path in sorted(p for p in source.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        relative = path.relative_to(source)
        files.append(parse(path, path.read_text(encoding="utf-8"), chain, relative))
    return chain, files


def render(root: Path) -> Iterator[tuple[Path, str]]:
    """Every generated file: (path relative to root, text)."""
    chain, files = read_source(root)
    for tree in range(len(chain)):
        target, stage = chain.tree(tree)
        for source_file in files:
            if tree in source_file.trees:
                yield Path(target) / stage / PACKAGE / source_file.path, source_file.text_for(tree)


def generated_files(root: Path, target: str, stage: str) -> set[Path]:
    package = root / target / stage / PACKAGE
    if not package.is_dir():
        return set()
    return {
        p.relative_to(root)
        for p in package.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


def generate(root: Path, into: Path | None = None) -> list[Path]:
    """Write every tree under `into` (the checkout itself by default); the paths written."""
    if not (root / SOURCE_DIR).is_dir():
        raise SourceError(f"{root / SOURCE_DIR} does not exist: this copy (a student template?) has no source to generate from")
    into = root if into is None else into
    chain = Chain(stage_names(root))
    written: list[Path] = []
    wanted = dict(render(root))
    for tree in range(len(chain)):
        target, stage = chain.tree(tree)
        for stale in generated_files(into, target, stage) - set(wanted):
            (into / stale).unlink()
    for relative, text in wanted.items():
        path = into / relative
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(relative)
    return written


def drift_problems(root: Path) -> list[str]:
    """Committed trees that differ from what the source makes: each names the source to edit.

    A copy without source/ (a student template) has nothing to compare."""
    if not (root / SOURCE_DIR).is_dir():
        return []
    chain = Chain(stage_names(root))
    wanted = dict(render(root))
    problems = []
    for tree in range(len(chain)):
        target, stage = chain.tree(tree)
        for extra in sorted(generated_files(root, target, stage) - set(wanted)):
            problems.append(f"{extra} is not made by the source: add it under {SOURCE_DIR}/ or delete it")
    for relative, text in wanted.items():
        path = root / relative
        source = SOURCE_DIR / Path(*relative.parts[3:])
        if not path.is_file():
            problems.append(f"{relative} is missing: run `{GENERATE_COMMAND}`")
        elif path.read_text(encoding="utf-8") != text:
            problems.append(
                f"{relative} differs from what {source} makes: edit {source}, then run `{GENERATE_COMMAND}`"
            )
    return problems


def agreement_problems(root: Path) -> list[str]:
    """A stage's skeleton and solution differ only where the source says why.

    Allowed: a learner's region (`task`, its `stub`), the reference's `extra`, a skeleton-only
    note (`todo`), and old code that stage N's solution replaces in a file where stage N has a
    `task` or `extra` region. Anything else that starts at a solution or ends at a skeleton is
    drift between the two trees of a stage.
    """
    if not (root / SOURCE_DIR).is_dir():
        return []
    chain, files = read_source(root)
    problems = []
    for source_file in files:
        changed_by = {
            chain.index(line.task.stage if line.task else chain.tree(min(line.trees))[1][:2], SKELETON)
            for line in source_file.lines
            if line.trees and (line.task is not None or line.extra) and min(line.trees) % 2 == 1
        }
        for line in source_file.lines:
            if not line.trees or line.task is not None or line.stub_of is not None or line.extra:
                continue
            start, end = min(line.trees), max(line.trees)
            if start == end and start % 2 == 0:
                continue  # a note only one skeleton shows
            if start % 2 == 0 and (end % 2 == 1 or end in changed_by):
                continue
            problems.append(
                f"{SOURCE_DIR / source_file.path}:{line.number}: this line is in "
                f"{chain.name_range(line.trees)}, so a stage's skeleton and its solution differ outside "
                "a learner's region: put it in a `#> task` or `#> extra` block, or make it the same in both"
            )
    return problems


def tasks(root: Path) -> dict[str, list[Task]]:
    """The learner's tasks of each stage that the source marks, in order: {"04": [Task(...), ...]}."""
    _, files = read_source(root)
    found: dict[str, set[Task]] = {}
    for source_file in files:
        for line in source_file.lines:
            for task in (line.task, line.stub_of):
                if task is not None:
                    found.setdefault(task.stage, set()).add(task)
    return {stage: sorted(found[stage], key=lambda task: task.number) for stage in sorted(found)}


def write_partial(root: Path, stage: str, done: Iterable[Task], into: Path) -> Path:
    """Stage `stage`'s skeleton with the tasks in `done` solved, under `into`; the package's parent."""
    chain, files = read_source(root)
    done_set = frozenset(done)
    tree = next(i for i in range(0, len(chain), 2) if chain.tree(i)[1] == stage)
    parent = into / stage
    if (parent / PACKAGE).exists():
        shutil.rmtree(parent / PACKAGE)
    for source_file in files:
        if tree in source_file.trees:
            path = parent / PACKAGE / source_file.path
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(source_file.text_for(tree, done_set), encoding="utf-8")
    return parent
