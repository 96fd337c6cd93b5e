"""The threading HTTP server serve-sim and the gateway both stand on.

The standard library's server, with what both need beyond it: a listen backlog of the system's
size (socketserver's default of 5 dropped connections that clients opened together beyond it,
which came back a second later on TCP's SYN retransmit, so 16 trials starting at once waited a
second on most of their first calls), the open connections remembered so that stopping the
server also ends clients' idle keep-alive connections (otherwise their handler threads would go
on serving), and a client that hung up logged quietly rather than as a traceback.

It also listens on a Unix socket when given a path instead of a (host, port): that is how a
sandbox without a network reaches the gateway (its socket is bound into the sandbox, and a
relay inside listens on the sandbox's own loopback, `armbench.serve.relay`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import socketserver
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, TypeVar

Owner = TypeVar("Owner")


class LoopbackServer(ThreadingHTTPServer, Generic[Owner]):
    """A threading HTTP server whose handlers reach `owner` (the SimServer or Gateway)."""

    daemon_threads = True
    request_queue_size = socket.SOMAXCONN

    def __init__(
        self,
        address: tuple[str, int] | str,
        handler: type[BaseHTTPRequestHandler],
        owner: Owner,
        log: logging.Logger,
    ) -> None:
        if isinstance(address, str):
            self.address_family = socket.AF_UNIX
        elif ":" in address[0]:
            self.address_family = socket.AF_INET6
        self.owner = owner
        self._log = log
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        super().__init__(address, handler)  # type: ignore[arg-type]  # a path for AF_UNIX

    def server_bind(self) -> None:
        if self.address_family == socket.AF_UNIX:  # no host name to look up, no port
            socketserver.TCPServer.server_bind(self)
            self.server_name, self.server_port = "localhost", 0
        else:
            super().server_bind()

    @property
    def base_url(self) -> str:
        if self.address_family == socket.AF_UNIX:
            raise ValueError("a server on a Unix socket has no URL; clients reach it by a relay")
        host, port = self.server_address[:2]
        assert isinstance(host, str)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    def start_thread(self, name: str) -> None:
        """Serve on a background thread (once); returns at once."""
        if self._thread is None:
            # Poll often, so that `stop` returns promptly.
            self._thread = threading.Thread(
                target=self.serve_forever, args=(0.05,), name=name, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        """Stop the background thread if there is one, end open connections (idle keep-alive
        ones included) and release the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        self.close_connections()
        self.server_close()
        if self.address_family == socket.AF_UNIX:
            with contextlib.suppress(OSError):
                os.unlink(str(self.server_address))

    def process_request(self, request: Any, client_address: Any) -> None:
        if self.address_family == socket.AF_UNIX:
            client_address = ("unix", 0)  # handlers log `client_address[0]`
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            for connection in self._open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | TimeoutError):
            self._log.debug("connection from %s ended: %s", client_address, error)
        else:
            self._log.exception("unhandled error serving %s", client_address)
