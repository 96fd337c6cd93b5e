"""Judging an agentic workspace: the file gates, then each of the task's gates by kind.

Every gate runs and is recorded; the trial passes only if all pass. Gate kinds are a registry:
a kind (`kind:` in task.yaml, armbench.tasks.spec) maps to a function that runs it. Adding a kind
is its spec model in armbench.tasks.spec (in the `GateSpec` union) and its runner here, listed
in `GATES`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.checks import JUDGED_ENV, CheckReport, run_mypy, run_pytest, run_ruff
from armbench.core import GateResult
from armbench.env import LOCAL, Environment, EnvironmentFactory
from armbench.judge.file_gates import MAX_LISTED, file_gates
from armbench.judge.structural import verify_moved_function
from armbench.tasks import GateSpec, MovedFunctionGate, MypyGate, Prepared, PytestGate, RuffGate


@dataclass(frozen=True)
class GateContext:
    """What a gate runs against: the workspace, its pristine template, the judge's Environment
    on it, the checker interpreter and a scratch folder outside the workspace."""

    workspace: Path
    prepared: Prepared
    env: Environment
    python: str
    scratch: Path


GateRunner = Callable[[str, Any, GateContext], GateResult]
"""Runs one gate: its name, its spec, the context."""


def _from_report(name: str, report: CheckReport) -> GateResult:
    details = report.problem
    if not report.passed and not details:
        lines = [
            f"{f.path}:{f.line}: [{f.code}] {f.message.splitlines()[0] if f.message else ''}"
            for f in report.findings
        ]
        details = "; ".join(lines[:MAX_LISTED]) or f"exit code {report.exit_code}"
    return GateResult(
        name=name,
        kind=report.tool,
        passed=report.passed,
        exit_code=report.exit_code,
        counts=dict(report.counts),
        duration_s=report.duration_s,
        output_tail=report.output_tail,
        details=details,
    )


def run_mypy_gate(name: str, gate: MypyGate, ctx: GateContext) -> GateResult:
    cache = ctx.scratch / "mypy-cache"
    if ctx.prepared.mypy_cache is not None and not cache.exists():
        shutil.copytree(ctx.prepared.mypy_cache, cache)
    return _from_report(name, run_mypy(ctx.env, python=ctx.python, args=gate.args, cache_dir=cache))


def run_ruff_gate(name: str, gate: RuffGate, ctx: GateContext) -> GateResult:
    return _from_report(name, run_ruff(ctx.env, python=ctx.python, args=gate.args))


def run_pytest_gate(name: str, gate: PytestGate, ctx: GateContext) -> GateResult:
    report = run_pytest(
        ctx.env,
        python=ctx.python,
        args=gate.args,
        min_passed=gate.min_passed,
        report_dir=ctx.scratch,
    )
    return _from_report(name, report)


def run_moved_function_gate(name: str, gate: MovedFunctionGate, ctx: GateContext) -> GateResult:
    started = time.monotonic()
    verdict = verify_moved_function(
        ctx.workspace, ctx.prepared.template, gate.function, gate.source, gate.target
    )
    return GateResult(
        name=name,
        kind="structural",
        passed=verdict.passed,
        exit_code=None,
        counts={"problems": len(verdict.problems)},
        duration_s=time.monotonic() - started,
        details=verdict.details,
    )


GATES: Mapping[str, GateRunner] = {
    "mypy": run_mypy_gate,
    "ruff": run_ruff_gate,
    "pytest": run_pytest_gate,
    "moved_function": run_moved_function_gate,
}
"""Gate kind → its runner."""


def _gate_names(gates: tuple[GateSpec, ...]) -> list[str]:
    kinds = [g.kind for g in gates]
    return [
        k if kinds.count(k) == 1 else f"{k}#{kinds[: i + 1].count(k)}" for i, k in enumerate(kinds)
    ]


def judge(
    workspace: Path,
    prepared: Prepared,
    *,
    python: str,
    environments: EnvironmentFactory = LOCAL,
) -> tuple[GateResult, ...]:
    """Run every gate of the task on `workspace`, in a scrubbed environment of its own."""
    spec = prepared.task.spec
    results = file_gates(workspace, prepared)
    with tempfile.TemporaryDirectory(prefix="armbench-judge-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        env = environments(workspace, home=home, extra_env=JUDGED_ENV, writable=[Path(scratch)])
        ctx = GateContext(workspace, prepared, env, python, Path(scratch))
        for name, gate in zip(_gate_names(spec.gates), spec.gates, strict=True):
            results.append(GATES[gate.kind](name, gate, ctx))
    return tuple(results)
