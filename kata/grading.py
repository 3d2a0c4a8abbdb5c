"""`kata grade`: per-test partial credit in GitHub Classroom's runner format.

The result (written by `kata grade --json FILE`) is what Classroom's grading reporter reads
from a runner, with exercism's test-runner results (v3) as the model for each test:

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": 100,
     "tests": [{"name", "status", "score", "max_score", "message", "output",
                "test_code", "filename", "line_no", "duration"}, ...]}

- A stage's points (kata/grading.toml, whole numbers) are split evenly over its tests in
  sixty-fourths of a point (POINT_UNIT): binary fractions, so that Classroom's reporter,
  which adds the scores as JavaScript doubles, gets exactly the stage's points when every
  test passes, and an exact sum for any other set of passing tests.
- Tests marked `given` pass in the untouched skeleton: they earn nothing and are left out of
  the result, because the reporter's table scores a runner by its share of passing tests.
- `status` of a test: "pass"; "fail" (an assertion, an exception from the code, a skip, a
  test stopped by pytest-timeout); "error" (the test could not run: its file does not
  import, the run was stopped by the overall time limit or crashed, or the machine lacks a
  service the test needs). Only a "pass" scores.
- `status` of the result: "error" if any test is "error", else "fail" if any is "fail",
  else "pass". `message` (top level) says why, when the status is "error".
- Bonus stages (grading.toml's `[bonus]`) are extra credit: their tests score as any other,
  but `max_score` counts the core stages only, and the result's `status` looks at the core
  tests only (a run of bonus stages alone: max_score 0, status from its own tests).
- `duration` is in seconds. Only a test that did not pass has `message` (the first
  MESSAGE_LINES lines of its failure, at most MESSAGE_LIMIT characters, with a note when
  cut), and `output` (what it printed, at most 500 characters, like exercism) and
  `test_code` when they are not empty: Classroom's reporter prints every test's `test_code`,
  and a passing test's is noise in its log and bytes in its environment.
- A size limit (`kata grade --max-bytes N`, which the Classroom workflow passes: the reporter
  gets each step's result in one environment variable, and Linux refuses one over 128 KiB;
  kata/workflow.py): `fit` keeps the result's JSON under N bytes, however many tests fail
  and however many stages grow. Points, statuses and the result's `max_score` never change;
  what gives way, in this order until it fits: the failing tests' details share the bytes
  left (each keeps the start of its message first, then of its test code, then of its output,
  cut with a note), without `filename` and `duration`, if each gets ENOUGH_TO_SAY_WHY bytes;
  else one entry per test file, then one per stage, whose message names the tests that did
  not pass with the first line of each one's message.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from kata.explain import environment_problem, explain_broken
from kata.layout import Stage
from kata.reports import BrokenFile, StageResult, TestResult, TestRun
from kata.testfiles import static_tests

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

WEIGHTS_FILE = Path("kata") / "grading.toml"
MESSAGE_LINES = 10  # a failure's first lines: its explanation, the assertion, the first of the diff
MESSAGE_LIMIT = 1000
# Per-test points are multiples of this: a binary fraction, so every sum of them is exact in
# the doubles Classroom's reporter adds (hundredths are not: 136 of them summed to
# 99.99999999999997). 1/64 keeps two tests of a stage within 0.016 points of each other.
POINT_UNIT = 1 / 64
MIN_TIMEOUT_MINUTES = 0.3


class GradingError(ValueError):
    """The weights file does not fit the stages on disk."""


@dataclass(frozen=True)
class GradingConfig:
    weights: dict[str, float]
    python: str = "3.12"
    timeout_minutes: float = 5
    integration: bool = False
    # Extra credit: a bonus stage's points add to the score, never to max_score, and a bonus
    # test that fails does not fail the result.
    bonus: tuple[str, ...] = ()

    def is_bonus(self, stage: str) -> bool:
        return stage in self.bonus

    def core_points(self, stages: list[str]) -> float:
        return sum(self.weights.get(stage, 0.0) for stage in stages if not self.is_bonus(stage))


def weights_path(root: Path) -> Path:
    return root / WEIGHTS_FILE


def load_config(path: Path) -> GradingConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GradingError(f"{path} is missing: it gives each stage its points ([weights] 01_sync = 25 ...)") from None
    except tomllib.TOMLDecodeError as error:
        raise GradingError(f"{path} is not valid TOML: {error}") from None
    weights = data.get("weights")
    if not isinstance(weights, dict) or not weights:
        raise GradingError(f"{path} has no [weights] table (01_sync = 25, ...)")
    for stage, points in weights.items():
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points <= 0 or points != int(points):
            raise GradingError(
                f"{path}: the weight of {stage} is {points!r}; it must be a whole number above 0 "
                "(Classroom's command grader reads max-score as an integer)"
            )
    classroom = data.get("classroom", {})
    minutes = classroom.get("timeout_minutes", 5)
    if isinstance(minutes, bool) or not isinstance(minutes, (int, float)) or minutes < MIN_TIMEOUT_MINUTES:
        raise GradingError(
            f"{path}: timeout_minutes is {minutes!r}; it must be a number of minutes, at least {MIN_TIMEOUT_MINUTES} "
            "(each stage's time is shared out between several bounds: kata/workflow.py)"
        )
    return GradingConfig(
        weights={stage: float(points) for stage, points in weights.items()},
        python=str(classroom.get("python", "3.12")),
        timeout_minutes=minutes,
        integration=bool(classroom.get("integration", False)),
        bonus=_bonus_stages(data.get("bonus", {}), weights, path),
    )


def _bonus_stages(table: Any, weights: dict[str, Any], path: Path) -> tuple[str, ...]:
    stages = table.get("stages", []) if isinstance(table, dict) else None
    if not isinstance(stages, list) or not all(isinstance(stage, str) for stage in stages):
        raise GradingError(f'{path}: [bonus] stages must be a list of stage names (stages = ["05_failures"])')
    unknown = [stage for stage in stages if stage not in weights]
    if unknown:
        raise GradingError(f"{path}: [bonus] names {', '.join(unknown)}, which [weights] does not give points")
    if set(weights) <= set(stages):
        raise GradingError(f"{path}: every stage is a bonus stage; extra credit needs a core stage to add to")
    return tuple(stages)


def check_weights(config: GradingConfig, stages: list[Stage], path: Path, *, every_weight: bool = True) -> None:
    """Every stage given has a weight and (with `every_weight`) every weight a stage, or a
    GradingError. Grading some stages needs only their weights: a stage missing from disk
    must not stop the others from being graded."""
    on_disk = [stage.name for stage in stages]
    missing = [name for name in on_disk if name not in config.weights]
    unknown = [name for name in config.weights if name not in on_disk] if every_weight else []
    problems = []
    if missing:
        problems.append(f"no weight for {', '.join(missing)}")
    if unknown:
        problems.append(f"weights for stages that do not exist: {', '.join(unknown)}")
    if problems:
        raise GradingError(f"{path} does not match the stages on disk ({', '.join(on_disk)}): {'; '.join(problems)}")


def split_points(points: float, count: int) -> list[float]:
    """`points` over `count` tests in multiples of POINT_UNIT, summing exactly (the first
    tests get the one unit left over each)."""
    if count <= 0:
        return []
    units = round(points / POINT_UNIT)
    share, extra = divmod(units, count)
    return [(share + (1 if index < extra else 0)) * POINT_UNIT for index in range(count)]


# --- the grade ---------------------------------------------------------------------------


def first_lines(message: str, lines: int = MESSAGE_LINES, limit: int = MESSAGE_LIMIT) -> str:
    """The start of a failure message, with a note saying how much is left out."""
    text = message.strip()
    kept = "\n".join(text.splitlines()[:lines])[:limit]
    if kept == text:
        return text
    more = len(text.splitlines()) - len(kept.splitlines())
    return kept + (f"\n... ({more} more line{'s' if more != 1 else ''})" if more > 0 else " ...")


@dataclass
class Graded:
    """One entry of the result, before points are given out."""

    name: str
    status: str
    message: str = ""
    output: str = ""
    test_code: str = ""
    filename: str = ""
    line_no: int = 0
    duration: float = 0.0
    given: bool = False


def _graded_test(test: TestResult, run: TestRun) -> Graded:
    status, message = "pass", ""
    if not test.passed:
        env = environment_problem(test)
        if test.status == "not run" or env is not None:
            status = "error"
            message = f"environment problem: {env.headline}. {env.fix}".strip() if env else test.message
        else:
            status = "fail"
            kind = test.exception[0] if test.exception else ""
            message = test.message if kind in ("AssertionError", "") else f"{kind}: {test.message}"
            if test.status == "skipped":
                message = f"skipped: {test.message}"
            if test.where:
                message += f"\n(at {test.where})"
    return Graded(
        name=f"{test.stage}/{test.name}",
        status=status,
        message=first_lines(message),
        output=test.output if status != "pass" else "",
        test_code=test.test_code if status != "pass" else "",
        filename=test.filename,
        line_no=test.line_no,
        duration=round(test.duration, 3),
        given=test.given,
    )


def _graded_broken(root: Path, broken: BrokenFile) -> list[Graded]:
    path = root / broken.nodeid
    why = explain_broken(broken.message).headline
    message = first_lines(f"{why}\nNone of this file's tests could run.")
    tests = static_tests(path) or [(f"(all tests of {path.name})", 1)]
    return [
        Graded(f"{broken.stage}/{broken.name}::{name}", "error", message, filename=broken.nodeid, line_no=line)
        for name, line in tests
    ]


def grade(root: Path, run: TestRun, config: GradingConfig) -> dict[str, Any]:
    """The Classroom runner result for a finished run."""
    tests: list[dict[str, Any]] = []
    for result in run.stages:
        entries = [_graded_test(test, run) for test in result.tests]
        for broken in result.broken:
            entries += _graded_broken(root, broken)
        weight = config.weights.get(result.stage, 0.0)
        if not entries:
            entries = [Graded(f"{result.stage}", "error", run.problem or "no tests were collected for this stage")]
        # `given` tests pass on the untouched skeleton: they guard, they earn nothing, and
        # they stay out of the result (the reporter's table would count them as passes).
        earning = [entry for entry in entries if not entry.given] or entries
        for entry, points in zip(earning, split_points(weight, len(earning))):
            test: dict[str, Any] = {
                "name": entry.name,
                "status": entry.status,
                "score": points if entry.status == "pass" else 0,
                "max_score": points,
            }
            if entry.status != "pass":
                test["message"] = entry.message
                test.update({field: getattr(entry, field) for field in ("output", "test_code") if getattr(entry, field)})
            test.update(filename=entry.filename, line_no=entry.line_no, duration=entry.duration)
            tests.append(test)
    # Bonus stages are extra credit: they add to the score but not to max_score, and their
    # failures do not fail the result (unless only bonus stages were graded).
    graded = [r.stage for r in run.stages]
    core = [t for t in tests if not config.is_bonus(t["name"].split("/", 1)[0])] if config.core_points(graded) else tests
    statuses = {test["status"] for test in core}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    result: dict[str, Any] = {
        "version": 1,
        "status": status,
        "max_score": _number(config.core_points(graded)),
        "tests": tests,
    }
    if status == "error":
        errors = [t for t in core if t["status"] == "error"]
        result["message"] = run.problem or f"{len(errors)} test(s) could not run: {errors[0]['message'].splitlines()[0]}"
    return result


def error_result(name: str, points: float, message: str) -> dict[str, Any]:
    """A result for a stage that could not be graded: no points, but its max_score, so the
    total Classroom records still counts the stage."""
    test = {"name": name, "status": "error", "score": 0, "max_score": _number(points), "message": message,
            "filename": "", "line_no": 0, "duration": 0}  # fmt: skip
    return {"version": 1, "status": "error", "max_score": _number(points), "message": message, "tests": [test]}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 2)


def score_of(result: dict[str, Any]) -> float:
    return round(sum(test["score"] for test in result["tests"]), 2)


def stage_scores(result: dict[str, Any], stages: list[StageResult]) -> list[tuple[str, int, int, float, float]]:
    """(stage, tests, passed, score, max) for the table."""
    rows = []
    for stage in stages:
        mine = [t for t in result["tests"] if t["name"].split("/", 1)[0] == stage.stage]
        rows.append(
            (
                stage.stage,
                len(mine),
                sum(t["status"] == "pass" for t in mine),
                round(sum(t["score"] for t in mine), 2),
                round(sum(t["max_score"] for t in mine), 2),
            )
        )
    return rows


def score_lines(result: dict[str, Any], stages: list[StageResult], config: GradingConfig, json_path: Path | None = None) -> list[str]:
    """What `kata grade` prints: the score table, the tests that could not run, the status."""
    lines = ["", f"  {'stage':<22}{'tests':>6}{'passed':>8}{'points':>16}"]
    total, bonus_points = 0.0, 0.0
    for stage_name, count, passed, score, max_score in stage_scores(result, stages):
        total += score
        bonus_points += max_score if config.is_bonus(stage_name) else 0.0
        label = f"{stage_name} (bonus)" if config.is_bonus(stage_name) else stage_name
        lines.append(f"  {label:<22}{count:>6}{passed:>8}{f'{score:.2f} / {max_score:g}':>16}")
    extra = f"  (bonus stages are extra credit: up to {bonus_points:g} more)" if bonus_points else ""
    core_max = result["max_score"]
    lines.append(f"  {'total':<22}{'':>6}{'':>8}{f'{total:.2f} / {core_max:g}':>16}{extra}")
    errors = [test for test in result["tests"] if test["status"] == "error"]
    if errors:
        lines += ["", click.style(f"{len(errors)} test(s) could not run:", fg="yellow")]
        grouped: dict[tuple[str, str], int] = {}
        for test in errors:
            key = (test["filename"] or test["name"], test["message"].splitlines()[0] if test["message"] else "")
            grouped[key] = grouped.get(key, 0) + 1
        lines += [f"  {where} ({count}): {why}" for (where, why), count in list(grouped.items())[:10]]
    lines.append(f"\nstatus: {result['status']}" + (f" (written to {json_path})" if json_path else ""))
    return lines


def write_json(result: dict[str, Any], path: Path, max_bytes: int | None = None) -> None:
    """The result, indented; with `max_bytes`, fitted to that many bytes (newline included)
    and compact: what the Classroom workflow hands to the reporter."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if max_bytes is None:
        path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    else:
        path.write_text(compact(fit(result, max_bytes - 1)) + "\n", encoding="utf-8")


# --- the result's size: one environment variable of Classroom's reporter -----------------
#
# The reporter reads each step's result from one environment variable, which Linux limits
# (kata/workflow.py says how much, and passes `kata grade --max-bytes`). `fit` keeps a result
# under a number of bytes without changing a point: see the module's docstring.

DETAILS = ("message", "test_code", "output")  # what a test that did not pass says, most useful first
WHOLE = ("test_code",)  # a test's code is given whole or not at all: its first lines say little
LOCATION = ("filename", "duration")  # dropped first: the name says the file, the step's log the times
CUT = " ... (cut: size limit)"
SHORTEST_CUT = 20  # characters of a cut message or output, at least: less is left out
ENOUGH_TO_SAY_WHY = 80  # bytes of message each failing test gets at least, or its file speaks for it


def compact(result: dict[str, Any]) -> str:
    """The result as the workflow writes it: compact JSON, ASCII only (so characters are bytes)."""
    return json.dumps(result, separators=(",", ":"))


def _field_bytes(name: str, text: str) -> int:
    """What `"name":"text"` adds to an entry of compact JSON, comma included."""
    return len(name) + 4 + len(json.dumps(text))


def _cut(text: str, room: int) -> str | None:
    """The longest start of `text` (with CUT) whose JSON takes at most `room` bytes; None if
    not even SHORTEST_CUT characters fit."""
    if len(json.dumps(text)) <= room:
        return text
    low, high = 0, len(text)
    while low < high:  # the longest start that fits, with the note
        middle = (low + high + 1) // 2
        if len(json.dumps(text[:middle].rstrip() + CUT)) <= room:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + CUT if low >= SHORTEST_CUT else None


def _cut_details(details: dict[str, str], room: int) -> dict[str, str]:
    """As much of a test's details as `room` bytes hold, the most useful first."""
    kept: dict[str, str] = {}
    for name in DETAILS:
        text = details.get(name)
        if text is None:
            continue
        space = room - _field_bytes(name, "")
        cut = (text if len(json.dumps(text)) <= space else None) if name in WHOLE else _cut(text, space)
        if cut is not None:
            kept[name] = cut
            room -= _field_bytes(name, cut)
    if "message" in details and "message" not in kept:
        kept["message"] = ""  # a test that did not pass always has one (its floor is set aside)
    return kept


def _with_shared_details(entries: list[dict[str, Any]], details: list[dict[str, str]], room: int) -> list[dict[str, Any]]:
    """The entries with their details, sharing `room` bytes: each test gets an equal share,
    and what a short one leaves goes to the others."""
    cost = [sum(_field_bytes(name, text) for name, text in each.items()) for each in details]
    floor = [_field_bytes("message", "") if "message" in each else 0 for each in details]  # an empty message stays
    room -= sum(floor)
    shared = [dict(entry) for entry in entries]
    order = sorted(range(len(entries)), key=lambda index: cost[index])
    for done, index in enumerate(order):
        if not details[index]:
            continue
        share = max(0, room) // (len(order) - done) + floor[index]
        kept = _cut_details(details[index], share)
        used = sum(_field_bytes(name, text) for name, text in kept.items())
        room -= used - floor[index]
        # the details go between max_score and what follows, as in an entry as graded
        head = {key: value for key, value in shared[index].items() if key in ("name", "status", "score", "max_score")}
        tail = {key: value for key, value in shared[index].items() if key not in head}
        shared[index] = {**head, **kept, **tail}
    return shared


def _exact(value: float) -> float | int:
    """A sum of scores as JSON writes it: whole numbers without `.0`, others to the last bit
    (not rounded as `_number` does: the reporter must add up to the same total)."""
    return int(value) if float(value).is_integer() else value


def _worst(statuses: list[str]) -> str:
    return "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"


def _grouped(tests: list[dict[str, Any]], key: Callable[[dict[str, Any]], str]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """One entry per group of tests (a file, a stage): the sum of their scores and maximums
    (multiples of POINT_UNIT, so the sums are exact), and a message naming those that did
    not pass."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for test in tests:
        groups.setdefault(key(test), []).append(test)
    entries, details = [], []
    for name, members in groups.items():
        score, maximum = 0.0, 0.0
        for test in members:
            score += test["score"]
            maximum += test["max_score"]
        status = _worst([test["status"] for test in members])
        entries.append({"name": f"{name} ({len(members)} tests)", "status": status,
                        "score": _exact(score), "max_score": _exact(maximum), "line_no": 0})  # fmt: skip
        if status == "pass":
            details.append({})
            continue
        passed = sum(test["status"] == "pass" for test in members)
        why = [f"- {test['name'].rsplit('::', 1)[-1]}: {_first_line(test.get('message', ''))}" for test in members if test["status"] != "pass"]
        details.append({"message": "\n".join([f"{passed} of {len(members)} passed; did not pass:", *why])})
    return entries, details


def _first_line(message: str, width: int = 120) -> str:
    line = message.strip().split("\n", 1)[0]
    return line if len(line) <= width else line[:width].rstrip() + " ..."


def fit(result: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """The result, its compact JSON at most `max_bytes` long: as it is if it fits, else with
    less said about each test (see the module's docstring). Points and statuses stay."""
    if len(compact(result)) <= max_bytes:
        return result
    tests = result["tests"]
    base = len(compact({**result, "tests": []}))
    details = [{name: test[name] for name in DETAILS if name in test} for test in tests]
    lean = [{key: value for key, value in test.items() if key not in DETAILS + LOCATION} for test in tests]
    shapes = [
        (lean, details, ENOUGH_TO_SAY_WHY),
        (*_grouped(tests, lambda test: test["name"].split("::", 1)[0]), 0),
        (*_grouped(tests, lambda test: test["name"].split("/", 1)[0]), 0),
    ]
    for entries, entry_details, least in shapes:
        skeleton = base + len(compact(entries)) - 2  # `[]` is already counted in base
        floors = sum(_field_bytes("message", "") + least for each in entry_details if "message" in each)
        if skeleton + floors <= max_bytes:
            fitted = {**result, "tests": _with_shared_details(entries, entry_details, max_bytes - skeleton)}
            assert len(compact(fitted)) <= max_bytes, (len(compact(fitted)), max_bytes)
            return fitted
    raise GradingError(f"the result cannot be made to fit in {max_bytes} bytes, not even with one entry per stage")
