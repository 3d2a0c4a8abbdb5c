"""`python -m bench.standin --port P --delay D`: `kata giphy-standin`, with room for 1024 waiting connections.

socketserver's listening sockets queue 5 connections by default. When 128 or more lookups
connect at once, the queue overflows, the kernel drops their SYNs, and each of those lookups
waits a second for its retry (or fails its 2 s connect timeout): a cost of the stand-in, not
of the workers, and one a real Giphy does not have. Section 5 counts the overflows per run.
"""

from __future__ import annotations

import http.server
import sys

from kata.cli import main

http.server.ThreadingHTTPServer.request_queue_size = 1024

if __name__ == "__main__":
    main(["giphy-standin", *sys.argv[1:]])
