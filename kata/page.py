"""Read an HTML page as a test needs it: its visible text and the values of its fields."""

from __future__ import annotations

from html.parser import HTMLParser


class Page(HTMLParser):
    """A page's visible text, and the value of each input field by name."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.values: dict[str | None, str | None] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "input":
            attributes = dict(attrs)
            self.values[attributes.get("name")] = attributes.get("value")

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    @property
    def shown(self) -> str:
        """The visible text with its white space folded, as a person reads it."""
        return " ".join(" ".join(self.text).split())


def read_page(html: str) -> Page:
    page = Page()
    page.feed(html)
    return page
