"""`tasks validate`: a task is usable only if its untouched workspace fails the judge and its
reference solution passes it — every time. Each is judged `repeats` times; a gate whose verdict
changes between repeats is reported as flaky."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from armbench.judge.gates import judge
from armbench.seeds import derive_seed
from armbench.store.records import GateResult
from armbench.tasks.packs import Pack
from armbench.tasks.prepare import Prepared, apply_solution, prepare
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

    @property
    def flaky_gates(self) -> list[str]:
        flaky: set[str] = set()
        for runs in (self.untouched, self.reference):
            verdicts: dict[str, set[bool]] = {}
            for gates in runs:
                for g in gates:
                    verdicts.setdefault(g.name, set()).add(g.passed)
            flaky.update(name for name, seen in verdicts.items() if len(seen) > 1)
        return sorted(flaky)

    @property
    def problems(self) -> list[str]:
        if self.error:
            return [self.error]
        found = []
        if any(self._passes(self.untouched)):
            found.append("the untouched workspace passes the judge: the task asks for nothing")
        failing = [
            f"{g.name} ({g.details or 'failed'})"
            for gates in self.reference
            for g in gates
            if not g.passed
        ]
        if failing:
            found.append("the reference solution fails: " + "; ".join(sorted(set(failing))))
        if self.flaky_gates:
            found.append("flaky gates: " + ", ".join(self.flaky_gates))
        return found

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
        with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
            results = list(
                pool.map(lambda job: _judge_copy(prepared, scratch, job[0], job[1], python), jobs)
            )
    return TaskValidation(task.id, untouched=results[:repeats], reference=results[repeats:])


def validate_pack(
    pack: Pack,
    *,
    python: str,
    repeats: int = 3,
    on_task: Callable[[TaskValidation], None] | None = None,
) -> list[TaskValidation]:
    results = []
    for task in pack.tasks:
        result = validate_task(task, python=python, repeats=repeats)
        results.append(result)
        if on_task is not None:
            on_task(result)
    return results
