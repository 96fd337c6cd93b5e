"""Tests for armbench.env.process.wait_exit: a command's end is noticed from a pidfd, not by
polling, and a timeout still ends the wait (with or without pidfds)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from armbench.env.process import wait_exit

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="pidfds and /proc are Linux's")


@pytest.fixture
def children() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def start(children: list[subprocess.Popen[bytes]], code: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", code])
    children.append(proc)
    return proc


def no_pidfds(pid: int) -> int:
    raise OSError("pidfd_open is not supported here")


@pytest.mark.parametrize("pidfds", [True, False], ids=["pidfd", "polling"])
def test_the_exit_status_is_returned_and_the_child_reaped(
    children: list[subprocess.Popen[bytes]], pidfds: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfds:
        monkeypatch.setattr(os, "pidfd_open", no_pidfds)
    proc = start(children, "raise SystemExit(3)")
    assert wait_exit(proc, 60) == 3
    assert proc.returncode == 3  # reaped: no zombie is left behind


@pytest.mark.parametrize("pidfds", [True, False], ids=["pidfd", "polling"])
def test_a_child_still_running_at_the_timeout_gives_none(
    children: list[subprocess.Popen[bytes]], pidfds: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not pidfds:
        monkeypatch.setattr(os, "pidfd_open", no_pidfds)
    proc = start(children, "import time; time.sleep(60)")
    assert wait_exit(proc, 0.2) is None
    assert proc.poll() is None  # still running: the caller kills it


def test_with_pidfds_the_wait_never_polls(
    children: list[subprocess.Popen[bytes]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Popen.wait(timeout=...) sleeps between polls (up to 50 ms after the child ended); with a
    pidfd the child's end wakes the wait, and Popen.wait is only asked to reap."""
    if not hasattr(os, "pidfd_open"):
        pytest.skip("no os.pidfd_open")
    timeouts: list[Any] = []
    original = subprocess.Popen.wait

    def recording(self: subprocess.Popen[bytes], timeout: float | None = None) -> int:
        timeouts.append(timeout)
        return original(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", recording)
    proc = start(children, "pass")
    assert wait_exit(proc, 60) == 0
    assert timeouts == [None]
