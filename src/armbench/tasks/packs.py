"""Packs: named sets of tasks, built in (under armbench/packs/) or a user's folder."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from armbench.tasks.spec import TASK_FILE, Task, TaskFileError, load_task

BUILTIN_PACKS = Path(__file__).resolve().parent.parent / "packs"


@dataclass(frozen=True)
class Pack:
    name: str
    folder: Path
    description: str
    tasks: tuple[Task, ...]

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        known = ", ".join(t.id for t in self.tasks)
        raise KeyError(f"pack {self.name!r} has no task {task_id!r} (it has: {known})")


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


def load_pack(name_or_path: str, base: Path | None = None) -> Pack:
    """Load every `tasks/*/task.yaml` of a pack; `pack.yaml` may give a description."""
    folder = resolve_pack_folder(name_or_path, base)
    meta_file = folder / "pack.yaml"
    meta = yaml.safe_load(meta_file.read_text(encoding="utf-8")) if meta_file.is_file() else {}
    task_dirs = sorted(p.parent for p in (folder / "tasks").glob(f"*/{TASK_FILE}"))
    if not task_dirs:
        raise TaskFileError(f"{folder}: no tasks/*/{TASK_FILE} found; is this a pack folder?")
    tasks = tuple(load_task(d) for d in task_dirs)
    ids = [t.id for t in tasks]
    if len(set(ids)) != len(ids):
        raise TaskFileError(f"{folder}: duplicate task ids: {sorted(ids)}")
    return Pack(
        name=str((meta or {}).get("name", folder.name)),
        folder=folder,
        description=str((meta or {}).get("description", "")),
        tasks=tasks,
    )
