"""Stage 05's apps get a Celery broker, and `run_job`: one job run to its end, retries and all,
in no time.

`run_job` calls the task with `.apply()`, which runs it here, in the test's thread, and runs
each retry at once instead of after its countdown. The countdown each retry asked for is
recorded (Celery's `task_retry` signal), so the tests see the backoff without waiting for it.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from kata.stack import free_port

EMAIL = "buster@example.com"
THOUGHT = "I'm a monster"
GIF = "https://media.giphy.com/media/kataMonster/200.gif"


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **celery_app_config}


@dataclass
class SmtpSwitch:
    """Takes the app's SMTP server away and brings it back (the test inbox stays as it is)."""

    app: Any
    port: int

    def down(self) -> None:
        """Mail goes to a loopback port where nothing listens: connection refused."""
        self.app.config["MAIL_PORT"] = free_port()

    def up(self) -> None:
        self.app.config["MAIL_PORT"] = self.port


@pytest.fixture
def smtp(app: Any) -> SmtpSwitch:
    """`smtp.down()`, `smtp.up()`: the test's SMTP server, as the app sees it."""
    return SmtpSwitch(app, app.config["MAIL_PORT"])


@dataclass(frozen=True)
class Retried:
    countdown: float  # seconds the retry asked to wait
    error: BaseException | None  # what made the task retry


@dataclass
class JobRun:
    """What became of one job: its final state, its error if it failed, and its retries."""

    task_id: str
    state: str
    error: BaseException | None
    retries: list[Retried] = field(default_factory=list)

    @property
    def countdowns(self) -> list[float]:
        return [retry.countdown for retry in self.retries]


def _seconds(when: Any) -> float:
    if isinstance(when, datetime.datetime):
        now = datetime.datetime.now(when.tzinfo)
        return max(0.0, (when - now).total_seconds())
    return float(when or 0)


def run_job(email: str = EMAIL, thought: str = THOUGHT, task_id: str | None = None) -> JobRun:
    """Run send_randomness_email(email, thought) as the job `task_id`, every retry included."""
    from celery.signals import task_retry

    from workit.tasks import send_randomness_email

    assert hasattr(send_randomness_email, "apply"), "workit.tasks.send_randomness_email is no Celery task"
    task_id = task_id or str(uuid.uuid4())
    retries: list[Retried] = []

    def remember(sender: Any = None, request: Any = None, reason: Any = None, **_: Any) -> None:
        if request is not None and request.id == task_id:
            retries.append(Retried(_seconds(getattr(reason, "when", None)), getattr(reason, "exc", None)))

    task_retry.connect(remember, weak=False)
    try:
        result = send_randomness_email.apply((email, thought), task_id=task_id)
    except RecursionError:
        raise AssertionError(
            f"the job retried {len(retries)} times and was still going: it retries forever. "
            "Give its retries a limit (README, task 1: between 3 and 10): after that, the job "
            "fails for good and the worker logs it."
        ) from None
    finally:
        task_retry.disconnect(remember)
    error = result.result if result.state == "FAILURE" else None
    return JobRun(task_id, result.state, error, retries)


@pytest.fixture(name="run_job")
def run_job_fixture(app: Any, celery_of: Callable[[Any], Any]) -> Callable[..., JobRun]:
    """`run_job(email, thought, task_id=None)`: the job run to its end, see run_job above."""
    celery_of(app)
    return run_job


@pytest.fixture
def seeded_random() -> Iterator[None]:
    """The same random numbers on every run, so jitter cannot make a test flaky."""
    state = random.getstate()
    random.seed(20050202)
    yield
    random.setstate(state)
