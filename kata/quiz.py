"""`kata quiz`: a stage's "Check your understanding" questions, one at a time in the terminal.

The questions stay in the stage README (its `## Check your understanding` section, a
numbered list); their answers live beside it in `stages/NN_x/quiz.toml`, so that reading the
README gives no answer away:

    [[question]]
    number = 2                      # the README's question number
    choices = ["thumbnails", "..."] # optional: the learner picks (one or more) instead of writing
    correct = [1, 3]                # with choices: the right ones, 1-based
    answer = '''The model answer, shown once the learner has answered.'''

The learner writes an answer (one line) or picks choices before the model answer is shown.
Which questions a learner has answered, and what they wrote, is UI state kept in
`.kata/quiz.json` (untracked), beside the hints seen: it never decides a grade.
Without a terminal the answers are read from stdin, one line each; at the end of input the
quiz stops and keeps what was answered.
"""

from __future__ import annotations

import json
import re
import sys
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from kata.hints import readme_tasks
from kata.layout import Stage

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

QUIZ_FILE = "quiz.toml"
PROGRESS_FILE = Path(".kata") / "quiz.json"
UNDERSTANDING = re.compile(r"^##\s+Check your understanding\s*$", re.MULTILINE)
NUMBERED = re.compile(r"^(\d+)\.\s+", re.MULTILINE)
MIN_QUESTIONS, MAX_QUESTIONS = 2, 4
# A run of this many words of an answer standing in the README states the answer there.
ANSWER_WORDS = 8


class QuizError(ValueError):
    """A quiz.toml that cannot be used."""


@dataclass(frozen=True)
class Question:
    number: int
    text: str  # the README's
    answer: str
    choices: tuple[str, ...] = ()
    correct: tuple[int, ...] = ()  # 1-based indexes into choices

    def right(self, picked: tuple[int, ...]) -> bool:
        return set(picked) == set(self.correct)


def readme_path(stage: Stage) -> Path:
    return stage.root / "stages" / stage.name / "README.md"


def quiz_path(stage: Stage) -> Path:
    return stage.root / "stages" / stage.name / QUIZ_FILE


def understanding_section(readme: str) -> str | None:
    """The text of `## Check your understanding`, up to the next `## ` heading; None without one."""
    found = UNDERSTANDING.search(readme)
    if found is None:
        return None
    return readme[found.end() :].split("\n## ", 1)[0]


def readme_questions(readme: str) -> dict[int, str]:
    """The section's numbered questions, by number, their lines joined and unwrapped."""
    section = understanding_section(readme)
    if section is None:
        return {}
    starts = list(NUMBERED.finditer(section))
    questions = {}
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(section)
        body = section[start.end() : end]
        paragraph = re.split(r"\n[ \t]*\n(?![ \t])", body.strip("\n"), maxsplit=1)[0]  # the item, not prose after it
        questions[int(start.group(1))] = " ".join(paragraph.split())
    return questions


def _read_entries(stage: Stage) -> list[dict]:
    path = quiz_path(stage)
    where = f"stages/{stage.name}/{QUIZ_FILE}"
    if not path.is_file():
        raise QuizError(f"{where} is missing: it holds the answers to the README's `Check your understanding` questions")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise QuizError(f"{where} is not valid TOML: {error}") from None
    entries = data.get("question")
    if not isinstance(entries, list) or not all(isinstance(entry, dict) for entry in entries):
        raise QuizError(f"{where} has no [[question]] tables")
    return entries


def load_quiz(stage: Stage) -> list[Question]:
    """The stage's questions (the README's text, quiz.toml's answers), in order; QuizError
    when either is missing or they do not match."""
    problems = quiz_problems(stage, answers_apart=False)
    if problems:
        raise QuizError(problems[0])
    texts = readme_questions(readme_path(stage).read_text(encoding="utf-8"))
    questions = []
    for entry in _read_entries(stage):
        number = entry["number"]
        questions.append(
            Question(
                number,
                texts[number],
                textwrap.dedent(entry["answer"]).strip(),
                tuple(entry.get("choices", ())),
                tuple(entry.get("correct", ())),
            )
        )
    return sorted(questions, key=lambda question: question.number)


def _answer_in(answer: str, readme: str) -> str | None:
    """A run of ANSWER_WORDS words of the answer that stands in the README, or None."""
    words = re.findall(r"[\w'`\"-]+", answer.lower())
    flat = " ".join(re.findall(r"[\w'`\"-]+", readme.lower()))
    for start in range(len(words) - ANSWER_WORDS + 1):
        run = " ".join(words[start : start + ANSWER_WORDS])
        if f" {run} " in f" {flat} ":
            return run
    return None


def quiz_problems(stage: Stage, answers_apart: bool = True) -> list[str]:
    """What the self-check refuses: two to four questions in the README, each with its answer
    in quiz.toml, and (`answers_apart`) no answer in the README: no folded `<details>`, no run
    of ANSWER_WORDS words of an answer."""
    where_readme = f"stages/{stage.name}/README.md"
    where = f"stages/{stage.name}/{QUIZ_FILE}"
    path = readme_path(stage)
    if not path.is_file():
        return [f"{where_readme} is missing"]
    readme = path.read_text(encoding="utf-8")
    section = understanding_section(readme)
    if section is None:
        return [f"{where_readme} has no `## Check your understanding` section"]
    problems = []
    texts = readme_questions(readme)
    # A stage of incident tickets asks one postmortem per incident: it may ask one per task.
    most = max(MAX_QUESTIONS, len(readme_tasks(stage)))
    if not MIN_QUESTIONS <= len(texts) <= most:
        problems.append(
            f"{where_readme}: `Check your understanding` asks {len(texts)} numbered questions; ask two to {'four' if most == MAX_QUESTIONS else most}"
        )
    if answers_apart and "<details>" in readme:
        problems.append(f"{where_readme} holds a folded <details> answer: answers go in {where}, the README asks only")
    try:
        entries = _read_entries(stage)
    except QuizError as error:
        return [*problems, str(error)]
    numbers = []
    for position, entry in enumerate(entries, start=1):
        number = entry.get("number")
        if not isinstance(number, int):
            problems.append(f"{where}: [[question]] {position} has no `number = N` (the README's question number)")
            continue
        numbers.append(number)
        answer = entry.get("answer")
        if not isinstance(answer, str) or not answer.strip():
            problems.append(f"{where}: question {number} has no answer")
        elif answers_apart and (run := _answer_in(answer, readme)) is not None:
            problems.append(f"{where}: question {number}'s answer stands in the README ({run!r}...): the README must not answer it")
        unknown = set(entry) - {"number", "answer", "choices", "correct"}
        if unknown:
            problems.append(f"{where}: question {number} has unknown keys {sorted(unknown)}")
        choices, correct = entry.get("choices", []), entry.get("correct", [])
        if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
            problems.append(f"{where}: question {number}'s choices must be a list of texts")
        elif choices and (
            not isinstance(correct, list)
            or not correct
            or not all(isinstance(c, int) and 1 <= c <= len(choices) for c in correct)
        ):
            problems.append(f"{where}: question {number} has choices: `correct` lists the right ones, 1 to {len(choices)}")
        elif correct and not choices:
            problems.append(f"{where}: question {number} has `correct` but no choices")
    if sorted(numbers) != sorted(texts):
        problems.append(
            f"{where}: answers for questions {sorted(numbers)}, but {where_readme} asks {sorted(texts)}: one answer per question"
        )
    return problems


class QuizProgress:
    """`.kata/quiz.json`: which questions of which stage the learner has answered, and how."""

    def __init__(self, root: Path) -> None:
        self.path = root / PROGRESS_FILE

    def _load(self) -> dict[str, dict[str, dict]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {stage: answers for stage, answers in data.items() if isinstance(answers, dict)}

    def answered(self, stage: str) -> dict[int, dict]:
        return {int(number): entry for number, entry in self._load().get(stage, {}).items() if number.isdigit()}

    def record(self, stage: str, number: int, answer: str, right: bool | None = None) -> None:
        data = self._load()
        entry: dict[str, object] = {"answer": answer, "at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        if right is not None:
            entry["right"] = right
        data.setdefault(stage, {})[str(number)] = entry
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
            temporary.replace(self.path)
        except OSError:
            pass  # a read-only checkout still asks, it just does not remember

    def forget(self, stage: str) -> None:
        data = self._load()
        if data.pop(stage, None) is not None:
            self.path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def progress_text(stage: Stage, progress: QuizProgress) -> str:
    """`2/4`: questions answered of the stage's; `-` for a stage without a quiz."""
    try:
        questions = load_quiz(stage)
    except QuizError:
        return "-"
    answered = progress.answered(stage.name)
    return f"{sum(question.number in answered for question in questions)}/{len(questions)}"


def _all_answered(stage: Stage, progress: QuizProgress) -> bool:
    answered, _, total = progress_text(stage, progress).partition("/")
    return answered == total


def parse_choices(text: str, count: int) -> tuple[int, ...] | None:
    """`1 3`, `1,3` or `a c` as 1-based choices; None when it is not a pick of 1 to `count`."""
    parts = [part for part in re.split(r"[\s,;]+", text.strip().lower()) if part]
    picked = []
    for part in parts:
        if part.isdigit():
            picked.append(int(part))
        elif len(part) == 1 and "a" <= part <= "z":
            picked.append(ord(part) - ord("a") + 1)
        else:
            return None
    if not picked or not all(1 <= number <= count for number in picked):
        return None
    return tuple(sorted(set(picked)))


def _wrap(text: str, prefix: str = "  ") -> list[str]:
    lines = []
    for paragraph in re.split(r"\n\s*\n", text.strip()):
        lines += [*textwrap.wrap(" ".join(paragraph.split()), 88, initial_indent=prefix, subsequent_indent=prefix), ""]
    return lines[:-1]


Read = Callable[[str], "str | None"]  # shows a prompt, returns a line (None at the end of input)
Echo = Callable[[str], None]


def ask(stage: Stage, questions: list[Question], progress: QuizProgress, read: Read, echo: Echo) -> int:
    """Ask each question in turn, the model answer after the learner's; the number answered.
    Stops at the end of input, keeping what was answered."""
    answered = 0
    for index, question in enumerate(questions, start=1):
        echo("")
        echo(f"Question {question.number} ({index} of {len(questions)}, {stage.name}):")
        echo("\n".join(_wrap(question.text)))
        right: bool | None = None
        if question.choices:
            for letter, choice in enumerate(question.choices, start=1):
                echo(f"    {letter}. {choice}")
            several = len(question.correct) > 1
            prompt = f"Your pick ({'one or more, e.g. 1 3' if several else 'one number'}): "
            while True:
                line = read(prompt)
                if line is None:
                    return answered
                picked = parse_choices(line, len(question.choices))
                if picked is not None:
                    break
                echo(f"  Pick by number, 1 to {len(question.choices)}.")
            right = question.right(picked)
            reply = " ".join(str(number) for number in picked)
        else:
            while True:
                line = read("Your answer (one line, then Enter): ")
                if line is None:
                    return answered
                if line.strip():
                    break
                echo("  Write your answer first, however short: the model answer comes after it.")
            reply = line.strip()
        progress.record(stage.name, question.number, reply, right)
        answered += 1
        echo("")
        if right is not None:
            wanted = " and ".join(str(number) for number in question.correct)
            echo(f"  Right: {wanted}." if right else f"  Not quite: the answer is {wanted}.")
        echo("  The model answer:")
        echo("\n".join(_wrap(question.answer, "  | ")))
    return answered


def session(root: Path, stages: list[Stage], stage: Stage | None, again: bool, read: Read, echo: Echo) -> int:
    """`kata quiz [STAGE]`: the exit status. Without a stage: the first with a question not
    answered yet. Asks the questions not answered yet (all of them with `again`, or when every
    one was answered before)."""
    progress = QuizProgress(root)
    if stage is None:
        open_stages = [s for s in stages if quiz_path(s).is_file() and not _all_answered(s, progress)]
        if not open_stages:
            echo("You have answered every stage's questions. Again: kata quiz STAGE (e.g. kata quiz 01).")
            return 0
        stage = open_stages[0]
    try:
        questions = load_quiz(stage)
    except QuizError as error:
        echo(f"{stage.name} has no quiz to ask: {error}")
        return 1
    answered = progress.answered(stage.name)
    left = [q for q in questions if q.number not in answered]
    if again or not left:
        if not again:
            echo(f"You have answered all {len(questions)} questions of {stage.name} before: here they are again.")
        left = questions
    echo(f"Check your understanding of {stage.name}: {len(left)} question{'s' if len(left) != 1 else ''}.")
    echo("Answer each in your own words (or pick, where there are choices); the model answer follows.")
    done = ask(stage, left, progress, read, echo)
    total = len(questions)
    now = sum(q.number in progress.answered(stage.name) for q in questions)
    echo("")
    if done < len(left):
        echo(f"Stopped: {now} of {total} questions of {stage.name} answered. `kata quiz {stage.name[:2]}` goes on.")
        return 0
    echo(f"That was all: {now} of {total} questions of {stage.name} answered (kata status shows it).")
    return 0
