"""Single-shot tasks (`task.yaml` with `kind: single_shot`): one completion, no tools.

The model is asked once, by `prompt`, for the full content of the files in `files`. Its answer
is scored by `armbench.judge.single_shot`: the files are extracted from the text, written into
a copy of the `fixture` folder, the `run` commands are run there, and every `check` must pass.

    kind: single_shot
    id: csv-totals
    title: Totals per category from a CSV file
    prompt: |
      Write a Python program `solution.py` ...
    files: [solution.py]
    fixture: fixture
    run:
      - {command: "python solution.py data.csv", timeout_s: 20}
    check:
      - {kind: stdout, step: 0, expected: expected.txt, match: exact}
      - {kind: command, command: "python check_output.py", timeout_s: 20}
    solution: {overlay: solution}

Like agentic tasks, the format is data: nothing in a task folder is imported to load it.
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from armbench.core import format_validation_error
from armbench.tasks.pack_setup import PackSetup
from armbench.tasks.spec import TASK_FILE, Task, TaskFileError, read_task_file, task_from_raw


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _safe_relative(path: str) -> str:
    """`path` if it is a plain relative posix path inside the workspace, else ValueError."""
    pure = PurePosixPath(path)
    if (
        not path.strip()
        or "\\" in path
        or pure.is_absolute()
        or ".." in pure.parts
        or path != pure.as_posix()
        or path.startswith("./")
    ):
        raise ValueError(f"{path!r} must be a relative path like 'solution.py' or 'pkg/mod.py'")
    return path


class RunStep(_Model):
    """A command run in the scoring workspace once the answer's files are written."""

    command: str = Field(min_length=1)
    """Run through bash in the workspace; `python` is the interpreter armbench scores with."""
    timeout_s: float = Field(20.0, gt=0)
    """Killed (and failed) after this many seconds."""
    expect_exit: int = 0
    """The exit code that counts as success (e.g. 1 for a step that must reject bad input)."""


class StdoutCheck(_Model):
    """Passes when the standard output of a run step matches an expected file."""

    kind: Literal["stdout"]
    step: int = Field(0, ge=0)
    """Index (from 0) of the run step whose standard output is compared."""
    expected: str
    """File with the expected output, relative to the task folder. Keep it outside the
    fixture so the answer's program cannot read it."""
    match: Literal["exact", "lines", "json"] = "exact"
    """`exact`: identical text. `lines`: identical after dropping trailing whitespace on each
    line, trailing blank lines and carriage returns. `json`: both parse as JSON to equal
    values."""


class CommandCheck(_Model):
    """Passes when a command (typically a hidden checker script from the fixture) exits 0."""

    kind: Literal["command"]
    command: str = Field(min_length=1)
    """Run through bash in the workspace after every run step."""
    timeout_s: float = Field(20.0, gt=0)
    """Killed (and failed) after this many seconds."""


CheckSpec = Annotated[StdoutCheck | CommandCheck, Field(discriminator="kind")]


class SingleShotSolution(_Model):
    """The reference answer, as the final content of every required file."""

    overlay: str
    """Folder (relative to the task folder) holding each file of `files`."""


class SingleShotSpec(_Model):
    """One single-shot task, as written in `task.yaml`."""

    kind: Literal["single_shot"]
    """Marks the file as a single-shot task (agentic task files have no `kind`)."""
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    """Unique within its pack."""
    title: str
    """One line, for listings."""
    prompt: str = Field(min_length=1)
    """What the model is asked; it should name the file(s) to write and how they are run."""
    files: tuple[str, ...] = Field(min_length=1)
    """The files an answer must provide, as relative paths in the workspace."""
    fixture: str | None = None
    """Folder (relative to the task folder) copied into the scoring workspace first: input
    data and hidden checker scripts. None: the workspace starts empty."""
    run: tuple[RunStep, ...] = ()
    """Commands run in order in the workspace after the answer's files are written."""
    check: tuple[CheckSpec, ...] = Field(min_length=1)
    """Checks run after the run steps; each is a gate and every one must pass."""
    solution: SingleShotSolution
    """The reference answer, used by `armbench tasks validate`."""

    @field_validator("files")
    @classmethod
    def _files_are_relative_and_unique(cls, files: tuple[str, ...]) -> tuple[str, ...]:
        for path in files:
            _safe_relative(path)
        if len(set(files)) != len(files):
            raise ValueError(f"duplicate paths in {list(files)}")
        return files

    @model_validator(mode="after")
    def _steps_exist(self) -> SingleShotSpec:
        for i, check in enumerate(self.check):
            if isinstance(check, StdoutCheck) and check.step >= len(self.run):
                raise ValueError(
                    f"check.{i}.step: {check.step} names no run step (there are {len(self.run)})"
                )
        return self

    @property
    def gates(self) -> tuple[StdoutCheck | CommandCheck, ...]:
        """The checks, under the name agentic tasks use for theirs (for listings)."""
        return self.check


class SingleShotTask:
    """A loaded single-shot task: its spec plus the folder its relative paths resolve against."""

    def __init__(self, spec: SingleShotSpec, folder: Path) -> None:
        self.spec = spec
        self.folder = folder

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def files(self) -> tuple[str, ...]:
        """The files an answer must provide."""
        return self.spec.files

    def resolve(self, relative: str) -> Path:
        return (self.folder / relative).resolve()

    @property
    def fixture_dir(self) -> Path | None:
        """The folder copied into the scoring workspace, if the task has one."""
        return None if self.spec.fixture is None else self.resolve(self.spec.fixture)

    @property
    def solution_dir(self) -> Path:
        return self.resolve(self.spec.solution.overlay)

    def reference_files(self) -> dict[str, str]:
        """The reference answer: the content of each required file, in `files` order."""
        return {
            rel: (self.solution_dir / rel).read_text(encoding="utf-8") for rel in self.spec.files
        }

    @property
    def run_line(self) -> str | None:
        """The run steps as one shell line (for a `RUN:` line), or None without steps."""
        commands = [step.command for step in self.spec.run]
        return " && ".join(commands) if commands else None

    def __repr__(self) -> str:
        return f"SingleShotTask({self.id!r}, {self.folder})"


AnyTask = Task | SingleShotTask
"""Either kind of task a pack may hold."""

TaskKind = Literal["agentic", "single_shot"]
"""An agentic task is a workspace judged by gates; a single-shot task is one answer, scored."""


def task_kind(task: AnyTask) -> TaskKind:
    return "single_shot" if isinstance(task, SingleShotTask) else "agentic"


def single_shot_from_raw(raw: Any, folder: Path, path: Path) -> SingleShotTask:
    """A single-shot task from the parsed content of its file `path` (in `folder`)."""
    try:
        spec = SingleShotSpec.model_validate(raw)
    except ValidationError as exc:
        raise TaskFileError(f"{path}: {format_validation_error(exc)}") from exc
    task = SingleShotTask(spec, folder.resolve())
    if spec.fixture is not None and not task.resolve(spec.fixture).is_dir():
        raise TaskFileError(f"{path}: fixture: folder {spec.fixture!r} does not exist")
    if not task.solution_dir.is_dir():
        raise TaskFileError(
            f"{path}: solution.overlay: folder {spec.solution.overlay!r} does not exist"
        )
    for rel in spec.files:
        if not (task.solution_dir / rel).is_file():
            raise TaskFileError(
                f"{path}: solution.overlay: {spec.solution.overlay}/{rel} is missing "
                "(the reference answer needs every file of `files`)"
            )
    for i, check in enumerate(spec.check):
        if isinstance(check, StdoutCheck) and not task.resolve(check.expected).is_file():
            raise TaskFileError(
                f"{path}: check.{i}.expected: file {check.expected!r} does not exist"
            )
    return task


def load_single_shot_task(folder: Path) -> SingleShotTask:
    """Read and check `folder/task.yaml` as a single-shot task, with the files it names."""
    path = folder / TASK_FILE
    return single_shot_from_raw(read_task_file(path), folder, path)


def load_any_task(folder: Path, setup: PackSetup | None = None) -> AnyTask:
    """Read `folder/task.yaml` as the kind it declares: `single_shot`, or agentic (no `kind`,
    or `kind: agentic`, which takes `setup` from its pack)."""
    path = folder / TASK_FILE
    raw = read_task_file(path)
    kind = raw.get("kind", "agentic") if isinstance(raw, dict) else "agentic"
    if kind == "single_shot":
        return single_shot_from_raw(raw, folder, path)
    if kind != "agentic":
        raise TaskFileError(f"{path}: kind: {kind!r} is not 'agentic' or 'single_shot'")
    return task_from_raw(raw, folder, path, setup)
