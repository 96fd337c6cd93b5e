"""Scoring a single-shot answer: two scores, each 0 or 1.

- the **format score** — did the answer follow the execution contract (the
  `single_shot.contract` prompt)? Files are extracted *strictly*: only a `FILE: <path>` line
  followed by a fenced block counts (armbench.core.fileblocks);
- the **execution score** — does the code work? Files are extracted *leniently* (any fenced
  block), written into a copy of the task's fixture, its run steps are run and every check must
  pass (armbench.judge.single_shot.execution). So an answer that ignores the format is judged
  on its code, not zeroed for its format.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from armbench.core import GateResult, extract_lenient, extract_strict, has_run_line
from armbench.env import LOCAL, EnvironmentFactory
from armbench.judge.single_shot.execution import execute
from armbench.tasks import SingleShotTask


def format_score(answer: str, files: Sequence[str]) -> int:
    """1 iff the strict extraction finds every required file (a RUN line is not needed)."""
    return int(len(extract_strict(answer, files)) == len(files))


@dataclass(frozen=True)
class SingleShotScore:
    """How one answer scored; `gates` are recorded like an agentic trial's."""

    format_score: int
    """1 iff every required file came in a strict FILE block."""
    execution_score: int
    """1 iff every required file was extracted (leniently), and every run step and check
    passed."""
    run_line: bool
    """Whether the answer had a `RUN: <command>` line (not needed for the format score)."""
    files_strict: list[str]
    """The required files the strict extraction found."""
    files_lenient: list[str]
    """The required files the lenient extraction found (and that were run)."""
    gates: tuple[GateResult, ...]
    """`format`, then `file:<path>` per required file, a `run` gate per step and one gate per
    check (named by kind, numbered when a kind repeats)."""

    @property
    def passed(self) -> bool:
        return self.execution_score == 1


def _numbered(prefix: str, kinds: Sequence[str]) -> list[str]:
    return [
        f"{prefix}{k}" if kinds.count(k) == 1 else f"{prefix}{k}#{kinds[: i + 1].count(k)}"
        for i, k in enumerate(kinds)
    ]


def _not_run(name: str, kind: str, why: str) -> GateResult:
    return GateResult(
        name=name, kind=kind, passed=False, exit_code=None, counts={}, duration_s=0.0, details=why
    )


def _format_gate(files: Sequence[str], strict: Mapping[str, str], run_line: bool) -> GateResult:
    missing = [p for p in files if p not in strict]
    return GateResult(
        name="format",
        kind="format",
        passed=not missing,
        exit_code=None,
        counts={"required": len(files), "strict": len(strict), "run_line": int(run_line)},
        duration_s=0.0,
        details=f"no FILE block for: {', '.join(missing)}" if missing else "",
    )


def score(
    task: SingleShotTask,
    answer: str,
    *,
    python: str,
    scratch: Path,
    environments: EnvironmentFactory = LOCAL,
) -> SingleShotScore:
    """Score `answer` to `task`: strictly for format, by running it for execution.

    A fresh workspace (a copy of the task's fixture) is made in a new folder under `scratch`,
    the leniently extracted files are written into it, each run step is run in order, then each
    check. Commands run in an Environment from `environments`, scrubbed, in which
    `python`/`python3` are the interpreter `python`. When a required file is missing nothing
    is run; the run and check gates then fail as "not run".
    """
    files = task.spec.files
    strict = extract_strict(answer, files)
    lenient = extract_lenient(answer, files)
    run_line = has_run_line(answer)
    gates = [_format_gate(files, strict, run_line)]
    for path in files:
        gates.append(
            GateResult(
                name=f"file:{path}",
                kind="file",
                passed=path in lenient,
                exit_code=None,
                counts={"bytes": len(lenient.get(path, "").encode())},
                duration_s=0.0,
                details="" if path in lenient else "no code block found for this file",
            )
        )
    run_names = _numbered("", ["run"] * len(task.spec.run))
    check_names = _numbered("", [c.kind for c in task.spec.check])
    missing = [p for p in files if p not in lenient]
    if missing:
        why = f"not run: the answer gives no {', '.join(missing)}"
        gates += [_not_run(n, "run", why) for n in run_names]
        gates += [
            _not_run(n, c.kind, why) for n, c in zip(check_names, task.spec.check, strict=True)
        ]
    else:
        scratch.mkdir(parents=True, exist_ok=True)
        gates += execute(
            task,
            lenient,
            python,
            Path(tempfile.mkdtemp(prefix="score-", dir=scratch)),
            run_names,
            check_names,
            environments,
        )
    execution = int(all(g.passed for g in gates[1:]))
    return SingleShotScore(
        format_score=int(len(strict) == len(files)),
        execution_score=execution,
        run_line=run_line,
        files_strict=[p for p in files if p in strict],
        files_lenient=[p for p in files if p in lenient],
        gates=tuple(gates),
    )
