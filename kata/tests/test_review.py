"""`kata review`: each rule fires on a sample that passes the tests but takes a poor approach,
and no reference solution gets an essential or actionable comment."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import textwrap
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from kata import review as review_module
from kata.cli import main
from kata.feedback import check_lines
from kata.hints import SeenHints
from kata.layout import Stage, all_stages
from kata.reports import StageResult, TestResult, TestRun
from kata.review import RULES, UNREADABLE, Review, review_package, rules_for

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = Path(__file__).parent / "golden"
STAGES = [stage.name for stage in all_stages(ROOT) if (stage.code_dir("solutions") / "workit").is_dir()]


def write_package(directory: Path, files: dict[str, str]) -> Path:
    package = directory / "workit"
    package.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (package / name).write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return package


def review_of(tmp_path: Path, stage: str, files: dict[str, str]) -> Review:
    return review_package(write_package(tmp_path, files), stage)


# What a learner might write: it passes the stage's tests, and each sample shows one rule.
# (rule, stage, files, the line the comment points at)
SAMPLES = [
    ("hardcoded_key", "01_sync", {"config.py": """
        import os

        def from_environment(environ=os.environ):
            return {"GIPHY_API_KEY": environ.get("GIPHY_API_KEY", "dc6zaTOxFJmzC")}
    """}, 4),
    ("requests_without_timeout", "01_sync", {"giphy.py": """
        import requests

        def search(query, api_key):
            return requests.get("https://api.giphy.com/v1/gifs/search", params={"q": query, "api_key": api_key})
    """}, 4),
    ("smtp_without_timeout", "01_sync", {"notifier.py": """
        import smtplib

        def deliver(message, host, port):
            with smtplib.SMTP(host, port) as smtp:
                smtp.send_message(message)
    """}, 4),
    ("blind_except", "01_sync", {"giphy.py": """
        def fetch_gif_url(thought, api_key, timeout):
            try:
                return _search(thought, api_key, timeout)
            except Exception:
                return _random(thought, api_key, timeout)
    """}, 4),
    ("logging_format", "01_sync", {"views.py": """
        from flask import current_app

        def create(email):
            current_app.logger.info(f"sending to {email}")
    """}, 4),
    ("print_call", "01_sync", {"notifier.py": """
        def send_randomness_email(email, thought):
            print("sending to", email)
    """}, 2),
    ("redis_without_timeout", "02_redis", {"redis_client.py": """
        import redis
        from flask import current_app

        def get_redis():
            return redis.Redis.from_url(current_app.config["REDIS_URL"], decode_responses=True)
    """}, 5),
    ("pickle_jobs", "02_redis", {"jobs.py": """
        import pickle

        def next_job(client, timeout):
            popped = client.brpop(["workit:jobs"], timeout=timeout)
            return None if popped is None else pickle.loads(popped[1])
    """}, 5),
    ("app_beside_celery_app", "03_worker", {"worker.py": """
        from workit import create_app

        app = create_app()
        celery_app = app.extensions["celery"]
    """}, 3),
    ("sleep_in_task", "03_worker", {"tasks.py": """
        import time

        from celery import shared_task

        from workit import notifier

        @shared_task(bind=True, max_retries=3)
        def send_randomness_email(self, email, thought):
            for attempt in range(3):
                try:
                    return notifier.send_randomness_email(email, thought)
                except OSError:
                    time.sleep(2**attempt)
    """}, 13),
    ("task_returns_value", "03_worker", {"tasks.py": """
        from celery import shared_task

        from workit import notifier

        @shared_task
        def send_randomness_email(email, thought):
            notifier.send_randomness_email(email, thought)
            return {"email": email, "thought": thought, "sent": True}
    """}, 8),
    ("autoretry_everything", "03_worker", {"tasks.py": """
        from celery import shared_task

        from workit import notifier

        @shared_task(autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
        def send_randomness_email(email, thought):
            notifier.send_randomness_email(email, thought)
    """}, 5),
    ("result_get_in_request", "04_enqueue", {"views.py": """
        from flask import redirect, request

        from workit.tasks import send_randomness_email

        def create():
            result = send_randomness_email.delay(request.form["mailers[email]"], request.form["mailers[thought]"])
            result.get(timeout=1)
            return redirect("/sent")
    """}, 7),
    ("broad_except_around_delay", "04_enqueue", {"views.py": """
        from flask import render_template

        from workit.tasks import send_randomness_email

        def create(email, thought):
            try:
                send_randomness_email.delay(email, thought)
            except Exception:
                return render_template("index.html", error="Redis is down"), 503
            return "queued"
    """}, 8),
    ("broad_except_in_health", "02_redis", {"health.py": """
        from flask import Blueprint

        from workit.jobs import get_redis

        bp = Blueprint("health", __name__)

        @bp.get("/health")
        def health():
            try:
                get_redis().ping()
            except Exception:
                return {"redis": "unavailable"}, 503
            return {"redis": "PONG"}, 200
    """}, 11),
    ("broad_except_then_retry", "05_failures", {"tasks.py": """
        from celery import shared_task

        from workit import notifier

        @shared_task(bind=True, acks_late=True, max_retries=5)
        def send_randomness_email(self, email, thought):
            try:
                notifier.send_email(email, thought, None)
            except Exception as problem:
                raise self.retry(exc=problem, countdown=10) from problem
    """}, 9),
    ("full_jitter", "05_failures", {"tasks.py": """
        import smtplib

        from celery import shared_task

        @shared_task(acks_late=True, autoretry_for=(smtplib.SMTPException, OSError), retry_backoff=5, max_retries=6)
        def send_randomness_email(email, thought):
            pass
    """}, 5),
    ("email_regex", "04_enqueue", {"validation.py": """
        import re

        EMAIL = r"^[^@\\s]+@[^@\\s]+\\.[a-z]+$"

        def clean_form(email, thought):
            if not re.match(EMAIL, email):
                raise ValueError("Please check your email address")
            return email, thought
    """}, 6),
    ("create_all_in_app", "06_status", {"db.py": """
        from flask_sqlalchemy import SQLAlchemy

        db = SQLAlchemy()

        def init_db(app):
            db.init_app(app)
            with app.app_context():
                db.create_all()
    """}, 8),
    ("legacy_query_get", "06_status", {"views.py": """
        from workit.models import MailerRequest

        def show(request_id):
            record = MailerRequest.query.get(request_id)
            return record.status
    """}, 4),
    ("status_from_result_backend", "06_status", {"views.py": """
        from celery.result import AsyncResult

        def show(task_id):
            return {"status": AsyncResult(task_id).state}
    """}, 4),
    ("countdown_over_visibility", "05_failures", {"tasks.py": """
        from celery import shared_task

        @shared_task(bind=True, acks_late=True, autoretry_for=(OSError,), retry_backoff=True, retry_backoff_max=2 * 3600)
        def send_randomness_email(self, email, thought):
            pass
    """}, 3),
    ("limit_in_the_code", "07_scale", {"tasks.py": """
        from celery import shared_task

        @shared_task(bind=True, acks_late=True, rate_limit="100/h")
        def look_up_gif(self, request_id):
            pass
    """}, 3),
]

# What the reference does well, said where the learner wrote it.
CELEBRATED = {
    "timeouts_set": "01_sync",
    "uses_email_validator": "04_enqueue",
    "own_backoff": "05_failures",
    "soft_limit_falls_back": "07_scale",
}


@pytest.mark.parametrize(("rule", "stage", "files", "line"), SAMPLES, ids=[sample[0] for sample in SAMPLES])
def test_each_rule_finds_its_mistake(tmp_path: Path, rule: str, stage: str, files: dict[str, str], line: int) -> None:
    found = [c for c in review_of(tmp_path, stage, files).comments if c.rule.id == rule]
    assert [c.line for c in found] == [line], [c.where for c in found]
    (comment,) = found
    assert comment.id == f"{stage}.{rule}" and comment.file == f"workit/{next(iter(files))}"
    assert comment.type in ("essential", "actionable", "informative")
    assert set(re.findall(r"\{(\w+)\}", comment.rule.title)) <= set(comment.params)  # every placeholder has its param


def test_every_rule_has_a_sample_and_a_stage() -> None:
    sampled = {sample[0] for sample in SAMPLES} | set(CELEBRATED)
    assert sampled == {rule.id for rule in RULES}, "a rule without a sample in test_review.py (or a sample without a rule)"
    assert len({rule.id for rule in RULES}) == len(RULES)
    for rule in RULES:
        assert rule.type in review_module.TYPES and rule.read.startswith("https://")
        assert (rule.check is None) != (not rule.ruff), f"{rule.id}: an ast pass or ruff codes, one of the two"
        assert any(rule.applies_to(stage) for stage in STAGES), f"{rule.id} applies to no stage"


@pytest.mark.parametrize("stage", STAGES)
def test_the_reference_gets_no_essential_or_actionable_comment(stage: str) -> None:
    result = review_package(ROOT / "solutions" / stage / "workit", stage)
    assert not result.ruff_missing
    assert result.of_type("essential", "actionable") == [], [f"{c.id} {c.where}" for c in result.comments]
    praised = {c.rule.id for c in result.of_type("celebratory")}
    assert praised == {rule for rule, where in CELEBRATED.items() if where == stage}


def test_praise_needs_what_it_praises(tmp_path: Path) -> None:
    reference = ROOT / "solutions" / "01_sync" / "workit"
    files = {name: (reference / name).read_text() for name in ("giphy.py", "notifier.py")}
    files["notifier.py"] = files["notifier.py"].replace("smtplib.SMTP(host, port, timeout=timeout)", "smtplib.SMTP(host, port)")
    ids = {c.rule.id for c in review_of(tmp_path, "01_sync", files).comments}
    assert "timeouts_set" not in ids and "smtp_without_timeout" in ids
    task = (
        "from celery import shared_task\n\n@shared_task(bind=True, retry_backoff=10)\ndef job(self, wait):\n"
        "    raise self.retry(countdown={})\n"
    )
    praised = {wait: [c.rule.id for c in review_of(tmp_path / wait, "05_failures", {"tasks.py": task.format(wait)}).comments] for wait in ("wait", "10")}
    assert praised == {"wait": ["own_backoff"], "10": []}, "a wait it computes, not a fixed one"


def test_celerys_full_jitter_is_not_praised_but_pointed_out(tmp_path: Path) -> None:
    """Stage 05 teaches a floor under each wait: Celery's retry_jitter draws from 0 to the backoff."""
    task = "from celery import shared_task\n\n@shared_task(autoretry_for=(OSError,), retry_backoff=True{})\ndef job():\n    pass\n"
    found = {
        jitter: [c.rule.id for c in review_of(tmp_path / str(i), "05_failures", {"tasks.py": task.format(jitter)}).comments]
        for i, jitter in enumerate(("", ", retry_jitter=True", ", retry_jitter=False"))
    }
    assert found == {"": ["full_jitter"], ", retry_jitter=True": ["full_jitter"], ", retry_jitter=False": []}
    (rule,) = [rule for rule in RULES if rule.id == "full_jitter"]
    assert rule.type == "actionable" and "near zero" in rule.why and not any("backs off with jitter" in r.title for r in RULES)


def test_a_broad_except_is_flagged_beyond_delay_in_health_and_a_retrying_task(tmp_path: Path) -> None:
    checked = (
        "from flask import Blueprint\nbp = Blueprint('h', __name__)\n\n@bp.get('/health')\ndef health(client):\n"
        "    try:\n        client.ping()\n    except {}:\n        return {{}}, 503\n"
    )
    ids = {
        caught: [c.rule.id for c in review_of(tmp_path / str(i), "02_redis", {"health.py": checked.format(caught)}).comments]
        for i, caught in enumerate(("Exception", "redis.RedisError"))
    }
    assert ids == {"Exception": ["broad_except_in_health"], "redis.RedisError": []}, "the specific note replaces ruff's blind except"
    anywhere = "def check(client):\n    try:\n        return client.ping()\n    except Exception:\n        return None\n"
    assert [c.rule.id for c in review_of(tmp_path / "ping", "02_redis", {"jobs.py": anywhere}).comments] == ["broad_except_in_health"]
    assert "broad_except_in_health" not in {rule.id for rule in rules_for("01_sync")}
    retried = (
        "from celery import shared_task\n\n@shared_task(bind=True)\ndef job(self, send):\n    try:\n        send()\n"
        "    except {}:\n        raise self.retry(countdown=5)\n"
    )
    ids = {
        caught: [c.rule.id for c in review_of(tmp_path / f"t{i}", "05_failures", {"tasks.py": retried.format(caught)}).comments]
        for i, caught in enumerate(("Exception", "OSError"))
    }
    assert ids == {"Exception": ["broad_except_then_retry"], "OSError": []}
    assert "broad_except_then_retry" not in {rule.id for rule in rules_for("04_enqueue")}


def test_the_get_note_says_what_celery_really_does_with_ignored_results() -> None:
    """With task_ignore_result, the pinned Celery's .get() returns None at once: it never waits."""
    import time

    from celery import Celery

    app = Celery("review-get", broker="memory://", backend="cache+memory://")
    app.conf.task_ignore_result = True

    @app.task
    def job() -> int:
        return 1

    started = time.monotonic()
    assert job.delay().get(timeout=5) is None and time.monotonic() - started < 1
    (rule,) = [rule for rule in RULES if rule.id == "result_get_in_request"]
    assert "times out" not in rule.why and "returns None at once" in rule.why


def test_a_rule_applies_from_its_stage_on(tmp_path: Path) -> None:
    """.get() on a queued job is step 04's concern; later stages keep the rule."""
    files = {"views.py": "def create(task):\n    return task.delay('a', 'b').get()\n"}
    ids = {stage: {c.rule.id for c in review_of(tmp_path / stage, stage, files).comments} for stage in STAGES}
    assert [stage for stage, found in ids.items() if "result_get_in_request" in found] == [s for s in STAGES if s >= "04"]
    assert "result_get_in_request" not in {rule.id for rule in rules_for("03_worker")}
    assert "result_get_in_request" in {rule.id for rule in rules_for("09_later")}  # and in stages still to come


def test_what_is_not_a_mistake_is_left_alone(tmp_path: Path) -> None:
    files = {
        "worker.py": "from workit import create_app\n\nflask_app = create_app()\ncelery_app = flask_app.extensions['celery']\n",
        "views.py": "def create(form, task):\n    email = form.get('email')\n    task.delay(email, form.get('thought'))\n",
        "config.py": "import os\n\nCONFIG = {'GIPHY_API_KEY': os.environ.get('GIPHY_API_KEY'), 'SECRET_KEY': os.environ.get('SECRET_KEY', 'dev')}\n",
        "tasks.py": (
            "from celery import shared_task\n\n@shared_task(bind=True, autoretry_for=(OSError,), retry_backoff_max=600)\n"
            "def job(self, email):\n    def inner():\n        return 1\n    return None\n"
        ),
    }
    assert review_of(tmp_path, "05_failures", files).comments == []


def test_a_specific_comment_replaces_the_general_one_on_its_line(tmp_path: Path) -> None:
    (sample,) = [s for s in SAMPLES if s[0] == "broad_except_around_delay"]
    ids = [c.rule.id for c in review_of(tmp_path, "04_enqueue", sample[2]).comments]
    assert ids == ["broad_except_around_delay"]  # not also ruff's blind_except


def test_the_visibility_timeout_is_the_apps_own_when_it_sets_one(tmp_path: Path) -> None:
    files = {
        "config.py": "import os\n\nVISIBILITY = float(os.environ.get('CELERY_VISIBILITY_TIMEOUT', '300'))\n",
        "tasks.py": "def job(self):\n    raise self.retry(countdown=600)\n",
    }
    (comment,) = review_of(tmp_path, "05_failures", files).comments
    assert comment.rule.id == "countdown_over_visibility" and comment.params == {"keyword": "countdown", "seconds": "600", "limit": "300"}


def test_a_file_python_cannot_read_is_said_not_crashed_on(tmp_path: Path) -> None:
    result = review_of(tmp_path, "01_sync", {"views.py": "def create(:\n    pass\n", "giphy.py": "import requests\nrequests.get('x')\n"})
    assert [(c.rule, c.file, c.line) for c in result.comments if c.file == "workit/views.py"] == [(UNREADABLE, "workit/views.py", 1)]
    assert any(c.rule.id == "requests_without_timeout" for c in result.comments)  # the other files are still read


def test_no_ruff_settings_around_the_code_change_the_review(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The kata's pyproject.toml lints the kata and leaves stages/*/workit out; a learner may have
    ruff settings of their own. The review's ruff reads neither: it runs with its own rules only."""
    codes = sorted({code for rule in RULES for code in rule.ruff})
    (tmp_path / "ruff.toml").write_text(f'extend-exclude = ["workit"]\nforce-exclude = true\n[lint]\nignore = {json.dumps(codes)}\n')
    monkeypatch.chdir(tmp_path)  # `kata review` runs in the checkout, beside its settings
    ruff_rules = {rule.id for rule in RULES if rule.ruff}
    for rule, stage, files, line in SAMPLES:
        if rule in ruff_rules:
            found = [c.line for c in review_of(tmp_path / rule, stage, files).comments if c.rule.id == rule]
            assert found == [line], rule


def test_without_ruff_the_own_rules_still_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(review_module, "ruff_binary", lambda: None)
    (sample,) = [s for s in SAMPLES if s[0] == "app_beside_celery_app"]
    result = review_of(tmp_path, "03_worker", sample[2])
    assert result.ruff_missing and [c.rule.id for c in result.comments] == ["app_beside_celery_app"]
    assert "ruff did not run" in "\n".join(review_module.review_lines(result, "workit"))


# --- the command ----------------------------------------------------------------------------------


def poor_kata(tmp_path: Path) -> Path:
    """A kata whose stage 04 is the reference plus three poor choices that the tests let pass."""
    root = tmp_path / "kata"
    for stage in STAGES:
        (root / "stages" / stage / "tests").mkdir(parents=True)
        shutil.copytree(ROOT / "solutions" / stage / "workit", root / "stages" / stage / "workit", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "solutions").mkdir()
    package = root / "stages" / "04_enqueue" / "workit"
    views = (package / "views.py").read_text()
    (package / "views.py").write_text(views.replace("except OperationalError as problem:", "except Exception as problem:"))
    giphy = (package / "giphy.py").read_text()
    (package / "giphy.py").write_text(giphy.replace("params=params, timeout=timeout)", "params=params)", 1))
    tasks = (package / "tasks.py").read_text()
    (package / "tasks.py").write_text(tasks.replace("    notifier.send_randomness_email(email, thought)", "    notifier.send_randomness_email(email, thought)\n    return email"))
    return root


def line_of(path: Path, text: str) -> int:
    return next(number for number, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def sample_kata(tmp_path: Path) -> Path:
    """A kata whose stage 04 is made of the samples above: the golden review's input."""
    root = tmp_path / "samples"
    (root / "solutions").mkdir(parents=True)
    wanted = ("broad_except_around_delay", "requests_without_timeout", "task_returns_value", "email_regex", "hardcoded_key")
    files = {name: text for rule, _, sample, _ in SAMPLES if rule in wanted for name, text in sample.items()}
    write_package(root / "stages" / "04_enqueue", files)
    return root


def fingerprint(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*")) if p.is_file()}


def test_kata_review_prints_where_what_why_and_what_to_read_and_exits_0(tmp_path: Path) -> None:
    root = poor_kata(tmp_path)
    before = fingerprint(root)
    result = CliRunner().invoke(main, ["--root", str(root), "review", "04", "--json", str(tmp_path / "analysis.json")])
    assert result.exit_code == 0, result.output
    assert fingerprint(root) == before  # nothing changed, nothing written into the kata
    output = click.unstyle(result.output)
    package = root / "stages" / "04_enqueue" / "workit"
    views, giphy = line_of(package / "views.py", "except Exception"), line_of(package / "giphy.py", "params=params)")
    tasks = line_of(package / "tasks.py", "return email")
    assert "Review of 04_enqueue (stages/04_enqueue/workit): three notes." in output
    assert f"essential  workit/views.py:{views}  `except Exception` around send_randomness_email.delay()" in output
    assert f"actionable  workit/giphy.py:{giphy}  A requests call without a timeout" in output
    assert f"informative  workit/tasks.py:{tasks}  The task send_randomness_email returns `email`" in output
    assert "Read: https://docs.celeryq.dev/en/stable/userguide/calling.html#connection-error-handling" in output
    checked = line_of(package / "validation.py", "validate_email(email")
    assert f"celebratory  workit/validation.py:{checked}  email-validator checks the address, not a regex" in output
    assert "One thing here would hurt in production: fix it first. One more change would make it sturdier." in output


def test_the_json_is_exercisms_analysis_format(tmp_path: Path) -> None:
    root = sample_kata(tmp_path)
    path = tmp_path / "analysis.json"
    result = CliRunner().invoke(main, ["--root", str(root), "review", "04", "--json", str(path)])
    assert result.exit_code == 0, result.output
    written = json.loads(path.read_text())
    golden = GOLDEN / "review.json"
    if os.environ.get("KATA_UPDATE_GOLDEN"):
        golden.write_text(json.dumps(written, indent=2) + "\n")
    assert written == json.loads(golden.read_text()), "the review changed: KATA_UPDATE_GOLDEN=1 rewrites the golden file"
    assert set(written) == {"summary", "comments"}
    for comment in written["comments"]:
        assert set(comment) == {"comment", "params", "type"} and comment["type"] in review_module.TYPES


def test_without_a_stage_it_reviews_the_last_one_written(tmp_path: Path) -> None:
    root = poor_kata(tmp_path)
    (root / "stages" / "05_failures" / "workit" / "tasks.py").write_text('raise NotImplementedError("Step 05_failures, task 1: write it")\n')
    output = click.unstyle(CliRunner().invoke(main, ["--root", str(root), "review"]).output)
    assert output.startswith("Review of 04_enqueue ")


def passing(stage: str, count: int = 3) -> StageResult:
    return StageResult(stage, [TestResult(nodeid=f"stages/{stage}/tests/test_x.py::test_{n}", status="passed", phase="call") for n in range(count)])


def test_kata_check_adds_the_notes_once_the_stage_passes(tmp_path: Path) -> None:
    root = poor_kata(tmp_path)
    result = passing("04_enqueue")
    run = TestRun([result], 0, "", 0.1)
    lines = click.unstyle("\n".join(check_lines(root, Stage(root, "04_enqueue"), result, run, SeenHints(tmp_path))))
    assert "All 3 tests of 04_enqueue pass. Stage done!\nThree notes on your approach (kata review 04 says why):" in lines
    views = line_of(root / "stages" / "04_enqueue" / "workit" / "views.py", "except Exception")
    assert f"  essential    workit/views.py:{views}  `except Exception` around send_randomness_email.delay()" in lines
    quiet = click.unstyle("\n".join(check_lines(root, Stage(root, "04_enqueue"), result, run, SeenHints(tmp_path), review=False)))
    assert "on your approach" not in quiet
    praised = click.unstyle("\n".join(check_lines(root, Stage(root, "05_failures"), passing("05_failures"), run, SeenHints(tmp_path))))
    assert "Well done: send_randomness_email computes its own growing wait before each retry." in praised and "on your approach" not in praised


# Stage 09's skeleton is production code with its incidents in it: the review should flag those.
INCIDENTS = {"09_oncall": {"result_get_in_request"}}


@pytest.mark.parametrize("stage", STAGES)
def test_an_untouched_skeleton_teaches_nothing_the_review_would_flag(stage: str) -> None:
    """What a stage gives the learner is not what its review complains about (an incident is)."""
    result = review_package(ROOT / "stages" / stage / "workit", stage)
    flagged = {comment.rule.id for comment in result.of_type("essential", "actionable")}
    assert flagged == INCIDENTS.get(stage, set()), [f"{c.id} {c.where}" for c in result.comments]


def test_the_database_rules_tell_the_legacy_api_from_the_current_one(tmp_path: Path) -> None:
    files = {
        "views.py": (
            "from workit.db import db\nfrom workit.models import MailerRequest\n\n\ndef show(request_id, form):\n"
            "    old = db.session.query(MailerRequest).get(request_id)\n"
            "    new = db.session.get(MailerRequest, request_id)\n"
            "    return db.get_or_404(MailerRequest, request_id), form.get('email'), old, new\n"
        )
    }
    found = [(c.rule.id, c.line) for c in review_of(tmp_path, "06_status", files).comments]
    assert found == [("legacy_query_get", 6)], found
    assert "legacy_query_get" not in {rule.id for rule in rules_for("05_failures")}, "no database before step 06"


def test_a_count_is_a_fair_return_and_each_task_is_told_once(tmp_path: Path) -> None:
    """A periodic job's number of rows shows in Celery's log line; a dict or the row is what nobody reads."""
    files = {
        "maintenance.py": (
            "from celery import shared_task\n\n\ndef changed(rows) -> int:\n    return len(rows)\n\n\n"
            "@shared_task\ndef sweep(rows):\n    count = 0\n    if not rows:\n        return 0\n"
            "    count += changed(rows)\n    return count\n\n\n"
            "@shared_task\ndef counted(rows) -> int:\n    return rows.total\n\n\n"
            "@shared_task\ndef report(row):\n    if row is None:\n        return {}\n    return {'id': row.id}\n\n\n"
            "@shared_task\ndef load(request_id, db):\n    record = db.get(request_id)\n    return record\n"
        )
    }
    found = [(c.params["task"], c.line) for c in review_of(tmp_path, "08_schedule", files).comments if c.rule.id == "task_returns_value"]
    assert found == [("report", 25), ("load", 32)], found  # the first of each task, once
