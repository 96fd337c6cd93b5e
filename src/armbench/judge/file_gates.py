"""The file gates every agentic task gets: protected files, the editable scope, the files
that steer the checkers, and no new suppressions. They read the workspace against what was
recorded of the prepared template, and run before any checker, because running the test suite
executes the agent's code, which could otherwise cover its tracks.
"""

from __future__ import annotations

import importlib.machinery
import stat
import tomllib
from pathlib import Path
from typing import Any

import pathspec

from armbench.checks import find_suppressions, new_suppressions
from armbench.core import GateResult, fingerprint_tree, read_regular
from armbench.tasks import Prepared

HARNESS_FILES = (
    "conftest.py", "pytest.ini", "tox.ini", "setup.cfg", "mypy.ini", ".mypy.ini",
    "ruff.toml", ".ruff.toml", ".coveragerc", "sitecustomize.py", "usercustomize.py", "*.pth",
    "*.pyi",
)  # fmt: skip
"""Files that change how the checkers run or what Python loads before the code under test:
pytest's conftest and configuration, the checkers' configuration, the interpreter's startup
hooks, type stubs (which mypy reads instead of the module beside them). `pyproject.toml` counts
when its `[tool]` tables change."""
BINARY_SUFFIXES = tuple(
    sorted(
        {*importlib.machinery.EXTENSION_SUFFIXES, *importlib.machinery.BYTECODE_SUFFIXES}
        | {".so", ".pyd", ".pyc", ".pyo", ".zip", ".egg", ".whl"}
    )
)
"""Modules Python imports that the checkers cannot read: an extension module or bytecode
beside a `.py` is imported instead of it."""


def _kind_of_change(workspace: Path, rel: str) -> str | None:
    """Why a changed path steers what runs without being source the checkers read (None when
    it is an ordinary file, or gone)."""
    try:
        mode = (workspace / rel).lstat().st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(mode):
        return "symlink"
    if not stat.S_ISREG(mode):
        return "not a regular file"
    if rel.endswith(BINARY_SUFFIXES):
        return "binary module"
    return None


MAX_LISTED = 10
"""Paths named in a gate's details before the rest are counted."""


def matcher(patterns: tuple[str, ...]) -> pathspec.PathSpec[Any]:
    return pathspec.PathSpec.from_lines("gitignore", patterns)


def listed(items: list[str]) -> str:
    more = f" (+{len(items) - MAX_LISTED} more)" if len(items) > MAX_LISTED else ""
    return ", ".join(items[:MAX_LISTED]) + more


def changed_paths(workspace: Path, prepared: Prepared) -> list[str]:
    """Paths added, modified or deleted since the workspace was prepared (outputs the pack
    says its tests write, such as coverage data, are not changes)."""
    now = fingerprint_tree(workspace)
    before = prepared.fingerprints
    ignored = prepared.task.setup.ignored
    changed = (p for p in now.keys() | before.keys() if now.get(p) != before.get(p))
    return sorted(p for p in changed if not ignored(p))


def protected_gate(workspace: Path, prepared: Prepared) -> GateResult:
    spec = matcher(prepared.task.spec.protected)
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
    spec = matcher(prepared.task.spec.editable)
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


def _tool_tables(path: Path) -> object:
    data = read_regular(path)
    if data is None:
        return ("missing or not a regular file",)
    try:
        return tomllib.loads(data.decode("utf-8")).get("tool")
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ("unreadable", data)


def harness_gate(workspace: Path, changed: list[str], prepared: Prepared) -> GateResult:
    """Fails on an added, changed or removed file that steers the checkers (HARNESS_FILES),
    and on a new symlink, special file or binary module (which the judged copy leaves out),
    outside the paths the task allows (`harness_allowed`)."""
    harness, allowed = matcher(HARNESS_FILES), matcher(prepared.task.spec.harness_allowed)
    caught = [p for p in changed if harness.match_file(p) and not allowed.match_file(p)]
    caught += [
        f"{p} ({kind})"
        for p in changed
        if not allowed.match_file(p) and (kind := _kind_of_change(workspace, p)) is not None
    ]
    caught += [
        f"{rel} [tool]"
        for rel in changed
        if rel.rsplit("/", 1)[-1] == "pyproject.toml"
        and not allowed.match_file(rel)
        and _tool_tables(prepared.template / rel) != _tool_tables(workspace / rel)
    ]
    return GateResult(
        name="harness_files",
        kind="rule",
        passed=not caught,
        exit_code=None,
        counts={"caught": len(caught)},
        duration_s=0.0,
        details=(
            f"rule harness_files: files that steer the checkers were added or changed: "
            f"{listed(sorted(caught))}"
            if caught
            else ""
        ),
    )


def suppressions_gate(workspace: Path, prepared: Prepared) -> GateResult:
    """Fails when the workspace holds more suppressions than the template did at preparation;
    names each file and kind that gained some."""
    before_by_file = prepared.suppressions
    after_by_file = find_suppressions(workspace)
    before = sum(sum(kinds.values()) for kinds in before_by_file.values())
    after = sum(sum(kinds.values()) for kinds in after_by_file.values())
    added = new_suppressions(before_by_file, after_by_file)
    return GateResult(
        name="no_new_suppressions",
        kind="rule",
        passed=after <= before,
        exit_code=None,
        counts={"before": before, "after": after},
        duration_s=0.0,
        details=(
            f"rule no_new_suppressions: {after - before} more than at the start ({listed(added)})"
            if after > before
            else ""
        ),
    )


def file_gates(workspace: Path, prepared: Prepared) -> list[GateResult]:
    """The file gates the task asks for: protected (when it protects anything), scope, harness
    files, and no new suppressions (when its rules say so)."""
    spec = prepared.task.spec
    results: list[GateResult] = []
    if spec.protected:
        results.append(protected_gate(workspace, prepared))
    changed = changed_paths(workspace, prepared)
    results.append(scope_gate(changed, prepared))
    results.append(harness_gate(workspace, changed, prepared))
    if "no_new_suppressions" in spec.rules:
        results.append(suppressions_gate(workspace, prepared))
    return results
