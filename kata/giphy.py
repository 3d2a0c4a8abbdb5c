"""A stand-in for Giphy's REST API, built on `responses`: realistic bodies, real error shapes."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
import responses

API = "https://api.giphy.com/v1/gifs"
SEARCH_URL = f"{API}/search"
RANDOM_URL = f"{API}/random"

ERROR_MESSAGES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    414: "URI Too Long",
    429: "API rate limit exceeded",
    500: "Internal Server Error",
    503: "Service Unavailable",
}

_ids = itertools.count(1)


def gif(fixed_height_url: str, title: str = "A GIF") -> dict[str, object]:
    """One GIF object as Giphy returns it (trimmed to the fields that matter)."""
    gif_id = f"kata{next(_ids):06d}"
    return {
        "type": "gif",
        "id": gif_id,
        "url": f"https://giphy.com/gifs/{gif_id}",
        "title": title,
        "rating": "g",
        "images": {
            "original": {
                "url": fixed_height_url.replace("200.gif", "giphy.gif"),
                "width": "480",
                "height": "270",
            },
            "fixed_height": {"url": fixed_height_url, "width": "356", "height": "200"},
            "fixed_width": {
                "url": fixed_height_url.replace("200.gif", "200w.gif"),
                "width": "200",
                "height": "113",
            },
        },
    }


def meta(status: int = 200, msg: str = "OK") -> dict[str, object]:
    return {"status": status, "msg": msg, "response_id": "" if status != 200 else "kata-response"}


def search_body(*urls: str) -> dict[str, object]:
    data = [gif(url) for url in urls]
    return {
        "data": data,
        "meta": meta(),
        "pagination": {"total_count": len(data), "count": len(data), "offset": 0},
    }


def random_body(url: str) -> dict[str, object]:
    return {"data": gif(url), "meta": meta()}


def error_body(status: int) -> dict[str, object]:
    return {"data": [], "meta": meta(status, ERROR_MESSAGES.get(status, "Error"))}


MALFORMED_URL = "https://media.giphy.com/media/kataMalformed/200.gif"


def malformed_gif() -> dict[str, object]:
    """A GIF object without `images.fixed_height`: valid JSON, wrong shape (a KeyError to read)."""
    broken = gif(MALFORMED_URL)
    images = broken["images"]
    assert isinstance(images, dict)
    del images["fixed_height"]
    return broken


@dataclass
class GiphyCall:
    endpoint: str
    params: dict[str, str]
    timeout: object


@dataclass
class GiphyMock:
    """What a test tells Giphy to answer, and what the code under test asked it."""

    mock: responses.RequestsMock

    def search_finds(self, *urls: str) -> None:
        self.mock.get(SEARCH_URL, json=search_body(*urls))

    def search_finds_nothing(self) -> None:
        self.mock.get(SEARCH_URL, json=search_body())

    def search_fails(self, status: int = 500) -> None:
        self.mock.get(SEARCH_URL, status=status, json=error_body(status))

    def search_fails_with_a_gif(self, status: int, url: str) -> None:
        """An error status whose body still reads like a result (say, a proxy's stale copy).

        Only the status says the search failed: code that skips `raise_for_status()` uses the GIF.
        """
        body = {**search_body(url), "meta": meta(status, ERROR_MESSAGES.get(status, "Error"))}
        self.mock.get(SEARCH_URL, status=status, json=body)

    def search_returns_malformed(self) -> None:
        """A 200 whose one GIF lacks `images.fixed_height`: reading the URL raises KeyError."""
        body = search_body(MALFORMED_URL)
        body["data"] = [malformed_gif()]
        self.mock.get(SEARCH_URL, json=body)

    def search_times_out(self) -> None:
        self.mock.get(SEARCH_URL, body=requests.exceptions.ConnectTimeout("Giphy did not answer"))

    def random_gives(self, url: str) -> None:
        self.mock.get(RANDOM_URL, json=random_body(url))

    def random_fails(self, status: int = 500) -> None:
        self.mock.get(RANDOM_URL, status=status, json=error_body(status))

    def random_returns_malformed(self) -> None:
        """A 200 from random whose GIF lacks `images.fixed_height`."""
        self.mock.get(RANDOM_URL, json={"data": malformed_gif(), "meta": meta()})

    @property
    def calls(self) -> list[GiphyCall]:
        seen = []
        for call in self.mock.calls:
            parts = urlsplit(call.request.url)
            params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            endpoint = parts.path.rsplit("/", 1)[-1]
            seen.append(GiphyCall(endpoint, params, call.request.req_kwargs.get("timeout")))
        return seen

    def calls_to(self, endpoint: str) -> list[GiphyCall]:
        return [c for c in self.calls if c.endpoint == endpoint]


def giphy_mock() -> Iterator[GiphyMock]:
    """Block real HTTP from `requests`; Giphy answers what the test registers, nothing else."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield GiphyMock(mock)
