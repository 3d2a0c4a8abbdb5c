"""fetch_gif_url(thought, api_key, timeout): one GIF URL from Giphy, search first, random second."""

from __future__ import annotations

import traceback

import pytest
import requests
import responses

from kata.fixtures import GIPHY_TEST_KEY
from kata.giphy import RANDOM_URL, SEARCH_URL
from workit.giphy import GiphyError, fetch_gif_url

FIRST = "https://media.giphy.com/media/kataFirst/200.gif"
SECOND = "https://media.giphy.com/media/kataSecond/200.gif"
THIRD = "https://media.giphy.com/media/kataThird/200.gif"
RANDOM = "https://media.giphy.com/media/kataRandom/200.gif"
TIMEOUT = 3.5


def _looks_like(url: object) -> str:
    """A guess at where a wrong URL came from, for the failure message."""
    if url in (SECOND, THIRD):
        return "a later search result: the answer is the FIRST one, data[0]"
    if isinstance(url, str) and url.endswith("/giphy.gif"):
        return "images.original.url: the email uses images.fixed_height.url"
    if isinstance(url, str) and url.startswith("https://giphy.com/gifs/"):
        return "the GIF's own `url` field (its web page): the email needs images.fixed_height.url"
    if url == RANDOM:
        return "the random endpoint's GIF, although the search had found one"
    return "not a URL Giphy answered with"


def test_the_url_is_the_fixed_height_url_of_the_first_search_result(giphy):
    giphy.search_finds(FIRST, SECOND, THIRD)

    url = fetch_gif_url("cats", GIPHY_TEST_KEY, TIMEOUT)

    assert url == FIRST, (
        f"fetch_gif_url('cats', ...) returned {url!r}, which looks like {_looks_like(url)}. "
        f"Search found three GIFs; expected {FIRST!r}, data[0]['images']['fixed_height']['url']."
    )


def test_the_search_asks_for_the_thought_with_your_key_rated_g_and_a_timeout(giphy):
    giphy.search_finds(FIRST)

    fetch_gif_url("cats in hats", GIPHY_TEST_KEY, TIMEOUT)

    searches = giphy.calls_to("search")
    assert len(searches) == 1, (
        f"fetch_gif_url('cats in hats', ...) sent {len(searches)} requests to /v1/gifs/search; "
        "expected exactly 1 (GET https://api.giphy.com/v1/gifs/search)."
    )
    params, timeout = searches[0].params, searches[0].timeout
    assert params.get("q") == "cats in hats", (
        f"the search was sent q={params.get('q')!r}; expected q='cats in hats', the thought itself."
    )
    assert params.get("api_key") == GIPHY_TEST_KEY, (
        f"the search was sent api_key={params.get('api_key')!r}; expected {GIPHY_TEST_KEY!r}, "
        "the api_key argument. Never write a key into the code: it comes from the caller."
    )
    assert params.get("rating") == "g", (
        f"the search was sent rating={params.get('rating')!r}; expected rating='g', so the "
        "randomness email stays safe to open at work."
    )
    assert params.get("limit") == "1", (
        f"the search was sent limit={params.get('limit')!r}; expected limit=1: you use one GIF, "
        "so ask for one (without it Giphy sends 50, a much bigger answer to wait for)."
    )
    assert timeout == TIMEOUT, (
        f"requests.get(search...) got timeout={timeout!r}; expected timeout={TIMEOUT}, the "
        "timeout argument. Without one, a silent Giphy keeps your code waiting forever."
    )


def test_a_long_thought_is_cut_to_50_characters_for_the_search(giphy):
    giphy.search_finds(FIRST)
    thought = "I keep thinking about magic tricks, illusions and the art of the big reveal"

    fetch_gif_url(thought, GIPHY_TEST_KEY, TIMEOUT)

    sent = [call.params.get("q") for call in giphy.calls_to("search")]
    assert sent == [thought[:50]], (
        f"for a {len(thought)}-character thought the search was sent q={sent!r}; expected "
        f"[{thought[:50]!r}], the first 50 characters (Giphy answers 414 to a longer q)."
    )


def test_random_is_not_asked_when_the_search_finds_a_gif(giphy):
    giphy.search_finds(FIRST)
    giphy.random_gives(RANDOM)

    url = fetch_gif_url("cats", GIPHY_TEST_KEY, TIMEOUT)

    randoms = giphy.calls_to("random")
    assert not randoms, (
        f"fetch_gif_url('cats', ...) called /v1/gifs/random {len(randoms)} time(s) although the "
        "search found a GIF; random is only the fallback for when search gives nothing."
    )
    assert url == FIRST, f"fetch_gif_url('cats', ...) returned {url!r}; expected {FIRST!r}."


def _fetch_expecting_random(what_happened: str, search_hint: str = "") -> object:
    """fetch_gif_url('cats', ...), failing clearly if it raises; `search_hint` explains a
    KeyError that can only come from reading the search's answer."""
    try:
        return fetch_gif_url("cats", GIPHY_TEST_KEY, TIMEOUT)
    except NotImplementedError:
        raise
    except Exception as error:
        if isinstance(error, requests.RequestException):
            hint = (
                "a request that fails is one more way for the search to give no GIF: catch "
                "requests.RequestException (timeouts, HTTP errors), then try random (README, task 2)."
            )
        elif isinstance(error, IndexError):
            hint = (
                "reading the search's first GIF raised IndexError, because its `data` list was "
                "empty. An empty list (Giphy's normal 'nothing matched') or an error answer means "
                "the search gave no GIF: then ask random instead (README, task 2)."
            )
        elif search_hint and isinstance(error, LookupError):
            hint = search_hint
        elif isinstance(error, KeyError) and "image_url" in str(error):
            hint = "random's `data` has no image_url any more: use its images.fixed_height.url."
        else:
            hint = "random's `data` is ONE GIF object: data['images']['fixed_height']['url']."
        pytest.fail(
            f"when {what_happened}, fetch_gif_url('cats', ...) raised {type(error).__name__}: "
            f"{error}. Expected it to fall back to /v1/gifs/random and return {RANDOM!r}; {hint}"
        )


def _assert_fell_back_to_random(giphy, url: object, what_happened: str, why_not_that: str = "") -> None:
    assert url == RANDOM, why_not_that or (
        f"when {what_happened}, fetch_gif_url('cats', ...) returned {url!r}; expected {RANDOM!r} "
        "from /v1/gifs/random. There `data` is ONE GIF object, so the URL is "
        "data['images']['fixed_height']['url'] (`data.image_url` no longer exists)."
    )
    randoms = giphy.calls_to("random")
    assert len(randoms) == 1, f"expected exactly 1 request to /v1/gifs/random, got {len(randoms)}."
    params, timeout = randoms[0].params, randoms[0].timeout
    assert params.get("tag") == "cats", (
        f"random was sent tag={params.get('tag')!r}; expected tag='cats', the thought "
        "(random takes `tag`, not `q`)."
    )
    assert params.get("api_key") == GIPHY_TEST_KEY, (
        f"random was sent api_key={params.get('api_key')!r}; expected {GIPHY_TEST_KEY!r}, "
        "the api_key argument."
    )
    assert params.get("rating") == "g", (
        f"random was sent rating={params.get('rating')!r}; expected rating='g', as for the "
        "search: a random GIF with no rating can be anything at all."
    )
    assert timeout == TIMEOUT, (
        f"requests.get(random...) got timeout={timeout!r}; expected timeout={TIMEOUT}: EVERY "
        "request to Giphy needs the timeout, the fallback too."
    )


def test_an_empty_search_falls_back_to_random(giphy):
    giphy.search_finds_nothing()
    giphy.random_gives(RANDOM)

    what = "the search found nothing (`data` is [])"
    url = _fetch_expecting_random(what)

    _assert_fell_back_to_random(giphy, url, what)


@pytest.mark.parametrize("status", [429, 500])
def test_a_failed_search_falls_back_to_random(giphy, status):
    giphy.search_fails(status)
    giphy.random_gives(RANDOM)

    what = f"the search answered HTTP {status}"
    url = _fetch_expecting_random(what)

    _assert_fell_back_to_random(giphy, url, what)


def test_an_error_status_falls_back_to_random_even_when_its_body_has_a_gif(giphy):
    giphy.search_fails_with_a_gif(429, FIRST)
    giphy.random_gives(RANDOM)

    what = "the search answered HTTP 429 with a body that still lists a GIF"
    url = _fetch_expecting_random(what)

    stale = (
        f"when {what}, fetch_gif_url('cats', ...) returned the GIF of that error answer, "
        f"{url!r}; expected {RANDOM!r} from /v1/gifs/random. An error status means the search "
        "failed, whatever its body looks like: check the status before you read the body "
        "(README, task 2; requests: response status codes)."
    )
    _assert_fell_back_to_random(giphy, url, what, stale if url == FIRST else "")


def test_a_search_result_without_a_fixed_height_image_falls_back_to_random(giphy):
    giphy.search_returns_malformed()
    giphy.random_gives(RANDOM)

    what = "the search answered 200 with a GIF that has no images.fixed_height"
    url = _fetch_expecting_random(
        what,
        search_hint=(
            "reading data[0]['images']['fixed_height'] raised KeyError, and a body of the wrong "
            "shape is one more way for the search to give no GIF: catch KeyError too (LookupError "
            "covers KeyError and IndexError), then try random."
        ),
    )

    _assert_fell_back_to_random(giphy, url, what)


def test_a_search_that_times_out_falls_back_to_random(giphy):
    giphy.search_times_out()
    giphy.random_gives(RANDOM)

    url = _fetch_expecting_random("the search timed out")

    _assert_fell_back_to_random(giphy, url, "the search timed out")


def test_when_random_fails_too_it_raises_giphy_error(giphy):
    giphy.search_fails(429)
    giphy.random_fails(429)

    try:
        url = fetch_gif_url("cats", GIPHY_TEST_KEY, TIMEOUT)
    except GiphyError as error:
        assert str(error), "GiphyError was raised without a message; say what went wrong."
    except NotImplementedError:
        raise
    except Exception as error:
        pytest.fail(
            f"when both search and random answered 429, fetch_gif_url('cats', ...) raised "
            f"{type(error).__name__}: {error}; expected GiphyError (from workit.giphy), so "
            "callers have one exception to handle."
        )
    else:
        pytest.fail(
            f"when both search and random answered 429, fetch_gif_url('cats', ...) returned "
            f"{url!r}; expected it to raise GiphyError: there is no GIF to send."
        )


def test_when_random_gives_a_malformed_gif_too_it_raises_giphy_error(giphy):
    giphy.search_finds_nothing()
    giphy.random_returns_malformed()

    what = "the search found nothing and random's GIF had no images.fixed_height"
    try:
        url = fetch_gif_url("cats", GIPHY_TEST_KEY, TIMEOUT)
    except GiphyError:
        pass
    except NotImplementedError:
        raise
    except Exception as error:
        if isinstance(error, IndexError):
            why = (
                "reading the search's first GIF raised IndexError, because its `data` list was "
                "empty: an empty search falls back to random (README, task 2), and when random's "
                "GIF has the wrong shape as well, there is no GIF: raise GiphyError."
            )
        else:
            why = (
                "A body of the wrong shape is a failure like any other: catch KeyError too "
                "(LookupError covers KeyError and IndexError) and raise GiphyError."
            )
        pytest.fail(
            f"when {what}, fetch_gif_url('cats', ...) raised {type(error).__name__}: {error}; "
            f"expected GiphyError. {why}"
        )
    else:
        pytest.fail(
            f"when {what}, fetch_gif_url('cats', ...) returned {url!r}; expected it to raise "
            "GiphyError: there is no GIF to send."
        )


SECRET_KEY = "kata-secret-giphy-key-7f3a9c"  # easy to spot in any text it leaks into


def _unreachable(request: requests.PreparedRequest) -> requests.ConnectionError:
    """The error requests raises when Giphy cannot be reached, worded as requests words it:
    the request's URL, api_key=... included, is in its text."""
    return requests.ConnectionError(
        "HTTPSConnectionPool(host='api.giphy.com', port=443): Max retries exceeded with url: "
        f"{request.path_url} (Caused by NewConnectionError('<urllib3.connection.HTTPSConnection "
        "object>: Failed to establish a new connection: [Errno 111] Connection refused'))",
        request=request,
    )


FAILURES = {
    # how: (what the test tells Giphy, what GiphyError's message must then name)
    "401": ("answered HTTP 401", "the status, 401"),
    "500": ("answered HTTP 500", "the status, 500"),
    "unreachable": ("could not be reached (requests.ConnectionError)", "that it could not connect"),
}


def _giphy_fails(giphy, url: str, how: str) -> None:
    if how == "unreachable":
        giphy.mock.add_callback(responses.GET, url, callback=_unreachable)
    else:
        giphy.mock.get(url, status=int(how), json={"data": [], "meta": {"status": int(how)}})


def _names(message: str, how: str) -> bool:
    if how == "unreachable":
        return any(word in message.lower() for word in ("connect", "reach", "network"))
    return how in message


def _chained(error: BaseException) -> list[tuple[str, BaseException]]:
    """The exceptions a traceback of the given error prints with it: each __cause__, and each
    __context__ unless `raise ... from ...` suppressed it."""
    found: list[tuple[str, BaseException]] = []
    todo, seen = [error], {id(error)}
    while todo:
        current = todo.pop()
        links = [("__cause__", current.__cause__)]
        if not current.__suppress_context__:
            links.append(("__context__", current.__context__))
        for name, linked in links:
            if linked is not None and id(linked) not in seen:
                seen.add(id(linked))
                found.append((name, linked))
                todo.append(linked)
    return found


def _blot(text: str) -> str:
    return text.replace(SECRET_KEY, "<THE KEY>")


@pytest.mark.parametrize(("search", "random_"), [("401", "unreachable"), ("unreachable", "500")])
def test_giphy_error_keeps_the_api_key_out_of_its_message_and_traceback(giphy, search, random_):
    _giphy_fails(giphy, SEARCH_URL, search)
    _giphy_fails(giphy, RANDOM_URL, random_)
    what = f"the search {FAILURES[search][0]} and random {FAILURES[random_][0]}"

    try:
        url = fetch_gif_url("cats", SECRET_KEY, TIMEOUT)
    except GiphyError as raised:
        error = raised
    except NotImplementedError:
        raise
    except Exception as raised:
        pytest.fail(
            f"when {what}, fetch_gif_url('cats', ...) raised {type(raised).__name__}: "
            f"{_blot(str(raised))}; expected GiphyError, the one failure its callers handle."
        )
    else:
        pytest.fail(f"when {what}, fetch_gif_url('cats', ...) returned {url!r}; expected GiphyError.")

    sent = [call.params.get("api_key") for call in giphy.calls]
    assert sent == [SECRET_KEY, SECRET_KEY], (
        f"when {what}, Giphy was asked {len(sent)} time(s), with api_key={_blot(str(sent))}; "
        "expected the search, then random, each with the api_key argument."
    )
    why = (
        "A requests exception's text holds the request's URL, and the URL holds api_key=... . "
        "GiphyError ends up in logs (Flask's now, the worker's from step 03), which many people "
        "read and which are kept for long: a key in them is a leaked key."
    )
    # pytest.fail, not assert: pytest would print the key again to show where it is.
    message = str(error)
    if SECRET_KEY in message:
        pytest.fail(
            f"when {what}, GiphyError's message holds the Giphy API key: {_blot(message)!r}. "
            f"{why} Say what failed in your own words, not with the exception's str or repr: "
            "the HTTP status of an error answer (problem.response.status_code), otherwise the "
            "kind of failure (type(problem).__name__)."
        )
    for link, chained in _chained(error):
        if SECRET_KEY in str(chained):
            pytest.fail(
                f"when {what}, GiphyError has a {type(chained).__name__} as its {link}, and every "
                f"traceback of GiphyError prints its text too: {_blot(str(chained))!r}. {why} "
                "`raise GiphyError(...) from problem` chains it as __cause__, a plain raise in "
                "`except` as __context__; `raise GiphyError(...) from None` leaves it out."
            )
    printed = "".join(traceback.format_exception(type(error), error, error.__traceback__))
    if SECRET_KEY in printed:
        pytest.fail(
            f"when {what}, the traceback of GiphyError (what a log shows) holds the Giphy API "
            f"key:\n{_blot(printed)}\n{why}"
        )
    for how in (search, random_):
        assert _names(message, how), (
            f"when {what}, GiphyError's message is {message!r}: it should still say what "
            f"failed, so that whoever reads the log can act. Name each failure: here "
            f"{FAILURES[search][1]} for the search and {FAILURES[random_][1]} for random."
        )
