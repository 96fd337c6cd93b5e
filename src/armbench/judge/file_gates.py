"""The file gates every agentic task gets: protected files, the editable scope, and no new
suppressions. They read the workspace against the prepared template's fingerprints, and run
before any checker, because running the test suite executes the agent's code, which could
otherwise cover its tracks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pathspec

from armbench.core import GateResult, fingerprint_tree
from armbench.judge.rules import count_suppressions
from armbench.tasks import Prepared

MAX_LISTED = 10
"""Paths named in a gate's details before the rest are counted."""


def _matcher(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def listed(items: list[str]) -> str:
    more = f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


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
        details=f"protected files changed or removed: {listed(altered)}" if altered else "",
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
        details=f"changed outside the editable paths: {listed(outside)}" if outside else "",
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
            f"(files with any: {listed(sorted(after_by_file))})"
            if after > before
            else ""
        ),
    )


def file_gates(workspace: Path, prepared: Prepared) -> list[GateResult]:
    """The file gates the task asks for: protected (when it protects anything), scope, and
    no new suppressions (when its rules say so)."""
    spec = prepared.task.spec
    results: list[GateResult] = []
    if spec.protected:
        results.append(protected_gate(workspace, prepared))
    results.append(scope_gate(changed_paths(workspace, prepared), prepared))
    if "no_new_suppressions" in spec.rules:
        results.append(suppressions_gate(workspace, prepared))
    return results
