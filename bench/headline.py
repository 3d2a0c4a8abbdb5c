"""Section 2, the headline: POST /mailers on the synchronous app and on the background app.

Same Redis, same maildump inbox, same Giphy stand-in answering after 2 s. The sync app
(solutions/01_sync) runs under `flask run`; the background app (solutions/04_enqueue) runs
under `flask run` and under gunicorn, with a real `celery worker` draining its queue. A
client on a kept-alive connection (http.client: little client-side overhead) posts the form
and times each answer, a 303 to /sent. `GET /sent` on each server is the HTTP floor: a
request that renders a page and enqueues nothing.
"""

from __future__ import annotations

import http.client
import time
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.common import Summary

FORM = {"mailers[email]": "learner@example.com", "mailers[thought]": "a cat typing very fast"}


class _HiddenFields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[str(found["name"])] = found.get("value") or ""


def hidden_fields(html: str) -> dict[str, str]:
    """The form's hidden inputs (a CSRF token, if the app asks for one), to post back."""
    parser = _HiddenFields()
    parser.feed(html)
    return parser.fields


class Client:
    def __init__(self, base_url: str, timeout: float = 30) -> None:
        parts = urlsplit(base_url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

        self.cookie = ""

    def visit(self) -> dict[str, str]:
        """GET / like a browser: keep its session cookie, return the form's hidden fields.

        Every POST then sends this same cookie (the session holding a CSRF token, if any) and
        ignores the cookie it gets back, so each POST starts from the same fresh session.
        """
        self.connection.request("GET", "/")
        answer = self.connection.getresponse()
        html = answer.read().decode()
        cookies = [c.split(";", 1)[0] for c in answer.headers.get_all("Set-Cookie") or []]
        self.cookie = "; ".join(cookies)
        return hidden_fields(html)

    def time(self, method: str, path: str, body: str | None = None, expect: int = 200) -> float:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if body is not None else {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        started = time.perf_counter()
        self.connection.request(method, path, body=body, headers=headers)
        answer = self.connection.getresponse()
        answer.read()
        elapsed = time.perf_counter() - started
        if answer.status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {answer.status}")
        return elapsed

    def close(self) -> None:
        self.connection.close()


def post_mailers(base_url: str, count: int, warmup: int = 0, first: int = 0) -> list[float]:
    client = Client(base_url)
    try:
        hidden = client.visit()
        body = lambda i: urlencode({**hidden, **FORM, "mailers[email]": f"learner{i}@example.com"})  # noqa: E731
        for i in range(warmup):
            client.time("POST", "/mailers", body(first + i), expect=303)
        return [client.time("POST", "/mailers", body(first + warmup + i), expect=303) for i in range(count)]
    finally:
        client.close()


def get_page(base_url: str, path: str, count: int, warmup: int = 10) -> list[float]:
    client = Client(base_url)
    try:
        for _ in range(warmup):
            client.time("GET", path)
        return [client.time("GET", path) for _ in range(count)]
    finally:
        client.close()


def side(name: str, server: str, posts: list[float], floor: list[float] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"app": name, "server": server, "post_mailers": Summary.of(posts).as_dict()}
    if floor is not None:
        row["get_sent"] = Summary.of(floor).as_dict()
    return row
