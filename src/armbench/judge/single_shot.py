"""Scoring single-shot answers: the execution contract, file extraction, and two scores.

A single-shot answer is plain text. It gets two scores, each 0 or 1:

- the **format score** — did the answer follow the execution contract (`CONTRACT`)? Files are
  extracted *strictly*: only a `FILE: <path>` line followed by a fenced block counts;
- the **execution score** — does the code work? Files are extracted *leniently* (any fenced
  block, see `extract_lenient`), written into a copy of the task's fixture, its run steps are
  run and every check must pass. So an answer that ignores the format is judged on its code,
  not zeroed for its format.

`classify_contract_effect` compares the two scores with and without the contract.
"""

from __future__ import annotations

import json
import math
import shlex
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from armbench.checks import JUDGED_ENV
from armbench.core import GateResult, copy_tree, extract_lenient, extract_strict, has_run_line
from armbench.env import LOCAL, CommandResult, Environment, EnvironmentFactory
from armbench.tasks.single_shot import CommandCheck, SingleShotTask, StdoutCheck

CONTRACT = """\
Answer in this exact format.

For each file, write a line `FILE: <path>` and, on the very next line, one fenced code block
holding the complete content of that file:

FILE: <path>
```<language>
<the complete content of the file>
```

Finish with one line `RUN: <command>`: the shell command that runs your program.

Rules:
- give every required file, in full: no placeholders, no "..." and no omitted parts;
- put no other fenced code blocks in the answer: no examples, no usage, no sample output.
"""
"""The execution contract appended to a task's prompt by `wrap_prompt`."""

RUN_OUTPUT_CAP = 1_000_000
"""Bytes of a run step's standard output kept for the stdout checks."""

_TAIL = 2_000


def wrap_prompt(prompt: str, files: Sequence[str]) -> str:
    """`prompt` followed by the execution contract and the list of files the answer must give."""
    listed = ", ".join(files)
    return f"{prompt.rstrip()}\n\n{CONTRACT}\nRequired files: {listed}\n"


def format_score(answer: str, files: Sequence[str]) -> int:
    """1 iff the strict extraction finds every required file (a RUN line is not needed)."""
    return int(len(extract_strict(answer, files)) == len(files))


# --- scoring -------------------------------------------------------------------------------


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


def _tail(text: str) -> str:
    return text[-_TAIL:]


def _shim_dir(python: str, scratch: Path) -> Path:
    """A folder holding `python` and `python3` that exec the given interpreter."""
    resolved = python if "/" in python else (shutil.which(python) or python)
    folder = scratch / "bin"
    folder.mkdir()
    for name in ("python", "python3"):
        shim = folder / name
        shim.write_text(f'#!/bin/sh\nexec {shlex.quote(resolved)} "$@"\n', encoding="utf-8")
        shim.chmod(0o755)
    return folder


def _first_difference(expected: list[str], got: list[str]) -> str:
    for i, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            return f"line {i}: expected {want[:120]!r}, got {have[:120]!r}"
    if len(expected) > len(got):
        missing = expected[len(got)][:120]
        return f"output ends after {len(got)} lines; line {len(got) + 1} should be {missing!r}"
    return f"{len(got) - len(expected)} unexpected lines after line {len(expected)}"


def _compare(expected: str, got: str, match: str) -> str:
    """'' when `got` matches `expected`, else why not."""
    if match == "json":
        try:
            want = json.loads(expected)
        except ValueError as exc:
            return f"the expected file is not JSON: {exc}"
        try:
            have = json.loads(got)
        except ValueError as exc:
            return f"the output is not JSON: {exc}"
        return "" if want == have and _same_json(want, have) else "the JSON values differ"
    if match == "lines":
        want_lines = _clean_lines(expected)
        got_lines = _clean_lines(got)
        return "" if want_lines == got_lines else _first_difference(want_lines, got_lines)
    if expected == got:
        return ""
    return _first_difference(expected.split("\n"), got.split("\n"))


def _same_json(a: object, b: object) -> bool:
    """Equality that, unlike ==, tells true from 1 and false from 0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_json(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def _clean_lines(text: str) -> list[str]:
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _not_run(name: str, kind: str, why: str) -> GateResult:
    return GateResult(
        name=name, kind=kind, passed=False, exit_code=None, counts={}, duration_s=0.0, details=why
    )


def _command_details(result: CommandResult, timeout_s: float, expect_exit: int = 0) -> str:
    if result.timed_out:
        return f"timed out after {timeout_s:g}s"
    if result.exit_code != expect_exit:
        return f"exit code {result.exit_code} (expected {expect_exit})"
    return ""


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
        gates += _execute(
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


def _execute(
    task: SingleShotTask,
    files: Mapping[str, str],
    python: str,
    root: Path,
    run_names: list[str],
    check_names: list[str],
    environments: EnvironmentFactory,
) -> list[GateResult]:
    workspace = root / "workspace"
    fixture = task.fixture_dir
    if fixture is not None:
        copy_tree(fixture, workspace)
    else:
        workspace.mkdir()
    for rel, content in files.items():
        target = workspace / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_symlink() or target.is_dir():
            raise ValueError(f"task {task.id}: the fixture has a link or folder at {rel}")
        target.write_text(content, encoding="utf-8")
    home = root / "home"
    home.mkdir()
    env = environments(
        workspace, home=home, path_prefix=[_shim_dir(python, root)], extra_env=JUDGED_ENV
    )
    gates: list[GateResult] = []
    outputs: list[CommandResult] = []
    for name, step in zip(run_names, task.spec.run, strict=True):
        result = env.run(
            step.command, timeout_s=step.timeout_s, output_cap=RUN_OUTPUT_CAP, merge_stderr=False
        )
        outputs.append(result)
        details = _command_details(result, step.timeout_s, step.expect_exit)
        if details and result.stderr.strip():
            details += ": " + result.stderr.strip().splitlines()[-1][:300]
        gates.append(
            GateResult(
                name=name,
                kind="run",
                passed=not details,
                exit_code=result.exit_code,
                counts={"stdout_bytes": len(result.output.encode())},
                duration_s=result.duration_s,
                output_tail=_tail(result.stderr or result.output),
                details=details,
            )
        )
    for name, check in zip(check_names, task.spec.check, strict=True):
        if isinstance(check, StdoutCheck):
            gates.append(_stdout_gate(name, check, task, outputs[check.step]))
        elif isinstance(check, CommandCheck):
            gates.append(_command_gate(name, check, env))
    return gates


def _stdout_gate(
    name: str, check: StdoutCheck, task: SingleShotTask, result: CommandResult
) -> GateResult:
    started = time.monotonic()
    expected = task.resolve(check.expected).read_bytes().decode("utf-8")
    if result.timed_out:
        why = "its run step timed out"
    elif result.truncated:
        why = f"the output exceeds {RUN_OUTPUT_CAP} bytes"
    else:
        why = _compare(expected, result.output, check.match)
    return GateResult(
        name=name,
        kind="stdout",
        passed=not why,
        exit_code=None,
        counts={"expected_bytes": len(expected.encode()), "got_bytes": len(result.output.encode())},
        duration_s=time.monotonic() - started,
        output_tail=_tail(result.output) if why else "",
        details=f"{check.match} match failed: {why}" if why else "",
    )


def _command_gate(name: str, check: CommandCheck, env: Environment) -> GateResult:
    result = env.run(check.command, timeout_s=check.timeout_s)
    details = _command_details(result, check.timeout_s)
    if details and result.output.strip():
        details += ": " + result.output.strip().splitlines()[-1][:300]
    return GateResult(
        name=name,
        kind="command",
        passed=not details,
        exit_code=result.exit_code,
        counts={},
        duration_s=result.duration_s,
        output_tail=_tail(result.output),
        details=details,
    )


# --- comparing with and without the contract ----------------------------------------------

ContractEffect = Literal["format_only", "execution_gain", "regression", "no_effect"]


def classify_contract_effect(
    without: tuple[float, float], with_: tuple[float, float], *, tolerance: float = 0.0
) -> ContractEffect:
    """What the contract did, from (format, execution) scores — or rates — without and with it.

    - `execution_gain`: execution went up (the contract made more answers work);
    - `regression`: execution went down;
    - `format_only`: execution unchanged, format up — the contract changed how answers look,
      not whether they work (what a format-only judge would mistake for a gain);
    - `no_effect`: neither changed, or only format went down.

    Differences no larger than `tolerance` count as unchanged (0 for 0/1 scores; a margin
    such as a confidence half-width for rates).
    """
    (format_without, exec_without), (format_with, exec_with) = without, with_
    if exec_with - exec_without > tolerance:
        return "execution_gain"
    if exec_without - exec_with > tolerance:
        return "regression"
    if format_with - format_without > tolerance:
        return "format_only"
    return "no_effect"
