"""The gateway on a Unix socket, reached through the relay a sandboxed agent starts: the way an
external agent in a bubblewrap sandbox (no network of its own) reaches its model.

What must hold: a call through relay and socket is the call the client would have made over
TCP (same answer, same row, tokens to the token); the relay starts listening before it says so,
and stops once the command that started it has gone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import openai
import pytest

from armbench.core import TOKEN_KINDS
from armbench.serve import Gateway, SimServer, Upstream
from armbench.serve import relay as relay_module
from armbench.tasks.packs import load_pack

PROMPT = load_pack("demo").task("feature").spec.prompt


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _running(pid: int) -> bool:
    """Whether `pid` runs (an exited process whose new parent has not reaped it does not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def test_a_call_through_the_relay_and_the_socket_is_metered_to_the_token(tmp_path: Path) -> None:
    socket_path = str(tmp_path / "gateway.sock")
    ready = tmp_path / "ready"
    port = _free_port()
    with (
        SimServer("openai") as sim,
        Gateway(socket_path=socket_path) as gateway,
    ):
        key = gateway.issue("t1", "solo", Upstream("openai", sim.sdk_base_url, None))
        parent = str(os.getpid())
        relay = subprocess.Popen(
            [sys.executable, relay_module.__file__, socket_path, str(port), str(ready), parent]
        )
        try:
            for _ in range(800):
                if ready.exists():
                    break
                time.sleep(0.025)
            assert ready.read_text() == str(relay.pid)
            client = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=key)
            answer = client.chat.completions.create(
                model="sim-coder",
                messages=[{"role": "user", "content": PROMPT}],
                max_tokens=4000,
            )
            refused = openai.OpenAI(
                base_url=f"http://127.0.0.1:{port}/v1", api_key="armbench-gw-" + "0" * 48
            )
            with pytest.raises(openai.AuthenticationError):
                refused.chat.completions.create(
                    model="sim-coder", messages=[{"role": "user", "content": "hi"}]
                )
        finally:
            relay.kill()
            relay.wait()
        assert gateway.settle("t1", 10)
        (row,) = gateway.records("t1")
    assert answer.usage is not None
    assert row.usage.input == answer.usage.prompt_tokens
    assert row.usage.output == answer.usage.completion_tokens
    served = sim.stats()["models"]["sim-coder"]
    assert {k: getattr(row.usage, k) for k in TOKEN_KINDS} == {k: served[k] for k in TOKEN_KINDS}
    assert not Path(socket_path).exists()  # the gateway removed its socket when it stopped


def test_the_relay_ends_when_the_command_that_started_it_has_gone(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    shell = subprocess.run(
        [
            "bash",
            "-c",
            f"{sys.executable} {relay_module.__file__} {tmp_path / 'none.sock'} "
            f"{_free_port()} {ready} $$ >/dev/null 2>&1 & echo $!",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(shell.stdout)
    for _ in range(800):
        if ready.exists():
            break
        time.sleep(0.025)
    assert ready.exists()
    for _ in range(120):  # it polls for its parent every second
        if not _running(pid):
            return
        time.sleep(0.05)
    os.kill(pid, 9)
    pytest.fail("the relay outlived the shell that started it")
