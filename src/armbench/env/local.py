"""Plain-process backend: a child process group per command, a scrubbed environment.

This backend isolates by convention, not by force: the agent's shell can still read any path
the user can. Protected files are therefore verified by fingerprint at judge time, and a
sandboxing backend can slot in behind the same Environment protocol (see armbench.env.factory).
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from armbench.env.base import DEFAULT_OUTPUT_CAP, CommandResult
from armbench.env.host_files import HostFiles

# Variables a command may inherit. Everything else is dropped: an allowlist cannot leak a
# credential under a name nobody thought of, which a denylist of `*_API_KEY` patterns can.
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "TMPDIR", "SYSTEMROOT")

_SECRET_NAME = re.compile(
    r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH|COOKIE|SESSION)", re.I
)


def scrubbed_environ(
    base: Mapping[str, str] | None = None,
    *,
    home: Path | None = None,
    path_prefix: Sequence[Path] = (),
    extra: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment for a command: allowlisted variables only, never a secret-looking name.

    `path_prefix` goes in front of PATH (armbench puts its own interpreter's bin dir there so
    `python -m pytest` finds the pinned checkers). `extra` may add variables, but not ones whose
    names look like credentials: that is refused loudly rather than filtered silently.
    """
    source = os.environ if base is None else base
    env = {k: source[k] for k in _INHERITED if k in source}
    env["HOME"] = str(home) if home is not None else env.get("TMPDIR", "/tmp")
    env.setdefault("LANG", "C.UTF-8")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    prefix = os.pathsep.join(str(p) for p in path_prefix)
    if prefix:
        env["PATH"] = prefix + (os.pathsep + env["PATH"] if env.get("PATH") else "")
    env.update(_checked(extra or {}))
    return env


def _checked(extra: Mapping[str, str]) -> dict[str, str]:
    for name in extra:
        if _SECRET_NAME.search(name):
            raise ValueError(f"refusing to pass {name!r} to a command: it looks like a secret")
    return dict(extra)


class _CappedReader:
    """Drains a pipe on a thread, keeping the first and last `cap // 2` bytes.

    The thread owns the pipe and closes it at end of file. `finish` never closes it: if a
    grandchild escaped the process group and still holds the write end, the thread is left to
    drain in the background, and the descriptor stays ours until then, so its number cannot be
    reused by another command's pipe while a stale reader still reads it.
    """

    def __init__(self, stream: IO[bytes], cap: int) -> None:
        self._stream = stream
        self._half = max(cap // 2, 1)
        self._head = bytearray()
        self._tail = bytearray()
        self._total = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self) -> None:
        fd = self._stream.fileno()
        try:
            while chunk := os.read(fd, 65536):
                with self._lock:
                    self._keep(chunk)
        except OSError:
            pass
        finally:
            self._stream.close()

    def _keep(self, chunk: bytes) -> None:
        self._total += len(chunk)
        room = self._half - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if chunk:
            self._tail += chunk
            if len(self._tail) > self._half:
                del self._tail[: len(self._tail) - self._half]

    def finish(self, grace_s: float = 2.0) -> tuple[str, bool]:
        """The output so far (all of it, unless something still holds the pipe after `grace_s`)."""
        self._thread.join(grace_s)
        with self._lock:
            kept = len(self._head) + len(self._tail)
            truncated = self._total > kept
            data = bytes(self._head)
            if truncated:
                data += f"\n[... {self._total - kept} bytes omitted ...]\n".encode()
            data += bytes(self._tail)
        return data.decode("utf-8", errors="replace"), truncated


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


class LocalEnvironment(HostFiles):
    """Runs commands as local processes in `workdir`, one process group per command; its files
    are the workspace folder's own (see HostFiles)."""

    def __init__(
        self,
        workdir: Path,
        *,
        home: Path | None = None,
        path_prefix: Sequence[Path] | None = None,
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self._workdir = workdir.resolve()
        prefix = [Path(sys.executable).parent] if path_prefix is None else list(path_prefix)
        self._env = scrubbed_environ(home=home, path_prefix=prefix, extra=extra_env)

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def environ(self) -> Mapping[str, str]:
        """The variables every command sees (a copy is handed to each process)."""
        return dict(self._env)

    def run(
        self,
        command: str | Sequence[str],
        *,
        timeout_s: float,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        merge_stderr: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        if isinstance(command, str):
            argv = ["bash", "-c", command]
            shown = command
        else:
            argv = list(command)
            shown = shlex.join(argv)
        env = {**self._env, **_checked(extra_env or {})}
        started = time.monotonic()
        proc = subprocess.Popen(
            argv,
            cwd=self._workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills the whole tree
        )
        assert proc.stdout is not None
        out = _CappedReader(proc.stdout, output_cap)
        err = _CappedReader(proc.stderr, output_cap) if proc.stderr is not None else None
        timed_out = False
        try:
            exit_code: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            exit_code = None
        # Also reaps anything the command left running in the background.
        _kill_group(proc.pid)
        if timed_out:
            proc.wait()
        output, truncated = out.finish()
        stderr, err_truncated = err.finish() if err is not None else ("", False)
        if timed_out:
            output += f"\n[killed: command exceeded its {timeout_s:g}s timeout]\n"
        return CommandResult(
            command=shown,
            exit_code=exit_code,
            output=output,
            stderr=stderr,
            timed_out=timed_out,
            truncated=truncated or err_truncated,
            duration_s=time.monotonic() - started,
        )
