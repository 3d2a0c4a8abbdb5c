"""The real-stack helpers: the Giphy stand-in, Redis with its embedded fallback, maildump."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest
import requests

from kata.stack import STANDIN_GIF, GiphyStandIn, Maildump, redis_service


def test_the_giphy_standin_answers_like_giphy() -> None:
    with GiphyStandIn() as giphy:
        search = requests.get(f"{giphy.api_url}/search", params={"q": "cats", "api_key": "k"}, timeout=5).json()
        random = requests.get(f"{giphy.api_url}/random", params={"tag": "cats"}, timeout=5).json()
        missing = requests.get(f"{giphy.api_url}/trending", timeout=5)
    assert search["data"][0]["images"]["fixed_height"]["url"] == STANDIN_GIF
    assert search["meta"]["status"] == 200 and search["pagination"]["count"] == 1
    assert random["data"]["images"]["fixed_height"]["url"] == STANDIN_GIF
    assert missing.status_code == 404
    assert [r["params"].get("q") for r in giphy.requests_seen] == [["cats"], None, None]


def test_redis_falls_back_to_the_embedded_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import redis

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with redis_service(tmp_path) as info:
        assert info.kind == "embedded"
        assert redis.Redis.from_url(info.url).ping() is True


def test_without_redis_server_and_no_fallback_the_problem_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kata.stack import StackError

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setattr("shutil.which", lambda name: None)
    with pytest.raises(StackError, match="apt-get install redis-server"), redis_service(tmp_path, allow_embedded=False):
        pass


@pytest.mark.integration
def test_maildump_receives_mail_and_shows_it_over_rest(mail_inbox: Maildump) -> None:
    message = EmailMessage()
    message["To"], message["From"], message["Subject"] = "ada@example.com", "gob@example.com", "hello"
    message.set_content("plain")
    message.add_alternative('<img src="https://example.com/x.gif">', subtype="html")
    with smtplib.SMTP("127.0.0.1", mail_inbox.smtp_port, timeout=5) as smtp:
        smtp.send_message(message)
    [received] = mail_inbox.wait_for(1, timeout=5)
    assert received["subject"] == "hello"
    assert 'src="https://example.com/x.gif"' in mail_inbox.html(int(received["id"]))


@pytest.mark.integration
def test_redis_server_starts_and_stops(real_redis: object) -> None:
    import redis

    assert redis.Redis.from_url(real_redis.url).ping() is True  # type: ignore[attr-defined]


@pytest.mark.integration
def test_the_embedded_redis_process_hangs_stops_and_ends_like_redis_server(tmp_path: Path) -> None:
    """Where redis-server is missing, a test that stops Redis gets fakeredis in a child process:
    SIGSTOP hangs it, SIGKILL stops it (connections refused), and it ends with its parent."""
    if not Path("/proc/self/stat").exists():
        pytest.skip("reads process states from /proc (Linux)")
    import os
    import signal
    import subprocess
    import sys
    import time

    import redis

    from kata.stack import embedded_redis_process

    with embedded_redis_process(tmp_path) as info:
        assert info.kind == "embedded process" and info.service is not None
        client = redis.Redis.from_url(info.url, socket_timeout=0.5)
        client.rpush("celery", "job")
        os.kill(info.service.process.pid, signal.SIGSTOP)
        try:
            with pytest.raises(redis.TimeoutError):
                client.llen("celery")
        finally:
            os.kill(info.service.process.pid, signal.SIGCONT)
        assert redis.Redis.from_url(info.url, socket_timeout=2).llen("celery") == 1
        os.kill(info.service.process.pid, signal.SIGKILL)
        info.service.process.wait(5)
        with pytest.raises(redis.ConnectionError, match="refused"):
            redis.Redis.from_url(info.url, socket_timeout=0.5).ping()

    # A parent that dies without cleaning up (a killed test run) leaves no Redis behind.
    script = (
        "import os, sys; from pathlib import Path; from kata.stack import embedded_redis_process\n"
        f"redis = embedded_redis_process(Path({str(tmp_path)!r}))\n"  # kept: collected, it would stop the server
        "print(redis.__enter__().service.process.pid, flush=True); os._exit(0)\n"
    )
    child = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=30).stdout)
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    outlived = _alive(child)
    if outlived:
        os.kill(child, signal.SIGKILL)  # this test leaves no process behind either
    assert not outlived, f"the embedded Redis (pid {child}) outlived its parent"


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (Linux: /proc); an exited one waiting to be reaped does not."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
