"""Find a GIF for a thought with Giphy's search, or a random one when search gives nothing."""

from __future__ import annotations

#> task 04.1
import logging
#> end
import os
#> task 01.1
from typing import Any
#> end

import requests
#> extra 04

#> or task 04.1
logger = logging.getLogger(__name__)
#> end

#> todo 01
# NEW(01_sync): given: Giphy's two endpoints, the longest query Giphy accepts, and the one
# exception callers of fetch_gif_url handle. fetch_gif_url itself is yours.
#> end
GIPHY_API = os.environ.get("GIPHY_API_URL", "https://api.giphy.com/v1/gifs")
SEARCH_URL = f"{GIPHY_API}/search"
RANDOM_URL = f"{GIPHY_API}/random"
MAX_QUERY = 50

#> task 01.1
_FAILURES = (requests.RequestException, ValueError, LookupError, TypeError)
#> or extra 01

#> end

class GiphyError(Exception):
    #> extra 04
    """Giphy gave no GIF at all: both search and random failed.

    `transient` says whether asking again later may help: Giphy timed out, could not be
    reached, had a server error (5xx) or asked us to slow down (429). A bad key (401, 403), a
    bad request or an answer we cannot read stays the same however often we ask.
    """

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient


def is_transient(problem: BaseException) -> bool:
    """Whether a failed Giphy call may succeed if we ask again a little later."""
    if isinstance(problem, (requests.Timeout, requests.ConnectionError)):
        return True
    response = problem.response if isinstance(problem, requests.HTTPError) else None
    # A 5xx or a 429 may be over in a minute; a 4xx will not.
    return response is not None and (response.status_code == 429 or response.status_code >= 500)
    #> or -04:stage
    """Giphy gave no GIF at all: both search and random failed."""
    #> end


#> task 01.1
def describe(problem: BaseException) -> str:
    """What went wrong, fit for a log. Never the exception's text: requests puts the URL in it,
    and the URL holds the API key (api_key=...) and the user's thought (q=...)."""
    response = problem.response if isinstance(problem, requests.HTTPError) else None
    if response is not None:
        return f"HTTP {response.status_code}"
    if isinstance(problem, requests.RequestException):
        return type(problem).__name__  # ConnectTimeout, ReadTimeout, ConnectionError...
    return f"an answer we cannot read ({type(problem).__name__})"
#> or extra 01


#> end
def fetch_gif_url(thought: str, api_key: str, timeout: float) -> str:
    #> task 01.1
    query = thought[:MAX_QUERY]
    try:
        return _search(query, api_key, timeout)
    except _FAILURES as problem:
        search_problem = problem
    try:
        return _random(query, api_key, timeout)
    except _FAILURES as problem:
    #> or stub 01.1 -01:stage
    """The URL of one GIF for `thought`, from Giphy's search (README, task 1) or, when the
    search gives none, from random (README, task 2)."""
    raise NotImplementedError(
        "Step 01_sync, task 1: write fetch_gif_url() in workit/giphy.py: ask Giphy's search "
        "for a GIF that matches the thought and return its URL (stages/01_sync/README.md)"
    )
    #> or extra 04
        if logger.isEnabledFor(logging.DEBUG):  # the details, for debugging: the key blotted out
            details = f"search: {search_problem!r}; random: {problem!r}"
            logger.debug("Giphy gave no GIF for %r (%s)", query, details.replace(api_key, "***") if api_key else details)
    #> or task 01.1
        # `from None`: the requests exceptions, URLs and all, stay out of any traceback.
        raise GiphyError(
            f"Giphy gave no GIF: search failed ({describe(search_problem)}), "
    #> or extra 04
            f"then random failed ({describe(problem)})",
            transient=is_transient(search_problem) or is_transient(problem),
    #> or task 01.1 -04:stage
            f"then random failed ({describe(problem)})"
    #> or task 01.1
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
    #> end
