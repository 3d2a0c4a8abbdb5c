"""A real SMTP server on a free loopback port (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from html.parser import HTMLParser

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Delivery:
    """One message as the server received it: the SMTP envelope and the parsed message."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage


TRY_LATER = "451 4.3.0 Mail server busy, try again later"


class _Keeper:
    def __init__(self) -> None:
        self.deliveries: list[Delivery] = []
        self.lock = threading.Lock()
        self.arrived = threading.Condition(self.lock)
        self.attempts = 0  # DATA commands seen, refused or accepted
        self.refusals = 0  # how many of the next DATA commands to refuse
        self.refusal = TRY_LATER
        self.watchers: list[Callable[[], None]] = []  # called as each message is offered

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        for watcher in list(self.watchers):
            watcher()
        with self.lock:
            self.attempts += 1
            if self.refusals > 0:
                self.refusals -= 1
                return self.refusal
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        delivery = Delivery(str(envelope.mail_from), tuple(envelope.rcpt_tos), message)
        with self.arrived:
            self.deliveries.append(delivery)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"


class _AnyPortController(Controller):
    """aiosmtpd's Controller, on the port the OS picks when asked for port 0."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpInbox:
    """Start with `start()`; read with `deliveries`, `messages`, `wait_for()`.

    `smtputf8=False`: the server does not offer SMTPUTF8 (RFC 6531), like maildump, so it takes
    only ASCII addresses, a domain in its IDNA form (xn--...) included.
    """

    def __init__(self, smtputf8: bool = True) -> None:
        self._keeper = _Keeper()
        self._controller = _AnyPortController(self._keeper, hostname=HOST, port=0, enable_SMTPUTF8=smtputf8)

    host = HOST

    @property
    def port(self) -> int:
        return self._controller.port

    def start(self) -> SmtpInbox:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._keeper.lock:
            self._keeper.deliveries.clear()
            self._keeper.attempts = 0
            self._keeper.refusals = 0
            self._keeper.watchers.clear()

    def while_receiving(self, watcher: Callable[[], None]) -> None:
        """Call `watcher()` as each message is offered, before the server accepts it: a test
        can look at the world at the moment the email is being sent."""
        self._keeper.watchers.append(watcher)

    def refuse(self, count: int, reply: str = TRY_LATER) -> None:
        """Refuse the next `count` messages with `reply` (a 4xx: try later), then accept again."""
        with self._keeper.lock:
            self._keeper.refusals = count
            self._keeper.refusal = reply

    @property
    def attempts(self) -> int:
        """How many messages were offered (DATA commands), refused or accepted."""
        with self._keeper.lock:
            return self._keeper.attempts

    @property
    def deliveries(self) -> list[Delivery]:
        with self._keeper.lock:
            return list(self._keeper.deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        return [d.message for d in self.deliveries]

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Delivery]:
        """Block until `count` messages have arrived or `timeout` seconds pass."""
        with self._keeper.arrived:
            self._keeper.arrived.wait_for(lambda: len(self._keeper.deliveries) >= count, timeout)
            return list(self._keeper.deliveries)


class _ImageSources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.sources: list[str | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(dict(attrs).get("src"))


def image_sources(html: str) -> list[str | None]:
    """The `src` of every <img> in an HTML body, as a mail client would load them."""
    parser = _ImageSources()
    parser.feed(html)
    return parser.sources
