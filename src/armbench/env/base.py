"""The Environment protocol: run one command in a workspace, bounded in time and output.

Every command armbench runs on a trial's behalf — the agent's bash, the judge's checkers, the
breakage injector's verification — goes through this interface, so a sandboxing backend
(bubblewrap, a container) can replace the plain-process one without touching its callers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

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


class Environment(Protocol):
    """Runs commands inside one workspace directory."""

    @property
    def workdir(self) -> Path:
        """The workspace root; relative paths and the default cwd resolve against it."""
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
