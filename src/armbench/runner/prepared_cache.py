"""The prepared-workspace cache: each task's template, built once per (task, injection seed)
and shared by every arm, so every arm of a replicate starts from the same bytes.

Preparing runs the checkers (an injection is verified by mypy, ruff and pytest), so it takes
one of the run's CPU slots (`cpu`, shared with the judge: armbench.runner.capacity). It happens
before a trial's first model call, while its clock has not started."""

from __future__ import annotations

import contextlib
import shutil
import threading
from pathlib import Path

from armbench.env import LOCAL, EnvironmentFactory
from armbench.runner.capacity import Slots
from armbench.runner.events import Activity, OnActivity, ignore
from armbench.tasks.prepare import Prepared, prepare
from armbench.tasks.spec import Task


class PreparedCache:
    """Thread-safe cache of prepared templates under `root` (outside every workspace)."""

    def __init__(
        self,
        root: Path,
        *,
        python: str,
        environments: EnvironmentFactory = LOCAL,
        cpu: Slots | None = None,
        on_activity: OnActivity = ignore,
    ) -> None:
        self.root = root
        self.python = python
        self.environments = environments
        self.cpu = cpu
        self.on_activity = on_activity
        self._lock = threading.Lock()
        self._locks: dict[tuple[str, int | None], threading.Lock] = {}
        self._ready: dict[tuple[str, int | None], Prepared] = {}
        self._failed: dict[tuple[str, int | None], Exception] = {}

    def get(self, task: Task, inject_seed: int) -> Prepared:
        inject = task.spec.prepare.inject
        seed = None if inject is None else (inject.seed if inject.seed is not None else inject_seed)
        key = (task.id, seed)
        with self._lock:
            key_lock = self._locks.setdefault(key, threading.Lock())
        with key_lock:
            if key in self._failed:  # every trial of it would fail the same way: say so once
                raise self._failed[key]
            if key not in self._ready:
                folder = self.root / (task.id if seed is None else f"{task.id}-seed{seed}")
                # A killed run may have left this folder half-built; preparing is deterministic.
                shutil.rmtree(folder, ignore_errors=True)
                subject = task.id if seed is None else f"{task.id} seed {seed}"
                self.on_activity(Activity("preparing", subject))
                try:
                    with self.cpu if self.cpu is not None else contextlib.nullcontext():
                        self._ready[key] = prepare(
                            task,
                            folder,
                            inject_seed=seed,
                            python=self.python,
                            environments=self.environments,
                        )
                except Exception as exc:
                    shutil.rmtree(folder, ignore_errors=True)
                    self._failed[key] = exc
                    raise
                finally:
                    self.on_activity(Activity("prepared", subject))
            return self._ready[key]
