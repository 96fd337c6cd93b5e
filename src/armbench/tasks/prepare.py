"""Preparing a task's starting tree: copy the fixture, overlay files, inject breakage.

A task is prepared once per injection seed into a template folder outside every workspace; each
trial gets a fresh copy. The template doubles as the pristine reference the judge compares
against (fingerprints of every file, the original of a moved function, the suppressions it
already holds, the tests its reference solution passes), and it is never handed to an agent.
Its files are made read-only, and it is fingerprinted again before every copy and every judge:
a template that changed since preparation stops the trial as a failure of the harness.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from armbench.checks import (
    Suppressions,
    find_suppressions,
    run_mypy,
    run_pytest,
)
from armbench.core import copy_tree, fingerprint_tree, iter_files
from armbench.env import LOCAL, EnvironmentFactory
from armbench.tasks.inject import InjectionManifest, InjectionRequest, inject, restore
from armbench.tasks.reference_bodies import function_fingerprints
from armbench.tasks.shared_mypy_cache import publish, seed, shared_cache
from armbench.tasks.spec import MypyGate, PytestGate, Task


class TemplateChanged(RuntimeError):
    """A prepared template (or its mypy cache) no longer matches its fingerprints: something
    wrote to the harness's own files, so no trial on it can be judged."""


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
    suppressions: Suppressions = field(default_factory=dict)
    """The suppressions the template holds, by file and kind: the `no_new_suppressions` rule's
    "before", counted once here rather than on a folder that could change later."""
    reference_tests: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    """For each pytest gate (by its index in the task's gates): the node ids of the tests that
    pass on the template with the reference solution, in files that exist in the template and
    that the solution leaves alone. A trial must pass every one of them: a test that went
    missing, skipped or deselected fails the gate, whatever the counts say."""
    reference_bodies: Mapping[str, str] = field(default_factory=dict)
    """sha256 of the AST of each reference test's function (armbench.tasks.reference_bodies): a
    trial that emptied or weakened one fails, even where the task lets it edit tests."""
    cache_fingerprints: dict[str, str] = field(default_factory=dict)
    """sha256 of every file of `mypy_cache`."""

    def verify(self) -> None:
        """TemplateChanged unless the template and its mypy cache are as they were prepared."""
        changed = _differences(self.fingerprints, fingerprint_tree(self.template))
        if self.mypy_cache is not None:
            now = fingerprint_tree(self.mypy_cache)
            changed += [f"(mypy cache) {p}" for p in _differences(self.cache_fingerprints, now)]
        if changed:
            more = f" (+{len(changed) - 5} more)" if len(changed) > 5 else ""
            raise TemplateChanged(
                f"the prepared template {self.template} changed since preparation: "
                f"{', '.join(changed[:5])}{more}; something outside the harness wrote to it, "
                "so no trial on it can be judged"
            )

    def materialize(self, workspace: Path) -> None:
        """A fresh, writable copy of the template at `workspace` (which must not exist)."""
        self.verify()
        copy_tree(self.template, workspace)
        make_writable(workspace)


def _differences(before: Mapping[str, str], after: Mapping[str, str]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def make_read_only(root: Path) -> None:
    """Clear the write bits of every file under `root` (folders stay writable, so the harness
    can remove the tree). A guard against accidents: root ignores it, the fingerprints do not."""
    for rel in iter_files(root):
        path = root / rel
        if not path.is_symlink():
            path.chmod(stat.S_IMODE(path.stat().st_mode) & ~0o222)


def make_writable(root: Path) -> None:
    """Give the owner back the write bit on every file under `root` (a copy of a template)."""
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            path = Path(dirpath) / name
            if not path.is_symlink():
                path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR)


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
    """Build `task`'s starting tree at `template` (must not exist) and describe it; `python` is
    the checkers' interpreter unless the task's pack brings its own toolchain."""
    spec = task.spec
    python = task.setup.python(python)
    environ = task.setup.environ
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
            template,
            request,
            python=python,
            extra_env=environ,
            environments=environments,
            args=task.setup.check_args,
        )

    solution: dict[str, str | None] = {}
    if spec.solution.restore_injected and manifest is not None:
        solution.update(_originals(template, manifest))
    if spec.solution.overlay:
        solution.update(_overlay_files(task.resolve(spec.solution.overlay)))
    solution.update(dict.fromkeys(spec.solution.delete))
    fingerprints = fingerprint_tree(template)  # before mypy runs in it, though it writes nothing
    reference = _reference_tests(task, template, solution, python, environments)
    bodies = function_fingerprints(
        template, [node for nodes in reference.values() for node in nodes]
    )
    cache = _warm_mypy_cache(task, template, python, environments)
    make_read_only(template)
    if cache is not None:
        make_read_only(cache)
    return Prepared(
        task=task,
        template=template,
        fingerprints=fingerprints,
        solution=solution,
        injection=manifest,
        inject_seed=seed,
        mypy_cache=cache,
        suppressions=find_suppressions(template),
        reference_tests=reference,
        reference_bodies=bodies,
        cache_fingerprints=fingerprint_tree(cache) if cache is not None else {},
    )


def _reference_tests(
    task: Task,
    template: Path,
    solution: Mapping[str, str | None],
    python: str,
    environments: EnvironmentFactory,
) -> dict[int, tuple[str, ...]]:
    """Run each pytest gate on a copy of the template with the reference solution applied, and
    keep the node ids that passed in files the template has and the solution does not touch
    (tests the agent is expected to write itself are judged by the gate's counts alone)."""
    gates = [(i, g) for i, g in enumerate(task.spec.gates) if isinstance(g, PytestGate)]
    if not gates:
        return {}
    untouched = {rel for rel in iter_files(template) if rel not in solution}
    reference: dict[int, tuple[str, ...]] = {}
    with tempfile.TemporaryDirectory(prefix="armbench-reference-") as tmp:
        repo, scratch = Path(tmp) / "repo", Path(tmp) / "scratch"
        copy_tree(template, repo)
        apply_solution(repo, dict(solution))
        (scratch / "home").mkdir(parents=True)
        env = environments(
            repo,
            home=scratch / "home",
            path_prefix=[Path(python).parent],
            extra_env=task.setup.environ,
            writable=[scratch],
        )
        for index, gate in gates:
            report = run_pytest(
                env, python=python, args=gate.args, timeout_s=gate.timeout_s, report_dir=scratch
            )
            passed = [node for node, outcome in report.tests.items() if outcome == "passed"]
            reference[index] = tuple(sorted(n for n in passed if n.split("::")[0] in untouched))
    return reference


def _warm_mypy_cache(
    task: Task, template: Path, python: str, environments: EnvironmentFactory
) -> Path | None:
    """Run the task's mypy gate once on the template, keeping its cache beside it. Its
    verdict does not matter: a broken template still leaves the rest of the cache warm. It
    starts from the user's shared cache (armbench.tasks.shared_mypy_cache) and fills it."""
    gate = next((g for g in task.spec.gates if isinstance(g, MypyGate)), None)
    if gate is None:
        return None
    cache = template.with_name(template.name + ".mypy-cache")
    cache.mkdir(exist_ok=True)
    shared = shared_cache(python, template, gate.args)
    seeded = seed(cache, shared)
    env = environments(
        template, path_prefix=[Path(python).parent], extra_env=task.setup.environ, writable=[cache]
    )
    run_mypy(env, python=python, args=gate.args, cache_dir=cache)
    if not cache.is_dir():
        return None
    if not seeded:
        publish(cache, shared)
    return cache


def apply_solution(workspace: Path, solution: dict[str, str | None]) -> None:
    """Write the reference solution into a workspace directly (for validation, not for agents)."""
    for rel, content in solution.items():
        path = workspace / rel
        if content is None:
            path.unlink(missing_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
