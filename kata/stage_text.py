"""A maintainer's lint of a stage's text: the shape of what it says to the learner, checked by the self-check.

- The README numbers its tasks (`### Task N: ...`), one hints task each (kata.hints), and
  ends with two to four "Check your understanding" questions, each with its answer in the
  stage's quiz.toml (kata.quiz, `kata quiz`) and no answer in the README.
- Every `raise NotImplementedError("Step NN_x, task N: ...")` of the skeleton names a task
  the README has, so the first failure says where to look.
- A `TODO(NN_x)` is work for the learner; what the stage provides is marked `NEW(NN_x)`,
  so `kata status` never sends the learner looking for work that is not there.
- Little of the learner's code stands in the skeleton or README (kata.giveaway).
"""

from __future__ import annotations

import re
from pathlib import Path

from kata.hints import readme_tasks
from kata.layout import PACKAGE, Stage, all_stages
from kata.quiz import quiz_problems

STEP_RAISE = re.compile(r"NotImplementedError\(\s*f?[\"'](Step\s+\d\d_\w+[^\"']*)")
TASK_IN_RAISE = re.compile(r"Step\s+(\d\d_\w+),\s+task\s+(\d+)\b")
DONE_FOR_YOU = re.compile(r"TODO\s*\([^)]*\)[^\n]*\bdone for you\b", re.IGNORECASE)


def stage_guidance_problems(stage: Stage) -> list[str]:
    problems = []
    readme_path = stage.root / "stages" / stage.name / "README.md"
    if not readme_path.is_file():
        return [f"stages/{stage.name}/README.md is missing"]
    tasks = readme_tasks(stage)
    if not tasks:
        problems.append(f"stages/{stage.name}/README.md has no `### Task N: ...` headings: number the tasks")
    problems += quiz_problems(stage)
    package = stage.code_dir("stages") / PACKAGE
    for path in sorted(package.rglob("*.py")) if package.is_dir() else []:
        text = path.read_text(encoding="utf-8", errors="replace")
        where = path.relative_to(stage.root).as_posix()
        for message in STEP_RAISE.findall(text):
            named = TASK_IN_RAISE.match(message)
            if named is None or named.group(1) != stage.name:
                problems.append(f"{where}: NotImplementedError({message[:60]!r}...) must start 'Step {stage.name}, task N:'")
            elif int(named.group(2)) not in tasks:
                problems.append(f"{where}: NotImplementedError names task {named.group(2)}, which the README does not have")
        for line_no, line in enumerate(text.splitlines(), start=1):
            if DONE_FOR_YOU.search(line):
                problems.append(f"{where}:{line_no}: a TODO that is done for you; mark it NEW({stage.name}) instead")
    return problems


def guidance_problems(root: Path) -> list[str]:
    from kata.giveaway import NAMES_ENFORCED, giveaway_problems, giveaway_reports, names_problems, names_reports

    problems = [p for stage in all_stages(root) if stage.tests_dir.is_dir() for p in stage_guidance_problems(stage)]
    problems += giveaway_problems(giveaway_reports(root))
    return problems + (names_problems(names_reports(root)) if NAMES_ENFORCED else [])
