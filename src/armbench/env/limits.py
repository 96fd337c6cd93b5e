"""What one command may use: processes, memory, file size, open files, CPU time.

Limits are set in the child just before it becomes the command (`apply`), so the command and
everything it starts inherit them; a sandbox's processes inherit them through bwrap. The
process count is the one limit `setrlimit` cannot give: Linux never enforces RLIMIT_NPROC
against root, and counts every process of a user, not of a command. So where armbench may
create cgroups (root, with the `pids` controller mounted) each command gets a `pids` cgroup of
its own — which also lets armbench kill every process the command started, including those that
left its session with `setsid` (`CommandGroup.kill_all`). Elsewhere the process count is not
limited; the README says so.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import resource
import secrets
import signal
import time
from pathlib import Path

from armbench.core import CommandLimits

MIB = 1024 * 1024
_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
"""Loaded before any fork: a child between fork and exec may only make system calls."""


def die_with_parent() -> None:
    """Have the kernel kill the calling process (a child about to exec) when the thread that
    started it dies — armbench killed with SIGKILL included, when no cleanup of its own runs.
    Linux only; elsewhere a no-op."""
    with contextlib.suppress(AttributeError, OSError):
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def apply_limits(limits: CommandLimits) -> None:
    """Set the per-process limits on the calling process (a child about to exec)."""
    for kind, value in (
        (resource.RLIMIT_AS, limits.memory_mb * MIB),
        (resource.RLIMIT_FSIZE, limits.file_size_mb * MIB),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CPU, limits.cpu_s),
    ):
        _soft, hard = resource.getrlimit(kind)
        capped = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (capped, capped))


def _pids_root() -> Path | None:
    """Where armbench may make pids cgroups: the v1 `pids` hierarchy, or cgroup2 with `pids`
    enabled for its children; None when neither is mounted writable."""
    try:
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in mounts:
        fields = line.split()
        mount, fstype, options = fields[4], fields[-3], fields[-1]
        if fstype == "cgroup" and "pids" in options.split(","):
            return Path(mount)
        if fstype == "cgroup2":
            root = Path(mount)
            with contextlib.suppress(OSError):
                if "pids" in (root / "cgroup.subtree_control").read_text().split():
                    return root
    return None


_ROOT: list[Path | None] = []


def pids_root() -> Path | None:
    """The pids cgroup folder armbench's command groups go in (probed once per process)."""
    if not _ROOT:
        root = _pids_root()
        found = None
        if root is not None:
            with contextlib.suppress(OSError):
                (root / "armbench").mkdir(exist_ok=True)
                probe = root / "armbench" / f"probe-{os.getpid()}"
                probe.mkdir()
                (probe / "pids.max").write_text("1\n")
                probe.rmdir()
                found = root / "armbench"
        _ROOT.append(found)
    return _ROOT[0]


GROUP_PREFIX = "cmd-"
"""Every command group's folder name starts with it, then its owner and a dash."""


class CommandGroup:
    """A pids cgroup holding one command and all it starts: capped, and killed whole."""

    def __init__(self, folder: Path, procs_fd: int) -> None:
        self.folder = folder
        self._procs_fd = procs_fd

    @classmethod
    def create(cls, limits: CommandLimits, *, owner: str | None = None) -> CommandGroup | None:
        """A new group capped at `limits.processes`, or None where cgroups are not ours. Its
        folder is `cmd-<owner>-<token>`: a killed run's groups are found by its lease's id
        (armbench.runner.leases); without an owner, by armbench's pid."""
        root = pids_root()
        if root is None:
            return None
        folder = root / f"{GROUP_PREFIX}{owner or os.getpid()}-{secrets.token_hex(6)}"
        try:
            folder.mkdir()
            (folder / "pids.max").write_text(f"{limits.processes}\n")
            fd = os.open(folder / "cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
        except OSError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            return None
        return cls(folder, fd)

    def join(self) -> None:
        """Move the calling process into the group (in the child, before it execs)."""
        os.write(self._procs_fd, b"0")

    def members(self) -> list[int]:
        try:
            text = (self.folder / "cgroup.procs").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def kill_all(self, grace_s: float = 2.0) -> None:
        """SIGKILL every process in the group until none is left (or `grace_s` passes)."""
        with contextlib.suppress(OSError):
            (self.folder / "pids.max").write_text("0\n")  # no new process from here on
        deadline = time.monotonic() + grace_s
        pause = 0.001  # the group's last members are usually gone within a millisecond or two
        while (pids := self.members()) and time.monotonic() < deadline:
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(pause)
            pause = min(2 * pause, 0.01)

    def close(self) -> None:
        """Kill what is left and remove the group."""
        self.kill_all()
        with contextlib.suppress(OSError):
            os.close(self._procs_fd)
        deadline = time.monotonic() + 2.0
        pause = 0.001
        while time.monotonic() < deadline:
            try:
                self.folder.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:  # members still exiting
                time.sleep(pause)
                pause = min(2 * pause, 0.01)
