"""A form that cannot work comes back with a message, and nothing is queued for it."""

from __future__ import annotations


import pytest

from kata.page import read_page

NAME = "workit.tasks.send_randomness_email"
EMAIL = "lucille@example.com"
THOUGHT = "I don't understand the question, and I won't respond to it"
GIF = "https://media.giphy.com/media/kataQuestion/200.gif"
MAX_THOUGHT = 200
LONG_EMAIL = "lucille@" + ".".join(["bluth" * 12] * 4) + ".example.com"  # 263 characters

# The messages of workit/validation.py, one for each kind of problem.
MISSING_FIELDS = "Please give us both an email address and a thought."
NOT_ONE_LINE = (
    "Please write the email address and the thought as plain text on one line, with no line "
    "breaks or control characters."
)
INVALID_EMAIL = "Please check your email address: we cannot send to that one."
THOUGHT_TOO_LONG = f"Please keep your thought to {MAX_THOUGHT} characters or fewer."


def form(email: str | None = EMAIL, thought: str | None = THOUGHT) -> dict[str, str]:
    fields = {"mailers[email]": email, "mailers[thought]": thought}
    return {name: value for name, value in fields.items() if value is not None}


def queued(broker) -> list[tuple[str, list, dict]]:
    return [(m.task, m.args, m.kwargs) for m in broker.queued()]


def fields_of(fields: dict[str, str]) -> tuple[str, str]:
    return fields.get("mailers[email]", ""), fields.get("mailers[thought]", "")


def whose_fault(fields: dict[str, str]) -> str:
    """Why a form that cannot work got through: clean_form let it pass, or the view never asked."""
    from workit.validation import InvalidForm, clean_form

    email, thought = fields_of(fields)
    try:
        clean_form(email, thought)
    except InvalidForm as problem:
        return (
            f"clean_form refuses it ({str(problem)!r}), yet the view went on and queued it: "
            "create() must hand the two fields to clean_form before anything is queued, and "
            "answer its InvalidForm with the form again."
        )
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - reported to the learner
        return f"clean_form({email!r}, {thought!r}) raised {type(error).__name__}: {error}."
    return (
        f"clean_form({email!r}, {thought!r}) accepts it, so that is clean_form's to refuse "
        "(README, tasks 2 to 4): `pytest stages/04_enqueue/tests/test_clean_form.py` says what "
        "it lets through."
    )


def assert_refused(response, broker, inbox, giphy, fields, what: str, message: str) -> None:
    """400, the form again with `message`, and no job, no email, no Giphy call."""
    if response.status_code in (301, 302, 303) or queued(broker):
        raise AssertionError(
            f"POST /mailers with {what} answered {response.status_code} and queued "
            f"{queued(broker)!r}: the form went through. {whose_fault(fields)}"
        )
    assert response.status_code == 400, (
        f"POST /mailers with {what} answered {response.status_code}; expected 400 (Bad "
        "Request): the form cannot be used as it is, and the page says why."
    )
    page = read_page(response.text)
    shown = page.shown
    assert message in shown, (
        f"POST /mailers with {what} answered 400 but does not say {message!r}. The message of "
        "clean_form's InvalidForm is the one to show, in the page's error."
    )
    assert "mailers[email]" in page.values and "mailers[thought]" in page.values, (
        f"POST /mailers with {what} should show the form again, so the user can fix it."
    )
    jobs, searches, sent = queued(broker), len(giphy.calls), len(inbox.deliveries)
    assert (jobs, searches, sent) == ([], 0, 0), (
        f"POST /mailers with {what} queued {jobs!r}, asked Giphy {searches} time(s) and sent "
        f"{sent} email(s); expected nothing at all. Check the form first, and queue only a "
        "form that can work: a job that can never succeed only fails later, in the worker, "
        "where nobody tells the user."
    )


@pytest.mark.given
@pytest.mark.parametrize(
    ("fields", "what"),
    [
        pytest.param(form(email=None), "no email field", id="missing-email"),
        pytest.param(form(thought="   "), "a thought of only spaces", id="blank-thought"),
    ],
)
def test_an_incomplete_form_is_still_refused(submit, giphy, inbox, broker, fields, what):
    response = submit(fields)

    assert_refused(response, broker, inbox, giphy, fields, what, MISSING_FIELDS)


@pytest.mark.parametrize(
    ("fields", "what", "message"),
    [
        pytest.param(
            form(email="not-an-email"),
            "the email 'not-an-email'",
            INVALID_EMAIL,
            id="malformed-email",
        ),
        pytest.param(
            form(email=LONG_EMAIL),
            f"an email of {len(LONG_EMAIL)} characters (SMTP takes at most 254)",
            INVALID_EMAIL,
            id="email-too-long",
        ),
        pytest.param(
            form(email="lucille@example.com\r\nBcc: victim@example.com"),
            "an email with a line break and a Bcc header in it (header injection)",
            NOT_ONE_LINE,
            id="header-injection-in-email",
        ),
        pytest.param(
            form(thought="a drink\r\nBcc: victim@example.com"),
            "a thought with a line break in it",
            NOT_ONE_LINE,
            id="line-break-in-thought",
        ),
        pytest.param(
            form(thought="a drink\x1b[2J"),
            "a thought with a control character in it (ESC, which clears a terminal)",
            NOT_ONE_LINE,
            id="control-character-in-thought",
        ),
        pytest.param(
            form(thought="x" * (MAX_THOUGHT + 1)),
            f"a thought of {MAX_THOUGHT + 1} characters",
            THOUGHT_TOO_LONG,
            id="thought-too-long",
        ),
    ],
)
def test_a_form_that_cannot_work_is_refused_and_nothing_is_queued(
    submit, giphy, inbox, broker, fields, what, message
):
    giphy.search_finds(GIF)

    response = submit(fields)

    assert_refused(response, broker, inbox, giphy, fields, what, message)


def test_the_refused_form_keeps_what_the_user_typed(submit, giphy, inbox, broker):
    fields = form(email="lucille@bluth")

    response = submit(fields)

    if response.status_code != 400:
        raise AssertionError(
            f"POST /mailers with {fields!r} (no period after the @: no address) answered "
            f"{response.status_code}; expected 400 and the form again. {whose_fault(fields)}"
        )
    values = read_page(response.text).values
    shown = (values.get("mailers[email]"), values.get("mailers[thought]"))
    assert shown == ("lucille@bluth", THOUGHT), (
        f"POST /mailers with {fields!r} answered 400 with the fields filled in as {shown!r}; "
        f"expected the user's own values, {('lucille@bluth', THOUGHT)!r}, so they only fix "
        "the address. index.html fills the fields in from the values it is given."
    )


def test_html_in_a_refused_form_is_shown_as_text(submit, giphy, inbox, broker):
    email, thought = '"><script>alert("email")</script>', "<script>alert('thought')</script>"

    fields = form(email=email, thought=thought)

    response = submit(fields)

    if response.status_code != 400:
        raise AssertionError(
            f"POST /mailers with the email {email!r} answered {response.status_code}; expected "
            f"400: that is no email address. {whose_fault(fields)}"
        )
    assert "<script>" not in response.text, (
        "the refused form's page contains a raw <script> tag taken from the user's input: "
        "anyone could make it run their JavaScript. Let Jinja escape what the user typed: "
        "hand it to the template and print it there, never marked safe, and never build HTML "
        "by adding strings (README, task 5; Flask's templates: autoescaping)."
    )
    values = read_page(response.text).values
    shown = (values.get("mailers[email]"), values.get("mailers[thought]"))
    assert shown == (email, thought), (
        f"the refused form's fields read {shown!r}; expected the user's input, escaped but "
        f"whole, {(email, thought)!r}."
    )


def test_a_thought_of_200_characters_is_queued(submit_good, giphy, inbox, broker):
    thought = "marry me " * 22 + "ok"
    assert len(thought) == MAX_THOUGHT

    response = submit_good(form(thought=thought))

    jobs = queued(broker)
    assert response.status_code in (302, 303) and jobs == [(NAME, [EMAIL, thought], {})], (
        f"POST /mailers with a thought of exactly {MAX_THOUGHT} characters answered "
        f"{response.status_code} and queued {jobs!r}; expected a redirect and one job with "
        f"that thought: {MAX_THOUGHT} is the limit, allowed. Giphy reads only its first 50 "
        "characters (workit/giphy.py cuts it), the email shows it all."
    )


def test_spaces_around_the_fields_are_trimmed_before_queueing(submit_good, giphy, inbox, broker):
    response = submit_good(form(email=f"  {EMAIL} ", thought=f" {THOUGHT}   "))

    jobs = queued(broker)
    assert response.status_code in (302, 303) and jobs == [(NAME, [EMAIL, THOUGHT], {})], (
        f"POST /mailers with spaces around both fields answered {response.status_code} and "
        f"queued {jobs!r}; expected a redirect and one job, {[(NAME, [EMAIL, THOUGHT], {})]!r}: "
        "queue the values clean_form returns, trimmed, not the raw form fields."
    )


# Beyond step 04 (issue 12): addresses that email-validator accepts but that Python's email
# package reads as something else once they are in a To: header.


@pytest.mark.reference
@pytest.mark.parametrize(
    ("email", "what"),
    [
        pytest.param("=?utf-8?q?buster?=@example.com", "delivered to buster@example.com", id="other-mailbox"),
        pytest.param(
            "=?utf-8?q?intruder=40evil.example=2C?=@example.com",
            "a To: header of intruder@evil.example,@example.com",
            id="second-recipient",
        ),
        pytest.param(
            "=?utf-8?q?x=0D=0ABcc=3A_victim=40example.com?=@example.com",
            "an encoded CR LF and a Bcc: header",
            id="encoded-header-injection",
        ),
        pytest.param("=?UTF-8?B?YnVzdGVy?=@example.com", "base64 for buster", id="base64"),
    ],
)
def test_an_address_with_an_encoded_word_is_refused(submit, giphy, inbox, broker, email, what):
    giphy.search_finds(GIF)

    fields = form(email=email)
    response = submit(fields)

    assert_refused(
        response, broker, inbox, giphy, fields, f"the address {email!r} (an RFC 2047 encoded word: {what})", INVALID_EMAIL
    )


@pytest.mark.reference
def test_an_address_with_an_equals_and_a_question_mark_is_fine(submit, giphy, inbox, broker):
    email = "a=?b@example.com"  # odd but valid, and no encoded word

    response = submit(form(email=email))

    assert response.status_code in (302, 303) and [m.args for m in broker.queued()] == [[email, THOUGHT]], (
        f"POST /mailers with {email!r} answered {response.status_code}; expected the redirect "
        "and one job: only an encoded word (=?charset?q-or-b?text?=) is refused."
    )
