"""One execution of a run's trials, made safe to kill: what it must hold, clean and leave.

`execution` is entered by `execute` before any trial starts and left after the last:

1. the run's lock (RunDirectory.executing): one process runs a run's trials at a time, so a
   resume started while another runs cannot run a trial twice;
2. what killed executions left, on this machine, is removed: their processes, scratch folders
   and cgroups (armbench.runner.leases), said in `cleaned`;
3. what a killed execution of this run left in its directory is removed: transcripts no row
   names (written before their transaction committed), workspaces of trials not recorded;
4. a lease for this execution, with its watchdog; every command it starts carries the lease
   (EnvironmentFactory.owner) and every temporary folder armbench makes meanwhile is made in
   the lease's folder (`temporary_folders_in`).

On the way out the scratch folder and the lease are removed. If the process is killed instead,
the watchdog does it, or the next execution on this machine.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from armbench.env import EnvironmentFactory
from armbench.env.limits import GROUP_PREFIX, pids_root
from armbench.env.process import OWNER_VARIABLE
from armbench.runner import leases
from armbench.store import RunDirectory
from armbench.store.attempts import recorded_transcripts

WORK = "work"
"""The run directory's folder of kept workspaces (`keep_workspaces`)."""


@dataclass(frozen=True)
class Execution:
    """What the trials of one execution work with."""

    work_root: Path
    """The scratch folder of their workspaces, outside the run directory."""
    environments: EnvironmentFactory
    """The run's factory, marking every command with this execution's lease."""
    cleaned: tuple[str, ...]
    """What was cleaned up before it started, one line per item."""


_TEMP_LOCK = threading.Lock()
_TEMP: dict[str, Any] = {"folder": None, "saved": None, "users": 0}
"""While runs execute in this process: the folder `tempfile.tempdir` points at, what it
pointed at before, and how many runs share it."""


def base_tempdir() -> Path:
    """The temporary directory as it is outside any execution: TMPDIR, the system's default,
    or what the program set `tempfile.tempdir` to."""
    with _TEMP_LOCK:
        if _TEMP["users"]:
            return Path(_TEMP["saved"])
    return Path(tempfile.gettempdir())


@contextlib.contextmanager
def temporary_folders_in(folder: Path) -> Iterator[Path]:
    """While a run executes, the folders armbench's modules make with `tempfile` (the judge's
    copies, preparation's scratch) are made in `folder`, which the run's lease names: all that
    a killed run leaves in the temporary directory is found from its lease. Yields the folder
    in use.

    `tempfile.tempdir` is one per process, so runs executing at once in one process share the
    first one's folder; it is removed, and `tempfile.tempdir` restored, when the last ends."""
    with _TEMP_LOCK:
        if _TEMP["users"] == 0:
            saved = tempfile.gettempdir()
            folder.mkdir(mode=0o700, exist_ok=True)
            tempfile.tempdir = str(folder)
            _TEMP.update(folder=folder, saved=saved)
        _TEMP["users"] += 1
        shared: Path = _TEMP["folder"]
    try:
        yield shared
    finally:
        with _TEMP_LOCK:
            _TEMP["users"] -= 1
            last = _TEMP["users"] == 0
            if last:
                tempfile.tempdir = _TEMP["saved"]
                _TEMP.update(folder=None, saved=None)
        if last:
            leases.remove_tree(shared)


def clean_leftovers() -> list[str]:
    """Clean up after every dead execution on this machine (this user's, in this TMPDIR);
    what was done, one line each. Live executions are not touched."""
    return [str(c) for c in leases.clean_dead(base_tempdir())]


def clean_run_directory(run_dir: RunDirectory) -> list[str]:
    """Remove what a killed execution of this run left in its directory: transcripts no row
    names, kept workspaces of trials not recorded. Only under the run's lock."""
    with run_dir.database() as db:
        names = recorded_transcripts(db)
        recorded = db.trial_ids()
    removed = run_dir.remove_unrecorded(names)
    notes = [f"removed {name}: its trial was never recorded" for name in removed]
    kept = run_dir.path / WORK
    for folder in sorted(kept.iterdir()) if kept.is_dir() else ():
        if folder.name not in recorded and ".attempt" not in folder.name:
            leases.remove_tree(folder)
            notes.append(f"removed {WORK}/{folder.name}: its trial was never recorded")
    return notes


@contextlib.contextmanager
def execution(run_dir: RunDirectory, environments: EnvironmentFactory) -> Iterator[Execution]:
    """Hold the run, clean up after killed executions, lease this one (see the module)."""
    tempdir = base_tempdir()
    with run_dir.executing():
        cleaned = [*clean_leftovers(), *clean_run_directory(run_dir)]
        groups = pids_root()
        lease = leases.take(
            tempdir,
            run_id=run_dir.run_id,
            run_dir=run_dir.path,
            variable=OWNER_VARIABLE,
            groups=groups,
            group_prefix=GROUP_PREFIX,
        )
        try:
            with temporary_folders_in(lease.temp):
                yield Execution(
                    work_root=lease.scratch,
                    environments=dataclasses.replace(environments, owner=lease.id),
                    cleaned=tuple(cleaned),
                )
        finally:
            leases.release(lease)


def move_workspace(run_dir: RunDirectory, trial_id: str, attempt: int) -> None:
    """A retried trial's kept workspace, renamed for its attempt (the new one takes its
    name)."""
    kept = run_dir.path / WORK / trial_id
    if kept.exists():
        target = kept.with_name(f"{trial_id}.attempt{attempt}")
        leases.remove_tree(target)
        shutil.move(kept, target)
