"""Running a single-shot answer: its files written into a copy of the task's fixture, its run
steps run, every check judged, each as a gate.

Commands run in an Environment from the run's factory, scrubbed, in which `python`/`python3`
are the interpreter armbench scores with (a shim folder first on PATH).
"""

from __future__ import annotations

import json
import math
import os
import shlex
import shutil
import tempfile
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from armbench.checks import JUDGED_ENV
from armbench.core import GateResult, copy_tree, iter_files
from armbench.env import CommandResult, Environment, EnvironmentFactory
from armbench.tasks import CommandCheck, SingleShotTask, StdoutCheck

RUN_OUTPUT_CAP = 1_000_000
"""Bytes of a run step's standard output kept for the stdout checks."""

_TAIL = 2_000


def _tail(text: str) -> str:
    return text[-_TAIL:]


_SHIMS: dict[str, Path] = {}
_SHIMS_LOCK = threading.Lock()


def python_folder(python: str) -> Path:
    """A folder whose `python` and `python3` run the interpreter `python`, to put first on PATH.

    An interpreter's own folder when it has both names (a virtualenv's `bin` does); otherwise a
    folder of two shell shims, written once per process and never again. Writing an executable
    while other threads fork is what made a run step fail with "Text file busy" (a child forked
    meanwhile held the file open for writing); nothing the judge executes is written twice, and
    the shims are written under another name, closed, then renamed into place.
    """
    resolved = python if "/" in python else (shutil.which(python) or python)
    own = Path(resolved).parent
    names = [own / "python", own / "python3"]
    if all(p.exists() and p.resolve() == Path(resolved).resolve() for p in names):
        return own
    with _SHIMS_LOCK:
        if resolved not in _SHIMS:
            folder = Path(tempfile.mkdtemp(prefix="armbench-python-"))
            for name in ("python", "python3"):
                staged = folder / f".{name}.tmp"
                staged.write_text(f'#!/bin/sh\nexec {shlex.quote(resolved)} "$@"\n')
                staged.chmod(0o755)
                os.replace(staged, folder / name)
            _SHIMS[resolved] = folder
        return _SHIMS[resolved]


def _restore_fixture(fixture: Path, workspace: Path) -> None:
    """Every fixture file back to its own bytes before the checks run: the answer's program
    may have rewritten a hidden checker or an input, and checks must judge its output with
    the task's own files."""
    for rel in iter_files(fixture):
        target = workspace / rel
        if target.is_symlink() or target.is_file():
            target.unlink()
        elif target.is_dir():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(fixture / rel, target)


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


def _command_details(result: CommandResult, timeout_s: float, expect_exit: int = 0) -> str:
    if result.timed_out:
        return f"timed out after {timeout_s:g}s"
    if result.exit_code != expect_exit:
        return f"exit code {result.exit_code} (expected {expect_exit})"
    return ""


def execute(
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
        workspace, home=home, path_prefix=[python_folder(python)], extra_env=JUDGED_ENV
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
    if fixture is not None:
        _restore_fixture(fixture, workspace)
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
