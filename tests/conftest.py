"""Fixtures shared by several test modules."""

from __future__ import annotations

import socket
from typing import Any

import pytest


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any network connection fails the test: prices must come from genai-prices' bundled
    snapshot. Modules that price runs use it on every test (`pytestmark`); modules that talk
    to serve-sim on loopback must not."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
