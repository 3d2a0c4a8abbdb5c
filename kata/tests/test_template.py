"""The student template names only what it has (issue 24).

`kata export` writes the template a Classroom student gets. Every path, file name, `make`
target and README section that its learner-facing text names must be in that template: a
student who follows "see `bench/README.md`" or runs `make run` and finds nothing is lost.

What counts as a reference, in every text file the template ships (its README, the stages'
READMEs, hints, skeletons and tests, the Makefile, the Procfile) but the machinery and the
tools' configuration (NOT_SCANNED):

- a link `[text](target)` that is not a URL: its file, and its `#anchor` (a heading there);
- a relative path (`a/b`, `a/b.py`): anywhere in the text when the maintainers' repository
  has it, or it ends with a file's extension; resolved against the file's folder, its stage,
  the stage's `workit/` and `tests/`, and the template's root. Paths an app or the kata makes
  when it runs (`instance/`, `.venv/`, `.kata/`) and URLs are not references;
- a file name (`Procfile`, `results.json`) in code (a code span or block) that names a file of
  the maintainers' repository;
- `python -m MODULE` in code, when MODULE's package is the maintainers' or the stage's;
- `make TARGET` in code, or in prose for a target of the maintainers' Makefile: a target of
  the template's Makefile;
- a section: `see "X"`, `README, "X"` (a heading of the stage's or the root README), and
  `README, task N` (a `### Task N` of the stage's README).
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from kata.export import tracked_files

pytestmark = pytest.mark.timeout(120)

ROOT = Path(__file__).resolve().parents[2]

# Not the learner's text: the machinery (kata/, whose messages adapt to a template when they
# run), the Classroom workflow kata/workflow.py writes (its steps test that solutions/ is
# absent), and the tools' configuration shared with the maintainers' repository (pip, pytest,
# ruff, git: their comments are the maintainers').
NOT_SCANNED = ("kata/", ".github/workflows/classroom.yml", "pyproject.toml", "constraints.txt", ".gitignore")
MADE_AT_RUN_TIME = {"instance", ".venv", ".kata", ".pytest_cache", "__pycache__"}
MARKDOWN = (".md", ".toml")  # hints.toml holds Markdown text

FENCE = re.compile(r"^\s*```")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
URL_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
PATH = re.compile(r"(?<![\w./:@%~$-])(?:\.{1,2}/)?[\w.*<>${}-]+(?:/[\w.*<>${}-]*)+")
BARE_NAME = re.compile(r"(?<![\w./:@-])[\w.-]+(?![\w/-])")
EXTENSION = re.compile(r"\.[a-z][a-z0-9]{0,7}$")
DOMAIN = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}$")
PLACEHOLDER = re.compile(r"^(?:NN(?:_\w+)?|[A-Z][A-Z_]+|<[^>]*>|\$\{?\w+\}?)$")
MAKE = re.compile(r"(?<![\w.-])make((?:\s+-{1,2}[\w-]+)*(?:\s+[A-Z_]+=\S*)*)\s+([a-z][\w.-]*)\b(?!\s*=)")
PYTHON_MODULE = re.compile(r"(?<![\w.-])python3? -m ([A-Za-z_][\w.]*)")
SECTION = re.compile(r"(?:\b[Ss]ee|\bunder|\bsection|README,|README's) \"([^\"\n]{3,80})\"")
TASK = re.compile(r"README,? task (\d+)|task (\d+) of the README")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Reference:
    where: str  # file:line
    kind: str
    text: str

    def __str__(self) -> str:
        return f"{self.where}: {self.kind} {self.text!r}"


@dataclass
class Kata:
    """One copy of the kata: its files (relative paths) and folders."""

    root: Path
    files: set[str]

    @property
    def folders(self) -> set[str]:
        return {"/".join(name.split("/")[:i]) for name in self.files for i in range(1, name.count("/") + 1)}

    def has(self, path: str) -> bool:
        path = path.rstrip("/")
        if any(char in path for char in "*?["):
            return any(self.root.glob(path))
        return path in self.files or path in self.folders

    def make_targets(self) -> set[str]:
        makefile = self.root / "Makefile"
        if not makefile.is_file():
            return set()
        targets = set()
        for line in makefile.read_text().splitlines():
            found = re.match(r"^([\w.%/$() -]+?)\s*::?(?!=)", line)
            if found and not line.startswith("\t"):
                targets.update(found.group(1).split())
        return targets


def headings(text: str) -> list[str]:
    return [re.sub(r"[`*_]", "", match.group(2)).strip() for match in HEADING.finditer(text)]


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def split_markdown(text: str) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(prose, code) as (line number, text) pieces: code spans and fenced blocks are code."""
    prose, code, fenced = [], [], False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced:
            code.append((number, line))
            continue
        code.extend((number, span) for span in CODE_SPAN.findall(line))
        prose.append((number, CODE_SPAN.sub(" ", line)))
    return prose, code


class Scanner:
    def __init__(self, template: Kata, maintainers: Kata) -> None:
        self.template, self.maintainers = template, maintainers
        self.targets = template.make_targets()
        self.maintainer_targets = maintainers.make_targets()
        self.maintainer_basenames = {name.rsplit("/", 1)[-1] for name in maintainers.files}
        self.maintainer_top = {name.split("/")[0] for name in maintainers.files}

    def bases(self, name: str) -> list[str]:
        """Where a path named in `name` may start: its folder, its stage, the root."""
        parts = name.split("/")
        bases = ["/".join(parts[:-1])]
        if parts[0] == "stages" and len(parts) > 2:
            stage = "/".join(parts[:2])
            bases += [stage, f"{stage}/workit", f"{stage}/workit/templates", f"{stage}/tests"]
        bases.append("")
        return bases

    @staticmethod
    def _join(base: str, path: str) -> str | None:
        parts = [p for p in base.split("/") if p]
        for part in path.split("/"):
            if part in ("", "."):
                continue
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            else:
                # a placeholder (NN_x, <revision>_draft.py, $STAGE, $(STAGE)...) or a glob: any name there
                parts.append("*" if PLACEHOLDER.match(part) or any(char in part for char in "*<$") else part)
        return "/".join(parts)

    def resolves(self, kata: Kata, name: str, path: str) -> bool:
        return any((joined := self._join(base, path)) is not None and kata.has(joined) for base in self.bases(name))

    def is_path_reference(self, name: str, path: str) -> bool:
        first = path.split("/")[0]
        if first in MADE_AT_RUN_TIME or DOMAIN.match(first) or first.startswith("$"):
            return False
        last = path.rstrip("/").split("/")[-1]
        return bool(
            first in self.maintainer_top
            or self.resolves(self.maintainers, name, path)
            or (EXTENSION.search(last) and not PLACEHOLDER.match(last))
        )

    def scan(self, name: str, text: str) -> list[Reference]:
        found: list[Reference] = []
        if name.endswith(MARKDOWN):
            prose, code = split_markdown(text)
        else:  # code files: their comments and docstrings are prose, with code spans in them
            prose = [(number, CODE_SPAN.sub(" ", line)) for number, line in enumerate(text.splitlines(), 1)]
            code = [(number, span) for number, line in enumerate(text.splitlines(), 1) for span in CODE_SPAN.findall(line)]
        here = lambda number: f"{name}:{number}"  # noqa: E731

        for number, line in prose:
            for target in LINK.findall(line):
                if not URL_SCHEME.match(target):
                    found += self.link(name, here(number), target)
            for path in PATH.findall(LINK.sub(" ", line)):
                found += self.path(name, here(number), path)
            for target in re.findall(r"(?<![\w.-])make ([a-z][\w-]*)\b", line):
                if target in self.maintainer_targets and target not in self.targets:
                    found.append(Reference(here(number), "make target", f"make {target}"))
            found += self.sections(name, here(number), line)
        for number, piece in code:
            for path in PATH.findall(piece):
                found += self.path(name, here(number), path)
            found += [Reference(here(number), "file", bare) for bare in BARE_NAME.findall(piece) if self.file_missing(name, bare)]
            for _options, target in MAKE.findall(re.sub(r"(^|\s)#.*", "", piece)):  # not in a shell comment
                if target not in self.targets:
                    found.append(Reference(here(number), "make target", f"make {target}"))
            for module in PYTHON_MODULE.findall(piece):
                found += self.module(name, here(number), module)
        return found

    def file_missing(self, name: str, bare: str) -> bool:
        """A file name of the maintainers' repository (`Procfile`, `results.json`) the template lacks."""
        if not (EXTENSION.search(bare) or bare[:1].isupper()) or bare not in self.maintainer_basenames:
            return False
        return not self.resolves(self.template, name, bare) and not any(other.rsplit("/", 1)[-1] == bare for other in self.template.files)

    def path(self, name: str, where: str, path: str) -> list[Reference]:
        path = path.rstrip(".,;:")
        if not self.is_path_reference(name, path) or self.resolves(self.template, name, path):
            return []
        return [Reference(where, "path", path)]

    def module(self, name: str, where: str, module: str) -> list[Reference]:
        top = module.split(".")[0]
        relative = module.replace(".", "/")
        ours = top in self.maintainer_top or self.resolves(self.maintainers, name, top) or self.resolves(self.template, name, top)
        if not ours:
            return []  # celery, flask, pytest...: installed packages
        candidates = (f"{relative}.py", f"{relative}/__main__.py", f"{relative}/__init__.py")
        if any(self.resolves(self.template, name, candidate) for candidate in candidates):
            return []
        return [Reference(where, "module", f"python -m {module}")]

    def link(self, name: str, where: str, target: str) -> list[Reference]:
        path, _, anchor = target.partition("#")
        if path:
            joined = self._join("/".join(name.split("/")[:-1]), path)
            if joined is None or not self.template.has(joined):
                return [Reference(where, "link", target)]
            linked = joined
        else:
            linked = name
        if anchor:
            text = (self.template.root / linked).read_text() if linked.endswith(".md") else ""
            if anchor not in {slug(heading) for heading in headings(text)}:
                return [Reference(where, "link to a section", target)]
        return []

    def readmes(self, name: str) -> list[str]:
        parts = name.split("/")
        stage = [f"stages/{parts[1]}/README.md"] if parts[0] == "stages" and len(parts) > 2 else []
        return [readme for readme in [*stage, "README.md"] if readme in self.template.files]

    def sections(self, name: str, where: str, line: str) -> list[Reference]:
        found = []
        for section in SECTION.findall(line):
            known = {heading for readme in self.readmes(name) for heading in headings((self.template.root / readme).read_text())}
            if section not in known:
                found.append(Reference(where, "section", section))
        parts = name.split("/")
        if parts[0] == "stages" and len(parts) > 2 and name != f"stages/{parts[1]}/README.md":
            readme = self.template.root / "stages" / parts[1] / "README.md"
            tasks = {match.group(1) for match in re.finditer(r"^### Task (\d+)", readme.read_text(), re.MULTILINE)}
            for first, second in TASK.findall(line):
                if (first or second) not in tasks:
                    found.append(Reference(where, "task", f"README, task {first or second}"))
        return found


def scanned(template: Kata) -> list[str]:
    names = []
    for name in sorted(template.files):
        if name.startswith(NOT_SCANNED):
            continue
        try:
            (template.root / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # images, databases: no text
        names.append(name)
    return names


def references_missing(template: Kata, maintainers: Kata) -> list[Reference]:
    scanner = Scanner(template, maintainers)
    missing = []
    for name in scanned(template):
        missing += scanner.scan(name, (template.root / name).read_text(encoding="utf-8"))
    return missing


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`kata export`, as an instructor runs it, from this checkout (its committed files)."""
    destination = tmp_path_factory.mktemp("export") / "template"
    done = subprocess.run(
        [sys.executable, "-m", "kata", "export", str(destination), "--without-solutions"],
        cwd=ROOT, capture_output=True, text=True, timeout=100, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return destination


@pytest.fixture(scope="module")
def maintainers() -> Kata:
    return Kata(ROOT, set(tracked_files(ROOT) or files_under(ROOT)))


def test_the_template_names_only_paths_targets_and_sections_it_has(template: Path, maintainers: Kata) -> None:
    missing = references_missing(Kata(template, files_under(template)), maintainers)
    missing.sort(key=lambda ref: (ref.where.split(":")[0], int(ref.where.split(":")[1])))
    assert not missing, f"the student template names {len(missing)} thing(s) it does not have:\n" + "\n".join(map(str, missing))


# --- the check itself: it finds what it should, and nothing else ----------------------------

TEMPLATE_FILES = {
    "Makefile": "test: status\n\nrun: venv\n\t@echo run\n",
    "README.md": "# Kata\n\n## For learners\n\nText.\n",
    "stages/07_scale/README.md": "# Step 07\n\n### Task 1: Two jobs\n\n## Run it for real\n",
    "stages/07_scale/workit/tasks.py": "",
    "stages/07_scale/workit/workers.py": "",
    "stages/07_scale/tests/test_process_model.py": "",
    "kata/__main__.py": "",
}
MAINTAINER_FILES = {
    **TEMPLATE_FILES,
    "Makefile": "test: lint\n\nrun: venv\n\nbench: venv\n\ndemo: venv\n",
    "Procfile": "web: flask run\n",
    "bench/README.md": "# Benchmarks\n",
    "bench/results.json": "{}",
    "bench/__main__.py": "",
    "solutions/07_scale/workit/tasks.py": "",
}
WRONG = """\
See [the bench](../../bench/README.md) and `bench/results.json`, or the kata's `Procfile`.
The finished app (solutions/07_scale) does more; see "What can go wrong".
Run `make bench`, then `make run GIPHY_WORKERS=2`, or `make PYTHON=python3.12 demo`.
Back to [the top](#no-such-heading) or [task 1](README.md#task-9-nothing).
In prose, make demo is a target too. `python -m bench` measures it.
"""
RIGHT = """\
In `workit/tasks.py` and `stages/07_scale/workit/workers.py`, `tasks.py`, `tests/test_process_model.py`.
[Task 1](#task-1-two-jobs), [the stages](../../README.md#for-learners), `kata check 07`, `python -m workit.workers giphy`.
Read [Celery](https://docs.celeryq.dev/en/stable/userguide/routing.html#routers) and docs.celeryq.dev/en/stable/x.html.
`redis-cli LLEN email`, `GIPHY_RATE_LIMIT=50/h`, `text/html`, `/mailers/<id>`, `instance/workit.sqlite3`, `.venv/run-secrets.env`.
Make sure of it; make the folder; to make it run, make a request. `make test`, `make run STAGE=07_scale`, `make`.
`pytest stages/NN_x`, `http://127.0.0.1:5100/v1/gifs`, celery/celery#2852, and/or, 100/h, `python -m celery`, `python -m kata`.
`cd stages/$STAGE`, `cd stages/$(STAGE)/workit`, `workit/<name>.py`, `rm workit/*_draft.py`, `tests/test_*.py`.
"""


def fake_kata(root: Path, files: dict[str, str]) -> Kata:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return Kata(root, set(files))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (WRONG, [
            "link '../../bench/README.md'", "path 'bench/results.json'", "file 'Procfile'",
            "path 'solutions/07_scale'", "section 'What can go wrong'", "make target 'make bench'",
            "make target 'make demo'", "link to a section '#no-such-heading'",
            "link to a section 'README.md#task-9-nothing'", "make target 'make demo'", "module 'python -m bench'",
        ]),
        (RIGHT, []),
    ],
    ids=["wrong", "right"],
)  # fmt: skip
def test_the_check_finds_each_kind_of_missing_reference_and_nothing_else(tmp_path: Path, text: str, expected: list[str]) -> None:
    template = fake_kata(tmp_path / "template", {**TEMPLATE_FILES, "stages/07_scale/README.md": TEMPLATE_FILES["stages/07_scale/README.md"] + text})
    maintainers = fake_kata(tmp_path / "maintainers", MAINTAINER_FILES)
    found = [f"{ref.kind} {ref.text!r}" for ref in references_missing(template, maintainers)]
    assert sorted(found) == sorted(expected)


def test_a_skeleton_file_that_points_at_the_solutions_or_a_missing_section_is_found(tmp_path: Path) -> None:
    text = '"""The finished app (solutions/07_scale) limits here (README, "What can go wrong"; README, task 4)."""\n'
    template = fake_kata(tmp_path / "template", {**TEMPLATE_FILES, "stages/07_scale/workit/limits.py": text})
    maintainers = fake_kata(tmp_path / "maintainers", MAINTAINER_FILES)
    found = [f"{ref.kind} {ref.text!r}" for ref in references_missing(template, maintainers)]
    assert found == ["path 'solutions/07_scale'", "section 'What can go wrong'", "task 'README, task 4'"]


# --- make run STAGE=NN_x: the learner's own stage, with what it talks to ---------------------


def tool_dir(root: Path, tools: dict[str, str]) -> Path:
    """A folder of small executables: the only PATH a `make run` gets (no redis-server unless given)."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("sh", "sed", "cat", "mkdir", "mv", "rm", "env"):
        real = shutil.which(name)
        if real:
            (root / name).symlink_to(real)
    for name, script in tools.items():
        (root / name).write_text(script)
        (root / name).chmod(0o755)
    return root


@pytest.fixture
def fake_venv(tmp_path: Path) -> Path:
    """A venv whose honcho prints what it was asked to start, and the settings it was given."""
    venv = tmp_path / "venv"
    tool_dir(venv / "bin", {
        "python": f'#!/bin/sh\nexec "{sys.executable}" "$@"\n',
        "honcho": '#!/bin/sh\necho "honcho $*"\nwhile [ $# -gt 0 ]; do [ "$1" = -e ] && cat "$2"; shift; done\n',
    })  # fmt: skip
    (venv / ".kata-installed").touch()  # newer than pyproject.toml and constraints.txt: no install
    return venv


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def make_run(template: Path, venv: Path, path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    make = shutil.which("make") or "make"
    return subprocess.run(
        [make, "run", f"VENV={venv}", *args], cwd=template, capture_output=True, text=True, timeout=60, check=False,
        env={"PATH": str(path), "HOME": str(venv)},
    )  # fmt: skip


def started(done: subprocess.CompletedProcess[str]) -> list[str]:
    line = next((line for line in done.stdout.splitlines() if line.startswith("honcho start")), None)
    assert line is not None, done.stdout + done.stderr
    return line.split()[line.split().index("-c") + 2 :]


def test_make_run_needs_a_stage_and_names_the_stages(template: Path, fake_venv: Path, tmp_path: Path) -> None:
    tools = tool_dir(tmp_path / "tools", {"redis-server": "#!/bin/sh\n"})
    for args, says in (((), "make run STAGE=07_scale"), (("STAGE=nope",), "there is no stage nope")):
        done = make_run(template, fake_venv, tools, *args)
        assert done.returncode != 0 and says in done.stderr and "01_sync" in done.stderr, done.stdout + done.stderr
        assert "honcho" not in done.stdout


def test_make_run_without_redis_server_says_how_to_get_it_and_starts_nothing(template: Path, fake_venv: Path, tmp_path: Path) -> None:
    tools = tool_dir(tmp_path / "tools", {})  # no redis-server, and nothing on the port
    done = make_run(template, fake_venv, tools, "STAGE=07", f"REDIS_PORT={free_port()}")
    assert done.returncode != 0, done.stdout
    assert "needs redis-server" in done.stderr and "apt-get install redis-server" in done.stderr and "brew install redis" in done.stderr
    assert "honcho" not in done.stdout
    first = make_run(template, fake_venv, tools, "STAGE=01_sync")  # step 01 has no Redis: none needed
    assert started(first) == ["mail", "giphy-standin", "web"]


@pytest.mark.parametrize(
    ("stage", "name", "processes"),
    [
        ("01", "01_sync", ["mail", "giphy-standin", "web"]),
        ("02_redis", "02_redis", ["redis", "mail", "giphy-standin", "web"]),
        ("3", "03_worker", ["redis", "mail", "giphy-standin", "web", "worker"]),
        ("06_status", "06_status", ["redis", "mail", "giphy-standin", "web", "worker"]),
        ("scale", "07_scale", ["redis", "mail", "giphy-standin", "web", "giphy", "email"]),
        ("stages/08_schedule/", "08_schedule", ["redis", "mail", "giphy-standin", "web", "giphy", "email", "maintenance", "beat"]),
    ],
)
def test_make_run_starts_the_procfile_lines_the_stage_has(
    template: Path, fake_venv: Path, tmp_path: Path, stage: str, name: str, processes: list[str]
) -> None:
    from honcho.environ import parse_procfile

    tools = tool_dir(tmp_path / "tools", {"redis-server": "#!/bin/sh\n"})
    done = make_run(template, fake_venv, tools, f"STAGE={stage}", f"REDIS_PORT={free_port()}")
    assert done.returncode == 0, done.stdout + done.stderr
    assert started(done) == processes
    procfile = parse_procfile((template / "Procfile").read_text()).processes
    assert set(processes) <= set(procfile)
    settings = dict(line.split("=", 1) for line in done.stdout.splitlines() if re.match(r"^[A-Z_]+=", line))
    assert settings["STAGE"] == name
    assert len(settings["SECRET_KEY"]) == 64 and settings["GIPHY_API_KEY"] == "stand-in"


def test_make_run_uses_a_redis_already_listening_and_the_real_giphy_when_given_a_key(
    template: Path, fake_venv: Path, tmp_path: Path
) -> None:
    tools = tool_dir(tmp_path / "tools", {})  # no redis-server: the one listening will do
    with socket.socket() as redis:
        redis.bind(("127.0.0.1", 0))
        redis.listen()
        port = redis.getsockname()[1]
        done = make_run(template, fake_venv, tools, "STAGE=07_scale", f"REDIS_PORT={port}", "GIPHY_API_KEY=real-key", "GIPHY_WORKERS=2")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"already listens on 127.0.0.1:{port}" in done.stdout
    assert started(done) == ["mail", "web", "giphy", "email"]
    assert "-c giphy=2,email=1" in done.stdout and f"REDIS_URL=redis://127.0.0.1:{port}/0" in done.stdout
    assert "GIPHY_API_URL" not in done.stdout and "stand-in" not in done.stdout
