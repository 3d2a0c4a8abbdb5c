"""POST /mailers only queues the job: one small message in Redis, and a worker sends the email."""

from __future__ import annotations

from urllib.parse import urlsplit

from kata.broker import task_failures, wait_for_email_or_failure

NAME = "workit.tasks.send_randomness_email"
EMAIL = "tobias@example.com"
THOUGHT = "I just blue myself"
GIF = "https://media.giphy.com/media/kataBlueMyself/200.gif"
FORM = {"mailers[email]": EMAIL, "mailers[thought]": THOUGHT}
DELAY = ".delay(...)"


def queued(broker) -> list[tuple[str, list, dict]]:
    """(task name, args, kwargs) of each message waiting in the `celery` list, oldest first."""
    try:
        messages = broker.queued()
    except (ValueError, LookupError) as error:
        raise AssertionError(
            f"the `celery` list in Redis holds a message that is not a JSON task message "
            f"({type(error).__name__}: {error}). Keep Celery's default serializer, json."
        ) from error
    return [(m.task, m.args, m.kwargs) for m in messages]


def only_job(broker, inbox) -> tuple[str, list, dict]:
    """The one message POST /mailers queued, or a failure that says why there is not one."""
    jobs = queued(broker)
    sent = len(inbox.deliveries)
    if not jobs and sent:
        why = (
            f"The request sent {sent} email(s) itself instead: the task ran right here. Calling "
            "the task like a function, or its .apply(...), runs it in the request; its "
            f"{DELAY} queues it for the worker."
        )
    elif not jobs:
        why = (
            "Nothing was sent either. Queue the job with the task's .delay(...), on the default "
            "queue: the worker listens to `celery`."
        )
    else:
        why = (
            "One form, one job: the view queues it more than once (a second .delay(), or "
            ".delay() and .apply_async() both?)."
        )
    assert len(jobs) == 1, (
        f"after one POST /mailers, the `celery` list in Redis holds {len(jobs)} message(s), "
        f"{jobs!r}; expected exactly one. {why}"
    )
    return jobs[0]


def test_the_request_does_not_wait_for_the_job(app_config, broker):
    import threading

    from workit import create_app

    # An app that keeps its jobs' results, as some deployments do; and no worker running.
    settings = {**app_config["CELERY"], "task_ignore_result": False, "result_backend": broker.url}
    client = create_app({**app_config, "CELERY": settings}).test_client()
    answers: list[object] = []

    def post() -> None:
        try:
            answers.append(client.post("/mailers", data=FORM).status_code)
        except Exception as error:  # noqa: BLE001 - reported below
            answers.append(error)

    thread = threading.Thread(target=post, daemon=True)
    thread.start()
    thread.join(2)
    assert answers, (
        "with no worker running, POST /mailers had not answered after 2 s: the request waited "
        "for the job's result. The view queues the job and answers; nobody needs the result "
        "in the request, and a worker that is busy or down holds every request that waits for "
        "one (README, task 1)."
    )
    if isinstance(answers[0], NotImplementedError):
        raise answers[0]
    assert answers == [303], (
        f"with no worker running, and Celery keeping results, POST /mailers answered "
        f"{answers[0]!r}; expected 303 at once, the job left waiting for a worker (README, task 1)."
    )


def test_posting_the_form_redirects_to_the_sent_page(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    response = submit_good(FORM)

    where = urlsplit(response.location or "").path
    assert response.status_code in (302, 303) and where == "/sent", (
        f"POST /mailers with a good form answered {response.status_code} -> "
        f"{response.location!r}; expected a redirect (303) to /sent, as before: queueing the "
        "job changes what happens behind the page, not the page."
    )


def test_the_sent_page_says_who_the_email_is_for(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    response = submit_good(FORM, follow_redirects=True)

    expected = f"You did it! Email sent to {EMAIL}"
    assert response.request.path == "/sent" and expected in response.text, (
        f"after POST /mailers with mailers[email]={EMAIL!r} and its redirect, the browser is "
        f"on {response.request.path!r} and the page does not show {expected!r}. Keep the "
        "flash(...) and the redirect of step 01 after the .delay(...) call."
    )


def test_the_request_neither_asks_giphy_nor_sends_the_email(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    submit_good(FORM)

    searches, sent, jobs = len(giphy.calls), len(inbox.deliveries), queued(broker)
    if jobs:
        shortcut = (
            "You queued the job and also did the work in the request: remove the old "
            "synchronous call, notifier.send_randomness_email(email, thought)."
        )
    else:
        shortcut = (
            "Calling the task like a function, or its .apply(...), runs it right here. Its "
            f"{DELAY} only queues it."
        )
    assert (searches, sent) == (0, 0), (
        f"before POST /mailers answered, the app asked Giphy {searches} time(s) and sent {sent} "
        "email(s); expected neither: the GIF lookup and the email still run inside the "
        f"request, so the user still waits for them. {shortcut} The worker does the slow part."
    )


def test_the_request_queues_exactly_one_job(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    submit_good(FORM)

    only_job(broker, inbox)


def test_the_job_is_the_email_task(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    submit_good(FORM)

    task, _, _ = only_job(broker, inbox)
    assert task == NAME, (
        f"POST /mailers queued a job for the task {task!r}; expected {NAME!r}, the task you "
        "wrote in step 03, the only one the worker knows. Queue that one: import "
        "send_randomness_email from workit.tasks and call its .delay(...)."
    )


def test_the_job_carries_the_email_then_the_thought(submit_good, giphy, inbox, broker):
    giphy.search_finds(GIF)

    submit_good(FORM)

    _, args, kwargs = only_job(broker, inbox)
    if args == [THOUGHT, EMAIL]:
        why = "the two are swapped: the email address comes first, as in the task's signature."
    elif kwargs:
        why = (
            "pass the two strings positionally, in the order of the task's parameters, and "
            "nothing else."
        )
    elif len(args) != 2 or not all(isinstance(arg, str) for arg in args):
        why = (
            "the job should carry exactly two strings. The worker calls the task with these "
            "arguments, after they have travelled through Redis as JSON: pass the two values, "
            "not the request, the form or a dict of it."
        )
    else:
        why = "pass the cleaned values from the form: mailers[email], then mailers[thought]."
    assert (args, kwargs) == ([EMAIL, THOUGHT], {}), (
        f"POST /mailers with mailers[email]={EMAIL!r} and mailers[thought]={THOUGHT!r} queued "
        f"a job with args={args!r} and kwargs={kwargs!r}; expected args={[EMAIL, THOUGHT]!r} and "
        "no kwargs: the arguments of .delay(...) are exactly what the worker will call "
        f"send_randomness_email with. Here {why}"
    )


def test_a_worker_takes_the_job_and_sends_the_email(
    app, submit_good, celery_of, giphy, inbox, broker, run_worker
):
    giphy.search_finds(GIF)  # before the worker starts; the fake Giphy answers its thread too
    submit_good(FORM)
    only_job(broker, inbox)
    assert inbox.deliveries == [], (
        f"POST /mailers sent {len(inbox.deliveries)} email(s) itself; expected none before a "
        "worker runs: the request only queues the job."
    )

    with task_failures() as failures, run_worker(celery_of(app)):
        wait_for_email_or_failure(inbox, failures, timeout=5)

    assert not failures, (
        f"the worker ran the job, and the task raised {type(failures[0]).__name__}: "
        f"{failures[0]}. Check what .delay(...) passes: the worker calls "
        "send_randomness_email with exactly those arguments."
    )
    deliveries = inbox.deliveries
    assert [d.rcpt_tos for d in deliveries] == [(EMAIL,)], (
        f"with a worker running, the queued job delivered {len(deliveries)} email(s), to "
        f"{[d.rcpt_tos for d in deliveries]!r}; expected exactly one, to {EMAIL!r}, within 5 s."
    )
    html = deliveries[0].message.get_body(("html",))
    assert html is not None and GIF in html.get_content() and THOUGHT in html.get_content(), (
        f"the worker's email does not show the thought {THOUGHT!r} and the GIF {GIF!r}; "
        "expected step 01's email for the thought from the form."
    )
    assert queued(broker) == [], (
        f"after the worker ran, Redis still holds {queued(broker)!r}; expected the `celery` "
        "list to be empty: the worker took the job."
    )
