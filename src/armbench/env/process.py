"""Running one command as a child process, the same way for every backend: bounded in time, in
output and in resources, with nothing it started left running afterwards.

The child gets a session (and so a process group) of its own, its resource limits, and — where
armbench may create cgroups — a pids cgroup of its own (armbench.env.limits). When the command
ends or times out, its process group is killed and so is every process left in its cgroup, which
catches children that left the session with `setsid`. Without cgroups, every process still
carrying the command's own token (`ARMBENCH_COMMAND`) in its environment is killed instead —
which a child that also empties its environment escapes (the README says so). And the child
dies with armbench (`PR_SET_PDEATHSIG`).

What the kernel cannot do is end the child's own children when armbench is killed with SIGKILL:
the death signal is the direct child's alone, and an orphan is handed to init. (bubblewrap's PID
namespace ends a sandbox's whole tree with it; plain processes have no such bound.) So every
process a run starts also carries its run's lease (`ARMBENCH_RUN`, see
armbench.runner.leases) in its environment, and its cgroup is named after the lease: the
run's watchdog, or the next run, finds and kills them once the lease's lock is free.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from armbench.core import CommandLimits
from armbench.env.base import CommandResult
from armbench.env.limits import CommandGroup, apply_limits, die_with_parent


class CappedReader:
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


def wait_exit(proc: subprocess.Popen[bytes], timeout_s: float) -> int | None:
    """The child's exit status, or None once `timeout_s` have passed without one.

    Woken by a pidfd the moment the child ends (Linux 5.3 and later). `Popen.wait(timeout=...)`
    polls instead, with sleeps that grow to 50 ms: every command longer than a few tens of ms
    was waited on for 25 ms after it ended, on average, and a trial runs dozens of them."""
    try:
        pidfd = os.pidfd_open(proc.pid)
    except (AttributeError, OSError):  # no pidfds here: poll as Popen does
        try:
            return proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            return None
    try:
        ready = select.poll()
        ready.register(pidfd, select.POLLIN)
        if not ready.poll(timeout_s * 1000):  # milliseconds
            return None
    finally:
        os.close(pidfd)
    return proc.wait()


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


TOKEN_VARIABLE = "ARMBENCH_COMMAND"
"""Names each command's processes where no cgroup can (see `_kill_marked`)."""
OWNER_VARIABLE = "ARMBENCH_RUN"
"""Names every process of one run's execution (its lease id), so that what a killed run left
can be found by the next one (armbench.runner.leases)."""


def _kill_marked(token: str) -> None:
    """SIGKILL every process whose environment carries `token`."""
    mark = f"{TOKEN_VARIABLE}={token}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if mark in (entry / "environ").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)


def run_process(
    argv: Sequence[str],
    *,
    shown: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout_s: float,
    output_cap: int,
    merge_stderr: bool,
    limits: CommandLimits,
    pass_fds: Sequence[int] = (),
    after_start: Callable[[], None] | None = None,
    owner: str | None = None,
) -> CommandResult:
    """Run `argv` to its end or its timeout, then make sure nothing it started is left.

    `pass_fds` stay open in the child; `after_start` runs once it has started (to close the
    parent's copies of them). `owner`, the lease of the run the command belongs to, marks the
    command's environment and names its cgroup."""
    started = time.monotonic()
    group = CommandGroup.create(limits, owner=owner)
    token = secrets.token_hex(8)
    marks = {TOKEN_VARIABLE: token, **({OWNER_VARIABLE: owner} if owner else {})}

    parent = os.getpid()

    def confine() -> None:  # in the child, between fork and exec: system calls only
        die_with_parent()
        if os.getppid() != parent:  # armbench died before the line above took effect
            os._exit(1)
        apply_limits(limits)
        if group is not None:
            group.join()

    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env={**env, **marks},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT if merge_stderr else subprocess.PIPE,
            start_new_session=True,  # its own process group, so a timeout kills the whole tree
            preexec_fn=confine,
            pass_fds=tuple(pass_fds),
        )
    except BaseException:
        if group is not None:
            group.close()
        raise
    if after_start is not None:
        after_start()
    assert proc.stdout is not None
    out = CappedReader(proc.stdout, output_cap)
    err = CappedReader(proc.stderr, output_cap) if proc.stderr is not None else None
    exit_code = wait_exit(proc, timeout_s)
    timed_out = exit_code is None
    # Also reaps anything the command left running in the background, in its session or not.
    _kill_group(proc.pid)
    if group is not None:
        group.close()
    else:
        _kill_marked(token)
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
