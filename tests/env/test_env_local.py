"""Tests for armbench.env.local: the scrubbed environment and the plain-process backend."""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from armbench.env.limits import pids_root
from armbench.env.local import LocalEnvironment, scrubbed_environ
from armbench.env.process import TOKEN_VARIABLE, CappedReader

SECRETS = {
    "OPENAI_API_KEY": "sk-openai-very-secret",
    "ANTHROPIC_API_KEY": "sk-ant-very-secret",
    "GITHUB_TOKEN": "ghp_very_secret",
    "AWS_SECRET_ACCESS_KEY": "aws-very-secret",
    # A name no denylist would think of: only an allowlist keeps it out.
    "MYSTERY_SETTING": "hunter2-very-secret",
}

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="process checks read /proc (Linux)"
)


def _alive(pid: int) -> bool:
    """True while `pid` runs. A zombie counts as dead: in containers PID 1 may never reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state not in ("Z", "X")


def _wait_for(condition: Callable[[], bool], within_s: float = 10.0) -> bool:
    """Polls `condition` until it holds; the deadline is generous, only a hang should reach it."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _wait_gone(pid: int) -> bool:
    return _wait_for(lambda: not _alive(pid))


@pytest.fixture
def spawned() -> Iterator[list[int]]:
    """Pids of processes a test's commands started; any still running are killed afterwards."""
    pids: list[int] = []
    yield pids
    for pid in pids:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def _parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


# --- scrubbed_environ ---------------------------------------------------------------------


def test_scrubbed_environ_keeps_only_allowlisted_variables() -> None:
    base = {
        "PATH": "/usr/bin:/bin",
        "LANG": "de_DE.UTF-8",
        "TZ": "UTC",
        "TMPDIR": "/var/tmp",
        "HOME": "/home/someone",
        "USER": "someone",
        "PYTHONPATH": "/somewhere",
        **SECRETS,
    }
    env = scrubbed_environ(base, home=Path("/work/home"))
    assert env == {
        "PATH": "/usr/bin:/bin",
        "LANG": "de_DE.UTF-8",
        "TZ": "UTC",
        "TMPDIR": "/var/tmp",
        "HOME": "/work/home",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONUNBUFFERED": "1",
    }


def test_scrubbed_environ_home_defaults_to_tmpdir_then_tmp() -> None:
    assert scrubbed_environ({"TMPDIR": "/var/tmp"})["HOME"] == "/var/tmp"
    assert scrubbed_environ({})["HOME"] == "/tmp"


def test_scrubbed_environ_defaults_lang_and_prefixes_path() -> None:
    env = scrubbed_environ({"PATH": "/usr/bin"}, path_prefix=[Path("/opt/a/bin"), Path("/b")])
    assert env["LANG"] == "C.UTF-8"
    assert env["PATH"] == os.pathsep.join(["/opt/a/bin", "/b", "/usr/bin"])
    # Without an inherited PATH the prefix alone is the PATH (no dangling separator).
    assert scrubbed_environ({}, path_prefix=[Path("/opt/a/bin")])["PATH"] == "/opt/a/bin"
    assert "PATH" not in scrubbed_environ({})


def test_scrubbed_environ_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("TZ", "Europe/Paris")
    env = scrubbed_environ()
    assert env["TZ"] == "Europe/Paris"
    assert not set(SECRETS) & set(env)


def test_scrubbed_environ_extra_adds_plain_variables() -> None:
    env = scrubbed_environ({}, extra={"ARMBENCH_TRIAL": "t1", "MYPY_FORCE_COLOR": "0"})
    assert env["ARMBENCH_TRIAL"] == "t1"
    assert env["MYPY_FORCE_COLOR"] == "0"


@pytest.mark.parametrize(
    "name",
    [
        "OPENAI_API_KEY",
        "ANTHROPIC_API_KEY",
        "GITHUB_TOKEN",
        "AWS_SECRET_ACCESS_KEY",
        "DB_PASSWORD",
        "my_credentials",
        "SESSION_ID",
        "HTTP_AUTH",
        "github_token",
    ],
)
def test_scrubbed_environ_refuses_secret_looking_extra(name: str) -> None:
    with pytest.raises(ValueError, match=f"refusing to pass '{name}'"):
        scrubbed_environ({}, extra={name: "x"})


# --- LocalEnvironment: environment, cwd, home ----------------------------------------------


def test_secrets_never_reach_a_command(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    env = LocalEnvironment(tmp_path, home=tmp_path)
    result = env.run(["env"], timeout_s=10)
    assert result.exit_code == 0
    for name, value in SECRETS.items():
        assert name not in result.output
        assert value not in result.output
    # The command sees exactly the scrubbed environment, nothing more (but the token that names
    # its processes, so they can be found and killed when it ends).
    seen_env = _parse_env(result.output)
    assert len(seen_env.pop(TOKEN_VARIABLE)) == 16
    assert seen_env == dict(env.environ)
    # ...and through bash too (bash adds only its own bookkeeping variables).
    shell = env.run("env", timeout_s=10)
    seen = set(_parse_env(shell.output))
    assert not set(SECRETS) & seen
    assert seen - set(env.environ) <= {"PWD", "SHLVL", "_", "OLDPWD", TOKEN_VARIABLE}


def test_environ_has_own_interpreter_first_on_path(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    assert env.environ["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert LocalEnvironment(tmp_path, path_prefix=[]).environ.get("PATH") == os.environ.get("PATH")


def test_secret_extra_env_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="GITHUB_TOKEN"):
        LocalEnvironment(tmp_path, extra_env={"GITHUB_TOKEN": "x"})
    env = LocalEnvironment(tmp_path)
    with pytest.raises(ValueError, match="OPENAI_API_KEY"):
        env.run("true", timeout_s=5, extra_env={"OPENAI_API_KEY": "x"})


def test_extra_env_reaches_the_command(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path, extra_env={"FROM_INIT": "a"})
    result = env.run('echo "$FROM_INIT/$FROM_RUN"', timeout_s=5, extra_env={"FROM_RUN": "b"})
    assert result.output == "a/b\n"
    # A per-run variable does not stick to the environment.
    assert "FROM_RUN" not in env.environ


def test_cwd_is_the_workdir_and_home_is_the_given_home(tmp_path: Path) -> None:
    work = tmp_path / "ws"
    home = tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = LocalEnvironment(work, home=home)
    assert env.workdir == work.resolve()
    result = env.run('pwd -P; echo "$HOME"', timeout_s=5)
    assert result.output == f"{work.resolve()}\n{home}\n"


# --- LocalEnvironment: exit codes and output ------------------------------------------------


def test_exit_codes_and_ok(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    ok = env.run("true", timeout_s=5)
    assert (ok.exit_code, ok.ok, ok.timed_out, ok.output) == (0, True, False, "")
    bad = env.run("exit 3", timeout_s=5)
    assert (bad.exit_code, bad.ok, bad.timed_out) == (3, False, False)
    assert bad.command == "exit 3"
    assert bad.duration_s >= 0


def test_sequence_command_is_execd_without_a_shell(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    result = env.run(["echo", "$HOME", "a b"], timeout_s=5)
    assert result.output == "$HOME a b\n"
    assert result.command == "echo '$HOME' 'a b'"


def test_combined_output_interleaves_stdout_and_stderr(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    result = env.run("echo one; echo two >&2; echo three", timeout_s=5)
    assert result.output == "one\ntwo\nthree\n"
    assert result.stderr == ""


def test_merge_stderr_false_keeps_streams_apart(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    result = env.run("echo out; echo err >&2; exit 1", timeout_s=5, merge_stderr=False)
    assert result.output == "out\n"
    assert result.stderr == "err\n"
    assert result.exit_code == 1


def _emit(text: str) -> list[str]:
    return [sys.executable, "-c", f"import sys; sys.stdout.write({text!r})"]


def test_output_cap_keeps_head_and_tail_with_marker(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    text = "A" * 100 + "B" * 1000 + "C" * 100
    result = env.run(_emit(text), timeout_s=10, output_cap=200)
    assert result.truncated
    assert result.output == "A" * 100 + "\n[... 1000 bytes omitted ...]\n" + "C" * 100


def test_output_exactly_at_cap_is_not_truncated(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    text = "x" * 150 + "y" * 50
    result = env.run(_emit(text), timeout_s=10, output_cap=200)
    assert not result.truncated
    assert result.output == text
    one_more = env.run(_emit(text + "z"), timeout_s=10, output_cap=200)
    assert one_more.truncated
    assert one_more.output == (
        "x" * 100 + "\n[... 1 bytes omitted ...]\n" + "x" * 49 + "y" * 50 + "z"
    )


def test_output_cap_applies_to_large_streamed_output(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    # ~2.9 MB in many writes, so the reader sees many chunks.
    cmd = [
        sys.executable,
        "-c",
        "import sys\nfor i in range(300000): sys.stdout.write(f'{i:09d}\\n')",
    ]
    result = env.run(cmd, timeout_s=30, output_cap=1000)
    assert result.truncated
    head, marker_and_tail = result.output.split("\n[... ", 1)
    omitted, tail = marker_and_tail.split(" bytes omitted ...]\n", 1)
    total = 300000 * 10
    assert head == "".join(f"{i:09d}\n" for i in range(50))
    assert int(omitted) == total - 1000
    assert tail == "".join(f"{i:09d}\n" for i in range(299950, 300000))


def test_stderr_is_capped_separately(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    cmd = [sys.executable, "-c", "import sys; sys.stderr.write('E' * 500); print('fine')"]
    result = env.run(cmd, timeout_s=10, output_cap=100, merge_stderr=False)
    assert result.output == "fine\n"
    assert result.stderr == "E" * 50 + "\n[... 400 bytes omitted ...]\n" + "E" * 50
    assert result.truncated


# --- LocalEnvironment: timeouts and process trees -------------------------------------------


def test_timeout_kills_the_whole_process_tree(tmp_path: Path, spawned: list[int]) -> None:
    env = LocalEnvironment(tmp_path)
    # The children sleep 60 s, so only a kill ends them within `_wait_gone`'s deadline; the
    # shell would write `finished` at 5 s, so its absence says the 1 s timeout fired first.
    command = (
        "sleep 60 & echo $! > child.pid; bash -c 'sleep 60 & echo $! > grandchild.pid; wait' & "
        "sleep 5; touch finished; wait"
    )
    result = env.run(command, timeout_s=1)
    child = int((tmp_path / "child.pid").read_text())
    grandchild = int((tmp_path / "grandchild.pid").read_text())
    spawned.extend([child, grandchild])
    assert result.timed_out
    assert result.exit_code is None
    assert not result.ok
    assert result.output == "\n[killed: command exceeded its 1s timeout]\n"
    assert _wait_gone(child), "the background child survived the timeout"
    assert _wait_gone(grandchild), "the grandchild survived the timeout"
    assert not (tmp_path / "finished").exists(), "the command ran on past its timeout"


def test_timeout_keeps_output_written_before_the_kill(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path)
    result = env.run("echo before; sleep 30", timeout_s=0.5)
    assert result.timed_out
    assert result.output == "before\n\n[killed: command exceeded its 0.5s timeout]\n"


def test_background_processes_left_behind_are_reaped(tmp_path: Path, spawned: list[int]) -> None:
    env = LocalEnvironment(tmp_path)
    result = env.run("sleep 60 & echo $! > child.pid; echo done", timeout_s=30)
    child = int((tmp_path / "child.pid").read_text())
    spawned.append(child)
    assert result.exit_code == 0
    assert not result.timed_out
    assert result.output == "done\n"
    # A 60 s sleep gone within `_wait_gone`'s deadline was killed, not waited for.
    assert _wait_gone(child), "a background process outlived its command"


def test_capped_reader_keeps_its_descriptor_until_the_pipe_closes() -> None:
    """A grandchild that escaped the process group still holds the write end: `finish` returns
    what it has without closing the descriptor (whose number could otherwise be reused by
    another command's pipe while the stale thread still reads it); the thread closes it at EOF."""
    read_fd, write_fd = os.pipe()
    reader = CappedReader(os.fdopen(read_fd, "rb"), cap=100)
    os.write(write_fd, b"early\n")
    assert _wait_for(lambda: reader._total == len(b"early\n")), "the reader never read it"
    assert reader.finish(grace_s=0.1) == ("early\n", False)
    os.fstat(read_fd)  # still open, still ours: no other pipe can take this number
    os.write(write_fd, b"late output from the escaped grandchild\n")
    os.close(write_fd)
    reader._thread.join(2)
    assert not reader._thread.is_alive()
    with pytest.raises(OSError):
        os.fstat(read_fd)  # closed by its owner once the pipe ended


# --- the run's mark: what a killed run left is found by it ----------------------------------


def test_every_process_of_a_run_carries_its_lease(tmp_path: Path) -> None:
    """The run's lease (armbench.runner.leases) marks each command and what it starts, at any
    depth, so the processes a killed run left can be found; a command of no run has none."""
    env = LocalEnvironment(tmp_path, owner="run-x.1234abcd")
    result = env.run(
        "sh -c 'sh -c env' | grep ^ARMBENCH_RUN=",
        timeout_s=30,
    )
    assert result.output == "ARMBENCH_RUN=run-x.1234abcd\n"
    assert LocalEnvironment(tmp_path).run("echo ${ARMBENCH_RUN-none}", timeout_s=10).output == (
        "none\n"
    )


@pytest.mark.skipif(pids_root() is None, reason="no pids cgroup armbench may create here")
def test_a_runs_command_groups_are_named_after_its_lease(tmp_path: Path) -> None:
    env = LocalEnvironment(tmp_path, owner="run-x.1234abcd")
    result = env.run("cat /proc/self/cgroup", timeout_s=10)
    [line] = [line for line in result.output.splitlines() if ":pids:" in line]
    assert line.split(":pids:")[1].startswith("/armbench/cmd-run-x.1234abcd-")
