"""Find a GIF for a thought with Giphy's search, or a random one when search gives nothing."""

from __future__ import annotations

import os
import requests

GIPHY_API = os.environ.get("GIPHY_API_URL", "https://api.giphy.com/v1/gifs")
SEARCH_URL = f"{GIPHY_API}/search"
RANDOM_URL = f"{GIPHY_API}/random"
MAX_QUERY = 50


class GiphyError(Exception):
    """Giphy gave no GIF at all: both search and random failed."""


def fetch_gif_url(thought: str, api_key: str, timeout: float) -> str:
    """Return the URL of one GIF that matches `thought`.

    TODO (step 01_sync):
    1. Search: `requests.get(SEARCH_URL, params=..., timeout=timeout)` with the params
       q=thought[:MAX_QUERY], api_key=api_key, limit=1, rating="g".
       The answer is `data[0]["images"]["fixed_height"]["url"]` in the JSON body.
    2. When the search gives no GIF (an empty `data` list, an error status such as 429
       or 500, a body of the wrong shape, or a requests exception such as a timeout),
       ask RANDOM_URL instead, with params tag=thought[:MAX_QUERY], api_key=api_key,
       rating="g", and the same timeout. There `data` is ONE GIF object:
       `data["images"]["fixed_height"]["url"]`.
    3. When random fails as well, raise GiphyError with a message that says what went wrong.
    """
    raise NotImplementedError(
        "Step 01_sync: write fetch_gif_url() in workit/giphy.py: search Giphy, fall back to "
        "random, return the fixed_height URL. See stages/01_sync/README.md"
    )
