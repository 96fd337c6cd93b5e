"""What a simulated model is handed about its task. Real models never see it.

The runner builds the brief of each trial from its prepared workspace (`prepared_brief`) or its
single-shot task (`single_shot_brief`); serve-sim, which never sees a trial, builds it from the
task alone (`task_brief`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from armbench.core import iter_files
from armbench.tasks import Prepared, SingleShotTask, Task


@dataclass(frozen=True)
class TaskBrief:
    """What a simulated model is handed about its task. Real models never see this."""

    solution: Mapping[str, str | None] = field(default_factory=dict)
    """The reference solution: final content of each file it changes (None: deleted)."""
    check_commands: tuple[str, ...] = ()
    """The commands the task's prompt says to run."""
    edits: Mapping[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)
    """Replacements to make in a file, in order (`old` text → `new` text), for files whose
    whole content would not fit in one answer (an executor told to edit, not rewrite)."""
    restorable: Mapping[str, str] = field(default_factory=dict)
    """Pristine contents the sim restores a file to once check output names it (for breakage
    it was not told about, e.g. when it plays behind an HTTP server)."""


def prepared_brief(prepared: Prepared) -> TaskBrief:
    """A trial's brief: the reference solution of its prepared workspace, the task's checks."""
    return TaskBrief(solution=prepared.solution, check_commands=prepared.task.spec.check_commands)


def single_shot_brief(task: SingleShotTask) -> TaskBrief:
    """What a simulated model is handed: the reference files and the command that runs them."""
    run = task.run_line
    return TaskBrief(solution=dict(task.reference_files()), check_commands=(run,) if run else ())


def _overlay(task: Task, relative: str | None, *, suffix: str = "") -> dict[str, str]:
    """Text of the files of one of the task's folders, by workspace-relative path."""
    if relative is None:
        return {}
    folder = task.resolve(relative)
    return {
        rel: (folder / rel).read_text(encoding="utf-8")
        for rel in iter_files(folder)
        if rel.endswith(suffix)
    }


def task_brief(task: Task) -> TaskBrief:
    """What the sim is told about `task` when it cannot see the trial that prepared it.

    An overlay solution is known in full. Injected breakage is not: the server never learns
    which files a trial's injection broke, so the sim is offered the pristine text of every
    Python file and restores the ones the check output names.
    """
    spec = task.spec
    solution: dict[str, str | None] = dict(_overlay(task, spec.solution.overlay))
    solution.update(dict.fromkeys(spec.solution.delete))
    restorable: dict[str, str] = {}
    if spec.solution.restore_injected:
        restorable = _overlay(task, spec.fixture, suffix=".py")
        restorable.update(_overlay(task, spec.prepare.overlay, suffix=".py"))
    return TaskBrief(solution=solution, check_commands=spec.check_commands, restorable=restorable)
