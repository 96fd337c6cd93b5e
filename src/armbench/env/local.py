"""Plain-process backend: a session per command, a scrubbed environment, resource limits, and
nothing left running afterwards (armbench.env.process).

This backend isolates by convention, not by force: the agent's shell can still read any path
the user can and reach the network. Protected files and templates are therefore verified by
fingerprint, and `bwrap` (armbench.env.bwrap) is the default wherever it works.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from armbench.core import DEFAULT_COMMAND_LIMITS, GATEWAY_KEY_PREFIX, CommandLimits, looks_secret
from armbench.env.base import DEFAULT_OUTPUT_CAP, CommandResult
from armbench.env.host_files import HostFiles
from armbench.env.process import run_process

# Variables a command may inherit. Everything else is dropped: an allowlist cannot leak a
# credential under a name nobody thought of, which a denylist of `*_API_KEY` patterns can.
_INHERITED = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "TERM", "TMPDIR", "SYSTEMROOT")


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
    env.update(checked_names(extra or {}))
    return env


PLACEHOLDERS = ("${WORKDIR}", "${HOME}")
"""Spelt in a variable's value, replaced by the command's working folder and its HOME: a
project's tests may need `PYTHONPATH=${WORKDIR}` (so a subprocess imports the code under
test) or a data file under `${HOME}`, wherever the workspace of this trial happens to be."""


def expand_placeholders(env: Mapping[str, str], workdir: Path) -> dict[str, str]:
    """`env` with `${WORKDIR}` and `${HOME}` replaced in every value (HOME as `env` sets it)."""
    home = env.get("HOME", "")
    return {
        name: value.replace("${WORKDIR}", str(workdir)).replace("${HOME}", home)
        for name, value in env.items()
    }


def checked_names(extra: Mapping[str, str]) -> dict[str, str]:
    """`extra`, unless a name in it looks like a credential: that is refused, loudly. A
    metering gateway's trial key is no credential (see GATEWAY_KEY_PREFIX): an external agent
    is given one under the name its SDK reads."""
    for name, value in extra.items():
        if looks_secret(name) and not _gateway_key(value):
            raise ValueError(f"refusing to pass {name!r} to a command: it looks like a secret")
    return dict(extra)


def _gateway_key(value: str) -> bool:
    rest = value.removeprefix(GATEWAY_KEY_PREFIX)
    return rest != value and len(rest) >= 32 and all(c in "0123456789abcdef" for c in rest)


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
        limits: CommandLimits = DEFAULT_COMMAND_LIMITS,
        owner: str | None = None,
    ) -> None:
        self._workdir = workdir.resolve()
        self._limits = limits
        self._owner = owner
        prefix = [Path(sys.executable).parent] if path_prefix is None else list(path_prefix)
        env = scrubbed_environ(home=home, path_prefix=prefix, extra=extra_env)
        self._env = expand_placeholders(env, self._workdir)

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
        argv = ["bash", "-c", command] if isinstance(command, str) else list(command)
        return run_process(
            argv,
            shown=command if isinstance(command, str) else shlex.join(argv),
            cwd=self._workdir,
            env={**self._env, **checked_names(extra_env or {})},
            timeout_s=timeout_s,
            output_cap=output_cap,
            merge_stderr=merge_stderr,
            limits=self._limits,
            owner=self._owner,
        )
