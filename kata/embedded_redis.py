"""fakeredis's TCP server as a process of its own, where redis-server is not installed.

`python -m kata.embedded_redis FD` serves Redis on the listening socket it inherits as file
descriptor FD (bound by the parent, so the port is never raced for), until it is killed, or
until its parent goes away: it reads its stdin, a pipe only the parent holds, and exits at end
of file, so a killed test run leaves no Redis behind. SIGSTOP hangs it and SIGKILL stops it as
they would redis-server (`kata.stack.embedded_redis_process` starts it).
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def _exit_with_parent() -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        os._exit(0)


def main(argv: list[str]) -> None:
    listening = socket.socket(fileno=int(argv[0]))
    threading.Thread(target=_exit_with_parent, daemon=True).start()

    import fakeredis

    from kata.broker import _NoDelayHandler

    server = fakeredis.TcpFakeServer(listening.getsockname(), bind_and_activate=False)
    server.socket.close()
    server.socket = listening
    server.RequestHandlerClass = _NoDelayHandler
    server.daemon_threads = True  # a client left connected does not keep the process alive
    print(f"embedded Redis (fakeredis {fakeredis.__version__}) ready on port {listening.getsockname()[1]}", flush=True)
    server.serve_forever(poll_interval=0.5)  # how often it looks for a shutdown(): never called


if __name__ == "__main__":
    main(sys.argv[1:])
