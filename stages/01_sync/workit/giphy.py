"""Find a GIF for a thought with Giphy's search, or a random one when search gives nothing."""

from __future__ import annotations

import os

import requests

# NEW(01_sync): given: Giphy's two endpoints, the longest query Giphy accepts, and the one
# exception callers of fetch_gif_url handle. fetch_gif_url itself is yours.
GIPHY_API = os.environ.get("GIPHY_API_URL", "https://api.giphy.com/v1/gifs")
SEARCH_URL = f"{GIPHY_API}/search"
RANDOM_URL = f"{GIPHY_API}/random"
MAX_QUERY = 50


class GiphyError(Exception):
    """Giphy gave no GIF at all: both search and random failed."""


def fetch_gif_url(thought: str, api_key: str, timeout: float) -> str:
    """The URL of one GIF for `thought`, from Giphy's search (README, task 1) or, when the
    search gives none, from random (README, task 2)."""
    raise NotImplementedError(
        "Step 01_sync, task 1: write fetch_gif_url() in workit/giphy.py: ask Giphy's search "
        "for a GIF that matches the thought and return its URL (stages/01_sync/README.md)"
    )
