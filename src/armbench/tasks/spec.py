"""The task file (`task.yaml`): everything needed to prepare, attempt and judge one task.

A task folder holds the task file, optional overlay folders it names (setup files, the reference
solution) and — directly or by a relative path — the fixture repository it starts from. The
format is data, not code: tasks can be listed, hashed, validated and shared without importing
anything from them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from armbench.core import Limits, format_validation_error
from armbench.tasks.pack_setup import PackSetup
from armbench.tasks.pack_spec import SOURCE_FIXTURE

TASK_FILE = "task.yaml"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class InjectStep(_Spec):
    """Break the copied fixture with the breakage injector (see `armbench inject`)."""

    mypy: int = Field(0, ge=0)
    """Mutations that each add exactly one mypy error."""
    ruff: int = Field(0, ge=0)
    """Mutations that each add exactly one ruff violation."""
    collect: int = Field(0, ge=0)
    """Mutations that each add exactly one pytest collection error."""
    seed: int | None = None
    """Fixed injection seed; when absent each replicate draws its own (the same for every arm)."""


class PrepareSpec(_Spec):
    """How the workspace is built: copy the fixture, overlay files, then inject breakage."""

    overlay: str | None = None
    """Folder (relative to the task folder) whose files are copied over the fixture."""
    inject: InjectStep | None = None


class SolutionSpec(_Spec):
    """The reference solution, as the final state of the files it changes."""

    overlay: str | None = None
    """Folder (relative to the task folder) holding the final content of each changed file."""
    delete: tuple[str, ...] = ()
    """Paths the solution removes."""
    restore_injected: bool = False
    """Undo the injected breakage: the files the injector changed get their original bytes."""

    @model_validator(mode="after")
    def _not_empty(self) -> SolutionSpec:
        if not (self.overlay or self.delete or self.restore_injected):
            raise ValueError("a solution needs an overlay, deletions or restore_injected")
        return self


class MypyGate(_Spec):
    """Passes when `python -m mypy` (the fixture's configuration) reports no error."""

    kind: Literal["mypy"]
    args: tuple[str, ...] = ()
    """Extra arguments, e.g. paths; none means the fixture's `files` setting."""


class RuffGate(_Spec):
    """Passes when `python -m ruff check` reports no violation."""

    kind: Literal["ruff"]
    args: tuple[str, ...] = (".",)


class PytestGate(_Spec):
    """Passes when pytest collects everything, nothing fails or errors, and enough tests pass."""

    kind: Literal["pytest"]
    args: tuple[str, ...] = ()
    min_passed: int = Field(1, ge=0)
    """Fewest passing tests accepted: deleting the failing tests must not make a green build."""
    timeout_s: float = Field(600, gt=0)
    """Seconds the suite may run before it is stopped and the gate fails (a real project's
    whole suite on a busy machine needs more than a small fixture's)."""
    test_timeout_s: float | None = Field(None, gt=0)
    """Seconds one test may run before it is stopped and fails, named (a test that hangs on
    broken code then costs this, not the whole `timeout_s`); None: no limit per test."""


class MovedFunctionGate(_Spec):
    """Structural check, from the AST: `function` moved from module `source` to module `target`
    unchanged, and no code anywhere still reaches it through `source`."""

    kind: Literal["moved_function"]
    function: str
    source: str
    """Dotted module the function was in, e.g. `tallyho.money`."""
    target: str
    """Dotted module it must now live in."""


GateSpec = Annotated[
    MypyGate | RuffGate | PytestGate | MovedFunctionGate, Field(discriminator="kind")
]

Rule = Literal["no_new_suppressions"]
"""`no_new_suppressions`: no more `# type: ignore` / `# noqa` comments than at the start."""


class TaskSpec(_Spec):
    """One task, as written in `task.yaml`."""

    kind: Literal["agentic"] = "agentic"
    """The task format: an agent works in a workspace with tools (the default when absent).
    Single-shot tasks (`kind: single_shot`) are described in `armbench.tasks.single_shot`."""
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    prompt: str
    """What the agent is asked; it should state the rules the judge enforces."""
    fixture: str = SOURCE_FIXTURE
    """The repository the workspace starts from, relative to the task folder (or absolute);
    `@source` (the default) is the pack's `source` (see armbench.tasks.pack_spec)."""
    prepare: PrepareSpec = PrepareSpec()
    solution: SolutionSpec
    gates: tuple[GateSpec, ...] = Field(min_length=1)
    editable: tuple[str, ...] = ("**",)
    """Gitignore-style patterns of the paths the agent may change; a change elsewhere fails."""
    protected: tuple[str, ...] = ()
    """Paths that must be byte-identical when judged (checked against pristine fingerprints)."""
    harness_allowed: tuple[str, ...] = ()
    """Gitignore-style patterns of the paths where the agent may add or change files that steer
    the checkers themselves (`conftest.py`, pytest, mypy or ruff configuration, `sitecustomize`,
    `usercustomize`, `.pth`); any other such change fails the `harness_files` gate."""
    rules: tuple[Rule, ...] = ()
    check_commands: tuple[str, ...] = ()
    """The commands the prompt tells the agent to run to check its work."""
    limits: Limits = Limits()
    """The task's defaults; a run's config overrides them field by field."""

    @model_validator(mode="after")
    def _restore_needs_injection(self) -> TaskSpec:
        if self.solution.restore_injected and self.prepare.inject is None:
            raise ValueError("solution.restore_injected needs prepare.inject")
        return self


class TaskFileError(ValueError):
    """A task file that cannot be used; the message names the file and the field."""


class Task:
    """A loaded task: its spec, the folder its relative paths resolve against, and what it
    takes from its pack (fixture source, toolchain, checker arguments, environment)."""

    def __init__(self, spec: TaskSpec, folder: Path, setup: PackSetup | None = None) -> None:
        self.spec = spec
        self.folder = folder
        self.setup = setup if setup is not None else PackSetup.default()

    @property
    def id(self) -> str:
        return self.spec.id

    def resolve(self, relative: str) -> Path:
        return (self.folder / relative).resolve()

    @property
    def uses_source(self) -> bool:
        return self.spec.fixture == SOURCE_FIXTURE

    @property
    def fixture_dir(self) -> Path:
        """The fixture's folder; for the pack's source, fetched on first use (SourceError)."""
        if self.uses_source:
            return self.setup.fixture()
        return self.resolve(self.spec.fixture)

    def __repr__(self) -> str:
        return f"Task({self.id!r}, {self.folder})"


def read_task_file(path: Path) -> Any:
    """The parsed YAML of a task file, whatever its kind."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise TaskFileError(f"{path}: not valid YAML: {exc}") from exc


def load_task(folder: Path, setup: PackSetup | None = None) -> Task:
    """Read and check `folder/task.yaml`, including that the folders it names exist.

    Only agentic tasks; `armbench.tasks.single_shot.load_any_task` loads either kind.
    """
    path = folder / TASK_FILE
    return task_from_raw(read_task_file(path), folder, path, setup)


def task_from_raw(raw: Any, folder: Path, path: Path, setup: PackSetup | None = None) -> Task:
    """An agentic task from the parsed content of its file `path` (in `folder`); the pack's
    checker arguments fill in every gate that gives none of its own."""
    if isinstance(raw, dict) and raw.get("kind") == "single_shot":
        raise TaskFileError(f"{path}: kind: a single-shot task is not an agentic task")
    try:
        spec = TaskSpec.model_validate(raw)
    except ValidationError as exc:
        raise TaskFileError(f"{path}: {format_validation_error(exc)}") from exc
    setup = setup if setup is not None else PackSetup.default()
    spec = spec.model_copy(update={"gates": _with_pack_args(spec.gates, setup)})
    task = Task(spec, folder.resolve(), setup)
    if task.uses_source and not setup.has_source:
        raise TaskFileError(
            f"{path}: fixture: the task uses the pack's source (`{SOURCE_FIXTURE}`, also the "
            "default) but its pack.yaml declares no `source`; name a fixture folder"
        )
    fixture = None if task.uses_source else spec.fixture
    named = {"fixture": fixture, "prepare.overlay": spec.prepare.overlay}
    named["solution.overlay"] = spec.solution.overlay
    for field_name, relative in named.items():
        if relative is not None and not task.resolve(relative).is_dir():
            raise TaskFileError(f"{path}: {field_name}: folder {relative!r} does not exist")
    return task


def _with_pack_args(gates: tuple[GateSpec, ...], setup: PackSetup) -> tuple[GateSpec, ...]:
    """Each checker gate that sets no `args` of its own takes the pack's (`checks`)."""
    args = setup.check_args
    by_kind = {"mypy": args.mypy, "ruff": args.ruff, "pytest": args.pytest}
    return tuple(
        gate.model_copy(update={"args": by_kind[gate.kind]})
        if isinstance(gate, MypyGate | RuffGate | PytestGate)
        and "args" not in gate.model_fields_set
        else gate
        for gate in gates
    )
