"""A TCP-to-Unix-socket relay that runs inside a sandbox, so an agent with no network can reach
the gateway.

A bubblewrap sandbox has a network namespace of its own: only its own loopback, from which the
host's gateway cannot be reached. The gateway also listens on a Unix socket, which is bound
into the sandbox; this script, started there before the agent, listens on the sandbox's
loopback and carries each connection to that socket, bytes unchanged. The agent is given
`http://127.0.0.1:<port>` like any base URL.

It is run as a file (`python3 relay.py SOCKET PORT READY PARENT`), copied beside the socket,
since armbench's own package is hidden inside the sandbox; so it imports only the standard
library. It writes READY once it listens, and exits once PARENT (the pid of the shell that
started it, `$$`) is no longer its parent: the shell has gone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading


def _pump(source: socket.socket, sink: socket.socket) -> None:
    """Copy until `source` ends, then end `sink`'s writing side."""
    with contextlib.suppress(OSError):
        while data := source.recv(65536):
            sink.sendall(data)
    with contextlib.suppress(OSError):
        sink.shutdown(socket.SHUT_WR)


def _carry(client: socket.socket, path: str) -> None:
    upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        upstream.connect(path)
    except OSError:
        client.close()
        upstream.close()
        return
    back = threading.Thread(target=_pump, args=(upstream, client), daemon=True)
    back.start()
    _pump(client, upstream)
    back.join()
    client.close()
    upstream.close()


def serve(path: str, port: int, ready: str, parent: int) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(socket.SOMAXCONN)
    with open(ready, "w") as marker:
        marker.write(str(os.getpid()))
    listener.settimeout(1.0)
    while os.getppid() == parent:
        try:
            client, _ = listener.accept()
        except TimeoutError:
            continue
        client.settimeout(None)
        threading.Thread(target=_carry, args=(client, path), daemon=True).start()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
