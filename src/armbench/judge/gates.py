"""Judging an agentic workspace: the file gates, then each of the task's gates by kind.

The file gates read the workspace; the checkers never run in it. They run over a fresh copy
(the pristine template plus the changed source files the task lets the agent edit) in a
sandbox of their own, where Python writes no bytecode: nothing the agent left beside its
sources (a forged `.pyc`, a cache, a file outside its scope) reaches the verdict. (A pycache
prefix of the judge's own would add nothing the fresh copy does not give, and was measured to
double the judge's time: every run recompiled the whole toolchain.) Every gate runs and is
recorded; the trial passes only if all pass.

Gate kinds are a registry: a kind (`kind:` in task.yaml, armbench.tasks.spec) maps to a
function that runs it. Adding a kind is its spec model in armbench.tasks.spec (in the
`GateSpec` union) and its runner here, listed in `GATES`.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from armbench.checks import (
    CheckReport,
    run_mypy,
    run_pytest,
    run_ruff,
)
from armbench.core import GateResult, copy_tree
from armbench.env import LOCAL, Environment, EnvironmentFactory
from armbench.judge.file_gates import (
    BINARY_SUFFIXES,
    MAX_LISTED,
    changed_paths,
    file_gates,
    listed,
    matcher,
)
from armbench.judge.structural import verify_moved_function
from armbench.tasks import (
    GateSpec,
    MovedFunctionGate,
    MypyGate,
    Prepared,
    PytestGate,
    RuffGate,
    function_fingerprints,
    function_key,
    make_read_only,
)


@dataclass(frozen=True)
class GateContext:
    """What a gate runs against: the judged copy of the workspace, its pristine template, the
    judge's Environment on it, the checker interpreter, a scratch folder outside the copy, and
    the gate's index among the task's gates."""

    workspace: Path
    prepared: Prepared
    env: Environment
    python: str
    scratch: Path
    index: int = 0


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
    # A fresh copy of the harness's cache under a new name: a gate run before this one (the
    # code under test runs in pytest) cannot have planted it.
    cache = ctx.scratch / f"mypy-cache-{secrets.token_hex(6)}"
    if ctx.prepared.mypy_cache is not None:
        shutil.copytree(ctx.prepared.mypy_cache, cache, copy_function=shutil.copyfile)
    return _from_report(name, run_mypy(ctx.env, python=ctx.python, args=gate.args, cache_dir=cache))


def run_ruff_gate(name: str, gate: RuffGate, ctx: GateContext) -> GateResult:
    return _from_report(name, run_ruff(ctx.env, python=ctx.python, args=gate.args))


def run_pytest_gate(name: str, gate: PytestGate, ctx: GateContext) -> GateResult:
    """pytest, guarded; it also fails when a test the reference solution passes (by node id)
    is missing, skipped, deselected or failing."""
    report = run_pytest(
        ctx.env,
        python=ctx.python,
        args=gate.args,
        min_passed=gate.min_passed,
        timeout_s=gate.timeout_s,
        test_timeout_s=gate.test_timeout_s,
        report_dir=ctx.scratch,
    )
    result = _from_report(name, report)
    expected = ctx.prepared.reference_tests.get(ctx.index, ())
    if not report.parsed or not expected:
        return result
    deselected = set(report.deselected)
    lost = {
        node: "deselected" if node in deselected else report.tests.get(node, "missing")
        for node in expected
        if report.tests.get(node) != "passed"
    }
    reference = ctx.prepared.reference_bodies
    now = function_fingerprints(ctx.workspace, expected)
    lost.update(
        (node, "its body changed")
        for node in expected
        if node not in lost
        and function_key(node) in reference
        and now.get(function_key(node)) != reference[function_key(node)]
    )
    if not lost:
        return result
    # Grouped by reason, so a telling reason (a test gutted) is not hidden past the list's cap
    # behind many ordinary failures.
    by_reason: dict[str, list[str]] = {}
    for node, why in lost.items():
        by_reason.setdefault(why, []).append(node)
    named = "; ".join(f"{why} ({len(nodes)}): {listed(nodes)}" for why, nodes in by_reason.items())
    details = (
        f"rule reference_tests: {len(lost)} of the reference's passing tests did not pass: {named}"
    )
    return replace(
        result,
        passed=False,
        counts={**result.counts, "reference_lost": len(lost)},
        details="; ".join(d for d in (details, result.details) if d),
    )


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
    """Run every gate of the task on `workspace`: the file gates on the workspace itself, the
    others on a judged copy of it, in a scrubbed environment of their own, with the checkers of
    the task's pack (`python` when it brings none) and the variables its tests need.
    TemplateChanged (a failure of the harness) when the template is not as prepared."""
    spec, setup = prepared.task.spec, prepared.task.setup
    python = setup.python(python)
    prepared.verify()
    results = file_gates(workspace, prepared)
    with tempfile.TemporaryDirectory(prefix="armbench-judge-") as tmp:
        # The copy is read-only to the checkers (and to the code under test, which must not
        # rewrite the tests it is judged by); they write only in the scratch folder beside it.
        judged, scratch = Path(tmp) / "repo", Path(tmp) / "scratch"
        judged_copy(workspace, prepared, judged)
        make_read_only(judged)
        home = scratch / "home"
        home.mkdir(parents=True)
        env = environments(
            judged,
            home=home,
            path_prefix=[Path(python).parent],
            extra_env=setup.environ,
            writable=[scratch],
            read_only_workdir=True,
        )
        for index, (name, gate) in enumerate(zip(_gate_names(spec.gates), spec.gates, strict=True)):
            ctx = GateContext(judged, prepared, env, python, scratch, index)
            results.append(GATES[gate.kind](name, gate, ctx))
    return tuple(results)


def judged_copy(workspace: Path, prepared: Prepared, dest: Path) -> None:
    """The tree the checkers judge, at `dest`: the pristine template, with the workspace's
    changes to the paths the task lets the agent edit (regular files written, files deleted),
    and nothing else of the workspace: no caches, no compiled or binary modules (a `.pyc` or
    an extension Python would import in place of the source the checkers read), no symlink,
    no file outside its scope. (The harness-files gate fails a trial that made any of those.)"""
    copy_tree(prepared.template, dest)
    editable = matcher(prepared.task.spec.editable)
    for rel in changed_paths(workspace, prepared):
        if not editable.match_file(rel) or rel.endswith(BINARY_SUFFIXES):
            continue
        source, target = workspace / rel, dest / rel
        if target.is_symlink() or target.exists():
            target.unlink()
        if not source.is_symlink() and source.is_file():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
