"""The bubblewrap backend: each command in a fresh sandbox that sees only what it needs.

Every command gets new namespaces (`--unshare-all`: user, PID, network, IPC, UTS, cgroup), no
capabilities, a new session, and dies with armbench. What it sees:

- read-only: the system (`/usr` and the usual symlinks into it, a short list of `/etc` files —
  never `/etc/shadow` or the user's credentials), the interpreter and toolchain that run the
  checkers, with armbench's own package masked by an empty folder (it holds every pack's
  reference solutions);
- writable: the workspace, the command's private HOME, its scratch folders, a private `/tmp`;
- nothing else: not the run directory, not the prepared templates, not other trials'
  workspaces, not the user's home;
- no network at all: the network namespace is its own, with only its own loopback interface,
  so nothing outside the sandbox (the host's loopback included) can be reached;
- its own `/proc`: armbench's process, its environment and other trials are not in it;
- an empty environment plus the scrubbed allowlist.

When the command ends or times out, bwrap is killed, and with it the PID namespace: nothing the
command started survives (`setsid`, `nohup` and double forks included). Resource limits are set
on bwrap and inherited by the sandbox (armbench.env.limits).
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from armbench.core import DEFAULT_COMMAND_LIMITS, CommandLimits
from armbench.env.base import DEFAULT_OUTPUT_CAP, CommandResult
from armbench.env.host_files import HostFiles
from armbench.env.limits import die_with_parent
from armbench.env.local import checked_names, expand_placeholders, scrubbed_environ
from armbench.env.process import run_process

BWRAP = "bwrap"
SYSTEM_LINKS = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
"""Top-level folders that merged-/usr systems make symlinks into /usr; kept as they are."""
ETC = (
    "alternatives", "bash.bashrc", "ca-certificates", "group", "hosts", "inputrc",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "mime.types", "nsswitch.conf",
    "passwd", "profile", "protocols", "services", "ssl/certs", "ssl/openssl.cnf", "timezone",
)  # fmt: skip
"""The /etc entries a toolchain needs (the dynamic loader, users and groups for tools that ask,
public certificates, time zones); nothing that may hold a secret (`/etc/ssl/private`,
`/etc/gitconfig`'s credential helpers, `/etc/shadow`)."""


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up: a failure of the harness, never of the work."""


@dataclass(frozen=True)
class SandboxMounts:
    """What every sandbox of a run may read besides the system: the toolchain, and what in it
    must stay hidden."""

    readable: tuple[Path, ...] = ()
    """Folders bound read-only at their own path (the interpreter and the checkers)."""
    hidden: tuple[Path, ...] = ()
    """Folders inside `readable` replaced by an empty one (armbench's own package)."""

    @classmethod
    def for_python(
        cls, python: str, *, extra: Sequence[Path] = (), also: Sequence[str] = ()
    ) -> SandboxMounts:
        """The mounts that let `python` and the interpreters in `also` (and the checkers
        installed with them) run, with armbench's own package hidden where it is installed."""
        prefixes = [p for interpreter in (python, *also) for p in _prefixes(interpreter)]
        readable = _outermost([*prefixes, *extra])
        package = Path(__file__).resolve().parents[1]
        hidden = tuple(
            package for root in readable if package != root and package.is_relative_to(root)
        )
        return cls(readable=readable, hidden=hidden[:1])


def _prefixes(python: str) -> list[Path]:
    """The folders `python` runs from: its own prefix (a virtualenv's), the base interpreter's
    and the real executable's installation."""
    executable = Path(shutil.which(python) or python)
    probe = "import sys; print(sys.prefix); print(sys.base_prefix); print(sys.exec_prefix)"
    # Two virtualenvs share one real binary: only the very same path is this interpreter.
    if executable.absolute() == Path(sys.executable).absolute():
        found = [sys.prefix, sys.base_prefix, sys.exec_prefix]
    else:
        result = subprocess.run(
            [str(executable), "-I", "-c", probe],
            capture_output=True,
            text=True,
            timeout=60,
            preexec_fn=die_with_parent,
        )
        found = result.stdout.split() if result.returncode == 0 else []
    real = executable.resolve()
    return [Path(p).resolve() for p in found] + [real.parent.parent, executable.parent]


def _outermost(paths: Sequence[Path]) -> tuple[Path, ...]:
    """`paths` without those inside another of them, and without the system's own folders."""
    unique = sorted({p for p in paths if p.exists() and p != Path("/")})
    kept: list[Path] = []
    for path in unique:
        if path.parts[1:2] == ("usr",) or any(path.is_relative_to(k) for k in kept):
            continue
        kept.append(path)
    return tuple(kept)


def _bwrap() -> str:
    return shutil.which(BWRAP) or BWRAP


@functools.cache
def unavailable() -> str | None:
    """Why bubblewrap cannot sandbox commands here, or None when it can (probed once)."""
    if shutil.which(BWRAP) is None:
        return (
            "bubblewrap (`bwrap`) is not installed; install it (Debian: `apt-get install "
            "bubblewrap`) or run with --sandbox local"
        )
    argv = [_bwrap(), *_system_args(), "--", "/bin/sh", "-c", "exit 0"]
    try:
        result = subprocess.run(
            argv, capture_output=True, text=True, timeout=30, preexec_fn=die_with_parent
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not start a sandbox: {exc}"
    if result.returncode != 0:
        why = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else "no reason"
        return f"bubblewrap cannot create a sandbox on this machine: {why}"
    return None


def _system_args() -> list[str]:
    args = [
        "--unshare-all",
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--clearenv",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for name in SYSTEM_LINKS:
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ETC:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return [*args, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


class BwrapEnvironment(HostFiles):
    """Runs each command in its own bubblewrap sandbox over `workdir`; the editor's files are
    the workspace folder's own, reached from the host (see HostFiles)."""

    def __init__(
        self,
        workdir: Path,
        *,
        home: Path | None = None,
        path_prefix: Sequence[Path] | None = None,
        extra_env: Mapping[str, str] | None = None,
        limits: CommandLimits = DEFAULT_COMMAND_LIMITS,
        mounts: SandboxMounts | None = None,
        writable: Sequence[Path] = (),
        readable: Sequence[Path] = (),
        read_only_workdir: bool = False,
        owner: str | None = None,
    ) -> None:
        self._workdir = workdir.resolve()
        self._read_only_workdir = read_only_workdir
        self._limits = limits
        self._owner = owner
        self._mounts = mounts if mounts is not None else SandboxMounts.for_python(sys.executable)
        self._home = home.resolve() if home is not None else None
        prefix = [Path(sys.executable).parent] if path_prefix is None else list(path_prefix)
        self._prefix = [p.resolve() for p in prefix]
        self._writable = [p.resolve() for p in writable]
        self._readable = [p.resolve() for p in readable]
        self._env = scrubbed_environ(home=self._home, path_prefix=prefix, extra=extra_env)
        if self._home is None:  # a private HOME inside the sandbox's own /tmp
            self._env["HOME"] = "/tmp/home"
        self._env = expand_placeholders(self._env, self._workdir)

    @property
    def workdir(self) -> Path:
        return self._workdir

    @property
    def environ(self) -> Mapping[str, str]:
        """The variables every command sees, set inside the sandbox."""
        return dict(self._env)

    def sandbox_args(self, env: Mapping[str, str]) -> list[str]:
        """bwrap's arguments for one command (before `--` and the command itself)."""
        args = _system_args()
        for path in self._mounts.readable:
            args += ["--ro-bind", str(path), str(path)]
        for path in self._mounts.hidden:
            args += ["--tmpfs", str(path), "--remount-ro", str(path)]
        for path in self._prefix:
            if not any(path.is_relative_to(r) for r in self._mounts.readable):
                args += ["--ro-bind-try", str(path), str(path)]
        for path in self._readable:
            args += ["--ro-bind", str(path), str(path)]
        if self._read_only_workdir:
            args += ["--ro-bind", str(self._workdir), str(self._workdir)]
        writable = [
            *([] if self._read_only_workdir else [self._workdir]),
            *([self._home] if self._home else []),
            *self._writable,
        ]
        for path in writable:
            args += ["--bind", str(path), str(path)]
        if self._home is None:
            args += ["--dir", "/tmp/home"]
        args += ["--chdir", str(self._workdir)]
        for name, value in sorted(env.items()):
            args += ["--setenv", name, value]
        return args

    def run(
        self,
        command: str | Sequence[str],
        *,
        timeout_s: float,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        merge_stderr: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        env = {**self._env, **checked_names(extra_env or {})}
        status_read, status_write = os.pipe()
        write_open = True

        def close_write() -> None:
            # Closed exactly once: a second close could hit a number another thread reused.
            nonlocal write_open
            if write_open:
                write_open = False
                os.close(status_write)

        try:
            result = run_process(
                [
                    _bwrap(),
                    *self.sandbox_args(env),
                    "--json-status-fd",
                    str(status_write),
                    "--",
                    *argv,
                ],
                shown=command if isinstance(command, str) else shlex.join(argv),
                cwd=self._workdir,
                env={},
                timeout_s=timeout_s,
                output_cap=output_cap,
                merge_stderr=merge_stderr,
                limits=self._limits,
                pass_fds=(status_write,),
                after_start=close_write,
                owner=self._owner,
            )
            status = _read_status(status_read)
        finally:
            close_write()
            os.close(status_read)
        if "child-pid" not in status and not result.timed_out:
            detail = (result.stderr or result.output).strip().splitlines()
            raise SandboxError(
                "bubblewrap could not start the command"
                + (f": {detail[-1]}" if detail else f" (exit {result.exit_code})")
            )
        return result


def _read_status(fd: int) -> dict[str, object]:
    """What bwrap reported on its status pipe (`child-pid` once the command started)."""
    chunks = []
    while chunk := os.read(fd, 65536):
        chunks.append(chunk)
    status: dict[str, object] = {}
    for line in b"".join(chunks).decode(errors="replace").splitlines():
        with contextlib.suppress(ValueError):
            found = json.loads(line)
            if isinstance(found, dict):
                status.update(found)
    return status
