"""`make run`'s launchers (Makefile, Procfile, stack.env): no committed secret, and Flower on
loopback behind a login (issue 12)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from kata.stack import HOST, free_port, running, spawn, wait_until

ROOT = Path(__file__).resolve().parents[2]


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip() and not line.startswith("#"))


def run_secrets(venv: Path) -> dict[str, str]:
    make = subprocess.run(["make", "-s", "run-secrets", f"VENV={venv}"], check=False, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert make.returncode == 0, f"`make run-secrets` failed:\n{make.stdout}{make.stderr}"
    text = (venv / "run-secrets.env").read_text()
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def test_make_run_uses_a_secret_key_of_this_checkout_not_a_committed_one(tmp_path: Path) -> None:
    lines = (ROOT / "stack.env").read_text().splitlines()
    committed = [line for line in lines if line.startswith(("SECRET_KEY", "FLOWER_BASIC_AUTH"))]
    assert not committed, f"stack.env commits {committed}: everyone who clones the kata has that key."
    if shutil.which("make") is None:
        pytest.skip("needs make")

    first = run_secrets(tmp_path / "one")
    again = run_secrets(tmp_path / "one")
    other = run_secrets(tmp_path / "two")

    assert re.fullmatch(r"[0-9a-f]{64}", first.get("SECRET_KEY", "")), (
        f"`make run` should make a random SECRET_KEY (64 hex digits) on its first run: {first!r}"
    )
    assert re.fullmatch(r"kata:\S{16,}", first.get("FLOWER_BASIC_AUTH", "")), first
    assert again == first and other["SECRET_KEY"] != first["SECRET_KEY"], (
        "the secrets should be kept from one `make run` to the next (open pages keep working) "
        "and differ from one checkout to another."
    )
    mode = (tmp_path / "one" / "run-secrets.env").stat().st_mode
    assert mode & 0o077 == 0, f"run-secrets.env is readable by others: {oct(mode)}"


def listening_addresses(port: int) -> set[str]:
    """The local addresses of the sockets listening on `port` (Linux: /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add({"0100007F": "127.0.0.1", "00000000": "0.0.0.0"}.get(address, address))
    return found


@pytest.mark.integration
@pytest.mark.timeout(90)
def test_flower_as_the_procfile_starts_it_is_on_loopback_behind_a_login(real_redis, stack_logs: Path) -> None:
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("reads the listening sockets from /proc/net/tcp (Linux)")
    port = free_port()
    env = {
        "REDIS_URL": real_redis.url,
        "FLOWER_PORT": str(port),
        "SECRET_KEY": os.urandom(32).hex(),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = procfile()["flower"]

    without_login = spawn("flower-without-login", ["sh", "-c", command], stack_logs, cwd=ROOT, env=env)
    with running(without_login):
        try:
            refused = without_login.process.wait(20) != 0
        except subprocess.TimeoutExpired:  # it started: stopped, with its process group, on leaving
            refused = False
    with_login = {**env, "FLOWER_BASIC_AUTH": "kata:s3cret-for-the-test"}
    with running(spawn("flower", ["sh", "-c", command], stack_logs, cwd=ROOT, env=with_login)) as flower:
        base = f"http://{HOST}:{port}"
        wait_until(lambda: requests.get(base, timeout=1).status_code > 0, 60, "flower", flower)
        addresses = listening_addresses(port)
        anonymous = requests.get(base, timeout=5)
        logged_in = requests.get(base, auth=("kata", "s3cret-for-the-test"), timeout=5)

    assert refused, "the Procfile's flower started without FLOWER_BASIC_AUTH: no login at all."
    assert addresses == {"127.0.0.1"}, (
        f"Flower, started as the Procfile says, listens on {addresses}: anyone on the network "
        "sees every task's arguments (addresses, thoughts). Give it --address=127.0.0.1."
    )
    assert (anonymous.status_code, logged_in.status_code) == (401, 200), (
        f"Flower answered {anonymous.status_code} without a login and {logged_in.status_code} "
        "with one; expected 401 and 200: FLOWER_BASIC_AUTH=user:password."
    )


def test_make_run_starts_one_beat_of_its_own_and_a_maintenance_worker() -> None:
    processes = procfile()
    beats = [name for name, command in processes.items() if " beat" in command]
    embedded = [name for name, command in processes.items() if re.search(r"\s(-B|--beat)\b", command)]
    make = (ROOT / "Makefile").read_text()
    run_processes = next(line for line in make.splitlines() if line.startswith("RUN_PROCESSES"))

    assert beats == ["beat"], f"the Procfile's lines running celery beat: {beats}; expected one, named beat."
    assert not embedded, f"{embedded} run a beat inside a worker (-B): scale them and every copy posts every entry."
    assert "-s instance/" in processes["beat"], "beat's schedule file belongs in the gitignored instance/ folder"
    assert "workers maintenance" in processes.get("maintenance", ""), "no worker reads the maintenance queue"
    assert {"beat", "maintenance"} <= set(run_processes.split()), f"`make run` does not start them: {run_processes}"
