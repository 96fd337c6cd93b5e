"""Tests for armbench.env.bwrap and the hardened plain-process backend: what a command can see,
write and reach, and that nothing it starts outlives it.

The bubblewrap tests skip, with the reason, where bwrap cannot run here.
"""

from __future__ import annotations

import secrets
import socket
import sys
import time
from pathlib import Path

import pytest

from armbench.core import CommandLimits
from armbench.env import (
    EnvironmentFactory,
    SandboxMounts,
    SandboxUnavailable,
    choose_backend,
)
from armbench.env.bwrap import BwrapEnvironment, unavailable
from armbench.env.local import LocalEnvironment

WHY = unavailable()
needs_bwrap = pytest.mark.skipif(WHY is not None, reason=f"no bubblewrap sandbox here: {WHY}")
MOUNTS = SandboxMounts.for_python(sys.executable)


def _sandbox(workdir: Path, **options: object) -> BwrapEnvironment:
    return BwrapEnvironment(workdir, mounts=MOUNTS, **options)  # type: ignore[arg-type]


def _marker() -> str:
    """Digits that make a `sleep` interval of this test's own, findable in the process table."""
    return str(secrets.randbelow(10**6)).zfill(6)


def _gone(marker: str, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(marker in _cmdline(p) for p in Path("/proc").iterdir() if p.name.isdigit()):
            return True
        time.sleep(0.1)
    return False


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@needs_bwrap
def test_only_the_workspace_and_the_named_folders_are_writable(tmp_path: Path) -> None:
    work, scratch, outside = tmp_path / "work", tmp_path / "scratch", tmp_path / "outside"
    for folder in (work, scratch, outside):
        folder.mkdir()
    env = _sandbox(work, writable=[scratch])
    result = env.run(
        f"touch in-work {scratch}/in-scratch /tmp/private; touch {outside}/no; "
        f"touch {sys.prefix}/no; echo done",
        timeout_s=30,
    )
    assert "done" in result.output
    assert (work / "in-work").exists() and (scratch / "in-scratch").exists()
    assert not (outside / "no").exists()
    assert not Path(sys.prefix, "no").exists()
    assert not Path("/tmp/private").exists()  # its /tmp is its own


@needs_bwrap
def test_the_toolchain_runs_but_armbench_itself_is_hidden(tmp_path: Path) -> None:
    env = _sandbox(tmp_path)
    result = env.run([sys.executable, "-c", "import pytest, mypy; print('ok')"], timeout_s=60)
    assert result.output.strip() == "ok", result.output
    package = Path(__file__).resolve().parents[2] / "src" / "armbench"
    assert (package / "__init__.py").is_file() and (package / "packs").is_dir()  # on the host
    # In the sandbox: an empty folder where it sits inside the toolchain, else absent.
    listed = env.run(f"ls -A {package}", timeout_s=30)
    assert listed.output == "" or "No such file" in listed.output, listed.output
    reference = env.run(f"cat {package}/packs/demo/pack.yaml", timeout_s=30)
    assert reference.exit_code != 0 and "No such file" in reference.output


@needs_bwrap
def test_no_network_not_even_loopback(tmp_path: Path) -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    try:
        result = _sandbox(tmp_path).run(
            [
                sys.executable,
                "-c",
                f"import socket; socket.create_connection(('127.0.0.1', {port}), timeout=2)",
            ],
            timeout_s=30,
        )
        assert result.exit_code != 0
        assert "Error" in result.output
    finally:
        server.close()


@needs_bwrap
def test_the_environment_is_the_allowlist_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_SETTING", "should-not-pass")
    result = _sandbox(tmp_path).run("env", timeout_s=30)
    names = {line.split("=", 1)[0] for line in result.output.splitlines() if "=" in line}
    assert "SOME_SETTING" not in names
    assert {"PATH", "HOME"} <= names


@needs_bwrap
def test_processes_started_in_the_background_do_not_outlive_the_command(tmp_path: Path) -> None:
    marker = _marker()
    result = _sandbox(tmp_path).run(
        f"setsid sleep 4100.{marker} & a=$!; nohup sleep 4101.{marker} >/dev/null 2>&1 & "
        "b=$!; sleep 0.2; kill -0 $a $b && echo running",
        timeout_s=30,
    )
    assert result.output.strip() == "running"  # both were alive when the command ended
    assert _gone(marker)


@needs_bwrap
def test_a_timeout_ends_the_whole_sandbox(tmp_path: Path) -> None:
    marker = _marker()
    result = _sandbox(tmp_path).run(f"(setsid sleep 4102.{marker} &); sleep 60", timeout_s=1)
    assert result.timed_out
    assert _gone(marker)


@needs_bwrap
def test_resource_limits_reach_the_sandbox(tmp_path: Path) -> None:
    limits = CommandLimits(file_size_mb=1, open_files=64)
    result = _sandbox(tmp_path, limits=limits).run("ulimit -f; ulimit -n", timeout_s=30)
    assert result.output.split() == ["1024", "64"]  # bash counts file size in KiB


def test_local_commands_get_the_limits_too(tmp_path: Path) -> None:
    limits = CommandLimits(file_size_mb=1, open_files=64)
    result = LocalEnvironment(tmp_path, limits=limits).run("ulimit -f; ulimit -n", timeout_s=30)
    assert result.output.split() == ["1024", "64"]  # bash counts file size in KiB


def test_local_commands_that_setsid_away_are_killed(tmp_path: Path) -> None:
    marker = _marker()
    result = LocalEnvironment(tmp_path).run(
        f"setsid sleep 4103.{marker} & a=$!; (setsid sleep 4104.{marker} &); sleep 0.2; "
        f"kill -0 $a && grep -l 4104.{marker} /proc/[0-9]*/cmdline >/dev/null && echo running",
        timeout_s=30,
    )
    assert result.output.strip() == "running"
    assert _gone(marker)


def test_asking_for_bwrap_where_it_cannot_run_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("armbench.env.factory.unavailable", lambda: "no bwrap on PATH")
    with pytest.raises(SandboxUnavailable, match="--sandbox bwrap: no bwrap on PATH"):
        choose_backend("bwrap")
    backend, warning = choose_backend("auto")
    assert backend == "local"
    assert warning is not None and "isolation is by convention" in warning
    assert choose_backend("local")[1] is not None  # a local run always says so


@needs_bwrap
def test_auto_takes_bwrap_where_it_works() -> None:
    assert choose_backend("auto") == ("bwrap", None)
    factory = EnvironmentFactory("bwrap", mounts=MOUNTS)
    assert factory.confined
    assert factory.record()["backend"] == "bwrap"
