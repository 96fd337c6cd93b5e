"""serve-sim takes many connections at once: clients opening them together (a run's trials,
each through the SDK's pool) are queued by the kernel until the server accepts them, never
dropped to come back after TCP's retransmit timeout."""

from __future__ import annotations

import contextlib
import socket

from armbench.serve import SimServer


def test_connections_opened_together_are_queued_not_dropped() -> None:
    """The server is not started: nothing accepts, so every connection must wait in the
    listen backlog. With socketserver's default backlog (5) the sixth or seventh connect's SYN
    is dropped and the connect hangs until its timeout; here all 64 are queued."""
    server = SimServer("anthropic")  # bound and listening; serve loop not running
    host, port = server.base_url.removeprefix("http://").rsplit(":", 1)
    opened: list[socket.socket] = []
    try:
        for _ in range(64):
            opened.append(socket.create_connection((host, int(port)), timeout=5))
    finally:
        for connection in opened:
            with contextlib.suppress(OSError):
                connection.close()
        server.stop()
    assert len(opened) == 64
