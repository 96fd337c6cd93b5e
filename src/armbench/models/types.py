"""What a simulated model is handed about its task (real models never see it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class TaskBrief:
    """What a simulated model is handed about its task. Real models never see this."""

    solution: Mapping[str, str | None] = field(default_factory=dict)
    """The reference solution: final content of each file it changes (None: deleted)."""
    check_commands: tuple[str, ...] = ()
    """The commands the task's prompt says to run."""
    restorable: Mapping[str, str] = field(default_factory=dict)
    """Pristine contents the sim restores a file to once check output names it (for breakage
    it was not told about, e.g. when it plays behind an HTTP server)."""
