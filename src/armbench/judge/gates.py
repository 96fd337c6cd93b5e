"""Judging a workspace: every gate runs and is recorded; the trial passes only if all pass.

Cheap file checks (protected, scope, rules) run before the checkers, because running the test
suite executes the agent's code, which could otherwise cover its tracks.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pathspec

from armbench.checks import JUDGED_ENV, CheckReport, run_mypy, run_pytest, run_ruff
from armbench.core import GateResult, fingerprint_tree
from armbench.env import LOCAL, EnvironmentFactory
from armbench.judge.rules import count_suppressions
from armbench.judge.structural import verify_moved_function
from armbench.tasks.prepare import Prepared
from armbench.tasks.spec import GateSpec, MovedFunctionGate, MypyGate, PytestGate, RuffGate

_MAX_LISTED = 10


def _matcher(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def _listed(items: list[str]) -> str:
    more = f" (+{len(items) - _MAX_LISTED} more)" if len(items) > _MAX_LISTED else ""
    return ", ".join(items[:_MAX_LISTED]) + more


def changed_paths(workspace: Path, prepared: Prepared) -> list[str]:
    """Paths added, modified or deleted since the workspace was prepared."""
    now = fingerprint_tree(workspace)
    before = prepared.fingerprints
    return sorted(p for p in now.keys() | before.keys() if now.get(p) != before.get(p))


def protected_gate(workspace: Path, prepared: Prepared) -> GateResult:
    spec = _matcher(prepared.task.spec.protected)
    guarded = [p for p in prepared.fingerprints if spec.match_file(p)]
    now = fingerprint_tree(workspace)
    altered = [p for p in guarded if now.get(p) != prepared.fingerprints[p]]
    return GateResult(
        name="protected",
        kind="protected",
        passed=not altered,
        exit_code=None,
        counts={"protected": len(guarded), "altered": len(altered)},
        duration_s=0.0,
        details=f"protected files changed or removed: {_listed(altered)}" if altered else "",
    )


def scope_gate(changed: list[str], prepared: Prepared) -> GateResult:
    spec = _matcher(prepared.task.spec.editable)
    outside = [p for p in changed if not spec.match_file(p)]
    return GateResult(
        name="scope",
        kind="scope",
        passed=not outside,
        exit_code=None,
        counts={"changed": len(changed), "outside": len(outside)},
        duration_s=0.0,
        details=f"changed outside the editable paths: {_listed(outside)}" if outside else "",
    )


def suppressions_gate(workspace: Path, prepared: Prepared) -> GateResult:
    before = sum(count_suppressions(prepared.template).values())
    after_by_file = count_suppressions(workspace)
    after = sum(after_by_file.values())
    return GateResult(
        name="no_new_suppressions",
        kind="rule",
        passed=after <= before,
        exit_code=None,
        counts={"before": before, "after": after},
        duration_s=0.0,
        details=(
            f"{after - before} new `# type: ignore` / `# noqa` comments "
            f"(files with any: {_listed(sorted(after_by_file))})"
            if after > before
            else ""
        ),
    )


def _from_report(name: str, report: CheckReport) -> GateResult:
    details = report.problem
    if not report.passed and not details:
        lines = [
            f"{f.path}:{f.line}: [{f.code}] {f.message.splitlines()[0] if f.message else ''}"
            for f in report.findings
        ]
        details = "; ".join(lines[:_MAX_LISTED]) or f"exit code {report.exit_code}"
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
    results: list[GateResult] = []
    if spec.protected:
        results.append(protected_gate(workspace, prepared))
    results.append(scope_gate(changed_paths(workspace, prepared), prepared))
    if "no_new_suppressions" in spec.rules:
        results.append(suppressions_gate(workspace, prepared))
    with tempfile.TemporaryDirectory(prefix="armbench-judge-") as scratch:
        home = Path(scratch) / "home"
        home.mkdir()
        env = environments(workspace, home=home, extra_env=JUDGED_ENV)
        for name, gate in zip(_gate_names(spec.gates), spec.gates, strict=True):
            if isinstance(gate, MypyGate):
                cache = Path(scratch) / "mypy-cache"
                if prepared.mypy_cache is not None and not cache.exists():
                    shutil.copytree(prepared.mypy_cache, cache)
                results.append(
                    _from_report(
                        name, run_mypy(env, python=python, args=gate.args, cache_dir=cache)
                    )
                )
            elif isinstance(gate, RuffGate):
                results.append(_from_report(name, run_ruff(env, python=python, args=gate.args)))
            elif isinstance(gate, PytestGate):
                report = run_pytest(env, python=python, args=gate.args, min_passed=gate.min_passed)
                results.append(_from_report(name, report))
            elif isinstance(gate, MovedFunctionGate):
                results.append(_moved_function(name, gate, workspace, prepared))
    return tuple(results)


def _moved_function(
    name: str, gate: MovedFunctionGate, workspace: Path, prepared: Prepared
) -> GateResult:
    started = time.monotonic()
    verdict = verify_moved_function(
        workspace, prepared.template, gate.function, gate.source, gate.target
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
