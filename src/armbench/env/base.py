"""The Environment protocol: commands and file access in one workspace, bounded and confined.

Every command armbench runs on a trial's behalf — the agent's bash, the judge's checkers, the
breakage injector's verification, preparation, the toolchain probe — and every file the agent's
editor reads or writes goes through this interface, and every Environment is built by
`armbench.env.factory`, so a confining backend (bubblewrap, a container) can replace the
plain-process one without touching its callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

DEFAULT_OUTPUT_CAP = 30_000
"""Bytes of output kept per command; the middle of a longer output is elided, head and tail kept."""


@dataclass(frozen=True)
class CommandResult:
    """What one command did. `exit_code` is None when the command was killed on timeout."""

    command: str
    exit_code: int | None
    output: str
    """stdout and stderr interleaved, or stdout alone when stderr was asked for separately."""
    stderr: str
    """stderr when it was kept apart from `output`; empty otherwise."""
    timed_out: bool
    truncated: bool
    duration_s: float

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


class OutsideWorkspace(PermissionError):
    """A path that leads out of the workspace (`..`, an absolute path elsewhere, a symlink)."""


FileKind = Literal["file", "dir", "other"]


class Environment(Protocol):
    """Runs commands inside one workspace directory and reads and writes its files.

    File paths are posix strings relative to the workspace (or absolute inside it); `resolve`
    follows symlinks and refuses any path that leads outside, and the other file methods take
    what `resolve` returned.
    """

    @property
    def workdir(self) -> Path:
        """The workspace root; relative paths and the default cwd resolve against it."""
        ...

    @property
    def environ(self) -> Mapping[str, str]:
        """The variables every command sees (scrubbed: never a secret)."""
        ...

    def run(
        self,
        command: str | Sequence[str],
        *,
        timeout_s: float,
        output_cap: int = DEFAULT_OUTPUT_CAP,
        merge_stderr: bool = True,
        extra_env: Mapping[str, str] | None = None,
    ) -> CommandResult:
        """Run `command` (a string goes through bash; a sequence is exec'd as is) in the workspace.

        On timeout the whole process tree is killed. Output beyond `output_cap` bytes loses its
        middle. The environment the command sees carries no secrets.
        """
        ...

    def resolve(self, path: str) -> str:
        """`path` as a workspace-relative posix path with symlinks followed (`.` for the root);
        OutsideWorkspace when it leads out of the workspace."""
        ...

    def kind(self, path: str) -> FileKind | None:
        """What is at a resolved path: a file, a folder, something else, or nothing."""
        ...

    def read_bytes(self, path: str) -> bytes:
        """The content of the file at a resolved path."""
        ...

    def write_bytes(self, path: str, data: bytes) -> None:
        """Replace (or create) the file at a resolved path, creating its folders."""
        ...

    def listing(self, path: str, *, depth: int, hidden: frozenset[str]) -> list[tuple[str, bool]]:
        """(path, is_dir) of what lies under the folder at a resolved path, at most `depth`
        levels down, sorted, skipping folders named in `hidden`; paths are workspace-relative."""
        ...
