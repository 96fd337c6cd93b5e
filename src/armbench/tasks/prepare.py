"""Preparing a task's starting tree: copy the fixture, overlay files, inject breakage.

A task is prepared once per injection seed into a template folder outside every workspace; each
trial gets a fresh copy. The template doubles as the pristine reference the judge compares
against (fingerprints of every file, the original of a moved function), and it is never handed
to an agent.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from armbench.checks import JUDGED_ENV, run_mypy
from armbench.core import copy_tree, fingerprint_tree, iter_files
from armbench.env import LOCAL, EnvironmentFactory
from armbench.tasks.inject import InjectionManifest, InjectionRequest, inject, restore
from armbench.tasks.spec import MypyGate, Task


@dataclass(frozen=True)
class Prepared:
    task: Task
    template: Path
    """The prepared tree; trials work on copies of it."""
    fingerprints: dict[str, str]
    """sha256 of every file of the template, for the scope and protected-files gates."""
    solution: dict[str, str | None]
    """The reference solution: final content of each file it changes (None: deleted)."""
    injection: InjectionManifest | None = None
    inject_seed: int | None = None
    mypy_cache: Path | None = None
    """A mypy cache the harness built from the template: copies of it start the agent's and
    the judge's mypy warm (seconds per trial), and the agent never touches the judge's copy."""

    def materialize(self, workspace: Path) -> None:
        """A fresh copy of the template at `workspace` (which must not exist)."""
        copy_tree(self.template, workspace)


def _overlay_files(folder: Path) -> dict[str, str]:
    return {rel: (folder / rel).read_text(encoding="utf-8") for rel in iter_files(folder)}


def _originals(template: Path, manifest: InjectionManifest) -> dict[str, str | None]:
    """The pre-injection text of each file the injector touched, by undoing it on a copy."""
    with tempfile.TemporaryDirectory(prefix="armbench-restore-") as tmp:
        scratch = Path(tmp)
        for rel in manifest.touched_paths:
            (scratch / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(template / rel, scratch / rel)
        restore(scratch, manifest)
        return {rel: (scratch / rel).read_text(encoding="utf-8") for rel in manifest.touched_paths}


def prepare(
    task: Task,
    template: Path,
    *,
    inject_seed: int | None,
    python: str,
    environments: EnvironmentFactory = LOCAL,
) -> Prepared:
    """Build `task`'s starting tree at `template` (must not exist) and describe it."""
    spec = task.spec
    copy_tree(task.fixture_dir, template)
    if spec.prepare.overlay:
        shutil.copytree(task.resolve(spec.prepare.overlay), template, dirs_exist_ok=True)

    manifest = None
    seed = None
    if spec.prepare.inject is not None:
        step = spec.prepare.inject
        seed = step.seed if step.seed is not None else inject_seed
        if seed is None:
            raise ValueError(f"task {task.id}: injection needs a seed")
        request = InjectionRequest(mypy=step.mypy, ruff=step.ruff, collect=step.collect, seed=seed)
        manifest = inject(
            template, request, python=python, extra_env=JUDGED_ENV, environments=environments
        )

    solution: dict[str, str | None] = {}
    if spec.solution.restore_injected and manifest is not None:
        solution.update(_originals(template, manifest))
    if spec.solution.overlay:
        solution.update(_overlay_files(task.resolve(spec.solution.overlay)))
    solution.update(dict.fromkeys(spec.solution.delete))
    fingerprints = fingerprint_tree(template)  # before mypy runs in it, though it writes nothing
    return Prepared(
        task=task,
        template=template,
        fingerprints=fingerprints,
        solution=solution,
        injection=manifest,
        inject_seed=seed,
        mypy_cache=_warm_mypy_cache(task, template, python, environments),
    )


def _warm_mypy_cache(
    task: Task, template: Path, python: str, environments: EnvironmentFactory
) -> Path | None:
    """Run the task's mypy gate once on the template, keeping its cache beside it. Its
    verdict does not matter: a broken template still leaves the rest of the cache warm."""
    gate = next((g for g in task.spec.gates if isinstance(g, MypyGate)), None)
    if gate is None:
        return None
    cache = template.with_name(template.name + ".mypy-cache")
    cache.mkdir(exist_ok=True)
    env = environments(template, extra_env=JUDGED_ENV, writable=[cache])
    run_mypy(env, python=python, args=gate.args, cache_dir=cache)
    return cache if cache.is_dir() else None


def apply_solution(workspace: Path, solution: dict[str, str | None]) -> None:
    """Write the reference solution into a workspace directly (for validation, not for agents)."""
    for rel, content in solution.items():
        path = workspace / rel
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
