"""Stage 04's apps get a Celery broker (the test's fake Redis, served on a loopback port),
and `submit`, which posts the form and explains what went wrong when the view raises or
hands the work to a thread of its own."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest


@pytest.fixture
def app_config(app_config: dict[str, Any], celery_app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, **celery_app_config}


@pytest.fixture
def stack_env(stack_env: dict[str, str]) -> dict[str, str]:
    """The real stack's settings, with CSRF off: test_real_stack.py posts the form directly.
    test_real_stack_faults.py turns it back on and posts the token like a browser."""
    return {**stack_env, "WTF_CSRF_ENABLED": "0"}


@pytest.fixture
def submit(client: Any) -> Callable[..., Any]:
    """`submit(fields, **options)`: POST /mailers; an error in the view becomes a clear failure."""

    def post(fields: dict[str, str], **options: Any) -> Any:
        try:
            with threads_started() as started:
                response = client.post("/mailers", data=fields, **options)
                response.close()  # as a server does once it is sent: runs any call_on_close work now
        except (NotImplementedError, AssertionError):
            raise
        except Exception as error:
            said = str(error) if len(str(error)) <= 300 else f"{str(error)[:300]}..."
            raise AssertionError(
                f"POST /mailers with {fields!r} raised {type(error).__name__} ({said})."
                f"{_hint(error)}"
            ) from error
        if started:
            _no_thread(fields, started)
        return response

    return post


@pytest.fixture
def submit_good(submit: Callable[..., Any]) -> Callable[..., Any]:
    """`submit` for a form that must go through: a refusal says what the page said."""

    def post(fields: dict[str, str], **options: Any) -> Any:
        response = submit(fields, **options)
        if response.status_code == 400:
            text = response.get_data(as_text=True)
            error = re.search(r'class="error"[^>]*>(.*?)</', text, re.S)
            said = html.unescape(" ".join(error.group(1).split())) if error else text[:300]
            raise AssertionError(
                f"POST /mailers refused a good form with 400: clean_form (workit/validation.py) "
                f"is wrong about it. The page says {said!r}; the form was {fields!r}. "
                "`pytest stages/04_enqueue/tests/test_clean_form.py` says more."
            )
        return response

    return post


@contextmanager
def threads_started() -> Iterator[list[tuple[threading.Thread, str]]]:
    """The threads that the calling thread starts inside the block, each with what it runs
    (a server's own threads, such as the fake Redis's, are not counted)."""
    caller, started = threading.current_thread(), []
    original = threading.Thread.start

    def start(thread: threading.Thread, *args: Any, **kwargs: Any) -> None:
        if threading.current_thread() is caller:
            started.append((thread, _described(thread)))
        original(thread, *args, **kwargs)

    threading.Thread.start = start  # type: ignore[method-assign]
    try:
        yield started
    finally:
        threading.Thread.start = original  # type: ignore[method-assign]


def _no_thread(fields: dict[str, str] | None, started: list[tuple[threading.Thread, str]]) -> None:
    targets = ", ".join(described for _, described in started)
    for thread, _ in started:
        thread.join(5)  # let it end here, rather than in the middle of another test
    raise AssertionError(
        f"POST /mailers started a thread of its own ({targets}): a thread is no queue. Hand "
        "the job to the worker, through Redis: a Celery task has a method that writes a "
        "message for a worker instead of running the function. A thread keeps the work in the "
        "web process, where a restart or a crash loses the email, nothing retries it and no "
        "other machine can take a share (and Flask's current_app does not follow a thread)."
    )


def _described(thread: threading.Thread) -> str:
    target = getattr(thread, "_target", None)
    target = getattr(target, "func", target)  # a functools.partial: the function inside
    name, module = getattr(target, "__qualname__", None), getattr(target, "__module__", None)
    return f"{thread.name}, running {module}.{name}" if name and module else thread.name


def _hint(error: Exception) -> str:
    import smtplib

    import requests
    from kombu.exceptions import EncodeError, OperationalError

    if type(error).__name__ == "InvalidForm":
        return (
            " clean_form refused the form, and nothing in the view caught its InvalidForm, so "
            "the user would get an error page. A refused form comes back as the form itself, "
            "with the message and what the user typed (README, task 5)."
        )
    if isinstance(error, AttributeError) and "delay" in str(error):
        return (
            " Only a Celery task has .delay(): the view still imports send_randomness_email from "
            "workit.notifier, the plain function that sends right away. The task is the "
            "Celery task of step 03, in workit.tasks."
        )
    if isinstance(error, OperationalError):
        return (
            " The view could not reach Redis to queue the job. The test's Redis is at "
            "app.config['REDIS_URL'], the broker celery_init_app gives the Celery app."
        )
    if isinstance(error, EncodeError):
        return (
            " The arguments of .delay(...) travel to the worker as JSON, so they must be plain "
            "values: the two strings, never the request or the form."
        )
    if isinstance(error, TypeError) and "argument" in str(error):
        return (
            " Celery checks the arguments of .delay(...) against the task's parameters, "
            "(email, thought): give it the two strings, in that order."
        )
    if type(error).__name__ == "GiphyError" or isinstance(
        error, (requests.RequestException, smtplib.SMTPException, OSError)
    ):
        return (
            " The request itself still asks Giphy for the GIF or sends the email. Calling the "
            "task like a function, or its .apply(...), runs it right here; .delay(...) only "
            "queues it, and the worker does the rest."
        )
    return " The traceback above shows the line of workit/ that raised it."
