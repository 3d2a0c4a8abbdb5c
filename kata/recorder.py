"""pytest plugin: a record of the run, one JSON line per event, in the file KATA_RECORD names.

Loaded with `-p kata.recorder` by every run the kata starts: the self-check's (kata.selfcheck)
and the learner commands' (kata.runner). Lines are written as they happen, so `kata check`
can show progress while pytest runs. Each line has a `type`:

- `collected`: every test (its file, line, source, markers), once, before any runs;
- `start`: a test starts (a run stopped by a time limit knows which test hung);
- `outcome`: a phase of a test ended (its call, or a setup or teardown that did not pass),
  or a test file could not be collected: the exception's classes and message, and the
  error it was raised from (kata.reports.Outcome);
- `done`: a test ended: passed / failed / error / skipped, time taken, captured output, and
  where in the learner's `workit` package the failure happened.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from kata.layout import RECORD_ENV

CODE_LIMIT = 4000
OUTPUT_LIMIT = 500  # exercism's limit for a test's output
MESSAGE_LIMIT = 2000

_phases = pytest.StashKey[dict[str, Any]]()


def _write(entry: dict[str, Any]) -> None:
    path = os.environ.get(RECORD_ENV)
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


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.failed:
        _write(
            {
                "type": "outcome",
                "nodeid": report.nodeid,
                "path": str(report.fspath),
                "when": "collect",
                "outcome": "failed",
                "given": False,
                "exception": None,
                "message": str(report.longrepr)[-MESSAGE_LIMIT:],
            }
        )


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    _write({"type": "start", "nodeid": nodeid})


def _phase_outcome(item: pytest.Item, report: pytest.TestReport, excinfo: pytest.ExceptionInfo[BaseException] | None) -> dict[str, Any]:
    """A phase's `outcome` line: the exception's classes and message, and its cause's."""
    error = excinfo.value if excinfo else None
    cause = error.__cause__ or (None if error.__suppress_context__ else error.__context__) if error else None
    return {
        "type": "outcome",
        "nodeid": item.nodeid,
        "path": str(item.path),
        "when": report.when,
        "outcome": report.outcome,
        "given": item.get_closest_marker("given") is not None,
        "reference": item.get_closest_marker("reference") is not None,
        "exception": [c.__name__ for c in type(excinfo.value).__mro__] if excinfo else None,
        "message": str(excinfo.value)[:MESSAGE_LIMIT] if excinfo else "",
        "cause": [c.__name__ for c in type(cause).__mro__] if cause else None,
        "cause_message": str(cause)[:MESSAGE_LIMIT] if cause else "",
    }


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


def _add_phase(state: dict[str, Any], item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[None]) -> None:
    """Add a phase to what the test's `done` line will say."""
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


def _new_state() -> dict[str, Any]:
    return {"duration": 0.0, "outcome": "passed", "where": "", "output": ""}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" or not report.passed:
        _write(_phase_outcome(item, report, call.excinfo))
    _add_phase(item.stash.setdefault(_phases, _new_state()), item, report, call)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Generator[None, object, object]:
    result = yield
    _write({"type": "done", "nodeid": item.nodeid, **item.stash.get(_phases, _new_state())})
    return result
