"""`kata export DIR --without-solutions`: a student template of the kata.

The template is the repository's tracked files (every file, when the kata is not a git
checkout), minus what only maintainers need and what needs solutions/:

- solutions/ and source/ (which makes both trees), the machinery's own tests (kata/tests), the self-check's CI (.ci,
  .github/workflows/ci.yml, tox.ini), the finished app's launchers (Procfile, stack.env)
  and bench/;
- the Makefile and the README are rewritten for learners: `make test` shows `kata status`,
  and the README keeps its introduction and its "For learners" section, without the parts
  marked `<!-- solutions -->` ... `<!-- /solutions -->`;
- the template gets a Procfile of its own: `make run STAGE=NN_x` runs the learner's stage
  (stages/NN_x) with the services and the workers that stage has, until Ctrl-C;
- in the stage READMEs, command lines that run the tests against solutions/ are dropped, and
  so are the parts marked for solutions, as in the README;
- conftest.py also loads `kata.template_plugin`, which turns `pytest --solutions` into a clear
  error instead of a crash.

The Classroom workflow (.github/workflows/classroom.yml) stays: in a template it grades.
"""

from __future__ import annotations

import fnmatch
import re
import shutil
import subprocess
from pathlib import Path

SOLUTION_DEPENDENT = [
    "solutions/*",
    "source/*",
    "kata/tests/*",
    ".ci/*",
    ".github/workflows/ci.yml",
    "tox.ini",
    "Procfile",
    "stack.env",
    "bench/*",
]
NEVER_COPIED = {".git", ".venv", ".tox", ".kata", "__pycache__", ".pytest_cache", "build", "dist"}
MARKED_BLOCK = re.compile(r"<!-- solutions -->.*?<!-- /solutions -->\n?", re.DOTALL)
SOLUTIONS_COMMAND = re.compile(r"--solutions|KATA_TARGET=solutions|kata diff")

STUDENT_CONFTEST = '''"""The kata's pytest wiring lives in the `kata` package; this file only loads it."""

pytest_plugins = ["kata.template_plugin", "kata.plugin"]
'''

STUDENT_MAKEFILE = """PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.kata-installed

.PHONY: test status venv run clean

## make test: set up .venv on first use, then show where you are (kata status)
test: status

status: $(INSTALLED)
\t@$(BIN)/python -m kata status || echo "(Stages left to do: that is where you start, not a failed set-up. kata status exits 1 until every stage passes.)"

venv: $(INSTALLED)

$(INSTALLED): pyproject.toml constraints.txt
\t@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10) and "Work-It Kata needs Python 3.10 or newer; try: make PYTHON=python3.12")'
\ttest -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
\tPIP_CONSTRAINT=constraints.txt $(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[stack]'
\ttouch $@

## make run STAGE=07_scale: your stage's app (stages/07_scale) and all it talks to, up until
## Ctrl-C: the lines of the Procfile that stage has (Redis, maildump, the Giphy stand-in, the
## web app, its workers), run by honcho. STAGE=07 works too. Redis needs redis-server (or a
## Redis already on REDIS_PORT). GIPHY_API_KEY=... asks the real Giphy; from step 07,
## GIPHY_WORKERS=2 EMAIL_WORKERS=0 starts two giphy workers and no email worker.
STAGE ?=
STAGE_ASKED := $(patsubst stages/%,%,$(patsubst %/,%,$(STAGE)))
STAGE_DIR := $(patsubst %/workit,%,$(firstword $(wildcard $(foreach form,% %_* 0%_* *_%,stages/$(subst %,$(STAGE_ASKED),$(form))/workit))))
STAGE_NAME := $(notdir $(STAGE_DIR))
stage_has = $(wildcard $(STAGE_DIR)/workit/$(1))
# What a stage runs follows from its files: Redis from step 02 (redis_client.py), one Celery
# worker in steps 03-06 (worker.py), one per queue from step 07 (workers.py), and the clock's
# maintenance worker and beat in step 08 (schedule.py).
RUN_PROCESSES = $(if $(call stage_has,redis_client.py),redis) mail $(if $(GIPHY_API_KEY),,giphy-standin) web \\
\t$(if $(call stage_has,workers.py),giphy email,$(if $(call stage_has,worker.py),worker)) \\
\t$(if $(call stage_has,schedule.py),maintenance beat)
GIPHY_WORKERS ?= 1
EMAIL_WORKERS ?= 1
WEB_PORT ?= 5000
REDIS_PORT ?= 6379
MAIL_PORT ?= 1025
INBOX_PORT ?= 1080
GIPHY_STANDIN_PORT ?= 5100
# The processes' settings (make writes them into .venv/run.env, honcho reads them).
RUN_ENV = STAGE=$(STAGE_NAME) WEB_PORT=$(WEB_PORT) REDIS_PORT=$(REDIS_PORT) REDIS_URL=redis://127.0.0.1:$(REDIS_PORT)/0 \\
	MAIL_SERVER=127.0.0.1 MAIL_PORT=$(MAIL_PORT) INBOX_PORT=$(INBOX_PORT) TRUSTED_HOSTS=127.0.0.1,localhost PYTHONUNBUFFERED=1 \\
	$(if $(GIPHY_API_KEY),,GIPHY_STANDIN_PORT=$(GIPHY_STANDIN_PORT) GIPHY_API_URL=http://127.0.0.1:$(GIPHY_STANDIN_PORT)/v1/gifs \\
	GIPHY_API_KEY=stand-in GIPHY_RATE_LIMIT=)
# The app's SECRET_KEY, made on the first `make run` and kept (.venv is not committed).
RUN_SECRETS := $(VENV)/run-secrets.env

$(RUN_SECRETS): | $(INSTALLED)
\t@umask 077 && $(BIN)/python -c 'import secrets; print(f"SECRET_KEY={secrets.token_hex(32)}")' > $@.new && mv $@.new $@

run: $(INSTALLED) $(RUN_SECRETS)
\t@test -n "$(STAGE)" || { echo "make run runs your code of one stage: make run STAGE=07_scale (the stages: $(notdir $(wildcard stages/*)))" >&2; exit 2; }
\t@test -n "$(STAGE_ASKED)" -a -n "$(STAGE_DIR)" || { echo "make run: there is no stage $(STAGE). The stages: $(notdir $(wildcard stages/*))" >&2; exit 2; }
\t@processes="$(strip $(RUN_PROCESSES))"; \\
\tcase " $$processes " in *" redis "*) \\
\t\tif $(BIN)/python -c 'import socket; socket.create_connection(("127.0.0.1", $(REDIS_PORT)), 1)' 2>/dev/null; then \\
\t\t\techo "make run: something already listens on 127.0.0.1:$(REDIS_PORT), a Redis we hope: the app uses it."; \\
\t\t\tprocesses=$$(echo " $$processes " | sed 's/ redis / /'); \\
\t\telif ! command -v redis-server >/dev/null 2>&1; then \\
\t\t\techo "make run STAGE=$(STAGE_NAME) needs redis-server, which is not installed (or not on PATH)." >&2; \\
\t\t\techo "Install it (sudo apt-get install redis-server, or brew install redis) and run make run again," >&2; \\
\t\t\techo "or start a Redis on 127.0.0.1:$(REDIS_PORT) first." >&2; \\
\t\t\texit 1; \\
\t\tfi;; \\
\tesac; \\
\t{ for setting in $(RUN_ENV); do echo "$$setting"; done; cat $(RUN_SECRETS); } > $(VENV)/run.env; \\
\techo "make run: stages/$(STAGE_NAME), with:" $$processes; \\
\techo "The app: http://127.0.0.1:$(WEB_PORT), the inbox: http://127.0.0.1:$(INBOX_PORT). Ctrl-C stops them all."; \\
\tPATH="$(abspath $(BIN)):$$PATH" exec $(BIN)/honcho start -f Procfile -e $(VENV)/run.env -c giphy=$(GIPHY_WORKERS),email=$(EMAIL_WORKERS) $$processes

clean:
\trm -rf $(VENV) .pytest_cache *.egg-info
"""

STUDENT_PROCFILE = """# `make run STAGE=NN_x` runs the lines your stage needs (see the Makefile), with honcho, in
# stages/$STAGE, with the settings make writes into .venv/run.env. Ctrl-C stops them all.
# What the app talks to: Redis (from step 02; it keeps nothing on disk), the inbox, the Giphy
# stand-in (unless `make run GIPHY_API_KEY=...`).
redis: redis-server --port $REDIS_PORT --bind 127.0.0.1 --save "" --appendonly no
mail: maildump --smtp-port $MAIL_PORT --http-port $INBOX_PORT
giphy-standin: python -m kata giphy-standin --port $GIPHY_STANDIN_PORT --delay 2
# Your app. From step 06 the web process first brings the database up to date.
web: cd stages/$STAGE && { test ! -d workit/migrations || flask --app workit db upgrade; } && flask --app workit run --port $WEB_PORT
# Steps 03-06: one Celery worker for every job.
worker: cd stages/$STAGE && celery -A workit.worker worker --loglevel=INFO
# From step 07: one worker per queue, each started and scaled on its own
# (`make run STAGE=07_scale GIPHY_WORKERS=2 EMAIL_WORKERS=0`: two giphy workers, no email worker).
giphy: cd stages/$STAGE && python -m workit.workers giphy
email: cd stages/$STAGE && python -m workit.workers email
# Step 08: the maintenance queue's worker, and the clock: ONE beat, never more, never `worker -B`.
maintenance: cd stages/$STAGE && python -m workit.workers maintenance
beat: cd stages/$STAGE && mkdir -p instance && celery -A workit.worker beat -s instance/celerybeat-schedule --loglevel=INFO
"""

STUDENT_SETUP = """## Set up

You need Python 3.10 or newer and `make`:

```
make test      # creates .venv with the pinned packages, then shows where you are (kata status)
. .venv/bin/activate
```

To click around in your app: `make run STAGE=04_enqueue` (any stage) starts your stage's app
with all it talks to, until Ctrl-C: its Celery workers, Redis (that needs `redis-server`),
maildump (the inbox, http://127.0.0.1:1080) and a stand-in Giphy; the lines are in `Procfile`.
Each stage's README also shows how to start them one by one.
"""


class ExportError(Exception):
    pass


def tracked_files(root: Path, untracked: bool = False) -> list[str] | None:
    """The files git tracks under `root` (relative paths), or None outside a git checkout.
    With `untracked`: the new files git does not track yet (and does not ignore) instead."""
    which = ["--others", "--exclude-standard"] if untracked else ["--cached"]
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", *which], cwd=root, capture_output=True, check=True, timeout=60
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return [name for name in listed.decode().split("\0") if name]


def left_out(root: Path, without_solutions: bool = True) -> list[str]:
    """New files git does not track: an export leaves them out (commit them to include them)."""
    return [name for name in tracked_files(root, untracked=True) or [] if not excluded(name, without_solutions)]


def all_files(root: Path) -> list[str]:
    files = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        top = relative.parts[0]
        in_build_output = top.endswith(".egg-info") or top.startswith(".venv-")
        if path.is_file() and not NEVER_COPIED & set(relative.parts) and not in_build_output and path.suffix != ".pyc":
            files.append(relative.as_posix())
    return sorted(files)


def excluded(name: str, without_solutions: bool) -> bool:
    if NEVER_COPIED & set(name.split("/")):
        return True
    return without_solutions and any(fnmatch.fnmatch(name, pattern) for pattern in SOLUTION_DEPENDENT)


def student_readme(text: str) -> str:
    """The README's introduction, a learner's set-up, and its "For learners" section."""
    intro, _, rest = text.partition("\n## ")
    sections = ["## " + part for part in ("\n" + rest).split("\n## ") if part.strip()] if rest else []
    learners = [section for section in sections if section.startswith("## For learners")]
    parts = [intro.rstrip() + "\n", STUDENT_SETUP] + [section.rstrip() + "\n" for section in learners]
    return student_stage_readme("\n".join(parts))


def student_stage_readme(text: str) -> str:
    """Drop the command lines (in code blocks) that test solutions/, which a template lacks."""
    kept, in_code = [], False
    for line in text.splitlines(keepends=True):
        if line.lstrip().startswith("```"):
            in_code = not in_code
        if in_code and SOLUTIONS_COMMAND.search(line):
            continue
        kept.append(line)
    return MARKED_BLOCK.sub("", "".join(kept))


def export(root: Path, destination: Path, without_solutions: bool = True, git: bool = False) -> list[str]:
    """Write the template to `destination` (new or empty); returns the files written."""
    destination = destination.resolve()
    if destination.exists() and any(destination.iterdir()):
        raise ExportError(f"{destination} is not empty: export into a new or empty directory")
    inside = destination.relative_to(root.resolve()).parts if destination.is_relative_to(root.resolve()) else None
    if inside is not None and (not inside or inside[0] in ("stages", "solutions", "kata")):
        raise ExportError(f"{destination} is the kata itself or inside its stages/, solutions/ or kata/: choose another place")
    names = tracked_files(root)
    if names is None:
        names = all_files(root)
    written = []
    for name in names:
        source = root / name
        if not source.is_file() or excluded(name, without_solutions):
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if without_solutions and name == "README.md":
            target.write_text(student_readme(source.read_text(encoding="utf-8")), encoding="utf-8")
        elif without_solutions and re.fullmatch(r"stages/[^/]+/README\.md", name):
            target.write_text(student_stage_readme(source.read_text(encoding="utf-8")), encoding="utf-8")
        elif without_solutions and name == "Makefile":
            target.write_text(STUDENT_MAKEFILE, encoding="utf-8")
        elif without_solutions and name == "conftest.py":
            target.write_text(STUDENT_CONFTEST, encoding="utf-8")
        else:
            shutil.copy2(source, target)
        written.append(name)
    if without_solutions:
        (destination / "Procfile").write_text(STUDENT_PROCFILE, encoding="utf-8")
        written.append("Procfile")
    if git:
        _commit(destination)
    return written


def _commit(destination: Path) -> None:
    """`git init` and one commit: the commit `kata reset --first` restores the skeleton from."""

    def git(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(["git", *args], cwd=destination, check=True, capture_output=True, timeout=120)

    try:
        git("init", "-q")
        has_identity = subprocess.run(["git", "config", "user.email"], check=False, cwd=destination, capture_output=True).returncode == 0
        identity = [] if has_identity else ["-c", "user.name=Work-It Kata", "-c", "user.email=kata@example.invalid"]
        git("add", "--all", ".")
        git(*identity, "commit", "-q", "-m", "Work-It Kata: student template")
    except (OSError, subprocess.CalledProcessError) as error:
        detail = getattr(error, "stderr", b"") or b""
        raise ExportError(f"git could not commit the template in {destination}: {detail.decode(errors='replace').strip() or error}") from None
