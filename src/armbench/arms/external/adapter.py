"""What an external agent's adapter is: how to install it, launch it headless against the
gateway, and read its own account of what it spent.

One module per agent defines an `Adapter` and is listed in `armbench.arms.external.ADAPTERS`.
An adapter only builds text (a bash command, its variables) and reads text (the agent's
output, the files it wrote): starting the agent in the sandbox, metering it and judging the
result are the same for every agent (`armbench.arms.external.run`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from armbench.config import ExternalArm
from armbench.core import Usage

Installer = Literal["pip", "npm", "none"]


@dataclass(frozen=True)
class Launch:
    """Everything an adapter may put in the agent's command."""

    arm: ExternalArm
    base_url: str
    """The gateway, as the agent reaches it (its API format's SDK convention)."""
    key: str
    """The trial's gateway key (never a real one)."""
    model: str
    """The model name the agent is told to ask for."""
    install: Path
    """The agent's own installation (a virtualenv, an npm prefix; unused for `command`)."""
    home: str
    """`$HOME` of the agent's commands, where the prompt file and the agent's own records go."""
    files: tuple[str, ...]
    """Workspace files the task lets the agent change (for agents that are told their files)."""
    checks: tuple[str, ...] = ()
    """The commands the task's prompt says to run (for agents that run tests themselves)."""

    @property
    def prompt_file(self) -> str:
        return f"{self.home}/.armbench-prompt"

    @property
    def report_file(self) -> str:
        """Where an agent that writes its account to a file is told to write it."""
        return f"{self.home}/.armbench-agent-report.json"


@dataclass(frozen=True)
class OwnReport:
    """What the agent itself says it spent: tokens in its own terms and dollars, where it
    says so. Kept beside armbench's ledger, never instead of it."""

    tokens: dict[str, int] = field(default_factory=dict)
    """Its own token counts by its own names (`sent`, `received`, `input`, `cache_read`...)."""
    usage: Usage | None = None
    """The same tokens in armbench's six kinds, where the agent's names map onto them."""
    cost_usd: float | None = None
    calls: int | None = None
    source: str = ""
    """Where it came from (a line of output, a file)."""
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Adapter:
    """One external agent."""

    name: str
    """The arm config's `agent:` value."""
    installer: Installer
    package: str
    """What the installer installs (a PyPI or npm package name)."""
    version: str
    """The version pinned by default (an arm's `version` overrides it)."""
    command: Callable[[Launch], str]
    """The bash command that runs the agent headless on the task (the prompt is in the file
    `launch.prompt_file` and in `$ARMBENCH_PROMPT`)."""
    environ: Callable[[Launch], Mapping[str, str]]
    """Variables the agent needs besides the gateway's (`ARMBENCH_*`, set for every agent)."""
    own_report: Callable[[str, Path], OwnReport | None]
    """Its own account, from its output and its HOME folder (on the host); None if it gave
    none."""

    def requirement(self, version: str) -> str:
        """The installer's argument for `version`."""
        return (
            f"{self.package}=={version}" if self.installer == "pip" else f"{self.package}@{version}"
        )


def no_report(_output: str, _home: Path) -> OwnReport | None:
    return None
