"""Packs: named sets of tasks, built in (under armbench/packs/) or a user's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from armbench.core import format_validation_error
from armbench.tasks.pack_setup import PackSetup
from armbench.tasks.pack_spec import PACK_FILE, PackSpec
from armbench.tasks.single_shot import AnyTask, SingleShotTask, load_any_task
from armbench.tasks.spec import TASK_FILE, Task, TaskFileError

BUILTIN_PACKS = Path(__file__).resolve().parent.parent / "packs"


@dataclass(frozen=True)
class Pack:
    name: str
    folder: Path
    description: str
    tasks: tuple[AnyTask, ...]
    """Agentic tasks (`Task`) and single-shot tasks (`SingleShotTask`), sorted by folder."""
    setup: PackSetup | None = None
    """What its agentic tasks share (None for a combination of packs: each task has its own)."""

    def task(self, task_id: str) -> AnyTask:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(t.id for t in self.tasks)
        raise KeyError(f"pack {self.name!r} has no task {task_id!r} (it has: {known})")

    @property
    def agentic_tasks(self) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if isinstance(t, Task))

    @property
    def single_shot_tasks(self) -> tuple[SingleShotTask, ...]:
        return tuple(t for t in self.tasks if isinstance(t, SingleShotTask))


def builtin_pack_names() -> list[str]:
    return sorted(p.name for p in BUILTIN_PACKS.iterdir() if (p / "tasks").is_dir())


def resolve_pack_folder(name_or_path: str, base: Path | None = None) -> Path:
    """A built-in pack name, or a folder path (relative to `base`, e.g. the config's folder)."""
    if "/" not in name_or_path and (BUILTIN_PACKS / name_or_path / "tasks").is_dir():
        return BUILTIN_PACKS / name_or_path
    candidate = Path(name_or_path).expanduser()
    if not candidate.is_absolute() and base is not None:
        candidate = base / candidate
    if candidate.is_dir():
        return candidate.resolve()
    builtins = ", ".join(builtin_pack_names())
    raise TaskFileError(
        f"pack {name_or_path!r}: no built-in pack by that name ({builtins}) and no such folder"
    )


def _at(mark: yaml.Mark | None) -> str:
    return "" if mark is None else f" at line {mark.line + 1}, column {mark.column + 1}"


def read_yaml(path: Path) -> Any:
    """The parsed YAML of `path`, or a TaskFileError in one line naming the file (and, for a
    syntax error, the line and column): never a traceback, never a screen of parser context."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise TaskFileError(f"{path}: cannot read it ({exc.strerror})") from exc
    except UnicodeDecodeError as exc:
        raise TaskFileError(
            f"{path}: not UTF-8 text (byte {exc.start} is not UTF-8); save it as UTF-8"
        ) from exc
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        what = f"{exc.problem}{_at(exc.problem_mark)}"
        if exc.context is not None:
            what += f" ({exc.context}{_at(exc.context_mark)})"
        raise TaskFileError(f"{path}: not valid YAML: {what}; fix the syntax there") from exc
    except yaml.YAMLError as exc:
        raise TaskFileError(f"{path}: not valid YAML ({exc})") from exc


def read_pack_spec(folder: Path) -> PackSpec:
    """`folder/pack.yaml` checked (an absent file: a pack of defaults); TaskFileError naming
    the file and the field otherwise."""
    meta_file = folder / PACK_FILE
    if not meta_file.exists():
        return PackSpec()
    fields = f"a {PACK_FILE} may set {', '.join(PackSpec.model_fields)}"
    if not meta_file.is_file():
        raise TaskFileError(f"{meta_file}: not a file; {fields}")
    raw = read_yaml(meta_file)
    if raw is not None and not isinstance(raw, dict):
        raise TaskFileError(
            f"{meta_file}: a YAML {type(raw).__name__}, not a mapping of settings; {fields}"
        )
    try:
        return PackSpec.model_validate(raw or {})
    except ValidationError as exc:
        unknown = any(e["type"] == "extra_forbidden" and len(e["loc"]) == 1 for e in exc.errors())
        hint = f" ({fields})" if unknown else ""
        raise TaskFileError(f"{meta_file}: {format_validation_error(exc)}{hint}") from exc


def load_pack(name_or_path: str, base: Path | None = None) -> Pack:
    """Load every `tasks/*/task.yaml` of a pack, of either kind, with what `pack.yaml` says
    they share (armbench.tasks.pack_spec). Nothing is fetched or built here: that happens on
    first use (preflight, `tasks validate`)."""
    folder = resolve_pack_folder(name_or_path, base)
    spec = read_pack_spec(folder)
    setup = PackSetup(folder=folder, spec=spec)
    task_dirs = sorted(p.parent for p in (folder / "tasks").glob(f"*/{TASK_FILE}"))
    if not task_dirs:
        raise TaskFileError(f"{folder}: no tasks/*/{TASK_FILE} found; is this a pack folder?")
    tasks = tuple(load_any_task(d, setup) for d in task_dirs)
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise TaskFileError(f"{folder}: duplicate task ids: {sorted(ids)}")
    return Pack(
        name=spec.name or folder.name,
        folder=folder,
        description=spec.description,
        tasks=tasks,
        setup=setup,
    )


def combine(packs: list[Pack]) -> Pack:
    """One pack holding the tasks of several (their ids must not collide)."""
    if len(packs) == 1:
        return packs[0]
    seen: dict[str, str] = {}
    for pack in packs:
        for task in pack.tasks:
            if task.id in seen:
                raise TaskFileError(
                    f"task id {task.id!r} is in both pack {seen[task.id]!r} and pack {pack.name!r}"
                )
            seen[task.id] = pack.name
    return Pack(
        name="+".join(p.name for p in packs),
        folder=packs[0].folder,
        description="; ".join(p.description for p in packs if p.description),
        tasks=tuple(t for p in packs for t in p.tasks),
    )
