"""Commands a stage README gives the learner work as written, on a fresh copy of the skeleton.

Stage 06, task 3 (issue 24): `flask --app workit db migrate` drafts the first migration. On the
skeleton as given it said "Target database is not up to date": Alembic drafts only against a
database at the newest revision, and a new database is at none (0001 is the learner's to
write, and 0002 is given). The README now drafts against a scratch database stamped at head;
this test runs its commands, from its own text, once tasks 1 and 2 are done as the reference
does them, and then its clean-up.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGE = "06_status"

pytestmark = pytest.mark.timeout(180)


def task_section(readme: str, task: int) -> str:
    start = readme.index(f"### Task {task}:")
    ends = [readme.find(mark, start + 1) for mark in ("\n### ", "\n## ")]
    return readme[start : min(end for end in ends if end != -1)]


def code_blocks(text: str) -> list[str]:
    """The fenced blocks of `text` (in a list item too), dedented."""
    return [textwrap.dedent(body) for body in re.findall(r"^[ \t]*```[\w-]*\n(.*?)^[ \t]*```", text, re.MULTILINE | re.DOTALL)]


def with_tasks_1_and_2_done(stage: Path) -> None:
    """The skeleton, plus the reference's init_db (task 1) and model (task 2), init_db called where
    the skeleton's TODO says."""
    for name in ("db.py", "models.py"):
        shutil.copy2(ROOT / "solutions" / STAGE / "workit" / name, stage / "workit" / name)
    init = stage / "workit" / "__init__.py"
    lines = init.read_text().splitlines(keepends=True)
    todo = next((i for i, line in enumerate(lines) if f"TODO({STAGE}): task 1" in line), None)
    assert todo is not None, f"stages/{STAGE}/workit/__init__.py has no TODO for task 1: where does init_db go now?"
    end = todo
    while end < len(lines) and lines[end].lstrip().startswith("#"):
        end += 1
    indent = lines[todo][: len(lines[todo]) - len(lines[todo].lstrip())]
    lines[todo:end] = [f"{indent}from workit.db import init_db\n", f"{indent}init_db(app)\n"]
    init.write_text("".join(lines))


def shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("DATABASE_URL", "SECRET_KEY", "FLASK_", "KATA_"))}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"  # flask and python of this venv
    return subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True, text=True, timeout=150, check=False)


def test_task_3s_draft_commands_work_as_written_on_a_fresh_skeleton(tmp_path: Path) -> None:
    stage = tmp_path / "stages" / STAGE
    shutil.copytree(ROOT / "stages" / STAGE / "workit", stage / "workit", ignore=shutil.ignore_patterns("__pycache__"))
    with_tasks_1_and_2_done(stage)
    versions = stage / "workit" / "migrations" / "versions"
    given = sorted(path.name for path in versions.glob("*.py"))

    section = task_section((ROOT / "stages" / STAGE / "README.md").read_text(), 3)
    blocks = [block for block in code_blocks(section) if "db migrate" in block]
    assert len(blocks) == 1, f"task 3 of stages/{STAGE}/README.md should hold one block of commands with `db migrate`"
    assert blocks[0].startswith(f"cd stages/{STAGE}\n"), "the block starts from the repository root"

    done = shell(blocks[0], tmp_path)  # from the repository root, as the README says

    assert done.returncode == 0, f"the README's commands failed:\n{blocks[0]}\n{done.stdout}{done.stderr}"
    drafts = list(versions.glob("*_draft.py"))
    assert len(drafts) == 1, f"no draft in {versions}: {done.stdout}{done.stderr}"
    draft = drafts[0].read_text()
    assert "down_revision = '0002'" in draft and "op.create_table('mailer_requests'" in draft, draft
    for column in ("id", "email", "thought", "status", "gif_url", "error", "created_at", "updated_at"):
        assert f"sa.Column('{column}'" in draft, f"the draft lacks the column {column}:\n{draft}"
    assert "op.drop_table('mailer_requests')" in draft

    clean_up = re.findall(r"`(rm [^`]*_draft\.py[^`]*)`", section)
    assert len(clean_up) == 1, "task 3 says how to delete the draft and the scratch database"
    removed = shell(clean_up[0], stage)  # where the block's `cd` left the learner
    assert removed.returncode == 0, removed.stderr
    assert sorted(path.name for path in versions.glob("*.py")) == given
    assert not list(stage.glob("instance/draft.sqlite3*")) and not (stage / "draft.sqlite3").exists()
