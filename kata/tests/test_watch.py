"""kata watch: the warm runner sees every edit and survives a crash; keys work on a terminal."""

from __future__ import annotations

import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kata.layout import Stage
from kata.runner import run_tests
from kata.tests.test_cli import copy_kata
from kata.warm import WarmRunner, fork_is_safe

pytestmark = pytest.mark.skipif(not fork_is_safe(), reason="the warm runner forks: Linux only")
STAGE = "02_redis"


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_kata(tmp_path_factory.mktemp("watch"), solved=True)


@pytest.fixture(scope="module")
def warm() -> WarmRunner:
    return WarmRunner()


def check(root: Path, warm: WarmRunner) -> tuple[int, int]:
    result = run_tests(root, [Stage(root, STAGE)], launcher=warm.launch, time_limit=120).stage(STAGE)
    return result.passed, result.total


@pytest.mark.timeout(180)
def test_the_warm_runner_imported_the_libraries_and_sees_every_edit(solved: Path, warm: WarmRunner) -> None:
    assert {"flask", "celery", "fakeredis", "pytest"} <= set(warm.loaded)
    assert "workit" not in sys.modules or not str(getattr(sys.modules["workit"], "__file__", "")).startswith(str(solved))
    jobs = solved / "stages" / STAGE / "workit" / "jobs.py"
    good = jobs.read_text()
    passed, total = check(solved, warm)
    assert passed == total > 0
    try:
        jobs.write_text(good.replace("lpush", "rpush"))  # same size, same second: no stale .pyc may hide it
        passed, _ = check(solved, warm)
        assert passed < total, "the edit to workit/jobs.py was not seen"
    finally:
        jobs.write_text(good)
    assert check(solved, warm) == (total, total)


@pytest.mark.timeout(180)
def test_a_test_that_kills_its_process_does_not_kill_the_runner(solved: Path, warm: WarmRunner) -> None:
    jobs = solved / "stages" / STAGE / "workit" / "jobs.py"
    good = jobs.read_text()
    try:
        jobs.write_text(good.replace("def enqueue(", "def enqueue(*_a, **_k):\n    os.kill(os.getpid(), 9)\n\n\ndef _enqueue(").replace("import json", "import json\nimport os"))
        run = run_tests(solved, [Stage(solved, STAGE)], launcher=warm.launch, time_limit=120)
        stopped = [test for test in run.stage(STAGE).tests if "crashed the process" in test.message]
        assert stopped, [t.message for t in run.stage(STAGE).tests][:3]
    finally:
        jobs.write_text(good)
    passed, total = check(solved, warm)
    assert passed == total, "the runner goes on after a crash"


@pytest.mark.timeout(360)  # a watch session of several checks: slow on a busy machine
def test_watch_keys_on_a_terminal(tmp_path: Path) -> None:
    root = copy_kata(tmp_path / "keys", solved=True)
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "kata", "watch", "02"], cwd=root, stdin=follower, stdout=follower, stderr=follower,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "TERM": "dumb"}, start_new_session=True,
    )  # fmt: skip
    os.close(follower)
    screen = ""

    def read_until(text: str, timeout: float = 60, times: int = 1) -> None:
        nonlocal screen
        deadline = time.monotonic() + timeout
        while screen.count(text) < times:
            assert time.monotonic() < deadline and process.poll() is None, f"no {text!r} in:\n{screen}"
            if select.select([leader], [], [], 0.2)[0]:
                try:
                    screen += os.read(leader, 4096).decode(errors="replace")
                except OSError:
                    break

    try:
        read_until("Keys: h hint")
        assert re.search(r"\[#+-+\] 1 of \d+ stages done", screen), "the progress bar: stage 02 done"
        os.write(leader, b"h")
        read_until("Every test of 02_redis passes: no hint needed")  # a passing stage gets none
        os.write(leader, b"r")
        read_until("checking 02_redis", times=2)  # r runs the tests again, the cache notwithstanding
        os.write(leader, b"l")
        read_until("passing   quiz   status", timeout=150)  # l runs every stage: slow on a busy machine
        os.write(leader, b"n")
        read_until("On to 03_worker")
        read_until("Watching stages/03_worker for changes")
        os.write(leader, b"q")
        read_until("Stopped watching.")
        assert process.wait(30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        os.close(leader)
    assert "Traceback" not in screen
