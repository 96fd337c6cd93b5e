"""What differs between the two kinds of task in a trial: the workspace, the judge, the record.

An agentic trial works in a copy of the task's prepared template and is judged by its gates; a
single-shot trial has no workspace, and its answer is scored by format and by execution. Both
hand the runner's one shared ending (armbench.runner.trial) the same things: a verdict, a
transcript and the record's `extra`. Both judge in one of the run's CPU slots (`cpu`, see
armbench.runner.capacity): `judge_s` is the judging, `judge_wait_s` the wait for a slot.
"""

from __future__ import annotations

import contextlib
import dataclasses
import difflib
import os
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from armbench.arms import ArmOutcome
from armbench.core import GateResult, Limits, TrialStatus, read_regular
from armbench.env import Environment, EnvironmentFactory
from armbench.judge import changed_paths, judge, score
from armbench.runner.capacity import Slots
from armbench.runner.plan import TrialPlan
from armbench.runner.prepared_cache import PreparedCache
from armbench.sim import TaskBrief, prepared_brief, single_shot_brief
from armbench.tasks import Prepared, SingleShotTask, Task

MAX_DIFF_CHARS = 200_000


@dataclass(frozen=True)
class Verdict:
    """What the judge said of one trial."""

    gates: tuple[GateResult, ...] = ()
    passed: bool = False
    scores: dict[str, Any] = field(default_factory=dict)
    """Single-shot trials: the two scores and what the extraction found."""
    judge_s: float = 0.0
    judge_wait_s: float = 0.0
    """Seconds spent waiting for a CPU slot before judging."""


class Attempt(Protocol):
    """One trial's task-kind-specific part, set up in its scratch folder `work`."""

    env: Environment | None
    """The workspace the arm's tools work in (None: no tools)."""
    brief: TaskBrief
    """What a simulated model of this trial is told."""

    def judge(self, outcome: ArmOutcome) -> Verdict:
        """The verdict on what the arm left (called unless a model call failed for good)."""
        ...

    def transcript(
        self, head: dict[str, Any], status: TrialStatus, outcome: ArmOutcome, verdict: Verdict
    ) -> dict[str, Any]:
        """The transcript, from its `head` (who, which task, which replicate)."""
        ...

    def record_extra(self, outcome: ArmOutcome, verdict: Verdict, limits: Limits) -> dict[str, Any]:
        """The trial record's `extra`: what reports read beyond the ledger and the gates."""
        ...


@contextlib.contextmanager
def cpu_slot(cpu: Slots | None) -> Iterator[float]:
    """Hold one of the run's CPU slots (None: unbounded); yields the seconds waited for it."""
    began = time.monotonic()
    if cpu is None:
        yield 0.0
        return
    with cpu:
        yield time.monotonic() - began


class AgenticAttempt:
    """A fresh copy of the prepared template, with a private HOME holding warm checker caches."""

    def __init__(
        self,
        task: Task,
        plan: TrialPlan,
        work: Path,
        *,
        prepared: PreparedCache,
        environments: EnvironmentFactory,
        python: str,
        cpu: Slots | None = None,
    ) -> None:
        self.prepared: Prepared = prepared.get(task, plan.inject_seed)
        self.task = task
        self.python = python
        self.cpu = cpu
        toolchain_python = task.setup.python(python)
        self.environments = environments
        shutil.rmtree(work, ignore_errors=True)  # left behind if a killed run was resumed
        self.workspace, home = work / "repo", work / "home"
        self.prepared.materialize(self.workspace)
        home.mkdir(parents=True)
        if self.prepared.mypy_cache is not None:
            shutil.copytree(
                self.prepared.mypy_cache, home / ".mypy_cache", copy_function=shutil.copyfile
            )
        self._home = home
        self._toolchain_python = toolchain_python
        self.env: Environment | None = self.environment(())
        self.brief = prepared_brief(self.prepared)

    def environment(self, readable: Sequence[Path]) -> Environment:
        """The agent's Environment; its commands may also read `readable`. The agent's
        `python` is the one the judge uses: the pack's toolchain, or armbench's."""
        home = self._home
        return self.environments(
            self.workspace,
            home=home,
            path_prefix=[Path(self._toolchain_python).parent],
            extra_env={
                **self.task.setup.environ,
                "MYPY_CACHE_DIR": str(home / ".mypy_cache"),
                "RUFF_CACHE_DIR": str(home / ".ruff_cache"),
            },
            readable=readable,
        )

    def judge(self, outcome: ArmOutcome) -> Verdict:
        with cpu_slot(self.cpu) as waited:
            started = time.monotonic()
            gates = judge(
                self.workspace, self.prepared, python=self.python, environments=self.environments
            )
            judge_s = time.monotonic() - started
        return Verdict(
            gates=gates,
            passed=bool(gates) and all(g.passed for g in gates),
            judge_s=judge_s,
            judge_wait_s=waited,
        )

    def transcript(
        self, head: dict[str, Any], status: TrialStatus, outcome: ArmOutcome, verdict: Verdict
    ) -> dict[str, Any]:
        run, prepared = outcome.run, self.prepared
        return {
            **head,
            "inject_seed": prepared.inject_seed,
            "status": status,
            "stop_reason": run.stop,
            "system": run.system,
            "tools": [t.model_dump() for t in run.tools],
            "messages": [m.model_dump() for m in run.messages],
            "side_conversations": outcome.side_conversations,
            "gates": [dataclasses.asdict(g) for g in verdict.gates],
            "diff": workspace_diff(self.workspace, prepared),
            "injection": prepared.injection.model_dump(mode="json") if prepared.injection else None,
            **outcome.extra,
        }

    def record_extra(self, outcome: ArmOutcome, verdict: Verdict, limits: Limits) -> dict[str, Any]:
        return {
            "judge_s": round(verdict.judge_s, 3),
            **({"judge_wait_s": round(verdict.judge_wait_s, 3)} if verdict.judge_wait_s else {}),
            "limits": limits.model_dump(),
            "main_iterations": outcome.run.iterations,
            **outcome.extra,
        }


class SingleShotAttempt:
    """No workspace: the answer's files are written into a fresh copy of the task's fixture by
    the judge, which runs and checks them there."""

    def __init__(
        self,
        task: SingleShotTask,
        work: Path,
        *,
        environments: EnvironmentFactory,
        python: str,
        cpu: Slots | None = None,
    ) -> None:
        self.task = task
        self.work = work
        self.cpu = cpu
        self.environments = environments
        self.python = python
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        self.env: Environment | None = None
        self.brief = single_shot_brief(task)

    def judge(self, outcome: ArmOutcome) -> Verdict:
        with cpu_slot(self.cpu):
            scored = score(
                self.task,
                outcome.answer or "",
                python=self.python,
                scratch=self.work / "score",
                environments=self.environments,
            )
        scores = {
            **outcome.extra,
            "format_score": scored.format_score,
            "execution_score": scored.execution_score,
            "run_line": scored.run_line,
            "files_strict": scored.files_strict,
            "files_lenient": scored.files_lenient,
        }
        return Verdict(gates=scored.gates, passed=scored.execution_score == 1, scores=scores)

    @staticmethod
    def _scores(outcome: ArmOutcome, verdict: Verdict) -> dict[str, Any]:
        """The scores when the answer was judged; else (a model call failed for good) only
        what the arm recorded (`contract`)."""
        return verdict.scores or dict(outcome.extra)

    def transcript(
        self, head: dict[str, Any], status: TrialStatus, outcome: ArmOutcome, verdict: Verdict
    ) -> dict[str, Any]:
        return {
            **head,
            "status": status,
            "prompt": outcome.run.messages[0].text,
            "answer": outcome.answer or "",
            "gates": [dataclasses.asdict(g) for g in verdict.gates],
            **self._scores(outcome, verdict),
        }

    def record_extra(self, outcome: ArmOutcome, verdict: Verdict, limits: Limits) -> dict[str, Any]:
        return self._scores(outcome, verdict)


def workspace_diff(workspace: Path, prepared: Prepared) -> str:
    """Unified diff of what the trial changed, for the transcript. Only regular files are read
    (a symlink is shown as one, never followed: it could point at a host file)."""
    parts: list[str] = []
    for rel in changed_paths(workspace, prepared):
        after_path = workspace / rel
        if after_path.is_symlink():
            parts.append(f"Symlink {rel} -> {os.readlink(after_path)}\n")
            continue
        before_bytes = read_regular(prepared.template / rel)
        after_bytes = read_regular(after_path)
        if after_bytes is None and after_path.exists():
            parts.append(f"Special file {rel} (not a regular file)\n")
            continue
        try:
            before = (before_bytes or b"").decode("utf-8").splitlines(keepends=True)
            after = (after_bytes or b"").decode("utf-8").splitlines(keepends=True)
        except UnicodeDecodeError:
            parts.append(f"Binary file {rel} changed\n")
            continue
        parts.extend(difflib.unified_diff(before, after, f"a/{rel}", f"b/{rel}"))
    text = "".join(parts)
    return (
        text
        if len(text) <= MAX_DIFF_CHARS
        else text[:MAX_DIFF_CHARS] + "\n[... diff truncated ...]\n"
    )
