"""Say what a failure means for the learner: their code, or their machine?

A test that fails because Redis is not installed, a port is taken or maildump is missing
says nothing about the learner's code. Those are recognised from the recorded exception
and reported as an environment problem, with the command that fixes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kata.reports import TestResult

MESSAGE_LINES = 6
MESSAGE_WIDTH = 400


@dataclass(frozen=True)
class Explanation:
    kind: str  # "environment", "todo", "timeout", "import" or "failure"
    headline: str
    fix: str = ""

    @property
    def environment(self) -> bool:
        return self.kind == "environment"


REDIS_FIX = (
    "Install and start Redis: `sudo apt-get install redis-server` (Debian, Ubuntu) or "
    "`brew install redis`, then `redis-server`; check it with `redis-cli ping`. "
    "Or point REDIS_URL at a Redis you have."
)
PORT_FIX = (
    "Another program already listens on that port. Find it with `ss -ltnp` (Linux) or "
    "`lsof -iTCP -sTCP:LISTEN` (macOS) and stop it, for example an old `make run` or `flask run`."
)
MAILDUMP_FIX = "Install the kata's service extras: `make venv`, or `pip install -e '.[stack]'`."


def trim(message: str, lines: int = MESSAGE_LINES, width: int = MESSAGE_WIDTH) -> str:
    """The start of a failure message: a few lines, none of them endless."""
    kept = [line[:width] + (" ..." if len(line) > width else "") for line in message.strip().splitlines()[:lines]]
    more = len(message.strip().splitlines()) - lines
    if more > 0:
        kept.append(f"... ({more} more line{'s' if more != 1 else ''})")
    return "\n".join(kept)


def _has(exception: tuple[str, ...], *names: str) -> bool:
    return any(name in exception for name in names)


REDIS_UNREACHABLE = re.compile(
    r"redis-server is not installed|Cannot connect to redis|Error (111|61|113|10061) connecting|"
    r"Connection refused.*6379|Redis is not reachable",
    re.IGNORECASE,
)


def first_line(text: str) -> str:
    return trim(text, 1).splitlines()[0] if text.strip() else ""


def environment_problem(test: TestResult) -> Explanation | None:
    """An Explanation when the failure comes from the machine, not the learner's code."""
    exception, message = test.exception, test.message
    lowered = message.lower()
    if "address already in use" in lowered or "errno 98" in lowered or "errno 48" in lowered:
        port = re.search(r"port[ =:]*(\d{2,5})", message, re.IGNORECASE)
        what = f"a port is already in use{f' ({port.group(1)})' if port else ''}"
        return Explanation("environment", what, PORT_FIX)
    if _has(exception, "StackError"):
        if REDIS_UNREACHABLE.search(message):
            return Explanation("environment", "Redis is not available: " + first_line(message), REDIS_FIX)
        if "maildump" in lowered and "not installed" in lowered:
            return Explanation("environment", "maildump is not installed", MAILDUMP_FIX)
        if re.match(r"\s*(flask|celery|web|worker)\b", message, re.IGNORECASE):
            return None  # the learner's own app or worker did not start: most likely their code
        return Explanation("environment", "a service the tests need did not start: " + first_line(message))
    if _has(exception, "FileNotFoundError") and re.search(r"redis-server|maildump", message):
        missing = "redis-server" if "redis-server" in message else "maildump"
        return Explanation("environment", f"{missing} is not installed", REDIS_FIX if missing == "redis-server" else MAILDUMP_FIX)
    redis_down = _has(exception, "RedisError", "OperationalError") and _has(exception, "ConnectionError")
    if (redis_down or REDIS_UNREACHABLE.search(message)) and test.integration and "FakeRedis" not in message:
        return Explanation("environment", "Redis is not reachable: " + first_line(message), REDIS_FIX)
    return None


def explain(test: TestResult) -> Explanation:
    """What a failing test tells the learner, in one line, plus the fix when it is known."""
    found = environment_problem(test)
    if found is not None:
        return found
    if test.status == "not run":
        return Explanation("timeout" if "stopped after" in test.message else "failure", test.message)
    if _has(test.exception, "NotImplementedError"):
        return Explanation("todo", "not written yet: " + trim(test.message, 2))
    if "Timeout" in test.message and "pytest-timeout" in test.message:
        return Explanation(
            "timeout",
            "the test took too long and was stopped (" + trim(test.message, 1) + ")",
            "Something waits forever: a network call without timeout=, a blocking pop without a "
            "timeout, a worker that never starts, or a loop that never ends.",
        )
    if _has(test.exception, "ImportError", "SyntaxError", "ModuleNotFoundError"):
        return Explanation("import", "Python could not import your code: " + trim(test.message, 2))
    kind = test.exception[0] if test.exception else "failure"
    message = trim(test.message) or "(no message)"
    if kind == "AssertionError":
        return Explanation("failure", message)
    return Explanation("failure", f"{kind}: {message}")


def _stage_path(path: str) -> str:
    """`/any/where/stages/01_sync/workit/x.py` -> `stages/01_sync/workit/x.py`."""
    found = re.search(r"(?:^|/)((?:stages|solutions)/\d\d_[^/]+/.*)$", path)
    return found.group(1) if found else path


def explain_broken(message: str) -> Explanation:
    """A test file that could not be imported: name the error and where it is."""
    lines = [line for line in message.strip().splitlines() if line.strip()]
    error = next((line for line in reversed(lines) if re.match(r"^E\s+[\w.]+(Error|Exception)\b", line)), "")
    text = error.removeprefix("E").strip() or trim(message, 2)
    syntax = [re.search(r'File "([^"]+)", line (\d+)', line) for line in lines]
    located = [m for m in syntax if m]
    if located:
        text += f"\n  at {_stage_path(located[-1].group(1))}:{located[-1].group(2)}"
    else:
        frames = [line.split(": in ")[0] for line in lines if re.match(r"^\S+\.py:\d+: in ", line)]
        mine = [frame for frame in frames if re.search(r"(stages|solutions)/\d\d_[^/]+/workit/", frame)]
        if mine:
            text += f"\n  at {_stage_path(mine[-1])}"
    if "No package 'workit'" in message:
        return Explanation("environment", text)
    return Explanation("import", "Python could not import this test file: " + text)
