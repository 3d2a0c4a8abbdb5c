"""clean_form on its own (README, tasks 2 to 4): what it returns, what it refuses, and why.

The view's side, a refused form shown again with nothing queued, is test_validation.py's.
"""

from __future__ import annotations

import socket

import pytest

EMAIL = "tobias@example.com"
THOUGHT = "I just blue myself"
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

NAMES = {
    MISSING_FIELDS: "MISSING_FIELDS",
    NOT_ONE_LINE: "NOT_ONE_LINE",
    INVALID_EMAIL: "INVALID_EMAIL",
    THOUGHT_TOO_LONG: "THOUGHT_TOO_LONG",
}


def check(email: str, thought: str) -> tuple[str | None, object]:
    """(the InvalidForm message, None) if clean_form refuses, else (None, what it returned)."""
    from workit.validation import InvalidForm, clean_form

    try:
        return None, clean_form(email, thought)
    except InvalidForm as problem:
        return str(problem), None


def named(message: str | None) -> str:
    """The constant a message starts with (INVALID_EMAIL may be followed by a reason)."""
    if message is None:
        return "nothing"
    for text, name in NAMES.items():
        if message == text:
            return f"InvalidForm({name})"
        if message.startswith(text):
            return f"InvalidForm({name} + {message[len(text):]!r})"
    return f"InvalidForm({message!r})"


def show(value: object) -> str:
    """repr(value), with long strings cut short (a 201-character thought says little more)."""
    if isinstance(value, tuple):
        return "(" + ", ".join(show(item) for item in value) + ")"
    if isinstance(value, str) and len(value) > 60:
        return f"{value[:20]!r}... ({len(value)} characters)"
    return repr(value)


def outcome(message: str | None, returned: object) -> str:
    return f"returned {show(returned)}" if message is None else f"raised {named(message)}"


def assert_refused_with(email: str, thought: str, expected: str, why: str) -> None:
    message, returned = check(email, thought)
    ok = message is not None and (message.startswith(expected) if expected == INVALID_EMAIL else message == expected)
    assert ok, f"clean_form({show(email)}, {show(thought)}) {outcome(message, returned)}; expected {named(expected)}: {why}"


def assert_accepted(email: str, thought: str, expected: tuple[str, str], why: str, network: list[str]) -> None:
    message, returned = check(email, thought)
    called = f"clean_form({show(email)}, {show(thought)})"
    assert message is None and returned == expected, (
        f"{called} {outcome(message, returned)}; expected {show(expected)}: {why}"
    )
    assert not network, (
        f"{called} gave the right answer, but it tried the network to do so "
        f"({', '.join(sorted(set(network)))}): it looked the domain up in DNS. That is a network "
        "call inside the request, as slow as the one this step takes out, and a domain that "
        "answers says nothing of the mailbox anyway. Check the syntax only: email-validator "
        "can be told not to ask DNS."
    )


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """clean_form works offline: any attempt to open a socket or look a name up fails, and
    is written down."""
    attempts: list[str] = []

    def refused(what: str):
        def attempt(*args, **kwargs):
            attempts.append(what)
            raise OSError(f"no network in this test ({what})")

        return attempt

    class NoSocket(socket.socket):  # a class still, for code that uses socket.socket as a type
        def __init__(self, *args, **kwargs) -> None:
            refused("socket.socket")()

    monkeypatch.setattr(socket, "socket", NoSocket)
    monkeypatch.setattr(socket, "getaddrinfo", refused("socket.getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refused("socket.create_connection"))
    return attempts


# Task 2: trimmed, both there, a thought that fits.


def test_clean_form_returns_both_fields_trimmed(no_network):
    assert_accepted(
        f"  {EMAIL} ",
        f" {THOUGHT}   ",
        (EMAIL, THOUGHT),
        "the same two strings without the spaces around them (the spaces inside stay), email "
        "first. The view queues what clean_form returns: this is what the worker will get.",
        no_network,
    )


@pytest.mark.parametrize(
    ("email", "thought", "what"),
    [
        pytest.param("", THOUGHT, "an empty email", id="empty-email"),
        pytest.param(EMAIL, "", "an empty thought", id="empty-thought"),
        pytest.param("   ", THOUGHT, "an email of only spaces", id="blank-email"),
        pytest.param(EMAIL, " \t\n ", "a thought of only white space (a tab and a line break among it)", id="white-thought"),
    ],
)
def test_clean_form_refuses_a_missing_field(email, thought, what):
    assert_refused_with(
        email,
        thought,
        MISSING_FIELDS,
        f"{what} is no answer at all. Trim first, then a field left empty is missing, whatever "
        "else it might have held; this is the first check, before any other.",
    )


def test_clean_form_refuses_a_thought_over_200_characters():
    assert_refused_with(
        EMAIL,
        "x" * (MAX_THOUGHT + 1),
        THOUGHT_TOO_LONG,
        f"a thought of {MAX_THOUGHT + 1} characters is over MAX_THOUGHT_LENGTH ({MAX_THOUGHT}).",
    )


@pytest.mark.parametrize(
    ("thought", "what"),
    [
        pytest.param("y" * MAX_THOUGHT, f"exactly {MAX_THOUGHT} characters", id="exactly-200"),
        pytest.param(f"  {'y' * MAX_THOUGHT} ", f"{MAX_THOUGHT} characters and spaces around them", id="200-and-spaces"),
    ],
)
def test_clean_form_accepts_a_thought_of_200_characters(thought, what, no_network):
    assert_accepted(
        EMAIL,
        thought,
        (EMAIL, thought.strip()),
        f"a thought of {what} is fine: {MAX_THOUGHT} is the limit and is allowed, and the "
        "length that counts is the trimmed one.",
        no_network,
    )


# Task 3: each field on one line.

CONTROL = [
    pytest.param(
        "lucille@example.com\r\nBcc: victim@example.com",
        THOUGHT,
        "an email with CR LF and a Bcc header after it (header injection)",
        id="header-injection-in-email",
    ),
    pytest.param(EMAIL, "a drink\nBcc: victim@example.com", "a thought with a line feed (LF) in it", id="lf-in-thought"),
    pytest.param(EMAIL, "a drink\rlater", "a thought with a carriage return (CR) in it", id="cr-in-thought"),
    pytest.param(EMAIL, "a drink\x1b[2J", "a thought with ESC in it (it clears a terminal)", id="esc-in-thought"),
    pytest.param(EMAIL, "a\tdrink", "a thought with a tab inside it", id="tab-in-thought"),
    pytest.param(EMAIL, "a drink\x00", "a thought with a NUL character in it", id="nul-in-thought"),
    pytest.param(EMAIL, "a drink\x7f", "a thought with DEL in it", id="del-in-thought"),
    pytest.param(
        EMAIL, "a drink\x85later", "a thought with U+0085 in it (NEL, a line break to Unicode)", id="nel-in-thought"
    ),
]


@pytest.mark.parametrize(("email", "thought", "what"), CONTROL)
def test_clean_form_refuses_a_control_character(email, thought, what):
    assert_refused_with(
        email,
        thought,
        NOT_ONE_LINE,
        f"{what}. An email header ends at a line break, so a line break in a value starts a "
        "header of the sender's choosing. CR and LF are not the only characters with no place "
        "in a line of text: every control character is refused, and Unicode files them all "
        "under one general category. Look it up rather than listing characters by hand.",
    )


@pytest.mark.parametrize(
    "thought",
    [
        pytest.param("café crème, s'il vous plaît", id="accents"),
        pytest.param("青い自分 — ¿por qué?", id="other-scripts"),
        pytest.param("👩‍💻 and 🐈 typing", id="emoji"),
        pytest.param("a drink\u00a0or two", id="no-break-space"),
    ],
)
def test_clean_form_accepts_any_text_on_one_line(thought, no_network):
    assert_accepted(
        EMAIL,
        thought,
        (EMAIL, thought),
        "letters in any script, punctuation, emoji (and the invisible joiner inside 👩‍💻), a "
        "no-break space: all of it is text on one line. Refuse the control characters only, "
        "not everything that is not ASCII or not 'printable'.",
        no_network,
    )


def test_clean_form_says_missing_before_one_line():
    assert_refused_with(
        "   ",
        "a drink\r\nBcc: victim@example.com",
        MISSING_FIELDS,
        "the email is missing and the thought has a line break: the first problem in the "
        "README's order wins, and a missing field comes first.",
    )


# Task 4: a real address.

NOT_ADDRESSES = [
    pytest.param("not-an-email", "it has no @ at all", id="no-at"),
    pytest.param("lucille@bluth", "its domain, 'bluth', has no dot: no mail server answers for it", id="no-dot"),
    pytest.param("lucille@", "there is nothing after the @", id="nothing-after-at"),
    pytest.param("@example.com", "there is no mailbox before the @", id="nothing-before-at"),
    pytest.param("lucille@@example.com", "it has two @", id="two-at"),
    pytest.param("lucille bluth@example.com", "a space in the mailbox", id="space"),
    pytest.param("lucille@example..com", "two dots in a row, an empty part of the domain", id="two-dots"),
    pytest.param("lucille.@example.com", "a dot just before the @", id="dot-before-at"),
    pytest.param(
        "lucille@example.com,gob@example.com",
        "it is two addresses: the email would go to both",
        id="two-addresses",
    ),
    pytest.param(
        "Lucille <lucille@example.com>",
        "a name and an address in angle brackets: what an email header holds, not an address",
        id="display-name",
    ),
    pytest.param(LONG_EMAIL, f"it is {len(LONG_EMAIL)} characters long, over MAX_EMAIL_LENGTH (254, SMTP's limit)", id="too-long"),
]


@pytest.mark.parametrize(("email", "why"), NOT_ADDRESSES)
def test_clean_form_refuses_what_is_not_an_address(email, why):
    message, _ = check(email, THOUGHT)
    if message is None and "@" in email:
        advice = (
            " It has an @ (and maybe a dot), and that is not enough: the rules for an address "
            "(RFC 5321 and 5322) are long, and a check written by hand, an `in` or a regex, "
            "always misses some. Let a library that knows them decide: email-validator is "
            "installed."
        )
    else:
        advice = ""
    assert_refused_with(
        email,
        THOUGHT,
        INVALID_EMAIL,
        f"{email!r} is no address: {why}. INVALID_EMAIL may be followed by the reason.{advice}",
    )


@pytest.mark.parametrize(
    "email",
    [
        pytest.param(EMAIL, id="plain"),
        pytest.param("maeby.funke+gifs@bluth-company.co.uk", id="plus-and-subdomains"),
        pytest.param("o'hara@example.org", id="apostrophe"),
    ],
)
def test_clean_form_accepts_a_real_address_without_the_network(email, no_network):
    assert_accepted(email, THOUGHT, (email, THOUGHT), "that is a fine address.", no_network)


def test_clean_form_says_one_line_before_the_address():
    assert_refused_with(
        "lucille@example.com\nBcc: victim@example.com",
        THOUGHT,
        NOT_ONE_LINE,
        "the email has a line break in it: it is no address either, but the first problem in "
        "the README's order wins, and a line break comes before the address.",
    )


def test_clean_form_says_the_address_before_the_thought():
    assert_refused_with(
        "not-an-email",
        "x" * (MAX_THOUGHT + 1),
        INVALID_EMAIL,
        "the address is no address and the thought is too long: the first problem in the "
        "README's order wins, and the address comes before the thought's length.",
    )
