"""`tasks validate`: a task is usable only if its untouched workspace fails the judge and its
reference solution passes it — every time. Each is judged `repeats` times; a gate whose verdict
changes between repeats is reported as flaky.

Single-shot tasks are validated the same way with answers instead of workspaces: the reference
answer (rendered in the contract's format) must score format 1 / execution 1, an empty answer
0 / 0, and an answer giving every required file empty must fail execution (the checks must not
pass without code).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from armbench.core import GateResult, derive_seed, render_answer
from armbench.judge import single_shot
from armbench.judge.gates import judge
from armbench.tasks.packs import Pack
from armbench.tasks.prepare import Prepared, apply_solution, prepare
from armbench.tasks.single_shot import AnyTask, SingleShotTask
from armbench.tasks.spec import Task


@dataclass(frozen=True)
class TaskValidation:
    task: str
    untouched: list[tuple[GateResult, ...]]
    reference: list[tuple[GateResult, ...]]
    error: str = ""
    """Why the task could not even be prepared."""

    @staticmethod
    def _passes(runs: list[tuple[GateResult, ...]]) -> list[bool]:
        return [all(g.passed for g in gates) for gates in runs]

    def _all_runs(self) -> list[list[tuple[GateResult, ...]]]:
        return [self.untouched, self.reference]

    @property
    def flaky_gates(self) -> list[str]:
        """Gates whose verdict changed between repeats of the same workspace."""
        return sorted(set().union(*(_flaky(runs) for runs in self._all_runs())))

    def _reference_and_flakiness(self, reference: str) -> list[str]:
        """What both kinds of task must hold: the reference passes, and nothing is flaky."""
        failing = [
            f"{g.name} ({g.details or 'failed'})"
            for gates in self.reference
            for g in gates
            if not g.passed
        ]
        found = []
        if failing:
            found.append(f"the {reference} fails: " + "; ".join(sorted(set(failing))))
        if self.flaky_gates:
            found.append("flaky gates: " + ", ".join(self.flaky_gates))
        return found

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        found = []
        if any(self._passes(self.untouched)):
            found.append("the untouched workspace passes the judge: the task asks for nothing")
        return found + self._reference_and_flakiness("reference solution")

    @property
    def ok(self) -> bool:
        return not self.problems


def _judge_copy(
    prepared: Prepared, scratch: Path, label: str, solved: bool, python: str
) -> tuple[GateResult, ...]:
    workspace = scratch / label
    prepared.materialize(workspace)
    if solved:
        apply_solution(workspace, prepared.solution)
    return judge(workspace, prepared, python=python)


def validate_task(
    task: Task, *, python: str, repeats: int = 3, workers: int | None = None
) -> TaskValidation:
    with tempfile.TemporaryDirectory(prefix=f"armbench-validate-{task.id}-") as tmp:
        scratch = Path(tmp)
        try:
            prepared = prepare(
                task,
                scratch / "template",
                inject_seed=derive_seed("validate", task.id),
                python=python,
            )
        except Exception as exc:
            return TaskValidation(task.id, [], [], error=f"cannot prepare: {exc}")
        jobs = [
            (f"{kind}{i}", kind == "reference")
            for kind in ("untouched", "reference")
            for i in range(repeats)
        ]
        try:
            with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
                results = list(
                    pool.map(
                        lambda job: _judge_copy(prepared, scratch, job[0], job[1], python), jobs
                    )
                )
        except Exception as exc:  # the harness failed, not the task: say so, never pass or fail
            return TaskValidation(task.id, [], [], error=f"cannot judge: {exc}")
    return TaskValidation(task.id, untouched=results[:repeats], reference=results[repeats:])


def _flaky(runs: list[tuple[GateResult, ...]]) -> set[str]:
    verdicts: dict[str, set[bool]] = {}
    for gates in runs:
        for g in gates:
            verdicts.setdefault(g.name, set()).add(g.passed)
    return {name for name, seen in verdicts.items() if len(seen) > 1}


@dataclass(frozen=True)
class SingleShotValidation(TaskValidation):
    """A single-shot task's validation: `untouched` holds the empty answer's gates,
    `reference` the reference answer's, `blank` those of an answer giving every file empty."""

    blank: list[tuple[GateResult, ...]] = field(default_factory=list)

    @staticmethod
    def _format(gates: tuple[GateResult, ...]) -> bool:
        return all(g.passed for g in gates if g.kind == "format")

    @staticmethod
    def _execution(gates: tuple[GateResult, ...]) -> bool:
        return all(g.passed for g in gates if g.kind != "format")

    def _all_runs(self) -> list[list[tuple[GateResult, ...]]]:
        return [self.untouched, self.reference, self.blank]

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        found = []
        if any(self._format(gates) for gates in self.untouched):
            found.append("an empty answer scores format 1")
        if any(self._execution(gates) for gates in self.untouched):
            found.append("an empty answer scores execution 1")
        if any(self._execution(gates) for gates in self.blank):
            found.append("an answer of empty files scores execution 1: the checks ask for nothing")
        return found + self._reference_and_flakiness("reference answer")


def validate_single_shot_task(
    task: SingleShotTask, *, python: str, repeats: int = 3, workers: int | None = None
) -> SingleShotValidation:
    """Score the empty, the blank-files and the reference answer `repeats` times each."""
    try:
        reference = render_answer(task.reference_files(), task.run_line, contract=True)
    except OSError as exc:
        return SingleShotValidation(task.id, [], [], error=f"cannot read the reference: {exc}")
    blank = render_answer(dict.fromkeys(task.files, ""), None, contract=True)
    answers = [answer for answer in ("", blank, reference) for _ in range(repeats)]
    with tempfile.TemporaryDirectory(prefix=f"armbench-validate-{task.id}-") as tmp:
        scratch = Path(tmp)

        def gates_of(answer: str) -> tuple[GateResult, ...]:
            return single_shot.score(task, answer, python=python, scratch=scratch).gates

        try:
            with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
                results = list(pool.map(gates_of, answers))
        except Exception as exc:
            return SingleShotValidation(task.id, [], [], error=f"cannot score: {exc}")
    return SingleShotValidation(
        task.id,
        untouched=results[:repeats],
        reference=results[2 * repeats :],
        blank=results[repeats : 2 * repeats],
    )


def validate_any_task(
    task: AnyTask, *, python: str, repeats: int = 3, workers: int | None = None
) -> TaskValidation:
    if isinstance(task, SingleShotTask):
        return validate_single_shot_task(task, python=python, repeats=repeats, workers=workers)
    return validate_task(task, python=python, repeats=repeats, workers=workers)


def validate_pack(
    pack: Pack,
    *,
    python: str,
    repeats: int = 3,
    on_task: Callable[[TaskValidation], None] | None = None,
) -> list[TaskValidation]:
    results = []
    for task in pack.tasks:
        result = validate_any_task(task, python=python, repeats=repeats)
        results.append(result)
        if on_task is not None:
            on_task(result)
    return results
