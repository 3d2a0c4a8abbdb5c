"""send_randomness_email, the Celery task: its name, its arguments, and what it does when called."""

from __future__ import annotations

import importlib
import inspect
import smtplib
import socket
import sys
import threading

import pytest
from celery import current_app as current_celery
from flask import current_app, has_app_context

from kata.inbox import image_sources
from workit import create_app
from workit.tasks import send_randomness_email

NAME = "workit.tasks.send_randomness_email"
EMAIL = "tobias@example.com"
THOUGHT = "I just blue myself"
GIF = "https://media.giphy.com/media/kataBlueMyself/200.gif"
SENDER = "gob@example.com"
SUBJECT = "Here is your randomness email of awesome."
GIVE_UP_AFTER = 5.0  # seconds; refused at once, a task that fails properly raises in milliseconds


def registered(celery):
    """The task as the Celery app knows it, by name: what a worker looks up for each message."""
    if NAME in celery.tasks:
        return celery.tasks[NAME]
    ours = sorted(name for name in celery.tasks if not name.startswith("celery."))
    assert False, (
        f"the Celery app has no task named {NAME!r}; the tasks it knows: {ours!r}. Make "
        f"send_randomness_email in workit/tasks.py a task of it, under Celery's own name, "
        f"{NAME!r} (module, then function): every message carries the name, and a worker "
        "finds the code by it (README, task 3)."
    )


def start_outside_any_app_context() -> None:
    """The test calls the task as a worker does; an app context already pushed is the code's."""
    if not has_app_context():
        return
    left = current_app.name
    from flask.globals import _cv_app

    while has_app_context():
        _cv_app.get().pop()
    raise AssertionError(
        f"before the task was called, the app context of {left!r} was already pushed, and this "
        "test pushed none: create_app (celery_init_app?) left it pushed. Every later task and "
        "request in this thread would then run in that one app's context, and a task that "
        "works here could still fail in a worker. Push a context only around each task's "
        "body, and pop it after (README, task 2)."
    )


def send_outside_any_app_context() -> None:
    """Call the task the way a worker does: no request, no app context around it."""
    start_outside_any_app_context()
    assert hasattr(send_randomness_email, "delay"), (
        "workit.tasks.send_randomness_email is still a plain function, with no .delay(): make "
        "it a Celery task (README, task 3)."
    )
    try:
        send_randomness_email(EMAIL, THOUGHT)
    except RecursionError as error:
        raise AssertionError(
            f"send_randomness_email({EMAIL!r}, {THOUGHT!r}) called itself until Python gave up "
            "(RecursionError). In workit/tasks.py the name send_randomness_email is your task, "
            "and step 01's function has the same name: if you import the function by its name, "
            "the task defined after it takes the name over, and the task calls itself. Import "
            "the module workit.notifier instead, and call the function through it."
        ) from error
    except RuntimeError as error:
        if "application context" not in str(error):
            raise
        owner = getattr(send_randomness_email, "app", None)
        current = current_celery._get_current_object()
        if owner is not current:
            raise AssertionError(
                f"send_randomness_email({EMAIL!r}, {THOUGHT!r}), called outside any app context "
                f"as a worker calls it, raised RuntimeError: {str(error).splitlines()[0]} The "
                f"task belongs to the Celery app {owner!r}, not to {current!r}, the one "
                "create_app made, whose tasks run in the app context: it was tied to the Celery "
                "app that was current when workit/tasks.py was imported. README, task 3: the "
                "task belongs to whichever Celery app the latest create_app made."
            ) from error
        raise AssertionError(
            f"send_randomness_email({EMAIL!r}, {THOUGHT!r}), called outside any app context as "
            f"a worker calls it, raised RuntimeError: {error} Step 01's notifier reads "
            "current_app, which needs an app context, and a worker has no request to give it "
            "one. Every task of your Celery app should run inside its Flask app's context: "
            "README, task 2 (pytest stages/03_worker/tests/test_celery_app_context.py)."
        ) from error


def test_the_task_is_registered_under_its_full_name(app, celery_of):
    task = registered(celery_of(app))

    assert task.name == NAME


def test_send_randomness_email_is_a_shared_task_of_the_app(app, celery_of):
    celery = celery_of(app)

    assert hasattr(send_randomness_email, "delay"), (
        "workit.tasks.send_randomness_email is a plain function, with no .delay(): make it a "
        "Celery task (README, task 3; https://docs.celeryq.dev/en/stable/userguide/tasks.html#basics). Sidekiq's "
        "worker module, mixed into a Ruby class, did the same for it."
    )
    owner = getattr(send_randomness_email, "app", None)
    assert owner is celery, (
        f"send_randomness_email belongs to the Celery app {owner!r}, not to the one create_app "
        f"made, {celery!r}: it was tied to a Celery app when workit/tasks.py was imported, and "
        "that app never saw the Flask config. A task in a module of its own belongs to "
        "whichever Celery app is current when it is used (README, task 3; Celery's Tasks "
        "guide, Basics: https://docs.celeryq.dev/en/stable/userguide/tasks.html#basics)."
    )


# Importing workit.tasks afresh makes Celery warn that the test apps already know the task.
@pytest.mark.filterwarnings("ignore:Task name .* is already registered")
def test_workit_tasks_neither_makes_nor_imports_a_celery_app(app, celery_of, monkeypatch):
    import workit
    from celery import _state

    assert hasattr(send_randomness_email, "delay"), (
        "workit.tasks.send_randomness_email is a plain function, with no .delay(): make it a "
        "Celery task (README, task 3)."
    )
    before = set(_state._get_active_apps())
    finalizers = set(_state._on_app_finalizers)
    for name in ("workit.tasks", "workit.worker"):
        monkeypatch.delattr(workit, name.rpartition(".")[2], raising=False)
        monkeypatch.delitem(sys.modules, name, raising=False)
    try:
        importlib.import_module("workit.tasks")
        made = [a for a in _state._get_active_apps() if a not in before]
        imported_worker = "workit.worker" in sys.modules
    finally:
        sys.modules.pop("workit.tasks", None)
        sys.modules.pop("workit.worker", None)
        _state._on_app_finalizers.clear()
        _state._on_app_finalizers.update(finalizers)
        celery_of(app).set_default()

    assert not imported_worker, (
        "importing workit.tasks imported workit.worker, and with it a Flask app and a Celery app "
        "made from the environment. The task must belong to whichever Celery app the latest "
        "create_app made: workit/tasks.py neither makes nor imports a Celery app (from step 04 "
        "the views import workit.tasks inside create_app, and the import goes round in a "
        "circle). README, task 3."
    )
    assert not made, (
        f"importing workit.tasks made the Celery app(s) {made!r}. workit/tasks.py neither makes "
        "nor imports a Celery app: such an app never saw the Flask config. The task belongs "
        "to whichever Celery app the latest create_app made (README, task 3)."
    )


def test_the_task_takes_just_the_email_and_the_thought(app, celery_of):
    task = registered(celery_of(app))

    parameters = list(inspect.signature(task.run).parameters)
    assert parameters == ["email", "thought"], (
        f"the task's parameters are {parameters!r}; expected exactly ['email', 'thought'], "
        "like Sidekiq's perform(email, thought). The arguments travel to the worker as JSON, "
        "so a task takes small, plain values: two strings, not a request, a dict of form data "
        "or an object."
    )
    kinds = {name: p.kind for name, p in inspect.signature(task.run).parameters.items()}
    keyword_only = [name for name, kind in kinds.items() if kind is not inspect.Parameter.POSITIONAL_OR_KEYWORD]
    assert not keyword_only, (
        f"the task's parameters {keyword_only!r} cannot be given by position, and "
        f".delay({EMAIL!r}, {THOUGHT!r}) passes them by position: Celery refuses the call with "
        "a TypeError. Make them plain parameters: def send_randomness_email(email, thought)."
    )


def test_calling_the_task_outside_an_app_context_sends_the_email(
    app, celery_of, giphy, inbox, broker, monkeypatch
):
    giphy.search_finds(GIF)
    celery_of(app)
    senders = []
    connect = smtplib.SMTP.connect

    def recording_connect(self, *args, **kwargs):
        senders.append(threading.current_thread())
        return connect(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", recording_connect)

    before = set(threading.enumerate())
    send_outside_any_app_context()

    if not inbox.deliveries:  # the test fails: first see whether a thread of its own sends it
        for thread in set(threading.enumerate()) - before:
            thread.join(2)
    caller = threading.current_thread()
    elsewhere = [thread.name for thread in senders if thread is not caller]
    assert not elsewhere, (
        f"send_randomness_email({EMAIL!r}, {THOUGHT!r}) connected to the mail server from "
        f"another thread, {elsewhere!r}: it handed the sending to a thread and returned before "
        "the email was sent. Celery then records the job as done even when sending fails, and "
        "a worker that stops loses it. Send the email in the task itself."
    )
    deliveries = inbox.deliveries
    waiting = [message.task for message in broker.queued()] if not deliveries else []
    assert not waiting, (
        f"send_randomness_email({EMAIL!r}, {THOUGHT!r}), called directly, sent nothing and "
        f"queued {waiting!r} instead. The task should do the work itself: send the email with "
        "notifier.send_randomness_email(email, thought). A task that queues another task and "
        "waits for it with .get() blocks a worker on a job it may have to run itself (Celery "
        "refuses .get() inside a task), and with task_ignore_result .get() returns None at "
        "once, before anything is sent."
    )
    assert [d.rcpt_tos for d in deliveries] == [(EMAIL,)], (
        f"send_randomness_email({EMAIL!r}, {THOUGHT!r}) delivered {len(deliveries)} emails, "
        f"to {[d.rcpt_tos for d in deliveries]!r}; expected exactly one, to {EMAIL!r}, "
        "right away: calling a task directly runs it here and now, like a plain function."
    )


def test_the_task_sends_step_01s_randomness_email(app, celery_of, giphy, inbox):
    giphy.search_finds(GIF)
    celery_of(app)

    send_outside_any_app_context()

    assert len(inbox.messages) == 1, (
        f"one call of the task delivered {len(inbox.messages)} emails; expected exactly 1."
    )
    [message] = inbox.messages
    headers = {name: message[name] for name in ("To", "From", "Subject")}
    expected = {"To": EMAIL, "From": SENDER, "Subject": SUBJECT}
    assert headers == expected, (
        f"the task's email has the headers {headers!r}; expected {expected!r}, step 01's "
        "email. Call notifier.send_randomness_email(email, thought) in the task; do not "
        "write a second version of it."
    )
    html = message.get_body(("html",))
    sources = image_sources(html.get_content()) if html is not None else []
    assert sources == [GIF], (
        f"the task's email shows the images {sources!r}; expected the GIF Giphy found for the "
        f"thought, [{GIF!r}]."
    )
    searched = [call.params.get("q") for call in giphy.calls_to("search")]
    assert searched == [THOUGHT], (
        f"the task asked Giphy to search for {searched!r}; expected [{THOUGHT!r}], one search "
        "for the thought."
    )


def test_when_giphy_gives_no_gif_the_task_does_not_pass_for_sent(app, celery_of, giphy, inbox):
    giphy.search_fails(500)
    giphy.random_fails(500)
    celery_of(app)

    try:
        send_outside_any_app_context()
    except (AssertionError, NotImplementedError):
        raise
    except Exception:  # noqa: BLE001 - the error comes out: Celery records a failed task
        return
    assert inbox.deliveries, (
        f"with Giphy giving no GIF at all (search and random both answered 500), "
        f"send_randomness_email({EMAIL!r}, {THOUGHT!r}) returned normally and sent no email. "
        "A task that catches the error (GiphyError, from step 01's giphy.py) and returns looks "
        "like a success to Celery: the worker reports `succeeded` and the email is lost "
        "without a trace. Do not catch it in the task: let it out, so the job is recorded as "
        "failed (step 05 sends the email without a GIF instead)."
    )


def test_the_task_raises_when_the_mail_server_refuses_the_email(app, celery_of, giphy, inbox):
    giphy.search_finds(GIF)
    celery_of(app)
    inbox.refuse(1)  # "451 try again later", once

    try:
        send_outside_any_app_context()
    except (AssertionError, NotImplementedError):
        raise
    except Exception as error:  # noqa: BLE001 - looked at below
        assert _from_the_smtp_failure(error), (
            f"with the mail server refusing the email (451 try again later), "
            f"send_randomness_email({EMAIL!r}, {THOUGHT!r}) raised {type(error).__name__}: "
            f"{error}; expected smtplib's error (an SMTPException), or one raised `from` it."
        )
        return
    assert inbox.deliveries, (
        f"with the mail server refusing the email (451 try again later, an "
        f"smtplib.SMTPException), send_randomness_email({EMAIL!r}, {THOUGHT!r}) returned "
        "normally and no email arrived. A task that catches the error and returns looks like a "
        "success to Celery: the worker reports `succeeded` and the email is lost without a "
        "trace. Do not catch SMTP errors in the task: let them out."
    )


@pytest.fixture
def app_with_mail_down(app_config):
    """An app whose MAIL_PORT is a closed loopback port: every SMTP connection is refused."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    closed_port = probe.getsockname()[1]
    probe.close()
    app = create_app({**app_config, "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": closed_port})
    yield app
    celery = app.extensions.get("celery")
    if celery is not None and hasattr(celery, "close"):
        celery.close()


class _StopTrying(BaseException):
    """Raised into a task that is still trying when the test gives up (`except Exception`
    does not catch it)."""


def _from_the_smtp_failure(error: BaseException) -> bool:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, (OSError, smtplib.SMTPException)):
            return True
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return False


def test_the_task_raises_when_the_email_cannot_be_sent(
    app_with_mail_down, celery_of, giphy, monkeypatch
):
    giphy.search_finds(GIF)
    celery_of(app_with_mail_down)
    attempts = []
    give_up = threading.Event()
    connect = smtplib.SMTP.connect

    def counting_connect(self, host="localhost", port=0, *args, **kwargs):
        if give_up.is_set():
            raise _StopTrying()
        attempts.append((host, port))
        return connect(self, host, port, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", counting_connect)
    outcome: dict[str, BaseException | None] = {}

    def run() -> None:  # in a thread, so a task that never gives up cannot hang the tests
        try:
            send_outside_any_app_context()
        except BaseException as error:  # noqa: BLE001 - handed to the test below
            outcome["raised"] = error
        else:
            outcome["raised"] = None

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(GIVE_UP_AFTER)
    if worker.is_alive():
        give_up.set()
        worker.join(1)
        pytest.fail(
            f"with the mail server down (connection refused), send_randomness_email({EMAIL!r}, "
            f"{THOUGHT!r}) was still running after {GIVE_UP_AFTER:.0f} s, with "
            f"{len(attempts)} connection attempt(s): it retries forever. Let the error out of "
            "the task: the worker then records the failure, and it is free for the next job."
        )
    error = outcome.get("raised")
    if isinstance(error, (NotImplementedError, AssertionError)):
        raise error
    down = ("127.0.0.1", app_with_mail_down.config["MAIL_PORT"])
    elsewhere = sorted({(str(host), int(port)) for host, port in attempts} - {down})
    assert not elsewhere, (
        f"the app's MAIL_SERVER and MAIL_PORT are {down[0]}:{down[1]}, where the mail server is "
        f"down, but send_randomness_email({EMAIL!r}, {THOUGHT!r}) connected to "
        f"{', '.join(f'{h}:{p}' for h, p in elsewhere)}: it read the settings of another Flask "
        "app. A task runs in the app context its Celery app's task class pushes; if that class "
        "(or the Celery app) was made once, at module level or for the first Flask app, every "
        "task keeps reading that first app's config. Make both inside celery_init_app, for "
        "the app it is given (pytest stages/03_worker/tests/test_celery_app_context.py)."
    )
    assert error is not None, (
        f"with the mail server down (connection refused), send_randomness_email({EMAIL!r}, "
        f"{THOUGHT!r}) returned normally after {len(attempts)} connection attempt(s), as if "
        "the email had been sent. A task that catches the error looks like a success to "
        "Celery: the worker reports `succeeded` and the email is lost without a trace. Do not "
        "catch the exception in the task: let it out."
    )
    assert attempts and _from_the_smtp_failure(error), (
        f"with the mail server down, send_randomness_email({EMAIL!r}, {THOUGHT!r}) raised "
        f"{type(error).__name__}: {error}, after {len(attempts)} SMTP connection attempt(s); "
        "expected the failure to come from the refused SMTP connection (ConnectionRefusedError, "
        "or an exception raised `from` it). Call notifier.send_randomness_email(email, thought) "
        "and let its error out."
    )
