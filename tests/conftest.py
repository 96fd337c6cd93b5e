"""Fixtures shared by several test modules, and the Hypothesis profile every test runs under."""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

TESTS = Path(__file__).parent

# Runs warm a shared mypy cache in the user cache (armbench.tasks.shared_mypy_cache): the
# suite's go to a folder of this test process (and the runs it starts), removed at its end,
# never into the user's ~/.cache. Tests that need a cache of their own set ARMBENCH_CACHE.
# External agents are the exception: they are large and pinned, installed once by `make agents`
# into the user cache, where the external-agent tests find them (ARMBENCH_AGENTS).
if "ARMBENCH_CACHE" not in os.environ:
    from armbench.arms.external.install import agents_root

    os.environ.setdefault("ARMBENCH_AGENTS", str(agents_root()))
    os.environ["ARMBENCH_CACHE"] = tempfile.mkdtemp(prefix="armbench-test-cache-")
    atexit.register(shutil.rmtree, os.environ["ARMBENCH_CACHE"], True)

# No deadline: a property's speed is not its correctness, and on a loaded 2-core CI machine
# heavy examples (real checkers, matplotlib) overrun Hypothesis' default 200 ms. Tests keep
# their own `max_examples`. HYPOTHESIS_PROFILE (or `--hypothesis-profile`) picks another.
settings.register_profile("armbench", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "armbench"))


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any network connection fails the test: prices must come from genai-prices' bundled
    snapshot. Modules that price runs use it on every test (`pytestmark`); modules that talk
    to serve-sim on loopback must not."""

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("tried to reach the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


HASH_PROBE = "armbench-hash-probe"


def _other_hash_seed() -> str:
    """A PYTHONHASHSEED other than this process's (a random one unless the variable is set)."""
    mine = os.environ.get("PYTHONHASHSEED", "random")
    return "1" if not mine.isdigit() else str((int(mine) + 1) % 2**32)


@pytest.fixture
def other_process(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Runs Python source in a fresh interpreter with another PYTHONHASHSEED and returns what
    it printed. Determinism checks compare against it rather than against a second call in
    this process, which would share this process's hash seed, set order and caches. The
    source runs from the requesting test's folder with tests/ on the path, so it can import
    that test module's helpers (`import test_x`) and the shared ones."""
    folder = request.path.parent

    def run(source: str) -> str:
        probe = f"print(hash({HASH_PROBE!r}))\n"
        env = {
            **os.environ,
            "PYTHONHASHSEED": _other_hash_seed(),
            "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONPATH": os.pathsep.join([str(folder), str(TESTS)]),
        }
        done = subprocess.run(
            [sys.executable, "-c", probe + source],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        hashed, _, out = done.stdout.partition("\n")
        assert int(hashed) != hash(HASH_PROBE), "the other process hashes as this one does"
        return out

    return run


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules holding `slow` tests run first, each module's tests in their own order.

    `make test` hands whole modules to its workers in collection order (`--dist loadscope
    --no-loadscope-reorder`; xdist's default order, most tests first, put the two-test Ray
    module last): a long end-to-end module handed out last would run alone at the end while
    the other workers idle; started first, it overlaps the many short ones."""
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)
