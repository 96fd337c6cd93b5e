"""Leases: what a run has running, held for as long as it runs, so that whatever a killed run
left behind is found and removed — by its watchdog at once, or by the next run on the machine.

A run killed with SIGKILL runs no code of its own. The kernel ends the commands it started
itself (each has `PR_SET_PDEATHSIG`, armbench.env.process) and a bubblewrap sandbox's whole tree
(its PID namespace); but on plain processes the commands' own children — the checkers pytest
started, an agent's background shell — are handed to init and live on, and the run's scratch
folder (every workspace, every temporary folder) stays in TMPDIR for good. So each execution of
a run holds a lease:

- a file `$TMPDIR/armbench-leases-<uid>/<id>.lease`, locked (`flock`) by the executing process
  for as long as it runs trials. The kernel releases the lock when the process dies, however
  it dies; a lease whose lock can be taken belongs to an execution that is over.
- It says what the execution made: its scratch folder `$TMPDIR/armbench-<run_id>-<token>` (the
  trials' workspaces and, while it runs, every temporary folder armbench makes), the marker
  every command carries in its environment (`ARMBENCH_RUN=<id>`), and the name prefix of its
  commands' cgroups (as root).

Cleaning a dead lease kills this user's processes that carry its marker and every process in
its cgroups — a process id reused by another program carries no marker, so nothing else is
ever killed — removes its scratch folder and cgroups, then the lease. Each execution starts a
watchdog, a process of its own session that blocks on the lease's lock and cleans up the moment
armbench is gone; and every execution cleans the dead leases it finds before it starts, in case
the watchdog was killed too. A lease written on another host (a TMPDIR shared over the network)
is left alone: its process ids mean nothing here.

This module imports nothing but the standard library: the watchdog runs it as a script
(`python -I -S leases.py --watch LEASE`), which starts in milliseconds.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FORMAT = 1
SUFFIX = ".lease"
PROBE_PREFIX = "armbench-probe-"
"""Preflight's probe folders are `armbench-probe-<pid>-*`: removed once that process is gone."""


class LeaseError(RuntimeError):
    """The lease folder cannot be used safely (not a private folder of this user)."""


def registry(tempdir: Path) -> Path:
    """This user's lease folder in `tempdir`, made private if new; LeaseError if something
    else holds its name (another user's folder, a symlink): leases must not be planted."""
    folder = tempdir / f"armbench-leases-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise LeaseError(
            f"{folder}: not a private folder of this user; armbench keeps its runs' leases "
            "there: remove it, or set TMPDIR to another folder"
        )
    return folder


@dataclass
class Lease:
    """A held lease: the lock is `fd`'s, for as long as it is open."""

    path: Path
    fd: int
    id: str
    scratch: Path
    """The execution's scratch folder: the trials' workspaces."""
    temp: Path
    """Where its temporary folders go while it runs (see `temporary_folders_in`)."""
    marker: str
    """`VARIABLE=id`, in every command's environment."""
    watchdog: subprocess.Popen[bytes] | None = None


def _boot_id() -> str:
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def take(
    tempdir: Path,
    *,
    run_id: str,
    run_dir: Path,
    variable: str,
    groups: Path | None,
    group_prefix: str,
    watchdog: bool = True,
) -> Lease:
    """Take a new lease for one execution of run `run_id` and make its scratch folder.

    The lease is written and locked under a staging name, then renamed into place, so no one
    ever sees an unlocked lease of a live run; the scratch folder is made only once the lease
    names it. `groups` is the folder of the commands' cgroups (None without cgroups)."""
    folder = registry(tempdir)
    token = secrets.token_hex(4)
    lease_id = f"{run_id}.{token}"
    scratch = tempdir / f"armbench-{run_id}-{token}"
    temp = tempdir / f"armbench-{run_id}-{token}-tmp"
    data: dict[str, Any] = {
        "format": FORMAT,
        "id": lease_id,
        "run_id": run_id,
        "run_dir": str(run_dir),
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "boot_id": _boot_id(),
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "marker": f"{variable}={lease_id}",
        "scratch": [str(scratch), str(temp)],
        "groups": None
        if groups is None
        else {"root": str(groups), "prefix": f"{group_prefix}{lease_id}-"},
    }
    staged = folder / f".{lease_id}.tmp"
    fd = os.open(staged, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, json.dumps(data, indent=1).encode())
        os.fsync(fd)
        path = folder / f"{lease_id}{SUFFIX}"
        os.rename(staged, path)
        scratch.mkdir(mode=0o700)
    except BaseException:
        with contextlib.suppress(OSError):
            staged.unlink()
        os.close(fd)
        raise
    lease = Lease(path, fd, lease_id, scratch, temp, data["marker"])
    if watchdog:
        lease.watchdog = _start_watchdog(path, tempdir)
    return lease


def watchdog_argv(path: Path) -> list[str]:
    """The command that watches the lease at `path`: this module, isolated from the user's
    site and environment (`-I -S`)."""
    return [sys.executable, "-I", "-S", str(Path(__file__).resolve()), "--watch", str(path)]


def _start_watchdog(path: Path, tempdir: Path) -> subprocess.Popen[bytes]:
    """The watchdog: its own session (a Ctrl-C or a kill of armbench's process group leaves it
    to clean up), no death signal, nothing of armbench's inherited — not its output pipes
    (a caller reading them would wait for the watchdog), not its environment (it may still
    hold API keys): only TMPDIR, which says where its run was."""
    return subprocess.Popen(
        watchdog_argv(path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd="/",
        env={"TMPDIR": str(tempdir)},
        start_new_session=True,
        close_fds=True,
    )


def release(lease: Lease) -> None:
    """End a lease normally: remove the scratch folder, then the lease (before its lock is
    let go, so a watchdog that wakes finds it gone and leaves)."""
    remove_tree(lease.scratch)
    with contextlib.suppress(FileNotFoundError):
        lease.path.unlink()
    os.close(lease.fd)
    if lease.watchdog is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            lease.watchdog.wait(timeout=10)


@dataclass(frozen=True)
class Cleaned:
    """What cleaning up after one dead execution did."""

    run_id: str
    pid: int
    started_at: str
    killed: int
    """Processes killed."""
    removed: tuple[tuple[str, int], ...]
    """Folders removed, with their size in bytes."""
    groups: int
    """cgroups removed."""

    def __str__(self) -> str:
        parts = [f"{self.killed} process{'es' if self.killed != 1 else ''} killed"]
        parts += [f"{path} removed ({size / 2**20:.1f} MB)" for path, size in self.removed]
        if self.groups:
            parts.append(f"{self.groups} cgroup{'s' if self.groups != 1 else ''} removed")
        return (
            f"cleaned up after killed run {self.run_id} (pid {self.pid}, started "
            f"{self.started_at}): " + ", ".join(parts)
        )


def clean_dead(tempdir: Path) -> list[Cleaned]:
    """Clean up after every dead execution that left a lease in `tempdir`, and remove the
    probe folders of preflights that were killed. Live executions are left alone."""
    folder = registry(tempdir)
    cleaned = []
    for path in sorted(folder.iterdir()):
        if path.name.endswith(SUFFIX):
            result = _reap(path, wait=False)
            if result is not None:
                cleaned.append(result)
        elif path.name.startswith(".") and path.name.endswith(".tmp"):
            _reap(path, wait=False)  # a lease never published: nothing was started under it
    _remove_dead_probes(tempdir)
    return cleaned


def _reap(path: Path, *, wait: bool) -> Cleaned | None:
    """Clean up after the lease at `path` if its execution is over (with `wait`, once it is);
    None when it is alive, already cleaned, or not this host's."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None  # gone, or not a plain file
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_uid != os.getuid():
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                return None  # its execution is alive
            raise
        if os.fstat(fd).st_nlink == 0:
            return None  # released normally, or cleaned by someone else meanwhile
        data = _read(fd)
        if data is not None and data.get("host") not in (None, socket.gethostname()):
            return None
        result = _clean(data, path.parent.parent) if data is not None else None
        path.unlink()
        return result
    finally:
        os.close(fd)


def _read(fd: int) -> dict[str, Any] | None:
    chunks = []
    os.lseek(fd, 0, os.SEEK_SET)
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    try:
        data = json.loads(b"".join(chunks))
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("format") == FORMAT else None


def _clean(data: dict[str, Any], tempdir: Path) -> Cleaned:
    same_boot = data.get("boot_id") == _boot_id()
    groups = _groups(data.get("groups")) if same_boot else []
    killed = kill_marked(str(data["marker"]).encode(), groups) if same_boot else 0
    removed_groups = sum(_remove_group(g) for g in groups)
    removed = []
    for name in data.get("scratch", []):
        folder = Path(name)
        if folder.parent == tempdir and folder.name.startswith("armbench-") and _ours(folder):
            removed.append((str(folder), tree_size(folder)))
            remove_tree(folder)
    return Cleaned(
        run_id=str(data.get("run_id")),
        pid=int(data.get("pid", 0)),
        started_at=str(data.get("started_at")),
        killed=killed,
        removed=tuple(removed),
        groups=removed_groups,
    )


def _ours(path: Path) -> bool:
    """A real folder (not a link) of this user."""
    try:
        info = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid()


def _groups(spec: Any) -> list[Path]:
    if not isinstance(spec, dict):
        return []
    root, prefix = Path(str(spec.get("root"))), str(spec.get("prefix"))
    try:
        return [p for p in root.iterdir() if p.name.startswith(prefix) and p.is_dir()]
    except OSError:
        return []


def _members(group: Path) -> set[int]:
    try:
        return {int(pid) for pid in (group / "cgroup.procs").read_text().split()}
    except (OSError, ValueError):
        return set()


def marked(marker: bytes) -> set[int]:
    """This user's processes whose environment holds `marker` (`VARIABLE=value`)."""
    found = set()
    me, uid = os.getpid(), os.getuid()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        with contextlib.suppress(OSError):
            if entry.stat().st_uid != uid:
                continue
            if marker in (entry / "environ").read_bytes().split(b"\0"):
                found.add(int(entry.name))
    return found


def kill_marked(marker: bytes, groups: Sequence[Path] = (), rounds: int = 200) -> int:
    """SIGKILL every process of this user carrying `marker` and every member of `groups`,
    again and again until none is left (a process may fork while its siblings die); the
    number killed."""
    for group in groups:
        with contextlib.suppress(OSError):
            (group / "pids.max").write_text("0\n")  # no new process in it from here on
    killed: set[int] = set()
    for _ in range(rounds):
        pids = marked(marker).union(*(_members(g) for g in groups)) - {os.getpid()}
        if not pids:
            break
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        killed |= pids
        time.sleep(0.01)
    return len(killed)


def _remove_group(group: Path) -> bool:
    for _ in range(200):
        try:
            group.rmdir()
            return True
        except FileNotFoundError:
            return False
        except OSError:  # members still exiting
            time.sleep(0.01)
    return False


def tree_size(root: Path) -> int:
    total = 0
    for folder, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def remove_tree(root: Path) -> None:
    """Remove `root` entirely, read-only folders included (a judged copy is made read-only,
    and without root's privileges its entries could not be unlinked)."""

    def writable_then_retry(function: Any, path: str, _exc: Any) -> None:
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o700)
            if os.path.isdir(path) and not os.path.islink(path):
                os.chmod(path, 0o700)
            function(path)

    if root.is_symlink():
        root.unlink()
    elif root.exists():
        shutil.rmtree(root, onerror=writable_then_retry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove_dead_probes(tempdir: Path) -> None:
    """`armbench-probe-<pid>-<random>` folders whose process is gone (a random suffix alone,
    as other probes have, never holds a dash: those are not touched)."""
    for path in tempdir.glob(f"{PROBE_PREFIX}*"):
        pid, dash, _rest = path.name[len(PROBE_PREFIX) :].partition("-")
        if dash and pid.isdigit() and not _alive(int(pid)) and _ours(path):
            remove_tree(path)


def probe_prefix() -> str:
    """The prefix of this process's probe folders (see `_remove_dead_probes`)."""
    return f"{PROBE_PREFIX}{os.getpid()}-"


# --- the watchdog ---------------------------------------------------------------------------


def _watch(path: Path) -> int:
    """Wait for the lease's execution to end; if it did not release the lease, clean up."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _reap(path, wait=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--watch":
        sys.exit(_watch(Path(sys.argv[2])))
    sys.exit(f"usage: {sys.argv[0]} --watch LEASE")
