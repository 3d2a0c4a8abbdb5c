"""Find a GIF for a thought with Giphy's search, or a random one when search gives nothing."""

from __future__ import annotations

import os
from typing import Any

import requests

GIPHY_API = os.environ.get("GIPHY_API_URL", "https://api.giphy.com/v1/gifs")
SEARCH_URL = f"{GIPHY_API}/search"
RANDOM_URL = f"{GIPHY_API}/random"
MAX_QUERY = 50

_FAILURES = (requests.RequestException, ValueError, LookupError, TypeError)


class GiphyError(Exception):
    """Giphy gave no GIF at all: both search and random failed."""


def describe(problem: BaseException) -> str:
    """What went wrong, fit for a log. Never the exception's text: requests puts the URL in it,
    and the URL holds the API key (api_key=...) and the user's thought (q=...)."""
    response = problem.response if isinstance(problem, requests.HTTPError) else None
    if response is not None:
        return f"HTTP {response.status_code}"
    if isinstance(problem, requests.RequestException):
        return type(problem).__name__  # ConnectTimeout, ReadTimeout, ConnectionError...
    return f"an answer we cannot read ({type(problem).__name__})"


def fetch_gif_url(thought: str, api_key: str, timeout: float) -> str:
    query = thought[:MAX_QUERY]
    try:
        return _search(query, api_key, timeout)
    except _FAILURES as problem:
        search_problem = problem
    try:
        return _random(query, api_key, timeout)
    except _FAILURES as problem:
        # `from None`: the requests exceptions, URLs and all, stay out of any traceback.
        raise GiphyError(
            f"Giphy gave no GIF: search failed ({describe(search_problem)}), "
            f"then random failed ({describe(problem)})"
        ) from None


def _search(query: str, api_key: str, timeout: float) -> str:
    params = {"q": query, "api_key": api_key, "limit": 1, "rating": "g"}
    response = requests.get(SEARCH_URL, params=params, timeout=timeout)
    response.raise_for_status()
    return _fixed_height_url(response.json()["data"][0])


def _random(query: str, api_key: str, timeout: float) -> str:
    params = {"tag": query, "api_key": api_key, "rating": "g"}
    response = requests.get(RANDOM_URL, params=params, timeout=timeout)
    response.raise_for_status()
    return _fixed_height_url(response.json()["data"])


def _fixed_height_url(gif: Any) -> str:
    url = gif["images"]["fixed_height"]["url"]
    if not isinstance(url, str) or not url:
        raise ValueError(f"no fixed_height URL in {gif!r}")
    return url
