"""fetch_gif_url(thought, api_key, timeout): one GIF URL from Giphy, search first, random second."""

from __future__ import annotations

import pytest
import requests

from kata.fixtures import GIPHY_TEST_KEY
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
        "failed, whatever its body looks like: call response.raise_for_status() before you "
        "read response.json()."
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
