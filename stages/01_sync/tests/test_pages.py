"""What the skeleton already gives you: the pages, and settings read from the environment."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from workit import create_app


class _Page(HTMLParser):
    """The forms, fields, buttons and links of a page, and its visible text."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, str | None]] = []
        self.fields: list[str | None] = []
        self.buttons: list[str] = []
        self.links: list[str | None] = []
        self.text: list[str] = []
        self._in_button = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "form":
            self.forms.append(attributes)
        elif tag in ("input", "textarea"):
            self.fields.append(attributes.get("name"))
        elif tag == "button":
            self._in_button = True
            self.buttons.append("")
        elif tag == "a":
            self.links.append(attributes.get("href"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "button":
            self._in_button = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_button:
            self.buttons[-1] += data


def read(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


@pytest.mark.given
def test_the_home_page_shows_the_form(client):
    response = client.get("/")

    assert response.status_code == 200, f"GET / answered {response.status_code}; expected 200."
    page = read(response.text)
    assert "Welcome to Working-It" in " ".join(page.text), "GET / should welcome you to Working-It."
    assert [(f.get("action"), (f.get("method") or "").lower()) for f in page.forms] == [
        ("/mailers", "post")
    ], f"GET / should have one form that POSTs to /mailers; found {page.forms!r}."
    assert {"mailers[email]", "mailers[thought]"} <= set(page.fields), (
        f"the form's fields are {page.fields!r}; expected mailers[email] and mailers[thought]."
    )
    assert [b.strip() for b in page.buttons] == ["Give me the randomness..."], (
        f"the form's buttons read {page.buttons!r}; expected 'Give me the randomness...'."
    )


@pytest.mark.given
def test_the_sent_page_links_back_home(client):
    response = client.get("/sent")

    assert response.status_code == 200, f"GET /sent answered {response.status_code}; expected 200."
    links = read(response.text).links
    assert "/" in links, f"GET /sent should link back to /; its links are {links!r}."


@pytest.mark.given
def test_settings_come_from_the_environment(monkeypatch):
    for name in ("GIPHY_API_KEY", "MAIL_SERVER", "MAIL_PORT", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    defaults = create_app().config

    assert defaults["GIPHY_API_KEY"] is None, "with no GIPHY_API_KEY set there must be no key."
    assert (defaults["MAIL_SERVER"], defaults["MAIL_PORT"]) == ("localhost", 1025), (
        "mail should go to localhost:1025 (maildump) unless MAIL_SERVER/MAIL_PORT say otherwise."
    )
    assert defaults["MAIL_SENDER"] == "gob@example.com"

    monkeypatch.setenv("GIPHY_API_KEY", "key-from-env")
    monkeypatch.setenv("MAIL_SERVER", "mail.internal")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("SECRET_KEY", "secret-from-env")
    config = create_app().config

    assert config["GIPHY_API_KEY"] == "key-from-env"
    assert (config["MAIL_SERVER"], config["MAIL_PORT"]) == ("mail.internal", 2525)
    assert config["SECRET_KEY"] == "secret-from-env"
    assert create_app({"MAIL_PORT": 4242}).config["MAIL_PORT"] == 4242, (
        "create_app(config) should let the given config win over the environment."
    )
