"""pytest plugin for the learner commands: what was collected, and how each test ended.

Loaded with `-p kata.details` next to `-p kata.recorder`; writes JSON lines to the file named
by KATA_DETAILS, flushed as they happen, so `kata check` can show progress while pytest runs:

- one `collected` line with every test (its file, line, source, markers) before any runs;
- a `start` line when a test starts (a run stopped by a time limit knows which test hung);
- a `done` line when it ends: passed / failed / error / skipped, time taken, captured
  output, and where in the learner's `workit` package the failure happened.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from kata.layout import DETAILS_ENV

CODE_LIMIT = 4000
OUTPUT_LIMIT = 500  # exercism's limit for a test's output

_phases = pytest.StashKey[dict[str, Any]]()


def _write(entry: dict[str, Any]) -> None:
    path = os.environ.get(DETAILS_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(entry) + "\n")


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _test_code(item: pytest.Item) -> str:
    function = getattr(item, "function", None)
    if function is None:
        return ""
    try:
        return inspect.getsource(function)[:CODE_LIMIT]
    except (OSError, TypeError):
        return ""


def pytest_collection_finish(session: pytest.Session) -> None:
    root = session.config.rootpath
    tests = []
    for item in session.items:
        line = item.location[1]
        tests.append(
            {
                "nodeid": item.nodeid,
                "filename": _relative(item.path, root),
                "line_no": line + 1 if line is not None else 0,
                "test_code": _test_code(item),
                "given": item.get_closest_marker("given") is not None,
                "integration": item.get_closest_marker("integration") is not None,
            }
        )
    _write({"type": "collected", "tests": tests})


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _write({"type": "start", "nodeid": nodeid})


def _learner_frame(excinfo: pytest.ExceptionInfo[BaseException], root: Path) -> str:
    """`stages/NN_x/workit/file.py:LINE` of the deepest frame in a stage's code, else ''."""
    error = excinfo.value
    if isinstance(error, SyntaxError) and error.filename:
        return f"{_relative(Path(error.filename), root)}:{error.lineno}"
    where = ""
    for entry in excinfo.traceback:
        path = _relative(Path(str(entry.path)), root)
        parts = path.split("/")
        if len(parts) > 3 and parts[0] in ("stages", "solutions") and parts[2] == "workit":
            where = f"{path}:{entry.lineno + 1}"
    return where


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    state = item.stash.setdefault(_phases, {"duration": 0.0, "outcome": "passed", "where": "", "output": ""})
    state["duration"] += report.duration
    if report.failed:
        if state["outcome"] == "passed":
            state["outcome"] = "failed" if report.when == "call" else "error"
            if call.excinfo is not None:
                state["where"] = _learner_frame(call.excinfo, item.config.rootpath)
            output = (report.capstdout + report.capstderr).strip()
            state["output"] = output[-OUTPUT_LIMIT:]
    elif report.skipped and state["outcome"] == "passed":
        state["outcome"] = "skipped"
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    result = yield
    state = item.stash.get(_phases, {"duration": 0.0, "outcome": "passed", "where": "", "output": ""})
    _write({"type": "done", "nodeid": item.nodeid, **state})
    return result
