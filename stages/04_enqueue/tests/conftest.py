"""Stage 04's apps get a Celery broker (the test's fake Redis, served on a loopback port),
and `submit`, which posts the form and explains what went wrong when the view raises."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

DELAY = "send_randomness_email.delay(email, thought)"


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
            response = client.post("/mailers", data=fields, **options)
            response.close()  # as a server does once it is sent: runs any call_on_close work now
            return response
        except (NotImplementedError, AssertionError):
            raise
        except Exception as error:
            said = str(error) if len(str(error)) <= 300 else f"{str(error)[:300]}..."
            raise AssertionError(
                f"POST /mailers with {fields!r} raised {type(error).__name__} ({said})."
                f"{_hint(error)}"
            ) from error

    return post


def _hint(error: Exception) -> str:
    import smtplib

    import requests
    from kombu.exceptions import EncodeError, OperationalError

    if isinstance(error, AttributeError) and "delay" in str(error):
        return (
            " Only a Celery task has .delay(): import send_randomness_email from workit.tasks "
            "(the @shared_task of step 03), not from workit.notifier (the plain function that "
            "sends right away)."
        )
    if isinstance(error, OperationalError):
        return (
            " The view could not reach Redis to queue the job. The test's Redis is at "
            "app.config['REDIS_URL'], the broker celery_init_app gives the Celery app."
        )
    if isinstance(error, EncodeError):
        return (
            " The arguments of .delay(...) travel to the worker as JSON, so they must be plain "
            f"values: {DELAY}, two strings, never the request or the form."
        )
    if isinstance(error, TypeError) and "argument" in str(error):
        return (
            " Celery checks the arguments of .delay(...) against the task's parameters, "
            f"(email, thought): {DELAY}, the two strings, in that order."
        )
    if type(error).__name__ == "GiphyError" or isinstance(
        error, (requests.RequestException, smtplib.SMTPException, OSError)
    ):
        return (
            " The request itself still asks Giphy for the GIF or sends the email. Calling the "
            "task, send_randomness_email(email, thought), or .apply(...) runs it right here; "
            f"{DELAY} only queues it, and the worker does the rest."
        )
    return (
        " After checking the form, the view should do one quick thing: "
        f"{DELAY}, with the two strings from the form."
    )
