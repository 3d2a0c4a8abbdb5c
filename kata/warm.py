"""A warm runner for `kata watch`: import the libraries once, fork a child for each check.

About half of a stage's run is importing Flask, Celery, kombu, fakeredis and pytest before
the first test. The watching process imports them once; each check runs pytest in a forked
child, which starts with them already in memory. The learner's own code is never imported
in the parent: each child imports `workit` afresh from disk (and any compiled copy of it is
removed first, so an edit is seen even within the same second).

Fork is used only where it is safe: on Linux. Elsewhere (macOS, where fork after these
imports can crash; Windows, which has none) `launcher()` returns None and every check is a
fresh subprocess, as without watch.
"""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kata.layout import PACKAGE, TARGETS

# What a stage's tests import before the first test, learner's code aside.
LIBRARIES = (
    "pytest", "_pytest.pytester", "flask", "flask_wtf", "jinja2", "werkzeug.test", "requests", "responses",
    "redis", "fakeredis", "celery", "celery.contrib.testing.worker", "kombu", "kombu.transport.redis",
    "email_validator", "aiosmtpd.controller", "smtplib", "email.message",
)  # fmt: skip


def fork_is_safe() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork")


class ForkedProcess:
    """A forked child, with the part of subprocess.Popen's interface kata.runner uses."""

    def __init__(self, pid: int) -> None:
        self.pid, self.returncode = pid, None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(["pytest"], timeout or 0)
            time.sleep(0.02)
        return self.returncode  # type: ignore[return-value]


class WarmRunner:
    """Libraries imported once; `launch` forks a child that runs one pytest session."""

    def __init__(self, libraries: tuple[str, ...] = LIBRARIES) -> None:
        self.loaded: list[str] = []
        for name in libraries:
            try:
                importlib.import_module(name)
                self.loaded.append(name)
            except Exception:  # noqa: BLE001, S112 - a library that fails here fails in the child too, with its message
                continue

    def launch(self, command: list[str], cwd: Path, env: dict[str, str], out: Any) -> ForkedProcess:
        arguments = command[command.index("pytest") + 1 :] if "pytest" in command else command[1:]
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            code = 3
            try:
                os.setsid()
                os.chdir(cwd)
                os.environ.clear()
                os.environ.update(env)
                devnull = os.open(os.devnull, os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out.fileno(), 1)
                os.dup2(out.fileno(), 2)
                sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the child's own streams
                sys.stdout = open(1, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.stderr = open(2, "w", encoding="utf-8", closefd=False)  # noqa: SIM115
                sys.path.insert(0, str(cwd))
                _forget_learner_code(cwd)
                import pytest

                code = int(pytest.main(arguments))
            except BaseException:  # noqa: BLE001 - whatever happens, the child must exit here
                import traceback

                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        return ForkedProcess(pid)


def _forget_learner_code(root: Path) -> None:
    """Make the child import `workit` from source: no module of it in memory, no .pyc."""
    for name in [name for name in sys.modules if name == PACKAGE or name.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    for target in TARGETS:
        for cache in (root / target).glob(f"*/{PACKAGE}/**/__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)


def launcher() -> Any:
    """A warm runner's launch function where forking is safe, else None (fresh subprocesses)."""
    return WarmRunner().launch if fork_is_safe() else None
